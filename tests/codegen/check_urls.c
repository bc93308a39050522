/* check_urls: the URL builders htgen generates (urls/routes.ht), checked
 * through the generated matcher: a built path matches its own route with
 * the same (decoded) parameters, for random values of every parameter
 * type; values no path of the route could carry are -EINVAL, a short
 * buffer -ENOSPC. */
#include "u_routes.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void) {
    Suite* s = suite_create("urls");
    TCase* tc = tcase_create("core");
    tcase_add_test(tc, test_fixed_urls);
    tcase_add_test(tc, test_invalid_values);
    tcase_add_test(tc, test_buffer_size);
    tcase_add_test(tc, test_roundtrip);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
