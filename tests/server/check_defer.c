/* check_defer: responses that answer later (ht/response.h "Answering later",
 * "Streamed bodies", "Streamed request bodies") end to end, on whichever
 * loop backend this build has: deferred completion on the loop and from
 * other threads, deadlines, clients that leave, pipelining behind a
 * deferred response, streams (chunked, length, HTTP/1.0, HEAD), back
 * pressure, Server-Sent Events, streamed uploads with 100-continue and
 * limits, and graceful shutdown. Under ASan every misuse the header calls
 * safe (completing twice, after the deadline, after the client left) runs
 * against the real handle. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"

/* ---- What the handlers saw (server thread; read by the test after a
 * response, or after stop()). ---- */
static _Atomic(int) g_cancels;       /* cancel callbacks run */
static _Atomic(int) g_cancel_why;    /* the last reason */
static _Atomic(int) g_late_result;   /* a builder call after the cut */
static _Atomic(int) g_release_result;
static _Atomic(int) g_twice_result;
static _Atomic(int) g_body_calls;
static _Atomic(uint64_t) g_body_bytes;
static _Atomic(int) g_handled;

/* One slot per pending handle, with a timer (server thread only). */
typedef struct later {
    ht_response_t* res;
    ht_timer_t     t;
    int            kind;
    int            n;        /* events/pieces so far */
    int            total;
    uint64_t       bytes;
    uint64_t       sum;
    char           id[32];
    uint64_t       paused_at;  /* ms, 0: not paused */
    bool           in_use;
} later_t;
#define LATER_MAX 1100
static later_t g_later[LATER_MAX];

static later_t* later_new(ht_response_t* res, int kind) {
    for (int i = 0; i < LATER_MAX; i++) {
        if (!g_later[i].in_use) {
            memset(&g_later[i], 0, sizeof g_later[i]);
            g_later[i].in_use = true;
            g_later[i].res = res;
            g_later[i].kind = kind;
            g_later[i].t.data = &g_later[i];
            return &g_later[i];
        }
    }
    return nullptr;
}
static void later_free(later_t* l) { l->in_use = false; }

static uint64_t q_u64(const ht_request_t* req, const char* key, uint64_t dflt) {
    ht_slice_t q = ht_request__query(req);
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl < q.len; i++) {
        if ((i == 0 || q.ptr[i - 1] == '&') && memcmp(q.ptr + i, key, kl) == 0 && q.ptr[i + kl] == '=') {
            uint64_t v = 0;
            for (size_t j = i + kl + 1; j < q.len && q.ptr[j] >= '0' && q.ptr[j] <= '9'; j++)
                v = v * 10 + (uint64_t) (q.ptr[j] - '0');
            return v;
        }
    }
    return dflt;
}

static void on_cancel(ht_response_t* res, ht_result_t why, void* ud) {
    (void) res;
    (void) ud;
    atomic_fetch_add(&g_cancels, 1);
    atomic_store(&g_cancel_why, why);
}

enum { K_TEXT = 1, K_LATE, K_STREAM, K_SSE, K_FLOOD, K_UPLOAD, K_HOLD, K_THREAD, K_TEXTHEAD };

static ht_alloc_t* srv_alloc(void) { return &S.count.base; }

/* A timer fired for a pending handle: what it does depends on its kind. */
static void on_later(ht_loop_t* loop, ht_timer_t* t) {
    later_t* l = t->data;
    ht_response_t* res = l->res;
    if (l->kind != K_LATE && ht_response__gone(res)) { /* cut off (a drain) */
        ck_assert_int_eq(ht_response__release(res), HT_E_GONE);
        later_free(l);
        return;
    }
    switch (l->kind) {
    case K_TEXT:
        (void) ht_response__text(res, 200, "later\n", srv_alloc());
        atomic_store(&g_twice_result, ht_response__text(res, 200, "again\n", srv_alloc()));
        ht_response__release(res);
        later_free(l);
        break;
    case K_TEXTHEAD: /* the head was begun before: the body ends it */
        ck_assert_int_eq(ht_response__body(res, "accepted", 8, srv_alloc()), 0);
        ht_response__release(res);
        later_free(l);
        break;
    case K_LATE: /* after the deadline or the client: every call is refused */
        atomic_store(&g_late_result, ht_response__text(res, 200, "too late\n", srv_alloc()));
        atomic_store(&g_release_result, ht_response__release(res));
        later_free(l);
        break;
    case K_STREAM: {
        char piece[64];
        int n = snprintf(piece, sizeof piece, "piece %d\n", l->n);
        if (l->n < l->total) {
            ht_result_t r = ht_response__write(res, piece, (size_t) n);
            ck_assert_int_eq(r, 0);
            l->n++;
            ht_loop__timer_start(loop, t, 5, on_later);
        } else {
            atomic_store(&g_release_result, ht_response__release(res));
            later_free(l);
        }
        break;
    }
    case K_SSE: {
        if (l->n < l->total) {
            char data[48], id[16];
            snprintf(data, sizeof data, "tick %d\nline two", l->n + 1);
            snprintf(id, sizeof id, "%d", l->n + 1);
            ck_assert_int_eq(ht_response__sse_event(res, l->n == 0 ? "start" : nullptr, id,
                                                    ht_slice__from_cstr(data)), 0);
            l->n++;
            ht_loop__timer_start(loop, t, l->n == l->total ? 150 : 10, on_later);
        } else {
            ht_response__release(res);
            later_free(l);
        }
        break;
    }
    default:
        break;
    }
}

