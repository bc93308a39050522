/* check_resolve: path resolution beneath a real temporary docroot (traversal
 * table under openat2 and under the O_NOFOLLOW walk; a sentinel outside the
 * root must never be read), listings byte for byte, and ht_fs__plan for
 * every status the static server answers with. */
#include "files/files.h"
#include "support/ht_test.h"

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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

static void put(const char* rel, const char* content) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "create %s", p);
    size_t n = strlen(content);
    ck_assert_int_eq(write(fd, content, n), (ssize_t) n);
    close(fd);
}
static void dir(const char* rel) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    ck_assert_int_eq(mkdir(p, 0755), 0);
}
static void lnk(const char* rel, const char* target) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    ck_assert_int_eq(symlink(target, p), 0);
}
/* Sets mtime (seconds, nanoseconds) without following symlinks. */
static void touch(const char* rel, int64_t sec, long nsec) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };
    ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void setup(void) {
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

static int rm_one(const char* p, const struct stat* s, int flag, struct FTW* f) {
    (void) s, (void) flag, (void) f;
    return remove(p);
}
static void teardown(void) {
    ck_assert_int_eq(nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
    ck_assert_uint_eq(counting.live_bytes, 0);
    ht_alloc__finalize(parent);
}

static ht_fs_root_t open_root(uint32_t flags) {
    ht_fs_root_t r;
    ck_assert_int_eq(ht_fs__root_open(&r, rootdir, flags, nullptr, nullptr), 0);
    return r;
}

/* Reads a whole (small) file from fd at offset 0. */
static size_t slurp(int fd, char* out, size_t cap) {
    ssize_t n = pread(fd, out, cap - 1, 0);
    ck_assert_int_ge(n, 0);
    out[n] = '\0';
    return (size_t) n;
}

typedef struct {
    const char*    raw;
    ht_fs_status_t want;
    const char*    content; /* FILE: what it must contain */
    const char*    path;    /* the decoded path, when checked */
} rcase_t;

static const rcase_t traversal[] = {
    /* dot segments and their encodings */
    { "/../secret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/..", HT_FS_BAD_PATH, 0, 0 },
    { "/%2e%2e/secret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/%2E%2E/secret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/.%2e/secret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/%2e./secret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/dir/../../secret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/dir/%2e%2e/%2e%2e/secret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/./../secret.txt", HT_FS_BAD_PATH, 0, 0 },
    /* encoded separators */
    { "/..%2fsecret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/..%2Fsecret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/%2e%2e%2fsecret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/dir%2f..%2f..%2fsecret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/..%5csecret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/..%5Csecret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/..\\secret.txt", HT_FS_BAD_PATH, 0, 0 },
    { "/dir\\..\\..\\secret.txt", HT_FS_BAD_PATH, 0, 0 },
    /* double encoding is decoded once: "%2e%2e" is then a literal name */
    { "/%252e%252e/secret.txt", HT_FS_NOT_FOUND, 0, "/%2e%2e/secret.txt" },
    { "/%252e%252e", HT_FS_FILE, "literal percent name\n", "/%2e%2e" },
    { "/%252f..%252fsecret.txt", HT_FS_NOT_FOUND, 0, 0 },
    /* overlong UTF-8 for '.' and '/' are bytes, not dots */
    { "/%c0%ae%c0%ae/secret.txt", HT_FS_NOT_FOUND, 0, 0 },
    { "/%c0%ae%c0%ae%c0%afsecret.txt", HT_FS_NOT_FOUND, 0, 0 },
    { "/%e0%80%ae%e0%80%ae/secret.txt", HT_FS_NOT_FOUND, 0, 0 },
    /* NUL and bad escapes */
    { "/a.txt%00", HT_FS_BAD_PATH, 0, 0 },
    { "/a.txt%00.html", HT_FS_BAD_PATH, 0, 0 },
    { "/%00", HT_FS_BAD_PATH, 0, 0 },
    { "/%", HT_FS_BAD_PATH, 0, 0 },
    { "/%2", HT_FS_BAD_PATH, 0, 0 },
    { "/%zz", HT_FS_BAD_PATH, 0, 0 },
    { "a.txt", HT_FS_BAD_PATH, 0, 0 },
    { "", HT_FS_BAD_PATH, 0, 0 },
    { "*", HT_FS_BAD_PATH, 0, 0 },
    /* symlinks leading out */
    { "/link_out", HT_FS_FORBIDDEN, 0, 0 },
    { "/link_abs", HT_FS_FORBIDDEN, 0, 0 },
    { "/link_outdir/inner.txt", HT_FS_FORBIDDEN, 0, 0 },
    { "/link_outdir/", HT_FS_FORBIDDEN, 0, 0 },
    { "/sub/link_up2", HT_FS_FORBIDDEN, 0, 0 },
    { "/sub/deep/link_esc", HT_FS_FORBIDDEN, 0, 0 },
    { "/sub/deep/link_dotdot", HT_FS_FORBIDDEN, 0, 0 },
    /* URL dot segments go first, textually: this is "/sub/secret.txt" */
    { "/sub/link_updir/../secret.txt", HT_FS_NOT_FOUND, 0, "/sub/secret.txt" },
    { "/link_proc", HT_FS_FORBIDDEN, 0, 0 },
    { "/link_loop", HT_FS_FORBIDDEN, 0, 0 },
    { "/link_dangling", HT_FS_NOT_FOUND, 0, 0 },
    /* dotfiles, special files */
    { "/.hidden", HT_FS_FORBIDDEN, 0, 0 },
    { "/.git/config", HT_FS_FORBIDDEN, 0, 0 },
    { "/%2egit/config", HT_FS_FORBIDDEN, 0, 0 },
    { "/dir/../.git/config", HT_FS_FORBIDDEN, 0, 0 },
    { "/fifo", HT_FS_FORBIDDEN, 0, 0 },
    { "/.well-knownx/f", HT_FS_FORBIDDEN, 0, 0 },
    { "/.well-known/.x", HT_FS_FORBIDDEN, 0, 0 },
    { "/.well-known/security.txt", HT_FS_FILE, "Contact: x\n", 0 },
    { "/%2ewell-known/security.txt", HT_FS_FILE, "Contact: x\n", 0 },
    /* what is allowed */
    { "/a.txt", HT_FS_FILE, "hello\n", "/a.txt" },
    { "/a%20b.txt", HT_FS_FILE, "space\n", "/a b.txt" },
    { "/%61.txt", HT_FS_FILE, "hello\n", "/a.txt" },
    { "//a.txt", HT_FS_FILE, "hello\n", "/a.txt" },
    { "/./a.txt", HT_FS_FILE, "hello\n", "/a.txt" },
    { "/dir/../a.txt", HT_FS_FILE, "hello\n", "/a.txt" },
    { "/sub/./deep/../../a.txt", HT_FS_FILE, "hello\n", "/a.txt" },
    { "/dir//file.txt", HT_FS_FILE, "in dir\n", "/dir/file.txt" },
    { "/link_in", HT_FS_FILE, "hello\n", "/link_in" },
    { "/link_chain", HT_FS_FILE, "hello\n", 0 },
    { "/link_dir/file.txt", HT_FS_FILE, "in dir\n", 0 },
    { "/sub/link_up", HT_FS_FILE, "hello\n", 0 },
    { "/sub/deep/link_rel", HT_FS_FILE, "in dir\n", 0 },
    { "/sub/link_updir/a.txt", HT_FS_FILE, "hello\n", 0 }, /* ".." inside a link, in the root */
    { "/dir", HT_FS_REDIRECT, 0, "/dir" },
    { "/dir/", HT_FS_DIR, 0, "/dir/" },
    { "/link_dir/", HT_FS_DIR, 0, 0 },
    { "/link_dir", HT_FS_REDIRECT, 0, 0 },
    { "/", HT_FS_DIR, 0, "/" },
    { "//", HT_FS_DIR, 0, "/" },
    { "/a.txt/", HT_FS_NOT_FOUND, 0, 0 },
    { "/a.txt/x", HT_FS_NOT_FOUND, 0, 0 },
    { "/nope", HT_FS_NOT_FOUND, 0, 0 },
    { "/nope/x", HT_FS_NOT_FOUND, 0, 0 },
};

static void run_table(uint32_t flags) {
    ht_fs_root_t root = open_root(flags);
    char buf[HT_FS_PATH_MAX];
    for (size_t i = 0; i < HT_ARRAY_LEN(traversal); i++) {
        const rcase_t* c = &traversal[i];
        ht_fs_entry_t e;
        ht_fs_status_t s = ht_fs__resolve(&root, ht_slice__from_cstr(c->raw), buf, &e);
        ck_assert_msg(s == c->want, "flags %u %s: got %d want %d (err %d)", flags, c->raw, (int) s,
                      (int) c->want, e.err);
        if (s == HT_FS_FILE || s == HT_FS_DIR) {
            ck_assert_int_ge(e.fd, 0);
            if (s == HT_FS_FILE) {
                char got[256];
                slurp(e.fd, got, sizeof got);
                ck_assert_msg(strstr(got, "SENTINEL") == nullptr, "%s leaked the sentinel", c->raw);
                ck_assert_str_eq(got, c->content);
            } else {
                ck_assert(e.st.is_dir);
            }
            ht_fs__close(e.fd);
        } else {
            ck_assert_int_eq(e.fd, HT_FILE_INVALID);
        }
        if (c->path) ck_assert_msg(ht_slice__eq(e.path, ht_slice__from_cstr(c->path)), "%s -> %.*s",
                                   c->raw, HT_SLICE_FMT(e.path));
    }
    ht_fs__root_close(&root);
}

START_TEST(traversal_openat2) {
    ck_assert_msg(ht_fs_have_openat2_(), "this kernel has openat2; the test expects to exercise it");
    run_table(0);
}
END_TEST

START_TEST(traversal_walk) { run_table(HT_FS_NO_OPENAT2); }
END_TEST

START_TEST(follow_outside_and_dotfiles_flags) {
    char buf[HT_FS_PATH_MAX];
    ht_fs_entry_t e;
    char got[256];
    ht_fs_root_t r = open_root(HT_FS_FOLLOW_OUTSIDE);
    /* The flag lets symlinks out, on purpose; ".." in the URL still may not. */
    ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/link_out"), buf, &e), HT_FS_FILE);
    slurp(e.fd, got, sizeof got);
    ck_assert_str_eq(got, SENTINEL);
    ht_fs__close(e.fd);
    ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/link_outdir/inner.txt"), buf, &e), HT_FS_FILE);
    ht_fs__close(e.fd);
    ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/../secret.txt"), buf, &e), HT_FS_BAD_PATH);
    ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/%2e%2e/secret.txt"), buf, &e), HT_FS_BAD_PATH);
    ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/.hidden"), buf, &e), HT_FS_FORBIDDEN);
    ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/fifo"), buf, &e), HT_FS_FORBIDDEN);
    ht_fs__root_close(&r);

    for (int walk = 0; walk < 2; walk++) {
        r = open_root(HT_FS_DOTFILES | (walk ? HT_FS_NO_OPENAT2 : 0));
        ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/.hidden"), buf, &e), HT_FS_FILE);
        slurp(e.fd, got, sizeof got);
        ck_assert_str_eq(got, "hidden\n");
        ht_fs__close(e.fd);
        ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/.git/config"), buf, &e), HT_FS_FILE);
        ht_fs__close(e.fd);
        ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/link_out"), buf, &e), HT_FS_FORBIDDEN);
        ht_fs__root_close(&r);
    }
}
END_TEST

START_TEST(lengths_and_root_errors) {
    ht_fs_root_t r = open_root(0);
    char buf[HT_FS_PATH_MAX];
    ht_fs_entry_t e;
    char* long_path = malloc(HT_FS_PATH_MAX + 1);
    long_path[0] = '/';
    memset(long_path + 1, 'a', HT_FS_PATH_MAX);
    ck_assert_int_eq(ht_fs__resolve(&r, ht_slice__from(long_path, HT_FS_PATH_MAX), buf, &e), HT_FS_TOO_LONG);
    /* Just under the limit: a name too long for the file system. */
    ck_assert_int_eq(ht_fs__resolve(&r, ht_slice__from(long_path, HT_FS_PATH_MAX - 1), buf, &e),
                     HT_FS_NOT_FOUND);
    free(long_path);
    ht_fs__root_close(&r);
    ck_assert_int_eq(ht_fs__root_open(&r, "/nonexistent/ht", 0, nullptr, nullptr), -ENOENT);
    char f[256];
    snprintf(f, sizeof f, "%s/a.txt", rootdir);
    ck_assert_int_eq(ht_fs__root_open(&r, f, 0, nullptr, nullptr), -ENOTDIR);
    ck_assert_int_eq(ht_fs__root_open(&r, rootdir, 0, "a/b", nullptr), -EINVAL);
    ck_assert_int_eq(ht_fs__root_open(&r, rootdir, 0, "..", nullptr), -EINVAL);
    ck_assert_int_eq(ht_fs__root_open(&r, rootdir, 0, "", nullptr), -EINVAL);
}
END_TEST

START_TEST(location) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ck_assert_int_eq(ht_fs__push_location(&b, HT_SLICE("/a b/\xc3\xa9?#%\"<"), HT_SLICE("x=1")), 0);
    ck_assert(ht_slice__eq(ht_bytes__slice(&b), HT_SLICE("/a%20b/%C3%A9%3F%23%25%22%3C?x=1")));
    ht_bytes__clear(&b);
    /* Never a network-path reference ("//evil.example/"). */
    ck_assert_int_eq(ht_fs__push_location(&b, HT_SLICE("//evil.example/x"), HT_SLICE_NULL), 0);
    ck_assert(ht_slice__eq(ht_bytes__slice(&b), HT_SLICE("/evil.example/x")));
    ht_bytes__free(&b);
}
END_TEST

/* ---- listings ---- */

static void make_listing_tree(void) {
    dir("root/list");
    dir("root/list/sub");
    put("root/list/a b.txt", "abc");
    put("root/list/<x>&\"'.txt", "");
    put("root/list/\xc3\xa9.txt", "e");
    put("root/list/z:colon", "zz");
    put("root/list/\xff.bin", "ffff");
    put("root/list/ctl\x01", "c");
    put("root/list/.dot", "hidden");
    lnk("root/list/link_ok", "../a.txt");
    lnk("root/list/link_bad", "../../secret.txt");
    lnk("root/list/link_dir", "../dir");
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/root/list/fifo", base);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    const char* all[] = { "root/list/sub", "root/list/a b.txt", "root/list/<x>&\"'.txt",
                          "root/list/\xc3\xa9.txt", "root/list/z:colon", "root/list/\xff.bin",
                          "root/list/ctl\x01", "root/dir" };
    for (size_t i = 0; i < HT_ARRAY_LEN(all); i++) touch(all[i], MT, 0);
}

