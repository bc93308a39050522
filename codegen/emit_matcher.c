/* codegen/emit_matcher.c — PREFIX_routes.re, the matcher (re2c input).
 *
 * What the file holds, in order (each part's comment in the output says
 * which routes.ht lines it serves):
 *   - the route, mount and method tables;
 *   - the parameter languages as re2c named definitions (u64, slug, ...,
 *     re1 for a regex of the file) and one predicate per distinct
 *     typed/regex/affixed segment (a re2c DFA over that segment);
 *   - the captures, one case per signature (codegen/plan.h);
 *   - what a path that ends in a state gets (PREFIX__fin) and its Allow;
 *   - the segment automaton (codegen/automaton.h): its first states as
 *     code, in functions of bounded size (PREFIX__match itself holds the
 *     first of them: emit_states.c), and past a budget as tables that
 *     <ht/route_rt.h>'s ht_rt__run walks (emit_tables.c). No function grows
 *     with the route count: the C compiler's time is linear in the file.
 * This file writes the parts before the automaton, decides its layout
 * (codegen/layout.h) and keeps the helpers the three share
 * (codegen/emit_matcher.h). The fixed code (the '/' scan, conversions,
 * decoding, the table walk) is <ht/route_rt.h>'s.
 */
#include "emit_matcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The automaton's states are code while both budgets allow, in order of
   discovery (breadth first: the shallow states every path crosses come
   first). A state's weight is about the lines of C it takes. */
enum {
    MAIN_WEIGHT = 2500,  /* PREFIX__match's own states: GitHub's API (173 states) fits whole */
    CHUNK_WEIGHT = 1000, /* the most in one more function (a state over it is a table) */
    CODE_WEIGHT = 6000,  /* the most as code in a file; the rest are tables */
};
/* htgen --code-weight / --chunk-weight override them (--chunk-weight sets
   PREFIX__match's too; the tests run small files through every layout). */

/* ---------------------------------------------------------------- helpers */
/* A C expression: the n bytes at b + at equal s. Loads stay within those
   n bytes (the segment's length is known to be right), so nothing past the
   path is ever read. The constants are little-endian words (HT_RT_C16/32/64
   swap them on a big-endian target). */
uint64_t emit_matcher__word(const char* s, size_t w) {
    uint64_t v = 0;
    for (size_t k = 0; k < w; k++) v |= (uint64_t) (unsigned char) s[k] << (8 * k);
    return v;
}

void emit_matcher__load(dsl_buf_t* b, size_t at, size_t w) {
    if (w == 1)
        dsl_buf__printf(b, "(unsigned char) b[%zu]", at);
    else
        dsl_buf__printf(b, "ht_rt__l%zu(b + %zu)", w * 8, at);
}

void emit_matcher__const(dsl_buf_t* b, const char* s, size_t w) {
    if (w == 1)
        dsl_buf__printf(b, "0x%02x", (unsigned) emit_matcher__word(s, 1));
    else
        dsl_buf__printf(b, "HT_RT_C%zu(0x%0*llxu)", w * 8, (int) (w * 2), (unsigned long long) emit_matcher__word(s, w));
}

static void emit_word_(dsl_buf_t* b, const char* s, size_t at, size_t w, bool first) {
    if (!first) dsl_buf__puts(b, " && ");
    emit_matcher__load(b, at, w);
    dsl_buf__puts(b, " == ");
    emit_matcher__const(b, s + at, w);
}

/* The bytes [from, n) of s at b + from (from <= n): "1" when none. */
void emit_matcher__eq_from(dsl_buf_t* b, const char* s, size_t from, size_t n) {
    size_t r = n - from;
    if (!r) {
        dsl_buf__puts(b, "1");
    } else if (r >= 8) { /* 8 at a time, the last 8 overlapping */
        size_t at = from;
        for (; at + 8 <= n; at += 8) emit_word_(b, s, at, 8, at == from);
        if (at < n) emit_word_(b, s, n - 8, 8, false);
    } else if (r >= 4) {
        emit_word_(b, s, from, 4, true);
        if (r > 4) emit_word_(b, s, n - 4, 4, false);
    } else if (r >= 2) {
        emit_word_(b, s, from, 2, true);
        if (r > 2) emit_word_(b, s, n - 1, 1, false);
    } else {
        emit_word_(b, s, from, 1, true);
    }
}

