/* codegen/emit_dispatch.c — PREFIX_dispatch.c: the request callback on top
 * of PREFIX__match (PREFIX__dispatch), the body policy hook and the mounts.
 * A file of its own, so that matcher-only users (tests, tools, benchmarks)
 * link without the handlers or the server.
 *
 * What depends on routes.ht: the handlers' calls, a switch per block of 64
 * route ids (each handler with the context and its params struct as their
 * real types), and a table of the blocks; the callback itself is the same
 * few lines for any file (<ht/route_dispatch.h> holds the answers that do
 * not depend on it).
 */
#include "emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ROUTE_BLOCK = 64 }; /* route ids per function of handler calls */

/* `errors` lines: a table, longest prefix first (file order among equals),
 * the lookup, and the hook that calls the named handlers. */
static void emit_errors_(const gen_t* g, dsl_buf_t* b) {
    const dsl_file_t* f = g->f;
    const char* P = g->P;
    int n = f->nerrors;
    int* order = dsl_xmalloc((size_t) n * sizeof *order);
    for (int i = 0; i < n; i++) { /* insertion sort by length, descending, stable */
        int j = i;
        for (; j > 0 && strlen(f->errors[order[j - 1]].prefix) < strlen(f->errors[i].prefix); j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    dsl_buf__printf(b,
                    "/* `errors` lines, longest prefix first. */\n"
                    "static const struct { const char* prefix; uint32_t len; bool json; } %s__errors[%d] = {\n",
                    P, n);
    for (int k = 0; k < n; k++) {
        const dsl_errors_t* e = &f->errors[order[k]];
        dsl_buf__puts(b, "    { ");
        emit__cstr(b, e->prefix);
        dsl_buf__printf(b, ", %zu, %s }, /* %s:%d */\n", strlen(e->prefix), e->handler ? "false" : "true", g->base,
                        e->loc.line);
    }
    dsl_buf__puts(b, "};\n\n");
    emit__tpl(b, g,
              "typedef struct $P_errctx { void* ctx; const ht_request_t* req; int i; } $P_errctx_t;\n\n"
              "/* The errors line for path: its prefix is \"/\", the path, or the path up to a '/'. */\n"
              "static int $P__errors_for(ht_slice_t path) {\n");
    dsl_buf__printf(b,
                    "    for (int i = 0; i < %d; i++) {\n"
                    "        size_t n = %s__errors[i].len;\n"
                    "        if (n == 1 || (path.len >= n && memcmp(path.ptr, %s__errors[i].prefix, n) == 0 &&\n"
                    "                       (path.len == n || path.ptr[n] == '/')))\n"
                    "            return i;\n"
                    "    }\n"
                    "    return -1;\n"
                    "}\n\n",
                    n, P, P);
    emit__tpl(b, g,
              "/* ht_response__on_error's hook for `errors PREFIX -> handler`: 404 and 405\n"
              "   go to the handler, other errors keep the built-in page. */\n"
              "static ht_result_t $P__error_page(ht_response_t* res, uint16_t status, void* ud, ht_alloc_t* a) {\n"
              "    const $P_errctx_t* e = ud;\n"
              "    if (status != 404 && status != 405) return ht_response__error(res, status, a);\n"
              "    switch (e->i) {\n");
    for (int k = 0; k < n; k++) {
        const dsl_errors_t* e = &f->errors[order[k]];
        if (!e->handler) continue;
        dsl_buf__printf(b, "    case %d: /* %s:%d */\n        %s_%s((%s*) e->ctx, e->req, res, a, status);\n        return 0;\n",
                        k, g->base, e->loc.line, P, e->handler, f->context);
    }
    dsl_buf__puts(b, "    default: return ht_response__error(res, status, a);\n    }\n}\n\n");
    free(order);
}

static bool same_after_(const dsl_route_t* a, const dsl_route_t* b) {
    return a->nafter == b->nafter && memcmp(a->after, b->after, (size_t) a->nafter * sizeof *a->after) == 0;
}

/* Group `after` hooks: the completion callback (ht_response__on_done) of
 * the routes that have some, a case per chain of hooks (the routes with the
 * same chain share it). */
static void emit_after_(const gen_t* g, dsl_buf_t* b) {
    const dsl_file_t* f = g->f;
    bool* done = dsl_xcalloc((size_t) f->nroutes, sizeof *done);
    emit__tpl(b, g,
              "/* Group `after` hooks, inner groups' first: run once a route's response is\n"
              "   complete (ht_response__on_done; the tag is the route). */\n"
              "static void $P__after(void* ctx, uint32_t route, uint16_t status) {\n"
              "    switch (route) {\n");
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        if (!r->nafter || done[j]) continue;
        for (int k = j; k < f->nroutes; k++) {
            const dsl_route_t* q = f->routes[k];
            if (done[k] || !q->nafter || !same_after_(r, q)) continue;
            done[k] = true;
            dsl_buf__printf(b, "    case %s_ROUTE_%s: /* %s:%d */\n", g->U, q->id_name, g->base, q->loc.line);
        }
        for (int k = 0; k < r->nafter; k++)
            dsl_buf__printf(b, "        %s_%s(ctx, (%s_route_t) route, status);\n", g->P, f->hooks[r->after[k]].name,
                            g->P);
        dsl_buf__puts(b, "        return;\n");
    }
    dsl_buf__puts(b, "    default: return;\n    }\n}\n\n");
    free(done);
}

/* emit__tpl for the text that matches a request: in a file with host
 * blocks the scratch buffer also holds the path with its pseudo-segment
 * (PREFIX_HOST_SCRATCH), the 414 limit stays PREFIX_SCRATCH_MAX, and a
 * match goes through PREFIX__match_host. */
static void match_tpl_(const gen_t* g, dsl_buf_t* b, const char* t) {
    if (!g->f->nhosts) {
        emit__tpl(b, g, t);
        return;
    }
    static const char* const from[] = { "[$U_SCRATCH_MAX]", "+ 1 > sizeof scratch_", "+ 1 > sizeof scratch",
                                        "$P__match(HT_METHOD_GET, path, &m)" };
    static const char* const to[] = { "[$U_HOST_SCRATCH]", "+ 1 > $U_SCRATCH_MAX", "+ 1 > $U_SCRATCH_MAX",
                                      "$P__match_host(HT_METHOD_GET, HT_SLICE_NULL, ht_request__header(req, HT_HEADER_HOST), path, &m)" };
    dsl_buf_t o = { 0 };
    while (*t) {
        size_t k = 0;
        while (k < 4 && strncmp(t, from[k], strlen(from[k])) != 0) k++;
        if (k < 4) {
            dsl_buf__puts(&o, to[k]);
            t += strlen(from[k]);
        } else {
            dsl_buf__put(&o, t++, 1);
        }
    }
    dsl_buf__put(&o, "", 1);
    emit__tpl(b, g, o.ptr);
    dsl_buf__free(&o);
}

void emit_dispatch(const gen_t* g, dsl_buf_t* b, const char* mount_base) {
    dsl_file_t* f = g->f;
    const char* P = g->P;
    const char* U = g->U;
    int nm = 0;
    bool handlers = false, policy = false, after = false;
    bool mount_headers = false, cors = false; /* header options: tables, preflights */
    for (int j = 0; j < f->nroutes; j++) {
        nm += f->routes[j]->kind == DSL_R_MOUNT;
        mount_headers = mount_headers || (f->routes[j]->kind == DSL_R_MOUNT && dsl_route__has_headers(f->routes[j]));
        cors = cors || f->routes[j]->ncors;
        handlers = handlers || f->routes[j]->kind == DSL_R_HANDLER;
        policy = policy || f->routes[j]->body_limit || f->routes[j]->stream;
        after = after || f->routes[j]->nafter;
    }
    bool query = emit__has_query(f);
    emit__banner(g, b, "/*", "*/");
    dsl_buf__printf(b,
                    "#include \"%s_routes.h\"\n\n"
                    "#include <ht/config.h>\n#include <ht/route_dispatch.h>\n%s\n",
                    P, query ? "#include <ht/route_query.h>\n" : "");
    dsl_buf__printf(b, "#ifndef %s_MOUNT_BASE\n#define %s_MOUNT_BASE ", U, U);
    emit__cstr(b, mount_base);
    dsl_buf__puts(b, "\n#endif\n\n");

    /* Mounts. */
    if (nm) {
        dsl_buf__printf(b,
                        "static ht_fs_root_t %s__roots[%s_MOUNT_COUNT];\n"
                        "static ht_fs_mime_t %s__mime;\n"
                        "static bool %s__opened;\n\n",
                        P, U, P, P);
        if (f->nmimes) {
            dsl_buf__printf(b, "static const char* const %s__mime_lines[%d][2] = {\n", P, f->nmimes);
            for (int i = 0; i < f->nmimes; i++) {
                dsl_buf__puts(b, "    { ");
                emit__cstr(b, f->mimes[i].ext);
                dsl_buf__puts(b, ", ");
                emit__cstr(b, f->mimes[i].type);
                dsl_buf__puts(b, " },\n");
            }
            dsl_buf__puts(b, "};\n\n");
        }
        dsl_buf__printf(b,
                        "ht_result_t %s__mounts_open(const char* base, ht_alloc_t* a) {\n"
                        "    if (%s__opened) return 0;\n"
                        "    if (!base) base = %s_MOUNT_BASE;\n"
                        "    ht_fs__mime_init(&%s__mime, a);\n"
                        "    ht_result_t r = 0;\n",
                        P, P, U, P);
        if (f->nmimes)
            dsl_buf__printf(b,
                            "    for (int i = 0; r == 0 && i < %d; i++)\n"
                            "        r = ht_fs__mime_add(&%s__mime, ht_slice__from_cstr(%s__mime_lines[i][0]),\n"
                            "                            ht_slice__from_cstr(%s__mime_lines[i][1]));\n",
                            f->nmimes, P, P, P);
        dsl_buf__printf(b,
                        "    int i = 0;\n"
                        "    for (; r == 0 && i < %s_MOUNT_COUNT; i++) {\n"
                        "        const %s_mount_info_t* mi = &%s__mounts[i];\n"
                        "        r = ht_rt__mount_open(&%s__roots[i], base, mi->dir, mi->list, mi->gzip, mi->index, &%s__mime);\n"
                        "        if (r != 0) break;\n"
                        "    }\n"
                        "    if (r != 0) {\n"
                        "        while (i-- > 0) ht_fs__root_close(&%s__roots[i]);\n"
                        "        ht_fs__mime_free(&%s__mime);\n"
                        "        return r;\n"
                        "    }\n"
                        "    %s__opened = true;\n"
                        "    return 0;\n"
                        "}\n\n"
                        "void %s__mounts_close(void) {\n"
                        "    if (!%s__opened) return;\n"
                        "    for (int i = 0; i < %s_MOUNT_COUNT; i++) ht_fs__root_close(&%s__roots[i]);\n"
                        "    ht_fs__mime_free(&%s__mime);\n"
                        "    %s__opened = false;\n"
                        "}\n\n",
                        U, P, P, P, P, P, P, P, P, P, U, P, P, P);
    } else {
        dsl_buf__printf(b,
                        "ht_result_t %s__mounts_open(const char* base, ht_alloc_t* a) {\n"
                        "    (void) base, (void) a;\n"
                        "    return 0;\n"
                        "}\n\n"
                        "void %s__mounts_close(void) {}\n\n",
                        P, P);
    }

    /* Mounts' header options (cache=, header=, cors=): a table by mount index. */
    if (mount_headers) {
        int mi = 0;
        for (int j = 0; j < f->nroutes; j++) {
            const dsl_route_t* r = f->routes[j];
            if (r->kind != DSL_R_MOUNT) continue;
            if (dsl_route__has_headers(r)) {
                char name[160];
                snprintf(name, sizeof name, "%s__mount_headers_%d_", P, mi);
                emit__header_set(b, r, name);
            }
            mi++;
        }
        dsl_buf__printf(b, "static const ht_headers_t* const %s__mount_headers[%s_MOUNT_COUNT] = {", P, U);
        mi = 0;
        for (int j = 0; j < f->nroutes; j++) {
            const dsl_route_t* r = f->routes[j];
            if (r->kind != DSL_R_MOUNT) continue;
            if (dsl_route__has_headers(r)) dsl_buf__printf(b, " &%s__mount_headers_%d_,", P, mi);
            else dsl_buf__puts(b, " nullptr,");
            mi++;
        }
        dsl_buf__puts(b, " };\n\n");
    }

    if (after) emit_after_(g, b);

    /* The handlers' calls: a switch per block of 64 route ids (one function
       per handler, or one switch for all, cost the C compiler superlinear
       time on 10,000 routes: identical-code folding, or one huge function). */
    int nblocks = (f->nroutes + 1 + ROUTE_BLOCK - 1) / ROUTE_BLOCK;
    dsl_buf__puts(b, "/* Each handler called with its context and params struct as their real\n"
                     "   types; a block of 64 route ids per function. */\n");
    for (int k = 0; k < nblocks; k++) {
        int lo = k * ROUTE_BLOCK, hi = lo + ROUTE_BLOCK; /* route ids [lo, hi) */
        int ids[ROUTE_BLOCK], n = 0;
        for (int id = lo < 1 ? 1 : lo; id < hi && id <= f->nroutes; id++)
            if (f->routes[id - 1]->kind != DSL_R_MOUNT) ids[n++] = id;
        dsl_buf__printf(b, "/* routes %d-%d", lo < 1 ? 1 : lo, hi - 1 < f->nroutes ? hi - 1 : f->nroutes);
        if (n) {
            dsl_buf__puts(b, ": ");
            plan__lines(f, g->base, ids, n, 6, b);
        }
        dsl_buf__printf(b, " */\n"
                           "static void %s__calls%d(unsigned r, void* ctx, const ht_request_t* req, ht_response_t* res,\n"
                           "    ht_alloc_t* a, const void* p) {\n",
                        P, k);
        if (!n) {
            dsl_buf__puts(b, "    (void) r, (void) ctx, (void) req, (void) p;\n"
                             "    (void) ht_response__error(res, 500, a); /* mounts only: not called */\n}\n");
            continue;
        }
        dsl_buf__puts(b, "    switch (r) {\n");
        for (int q = 0; q < n; q++) {
            const dsl_route_t* r = f->routes[ids[q] - 1];
            char ms[512];
            plan__methods_str(f, r->methods, ms, sizeof ms);
            if (r->kind == DSL_R_EMBED) {
                int ei = 0;
                for (int j = 0; j < ids[q] - 1; j++) ei += f->routes[j]->kind == DSL_R_EMBED;
                dsl_buf__printf(b, "    case %s_ROUTE_%s: /* %s:%d embed ", U, r->id_name, g->base, r->loc.line);
                emit__comment_text(b, r->dir);
                dsl_buf__printf(b, " */\n        (void) ctx, (void) p;\n        %s__embed_serve(%d, req, res, a);\n        return;\n",
                                P, ei);
            } else {
                dsl_buf__printf(b, "    case %s_ROUTE_%s: /* %s:%d %s ", U, r->id_name, g->base, r->loc.line, ms);
                emit__comment_text(b, r->pattern);
                dsl_buf__puts(b, " */\n");
                if (r->nafter) {
                    /* The after hooks run when the response is complete: at
                       ht_response__finish, or later for a deferred one. */
                    dsl_buf__printf(b, "        ht_response__on_done(res, %s__after, ctx, r);\n        ", P);
                    if (r->nbefore) dsl_buf__puts(b, "if (");
                    for (int h = 0; h < r->nbefore; h++)
                        dsl_buf__printf(b, "%s%s_%s(ctx, req, res, a)", h ? " && " : "", P, f->hooks[r->before[h]].name);
                    if (r->nbefore) dsl_buf__puts(b, ")\n            ");
                    dsl_buf__printf(b, "%s_%s(ctx, req, res, a, p);\n        ht_response__finish(res);\n        return;\n",
                                    P, r->handler);
                } else {
                    for (int h = 0; h < r->nbefore; h++)
                        dsl_buf__printf(b, "        if (!%s_%s(ctx, req, res, a)) return;\n", P,
                                        f->hooks[r->before[h]].name);
                    dsl_buf__printf(b, "        %s_%s(ctx, req, res, a, p);\n        return;\n", P, r->handler);
                }
            }
        }
        dsl_buf__puts(b, "    default: (void) ht_response__error(res, 500, a); return;\n    }\n}\n");
    }
    dsl_buf__printf(b, "\nstatic const ht_rt_calls_fn %s__calls[%d] = {", P, nblocks);
    for (int k = 0; k < nblocks; k++) dsl_buf__printf(b, "%s%s__calls%d,", k % 6 ? " " : "\n    ", P, k);
    dsl_buf__puts(b, "\n};\n\n");
    /* Method + path to a route, shared by the callback and the body policy. */
    if (f->nhosts)
        emit__tpl(b, g,
                  "static $P_status_t $P__match_request(const ht_request_t* req, ht_slice_t path, $P_match_t* m) {\n"
                  "    return $P__match_host(ht_request__method(req), ht_request__method_slice(req),\n"
                  "                          ht_request__header(req, HT_HEADER_HOST), path, m);\n"
                  "}\n\n");
    else
        dsl_buf__printf(b,
                        "static %s_status_t %s__match_request(const ht_request_t* req, ht_slice_t path, %s_match_t* m) {\n"
                        "    ht_method_t method = ht_request__method(req);\n"
                        "    return method == HT_METHOD_OTHER ? %s__match_token(ht_request__method_slice(req), path, m)\n"
                        "                                     : %s__match(method, path, m);\n"
                        "}\n\n",
                        P, P, P, P, P);
    dsl_buf__printf(b,
                    "static void %s__allow(ht_response_t* res, uint16_t status, uint64_t allow, ht_alloc_t* a) {\n"
                    "    char v[%s_ALLOW_MAX];\n"
                    "    ht_rt__allow(res, status, allow, %s__methods, %s_METHOD__COUNT, v, sizeof v, a);\n"
                    "}\n\n",
                    P, U, P, U);
    /* CORS preflights: dispatch answers OPTIONS itself, except a preflight
       for a mount or embed with cors=, which its file server answers. */
    if (cors) {
        match_tpl_(g, b,
                  "/* A CORS preflight (OPTIONS + Origin + Access-Control-Request-Method) for\n"
                  "   a path a mount or embed with cors= serves: its file server answers it. */\n"
                  "static bool $P__preflight(const ht_request_t* req, ht_slice_t path, ht_response_t* res, ht_alloc_t* a) {\n"
                  "    char scratch[$U_SCRATCH_MAX];\n"
                  "    $P_match_t m = { .scratch = scratch, .scratch_cap = sizeof scratch };\n"
                  "    if (path.len + 1 > sizeof scratch || $P__match(HT_METHOD_GET, path, &m) != $U_MATCH_FOUND) return false;\n"
                  "    switch (m.route) {\n");
        int mi = 0, ei = 0;
        for (int j = 0; j < f->nroutes; j++) {
            const dsl_route_t* r = f->routes[j];
            if (r->kind == DSL_R_MOUNT && r->ncors)
                dsl_buf__printf(b,
                                "    case %s_ROUTE_%s: /* %s:%d */\n"
                                "        if (!%s__opened || !ht_headers__is_preflight(%s__mount_headers[%d], req)) return false;\n"
                                "        ht_rt__serve_mount_with(&%s__roots[%d], %s__mounts[%d].prefix, %s__mount_headers[%d], req, res, a);\n"
                                "        return true;\n",
                                U, r->id_name, g->base, r->loc.line, P, P, mi, P, mi, P, mi, P, mi);
            if (r->kind == DSL_R_EMBED && r->ncors)
                dsl_buf__printf(b,
                                "    case %s_ROUTE_%s: /* %s:%d */\n"
                                "        if (!ht_headers__is_preflight(%s__embed(%d)->headers, req)) return false;\n"
                                "        %s__embed_serve(%d, req, res, a);\n"
                                "        return true;\n",
                                U, r->id_name, g->base, r->loc.line, P, ei, P, ei);
            mi += r->kind == DSL_R_MOUNT;
            ei += r->kind == DSL_R_EMBED;
        }
        dsl_buf__puts(b, "    default: return false;\n    }\n}\n\n");
    }
    if (f->nerrors) emit_errors_(g, b);
    if (query) emit__query_parsers(g, b);
    /* The callback. */
    emit__tpl(b, g,
              "void $P__dispatch(const ht_config_t* cfg_, const ht_request_t* req_, ht_response_t* res_,\n"
              "    ht_alloc_t* a_) {\n");
    if (!handlers && !f->nerrors) dsl_buf__puts(b, "    (void) cfg_;\n");
    emit__tpl(b, g,
              "    ht_slice_t path_ = ht_request__path(req_);\n");
    if (f->nerrors)
        emit__tpl(b, g,
                  "    /* `errors`: this path's error answers (the longest prefix). */\n"
                  "    $P_errctx_t ec_ = { cfg_->user_data, req_, $P__errors_for(path_) };\n"
                  "    if (ec_.i >= 0)\n"
                  "        ht_response__on_error(res_, $P__errors[ec_.i].json ? ht_rt__json_errors : $P__error_page,\n"
                  "                              $P__errors[ec_.i].json ? nullptr : &ec_);\n");
    match_tpl_(g, b,
              "    if (ht_request__method(req_) == HT_METHOD_OPTIONS && path_.len == 1 && path_.ptr[0] == '*') {\n"
              "        uint64_t all_ = 0;\n"
              "        for (int i_ = 1; i_ < $U_ROUTE__COUNT; i_++) all_ |= $P__routes[i_].method_mask;\n"
              "        if (all_ & (UINT64_C(1) << $U_METHOD_GET)) all_ |= UINT64_C(1) << $U_METHOD_HEAD;\n"
              "        $P__allow(res_, 204, all_ | (UINT64_C(1) << $U_METHOD_OPTIONS), a_);\n"
              "        return;\n"
              "    }\n"
              "    char scratch_[$U_SCRATCH_MAX];\n"
              "    if (path_.len + 1 > sizeof scratch_) { /* decoded parameters, a redirect */\n"
              "        (void) ht_response__error(res_, 414, a_);\n"
              "        return;\n"
              "    }\n"
              "    $P_match_t m_ = { .scratch = scratch_, .scratch_cap = sizeof scratch_ };\n"
              "    switch ($P__match_request(req_, path_, &m_)) {\n"
              "    case $U_MATCH_FOUND: break;\n"
              "    case $U_MATCH_NOT_FOUND: (void) ht_response__error(res_, 404, a_); return;\n"
              "    case $U_MATCH_METHOD_NOT_ALLOWED: $P__allow(res_, 405, m_.allow, a_); return;\n"
              "    case $U_MATCH_OPTIONS:");
    if (cors) emit__tpl(b, g, "\n        if ($P__preflight(req_, path_, res_, a_)) return;\n       ");
    emit__tpl(b, g,
              " $P__allow(res_, 204, m_.allow, a_); return;\n"
              "    case $U_MATCH_REDIRECT: ht_rt__redirect(res_, m_.redirect, ht_request__query(req_), a_); return;\n"
              "    case $U_MATCH_BAD_REQUEST:\n"
              "    default: (void) ht_response__error(res_, 400, a_); return;\n"
              "    }\n"
              "    const $P_route_info_t* r_ = &$P__routes[m_.route];\n"
              "    /* A body read whole (a streamed one is still to come: empty here). */\n"
              "    if (r_->body_limit && ht_request__body(req_).len > r_->body_limit) {\n"
              "        (void) ht_response__error(res_, 413, a_);\n"
              "        return;\n"
              "    }\n");
    if (nm)
        emit__tpl(b, g,
                  mount_headers
                      ? "    if (r_->mount >= 0) {\n"
                        "        ht_rt__serve_mount_with($P__opened ? &$P__roots[r_->mount] : nullptr, $P__mounts[r_->mount].prefix,\n"
                        "                                $P__mount_headers[r_->mount], req_, res_, a_);\n"
                        "        return;\n"
                        "    }\n"
                      : "    if (r_->mount >= 0) {\n"
                        "        ht_rt__serve_mount($P__opened ? &$P__roots[r_->mount] : nullptr, $P__mounts[r_->mount].prefix,\n"
                        "                           req_, res_, a_);\n"
                        "        return;\n"
                        "    }\n");
    if (query) emit__query_calls(g, b);
    if (f->nerrors)
        emit__tpl(b, g,
                  "    /* A handler's own 404s are its own, and it may defer: the hook's\n"
                  "       context is on this stack. JSON errors stay (no context). */\n"
                  "    if (ec_.i >= 0 && !$P__errors[ec_.i].json && r_->handler) ht_response__on_error(res_, nullptr, nullptr);\n");
    dsl_buf__printf(b,
                    "    ht_rt__call(%s__calls[m_.route / %d], m_.route, r_->timeout_ms, r_->upstream, cfg_->user_data, req_,\n"
                    "                res_, a_, &m_.p);\n"
                    "}\n\n",
                    P, ROUTE_BLOCK);

    /* The body policy: what the server needs before reading a body, and
       (with `errors PREFIX json`) whether the server's own answers about
       the body (413, a bad chunked body, 408) are JSON. */
    bool json = false;
    for (int k = 0; k < f->nerrors; k++) json = json || f->errors[k].handler == nullptr;
    dsl_buf__printf(b, "ht_body_policy_t %s__body_policy(const ht_config_t* cfg_, const ht_request_t* req_) {\n"
                       "    (void) cfg_;\n", P);
    if (!policy && !json) {
        dsl_buf__printf(b, "    (void) req_; /* no route has `body` or `stream` */\n"
                           "    return (ht_body_policy_t){ .limit = 0, .stream = false };\n"
                           "}\n");
        return;
    }
    const char* jinit = json ? ", .json_errors = json_" : "";
    match_tpl_(g, b, "    ht_slice_t path_ = ht_request__path(req_);\n");
    if (json)
        match_tpl_(g, b, "    int e_ = $P__errors_for(path_);\n"
                         "    bool json_ = e_ >= 0 && $P__errors[e_].json;\n");
    if (!policy) {
        dsl_buf__printf(b, "    return (ht_body_policy_t){ .limit = 0, .stream = false%s };\n"
                           "}\n", jinit);
        return;
    }
    match_tpl_(g, b,
              "    char scratch_[$U_SCRATCH_MAX];\n"
              "    $P_match_t m_ = { .scratch = scratch_, .scratch_cap = sizeof scratch_ };\n"
              "    if (path_.len + 1 > sizeof scratch_ || $P__match_request(req_, path_, &m_) != $U_MATCH_FOUND)\n");
    dsl_buf__printf(b, "        return (ht_body_policy_t){ .limit = 0, .stream = false%s };\n", jinit);
    match_tpl_(g, b, "    const $P_route_info_t* r_ = &$P__routes[m_.route];\n");
    dsl_buf__printf(b, "    return (ht_body_policy_t){ .limit = r_->body_limit, .stream = r_->stream%s };\n"
                       "}\n", jinit);
}
