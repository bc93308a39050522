/* check_codegen: the matcher htgen generates for golden/routes.ht
 * (hachettp_add_routes at build time), checked through app__match as a
 * handler table would use it: route ids, typed and decoded parameters,
 * 404 / 405 + Allow / OPTIONS / 308 / 400, HEAD, precedence. */
#include "app_routes.h"

#include <check.h>
#include <string.h>

static char scratch_[512];

static app_status_t match_(const char* method, const char* path, app_match_t* m) {
    memset(m, 0xA5, sizeof *m); /* the matcher must set what it reports */
    m->scratch = scratch_;
    m->scratch_cap = sizeof scratch_;
    return app__match_token(ht_slice__from_cstr(method), ht_slice__from_cstr(path), m);
}

static bool slice_is_(ht_slice_t s, const char* want) {
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static const char* allow_(const app_match_t* m) {
    static char buf[256];
    app__allow_format(m->allow, buf, sizeof buf);
    return buf;
}

START_TEST(test_literals_and_precedence) {
    app_match_t m;
    ck_assert_int_eq(match_("GET", "/", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_HOME);
    /* literal > typed > {name}, never by order in the file */
    ck_assert_int_eq(match_("GET", "/users/new", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_USER_NEW);
    ck_assert_int_eq(match_("GET", "/users/42", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_USER);
    ck_assert_uint_eq(m.p.user.id, 42);
    ck_assert_int_eq(match_("GET", "/users/bob", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_USER_BY_NAME);
    ck_assert(slice_is_(m.p.user_by_name.name, "bob"));
    /* affixed typed > affixed {name} */
    ck_assert_int_eq(match_("GET", "/img-77.png", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_IMG);
    ck_assert_uint_eq(m.p.img.id, 77);
    ck_assert_int_eq(match_("GET", "/img-x7.png", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_IMG_ANY);
    ck_assert(slice_is_(m.p.img_any.name, "x7.png"));
    /* {x} then a literal beats the rest parameter one segment earlier */
    ck_assert_int_eq(match_("GET", "/a/q/b", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_A_X_B);
    ck_assert(slice_is_(m.p.a_x_b.x, "q"));
    ck_assert_int_eq(match_("GET", "/a/q/c", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_A_REST);
    ck_assert(slice_is_(m.p.a_rest.p, "q/c"));
}
END_TEST

START_TEST(test_typed_params) {
    app_match_t m;
    ck_assert_int_eq(match_("PUT", "/users/18446744073709551615", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_USER);
    ck_assert_uint_eq(m.p.user.id, UINT64_MAX);
    /* overflow is no match for u64: the request falls to {name} */
    ck_assert_int_eq(match_("GET", "/users/18446744073709551616", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_USER_BY_NAME);
    /* ... and to nothing at all for DELETE, which only has the u64 route */
    ck_assert_int_eq(match_("DELETE", "/users/18446744073709551616", &m), APP_MATCH_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow_(&m), "GET, HEAD, OPTIONS");
    ck_assert_int_eq(match_("GET", "/t/-9223372036854775808/ffFF", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_TYPED);
    ck_assert_int_eq(m.p.typed.n, INT64_MIN);
    ck_assert_uint_eq(m.p.typed.h, 0xffff);
    ck_assert_int_eq(match_("GET", "/t/9223372036854775807/ffffffffffffffff", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.p.typed.n, INT64_MAX);
    ck_assert_uint_eq(m.p.typed.h, UINT64_MAX);
    ck_assert_int_eq(match_("GET", "/t/9223372036854775808/1", &m), APP_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_("GET", "/t/1/10000000000000000", &m), APP_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_("GET", "/u/123e4567-e89b-12d3-a456-426614174000", &m), APP_MATCH_FOUND);
    ck_assert(slice_is_(m.p.by_uuid.id, "123e4567-e89b-12d3-a456-426614174000"));
    ck_assert_int_eq(match_("GET", "/u/123e4567-e89b-12d3-a456-42661417400", &m), APP_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_("GET", "/s/a-b_C9", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(match_("GET", "/s/a.b", &m), APP_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_("GET", "/v/v12/x", &m), APP_MATCH_FOUND);
    ck_assert(slice_is_(m.p.versioned.ver, "v12"));
    ck_assert_int_eq(match_("GET", "/v/w12/x", &m), APP_MATCH_NOT_FOUND);
}
END_TEST

START_TEST(test_percent_decoding_raw_matching) {
    app_match_t m;
    /* %2F never splits a segment, and is decoded for the handler */
    ck_assert_int_eq(match_("GET", "/hello/a%2Fb%20c", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_HELLO);
    ck_assert(slice_is_(m.p.hello.name, "a/b c"));
    ck_assert(m.p.hello.name.ptr >= scratch_ && m.p.hello.name.ptr < scratch_ + sizeof scratch_);
    /* no '%': zero-copy, the slice points into the path */
    const char* path = "/hello/plain";
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from_cstr(path), &m), APP_MATCH_FOUND);
    ck_assert_ptr_eq(m.p.hello.name.ptr, path + 7);
    ck_assert_int_eq(match_("GET", "/files/x%2Fy/z%41", &m), APP_MATCH_FOUND);
    ck_assert(slice_is_(m.p.file_get.path, "x/y/zA"));
    ck_assert_int_eq(match_("GET", "/hello/%zz", &m), APP_MATCH_BAD_REQUEST);
    ck_assert_int_eq(match_("GET", "/hello/%4", &m), APP_MATCH_BAD_REQUEST);
    ck_assert_int_eq(match_("GET", "/hello/%00", &m), APP_MATCH_BAD_REQUEST);
    ck_assert_int_eq(match_("GET", "/files/a%00b", &m), APP_MATCH_BAD_REQUEST);
    /* typed parameters match raw bytes: %31 is not a digit */
    ck_assert_int_eq(match_("DELETE", "/users/%31", &m), APP_MATCH_METHOD_NOT_ALLOWED);
    /* no scratch: a parameter that needs decoding is a 400, never a silent raw value */
    app_match_t z = { 0 };
    ck_assert_int_eq(app__match(HT_METHOD_GET, HT_SLICE("/hello/a%20b"), &z), APP_MATCH_BAD_REQUEST);
    /* a NUL byte inside the path never matches */
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from("/users/new\0", 11), &m), APP_MATCH_NOT_FOUND);
}
END_TEST

START_TEST(test_methods_head_options) {
    app_match_t m;
    ck_assert_int_eq(match_("HEAD", "/hello/x", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_HELLO);
    ck_assert_int_eq(match_("HEAD", "/users/new", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_USER_NEW_HEAD);
    ck_assert_int_eq(match_("POST", "/users/7", &m), APP_MATCH_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow_(&m), "GET, HEAD, PUT, DELETE, OPTIONS");
    ck_assert_uint_eq(m.route, APP_ROUTE__NONE);
    ck_assert_int_eq(match_("OPTIONS", "/users/7", &m), APP_MATCH_OPTIONS);
    ck_assert_str_eq(allow_(&m), "GET, HEAD, PUT, DELETE, OPTIONS");
    ck_assert_int_eq(match_("OPTIONS", "/echo", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_ECHO_OPTIONS);
    ck_assert_int_eq(match_("GET", "/echo", &m), APP_MATCH_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow_(&m), "POST, OPTIONS");
    ck_assert_int_eq(match_("BREW", "/coffee", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_COFFEE);
    ck_assert_int_eq(match_("PATCH", "/coffee", &m), APP_MATCH_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow_(&m), "GET, HEAD, OPTIONS, BREW");
    ck_assert_int_eq(app__match(HT_METHOD_OTHER, HT_SLICE("/coffee"), &m), APP_MATCH_METHOD_NOT_ALLOWED);
    ck_assert_int_eq(app__match(HT_METHOD_GET, HT_SLICE("/coffee"), &m), APP_MATCH_FOUND);
    ck_assert_int_eq(match_("OPTIONS", "/nowhere", &m), APP_MATCH_NOT_FOUND);
    ck_assert_int_eq(match_("GET", "/nowhere", &m), APP_MATCH_NOT_FOUND);
    ck_assert_uint_eq(m.allow, 0);
}
END_TEST

START_TEST(test_trailing_slash_and_mount) {
    app_match_t m;
    ck_assert_int_eq(match_("GET", "/hello/x/", &m), APP_MATCH_REDIRECT);
    ck_assert(slice_is_(m.redirect, "/hello/x"));
    ck_assert_int_eq(match_("GET", "/dir", &m), APP_MATCH_REDIRECT);
    ck_assert(slice_is_(m.redirect, "/dir/"));
    ck_assert_int_eq(match_("GET", "/dir/", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(match_("GET", "/files", &m), APP_MATCH_REDIRECT);
    ck_assert(slice_is_(m.redirect, "/files/"));
    ck_assert_int_eq(match_("GET", "/static/css/site.css", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_MOUNT_1);
    ck_assert(slice_is_(m.p.mount.path, "css/site.css"));
    ck_assert_int_eq(match_("POST", "/static/x", &m), APP_MATCH_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow_(&m), "GET, HEAD, OPTIONS");
    ck_assert_int_eq(app__mounts[0].route, APP_ROUTE_MOUNT_1);
    ck_assert_str_eq(app__mounts[0].prefix, "/static");
    ck_assert_str_eq(app__mounts[0].dir, "./public");
    ck_assert_str_eq(app__mounts[0].index, "index.html");
    ck_assert(app__mounts[0].list && app__mounts[0].gzip);
    ck_assert_int_eq(app__routes[APP_ROUTE_MOUNT_1].mount, 0);
}
END_TEST

/* One DFA for every method: a path whose most specific pattern lacks the
   method falls back to a less specific one that has it (the cold path). */
START_TEST(test_method_fallback) {
    app_match_t m;
    /* /users/new has GET and HEAD; /users/{name} (GET) also matches it,
       /users/{id:u64} does not: DELETE is 405 with the union. */
    ck_assert_int_eq(match_("DELETE", "/users/new", &m), APP_MATCH_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow_(&m), "GET, HEAD, OPTIONS");
    /* /users/7: u64 group has GET|PUT|DELETE; /users/{name} (GET) also
       matches: PUT goes to the typed route, the Allow set is their union. */
    ck_assert_int_eq(match_("PUT", "/users/7", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_USER);
    ck_assert_int_eq(match_("DELETE", "/users/7", &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_USER_DELETE);
    ck_assert_uint_eq(m.p.user_delete.id, 7);
    /* BREW only at /coffee: GET there is the other method of the same route */
    ck_assert_int_eq(match_("BREW", "/users/7", &m), APP_MATCH_METHOD_NOT_ALLOWED);
}
END_TEST

/* Long paths are matched in place, 64 bytes of '/' positions at a time:
   no scratch unless a parameter needs decoding (then without room it is
   BAD_REQUEST) or a redirect adds a '/'. A NUL in a path matches nothing
   (no route's language has one). */
START_TEST(test_long_paths_and_nul) {
    static char path[4096], big_scratch[2 * sizeof path];
    app_match_t m;
    size_t n = 3000;
    memcpy(path, "/files/", 7);
    for (size_t i = 7; i < n; i++) path[i] = (char) (i % 50 == 0 ? '/' : 'a' + i % 26);
    path[n] = '\0';
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from(path, n), &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_FILE_GET);
    ck_assert(m.p.file_get.path.ptr == path + 7 && m.p.file_get.path.len == n - 7);
    /* a long parameter of one segment: raw without scratch */
    memcpy(path, "/hello/", 7);
    for (size_t i = 7; i < n; i++) path[i] = 'x';
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from(path, n), &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_HELLO);
    ck_assert(m.p.hello.name.ptr == path + 7 && m.p.hello.name.len == n - 7);
    /* percent-decoded into the scratch */
    memcpy(path + 100, "%41", 3);
    m.scratch = big_scratch;
    m.scratch_cap = n;
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from(path, n), &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_HELLO);
    ck_assert_uint_eq(m.p.hello.name.len, n - 7 - 2);
    ck_assert_int_eq(m.p.hello.name.ptr[93], 'A');
    /* the trailing-slash redirect of a long path, both ways */
    path[n] = '/';
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from(path, n + 1), &m), APP_MATCH_REDIRECT);
    ck_assert(m.redirect.ptr == path && m.redirect.len == n);
    memcpy(path, "/dir", 4); /* "/dir" + 2996 more: no route, nor with a '/' added */
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from(path, n), &m), APP_MATCH_NOT_FOUND);
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from("/dir", 4), &m), APP_MATCH_REDIRECT);
    ck_assert(m.redirect.ptr == big_scratch && m.redirect.len == 5 && memcmp(big_scratch, "/dir/", 5) == 0);
    /* no room to decode */
    memcpy(path, "/hello/", 7);
    m.scratch_cap = n - 8;
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from(path, n), &m), APP_MATCH_BAD_REQUEST);
    m.scratch = nullptr;
    m.scratch_cap = 0;
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from(path, n), &m), APP_MATCH_BAD_REQUEST);
    /* nor to add the '/' of a redirect: 404 */
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from("/dir", 4), &m), APP_MATCH_NOT_FOUND);
    /* NUL */
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from("/hello/a\0b", 10), &m), APP_MATCH_NOT_FOUND);
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from("/files/a\0b/c/d/e/f/g/h/i", 24), &m),
                     APP_MATCH_NOT_FOUND);
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from("/hello/\0", 8), &m), APP_MATCH_NOT_FOUND);
    ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from("/hello/a\0/", 10), &m), APP_MATCH_NOT_FOUND);
}
END_TEST

