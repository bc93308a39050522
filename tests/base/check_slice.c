/* check_slice: comparators, trimming and splitting. */
#include <check.h>
#include <ht/slice.h>
#include <ht/types.h>
#include <stdlib.h>

START_TEST(equality) {
    ck_assert(ht_slice__eq(HT_SLICE("abc"), HT_SLICE("abc")));
    ck_assert(!ht_slice__eq(HT_SLICE("abc"), HT_SLICE("abd")));
    ck_assert(!ht_slice__eq(HT_SLICE("abc"), HT_SLICE("ab")));
    ck_assert(ht_slice__eq(HT_SLICE(""), HT_SLICE_NULL));
    ck_assert(ht_slice__eq_nocase(HT_SLICE("Content-Length"), HT_SLICE("content-LENGTH")));
    /* Folding is ASCII only: '@' (0x40) and '`' (0x60) differ by 0x20 but are not letters. */
    ck_assert(!ht_slice__eq_nocase(HT_SLICE("@"), HT_SLICE("`")));
    ck_assert(!ht_slice__eq_nocase(HT_SLICE("["), HT_SLICE("{")));
    ck_assert(!ht_slice__eq_nocase(HT_SLICE("\xc3\x84"), HT_SLICE("\xc3\xa4")));
}
END_TEST

START_TEST(ordering) {
    ck_assert_int_lt(ht_slice__cmp(HT_SLICE("ab"), HT_SLICE("abc")), 0);
    ck_assert_int_gt(ht_slice__cmp(HT_SLICE("b"), HT_SLICE("abc")), 0);
    ck_assert_int_eq(ht_slice__cmp(HT_SLICE("abc"), HT_SLICE("abc")), 0);
    ck_assert_int_eq(ht_slice__cmp_nocase(HT_SLICE("ABC"), HT_SLICE("abc")), 0);
    ck_assert_int_lt(ht_slice__cmp_nocase(HT_SLICE("ABC"), HT_SLICE("abd")), 0);
}
END_TEST

START_TEST(affixes_and_find) {
    ck_assert(ht_slice__starts_with(HT_SLICE("/static/x"), HT_SLICE("/static/")));
    ck_assert(!ht_slice__starts_with(HT_SLICE("/st"), HT_SLICE("/static/")));
    ck_assert(ht_slice__ends_with(HT_SLICE("a.tar.gz"), HT_SLICE(".gz")));
    ck_assert(ht_slice__starts_with_nocase(HT_SLICE("GZIP;q=1"), HT_SLICE("gzip")));
    ck_assert_uint_eq(ht_slice__find_byte(HT_SLICE("a=b"), '='), 1);
    ck_assert_uint_eq(ht_slice__find_byte(HT_SLICE("ab"), '='), SIZE_MAX);
    ck_assert_uint_eq(ht_slice__find_byte(HT_SLICE_NULL, '='), SIZE_MAX);
    ht_slice_t s = ht_slice__sub(HT_SLICE("hello"), 3, 100);
    ck_assert(ht_slice__eq(s, HT_SLICE("lo")));
    ck_assert_uint_eq(ht_slice__sub(HT_SLICE("hello"), 9, 1).len, 0);
}
END_TEST

START_TEST(trim_and_split) {
    ck_assert(ht_slice__eq(ht_slice__trim_ows(HT_SLICE(" \t x y \t")), HT_SLICE("x y")));
    ck_assert_uint_eq(ht_slice__trim_ows(HT_SLICE(" \t ")).len, 0);
    ht_slice_t list = HT_SLICE("gzip, br;q=0.5,,identity"), item;
    const char* want[] = { "gzip", " br;q=0.5", "", "identity" };
    int n = 0;
    while (list.len) {
        ht_slice__split(&list, ',', &item);
        ck_assert_int_lt(n, 4);
        ck_assert(ht_slice__eq(item, ht_slice__from_cstr(want[n])));
        n++;
    }
    ck_assert_int_eq(n, 4);
}
END_TEST

START_TEST(result_strings) {
    ck_assert_str_eq(ht_result__str(HT_E_BAD_REQUEST), "malformed request");
    ck_assert_int_eq(HT_E_BAD_REQUEST, HT_E__BASE);
    ck_assert_uint_eq(ht_result__status(HT_E_URI_TOO_LONG), 414);
    ck_assert_uint_eq(ht_result__status(HT_E_HEADERS_TOO_LARGE), 431);
    ck_assert_uint_eq(ht_result__status(HT_E_UNKNOWN_TRANSFER_CODING), 501);
    ck_assert_uint_eq(ht_result__status(HT_E_VERSION), 505);
    ck_assert_uint_eq(ht_result__status(-ENOMEM), 500);
    ck_assert_str_eq(ht_result__str(0), "success");
    ck_assert_ptr_nonnull(ht_result__str(-EAGAIN));
    ck_assert_str_eq(ht_result__str(HT_E__BASE - 10000), "unknown error");
}
END_TEST

int main(void) {
    Suite* s = suite_create("slice");
    TCase* tc = tcase_create("core");
    tcase_add_test(tc, equality);
    tcase_add_test(tc, ordering);
    tcase_add_test(tc, affixes_and_find);
    tcase_add_test(tc, trim_and_split);
    tcase_add_test(tc, result_strings);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
