/* ht/headers.h: the checks a header set passes once (globs, origins, rule
 * names and values, the set as a whole) and the glob matcher. */
#include <check.h>

#include <ht/headers.h>

#define M(g, p) ht_headers__glob_match(g, HT_SLICE(p))

START_TEST(test_glob_match) {
    ck_assert(M("*.css", "/app.css"));
    ck_assert(M("*.css", "/a/b/app.css")); /* no '/': the last segment */
    ck_assert(!M("*.css", "/app.css.map"));
    ck_assert(!M("*.css", "/css/app.js"));
    ck_assert(M("app.??", "/x/app.js"));
    ck_assert(!M("app.??", "/x/app.css"));
    ck_assert(M("*.{css,js}", "/a.js") && M("*.{css,js}", "/a.css") && !M("*.{css,js}", "/a.json"));
    ck_assert(M("*{,.min}.js", "/a.min.js") && M("*{,.min}.js", "/a.js"));
    ck_assert(M("/assets/*", "/assets/a.css"));
    ck_assert(!M("/assets/*", "/assets/x/a.css")); /* '*' stops at '/' */
    ck_assert(M("/assets/**", "/assets/x/y/a.css"));
    ck_assert(M("/**/*.woff2", "/f.woff2") && M("/**/*.woff2", "/a/b/f.woff2"));
    ck_assert(!M("/**/*.woff2", "/a/b/f.woff"));
    ck_assert(M("/a/**/z", "/a/z") && M("/a/**/z", "/a/b/c/z") && !M("/a/**/z", "/a/bz"));
    ck_assert(M(nullptr, "/anything") && M("", "/x"));
    ck_assert(M("index.html", "/docs/index.html") && !M("index.html", "/docs/xindex.html"));
}
END_TEST

START_TEST(test_glob_valid) {
    const char* why = nullptr;
    ck_assert(ht_headers__glob_valid("*.css", &why) && why == nullptr);
    ck_assert(ht_headers__glob_valid("/assets/**", nullptr));
    ck_assert(ht_headers__glob_valid("*.{css,js}", nullptr));
    const char* bad[] = { "", "[ab].css", "a\\b", "**.css", "/a**/b", "/a/**b", "*.{css", "*.{a,{b}}", "a}",
                          "a,b", "*.{c*}", "assets/*.css", "a\tb" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = nullptr;
        ck_assert_msg(!ht_headers__glob_valid(bad[i], &why), "%s", bad[i]);
        ck_assert_msg(why != nullptr, "%s", bad[i]);
    }
}
END_TEST

START_TEST(test_origin) {
    const char* good[] = { "https://a.example", "http://localhost:8080", "http://127.0.0.1:1", "https://[::1]:443",
                           "https://A.Example", "http://x" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(ht_headers__origin_valid(ht_slice__from_cstr(good[i])), "%s", good[i]);
    const char* bad[] = { "*", "a.example", "https://a.example/", "https://a.example/x", "ftp://a.example",
                          "https://", "https://a.example:", "https://a.example:99999", "https://a.example:123456",
                          "HTTPS://a.example", "https://a example", "https://user@a.example", "null",
                          "https://.a", "https://[]", "https://a.example?q" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!ht_headers__origin_valid(ht_slice__from_cstr(bad[i])), "%s", bad[i]);
}
END_TEST

START_TEST(test_rule_check) {
    ht_header_rule_t ok = { "*.css", "Cache-Control", "public, max-age=31536000, immutable" };
    ck_assert_int_eq(ht_headers__rule_check(&ok), 0);
    ht_header_rule_t empty = { nullptr, "X-Empty", "" };
    ck_assert_int_eq(ht_headers__rule_check(&empty), 0);
    ht_header_rule_t r1 = { nullptr, "X Bad", "v" };
    ck_assert_int_eq(ht_headers__rule_check(&r1), HT_E_BAD_HEADER_NAME);
    ht_header_rule_t r2 = { nullptr, "X-A", "a\r\nSet-Cookie: x" };
    ck_assert_int_eq(ht_headers__rule_check(&r2), HT_E_BAD_HEADER_VALUE);
    ht_header_rule_t r3 = { "[x", "X-A", "v" };
    ck_assert_int_eq(ht_headers__rule_check(&r3), HT_E_BAD_GLOB);
    const char* reserved[] = { "Content-Length", "transfer-encoding", "Date", "Connection", "ETag", "Vary",
                               "Content-Range", "Content-Encoding", "Last-Modified", "Location", "Accept-Ranges",
                               "Allow" };
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++) {
        ht_header_rule_t r = { nullptr, reserved[i], "x" };
        ck_assert_msg(ht_headers__rule_check(&r) == HT_E_RESERVED_HEADER, "%s", reserved[i]);
    }
    ht_header_rule_t r4 = { nullptr, nullptr, "v" };
    ck_assert_int_eq(ht_headers__rule_check(&r4), HT_E_BAD_HEADER_NAME);
    ht_header_rule_t r5 = { nullptr, "X-A", nullptr };
    ck_assert_int_eq(ht_headers__rule_check(&r5), HT_E_BAD_HEADER_VALUE);
}
END_TEST

