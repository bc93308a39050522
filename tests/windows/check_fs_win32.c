/* tests/windows/check_fs_win32.c — files/resolve_win32.c and
 * listing_win32.c directly, under Wine (tests/windows/run.sh; Check API from
 * tests/windows/check.h): docroot errors, the names Windows would
 * reinterpret, the final-path check, stat, dup/pread, listings. */
#include <check.h>

#include <windows.h>

#include <ht/fs.h>

#include "files/files.h" /* ht_fs_pread_, ht_fs_dup_ */

static char root_path[MAX_PATH];
static ht_alloc_t* A;

static void put(const char* rel, const char* data) {
    char p[MAX_PATH];
    snprintf(p, sizeof p, "%s\\%s", root_path, rel);
    HANDLE h = CreateFileA(p, GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, 0, nullptr);
    ck_assert(h != INVALID_HANDLE_VALUE);
    DWORD n;
    ck_assert(WriteFile(h, data, (DWORD) strlen(data), &n, nullptr));
    CloseHandle(h);
}

static void setup(void) {
    A = ht_alloc__init();
    char tmp[MAX_PATH];
    GetTempPathA(sizeof tmp, tmp);
    snprintf(root_path, sizeof root_path, "%sht_fs_%lu", tmp, (unsigned long) GetCurrentProcessId());
    ck_assert(CreateDirectoryA(root_path, nullptr));
    char p[MAX_PATH];
    snprintf(p, sizeof p, "%s\\dir", root_path);
    ck_assert(CreateDirectoryA(p, nullptr));
    put("a.txt", "hello, windows\n");
    put("longfilename-document.txt", "long\n");
    put("dir\\c.txt", "see\n");
}

static void rm(const char* rel) {
    char p[MAX_PATH];
    snprintf(p, sizeof p, "%s\\%s", root_path, rel);
    DeleteFileA(p);
}

static void teardown(void) {
    rm("a.txt");
    rm("longfilename-document.txt");
    rm("dir\\c.txt");
    char p[MAX_PATH];
    snprintf(p, sizeof p, "%s\\dir", root_path);
    RemoveDirectoryA(p);
    RemoveDirectoryA(root_path);
    ht_alloc__finalize(A);
}

static ht_fs_status_t resolve(const ht_fs_root_t* root, const char* raw, ht_fs_entry_t* e) {
    static char buf[HT_FS_PATH_MAX];
    ht_fs_status_t st = ht_fs__resolve(root, ht_slice__from_cstr(raw), buf, e);
    return st;
}

START_TEST(root_open_errors) {
    ht_fs_root_t root;
    ck_assert_int_eq(ht_fs__root_open(&root, "Z:\\no\\such\\dir", 0, nullptr, nullptr), -ENOENT);
    char p[MAX_PATH];
    snprintf(p, sizeof p, "%s\\a.txt", root_path);
    ck_assert_int_eq(ht_fs__root_open(&root, p, 0, nullptr, nullptr), -ENOTDIR);
    /* links are never followed on Windows: the policy that needs them is refused */
    ck_assert_int_eq(ht_fs__root_open(&root, root_path, HT_FS_FOLLOW_OUTSIDE, nullptr, nullptr), -ENOTSUP);
    ck_assert_int_eq(ht_fs__root_open(&root, root_path, 0, nullptr, nullptr), 0);
    ht_fs__root_close(&root);
}
END_TEST

