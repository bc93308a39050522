/* check_chunked: the in-place chunked body decoder (ht_chunked__decode).
 *
 * Every case runs in one call, split in two at every offset, and one byte per
 * call; each piece is copied to end at a PROT_NONE page. The concatenated
 * payload and the verdict must be the same in all runs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/guard.h"
#include "http/parse.h"

typedef struct ccase {
    const char* name;
    const char* in;
    size_t      len;
    const char* payload; /* expected decoded bytes (before any error) */
    size_t      plen;
    ht_io_t     expect;  /* bytes after the body (>= 0), -EAGAIN or HT_E_* */
    uint64_t    max_body;
    uint32_t    max_trailer;
} ccase_t;

#define OKC(name, lit, pay, after)  { name, lit, sizeof(lit) - 1, pay, sizeof(pay) - 1, after, 1u << 20, 1024 }
#define ERR(name, lit, pay, err)    { name, lit, sizeof(lit) - 1, pay, sizeof(pay) - 1, err, 1u << 20, 1024 }
#define LIM(name, lit, pay, err, mb, mt) { name, lit, sizeof(lit) - 1, pay, sizeof(pay) - 1, err, mb, mt }

static const char* rstr(ht_io_t r) {
    static char b[64];
    if (r >= 0) { snprintf(b, sizeof b, "%lld", (long long) r); return b; }
    if (r == -EAGAIN) return "-EAGAIN";
    return ht_result__str((ht_result_t) r);
}

/* Feeds the input in pieces of the given sizes (the last piece takes the
 * rest); returns the verdict and appends the payload to pay. */
static ht_io_t feed(const ccase_t* c, guard_t* g, const size_t* cuts, size_t ncuts, char* pay,
                    size_t* plen, ht_chunked_t* d) {
    size_t off = 0;
    ht_io_t r = -EAGAIN;
    *plen = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t n = i < ncuts ? cuts[i] - off : c->len - off;
        char* b = guard__place(g, c->in + off, n);
        size_t len = n;
        r = ht_chunked__decode(d, b, &len, c->max_body, c->max_trailer);
        CHECK_MSG(len <= n, "%s: output grew", c->name);
        memcpy(pay + *plen, b, len);
        *plen += len;
        off += n;
        if (r >= 0) {
            /* the bytes after the body were moved right behind the payload */
            CHECK_MSG(memcmp(b + len, c->in + off - (size_t) r, (size_t) r) == 0,
                          "%s: bytes after the body not preserved", c->name);
            return r + (ht_io_t) (c->len - off); /* plus all not yet fed */
        }
        if (r != -EAGAIN) return r;
    }
    return r;
}

static void check_run(const ccase_t* c, ht_io_t r, const char* pay, size_t plen, const char* how,
                      size_t k) {
    CHECK_MSG(r == c->expect, "%s (%s %zu): got %s, want %s", c->name, how, k, rstr(r),
                  rstr(c->expect));
    CHECK_MSG(plen == c->plen && memcmp(pay, c->payload, plen) == 0,
                  "%s (%s %zu): payload %zu bytes, want %zu", c->name, how, k, plen, c->plen);
}

static void run_case(const ccase_t* c) {
    guard_t g = guard__open(c->len);
    char* pay = malloc(c->len + 1);
    size_t plen;

    ht_chunked_t d = { 0 };
    ht_io_t r = feed(c, &g, nullptr, 0, pay, &plen, &d);
    check_run(c, r, pay, plen, "one call", 0);
    if (r >= 0) {
        ck_assert_uint_eq(d.total, c->plen);
        /* once done, everything that follows is after the body */
        char more[] = "xyz";
        size_t ml = 3;
        ck_assert_int_eq(ht_chunked__decode(&d, more, &ml, c->max_body, c->max_trailer), 3);
        ck_assert_uint_eq(ml, 0);
    }

    for (size_t k = 0; k <= c->len; k++) {
        ht_chunked_t d2 = { 0 };
        r = feed(c, &g, &k, 1, pay, &plen, &d2);
        check_run(c, r, pay, plen, "split at", k);
    }

    size_t* cuts = malloc((c->len + 1) * sizeof *cuts);
    for (size_t i = 0; i < c->len; i++) cuts[i] = i + 1;
    ht_chunked_t d3 = { 0 };
    r = feed(c, &g, cuts, c->len ? c->len - 1 : 0, pay, &plen, &d3);
    check_run(c, r, pay, plen, "byte at a time", 1);
    free(cuts);
    free(pay);
    guard__close(&g);
}

