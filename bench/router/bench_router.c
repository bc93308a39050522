/* bench_router: ns per match of the htgen/re2c matcher on the public route
 * sets (bench-data/routes: github, gplus, parse, static), side by side with
 * libr3 (Debian libr3-dev; its per-match match_entry allocation included,
 * as its API requires), a hand-written segment trie (the baseline of issue
 * 5's "<= 0.5x the trie's time" goal, written here, not part of the
 * product) and a linear scan over pre-split routes.
 *
 *   bench_router                      the table (ns/match, median of 7 rounds;
 *                                     HT_BENCH_CPUTIME=1: thread CPU time)
 *   bench_router SET MATCHER ITERS    ITERS passes over SET's requests with one
 *                                     matcher (htgen | trie | r3 | linear), for
 *                                     callgrind: instructions/match =
 *                                     (Ir(ITERS) - Ir(0)) / (ITERS * requests)
 */
#include "github_routes.h"
#include "gplus_routes.h"
#include "parse_routes.h"
#include "static_routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef HT_HAVE_R3
#  include <r3.h>
#endif

#define MAXN 512

typedef struct req {
    ht_method_t method;
    char mname[16];
    ht_slice_t path;
} req_t;

typedef struct lroute { /* linear scan: a route split into segments */
    ht_method_t method;
    int nseg;
    ht_slice_t seg[16];
    bool param[16];
} lroute_t;

/* Segment trie: per node, literal children (length + bytes), one parameter
   child, the route per method at the node. Matching walks the segments,
   literal child first, parameter child on failure (backtracking), so a
   literal beats a parameter as in the route sets' routers. */
typedef struct tedge {
    ht_slice_t seg;
    int child;
} tedge_t;

typedef struct tnode {
    tedge_t* lit;
    int nlit;
    int param; /* child index, -1 none */
    int route[4]; /* GET POST PUT DELETE: route number, 0 none */
} tnode_t;

typedef struct trie {
    tnode_t* n;
    int nn, cap;
} trie_t;

typedef struct set {
    const char* name;
    trie_t trie;
    req_t reqs[MAXN];
    int n;
    lroute_t routes[MAXN];
    int nroutes;
    char* text[2];
#ifdef HT_HAVE_R3
    node* r3;
#endif
} set_t;

static ht_method_t method_(const char* m) {
    return !strcmp(m, "GET") ? HT_METHOD_GET : !strcmp(m, "POST") ? HT_METHOD_POST
         : !strcmp(m, "PUT") ? HT_METHOD_PUT : !strcmp(m, "DELETE") ? HT_METHOD_DELETE
         : HT_METHOD_OTHER;
}

static int tnew_(trie_t* t) {
    if (t->nn == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->n = realloc(t->n, (size_t) t->cap * sizeof *t->n);
        if (!t->n) exit(1);
    }
    t->n[t->nn] = (tnode_t){ .param = -1 };
    return t->nn++;
}

static int tmethod_(ht_method_t m) {
    return m == HT_METHOD_GET ? 0 : m == HT_METHOD_POST ? 1 : m == HT_METHOD_PUT ? 2 : m == HT_METHOD_DELETE ? 3 : -1;
}

static void trie_insert_(trie_t* t, const lroute_t* r, int id) {
    if (!t->nn) tnew_(t);
    int cur = 0;
    for (int sg = 0; sg < r->nseg; sg++) {
        int next = -1;
        if (r->param[sg]) {
            if (t->n[cur].param < 0) {
                int c = tnew_(t);
                t->n[cur].param = c;
            }
            next = t->n[cur].param;
        } else {
            for (int k = 0; k < t->n[cur].nlit && next < 0; k++)
                if (ht_slice__eq(t->n[cur].lit[k].seg, r->seg[sg])) next = t->n[cur].lit[k].child;
            if (next < 0) {
                next = tnew_(t);
                tnode_t* n = &t->n[cur];
                n->lit = realloc(n->lit, (size_t) (n->nlit + 1) * sizeof *n->lit);
                if (!n->lit) exit(1);
                n->lit[n->nlit++] = (tedge_t){ r->seg[sg], next };
            }
        }
        cur = next;
    }
    t->n[cur].route[tmethod_(r->method)] = id;
}

