/* check_asset: ht_response__asset (embedded assets) without a server: each
 * response is built into a send buffer and compared byte for byte. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "out_fixture.h"

/* A set as htgen would emit it: sorted paths, variants for app.js (all three
 * codings) and big.css (gzip only). The coded bytes stand in for real ones. */
static const uint8_t APP_JS[] = "console.log('hi');\n";
static const uint8_t APP_JS_GZ[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3, 'z' };
static const uint8_t APP_JS_BR[] = "BR-OF-JS";
static const uint8_t APP_JS_ZST[] = "ZST-OF-JS";
static const uint8_t INDEX[] = "<p>home</p>";
static const uint8_t SUB_INDEX[] = "<p>sub</p>";
static const uint8_t DIGITS[] = "0123456789";
#define NO_VARIANTS { { nullptr, nullptr, 0 }, { nullptr, nullptr, 0 }, { nullptr, nullptr, 0 } }
static const ht_asset_t ASSETS[] = {
    { "/.well-known/x", "text/plain", "\"w\"", (const uint8_t*) "w", 1, NO_VARIANTS },
    { "/app.js", "text/javascript; charset=utf-8", "\"js1\"", APP_JS, sizeof APP_JS - 1,
      { [HT_FS_ENC_BR] = { "\"js1-br\"", APP_JS_BR, sizeof APP_JS_BR - 1 },
        [HT_FS_ENC_ZSTD] = { "\"js1-zst\"", APP_JS_ZST, sizeof APP_JS_ZST - 1 },
        [HT_FS_ENC_GZIP] = { "\"js1.gz\"", APP_JS_GZ, sizeof APP_JS_GZ } } },
    { "/big.css", "text/css; charset=utf-8", "\"c1\"", (const uint8_t*) "a{}", 3,
      { [HT_FS_ENC_GZIP] = { "\"c1-gz\"", (const uint8_t*) "GZ", 2 } } },
    { "/digits.txt", "text/plain; charset=utf-8", "\"d1\"", DIGITS, 10, NO_VARIANTS },
    { "/empty", "application/octet-stream", "\"e\"", nullptr, 0, NO_VARIANTS },
    { "/index.html", "text/html; charset=utf-8", "\"i1\"", INDEX, sizeof INDEX - 1, NO_VARIANTS },
    { "/sub dir/index.html", "text/html; charset=utf-8", "\"s1\"", SUB_INDEX, sizeof SUB_INDEX - 1, NO_VARIANTS },
    { "/sub/deeper/z.txt", "text/plain; charset=utf-8", "\"z\"", (const uint8_t*) "z", 1, NO_VARIANTS },
};
static const ht_asset_set_t SET = { ASSETS, HT_ARRAY_LEN(ASSETS), "index.html", nullptr };

/* Serves one request: method, raw path, query, up to two headers; returns
 * what would be sent, less the Date line. */
static char* serve(ht_method_t m, const char* path, const char* query, ht_slice_t mount,
                   const char* h1n, const char* h1v, const char* h2n, const char* h2v) {
    ht_out__reset_(OUT);
    ht_header_t hs[2];
    uint16_t nh = 0;
    if (h1n) hs[nh++] = (ht_header_t){ ht_slice__from_cstr(h1n), ht_slice__from_cstr(h1v), ht_header__id(h1n, strlen(h1n)) };
    if (h2n) hs[nh++] = (ht_header_t){ ht_slice__from_cstr(h2n), ht_slice__from_cstr(h2v), ht_header__id(h2n, strlen(h2n)) };
    ht_request_t rq = { .method_id_ = (uint8_t) m, .path_ = ht_slice__from_cstr(path),
                        .query_ = ht_slice__from_cstr(query ? query : ""), .headers_ = hs,
                        .num_headers_ = nh };
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, m == HT_METHOD_HEAD ? HT_RESF_HEAD_ONLY : 0);
    ck_assert_int_eq(ht_response__asset(&res, &rq, &SET, mount, A), 0);
    ht_response__finish_(&res);
    size_t k;
    char* s = sent(&k);
    /* The Date line (the server's, placed by the builder) is not compared. */
    char* d = strstr(s, "Date: ");
    ck_assert_ptr_nonnull(d);
    char* e = strstr(d, "\r\n");
    memmove(d, e + 2, (size_t) (s + k - (e + 2)) + 1);
    return s;
}
#define GET(path) serve(HT_METHOD_GET, path, nullptr, HT_SLICE_NULL, nullptr, nullptr, nullptr, nullptr)
#define EXPECT(s, lit)              \
    do {                            \
        char* s_ = (s);             \
        ck_assert_str_eq(s_, lit);  \
        free(s_);                   \
    } while (0)