/* A literal as a C comment: printable bytes, others as '.', and the comment
   kept closed. */
void emit_matcher__lit_comment(dsl_buf_t* b, const char* s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '*' && i + 1 < n && s[i + 1] == '/')
            dsl_buf__puts(b, "*\\");
        else
            dsl_buf__put(b, c >= 0x20 && c < 0x7f ? (const char*) &s[i] : ".", 1);
    }
}

/* ---------------------------------------------------------------- comments */
/* The route ids of the groups a state holds (rests reached included). */
int emit_matcher__state_routes(const gen_t* g, const au_state_t* st, int* ids) {
    const plan_t* p = g->plan;
    int n = 0;
    for (int k = 0; k < st->nitems; k++) {
        const plan_group_t* gr = &p->g[st->items[k] & (AU_RESTED - 1)];
        for (int mi = 0; mi < g->f->nmethods; mi++) {
            int r = gr->route[mi];
            if (!r) continue;
            bool dup = false;
            for (int q = 0; q < n && !dup; q++) dup = ids[q] == r;
            if (!dup) ids[n++] = r;
        }
    }
    return n;
}

/* " routes.ht:3, 7-9" for a state (at most max numbers). */
void emit_matcher__state_lines(dsl_buf_t* b, const gen_t* g, const au_state_t* st, int max) {
    int* ids = dsl_xcalloc((size_t) st->nitems * (size_t) g->f->nmethods + 1, sizeof *ids);
    int n = emit_matcher__state_routes(g, st, ids);
    if (n) plan__lines(g->f, g->base, ids, n, max, b);
    free(ids);
}

/* ---------------------------------------------------------------- predicates */
/* The re2c configuration and the named definitions, once for the file. */
static void emit_defs_(dsl_buf_t* b, const gen_t* g) {
    const plan_t* p = g->plan;
    dsl_buf__puts(b,
                  "/* The parameter languages, named once: each predicate below is a re2c\n"
                  "   rule over these names, for one segment [b, e) (YYPEEK yields NUL at e,\n"
                  "   which no language holds: a rule matches the whole segment or nothing). */\n"
                  "/*!re2c\n"
                  "    re2c:api = custom;\n"
                  "    re2c:api:style = free-form;\n"
                  "    re2c:define:YYCTYPE = \"unsigned char\";\n"
                  "    re2c:define:YYPEEK = \"(c < z ? *c : 0)\";\n"
                  "    re2c:define:YYSKIP = \"++c;\";\n"
                  "    re2c:define:YYBACKUP = \"mk = c;\";\n"
                  "    re2c:define:YYRESTORE = \"c = mk;\";\n"
                  "    re2c:yyfill:enable = 0;\n"
                  "    re2c:flags:bit-vectors = 1;\n"
                  "    re2c:indent:top = 1;\n\n");
    for (int k = 0; k < p->ndef; k++) {
        const plan_def_t* d = &p->def[k];
        dsl_buf__printf(b, "    /* %s:%d {%s", g->base, d->param->loc.line, d->param->name);
        if (d->param->kind == DSL_P_REGEX) {
            dsl_buf__puts(b, ":/.../}: ");
            dsl_buf__puts(b, "the regex, '/' and NUL taken out */\n");
        } else if (d->param->kind == DSL_P_NAME) {
            dsl_buf__puts(b, "}: any bytes but '/' (and NUL) */\n");
        } else {
            dsl_buf__printf(b, ":%s} */\n", emit__kind_name(d->param->kind));
        }
        dsl_buf__printf(b, "    %s = %s;\n", d->name, d->text);
    }
    dsl_buf__puts(b, "*/\n\n");
}

