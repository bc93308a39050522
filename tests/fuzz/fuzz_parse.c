/* fuzz_parse: the request-head parser and, behind each head, the body framing
 * (Content-Length or the chunked decoder), over a pipelined byte stream.
 *
 * Input: 2 bytes of split offset, 1 byte of limit selection, then the stream.
 * Invariants checked (abort on violation, so libFuzzer records the input):
 *   - parsing a head all at once and in two calls split at the chosen offset
 *     gives the same verdict and the same head (ht/parse.h: "the result does
 *     not depend on how the bytes were split"); a prefix call returns either
 *     -EAGAIN or that same verdict;
 *   - a success's slices lie inside the head, the head length is in (0, len];
 *   - the chunked decoder gives the same verdict, payload and leftover count
 *     all at once, split at the offset, and a byte at a time; output never
 *     grows and the payload total matches;
 * Every buffer is heap-allocated at its exact size so ASan sees over-reads. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

#define FAIL(...) do { fprintf(stderr, "fuzz_parse: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)
#define MAXH 64

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void in_head(ht_slice_t s, const char* buf, size_t head, const char* what) {
    if (s.len == 0) return;
    if (s.ptr < buf || s.ptr + s.len > buf + head) FAIL("%s slice outside the head", what);
}

static void same_head(const ht_request_head_t* a, const char* ba, const ht_request_head_t* b,
                      const char* bb) {
    if (a->num_headers != b->num_headers || a->method_id != b->method_id ||
        a->version_minor != b->version_minor || a->flags != b->flags ||
        a->content_length != b->content_length)
        FAIL("split changed the head's scalars");
#define SAME(x, y) do { if ((x).len != (y).len || ((x).len && (x).ptr - ba != (y).ptr - bb)) \
        FAIL("split changed slice %s", #x); } while (0)
    SAME(a->method, b->method);
    SAME(a->target, b->target);
    SAME(a->host, b->host);
    for (uint16_t i = 0; i < a->num_headers; i++) {
        SAME(a->headers[i].name, b->headers[i].name);
        SAME(a->headers[i].value, b->headers[i].value);
        if (a->headers[i].id != b->headers[i].id) FAIL("split changed header id %u", i);
    }
#undef SAME
}

static ht_io_t parse_once(const char* s, size_t n, const ht_parse_limits_t* lim,
                          ht_request_head_t* out, char** keep) {
    char* b = malloc(n ? n : 1);
    memcpy(b, s, n);
    ht_parser_t p = { 0 };
    ht_io_t r = ht_parse__request(&p, b, n, lim, out);
    *keep = b;
    return r;
}

/* Decodes body[0, n) in pieces cut at `cut` (0: one call; 1 and step 1: a
 * byte at a time when bytewise). Payload goes to pay; returns the verdict with
 * the leftover count made absolute (bytes after the body in the whole input). */
static ht_io_t chunked_run(const char* body, size_t n, size_t cut, bool bytewise, char* pay,
                           size_t* plen, uint64_t* total) {
    ht_chunked_t d = { 0 };
    size_t off = 0;
    ht_io_t r = -EAGAIN;
    *plen = 0;
    while (off < n || (off == 0 && n == 0)) {
        size_t k = bytewise ? 1 : (off == 0 && cut && cut < n) ? cut : n - off;
        if (k > n - off) k = n - off;
        char* b = malloc(k ? k : 1);
        memcpy(b, body + off, k);
        size_t len = k;
        r = ht_chunked__decode(&d, b, &len, 1u << 20, 1024);
        if (len > k) FAIL("chunked output grew");
        memcpy(pay + *plen, b, len);
        *plen += len;
        off += k;
        if (r >= 0) {
            if ((size_t) r > k - len) FAIL("chunked leftover %lld > room", (long long) r);
            if (memcmp(b + len, body + off - (size_t) r, (size_t) r) != 0)
                FAIL("chunked leftover bytes not preserved");
            free(b);
            *total = d.total;
            return r + (ht_io_t) (n - off);
        }
        free(b);
        if (r != -EAGAIN) return r;
        if (n == 0) break;
    }
    *total = d.total;
    return r;
}

