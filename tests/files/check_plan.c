/* check_plan: ht_fs__plan beneath a real temporary docroot (fs_tree.h), for
 * every status the static server answers with, and the per-loop cache that
 * must plan as it does. Resolution and listings: check_resolve.c. */
#include "fs_tree.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>

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

/* A cached plan's serialized fields (what the server copies instead of
 * headers[]): present exactly for a plain 200 (q has no precondition and,
 * for GET, no Range) of a file, and for the 304 of If-None-Match alone on
 * a file without Vary; then headers[] as "Name: value\r\n" lines, byte for
 * byte. Returns whether it was present. */
static bool fields_are_headers(const ht_fs_plan_t* y, const ht_fs_request_t* q) {
    bool ranged = q->method == HT_METHOD_GET && q->range.ptr;
    bool plain = !q->if_match.ptr && !q->if_none_match.ptr && !q->if_modified_since.ptr &&
                 !q->if_unmodified_since.ptr && !ranged;
    bool inm_only = !q->if_match.ptr && q->if_none_match.ptr && !q->if_unmodified_since.ptr && !ranged;
    bool vary = false;
    for (unsigned i = 0; i < y->n_headers; i++) vary |= y->headers[i].id == HT_HEADER_VARY;
    if (!(plain && y->status == 200 && y->body == HT_FS_BODY_FILE) && !(inm_only && y->status == 304 && !vary)) {
        ck_assert_uint_eq(y->fields_.len, 0);
        return false;
    }
    char want[1024];
    size_t n = 0;
    for (unsigned i = 0; i < y->n_headers; i++)
        n += (size_t) snprintf(want + n, sizeof want - n, "%.*s: %.*s\r\n", HT_SLICE_FMT(y->headers[i].name),
                               HT_SLICE_FMT(y->headers[i].value));
    ck_assert_uint_lt(n, sizeof want);
    ck_assert_msg(ht_slice__eq(y->fields_, ht_slice__from(want, n)), "fields_ [%.*s] vs headers [%s]",
                  HT_SLICE_FMT(y->fields_), want);
    return true;
}

START_TEST(cache_matches_plan) {
    ht_fs_root_t r = open_root(0);
    ht_fs_cache_t c;
    ck_assert_int_eq(ht_fs__cache_init(&c, 64, 1000, 0, a), 0);
    const char* paths[] = { "/a.txt", "/", "/dir/", "/dir", "/nope", "/link_out", "/style.css",
                            "/old.js", "/big.bin", "/../x", "/dir2/", "/link_in" };
    const char* aes[] = { nullptr, "gzip", "gzip;q=0" };
    const char* ranges[] = { nullptr, "bytes=1-3", "bytes=99-" };
    unsigned with_fields[3] = { 0 }; /* per round */
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
                    ck_assert_uint_eq(plan.fields_.len, 0); /* uncached: field by field */
                    with_fields[round] += fields_are_headers(&plan2, &q);
                    ht_fs__plan_release(&plan);
                    ht_fs__plan_release(&plan2);
                }
    /* Files only are cached: 7 file paths x 2 gzip keys, filled in round 0. */
    ck_assert_uint_gt(c.hits, 0);
    /* Plain answers came from the entries' heads on insert (round 0) and on
     * hits (round 1: the same requests); with If-None-Match: * (round 2),
     * the 304s of hits on entries without Vary. */
    ck_assert_uint_gt(with_fields[0], 0);
    ck_assert_uint_eq(with_fields[1], with_fields[0]);
    ck_assert_uint_gt(with_fields[2], 0);
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

/* The hash spreads keys over the sets: 300 files, in names shorter than a
 * word, of two words, and long ones differing only in their middle, in a
 * table of 1,024 entries (4 ways). A set that drew more than 4 of them
 * misses on all of its keys in the second round (LRU, cyclic order): a
 * random hash costs ~10 such misses, one blind to part of the path ~100. */