/* The route ids whose groups use predicate k. */
static int pred_routes_(const gen_t* g, int k, int* ids) {
    const plan_t* p = g->plan;
    const au_pred_t* q = &p->au.pred[k];
    int n = 0;
    for (int i = 0; i < p->ng; i++) {
        const plan_group_t* gr = &p->g[i];
        bool uses = false;
        for (int s = 0; s < gr->rep->nranks && !uses; s++) {
            const au_seg_t* sg = &gr->seg[s];
            if (q->prefix)
                uses = sg->kind == AU_REST && sg->len == q->len && memcmp(sg->lit, q->lit, q->len) == 0;
            else
                uses = sg->kind == AU_PRED && strcmp(sg->key, q->key) == 0;
        }
        if (!uses) continue;
        for (int mi = 0; mi < g->f->nmethods; mi++)
            if (gr->route[mi]) ids[n++] = gr->route[mi];
    }
    return n;
}

/* The predicates: a re2c DFA over one segment [b, e) for each typed, regex
   or affixed parameter segment, a prefix compare for a rest parameter after
   literal bytes. */
static void emit_preds_(dsl_buf_t* b, const gen_t* g) {
    const au_t* au = &g->plan->au;
    int* ids = dsl_xcalloc((size_t) g->f->nroutes * (size_t) g->f->nmethods + 1, sizeof *ids);
    for (int k = 0; k < au->npred; k++) {
        const au_pred_t* q = &au->pred[k];
        dsl_buf_t lines = { 0 };
        plan__lines(g->f, g->base, ids, pred_routes_(g, k, ids), 8, &lines);
        if (q->prefix) {
            dsl_buf__printf(b, "/* p%d: a rest parameter after \"", k);
            emit_matcher__lit_comment(b, q->lit, q->len);
            dsl_buf__printf(b, "\": %s */\n", lines.ptr);
            dsl_buf__printf(b, "static inline bool %s__p%d(const char* b, const char* e) {\n    return (size_t) (e - b) >= %zu && ",
                            g->P, k, q->len);
            emit_matcher__eq_from(b, q->lit, 0, q->len);
            dsl_buf__puts(b, ";\n}\n\n");
            dsl_buf__free(&lines);
            continue;
        }
        dsl_buf__printf(b, "/* p%d: %s */\n", k, lines.ptr);
        dsl_buf__free(&lines);
        /* out of line: a DFA inlined into every state that tests it made the
           C compiler's time grow with the states, not the languages */
        dsl_buf__printf(b, "__attribute__((noinline)) static bool %s__p%d(const char* b, const char* e) {\n", g->P, k);
        dsl_buf__puts(b,
                      "    const unsigned char* c = (const unsigned char*) b;\n"
                      "    const unsigned char* const z = (const unsigned char*) e;\n"
                      "    const unsigned char* mk = c;\n"
                      "    (void) mk;\n");
        dsl_buf__printf(b, "    /*!re2c:p%d\n", k);
        dsl_buf__printf(b, "        %s [\\x00] { return true; }\n", q->key);
        dsl_buf__puts(b, "        * { return false; }\n    */\n}\n\n");
    }
    free(ids);
}

/* ---------------------------------------------------------------- captures */
static const char* shape_ctype_(char c) {
    return c == 'u' || c == 'h' ? "uint64_t" : c == 'i' ? "int64_t" : "ht_slice_t";
}

