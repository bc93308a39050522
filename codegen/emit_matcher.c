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
 *     first of them), and past a budget as tables that <ht/route_rt.h>'s
 *     ht_rt__run walks. No function grows with the route count: the C
 *     compiler's time is linear in the file.
 * The fixed code (the '/' scan, conversions, decoding, the table walk) is
 * <ht/route_rt.h>'s.
 */
#include "emit.h"
#include "layout.h"

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
static void indent_(dsl_buf_t* b, int d) {
    for (int k = 0; k < d; k++) dsl_buf__puts(b, "    ");
}

/* A C expression: the n bytes at b + at equal s. Loads stay within those
   n bytes (the segment's length is known to be right), so nothing past the
   path is ever read. The constants are little-endian words (HT_RT_C16/32/64
   swap them on a big-endian target). */
static uint64_t word_(const char* s, size_t w) {
    uint64_t v = 0;
    for (size_t k = 0; k < w; k++) v |= (uint64_t) (unsigned char) s[k] << (8 * k);
    return v;
}

static void emit_load_(dsl_buf_t* b, size_t at, size_t w) {
    if (w == 1)
        dsl_buf__printf(b, "(unsigned char) b[%zu]", at);
    else
        dsl_buf__printf(b, "ht_rt__l%zu(b + %zu)", w * 8, at);
}

static void emit_const_(dsl_buf_t* b, const char* s, size_t w) {
    if (w == 1)
        dsl_buf__printf(b, "0x%02x", (unsigned) word_(s, 1));
    else
        dsl_buf__printf(b, "HT_RT_C%zu(0x%0*llxu)", w * 8, (int) (w * 2), (unsigned long long) word_(s, w));
}

static void emit_word_(dsl_buf_t* b, const char* s, size_t at, size_t w, bool first) {
    if (!first) dsl_buf__puts(b, " && ");
    emit_load_(b, at, w);
    dsl_buf__puts(b, " == ");
    emit_const_(b, s + at, w);
}