/* Matches path[at..] from node cur; params[k..] are this branch's captures. */
static int trie_walk_(const trie_t* t, int cur, int mi, const char* p, size_t at, size_t len, ht_slice_t* params,
                      int k) {
    if (at == len) return t->n[cur].route[mi];
    if (p[at] != '/') return 0;
    size_t b = at + 1, e = b;
    while (e < len && p[e] != '/') e++;
    const tnode_t* n = &t->n[cur];
    size_t sl = e - b;
    for (int i = 0; i < n->nlit; i++) {
        const tedge_t* ed = &n->lit[i];
        if (ed->seg.len == sl && (sl == 0 || (ed->seg.ptr[0] == p[b] && memcmp(ed->seg.ptr, p + b, sl) == 0))) {
            int r = trie_walk_(t, ed->child, mi, p, e, len, params, k);
            if (r) return r;
            break; /* literal segments are unique among siblings */
        }
    }
    if (n->param >= 0 && sl > 0) {
        params[k] = ht_slice__from(p + b, sl);
        return trie_walk_(t, n->param, mi, p, e, len, params, k + 1);
    }
    return 0;
}


static char* slurp_(const char* set, const char* suffix) {
    char path[1024];
    const char* dir = getenv("HT_BENCH_DATA"); /* another machine: the data elsewhere */
    snprintf(path, sizeof path, "%s/routes/%s.%s", dir && *dir ? dir : HT_BENCH_DATA_DIR, set, suffix);
    FILE* f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    char* buf = calloc(1, 1 << 17);
    size_t n = fread(buf, 1, (1 << 17) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void load_(set_t* s, const char* name) {
    s->name = name;
    s->text[0] = slurp_(name, "requests");
    s->text[1] = slurp_(name, "routes");
    char* save;
    for (char* l = strtok_r(s->text[0], "\n", &save); l && s->n < MAXN; l = strtok_r(nullptr, "\n", &save)) {
        char* sp = strchr(l, ' ');
        *sp = '\0';
        req_t* r = &s->reqs[s->n++];
        r->method = method_(l);
        snprintf(r->mname, sizeof r->mname, "%s", l);
        r->path = ht_slice__from_cstr(sp + 1);
    }
#ifdef HT_HAVE_R3
    s->r3 = r3_tree_create(10);
#endif
    for (char* l = strtok_r(s->text[1], "\n", &save); l && s->nroutes < MAXN; l = strtok_r(nullptr, "\n", &save)) {
        char* sp = strchr(l, ' ');
        *sp = '\0';
        lroute_t* r = &s->routes[s->nroutes++];
        r->method = method_(l);
        const char* p = sp + 1;
#ifdef HT_HAVE_R3
        int m = r->method == HT_METHOD_GET ? METHOD_GET : r->method == HT_METHOD_POST ? METHOD_POST
              : r->method == HT_METHOD_PUT ? METHOD_PUT : METHOD_DELETE;
        r3_tree_insert_routel(s->r3, m, p, (int) strlen(p), (void*) (intptr_t) s->nroutes);
#endif
        while (*p == '/') {
            const char* q = p + 1;
            while (*q && *q != '/') q++;
            r->seg[r->nseg] = ht_slice__from(p + 1, (size_t) (q - p - 1));
            r->param[r->nseg] = p[1] == '{';
            r->nseg++;
            p = q;
        }
    }
    for (int i = 0; i < s->nroutes; i++) trie_insert_(&s->trie, &s->routes[i], i + 1);
#ifdef HT_HAVE_R3
    char* err = nullptr;
    if (r3_tree_compile(s->r3, &err) != 0) {
        fprintf(stderr, "r3: %s\n", err ? err : "compile failed");
        exit(1);
    }
#endif
}

/* Linear scan: first route whose method and segments match; params captured. */
static int linear_(const set_t* s, ht_method_t m, ht_slice_t path, ht_slice_t* params) {
    for (int i = 0; i < s->nroutes; i++) {
        const lroute_t* r = &s->routes[i];
        if (r->method != m) continue;
        size_t at = 0;
        int k = 0, sg = 0;
        for (; sg < r->nseg; sg++) {
            if (at >= path.len || path.ptr[at] != '/') break;
            size_t e = at + 1;
            while (e < path.len && path.ptr[e] != '/') e++;
            ht_slice_t v = ht_slice__from(path.ptr + at + 1, e - at - 1);
            if (r->param[sg]) {
                if (!v.len) break;
                params[k++] = v;
            } else if (!ht_slice__eq(v, r->seg[sg])) {
                break;
            }
            at = e;
        }
        if (sg == r->nseg && at == path.len) return i + 1;
    }
    return 0;
}


static unsigned long trie_all_(const set_t* s) {
    unsigned long sum = 0;
    ht_slice_t params[16];
    for (int i = 0; i < s->n; i++) {
        int mi = tmethod_(s->reqs[i].method);
        sum += (unsigned long) (mi < 0 ? 0 : trie_walk_(&s->trie, 0, mi, s->reqs[i].path.ptr, 0, s->reqs[i].path.len,
                                                          params, 0));
    }
    return sum;
}

static char scratch_[1024];

#define HTGEN_MATCH(P)                                                                    \
    static unsigned long htgen_##P##_(const set_t* s) {                                   \
        unsigned long sum = 0;                                                            \
        P##_match_t m = { .scratch = scratch_, .scratch_cap = sizeof scratch_ };          \
        for (int i = 0; i < s->n; i++) {                                                  \
            sum += (unsigned long) P##__match(s->reqs[i].method, s->reqs[i].path, &m);    \
            sum += (unsigned long) m.route;                                               \
        }                                                                                 \
        return sum;                                                                       \
    }
HTGEN_MATCH(github)
HTGEN_MATCH(gplus)
HTGEN_MATCH(parse)
HTGEN_MATCH(static)

#define HTGEN_ONE(P)                                                                  \
    static int htgen_one_##P##_(const set_t* s, int q) {                              \
        P##_match_t m = { .scratch = scratch_, .scratch_cap = sizeof scratch_ };      \
        return P##__match(s->reqs[q].method, s->reqs[q].path, &m) == 0 ? (int) m.route : -1; \
    }
