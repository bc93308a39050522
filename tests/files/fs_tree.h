/* tests/files/fs_tree.h — the temporary docroot check_resolve and check_plan
 * share: a tree with a sentinel outside the root, symlinks in and out, a
 * fifo, gzip sidecars fresh and stale, fixed mtimes (setup/teardown, a
 * counting allocator that must end with nothing live), and small helpers.
 * Each test program includes it once. */
#ifndef HT_TESTS_FILES_FS_TREE_H
#define HT_TESTS_FILES_FS_TREE_H

#include "files/files.h"
#include "support/ht_test.h"

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SENTINEL "SENTINEL-SECRET-must-never-be-served\n"
#define MT 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

static char base[64];
static char rootdir[128];
static ht_alloc_t* parent;
static ht_alloc_counting_t counting;
static ht_alloc_t* a;

static inline void put(const char* rel, const char* content) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "create %s", p);
    size_t n = strlen(content);
    ck_assert_int_eq(write(fd, content, n), (ssize_t) n);
    close(fd);
}
static inline void dir(const char* rel) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    ck_assert_int_eq(mkdir(p, 0755), 0);
}
static inline void lnk(const char* rel, const char* target) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    ck_assert_int_eq(symlink(target, p), 0);
}
/* Sets mtime (seconds, nanoseconds) without following symlinks. */
static inline void touch(const char* rel, int64_t sec, long nsec) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };
    ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static inline void setup(void) {
    parent = ht_alloc__init();
    ht_alloc__counting_init(&counting, parent);
    a = &counting.base;
    strcpy(base, "/tmp/ht_fs_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(rootdir, sizeof rootdir, "%s/root", base);
    put("secret.txt", SENTINEL);
    dir("outdir");
    put("outdir/inner.txt", SENTINEL);
    dir("root");
    put("root/index.html", "<h1>home</h1>\n");
    put("root/a.txt", "hello\n");
    put("root/a b.txt", "space\n");
    put("root/%2e%2e", "literal percent name\n");
    dir("root/dir");
    put("root/dir/file.txt", "in dir\n");
    dir("root/dir2");
    put("root/dir2/index.html", "dir2 index\n");
    dir("root/dir3");
    dir("root/dir3/index.html"); /* an index that is a directory: ignored */
    put("root/.hidden", "hidden\n");
    dir("root/.well-known");
    put("root/.well-known/security.txt", "Contact: x\n");
    dir("root/.well-knownx");
    put("root/.well-knownx/f", "no\n");
    dir("root/.git");
    put("root/.git/config", "gitcfg\n");
    lnk("root/link_in", "a.txt");
    lnk("root/link_dir", "dir");
    lnk("root/link_chain", "link_in");
    lnk("root/link_out", "../secret.txt");
    char abs[256];
    snprintf(abs, sizeof abs, "%s/secret.txt", base);
    lnk("root/link_abs", abs);
    lnk("root/link_outdir", "../outdir");
    lnk("root/link_loop", "link_loop");
    lnk("root/link_proc", "/proc/self/root/etc/hostname");
    lnk("root/link_dangling", "nope");
    dir("root/sub");
    dir("root/sub/deep");
    put("root/sub/deep/x.txt", "x\n");
    lnk("root/sub/link_up", "../a.txt");
    lnk("root/sub/link_up2", "../../secret.txt");
    lnk("root/sub/link_updir", "..");
    lnk("root/sub/deep/link_rel", "../../dir/file.txt");
    lnk("root/sub/deep/link_esc", "../../../outdir/inner.txt");
    lnk("root/sub/deep/link_dotdot", "../../sub/../../secret.txt");
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/root/fifo", base);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    /* gzip sidecars: a fresh one, a stale one, and one that is a directory. */
    put("root/style.css", "body{color:red}\n");
    put("root/style.css.gz", "GZ-OF-STYLE");
    touch("root/style.css", MT, 0);
    touch("root/style.css.gz", MT, 1);
    put("root/old.js", "let x=1;\n");
    put("root/old.js.gz", "GZ-STALE");
    touch("root/old.js", MT, 5);
    touch("root/old.js.gz", MT, 4);
    put("root/plain.txt", "no sidecar\n");
    dir("root/weird.txt.gz");
    put("root/weird.txt", "weird\n");
    put("root/big.bin", "0123456789abcdefghij"); /* 20 bytes for ranges */
    touch("root/big.bin", MT, 0);
    touch("root/a.txt", MT, 0);
}

static inline int rm_one(const char* p, const struct stat* s, int flag, struct FTW* f) {
    (void) s, (void) flag, (void) f;
    return remove(p);
}
static inline void teardown(void) {
    ck_assert_int_eq(nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
    ck_assert_uint_eq(counting.live_bytes, 0);
    ht_alloc__finalize(parent);
}

static inline ht_fs_root_t open_root(uint32_t flags) {
    ht_fs_root_t r;
    ck_assert_int_eq(ht_fs__root_open(&r, rootdir, flags, nullptr, nullptr), 0);
    return r;
}

/* Reads a whole (small) file from fd at offset 0. */
static inline size_t slurp(int fd, char* out, size_t cap) {
    ssize_t n = pread(fd, out, cap - 1, 0);
    ck_assert_int_ge(n, 0);
    out[n] = '\0';
    return (size_t) n;
}

#endif /* HT_TESTS_FILES_FS_TREE_H */