static const char listing_expected[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Index of /list/</title>\n"
    "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
    "th,td{padding:.2em 1em;text-align:left}td.s{text-align:right}</style>\n"
    "</head>\n<body>\n<h1>Index of /list/</h1>\n<table>\n"
    "<thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead>\n<tbody>\n"
    "<tr><td><a href=\"../\">../</a></td><td class=\"s\">-</td><td></td></tr>\n"
    "<tr><td><a href=\"link_dir/\">link_dir/</a></td><td class=\"s\">-</td><td>1994-11-06 08:49</td></tr>\n"
    "<tr><td><a href=\"sub/\">sub/</a></td><td class=\"s\">-</td><td>1994-11-06 08:49</td></tr>\n"
    "<tr><td><a href=\"%3Cx%3E%26%22%27.txt\">&lt;x&gt;&amp;&quot;&#39;.txt</a></td><td class=\"s\">0</td><td>1994-11-06 08:49</td></tr>\n"
    "<tr><td><a href=\"a%20b.txt\">a b.txt</a></td><td class=\"s\">3</td><td>1994-11-06 08:49</td></tr>\n"
    "<tr><td><a href=\"ctl%01\">ctl\xef\xbf\xbd</a></td><td class=\"s\">1</td><td>1994-11-06 08:49</td></tr>\n"
    "<tr><td><a href=\"link_ok\">link_ok</a></td><td class=\"s\">6</td><td>1994-11-06 08:49</td></tr>\n"
    "<tr><td><a href=\"z%3Acolon\">z:colon</a></td><td class=\"s\">2</td><td>1994-11-06 08:49</td></tr>\n"
    "<tr><td><a href=\"%C3%A9.txt\">\xc3\xa9.txt</a></td><td class=\"s\">1</td><td>1994-11-06 08:49</td></tr>\n"
    "<tr><td><a href=\"%FF.bin\">\xef\xbf\xbd.bin</a></td><td class=\"s\">4</td><td>1994-11-06 08:49</td></tr>\n"
    "</tbody>\n</table>\n</body>\n</html>\n";

static void check_listing(uint32_t flags) {
    make_listing_tree();
    ht_fs_root_t r = open_root(flags);
    char buf[HT_FS_PATH_MAX];
    ht_fs_entry_t e;
    ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/list/"), buf, &e), HT_FS_DIR);
    ht_bytes_t out;
    ht_bytes__init(&out, a);
    ck_assert_int_eq(ht_fs__listing(&r, e.fd, e.path, HT_SLICE(""), &out, a), 0);
    const char* got = ht_bytes__cstr(&out);
    ck_assert_msg(strcmp(got, listing_expected) == 0, "got:\n%s", got);
    /* Twice on the same fd: the directory is re-read from its start. */
    ht_bytes__clear(&out);
    ck_assert_int_eq(ht_fs__listing(&r, e.fd, e.path, HT_SLICE(""), &out, a), 0);
    ck_assert(ht_slice__eq(ht_bytes__slice(&out), ht_slice__from(listing_expected, sizeof listing_expected - 1)));
    /* Out of memory at every step: -ENOMEM, out unchanged, nothing leaked. */
    for (size_t k = 0; k < 64; k++) {
        ht_bytes__clear(&out);
        ht_bytes__push_cstr(&out, "keep");
        counting.fail_after = k;
        ht_result_t rr = ht_fs__listing(&r, e.fd, e.path, HT_SLICE(""), &out, a);
        counting.fail_after = SIZE_MAX;
        if (rr == 0) break;
        ck_assert_int_eq(rr, -ENOMEM);
        ck_assert(ht_slice__eq(ht_bytes__slice(&out), HT_SLICE("keep")));
    }
    ht_bytes__free(&out);
    ht_fs__close(e.fd);
    ht_fs__root_close(&r);
}

START_TEST(listing_bytes) { check_listing(0); }
END_TEST
START_TEST(listing_bytes_walk) { check_listing(HT_FS_NO_OPENAT2); }
END_TEST

/* A directory bigger than one getdents buffer (32 KiB): every entry, in order. */
START_TEST(listing_many_entries) {
    dir("root/many");
    char name[128];
    for (int i = 0; i < 700; i++) {
        snprintf(name, sizeof name, "root/many/entry-%04d-with-a-rather-long-name-to-fill-buffers.txt", (i * 7919) % 700);
        put(name, "");
    }
    ht_fs_root_t r = open_root(HT_FS_NO_OPENAT2);
    ht_fs_entry_t e;
    char buf[HT_FS_PATH_MAX];
    ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/many/"), buf, &e), HT_FS_DIR);
    ht_bytes_t out;
    ht_bytes__init(&out, a);
    ck_assert_int_eq(ht_fs__listing(&r, e.fd, e.path, HT_SLICE(""), &out, a), 0);
    const char* s = ht_bytes__cstr(&out);
    const char* at = s;
    for (int i = 0; i < 700; i++) {
        snprintf(name, sizeof name, ">entry-%04d-with-a-rather-long-name-to-fill-buffers.txt<", i);
        const char* next = strstr(at, name);
        ck_assert_msg(next != nullptr, "entry %d missing or out of order", i);
        at = next;
    }
    ht_bytes__free(&out);
    ht_fs__close(e.fd);
    ht_fs__root_close(&r);
}
END_TEST

START_TEST(listing_root_and_dotfiles) {
    ht_fs_root_t r = open_root(HT_FS_DOTFILES);
    ht_fs_entry_t e;
    char buf[HT_FS_PATH_MAX];
    ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/"), buf, &e), HT_FS_DIR);
    ht_bytes_t out;
    ht_bytes__init(&out, a);
    ck_assert_int_eq(ht_fs__listing(&r, e.fd, e.path, HT_SLICE(""), &out, a), 0);
    const char* s = ht_bytes__cstr(&out);
    ck_assert_ptr_null(strstr(s, "href=\"../\""));        /* no parent above the root */
    ck_assert_ptr_nonnull(strstr(s, "href=\".hidden\""));  /* DOTFILES lists them */
    ck_assert_ptr_nonnull(strstr(s, "href=\".git/\""));
    ck_assert_ptr_null(strstr(s, "link_out"));            /* escaping links are not listed */
    ck_assert_ptr_null(strstr(s, "link_abs"));
    ck_assert_ptr_null(strstr(s, "link_loop"));
    ck_assert_ptr_null(strstr(s, "link_dangling"));
    ck_assert_ptr_null(strstr(s, "fifo"));
    ck_assert_ptr_nonnull(strstr(s, "href=\"link_in\""));
    ck_assert_ptr_nonnull(strstr(s, "href=\".well-known/\""));
    ck_assert_ptr_nonnull(strstr(s, "<title>Index of /</title>"));
    /* Directories come before every file. */
    ck_assert_ptr_nonnull(strstr(s, "href=\"a.txt\""));
    ck_assert(strstr(s, "href=\"sub/\"") < strstr(s, "href=\"a.txt\""));
    ht_fs__close(e.fd);
    ht_fs__root_close(&r);
    /* Without the flag: dotfiles hidden, but .well-known listed. */
    r = open_root(0);
    ck_assert_int_eq(ht_fs__resolve(&r, HT_SLICE("/"), buf, &e), HT_FS_DIR);
    ht_bytes__clear(&out);
    ck_assert_int_eq(ht_fs__listing(&r, e.fd, e.path, HT_SLICE(""), &out, a), 0);
    s = ht_bytes__cstr(&out);
    ck_assert_ptr_null(strstr(s, ".hidden"));
    ck_assert_ptr_null(strstr(s, ".git"));
    ck_assert_ptr_null(strstr(s, ".well-knownx"));
    ck_assert_ptr_nonnull(strstr(s, "href=\".well-known/\""));
    ck_assert_ptr_null(strstr(s, "href=\"../\"")); /* the site's root has no parent */
    /* The same root served under a mount: the URL is in the title, and its
     * root links up to the page that holds the mount. */
    ht_bytes__clear(&out);
    ck_assert_int_eq(ht_fs__listing(&r, e.fd, e.path, HT_SLICE("/files&co"), &out, a), 0);
    s = ht_bytes__cstr(&out);
    ck_assert_ptr_nonnull(strstr(s, "<title>Index of /files&amp;co/</title>"));
    ck_assert_ptr_nonnull(strstr(s, "<h1>Index of /files&amp;co/</h1>"));
    ck_assert_ptr_nonnull(strstr(s, "<a href=\"../\">../</a>"));
    ht_bytes__free(&out);
    ht_fs__close(e.fd);
    ht_fs__root_close(&r);
}
END_TEST

/* ---- ht_fs__plan ---- */

static ht_slice_t hdr(const ht_fs_plan_t* p, ht_header_id_t id) {
    for (unsigned i = 0; i < p->n_headers; i++)
        if (p->headers[i].id == id) return p->headers[i].value;
    return HT_SLICE_NULL;
}
static bool hdr_is(const ht_fs_plan_t* p, ht_header_id_t id, const char* v) {
    ht_slice_t h = hdr(p, id);
    return v ? (h.ptr && ht_slice__eq(h, ht_slice__from_cstr(v))) : h.ptr == nullptr;
}
static ht_fs_request_t get(const char* path) {
    return (ht_fs_request_t){ .method = HT_METHOD_GET, .path = ht_slice__from_cstr(path) };
}
/* The bytes the plan says to send. */
static void body_is(const ht_fs_plan_t* p, const char* want) {
    ck_assert_int_eq(p->body, HT_FS_BODY_FILE);
    char got[256];
    ck_assert_uint_lt(p->length, sizeof got);
    ck_assert_int_eq(pread(p->fd, got, p->length, (off_t) p->offset), (ssize_t) p->length);
    got[p->length] = '\0';
    ck_assert_str_eq(got, want);
}

static ht_fs_plan_t plan; /* large: not on the stack of each test */

START_TEST(plan_methods_and_errors) {
    ht_fs_root_t r = open_root(0);
    static const ht_method_t bad[] = { HT_METHOD_POST, HT_METHOD_PUT, HT_METHOD_DELETE,
                                       HT_METHOD_OPTIONS, HT_METHOD_PATCH, HT_METHOD_OTHER };
    for (size_t i = 0; i < HT_ARRAY_LEN(bad); i++) {
        ht_fs_request_t q = get("/a.txt");
        q.method = bad[i];
        ht_fs__plan(&r, &q, &plan);
        ck_assert_uint_eq(plan.status, 405);
        ck_assert(hdr_is(&plan, HT_HEADER_ALLOW, "GET, HEAD"));
        ck_assert_int_eq(plan.fd, HT_FILE_INVALID);
        ht_fs__plan_release(&plan);
    }
    struct { const char* path; uint16_t status; } cases[] = {
        { "/nope", 404 }, { "/../secret.txt", 400 }, { "/%2e%2e/secret.txt", 400 },
        { "/link_out", 403 }, { "/.git/config", 403 }, { "/a.txt%00", 400 }, { "/a.txt/", 404 },
        { "/fifo", 403 },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        ht_fs_request_t q = get(cases[i].path);
        ht_fs__plan(&r, &q, &plan);
        ck_assert_msg(plan.status == cases[i].status, "%s: %u", cases[i].path, plan.status);
        ck_assert_int_eq(plan.body, HT_FS_BODY_NONE);
        ck_assert_int_eq(plan.fd, HT_FILE_INVALID);
        ck_assert_uint_eq(plan.n_headers, 0);
        ht_fs__plan_release(&plan);
    }
    ht_fs__root_close(&r);
}
END_TEST

START_TEST(plan_files) {
    ht_fs_root_t r = open_root(0);
    ht_fs_request_t q = get("/a.txt");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    body_is(&plan, "hello\n");
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8"));
    ck_assert(hdr_is(&plan, HT_HEADER_LAST_MODIFIED, "Sun, 06 Nov 1994 08:49:37 GMT"));
    ck_assert(hdr_is(&plan, HT_HEADER_ACCEPT_RANGES, "bytes"));
    ck_assert(hdr_is(&plan, HT_HEADER_VARY, nullptr));
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_ENCODING, nullptr));
    char etag[HT_FS_ETAG_MAX + 1];
    ht_fs__etag(etag, &plan.st);
    ck_assert(hdr_is(&plan, HT_HEADER_ETAG, etag));
    ck_assert_uint_eq(plan.headers[1].name.len, 4);
    ht_fs__plan_release(&plan);
    ck_assert_int_eq(plan.fd, HT_FILE_INVALID);

    /* HEAD: the same plan (the server sends no body). */
    q.method = HT_METHOD_HEAD;
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    ck_assert_uint_eq(plan.length, 6);
    ht_fs__plan_release(&plan);

    /* Conditionals. */
    q = get("/a.txt");
    q.if_none_match = ht_slice__from_cstr(etag);
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 304);
    ck_assert_int_eq(plan.body, HT_FS_BODY_NONE);
    ck_assert_int_eq(plan.fd, HT_FILE_INVALID);
    ck_assert(hdr_is(&plan, HT_HEADER_ETAG, etag));
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_TYPE, nullptr));
    ht_fs__plan_release(&plan);
    q = get("/a.txt");
    q.if_modified_since = HT_SLICE("Sun, 06 Nov 1994 08:49:37 GMT");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 304);
    ht_fs__plan_release(&plan);
    q.if_modified_since = HT_SLICE("Sun, 06 Nov 1994 08:49:36 GMT");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    ht_fs__plan_release(&plan);
    q = get("/a.txt");
    q.if_match = HT_SLICE("\"other\"");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 412);
    ck_assert_int_eq(plan.fd, HT_FILE_INVALID);
    ht_fs__plan_release(&plan);

    /* Ranges. */
    q = get("/big.bin");
    q.range = HT_SLICE("bytes=5-9");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 206);
    body_is(&plan, "56789");
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_RANGE, "bytes 5-9/20"));
    ht_fs__plan_release(&plan);
    q.range = HT_SLICE("bytes=-3");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 206);
    body_is(&plan, "hij");
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_RANGE, "bytes 17-19/20"));
    ht_fs__plan_release(&plan);
    q.range = HT_SLICE("bytes=20-");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 416);
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_RANGE, "bytes */20"));
    ck_assert_int_eq(plan.body, HT_FS_BODY_NONE);
    ck_assert_int_eq(plan.fd, HT_FILE_INVALID);
    ht_fs__plan_release(&plan);
    q.range = HT_SLICE("bytes=0-1,4-5");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    body_is(&plan, "0123456789abcdefghij");
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_RANGE, nullptr));
    ht_fs__plan_release(&plan);
    q.range = HT_SLICE("bytes=oops");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    ht_fs__plan_release(&plan);
    /* If-Range: the current validator keeps the range, an old one drops it. */
    q.range = HT_SLICE("bytes=0-0");
    q.if_range = HT_SLICE("Sun, 06 Nov 1994 08:49:37 GMT");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 206);
    body_is(&plan, "0");
    ht_fs__plan_release(&plan);
    q.if_range = HT_SLICE("\"stale\"");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    ck_assert_uint_eq(plan.length, 20);
    ht_fs__plan_release(&plan);
    /* HEAD ignores Range. */
    q = get("/big.bin");
    q.method = HT_METHOD_HEAD;
    q.range = HT_SLICE("bytes=5-9");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    ck_assert_uint_eq(plan.length, 20);
    ht_fs__plan_release(&plan);
    /* A 304 wins over Range. */
    q = get("/big.bin");
    q.range = HT_SLICE("bytes=5-9");
    q.if_none_match = HT_SLICE("*");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 304);
    ht_fs__plan_release(&plan);
    ht_fs__root_close(&r);
}
END_TEST

