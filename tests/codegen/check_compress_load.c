/* check_compress_load: the loader behind the tools' compressors
 * (codegen/dynload.h, compress.h's ht_compress__load): a library that is
 * not there, or lacks a function, is refused with a line naming it and its
 * package and leaves the caller's pointers alone; a later name in the list
 * is tried; a loaded function is the library's own. (A missing library seen
 * from `ht --precompress` end to end: tests/files/precompress_nolib.sh.) */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compress.h"
#include "dynload.h"

typedef struct {
    __typeof__(deflateBound)* deflateBound;
    __typeof__(crc32)*        crc32;
} fns_t;

static const ht_dynload_sym_t syms_[] = {
    { "deflateBound", offsetof(fns_t, deflateBound) },
    { "crc32", offsetof(fns_t, crc32) },
};

/* A value no loader writes: the members must keep it on failure. */
static uLong sentinel_bound(z_streamp s, uLong n) {
    (void) s;
    return n;
}

START_TEST(missing_library) {
    ht_dynload_lib_t lib = { { "libhachettp-no-such.so.9" }, "hachettp-no-such", syms_, HT_ARRAY_LEN(syms_) };
    fns_t f = { sentinel_bound, nullptr };
    char why[512];
    ck_assert(!ht_dynload__open(&lib, &f, why, sizeof why));
    ck_assert_msg(strncmp(why, "cannot load libhachettp-no-such.so.9 (install Debian's hachettp-no-such): ", 74) == 0,
                  "%s", why);
    ck_assert_msg(strstr(why, "libhachettp-no-such.so.9: cannot open shared object file"), "%s", why);
    ck_assert(f.deflateBound == sentinel_bound);
    ck_assert_ptr_null(f.crc32);
}
END_TEST

START_TEST(missing_symbol) {
    static const ht_dynload_sym_t bad[] = {
        { "deflateBound", offsetof(fns_t, deflateBound) },
        { "ht_no_such_function", offsetof(fns_t, crc32) },
    };
    ht_dynload_lib_t lib = { { "libz.so.1" }, "zlib1g", bad, HT_ARRAY_LEN(bad) };
    fns_t f = { sentinel_bound, nullptr };
    char why[512];
    ck_assert(!ht_dynload__open(&lib, &f, why, sizeof why));
    ck_assert_msg(strncmp(why, "cannot load libz.so.1 (install Debian's zlib1g): ", 49) == 0, "%s", why);
    ck_assert_msg(strstr(why, "undefined symbol: ht_no_such_function"), "%s", why);
    /* All or nothing: deflateBound was found, and still not written. */
    ck_assert(f.deflateBound == sentinel_bound);
    ck_assert_ptr_null(f.crc32);
}
END_TEST

START_TEST(second_name_and_same_function) {
    /* This test links zlib: dlopen hands back the copy already loaded, so
     * the pointers are the very functions the linker bound. */
    ht_dynload_lib_t lib = { { "libhachettp-no-such.so.9", "libz.so.1" }, "zlib1g", syms_, HT_ARRAY_LEN(syms_) };
    fns_t f = { sentinel_bound, nullptr };
    char why[512] = "untouched";
    ck_assert(ht_dynload__open(&lib, &f, why, sizeof why));
    ck_assert(f.deflateBound == deflateBound);
    ck_assert(f.crc32 == crc32);
    ck_assert_uint_eq(f.crc32(0, (const Bytef*) "123456789", 9), 0xcbf43926u); /* CRC-32's check value */
}
END_TEST

START_TEST(compress_load) {
    const char* why = "untouched";
    ck_assert(ht_compress__load(&why));
    ck_assert_ptr_null(why);
    ck_assert(ht_compress__load(nullptr)); /* once; the same answer */
    /* The loaded gzip writes what zlib (linked here) reads back. */
    static const char text[] = "hachettp hachettp hachettp hachettp hachettp hachettp";
    unsigned char* z = nullptr;
    size_t zn = 0;
    ck_assert(ht_compress__buffer(HT_FS_ENC_GZIP, (const unsigned char*) text, sizeof text, &z, &zn));
    ck_assert_uint_eq(z[0], 0x1f);
    ck_assert_uint_eq(z[1], 0x8b);
    char out[sizeof text];
    z_stream s = { .next_in = z, .avail_in = (uInt) zn, .next_out = (Bytef*) out, .avail_out = sizeof out };
    ck_assert_int_eq(inflateInit2(&s, 15 + 16), Z_OK);
    ck_assert_int_eq(inflate(&s, Z_FINISH), Z_STREAM_END);
    ck_assert_uint_eq(s.total_out, sizeof text);
    ck_assert_mem_eq(out, text, sizeof text);
    inflateEnd(&s);
    free(z);
}
END_TEST

int main(void) {
    Suite* s = suite_create("compress_load");
    TCase* tc = tcase_create("load");
    tcase_add_test(tc, missing_library);
    tcase_add_test(tc, missing_symbol);
    tcase_add_test(tc, second_name_and_same_function);
    tcase_add_test(tc, compress_load);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
