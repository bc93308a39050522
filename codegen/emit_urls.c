/* codegen/emit_urls.c — reverse routing: one URL builder per route line,
 * PREFIX__url_<handler>(buf, cap, params...), declared in PREFIX_routes.h
 * (emit_url_decls) and defined in PREFIX_routes.re after the matcher
 * (emit_url_defs), whose predicates check the values a typed parameter's
 * language may refuse. The fixed code is <ht/route_url.h>'s. */
#include "emit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t emit__host_skip(const dsl_file_t* f, const dsl_route_t* r) {
    return f->nhosts ? 2 + (r->host ? strlen(f->hosts[r->host - 1].name) : 0) : 0;
}

void emit__url_name(const dsl_route_t* r, char* out, size_t cap) {
    /* id_name is the handler in upper case plus "_2", "_3"... for repeats
       (MOUNT_n, EMBED_n for mounts): the same suffix keeps them unique. */
    size_t hl = r->kind == DSL_R_HANDLER ? strlen(r->handler) : 0;
    snprintf(out, cap, "%s%s", r->kind == DSL_R_HANDLER ? r->handler : "", r->id_name + hl);
    for (char* c = out + hl; *c; c++) *c = (char) tolower((unsigned char) *c);
}

static const char* arg_ctype_(dsl_pkind_t k) {
    return k == DSL_P_U64 || k == DSL_P_HEX ? "uint64_t" : k == DSL_P_I64 ? "int64_t" : "ht_slice_t";
}

/* A name for the buffer argument that no parameter of r has. */
static void free_name_(const dsl_route_t* r, const char* want, char* out, size_t cap) {
    snprintf(out, cap, "%s", want);
    for (bool clash = true; clash;) {
        clash = false;
        for (int k = 0; k < r->nparams; k++) clash = clash || strcmp(r->params[k]->name, out) == 0;
        for (int k = 0; k < r->nquery; k++) clash = clash || strcmp(r->query[k].name, out) == 0;
        size_t n = strlen(out);
        if (clash && n + 2 < cap) out[n] = '_', out[n + 1] = '\0';
    }
}

/* The prototype with the parameters' names (decl), or with the
   definition's own names, which no parameter name can shadow. */
static void signature_(const gen_t* g, dsl_buf_t* b, const dsl_route_t* r, bool decl) {
    char name[300], nb[80], nc[80];
    emit__url_name(r, name, sizeof name);
    free_name_(r, "buf", nb, sizeof nb);
    free_name_(r, "cap", nc, sizeof nc);
    dsl_buf__printf(b, "ht_io_t %s__url_%s(char* %s, size_t %s", g->P, name, decl ? nb : "buf", decl ? nc : "cap");
    for (int k = 0; k < r->nparams; k++) {
        if (decl)
            dsl_buf__printf(b, ", %s %s", arg_ctype_(r->params[k]->kind), r->params[k]->name);
        else
            dsl_buf__printf(b, ", %s a%d", arg_ctype_(r->params[k]->kind), k);
    }
    /* query parameters: required as the path's; optional or defaulted, a
       number by pointer, a slice with .ptr nullptr, to leave it out;
       repeated, a pointer and a count */
    for (int k = 0; k < r->nquery; k++) {
        const dsl_qparam_t* q = &r->query[k];
        const char* ct = arg_ctype_(q->kind);
        bool ptr = q->repeated || (!q->required && strcmp(ct, "ht_slice_t") != 0);
        char an[80];
        snprintf(an, sizeof an, "q%d", k);
        const char* nm = decl ? q->name : an;
        dsl_buf__printf(b, ", %s%s%s %s", ptr ? "const " : "", ct, ptr ? "*" : "", nm);
        if (q->repeated) dsl_buf__printf(b, ", size_t %s_count", nm);
    }
    dsl_buf__puts(b, ")");
}

void emit_url_decls(const gen_t* g, dsl_buf_t* b, const char* hname) {
    const dsl_file_t* f = g->f;
    dsl_buf__printf(b,
                    "/* ---- URL builders (reverse routing): one per line of %s ----\n"
                    "   %s__url_<handler>(buf, cap, parameters in path order) writes the path of\n"
                    "   its route for these values (no query, no scheme or host, also for a\n"
                    "   route in a host block): u64 and hex as\n"
                    "   uint64_t (hex written in lower case), i64 as int64_t, every other\n"
                    "   parameter as an ht_slice_t of its decoded bytes, percent-encoded where a\n"
                    "   segment needs it (bytes other than RFC 3986 unreserved, sub-delims, ':'\n"
                    "   and '@'; a rest parameter keeps its '/'). A handler on several lines gets\n"
                    "   _2, _3... like its route ids; mounts and embeds are url_mount_N and\n"
                    "   url_embed_N (the file path under the prefix).\n"
                    "   Returns the length, with a NUL after it when cap is larger; or\n"
                    "   -ENOSPC when the path does not fit in cap bytes, -EINVAL when the route\n"
                    "   could not match the value: an empty value (but a rest), a NUL byte, a\n"
                    "   segment that is \".\" or \"..\", or a slug, uuid or regex parameter\n"
                    "   outside its language (checked with the matcher's own DFA). After an\n"
                    "   error buf holds \"\" (when cap > 0). Not checked: a more specific route\n"
                    "   that takes the same path (/users/new before /users/{name}). */\n",
                    g->base, g->P);
    if (emit__has_query(f))
        dsl_buf__puts(b, "/* Query parameters (`?name:type` words) follow the path's, in their order,\n"
                         "   written ?name=value&... (a space as '+', '&', '=', '+', '#', '%', controls\n"
                         "   and non-ASCII as %XX; what the dispatch decodes): a required one as a\n"
                         "   path parameter of its type; an optional one or one with a default, a\n"
                         "   number as a const uint64_t* or const int64_t*, any other as an\n"
                         "   ht_slice_t, nullptr (.ptr nullptr) to leave it out (the default applies);\n"
                         "   a repeated one as a const pointer to its values and a count, 0 to 16\n"
                         "   (more: -EINVAL). -EINVAL also for a slug or uuid value outside its\n"
                         "   language or a NUL byte: what the dispatch would answer 400. */\n");
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        dsl_buf__printf(b, "#line %d \"%s\"\n", r->loc.line, g->base);
        signature_(g, b, r, true);
        dsl_buf__puts(b, ";\n");
    }
    dsl_buf__printf(b, "#line %d \"%s\"\n\n", emit__lines(b) + 1, hname);
}

