/* check_resolve: path resolution beneath a real temporary docroot (fs_tree.h):
 * the traversal table under openat2 and under the O_NOFOLLOW walk (a sentinel
 * outside the root must never be read), random hostile paths, and listings
 * byte for byte. ht_fs__plan and its cache: check_plan.c. */
#include "fs_tree.h"

#include <limits.h>
#include <stdlib.h>

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
    suite_add_tcase(s, tc);
    return ht_test__run(s);
}
