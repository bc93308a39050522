/* check_uri: request-target forms and rejections, per-byte character
 * classes re-derived from RFC 3986, percent-decoding, dot-segment removal
 * (RFC 3986 §5.2.4 / §5.4 and an exhaustive comparison with a direct
 * transcription of the RFC's algorithm), query iteration. */
#include <check.h>
#include <ht/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static ht_slice_t S(const char* s) { return ht_slice__from_cstr(s); }

static bool slice_is(ht_slice_t s, const char* want) { return ht_slice__eq(s, S(want)); }

#define ASSERT_SLICE(s, want)                                                               \
    ck_assert_msg(slice_is((s), (want)), "%s: got \"%.*s\" want \"%s\"", #s,                \
                  HT_SLICE_FMT(s), (want))

/* ---- parse: accepted forms ---- */

typedef struct {
    const char* in;
    uint32_t    flags;
    uint8_t     form;
    const char* scheme;
    const char* host;
    uint16_t    port;
    const char* path;
    const char* query; /* nullptr: no '?' */
} ok_case_t;

static const ok_case_t ok_cases[] = {
    /* origin-form */
    { "/", 0, HT_URI_ORIGIN, "", "", 0, "/", nullptr },
    { "/index.html", 0, HT_URI_ORIGIN, "", "", 0, "/index.html", nullptr },
    { "/a/b?x=1&y", 0, HT_URI_ORIGIN, "", "", 0, "/a/b", "x=1&y" },
    { "/?", 0, HT_URI_ORIGIN, "", "", 0, "/", "" },
    { "/p?", 0, HT_URI_ORIGIN, "", "", 0, "/p", "" },
    { "//x//y/", 0, HT_URI_ORIGIN, "", "", 0, "//x//y/", nullptr },
    { "/a?b?c/d:@", 0, HT_URI_ORIGIN, "", "", 0, "/a", "b?c/d:@" },
    { "/%41%2f%00?%20%2B", 0, HT_URI_ORIGIN, "", "", 0, "/%41%2f%00", "%20%2B" },
    { "/-._~!$&'()*+,;=:@", 0, HT_URI_ORIGIN, "", "", 0, "/-._~!$&'()*+,;=:@", nullptr },
    { "/AZaz09", 0, HT_URI_ORIGIN, "", "", 0, "/AZaz09", nullptr },
    { "/a/../b/./c", 0, HT_URI_ORIGIN, "", "", 0, "/a/../b/./c", nullptr }, /* dots kept */
    /* absolute-form */
    { "http://example.com", 0, HT_URI_ABSOLUTE, "http", "example.com", 0, "", nullptr },
    { "http://example.com/", 0, HT_URI_ABSOLUTE, "http", "example.com", 0, "/", nullptr },
    { "http://example.com:8080/p?q", 0, HT_URI_ABSOLUTE, "http", "example.com", 8080, "/p", "q" },
    { "HTTPS://EXAMPLE.com/", 0, HT_URI_ABSOLUTE, "HTTPS", "EXAMPLE.com", 0, "/", nullptr },
    { "http://h?q", 0, HT_URI_ABSOLUTE, "http", "h", 0, "", "q" },
    { "http://h:/", 0, HT_URI_ABSOLUTE, "http", "h", 0, "/", nullptr },
    { "http://h:65535", 0, HT_URI_ABSOLUTE, "http", "h", 65535, "", nullptr },
    { "http://h:00080/", 0, HT_URI_ABSOLUTE, "http", "h", 80, "/", nullptr },
    { "http://127.0.0.1:1/x", 0, HT_URI_ABSOLUTE, "http", "127.0.0.1", 1, "/x", nullptr },
    { "http://[::1]/", 0, HT_URI_ABSOLUTE, "http", "[::1]", 0, "/", nullptr },
    { "http://[2001:db8::7]:443/a", 0, HT_URI_ABSOLUTE, "http", "[2001:db8::7]", 443, "/a", nullptr },
    { "http://[v7.fe80::1]/", 0, HT_URI_ABSOLUTE, "http", "[v7.fe80::1]", 0, "/", nullptr },
    { "http://ex%41mple.com/", 0, HT_URI_ABSOLUTE, "http", "ex%41mple.com", 0, "/", nullptr },
    { "coap+tcp-2.x://h/", 0, HT_URI_ABSOLUTE, "coap+tcp-2.x", "h", 0, "/", nullptr },
    { "http://a!$&'()*+,;=b/", 0, HT_URI_ABSOLUTE, "http", "a!$&'()*+,;=b", 0, "/", nullptr },
    /* asterisk-form */
    { "*", 0, HT_URI_ASTERISK, "", "", 0, "*", nullptr },
    /* authority-form, CONNECT only */
    { "example.com:443", HT_URI_CONNECT, HT_URI_AUTHORITY, "", "example.com", 443, "", nullptr },
    { "[::1]:8443", HT_URI_CONNECT, HT_URI_AUTHORITY, "", "[::1]", 8443, "", nullptr },
    { "10.0.0.1:1", HT_URI_CONNECT, HT_URI_AUTHORITY, "", "10.0.0.1", 1, "", nullptr },
    /* lenient: what some clients send unencoded */
    { "/a|b?c={x}^`\"<>\\", HT_URI_LENIENT, HT_URI_ORIGIN, "", "", 0, "/a|b", "c={x}^`\"<>\\" },
    { "/caf\xc3\xa9", HT_URI_LENIENT, HT_URI_ORIGIN, "", "", 0, "/caf\xc3\xa9", nullptr },
};