/* The scan notes '/', '%' and NUL 8 or 16 bytes at a time, with
   overlapping loads at the ends and 64 bytes per window: every length from
   4 to 140 (every branch of the scan, three windows) and every position of
   the byte after "/a/" (a_rest); then a segment end at every position
   (/a/{x}/b and /hello/{name}). */
START_TEST(test_copy_pct_nul_every_position) {
    char path[160], scratch[256];
    app_match_t m;
    for (size_t n = 4; n <= 140; n++) {
        for (size_t at = 3; at < n; at++) {
            memcpy(path, "/a/", 3);
            memset(path + 3, 'x', n - 3);
            /* plain: found, the rest parameter is the raw bytes */
            memset(&m, 0, sizeof m);
            ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from(path, n), &m), APP_MATCH_FOUND);
            ck_assert_int_eq(m.route, APP_ROUTE_A_REST);
            ck_assert(m.p.a_rest.p.ptr == path + 3 && m.p.a_rest.p.len == n - 3);
            /* a NUL anywhere after "/a/": nothing matches */
            path[at] = '\0';
            ck_assert_msg(app__match(HT_METHOD_GET, ht_slice__from(path, n), &m) == APP_MATCH_NOT_FOUND,
                          "NUL at %zu of %zu", at, n);
            /* "%41" there (when it fits): decoded to 'A' */
            if (at + 3 > n) continue;
            memcpy(path + at, "%41", 3);
            memset(&m, 0, sizeof m);
            m.scratch = scratch;
            m.scratch_cap = sizeof scratch;
            ck_assert_msg(app__match(HT_METHOD_GET, ht_slice__from(path, n), &m) == APP_MATCH_FOUND,
                          "%%41 at %zu of %zu", at, n);
            ck_assert_int_eq(m.route, APP_ROUTE_A_REST);
            ck_assert_uint_eq(m.p.a_rest.p.len, n - 3 - 2);
            ck_assert_int_eq(m.p.a_rest.p.ptr[at - 3], 'A');
        }
    }
    for (size_t k = 1; k + 7 <= sizeof path; k++) {
        memcpy(path, "/a/", 3);
        memset(path + 3, 'x', k);
        memcpy(path + 3 + k, "/b", 2);
        memset(&m, 0, sizeof m);
        ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from(path, k + 5), &m), APP_MATCH_FOUND);
        ck_assert_int_eq(m.route, APP_ROUTE_A_X_B);
        ck_assert(m.p.a_x_b.x.ptr == path + 3 && m.p.a_x_b.x.len == k);
        memcpy(path, "/hello/", 7);
        memset(path + 7, 'x', k);
        ck_assert_int_eq(app__match(HT_METHOD_GET, ht_slice__from(path, k + 7), &m), APP_MATCH_FOUND);
        ck_assert_int_eq(m.route, APP_ROUTE_HELLO);
        ck_assert(m.p.hello.name.ptr == path + 7 && m.p.hello.name.len == k);
    }
}
END_TEST