START_TEST(plan_directories) {
    ht_fs_root_t r = open_root(0);
    ht_fs_request_t q = get("/dir");
    q.query = HT_SLICE("x=1&y=%20");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 301);
    ck_assert(hdr_is(&plan, HT_HEADER_LOCATION, "/dir/?x=1&y=%20"));
    ht_fs__plan_release(&plan);
    q = get("/sub/./deep/..//deep");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 301);
    ck_assert(hdr_is(&plan, HT_HEADER_LOCATION, "/sub/deep/"));
    ht_fs__plan_release(&plan);
    /* Index files. */
    q = get("/");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    body_is(&plan, "<h1>home</h1>\n");
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_TYPE, "text/html; charset=utf-8"));
    ck_assert(ht_slice__eq(plan.path, HT_SLICE("/index.html")));
    ht_fs__plan_release(&plan);
    q = get("/dir2/");
    ht_fs__plan(&r, &q, &plan);
    body_is(&plan, "dir2 index\n");
    ht_fs__plan_release(&plan);
    /* No index: a listing of the directory. */
    q = get("/dir/");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    ck_assert_int_eq(plan.body, HT_FS_BODY_LISTING);
    ck_assert(ht_slice__eq(plan.path, HT_SLICE("/dir/")));
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_TYPE, "text/html; charset=utf-8"));
    ht_bytes_t out;
    ht_bytes__init(&out, a);
    ck_assert_int_eq(ht_fs__listing(&r, plan.fd, plan.path, HT_SLICE(""), &out, a), 0);
    ck_assert_ptr_nonnull(strstr(ht_bytes__cstr(&out), "<a href=\"file.txt\">file.txt</a>"));
    ht_bytes__free(&out);
    ht_fs__plan_release(&plan);
    q = get("/dir3/"); /* index.html is a directory there */
    ht_fs__plan(&r, &q, &plan);
    ck_assert_int_eq(plan.body, HT_FS_BODY_LISTING);
    ht_fs__plan_release(&plan);
    ht_fs__root_close(&r);

    /* --no-index: listings even where an index exists; --no-list too: 404. */
    r = open_root(HT_FS_NO_INDEX);
    q = get("/");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_int_eq(plan.body, HT_FS_BODY_LISTING);
    ht_fs__plan_release(&plan);
    ht_fs__root_close(&r);
    r = open_root(HT_FS_NO_INDEX | HT_FS_NO_LIST);
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 404);
    ck_assert_int_eq(plan.fd, HT_FILE_INVALID);
    ht_fs__plan_release(&plan);
    q = get("/a.txt");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    ht_fs__plan_release(&plan);
    ht_fs__root_close(&r);
    r = open_root(HT_FS_NO_LIST);
    q = get("/dir/");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 404);
    ht_fs__plan_release(&plan);
    q = get("/dir2/");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 200);
    ht_fs__plan_release(&plan);
    ht_fs__root_close(&r);
    /* A custom index name. */
    ck_assert_int_eq(ht_fs__root_open(&r, rootdir, 0, "file.txt", nullptr), 0);
    q = get("/dir/");
    ht_fs__plan(&r, &q, &plan);
    body_is(&plan, "in dir\n");
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8"));
    ht_fs__plan_release(&plan);
    ht_fs__root_close(&r);
}
END_TEST

