/* tests/server/srv_fixture.h — what the server suites share: a server on
 * its own thread (127.0.0.1, a port the kernel picks) serving the including
 * file's `handler`, and a blocking client with receive timeouts and a
 * buffered response reader, so that every wait is bounded. Header-only,
 * included once per suite after <ht/ht.h> and "support/ht_test.h". */
#ifndef HT_TEST_SRV_FIXTURE_H
#define HT_TEST_SRV_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/tcp.h>

/* The suite's handler (defined by the including file). */
static void handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a);

typedef struct srv {
    ht_server_t         server;
    ht_config_t         cfg;
    ht_alloc_t*         parent;
    ht_alloc_counting_t count;
    ht_acceptor_t       acc;
    ht_acceptor_stats_t stats;  /* copied when the loop returned */
    pthread_t           th;
    _Atomic(int)        state;  /* 1 serving, 2 done */
    ht_result_t         run_result;
    ht_loop_options_t   loop_opt;
} srv_t;

static srv_t S;
/* Where start() listens: 127.0.0.1 unless a test says otherwise. */
static const char* g_listen_host = "127.0.0.1";
static void* server_main(void* arg) {
    srv_t* s = arg;
    ht_loop_t* loop = nullptr;
    ht_result_t r = ht_loop__init_with(&loop, &s->count.base, &s->loop_opt);
    if (r != 0) {
        s->run_result = r;
        atomic_store(&s->state, 2);
        return nullptr;
    }
    r = ht_server__serve(&s->acc, &s->server, loop, &s->count.base, handler);
    if (r != 0) {
        s->run_result = r;
        ht_loop__free(loop, &s->count.base);
        atomic_store(&s->state, 2);
        return nullptr;
    }
    atomic_store(&s->state, 1);
    s->run_result = ht_loop__run(loop);
    ht_acceptor__stats(&s->acc, &s->stats);
    ht_server__serve_finalize(&s->acc);
    ht_loop__free(loop, &s->count.base);
    atomic_store(&s->state, 2);
    return nullptr;
}

/* S afresh, with cfg (nullptr: defaults) and loop options, and a counting
 * allocator; no socket yet (start_cfg_opt listens; a test may adopt one). */
static inline void srv_reset(const ht_config_t* cfg, const ht_loop_options_t* opt) {
    memset(&S, 0, sizeof S);
    if (cfg) S.cfg = *cfg;
    if (opt) S.loop_opt = *opt;
    S.server.config = &S.cfg;
    S.parent = ht_alloc__init();
    ht_alloc__counting_init(&S.count, S.parent);
}

/* Runs S.server (it has its socket) on its own thread; returns once it
 * serves (5 s at most). */
static inline void srv_run(void) {
    ck_assert_int_eq(pthread_create(&S.th, nullptr, server_main, &S), 0);
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&S.state) == 0 && ht_test__mono_ms() - t0 < 5000) ht_test__sleep_ms(1);
    ck_assert_msg(atomic_load(&S.state) == 1, "server did not start: %d", S.run_result);
}

/* Starts the server with cfg (nullptr: defaults) and loop options. */
static inline void start_cfg_opt(const ht_config_t* cfg, const ht_loop_options_t* opt) {
    srv_reset(cfg, opt);
    ck_assert_int_eq(ht_server__listen(&S.server, g_listen_host, 0, 4096), 0);
    ck_assert_uint_gt(ht_server__port(&S.server), 0);
    srv_run();
}
static inline void start_cfg(const ht_config_t* cfg) { start_cfg_opt(cfg, nullptr); }
static inline void start(void) { start_cfg(nullptr); }

/* Shuts down gracefully and waits (bounded) for the server thread. */
static inline void stop(void) {
    ht_server__shutdown(&S.server);
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&S.state) != 2 && ht_test__mono_ms() - t0 < 10000) ht_test__sleep_ms(2);
    ck_assert_msg(atomic_load(&S.state) == 2, "server did not shut down within 10 s");
    pthread_join(S.th, nullptr);
    ck_assert_int_eq(S.run_result, 0);
    ht_server__close(&S.server);
    ck_assert_uint_eq(S.count.live_bytes, 0); /* everything given back */
    ht_alloc__finalize(S.parent);
}

/* ------------------------------------------------------------ client --- */

