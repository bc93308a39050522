/* check_precompress: ht --precompress's sidecar writer (examples/ht):
 * which files get a sidecar, that it decompresses to the original, that
 * fresh ones are left alone and stale ones rewritten atomically, and that
 * the library then serves them. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#ifdef HT_HAVE_BROTLI
#  include <brotli/decode.h>
#endif
#ifdef HT_HAVE_ZSTD
#  include <zstd.h>
#endif

#include "compress.h"
#include "precompress.h"

static char base[64];

static void put(const char* rel, const char* data, size_t n) {
    char p[512];
    ck_assert_int_lt(snprintf(p, sizeof p, "%s/%s", base, rel), (int) sizeof p);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, n), (ssize_t) n);
    close(fd);
}
static bool exists(const char* rel, struct stat* st) {
    char p[512];
    struct stat s;
    ck_assert_int_lt(snprintf(p, sizeof p, "%s/%s", base, rel), (int) sizeof p);
    return lstat(p, st ? st : &s) == 0;
}
static void set_mtime(const char* rel, time_t sec) {
    char p[512];
    ck_assert_int_lt(snprintf(p, sizeof p, "%s/%s", base, rel), (int) sizeof p);
    struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };
    ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}
/* comp[0, cn) decoded with coding e into out; the decoded length, or
 * SIZE_MAX when the decoder fails. */
static size_t decode(ht_fs_encoding_t e, const char* comp, size_t cn, char* out, size_t cap) {
    if (e == HT_FS_ENC_GZIP) {
        z_stream z = { 0 };
        if (inflateInit2(&z, 15 + 16) != Z_OK) return SIZE_MAX;
        z.next_in = (Bytef*) comp, z.avail_in = (uInt) cn;
        z.next_out = (Bytef*) out, z.avail_out = (uInt) cap;
        int rc = inflate(&z, Z_FINISH);
        size_t n = z.total_out;
        inflateEnd(&z);
        return rc == Z_STREAM_END ? n : SIZE_MAX;
    }
#ifdef HT_HAVE_BROTLI
    if (e == HT_FS_ENC_BR) {
        size_t n = cap;
        return BrotliDecoderDecompress(cn, (const uint8_t*) comp, &n, (uint8_t*) out) == BROTLI_DECODER_RESULT_SUCCESS
                   ? n : SIZE_MAX;
    }
#endif
#ifdef HT_HAVE_ZSTD
    if (e == HT_FS_ENC_ZSTD) {
        size_t n = ZSTD_decompress(out, cap, comp, cn);
        return ZSTD_isError(n) ? SIZE_MAX : n;
    }
#endif
    return SIZE_MAX;
}

/* Decodes rel + the suffix of e and compares with rel (and it is smaller). */
static bool round_trips_as(const char* rel, ht_fs_encoding_t e) {
    char p[512], side[512];
    ck_assert_int_lt(snprintf(p, sizeof p, "%s/%s", base, rel), (int) sizeof p);
    snprintf(side, sizeof side, "%s/%s%s", base, rel, ht_fs__encoding_suffix(e).ptr);
    static char orig[1 << 20], comp[1 << 20], out[1 << 20];
    FILE* f = fopen(p, "rb");
    size_t on = fread(orig, 1, sizeof orig, f);
    fclose(f);
    f = fopen(side, "rb");
    if (!f) return false;
    size_t cn = fread(comp, 1, sizeof comp, f);
    fclose(f);
    size_t n = decode(e, comp, cn, out, sizeof out);
    return n == on && memcmp(orig, out, n) == 0 && cn < on;
}

/* Every coding this build writes round-trips; none other was written. */
static bool round_trips(const char* rel) {
    for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) {
        char side[512];
        snprintf(side, sizeof side, "%s%s", rel, ht_fs__encoding_suffix((ht_fs_encoding_t) e).ptr);
        if (ht_compress__available((ht_fs_encoding_t) e) ? !round_trips_as(rel, (ht_fs_encoding_t) e)
                                                         : exists(side, nullptr))
            return false;
    }
    return true;
}

/* How many codings this build writes. */
static uint32_t ncodings(void) {
    uint32_t n = 0;
    for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) n += ht_compress__available((ht_fs_encoding_t) e);
    return n;
}

static int rm_one(const char* p, const struct stat* s, int flag, struct FTW* f) {
    (void) s, (void) flag, (void) f;
    return remove(p);
}