START_TEST(plan_gzip) {
    ht_fs_root_t r = open_root(0);
    /* Sidecar present and fresh: gzip when allowed, Vary on both variants. */
    struct { const char* ae; bool gz; } cases[] = {
        { nullptr, false }, { "gzip", true }, { "gzip, deflate, br", true }, { "br", false },
        { "gzip;q=0", false }, { "*", true }, { "identity", false },
        { "br;q=1, gzip;q=0.5", true }, { "x-gzip", true },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        ht_fs_request_t q = get("/style.css");
        if (cases[i].ae) q.accept_encoding = ht_slice__from_cstr(cases[i].ae);
        ht_fs__plan(&r, &q, &plan);
        ck_assert_uint_eq(plan.status, 200);
        ck_assert_msg((plan.encoding == HT_FS_ENC_GZIP) == cases[i].gz, "%s", cases[i].ae ? cases[i].ae : "(none)");
        body_is(&plan, cases[i].gz ? "GZ-OF-STYLE" : "body{color:red}\n");
        ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_TYPE, "text/css; charset=utf-8"));
        ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_ENCODING, cases[i].gz ? "gzip" : nullptr));
        ck_assert(hdr_is(&plan, HT_HEADER_VARY, "Accept-Encoding"));
        ht_fs__plan_release(&plan);
    }
    /* The two variants have different ETags; a 304 for the gzip one keeps Vary. */
    ht_fs_request_t q = get("/style.css");
    ht_fs__plan(&r, &q, &plan);
    char plain_tag[HT_FS_ETAG_MAX + 1];
    ht_fs__etag(plain_tag, &plan.st);
    ht_fs__plan_release(&plan);
    q.accept_encoding = HT_SLICE("gzip");
    ht_fs__plan(&r, &q, &plan);
    char gz_tag[HT_FS_ETAG_MAX + 1];
    ht_fs__etag(gz_tag, &plan.st);
    ck_assert_str_ne(plain_tag, gz_tag);
    ht_fs__plan_release(&plan);
    q.if_none_match = ht_slice__from_cstr(gz_tag);
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 304);
    ck_assert(hdr_is(&plan, HT_HEADER_VARY, "Accept-Encoding"));
    ht_fs__plan_release(&plan);
    /* A range of the gzip variant is a range of the gzip bytes. */
    q = get("/style.css");
    q.accept_encoding = HT_SLICE("gzip");
    q.range = HT_SLICE("bytes=0-1");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.status, 206);
    body_is(&plan, "GZ");
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_RANGE, "bytes 0-1/11"));
    ht_fs__plan_release(&plan);
    /* Stale sidecar: ignored, no Vary. A directory named x.gz: ignored. None: no Vary. */
    const char* ignored[] = { "/old.js", "/weird.txt", "/plain.txt" };
    for (size_t i = 0; i < HT_ARRAY_LEN(ignored); i++) {
        q = get(ignored[i]);
        q.accept_encoding = HT_SLICE("gzip");
        ht_fs__plan(&r, &q, &plan);
        ck_assert_uint_eq(plan.status, 200);
        ck_assert_uint_eq(plan.encoding, HT_FS_ENC_IDENTITY);
        ck_assert(hdr_is(&plan, HT_HEADER_VARY, nullptr));
        ht_fs__plan_release(&plan);
    }
    /* The sidecar itself asked for by name: an ordinary gzip file. */
    q = get("/style.css.gz");
    ht_fs__plan(&r, &q, &plan);
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_TYPE, "application/gzip"));
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_ENCODING, nullptr));
    ht_fs__plan_release(&plan);
    ht_fs__root_close(&r);
    /* HT_FS_NO_GZIP: never. */
    r = open_root(HT_FS_NO_GZIP);
    q = get("/style.css");
    q.accept_encoding = HT_SLICE("gzip");
    ht_fs__plan(&r, &q, &plan);
    ck_assert_uint_eq(plan.encoding, HT_FS_ENC_IDENTITY);
    ck_assert(hdr_is(&plan, HT_HEADER_VARY, nullptr));
    body_is(&plan, "body{color:red}\n");
    ht_fs__plan_release(&plan);
    ht_fs__root_close(&r);
}
END_TEST

