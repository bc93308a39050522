/* codegen/automaton.c — subset construction of the segment automaton
 * (see automaton.h for what a state is and why). */
#include "automaton.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    AU_MAX_PRED = 10,       /* predicates told apart at one depth of one state: 2^10 masks */
    AU_MAX_STATES = 1 << 20,
};

static void* xcalloc_(size_t n, size_t s) {
    void* p = calloc(n ? n : 1, s);
    if (!p) {
        fputs("htgen: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static void* xrealloc_(void* p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("htgen: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static uint64_t hash_(const int* v, int n, int salt) {
    uint64_t h = 1469598103934665603u ^ (uint64_t) (uint32_t) salt;
    for (int i = 0; i < n; i++) h = (h ^ (uint64_t) (uint32_t) v[i]) * 1099511628211u;
    return h ^ h >> 29;
}

/* ---- a set of int vectors, interned: (key, items) -> index ---- */
typedef struct vset {
    int* slot; /* open addressing: index + 1, 0 empty */
    size_t cap;
    int n;
    int** items;
    int* nitems;
    int* key;
    int capv;
} vset_t;

static int vset_find_(vset_t* v, int key, const int* items, int n, bool* added) {
    if ((size_t) (v->n + 1) * 2 > v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        int* slot = xcalloc_(cap, sizeof *slot);
        for (size_t i = 0; i < v->cap; i++) {
            if (!v->slot[i]) continue;
            int k = v->slot[i] - 1;
            size_t h = (size_t) hash_(v->items[k], v->nitems[k], v->key[k]) & (cap - 1);
            while (slot[h]) h = (h + 1) & (cap - 1);
            slot[h] = k + 1;
        }
        free(v->slot);
        v->slot = slot;
        v->cap = cap;
    }
    size_t h = (size_t) hash_(items, n, key) & (v->cap - 1);
    for (; v->slot[h]; h = (h + 1) & (v->cap - 1)) {
        int k = v->slot[h] - 1;
        if (v->key[k] == key && v->nitems[k] == n &&
            (!n || memcmp(v->items[k], items, (size_t) n * sizeof *items) == 0)) {
            *added = false;
            return k;
        }
    }
    if (v->n == v->capv) {
        v->capv = v->capv ? v->capv * 2 : 64;
        v->items = xrealloc_(v->items, (size_t) v->capv * sizeof *v->items);
        v->nitems = xrealloc_(v->nitems, (size_t) v->capv * sizeof *v->nitems);
        v->key = xrealloc_(v->key, (size_t) v->capv * sizeof *v->key);
    }
    int k = v->n++;
    v->items[k] = xcalloc_((size_t) n, sizeof(int));
    if (n) memcpy(v->items[k], items, (size_t) n * sizeof *items);
    v->nitems[k] = n;
    v->key[k] = key;
    v->slot[h] = k + 1;
    *added = true;
    return k;
}

static void vset_free_(vset_t* v) {
    for (int k = 0; k < v->n; k++) free(v->items[k]);
    free(v->items);
    free(v->nitems);
    free(v->key);
    free(v->slot);
}

/* ---- build context ---- */
typedef struct ctx {
    const au_input_t* in;
    au_t* au;
    dsl_arena_t arena;
    int** gpred;        /* [group][seg]: predicate id of an AU_PRED / prefixed AU_REST segment, else -1 */
    const rx_t** prx;   /* [pred]: its language (a prefix: prefix then any bytes but '/' and NUL) */
    signed char* rel;   /* [pred][pred]: bit 0 known, bit 1 subset (i within j), bit 2 disjoint */
    int cappred;
    vset_t states, rows;
    int* lit_memo_pred; /* literal-in-predicate answers: (pred, bytes) -> bool, linear memo */
    const char** lit_memo_s;
    size_t* lit_memo_len;
    bool* lit_memo_ans;
    int nmemo, capmemo;
} ctx_t;

static int pred_of_(ctx_t* c, const au_seg_t* sg) {
    au_t* au = c->au;
    bool prefix = sg->kind == AU_REST;
    for (int p = 0; p < au->npred; p++) {
        const au_pred_t* q = &au->pred[p];
        if (q->prefix != prefix) continue;
        if (prefix ? q->len == sg->len && memcmp(q->lit, sg->lit, sg->len) == 0 : strcmp(q->key, sg->key) == 0)
            return p;
    }
    if (au->npred == c->cappred) {
        c->cappred = c->cappred ? c->cappred * 2 : 8;
        au->pred = xrealloc_(au->pred, (size_t) c->cappred * sizeof *au->pred);
        c->prx = xrealloc_(c->prx, (size_t) c->cappred * sizeof *c->prx);
    }
    int p = au->npred++;
    au->pred[p] = (au_pred_t){ .prefix = prefix, .rx = sg->rx, .key = sg->key, .lit = sg->lit, .len = sg->len };
    if (prefix) {
        uint8_t set[32];
        memset(set, 0xff, sizeof set);
        set[0] &= (uint8_t) ~1u;
        set['/' >> 3] &= (uint8_t) ~(1u << ('/' & 7));
        c->prx[p] = rx__cat(&c->arena, rx__lit(&c->arena, sg->lit, sg->len), rx__rep(&c->arena, rx__set(&c->arena, set), 0, -1));
    } else {
        c->prx[p] = sg->rx;
    }
    return p;
}

/* Relation of predicates i and j: bit 1 every segment of i is one of j,
   bit 2 no segment is both. Decided on the automata once, on demand. */
static int rel_(ctx_t* c, int i, int j) {
    int np = c->au->npred;
    signed char* r = &c->rel[(size_t) i * (size_t) np + (size_t) j];
    if (!*r) {
        int v = 1;
        if (rx__subset(c->prx[i], c->prx[j])) v |= 2;
        if (!rx__intersects(c->prx[i], c->prx[j], nullptr, 0)) v |= 4;
        *r = (signed char) v;
    }
    return *r;
}

static bool lit_in_pred_(ctx_t* c, int p, const char* s, size_t n) {
    const au_pred_t* q = &c->au->pred[p];
    if (q->prefix) return n >= q->len && memcmp(s, q->lit, q->len) == 0;
    for (int k = 0; k < c->nmemo; k++)
        if (c->lit_memo_pred[k] == p && c->lit_memo_len[k] == n && memcmp(c->lit_memo_s[k], s, n) == 0)
            return c->lit_memo_ans[k];
    dsl_arena_t tmp = { 0 };
    bool ans = rx__intersects(q->rx, rx__lit(&tmp, s, n), nullptr, 0);
    dsl_arena__free(&tmp);
    if (c->nmemo == c->capmemo) {
        c->capmemo = c->capmemo ? c->capmemo * 2 : 64;
        c->lit_memo_pred = xrealloc_(c->lit_memo_pred, (size_t) c->capmemo * sizeof(int));
        c->lit_memo_s = xrealloc_(c->lit_memo_s, (size_t) c->capmemo * sizeof(char*));
        c->lit_memo_len = xrealloc_(c->lit_memo_len, (size_t) c->capmemo * sizeof(size_t));
        c->lit_memo_ans = xrealloc_(c->lit_memo_ans, (size_t) c->capmemo * sizeof(bool));
    }
    c->lit_memo_pred[c->nmemo] = p;
    c->lit_memo_s[c->nmemo] = s;
    c->lit_memo_len[c->nmemo] = n;
    c->lit_memo_ans[c->nmemo++] = ans;
    return ans;
}

static int cmp_int_(const void* a, const void* b) {
    int x = *(const int*) a, y = *(const int*) b;
    return (x > y) - (x < y);
}

static int cmp_lit_(const void* a, const void* b) {
    const au_lit_t* x = a;
    const au_lit_t* y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return memcmp(x->s, y->s, x->len);
}

/* The row of the groups (in precedence order) that matched a whole path. */
static int row_of_(ctx_t* c, const int* gs, int n) {
    bool added;
    int r = vset_find_(&c->rows, 0, gs, n, &added);
    if (!added) return r;
    const au_input_t* in = c->in;
    au_t* au = c->au;
    int cols = in->nmethods + 1;
    au->fin = xrealloc_(au->fin, (size_t) c->rows.n * (size_t) cols * sizeof *au->fin);
    au->allow = xrealloc_(au->allow, (size_t) c->rows.n * sizeof *au->allow);
    uint32_t* f = &au->fin[(size_t) r * (size_t) cols];
    memset(f, 0, (size_t) cols * sizeof *f);
    uint64_t allow = 0;
    for (int k = 0; k < n; k++) allow |= in->g[gs[k]].methods;
    for (int mi = 0; mi < in->nmethods; mi++) {
        int q = -1;
        for (int k = 0; k < n && q < 0; k++)
            if (in->g[gs[k]].route[mi]) q = gs[k];
        if (mi == in->head && in->get >= 0) {
            int qg = -1;
            for (int k = 0; k < n && qg < 0; k++)
                if (in->g[gs[k]].route[in->get]) qg = gs[k];
            /* A GET route answers HEAD unless a real HEAD route is at least as specific. */
            if (qg >= 0 && (q < 0 || in->g[qg].spec < in->g[q].spec)) {
                f[mi] = (uint32_t) in->g[qg].route[in->get];
                continue;
            }
        }
        if (q >= 0) {
            f[mi] = (uint32_t) in->g[q].route[mi];
            au->reached[in->g[q].route[mi]] |= UINT64_C(1) << mi;
        }
    }
    if (in->get >= 0 && in->head >= 0 && (allow >> in->get & 1)) allow |= UINT64_C(1) << in->head;
    if (allow && in->options >= 0) allow |= UINT64_C(1) << in->options;
    au->allow[r] = allow;
    return r;
}

/* The state of these items at this depth (sinks: depth -1), added to the
   work list when new. */
static int state_of_(ctx_t* c, int depth, int* items, int n) {
    if (!n) return -1;
    qsort(items, (size_t) n, sizeof *items, cmp_int_);
    bool sink = items[0] & AU_RESTED;
    bool added;
    int s = vset_find_(&c->states, sink ? -1 : depth, items, n, &added);
    if (!added) return s;
    au_t* au = c->au;
    if (c->states.n > au->nstates) {
        au->st = xrealloc_(au->st, (size_t) c->states.n * sizeof *au->st);
        au->nstates = c->states.n;
    }
    au->st[s] = (au_state_t){ .depth = sink ? -1 : depth, .sink = sink, .items = c->states.items[s], .nitems = n };
    if (!sink && depth > au->maxdepth) au->maxdepth = depth;
    /* Its row: the groups that end here, and the rests reached. */
    int* gs = xcalloc_((size_t) n, sizeof *gs);
    int ng = 0;
    for (int k = 0; k < n; k++) {
        int g = items[k] & (AU_RESTED - 1);
        if ((items[k] & AU_RESTED) || c->in->g[g].nseg == depth) gs[ng++] = g;
    }
    qsort(gs, (size_t) ng, sizeof *gs, cmp_int_);
    au->st[s].row = ng ? row_of_(c, gs, ng) : 0;
    free(gs);
    return s;
}

/* Does segment kind sg take the segment class: literal (lit != nullptr) or
   a non-literal segment with predicate mask mk and not-empty ne? */
static bool takes_(ctx_t* c, const au_seg_t* sg, int pid, const int* preds, int npred, const char* lit, size_t len,
                   unsigned mk, bool ne) {
    switch (sg->kind) {
    case AU_LIT: return lit && len == sg->len && memcmp(lit, sg->lit, len) == 0;
    case AU_NAME: return lit ? len > 0 : ne;
    case AU_REST:
        if (!sg->len) return true;
        /* a prefixed rest is a predicate */
        __attribute__((fallthrough));
    case AU_PRED:
        if (lit) return lit_in_pred_(c, pid, lit, len);
        for (int k = 0; k < npred; k++)
            if (preds[k] == pid) return mk >> k & 1;
        return false;
    }
    return false;
}

static bool expand_(ctx_t* c, int s, char* err, size_t errcap) {
    const au_input_t* in = c->in;
    au_t* au = c->au;
    int depth = au->st[s].depth;
    int n = au->st[s].nitems;
    const int* items = au->st[s].items;
    int* next = xcalloc_((size_t) n, sizeof *next);
    int preds[AU_MAX_PRED + 1];
    int npred = 0;
    au_lit_t* lits = xcalloc_((size_t) n, sizeof *lits);
    int nlit = 0;
    for (int k = 0; k < n; k++) {
        if (items[k] & AU_RESTED) continue;
        const au_group_t* g = &in->g[items[k]];
        if (g->nseg <= depth) continue;
        const au_seg_t* sg = &g->seg[depth];
        if (sg->kind == AU_LIT) {
            bool dup = false;
            for (int q = 0; q < nlit && !dup; q++) dup = lits[q].len == sg->len && memcmp(lits[q].s, sg->lit, sg->len) == 0;
            if (!dup) lits[nlit++] = (au_lit_t){ .s = sg->lit, .len = sg->len };
        }
        int pid = c->gpred[items[k]][depth];
        if (pid >= 0) {
            bool dup = false;
            for (int q = 0; q < npred && !dup; q++) dup = preds[q] == pid;
            if (!dup) {
                if (npred == AU_MAX_PRED) {
                    au->err_group = items[k];
                    snprintf(err, errcap,
                             "more than %d different typed, regex or affixed parameters in segment %d "
                             "after the same path prefix: the matcher would tell 2^%d cases apart there "
                             "(a literal segment before them splits them)",
                             AU_MAX_PRED, depth + 1, AU_MAX_PRED + 1);
                    free(next);
                    free(lits);
                    return false;
                }
                preds[npred++] = pid;
            }
        }
    }
    qsort(lits, (size_t) nlit, sizeof *lits, cmp_lit_);
    qsort(preds, (size_t) npred, sizeof *preds, cmp_int_);

    /* One class: the items that take it, then the rests carried along. */
#define AU_STEP(LIT, LEN, MK, NE, OUT)                                                                  \
    do {                                                                                                \
        int m_ = 0;                                                                                     \
        for (int k = 0; k < n; k++) {                                                                   \
            int it = items[k];                                                                          \
            if (it & AU_RESTED) {                                                                       \
                next[m_++] = it;                                                                        \
                continue;                                                                               \
            }                                                                                           \
            const au_group_t* g = &in->g[it];                                                           \
            if (g->nseg <= depth) continue;                                                             \
            const au_seg_t* sg = &g->seg[depth];                                                        \
            if (!takes_(c, sg, c->gpred[it][depth], preds, npred, (LIT), (LEN), (MK), (NE))) continue; \
            next[m_++] = sg->kind == AU_REST ? it | AU_RESTED : it;                                     \
        }                                                                                               \
        (OUT) = state_of_(c, depth + 1, next, m_);                                                      \
    } while (0)

    for (int q = 0; q < nlit; q++) AU_STEP(lits[q].s, lits[q].len, 0u, false, lits[q].to);
    /* A predicate whose every segment is one of the literals here never
       sees a non-literal segment: masks with it set are empty classes
       (keeping them would let an unreachable route look reachable). */
    unsigned never = 0;
    if (nlit)
        for (int i = 0; i < npred; i++) {
            dsl_arena_t tmp = { 0 };
            rx_t* any = nullptr;
            for (int q = 0; q < nlit; q++) {
                rx_t* l = rx__lit(&tmp, lits[q].s, lits[q].len);
                any = any ? rx__alt(&tmp, any, l) : l;
            }
            if (rx__subset(c->prx[preds[i]], any)) never |= 1u << i;
            dsl_arena__free(&tmp);
        }
    int nto = 2 << npred;
    int* to = xcalloc_((size_t) nto, sizeof *to);
    for (int x = 0; x < nto; x++) {
        unsigned mk = (unsigned) x >> 1;
        bool ne = x & 1;
        to[x] = -1;
        /* Every predicate's segments are non-empty; prune masks no segment
           can have (one predicate inside another, two disjoint ones). */
        bool ok = (ne || !mk) && !(mk & never);
        for (int i = 0; i < npred && ok; i++)
            for (int j = 0; j < npred && ok; j++) {
                if (i == j) continue;
                int r = rel_(c, preds[i], preds[j]);
                if ((mk >> i & 1) && (mk >> j & 1) && (r & 4)) ok = false;
                if ((mk >> i & 1) && !(mk >> j & 1) && (r & 2)) ok = false;
            }
        if (ok) AU_STEP(nullptr, 0, mk, ne, to[x]);
    }
#undef AU_STEP
    free(next);
    au_state_t* st = &au->st[s]; /* state_of_ may have moved the array */
    st->lit = lits;
    st->nlit = nlit;
    st->pred = xcalloc_((size_t) npred, sizeof *st->pred);
    memcpy(st->pred, preds, (size_t) npred * sizeof *preds);
    st->npred = npred;
    st->to = to;
    if (au->nstates > AU_MAX_STATES) {
        au->err_group = -1;
        snprintf(err, errcap, "the route automaton has more than %d states", AU_MAX_STATES);
        return false;
    }
    return true;
}

bool au__build(au_t* au, const au_input_t* in, char* err, size_t errcap) {
    *au = (au_t){ .nmethods = in->nmethods, .err_group = -1 };
    ctx_t c = { .in = in, .au = au };
    au->reached = xcalloc_((size_t) in->nroutes + 1, sizeof *au->reached);
    c.gpred = xcalloc_((size_t) in->ng + 1, sizeof *c.gpred);
    for (int g = 0; g < in->ng; g++) {
        c.gpred[g] = xcalloc_((size_t) in->g[g].nseg, sizeof(int));
        for (int k = 0; k < in->g[g].nseg; k++) {
            const au_seg_t* sg = &in->g[g].seg[k];
            c.gpred[g][k] = sg->kind == AU_PRED || (sg->kind == AU_REST && sg->len) ? pred_of_(&c, sg) : -1;
        }
    }
    c.rel = xcalloc_((size_t) au->npred * (size_t) au->npred + 1, 1);
    /* Row 0: nothing matched. */
    bool added;
    vset_find_(&c.rows, 0, nullptr, 0, &added);
    au->fin = xcalloc_((size_t) in->nmethods + 1, sizeof *au->fin);
    au->allow = xcalloc_(1, sizeof *au->allow);
    int* all = xcalloc_((size_t) in->ng, sizeof *all);
    for (int g = 0; g < in->ng; g++) all[g] = g;
    if (in->ng) {
        state_of_(&c, 0, all, in->ng);
    } else { /* no routes: a start state that matches nothing */
        bool fresh;
        vset_find_(&c.states, 0, nullptr, 0, &fresh);
        au->st = xcalloc_(1, sizeof *au->st);
        au->nstates = 1;
        au->st[0].items = c.states.items[0];
    }
    free(all);
    bool ok = true;
    for (int s = 0; s < c.states.n && ok; s++)
        if (!au->st[s].sink) ok = expand_(&c, s, err, errcap);
    /* The items now belong to the states. */
    for (int s = 0; s < c.states.n; s++) c.states.items[s] = nullptr;
    au->nstates = c.states.n;
    au->nrows = c.rows.n;
    vset_free_(&c.states);
    vset_free_(&c.rows);
    for (int g = 0; g < in->ng; g++) free(c.gpred[g]);
    free(c.gpred);
    free(c.prx);
    free(c.rel);
    free(c.lit_memo_pred);
    free(c.lit_memo_s);
    free(c.lit_memo_len);
    free(c.lit_memo_ans);
    dsl_arena__free(&c.arena);
    if (!ok) {
        int eg = au->err_group;
        au__free(au);
        au->err_group = eg;
    }
    return ok;
}

void au__free(au_t* au) {
    for (int s = 0; s < au->nstates; s++) {
        free(au->st[s].lit);
        free(au->st[s].pred);
        free(au->st[s].to);
        free(au->st[s].items);
    }
    free(au->st);
    free(au->pred);
    free(au->fin);
    free(au->allow);
    free(au->reached);
    *au = (au_t){ 0 };
}
