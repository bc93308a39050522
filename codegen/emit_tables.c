/* codegen/emit_tables.c — the matcher's automaton as tables
 * (PREFIX_routes.re): the states past the code budget (codegen/layout.h)
 * as the literal, transition and predicate arrays that <ht/route_rt.h>'s
 * ht_rt__run walks, and PREFIX__cold, which enters them from code and goes
 * back to a state in code where the walk leaves the tables.
 */
#include "emit_matcher.h"

#include <stdlib.h>
#include <string.h>

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

void emit_matcher__tables(dsl_buf_t* b, const gen_t* g, const layout_t* l) {
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
            tl[k] = (tlit_t){ .lit = &st->lit[k], .head = emit_matcher__word(st->lit[k].s, st->lit[k].len < 8 ? st->lit[k].len : 8),
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
        emit_matcher__state_lines(b, g, st, 4);
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