static void emit_capture_(dsl_buf_t* b, const gen_t* g) {
    const dsl_file_t* f = g->f;
    const plan_t* p = g->plan;
    dsl_buf__puts(b, "/* Parameter structs by kinds (u64/hex, i64, slice): every params struct of a\n"
                     "   route with those kinds is laid out alike (the asserts hold them to it). */\n");
    for (int q = 1; q < p->nshape; q++) {
        dsl_buf__printf(b, "typedef struct %s__sh%d {", g->P, q);
        for (const char* c = p->shape[q]; *c; c++)
            dsl_buf__printf(b, " %s f%d;", shape_ctype_(*c), (int) (c - p->shape[q]));
        dsl_buf__printf(b, " } %s__sh%d_t;\n", g->P, q);
    }
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        if (!r->nparams || !g->stem1[j]) continue;
        int q = p->sig[p->rsig[r->id]].shape;
        /* query members follow the path's: the path's part is laid out alike */
        dsl_buf__printf(b, "_Static_assert(sizeof(%s_%s_params_t) %s sizeof(%s__sh%d_t)", g->P, emit__stem(r),
                        r->nquery ? ">=" : "==", g->P, q);
        for (int k = 0; k < r->nparams; k++)
            dsl_buf__printf(b, " && offsetof(%s_%s_params_t, %s) == offsetof(%s__sh%d_t, f%d)", g->P, emit__stem(r),
                            r->params[k]->name, g->P, q, k);
        dsl_buf__printf(b, ", \"%s: layout\");\n", emit__stem(r));
    }
    dsl_buf__puts(b, "\n");
    emit__tpl(b, g,
              "/* A route's parameters, percent-decoded where their kinds say so (the\n"
              "   path holds a '%' somewhere); BAD_REQUEST for a bad escape or no room. */\n"
              "__attribute__((unused, noinline, cold)) static $P_status_t $P__decoded(const char* kinds, $P_match_t* m) {\n"
              "    if (ht_rt__decode_all(kinds, &m->p, (ht_rt_scratch_t){ m->scratch, m->scratch_cap, &m->scratch_used }))\n"
              "        return $U_MATCH_FOUND;\n"
              "    m->route = $U_ROUTE__NONE;\n"
              "    m->allow = 0;\n"
              "    m->redirect = (ht_slice_t){ nullptr, 0 };\n"
              "    return $U_MATCH_BAD_REQUEST;\n"
              "}\n\n");
    bool safe = false; /* a {name:path...}: its refusal */
    for (int q = 1; q < p->nsig; q++) safe = safe || strchr(p->sig[q].kinds, 'p');
    if (safe)
        emit__tpl(b, g,
                  "/* A {name:path...} that is not safe to join to a directory: BAD_REQUEST. */\n"
                  "__attribute__((unused, noinline, cold)) static $P_status_t $P__refused($P_match_t* m) {\n"
                  "    m->route = $U_ROUTE__NONE;\n"
                  "    m->allow = 0;\n"
                  "    m->redirect = (ht_slice_t){ nullptr, 0 };\n"
                  "    return $U_MATCH_BAD_REQUEST;\n"
                  "}\n\n");
    dsl_buf__printf(b, "/* The probe of a trailing-slash redirect: some route matched, nothing to capture. */\n"
                       "#define %s__PROBE_SIG %d\n\n", g->P, p->nsig);
    emit__tpl(b, g,
              "/* The route found (route ids and capture signatures are numbered below\n"
              "   65536) and its signature: how PREFIX__fin stores them. */\n"
              "#define $P__FOUND(route, sig) ((uint32_t) (route) | (uint32_t) (sig) << 16)\n"
              "#define $P__FOUND_ROUTE(x) ((x) & 0xffffu)\n"
              "#define $P__FOUND_SIG(x) ((x) >> 16)\n\n"
              "/* The route of x and its parameters from the segment ends se (se[i]: the\n"
              "   '/' before segment i; se[i + 1]: its end), by its signature (each case\n"
              "   names its routes' lines): typed conversions (the predicates bounded\n"
              "   their digits), percent-decoding. */\n"
              "HT_INLINE $P_status_t $P__capture(uint32_t x, const char* const* se, const char* lim, bool pct,\n"
              "    $P_match_t* m) {\n"
              "    (void) se, (void) lim, (void) pct;\n"
              "    m->route = ($P_route_t) $P__FOUND_ROUTE(x);\n"
              "    switch ($P__FOUND_SIG(x)) {\n"
              "    case 0: break; /* no parameters */\n");
    for (int sg = 1; sg < p->nsig; sg++) {
        const plan_sig_t* sig = &p->sig[sg];
        size_t np = strlen(sig->kinds);
        dsl_buf__printf(b, "    case %d: { /* %s:", sg, sig->kinds);
        for (size_t k = 0; k < np; k++)
            dsl_buf__printf(b, " %d.%zu.%zu", sig->place[k].seg, sig->place[k].pre, sig->place[k].suf);
        dsl_buf__puts(b, "; ");
        dsl_buf_t lines = { 0 };
        plan__lines(f, g->base, sig->routes, sig->nroutes, 8, &lines);
        dsl_buf__printf(b, "%s */\n", lines.ptr);
        dsl_buf__free(&lines);
        for (size_t k = 0; k < np; k++) {
            const plan_place_t* pl = &sig->place[k];
            char a[64], z[64];
            snprintf(a, sizeof a, "se[%d] + %zu", pl->seg, pl->pre + 1);
            if (sig->kinds[k] == 'r' || sig->kinds[k] == 'p')
                snprintf(z, sizeof z, "lim");
            else if (pl->suf)
                snprintf(z, sizeof z, "se[%d] - %zu", pl->seg + 1, pl->suf);
            else
                snprintf(z, sizeof z, "se[%d]", pl->seg + 1);
            switch (sig->kinds[k]) {
            case 'u':
            case 'h':
            case 'i':
                dsl_buf__printf(b, "        %s v%zu = ht_rt__%s(%s, (size_t) (%s - (%s)));\n",
                                sig->kinds[k] == 'i' ? "int64_t" : "uint64_t", k,
                                sig->kinds[k] == 'u' ? "dec" : sig->kinds[k] == 'h' ? "hex" : "i64", a, z, a);
                break;
            default:
                dsl_buf__printf(b, "        ht_slice_t v%zu = { %s, (size_t) (%s - (%s)) };\n", k, a, z, a);
                break;
            }
            /* field by field: a whole struct built on the stack was copied over */
            dsl_buf__printf(b, "        memcpy((char*) &m->p + offsetof(%s__sh%d_t, f%zu), &v%zu, sizeof v%zu);\n", g->P,
                            sig->shape, k, k, k);
        }
        /* {name:path...}: its raw bytes checked (dot and empty segments, escaped
           '/', '\\' and NUL) before anything is decoded */
        for (size_t k = 0; k < np; k++)
            if (sig->kinds[k] == 'p')
                dsl_buf__printf(b, "        if (!ht_rt__safe_path(v%zu)) return %s__refused(m);\n", k, g->P);
        if (strpbrk(sig->kinds, "drp"))
            /* pct: the path holds a '%' somewhere (the scan saw it) */
            dsl_buf__printf(b, "        if (__builtin_expect(pct, 0)) return %s__decoded(\"%s\", m);\n", g->P, sig->kinds);
        dsl_buf__puts(b, "        break;\n    }\n");
    }
    emit__tpl(b, g, "    case $P__PROBE_SIG: break;\n");
    /* every table entry holds one of the signatures above: no bounds check */
    emit__tpl(b, g, "    default: __builtin_unreachable();\n    }\n    return $U_MATCH_FOUND;\n}\n\n");
}