HTGEN_ONE(github)
HTGEN_ONE(gplus)
HTGEN_ONE(parse)
HTGEN_ONE(static)

static int htgen_route_(const set_t* s, int q) {
    switch (s->name[0]) {
    case 'g': return s->name[1] == 'i' ? htgen_one_github_(s, q) : htgen_one_gplus_(s, q);
    case 'p': return htgen_one_parse_(s, q);
    default: return htgen_one_static_(s, q);
    }
}

static unsigned long htgen_(const set_t* s) {
    switch (s->name[0]) {
    case 'g': return s->name[1] == 'i' ? htgen_github_(s) : htgen_gplus_(s);
    case 'p': return htgen_parse_(s);
    default: return htgen_static_(s);
    }
}

static unsigned long linear_all_(const set_t* s) {
    unsigned long sum = 0;
    ht_slice_t params[16];
    for (int i = 0; i < s->n; i++) sum += (unsigned long) linear_(s, s->reqs[i].method, s->reqs[i].path, params);
    return sum;
}

#ifdef HT_HAVE_R3
static unsigned long r3_all_(const set_t* s) {
    unsigned long sum = 0;
    for (int i = 0; i < s->n; i++) {
        const req_t* q = &s->reqs[i];
        match_entry* e = match_entry_createl(q->path.ptr, (int) q->path.len);
        e->request_method = q->method == HT_METHOD_GET ? METHOD_GET : q->method == HT_METHOD_POST ? METHOD_POST
                          : q->method == HT_METHOD_PUT ? METHOD_PUT : METHOD_DELETE;
        route* r = r3_tree_match_route(s->r3, e);
        sum += r ? (unsigned long) (intptr_t) r->data : 0;
        match_entry_free(e);
    }
    return sum;
}
#endif

typedef unsigned long (*runner_t)(const set_t*);