static void check_chunked(const char* body, size_t n, size_t cut, ht_io_t* verdict,
                          size_t* consumed) {
    char* p1 = malloc(n + 1);
    char* p2 = malloc(n + 1);
    size_t l1, l2;
    uint64_t t1, t2;
    ht_io_t r1 = chunked_run(body, n, 0, false, p1, &l1, &t1);
    ht_io_t r2 = chunked_run(body, n, cut, false, p2, &l2, &t2);
    if (r1 != r2) FAIL("chunked: one call %lld, split at %zu %lld", (long long) r1, cut, (long long) r2);
    if (r1 >= 0 && (l1 != l2 || memcmp(p1, p2, l1) != 0 || t1 != l1 || t2 != l2))
        FAIL("chunked: payload differs when split");
    if (n <= 4096) { /* byte at a time is quadratic in allocations; bound it */
        ht_io_t r3 = chunked_run(body, n, 0, true, p2, &l2, &t2);
        if (r1 != r3) FAIL("chunked: one call %lld, bytewise %lld", (long long) r1, (long long) r3);
        if (r1 >= 0 && (l1 != l2 || memcmp(p1, p2, l1) != 0)) FAIL("chunked: bytewise payload differs");
    }
    free(p1);
    free(p2);
    *verdict = r1;
    *consumed = r1 >= 0 ? n - (size_t) r1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    size_t split = (size_t) data[0] | (size_t) data[1] << 8;
    uint8_t sel = data[2];
    const char* s = (const char*) data + 3;
    size_t n = size - 3;
    ht_parse_limits_t lim = HT_PARSE_LIMITS_DEFAULT;
    if (sel & 1) /* small limits, so 414/431 paths are reachable from short inputs */
        lim = (ht_parse_limits_t){ 16u + (sel >> 1 & 31) * 4u, 32u + (sel >> 6) * 64u,
                                   (uint16_t) (1 + (sel >> 1 & 7)) };
    ht_header_t h1[MAXH], h2[MAXH], h3[MAXH];

    for (int req = 0; req < 8 && n > 0; req++) {
        ht_request_head_t o1 = { .headers = h1, .max_headers = MAXH };
        ht_request_head_t o2 = { .headers = h2, .max_headers = MAXH };
        ht_request_head_t o3 = { .headers = h3, .max_headers = MAXH };
        char* b1;
        ht_io_t r1 = parse_once(s, n, &lim, &o1, &b1);
        if (r1 > 0 && (size_t) r1 > n) FAIL("head length %lld > input %zu", (long long) r1, n);
        if (r1 == 0) FAIL("head length 0");

        /* the same bytes in two calls, the first over an exact-size prefix */
        size_t cut = split % (n + 1);
        ht_parser_t p = { 0 };
        char* pre = malloc(cut ? cut : 1);
        memcpy(pre, s, cut);
        ht_io_t rp = ht_parse__request(&p, pre, cut, &lim, &o3);
        char* b2 = malloc(n);
        memcpy(b2, s, n);
        ht_io_t r2;
        if (rp == -EAGAIN) {
            r2 = ht_parse__request(&p, b2, n, &lim, &o2);
            if (r2 != r1) FAIL("request %d: all at once %lld, split at %zu %lld", req, (long long) r1, cut, (long long) r2);
            if (r1 > 0) same_head(&o1, b1, &o2, b2);
        } else {
            if (rp != r1) FAIL("request %d: all at once %lld, prefix of %zu gave %lld", req, (long long) r1, cut, (long long) rp);
            if (r1 > 0) same_head(&o1, b1, &o3, pre);
        }
        free(pre);
        free(b2);
        if (r1 <= 0) { free(b1); break; }

        size_t head = (size_t) r1;
        in_head(o1.method, b1, head, "method");
        in_head(o1.target, b1, head, "target");
        in_head(o1.host, b1, head, "host");
        if (o1.num_headers > MAXH) FAIL("num_headers %u", o1.num_headers);
        for (uint16_t i = 0; i < o1.num_headers; i++) {
            in_head(o1.headers[i].name, b1, head, "name");
            in_head(o1.headers[i].value, b1, head, "value");
            if (o1.headers[i].name.len == 0) FAIL("empty field name accepted");
        }
        if (o1.method.len == 0 || o1.target.len == 0) FAIL("empty method or target accepted");
        if ((o1.flags & HT_HEAD_CHUNKED) && (o1.flags & HT_HEAD_CONTENT_LENGTH))
            FAIL("both chunked and Content-Length");
        uint32_t flags = o1.flags;
        uint64_t cl = o1.content_length;
        free(b1);

        s += head;
        n -= head;
        if (flags & HT_HEAD_CHUNKED) {
            ht_io_t v;
            size_t used;
            check_chunked(s, n, split % (n + 1), &v, &used);
            if (v < 0) break;
            s += used;
            n -= used;
        } else if (flags & HT_HEAD_CONTENT_LENGTH) {
            if (cl > n) break;
            s += cl;
            n -= (size_t) cl;
        }
    }
    return 0;
}