/* The bytes [from, n) of s at b + from (from <= n): "1" when none. */
static void emit_eq_from_(dsl_buf_t* b, const char* s, size_t from, size_t n) {
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
static void lit_comment_(dsl_buf_t* b, const char* s, size_t n) {
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
static int state_routes_(const gen_t* g, const au_state_t* st, int* ids) {
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
static void state_lines_(dsl_buf_t* b, const gen_t* g, const au_state_t* st, int max) {
    int* ids = dsl_xcalloc((size_t) st->nitems * (size_t) g->f->nmethods + 1, sizeof *ids);
    int n = state_routes_(g, st, ids);
    if (n) plan__lines(g->f, g->base, ids, n, max, b);
    free(ids);
}

/* ---------------------------------------------------------------- code states */
typedef struct cx {
    const gen_t* g;
    const au_t* au;
    const layout_t* l;
    int chunk; /* the function being written: 0 is PREFIX__match (or PREFIX__long) */
    bool hot;  /* PREFIX__match: the path is shorter than 64 bytes, no window refills */
} cx_t;

/* Where a state ends (the path ended there, a sink). */
static void emit_end_(dsl_buf_t* b, const cx_t* x, int row, int d) {
    indent_(b, d);
    if (x->chunk == 0)
        dsl_buf__printf(b, "st = %s__ROW(%d);\n", x->g->P, row), indent_(b, d), dsl_buf__puts(b, "goto done;\n");
    else
        dsl_buf__printf(b, "return %s__ROW(%d);\n", x->g->P, row);
}

/* Going on to state t (-1: nothing matches) after a segment. */
static void emit_goto_(dsl_buf_t* b, const cx_t* x, int t) {
    const char* P = x->g->P;
    const layout_t* l = x->l;
    if (t < 0)
        dsl_buf__puts(b, x->chunk == 0 ? "goto none;" : "return 0;");
    else if (l->chunk[t] == x->chunk)
        dsl_buf__printf(b, "goto s%d;", t);
    else if (l->chunk[t] > 0)
        dsl_buf__printf(b, x->chunk == 0 ? "{ st = %s__h%d(%d, e, bits, wb, lim, se); goto done; }"
                                         : "return %s__h%d(%d, e, bits, wb, lim, se);",
                        P, l->chunk[t], t);
    else
        dsl_buf__printf(b, x->chunk == 0 ? "{ st = %s__cold(%d, e, bits, wb, lim, se); goto done; } /* s%d */"
                                         : "return %s__cold(%d, e, bits, wb, lim, se); /* s%d */",
                        P, l->tix[t], t);
}

/* Literals of one length (lits[0 .. n)): full compares when few, else a
   switch on their first word (4, 2 or 1 bytes; gcc makes it a few
   compares, not a jump table), then the rest of each. */
static void emit_lits_(dsl_buf_t* b, const cx_t* x, const au_lit_t* const* lits, int n, int d) {
    if (!lits[0]->len) { /* the empty segment */
        indent_(b, d);
        emit_goto_(b, x, lits[0]->to);
        dsl_buf__puts(b, "\n");
        return;
    }
    if (n <= 3) {
        for (int k = 0; k < n; k++) {
            indent_(b, d);
            dsl_buf__puts(b, "if (");
            emit_eq_from_(b, lits[k]->s, 0, lits[k]->len);
            dsl_buf__puts(b, ") ");
            emit_goto_(b, x, lits[k]->to);
            dsl_buf__puts(b, " /* ");
            lit_comment_(b, lits[k]->s, lits[k]->len);
            dsl_buf__puts(b, " */\n");
        }
        return;
    }
    size_t len = lits[0]->len;
    size_t w = len >= 4 ? 4 : len >= 2 ? 2 : 1;
    indent_(b, d);
    dsl_buf__puts(b, "switch (");
    emit_load_(b, 0, w);
    dsl_buf__puts(b, ") {\n");
    bool* done = dsl_xcalloc((size_t) n, sizeof *done);
    for (int k = 0; k < n; k++) {
        if (done[k]) continue;
        indent_(b, d);
        dsl_buf__puts(b, "case ");
        emit_const_(b, lits[k]->s, w);
        dsl_buf__puts(b, ":\n");
        for (int q = k; q < n; q++) {
            if (done[q] || memcmp(lits[q]->s, lits[k]->s, w) != 0) continue;
            done[q] = true;
            indent_(b, d + 1);
            dsl_buf__puts(b, "if (");
            emit_eq_from_(b, lits[q]->s, w, len);
            dsl_buf__puts(b, ") ");
            emit_goto_(b, x, lits[q]->to);
            dsl_buf__puts(b, " /* ");
            lit_comment_(b, lits[q]->s, lits[q]->len);
            dsl_buf__puts(b, " */\n");
        }
        indent_(b, d + 1);
        dsl_buf__puts(b, "break;\n");
    }
    indent_(b, d);
    dsl_buf__puts(b, "default: break;\n");
    indent_(b, d);
    dsl_buf__puts(b, "}\n");
    free(done);
}

/* No bits left in state s: the path ended (e == lim), or the window did
   (paths of 64 bytes and more: the next one). */
static void emit_refill_(dsl_buf_t* b, const cx_t* x, int s, const au_state_t* st, bool live) {
    dsl_buf__puts(b, "    if (__builtin_expect(!bits, 0)) {\n");
    if (s) {
        if (st->row) {
            dsl_buf__puts(b, "        if (e == lim) {\n");
            emit_end_(b, x, st->row, 3);
            dsl_buf__puts(b, "        }\n");
        } else {
            dsl_buf__printf(b, "        if (e == lim) %s\n", x->chunk == 0 ? "goto none;" : "return 0;");
        }
    }
    if (!live) { /* every group ends here */
        dsl_buf__printf(b, "    }\n    %s\n", x->chunk == 0 ? "goto none;" : "return 0;");
        return;
    }
    dsl_buf__puts(b, "        ht_rt_win_t w = ht_rt__more(wb, lim);\n        bits = w.bits;\n        wb = w.base;\n    }\n");
}

/* One state of the automaton as a block of code (s0 first, without a
   label: nothing leads back to it). On entry, e is the end of the segments
   read (a '/' or lim) and bits the '/' still ahead in the window at wb. */
static void emit_state_(dsl_buf_t* b, const cx_t* x, int s, bool label) {
    const au_t* au = x->au;
    const au_state_t* st = &au->st[s];
    const char* P = x->g->P;
    if (label) dsl_buf__printf(b, "s%d:", s);
    dsl_buf__printf(b, "%s/* s%d, %s", label ? " " : "    ", s, st->sink ? "only rest parameters left" : "");
    if (!st->sink) dsl_buf__printf(b, "depth %d", st->depth);
    dsl_buf__puts(b, ": ");
    state_lines_(b, x->g, st, 6);
    dsl_buf__puts(b, " */\n");
    if (st->sink) {
        emit_end_(b, x, st->row, 1);
        return;
    }
    bool live = st->nlit > 0;
    for (int k = 0; k < 2 << st->npred; k++) live = live || st->to[k] >= 0;
    if (x->hot) { /* the window is the path: no bits left is its end (never in s0) */
        if (s && st->row) {
            dsl_buf__puts(b, "    if (__builtin_expect(!bits, 0)) { /* e == lim */\n");
            emit_end_(b, x, st->row, 2);
            dsl_buf__puts(b, "    }\n");
        } else if (s) {
            dsl_buf__puts(b, "    if (__builtin_expect(!bits, 0)) goto none; /* e == lim */\n");
        }
        if (!live) {
            dsl_buf__puts(b, "    goto none;\n");
            return;
        }
    } else {
        emit_refill_(b, x, s, st, live);
        if (!live) return;
    }
    dsl_buf__printf(b, "    b = e + 1;\n    HT_RT_NEXT(e, wb, bits);\n    se[%d] = e;\n", st->depth + 1);
    bool empty_lit = false;
    if (st->nlit) {
        dsl_buf__puts(b, "    switch (e - b) {\n");
        const au_lit_t** same = dsl_xcalloc((size_t) st->nlit, sizeof *same);
        for (int k = 0; k < st->nlit;) {
            int m = 0;
            size_t len = st->lit[k].len;
            while (k < st->nlit && st->lit[k].len == len) same[m++] = &st->lit[k++];
            if (!len) empty_lit = true;
            dsl_buf__printf(b, "    case %zu:\n", len);
            emit_lits_(b, x, same, m, 2);
            dsl_buf__puts(b, "        break;\n");
        }
        free(same);
        dsl_buf__puts(b, "    default: break;\n    }\n");
    }
    /* Not one of the literals: by predicates. */
    if (!empty_lit && (st->npred || st->to[0] != st->to[1])) {
        dsl_buf__puts(b, "    if (b == e) ");
        emit_goto_(b, x, st->to[0]);
        dsl_buf__puts(b, "\n");
    }
    if (!st->npred) {
        dsl_buf__puts(b, "    ");
        emit_goto_(b, x, st->to[1]);
        dsl_buf__puts(b, "\n");
        return;
    }
    dsl_buf__puts(b, "    switch (");
    for (int k = 0; k < st->npred; k++)
        dsl_buf__printf(b, "%s(unsigned) %s__p%d(b, e) << %d", k ? " | " : "", P, st->pred[k], k);
    dsl_buf__puts(b, ") {\n");
    for (int k = 1; k < 2 << st->npred; k += 2) {
        if (st->to[k] < 0) continue;
        dsl_buf__printf(b, "    case %d: ", k >> 1);
        emit_goto_(b, x, st->to[k]);
        dsl_buf__puts(b, "\n");
    }
    dsl_buf__printf(b, "    default: %s\n    }\n", x->chunk == 0 ? "goto none;" : "return 0;");
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
            lit_comment_(b, q->lit, q->len);
            dsl_buf__printf(b, "\": %s */\n", lines.ptr);
            dsl_buf__printf(b, "static inline bool %s__p%d(const char* b, const char* e) {\n    return (size_t) (e - b) >= %zu && ",
                            g->P, k, q->len);
            emit_eq_from_(b, q->lit, 0, q->len);
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
            state_lines_(b, g, &au->st[rowstate[r]], 4);
        }
        dsl_buf__puts(b, " */\n");
    }
    free(rowstate);
    dsl_buf__printf(b, "};\nstatic const uint64_t %s__allow[%d] = {", g->P, au->nrows);
    for (int r = 0; r < au->nrows; r++)
        dsl_buf__printf(b, "%sUINT64_C(0x%llx),", r % 4 ? " " : "\n    ", (unsigned long long) au->allow[r]);
    dsl_buf__puts(b, "\n};\n\n");
}

/* ---------------------------------------------------------------- table states */
typedef struct tlit {
    const au_lit_t* lit;
    uint64_t head; /* the first 8 bytes as a little-endian word */
    size_t off;    /* in PREFIX__tbytes */
} tlit_t;

/* A table state's next state: a table state's number, HT_RT_GO | k for one
   in code, HT_RT_DEAD for none. */
static void emit_tto_(dsl_buf_t* b, const layout_t* l, int t) {
    if (t < 0)
        dsl_buf__puts(b, "HT_RT_DEAD");
    else if (l->tix[t] >= 0)
        dsl_buf__printf(b, "%d", l->tix[t]);
    else
        dsl_buf__printf(b, "HT_RT_GO | %d", l->gix[t]);
}

static int cmp_tlit_(const void* x, const void* y) {
    const tlit_t* a = x;
    const tlit_t* b = y;
    if (a->lit->len != b->lit->len) return a->lit->len < b->lit->len ? -1 : 1;
    if (a->head != b->head) return a->head < b->head ? -1 : 1;
    return a->lit->len <= 8 ? 0 : memcmp(a->lit->s + 8, b->lit->s + 8, a->lit->len - 8);
}

static void emit_tables_(dsl_buf_t* b, const gen_t* g, const layout_t* l) {
    const au_t* au = &g->plan->au;
    const char* P = g->P;
    if (!l->ntab) return;
    dsl_buf__printf(b,
                    "/* The states past the code budget, as tables (<ht/route_rt.h>, ht_rt__run):\n"
                    "   %d of the automaton's %d. Each is the same step as a state in code: a\n"
                    "   literal segment by binary search, else the predicates it meets. */\n",
                    l->ntab, au->nstates);
    /* literal bytes */
    dsl_buf__printf(b, "static const char %s__tbytes[] =", P);
    size_t off = 0, col = 80;
    uint32_t* loff = dsl_xcalloc((size_t) au->nstates + 1, sizeof *loff);
    bool any = false;
    for (int i = 0; i < l->ntab; i++) {
        const au_state_t* st = &au->st[l->tab[i]];
        loff[i] = (uint32_t) off;
        for (int k = 0; k < st->nlit; k++) {
            for (size_t q = 0; q < st->lit[k].len; q++) {
                if (col >= 72) {
                    dsl_buf__puts(b, any ? "\"\n    \"" : "\n    \"");
                    col = 5;
                    any = true;
                }
                unsigned char c = (unsigned char) st->lit[k].s[q];
                if (c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?')
                    dsl_buf__put(b, (const char*) &st->lit[k].s[q], 1), col++;
                else
                    dsl_buf__printf(b, "\\%03o", c), col += 4;
            }
            off += st->lit[k].len;
        }
    }
    /* 8 NULs more: the walker compares bytes past a literal's first 8, and
       gcc's bounds checks want an empty table to have some */
    dsl_buf__puts(b, any ? "\"\n    \"\\0\\0\\0\\0\\0\\0\\0\\0\";\n" : " \"\\0\\0\\0\\0\\0\\0\\0\\0\";\n");
    /* literals, in ht_rt__run's order: length, head, the rest */
    dsl_buf__printf(b, "static const ht_rt_lit_t %s__tlit[] = {", P);
    int nl = 0;
    for (int i = 0; i < l->ntab; i++) {
        const au_state_t* st = &au->st[l->tab[i]];
        tlit_t* tl = dsl_xcalloc((size_t) st->nlit + 1, sizeof *tl);
        size_t o = loff[i];
        for (int k = 0; k < st->nlit; k++) {
            tl[k] = (tlit_t){ .lit = &st->lit[k], .head = word_(st->lit[k].s, st->lit[k].len < 8 ? st->lit[k].len : 8),
                              .off = o };
            o += st->lit[k].len;
        }
        qsort(tl, (size_t) st->nlit, sizeof *tl, cmp_tlit_);
        for (int k = 0; k < st->nlit; k++, nl++) {
            dsl_buf__printf(b, "%s{ UINT64_C(0x%llx), %zu, %zu, ", nl % 3 ? " " : "\n    ",
                            (unsigned long long) tl[k].head, tl[k].off, tl[k].lit->len);
            emit_tto_(b, l, tl[k].lit->to);
            dsl_buf__puts(b, " },");
        }
        free(tl);
    }
    dsl_buf__puts(b, nl ? "\n};\n" : " { 0, 0, 0, 0 } };\n");
    /* transitions by mask */
    dsl_buf__printf(b, "static const uint32_t %s__tto[] = {", P);
    int nt = 0;
    for (int i = 0; i < l->ntab; i++) {
        const au_state_t* st = &au->st[l->tab[i]];
        if (st->sink) continue;
        for (int x = 0; x < 2 << st->npred; x++, nt++) {
            dsl_buf__puts(b, nt % 8 ? " " : "\n    ");
            emit_tto_(b, l, st->to[x]);
            dsl_buf__puts(b, ",");
        }
    }
    dsl_buf__puts(b, nt ? "\n};\n" : " 0 };\n");
    /* predicates */
    dsl_buf__printf(b, "static const uint16_t %s__tpred[] = {", P);
    int np = 0;
    for (int i = 0; i < l->ntab; i++) {
        const au_state_t* st = &au->st[l->tab[i]];
        for (int k = 0; k < st->npred; k++, np++) dsl_buf__printf(b, "%s%d,", np % 16 ? " " : "\n    ", st->pred[k]);
    }
    dsl_buf__puts(b, np ? "\n};\n" : " 0 };\n");
    dsl_buf__printf(b, "static const ht_rt_pred_fn %s__preds[] = {", P);
    for (int k = 0; k < au->npred; k++) dsl_buf__printf(b, "%s%s__p%d,", k % 8 ? " " : "\n    ", P, k);
    dsl_buf__puts(b, au->npred ? "\n};\n" : " nullptr };\n");
    /* states */
    dsl_buf__printf(b, "static const ht_rt_state_t %s__tst[%d] = {\n", P, l->ntab);
    int li = 0, ti = 0, pi = 0;
    for (int i = 0; i < l->ntab; i++) {
        const au_state_t* st = &au->st[l->tab[i]];
        dsl_buf__printf(b, "    { %s__ROW(%d), %d, %d, %d, %d, %d, %s, %d }, /* %d: s%d ", P, st->row, li, ti, pi,
                        st->nlit, st->npred, st->sink ? "HT_RT_SINK" : "0", st->sink ? 0 : st->depth, i, l->tab[i]);
        state_lines_(b, g, st, 4);
        dsl_buf__puts(b, " */\n");
        li += st->nlit;
        ti += st->sink ? 0 : 2 << st->npred;
        pi += st->npred;
    }
    dsl_buf__puts(b, "};\n");
    free(loff);
    emit__tpl(b, g,
              "static const ht_rt_au_t $P__au = { $P__tst, $P__tlit, $P__tto, $P__tpred, $P__preds, $P__tbytes };\n");
    if (l->ngo) {
        dsl_buf__printf(b, "/* HT_RT_GO | k above: state %s__gos[k] in code, in %s__gofn[k]. */\n"
                           "static const uint32_t %s__gos[%d] = {", P, P, P, l->ngo);
        for (int k = 0; k < l->ngo; k++) dsl_buf__printf(b, "%s%d,", k % 12 ? " " : "\n    ", l->go[k]);
        dsl_buf__printf(b, "\n};\nstatic uint32_t (*const %s__gofn[%d])(uint32_t, const char*, uint64_t, const char*, "
                           "const char*, const char**) = {", P, l->ngo);
        for (int k = 0; k < l->ngo; k++) dsl_buf__printf(b, "%s%s__h%d,", k % 6 ? " " : "\n    ", P, l->chunk[l->go[k]]);
        dsl_buf__puts(b, "\n};\n");
    }
    emit__tpl(b, g,
              "/* From table state s on (its number above); returns what a state in code\n"
              "   returns: the row where the path ended, x $P__COLS, or 0. */\n"
              "__attribute__((noinline)) static uint32_t $P__cold(uint32_t s, const char* e, uint64_t bits, const char* wb,\n"
              "    const char* lim, const char** se) {\n"
              "    ht_rt_cur_t k = { e, bits, wb, s };\n"
              "    uint32_t st = ht_rt__run(&$P__au, &k, lim, se);\n");
    if (l->ngo)
        emit__tpl(b, g,
                  "    if (st == HT_RT_GONE) { /* on in code */\n"
                  "        uint32_t i = k.s & ~HT_RT_GO;\n"
                  "        return $P__gofn[i]($P__gos[i], k.e, k.bits, k.wb, lim, se);\n"
                  "    }\n");
    emit__tpl(b, g, "    return st;\n}\n\n");
}

/* ---------------------------------------------------------------- code states */
static void emit_chunks_(dsl_buf_t* b, const gen_t* g, const layout_t* l) {
    const au_t* au = &g->plan->au;
    const char* P = g->P;
    if (l->nchunks <= 1) return;
    for (int c = 1; c < l->nchunks; c++) {
        int* ids = dsl_xcalloc((size_t) g->f->nroutes * (size_t) g->f->nmethods + 1, sizeof *ids);
        int* one = dsl_xcalloc((size_t) g->f->nroutes * (size_t) g->f->nmethods + 1, sizeof *one);
        int n = 0;
        bool* seen = dsl_xcalloc((size_t) g->f->nroutes + 1, sizeof *seen);
        for (int q = l->cstart[c]; q < l->cstart[c + 1]; q++) {
            int k = state_routes_(g, &au->st[l->order[q]], one);
            for (int i = 0; i < k; i++)
                if (!seen[one[i]]) seen[one[i]] = true, ids[n++] = one[i];
        }
        dsl_buf__printf(b, "/* States s%d", l->order[l->cstart[c]]);
        if (l->cstart[c + 1] - l->cstart[c] > 1) dsl_buf__printf(b, " and %d below it", l->cstart[c + 1] - l->cstart[c] - 1);
        dsl_buf__puts(b, ": ");
        plan__lines(g->f, g->base, ids, n, 10, b);
        dsl_buf__puts(b, " */\n");
        free(ids), free(one), free(seen);
        dsl_buf__printf(b,
                        "__attribute__((noinline)) static uint32_t %s__h%d(uint32_t s, const char* e, uint64_t bits, "
                        "const char* wb,\n    const char* lim, const char** se) {\n"
                        "    const char* b = e;\n    (void) b, (void) bits, (void) wb, (void) lim, (void) se;\n",
                        P, c);
        bool entries = false;
        for (int q = l->cstart[c] + 1; q < l->cstart[c + 1]; q++) entries = entries || l->entry[l->order[q]];
        if (entries) {
            dsl_buf__puts(b, "    switch (s) { /* where the caller goes on */\n");
            for (int q = l->cstart[c] + 1; q < l->cstart[c + 1]; q++)
                if (l->entry[l->order[q]]) dsl_buf__printf(b, "    case %d: goto s%d;\n", l->order[q], l->order[q]);
            dsl_buf__puts(b, "    default: break;\n    }\n");
        } else {
            dsl_buf__puts(b, "    (void) s;\n");
        }
        cx_t x = { .g = g, .au = au, .l = l, .chunk = c };
        for (int q = l->cstart[c]; q < l->cstart[c + 1]; q++)
            emit_state_(b, &x, l->order[q], l->label[l->order[q]] || l->entry[l->order[q]]);
        dsl_buf__puts(b, "}\n\n");
    }
}

/* ---------------------------------------------------------------- the match */
/* PREFIX__match alone (MATCH_ONE), or its states twice: where they call
   nothing (no predicate, no further function or table), PREFIX__match
   (MATCH_HOT) takes the paths shorter than 64 bytes without a byte <= '%'
   (almost every path): one window, so no refill and no flags, and no call
   but tail calls, so gcc keeps the match in call-clobbered registers (a
   refill call, however cold, had it push six callee-saved ones and open a
   frame on every match). PREFIX__long (MATCH_LONG) takes the rest: windows
   refilled, '%' decoded, NUL refused. */
typedef enum { MATCH_ONE, MATCH_LONG, MATCH_HOT } match_fn_t;

/* Whether PREFIX__match's own states call anything: a predicate, a further
   function, the tables. Then a hot copy would save registers all the same,
   and is not written (nor its compile time spent). */
static bool main_calls_(const au_t* au, const layout_t* l) {
    if (!l->nchunks || l->chunk[0] != 0) return true;
    for (int q = l->cstart[0]; q < l->cstart[1]; q++) {
        const au_state_t* st = &au->st[l->order[q]];
        if (!st->sink && st->npred) return true;
        for (int k = 0; k < layout__nouts(st); k++)
            if (layout__out(st, k) >= 0 && l->chunk[layout__out(st, k)] != 0) return true;
    }
    return false;
}

static void emit_match_fn_(dsl_buf_t* b, const gen_t* g, const layout_t* l, match_fn_t fn) {
    const au_t* au = &g->plan->au;
    bool hot = fn == MATCH_HOT;
    if (fn == MATCH_LONG)
        emit__tpl(b, g,
                  "/* $P__match's states again, for the paths it hands on: 64 bytes and more\n"
                  "   (the window refills), a '%' (percent-decoding), a NUL (nothing matches). */\n"
                  "__attribute__((noinline)) static $P_status_t $P__long(ht_method_t method, ht_slice_t path, $P_match_t* m) {\n");
    else
        emit__tpl(b, g, hot ? "/* Every route of the file goes through here (each state names its lines).\n"
                              "   m->route is set by every match (capture or $P__other); allow and\n"
                              "   redirect only for the statuses that use them. Paths of 64 bytes and\n"
                              "   more, or with a byte <= '%' (a '%' to decode, a NUL, rarely another),\n"
                              "   are $P__long's. */\n"
                              "$P_status_t $P__match(ht_method_t method, ht_slice_t path, $P_match_t* m) {\n"
                            : "/* Every route of the file goes through here (each state names its lines).\n"
                              "   m->route is set by every match (capture or $P__other); allow and\n"
                              "   redirect only for the statuses that use them. */\n"
                              "$P_status_t $P__match(ht_method_t method, ht_slice_t path, $P_match_t* m) {\n");
    emit__tpl(b, g,
              "    unsigned c = (unsigned) method;\n"
              "    if (__builtin_expect(c >= HT_METHOD__COUNT, 0)) c = $P__col(c);\n"
              "    const char* const s = path.ptr; /* not read when n is 0 */\n"
              "    const size_t n = path.len;\n"
              "    m->scratch_used = 0;\n"
              "    if (__builtin_expect(!n || s[0] != '/', 0)) goto none; /* nothing matches */\n");
    if (hot)
        emit__tpl(b, g,
                  "    if (__builtin_expect(n >= 64, 0)) return $P__long(method, path, m);\n"
                  "    unsigned low;\n"
                  "    uint64_t bits = ht_rt__bits(s, n, &low) | UINT64_C(1) << n; /* the end as one more */\n"
                  "    if (__builtin_expect(low != 0, 0)) return $P__long(method, path, m);\n");
    else
        emit__tpl(b, g,
                  "    unsigned fl;\n"
                  "    uint64_t bits = ht_rt__scan(s, n, &fl);\n"
                  "    if (__builtin_expect(fl & HT_RT_NUL, 0)) goto none; /* no language holds a NUL */\n");
    emit__tpl(b, g,
              "    const char* const lim = s + n;\n"
              "    const char* wb = s; /* bits: the '/' of s[wb - s ..] still ahead, and the end */\n"
              "    const char* se[$U__DEPTH + 1];\n"
              "    const char* e = s;\n"
              "    const char* b = e;\n"
              "    uint32_t st; /* row x COLS */\n"
              "    (void) b;\n"
              "    se[0] = s;\n"
              "    bits &= ~UINT64_C(1); /* the leading '/' */\n");
    if (l->chunk[0] == 0) {
        cx_t x = { .g = g, .au = au, .l = l, .chunk = 0, .hot = hot };
        for (int q = l->cstart[0]; q < l->cstart[1]; q++) emit_state_(b, &x, l->order[q], l->label[l->order[q]]);
    } else {
        emit__tpl(b, g, "    st = $P__cold(0, e, bits, wb, lim, se);\n    goto done;\n");
    }
    emit__tpl(b, g,
              "done:\n"
              "    {\n"
              "        uint32_t r = $P__fin[st + c]; /* st: row x $P__COLS */\n");
    emit__tpl(b, g, hot ? "        if (__builtin_expect(r != 0, 1)) return $P__capture(r, se, lim, false, m);\n"
                        : "        if (__builtin_expect(r != 0, 1)) return $P__capture(r, se, lim, fl & HT_RT_PCT, m);\n");
    emit__tpl(b, g,
              "    }\n"
              "    return $P__other(c, st / $P__COLS, s, n, m);\n"
              "none:\n"
              "    return $P__other(c, 0, s, n, m);\n");
    dsl_buf__puts(b, fn == MATCH_LONG ? "}\n\n" : "}\n");
}

static void emit_match_(dsl_buf_t* b, const gen_t* g, const layout_t* l) {
    const dsl_file_t* f = g->f;
    const au_t* au = &g->plan->au;
    if (f->slash_redirect)
        emit__tpl(b, g,
                  "/* trailing_slash redirect: the redirect's probe; the other form of the\n"
                  "   path is ht_rt__slash's. */\n"
                  "static bool $P__probe(ht_slice_t path, void* m) {\n"
                  "    return $P__match((ht_method_t) ($P__OWN + $P__PROBE), path, m) == $U_MATCH_FOUND;\n"
                  "}\n\n");
    emit__tpl(b, g,
              "/* The column of a method argument past the ht_method_t ones: 0 (no route\n"
              "   has it), or one of ours ($P__OWN + column). Behind a test that the\n"
              "   common case passes (one compare), and inline: a call would make\n"
              "   $P__match save registers on every match. */\n"
              "HT_INLINE unsigned $P__col(unsigned c) {\n"
              "    return c >= $P__OWN && c - $P__OWN < $P__COLS ? c - $P__OWN : 0u;\n"
              "}\n\n");
    emit__tpl(b, g,
              "/* Every status but FOUND: the path ended in row st (0: no route matched\n"
              "   it, or it died on the way) without a route for column c. */\n"
              "__attribute__((noinline, cold)) static $P_status_t $P__other(unsigned c, unsigned st, const char* s, size_t n,\n"
              "    $P_match_t* m) {\n"
              "    if (c == $P__PROBE) return $U_MATCH_NOT_FOUND;\n"
              "    m->route = $U_ROUTE__NONE;\n"
              "    m->allow = $P__allow[st];\n"
              "    m->redirect = (ht_slice_t){ nullptr, 0 };\n"
              "    if (st) return c == $U_METHOD_OPTIONS + 1 ? $U_MATCH_OPTIONS : $U_MATCH_METHOD_NOT_ALLOWED;\n");
    if (f->slash_redirect)
        emit__tpl(b, g,
                  "    if (n && s[0] == '/' && !memchr(s, 0, n) &&\n"
                  "        ht_rt__slash(s, n, (ht_rt_scratch_t){ m->scratch, m->scratch_cap, &m->scratch_used }, $P__probe, m,\n"
                  "                     &m->redirect))\n"
                  "        return $U_MATCH_REDIRECT;\n");
    else
        dsl_buf__puts(b, "    (void) s, (void) n;\n");
    emit__tpl(b, g, "    return $U_MATCH_NOT_FOUND;\n}\n\n");
    int n0 = l->nchunks ? l->cstart[1] - l->cstart[0] : 0;
    dsl_buf__printf(b,
                    "/* The automaton: %d state%s (htgen's codegen/automaton.h), a segment per\n"
                    "   step; %d as code in this function, %d in %d more function%s, %d as\n"
                    "   tables. b .. e is the segment; se[d + 1] = e records where segment d\n"
                    "   ends, for the captures. */\n"
                    "#define %s__DEPTH %d\n",
                    au->nstates, au->nstates == 1 ? "" : "s", n0, l->nchunks ? l->cstart[l->nchunks] - n0 : 0,
                    l->nchunks > 1 ? l->nchunks - 1 : 0, l->nchunks == 2 ? "" : "s", l->ntab, g->U, au->maxdepth + 1);
    if (main_calls_(au, l)) {
        emit_match_fn_(b, g, l, MATCH_ONE);
    } else {
        emit_match_fn_(b, g, l, MATCH_LONG);
        emit_match_fn_(b, g, l, MATCH_HOT);
    }
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
    emit_tables_(b, g, &l);
    emit_chunks_(b, g, &l);
    emit_match_(b, g, &l);
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