/* Back pressure: writes 64 KiB pieces while they are taken, then waits. */
static void flood_more(ht_response_t* res, ht_result_t why, void* ud) {
    (void) why;
    later_t* l = ud;
    static char piece[65536];
    for (;;) {
        if (l->bytes >= (uint64_t) l->total * 65536) {
            ht_response__release(res);
            later_free(l);
            return;
        }
        for (size_t i = 0; i < sizeof piece; i++) piece[i] = (char) ('A' + (l->bytes / 65536 + i) % 26);
        ht_result_t r = ht_response__write(res, piece, sizeof piece);
        if (r == -EAGAIN) return; /* flood_more runs again when there is room */
        if (r != 0) {
            atomic_store(&g_late_result, r);
            ht_response__release(res);
            later_free(l);
            return;
        }
        l->bytes += sizeof piece;
        /* What the server holds stays near two send buffers and a piece. */
        uint64_t live = S.count.live_bytes;
        uint64_t peak = atomic_load(&g_body_bytes);
        if (live > peak) atomic_store(&g_body_bytes, live);
    }
}

/* A stream cut off (a drain, the client): its timer stops, the handle goes back. */
static void on_stream_cancel(ht_response_t* res, ht_result_t why, void* ud) {
    later_t* l = ud;
    on_cancel(res, why, ud);
    ht_loop__timer_stop(ht_response__loop(res), &l->t);
    ck_assert_int_eq(ht_response__release(res), HT_E_GONE);
    later_free(l);
}

/* A streamed upload: counts and sums the bytes, answers the count. */
static void on_piece(ht_response_t* res, ht_slice_t piece, bool last, void* ud) {
    later_t* l = ud;
    atomic_fetch_add(&g_body_calls, 1);
    for (size_t i = 0; i < piece.len; i++) l->sum += (uint8_t) piece.ptr[i];
    l->bytes += piece.len;
    atomic_store(&g_body_bytes, l->bytes);
    if (last) {
        char body[64];
        snprintf(body, sizeof body, "%llu %llu", (unsigned long long) l->bytes, (unsigned long long) l->sum);
        (void) ht_response__text(res, 201, body, srv_alloc());
        ht_response__release(res);
        later_free(l);
    }
}

/* The consumer that cannot keep up: pauses for 150 ms after every 1 MiB. */
static _Atomic(uint64_t) g_paused_ms;  /* total time paused */
static _Atomic(int) g_early;           /* pieces delivered while paused */
static void on_resume(ht_loop_t* loop, ht_timer_t* t) {
    later_t* l = t->data;
    atomic_fetch_add(&g_paused_ms, ht_loop__now_ms(loop) - l->paused_at);
    l->paused_at = 0;
    ck_assert_int_eq(ht_response__pause_body(l->res, false), 0);
}
static void on_piece_pausing(ht_response_t* res, ht_slice_t piece, bool last, void* ud) {
    later_t* l = ud;
    if (l->paused_at) atomic_fetch_add(&g_early, 1);
    uint64_t before = l->bytes;
    on_piece(res, piece, last, ud); /* frees l on the last piece */
    if (last) return;
    if (before >> 20 != l->bytes >> 20) {
        ck_assert_int_eq(ht_response__pause_body(res, true), 0);
        l->paused_at = ht_loop__now_ms(ht_response__loop(res));
        ht_loop__timer_start(ht_response__loop(res), &l->t, 150, on_resume);
    }
}

static void on_upload_cancel(ht_response_t* res, ht_result_t why, void* ud) {
    on_cancel(res, why, ud);
    later_t* l = ud;
    ht_response__release(res);
    later_free(l);
}

/* The pending handle of /hold (one at a time), for the tests that make it
 * late on purpose. */
static later_t* g_hold;

static void* thread_main(void* arg);