START_TEST(plan_mime_table_and_fd_hygiene) {
    ht_fs_mime_t m;
    ht_fs__mime_init(&m, a);
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("bin"), HT_SLICE("application/x-test")), 0);
    ht_fs_root_t r;
    ck_assert_int_eq(ht_fs__root_open(&r, rootdir, 0, nullptr, &m), 0);
    ht_fs_request_t q = get("/big.bin");
    ht_fs__plan(&r, &q, &plan);
    ck_assert(hdr_is(&plan, HT_HEADER_CONTENT_TYPE, "application/x-test"));
    ht_fs__plan_release(&plan);
    /* No descriptor leaks over many plans of every kind. */
    int probe = dup(0);
    const char* paths[] = { "/a.txt", "/", "/dir/", "/dir", "/nope", "/link_out", "/style.css",
                            "/../x", "/dir2/", "/fifo" };
    for (int round = 0; round < 50; round++)
        for (size_t i = 0; i < HT_ARRAY_LEN(paths); i++) {
            q = get(paths[i]);
            q.accept_encoding = HT_SLICE("gzip");
            q.range = HT_SLICE("bytes=0-0");
            ht_fs__plan(&r, &q, &plan);
            ht_fs__plan_release(&plan);
        }
    int probe2 = dup(0);
    ck_assert_int_eq(probe2, probe + 1);
    close(probe);
    close(probe2);
    ht_fs__root_close(&r);
    ht_fs__mime_free(&m);
}
END_TEST

