/* check_urls: the URL builders htgen generates (urls/routes.ht), checked
 * through the generated matcher: a built path matches its own route with
 * the same (decoded) parameters, for random values of every parameter
 * type; values no path of the route could carry are -EINVAL, a short
 * buffer -ENOSPC. Query parameters (query.ht) go the whole way: the built
 * URL through the generated dispatch (matcher, then the route's query
 * parser) to a handler here, which must see the same values. */
#include "u_routes.h"
#include "uq_routes.h" /* query.ht: query parameters, with the dispatch */

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ht/config.h>
#include <ht/request.h>

#include "server/out_fixture.h" /* a response built without a server */

static char scratch_[4096];

static u_status_t match_(const char* path, size_t len, u_match_t* m) {
    memset(m, 0xA5, sizeof *m);
    m->scratch = scratch_;
    m->scratch_cap = sizeof scratch_;
    return u__match(HT_METHOD_GET, (ht_slice_t){ path, len }, m);
}

static bool eq_(ht_slice_t a, ht_slice_t b) { return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0; }
static ht_slice_t s_(const char* s) { return ht_slice__from_cstr(s); }

START_TEST(test_fixed_urls) {
    char b[256];
    ck_assert_int_eq(u__url_root(b, sizeof b), 1);
    ck_assert_str_eq(b, "/");
    ck_assert_int_eq(u__url_by_u64(b, sizeof b, UINT64_MAX), 25);
    ck_assert_str_eq(b, "/u64/18446744073709551615");
    ck_assert_int_eq(u__url_by_i64(b, sizeof b, INT64_MIN), 25);
    ck_assert_str_eq(b, "/i64/-9223372036854775808");
    ck_assert_int_eq(u__url_by_hex(b, sizeof b, 0xBEEF), 9);
    ck_assert_str_eq(b, "/hex/beef");
    ck_assert_int_eq(u__url_img(b, sizeof b, 7), 10);
    ck_assert_str_eq(b, "/img-7.png");
    /* only what a segment needs is encoded: '/', '?', '#', '%', blanks, UTF-8 */
    ck_assert_int_gt(u__url_by_name(b, sizeof b, s_("a/b?c#d%e f\xc3\xa9:@!$&'()*+,;=-._~")), 0);
    ck_assert_str_eq(b, "/n/a%2Fb%3Fc%23d%25e%20f%C3%A9:@!$&'()*+,;=-._~");
    ck_assert_int_gt(u__url_files(b, sizeof b, s_("css/site main.css")), 0);
    ck_assert_str_eq(b, "/files/css/site%20main.css");
    ck_assert_int_eq(u__url_files(b, sizeof b, s_("")), 7);
    ck_assert_str_eq(b, "/files/");
    ck_assert_int_gt(u__url_same(b, sizeof b, 1), 0);
    ck_assert_str_eq(b, "/same/1");
    ck_assert_int_gt(u__url_same_2(b, sizeof b, 2), 0);
    ck_assert_str_eq(b, "/again/2");
    ck_assert_int_gt(u__url_clash(b, sizeof b, s_("x"), 3), 0);
    ck_assert_str_eq(b, "/buf/x/3");
    ck_assert_int_gt(u__url_mount_1(b, sizeof b, s_("a.txt")), 0);
    ck_assert_str_eq(b, "/static/a.txt");
    ck_assert_int_gt(u__url_by_re(b, sizeof b, s_("v12")), 0);
    ck_assert_str_eq(b, "/re/v12/x");
    ck_assert_int_gt(u__url_affixed_slug(b, sizeof b, s_("a-b")), 0);
    ck_assert_str_eq(b, "/pre-a-b-post/z");
}
END_TEST

