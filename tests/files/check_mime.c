/* check_mime: the gperf MIME table against its source list (every entry, any
 * case), text types' charset, unknown extensions, caller-added types. */
#include <check.h>
#include <ht/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ht_alloc_t* parent;
static ht_alloc_counting_t counting;
static ht_alloc_t* a;

static void setup(void) {
    parent = ht_alloc__init();
    ht_alloc__counting_init(&counting, parent);
    a = &counting.base;
}
static void teardown(void) {
    ck_assert_uint_eq(counting.live_bytes, 0);
    ht_alloc__finalize(parent);
}

static bool eq(ht_slice_t s, const char* want) {
    return s.ptr && ht_slice__eq(s, ht_slice__from_cstr(want));
}

/* Whether a type is one the issue calls "text": it must carry the charset. */
static bool texty(const char* t) {
    size_t n = strcspn(t, ";"); /* the essence, without parameters */
    bool ends = false;
    static const char* const suffixes[] = { "json", "+xml", "/xml", "/yaml", "/toml" };
    for (size_t i = 0; i < HT_ARRAY_LEN(suffixes); i++) {
        size_t k = strlen(suffixes[i]);
        if (n >= k && memcmp(t + n - k, suffixes[i], k) == 0) ends = true;
    }
    return strncmp(t, "text/", 5) == 0 || strstr(t, "javascript") || ends;
}

START_TEST(every_listed_type_any_case) {
    FILE* f = fopen(HT_MIME_LIST, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    unsigned n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') continue;
        char ext[64];
        int used = 0;
        ck_assert_int_eq(sscanf(line, "%63s %n", ext, &used), 1);
        const char* type = line + used;
        ck_assert_msg(eq(ht_fs__mime_builtin(ht_slice__from_cstr(ext)), type), "%s", ext);
        /* Upper and mixed case find the same entry. */
        char up[64], mixed[64];
        for (size_t i = 0; i <= strlen(ext); i++) {
            up[i] = (ext[i] >= 'a' && ext[i] <= 'z') ? (char) (ext[i] - 32) : ext[i];
            mixed[i] = (i % 2) ? up[i] : ext[i];
        }
        ck_assert_msg(eq(ht_fs__mime_builtin(ht_slice__from_cstr(up)), type), "%s", up);
        ck_assert_msg(eq(ht_fs__mime_builtin(ht_slice__from_cstr(mixed)), type), "%s", mixed);
        /* Through a path too. */
        char path[128];
        snprintf(path, sizeof path, "/dir.x/name.%s", up);
        ck_assert_msg(eq(ht_fs__mime_lookup(nullptr, ht_slice__from_cstr(path)), type), "%s", path);
        /* Text types carry the charset, and only those. */
        bool has_cs = strstr(type, "; charset=utf-8") != nullptr;
        if (strcmp(ext, "svgz") != 0) /* gzip bytes: no charset */
            ck_assert_msg(has_cs == texty(type), "%s: %s", ext, type);
        n++;
    }
    fclose(f);
    ck_assert_uint_ge(n, 40);
}
END_TEST