START_TEST(cache_spreads_keys) {
    dir("root/s");
    dir("root/l");
    char rel[128], paths[300][64];
    for (int i = 0; i < 100; i++) {
        snprintf(paths[i], sizeof paths[i], "/s/%02d", i); /* 5 bytes */
        snprintf(paths[100 + i], sizeof paths[0], "/l/%03d.txt", i); /* 10 */
        snprintf(paths[200 + i], sizeof paths[0], "/l/long-name-%03d-of-a-file.txt", i); /* 31 */
    }
    for (int i = 0; i < 300; i++) {
        snprintf(rel, sizeof rel, "root%.63s", paths[i]);
        put(rel, "x\n");
    }
    ht_fs_root_t r = open_root(0);
    ht_fs_cache_t c;
    ck_assert_int_eq(ht_fs__cache_init(&c, 1024, 1000, 0, a), 0);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 300; i++) {
            ht_fs_request_t q = get(paths[i]);
            ht_fs__plan_cached(&c, &r, &q, 5, &plan2);
            ck_assert_msg(plan2.status == 200, "%s: %u", paths[i], plan2.status);
            ht_fs__plan_release(&plan2);
        }
    ck_assert_uint_eq(c.misses + c.hits, 600);
    ck_assert_msg(c.hits >= 270, "%llu of 300 hit", (unsigned long long) c.hits);
    ht_fs__cache_free(&c);
    ht_fs__root_close(&r);
}
END_TEST

/* Pages of [p, p + len) that are resident (mincore). */
static size_t resident_pages(const void* p, size_t len) {
    uintptr_t pg = (uintptr_t) sysconf(_SC_PAGESIZE), lo = (uintptr_t) p & ~(pg - 1);
    size_t n = ((uintptr_t) p + len - lo + pg - 1) / pg, in = 0;
    unsigned char v[64];
    ck_assert_uint_le(n, sizeof v);
    ck_assert_int_eq(mincore((void*) lo, n * pg, v), 0);
    for (size_t i = 0; i < n; i++) in += v[i] & 1;
    return in;
}

/* The default allocator's table is never written whole: 1,024 entries
 * (over 100 kB) cost memory only where entries land (ht's idle RSS, issue
 * 18). The first page holds malloc's header too. */
START_TEST(cache_table_costs_what_it_holds) {
    ht_fs_root_t r = open_root(0);
    ht_alloc_t* d = ht_alloc__init();
    ht_fs_cache_t c;
    ck_assert_int_eq(ht_fs__cache_init(&c, 1024, 1000, 0, d), 0);
    const size_t span = 64 * 1024; /* within the table: an entry is over 64 bytes */
    ck_assert_uint_le(resident_pages(c.entries_, span), 1);
    ht_fs_request_t q = get("/a.txt");
    ht_fs__plan_cached(&c, &r, &q, 5, &plan2);
    ck_assert_int_eq(plan2.status, 200);
    ht_fs__plan_release(&plan2);
    ht_fs__plan_cached(&c, &r, &q, 6, &plan2);
    ck_assert_uint_eq(c.hits, 1); /* the entry is there, in a page of its own at most */
    ht_fs__plan_release(&plan2);
    ck_assert_uint_le(resident_pages(c.entries_, span), 2);
    ht_fs__cache_free(&c);
    ht_alloc__finalize(d);
    ht_fs__root_close(&r);
}
END_TEST

int main(void) {
    Suite* s = suite_create("plan");
    TCase* tc = tcase_create("plan");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, plan_methods_and_errors);
    tcase_add_test(tc, plan_files);
    tcase_add_test(tc, plan_directories);
    tcase_add_test(tc, plan_gzip);
    tcase_add_test(tc, plan_mime_table_and_fd_hygiene);
    tcase_add_test(tc, cache_matches_plan);
    tcase_add_test(tc, cache_ttl_eviction_oom);
    tcase_add_test(tc, cache_table_costs_what_it_holds);
    tcase_add_test(tc, cache_spreads_keys);
    suite_add_tcase(s, tc);
    return ht_test__run(s);
}