#define STARTS(s, lit)                                   \
    do {                                                 \
        char* s_ = (s);                                  \
        ck_assert_msg(strncmp(s_, lit, sizeof(lit) - 1) == 0, "got:\n%s", s_); \
        free(s_);                                        \
    } while (0)

START_TEST(find) {
    ck_assert_ptr_eq(ht_asset__find(&SET, HT_SLICE("/app.js")), &ASSETS[1]);
    ck_assert_ptr_eq(ht_asset__find(&SET, HT_SLICE("/sub/deeper/z.txt")), &ASSETS[7]);
    ck_assert_ptr_null(ht_asset__find(&SET, HT_SLICE("/app.j")));
    ck_assert_ptr_null(ht_asset__find(&SET, HT_SLICE("/app.jsx")));
    ck_assert_ptr_null(ht_asset__find(&SET, HT_SLICE("/")));
    ht_asset_set_t none = { nullptr, 0, nullptr, nullptr };
    ck_assert_ptr_null(ht_asset__find(&none, HT_SLICE("/x")));
}
END_TEST

START_TEST(plain_get_head) {
    EXPECT(GET("/digits.txt"), "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                               "ETag: \"d1\"\r\nAccept-Ranges: bytes\r\nContent-Length: 10\r\n\r\n0123456789");
    EXPECT(serve(HT_METHOD_HEAD, "/digits.txt", nullptr, HT_SLICE_NULL, nullptr, nullptr, nullptr, nullptr),
           "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "ETag: \"d1\"\r\nAccept-Ranges: bytes\r\nContent-Length: 10\r\n\r\n");
    EXPECT(GET("/empty"), "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                          "ETag: \"e\"\r\nAccept-Ranges: bytes\r\nContent-Length: 0\r\n\r\n");
    /* Percent-decoding and normalisation as for files. */
    STARTS(GET("/%64igits.txt"), "HTTP/1.1 200 OK\r\n");
    STARTS(GET("//sub/./deeper/../deeper/z.txt"), "HTTP/1.1 200 OK\r\n");
    STARTS(GET("/.well-known/x"), "HTTP/1.1 200 OK\r\n");
}
END_TEST

START_TEST(errors) {
    STARTS(GET("/nope"), "HTTP/1.1 404 Not Found\r\n");
    STARTS(GET("/sub/deeper/"), "HTTP/1.1 404 Not Found\r\n"); /* a directory without an index */
    STARTS(GET("/digits.txt/"), "HTTP/1.1 404 Not Found\r\n");
    STARTS(GET("/.git/config"), "HTTP/1.1 404 Not Found\r\n");
    STARTS(GET("/../digits.txt"), "HTTP/1.1 400 Bad Request\r\n");
    STARTS(GET("/a%2Fb"), "HTTP/1.1 400 Bad Request\r\n");
    STARTS(GET("/a%00"), "HTTP/1.1 400 Bad Request\r\n");
    STARTS(GET("/a\\b"), "HTTP/1.1 400 Bad Request\r\n");
    char* longp = malloc(HT_FS_PATH_MAX + 2);
    memset(longp, 'a', HT_FS_PATH_MAX + 1);
    longp[0] = '/';
    longp[HT_FS_PATH_MAX + 1] = 0;
    STARTS(GET(longp), "HTTP/1.1 414 ");
    free(longp);
    STARTS(serve(HT_METHOD_POST, "/digits.txt", nullptr, HT_SLICE_NULL, nullptr, nullptr, nullptr, nullptr),
           "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n");
}
END_TEST

