/* check_ht: the real `ht` binary end to end (whichever loop backend this
 * build has): bytes identical for small and 10 MiB files, HEAD, conditionals,
 * ranges, 405 + Allow, listings with hostile names, gzip sidecars written by
 * `ht --precompress` and negotiated with q-values and Vary, redirects, a
 * traversal table in which a sentinel outside the root never leaks, CLI
 * errors, and graceful shutdown. Every response head is checked strictly
 * (status line, header syntax, one Content-Length matching the body). */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <ht/fs.h>

#include "support/ht_test.h"

#define SENTINEL "SENTINEL-SECRET-must-never-be-served"
#define BIG_SIZE (10u * 1024 * 1024 + 123)

static char base[64], root[128];
static pid_t server_pid;
static uint16_t port;
static char* big; /* the big file's bytes */

static void put(const char* rel, const void* data, size_t n) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, data, n) != (ssize_t) n) abort();
    close(fd);
}
static void puts_(const char* rel, const char* s) { put(rel, s, strlen(s)); }
static void mk(const char* rel) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    if (mkdir(p, 0755) != 0) abort();
}
static void ln(const char* rel, const char* target) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    if (symlink(target, p) != 0) abort();
}

static int rm_one(const char* p, const struct stat* s, int flag, struct FTW* f) {
    (void) s, (void) flag, (void) f;
    return remove(p);
}

static void start_server(void) {
    strcpy(base, "/tmp/ht_it_XXXXXX");
    if (!mkdtemp(base)) abort();
    snprintf(root, sizeof root, "%s/root", base);
    puts_("secret.txt", SENTINEL "\n");
    mk("root");
    puts_("root/index.html", "<!DOCTYPE html><title>demo</title><p>home</p>\n");
    puts_("root/small.txt", "small file\n");
    big = malloc(BIG_SIZE);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < BIG_SIZE; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        big[i] = (char) x;
    }
    put("root/big.bin", big, BIG_SIZE);
    mk("root/list");
    puts_("root/list/<b>&\"'.txt", "x");
    puts_("root/list/a b.txt", "y");
    puts_("root/list/\xc3\xa9t\xc3\xa9.txt", "z");
    puts_("root/list/.secret", "hidden");
    mk("root/list/zdir");
    /* Compressible, big enough for a sidecar. */
    char css[4096];
    size_t n = 0;
    for (int i = 0; i < 100; i++) n += (size_t) snprintf(css + n, sizeof css - n, ".c%d{color:red}\n", i);
    put("root/style.css", css, n);
    ln("root/escape", "../secret.txt");
    ln("root/inside", "small.txt");

    /* Sidecars via the real tool. */
    int ef;
    const char* pre[] = { HT_BIN, "--precompress", root, nullptr };
    pid_t p = ht_test__spawn(HT_BIN, pre, &ef, nullptr);
    int st = ht_test__wait_for(p, 10000);
    close(ef);
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) abort();

    const char* args[] = { HT_BIN, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "2", nullptr };
    server_pid = ht_test__spawn(HT_BIN, args, &ef, nullptr);
    char line[256];
    ht_test__read_line(ef, line, sizeof line, 5000);
    close(ef);
    const char* at = strstr(line, "127.0.0.1:");
    if (!at) abort();
    port = (uint16_t) atoi(at + 10);
}

static void stop_server(void) {
    kill(server_pid, SIGTERM);
    ht_test__wait_for(server_pid, 5000);
    nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(big);
}

/* ---- a strict little client ---- */

typedef struct resp {
    int      status;
    char     head[8192];
    char*    body;
    size_t   body_len;
} resp_t;

static char* header(resp_t* r, const char* name) { /* value, NUL-terminated, static buffer */
    static char v[1024];
    size_t nl = strlen(name);
    for (char* p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char* s = p + 3 + nl;
            while (*s == ' ') s++;
            size_t k = strcspn(s, "\r");
            if (k >= sizeof v) k = sizeof v - 1;
            memcpy(v, s, k);
            v[k] = '\0';
            return v;
        }
    }
    return nullptr;
}