/* The clock: wall (CLOCK_MONOTONIC), or with HT_BENCH_CPUTIME=1 in the
   environment this thread's CPU time, which leaves out the time it waited
   for the CPU on a loaded machine (not what other threads do to its caches
   or to a shared core). */
static clockid_t clock_;

/* One timed run: ~200,000 matches. */
static double ns_once_(const set_t* s, runner_t fn) {
    long iters = 200000 / s->n + 1;
    volatile unsigned long sink = 0;
    struct timespec t0, t1;
    clock_gettime(clock_, &t0);
    for (long it = 0; it < iters; it++) sink += fn(s);
    clock_gettime(clock_, &t1);
    (void) sink;
    return ((double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec)) / ((double) iters * s->n);
}

static double median_(double* v, int n) {
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (v[j] < v[i]) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
            }
    return v[n / 2];
}

static runner_t runner_(const char* name) {
    if (!strcmp(name, "htgen")) return htgen_;
    if (!strcmp(name, "linear")) return linear_all_;
    if (!strcmp(name, "trie")) return trie_all_;
#ifdef HT_HAVE_R3
    if (!strcmp(name, "r3")) return r3_all_;
#endif
    return nullptr;
}

int main(int argc, char** argv) {
    static set_t sets[4];
    const char* names[4] = { "github", "gplus", "parse", "static" };
    for (int i = 0; i < 4; i++) load_(&sets[i], names[i]);
    /* Correctness first: every request must reach its own route, with each
       matcher that reports one (r3 is checked by its sum in the table). */
    for (int i = 0; i < 4; i++) {
        ht_slice_t params[16];
        for (int q = 0; q < sets[i].n; q++) {
            const req_t* r = &sets[i].reqs[q];
            if (linear_(&sets[i], r->method, r->path, params) != q + 1 ||
                trie_walk_(&sets[i].trie, 0, tmethod_(r->method), r->path.ptr, 0, r->path.len, params, 0) != q + 1 ||
                htgen_route_(&sets[i], q) != q + 1) {
                fprintf(stderr, "%s request %d misrouted (linear, trie or htgen)\n", names[i], q + 1);
                return 1;
            }
        }
    }
    if (argc == 4) {
        runner_t fn = runner_(argv[2]);
        int si = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(argv[1], names[i])) si = i;
        if (!fn || si < 0) {
            fprintf(stderr, "usage: bench_router [SET htgen|trie|r3|linear ITERS]\n");
            return 2;
        }
        unsigned long sum = 0;
        for (long it = 0, n = atol(argv[3]); it < n; it++) sum += fn(&sets[si]);
        printf("%lu\n", sum);
        return 0;
    }
    const char* cpu = getenv("HT_BENCH_CPUTIME");
    clock_ = cpu && *cpu == '1' ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
    /* Interleaved: each round times every matcher once per set, so machine
       load drifts over all of them alike; medians over the rounds. */
    enum { ROUNDS = 7, NM = 4 };
    runner_t fns[NM] = { htgen_, trie_all_, linear_all_, nullptr };
#ifdef HT_HAVE_R3
    fns[3] = r3_all_;
#endif
    static double t[4][NM][ROUNDS];
    for (int rd = 0; rd < ROUNDS; rd++)
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < NM; k++) t[i][k][rd] = fns[k] ? ns_once_(&sets[i], fns[k]) : 0;
    printf("ns per match, median of %d interleaved rounds (%s time)\n", ROUNDS,
           clock_ == CLOCK_MONOTONIC ? "wall" : "thread CPU");
    printf("%-8s %8s %9s %9s %9s %9s %11s %9s\n", "set", "requests", "htgen", "trie", "r3", "linear", "htgen/trie",
           "htgen/r3");
    for (int i = 0; i < 4; i++) {
        double h = median_(t[i][0], ROUNDS), tr = median_(t[i][1], ROUNDS), l = median_(t[i][2], ROUNDS);
        double r = median_(t[i][3], ROUNDS);
        printf("%-8s %8d %9.1f %9.1f %9.1f %9.1f %11.2f %9.2f\n", names[i], sets[i].n, h, tr, r, l, h / tr,
               r > 0 ? h / r : 0.0);
    }
    return 0;
}
