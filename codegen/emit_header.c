/* codegen/emit_header.c — PREFIX_routes.h: route ids, methods, one params
 * struct and one prototype per handler (each with #line back to its route),
 * the match and route-info types, and the declarations of the matcher, the
 * dispatch and the mounts. */
#include "emit.h"

#include "embed.h"

#include <stdio.h>
#include <string.h>

void emit_header(const gen_t* g, dsl_buf_t* b, const char* hname) {
    dsl_file_t* f = g->f;
    emit__banner(g, b, "/*", "*/");
    dsl_buf__printf(b, "#ifndef %s_ROUTES_H\n#define %s_ROUTES_H\n\n", g->U, g->U);
    dsl_buf__puts(b,
                  "#include <ht/alloc.h>\n#include <ht/config.h>\n#include <ht/http.h>\n"
                  "#include <ht/slice.h>\n#include <ht/types.h>\n\n#include <stdbool.h>\n"
                  "#include <stddef.h>\n#include <stdint.h>\n\n"
                  "/* The request and response types of the runtime (<ht/request.h>,\n"
                  "   <ht/response.h>); handlers only pass pointers here. */\n"
                  "typedef struct ht_request ht_request_t;\n"
                  "typedef struct ht_response ht_response_t;\n\n");
    /* `context`: every handler's first parameter, ht_config_t.user_data. */
    if (f->context_header || f->context_tag) {
        dsl_buf__printf(b, "/* The handlers' context (%s:%d), ht_config_t.user_data. */\n", g->base,
                        f->context_loc.line);
        if (f->context_header) dsl_buf__printf(b, "#include %s\n", f->context_header);
        if (f->context_tag) dsl_buf__printf(b, "%s;\n", f->context);
        dsl_buf__puts(b, "\n");
    }

    dsl_buf__printf(b, "/* Route ids, in the order of %s. */\ntypedef enum %s_route {\n", g->base, g->P);
    dsl_buf__printf(b, "    %s_ROUTE__NONE = 0,\n", g->U);
    for (int i = 0; i < f->nroutes; i++) {
        dsl_route_t* r = f->routes[i];
        char ms[512];
        plan__methods_str(f, r->methods, ms, sizeof ms);
        dsl_buf__printf(b, "    %s_ROUTE_%s = %d, /* %s:%d %s ", g->U, r->id_name, r->id, g->base,
                        r->loc.line, ms);
        emit__comment_text(b, r->pattern);
        dsl_buf__puts(b, " */\n");
    }
    dsl_buf__printf(b, "    %s_ROUTE__COUNT\n} %s_route_t;\n\n", g->U, g->P);

    dsl_buf__printf(b, "/* Methods of this route set: bit i of an allow mask is method i. */\nenum {\n");
    for (int i = 0; i < f->nmethods; i++) {
        char id[128];
        emit__method_ident(f->methods[i], id, sizeof id);
        dsl_buf__printf(b, "    %s_METHOD_%s = %d,\n", g->U, id, i);
    }
    dsl_buf__printf(b, "    %s_METHOD__COUNT = %d\n};\n\n", g->U, f->nmethods);

    dsl_buf__puts(b, "/* Typed parameters, one struct per handler. ht_slice_t members point into\n"
                     "   the request path, or into the match scratch buffer when they were\n"
                     "   percent-decoded; either way they live as long as both do. */\n");
    for (int j = 0; j < f->nroutes; j++) {
        dsl_route_t* r = f->routes[j];
        if (!g->stem1[j]) continue;
        dsl_buf__printf(b, "#line %d \"%s\"\n", r->loc.line, g->base);
        dsl_buf__printf(b, "typedef struct %s_%s_params {", g->P, emit__stem(r));
        if (r->nparams == 0 && r->nquery == 0) dsl_buf__puts(b, " char none_;");
        for (int k = 0; k < r->nparams; k++)
            dsl_buf__printf(b, " %s %s; /* %s */", dsl_param__ctype(r->params[k]->kind), r->params[k]->name,
                            emit__kind_name(r->params[k]->kind));
        emit__query_members(r, b); /* after the path's: the matcher's layout is the path's alone */
        dsl_buf__printf(b, " } %s_%s_params_t;\n", g->P, emit__stem(r));
        if (r->kind == DSL_R_HANDLER) {
            dsl_buf__printf(b, "#line %d \"%s\"\n", r->handler_loc.line, g->base);
            dsl_buf__printf(b,
                            "void %s_%s(%s* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, "
                            "const %s_%s_params_t* p);\n",
                            g->P, r->handler, f->context, g->P, r->handler);
        }
    }
    for (int i = 0; i < f->nerrors; i++) { /* `errors PREFIX -> handler` */
        const dsl_errors_t* e = &f->errors[i];
        if (!e->handler) continue;
        dsl_buf__printf(b, "#line %d \"%s\"\n", e->handler_loc.line, g->base);
        dsl_buf__printf(b,
                        "void %s_%s(%s* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, "
                        "uint16_t status);\n",
                        g->P, e->handler, f->context);
    }
    if (f->nhooks) {
        dsl_buf__puts(b, "/* Group hooks (`group PATH before=NAME after=NAME`), PREFIX_NAME:\n"
                         "   before: runs before the handler of each route in its group (outer\n"
                         "   groups' first), with the handler's context, request and response;\n"
                         "   true lets the request go on (next hook, then the handler); false ends\n"
                         "   it: the hook has answered the response (e.g. 401) or deferred it.\n"
                         "   after: runs once per request that reached such a route, inner groups'\n"
                         "   first, when its response is complete (ht_response__on_done), with\n"
                         "   the route and the final status: also a before hook's answer, a\n"
                         "   deferred response when it completes, the server's 503/504 when its\n"
                         "   deadline passed; 0 when none could be sent (the client went away).\n"
                         "   The request and response are gone by then. */\n");
        for (int i = 0; i < f->nhooks; i++) {
            const dsl_hook_t* h = &f->hooks[i];
            dsl_buf__printf(b, "#line %d \"%s\"\n", h->loc.line, g->base);
            if (h->after)
                dsl_buf__printf(b, "void %s_%s(%s* ctx, %s_route_t route, uint16_t status);\n", g->P, h->name,
                                f->context, g->P);
            else
                dsl_buf__printf(b,
                                "bool %s_%s(%s* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a);\n",
                                g->P, h->name, f->context);
        }
    }
    dsl_buf__printf(b, "#line %d \"%s\"\n\n", emit__lines(b) + 1, hname);

    dsl_buf__printf(b,
                    "/* What %s__match found. */\n"
                    "typedef enum %s_status {\n"
                    "    %s_MATCH_FOUND = 0,              /* m->route and m->p.<handler> are set */\n"
                    "    %s_MATCH_NOT_FOUND,              /* 404 */\n"
                    "    %s_MATCH_METHOD_NOT_ALLOWED,     /* 405: m->allow holds the methods */\n"
                    "    %s_MATCH_OPTIONS,                /* OPTIONS without a route: 200/204 + Allow */\n"
                    "    %s_MATCH_REDIRECT,               /* 308 to m->redirect (trailing slash) */\n"
                    "    %s_MATCH_BAD_REQUEST,            /* 400: bad %%XX in a parameter, or no\n"
                    "                                          scratch room to decode it */\n"
                    "} %s_status_t;\n\n",
                    g->P, g->P, g->U, g->U, g->U, g->U, g->U, g->U, g->P);

    dsl_buf__printf(b,
                    "/* The caller owns a match; set scratch/scratch_cap before matching (or zero\n"
                    "   them). The path is matched in place, whatever its length. Percent-decoded\n"
                    "   parameters are written into scratch (no room: BAD_REQUEST), and so is the\n"
                    "   path of a trailing-slash redirect that adds a '/' (no room: NOT_FOUND);\n"
                    "   path.len + 1 bytes are always enough. Nothing is allocated. */\n"
                    "typedef struct %s_match {\n"
                    "    %s_route_t route;\n"
                    "    uint64_t allow;     /* METHOD_NOT_ALLOWED / OPTIONS: bit %s_METHOD_x */\n"
                    "    ht_slice_t redirect; /* REDIRECT: the canonical path */\n"
                    "    char* scratch;\n"
                    "    size_t scratch_cap;\n"
                    "    size_t scratch_used;\n"
                    "    union {\n",
                    g->P, g->P, g->U);
    for (int j = 0; j < f->nroutes; j++)
        if (g->stem1[j])
            dsl_buf__printf(b, "        %s_%s_params_t %s;\n", g->P, emit__stem(f->routes[j]),
                            emit__stem(f->routes[j]));
    dsl_buf__printf(b, "    } p;\n} %s_match_t;\n\n", g->P);

    dsl_buf__printf(b,
                    "/* Static facts about each route, indexed by %s_route_t. */\n"
                    "typedef struct %s_route_info {\n"
                    "    const char* methods;  /* \"GET|PUT\" in method-table order */\n"
                    "    const char* pattern;\n"
                    "    const char* handler;  /* as written (the function: %s_<handler>); nullptr: a mount */\n"
                    "    int line;             /* in %s */\n"
                    "    uint64_t method_mask; /* bit %s_METHOD_x */\n"
                    "    uint64_t body_limit;  /* bytes; 0 = the server's default */\n"
                    "    int mount;            /* index into %s__mounts, or -1 */\n"
                    "    uint32_t timeout_ms;  /* `timeout`; 0 = the server's defer_timeout_ms */\n"
                    "    bool upstream;        /* `upstream`: 504 when the deadline passes */\n"
                    "    bool stream;          /* `stream`: the body is read by the handler */\n"
                    "} %s_route_info_t;\n"
                    "extern const %s_route_info_t %s__routes[%s_ROUTE__COUNT];\n\n",
                    g->P, g->P, g->P, g->base, g->U, g->P, g->P, g->P, g->P, g->U);

    int nm = 0;
    for (int j = 0; j < f->nroutes; j++) nm += f->routes[j]->kind == DSL_R_MOUNT;
    dsl_buf__printf(b,
                    "/* mount PREFIX DIR: DIR as written, relative to the directory of %s. */\n"
                    "typedef struct %s_mount_info {\n"
                    "    %s_route_t route;\n"
                    "    const char* prefix;\n"
                    "    const char* dir;\n"
                    "    const char* index; /* index=, default index.html */\n"
                    "    bool list, gzip;\n"
                    "} %s_mount_info_t;\n"
                    "#define %s_MOUNT_COUNT %d\n"
                    "extern const %s_mount_info_t %s__mounts[%s_MOUNT_COUNT + 1];\n\n",
                    g->base, g->P, g->P, g->P, g->U, nm, g->P, g->P, g->U);

    dsl_buf__printf(b,
                    "/* Matches method + raw path (no query; '%%2F' never splits a segment).\n"
                    "   GET routes answer HEAD unless a HEAD route matches; OPTIONS without a\n"
                    "   route gives %s_MATCH_OPTIONS. Overflowing typed parameters do not match. */\n"
                    "%s_status_t %s__match(ht_method_t method, ht_slice_t path, %s_match_t* m);\n"
                    "/* The same for a method token (custom methods of %s included). */\n"
                    "%s_status_t %s__match_token(ht_slice_t method, ht_slice_t path, %s_match_t* m);\n"
                    "/* \"GET, HEAD, OPTIONS\" for an allow mask; returns the length it needs\n"
                    "   (writes at most cap bytes, NUL-terminated when cap > 0). */\n"
                    "size_t %s__allow_format(uint64_t allow, char* buf, size_t cap);\n"
                    "/* The method name of bit i. */\n"
                    "extern const char* const %s__methods[%s_METHOD__COUNT];\n\n",
                    g->U, g->P, g->P, g->P, g->base, g->P, g->P, g->P, g->P, g->P, g->U);
    if (f->nhosts) emit_host__header(g, b);

    if (f->nmimes) {
        dsl_buf__printf(b,
                        "/* mime lines: PREFIX_mime.gperf (extension without the dot, any case). */\n"
                        "struct %s_mime { const char* ext; const char* type; };\n"
                        "const struct %s_mime* %s__mime_lookup(const char* ext, size_t len);\n\n",
                        g->P, g->P, g->P);
    }
    /* Dispatch (PREFIX_dispatch.c): the longest Allow value, the largest body limit. */
    size_t allow_max = 1;
    for (int i = 0; i < f->nmethods; i++) allow_max += strlen(f->methods[i]) + 2;
    uint64_t body_max = 0;
    for (int j = 0; j < f->nroutes; j++)
        if (f->routes[j]->body_limit > body_max) body_max = f->routes[j]->body_limit;
    dsl_buf__printf(b,
                    "/* ---- Dispatch (%s_dispatch.c, linked with libhachettp) ----\n"
                    "   %s__dispatch is the runtime's request callback (ht_handler_fn):\n"
                    "     ht_server__serve(&acc, &server, loop, a, %s__dispatch);\n"
                    "   It matches method + path (the query is not part of it), decodes the\n"
                    "   parameters into a stack buffer of %s_SCRATCH_MAX bytes (nothing is\n"
                    "   allocated; a path of more than %s_SCRATCH_MAX - 1 bytes is 414), and\n"
                    "   calls the route's handler %s_NAME with the config's user_data (the\n"
                    "   `context`). Without a handler: 404; 405 + Allow; OPTIONS: 204 + Allow\n"
                    "   (also for `*`); HEAD runs the GET handler (the server drops the body);\n"
                    "   308 + Location to the trailing-slash form (query kept); 400 for a bad\n"
                    "   escape in a parameter; 413 when a body read whole is over the route's\n"
                    "   `body` limit. A route with `timeout` or `upstream` has its deadline\n"
                    "   set (ht_response__timeout) before its handler runs. Under an `errors`\n"
                    "   prefix (the longest that matches): `json`: every error of the request\n"
                    "   as JSON (ht_response__error_json); `-> handler`: its 404s and 405s (the\n"
                    "   matcher's, a mount's, an embed's; status and Allow already set) call\n"
                    "   PREFIX_handler(ctx, req, res, a, status), which answers with a\n"
                    "   one-call builder for that status. */\n"
                    "#ifndef %s_SCRATCH_MAX\n#define %s_SCRATCH_MAX 8192\n#endif\n"
                    "/* The longest Allow value (NUL included); the largest `body` limit. */\n"
                    "#define %s_ALLOW_MAX %zu\n"
                    "#define %s_BODY_LIMIT_MAX UINT64_C(%llu)\n"
                    "void %s__dispatch(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res,\n"
                    "    ht_alloc_t* a);\n"
                    "/* The config's body_policy hook: cfg.body_policy = %s__body_policy. When a\n"
                    "   request's head has arrived and a body follows, it matches the request as\n"
                    "   %s__dispatch does and answers the route's `body` limit (0: the server's\n"
                    "   max_body) and `stream`; { 0, false } when no route matches. With it the\n"
                    "   server applies each route's limit before reading (413), above max_body\n"
                    "   too, and hands a `stream` route's body to its handler as it arrives:\n"
                    "   the handler runs at head time with ht_request__body_pending true and\n"
                    "   reads it with ht_response__read_body. Without it every body is read\n"
                    "   whole, up to max_body (set max_body >= %s_BODY_LIMIT_MAX then). */\n"
                    "ht_body_policy_t %s__body_policy(const ht_config_t* cfg, const ht_request_t* req);\n"
                    "/* Mounts: opens each mount's directory as base/DIR (DIR as written in\n"
                    "   %s; an absolute DIR is used as is) and the MIME table with the mime\n"
                    "   lines, before serving; read-only afterwards, shared by every worker.\n"
                    "   base nullptr: %s_MOUNT_BASE, the directory of %s relative to the\n"
                    "   build directory of the target (hachettp_add_routes), \".\" without one.\n"
                    "   Until opened, mounted paths answer 503. 0, or the first error (nothing\n"
                    "   stays open then): -ENOENT, -ENOTDIR, -ENOMEM... Not thread-safe. */\n"
                    "ht_result_t %s__mounts_open(const char* base, ht_alloc_t* a);\n"
                    "void %s__mounts_close(void);\n\n",
                    g->P, g->P, g->P, g->U, g->U, g->P, g->U, g->U, g->U, allow_max, g->U,
                    (unsigned long long) body_max, g->P, g->P, g->P, g->U, g->P, g->base, g->U, g->base,
                    g->P, g->P);
    emit_url_decls(g, b, hname);
    if (embed__count(f)) embed__emit_header(f, g->P, g->U, b);
    dsl_buf__printf(b, "#endif /* %s_ROUTES_H */\n", g->U);
}
