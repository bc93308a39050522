/* bench_parser — request-head parsing: hachettp vs picohttpparser vs llhttp.
 *
 *   bench_parser [--dir DIR] [--rounds R] [--ms MS]
 *       Times every parser on every request file of DIR (default
 *       /work/shared/bench-data/requests: pico-bench.http, minimal.http,
 *       headers30.http), interleaved: each round runs every (input, parser)
 *       pair for about MS milliseconds, in an order rotated per round.
 *       Prints medians over the rounds of ns/request and GB/s, and each
 *       parser's median time over the anchor's (pico: picohttpparser with
 *       SSE4.2) and over Debian's picohttpparser (pico-deb), then its
 *       fastest round over the anchor's fastest.
 *   bench_parser --count PARSER FILE N
 *       Parses FILE N times with one parser (ht | pico | pico-deb | llhttp | ht-scalar | ht-v3 | ht-native) and nothing
 *       else, for instruction counts:
 *         valgrind --tool=callgrind --toggle-collect=count_loop \
 *                  bench_parser --count ht FILE 100000
 *       then instructions per request = the "Collected" Ir total / N.
 *
 * Peers: picohttpparser compiled with -O3 -msse4.2 from the peer copy in
 * ../shared/bench-data/peers/picohttpparser (its pcmpestri path; symbols
 * renamed *_sse42 by bench/parser/CMakeLists.txt) is the anchor, "pico";
 * picohttpparser as Debian ships it inside libh2o (no SSE4.2), "pico-deb";
 * llhttp compiled here from node-llhttp's sources in /usr/share/llhttp. Every parser produces the same thing: method, target,
 * version and (name, value) slices for every header field.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llhttp.h>

#include "http/parse.h"

/* ---- picohttpparser (libh2o) ---- */
struct phr_header {
    const char* name;
    size_t      name_len;
    const char* value;
    size_t      value_len;
};
int phr_parse_request(const char* buf, size_t len, const char** method, size_t* method_len,
                      const char** path, size_t* path_len, int* minor_version,
                      struct phr_header* headers, size_t* num_headers, size_t last_len);

int phr_parse_request_sse42(const char* buf, size_t len, const char** method, size_t* method_len,
                            const char** path, size_t* path_len, int* minor_version,
                            struct phr_header* headers, size_t* num_headers, size_t last_len);

#define MAXH 64

static size_t parse_pico(const char* buf, size_t len) {
    const char *method, *path;
    size_t      mlen, plen, nh = MAXH;
    int         minor;
    struct phr_header h[MAXH];
    int r = phr_parse_request_sse42(buf, len, &method, &mlen, &path, &plen, &minor, h, &nh, 0);
    return r > 0 ? (size_t) r + nh : 0;
}

static size_t parse_pico_deb(const char* buf, size_t len) {
    const char *method, *path;
    size_t      mlen, plen, nh = MAXH;
    int         minor;
    struct phr_header h[MAXH];
    int r = phr_parse_request(buf, len, &method, &mlen, &path, &plen, &minor, h, &nh, 0);
    return r > 0 ? (size_t) r + nh : 0;
}

/* ---- hachettp ---- */
static size_t parse_ht(const char* buf, size_t len) {
    ht_header_t        h[MAXH];
    ht_request_head_t  out; /* inputs only: the parser sets every output */
    out.headers     = h;
    out.max_headers = MAXH;
    ht_parser_t        p   = { 0 };
    ht_io_t r = ht_parse__request(&p, buf, len, nullptr, &out);
    return r > 0 ? (size_t) r + out.num_headers : 0;
}

/* the same parser built with other flags (bench/parser/CMakeLists.txt):
 * -DHT_PARSE_SCALAR, -march=x86-64-v3, -march=native */
#define HT_VARIANT_(suffix)                                                                   \
    ht_io_t ht_parse__request_##suffix(ht_parser_t* p, const char* buf, size_t len,             \
                                       const ht_parse_limits_t* limits, ht_request_head_t* out); \
    static size_t parse_ht_##suffix(const char* buf, size_t len) {                              \
        ht_header_t       h[MAXH];                                                              \
        ht_request_head_t out;                                                                  \
        out.headers     = h;                                                                    \
        out.max_headers = MAXH;                                                                 \
        ht_parser_t p   = { 0 };                                                                \
        ht_io_t     r   = ht_parse__request_##suffix(&p, buf, len, nullptr, &out);             \
        return r > 0 ? (size_t) r + out.num_headers : 0;                                        \
    }