/* Random paths built from hostile pieces: whatever resolves must be beneath
 * the root (checked through /proc/self/fd) and never the sentinel; the two
 * resolvers agree on every path. */
START_TEST(random_paths_stay_beneath) {
    static const char* const pieces[] = {
        "/", "/", "..", ".", "%2e", "%2E", "%2f", "%5c", "\\", "%00", "%25", "%252e", "a.txt",
        "dir", "sub", "deep", "link_out", "link_dir", "link_updir", "link_abs", "link_outdir",
        "link_in", "secret.txt", "%c0%ae", ".hidden", "//", "x", "%", "inner.txt", "link_esc",
        "link_dotdot", "..%2f", "%2e%2e",
    };
    ht_fs_root_t r2 = open_root(0), rw = open_root(HT_FS_NO_OPENAT2);
    char real_root[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(rootdir, real_root));
    size_t rl = strlen(real_root);
    uint64_t x = 0x2545F4914F6CDD1Dull;
    char raw[256], buf[HT_FS_PATH_MAX], buf2[HT_FS_PATH_MAX];
    unsigned files = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        raw[n++] = '/';
        int k = 1 + (int) (x % 7);
        for (int j = 0; j < k; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            const char* p = pieces[x % HT_ARRAY_LEN(pieces)];
            size_t pl = strlen(p);
            if (n + pl + 1 >= sizeof raw) break;
            memcpy(raw + n, p, pl);
            n += pl;
            if (x & 0x100) raw[n++] = '/';
        }
        ht_fs_entry_t e, ew;
        ht_fs_status_t s = ht_fs__resolve(&r2, ht_slice__from(raw, n), buf, &e);
        ht_fs_status_t sw = ht_fs__resolve(&rw, ht_slice__from(raw, n), buf2, &ew);
        ck_assert_msg(s == sw, "%.*s: openat2 %d, walk %d", (int) n, raw, (int) s, (int) sw);
        for (int w = 0; w < 2; w++) {
            ht_fs_entry_t* en = w ? &ew : &e;
            if (en->fd < 0) continue;
            char link[64], where[PATH_MAX];
            snprintf(link, sizeof link, "/proc/self/fd/%d", en->fd);
            ssize_t wl = readlink(link, where, sizeof where - 1);
            ck_assert_int_gt(wl, 0);
            where[wl] = '\0';
            ck_assert_msg(strncmp(where, real_root, rl) == 0 && (where[rl] == '/' || where[rl] == '\0'),
                          "%.*s opened %s", (int) n, raw, where);
            if (s == HT_FS_FILE) {
                char got[256];
                slurp(en->fd, got, sizeof got);
                ck_assert_ptr_null(strstr(got, "SENTINEL"));
                files += !w;
            }
            ht_fs__close(en->fd);
        }
    }
    ck_assert_uint_gt(files, 50); /* the generator does reach real files (98 with this seed) */
    ht_fs__root_close(&r2);
    ht_fs__root_close(&rw);
}
END_TEST