START_TEST(test_route_table_and_mime) {
    ck_assert_uint_eq(app__routes[APP_ROUTE_ECHO].body_limit, 1024 * 1024);
    ck_assert_uint_eq(app__routes[APP_ROUTE_HELLO].body_limit, 0);
    ck_assert_str_eq(app__routes[APP_ROUTE_HELLO].handler, "hello");
    ck_assert_str_eq(app__routes[APP_ROUTE_HELLO].pattern, "/hello/{name}");
    ck_assert_int_eq(app__routes[APP_ROUTE_HELLO].line, 7);
    ck_assert_uint_eq(app__routes[APP_ROUTE_USER].method_mask,
                      (1u << APP_METHOD_GET) | (1u << APP_METHOD_PUT));
    /* timeout / upstream / stream, and a G size past 32 bits */
    ck_assert_uint_eq(app__routes[APP_ROUTE_JOB].timeout_ms, 15000);
    ck_assert(!app__routes[APP_ROUTE_JOB].upstream && !app__routes[APP_ROUTE_JOB].stream);
    ck_assert_uint_eq(app__routes[APP_ROUTE_PROXY].timeout_ms, 0);
    ck_assert(app__routes[APP_ROUTE_PROXY].upstream);
    ck_assert_uint_eq(app__routes[APP_ROUTE_REPORT].timeout_ms, 120000);
    ck_assert(app__routes[APP_ROUTE_REPORT].upstream);
    ck_assert(app__routes[APP_ROUTE_UPLOAD].stream);
    ck_assert_uint_eq(app__routes[APP_ROUTE_UPLOAD].body_limit, UINT64_C(8) << 30);
    ck_assert_uint_eq(APP_BODY_LIMIT_MAX, UINT64_C(8) << 30);
    ck_assert_uint_eq(app__routes[APP_ROUTE_HELLO].timeout_ms, 0);
    ck_assert(!app__routes[APP_ROUTE_HELLO].upstream && !app__routes[APP_ROUTE_HELLO].stream);
    app_match_t m = { 0 };
    ck_assert_int_eq(app__match(HT_METHOD_PUT, HT_SLICE("/upload/a-b_c"), &m), APP_MATCH_FOUND);
    ck_assert_int_eq(m.route, APP_ROUTE_UPLOAD);
    ck_assert(slice_is_(m.p.upload.name, "a-b_c"));
    const struct app_mime* mm = app__mime_lookup("WASM", 4);
    ck_assert_ptr_nonnull(mm);
    ck_assert_str_eq(mm->type, "application/wasm");
    mm = app__mime_lookup("webmanifest", 11);
    ck_assert_ptr_nonnull(mm);
    ck_assert_str_eq(mm->type, "application/manifest+json");
    ck_assert_ptr_null(app__mime_lookup("html", 4));
    char small[8];
    ck_assert_uint_eq(app__allow_format((1u << APP_METHOD_GET) | (1u << APP_METHOD_POST), small, sizeof small), 9);
    ck_assert_str_eq(small, "GET, PO");
}
END_TEST

/* The handler prototypes exist with the documented signature: the prefix,
   then the `context` type (struct app_ctx, declared by the header). */
void app_hello(struct app_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
               const app_hello_params_t* p) {
    (void) ctx, (void) req, (void) res, (void) a, (void) p;
}

int main(void) {
    Suite* s = suite_create("codegen");
    TCase* tc = tcase_create("match");
    tcase_add_test(tc, test_literals_and_precedence);
    tcase_add_test(tc, test_typed_params);
    tcase_add_test(tc, test_percent_decoding_raw_matching);
    tcase_add_test(tc, test_methods_head_options);
    tcase_add_test(tc, test_trailing_slash_and_mount);
    tcase_add_test(tc, test_route_table_and_mime);
    tcase_add_test(tc, test_method_fallback);
    tcase_add_test(tc, test_long_paths_and_nul);
    tcase_add_test(tc, test_copy_pct_nul_every_position);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
