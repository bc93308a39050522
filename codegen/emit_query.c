/* codegen/emit_query.c — typed query parameters (`?name:type` words, dsl.h
 * dsl_qparam_t) in the generated files: their members in the handler's
 * params struct (PREFIX_routes.h), and in PREFIX_dispatch.c one parsing
 * function per route that has them (or `strict`) and the switch that calls
 * it. The fixed part is <ht/route_query.h>. A file without query parameters
 * gets none of this: its output is what it was before them. */
#include "emit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool emit__route_has_query(const dsl_route_t* r) { return r->kind == DSL_R_HANDLER && (r->nquery || r->strict); }

bool emit__has_query(const dsl_file_t* f) {
    for (int j = 0; j < f->nroutes; j++)
        if (emit__route_has_query(f->routes[j])) return true;
    return false;
}

void emit__query_members(const dsl_route_t* r, dsl_buf_t* b) {
    for (int k = 0; k < r->nquery; k++) {
        const dsl_qparam_t* q = &r->query[k];
        const char* ct = dsl_param__ctype(q->kind);
        const char* tn = dsl_query__type_name(q->kind);
        if (q->repeated)
            dsl_buf__printf(b, " %s %s[%d]; size_t %s_count; /* ?%s:%s* */", ct, q->name, DSL_QUERY_REPEAT_MAX,
                            q->name, q->name, tn);
        else if (q->optional)
            dsl_buf__printf(b, " %s %s; bool has_%s; /* ?%s:%s? */", ct, q->name, q->name, q->name, tn);
        else if (q->def) {
            dsl_buf__printf(b, " %s %s; /* ?%s:%s=", ct, q->name, q->name, tn);
            emit__comment_text(b, q->def);
            dsl_buf__puts(b, " */");
        } else
            dsl_buf__printf(b, " %s %s; /* ?%s:%s */", ct, q->name, q->name, tn);
    }
}

/* The C value of a default (checked by the parser: it parses as its type). */
static void default_value_(dsl_buf_t* b, const dsl_qparam_t* q) {
    switch (q->kind) {
    case DSL_P_U64: dsl_buf__printf(b, "UINT64_C(%" PRIu64 ")", (uint64_t) strtoull(q->def, nullptr, 10)); break;
    case DSL_P_HEX: dsl_buf__printf(b, "UINT64_C(0x%" PRIx64 ")", (uint64_t) strtoull(q->def, nullptr, 16)); break;
    case DSL_P_I64: {
        long long v = strtoll(q->def, nullptr, 10);
        if (v == INT64_MIN)
            dsl_buf__puts(b, "(-INT64_MAX - 1)");
        else
            dsl_buf__printf(b, "INT64_C(%lld)", v);
        break;
    }
    default:
        dsl_buf__puts(b, "HT_SLICE(");
        emit__cstr(b, q->def);
        dsl_buf__puts(b, ")");
        break;
    }
}

/* Decode v, check its type and store it at dst (a member expression). */
static void store_(dsl_buf_t* b, const dsl_qparam_t* q, const char* dst) {
    const char* why = "bad percent-escape";
    dsl_buf__printf(b, "            if (!ht_rt__qdecode(&v, sc)) return ht_rt__qrefuse(res, \"%s\", \"%s\", a);\n", q->name,
                    why);
    switch (q->kind) {
    case DSL_P_U64:
    case DSL_P_HEX:
    case DSL_P_I64:
        dsl_buf__printf(b, "            if (!ht_rt__q%s(v, &%s)) return ht_rt__qrefuse(res, \"%s\", \"not %s %s\", a);\n",
                        dsl_query__type_name(q->kind), dst, q->name, q->kind == DSL_P_I64 ? "an" : "a",
                        dsl_query__type_name(q->kind));
        break;
    case DSL_P_UUID:
    case DSL_P_SLUG:
        dsl_buf__printf(b, "            if (!ht_rt__q%s(v)) return ht_rt__qrefuse(res, \"%s\", \"not a %s\", a);\n",
                        dsl_query__type_name(q->kind), q->name, dsl_query__type_name(q->kind));
        dsl_buf__printf(b, "            %s = v;\n", dst);
        break;
    default: dsl_buf__printf(b, "            %s = v;\n", dst); break;
    }
}

/* One route's parser: PREFIX__query_ID(params, query, scratch, res, a),
   false when it answered (400, 414). */