HT_VARIANT_(scalar)
HT_VARIANT_(v3)
HT_VARIANT_(native)

/* ---- llhttp: callbacks record the same slices ---- */
typedef struct ll_ctx {
    const char* target;
    size_t      target_len;
    struct phr_header h[MAXH];
    size_t      nh;
    int         done;
} ll_ctx_t;

static int ll_url(llhttp_t* p, const char* at, size_t n) {
    ll_ctx_t* c = p->data;
    c->target = at;
    c->target_len = n;
    return 0;
}
static int ll_field(llhttp_t* p, const char* at, size_t n) {
    ll_ctx_t* c = p->data;
    if (c->nh == MAXH) return -1;
    c->h[c->nh].name = at;
    c->h[c->nh].name_len = n;
    return 0;
}
static int ll_value(llhttp_t* p, const char* at, size_t n) {
    ll_ctx_t* c = p->data;
    c->h[c->nh].value = at;
    c->h[c->nh].value_len = n;
    return 0;
}
static int ll_value_done(llhttp_t* p) {
    ((ll_ctx_t*) p->data)->nh++;
    return 0;
}
static int ll_headers_done(llhttp_t* p) {
    ((ll_ctx_t*) p->data)->done = 1;
    return 0;
}

static llhttp_settings_t ll_settings;

static size_t parse_llhttp(const char* buf, size_t len) {
    llhttp_t p;
    ll_ctx_t c;
    c.nh = 0;
    c.done = 0;
    llhttp_init(&p, HTTP_REQUEST, &ll_settings);
    p.data = &c;
    llhttp_errno_t e = llhttp_execute(&p, buf, len);
    return e == HPE_OK && c.done ? len + c.nh : 0;
}

/* ---- harness ---- */
typedef size_t (*parse_fn)(const char*, size_t);
static const struct { const char* name; parse_fn fn; } parsers[] = {
    { "hachettp", parse_ht },
    { "pico", parse_pico }, /* the anchor: "vs pico" divides by its time */
    { "pico-deb", parse_pico_deb },
    { "llhttp", parse_llhttp },
    { "ht-scalar", parse_ht_scalar },
    { "ht-v3", parse_ht_v3 },         /* -march=x86-64-v3 (AVX2; SSSE3 name scans) */
    { "ht-native", parse_ht_native }, /* -march=native: not under valgrind 3.19 if AVX-512 */
};
#define NP (sizeof parsers / sizeof parsers[0])

static const char* const files[] = { "pico-bench.http", "minimal.http", "headers30.http" };
#define NF (sizeof files / sizeof files[0])

static volatile size_t sink;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

__attribute__((noinline)) static size_t timed_loop(parse_fn fn, const char* buf, size_t len,
                                                   size_t iters) {
    size_t acc = 0;
    for (size_t i = 0; i < iters; i++) {
        acc += fn(buf, len);
        __asm__ volatile("" ::: "memory"); /* keep each parse */
    }
    return acc;
}

/* The one loop callgrind counts (--toggle-collect=count_loop). */
__attribute__((noinline)) size_t count_loop(parse_fn fn, const char* buf, size_t len,
                                            size_t iters);
__attribute__((noinline)) size_t count_loop(parse_fn fn, const char* buf, size_t len,
                                            size_t iters) {
    size_t acc = 0; /* the loop itself, not a (tail) call: callgrind toggles on this frame */
    for (size_t i = 0; i < iters; i++) {
        acc += fn(buf, len);
        __asm__ volatile("" ::: "memory");
    }
    return acc;
}

static char* slurp(const char* path, size_t* len) {
    FILE* f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "bench_parser: %s: %s\n", path, strerror(errno)); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char* b = malloc((size_t) n + 1);
    if (fread(b, 1, (size_t) n, f) != (size_t) n) { fprintf(stderr, "short read\n"); exit(2); }
    fclose(f);
    *len = (size_t) n;
    return b;
}

static int cmp_double(const void* a, const void* b) {
    double x = *(const double*) a, y = *(const double*) b;
    return (x > y) - (x < y);
}

