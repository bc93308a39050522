/* parse_harness.h: what the check_parse sources share (private to
 * tests/http): the case type, the table macros and the harness that runs a
 * case every way (see check_parse.c). check_parse, check_parse_scalar and
 * check_parse_avx2 are each built from check_parse.c (main, the "fields"
 * TCase) and check_parse_tables.c (the "tables" TCase). */
#ifndef HT_TESTS_PARSE_HARNESS_H
#define HT_TESTS_PARSE_HARNESS_H

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/guard.h"
#include "http/parse.h"

#ifdef HT_PARSE_SCALAR
#  define VARIANT "scalar"
#elif defined(HT_PARSE_USE_AVX2)
#  define VARIANT "avx2"
#else
#  define VARIANT "simd"
#endif

#define MAXH 64
#define OK   0 /* expect: success, the head is the whole input */

typedef struct pcase {
    const char*              name;
    const char*              in;
    size_t                   len;
    ht_io_t                  expect; /* OK, a head length, -EAGAIN or HT_E_* */
    const ht_parse_limits_t* lim;
} pcase_t;

#define C(name, lit, exp)         { name, lit, sizeof(lit) - 1, exp, nullptr }
#define CL_(name, lit, exp, lim)  { name, lit, sizeof(lit) - 1, exp, lim }
/* success with `tail` bytes after the head */
#define CT(name, lit, tail)       { name, lit, sizeof(lit) - 1, (ht_io_t) (sizeof(lit) - 1 - (tail)), nullptr }

/* ---- harness ---- */

typedef struct parsed {
    ht_io_t            r;
    ht_request_head_t  h;
    ht_header_t        hdr[MAXH];
} parsed_t;

static inline void head_init(parsed_t* p) {
    memset(p, 0xa5, sizeof *p); /* out must be fully written on success */
    p->h.headers     = p->hdr;
    p->h.max_headers = MAXH;
}

static inline ht_io_t expected(const pcase_t* c) { return c->expect == OK ? (ht_io_t) c->len : c->expect; }

static inline const char* rstr(ht_io_t r) {
    static char b[64];
    if (r >= 0) { snprintf(b, sizeof b, "%lld", (long long) r); return b; }
    if (r == -EAGAIN) return "-EAGAIN";
    return ht_result__str((ht_result_t) r);
}

#define ASSERT_R(got, want, what, c, k)                                                    \
    CHECK_MSG((got) == (want), "[%s] %s: %s at %zu: got %s (%lld), want %s (%lld)",   \
                  VARIANT, (c)->name, what, (size_t) (k), rstr(got), (long long) (got),    \
                  rstr(want), (long long) (want))

static inline void slice_same(ht_slice_t a, const char* abase, ht_slice_t b, const char* bbase,
                       const char* what, const pcase_t* c) {
    CHECK_MSG(a.len == b.len && a.ptr - abase == b.ptr - bbase,
                  "[%s] %s: %s differs between runs", VARIANT, c->name, what);
}

/* The head of a success must not depend on how the bytes arrived. */
static inline void same_head(const parsed_t* a, const char* abase, const parsed_t* b, const char* bbase,
                      const pcase_t* c) {
    CHECK_MSG((a->h.num_headers) == (b->h.num_headers), "%s: %s differs", c->name, "a->h.num_headers");
    CHECK_MSG((a->h.method_id) == (b->h.method_id), "%s: %s differs", c->name, "a->h.method_id");
    CHECK_MSG((a->h.version_minor) == (b->h.version_minor), "%s: %s differs", c->name, "a->h.version_minor");
    CHECK_MSG((a->h.flags) == (b->h.flags), "%s: %s differs", c->name, "a->h.flags");
    CHECK_MSG((a->h.content_length) == (b->h.content_length), "%s: %s differs", c->name, "a->h.content_length");
    slice_same(a->h.method, abase, b->h.method, bbase, "method", c);
    slice_same(a->h.target, abase, b->h.target, bbase, "target", c);
    slice_same(a->h.host, abase, b->h.host, bbase, "host", c);
    for (unsigned i = 0; i < a->h.num_headers; i++) {
        slice_same(a->hdr[i].name, abase, b->hdr[i].name, bbase, "name", c);
        slice_same(a->hdr[i].value, abase, b->hdr[i].value, bbase, "value", c);
        CHECK_MSG((a->hdr[i].id) == (b->hdr[i].id), "%s: %s differs", c->name, "a->hdr[i].id");
    }
}

