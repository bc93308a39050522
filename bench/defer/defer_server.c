/* defer_server: the server side of the deferred-response benchmarks
 * (BENCHMARKS.md, "Deferred responses and streams"; bench/defer/run.sh).
 * One loop, one acceptor, on 127.0.0.1, the shape of examples/hello/main.c:
 *
 *   GET /            hello, answered in the handler (the synchronous path)
 *   GET /next        the same hello, deferred to the next loop turn: a 0 ms
 *                    timer whose callback completes and releases the handle
 *   GET /slow?ms=N   the same hello, deferred N ms
 *   GET /sse         Server-Sent Events: one event per second,
 *                    ht_response__sse_begin(d, 15000) heartbeats
 *   POST|PUT /upload a streamed request body (body_policy), counted piece
 *                    by piece; 201 with the byte count
 *   GET /stats       the acceptor's counters and, with -c, the allocator's
 *                    live and peak bytes (JSON)
 *
 *   defer_server [-c] [PORT]     PORT 0 or none: the kernel picks
 *
 * Prints "port N" once listening; SIGINT/SIGTERM stop it
 * (ht_signal__install_default: in-flight responses finish, streams get the
 * drain time). -c counts the allocator's bytes (ht_alloc__counting_init)
 * for /stats; leave it off when counting instructions. */
#include <ht/ht.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char HELLO[] = "hello from hachettp\n";

/* Per deferred request: the handle and its timer (or its byte count), from
 * a freelist so that a deferred request allocates nothing of ours after the
 * first few. One loop thread: no locking. */
typedef struct job {
    ht_response_t* res;
    ht_timer_t     t;
    uint64_t       bytes; /* /upload: body bytes so far; /sse: events sent */
    struct job*    next;
} job_t;

static ht_alloc_t*         g_a;     /* the loop's allocator (ht_alloc__init, maybe counted) */
static ht_alloc_counting_t g_count; /* with -c */
static bool                g_counting;
static ht_acceptor_t       g_acc;
static job_t*              g_free;

static job_t* job_new(ht_response_t* res) {
    job_t* j = g_free;
    if (j) g_free = j->next;
    else if ((j = ht_alloc__alloc(g_a, sizeof *j)) == nullptr) return nullptr;
    memset(j, 0, sizeof *j);
    j->res = res;
    j->t.data = j;
    return j;
}
static void job_free(job_t* j) {
    j->next = g_free;
    g_free = j;
}

static uint64_t query_u64(const ht_request_t* req, const char* key, uint64_t dflt) {
    ht_slice_t q = ht_request__query(req);
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl < q.len; i++) {
        if ((i == 0 || q.ptr[i - 1] == '&') && memcmp(q.ptr + i, key, kl) == 0 && q.ptr[i + kl] == '=') {
            uint64_t v = 0;
            for (size_t k = i + kl + 1; k < q.len && q.ptr[k] >= '0' && q.ptr[k] <= '9'; k++)
                v = v * 10 + (uint64_t) (q.ptr[k] - '0');
            return v;
        }
    }
    return dflt;
}

/* /next and /slow: the timer fired; answer and give the handle back. A
 * handle cut off meanwhile (deadline, client gone) just goes back. */
static void on_later(ht_loop_t* loop, ht_timer_t* t) {
    (void) loop;
    job_t* j = t->data;
    (void) ht_response__text(j->res, 200, HELLO, g_a);
    (void) ht_response__release(j->res);
    job_free(j);
}

/* /sse: one event per second until the client leaves or shutdown's drain. */
static void on_tick(ht_loop_t* loop, ht_timer_t* t) {
    job_t* j = t->data;
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long) ++j->bytes);
    (void) ht_response__sse_event(j->res, nullptr, id, HT_SLICE("tick")); /* -EAGAIN: skip one */
    ht_loop__timer_start(loop, &j->t, 1000, on_tick);
}

/* A stream or an upload cut off: stop, give the handle back. */
static void on_cancel(ht_response_t* res, ht_result_t why, void* ud) {
    (void) why;
    job_t* j = ud;
    ht_loop__timer_stop(ht_response__loop(res), &j->t);
    (void) ht_response__release(res);
    job_free(j);
}

/* /upload: count every piece; the last one answers. */
static void on_piece(ht_response_t* res, ht_slice_t piece, bool last, void* ud) {
    job_t* j = ud;
    j->bytes += piece.len;
    if (!last) return;
    char body[32];
    snprintf(body, sizeof body, "%llu\n", (unsigned long long) j->bytes);
    (void) ht_response__text(res, 201, body, g_a);
    (void) ht_response__release(res);
    job_free(j);
}

/* Streams /upload's body (no limit worth the name), buffers the rest. */
static ht_body_policy_t policy(const ht_config_t* cfg, const ht_request_t* req) {
    (void) cfg;
    if (ht_slice__eq(ht_request__path(req), HT_SLICE("/upload")))
        return (ht_body_policy_t){ .limit = UINT64_C(1) << 40, .stream = true };
    return (ht_body_policy_t){ 0 };
}

