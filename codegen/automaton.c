/* codegen/automaton.c — subset construction of the segment automaton
 * (see automaton.h for what a state is and why). */
#include "automaton.h"

#include "lang.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    AU_MAX_PRED = 10,       /* predicates told apart at one depth of one state: 2^10 masks */
    AU_MAX_STATES = 1 << 20,
};

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
        int* slot = dsl_xcalloc(cap, sizeof *slot);
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
        v->items = dsl_xrealloc(v->items, (size_t) v->capv * sizeof *v->items);
        v->nitems = dsl_xrealloc(v->nitems, (size_t) v->capv * sizeof *v->nitems);
        v->key = dsl_xrealloc(v->key, (size_t) v->capv * sizeof *v->key);
    }
    int k = v->n++;
    v->items[k] = dsl_xcalloc((size_t) n, sizeof(int));
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

/* ---- a map from 64-bit keys to small ints (the predicate relations) ---- */
typedef struct u64map {
    uint64_t* key; /* key + 1; 0 empty */
    int* val;
    size_t cap, n;
} u64map_t;

static int* u64map_at_(u64map_t* m, uint64_t key) {
    if ((m->n + 1) * 2 > m->cap) {
        u64map_t b = { .cap = m->cap ? m->cap * 2 : 256 };
        b.key = dsl_xcalloc(b.cap, sizeof *b.key);
        b.val = dsl_xcalloc(b.cap, sizeof *b.val);
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->key[i]) continue;
            size_t h = (size_t) (m->key[i] * 0x9E3779B97F4A7C15u >> 20) & (b.cap - 1);
            while (b.key[h]) h = (h + 1) & (b.cap - 1);
            b.key[h] = m->key[i];
            b.val[h] = m->val[i];
        }
        b.n = m->n;
        free(m->key);
        free(m->val);
        *m = b;
    }
    size_t h = (size_t) ((key + 1) * 0x9E3779B97F4A7C15u >> 20) & (m->cap - 1);
    while (m->key[h] && m->key[h] != key + 1) h = (h + 1) & (m->cap - 1);
    if (!m->key[h]) {
        m->key[h] = key + 1;
        m->val[h] = 0;
        m->n++;
    }
    return &m->val[h];
}

static void u64map_free_(u64map_t* m) {
    free(m->key);
    free(m->val);
}

/* ---- build context ---- */
typedef struct ctx {
    const au_input_t* in;
    au_t* au;
    dsl_arena_t arena;
    int** gpred;        /* [group][seg]: predicate id of an AU_PRED / prefixed AU_REST segment, else -1 */
    const rx_t** prx;   /* [pred]: its language (a prefix: prefix then any bytes but '/' and NUL) */
    u64map_t rel;       /* (pred i, pred j) -> bit 0 known, bit 1 subset (i within j), bit 2 disjoint */
    dsl_map_t preds;    /* predicate key ("r" + rx text, or "p" + prefix bytes) -> id */
    int cappred;
    int capst, caprows; /* room in au->st, au->fin and au->allow */
    vset_t states, rows;
    dsl_map_t lit_memo; /* (pred, literal bytes) -> is the literal in the predicate's language */
} ctx_t;

static int pred_of_(ctx_t* c, const au_seg_t* sg) {
    au_t* au = c->au;
    bool prefix = sg->kind == AU_REST;
    /* the key, kept in the arena (the map borrows it) */
    size_t klen = 1 + (prefix ? sg->len : strlen(sg->key));
    char* key = dsl_arena__alloc(&c->arena, klen);
    key[0] = prefix ? 'p' : 'r';
    if (klen > 1) memcpy(key + 1, prefix ? sg->lit : sg->key, klen - 1);
    bool added;
    int* at = dsl_map__at(&c->preds, key, klen, &added);
    if (!added) return *at;
    if (au->npred == c->cappred) {
        c->cappred = c->cappred ? c->cappred * 2 : 8;
        au->pred = dsl_xrealloc(au->pred, (size_t) c->cappred * sizeof *au->pred);
        c->prx = dsl_xrealloc(c->prx, (size_t) c->cappred * sizeof *c->prx);
    }
    int p = au->npred++;
    *at = p;
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
    int* r = u64map_at_(&c->rel, (uint64_t) (uint32_t) i << 32 | (uint32_t) j);
    if (!*r) {
        int v = 1;
        if (rx__subset(c->prx[i], c->prx[j])) v |= 2;
        if (!rx__intersects(c->prx[i], c->prx[j], nullptr, 0)) v |= 4;
        *r = v;
    }
    return *r;
}

/* Is the literal segment s[0 .. n) in predicate p's language? Memoized on
   (p, bytes): a literal meets the same predicates in every state. */