START_TEST(issue_types_present) {
    static const char* const want[][2] = {
        { "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
        { "css", "text/css; charset=utf-8" }, { "js", "text/javascript; charset=utf-8" },
        { "mjs", "text/javascript; charset=utf-8" }, { "json", "application/json; charset=utf-8" },
        { "map", "application/json; charset=utf-8" }, { "svg", "image/svg+xml; charset=utf-8" },
        { "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
        { "webp", "image/webp" }, { "avif", "image/avif" }, { "gif", "image/gif" },
        { "ico", "image/x-icon" }, { "wasm", "application/wasm" }, { "woff", "font/woff" },
        { "woff2", "font/woff2" }, { "ttf", "font/ttf" }, { "otf", "font/otf" },
        { "txt", "text/plain; charset=utf-8" }, { "md", "text/markdown; charset=utf-8" },
        { "xml", "application/xml; charset=utf-8" }, { "pdf", "application/pdf" },
        { "mp4", "video/mp4" }, { "webm", "video/webm" }, { "mp3", "audio/mpeg" },
        { "ogg", "audio/ogg" }, { "wav", "audio/wav" }, { "zip", "application/zip" },
        { "gz", "application/gzip" }, { "tar", "application/x-tar" },
        { "csv", "text/csv; charset=utf-8" },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(want); i++)
        ck_assert_msg(eq(ht_fs__mime_builtin(ht_slice__from_cstr(want[i][0])), want[i][1]), "%s",
                      want[i][0]);
}
END_TEST

START_TEST(unknown_and_edge_names) {
    static const char* const octet[] = {
        "/a", "/a.", "/.htaccess", "/a.unknownext", "/", "", "/dir.html/", "/x.h", "/x.htmlx",
        "/x.htm\xc3\xa9", "/x.ht", "/x.j",
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(octet); i++)
        ck_assert_msg(eq(ht_fs__mime_lookup(nullptr, ht_slice__from_cstr(octet[i])),
                         "application/octet-stream"), "%s", octet[i]);
    ck_assert_ptr_null(ht_fs__mime_builtin(HT_SLICE("")).ptr);
    ck_assert_ptr_null(ht_fs__mime_builtin(HT_SLICE("nope")).ptr);
    ck_assert_ptr_null(ht_fs__mime_builtin(HT_SLICE("htmlhtmlhtmlhtmlhtmlhtml")).ptr);
    /* A prefix of a known extension is not it (length compared). */
    ck_assert_ptr_null(ht_fs__mime_builtin(ht_slice__from("css", 2)).ptr);
    ck_assert(eq(ht_fs__mime_lookup(nullptr, HT_SLICE("/a.b/c.tar.gz")), "application/gzip"));
    ck_assert(eq(ht_fs__mime_lookup(nullptr, HT_SLICE("/.config.json")), "application/json; charset=utf-8"));
    /* Extension extraction. */
    ck_assert(eq(ht_fs__extension(HT_SLICE("/a/b.c/d")), ""));
    ck_assert(eq(ht_fs__extension(HT_SLICE("/a/b.c/d.E")), "E"));
    ck_assert(eq(ht_fs__extension(HT_SLICE("/.bashrc")), ""));
    ck_assert(eq(ht_fs__extension(HT_SLICE("..x")), "x"));
    ck_assert(eq(ht_fs__extension(HT_SLICE("x.")), ""));
}
END_TEST

START_TEST(caller_types) {
    ht_fs_mime_t m;
    ht_fs__mime_init(&m, a);
    ck_assert_uint_eq(counting.allocs, 0);
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("Foo"), HT_SLICE("application/x-foo")), 0);
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("html"), HT_SLICE("text/x-mine")), 0);
    ck_assert(eq(ht_fs__mime_lookup(&m, HT_SLICE("/x.fOO")), "application/x-foo"));
    ck_assert(eq(ht_fs__mime_lookup(&m, HT_SLICE("/x.HTML")), "text/x-mine")); /* overrides */
    ck_assert(eq(ht_fs__mime_lookup(&m, HT_SLICE("/x.css")), "text/css; charset=utf-8"));
    ck_assert(eq(ht_fs__mime_lookup(&m, HT_SLICE("/x.bar")), "application/octet-stream"));
    /* Replacing keeps one entry. */
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("foo"), HT_SLICE("text/foo; charset=utf-8")), 0);
    ck_assert(eq(ht_fs__mime_lookup(&m, HT_SLICE("/x.foo")), "text/foo; charset=utf-8"));
    ck_assert_uint_eq(m.len_, 2);
    /* Refused. */
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE(""), HT_SLICE("a/b")), -EINVAL);
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("a.b"), HT_SLICE("a/b")), -EINVAL);
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("a/b"), HT_SLICE("a/b")), -EINVAL);
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("x"), HT_SLICE("")), -EINVAL);
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("x"), HT_SLICE("a/b\r\nSet-Cookie: 1")), -EINVAL);
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("x"), ht_slice__from("a\0b", 3)), -EINVAL);
    /* Many entries (growth), then out of memory leaves the table intact. */
    for (int i = 0; i < 100; i++) {
        char e[16];
        snprintf(e, sizeof e, "e%d", i);
        ck_assert_int_eq(ht_fs__mime_add(&m, ht_slice__from_cstr(e), HT_SLICE("x/y")), 0);
    }
    ck_assert(eq(ht_fs__mime_lookup(&m, HT_SLICE("a.E57")), "x/y"));
    counting.fail_after = 0;
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("new"), HT_SLICE("x/z")), -ENOMEM);
    counting.fail_after = 1;
    ck_assert_int_eq(ht_fs__mime_add(&m, HT_SLICE("new"), HT_SLICE("x/z")), -ENOMEM);
    counting.fail_after = SIZE_MAX;
    ck_assert(eq(ht_fs__mime_lookup(&m, HT_SLICE("a.new")), "application/octet-stream"));
    ck_assert(eq(ht_fs__mime_lookup(&m, HT_SLICE("a.foo")), "text/foo; charset=utf-8"));
    ht_fs__mime_free(&m);
    ck_assert(eq(ht_fs__mime_lookup(&m, HT_SLICE("/x.foo")), "application/octet-stream"));
}
END_TEST

START_TEST(compressible) {
    ck_assert(ht_fs__mime_compressible(HT_SLICE("text/html; charset=utf-8")));
    ck_assert(ht_fs__mime_compressible(HT_SLICE("application/json; charset=utf-8")));
    ck_assert(ht_fs__mime_compressible(HT_SLICE("image/svg+xml; charset=utf-8")));
    ck_assert(ht_fs__mime_compressible(HT_SLICE("application/wasm")));
    ck_assert(ht_fs__mime_compressible(HT_SLICE("application/manifest+json")));
    ck_assert(ht_fs__mime_compressible(HT_SLICE("font/ttf")));
    ck_assert(!ht_fs__mime_compressible(HT_SLICE("image/png")));
    ck_assert(!ht_fs__mime_compressible(HT_SLICE("font/woff2")));
    ck_assert(!ht_fs__mime_compressible(HT_SLICE("application/gzip")));
    ck_assert(!ht_fs__mime_compressible(HT_SLICE("application/octet-stream")));
    ck_assert(!ht_fs__mime_compressible(HT_SLICE("video/mp4")));
}
END_TEST

int main(void) {
    Suite* s = suite_create("mime");
    TCase* tc = tcase_create("mime");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_listed_type_any_case);
    tcase_add_test(tc, issue_types_present);
    tcase_add_test(tc, unknown_and_edge_names);
    tcase_add_test(tc, caller_types);
    tcase_add_test(tc, compressible);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