START_TEST(test_set_check) {
    uint32_t at = 99;
    ck_assert_int_eq(ht_headers__check(nullptr, &at), 0);
    ht_header_rule_t rules[] = { { "*.css", "Cache-Control", "max-age=60" }, { nullptr, "Access-Control-Allow-Origin", "*" } };
    ht_headers_t h = { rules, 2, nullptr };
    ck_assert_int_eq(ht_headers__check(&h, &at), 0); /* by hand, without cors: allowed */
    const char* star[] = { "*" };
    ht_cors_t c = { star, 1, nullptr, nullptr, 0 };
    h.cors = &c;
    ck_assert_int_eq(ht_headers__check(&h, &at), HT_E_RESERVED_HEADER);
    ck_assert_uint_eq(at, 1);
    h.count = 1;
    ck_assert_int_eq(ht_headers__check(&h, &at), 0);
    const char* mixed[] = { "https://a.example", "*" };
    c = (ht_cors_t){ mixed, 2, nullptr, nullptr, 0 };
    ck_assert_int_eq(ht_headers__check(&h, &at), HT_E_BAD_ORIGIN);
    ck_assert_uint_eq(at, 1 + 1); /* count + the origin's index */
    const char* list[] = { "https://a.example", "http://localhost:3000" };
    c = (ht_cors_t){ list, 2, "GET, HEAD, POST", "Range,X-Token", 600 };
    ck_assert_int_eq(ht_headers__check(&h, &at), 0);
    c.methods = "GET,,";
    ck_assert_int_eq(ht_headers__check(&h, &at), 0); /* empty elements are skipped */
    c.methods = "GET HEAD";
    ck_assert_int_eq(ht_headers__check(&h, &at), HT_E_BAD_HEADER_VALUE);
    c.methods = nullptr;
    c.headers = "X\r\nY";
    ck_assert_int_eq(ht_headers__check(&h, &at), HT_E_BAD_HEADER_VALUE);
    c = (ht_cors_t){ list, 0, nullptr, nullptr, 0 };
    ck_assert_int_eq(ht_headers__check(&h, &at), HT_E_BAD_ORIGIN);
    /* The serving side keeps the applying rules in a 64-bit mask. */
    ht_header_rule_t many[HT_HEADERS_MAX_RULES + 1];
    for (size_t i = 0; i < HT_ARRAY_LEN(many); i++) many[i] = (ht_header_rule_t){ nullptr, "X-A", "v" };
    ht_headers_t big = { many, HT_HEADERS_MAX_RULES, nullptr };
    ck_assert_int_eq(ht_headers__check(&big, &at), 0);
    big.count++;
    ck_assert_int_eq(ht_headers__check(&big, &at), -E2BIG);
}
END_TEST

int main(void) {
    Suite* s = suite_create("headers");
    TCase* tc = tcase_create("core");
    tcase_add_test(tc, test_glob_match);
    tcase_add_test(tc, test_glob_valid);
    tcase_add_test(tc, test_origin);
    tcase_add_test(tc, test_rule_check);
    tcase_add_test(tc, test_set_check);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