START_TEST(resolve_files_dirs_and_refusals) {
    ht_fs_root_t root;
    ck_assert_int_eq(ht_fs__root_open(&root, root_path, 0, nullptr, nullptr), 0);
    ht_fs_entry_t e;
    ck_assert_int_eq(resolve(&root, "/a.txt", &e), HT_FS_FILE);
    ck_assert_uint_eq(e.st.size, 15);
    ck_assert(!e.st.is_dir);
    ck_assert_int_ge(e.st.mtime_sec, 1700000000); /* Unix time, not FILETIME */
    char buf[32] = { 0 };
    ck_assert_int_eq(ht_fs_pread_(e.fd, buf, 5, 7), 5); /* positioned read */
    ck_assert_str_eq(buf, "windo");
    ht_file_t d;
    ck_assert_int_eq(ht_fs_dup_(e.fd, &d), 0);
    /* its own file object (ReOpenFile): moving the original's file pointer
     * does not move the copy's */
    ck_assert(SetFilePointer((HANDLE) e.fd, 7, nullptr, FILE_BEGIN) == 7);
    DWORD got3 = 0;
    ck_assert(ReadFile((HANDLE) d, buf, 3, &got3, nullptr) && got3 == 3);
    ck_assert_int_eq(memcmp(buf, "hel", 3), 0);
    ht_fs__close(e.fd);
    memset(buf, 0, sizeof buf);
    ck_assert_int_eq(ht_fs_pread_(d, buf, sizeof buf, 0), 15); /* short at EOF */
    ck_assert_str_eq(buf, "hello, windows\n");
    ht_fs__close(d);
    ck_assert_int_eq(resolve(&root, "/dir", &e), HT_FS_REDIRECT);
    ck_assert_int_eq(resolve(&root, "/dir/", &e), HT_FS_DIR);
    ck_assert(e.st.is_dir);
    ht_fs__close(e.fd);
    ck_assert_int_eq(resolve(&root, "/dir/c.txt", &e), HT_FS_FILE);
    ht_fs__close(e.fd);
    ck_assert_int_eq(resolve(&root, "/", &e), HT_FS_DIR);
    ht_fs__close(e.fd);
    static const struct { const char* raw; ht_fs_status_t want; } bad[] = {
        { "/A.TXT", HT_FS_NOT_FOUND },            /* another name for a.txt */
        { "/a.txt::$DATA", HT_FS_NOT_FOUND },     /* its default stream */
        { "/a.txt:x", HT_FS_NOT_FOUND },          /* a named stream */
        { "/a.txt.", HT_FS_NOT_FOUND },           /* Win32 would strip the dot */
        { "/a.txt%20", HT_FS_NOT_FOUND },         /* ... and the space */
        { "/C:/Windows/win.ini", HT_FS_NOT_FOUND },
        { "/CON", HT_FS_NOT_FOUND },
        { "/dir/lpt1.txt", HT_FS_NOT_FOUND },
        { "/a%2A", HT_FS_NOT_FOUND },             /* wildcard */
        { "/dir/..%5ca.txt", HT_FS_BAD_PATH },    /* backslash, decoded */
        { "/dir\\..\\a.txt", HT_FS_BAD_PATH },    /* backslash, raw */
        { "/../a.txt", HT_FS_BAD_PATH },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e.fd = HT_FILE_INVALID;
        ht_fs_status_t st = resolve(&root, bad[i].raw, &e);
        ck_assert_msg(st == bad[i].want, "%s: %d, want %d", bad[i].raw, (int) st, (int) bad[i].want);
        ck_assert(e.fd == HT_FILE_INVALID);
    }
    /* the real 8.3 alias of the long name, whatever Windows made it */
    char lp[MAX_PATH], sp[MAX_PATH];
    snprintf(lp, sizeof lp, "%s\\longfilename-document.txt", root_path);
    DWORD n = GetShortPathNameA(lp, sp, sizeof sp);
    const char* base = strrchr(sp, '\\');
    if (n > 0 && n < sizeof sp && base && strcmp(base + 1, "longfilename-document.txt") != 0) {
        char raw[MAX_PATH];
        snprintf(raw, sizeof raw, "/%s", base + 1);
        ck_assert_msg(resolve(&root, raw, &e) == HT_FS_NOT_FOUND, "8.3 alias %s", raw);
        printf("8.3 alias %s refused\n", raw);
    } else {
        printf("no 8.3 alias on this volume (8.3 names disabled)\n");
    }
    ck_assert_int_eq(resolve(&root, "/longfilename-document.txt", &e), HT_FS_FILE);
    ht_fs__close(e.fd);
    ht_fs__root_close(&root);
}
END_TEST

START_TEST(listing_reads_the_directory) {
    ht_fs_root_t root;
    ck_assert_int_eq(ht_fs__root_open(&root, root_path, 0, nullptr, nullptr), 0);
    ht_fs_entry_t e;
    ck_assert_int_eq(resolve(&root, "/", &e), HT_FS_DIR);
    ht_bytes_t out;
    ht_bytes__init(&out, A);
    ck_assert_int_eq(ht_fs__listing(&root, e.fd, HT_SLICE("/"), HT_SLICE(""), &out, A), 0);
    ck_assert_int_eq(ht_bytes__push_byte(&out, '\0'), 0);
    ck_assert_ptr_nonnull(strstr(out.data, "a.txt"));
    ck_assert_ptr_nonnull(strstr(out.data, "longfilename-document.txt"));
    ck_assert_ptr_nonnull(strstr(out.data, "dir/"));
    ht_bytes__free(&out);
    ht_fs__close(e.fd);
    ht_fs__root_close(&root);
}
END_TEST

int main(void) {
    Suite* s = suite_create("fs-win32");
    TCase* tc = tcase_create("resolve");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, root_open_errors);
    tcase_add_test(tc, resolve_files_dirs_and_refusals);
    tcase_add_test(tc, listing_reads_the_directory);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