static void stats(ht_response_t* res, ht_alloc_t* a) {
    ht_acceptor_stats_t s;
    ht_acceptor__stats(&g_acc, &s);
    char body[512];
    snprintf(body, sizeof body,
             "{\"accepted\":%llu,\"requests\":%llu,\"open\":%u,\"conn_structs\":%u,"
             "\"deferred\":%llu,\"deferred_now\":%u,\"cut_off\":%llu,\"starved\":%llu,"
             "\"live_bytes\":%lld,\"peak_bytes\":%lld}\n",
             (unsigned long long) s.accepted, (unsigned long long) s.requests, s.open, s.conn_structs,
             (unsigned long long) s.deferred, s.deferred_now, (unsigned long long) s.cut_off,
             (unsigned long long) s.starved, g_counting ? (long long) g_count.live_bytes : -1LL,
             g_counting ? (long long) g_count.peak_bytes : -1LL);
    ht_response__json(res, 200, body, a);
}

static void on_request(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res,
                       ht_alloc_t* a) {
    (void) cfg;
    ht_slice_t path = ht_request__path(req);
    if (path.len == 1) { /* "/" */
        ht_response__text(res, 200, HELLO, a);
        return;
    }
    bool next = ht_slice__eq(path, HT_SLICE("/next"));
    if (next || ht_slice__eq(path, HT_SLICE("/slow"))) {
        ht_response_t* d = ht_response__defer(res);
        job_t* j = d ? job_new(d) : nullptr;
        if (j == nullptr) {
            if (d) ht_response__release(d); /* an empty 500 */
            else ht_response__error(res, 503, a);
            return;
        }
        ht_loop__timer_start(ht_response__loop(d), &j->t, next ? 0 : query_u64(req, "ms", 0), on_later);
    } else if (ht_slice__eq(path, HT_SLICE("/sse"))) {
        ht_response_t* d = ht_response__defer(res);
        job_t* j = d ? job_new(d) : nullptr;
        if (j == nullptr || ht_response__sse_begin(d, 15000) != 0) {
            if (j) job_free(j);
            if (d) ht_response__release(d);
            else ht_response__error(res, 503, a);
            return;
        }
        ht_response__on_cancel(d, on_cancel, j);
        ht_loop__timer_start(ht_response__loop(d), &j->t, 1000, on_tick);
    } else if (ht_slice__eq(path, HT_SLICE("/upload"))) {
        if (!ht_request__body_pending(req)) { /* no body, or an empty one */
            ht_response__text(res, 201, "0\n", a);
            return;
        }
        ht_response_t* d = ht_response__defer(res);
        job_t* j = d ? job_new(d) : nullptr;
        if (j == nullptr) {
            if (d) ht_response__release(d);
            else ht_response__error(res, 503, a);
            return;
        }
        ht_response__on_cancel(d, on_cancel, j);
        if (ht_response__read_body(d, on_piece, j) != 0) {
            ht_response__on_cancel(d, nullptr, nullptr);
            ht_response__error(d, 500, a);
            ht_response__release(d);
            job_free(j);
        }
    } else if (ht_slice__eq(path, HT_SLICE("/stats"))) {
        stats(res, a);
    } else {
        ht_response__error(res, 404, a);
    }
}

int main(int argc, char** argv) {
    int ai = 1;
    if (ai < argc && strcmp(argv[ai], "-c") == 0) {
        g_counting = true;
        ai++;
    }
    long port = ai < argc ? strtol(argv[ai], nullptr, 10) : 0;
    if (port < 0 || port > 65535) {
        fprintf(stderr, "usage: defer_server [-c] [PORT]\n");
        return 2;
    }
    ht_config_t cfg = { .body_policy = policy };
    ht_server_t server = { .config = &cfg };
    if (ht_server__listen(&server, "127.0.0.1", (uint16_t) port, 4096) != 0) {
        fprintf(stderr, "defer_server: cannot listen on 127.0.0.1:%ld\n", port);
        return 1;
    }
    ht_alloc_t* a = ht_alloc__init();
    g_a = a;
    if (g_counting) {
        ht_alloc__counting_init(&g_count, a);
        g_a = &g_count.base;
    }
    ht_loop_t* loop = nullptr;
    if (ht_loop__init(&loop, g_a) != 0) return 1;
    ht_signal__install_default(&server);
    if (ht_server__serve(&g_acc, &server, loop, g_a, on_request) != 0) return 1;
    printf("port %u\n", (unsigned) ht_server__port(&server));
    fflush(stdout);
    ht_loop__run(loop);
    ht_server__serve_finalize(&g_acc);
    while (g_free) {
        job_t* j = g_free;
        g_free = j->next;
        ht_alloc__free(g_a, j, sizeof *j);
    }
    ht_loop__free(loop, g_a);
    ht_server__close(&server);
    ht_alloc__finalize(a);
    return 0;
}