static inline void run_case(const pcase_t* c) {
    const ht_io_t want = expected(c);
    guard_t g = guard__open(c->len);

    /* 1. one call, the input ending at the guard page */
    static parsed_t one;
    head_init(&one);
    ht_parser_t ps = { 0 };
    const char* b1 = guard__place(&g, c->in, c->len);
    one.r = ht_parse__request(&ps, b1, c->len, c->lim, &one.h);
    ASSERT_R(one.r, want, "one call", c, c->len);
    /* keep a copy of the bytes the slices point to for later comparison */
    char* keep = malloc(c->len + 1);
    memcpy(keep, b1, c->len);
    const char* kbase = b1;

    /* 2. split in two at every offset */
    static parsed_t two; /* static: a 2.6 KB local per offset is slow under ASan */
    for (size_t k = 0; k <= c->len; k++) {
        head_init(&two);
        ht_parser_t p = { 0 };
        const char* b = guard__place(&g, c->in, k);
        ht_io_t r = ht_parse__request(&p, b, k, c->lim, &two.h);
        if (r != -EAGAIN) {
            ASSERT_R(r, want, "first part decided", c, k);
            continue;
        }
        CHECK_MSG(p.scanned == k, "[%s] %s: scanned %zu of %zu", VARIANT, c->name,
                      p.scanned, k);
        b = guard__place(&g, c->in, c->len);
        r = ht_parse__request(&p, b, c->len, c->lim, &two.h);
        ASSERT_R(r, want, "split", c, k);
        if (r > 0) same_head(&one, kbase, &two, b, c);
    }

    /* 3. one byte more per call, same parser, the buffer moving each time */
    static parsed_t inc;
    head_init(&inc);
    ht_parser_t p = { 0 };
    ht_io_t r = -EAGAIN;
    size_t k = 0;
    for (; k <= c->len; k++) {
        const char* b = guard__place(&g, c->in, k);
        r = ht_parse__request(&p, b, k, c->lim, &inc.h);
        if (r != -EAGAIN) {
            ASSERT_R(r, want, "byte at a time", c, k);
            if (r > 0) {
                CHECK_MSG(((size_t) r) == (k), "%s: %s differs", c->name, "(size_t) r"); /* decided by the last byte of the head */
                same_head(&one, kbase, &inc, b, c);
            }
            break;
        }
        CHECK_MSG(p.scanned == k, "[%s] %s: scanned %zu of %zu", VARIANT, c->name,
                      p.scanned, k);
    }
    if (k > c->len) ASSERT_R(r, want, "byte at a time (never decided)", c, k);

    free(keep);
    guard__close(&g);
}

static inline void run_table(const pcase_t* t, size_t n) {
    for (size_t i = 0; i < n; i++) run_case(&t[i]);
}

/* One call over a heap copy; for field assertions. The copy stays alive in
 * *buf so the slices can be read. */
static inline ht_io_t parse1(const char* in, size_t len, parsed_t* out, char** buf) {
    head_init(out);
    *buf = malloc(len ? len : 1);
    memcpy(*buf, in, len);
    ht_parser_t p = { 0 };
    out->r = ht_parse__request(&p, *buf, len, nullptr, &out->h);
    return out->r;
}
#define PARSE1(lit, out, buf) parse1(lit, sizeof(lit) - 1, out, buf)

static inline bool slice_is(ht_slice_t s, const char* lit) {
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* A real browser's request, used by both files. */
static const char BROWSER[] =
    "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"
    "Host: www.kittyhell.com\r\n"
    "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) "
    "Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
    "Accept-Encoding: gzip,deflate\r\n"
    "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"
    "Keep-Alive: 115\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "
    "__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; "
    "__utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|"
    "utmcct=/reader/|utmcmd=referral\r\n"
    "\r\n";

/* Adds the "tables" tests, in registration order. */
void parse_add_table_tests(TCase* tc);

#endif