static inline int client_to(uint16_t port, int timeout_ms) {
    int fd = ht_test__connect_loopback(port);
    ck_assert_msg(fd >= 0, "connect: %s", strerror(errno));
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}
static inline int client(void) { return client_to(ht_server__port(&S.server), 5000); }

static inline void send_str(int fd, const char* s) { ht_test__write_all(fd, s, strlen(s)); }

/* A buffered reader over a socket. */
typedef struct rd {
    int    fd;
    char*  buf;
    size_t len, off, cap;
    int    eof;   /* 1: orderly EOF, -1: error (errno saved in err) */
    int    err;
} rd_t;

static inline void rd_init(rd_t* r, int fd) {
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->cap = 1 << 16;
    r->buf = malloc(r->cap);
}
static inline void rd_free(rd_t* r) { free(r->buf); }

/* Reads more; false on EOF/error/timeout. */
static inline bool rd_fill(rd_t* r) {
    if (r->off > 0 && r->off == r->len) r->off = r->len = 0;
    if (r->len == r->cap) {
        r->cap *= 2;
        r->buf = realloc(r->buf, r->cap);
    }
    ssize_t k = recv(r->fd, r->buf + r->len, r->cap - r->len, 0);
    if (k > 0) {
        r->len += (size_t) k;
        return true;
    }
    r->eof = k == 0 ? 1 : -1;
    r->err = k == 0 ? 0 : errno;
    return false;
}

typedef struct resp {
    int    status;
    char   head[4096];
    char*  body;
    size_t body_len;
    bool   close;       /* Connection: close */
    bool   keep_alive;  /* Connection: keep-alive */
    bool   has_length;
    char   raw[8192];   /* head + body if small: byte-exact checks */
    size_t raw_len;
} resp_t;

static inline void resp_free(resp_t* p) { free(p->body); p->body = nullptr; }

/* Reads one response (Content-Length framed). False if the stream ended. */
static inline bool read_resp(rd_t* r, resp_t* out, bool head_request) {
    memset(out, 0, sizeof *out);
    char* end;
    for (;;) {
        end = memmem(r->buf + r->off, r->len - r->off, "\r\n\r\n", 4);
        if (end) break;
        if (!rd_fill(r)) return false;
    }
    size_t hl = (size_t) (end + 4 - (r->buf + r->off));
    ck_assert_uint_lt(hl, sizeof out->head);
    memcpy(out->head, r->buf + r->off, hl);
    out->head[hl] = 0;
    ck_assert_msg(sscanf(out->head, "HTTP/1.1 %d ", &out->status) == 1, "bad status line: %s", out->head);
    size_t cl = 0;
    char* p = strcasestr(out->head, "\r\nContent-Length: ");
    if (p) {
        out->has_length = true;
        cl = strtoull(p + 18, nullptr, 10);
    }
    out->close = strcasestr(out->head, "\r\nConnection: close\r\n") != nullptr;
    out->keep_alive = strcasestr(out->head, "\r\nConnection: keep-alive\r\n") != nullptr;
    r->off += hl;
    if (head_request || out->status == 100 || out->status == 204 || out->status == 304) cl = 0;
    while (r->len - r->off < cl)
        if (!rd_fill(r)) return false;
    out->body = malloc(cl + 1);
    memcpy(out->body, r->buf + r->off, cl);
    out->body[cl] = 0;
    out->body_len = cl;
    r->off += cl;
    if (hl + cl <= sizeof out->raw) {
        memcpy(out->raw, out->head, hl);
        memcpy(out->raw + hl, out->body, cl);
        out->raw_len = hl + cl;
    }
    return true;
}

/* After a final response: the server closes cleanly (EOF, not a reset). */
static inline void expect_eof(rd_t* r) {
    ck_assert_uint_eq(r->len - r->off, 0);
    ck_assert_msg(!rd_fill(r), "unexpected bytes after the last response");
    ck_assert_msg(r->eof == 1, "expected EOF, got error %s", strerror(r->err));
}

/* One request/response on fd, a fresh connection (any kind), closed after. */
static inline void roundtrip_fd(int fd, const char* req, resp_t* out) {
    ck_assert_int_ge(fd, 0);
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, req);
    ck_assert(read_resp(&r, out, strncmp(req, "HEAD ", 5) == 0));
    rd_free(&r);
    close(fd);
}

/* One request/response on a fresh TCP connection to the server. */
static inline void roundtrip(const char* req, resp_t* out) { roundtrip_fd(client(), req, out); }

#endif /* HT_TEST_SRV_FIXTURE_H */