START_TEST(test_invalid_values) {
    char b[64];
    const char nul[] = { 'a', '\0', 'b' };
    memcpy(b, "junk", 5);
    ck_assert_int_eq(u__url_by_name(b, sizeof b, s_("")), -EINVAL);
    ck_assert_str_eq(b, ""); /* an error leaves the empty string */
    ck_assert_int_eq(u__url_affixed_name(b, sizeof b, s_("")), -EINVAL);
    ck_assert_int_eq(u__url_by_str(b, sizeof b, (ht_slice_t){ nul, 3 }), -EINVAL);
    ck_assert_int_eq(u__url_by_name(b, sizeof b, s_(".")), -EINVAL);
    ck_assert_int_eq(u__url_by_name(b, sizeof b, s_("..")), -EINVAL);
    ck_assert_int_gt(u__url_by_name(b, sizeof b, s_("...")), 0);
    ck_assert_int_eq(u__url_files(b, sizeof b, s_("a/../etc")), -EINVAL);
    ck_assert_int_eq(u__url_files(b, sizeof b, s_("./a")), -EINVAL);
    ck_assert_int_eq(u__url_files(b, sizeof b, s_("a/..")), -EINVAL);
    ck_assert_int_gt(u__url_files(b, sizeof b, s_("a/..b/.c")), 0);
    ck_assert_int_eq(u__url_by_slug(b, sizeof b, s_("a b")), -EINVAL);
    ck_assert_int_eq(u__url_by_slug(b, sizeof b, s_("a.b")), -EINVAL);
    ck_assert_int_eq(u__url_by_slug(b, sizeof b, s_("")), -EINVAL);
    ck_assert_int_eq(u__url_affixed_slug(b, sizeof b, s_("a/b")), -EINVAL);
    ck_assert_int_eq(u__url_by_uuid(b, sizeof b, s_("123")), -EINVAL);
    ck_assert_int_eq(u__url_by_uuid(b, sizeof b, s_("0123456789ab-cdef-0123-4567-89abcdef0123")), -EINVAL);
    ck_assert_int_gt(u__url_by_uuid(b, sizeof b, s_("01234567-89ab-CDEF-0123-456789abcdef")), 0);
    ck_assert_int_eq(u__url_by_re(b, sizeof b, s_("x12")), -EINVAL);
    ck_assert_int_eq(u__url_by_re(b, sizeof b, s_("v")), -EINVAL);
    ck_assert_int_eq(u__url_by_re(b, sizeof b, s_("v1/2")), -EINVAL);
    /* {file:path...}: no '.', '..' or empty segment, no '\\' */
    ck_assert_int_gt(u__url_safe(b, sizeof b, s_("a/b c.txt")), 0);
    ck_assert_str_eq(b, "/safe/a/b%20c.txt");
    ck_assert_int_eq(u__url_safe(b, sizeof b, s_("a/../b")), -EINVAL);
    ck_assert_int_eq(u__url_safe(b, sizeof b, s_("a//b")), -EINVAL);
    ck_assert_int_eq(u__url_safe(b, sizeof b, s_("a/")), -EINVAL);
    ck_assert_int_eq(u__url_safe(b, sizeof b, s_("a\\b")), -EINVAL);
}
END_TEST

START_TEST(test_buffer_size) {
    char b[16];
    /* "/u64/12345" is 10 bytes: 11 takes the NUL, 10 the path alone, 9 nothing */
    memset(b, 'x', sizeof b);
    ck_assert_int_eq(u__url_by_u64(b, 11, 12345), 10);
    ck_assert_str_eq(b, "/u64/12345");
    memset(b, 'x', sizeof b);
    ck_assert_int_eq(u__url_by_u64(b, 10, 12345), 10);
    ck_assert(memcmp(b, "/u64/12345x", 11) == 0);
    memset(b, 'x', sizeof b);
    ck_assert_int_eq(u__url_by_u64(b, 9, 12345), -ENOSPC);
    ck_assert_int_eq(b[0], '\0');
    ck_assert_int_eq(b[9], 'x'); /* nothing past cap */
    ck_assert_int_eq(u__url_by_u64(nullptr, 0, 1), -ENOSPC);
    /* encoding counts: "/n/%20" is 6 bytes */
    ck_assert_int_eq(u__url_by_name(b, 6, s_(" ")), 6);
    ck_assert_int_eq(u__url_by_name(b, 5, s_(" ")), -ENOSPC);
}
END_TEST

/* ---- the property: build, match, compare ---- */
static uint64_t rng_ = 0x9E3779B97F4A7C15u;
static uint64_t rnd_(void) {
    rng_ ^= rng_ << 13, rng_ ^= rng_ >> 7, rng_ ^= rng_ << 17;
    return rng_;
}
static uint64_t rnd_u64_(void) { /* small, large and edge values */
    switch (rnd_() % 4) {
    case 0: return rnd_() % 10;
    case 1: return rnd_() % 100000;
    case 2: return rnd_() % 2 ? UINT64_MAX - rnd_() % 3 : 0;
    default: return rnd_();
    }
}