/* ---- the per-loop cache ---- */

/* Compares two plans as a server would see them. */
static void same_plan(const ht_fs_plan_t* x, const ht_fs_plan_t* y, const char* what) {
    ck_assert_msg(x->status == y->status, "%s: %u vs %u", what, x->status, y->status);
    ck_assert_int_eq(x->body, y->body);
    ck_assert_uint_eq(x->n_headers, y->n_headers);
    for (unsigned i = 0; i < x->n_headers; i++) {
        ck_assert(ht_slice__eq(x->headers[i].name, y->headers[i].name));
        ck_assert_msg(ht_slice__eq(x->headers[i].value, y->headers[i].value), "%s: %.*s", what,
                      HT_SLICE_FMT(x->headers[i].name));
    }
    ck_assert_uint_eq(x->offset, y->offset);
    ck_assert_uint_eq(x->length, y->length);
    ck_assert(ht_slice__eq(x->path, y->path));
    ck_assert_int_eq(x->encoding, y->encoding);
    if (x->body == HT_FS_BODY_FILE) {
        char a1[64], a2[64];
        size_t n = x->length < sizeof a1 ? x->length : sizeof a1;
        ck_assert_int_eq(pread(x->fd, a1, n, (off_t) x->offset), (ssize_t) n);
        ck_assert_int_eq(pread(y->fd, a2, n, (off_t) y->offset), (ssize_t) n);
        ck_assert(memcmp(a1, a2, n) == 0);
        if (y->data) ck_assert(memcmp(y->data + y->offset, a1, n) == 0);
    }
}

static ht_fs_plan_t plan2;