int main(int argc, char** argv) {
    const char* dir = "/work/shared/bench-data/requests";
    int rounds = 21;
    double ms = 20;
    llhttp_settings_init(&ll_settings);
    ll_settings.on_url = ll_url;
    ll_settings.on_header_field = ll_field;
    ll_settings.on_header_value = ll_value;
    ll_settings.on_header_value_complete = ll_value_done;
    ll_settings.on_headers_complete = ll_headers_done;

    if (argc == 5 && !strcmp(argv[1], "--count")) {
        size_t len;
        char* buf = slurp(argv[3], &len);
        size_t n = strtoull(argv[4], nullptr, 10);
        for (size_t i = 0; i < NP; i++) {
            const char* nm = parsers[i].name;
            if (strcmp(argv[2], nm) && !(strcmp(argv[2], "ht") == 0 && i == 0)) continue;
            if (parsers[i].fn(buf, len) == 0) { fprintf(stderr, "%s rejects %s\n", nm, argv[3]); return 1; }
            sink = count_loop(parsers[i].fn, buf, len, n);
            printf("%s %s x %zu done\n", nm, argv[3], n);
            return 0;
        }
        fprintf(stderr, "unknown parser %s (ht | pico | pico-deb | llhttp | ht-scalar | ht-v3 | ht-native)\n", argv[2]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ms") && i + 1 < argc) ms = atof(argv[++i]);
        else { fprintf(stderr, "usage: see the comment at the top of bench_parser.c\n"); return 2; }
    }

    char*  buf[NF];
    size_t len[NF];
    size_t iters[NF][NP];
    for (size_t f = 0; f < NF; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        buf[f] = slurp(path, &len[f]);
        for (size_t p = 0; p < NP; p++) {
            if (parsers[p].fn(buf[f], len[f]) == 0) {
                fprintf(stderr, "%s rejects %s\n", parsers[p].name, files[f]);
                return 1;
            }
            /* calibrate: iterations for about ms milliseconds */
            size_t it = 1000;
            for (;;) {
                double t0 = now_ns();
                sink = timed_loop(parsers[p].fn, buf[f], len[f], it);
                double dt = now_ns() - t0;
                if (dt > ms * 1e6 / 4) { iters[f][p] = (size_t) ((double) it * ms * 1e6 / dt) + 1; break; }
                it *= 4;
            }
        }
    }

    double* ns = calloc(NF * NP * (size_t) rounds, sizeof *ns);
#define NS(f, p, r) ns[((f) * NP + (p)) * (size_t) rounds + (size_t) (r)]
    for (int r = 0; r < rounds; r++)
        for (size_t f = 0; f < NF; f++)
            for (size_t k = 0; k < NP; k++) {
                size_t p = (k + (size_t) r) % NP; /* rotate who goes first */
                double t0 = now_ns();
                sink = timed_loop(parsers[p].fn, buf[f], len[f], iters[f][p]);
                NS(f, p, r) = (now_ns() - t0) / (double) iters[f][p];
            }

    printf("%-16s %6s  %-9s %10s %8s %10s %10s %10s\n", "input", "bytes", "parser", "ns/req", "GB/s",
           "vs pico", "vs deb", "min: pico");
    for (size_t f = 0; f < NF; f++) {
        double med[NP], lo[NP];
        for (size_t p = 0; p < NP; p++) {
            qsort(&NS(f, p, 0), (size_t) rounds, sizeof(double), cmp_double);
            med[p] = NS(f, p, rounds / 2);
            lo[p]  = NS(f, p, 0);
        }
        for (size_t p = 0; p < NP; p++)
            printf("%-16s %6zu  %-9s %10.1f %8.2f %9.2fx %9.2fx %9.2fx\n", files[f], len[f],
                   parsers[p].name, med[p], (double) len[f] / med[p], med[p] / med[1],
                   med[p] / med[2], lo[p] / lo[1]);
    }
    printf("(medians of %d interleaved rounds of ~%.0f ms per input and parser; \"min: pico\": the\n"
           " fastest round's time over picohttpparser's fastest, the reading least disturbed by\n"
           " other load on a shared machine)\n", rounds, ms);
    free(ns);
    for (size_t f = 0; f < NF; f++) free(buf[f]);
    return 0;
}