START_TEST(parse_accepts) {
    const ok_case_t* c = &ok_cases[_i];
    ht_uri_t u;
    memset(&u, 0xAA, sizeof u);
    ht_slice_t in = S(c->in);
    ht_result_t r = ht_uri__parse(&u, in, c->flags);
    ck_assert_msg(r == 0, "\"%s\": %d (%s)", c->in, r, ht_result__str(r));
    ck_assert_uint_eq(u.form, c->form);
    ASSERT_SLICE(u.scheme, c->scheme);
    ASSERT_SLICE(u.host, c->host);
    ck_assert_uint_eq(u.port, c->port);
    ASSERT_SLICE(u.path, c->path);
    ck_assert(u.has_query == (c->query != nullptr));
    ASSERT_SLICE(u.query, c->query ? c->query : "");
    /* Zero-copy: non-empty slices point into the input. */
    ht_slice_t parts[] = { u.scheme, u.host, u.path, u.query };
    for (size_t i = 0; i < HT_ARRAY_LEN(parts); i++) {
        if (!parts[i].len) continue;
        ck_assert(parts[i].ptr >= in.ptr && parts[i].ptr + parts[i].len <= in.ptr + in.len);
    }
}
END_TEST

/* ---- parse: rejections ---- */

typedef struct {
    const char* in;
    size_t      len; /* 0: strlen */
    uint32_t    flags;
    ht_result_t r;
} bad_case_t;