static void on_thread_done(ht_response_t* res, ht_result_t why, void* ud) {
    (void) ud;
    if (why == 0) (void) ht_response__json(res, 200, "{\"from\":\"thread\"}", srv_alloc());
    ht_response__release(res);
}

static void handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) cfg;
    atomic_fetch_add(&g_handled, 1);
    ht_slice_t path = ht_request__path(req);
    ht_loop_t* loop = ht_response__loop(res);
    if (ht_slice__starts_with(path, HT_SLICE("/p/"))) {
        ht_response__bytes(res, 200, HT_SLICE("text/plain"), path.ptr + 3, path.len - 3, a);
    } else if (ht_slice__eq(path, HT_SLICE("/later"))) {
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        /* The handler's own response is dead now. */
        ck_assert_int_eq(ht_response__text(res, 200, "x", a), HT_E_RESPONSE_STATE);
        later_t* l = later_new(d, K_TEXT);
        ht_loop__timer_start(loop, &l->t, q_u64(req, "ms", 0), on_later);
    } else if (ht_slice__eq(path, HT_SLICE("/headfirst"))) {
        /* status and a header before the defer, in the batch's buffer */
        ht_response__status(res, 202);
        ht_response__header_cstr(res, "X-Before", "defer");
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        ht_response__header_cstr(d, "X-After", "defer");
        later_t* l = later_new(d, K_TEXT);
        l->kind = 0;
        (void) ht_response__body(d, "accepted", 8, a);
        ht_response__release(d);
        later_free(l);
    } else if (ht_slice__eq(path, HT_SLICE("/headlater"))) {
        /* status and a header now, the body from a timer: the head being
         * built must not go out before it is complete */
        ht_response__status(res, 202);
        ht_response__header_cstr(res, "X-Before", "defer");
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        ht_response__header_cstr(d, "X-After", "defer");
        later_t* l = later_new(d, K_TEXTHEAD);
        ht_loop__timer_start(loop, &l->t, 20, on_later);
    } else if (ht_slice__eq(path, HT_SLICE("/headhold"))) {
        /* a head begun, never completed: the client leaves */
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        ht_response__status(d, 200);
        ht_response__header_cstr(d, "X-Dropped", "1");
        ht_response__on_cancel(d, on_cancel, nullptr);
        g_hold = later_new(d, K_LATE);
    } else if (ht_slice__eq(path, HT_SLICE("/hold"))) {
        /* Deferred, never completed by itself: the deadline or the client
         * ends it, then /late makes the late calls. */
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        ht_response__on_cancel(d, on_cancel, nullptr);
        uint64_t ms = q_u64(req, "timeout", 0);
        if (ms) ht_response__timeout(d, (uint32_t) ms, (uint16_t) q_u64(req, "status", 0));
        g_hold = later_new(d, K_LATE);
    } else if (ht_slice__eq(path, HT_SLICE("/late"))) {
        if (g_hold) {
            ht_loop__timer_start(loop, &g_hold->t, 0, on_later);
            g_hold = nullptr;
        }
        ht_response__text(res, 200, "ok\n", a);
    } else if (ht_slice__eq(path, HT_SLICE("/thread"))) {
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, nullptr, thread_main, d), 0);
        pthread_detach(th);
    } else if (ht_slice__eq(path, HT_SLICE("/stream"))) {
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        uint64_t len = q_u64(req, "len", HT_LENGTH_UNKNOWN);
        ht_response__status(d, (uint16_t) q_u64(req, "status", 200));
        ht_response__header_cstr(d, "Content-Type", "text/plain");
        ck_assert_int_eq(ht_response__stream(d, len), 0);
        later_t* l = later_new(d, K_STREAM);
        l->total = (int) q_u64(req, "n", 3);
        ht_loop__timer_start(loop, &l->t, 0, on_later);
    } else if (ht_slice__eq(path, HT_SLICE("/sse"))) {
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        ht_slice_t last = ht_request__header_by_name(req, HT_SLICE("Last-Event-ID"));
        ck_assert_int_eq(ht_response__sse_begin(d, (uint32_t) q_u64(req, "beat", 0)), 0);
        later_t* l = later_new(d, K_SSE);
        l->total = (int) q_u64(req, "n", 3);
        ht_response__on_cancel(d, on_stream_cancel, l);
        if (last.ptr) {
            char c[48];
            snprintf(c, sizeof c, "resumed after %.*s", HT_SLICE_FMT(last));
            ht_response__sse_comment(d, c);
        }
        ht_loop__timer_start(loop, &l->t, 10, on_later);
    } else if (ht_slice__eq(path, HT_SLICE("/flood"))) {
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(ht_response__stream(d, HT_LENGTH_UNKNOWN), 0);
        later_t* l = later_new(d, K_FLOOD);
        l->total = (int) q_u64(req, "pieces", 128);
        ht_response__on_ready(d, flood_more, l);
        ht_response__on_cancel(d, on_upload_cancel, l);
        flood_more(d, 0, l);
    } else if (ht_slice__eq(path, HT_SLICE("/up_pause"))) {
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        later_t* l = later_new(d, K_UPLOAD);
        ht_response__on_cancel(d, on_upload_cancel, l);
        ck_assert_int_eq(ht_response__pause_body(d, true), -ENODATA); /* not reading yet */
        ck_assert_int_eq(ht_response__read_body(d, on_piece_pausing, l), 0);
    } else if (ht_slice__eq(path, HT_SLICE("/up")) || ht_slice__eq(path, HT_SLICE("/up_small"))) {
        if (!ht_request__body_pending(req)) {
            ht_response__text(res, 400, "no body\n", a);
            return;
        }
        if (ht_request__header_by_name(req, HT_SLICE("X-Refuse")).ptr) {
            ht_response__error(res, 401, a); /* without reading the body */
            return;
        }
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        later_t* l = later_new(d, K_UPLOAD);
        ht_response__on_cancel(d, on_upload_cancel, l);
        ck_assert_int_eq(ht_response__read_body(d, on_piece, l), 0);
        ck_assert_int_eq(ht_response__read_body(d, on_piece, l), -EALREADY);
    } else {
        ht_response__text(res, 200, "plain\n", a);
    }
}