/* ---------------------------------------------------------------- where a path ends */
static void emit_fin_(dsl_buf_t* b, const gen_t* g) {
    const dsl_file_t* f = g->f;
    const au_t* au = &g->plan->au;
    int cols = f->nmethods + 1;
    /* a comment per row: the routes of some state with that row */
    int* rowstate = dsl_xcalloc((size_t) au->nrows + 1, sizeof *rowstate);
    for (int r = 0; r < au->nrows; r++) rowstate[r] = -1;
    for (int s = 0; s < au->nstates; s++)
        if (rowstate[au->st[s].row] < 0) rowstate[au->st[s].row] = s;
    emit__tpl(b, g,
              "/* Columns of the table below: a method no route has (0), then the\n"
              "   methods in $P__methods order, so an ht_method_t is its own column\n"
              "   ($P__methods starts with HT_METHODS) and a custom method follows\n"
              "   them; last, the redirect's probe: does any route match? */\n"
              "enum { $P__PROBE = $U_METHOD__COUNT + 1, $P__COLS };\n"
              "/* A column given to $P__match by this file (a custom method, the probe)\n"
              "   rather than an ht_method_t: $P__OWN + column. */\n"
              "#define $P__OWN 0x10000u\n"
              "/* Row r of the table: a state's where-it-ends, as the automaton passes it on. */\n"
              "#define $P__ROW(r) ((uint32_t) (r) * $P__COLS)\n");
    dsl_buf__printf(b,
                    "/* Where a path ends: row x column -> the route and its capture signature\n"
                    "   (%s__FOUND), 0 none (then the row's Allow set says 405 / OPTIONS; row\n"
                    "   0, nothing matched, 404). htgen resolved precedence here: the most\n"
                    "   specific group first, GET answers HEAD unless a real HEAD route is at\n"
                    "   least as specific. */\n"
                    "static const uint32_t %s__fin[%d * %s__COLS] = { /* row by row */\n",
                    g->P, g->P, au->nrows, g->P);
    for (int r = 0; r < au->nrows; r++) {
        dsl_buf__puts(b, "    0");
        for (int mi = 0; mi < f->nmethods; mi++) {
            uint32_t e = au->fin[(size_t) r * (size_t) cols + (size_t) mi];
            if (!e) {
                dsl_buf__puts(b, ", 0");
                continue;
            }
            dsl_buf__printf(b, ", %s__FOUND(%s_ROUTE_%s, %d)", g->P, g->U, f->routes[e - 1]->id_name, g->plan->rsig[e]);
        }
        dsl_buf__printf(b, r ? ", %s__FOUND(0, %s__PROBE_SIG)," : ", 0,", g->P, g->P);
        dsl_buf__printf(b, " /* %d", r);
        if (r && rowstate[r] >= 0) {
            dsl_buf__puts(b, ": ");
            emit_matcher__state_lines(b, g, &au->st[rowstate[r]], 4);
        }
        dsl_buf__puts(b, " */\n");
    }
    free(rowstate);
    dsl_buf__printf(b, "};\nstatic const uint64_t %s__allow[%d] = {", g->P, au->nrows);
    for (int r = 0; r < au->nrows; r++)
        dsl_buf__printf(b, "%sUINT64_C(0x%llx),", r % 4 ? " " : "\n    ", (unsigned long long) au->allow[r]);
    dsl_buf__puts(b, "\n};\n\n");
}