static const bad_case_t bad_cases[] = {
    { "", 0, 0, HT_E_BAD_URI },
    { "a", 0, 0, HT_E_BAD_URI },
    { "a/b", 0, 0, HT_E_BAD_URI },
    { "?x", 0, 0, HT_E_BAD_URI },
    { "./a", 0, 0, HT_E_BAD_URI },
    { "/a b", 0, 0, HT_E_BAD_URI },
    { "/a\tb", 0, 0, HT_E_BAD_URI },
    { "/a\x01", 0, 0, HT_E_BAD_URI },
    { "/a\x7f", 0, 0, HT_E_BAD_URI },
    { "/a\r\n", 0, 0, HT_E_BAD_URI },
    { "/a\0b", 4, 0, HT_E_BAD_URI },
    { "/a?b c", 0, 0, HT_E_BAD_URI },
    { "/a#frag", 0, 0, HT_E_BAD_URI },
    { "/a?b#c", 0, 0, HT_E_BAD_URI },
    { "/#", 0, 0, HT_E_BAD_URI },
    { "/\x80", 0, 0, HT_E_BAD_URI },
    { "/caf\xc3\xa9", 0, 0, HT_E_BAD_URI },
    { "/a\"", 0, 0, HT_E_BAD_URI },
    { "/a<", 0, 0, HT_E_BAD_URI },
    { "/a>", 0, 0, HT_E_BAD_URI },
    { "/a\\..\\b", 0, 0, HT_E_BAD_URI },
    { "/a^", 0, 0, HT_E_BAD_URI },
    { "/a`", 0, 0, HT_E_BAD_URI },
    { "/a{", 0, 0, HT_E_BAD_URI },
    { "/a|", 0, 0, HT_E_BAD_URI },
    { "/?a}", 0, 0, HT_E_BAD_URI },
    { "/a[0]", 0, 0, HT_E_BAD_URI },
    /* lenient still refuses CTLs, SP, DEL and fragments */
    { "/a b", 0, HT_URI_LENIENT, HT_E_BAD_URI },
    { "/a#b", 0, HT_URI_LENIENT, HT_E_BAD_URI },
    { "/a\x7f", 0, HT_URI_LENIENT, HT_E_BAD_URI },
    { "/a?\x1b", 0, HT_URI_LENIENT, HT_E_BAD_URI },
    /* escapes */
    { "/%", 0, 0, HT_E_BAD_ESCAPE },
    { "/%4", 0, 0, HT_E_BAD_ESCAPE },
    { "/%zz", 0, 0, HT_E_BAD_ESCAPE },
    { "/%4g", 0, 0, HT_E_BAD_ESCAPE },
    { "/%g4", 0, 0, HT_E_BAD_ESCAPE },
    { "/a%?b", 0, 0, HT_E_BAD_ESCAPE },
    { "/a?%", 0, 0, HT_E_BAD_ESCAPE },
    { "/a?x=%2", 0, 0, HT_E_BAD_ESCAPE },
    { "http://h%2/", 0, 0, HT_E_BAD_ESCAPE },
    /* absolute-form */
    { "http:/x", 0, 0, HT_E_BAD_URI },
    { "http:x", 0, 0, HT_E_BAD_URI },
    { "http:", 0, 0, HT_E_BAD_URI },
    { "http//x/", 0, 0, HT_E_BAD_URI },
    { "1http://x/", 0, 0, HT_E_BAD_URI },
    { "+http://x/", 0, 0, HT_E_BAD_URI },
    { "ht tp://x/", 0, 0, HT_E_BAD_URI },
    { "ht_tp://x/", 0, 0, HT_E_BAD_URI },
    { "http://", 0, 0, HT_E_BAD_URI },
    { "http:///p", 0, 0, HT_E_BAD_URI },
    { "http://?q", 0, 0, HT_E_BAD_URI },
    { "http://:80/", 0, 0, HT_E_BAD_URI },
    { "http://u@h/", 0, 0, HT_E_BAD_URI },
    { "http://u:p@h/", 0, 0, HT_E_BAD_URI },
    { "http://h:99999/", 0, 0, HT_E_BAD_URI },
    { "http://h:65536/", 0, 0, HT_E_BAD_URI },
    { "http://h:0/", 0, 0, HT_E_BAD_URI },
    { "http://h:8x/", 0, 0, HT_E_BAD_URI },
    { "http://h:-1/", 0, 0, HT_E_BAD_URI },
    { "http://h:1:2/", 0, 0, HT_E_BAD_URI },
    { "http://[::1/", 0, 0, HT_E_BAD_URI },
    { "http://[]/", 0, 0, HT_E_BAD_URI },
    { "http://[::1]x/", 0, 0, HT_E_BAD_URI },
    { "http://[::1%25eth0]/", 0, 0, HT_E_BAD_URI },
    { "http://h h/", 0, 0, HT_E_BAD_URI },
    { "http://h#f", 0, 0, HT_E_BAD_URI },
    { "http://h/#", 0, 0, HT_E_BAD_URI },
    { "http://h/a b", 0, 0, HT_E_BAD_URI },
    /* asterisk-form is exactly "*" */
    { "*x", 0, 0, HT_E_BAD_URI },
    { "**", 0, 0, HT_E_BAD_URI },
    { "*?", 0, 0, HT_E_BAD_URI },
    /* authority-form: only with CONNECT, port required, nothing else */
    { "example.com:443", 0, 0, HT_E_BAD_URI },
    { "example.com", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { "example.com:", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { ":443", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { "", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { "/", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { "*", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { "http://h:80/", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { "u@h:1", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { "h:443/x", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { "h:65536", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { "h:0", 0, HT_URI_CONNECT, HT_E_BAD_URI },
    { "[::1]", 0, HT_URI_CONNECT, HT_E_BAD_URI },
};

START_TEST(parse_rejects) {
    const bad_case_t* c = &bad_cases[_i];
    ht_uri_t u;
    memset(&u, 0xAA, sizeof u);
    ht_slice_t in = ht_slice__from(c->in, c->len ? c->len : strlen(c->in));
    ht_result_t r = ht_uri__parse(&u, in, c->flags);
    ck_assert_msg(r == c->r, "case %d \"%s\": got %d (%s), want %d", _i, c->in, r,
                  ht_result__str(r), c->r);
    ck_assert_uint_eq(u.form, 0); /* zeroed on failure */
    ck_assert_uint_eq(u.path.len, 0);
    ck_assert_ptr_null(u.host.ptr);
}
END_TEST

START_TEST(parse_errors_are_400) {
    ck_assert_uint_eq(ht_result__status(HT_E_BAD_URI), 400);
    ck_assert_uint_eq(ht_result__status(HT_E_BAD_ESCAPE), 400);
    ck_assert_uint_eq(ht_result__status(HT_E_PATH_ESCAPE), 400);
}
END_TEST

/* ---- every byte, against RFC 3986's sets written out here again ---- */

static bool in_set(int c, const char* set) { return c != 0 && strchr(set, c) != nullptr; }
static bool rfc_unreserved(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           in_set(c, "-._~");
}
static bool rfc_sub_delim(int c) { return in_set(c, "!$&'()*+,;="); }
static bool rfc_pchar(int c) { return rfc_unreserved(c) || rfc_sub_delim(c) || in_set(c, ":@"); }
static bool unwise(int c) { return c >= 0x80 || in_set(c, "\"<>\\^`{|}"); }

static ht_result_t parse_with_byte(const char* pre, int c, const char* post, uint32_t flags) {
    char buf[64];
    size_t n = strlen(pre);
    memcpy(buf, pre, n);
    buf[n++] = (char) c;
    memcpy(buf + n, post, strlen(post));
    n += strlen(post);
    ht_uri_t u;
    return ht_uri__parse(&u, ht_slice__from(buf, n), flags);
}

START_TEST(every_byte_in_path_query_host) {
    for (int c = 0; c < 256; c++) {
        /* path: pchar / "/" ('?' just starts the query) */
        bool want = rfc_pchar(c) || c == '/' || c == '?';
        ck_assert_msg((parse_with_byte("/a", c, "b", 0) == 0) == want, "path byte 0x%02x", c);
        ck_assert_msg((parse_with_byte("/a", c, "b", HT_URI_LENIENT) == 0) == (want || unwise(c)),
                      "lenient path byte 0x%02x", c);
        /* query: pchar / "/" / "?" */
        ck_assert_msg((parse_with_byte("/?a", c, "b", 0) == 0) == want, "query byte 0x%02x", c);
        /* reg-name: unreserved / sub-delims; '/' and '?' end the host */
        want = rfc_unreserved(c) || rfc_sub_delim(c) || c == '/' || c == '?';
        ck_assert_msg((parse_with_byte("http://a", c, "b/", 0) == 0) == want, "host byte 0x%02x", c);
        /* scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
        want = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               in_set(c, "+-.");
        ck_assert_msg((parse_with_byte("h", c, "p://x/", 0) == 0) == want, "scheme byte 0x%02x", c);
    }
}
END_TEST

/* ---- percent-decoding ---- */

typedef struct {
    const char* in;
    size_t      len; /* 0: strlen */
    uint32_t    flags;
    ht_io_t     r;   /* >= 0: expected length of out */
    const char* out;
} dec_case_t;

static const dec_case_t dec_cases[] = {
    { "", 0, 0, 0, "" },
    { "abc", 0, 0, 3, "abc" },
    { "%41%42c", 0, 0, 3, "ABc" },
    { "%7e%7E", 0, 0, 2, "~~" },
    { "%25", 0, 0, 1, "%" },
    { "%2541", 0, 0, 3, "%41" }, /* decodes once */
    { "a+b", 0, 0, 3, "a+b" },
    { "a+b", 0, HT_URI_DECODE_PLUS, 3, "a b" },
    { "%2B+", 0, HT_URI_DECODE_PLUS, 2, "+ " },
    { "/a%2Fb", 0, 0, 4, "/a/b" },
    { "/a%2fb", 0, 0, 4, "/a/b" },
    { "/a%2Fb", 0, HT_URI_DECODE_NO_SLASH, HT_E_BAD_ESCAPE, nullptr },
    { "/a%2fb", 0, HT_URI_DECODE_NO_SLASH, HT_E_BAD_ESCAPE, nullptr },
    { "/a/b%252F", 0, HT_URI_DECODE_NO_SLASH, 7, "/a/b%2F" },
    { "%C3%a9", 0, 0, 2, "\xc3\xa9" },
    { "%FF%80%01%1f", 0, 0, 4, "\xff\x80\x01\x1f" },
    { "%", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "%4", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "a%", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "ab%1", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "%zz", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "%4g", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "%g4", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "%%41", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "% 41", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "%+1", 0, HT_URI_DECODE_PLUS, HT_E_BAD_ESCAPE, nullptr },
    { "%00", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "a%00b", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "file.txt%00.jpg", 0, 0, HT_E_BAD_ESCAPE, nullptr },
    { "a\0b", 3, 0, HT_E_BAD_ESCAPE, nullptr }, /* raw NUL too */
};

START_TEST(decode_table) {
    const dec_case_t* c = &dec_cases[_i];
    ht_slice_t in = ht_slice__from(c->in, c->len ? c->len : strlen(c->in));
    char out[64];
    ht_io_t r = ht_uri__decode(in, out, sizeof out, c->flags);
    ck_assert_msg(r == c->r, "case %d \"%s\": got %lld want %lld", _i, c->in, (long long) r,
                  (long long) c->r);
    if (r >= 0) {
        ck_assert_int_eq(memcmp(out, c->out, (size_t) r), 0);
        /* In place gives the same bytes. */
        char buf[64];
        memcpy(buf, in.ptr, in.len);
        ht_io_t r2 = ht_uri__decode(ht_slice__from(buf, in.len), buf, in.len, c->flags);
        ck_assert_int_eq(r2, r);
        ck_assert_int_eq(memcmp(buf, c->out, (size_t) r), 0);
    }
}
END_TEST

START_TEST(decode_every_byte_and_bounds) {
    static const char hex[] = "0123456789abcdef0123456789ABCDEF";
    for (int c = 1; c < 256; c++) {
        for (int upper = 0; upper < 2; upper++) {
            char in[3] = { '%', hex[16 * upper + (c >> 4)], hex[16 * upper + (c & 15)] };
            char out[1];
            ht_io_t r = ht_uri__decode(ht_slice__from(in, 3), out, 1, 0);
            ck_assert_int_eq(r, 1);
            ck_assert_int_eq((unsigned char) out[0], c);
            r = ht_uri__decode(ht_slice__from(in, 3), out, 1, HT_URI_DECODE_NO_SLASH);
            ck_assert_int_eq(r, c == '/' ? HT_E_BAD_ESCAPE : 1);
        }
    }
    char out[8];
    ck_assert_int_eq(ht_uri__decode(S("abc"), out, 2, 0), -ENOSPC);
    ck_assert_int_eq(ht_uri__decode(S("%41%42"), out, 2, 0), 2);
    ck_assert_int_eq(ht_uri__decode(S("%41%42"), out, 1, 0), -ENOSPC);
    ck_assert_int_eq(ht_uri__decode(S(""), nullptr, 0, 0), 0);
}
END_TEST

START_TEST(decode_in_place_long) {
    char buf[] = "/a%20b%2Fc/%E2%82%ACx+y%3F";
    ht_io_t r = ht_uri__decode(S(buf), buf, strlen(buf), 0);
    ck_assert_int_eq(r, 14);
    ck_assert_int_eq(memcmp(buf, "/a b/c/\xe2\x82\xacx+y?", 14), 0);
}
END_TEST

/* ---- dot segments ---- */

typedef struct {
    const char* in;
    const char* out;    /* non-strict result */
    bool        escape; /* strict refuses it */
} dot_case_t;

/* RFC 3986 §5.4.1 (normal) and §5.4.2 (abnormal) examples against the base
 * "http://a/b/c/d;p?q": each reference merged with the base path ("/b/c/" +
 * ref for relative paths, §5.2.3) and then cleaned; expected path from the
 * RFC's result URI. Then §5.2.4's own two worked examples and edge cases. */
static const dot_case_t dot_cases[] = {
    { "/b/c/g", "/b/c/g", false },             /* g */
    { "/b/c/./g", "/b/c/g", false },           /* ./g */
    { "/b/c/g/", "/b/c/g/", false },           /* g/ */
    { "/g", "/g", false },                     /* /g */
    { "/b/c/;x", "/b/c/;x", false },           /* ;x */
    { "/b/c/g;x", "/b/c/g;x", false },         /* g;x */
    { "/b/c/.", "/b/c/", false },              /* . */
    { "/b/c/./", "/b/c/", false },             /* ./ */
    { "/b/c/..", "/b/", false },               /* .. */
    { "/b/c/../", "/b/", false },              /* ../ */
    { "/b/c/../g", "/b/g", false },            /* ../g */
    { "/b/c/../..", "/", false },              /* ../.. */
    { "/b/c/../../", "/", false },             /* ../../ */
    { "/b/c/../../g", "/g", false },           /* ../../g */
    { "/b/c/../../../g", "/g", true },         /* ../../../g */
    { "/b/c/../../../../g", "/g", true },      /* ../../../../g */
    { "/./g", "/g", false },                   /* /./g */
    { "/../g", "/g", true },                   /* /../g */
    { "/b/c/g.", "/b/c/g.", false },           /* g. */
    { "/b/c/.g", "/b/c/.g", false },           /* .g */
    { "/b/c/g..", "/b/c/g..", false },         /* g.. */
    { "/b/c/..g", "/b/c/..g", false },         /* ..g */
    { "/b/c/./../g", "/b/g", false },          /* ./../g */
    { "/b/c/./g/.", "/b/c/g/", false },        /* ./g/. */
    { "/b/c/g/./h", "/b/c/g/h", false },       /* g/./h */
    { "/b/c/g/../h", "/b/c/h", false },        /* g/../h */
    { "/b/c/g;x=1/./y", "/b/c/g;x=1/y", false },   /* g;x=1/./y */
    { "/b/c/g;x=1/../y", "/b/c/y", false },        /* g;x=1/../y */
    /* §5.2.4 */
    { "/a/b/c/./../../g", "/a/g", false },
    { "mid/content=5/../6", "mid/6", false },
    /* edges */
    { "", "", false },
    { "/", "/", false },
    { ".", "", false },
    { "./", "", false },
    { "..", "", true },
    { "../", "", true },
    { "../a", "a", true },
    { "/..", "/", true },
    { "/../", "/", true },
    { "/.", "/", false },
    { "/a/..", "/", false },
    { "/a/../..", "/", true },
    { "/a/../../b", "/b", true },
    { "a/..", "/", false },
    { "a/../..", "/", true },
    { "/.a/..b/.../", "/.a/..b/.../", false },
    { "/a//../", "/a/", false },
    { "//..", "/", false },
    { "/%2e%2e/x", "/%2e%2e/x", false }, /* encoded dots are names until decoded */
    { "/a/./././b", "/a/b", false },
    { "/a/b/c/../../../../../..", "/", true },
};

START_TEST(dot_table) {
    const dot_case_t* c = &dot_cases[_i];
    char buf[64];
    size_t n = strlen(c->in);
    memcpy(buf, c->in, n);
    ht_io_t r = ht_uri__remove_dot_segments(buf, n, 0);
    ck_assert_msg(r >= 0 && (size_t) r == strlen(c->out) && memcmp(buf, c->out, (size_t) r) == 0,
                  "\"%s\": got \"%.*s\" want \"%s\"", c->in, (int) (r < 0 ? 0 : r), buf, c->out);
    memcpy(buf, c->in, n);
    r = ht_uri__remove_dot_segments(buf, n, HT_URI_DOTS_STRICT);
    if (c->escape) {
        ck_assert_msg(r == HT_E_PATH_ESCAPE, "strict \"%s\": got %lld", c->in, (long long) r);
    } else {
        ck_assert_msg(r >= 0 && (size_t) r == strlen(c->out) && memcmp(buf, c->out, (size_t) r) == 0,
                      "strict \"%s\"", c->in);
    }
}
END_TEST

/* The RFC's algorithm transcribed literally, with separate input and output
 * strings; "escape" marks a ".." that found nothing to remove. */
static size_t ref_dots(const char* path, char* out, bool* escape) {
    char in[64];
    snprintf(in, sizeof in, "%s", path);
    size_t o = 0;
    *escape = false;
    while (in[0]) {
        if (strncmp(in, "../", 3) == 0) {
            *escape = true;
            memmove(in, in + 3, strlen(in + 3) + 1);
        } else if (strncmp(in, "./", 2) == 0) {
            memmove(in, in + 2, strlen(in + 2) + 1);
        } else if (strncmp(in, "/./", 3) == 0) {
            memmove(in, in + 2, strlen(in + 2) + 1);
        } else if (strcmp(in, "/.") == 0) {
            strcpy(in, "/");
        } else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            if (in[3]) memmove(in, in + 3, strlen(in + 3) + 1);
            else strcpy(in, "/");
            if (o == 0) *escape = true;
            while (o > 0 && out[o - 1] != '/') o--;
            if (o > 0) o--;
        } else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0) {
            if (in[1]) *escape = true;
            in[0] = 0;
        } else {
            size_t k = in[0] == '/' ? 1 : 0;
            while (in[k] && in[k] != '/') k++;
            memcpy(out + o, in, k);
            o += k;
            memmove(in, in + k, strlen(in + k) + 1);
        }
    }
    return o;
}

START_TEST(dot_exhaustive_against_rfc_transcription) {
    /* Every string of length 0..9 over { '/', '.', 'a' }: 29,524 paths. */
    static const char alpha[] = "/.a";
    char path[16], buf[16], want[64];
    unsigned long checked = 0;
    for (int len = 0; len <= 9; len++) {
        unsigned long total = 1;
        for (int i = 0; i < len; i++) total *= 3;
        for (unsigned long k = 0; k < total; k++) {
            unsigned long v = k;
            for (int i = 0; i < len; i++, v /= 3) path[i] = alpha[v % 3];
            path[len] = 0;
            bool escape;
            size_t wn = ref_dots(path, want, &escape);
            memcpy(buf, path, (size_t) len);
            ht_io_t r = ht_uri__remove_dot_segments(buf, (size_t) len, 0);
            ck_assert_msg(r == (ht_io_t) wn && memcmp(buf, want, wn) == 0,
                          "\"%s\": got \"%.*s\" want \"%.*s\"", path, (int) (r < 0 ? 0 : r), buf,
                          (int) wn, want);
            memcpy(buf, path, (size_t) len);
            r = ht_uri__remove_dot_segments(buf, (size_t) len, HT_URI_DOTS_STRICT);
            if (escape) ck_assert_msg(r == HT_E_PATH_ESCAPE, "strict \"%s\"", path);
            else ck_assert_msg(r == (ht_io_t) wn && memcmp(buf, want, wn) == 0, "strict \"%s\"", path);
            checked++;
        }
    }
    ck_assert_uint_eq(checked, 29524);
}
END_TEST

/* ---- decode + dots: the file server's recipe ---- */

static ht_io_t to_file_path(const char* target, char* buf, size_t cap) {
    ht_uri_t u;
    ht_result_t r = ht_uri__parse(&u, S(target), 0);
    if (r) return r;
    ht_io_t n = ht_uri__decode(u.path, buf, cap, HT_URI_DECODE_NO_SLASH);
    if (n < 0) return n;
    return ht_uri__remove_dot_segments(buf, (size_t) n, HT_URI_DOTS_STRICT);
}

START_TEST(file_path_recipe) {
    char buf[128];
    ht_io_t n = to_file_path("/static/./css/../img/a%20b.png?v=1", buf, sizeof buf);
    ck_assert_int_eq(n, 19);
    ck_assert_int_eq(memcmp(buf, "/static/img/a b.png", 19), 0);
    ck_assert_int_eq(to_file_path("/static/%2e%2e/%2e%2e/etc/passwd", buf, sizeof buf),
                     HT_E_PATH_ESCAPE);
    ck_assert_int_eq(to_file_path("/static/..%2F..%2Fetc/passwd", buf, sizeof buf), HT_E_BAD_ESCAPE);
    ck_assert_int_eq(to_file_path("/../etc/passwd", buf, sizeof buf), HT_E_PATH_ESCAPE);
    ck_assert_int_eq(to_file_path("/a.txt%00.png", buf, sizeof buf), HT_E_BAD_ESCAPE);
    ck_assert_int_eq(to_file_path("/a/..", buf, sizeof buf), 1);
    ck_assert_int_eq(buf[0], '/');
}
END_TEST

/* ---- query iteration ---- */

typedef struct {
    const char* key;
    const char* value; /* nullptr: no '=' */
} kv_t;

static void check_query(const char* q, const kv_t* want, size_t n) {
    ht_uri_query_iter_t it;
    ht_slice_t k, v, qs = S(q);
    ht_uri__query_iter(&it, qs);
    size_t i = 0;
    while (ht_uri__query_next(&it, &k, &v)) {
        ck_assert_msg(i < n, "\"%s\": extra pair \"%.*s\"", q, HT_SLICE_FMT(k));
        ASSERT_SLICE(k, want[i].key);
        if (want[i].value) {
            ck_assert_ptr_nonnull(v.ptr);
            ASSERT_SLICE(v, want[i].value);
            ck_assert(v.ptr >= qs.ptr && v.ptr + v.len <= qs.ptr + qs.len);
        } else {
            ck_assert_ptr_null(v.ptr);
            ck_assert_uint_eq(v.len, 0);
        }
        ck_assert(k.ptr >= qs.ptr && k.ptr + k.len <= qs.ptr + qs.len);
        i++;
    }
    ck_assert_msg(i == n, "\"%s\": %zu pairs, want %zu", q, i, n);
    ck_assert(!ht_uri__query_next(&it, &k, &v)); /* stays at the end */
}

START_TEST(query_iteration) {
    check_query("a=1&b=&c&&d=%20", (kv_t[]){ { "a", "1" }, { "b", "" }, { "c", nullptr }, { "d", "%20" } }, 4);
    check_query("", nullptr, 0);
    check_query("&&&", nullptr, 0);
    check_query("&a", (kv_t[]){ { "a", nullptr } }, 1);
    check_query("a&", (kv_t[]){ { "a", nullptr } }, 1);
    check_query("=x", (kv_t[]){ { "", "x" } }, 1);
    check_query("=", (kv_t[]){ { "", "" } }, 1);
    check_query("a==b", (kv_t[]){ { "a", "=b" } }, 1);
    check_query("a=1;b=2", (kv_t[]){ { "a", "1;b=2" } }, 1);
    check_query("q=a+b&x=%2B", (kv_t[]){ { "q", "a+b" }, { "x", "%2B" } }, 2);
    check_query("x=1&x=2", (kv_t[]){ { "x", "1" }, { "x", "2" } }, 2);

    ht_slice_t v;
    ck_assert(ht_uri__query_find(S("a=1&b=&c&x=1&x=2"), HT_SLICE("x"), &v));
    ASSERT_SLICE(v, "1");
    ck_assert(ht_uri__query_find(S("a=1&b=&c"), HT_SLICE("b"), &v));
    ck_assert_ptr_nonnull(v.ptr);
    ck_assert_uint_eq(v.len, 0);
    ck_assert(ht_uri__query_find(S("a=1&b=&c"), HT_SLICE("c"), &v));
    ck_assert_ptr_null(v.ptr);
    ck_assert(!ht_uri__query_find(S("a=1&b=&c"), HT_SLICE("A"), &v));
    ck_assert(!ht_uri__query_find(S("a=1"), HT_SLICE("a=1"), &v));
    ck_assert(!ht_uri__query_find(HT_SLICE_NULL, HT_SLICE("a"), &v));

    /* Values decode separately; '+' is a space only when asked. */
    char out[16];
    ck_assert(ht_uri__query_find(S("q=a+b%2Bc"), HT_SLICE("q"), &v));
    ht_io_t n = ht_uri__decode(v, out, sizeof out, HT_URI_DECODE_PLUS);
    ck_assert_int_eq(n, 5);
    ck_assert_int_eq(memcmp(out, "a b+c", 5), 0);
}
END_TEST

START_TEST(parse_then_iterate) {
    ht_uri_t u;
    ck_assert_int_eq(ht_uri__parse(&u, S("/search?q=hello%20world&page=2&flag"), 0), 0);
    ht_slice_t v;
    ck_assert(ht_uri__query_find(u.query, HT_SLICE("page"), &v));
    ASSERT_SLICE(v, "2");
    ck_assert(ht_uri__query_find(u.query, HT_SLICE("flag"), &v));
    ck_assert_ptr_null(v.ptr);
}
END_TEST

/* ---- over-read guard: every table again, each input ending exactly where
 * an unreadable page begins, so reading one byte past the slice faults ---- */

static char* guard_page_end(void) {
    static char* end;
    if (!end) {
        long pg = sysconf(_SC_PAGESIZE);
        char* m = mmap(nullptr, (size_t) pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        ck_assert(m != MAP_FAILED);
        ck_assert_int_eq(mprotect(m + pg, (size_t) pg, PROT_NONE), 0);
        end = m + pg;
    }
    return end;
}

/* Copies s[0, n) so that it ends at the guard page; returns the copy. */
static char* at_guard(const char* s, size_t n) {
    char* p = guard_page_end() - n;
    memcpy(p, s, n);
    return p;
}

START_TEST(no_read_past_the_end) {
    ht_uri_t u;
    for (size_t i = 0; i < HT_ARRAY_LEN(ok_cases); i++) {
        size_t n = strlen(ok_cases[i].in);
        ck_assert_int_eq(ht_uri__parse(&u, ht_slice__from(at_guard(ok_cases[i].in, n), n),
                                       ok_cases[i].flags), 0);
        ht_uri_query_iter_t it;
        ht_slice_t k, v;
        ht_uri__query_iter(&it, u.query);
        while (ht_uri__query_next(&it, &k, &v)) {}
        /* Every prefix too: truncation must not make the parser look further. */
        for (size_t m = 0; m < n; m++) {
            (void) ht_uri__parse(&u, ht_slice__from(at_guard(ok_cases[i].in, m), m),
                                 ok_cases[i].flags);
        }
    }
    for (size_t i = 0; i < HT_ARRAY_LEN(bad_cases); i++) {
        size_t n = bad_cases[i].len ? bad_cases[i].len : strlen(bad_cases[i].in);
        ck_assert_int_eq(ht_uri__parse(&u, ht_slice__from(at_guard(bad_cases[i].in, n), n),
                                       bad_cases[i].flags), bad_cases[i].r);
        for (size_t m = 0; m < n; m++)
            (void) ht_uri__parse(&u, ht_slice__from(at_guard(bad_cases[i].in, m), m),
                                 bad_cases[i].flags);
    }
    char out[64];
    for (size_t i = 0; i < HT_ARRAY_LEN(dec_cases); i++) {
        size_t n = dec_cases[i].len ? dec_cases[i].len : strlen(dec_cases[i].in);
        for (size_t m = 0; m <= n; m++) {
            ht_io_t r = ht_uri__decode(ht_slice__from(at_guard(dec_cases[i].in, m), m), out,
                                       sizeof out, dec_cases[i].flags);
            if (m == n) ck_assert_int_eq(r, dec_cases[i].r);
        }
    }
    for (size_t i = 0; i < HT_ARRAY_LEN(dot_cases); i++) {
        size_t n = strlen(dot_cases[i].in);
        for (size_t m = 0; m <= n; m++) {
            char* p = at_guard(dot_cases[i].in, m);
            ht_io_t r = ht_uri__remove_dot_segments(p, m, 0);
            if (m == n) {
                ck_assert_int_eq(r, (ht_io_t) strlen(dot_cases[i].out));
                ck_assert_int_eq(memcmp(p, dot_cases[i].out, (size_t) r), 0);
            }
            p = at_guard(dot_cases[i].in, m);
            (void) ht_uri__remove_dot_segments(p, m, HT_URI_DOTS_STRICT);
        }
    }
}
END_TEST

/* Random targets over the interesting bytes: never crashes, and what is
 * accepted has the documented shape. */
START_TEST(random_targets_keep_invariants) {
    static const char alphabet[] = "/?#%:@[].a2F*h!+ \\\x7f";
    uint64_t x = 0x2545F4914F6CDD1Du;
    char tmp[48];
    unsigned long accepted = 0;
    for (int iter = 0; iter < 200000; iter++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t n = (size_t) (x % 24);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            tmp[i] = alphabet[x % (sizeof alphabet - 1)];
        }
        if (n >= 7 && (x & 16)) memcpy(tmp, "http://", 7);
        char* in = at_guard(tmp, n);
        ht_uri_t u;
        uint32_t flags = (x >> 20) & 1 ? HT_URI_CONNECT : 0;
        if (ht_uri__parse(&u, ht_slice__from(in, n), flags) != 0) continue;
        accepted++;
        ck_assert(memchr(in, '#', n) == nullptr && memchr(in, ' ', n) == nullptr);
        ht_slice_t parts[] = { u.scheme, u.host, u.path, u.query };
        for (size_t i = 0; i < HT_ARRAY_LEN(parts); i++)
            if (parts[i].len) ck_assert(parts[i].ptr >= in && parts[i].ptr + parts[i].len <= in + n);
        switch (u.form) {
        case HT_URI_ORIGIN: ck_assert(u.path.len >= 1 && u.path.ptr[0] == '/'); break;
        case HT_URI_ABSOLUTE:
            ck_assert(u.host.len > 0 && u.scheme.len > 0);
            ck_assert(u.path.len == 0 || u.path.ptr[0] == '/');
            break;
        case HT_URI_AUTHORITY: ck_assert(u.host.len > 0 && u.port > 0); break;
        case HT_URI_ASTERISK: ck_assert(n == 1); break;
        default: ck_abort_msg("form %u", u.form);
        }
        ck_assert(memchr(u.path.ptr ? u.path.ptr : "", '?', u.path.len) == nullptr);
        /* Paths decode to at most their length; dot removal only shrinks. */
        char out[48];
        ht_io_t d = ht_uri__decode(u.path, out, sizeof out, 0);
        ck_assert(d == HT_E_BAD_ESCAPE || (d >= 0 && (size_t) d <= u.path.len));
        if (d >= 0) {
            ht_io_t r = ht_uri__remove_dot_segments(out, (size_t) d, 0);
            ck_assert(r >= 0 && r <= d);
        }
    }
    ck_assert_uint_gt(accepted, 1000); /* the generator does reach the valid space */
}
END_TEST

int main(void) {
    Suite* s = suite_create("uri");
    TCase* tc = tcase_create("parse");
    tcase_add_loop_test(tc, parse_accepts, 0, (int) HT_ARRAY_LEN(ok_cases));
    tcase_add_loop_test(tc, parse_rejects, 0, (int) HT_ARRAY_LEN(bad_cases));
    tcase_add_test(tc, parse_errors_are_400);
    tcase_add_test(tc, every_byte_in_path_query_host);
    suite_add_tcase(s, tc);
    tc = tcase_create("decode");
    tcase_add_loop_test(tc, decode_table, 0, (int) HT_ARRAY_LEN(dec_cases));
    tcase_add_test(tc, decode_every_byte_and_bounds);
    tcase_add_test(tc, decode_in_place_long);
    suite_add_tcase(s, tc);
    tc = tcase_create("dots");
    tcase_add_loop_test(tc, dot_table, 0, (int) HT_ARRAY_LEN(dot_cases));
    tcase_add_test(tc, dot_exhaustive_against_rfc_transcription);
    tcase_add_test(tc, file_path_recipe);
    suite_add_tcase(s, tc);
    tc = tcase_create("query");
    tcase_add_test(tc, query_iteration);
    tcase_add_test(tc, parse_then_iterate);
    suite_add_tcase(s, tc);
    tc = tcase_create("robustness");
    tcase_add_test(tc, no_read_past_the_end);
    tcase_add_test(tc, random_targets_keep_invariants);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