static void emit_parser_(const gen_t* g, dsl_buf_t* b, const dsl_route_t* r) {
    const char* P = g->P;
    dsl_buf__printf(b, "/* %s:%d ", g->base, r->loc.line);
    emit__comment_text(b, r->pattern);
    for (int k = 0; k < r->nquery; k++) {
        const dsl_qparam_t* q = &r->query[k];
        dsl_buf__printf(b, " ?%s:%s", q->name, dsl_query__type_name(q->kind));
        if (q->def) {
            dsl_buf__puts(b, "=");
            emit__comment_text(b, q->def);
        }
        if (q->repeated || q->optional) dsl_buf__puts(b, q->repeated ? "*" : "?");
    }
    if (r->strict) dsl_buf__puts(b, " strict");
    dsl_buf__printf(b, " */\n"
                       "static bool %s__query_%d(%s_%s_params_t* p, ht_slice_t query, ht_rt_scratch_t sc, ht_response_t* res,\n"
                       "    ht_alloc_t* a) {\n",
                    P, r->id, P, emit__stem(r));
    if (!r->nquery) dsl_buf__puts(b, "    (void) p, (void) sc;\n");
    else dsl_buf__puts(b, "    if (!ht_rt__qroom(query, sc, res, a)) return false;\n");
    bool any_seen = false;
    for (int k = 0; k < r->nquery; k++) {
        const dsl_qparam_t* q = &r->query[k];
        if (q->def) {
            dsl_buf__printf(b, "    p->%s = ", q->name);
            default_value_(b, q);
            dsl_buf__puts(b, ";\n");
        }
        any_seen = any_seen || !q->repeated;
    }
    if (any_seen) dsl_buf__printf(b, "    bool seen[%d] = { false };\n", r->nquery);
    dsl_buf__puts(b, "    ht_rt_qit_t it = { query.ptr, query.ptr + query.len };\n"
                     "    ht_slice_t k, v;\n");
    if (r->nquery) dsl_buf__puts(b, "    char name[64];\n");
    dsl_buf__puts(b, "    while (ht_rt__qnext(&it, &k, &v)) {\n");
    if (r->nquery) {
        /* the parameter by its name: by length, then the bytes */
        dsl_buf__puts(b, "        ht_slice_t n = ht_rt__qname(k, name, sizeof name); /* k: as sent, for a message */\n"
                         "        int i = -1;\n"
                         "        switch (n.len) {\n");
        bool* done = dsl_xcalloc((size_t) r->nquery, sizeof *done);
        for (int x = 0; x < r->nquery; x++) {
            if (done[x]) continue;
            size_t len = strlen(r->query[x].name);
            dsl_buf__printf(b, "        case %zu:", len);
            for (int y = x; y < r->nquery; y++) {
                if (strlen(r->query[y].name) != len) continue;
                done[y] = true;
                dsl_buf__printf(b, "\n            %sif (memcmp(n.ptr, \"%s\", %zu) == 0) i = %d;", y > x ? "else " : "",
                                r->query[y].name, len, y);
            }
            dsl_buf__puts(b, "\n            break;\n");
        }
        free(done);
        dsl_buf__puts(b, "        default: break;\n        }\n        switch (i) {\n");
        for (int k = 0; k < r->nquery; k++) {
            const dsl_qparam_t* q = &r->query[k];
            char dst[300];
            dsl_buf__printf(b, "        case %d: /* ?%s */\n", k, q->name);
            if (q->repeated) {
                dsl_buf__printf(b,
                                "            if (p->%s_count == %d) return ht_rt__qrefuse(res, \"%s\", \"more than %d values\", a);\n",
                                q->name, DSL_QUERY_REPEAT_MAX, q->name, DSL_QUERY_REPEAT_MAX);
                snprintf(dst, sizeof dst, "p->%s[p->%s_count]", q->name, q->name);
                store_(b, q, dst);
                dsl_buf__printf(b, "            p->%s_count++;\n", q->name);
            } else {
                dsl_buf__printf(b,
                                "            if (seen[%d]) return ht_rt__qrefuse(res, \"%s\", \"given more than once\", a);\n"
                                "            seen[%d] = true;\n",
                                k, q->name, k);
                snprintf(dst, sizeof dst, "p->%s", q->name);
                store_(b, q, dst);
                if (q->optional) dsl_buf__printf(b, "            p->has_%s = true;\n", q->name);
            }
            dsl_buf__puts(b, "            break;\n");
        }
        dsl_buf__printf(b, "        default:%s\n", r->strict ? "" : " break; /* not a parameter of this route */");
        if (r->strict) dsl_buf__puts(b, "            return ht_rt__qunknown(res, k, a); /* strict */\n");
        dsl_buf__puts(b, "        }\n    }\n");
    } else {
        /* strict without parameters: any parameter is unknown */
        dsl_buf__puts(b, "        (void) v;\n        return ht_rt__qunknown(res, k, a); /* strict */\n    }\n");
    }
    for (int k = 0; k < r->nquery; k++)
        if (r->query[k].required)
            dsl_buf__printf(b, "    if (!seen[%d]) return ht_rt__qrefuse(res, \"%s\", \"missing\", a);\n", k,
                            r->query[k].name);
    dsl_buf__puts(b, "    return true;\n}\n\n");
}

void emit__query_parsers(const gen_t* g, dsl_buf_t* b) {
    dsl_buf__puts(b, "/* Typed query parameters (<ht/route_query.h>): one parser per route that\n"
                     "   declares them, run after the match and before the handler; false: it\n"
                     "   answered 400 naming the parameter (or 414: no scratch room). */\n");
    for (int j = 0; j < g->f->nroutes; j++)
        if (emit__route_has_query(g->f->routes[j])) emit_parser_(g, b, g->f->routes[j]);
}

void emit__query_calls(const gen_t* g, dsl_buf_t* b) {
    emit__tpl(b, g,
              "    /* Typed query parameters: only the routes that declare them scan the query. */\n"
              "    ht_rt_scratch_t qsc_ = { m_.scratch, m_.scratch_cap, &m_.scratch_used };\n"
              "    switch (m_.route) {\n");
    for (int j = 0; j < g->f->nroutes; j++) {
        const dsl_route_t* r = g->f->routes[j];
        if (!emit__route_has_query(r)) continue;
        dsl_buf__printf(b,
                        "    case %s_ROUTE_%s:\n"
                        "        if (!%s__query_%d(&m_.p.%s, ht_request__query(req_), qsc_, res_, a_)) return;\n"
                        "        break;\n",
                        g->U, r->id_name, g->P, r->id, emit__stem(r));
    }
    dsl_buf__puts(b, "    default: break;\n    }\n");
}