static void* thread_main(void* arg) {
    ht_response_t* d = arg;
    ht_test__sleep_ms(5);
    ck_assert_int_eq(ht_response__post(d, on_thread_done, nullptr), 0);
    return nullptr;
}

/* Streams /up and /up_small, buffers everything else. */
static ht_body_policy_t policy(const ht_config_t* cfg, const ht_request_t* req) {
    (void) cfg;
    ht_slice_t p = ht_request__path(req);
    if (ht_slice__eq(p, HT_SLICE("/up")) || ht_slice__eq(p, HT_SLICE("/up_pause")))
        return (ht_body_policy_t){ .limit = 64u << 20, .stream = true };
    if (ht_slice__eq(p, HT_SLICE("/up_small"))) return (ht_body_policy_t){ .limit = 1000, .stream = true };
    return (ht_body_policy_t){ 0 };
}

static void setup(void) {
    alarm(90);
    atomic_store(&g_cancels, 0);
    atomic_store(&g_cancel_why, 0);
    atomic_store(&g_late_result, 0);
    atomic_store(&g_release_result, 0);
    atomic_store(&g_twice_result, 0);
    atomic_store(&g_body_calls, 0);
    atomic_store(&g_body_bytes, 0);
    atomic_store(&g_handled, 0);
    g_hold = nullptr;
    memset(g_later, 0, sizeof g_later);
}

static void start_defer(uint32_t defer_ms, uint32_t send_ms) {
    ht_config_t cfg = { .defer_timeout_ms = defer_ms, .send_timeout_ms = send_ms, .body_policy = policy };
    start_cfg(&cfg);
}

/* Reads a chunked body after the head; false on a framing error or EOF. */
static bool read_chunked(rd_t* r, char* out, size_t cap, size_t* len) {
    *len = 0;
    for (;;) {
        char* eol;
        while (!(eol = memmem(r->buf + r->off, r->len - r->off, "\r\n", 2)))
            if (!rd_fill(r)) return false;
        size_t n = strtoul(r->buf + r->off, nullptr, 16);
        r->off = (size_t) (eol + 2 - r->buf);
        while (r->len - r->off < n + 2)
            if (!rd_fill(r)) return false;
        if (n == 0) {
            if (memcmp(r->buf + r->off, "\r\n", 2) != 0) return false;
            r->off += 2;
            return true;
        }
        if (*len + n > cap) return false;
        memcpy(out + *len, r->buf + r->off, n);
        *len += n;
        r->off += n;
        if (memcmp(r->buf + r->off, "\r\n", 2) != 0) return false;
        r->off += 2;
    }
}

/* ------------------------------------------------------------- tests --- */

