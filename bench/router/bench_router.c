/* bench_router: ns per match of the htgen/re2c matcher on the public route
 * sets (bench-data/routes: github, gplus, parse, static), side by side with
 * libr3 (Debian libr3-dev; its per-match match_entry allocation included,
 * as its API requires) and a linear scan over pre-split routes.
 *
 *   bench_router                      the table (ns/match, median of 5 runs)
 *   bench_router SET MATCHER ITERS    ITERS passes over SET's requests with one
 *                                     matcher (htgen | r3 | linear), for
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

typedef struct set {
    const char* name;
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

static char* slurp_(const char* set, const char* suffix) {
    char path[1024];
    snprintf(path, sizeof path, "%s/routes/%s.%s", HT_BENCH_DATA_DIR, set, suffix);
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

static double ns_per_match_(const set_t* s, runner_t fn) {
    double best[5];
    long iters = 200000 / s->n + 1;
    volatile unsigned long sink = 0;
    for (int rep = 0; rep < 5; rep++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long it = 0; it < iters; it++) sink += fn(s);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        best[rep] = ((double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec)) /
                    ((double) iters * s->n);
    }
    (void) sink;
    for (int i = 0; i < 5; i++) /* median */
        for (int j = i + 1; j < 5; j++)
            if (best[j] < best[i]) {
                double t = best[i];
                best[i] = best[j];
                best[j] = t;
            }
    return best[2];
}

static runner_t runner_(const char* name) {
    if (!strcmp(name, "htgen")) return htgen_;
    if (!strcmp(name, "linear")) return linear_all_;
#ifdef HT_HAVE_R3
    if (!strcmp(name, "r3")) return r3_all_;
#endif
    return nullptr;
}

int main(int argc, char** argv) {
    static set_t sets[4];
    const char* names[4] = { "github", "gplus", "parse", "static" };
    for (int i = 0; i < 4; i++) load_(&sets[i], names[i]);
    /* Correctness first: every request must reach its own route. */
    for (int i = 0; i < 4; i++) {
        ht_slice_t params[16];
        for (int q = 0; q < sets[i].n; q++)
            if (linear_(&sets[i], sets[i].reqs[q].method, sets[i].reqs[q].path, params) != q + 1) {
                fprintf(stderr, "linear scan: %s request %d misrouted\n", names[i], q + 1);
                return 1;
            }
    }
    if (argc == 4) {
        runner_t fn = runner_(argv[2]);
        int si = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(argv[1], names[i])) si = i;
        if (!fn || si < 0) {
            fprintf(stderr, "usage: bench_router [SET htgen|r3|linear ITERS]\n");
            return 2;
        }
        unsigned long sum = 0;
        for (long it = 0, n = atol(argv[3]); it < n; it++) sum += fn(&sets[si]);
        printf("%lu\n", sum);
        return 0;
    }
    printf("%-8s %8s %10s %10s %10s\n", "set", "requests", "htgen ns", "r3 ns", "linear ns");
    for (int i = 0; i < 4; i++) {
        double h = ns_per_match_(&sets[i], htgen_);
        double l = ns_per_match_(&sets[i], linear_all_);
#ifdef HT_HAVE_R3
        double r = ns_per_match_(&sets[i], r3_all_);
#else
        double r = 0;
#endif
        printf("%-8s %8d %10.1f %10.1f %10.1f\n", names[i], sets[i].n, h, r, l);
    }
    return 0;
}