/* Random bytes (never NUL) into buf: from the whole byte range, or from
   alphabet when one is given; '/' only when slash. */
static size_t rnd_bytes_(char* buf, size_t min, size_t max, const char* alphabet, bool slash) {
    size_t n = min + rnd_() % (max - min + 1);
    for (size_t i = 0; i < n; i++) {
        char c;
        do c = alphabet ? alphabet[rnd_() % strlen(alphabet)] : (char) (1 + rnd_() % 255);
        while (c == '/' && !slash);
        buf[i] = c;
    }
    return n;
}

static bool dots_(const char* s, size_t n) { return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'); }

/* Whether a rest value has a "." or ".." segment (the builder refuses it). */
static bool rest_dots_(const char* s, size_t n) {
    size_t b = 0;
    for (size_t e = 0; e <= n; e++)
        if (e == n || s[e] == '/') {
            if (dots_(s + b, e - b)) return true;
            b = e + 1;
        }
    return false;
}

static const char slug_[] = "abcXYZ019_-";
static const char dotty_[] = "./a%";

START_TEST(test_roundtrip) {
    char b[2048], v1[256], v2[256];
    u_match_t m;
    int built = 0, refused = 0;
    for (int it = 0; it < 20000; it++) {
        int which = (int) (rnd_() % 10);
        ht_io_t n = 0;
        bool valid = true;
        size_t l1 = 0, l2 = 0;
        uint64_t x = rnd_u64_(), y = rnd_u64_();
        switch (which) {
        case 0: /* {name}: any bytes, or dots and '%' to probe "." / ".." */
            l1 = rnd_bytes_(v1, 1, 40, rnd_() % 2 ? nullptr : dotty_, true);
            valid = !dots_(v1, l1);
            n = u__url_by_name(b, sizeof b, (ht_slice_t){ v1, l1 });
            break;
        case 1:
            l1 = rnd_bytes_(v1, 1, 12, rnd_() % 4 ? slug_ : "a b.", false);
            valid = strspn(v1, slug_) >= l1 || l1 == 0;
            for (size_t i = 0; i < l1; i++) valid = valid && strchr(slug_, v1[i]);
            n = u__url_affixed_slug(b, sizeof b, (ht_slice_t){ v1, l1 });
            break;
        case 2: n = u__url_by_u64(b, sizeof b, x); break;
        case 3: n = u__url_by_i64(b, sizeof b, (int64_t) x); break;
        case 4: n = u__url_by_hex(b, sizeof b, x); break;
        case 5:
            v1[0] = 'v';
            l1 = 1 + rnd_bytes_(v1 + 1, 0, 8, rnd_() % 4 ? "0123456789" : "09x", false);
            valid = l1 > 1 && strspn(v1 + 1, "0123456789") >= l1 - 1;
            for (size_t i = 1; i < l1; i++) valid = valid && v1[i] >= '0' && v1[i] <= '9';
            n = u__url_by_re(b, sizeof b, (ht_slice_t){ v1, l1 });
            break;
        case 6:
            l1 = rnd_bytes_(v1, 0, 40, rnd_() % 2 ? nullptr : dotty_, true);
            valid = !rest_dots_(v1, l1);
            n = u__url_files(b, sizeof b, (ht_slice_t){ v1, l1 });
            break;
        case 7:
            l1 = rnd_bytes_(v1, 1, 20, nullptr, true);
            l2 = rnd_bytes_(v2, 0, 20, nullptr, true);
            valid = !dots_(v1, l1) && !rest_dots_(v2, l2);
            n = u__url_mix(b, sizeof b, x, (ht_slice_t){ v1, l1 }, (int64_t) y, (ht_slice_t){ v2, l2 });
            break;
        case 9: /* the safe rest: valid when every segment is, and none is empty */
            l1 = rnd_bytes_(v1, 0, 30, rnd_() % 2 ? nullptr : "./a\\", true);
            valid = !rest_dots_(v1, l1) && !memchr(v1, '\\', l1);
            for (size_t i = 0; i < l1; i++) valid = valid && !(v1[i] == '/' && (i == 0 || i + 1 == l1 || v1[i + 1] == '/'));
            n = u__url_safe(b, sizeof b, (ht_slice_t){ v1, l1 });
            break;
        default:
            l1 = rnd_bytes_(v1, 1, 20, nullptr, true);
            valid = true; /* affixed: "t-." is no dot segment */
            n = u__url_affixed_name(b, sizeof b, (ht_slice_t){ v1, l1 });
            break;
        }
        if (!valid) {
            ck_assert_msg(n == -EINVAL, "case %d: %lld for an invalid value", which, (long long) n);
            refused++;
            continue;
        }
        ck_assert_msg(n > 0, "case %d: %lld", which, (long long) n);
        ck_assert_uint_eq(strlen(b), (size_t) n);
        built++;
        ck_assert_msg(match_(b, (size_t) n, &m) == U_MATCH_FOUND, "case %d: %s not found", which, b);
        ht_slice_t s1 = { v1, l1 }, s2 = { v2, l2 };
        switch (which) {
        case 0:
            ck_assert_int_eq(m.route, U_ROUTE_BY_NAME);
            ck_assert(eq_(m.p.by_name.name, s1));
            break;
        case 1:
            ck_assert_int_eq(m.route, U_ROUTE_AFFIXED_SLUG);
            ck_assert(eq_(m.p.affixed_slug.w, s1));
            break;
        case 2:
            ck_assert_int_eq(m.route, U_ROUTE_BY_U64);
            ck_assert_uint_eq(m.p.by_u64.x, x);
            break;
        case 3:
            ck_assert_int_eq(m.route, U_ROUTE_BY_I64);
            ck_assert(m.p.by_i64.x == (int64_t) x);
            break;
        case 4:
            ck_assert_int_eq(m.route, U_ROUTE_BY_HEX);
            ck_assert_uint_eq(m.p.by_hex.x, x);
            break;
        case 5:
            ck_assert_int_eq(m.route, U_ROUTE_BY_RE);
            ck_assert(eq_(m.p.by_re.v, s1));
            break;
        case 6:
            ck_assert_int_eq(m.route, U_ROUTE_FILES);
            ck_assert(eq_(m.p.files.path, s1));
            break;
        case 7:
            ck_assert_int_eq(m.route, U_ROUTE_MIX);
            ck_assert_uint_eq(m.p.mix.a, x);
            ck_assert(eq_(m.p.mix.b, s1));
            ck_assert(m.p.mix.c == (int64_t) y);
            ck_assert(eq_(m.p.mix.d, s2));
            break;
        case 9:
            ck_assert_int_eq(m.route, U_ROUTE_SAFE);
            ck_assert(eq_(m.p.safe.file, s1));
            break;
        default:
            ck_assert_int_eq(m.route, U_ROUTE_AFFIXED_NAME);
            ck_assert(eq_(m.p.affixed_name.name, s1));
            break;
        }
    }
    /* both sides of the property were exercised */
    ck_assert_int_gt(built, 15000);
    ck_assert_int_gt(refused, 100);
}
END_TEST

/* ---- query parameters (query.ht): built, then dispatched ---- */
/* What the last handler got, its slices copied (they point into the
   dispatch's scratch buffer or the request). */
static struct {
    const char* last;
    char bytes[8192];
    size_t used;
    uq_search_params_t search;
    uq_nums_params_t nums;
    uq_strict_params_t strict;
} got_;

static ht_slice_t keep_(ht_slice_t v) {
    ck_assert_uint_le(got_.used + v.len, sizeof got_.bytes);
    if (v.len) memcpy(got_.bytes + got_.used, v.ptr, v.len);
    ht_slice_t k = { got_.bytes + got_.used, v.len };
    got_.used += v.len;
    return k;
}

void uq_search(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const uq_search_params_t* p) {
    (void) ctx, (void) req, (void) res, (void) a;
    got_.last = "search", got_.search = *p;
    got_.search.q = keep_(p->q), got_.search.sort = keep_(p->sort);
    for (size_t i = 0; i < p->tag_count; i++) got_.search.tag[i] = keep_(p->tag[i]);
}
void uq_nums(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const uq_nums_params_t* p) {
    (void) ctx, (void) req, (void) res, (void) a;
    got_.last = "nums", got_.nums = *p, got_.nums.u = keep_(p->u);
}
void uq_strict(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const uq_strict_params_t* p) {
    (void) ctx, (void) req, (void) res, (void) a;
    got_.last = "strict", got_.strict = *p, got_.strict.s = keep_(p->s), got_.strict.buf = keep_(p->buf);
}
void uq_plain(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const uq_plain_params_t* p) {
    (void) ctx, (void) req, (void) res, (void) a, (void) p;
    got_.last = "plain";
}

/* GET url (path '?' query, as built) through uq__dispatch; the handler's
   name, or "" when the dispatch answered itself (400: *status). */
static const char* dispatch_(const char* url, int* status) {
    memset(&got_, 0, sizeof got_);
    got_.last = "";
    const char* qm = strchr(url, '?');
    size_t pl = qm ? (size_t) (qm - url) : strlen(url);
    ht_request_t r = { .method_ = s_("GET"), .method_id_ = HT_METHOD_GET, .path_ = { url, pl } };
    if (qm) r.query_ = s_(qm + 1);
    ht_config_t cfg = { 0 };
    ht_out__reset_(OUT);
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    uq__dispatch(&cfg, &r, &res, A);
    ht_response__finish_(&res);
    char* out = sent(nullptr);
    *status = strncmp(out, "HTTP/1.1 ", 9) == 0 ? atoi(out + 9) : 0;
    free(out);
    return got_.last;
}

START_TEST(test_query_fixed) {
    char b[256];
    const uint64_t page = 3;
    const ht_slice_t tags[] = { s_("a"), s_("b-c") };
    ck_assert_int_eq(uq__url_search(b, sizeof b, s_("x y&z=1+2#%\xc3\xa9/?:@"), &page, s_("new"), tags, 2), 71);
    ck_assert_str_eq(b, "/search?q=x+y%26z%3D1%2B2%23%25%C3%A9/?:@&page=3&sort=new&tag=a&tag=b-c");
    /* left out: the default, the optional, no tags; the required str may be empty */
    ck_assert_int_eq(uq__url_search(b, sizeof b, s_(""), nullptr, (ht_slice_t){ nullptr, 0 }, nullptr, 0), 10);
    ck_assert_str_eq(b, "/search?q=");
    const uint64_t h = 0xBEEF, ids[] = { 0, UINT64_MAX };
    const int64_t ns[] = { INT64_MIN, -1, 7 };
    ck_assert_int_gt(uq__url_nums(b, sizeof b, 5, -2, &h, s_("01234567-89ab-cdef-0123-456789ABCDEF"), ids, 2, ns, 3),
                     0);
    ck_assert_str_eq(b, "/n/5?d=-2&h=beef&u=01234567-89ab-cdef-0123-456789ABCDEF&ids=0&ids=18446744073709551615"
                        "&ns=-9223372036854775808&ns=-1&ns=7");
    ck_assert_int_eq(uq__url_nums(b, sizeof b, 0, 0, nullptr, (ht_slice_t){ nullptr, 0 }, nullptr, 0, nullptr, 0), 8);
    ck_assert_str_eq(b, "/n/0?d=0");
    /* a parameter named like the buffer argument */
    const uint64_t at = 10;
    ck_assert_int_gt(uq__url_strict(b, sizeof b, s_("s"), s_("b"), &at), 0);
    ck_assert_str_eq(b, "/strict/s?buf=b&at=a");
    ck_assert_int_eq(uq__url_plain(b, sizeof b), 6);
    ck_assert_str_eq(b, "/plain");
    /* -ENOSPC counts the query: "/n/0?d=0" is 8 bytes */
    memset(b, 'x', sizeof b);
    ck_assert_int_eq(uq__url_nums(b, 8, 0, 0, nullptr, (ht_slice_t){ nullptr, 0 }, nullptr, 0, nullptr, 0), 8);
    ck_assert(memcmp(b, "/n/0?d=0x", 9) == 0);
    memset(b, 'x', sizeof b);
    ck_assert_int_eq(uq__url_nums(b, 7, 0, 0, nullptr, (ht_slice_t){ nullptr, 0 }, nullptr, 0, nullptr, 0), -ENOSPC);
    ck_assert_int_eq(b[0], '\0');
    ck_assert_int_eq(b[7], 'x');
    ck_assert_int_eq(uq__url_search(b, 12, s_(" "), nullptr, (ht_slice_t){ nullptr, 0 }, nullptr, 0), 11);
    ck_assert_int_eq(uq__url_search(b, 12, s_("&"), nullptr, (ht_slice_t){ nullptr, 0 }, nullptr, 0), -ENOSPC);
}
END_TEST

/* -EINVAL where the dispatch would answer 400: each such value, written by
   hand into the URL, is refused by it too. */
START_TEST(test_query_invalid) {
    char b[512];
    const ht_slice_t none = { nullptr, 0 };
    const char nul[] = { 'a', '\0' };
    ht_slice_t many[17];
    for (int i = 0; i < 17; i++) many[i] = s_("t");
    ck_assert_int_eq(uq__url_search(b, sizeof b, s_("x"), nullptr, s_("a b"), nullptr, 0), -EINVAL);
    ck_assert_int_eq(uq__url_search(b, sizeof b, s_("x"), nullptr, s_(""), nullptr, 0), -EINVAL);
    ck_assert_int_eq(uq__url_search(b, sizeof b, (ht_slice_t){ nul, 2 }, nullptr, none, nullptr, 0), -EINVAL);
    ck_assert_int_eq(uq__url_search(b, sizeof b, s_("x"), nullptr, none, many, 17), -EINVAL);
    ck_assert_int_gt(uq__url_search(b, sizeof b, s_("x"), nullptr, none, many, 16), 0);
    many[3] = s_("t.");
    ck_assert_int_eq(uq__url_search(b, sizeof b, s_("x"), nullptr, none, many, 4), -EINVAL);
    ck_assert_int_eq(uq__url_nums(b, sizeof b, 1, 1, nullptr, s_("0123"), nullptr, 0, nullptr, 0), -EINVAL);
    ck_assert_int_eq(uq__url_strict(b, sizeof b, s_("s"), (ht_slice_t){ nul, 2 }, nullptr), -EINVAL);
    ck_assert_int_eq(uq__url_strict(b, sizeof b, s_("a b"), none, nullptr), -EINVAL); /* the path's slug */
    const char* refused[] = {
        "/search?q=x&sort=a+b", "/search?q=x&sort=", "/search?q=a%00",
        ("/search?q=x&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t&tag=t"
         "&tag=t"), /* 17 repeats; one string (clang's -Wstring-concatenation) */
        "/search?q=x&tag=t.", "/n/1?d=1&u=0123",
    };
    int st = 0;
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        ck_assert_msg(strcmp(dispatch_(refused[i], &st), "") == 0, "%s reached the handler", refused[i]);
        ck_assert_int_eq(st, 400);
    }
    ck_assert_str_eq(dispatch_("/search?q=x&tag=t&tag=t", &st), "search"); /* the control */
}
END_TEST