START_TEST(deferred_next_turn) {
    start_defer(0, 0);
    resp_t p;
    roundtrip("GET /later HTTP/1.1\r\nHost: x\r\n\r\n", &p);
    ck_assert_int_eq(p.status, 200);
    ck_assert_str_eq(p.body, "later\n");
    ck_assert(p.has_length && !p.close);
    resp_free(&p);
    /* the status and header set before the defer moved with it */
    roundtrip("GET /headfirst HTTP/1.1\r\nHost: x\r\n\r\n", &p);
    ck_assert_int_eq(p.status, 202);
    ck_assert_ptr_nonnull(strstr(p.head, "\r\nX-Before: defer\r\nX-After: defer\r\n"));
    ck_assert_str_eq(p.body, "accepted");
    resp_free(&p);
    stop();
    ck_assert_int_eq(atomic_load(&g_twice_result), HT_E_RESPONSE_STATE);
    ck_assert_uint_eq(S.stats.deferred, 2);
    ck_assert_uint_eq(S.stats.deferred_now, 0);
}
END_TEST

START_TEST(pipelined_in_order) {
    start_defer(0, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    /* The slow one in the middle: the third waits for it (RFC 9112 9.3.2). */
    send_str(fd, "GET /p/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /later?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /p/3 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /later?ms=0 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /p/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const char* want[] = { "1", "later\n", "3", "later\n", "5" };
    for (int i = 0; i < 5; i++) {
        resp_t p;
        ck_assert(read_resp(&r, &p, false));
        ck_assert_str_eq(p.body, want[i]);
        ck_assert_int_eq(p.close, i == 4);
        resp_free(&p);
    }
    expect_eof(&r);
    rd_free(&r);
    close(fd);
    stop();
}
END_TEST

START_TEST(deadline_then_late) {
    start_defer(0, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    uint64_t t0 = ht_test__mono_ms();
    send_str(fd, "GET /hold?timeout=100 HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    uint64_t dt = ht_test__mono_ms() - t0;
    ck_assert_int_eq(p.status, 503);
    ck_assert_uint_ge(dt, 90);
    ck_assert_uint_lt(dt, 2000);
    ck_assert(!p.close); /* a clean answer: the connection stays */
    resp_free(&p);
    ck_assert_int_eq(atomic_load(&g_cancels), 1);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_TIMEOUT);
    /* The late completion: refused with an error code, nothing sent. */
    send_str(fd, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "ok\n");
    resp_free(&p);
    ht_test__sleep_ms(50);
    ck_assert_int_eq(atomic_load(&g_late_result), HT_E_GONE);
    ck_assert_int_eq(atomic_load(&g_release_result), HT_E_GONE);
    /* An upstream route: 504. */
    send_str(fd, "GET /hold?timeout=50&status=504 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 504);
    resp_free(&p);
    send_str(fd, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    resp_free(&p);
    rd_free(&r);
    close(fd);
    stop();
    ck_assert_int_eq(atomic_load(&g_cancels), 2);
    ck_assert_uint_eq(S.stats.cut_off, 2);
}
END_TEST

START_TEST(client_leaves) {
    start_defer(0, 0);
    int fd = client();
    send_str(fd, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&g_handled) < 1 && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(1);
    close(fd);
    t0 = ht_test__mono_ms();
    while (atomic_load(&g_cancels) < 1 && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(2);
    ck_assert_int_eq(atomic_load(&g_cancels), 1);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_CLOSED);
    /* Other connections are untouched; the late calls are refused. */
    resp_t p;
    roundtrip("GET /late HTTP/1.1\r\nHost: x\r\n\r\n", &p);
    ck_assert_str_eq(p.body, "ok\n");
    resp_free(&p);
    ht_test__sleep_ms(50);
    ck_assert_int_eq(atomic_load(&g_late_result), HT_E_GONE);
    ck_assert_int_eq(atomic_load(&g_release_result), HT_E_GONE);
    stop();
    ck_assert_int_eq(atomic_load(&g_cancels), 1); /* told once */
}
END_TEST

START_TEST(from_other_threads) {
    start_defer(0, 0);
    enum { N = 40 };
    int fds[N];
    rd_t rs[N];
    for (int i = 0; i < N; i++) {
        fds[i] = client();
        rd_init(&rs[i], fds[i]);
        send_str(fds[i], "GET /thread HTTP/1.1\r\nHost: x\r\n\r\nGET /p/after HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    for (int i = 0; i < N; i++) {
        resp_t p;
        ck_assert(read_resp(&rs[i], &p, false));
        ck_assert_int_eq(p.status, 200);
        ck_assert_str_eq(p.body, "{\"from\":\"thread\"}");
        resp_free(&p);
        ck_assert(read_resp(&rs[i], &p, false));
        ck_assert_str_eq(p.body, "after");
        resp_free(&p);
        rd_free(&rs[i]);
        close(fds[i]);
    }
    stop();
    ck_assert_uint_eq(S.stats.deferred, N);
}
END_TEST

START_TEST(stream_framings) {
    start_defer(0, 0);
    /* HTTP/1.1, unknown length: chunked, one chunk per write */
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "GET /stream?n=4 HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 200);
    ck_assert(!p.has_length);
    ck_assert_ptr_nonnull(strstr(p.head, "\r\nTransfer-Encoding: chunked\r\n"));
    resp_free(&p);
    char body[4096];
    size_t n;
    ck_assert(read_chunked(&r, body, sizeof body, &n));
    ck_assert_uint_eq(n, 32);
    ck_assert(memcmp(body, "piece 0\npiece 1\npiece 2\npiece 3\n", 32) == 0);
    /* the connection is reusable */
    send_str(fd, "GET /p/next HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "next");
    resp_free(&p);
    /* a known length: Content-Length, raw bytes */
    send_str(fd, "GET /stream?n=2&len=16 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert(p.has_length);
    ck_assert_str_eq(p.body, "piece 0\npiece 1\n");
    resp_free(&p);
    /* HEAD: the head only, then the next response */
    send_str(fd, "HEAD /stream?n=2 HTTP/1.1\r\nHost: x\r\n\r\nGET /p/h HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, true));
    ck_assert_int_eq(p.status, 200);
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "h");
    resp_free(&p);
    /* 304: no body either */
    send_str(fd, "GET /stream?n=2&status=304 HTTP/1.1\r\nHost: x\r\n\r\nGET /p/c HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 304);
    ck_assert_ptr_null(strstr(p.head, "Transfer-Encoding"));
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "c");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* a known length not reached: the body is cut short by a close */
    fd = client();
    rd_init(&r, fd);
    send_str(fd, "GET /stream?n=1&len=100 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(!read_resp(&r, &p, false));
    ck_assert_int_eq(r.eof, 1);
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* HTTP/1.0: close-delimited */
    fd = client();
    rd_init(&r, fd);
    send_str(fd, "GET /stream?n=3 HTTP/1.0\r\n\r\n");
    while (rd_fill(&r)) {}
    ck_assert_int_eq(r.eof, 1);
    r.buf[r.len] = 0;
    ck_assert_ptr_nonnull(strstr(r.buf, "\r\nConnection: close\r\n"));
    ck_assert_ptr_null(strstr(r.buf, "chunked"));
    char* b = strstr(r.buf, "\r\n\r\n");
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(b + 4, "piece 0\npiece 1\npiece 2\n");
    rd_free(&r);
    close(fd);
    stop();
}
END_TEST

START_TEST(back_pressure) {
    start_defer(0, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "GET /flood?pieces=160 HTTP/1.1\r\nHost: x\r\n\r\n"); /* 10 MiB */
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    resp_free(&p);
    /* Read slowly at first: the producer must wait, not queue. */
    ht_test__sleep_ms(200);
    uint64_t peak_early = atomic_load(&g_body_bytes);
    static char body[11 << 20];
    size_t n;
    ck_assert(read_chunked(&r, body, sizeof body, &n));
    ck_assert_uint_eq(n, 160u * 65536u);
    for (size_t i = 0; i < n; i += 4099) ck_assert_int_eq(body[i], (char) ('A' + (i / 65536 + i % 65536) % 26));
    /* Two send buffers and two 64 KiB pieces in flight at most (plus the
     * connection's own structures). */
    uint64_t peak = atomic_load(&g_body_bytes);
    ck_assert_msg(peak < 400u * 1024u, "server held %llu bytes for one stream", (unsigned long long) peak);
    ck_assert_uint_le(peak_early, peak);
    rd_free(&r);
    close(fd);
    stop();
}
END_TEST

START_TEST(stalled_reader_dropped) {
    start_defer(0, 300);
    int fd = client();
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    send_str(fd, "GET /flood?pieces=1000 HTTP/1.1\r\nHost: x\r\n\r\n");
    /* Never read: the send timeout drops the connection and the producer
     * is told (its cancel releases the handle). */
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&g_cancels) < 1 && ht_test__mono_ms() - t0 < 5000) ht_test__sleep_ms(10);
    ck_assert_int_eq(atomic_load(&g_cancels), 1);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_CLOSED);
    ck_assert_msg(atomic_load(&g_body_bytes) < 400u * 1024u, "held %llu",
                  (unsigned long long) atomic_load(&g_body_bytes));
    close(fd);
    resp_t p;
    roundtrip("GET /p/ok HTTP/1.1\r\nHost: x\r\n\r\n", &p);
    ck_assert_str_eq(p.body, "ok");
    resp_free(&p);
    stop();
}
END_TEST

START_TEST(server_sent_events) {
    start_defer(0, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "GET /sse?n=2&beat=40 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 7\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_ptr_nonnull(strstr(p.head, "\r\nContent-Type: text/event-stream\r\n"));
    ck_assert_ptr_nonnull(strstr(p.head, "\r\nCache-Control: no-cache\r\n"));
    resp_free(&p);
    static char body[8192];
    size_t n;
    ck_assert(read_chunked(&r, body, sizeof body - 1, &n));
    body[n] = 0;
    const char* want = ": resumed after 7\n\n"
                       "event: start\nid: 1\ndata: tick 1\ndata: line two\n\n"
                       "id: 2\ndata: tick 2\ndata: line two\n\n";
    ck_assert_msg(strncmp(body, want, strlen(want)) == 0, "got: %s", body);
    /* 150 ms after the last event with a 40 ms heartbeat: comments */
    ck_assert_ptr_nonnull(strstr(body + strlen(want), ":\n\n"));
    rd_free(&r);
    close(fd);
    stop();
}
END_TEST

static void upload_expect(const char* req, const char* body, size_t len, int status, const char* want) {
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, req);
    if (len) ht_test__write_all(fd, body, len);
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, status);
    if (want) ck_assert_str_eq(p.body, want);
    resp_free(&p);
    rd_free(&r);
    close(fd);
}

START_TEST(streamed_upload) {
    start_defer(0, 0);
    enum { LEN = 3 << 20 };
    char* data = malloc(LEN);
    uint64_t sum = 0;
    for (size_t i = 0; i < LEN; i++) {
        data[i] = (char) (i * 7 + i / 251);
        sum += (uint8_t) data[i];
    }
    char want[64], req[256];
    snprintf(want, sizeof want, "%u %llu", LEN, (unsigned long long) sum);
    /* Content-Length: 3 MiB, over the 1 MiB max_body a buffered body has */
    snprintf(req, sizeof req, "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n", LEN);
    upload_expect(req, data, LEN, 201, want);
    ck_assert_int_gt(atomic_load(&g_body_calls), 3);
    /* chunked, in uneven chunks */
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "PUT /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0; off < LEN;) {
        size_t k = 1 + (off * 13) % 70000;
        if (k > LEN - off) k = LEN - off;
        char h[32];
        snprintf(h, sizeof h, "%zx\r\n", k);
        send_str(fd, h);
        ht_test__write_all(fd, data + off, k);
        send_str(fd, "\r\n");
        off += k;
    }
    send_str(fd, "0\r\n\r\nGET /p/after HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 201);
    ck_assert_str_eq(p.body, want);
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false)); /* the body was read whole: keep-alive */
    ck_assert_str_eq(p.body, "after");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    free(data);
    stop();
}
END_TEST

START_TEST(upload_continue_and_refusals) {
    start_defer(0, 0);
    /* 100 Continue only once the handler asks for the body */
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 100);
    resp_free(&p);
    send_str(fd, "hello");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 201);
    ck_assert_str_eq(p.body, "5 532");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* refused before the body: no 100, the answer, then a clean close */
    fd = client();
    rd_init(&r, fd);
    send_str(fd, "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nX-Refuse: 1\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 401);
    ck_assert(p.close);
    resp_free(&p);
    expect_eof(&r);
    rd_free(&r);
    close(fd);
    /* Content-Length over the route's limit: 413 before the handler runs */
    int before = atomic_load(&g_handled);
    upload_expect("PUT /up_small HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", nullptr, 0, 413, nullptr);
    ck_assert_int_eq(atomic_load(&g_handled), before);
    /* chunked over the limit: 413, and the handler is told */
    fd = client();
    rd_init(&r, fd);
    send_str(fd, "PUT /up_small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "1f4\r\n");
    char chunk[500];
    memset(chunk, 'x', sizeof chunk);
    ht_test__write_all(fd, chunk, sizeof chunk);
    send_str(fd, "\r\n1f5\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 413);
    ck_assert(p.close);
    resp_free(&p);
    rd_free(&r);
    close(fd);
    ck_assert_int_eq(atomic_load(&g_cancels), 1);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_BODY_TOO_LARGE);
    /* the client leaves mid-upload: told, nothing kept */
    fd = client();
    send_str(fd, "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    ht_test__write_all(fd, chunk, sizeof chunk);
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&g_body_bytes) < sizeof chunk && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(2);
    close(fd);
    t0 = ht_test__mono_ms();
    while (atomic_load(&g_cancels) < 2 && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(2);
    ck_assert_int_eq(atomic_load(&g_cancels), 2);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_CLOSED);
    stop();
}
END_TEST

START_TEST(shutdown_drains) {
    ht_config_t cfg = { .drain_timeout_ms = 300 };
    start_cfg(&cfg);
    /* a deferred response that completes within the drain, and a stream
     * that would go on for ever */
    int a = client(), b = client();
    rd_t ra, rb;
    rd_init(&ra, a);
    rd_init(&rb, b);
    send_str(a, "GET /later?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n");
    send_str(b, "GET /sse?n=1000&beat=0 HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&rb, &p, false));
    resp_free(&p);
    uint64_t t0 = ht_test__mono_ms();
    ht_server__shutdown(&S.server);
    ck_assert(read_resp(&ra, &p, false));
    ck_assert_str_eq(p.body, "later\n");
    resp_free(&p);
    static char body[1 << 16];
    size_t n;
    ck_assert(read_chunked(&rb, body, sizeof body, &n)); /* ended cleanly */
    uint64_t dt = ht_test__mono_ms() - t0;
    ck_assert_uint_ge(dt, 250);
    ck_assert_uint_lt(dt, 3000);
    while (rd_fill(&rb)) {}
    ck_assert_int_eq(rb.eof, 1);
    rd_free(&ra);
    rd_free(&rb);
    close(a);
    close(b);
    stop();
}
END_TEST

START_TEST(upload_paused_and_slow) {
    /* The deadline (200 ms) does not run while the body is read: a client
     * that takes 600 ms still gets its answer. */
    start_defer(200, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "PUT /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 6; i++) {
        send_str(fd, "5\r\nhello\r\n");
        ht_test__sleep_ms(100);
    }
    send_str(fd, "0\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 201);
    ck_assert_str_eq(p.body, "30 3192");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* A consumer that pauses 150 ms per MiB: 3 MiB arrive whole and in
     * order, nothing is delivered while paused. */
    atomic_store(&g_paused_ms, 0);
    atomic_store(&g_early, 0);
    enum { LEN = 3 << 20 };
    char* data = malloc(LEN);
    uint64_t sum = 0;
    for (size_t i = 0; i < LEN; i++) {
        data[i] = (char) (i * 31 + i / 4093);
        sum += (uint8_t) data[i];
    }
    char want[64], req[128];
    snprintf(want, sizeof want, "%u %llu", LEN, (unsigned long long) sum);
    snprintf(req, sizeof req, "PUT /up_pause HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n", LEN);
    upload_expect(req, data, LEN, 201, want);
    free(data);
    ck_assert_uint_ge(atomic_load(&g_paused_ms), 2 * 140);
    ck_assert_int_eq(atomic_load(&g_early), 0);
    stop();
}
END_TEST

START_TEST(head_begun_waits_for_its_body) {
    start_defer(0, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "GET /headlater HTTP/1.1\r\nHost: x\r\n\r\nGET /p/next HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 202);
    ck_assert_ptr_nonnull(strstr(p.head, "\r\nX-Before: defer\r\nX-After: defer\r\nContent-Length: 8\r\n"));
    ck_assert_str_eq(p.body, "accepted");
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "next");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* begun, never completed, the client half-closes: nothing of the head
     * goes out (a response is whole or absent) */
    fd = client();
    rd_init(&r, fd);
    send_str(fd, "GET /headhold HTTP/1.1\r\nHost: x\r\n\r\n");
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&g_handled) < 1 && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(1);
    ht_test__sleep_ms(20);
    shutdown(fd, SHUT_WR);
    while (rd_fill(&r)) {}
    ck_assert_uint_eq(r.len, 0);
    ck_assert_int_eq(r.eof, 1);
    rd_free(&r);
    close(fd);
    t0 = ht_test__mono_ms();
    while (atomic_load(&g_cancels) < 1 && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(2);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_CLOSED);
    resp_t q;
    roundtrip("GET /late HTTP/1.1\r\nHost: x\r\n\r\n", &q);
    resp_free(&q);
    stop();
}
END_TEST

static Suite* suite(void) {
    Suite* s = suite_create("defer");
    TCase* tc = tcase_create("defer");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, nullptr);
    tcase_add_test(tc, deferred_next_turn);
    tcase_add_test(tc, pipelined_in_order);
    tcase_add_test(tc, head_begun_waits_for_its_body);
    tcase_add_test(tc, deadline_then_late);
    tcase_add_test(tc, client_leaves);
    tcase_add_test(tc, from_other_threads);
    tcase_add_test(tc, stream_framings);
    tcase_add_test(tc, back_pressure);
    tcase_add_test(tc, stalled_reader_dropped);
    tcase_add_test(tc, server_sent_events);
    tcase_add_test(tc, streamed_upload);
    tcase_add_test(tc, upload_continue_and_refusals);
    tcase_add_test(tc, upload_paused_and_slow);
    tcase_add_test(tc, shutdown_drains);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_test__run(suite()); }
