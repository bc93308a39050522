/* codegen/emit_states.c — the matcher's automaton as code (PREFIX_routes.re):
 * each code state of the layout (codegen/layout.h) as a block of C that
 * reads one segment and goes on by its literals or predicates, the further
 * functions PREFIX__h1.. that hold those past PREFIX__match's budget, and
 * PREFIX__match itself with its siblings (PREFIX__long, PREFIX__other,
 * PREFIX__col, PREFIX__probe). emit_matcher.c says where in the file.
 */
#include "emit_matcher.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- one state */
typedef struct cx {
    const gen_t* g;
    const au_t* au;
    const layout_t* l;
    int chunk; /* the function being written: 0 is PREFIX__match (or PREFIX__long) */
    bool hot;  /* PREFIX__match: the path is shorter than 64 bytes, no window refills */
} cx_t;

static void indent_(dsl_buf_t* b, int d) {
    for (int k = 0; k < d; k++) dsl_buf__puts(b, "    ");
}

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
            emit_matcher__eq_from(b, lits[k]->s, 0, lits[k]->len);
            dsl_buf__puts(b, ") ");
            emit_goto_(b, x, lits[k]->to);
            dsl_buf__puts(b, " /* ");
            emit_matcher__lit_comment(b, lits[k]->s, lits[k]->len);
            dsl_buf__puts(b, " */\n");
        }
        return;
    }
    size_t len = lits[0]->len;
    size_t w = len >= 4 ? 4 : len >= 2 ? 2 : 1;
    indent_(b, d);
    dsl_buf__puts(b, "switch (");
    emit_matcher__load(b, 0, w);
    dsl_buf__puts(b, ") {\n");
    bool* done = dsl_xcalloc((size_t) n, sizeof *done);
    for (int k = 0; k < n; k++) {
        if (done[k]) continue;
        indent_(b, d);
        dsl_buf__puts(b, "case ");
        emit_matcher__const(b, lits[k]->s, w);
        dsl_buf__puts(b, ":\n");
        for (int q = k; q < n; q++) {
            if (done[q] || memcmp(lits[q]->s, lits[k]->s, w) != 0) continue;
            done[q] = true;
            indent_(b, d + 1);
            dsl_buf__puts(b, "if (");
            emit_matcher__eq_from(b, lits[q]->s, w, len);
            dsl_buf__puts(b, ") ");
            emit_goto_(b, x, lits[q]->to);
            dsl_buf__puts(b, " /* ");
            emit_matcher__lit_comment(b, lits[q]->s, lits[q]->len);
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
    emit_matcher__state_lines(b, x->g, st, 6);
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
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, as meant */
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

/* ---------------------------------------------------------------- the further functions (PREFIX__h1..) */
void emit_matcher__chunks(dsl_buf_t* b, const gen_t* g, const layout_t* l) {
    const au_t* au = &g->plan->au;
    const char* P = g->P;
    if (l->nchunks <= 1) return;
    for (int c = 1; c < l->nchunks; c++) {
        int* ids = dsl_xcalloc((size_t) g->f->nroutes * (size_t) g->f->nmethods + 1, sizeof *ids);
        int* one = dsl_xcalloc((size_t) g->f->nroutes * (size_t) g->f->nmethods + 1, sizeof *one);
        int n = 0;
        bool* seen = dsl_xcalloc((size_t) g->f->nroutes + 1, sizeof *seen);
        for (int q = l->cstart[c]; q < l->cstart[c + 1]; q++) {
            int k = emit_matcher__state_routes(g, &au->st[l->order[q]], one);
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

void emit_matcher__match(dsl_buf_t* b, const gen_t* g, const layout_t* l) {
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
