/* fuzz_uri: ht_uri__parse, ht_uri__decode, ht_uri__remove_dot_segments and
 * the query iterator (ht/uri.h). Input: 1 flag byte, then a request-target.
 * Invariants (abort on violation):
 *   - parse: slices lie inside the target; ORIGIN paths start with '/';
 *     ABSOLUTE/AUTHORITY hosts are non-empty; after a successful parse, the
 *     only escape the decoder may refuse is %00 (and %2F under NO_SLASH);
 *   - decode: never longer than the input, never contains NUL, decoding in
 *     place equals decoding into another buffer; under NO_SLASH it creates no
 *     '/'; success implies every '%' started "%" HEXDIG HEXDIG;
 *   - dot segments: never longer; no "." or ".." segment left; idempotent; an
 *     absolute path stays absolute; STRICT refuses exactly the absolute paths
 *     whose ".." would climb above the root (checked against a segment-depth
 *     model), never accepts a climbing relative path, and where it succeeds
 *     it equals the clamping result;
 *   - the file-server pipeline (decode NO_SLASH, then STRICT dots) on an
 *     origin path yields a path that starts with '/' and has no ".." segment;
 *   - query pairs are sub-slices of the query without '&', and end. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ht/types.h>
#include <ht/uri.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_uri: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void inside(ht_slice_t s, const char* b, size_t n, const char* what) {
    if (s.len && (s.ptr < b || s.ptr + s.len > b + n)) FAIL("%s outside the target", what);
}

static bool ishex(unsigned char c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Segments of p split on '/'; a leading '/' starts no segment. */
static bool has_dot_segment(const char* p, size_t n) {
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && p[j] != '/') j++;
        size_t l = j - i;
        if ((l == 1 && p[i] == '.') || (l == 2 && p[i] == '.' && p[i + 1] == '.')) return true;
        i = j + 1;
    }
    return false;
}

/* Would a ".." climb above the start? Every other segment (empty included,
 * except the one before a leading '/') is one level down. */
static bool climbs(const char* p, size_t n) {
    long depth = 0;
    size_t i = (n && p[0] == '/') ? 1 : 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && p[j] != '/') j++;
        size_t l = j - i;
        if (l == 2 && p[i] == '.' && p[i + 1] == '.') {
            if (--depth < 0) return true;
        } else if (!(l == 1 && p[i] == '.')) {
            if (j < n) depth++; /* the last segment has nothing after it to climb from */
        }
        i = j + 1;
    }
    return false;
}

static void check_dots(const char* in, size_t n) {
    char* a = malloc(n ? n : 1);
    char* b = malloc(n ? n : 1);
    memcpy(a, in, n);
    memcpy(b, in, n);
    ht_io_t ra = ht_uri__remove_dot_segments(a, n, 0);
    ht_io_t rb = ht_uri__remove_dot_segments(b, n, HT_URI_DOTS_STRICT);
    if (ra < 0 || (size_t) ra > n) FAIL("dots: clamping gave %lld for %zu bytes", (long long) ra, n);
    if (has_dot_segment(a, (size_t) ra)) FAIL("dots: a dot segment survived: %.*s", (int) ra, a);
    if (n && in[0] == '/' && (ra == 0 || a[0] != '/')) FAIL("dots: absolute path lost its root");
    bool esc = climbs(in, n);
    if (rb == HT_E_PATH_ESCAPE) {
        /* Relative paths: RFC 3986's step A drops a leading "./" or "../"
         * with the empty segment behind it (".//../" becomes "/../"), so
         * STRICT may refuse one the model lets through; only absolute paths,
         * the ones a server sees, must match the model exactly. */
        if (!esc && n && in[0] == '/')
            FAIL("dots: STRICT refused a path that does not climb: %.*s", (int) n, in);
    } else {
        if (rb < 0) FAIL("dots: STRICT error %lld", (long long) rb);
        if (esc) FAIL("dots: STRICT accepted a climbing path: %.*s", (int) n, in);
        if (rb != ra || memcmp(a, b, (size_t) ra) != 0) FAIL("dots: STRICT result differs from clamping");
    }
    ht_io_t rc = ht_uri__remove_dot_segments(a, (size_t) ra, 0);
    if (rc != ra) FAIL("dots: not idempotent");
    free(a);
    free(b);
}

