/* bench_mixed: the htgen matcher on mixed tables (gen_mixed.sh: 40% literal,
 * 15% {name}, 15% {id:u64}, 10% regex, 10% rest, 10% affixed; issue 16)
 * of 1,000 and 10,000 routes, one request per route, in three layouts of
 * the same automaton: htgen's default (its first states as code, the rest
 * as tables), all code (--code-weight 1000000) and all tables
 * (--code-weight -1). The trie of bench_router has no typed, regex or
 * affixed segments, so these are htgen against itself.
 *
 *   bench_mixed                  ns per match, median of 7 interleaved rounds
 *   bench_mixed VARIANT ITERS    ITERS passes with one variant, for callgrind
 *                                (instructions/match as insn.sh computes them)
 */
#include "m1k_routes.h"
#include "m1kc_routes.h"
#include "m1kt_routes.h"
#include "m10k_routes.h"
#include "m10kt_routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct req {
    ht_method_t method;
    ht_slice_t path;
} req_t;

typedef struct set {
    req_t* r;
    int n;
} set_t;

static ht_method_t method_(const char* m) {
    return !strcmp(m, "GET") ? HT_METHOD_GET : !strcmp(m, "POST") ? HT_METHOD_POST
         : !strcmp(m, "PUT") ? HT_METHOD_PUT : !strcmp(m, "DELETE") ? HT_METHOD_DELETE
         : HT_METHOD_OTHER;
}

static void load_(set_t* s, const char* file) {
    FILE* f = fopen(file, "rb");
    if (!f) {
        perror(file);
        exit(1);
    }
    char line[512];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char* sp = strchr(line, ' ');
        if (!sp) continue;
        *sp = '\0';
        if (s->n == cap) {
            cap = cap ? cap * 2 : 1024;
            s->r = realloc(s->r, (size_t) cap * sizeof *s->r);
            if (!s->r) exit(1);
        }
        char* p = strdup(sp + 1);
        if (!p) exit(1);
        s->r[s->n++] = (req_t){ method_(line), ht_slice__from_cstr(p) };
    }
    fclose(f);
}

static char scratch_[1024];

#define VARIANT(P)                                                                        \
    static unsigned long run_##P##_(const set_t* s) {                                     \
        unsigned long sum = 0;                                                            \
        P##_match_t m = { .scratch = scratch_, .scratch_cap = sizeof scratch_ };          \
        for (int i = 0; i < s->n; i++) {                                                  \
            sum += (unsigned long) P##__match(s->r[i].method, s->r[i].path, &m);          \
            sum += (unsigned long) m.route;                                               \
        }                                                                                 \
        return sum;                                                                       \
    }                                                                                     \
    static int check_##P##_(const set_t* s) {                                             \
        P##_match_t m = { .scratch = scratch_, .scratch_cap = sizeof scratch_ };          \
        for (int i = 0; i < s->n; i++)                                                    \
            if (P##__match(s->r[i].method, s->r[i].path, &m) != 0 || (int) m.route != i + 1) \
                return i + 1;                                                             \
        return 0;                                                                         \
    }
VARIANT(m1k)
VARIANT(m1kc)
VARIANT(m1kt)
VARIANT(m10k)
VARIANT(m10kt)

typedef unsigned long (*runner_t)(const set_t*);

static const struct {
    const char* name;
    runner_t run;
    int (*check)(const set_t*);
    int set; /* 0: 1,000 routes, 1: 10,000 */
    const char* what;
} variants_[] = {
    { "m1k", run_m1k_, check_m1k_, 0, "1,000 routes, default layout" },
    { "m1kc", run_m1kc_, check_m1kc_, 0, "1,000 routes, all code" },
    { "m1kt", run_m1kt_, check_m1kt_, 0, "1,000 routes, all tables" },
    { "m10k", run_m10k_, check_m10k_, 1, "10,000 routes, default layout" },
    { "m10kt", run_m10kt_, check_m10kt_, 1, "10,000 routes, all tables" },
};
enum { NV = sizeof variants_ / sizeof variants_[0] };

static double ns_once_(const set_t* s, runner_t fn) {
    long iters = 400000 / s->n + 1;
    volatile unsigned long sink = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long it = 0; it < iters; it++) sink += fn(s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    (void) sink;
    return ((double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec)) / ((double) iters * s->n);
}

static int cmp_d_(const void* a, const void* b) {
    double x = *(const double*) a, y = *(const double*) b;
    return (x > y) - (x < y);
}

int main(int argc, char** argv) {
    static set_t sets[2];
    load_(&sets[0], BENCH_MIXED_1K);
    load_(&sets[1], BENCH_MIXED_10K);
    for (int v = 0; v < NV; v++) {
        int bad = variants_[v].check(&sets[variants_[v].set]);
        if (bad) {
            fprintf(stderr, "%s: request %d misrouted\n", variants_[v].name, bad);
            return 1;
        }
    }
    if (argc == 3) {
        for (int v = 0; v < NV; v++) {
            if (strcmp(argv[1], variants_[v].name) != 0) continue;
            unsigned long sum = 0;
            for (long it = 0, n = atol(argv[2]); it < n; it++) sum += variants_[v].run(&sets[variants_[v].set]);
            printf("%lu %d\n", sum, sets[variants_[v].set].n);
            return 0;
        }
        fprintf(stderr, "usage: bench_mixed [m1k|m1kc|m1kt|m10k|m10kt ITERS]\n");
        return 2;
    }
    enum { ROUNDS = 7 };
    static double t[NV][ROUNDS];
    for (int rd = 0; rd < ROUNDS; rd++)
        for (int v = 0; v < NV; v++) t[v][rd] = ns_once_(&sets[variants_[v].set], variants_[v].run);
    printf("ns per match, median of %d interleaved rounds, one request per route\n", ROUNDS);
    for (int v = 0; v < NV; v++) {
        qsort(t[v], ROUNDS, sizeof t[v][0], cmp_d_);
        printf("%-6s %-32s %8.1f\n", variants_[v].name, variants_[v].what, t[v][ROUNDS / 2]);
    }
    return 0;
}
