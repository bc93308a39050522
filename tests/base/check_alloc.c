/* check_alloc: the default and counting allocators. */
#include <check.h>
#include <ht/alloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static ht_alloc_t* parent;

static void setup(void) { parent = ht_alloc__init(); }
static void teardown(void) { ht_alloc__finalize(parent); }

START_TEST(default_alloc_aligned) {
    size_t aligns[] = { 1, 8, 16, 64, 4096 };
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        char* p = parent->alloc(parent, 100, aligns[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t) p % aligns[i], 0);
        memset(p, 0xAB, 100);
        p = parent->realloc(parent, p, 100, 5000, aligns[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t) p % aligns[i], 0);
        ck_assert_uint_eq((unsigned char) p[99], 0xAB);
        parent->free(parent, p, 5000);
    }
}
END_TEST

START_TEST(calloc_zeroes_and_checks_overflow) {
    unsigned char* p = ht_alloc__calloc(parent, 16, 16);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < 256; i++) ck_assert_uint_eq(p[i], 0);
    ht_alloc__free(parent, p, 256);
    ck_assert_ptr_null(ht_alloc__calloc(parent, SIZE_MAX / 2, 4));
    /* A large block (libc's calloc, an mmap of its own) and a block that
     * reuses freed, dirty memory: zero either way. */
    for (int round = 0; round < 2; round++) {
        p = ht_alloc__calloc(parent, 300, 1024);
        ck_assert_ptr_nonnull(p);
        for (size_t i = 0; i < 300 * 1024; i += 512) ck_assert_uint_eq(p[i], 0);
        ck_assert_uint_eq(p[300 * 1024 - 1], 0);
        memset(p, 0xAB, 300 * 1024);
        ht_alloc__free(parent, p, 300 * 1024);
        unsigned char* q = ht_alloc__calloc(parent, 100, 10);
        ck_assert_ptr_nonnull(q);
        for (int i = 0; i < 1000; i++) ck_assert_uint_eq(q[i], 0);
        memset(q, 0xCD, 1000);
        ht_alloc__free(parent, q, 1000);
    }
}
END_TEST

START_TEST(counting_counts) {
    ht_alloc_counting_t c;
    ht_alloc__counting_init(&c, parent);
    ht_alloc_t* a = &c.base;
    void* p = ht_alloc__alloc(a, 100);
    void* q = ht_alloc__realloc(a, nullptr, 0, 50);
    ck_assert_uint_eq(c.allocs, 2);
    ck_assert_uint_eq(c.live_bytes, 150);
    p = ht_alloc__realloc(a, p, 100, 300);
    ck_assert_uint_eq(c.reallocs, 1);
    ck_assert_uint_eq(c.live_bytes, 350);
    ck_assert_uint_eq(c.peak_bytes, 350);
    ht_alloc__free(a, p, 300);
    ht_alloc__free(a, q, 50);
    ht_alloc__free(a, nullptr, 0);
    ck_assert_uint_eq(c.frees, 2);
    ck_assert_uint_eq(c.live_bytes, 0);
    ck_assert_uint_eq(c.peak_bytes, 350);
}
END_TEST

START_TEST(counting_fails_on_demand) {
    ht_alloc_counting_t c;
    ht_alloc__counting_init(&c, parent);
    c.fail_after = 1;
    void* p = ht_alloc__alloc(&c.base, 10);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(ht_alloc__alloc(&c.base, 10));
    ck_assert_ptr_null(ht_alloc__realloc(&c.base, p, 10, 20));
    ck_assert_uint_eq(c.failures, 2);
    ck_assert_uint_eq(c.allocs, 1);
    ht_alloc__free(&c.base, p, 10); /* p survived the failed realloc */
    ck_assert_uint_eq(c.live_bytes, 0);
}
END_TEST

int main(void) {
    Suite* s = suite_create("alloc");
    TCase* tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, default_alloc_aligned);
    tcase_add_test(tc, calloc_zeroes_and_checks_overflow);
    tcase_add_test(tc, counting_counts);
    tcase_add_test(tc, counting_fails_on_demand);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