static bool lit_in_pred_(ctx_t* c, int p, const char* s, size_t n) {
    const au_pred_t* q = &c->au->pred[p];
    if (q->prefix) return n >= q->len && memcmp(s, q->lit, q->len) == 0;
    char stack[256];
    char* key = n + sizeof p <= sizeof stack ? stack : dsl_xmalloc(n + sizeof p);
    memcpy(key, &p, sizeof p);
    if (n) memcpy(key + sizeof p, s, n);
    int v = dsl_map__get(&c->lit_memo, key, n + sizeof p);
    if (v < 0) {
        dsl_arena_t tmp = { 0 };
        v = rx__intersects(q->rx, rx__lit(&tmp, s, n), nullptr, 0);
        dsl_arena__free(&tmp);
        char* kept = dsl_arena__alloc(&c->arena, n + sizeof p);
        memcpy(kept, key, n + sizeof p);
        bool added;
        *dsl_map__at(&c->lit_memo, kept, n + sizeof p, &added) = v;
    }
    if (key != stack) free(key);
    return v;
}

static int cmp_int_(const void* a, const void* b) {
    int x = *(const int*) a, y = *(const int*) b;
    return (x > y) - (x < y);
}

/* The row of the groups (in precedence order) that matched a whole path. */
static int row_of_(ctx_t* c, const int* gs, int n) {
    bool added;
    int r = vset_find_(&c->rows, 0, gs, n, &added);
    if (!added) return r;
    const au_input_t* in = c->in;
    au_t* au = c->au;
    int cols = in->nmethods + 1;
    if (c->rows.n > c->caprows) { /* doubling: a realloc per row is quadratic where realloc copies */
        c->caprows = c->rows.n * 2;
        au->fin = dsl_xrealloc(au->fin, (size_t) c->caprows * (size_t) cols * sizeof *au->fin);
        au->allow = dsl_xrealloc(au->allow, (size_t) c->caprows * sizeof *au->allow);
    }
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
    if (c->states.n > c->capst) {
        c->capst = c->states.n * 2;
        au->st = dsl_xrealloc(au->st, (size_t) c->capst * sizeof *au->st);
    }
    au->nstates = c->states.n;
    au->st[s] = (au_state_t){ .depth = sink ? -1 : depth, .sink = sink, .items = c->states.items[s], .nitems = n };
    if (!sink && depth > au->maxdepth) au->maxdepth = depth;
    /* Its row: the groups that end here, and the rests reached. */
    int* gs = dsl_xcalloc((size_t) n, sizeof *gs);
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

typedef struct litem {
    const char* s;
    size_t len;
    int item;
} litem_t;

static int cmp_litem_(const void* a, const void* b) {
    const litem_t* x = a;
    const litem_t* y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    int c = x->len ? memcmp(x->s, y->s, x->len) : 0;
    return c ? c : (x->item > y->item) - (x->item < y->item);
}

/* The transitions of state s. Its items fall in three parts: groups whose
   next segment is a literal (sorted by those bytes, so the groups of one
   literal are adjacent), groups with a parameter there ("others"), and
   rests already reached (carried along). A literal's class is its groups
   plus the others that take it; a non-literal class (predicate mask, not
   empty) only others. So the work is n log n + literals x others, not
   literals x items. */
static bool expand_(ctx_t* c, int s, char* err, size_t errcap) {
    const au_input_t* in = c->in;
    au_t* au = c->au;
    int depth = au->st[s].depth;
    int n = au->st[s].nitems;
    const int* items = au->st[s].items;
    int* next = dsl_xcalloc((size_t) n, sizeof *next);
    litem_t* li = dsl_xcalloc((size_t) n, sizeof *li);
    int* others = dsl_xcalloc((size_t) n, sizeof *others);
    int* rested = dsl_xcalloc((size_t) n, sizeof *rested);
    int nli = 0, nothers = 0, nrested = 0;
    int preds[AU_MAX_PRED + 1];
    int npred = 0;
    bool ok = true;
    for (int k = 0; k < n; k++) {
        if (items[k] & AU_RESTED) {
            rested[nrested++] = items[k];
            continue;
        }
        const au_group_t* g = &in->g[items[k]];
        if (g->nseg <= depth) continue;
        const au_seg_t* sg = &g->seg[depth];
        if (sg->kind == AU_LIT) {
            li[nli++] = (litem_t){ .s = sg->lit, .len = sg->len, .item = items[k] };
            continue;
        }
        others[nothers++] = items[k];
        int pid = c->gpred[items[k]][depth];
        if (pid < 0) continue;
        bool dup = false;
        for (int q = 0; q < npred && !dup; q++) dup = preds[q] == pid;
        if (dup) continue;
        if (npred == AU_MAX_PRED) {
            au->err_group = items[k];
            snprintf(err, errcap,
                     "more than %d different typed, regex or affixed parameters in segment %d "
                     "after the same path prefix: the matcher would tell 2^%d cases apart there "
                     "(a literal segment before them splits them)",
                     AU_MAX_PRED, depth + 1, AU_MAX_PRED + 1);
            ok = false;
            break;
        }
        preds[npred++] = pid;
    }
    if (!ok) {
        free(next), free(li), free(others), free(rested);
        return false;
    }
    qsort(li, (size_t) nli, sizeof *li, cmp_litem_);
    qsort(preds, (size_t) npred, sizeof *preds, cmp_int_);

    /* The distinct literals, each with its class's state. */
    au_lit_t* lits = dsl_xcalloc((size_t) nli, sizeof *lits);
    int nlit = 0;
    for (int a = 0; a < nli;) {
        int b = a;
        int m = 0;
        while (b < nli && li[b].len == li[a].len && (!li[a].len || memcmp(li[b].s, li[a].s, li[a].len) == 0))
            next[m++] = li[b++].item;
        for (int k = 0; k < nothers; k++) {
            const au_seg_t* sg = &in->g[others[k]].seg[depth];
            if (takes_(c, sg, c->gpred[others[k]][depth], preds, npred, li[a].s, li[a].len, 0u, false))
                next[m++] = sg->kind == AU_REST ? others[k] | AU_RESTED : others[k];
        }
        for (int k = 0; k < nrested; k++) next[m++] = rested[k];
        lits[nlit++] = (au_lit_t){ .s = li[a].s, .len = li[a].len, .to = state_of_(c, depth + 1, next, m) };
        a = b;
    }
    /* A predicate whose every segment is one of the literals here never
       sees a non-literal segment: masks with it set are empty classes
       (keeping them would let an unreachable route look reachable). Only
       the literals in its language can cover it. */
    unsigned never = 0;
    for (int i = 0; i < npred; i++) {
        dsl_arena_t tmp = { 0 };
        rx_t* any = nullptr;
        for (int q = 0; q < nlit; q++) {
            if (!lit_in_pred_(c, preds[i], lits[q].s, lits[q].len)) continue;
            rx_t* l = rx__lit(&tmp, lits[q].s, lits[q].len);
            any = any ? rx__alt(&tmp, any, l) : l;
        }
        if (any && rx__subset(c->prx[preds[i]], any)) never |= 1u << i;
        dsl_arena__free(&tmp);
    }
    int nto = 2 << npred;
    int* to = dsl_xcalloc((size_t) nto, sizeof *to);
    for (int x = 0; x < nto; x++) {
        unsigned mk = (unsigned) x >> 1;
        bool ne = x & 1;
        to[x] = -1;
        /* Every predicate's segments are non-empty; prune masks no segment
           can have (one predicate inside another, two disjoint ones). */
        bool live = (ne || !mk) && !(mk & never);
        for (int i = 0; i < npred && live; i++)
            for (int j = 0; j < npred && live; j++) {
                if (i == j) continue;
                int r = rel_(c, preds[i], preds[j]);
                if ((mk >> i & 1) && (mk >> j & 1) && (r & 4)) live = false;
                if ((mk >> i & 1) && !(mk >> j & 1) && (r & 2)) live = false;
            }
        if (!live) continue;
        int m = 0;
        for (int k = 0; k < nothers; k++) {
            const au_seg_t* sg = &in->g[others[k]].seg[depth];
            if (takes_(c, sg, c->gpred[others[k]][depth], preds, npred, nullptr, 0, mk, ne))
                next[m++] = sg->kind == AU_REST ? others[k] | AU_RESTED : others[k];
        }
        for (int k = 0; k < nrested; k++) next[m++] = rested[k];
        to[x] = state_of_(c, depth + 1, next, m);
    }
    free(next), free(li), free(others), free(rested);
    au_state_t* st = &au->st[s]; /* state_of_ may have moved the array */
    st->lit = lits;
    st->nlit = nlit;
    st->pred = dsl_xcalloc((size_t) npred, sizeof *st->pred);
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
    au->reached = dsl_xcalloc((size_t) in->nroutes + 1, sizeof *au->reached);
    c.gpred = dsl_xcalloc((size_t) in->ng + 1, sizeof *c.gpred);
    for (int g = 0; g < in->ng; g++) {
        c.gpred[g] = dsl_xcalloc((size_t) in->g[g].nseg, sizeof(int));
        for (int k = 0; k < in->g[g].nseg; k++) {
            const au_seg_t* sg = &in->g[g].seg[k];
            c.gpred[g][k] = sg->kind == AU_PRED || (sg->kind == AU_REST && sg->len) ? pred_of_(&c, sg) : -1;
        }
    }
    /* Row 0: nothing matched. */
    bool added;
    vset_find_(&c.rows, 0, nullptr, 0, &added);
    au->fin = dsl_xcalloc((size_t) in->nmethods + 1, sizeof *au->fin);
    au->allow = dsl_xcalloc(1, sizeof *au->allow);
    int* all = dsl_xcalloc((size_t) in->ng, sizeof *all);
    for (int g = 0; g < in->ng; g++) all[g] = g;
    if (in->ng) {
        state_of_(&c, 0, all, in->ng);
    } else { /* no routes: a start state that matches nothing */
        bool fresh;
        vset_find_(&c.states, 0, nullptr, 0, &fresh);
        au->st = dsl_xcalloc(1, sizeof *au->st);
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
    u64map_free_(&c.rel);
    dsl_map__free(&c.preds);
    dsl_map__free(&c.lit_memo);
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