static ht_io_t check_decode(const char* in, size_t n, uint32_t flags, char** outp) {
    char* out = malloc(n ? n : 1);
    char* inplace = malloc(n ? n : 1);
    if (n) memcpy(inplace, in, n);
    ht_io_t r = ht_uri__decode(ht_slice__from(in, n), out, n, flags);
    ht_io_t r2 = ht_uri__decode(ht_slice__from(inplace, n), inplace, n, flags);
    if (r != r2) FAIL("decode: in place %lld, copied %lld", (long long) r2, (long long) r);
    if (r >= 0) {
        if ((size_t) r > n) FAIL("decode grew");
        if (memcmp(out, inplace, (size_t) r) != 0) FAIL("decode: in place differs");
        if (memchr(out, 0, (size_t) r)) FAIL("decode: NUL in the output");
        size_t si = 0, so = 0;
        for (size_t i = 0; i < n; i++) {
            if (in[i] == '/') si++;
            if (in[i] == '%' && (i + 2 >= n || !ishex((unsigned char) in[i + 1]) ||
                                 !ishex((unsigned char) in[i + 2])))
                FAIL("decode accepted a bad escape");
        }
        for (size_t i = 0; i < (size_t) r; i++) so += out[i] == '/';
        if ((flags & HT_URI_DECODE_NO_SLASH) && so != si) FAIL("decode NO_SLASH made a '/'");
    } else if (r != HT_E_BAD_ESCAPE) {
        FAIL("decode: unexpected error %lld", (long long) r);
    }
    free(inplace);
    if (outp) *outp = out; else free(out);
    return r;
}

static bool has_escape(const char* p, size_t n, char hi, char lo1, char lo2) {
    for (size_t i = 0; i + 2 < n; i++)
        if (p[i] == '%' && p[i + 1] == hi && (p[i + 2] == lo1 || p[i + 2] == lo2)) return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    uint8_t sel = data[0];
    size_t n = size - 1;
    char* t = malloc(n ? n : 1);
    memcpy(t, data + 1, n);

    /* the raw bytes through each primitive, whatever they are */
    check_decode(t, n, sel & 3, nullptr);
    check_dots(t, n);

    ht_uri_t u;
    ht_result_t r = ht_uri__parse(&u, ht_slice__from(t, n), (sel >> 2) & 3);
    if (r == 0) {
        inside(u.scheme, t, n, "scheme");
        inside(u.host, t, n, "host");
        inside(u.path, t, n, "path");
        inside(u.query, t, n, "query");
        switch (u.form) {
        case HT_URI_ORIGIN:
            if (!u.path.len || u.path.ptr[0] != '/') FAIL("origin path without '/'");
            break;
        case HT_URI_ABSOLUTE:
            if (!u.host.len || !u.scheme.len) FAIL("absolute without host or scheme");
            if (u.path.len && u.path.ptr[0] != '/') FAIL("absolute path without '/'");
            break;
        case HT_URI_AUTHORITY:
            if (!u.host.len || !u.port || !((sel >> 2) & HT_URI_CONNECT)) FAIL("bad authority form");
            break;
        case HT_URI_ASTERISK:
            if (u.path.len != 1 || u.path.ptr[0] != '*') FAIL("asterisk path");
            break;
        default:
            FAIL("form %u", u.form);
        }
        if (u.query.len && !u.has_query) FAIL("query without has_query");

        char* dec;
        ht_io_t d = check_decode(u.path.ptr, u.path.len, HT_URI_DECODE_NO_SLASH, &dec);
        if (d < 0 && !has_escape(u.path.ptr, u.path.len, '0', '0', '0') &&
            !has_escape(u.path.ptr, u.path.len, '2', 'f', 'F'))
            FAIL("parsed path refused by the decoder for no reason");
        if (d >= 0 && u.form == HT_URI_ORIGIN) {
            ht_io_t k = ht_uri__remove_dot_segments(dec, (size_t) d, HT_URI_DOTS_STRICT);
            if (k != HT_E_PATH_ESCAPE) {
                if (k <= 0 || dec[0] != '/') FAIL("pipeline: not rooted");
                if (has_dot_segment(dec, (size_t) k)) FAIL("pipeline: dot segment left");
            }
        }
        if (d >= 0) check_dots(dec, (size_t) d);
        free(dec);

        ht_uri_query_iter_t it;
        ht_slice_t k, v;
        size_t pairs = 0;
        ht_uri__query_iter(&it, u.query);
        while (ht_uri__query_next(&it, &k, &v)) {
            if (++pairs > u.query.len) FAIL("query iteration does not end");
            inside(k, u.query.ptr, u.query.len, "key");
            inside(v, u.query.ptr, u.query.len, "value");
            if (memchr(k.ptr, '&', k.len) || (v.len && memchr(v.ptr, '&', v.len))) FAIL("'&' in a pair");
            if (memchr(k.ptr, '=', k.len)) FAIL("'=' in a key");
            check_decode(v.ptr ? v.ptr : "", v.len, HT_URI_DECODE_PLUS, nullptr);
        }
    } else if (r != HT_E_BAD_URI && r != HT_E_BAD_ESCAPE) {
        FAIL("parse: unexpected error %d", r);
    }
    free(t);
    return 0;
}