START_TEST(index_and_redirects) {
    EXPECT(GET("/"), "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "ETag: \"i1\"\r\nAccept-Ranges: bytes\r\nContent-Length: 11\r\n\r\n<p>home</p>");
    STARTS(GET("/sub%20dir/"), "HTTP/1.1 200 OK\r\n");
    /* A directory without its '/': 301, the name re-encoded, the query kept. */
    STARTS(serve(HT_METHOD_GET, "/sub%20dir", "a=1", HT_SLICE_NULL, nullptr, nullptr, nullptr, nullptr),
           "HTTP/1.1 301 Moved Permanently\r\nLocation: /sub%20dir/?a=1\r\n");
    STARTS(GET("/sub"), "HTTP/1.1 301 Moved Permanently\r\nLocation: /sub/\r\n");
    /* Mounted: the prefix in Location, the bare prefix redirected, others 404. */
    ht_slice_t ui = HT_SLICE("/ui");
    STARTS(serve(HT_METHOD_GET, "/ui/sub", nullptr, ui, nullptr, nullptr, nullptr, nullptr),
           "HTTP/1.1 301 Moved Permanently\r\nLocation: /ui/sub/\r\n");
    STARTS(serve(HT_METHOD_GET, "/ui", "q", ui, nullptr, nullptr, nullptr, nullptr),
           "HTTP/1.1 301 Moved Permanently\r\nLocation: /ui/?q\r\n");
    STARTS(serve(HT_METHOD_GET, "/ui/", nullptr, ui, nullptr, nullptr, nullptr, nullptr), "HTTP/1.1 200 OK\r\n");
    STARTS(serve(HT_METHOD_GET, "/uix/app.js", nullptr, ui, nullptr, nullptr, nullptr, nullptr),
           "HTTP/1.1 404 Not Found\r\n");
    STARTS(serve(HT_METHOD_GET, "/ui/app.js", nullptr, HT_SLICE("/ui/"), nullptr, nullptr, nullptr, nullptr),
           "HTTP/1.1 200 OK\r\n");
    /* No index configured: directories are 404 (no listings). */
    ht_asset_set_t noidx = SET;
    noidx.index = nullptr;
    ht_out__reset_(OUT);
    ht_request_t rq = { .method_id_ = HT_METHOD_GET, .path_ = HT_SLICE("/"), .query_ = HT_SLICE("") };
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__asset(&res, &rq, &noidx, HT_SLICE_NULL, A), 0);
    ck_assert_uint_eq(ht_response__get_status(&res), 404);
    ht_response__finish_(&res);
}
END_TEST

/* q-value negotiation (RFC 9110 §12.5.3) over br, zstd, gzip and identity:
 * which ETag (so which variant) each Accept-Encoding gets. */
