/* tests/server/defer_handler.h — the handler that check_defer and
 * check_defer_stream serve (srv_fixture.h runs it), what it records, and
 * their per-test setup, start_defer() and read_chunked(). Its paths: /p/X
 * (X back), /later?ms=N (deferred, "later\n" from an N ms timer, then a
 * second completion refused), /headfirst (status and a header before the
 * defer, completed in the handler), /headlater (the same, the body from a
 * 20 ms timer), /headhold (a head begun, never completed), /hold?timeout=
 * &status= (deferred, never completed: the deadline or the client ends it),
 * /late (the late calls on /hold's handle), /thread (completed from another
 * thread with ht_response__post), /stream?n=&len=&status= (streamed pieces),
 * /sse?n=&beat= (Server-Sent Events), /flood?pieces= (64 KiB pieces under
 * back pressure), /up and /up_small (streamed uploads, answered with their
 * byte count and sum), /up_pause (a consumer that pauses), anything else
 * "plain\n". Header-only, private to tests/server; included once per suite
 * after "server/srv_fixture.h". */
#ifndef HT_TEST_DEFER_HANDLER_H
#define HT_TEST_DEFER_HANDLER_H

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#endif /* HT_TEST_DEFER_HANDLER_H */