/* The predicate index that tests segment seg of route r, or -1. */
static int seg_pred_(const plan_t* p, const dsl_route_t* r, int seg) {
    for (int i = 0; i < p->ng; i++) {
        const plan_group_t* gr = &p->g[i];
        bool has = false;
        for (int mi = 0; mi < p->f->nmethods && !has; mi++) has = gr->route[mi] == r->id;
        if (!has) continue;
        if (gr->seg[seg].kind != AU_PRED) return -1;
        for (int k = 0; k < p->au.npred; k++)
            if (!p->au.pred[k].prefix && strcmp(p->au.pred[k].key, gr->seg[seg].key) == 0) return k;
        return -1;
    }
    return -1;
}

static char kind_code_(dsl_pkind_t k) {
    switch (k) {
    case DSL_P_U64: return 'u';
    case DSL_P_I64: return 'i';
    case DSL_P_HEX: return 'h';
    case DSL_P_REST: return 'r';
    case DSL_P_PATH: return 'p';
    default: return 's';
    }
}

void emit_url_defs(const gen_t* g, dsl_buf_t* b) {
    const dsl_file_t* f = g->f;
    const plan_t* p = g->plan;
    dsl_buf__puts(b, "\n/* ---- URL builders (PREFIX_routes.h; the fixed code: <ht/route_url.h>) ---- */\n");
    int maxp = 0;
    for (int j = 0; j < f->nroutes; j++) maxp = f->routes[j]->nparams > maxp ? f->routes[j]->nparams : maxp;
    int* pk = dsl_xcalloc((size_t) maxp + 1, sizeof *pk);
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        dsl_buf__printf(b, "/* %s:%d ", g->base, r->loc.line);
        emit__comment_text(b, r->pattern);
        dsl_buf__puts(b, " */\n");
        signature_(g, b, r, false);
        dsl_buf__puts(b, " {\n");
        /* slug, uuid and regex values can fall outside their language; the
           matcher's predicate of the segment says (affixes included). */
        bool preds = false;
        for (int k = 0; k < r->nparams; k++) {
            const dsl_param_t* q = r->params[k];
            pk[k] = q->kind == DSL_P_SLUG || q->kind == DSL_P_UUID || q->kind == DSL_P_REGEX
                        ? seg_pred_(p, r, p->sig[p->rsig[r->id]].place[k].seg)
                        : -1;
            preds = preds || pk[k] >= 0;
        }
        if (preds) {
            dsl_buf__puts(b, "    static const ht_rt_url_pred_fn p[] = {");
            for (int k = 0; k < r->nparams; k++) {
                if (pk[k] >= 0)
                    dsl_buf__printf(b, "%s %s__p%d", k ? "," : "", g->P, pk[k]);
                else
                    dsl_buf__printf(b, "%s nullptr", k ? "," : "");
            }
            dsl_buf__puts(b, " };\n");
        }
        /* The template: the pattern's literal bytes (no control byte can be
           one), \001 + a kind code for each parameter. */
        dsl_buf__puts(b, "    return ht_rt__url(buf, cap, \"");
        size_t skip = emit__host_skip(f, r); /* literal bytes, over the first pieces */
        for (int i = 0; i < r->npieces; i++) {
            const dsl_piece_t* pc = &r->pieces[i];
            if (pc->is_param) {
                dsl_buf__printf(b, "\\001%c", kind_code_(pc->param.kind));
                continue;
            }
            size_t x0 = skip < pc->lit_len ? skip : pc->lit_len;
            skip -= x0;
            for (size_t x = x0; x < pc->lit_len; x++) {
                char c = pc->lit[x];
                if (c == '"' || c == '\\' || c == '?') dsl_buf__put(b, "\\", 1);
                dsl_buf__put(b, &c, 1);
            }
        }
        for (int k = 0; k < r->nquery; k++) {
            const dsl_qparam_t* q = &r->query[k];
            char kc = q->kind == DSL_P_SLUG ? 'g' : q->kind == DSL_P_UUID ? 'd' : kind_code_(q->kind);
            dsl_buf__printf(b, "\\002%c%c%s", q->repeated ? 'n' : q->required ? 'v' : 'o', kc, q->name);
        }
        dsl_buf__printf(b, "\", %s", preds ? "p" : "nullptr");
        for (int k = 0; k < r->nparams; k++) dsl_buf__printf(b, ", a%d", k);
        for (int k = 0; k < r->nquery; k++) {
            dsl_buf__printf(b, ", q%d", k);
            if (r->query[k].repeated) dsl_buf__printf(b, ", q%d_count", k);
        }
        dsl_buf__puts(b, ");\n}\n\n");
    }
    free(pk);
}