START_TEST(encoding_negotiation) {
    static const struct { const char* path; const char* ae; const char* want; } cases[] = {
        { "/app.js", nullptr, "ETag: \"js1\"" },                      /* no header: identity */
        { "/app.js", "", "ETag: \"js1\"" },                           /* empty: identity only */
        { "/app.js", "gzip, deflate, br, zstd", "ETag: \"js1-br\"" }, /* tie: br > zstd > gzip */
        { "/app.js", "zstd, gzip", "ETag: \"js1-zst\"" },
        { "/app.js", "gzip;q=0.5, zstd;q=0.8, br;q=0.1", "ETag: \"js1-zst\"" },
        { "/app.js", "br;q=0, gzip", "ETag: \"js1.gz\"" },            /* q=0 refuses */
        { "/app.js", "*", "ETag: \"js1-br\"" },
        { "/app.js", "*;q=0.5, gzip", "ETag: \"js1.gz\"" },           /* own entry beats "*" */
        { "/app.js", "gzip;q=0.5, identity", "ETag: \"js1\"" },       /* identity's q higher */
        { "/app.js", "gzip, identity", "ETag: \"js1.gz\"" },          /* tie: a coding wins */
        { "/app.js", "BR;Q=1.000", "ETag: \"js1-br\"" },              /* case-insensitive */
        { "/app.js", "br;q=2, gzip", "ETag: \"js1.gz\"" },            /* bad q: element dropped */
        { "/app.js", "identity;q=0, zstd", "ETag: \"js1-zst\"" },
        { "/app.js", "compress, deflate", "ETag: \"js1\"" },          /* unknown codings */
        { "/big.css", "br, zstd", "HTTP/1.1 200 OK" },                   /* no such variant: identity */
        { "/big.css", "identity;q=0, br", "HTTP/1.1 406 Not Acceptable" },
        { "/big.css", "*;q=0", "HTTP/1.1 406 Not Acceptable" },         /* "*" covers identity */
        { "/big.css", "*;q=0, identity", "ETag: \"c1\"" },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        char* r = serve(HT_METHOD_GET, cases[i].path, nullptr, HT_SLICE_NULL,
                        cases[i].ae ? "Accept-Encoding" : nullptr, cases[i].ae, nullptr, nullptr);
        ck_assert_msg(strstr(r, cases[i].want) != nullptr, "%s %s: %s", cases[i].path,
                      cases[i].ae ? cases[i].ae : "(none)", r);
        ck_assert_msg(strstr(r, "Vary: Accept-Encoding\r\n") != nullptr, "%s", r);
        free(r);
    }
    EXPECT(serve(HT_METHOD_GET, "/app.js", nullptr, HT_SLICE_NULL, "Accept-Encoding", "zstd, br;q=0.9", nullptr,
                 nullptr),
           "HTTP/1.1 200 OK\r\nContent-Type: text/javascript; charset=utf-8\r\nETag: \"js1-zst\"\r\n"
           "Accept-Ranges: bytes\r\nContent-Encoding: zstd\r\nVary: Accept-Encoding\r\n"
           "Content-Length: 9\r\n\r\nZST-OF-JS");
    EXPECT(serve(HT_METHOD_GET, "/app.js", nullptr, HT_SLICE_NULL, "Accept-Encoding", "br", nullptr, nullptr),
           "HTTP/1.1 200 OK\r\nContent-Type: text/javascript; charset=utf-8\r\nETag: \"js1-br\"\r\n"
           "Accept-Ranges: bytes\r\nContent-Encoding: br\r\nVary: Accept-Encoding\r\n"
           "Content-Length: 8\r\n\r\nBR-OF-JS");
    EXPECT(serve(HT_METHOD_GET, "/app.js", nullptr, HT_SLICE_NULL, "Accept-Encoding", "br;q=0.1, gzip;q=0.5", nullptr,
                 nullptr),
           "HTTP/1.1 200 OK\r\nContent-Type: text/javascript; charset=utf-8\r\nETag: \"js1.gz\"\r\n"
           "Accept-Ranges: bytes\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n"
           "Content-Length: 11\r\n\r\n\x1f\x8b\x08");
    /* gzip;q=0 refuses it; the raw variant still varies. */
    EXPECT(serve(HT_METHOD_GET, "/app.js", nullptr, HT_SLICE_NULL, "Accept-Encoding", "gzip;q=0", nullptr, nullptr),
           "HTTP/1.1 200 OK\r\nContent-Type: text/javascript; charset=utf-8\r\nETag: \"js1\"\r\n"
           "Accept-Ranges: bytes\r\nVary: Accept-Encoding\r\nContent-Length: 19\r\n\r\nconsole.log('hi');\n");
    /* A Range request gets the raw bytes even when gzip is acceptable. */
    EXPECT(serve(HT_METHOD_GET, "/app.js", nullptr, HT_SLICE_NULL, "Accept-Encoding", "gzip", "Range", "bytes=0-6"),
           "HTTP/1.1 206 Partial Content\r\nContent-Type: text/javascript; charset=utf-8\r\nETag: \"js1\"\r\n"
           "Accept-Ranges: bytes\r\nContent-Range: bytes 0-6/19\r\nVary: Accept-Encoding\r\n"
           "Content-Length: 7\r\n\r\nconsole");
}
END_TEST

