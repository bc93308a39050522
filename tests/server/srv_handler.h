/* tests/server/srv_handler.h — the handler that check_server,
 * check_server_conn and check_server_proc serve (srv_fixture.h runs it),
 * what it records, and their per-test setup/teardown. Its paths: /echo (the
 * body back), /p/N (N back: pipelined responses can be matched), /big?n=N
 * (N bytes of fill_pattern), /mark (records the allocation count), /info
 * (the request accessors), /inject (header injection refused), /file?off=N
 * (g_file_path from byte N, zero-copy), /peer (the client's address),
 * /hdr/NN?n=N (a head of a chosen size), /nothing (builds nothing: 500),
 * anything else "hello from hachettp\n". Header-only, private to
 * tests/server; included once per suite after "server/srv_fixture.h". */
#ifndef HT_TEST_SRV_HANDLER_H
#define HT_TEST_SRV_HANDLER_H

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the handler saw, written on the server thread, read after a response. */
static _Atomic(uint64_t) g_mark_allocs;
static _Atomic(uint32_t) g_handled;
static char g_file_path[64];

static void fill_pattern(char* p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (char) ('a' + i % 23);
}

/* Whether p holds fill_pattern's first n bytes (a /big body, checked whole). */
static inline bool is_pattern(const char* p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (char) ('a' + i % 23)) return false;
    return true;
}

static uint64_t query_u64(ht_slice_t q, const char* key) {
    size_t kl = strlen(key);
    if (q.len > kl && memcmp(q.ptr, key, kl) == 0 && q.ptr[kl] == '=') {
        uint64_t v = 0;
        for (size_t i = kl + 1; i < q.len && q.ptr[i] >= '0' && q.ptr[i] <= '9'; i++) v = v * 10 + (uint64_t) (q.ptr[i] - '0');
        return v;
    }
    return 0;
}

static void handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) cfg;
    atomic_fetch_add(&g_handled, 1);
    ht_slice_t path = ht_request__path(req);
    if (ht_slice__eq(path, HT_SLICE("/echo"))) {
        ht_slice_t b = ht_request__body(req);
        ht_response__bytes(res, 200, HT_SLICE("application/octet-stream"), b.ptr, b.len, a);
    } else if (ht_slice__starts_with(path, HT_SLICE("/p/"))) {
        /* echoes its own number: pipelined responses can be matched */
        char body[64];
        int n = snprintf(body, sizeof body, "%.*s", (int) path.len - 3, path.ptr + 3);
        ht_response__bytes(res, 200, HT_SLICE("text/plain"), body, (size_t) n, a);
    } else if (ht_slice__eq(path, HT_SLICE("/big"))) {
        uint64_t n = query_u64(ht_request__query(req), "n");
        char* p = ht_alloc__alloc(a, n ? n : 1);
        fill_pattern(p, n);
        ht_response__bytes(res, 200, HT_SLICE("application/octet-stream"), p, n, a);
        ht_alloc__free(a, p, n ? n : 1);
    } else if (ht_slice__eq(path, HT_SLICE("/mark"))) {
        atomic_store(&g_mark_allocs, S.count.allocs + S.count.reallocs);
        ht_response__text(res, 200, "marked\n", a);
    } else if (ht_slice__eq(path, HT_SLICE("/info"))) {
        char body[160];
        ht_slice_t ua = ht_request__header(req, HT_HEADER_USER_AGENT);
        ht_slice_t x = ht_request__header_by_name(req, HT_SLICE("x-custom"));
        int n = snprintf(body, sizeof body, "m=%.*s t=%.*s q=%.*s v=%u ka=%d ua=%.*s x=%.*s n=%u",
                         HT_SLICE_FMT(ht_request__method_slice(req)), HT_SLICE_FMT(ht_request__target(req)),
                         HT_SLICE_FMT(ht_request__query(req)), ht_request__version_minor(req),
                         ht_request__keep_alive(req), HT_SLICE_FMT(ua), HT_SLICE_FMT(x),
                         ht_request__header_count(req));
        ht_response__bytes(res, 200, HT_SLICE("text/plain"), body, (size_t) n, a);
    } else if (ht_slice__eq(path, HT_SLICE("/inject"))) {
        ht_response__status(res, 200);
        ht_result_t r1 = ht_response__header_cstr(res, "X-Evil", "a\r\nSet-Cookie: pwn=1");
        ht_result_t r2 = ht_response__header_cstr(res, "Content-Length", "999");
        char body[64];
        int n = snprintf(body, sizeof body, "%d %d", r1 == HT_E_BAD_HEADER_VALUE, r2 == HT_E_RESERVED_HEADER);
        ht_response__body(res, body, (size_t) n, a);
    } else if (ht_slice__eq(path, HT_SLICE("/file"))) {
        /* g_file_path, from byte `off` on, zero-copy; the server closes it */
        uint64_t off = query_u64(ht_request__query(req), "off");
        int f = open(g_file_path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        fstat(f, &st);
        ht_response__status(res, 200);
        ht_response__header_cstr(res, "Content-Type", "application/octet-stream");
        ht_response__file(res, f, off, (uint64_t) st.st_size - off, true);
    } else if (ht_slice__eq(path, HT_SLICE("/peer"))) {
        /* the client's address, port and the accessor's result */
        ht_addr_t peer;
        ht_result_t pr = ht_request__peer(req, &peer);
        char host[HT_ADDR_STRLEN], body[96];
        ht_addr__format(&peer, host);
        int n = snprintf(body, sizeof body, "%s %u %d", host, (unsigned) peer.port, (int) pr);
        ht_response__bytes(res, 200, HT_SLICE("text/plain"), body, (size_t) n, a);
    } else if (ht_slice__starts_with(path, HT_SLICE("/hdr/"))) {
        /* A head of a chosen size: X-Seq (the rest of the path) and X-Big
         * (n bytes of pattern), body "ok". Returns the first builder error
         * in X-Err's place: there is none, the server answers 500. */
        char big[8192];
        uint64_t n = query_u64(ht_request__query(req), "n");
        if (n > sizeof big) n = sizeof big;
        fill_pattern(big, n);
        ht_result_t r = ht_response__status(res, 200);
        if (r == 0) r = ht_response__header(res, HT_SLICE("X-Seq"), ht_slice__sub(path, 5, path.len - 5));
        if (r == 0) r = ht_response__header(res, HT_SLICE("X-Big"), (ht_slice_t){ big, n });
        if (r == 0) r = ht_response__body(res, "ok", 2, a);
        (void) r;
    } else if (ht_slice__eq(path, HT_SLICE("/nothing"))) {
        /* builds nothing: the server answers 500 */
    } else {
        ht_response__text(res, 200, "hello from hachettp\n", a);
    }
}

static void setup(void) {
    alarm(90); /* a hang fails the test instead of the whole run */
    atomic_store(&g_handled, 0);
}
static void teardown(void) { alarm(0); }

#endif /* HT_TEST_SRV_HANDLER_H */