START_TEST(tree) {
    strcpy(base, "/tmp/ht_pc_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    char css[8192];
    size_t n = 0;
    for (int i = 0; i < 300; i++) n += (size_t) snprintf(css + n, sizeof css - n, ".a%d{x:y}\n", i);
    char mkp[512];
    snprintf(mkp, sizeof mkp, "%s/sub", base);
    mkdir(mkp, 0755);
    snprintf(mkp, sizeof mkp, "%s/.git", base);
    mkdir(mkp, 0755);
    put("a.css", css, n);
    put("sub/b.js", css, n);
    put("sub/c.JSON", css, n);
    put("tiny.css", "a{}", 3);               /* below the minimum */
    put("img.png", css, n);                   /* not compressible */
    put(".git/x.css", css, n);                /* dot directory */
    put(".hidden.css", css, n);               /* dotfile */
    char rnd[4096];                           /* compressible type, incompressible bytes */
    uint64_t x = 12345;
    for (size_t i = 0; i < sizeof rnd; i++) { x ^= x << 13, x ^= x >> 7, x ^= x << 17; rnd[i] = (char) x; }
    put("noise.txt", rnd, sizeof rnd);
    put("noise.txt.gz", "stale", 5);
    set_mtime("noise.txt.gz", 1000);         /* older: would be served stale otherwise */
    snprintf(mkp, sizeof mkp, "%s/link.css", base);
    ck_assert_int_eq(symlink("a.css", mkp), 0); /* symlinks are not followed */

    ht_precompress_stats_t st;
    uint32_t k = ncodings();
    ck_assert_uint_ge(k, 1); /* gzip always */
    ck_assert_int_eq(ht_precompress__tree(base, nullptr, stderr, false, &st), 0);
    ck_assert_uint_eq(st.written, 3 * k);
    ck_assert_uint_eq(st.skipped, k);
    ck_assert_uint_eq(st.too_small, 1); /* tiny.css */
    ck_assert_uint_eq(st.failed, 0);
    ck_assert_uint_eq(st.up_to_date, 0);
    ck_assert_uint_eq(st.bytes_in, 3 * n);
    for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) {
        bool has = ht_compress__available((ht_fs_encoding_t) e);
        ck_assert_uint_eq(st.coded_in[e], has ? 3 * n : 0);
        ck_assert(has ? st.coded_out[e] > 0 && st.coded_out[e] < st.coded_in[e] : st.coded_out[e] == 0);
    }
    ck_assert(round_trips("a.css"));
    ck_assert(round_trips("sub/b.js"));
    ck_assert(round_trips("sub/c.JSON"));
    ck_assert(!exists("tiny.css.gz", nullptr));
    ck_assert(!exists("img.png.gz", nullptr));
    ck_assert(!exists(".git/x.css.gz", nullptr));
    ck_assert(!exists(".hidden.css.gz", nullptr));
    ck_assert(!exists("link.css.gz", nullptr));
    ck_assert(!exists("noise.txt.gz", nullptr)); /* stale and not worth it: removed */
    /* The sidecar carries the original's mtime. */
    struct stat so, sg;
    ck_assert(exists("a.css", &so) && exists("a.css.gz", &sg));
    ck_assert_int_eq(so.st_mtim.tv_sec, sg.st_mtim.tv_sec);
    ck_assert_int_eq(so.st_mtim.tv_nsec, sg.st_mtim.tv_nsec);
    /* No temporary file is left behind. */
    DIR* d = opendir(base);
    struct dirent* e;
    while ((e = readdir(d))) ck_assert_ptr_null(strstr(e->d_name, ".tmp"));
    closedir(d);

    /* Second run: everything fresh, nothing rewritten (same inode); verbose
     * says so file by file. */
    char* vlog = nullptr;
    size_t vlen = 0;
    FILE* vf = open_memstream(&vlog, &vlen);
    ck_assert_ptr_nonnull(vf);
    ck_assert_int_eq(ht_precompress__tree(base, nullptr, vf, true, &st), 0);
    fclose(vf);
    ck_assert_uint_eq(st.written, 0);
    ck_assert_uint_eq(st.up_to_date, 3 * k);
    ck_assert_uint_eq(st.too_small, 1);
    ck_assert_msg(strstr(vlog, "/a.css.gz: up to date\n") && strstr(vlog, "/tiny.css: too small (3 bytes)\n") &&
                  strstr(vlog, "/noise.txt.gz: not smaller\n") && !strstr(vlog, "img.png"), "%s", vlog);
    free(vlog);
    struct stat sg2;
    exists("a.css.gz", &sg2);
    ck_assert_uint_eq(sg.st_ino, sg2.st_ino);

    /* The original changes: its sidecar is stale, then rewritten (new inode). */
    put("a.css", "x{y:z}\n", 7);
    for (int i = 0; i < 60; i++) put("a.css", css, n);
    set_mtime("a.css", so.st_mtim.tv_sec + 10);
    ck_assert_int_eq(ht_precompress__tree(base, nullptr, stderr, false, &st), 0);
    ck_assert_uint_eq(st.written, k);
    ck_assert_uint_eq(st.up_to_date, 2 * k);
    struct stat sg3;
    exists("a.css.gz", &sg3);
    ck_assert_uint_ne(sg.st_ino, sg3.st_ino);
    ck_assert(round_trips("a.css"));

    /* And the library serves it. */
    ht_fs_root_t root;
    ck_assert_int_eq(ht_fs__root_open(&root, base, 0, nullptr, nullptr), 0);
    static ht_fs_plan_t plan;
    ht_fs_request_t q = { .method = HT_METHOD_GET, .path = HT_SLICE("/a.css"),
                          .accept_encoding = HT_SLICE("gzip") };
    ht_fs__plan(&root, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    ck_assert_uint_eq(plan.encoding, HT_FS_ENC_GZIP);
    ck_assert_uint_eq(plan.length, (uint64_t) sg3.st_size);
    ht_fs__plan_release(&plan);
    /* A browser's header: the best coding written wins (br where built). */
    q.accept_encoding = HT_SLICE("gzip, deflate, br, zstd");
    ht_fs__plan(&root, &q, &plan);
    ck_assert_uint_eq(plan.encoding, ht_compress__available(HT_FS_ENC_BR)     ? HT_FS_ENC_BR
                                     : ht_compress__available(HT_FS_ENC_ZSTD) ? HT_FS_ENC_ZSTD
                                                                              : HT_FS_ENC_GZIP);
    ht_fs__plan_release(&plan);
    ht_fs__root_close(&root);

    ck_assert_int_eq(ht_precompress__tree("/nonexistent/x", nullptr, nullptr, false, &st), -1);
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

int main(void) {
    Suite* s = suite_create("precompress");
    TCase* tc = tcase_create("precompress");
    tcase_add_test(tc, tree);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