static bool tchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-.^_`|~", c);
}

/* Sends raw bytes, reads to EOF (requests carry Connection: close), parses
 * and validates. head_only: a HEAD, whose body is empty whatever the
 * Content-Length says. */
static void request(const char* raw, bool head_only, resp_t* r) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(s, (struct sockaddr*) &sa, sizeof sa), 0);
    size_t n = strlen(raw);
    ck_assert_int_eq(write(s, raw, n), (ssize_t) n);
    size_t cap = BIG_SIZE + 65536, len = 0;
    char* buf = malloc(cap);
    for (;;) {
        struct pollfd p = { .fd = s, .events = POLLIN };
        ck_assert_msg(poll(&p, 1, 10000) == 1, "timeout on %s", raw);
        ssize_t k = read(s, buf + len, cap - len);
        if (k <= 0) break;
        len += (size_t) k;
        ck_assert_uint_lt(len, cap);
    }
    close(s);
    char* end = memmem(buf, len, "\r\n\r\n", 4);
    ck_assert_msg(end != nullptr, "no head end for %s", raw);
    size_t hl = (size_t) (end - buf) + 4;
    ck_assert_uint_lt(hl, sizeof r->head);
    memcpy(r->head, buf, hl);
    r->head[hl] = '\0';
    /* status-line = HTTP-version SP 3DIGIT SP reason CRLF */
    ck_assert_msg(strncmp(r->head, "HTTP/1.1 ", 9) == 0 && r->head[12] == ' ', "%s", r->head);
    r->status = atoi(r->head + 9);
    ck_assert_int_ge(r->status, 100);
    int cls = 0;
    for (char* p = strstr(r->head, "\r\n") + 2; p < r->head + hl - 2;) {
        char* e = strstr(p, "\r\n");
        char* colon = memchr(p, ':', (size_t) (e - p));
        ck_assert_msg(colon && colon > p, "bad field in %s", r->head);
        for (char* q = p; q < colon; q++) ck_assert_msg(tchar(*q), "bad name in %s", r->head);
        for (char* q = colon + 1; q < e; q++)
            ck_assert_msg((unsigned char) *q >= 0x20 || *q == '\t', "control in %s", r->head);
        if (strncasecmp(p, "Content-Length:", 15) == 0) cls++;
        p = e + 2;
    }
    r->body_len = len - hl;
    r->body = buf;
    memmove(buf, buf + hl, r->body_len);
    if (r->status == 304 || r->status == 204) {
        ck_assert_int_eq(cls, 0);
        ck_assert_uint_eq(r->body_len, 0);
    } else {
        ck_assert_int_eq(cls, 1);
        uint64_t want = strtoull(header(r, "Content-Length"), nullptr, 10);
        ck_assert_uint_eq(r->body_len, head_only ? 0 : want);
    }
    ck_assert_msg(memmem(buf, r->body_len, SENTINEL, strlen(SENTINEL)) == nullptr, "sentinel leaked: %s", raw);
}

static void get(const char* target, const char* extra, resp_t* r) {
    char raw[4096];
    snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: t\r\n%sConnection: close\r\n\r\n", target,
             extra ? extra : "");
    request(raw, false, r);
}

static bool body_is(const resp_t* r, const char* s) {
    return r->body_len == strlen(s) && memcmp(r->body, s, r->body_len) == 0;
}

/* ---- tests ---- */

START_TEST(small_and_big_files) {
    resp_t r;
    get("/small.txt", nullptr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(body_is(&r, "small file\n"));
    ck_assert_str_eq(header(&r, "Content-Type"), "text/plain; charset=utf-8");
    ck_assert_str_eq(header(&r, "Accept-Ranges"), "bytes");
    ck_assert_ptr_nonnull(header(&r, "ETag"));
    ck_assert_ptr_nonnull(header(&r, "Last-Modified"));
    free(r.body);
    get("/big.bin", nullptr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, BIG_SIZE);
    ck_assert(memcmp(r.body, big, BIG_SIZE) == 0);
    ck_assert_str_eq(header(&r, "Content-Type"), "application/octet-stream");
    free(r.body);
    get("/", nullptr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(body_is(&r, "<!DOCTYPE html><title>demo</title><p>home</p>\n"));
    free(r.body);
    request("HEAD /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", true, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(header(&r, "Content-Length"), "10485883");
    free(r.body);
}
END_TEST

START_TEST(conditionals_and_ranges) {
    resp_t r;
    get("/small.txt", nullptr, &r);
    char etag[128], lm[64];
    strcpy(etag, header(&r, "ETag"));
    strcpy(lm, header(&r, "Last-Modified"));
    free(r.body);
    char h[512];
    snprintf(h, sizeof h, "If-None-Match: %s\r\n", etag);
    get("/small.txt", h, &r);
    ck_assert_int_eq(r.status, 304);
    ck_assert_str_eq(header(&r, "ETag"), etag);
    free(r.body);
    snprintf(h, sizeof h, "If-None-Match: \"nope\", W/%s\r\n", etag);
    get("/small.txt", h, &r);
    ck_assert_int_eq(r.status, 304);
    free(r.body);
    snprintf(h, sizeof h, "If-Modified-Since: %s\r\n", lm);
    get("/small.txt", h, &r);
    ck_assert_int_eq(r.status, 304);
    free(r.body);
    get("/small.txt", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    free(r.body);
    get("/small.txt", "If-Match: \"other\"\r\n", &r);
    ck_assert_int_eq(r.status, 412);
    free(r.body);
    get("/big.bin", "Range: bytes=1000-1999\r\n", &r);
    ck_assert_int_eq(r.status, 206);
    ck_assert_str_eq(header(&r, "Content-Range"), "bytes 1000-1999/10485883");
    ck_assert_uint_eq(r.body_len, 1000);
    ck_assert(memcmp(r.body, big + 1000, 1000) == 0);
    free(r.body);
    get("/big.bin", "Range: bytes=-10\r\n", &r);
    ck_assert_int_eq(r.status, 206);
    ck_assert(memcmp(r.body, big + BIG_SIZE - 10, 10) == 0);
    free(r.body);
    get("/big.bin", "Range: bytes=10485880-\r\n", &r);
    ck_assert_int_eq(r.status, 206);
    ck_assert_str_eq(header(&r, "Content-Range"), "bytes 10485880-10485882/10485883");
    free(r.body);
    get("/big.bin", "Range: bytes=99999999-\r\n", &r);
    ck_assert_int_eq(r.status, 416);
    ck_assert_str_eq(header(&r, "Content-Range"), "bytes */10485883");
    free(r.body);
    get("/small.txt", "Range: bytes=0-1,3-4\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(body_is(&r, "small file\n"));
    free(r.body);
    snprintf(h, sizeof h, "Range: bytes=0-4\r\nIf-Range: %s\r\n", etag);
    get("/small.txt", h, &r);
    ck_assert_int_eq(r.status, 206);
    ck_assert(body_is(&r, "small"));
    free(r.body);
    get("/small.txt", "Range: bytes=0-4\r\nIf-Range: \"old\"\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    free(r.body);
}
END_TEST

START_TEST(methods_redirects_listing) {
    resp_t r;
    static const char* const methods[] = { "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND" };
    for (size_t i = 0; i < HT_ARRAY_LEN(methods); i++) {
        char raw[256];
        snprintf(raw, sizeof raw, "%s /small.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                 methods[i]);
        request(raw, false, &r);
        ck_assert_int_eq(r.status, 405);
        ck_assert_str_eq(header(&r, "Allow"), "GET, HEAD");
        free(r.body);
    }
    get("/list?x=1", nullptr, &r);
    ck_assert_int_eq(r.status, 301);
    ck_assert_str_eq(header(&r, "Location"), "/list/?x=1");
    free(r.body);
    get("/list/", nullptr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(header(&r, "Content-Type"), "text/html; charset=utf-8");
    r.body = realloc(r.body, r.body_len + 1);
    r.body[r.body_len] = '\0';
    ck_assert_ptr_nonnull(strstr(r.body, "<a href=\"%3Cb%3E%26%22%27.txt\">&lt;b&gt;&amp;&quot;&#39;.txt</a>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<a href=\"a%20b.txt\">a b.txt</a>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<a href=\"%C3%A9t%C3%A9.txt\">\xc3\xa9t\xc3\xa9.txt</a>"));
    ck_assert_ptr_nonnull(strstr(r.body, "<a href=\"zdir/\">zdir/</a>"));
    ck_assert_ptr_null(strstr(r.body, ".secret"));
    ck_assert(strstr(r.body, "zdir/") < strstr(r.body, "a%20b.txt"));
    free(r.body);
    /* The links work. */
    get("/list/%3Cb%3E%26%22%27.txt", nullptr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(body_is(&r, "x"));
    free(r.body);
    get("/list/%C3%A9t%C3%A9.txt", nullptr, &r);
    ck_assert(body_is(&r, "z"));
    free(r.body);
}
END_TEST

/* The bytes of root/rel, or nullptr; *n gets the length. */
static char* slurp_root(const char* rel, size_t* n) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE* f = fopen(p, "rb");
    if (!f) return nullptr;
    static char buf[65536];
    *n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

/* q-value negotiation over the sidecars --precompress wrote (br, zstd, gzip
 * where this build has the libraries) and identity. */
START_TEST(encoding_negotiation) {
    resp_t r;
    static const struct { const char* ae; const char* ce; } cases[] = {
        { nullptr, nullptr }, { "gzip", "gzip" }, { "gzip, deflate, br", "br" }, { "br", "br" },
        { "gzip, deflate, br, zstd", "br" }, { "zstd, gzip", "zstd" }, { "gzip;q=0", nullptr },
        { "*", "br" }, { "br;q=0.5, zstd;q=0.9, gzip;q=0.1", "zstd" }, { "br, gzip;q=0.1", "br" },
        { "identity", nullptr }, { "gzip;q=0, *;q=1", "br" }, { "gzip;q=0.5, identity", nullptr },
        { "br;q=0, zstd;q=0, gzip;q=0.001", "gzip" }, { "identity;q=0, gzip", "gzip" },
        { "*;q=0", "406" }, { "identity;q=0, compress", "406" },
    };
#if defined(HT_HAVE_BROTLI) && defined(HT_HAVE_ZSTD)
    size_t n0;
    ck_assert_ptr_nonnull(slurp_root("style.css.br", &n0));
    ck_assert_ptr_nonnull(slurp_root("style.css.zst", &n0));
#endif
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        char h[128] = "", side[64];
        size_t sn = 0;
        const char* ce_want = cases[i].ce;
        bool refused = ce_want && strcmp(ce_want, "406") == 0;
        if (ce_want && !refused) {
            snprintf(side, sizeof side, "style.css%s",
                     strcmp(ce_want, "br") == 0 ? ".br" : strcmp(ce_want, "zstd") == 0 ? ".zst" : ".gz");
            char* sb = slurp_root(side, &sn);
            if (!sb) continue; /* a build without that library: no such sidecar */
        }
        if (cases[i].ae) snprintf(h, sizeof h, "Accept-Encoding: %s\r\n", cases[i].ae);
        get("/style.css", h, &r);
        ck_assert_str_eq(header(&r, "Vary"), "Accept-Encoding");
        if (refused) {
            ck_assert_msg(r.status == 406, "%s: %d", cases[i].ae, r.status);
            free(r.body);
            continue;
        }
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(header(&r, "Content-Type"), "text/css; charset=utf-8");
        char* ce = header(&r, "Content-Encoding");
        ck_assert_msg(ce_want ? ce && strcmp(ce, ce_want) == 0 : ce == nullptr, "%s: %s",
                      cases[i].ae ? cases[i].ae : "-", ce ? ce : "identity");
        if (ce_want) { /* the sidecar's bytes, as written */
            char* sb = slurp_root(side, &sn);
            ck_assert(r.body_len == sn && memcmp(r.body, sb, sn) == 0);
        }
        /* gzip and identity: the decoded bytes are the stylesheet. */
        char plain[8192];
        uLongf plen = sizeof plain;
        if (ce_want && strcmp(ce_want, "gzip") == 0) {
            z_stream z = { 0 };
            ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
            z.next_in = (Bytef*) r.body;
            z.avail_in = (uInt) r.body_len;
            z.next_out = (Bytef*) plain;
            z.avail_out = sizeof plain;
            ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
            plen = z.total_out;
            inflateEnd(&z);
        } else if (!ce_want) {
            memcpy(plain, r.body, r.body_len);
            plen = r.body_len;
        } else {
            free(r.body);
            continue;
        }
        ck_assert_uint_gt(plen, 1000);
        ck_assert(memcmp(plain, ".c0{color:red}\n.c1{", 19) == 0);
        free(r.body);
    }
    /* Not every file has a sidecar: no Vary there. */
    get("/small.txt", "Accept-Encoding: gzip\r\n", &r);
    ck_assert_ptr_null(header(&r, "Vary"));
    ck_assert_ptr_null(header(&r, "Content-Encoding"));
    free(r.body);
}
END_TEST

START_TEST(traversal) {
    static const char* const targets[] = {
        "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/%2e%2e/secret.txt", "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt", "/..%5csecret.txt", "/..\\secret.txt", "/%252e%252e/secret.txt",
        "/%c0%ae%c0%ae/secret.txt", "/%c0%ae%c0%ae%c0%afsecret.txt", "/secret.txt%00",
        "/small.txt%00.html", "/escape", "/list/../../secret.txt", "/./../secret.txt",
        "//secret.txt", "/..", "/.%2e/secret.txt", "http://t/../secret.txt",
        "/list/..%2f..%2fsecret.txt",
    };
    resp_t r;
    for (size_t i = 0; i < HT_ARRAY_LEN(targets); i++) {
        char raw[512];
        snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", targets[i]);
        request(raw, false, &r); /* asserts the sentinel is absent */
        ck_assert_msg(r.status == 400 || r.status == 403 || r.status == 404, "%s: %d", targets[i], r.status);
        free(r.body);
    }
    get("/inside", nullptr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(body_is(&r, "small file\n"));
    free(r.body);
}
END_TEST

START_TEST(cli_errors) {
    struct { const char* args[8]; int code; const char* msg; } cases[] = {
        { { HT_BIN, "-d", "/nonexistent/docroot", "-p", "0", nullptr }, 1, "docroot" },
        { { HT_BIN, "--bogus", nullptr }, 2, "unknown option" },
        { { HT_BIN, "-p", "70000", nullptr }, 2, "bad port" },
        { { HT_BIN, "-w", "0", nullptr }, 2, "bad worker" },
        { { HT_BIN, "-p", nullptr }, 2, "needs a value" },
        { { HT_BIN, "-b", "not-an-ip", "-p", "0", "-d", "/tmp", nullptr }, 1, "cannot listen" },
    };
    char busy[8];
    snprintf(busy, sizeof busy, "%u", port);
    for (size_t i = 0; i < HT_ARRAY_LEN(cases) + 1; i++) {
        const char* bargs[] = { HT_BIN, "-b", "127.0.0.1", "-p", busy, "-d", "/tmp", nullptr };
        bool is_busy = i == HT_ARRAY_LEN(cases);
        int ef;
        pid_t p = ht_test__spawn(HT_BIN, is_busy ? bargs : cases[i].args, &ef, nullptr);
        char line[512];
        ht_test__read_line(ef, line, sizeof line, 5000);
        char more[64];
        size_t extra = ht_test__read_line(ef, more, sizeof more, 2000);
        close(ef);
        int st = ht_test__wait_for(p, 5000);
        if (st == -1) { /* still running: do not leave it behind */
            kill(p, SIGKILL);
            waitpid(p, nullptr, 0);
        }
        ck_assert_msg(st != -1, "case %zu did not exit: %s", i, line);
        ck_assert(WIFEXITED(st));
        ck_assert_int_eq(WEXITSTATUS(st), is_busy ? 1 : cases[i].code);
        ck_assert_msg(strstr(line, is_busy ? "cannot listen" : cases[i].msg), "%s", line);
        if (is_busy) ck_assert_ptr_nonnull(strstr(line, "in use"));
        ck_assert_uint_eq(extra, 0); /* one line */
    }
    int of, ef;
    const char* help[] = { HT_BIN, "-h", nullptr };
    pid_t p = ht_test__spawn(HT_BIN, help, &ef, &of);
    char text[4096];
    ssize_t n = 0, k;
    while ((k = read(of, text + n, sizeof text - 1 - (size_t) n)) > 0) n += k;
    text[n] = '\0';
    close(of);
    close(ef);
    ck_assert_int_eq(WEXITSTATUS(ht_test__wait_for(p, 5000)), 0);
    static const char* const flags[] = { "-p", "-d", "-w", "-i", "--no-index", "--no-list",
                                         "--access-log", "--precompress", "-h" };
    for (size_t i = 0; i < HT_ARRAY_LEN(flags); i++) ck_assert_ptr_nonnull(strstr(text, flags[i]));
}
END_TEST

START_TEST(graceful_shutdown_and_log) {
    int ef, of;
    const char* args[] = { HT_BIN, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "1", "--access-log",
                           "--no-index", "--no-list", "--no-cache", nullptr };
    pid_t p = ht_test__spawn(HT_BIN, args, &ef, &of);
    char line[256];
    ht_test__read_line(ef, line, sizeof line, 5000);
    uint16_t saved = port;
    port = (uint16_t) atoi(strstr(line, "127.0.0.1:") + 10);
    resp_t r;
    get("/", nullptr, &r); /* --no-index --no-list: a directory is a 404 */
    ck_assert_int_eq(r.status, 404);
    size_t page = r.body_len; /* the error page's bytes are logged too */
    ck_assert_uint_gt(page, 0);
    free(r.body);
    get("/small.txt", nullptr, &r);
    ck_assert_int_eq(r.status, 200);
    free(r.body);
    request("HEAD /small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", true, &r);
    free(r.body);
    port = saved;
    /* CLF: the client's address first (not "-"), then the bytes of the body
     * sent ("-" for none). */
    char log[512], want[128];
    ht_test__read_line(of, log, sizeof log, 5000);
    ck_assert_msg(strncmp(log, "127.0.0.1 - - [", 15) == 0, "%s", log);
    snprintf(want, sizeof want, "\"GET / HTTP/1.1\" 404 %zu\n", page);
    ck_assert_msg(strstr(log, want) != nullptr, "%s", log);
    ht_test__read_line(of, log, sizeof log, 5000);
    ck_assert_msg(strncmp(log, "127.0.0.1 - - [", 15) == 0, "%s", log);
    ck_assert_msg(strstr(log, "\"GET /small.txt HTTP/1.1\" 200 11\n") != nullptr, "%s", log);
    ht_test__read_line(of, log, sizeof log, 5000);
    ck_assert_msg(strstr(log, "\"HEAD /small.txt HTTP/1.1\" 200 -\n") != nullptr, "%s", log);
    ck_assert_int_eq(kill(p, SIGTERM), 0);
    int st = ht_test__wait_for(p, 5000);
    ck_assert_int_ne(st, -1);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    close(ef);
    close(of);
}
END_TEST

/* A 10 MiB send still in flight when the cache revalidates (and closes) its
 * fd and the file is replaced: the response has its own descriptor of the
 * old file, so the bytes are the old version, whole. (Runs last: it
 * replaces big.bin.) */
START_TEST(cache_revalidation_mid_send) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(s, (struct sockaddr*) &sa, sizeof sa), 0);
    const char* rq = "GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(write(s, rq, strlen(rq)), (ssize_t) strlen(rq));
    usleep(1300 * 1000); /* past the 1 s revalidation, nothing read yet */
    /* A new version of the file replaces it: the revalidating worker closes
     * its cached fd and opens the new file, likely under the same number. */
    char* other = malloc(BIG_SIZE);
    for (size_t i = 0; i < BIG_SIZE; i++) other[i] = (char) ~big[i];
    put("root/big.bin.new", other, BIG_SIZE);
    free(other);
    char from[256], to[256];
    snprintf(from, sizeof from, "%s/big.bin.new", root);
    snprintf(to, sizeof to, "%s/big.bin", root);
    ck_assert_int_eq(rename(from, to), 0);
    for (int i = 0; i < 8; i++) { /* new connections: both workers, with high odds */
        resp_t r;
        request("HEAD /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", true, &r);
        ck_assert_int_eq(r.status, 200);
        free(r.body);
    }
    size_t cap = BIG_SIZE + 65536, len = 0;
    char* buf = malloc(cap);
    for (;;) {
        struct pollfd p = { .fd = s, .events = POLLIN };
        ck_assert(poll(&p, 1, 10000) == 1);
        ssize_t k = read(s, buf + len, cap - len);
        if (k <= 0) break;
        len += (size_t) k;
    }
    close(s);
    char* end = memmem(buf, len, "\r\n\r\n", 4);
    ck_assert_ptr_nonnull(end);
    size_t hl = (size_t) (end - buf) + 4;
    ck_assert_uint_eq(len - hl, BIG_SIZE);
    ck_assert(memcmp(buf + hl, big, BIG_SIZE) == 0);
    free(buf);
}
END_TEST

/* The bundled demo tree (examples/public) as the README's main job serves it. */
START_TEST(demo_tree) {
    int ef;
    const char* args[] = { HT_BIN, "-p", "0", "-b", "127.0.0.1", "-d", HT_DEMO, "-w", "1", nullptr };
    pid_t p = ht_test__spawn(HT_BIN, args, &ef, nullptr);
    char line[256];
    ht_test__read_line(ef, line, sizeof line, 5000);
    close(ef);
    uint16_t saved = port;
    port = (uint16_t) atoi(strstr(line, "127.0.0.1:") + 10);
    resp_t r;
    get("/", nullptr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(memmem(r.body, r.body_len, "It works", 8));
    free(r.body);
    get("/docs/", nullptr, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(memmem(r.body, r.body_len, "href=\"read%20me.txt\"", 20));
    free(r.body);
    get("/style.css", "Accept-Encoding: gzip\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(header(&r, "Content-Encoding") != nullptr, "style.css.gz missing or older than style.css");
    free(r.body);
    get("/app.js", nullptr, &r);
    ck_assert_str_eq(header(&r, "Content-Type"), "text/javascript; charset=utf-8");
    free(r.body);
    port = saved;
    kill(p, SIGTERM);
    ck_assert_int_eq(WEXITSTATUS(ht_test__wait_for(p, 5000)), 0);
}
END_TEST

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    Suite* s = suite_create("ht");
    TCase* tc = tcase_create("ht");
    tcase_add_unchecked_fixture(tc, start_server, stop_server);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, small_and_big_files);
    tcase_add_test(tc, conditionals_and_ranges);
    tcase_add_test(tc, methods_redirects_listing);
    tcase_add_test(tc, encoding_negotiation);
    tcase_add_test(tc, traversal);
    tcase_add_test(tc, cli_errors);
    tcase_add_test(tc, graceful_shutdown_and_log);
    tcase_add_test(tc, demo_tree);
    tcase_add_test(tc, cache_revalidation_mid_send);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