static const ccase_t cases[] = {
    OKC("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", 0),
    OKC("empty body", "0\r\n\r\n", "", 0),
    OKC("three chunks, hex", "5\r\nhello\r\na\r\n0123456789\r\nB\r\n-abcdefghij\r\n0\r\n\r\n",
        "hello0123456789-abcdefghij", 0),
    OKC("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", 0),
    OKC("data with CRLF inside", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n", 0),
    OKC("extensions", "5;a\r\nhello\r\n3 ;\tb = c ;d=\"q\\\"x;y\" ; e\r\nabc\r\n0;last=1\r\n\r\n",
        "helloabc", 0),
    OKC("extension quoted obs-text", "1;x=\"\x80\xff\t \"\r\nZ\r\n0\r\n\r\n", "Z", 0),
    OKC("trailers", "1\r\nx\r\n0\r\nX-T: v\r\nY:\r\nZ: a\tb \x80\r\n\r\n", "x", 0),
    OKC("bytes after the body", "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "x", 16),
    ERR("incomplete size", "5", "", -EAGAIN),
    ERR("incomplete data", "5\r\nhel", "hel", -EAGAIN),
    ERR("incomplete trailers", "0\r\nX: y\r\n", "", -EAGAIN),
    ERR("no size", "\r\nhello\r\n0\r\n\r\n", "", HT_E_BAD_CHUNK),
    ERR("bad hex", "g\r\n", "", HT_E_BAD_CHUNK),
    ERR("sign", "+5\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("0x", "0x5\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("space inside size", "1 0\r\n", "", HT_E_BAD_CHUNK),
    ERR("LF-only size line", "5\nhello\r\n0\r\n\r\n", "", HT_E_BAD_CHUNK),
    ERR("CR CR", "5\r\rhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("LF-only after data", "5\r\nhello\n0\r\n\r\n", "hello", HT_E_BAD_CHUNK),
    ERR("no CRLF after data", "5\r\nhelloX\r\n0\r\n\r\n", "hello", HT_E_BAD_CHUNK),
    ERR("CR then not LF after data", "5\r\nhello\rX0\r\n\r\n", "hello", HT_E_BAD_CHUNK),
    ERR("size overflow", "10000000000000000\r\n", "", HT_E_CHUNK_TOO_LARGE),
    ERR("size overflow, zeros first", "0000ffffffffffffffff0\r\n", "", HT_E_CHUNK_TOO_LARGE),
    ERR("uint64 max size, body limit", "ffffffffffffffff\r\n", "", HT_E_BODY_TOO_LARGE),
    ERR("ext without name", "5;\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("ext empty name", "5;=x\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("ext empty value", "5;a=\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("ext two words", "5;a b\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("junk after size", "5 x\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    /* BWS after the size only before a ";" (RFC 9112 §7.1) */
    ERR("space after size", "5 \r\nhello\r\n0\r\n\r\n", "", HT_E_BAD_CHUNK),
    ERR("tab after size", "5\t\r\nhello\r\n0\r\n\r\n", "", HT_E_BAD_CHUNK),
    ERR("space after last size", "1\r\nx\r\n0 \r\n\r\n", "x", HT_E_BAD_CHUNK),
    ERR("ext unterminated quote", "5;a=\"x\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("ext ctl in quote", "5;a=\"\x01\"\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("ext bad escape", "5;a=\"\\\x01\"\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("ext bare LF", "5;a\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("ext bad value char", "5;a=b@\r\nhello\r\n", "", HT_E_BAD_CHUNK),
    ERR("trailer space before colon", "0\r\nX : v\r\n\r\n", "", HT_E_SPACE_BEFORE_COLON),
    ERR("trailer no colon", "0\r\nX v\r\n\r\n", "", HT_E_BAD_HEADER_NAME),
    ERR("trailer empty name", "0\r\n: v\r\n\r\n", "", HT_E_BAD_HEADER_NAME),
    ERR("trailer NUL name", "0\r\nX\0: v\r\n\r\n", "", HT_E_BAD_HEADER_NAME),
    ERR("trailer ctl value", "0\r\nX: \x01\r\n\r\n", "", HT_E_BAD_HEADER_VALUE),
    ERR("trailer DEL value", "0\r\nX: \x7f\r\n\r\n", "", HT_E_BAD_HEADER_VALUE),
    ERR("trailer bare LF", "0\r\nX: v\n\r\n", "", HT_E_BARE_LF),
    ERR("trailer bare CR", "0\r\nX: v\r\r\n", "", HT_E_BARE_CR),
    ERR("trailer obs-fold", "0\r\nX: v\r\n w\r\n\r\n", "", HT_E_OBS_FOLD),
    ERR("final bare LF", "0\r\n\n", "", HT_E_BARE_LF),
    ERR("final bare CR", "0\r\n\rX", "", HT_E_BARE_CR),
    ERR("name then CRLF", "0\r\nX\r\n\r\n", "", HT_E_BAD_HEADER_NAME),
    LIM("body limit in one chunk", "b\r\nhello world\r\n0\r\n\r\n", "", HT_E_BODY_TOO_LARGE, 10, 64),
    LIM("body limit across chunks", "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n", "hello ", HT_E_BODY_TOO_LARGE, 10, 64),
    LIM("body at the limit", "6\r\nhello \r\n4\r\nworl\r\n0\r\n\r\n", "hello worl", 0, 10, 64),
    LIM("trailer at the limit", "0\r\nAbc: 123456789\r\n\r\n", "", 0, 10, 16),
    LIM("trailer over the limit", "0\r\nAbc: 1234567890\r\n\r\n", "", HT_E_HEADERS_TOO_LARGE, 10, 16),
    LIM("no trailers allowed, none sent", "0\r\n\r\n", "", 0, 10, 0),
    LIM("no trailers allowed", "0\r\nA:\r\n\r\n", "", HT_E_HEADERS_TOO_LARGE, 10, 0),
};

START_TEST(table) {
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) run_case(&cases[i]);
}
END_TEST

START_TEST(long_extension_refused) {
    /* a chunk-size line is bounded even though extensions are ignored */
    static char in[5000];
    size_t n = (size_t) sprintf(in, "1;a=");
    memset(in + n, 'x', 4100);
    n += 4100;
    n += (size_t) sprintf(in + n, "\r\nz\r\n0\r\n\r\n");
    ht_chunked_t d = { 0 };
    size_t len = n;
    ck_assert_int_eq(ht_chunked__decode(&d, in, &len, 100, 100), HT_E_BAD_CHUNK);
    /* under the bound it passes */
    n = (size_t) sprintf(in, "1;a=");
    memset(in + n, 'x', 4000);
    n += 4000;
    n += (size_t) sprintf(in + n, "\r\nz\r\n0\r\n\r\n");
    ht_chunked_t d2 = { 0 };
    len = n;
    ck_assert_int_eq(ht_chunked__decode(&d2, in, &len, 100, 100), 0);
    ck_assert_uint_eq(len, 1);
    ck_assert_int_eq(in[0], 'z');
}
END_TEST

START_TEST(large_body_in_pieces) {
    /* 1 MiB in 4 KiB chunks, fed in 1000-byte reads: the payload is exact. */
    size_t chunks = 256, cs = 4096;
    size_t cap = chunks * (cs + 16) + 16;
    char* in = malloc(cap);
    size_t n = 0;
    for (size_t i = 0; i < chunks; i++) {
        n += (size_t) sprintf(in + n, "%zx\r\n", cs);
        for (size_t j = 0; j < cs; j++) in[n + j] = (char) ('a' + (i + j) % 26);
        n += cs;
        n += (size_t) sprintf(in + n, "\r\n");
    }
    n += (size_t) sprintf(in + n, "0\r\n\r\n");
    char* out = malloc(chunks * cs);
    size_t olen = 0;
    ht_chunked_t d = { 0 };
    ht_io_t r = -EAGAIN;
    char piece[1000];
    for (size_t off = 0; off < n && r == -EAGAIN; off += sizeof piece) {
        size_t len = n - off < sizeof piece ? n - off : sizeof piece;
        memcpy(piece, in + off, len);
        r = ht_chunked__decode(&d, piece, &len, UINT64_MAX, 0);
        memcpy(out + olen, piece, len);
        olen += len;
    }
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(olen, chunks * cs);
    ck_assert_uint_eq(d.total, chunks * cs);
    for (size_t i = 0; i < chunks; i++)
        for (size_t j = 0; j < cs; j += 511)
            ck_assert_int_eq(out[i * cs + j], 'a' + (i + j) % 26);
    free(in);
    free(out);
}
END_TEST

int main(void) {
    Suite* s  = suite_create("chunked");
    TCase* tc = tcase_create("decode");
    tcase_add_test(tc, table);
    tcase_add_test(tc, long_extension_refused);
    tcase_add_test(tc, large_body_in_pieces);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