static const char hexd_[] = "0123456789abcdefABCDEF";

START_TEST(test_query_roundtrip) {
    char b[4096], q[64], sort[16], tb[17][12], u[40], sb[64];
    int built = 0, refused = 0, st = 0;
    for (int it = 0; it < 3000; it++) {
        int which = (int) (rnd_() % 3);
        ht_io_t n;
        bool valid = true;
        ht_slice_t tags[17];
        uint64_t page = rnd_u64_(), h = rnd_u64_(), ids[16], at = rnd_u64_(), id = rnd_u64_();
        int64_t d = (int64_t) rnd_u64_(), ns[16];
        bool has_page = rnd_() % 2, has_sort = rnd_() % 2, has_h = rnd_() % 2, has_u = rnd_() % 2;
        bool has_buf = rnd_() % 2, has_at = rnd_() % 2;
        size_t ql = rnd_bytes_(q, 0, 40, rnd_() % 2 ? nullptr : " +&=%#", true);
        size_t tc = rnd_() % 8 ? rnd_() % 5 : 16 + rnd_() % 2, nc = rnd_() % 17;
        size_t sl = 0, ul = 0;
        switch (which) {
        case 0:
            sl = rnd_bytes_(sort, 0, 10, rnd_() % 4 ? slug_ : "a. b", false);
            valid = !has_sort || (sl > 0 && strspn(sort, slug_) >= sl);
            for (size_t i = 0; i < sl; i++) valid = valid && (!has_sort || strchr(slug_, sort[i]));
            valid = valid && tc <= 16;
            for (size_t i = 0; i < tc; i++) {
                size_t tl = rnd_bytes_(tb[i], 1, 10, rnd_() % 16 ? slug_ : "a%", false);
                tags[i] = (ht_slice_t){ tb[i], tl };
                for (size_t j = 0; j < tl; j++) valid = valid && strchr(slug_, tb[i][j]);
            }
            n = uq__url_search(b, sizeof b, (ht_slice_t){ q, ql }, has_page ? &page : nullptr,
                               (ht_slice_t){ has_sort ? sort : nullptr, sl }, tags, tc);
            break;
        case 1:
            ul = 36;
            for (size_t i = 0; i < 36; i++) u[i] = i == 8 || i == 13 || i == 18 || i == 23 ? '-' : hexd_[rnd_() % 22];
            if (rnd_() % 8 == 0) u[rnd_() % 36] = 'g', ul = 36;
            valid = !has_u || !memchr(u, 'g', ul);
            for (size_t i = 0; i < nc; i++) ids[i] = rnd_u64_(), ns[i] = (int64_t) rnd_u64_();
            n = uq__url_nums(b, sizeof b, id, d, has_h ? &h : nullptr, (ht_slice_t){ has_u ? u : nullptr, ul }, ids, nc,
                             ns, nc / 2);
            break;
        default:
            sl = rnd_bytes_(sb, 1, 12, slug_, false);
            n = uq__url_strict(b, sizeof b, (ht_slice_t){ sb, sl }, (ht_slice_t){ has_buf ? q : nullptr, ql },
                               has_at ? &at : nullptr);
            break;
        }
        if (!valid) {
            ck_assert_msg(n == -EINVAL, "case %d: %lld for an invalid value", which, (long long) n);
            refused++;
            continue;
        }
        ck_assert_msg(n > 0, "case %d: %lld", which, (long long) n);
        ck_assert_uint_eq(strlen(b), (size_t) n);
        built++;
        const char* h_ = dispatch_(b, &st);
        switch (which) {
        case 0:
            ck_assert_msg(strcmp(h_, "search") == 0, "%s: %d", b, st);
            ck_assert(eq_(got_.search.q, (ht_slice_t){ q, ql }));
            ck_assert_uint_eq(got_.search.page, has_page ? page : 1);
            ck_assert(got_.search.has_sort == has_sort);
            if (has_sort) ck_assert(eq_(got_.search.sort, (ht_slice_t){ sort, sl }));
            ck_assert_uint_eq(got_.search.tag_count, tc);
            for (size_t i = 0; i < tc; i++) ck_assert(eq_(got_.search.tag[i], tags[i]));
            break;
        case 1:
            ck_assert_msg(strcmp(h_, "nums") == 0, "%s: %d", b, st);
            ck_assert_uint_eq(got_.nums.id, id);
            ck_assert(got_.nums.d == d);
            ck_assert(got_.nums.has_h == has_h && got_.nums.has_u == has_u);
            if (has_h) ck_assert_uint_eq(got_.nums.h, h);
            if (has_u) ck_assert(eq_(got_.nums.u, (ht_slice_t){ u, ul }));
            ck_assert_uint_eq(got_.nums.ids_count, nc);
            ck_assert_uint_eq(got_.nums.ns_count, nc / 2);
            for (size_t i = 0; i < nc; i++) ck_assert_uint_eq(got_.nums.ids[i], ids[i]);
            for (size_t i = 0; i < nc / 2; i++) ck_assert(got_.nums.ns[i] == ns[i]);
            break;
        default:
            ck_assert_msg(strcmp(h_, "strict") == 0, "%s: %d", b, st);
            ck_assert(eq_(got_.strict.s, (ht_slice_t){ sb, sl }));
            ck_assert(eq_(got_.strict.buf, has_buf ? (ht_slice_t){ q, ql } : s_("x")));
            ck_assert_uint_eq(got_.strict.at, has_at ? at : 0xff);
            break;
        }
    }
    ck_assert_int_gt(built, 2000);
    ck_assert_int_gt(refused, 100);
}
END_TEST

int main(void) {
    Suite* s = suite_create("urls");
    TCase* tc = tcase_create("core");
    tcase_add_test(tc, test_fixed_urls);
    tcase_add_test(tc, test_invalid_values);
    tcase_add_test(tc, test_buffer_size);
    tcase_add_test(tc, test_roundtrip);
    suite_add_tcase(s, tc);
    TCase* tq = tcase_create("query"); /* these build responses */
    tcase_add_checked_fixture(tq, setup, teardown);
    tcase_add_test(tq, test_query_fixed);
    tcase_add_test(tq, test_query_invalid);
    tcase_add_test(tq, test_query_roundtrip);
    suite_add_tcase(s, tq);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