/* ---------------------------------------------------------------- the file */
void emit_matcher(const gen_t* g, dsl_buf_t* b) {
    const dsl_file_t* f = g->f;
    emit__banner(g, b, "/*", "*/");
    dsl_buf__printf(b,
                    "/* The matcher of %s: a segment automaton over the raw path (htgen's\n"
                    "   codegen/automaton.h), literal segments compared as words, re2c DFAs\n"
                    "   for typed, regex and affixed parameters; precedence resolved by htgen.\n"
                    "   To follow one route: its id in %s_routes.h, its predicates (p<k>, by\n"
                    "   their line numbers), the states that hold it (s<k>, same), the rows of\n"
                    "   %s__fin that name it, and its capture signature. The fixed code is\n"
                    "   <ht/route_rt.h>'s. */\n"
                    "#include \"%s_routes.h\"\n\n#include <ht/route_rt.h>\n#include <ht/route_url.h>\n\n"
                    "#include <string.h>\n\n",
                    g->base, g->P, g->P, g->P);
    /* route info */
    dsl_buf__printf(b, "const %s_route_info_t %s__routes[%s_ROUTE__COUNT] = {\n", g->P, g->P, g->U);
    dsl_buf__printf(b, "    [%s_ROUTE__NONE] = { \"\", \"\", nullptr, 0, 0, 0, -1, 0, false, false },\n", g->U);
    int mcount = 0;
    for (int j = 0; j < f->nroutes; j++) {
        dsl_route_t* r = f->routes[j];
        char ms[512];
        plan__methods_str(f, r->methods, ms, sizeof ms);
        dsl_buf__printf(b, "    [%s_ROUTE_%s] = { ", g->U, r->id_name);
        emit__cstr(b, ms);
        dsl_buf__puts(b, ", ");
        emit__cstr(b, r->pattern);
        dsl_buf__puts(b, ", ");
        if (r->handler)
            emit__cstr(b, r->handler);
        else
            dsl_buf__puts(b, "nullptr");
        dsl_buf__printf(b, ", %d, UINT64_C(0x%llx), UINT64_C(%llu), %d, %lu, %s, %s },\n", r->loc.line,
                        (unsigned long long) r->methods, (unsigned long long) r->body_limit,
                        r->kind == DSL_R_MOUNT ? mcount++ : -1, (unsigned long) r->timeout_ms,
                        r->upstream ? "true" : "false", r->stream ? "true" : "false");
    }
    dsl_buf__puts(b, "};\n\n");
    dsl_buf__printf(b, "const %s_mount_info_t %s__mounts[%s_MOUNT_COUNT + 1] = {\n", g->P, g->P, g->U);
    for (int j = 0; j < f->nroutes; j++) {
        dsl_route_t* r = f->routes[j];
        if (r->kind != DSL_R_MOUNT) continue;
        /* The prefix is the pattern without "/{path...}". */
        size_t pl = strlen(r->pattern) - strlen("{path...}");
        if (pl > 1) pl--;
        char* pre = dsl_xstrndup(r->pattern, pl);
        dsl_buf__printf(b, "    { %s_ROUTE_%s, ", g->U, r->id_name);
        emit__cstr(b, pre);
        free(pre);
        dsl_buf__puts(b, ", ");
        emit__cstr(b, r->dir);
        dsl_buf__puts(b, ", ");
        emit__cstr(b, r->index_file);
        dsl_buf__printf(b, ", %s, %s },\n", r->list ? "true" : "false", r->gzip ? "true" : "false");
    }
    dsl_buf__printf(b, "    { %s_ROUTE__NONE, nullptr, nullptr, nullptr, false, false },\n};\n\n", g->U);
    dsl_buf__printf(b, "const char* const %s__methods[%s_METHOD__COUNT] = {", g->P, g->U);
    for (int i = 0; i < f->nmethods; i++) {
        dsl_buf__puts(b, i ? ", " : " ");
        emit__cstr(b, f->methods[i]);
    }
    dsl_buf__puts(b, " };\n\n");

    layout_t l;
    layout__build(&g->plan->au, &l, g->code_weight < 0 ? 0 : g->code_weight ? g->code_weight : CODE_WEIGHT,
            g->chunk_weight ? g->chunk_weight : CHUNK_WEIGHT, g->chunk_weight ? g->chunk_weight : MAIN_WEIGHT);
    emit_defs_(b, g);
    emit_preds_(b, g);
    emit_capture_(b, g);
    emit_fin_(b, g);
    emit__tpl(b, g,
              "/* se[] is only read for the segments the winning route consumed, which\n"
              "   the path to its state wrote: gcc cannot see that across the gotos. */\n"
              "#if defined(__GNUC__) && !defined(__clang__)\n"
              "#  pragma GCC diagnostic push\n"
              "#  pragma GCC diagnostic ignored \"-Wmaybe-uninitialized\"\n"
              "#endif\n");
    if (l.nchunks > 1) {
        dsl_buf__puts(b, "/* The automaton's states as code past the first function's: one function\n"
                         "   per subtree of states (breadth first, a bounded size each). A function\n"
                         "   starts at its first state, or at the state s another one goes on to;\n"
                         "   it returns the row where the path ended, x PREFIX__COLS, or 0. */\n");
        for (int c = 1; c < l.nchunks; c++)
            dsl_buf__printf(b, "static uint32_t %s__h%d(uint32_t s, const char* e, uint64_t bits, const char* wb, "
                               "const char* lim, const char** se);\n",
                            g->P, c);
        dsl_buf__puts(b, "\n");
    }
    emit_matcher__tables(b, g, &l);
    emit_matcher__chunks(b, g, &l);
    emit_matcher__match(b, g, &l);
    emit__tpl(b, g,
              "#if defined(__GNUC__) && !defined(__clang__)\n"
              "#  pragma GCC diagnostic pop\n"
              "#endif\n\n");
    layout__free(&l);

    emit__tpl(b, g,
              "$P_status_t $P__match_token(ht_slice_t method, ht_slice_t path, $P_match_t* m) {\n"
              "    unsigned c = ht_rt__method_col($P__methods, $U_METHOD__COUNT, method); /* 0: no route has it */\n"
              "    return $P__match((ht_method_t) ($P__OWN + c), path, m);\n"
              "}\n\n"
              "size_t $P__allow_format(uint64_t allow, char* buf, size_t cap) {\n"
              "    return ht_rt__allow_format($P__methods, $U_METHOD__COUNT, allow, buf, cap);\n"
              "}\n");
    if (f->nhosts) emit_host__matcher(g, b);
    emit_url_defs(g, b);
}