START_TEST(cache_matches_plan) {
    ht_fs_root_t r = open_root(0);
    ht_fs_cache_t c;
    ck_assert_int_eq(ht_fs__cache_init(&c, 64, 1000, 0, a), 0);
    const char* paths[] = { "/a.txt", "/", "/dir/", "/dir", "/nope", "/link_out", "/style.css",
                            "/old.js", "/big.bin", "/../x", "/dir2/", "/link_in" };
    const char* aes[] = { nullptr, "gzip", "gzip;q=0" };
    const char* ranges[] = { nullptr, "bytes=1-3", "bytes=99-" };
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < HT_ARRAY_LEN(paths); i++)
            for (size_t j = 0; j < HT_ARRAY_LEN(aes); j++)
                for (size_t k = 0; k < HT_ARRAY_LEN(ranges); k++) {
                    ht_fs_request_t q = get(paths[i]);
                    if (aes[j]) q.accept_encoding = ht_slice__from_cstr(aes[j]);
                    if (ranges[k]) q.range = ht_slice__from_cstr(ranges[k]);
                    if (round == 2) q.if_none_match = HT_SLICE("*");
                    if (k == 2 && j == 1) q.method = HT_METHOD_HEAD;
                    ht_fs__plan(&r, &q, &plan);
                    ht_fs__plan_cached(&c, &r, &q, 5, &plan2);
                    same_plan(&plan, &plan2, paths[i]);
                    ht_fs__plan_release(&plan);
                    ht_fs__plan_release(&plan2);
                }
    /* Files only are cached: 7 file paths x 2 gzip keys, filled in round 0. */
    ck_assert_uint_gt(c.hits, 0);
    uint64_t hits = c.hits, allocs = counting.allocs;
    ht_fs_request_t q = get("/a.txt");
    ht_fs__plan_cached(&c, &r, &q, 6, &plan2);
    ck_assert_uint_eq(c.hits, hits + 1);
    ck_assert_uint_eq(counting.allocs, allocs); /* a hit allocates nothing */
    ck_assert(plan2.fd_borrowed);
    ck_assert_ptr_nonnull(plan2.data);
    ck_assert(memcmp(plan2.data, "hello\n", 6) == 0);
    ck_assert_int_eq(ht_fs__plan_take_fd(&plan2), HT_FILE_INVALID); /* not the plan's */
    ht_file_t borrowed = plan2.fd;
    ht_fs__plan_release(&plan2);
    ck_assert_int_ge(fcntl(borrowed, F_GETFD), 0); /* release left the cache's fd open */
    ht_fs__cache_free(&c);
    ht_fs__root_close(&r);
}
END_TEST

START_TEST(cache_ttl_eviction_oom) {
    ht_fs_root_t r = open_root(0);
    ht_fs_cache_t c;
    ck_assert_int_eq(ht_fs__cache_init(&c, 4, 100, 4, a), 0); /* 4 entries, 100 ms, contents <= 4 B */
    int probe = dup(0);
    close(probe);
    ht_fs_request_t q = get("/a.txt");
    ht_fs__plan_cached(&c, &r, &q, 1000, &plan2);
    ck_assert_uint_eq(plan2.status, 200);
    ck_assert_ptr_null(plan2.data); /* 6 bytes > max_file: fd only */
    char old_tag[HT_FS_ETAG_MAX + 1];
    ht_fs__etag(old_tag, &plan2.st);
    ht_fs__plan_release(&plan2);
    /* Replace the file (new inode): within the ttl the cached version stays. */
    put("root/a.txt.new", "brand new content\n");
    char from[256], to[256];
    snprintf(from, sizeof from, "%s/a.txt.new", rootdir);
    snprintf(to, sizeof to, "%s/a.txt", rootdir);
    ck_assert_int_eq(rename(from, to), 0);
    ht_fs__plan_cached(&c, &r, &q, 1099, &plan2);
    ck_assert(hdr_is(&plan2, HT_HEADER_ETAG, old_tag));
    body_is(&plan2, "hello\n");
    ht_fs__plan_release(&plan2);
    /* After it: revalidated. */
    ht_fs__plan_cached(&c, &r, &q, 1100, &plan2);
    ck_assert(!hdr_is(&plan2, HT_HEADER_ETAG, old_tag));
    body_is(&plan2, "brand new content\n");
    ht_fs__plan_release(&plan2);
    /* A clock going backwards revalidates too. */
    uint64_t m = c.misses;
    ht_fs__plan_cached(&c, &r, &q, 10, &plan2);
    ck_assert_uint_eq(c.misses, m + 1);
    ht_fs__plan_release(&plan2);
    /* More files than entries: evictions, and no descriptor leak. */
    const char* many[] = { "/a.txt", "/big.bin", "/style.css", "/old.js", "/plain.txt",
                           "/weird.txt", "/index.html", "/dir/file.txt", "/sub/deep/x.txt" };
    for (int round = 0; round < 5; round++)
        for (size_t i = 0; i < HT_ARRAY_LEN(many); i++) {
            q = get(many[i]);
            ht_fs__plan_cached(&c, &r, &q, 2000 + round, &plan2);
            ck_assert_uint_eq(plan2.status, 200);
            ht_fs__plan_release(&plan2);
        }
    ck_assert_uint_gt(c.evictions, 0);
    /* Out of memory on insert: served uncached, plan owns its fd. */
    counting.fail_after = 0;
    q = get("/plain.txt");
    ht_fs__plan_cached(&c, &r, &q, 99999, &plan2);
    counting.fail_after = SIZE_MAX;
    ck_assert_uint_eq(plan2.status, 200);
    body_is(&plan2, "no sidecar\n");
    ht_fs__plan_release(&plan2);
    ht_fs__cache_free(&c);
    int probe2 = dup(0);
    ck_assert_int_eq(probe2, probe); /* every cached fd closed */
    close(probe2);
    ht_fs__root_close(&r);
    /* Init failure. */
    counting.fail_after = 0;
    ck_assert_int_eq(ht_fs__cache_init(&c, 0, 0, 0, a), -ENOMEM);
    counting.fail_after = SIZE_MAX;
}
END_TEST

int main(void) {
    Suite* s = suite_create("resolve");
    TCase* tc = tcase_create("resolve");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, traversal_openat2);
    tcase_add_test(tc, traversal_walk);
    tcase_add_test(tc, random_paths_stay_beneath);
    tcase_add_test(tc, follow_outside_and_dotfiles_flags);
    tcase_add_test(tc, lengths_and_root_errors);
    tcase_add_test(tc, location);
    tcase_add_test(tc, listing_bytes);
    tcase_add_test(tc, listing_bytes_walk);
    tcase_add_test(tc, listing_root_and_dotfiles);
    tcase_add_test(tc, listing_many_entries);
    tcase_add_test(tc, plan_methods_and_errors);
    tcase_add_test(tc, plan_files);
    tcase_add_test(tc, plan_directories);
    tcase_add_test(tc, plan_gzip);
    tcase_add_test(tc, plan_mime_table_and_fd_hygiene);
    tcase_add_test(tc, cache_matches_plan);
    tcase_add_test(tc, cache_ttl_eviction_oom);
    suite_add_tcase(s, tc);
    return ht_test__run(s);
}