START_TEST(conditionals) {
    EXPECT(serve(HT_METHOD_GET, "/app.js", nullptr, HT_SLICE_NULL, "If-None-Match", "\"x\", W/\"js1\"", nullptr,
                 nullptr),
           "HTTP/1.1 304 Not Modified\r\nETag: \"js1\"\r\nVary: Accept-Encoding\r\n\r\n");
    /* The gzip variant has its own tag: the raw one does not validate it. */
    STARTS(serve(HT_METHOD_GET, "/app.js", nullptr, HT_SLICE_NULL, "If-None-Match", "\"js1\"", "Accept-Encoding",
                 "gzip"),
           "HTTP/1.1 200 OK\r\n");
    STARTS(serve(HT_METHOD_GET, "/app.js", nullptr, HT_SLICE_NULL, "If-None-Match", "\"js1.gz\"",
                 "Accept-Encoding", "gzip"),
           "HTTP/1.1 304 Not Modified\r\n");
    STARTS(serve(HT_METHOD_GET, "/digits.txt", nullptr, HT_SLICE_NULL, "If-Match", "\"other\"", nullptr, nullptr),
           "HTTP/1.1 412 Precondition Failed\r\n");
    STARTS(serve(HT_METHOD_GET, "/digits.txt", nullptr, HT_SLICE_NULL, "If-Match", "\"d1\"", nullptr, nullptr),
           "HTTP/1.1 200 OK\r\n");
    /* No Last-Modified: date conditions are ignored. */
    STARTS(serve(HT_METHOD_GET, "/digits.txt", nullptr, HT_SLICE_NULL, "If-Modified-Since",
                 "Sun, 06 Nov 2094 08:49:37 GMT", nullptr, nullptr),
           "HTTP/1.1 200 OK\r\n");
}
END_TEST

START_TEST(ranges) {
    EXPECT(serve(HT_METHOD_GET, "/digits.txt", nullptr, HT_SLICE_NULL, "Range", "bytes=-3", nullptr, nullptr),
           "HTTP/1.1 206 Partial Content\r\nContent-Type: text/plain; charset=utf-8\r\nETag: \"d1\"\r\n"
           "Accept-Ranges: bytes\r\nContent-Range: bytes 7-9/10\r\nContent-Length: 3\r\n\r\n789");
    STARTS(serve(HT_METHOD_GET, "/digits.txt", nullptr, HT_SLICE_NULL, "Range", "bytes=10-", nullptr, nullptr),
           "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */10\r\n");
    /* If-Range: the same tag honours the range; another tag or a date sends it all. */
    STARTS(serve(HT_METHOD_GET, "/digits.txt", nullptr, HT_SLICE_NULL, "Range", "bytes=2-3", "If-Range", "\"d1\""),
           "HTTP/1.1 206 Partial Content\r\n");
    STARTS(serve(HT_METHOD_GET, "/digits.txt", nullptr, HT_SLICE_NULL, "Range", "bytes=2-3", "If-Range", "\"d2\""),
           "HTTP/1.1 200 OK\r\n");
    STARTS(serve(HT_METHOD_GET, "/digits.txt", nullptr, HT_SLICE_NULL, "Range", "bytes=2-3", "If-Range",
                 "Sun, 06 Nov 1994 08:49:37 GMT"),
           "HTTP/1.1 200 OK\r\n");
    /* HEAD ignores Range. */
    STARTS(serve(HT_METHOD_HEAD, "/digits.txt", nullptr, HT_SLICE_NULL, "Range", "bytes=2-3", nullptr, nullptr),
           "HTTP/1.1 200 OK\r\n");
}
END_TEST

int main(void) {
    Suite* s = suite_create("asset");
    TCase* t = tcase_create("asset");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, find);
    tcase_add_test(t, plain_get_head);
    tcase_add_test(t, errors);
    tcase_add_test(t, index_and_redirects);
    tcase_add_test(t, encoding_negotiation);
    tcase_add_test(t, conditionals);
    tcase_add_test(t, ranges);
    suite_add_tcase(s, t);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
