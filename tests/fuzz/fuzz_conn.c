/* fuzz_conn: a whole connection of the real server (ht_server__serve on an
 * ht_loop, epoll or io_uring as built) driven with an arbitrary byte stream,
 * every response parsed back strictly.
 *
 * Set up once: one loop, one acceptor with an echo handler and small limits
 * (so 413/414/431, send-buffer flushes and out-of-line bodies are reached),
 * a 20 ms defer_timeout_ms and a body_policy, listening on an abstract
 * AF_UNIX socket handed to the server with ht_server__adopt (the accept
 * path is the real one). The handler answers now, or defers and answers
 * later, streams, sends SSE, reads streamed request bodies, or never
 * answers, as the request's target decides (see "the handler" below).
 * Per input: a fresh client connection, accepted by the loop; the stream
 * written in up to 5 pieces (4 offsets from the input's first 8 bytes), the
 * loop pumped after each until the server has read it all (SIOCOUTQ == 0)
 * and gone quiet and every deferred response that is going to answer has
 * (sleeping in the loop's poll 1 ms at a time for timers and deadlines), so
 * each piece is its own receive; then SHUT_WR (the client leaves: what is
 * still deferred is cut off), everything read back until EOF, close, and the
 * loop pumped until the server has let the connection go. All in this
 * thread.
 *
 * Invariants (abort on violation):
 *   - responses: "HTTP/1.1 DDD reason" CRLF, token ":" value CRLF fields
 *     (no CTL in a value), CRLF; final responses carry one Date and exactly
 *     one Content-Length (or Transfer-Encoding: chunked, parsed as such, for
 *     streams to HTTP/1.1 only; a stream to HTTP/1.0 of unknown length ends
 *     with the connection), except 204/304; 100 Continue has neither; the
 *     body is all there; a HEAD response has none; nothing follows a
 *     Connection: close response;
 *   - the server's own error responses (no X-Echo-Method) are >= 400 and
 *     close the connection, but for the 503/504 of a deferred response's
 *     deadline, one per deadline that passed, in order;
 *   - echo responses: "METHOD SP TARGET LF BODY" with the method of
 *     X-Echo-Method, a target without SP/CTL, a body of X-Echo-Body bytes
 *     within max_body, whole (Content-Length), chunked or close-delimited
 *     (streams); SSE: one event carrying "METHOD SP TARGET", heartbeats and
 *     comments;
 *   - a handler call may fail only with -ENOBUFS, and only when the head
 *     would not fit in an EMPTY send buffer by the builder's measure
 *     (ht/response.h), deferred or not: behind pipelined responses the same
 *     head must still succeed (regression seed regress-pipelined-500); each
 *     failure is answered by an empty 500, one per failure;
 *   - deferred handles: the calls the header documents return what it says
 *     (HT_E_RESPONSE_STATE on the handler's response after the defer and
 *     on a finished handle, HT_E_GONE on a cut-off one, -EBUSY, -EALREADY,
 *     -EINVAL); the cancel callback runs at most once, only with the
 *     deadline (hang and upload kinds), HT_E_CLOSED after the client left,
 *     or a body error (uploads); a ready callback only after a refused
 *     write; body pieces in order within the limit; each handle released
 *     exactly once (0, or HT_E_GONE once cut off) and all of them by the
 *     end of the input; the acceptor's deferred / cut_off counts agree;
 *   - echoes + empty 500s + deadline answers + handles cut off == requests
 *     the acceptor counted, error responses + deadline answers == errors it
 *     counted (closing errors at most one), no timeouts, and after the
 *     client's EOF the server closes within 5 s and frees the connection
 *     (open == 0) and its socket (as many fds open as before the input):
 *     nothing carries over to the next input.
 *
 * This file is the harness (the config, driving the loop, the client side,
 * one input); the handler is fuzz_conn_handler.c, the response parser
 * fuzz_conn_parse.c, what they share fuzz_conn.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ht/server.h>

#include "fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define HDR 8            /* 4 little-endian 16-bit split offsets */
#define OUT_CAP (4u << 20)
#define DEFER_MS 20u     /* defer_timeout_ms */

const ht_config_t cfg_ = {
    .max_request_line = 1024,
    .max_head = 4096,
    .max_headers = 24,
    .max_body = MAX_BODY,
    .max_trailer = 512,
    /* Nothing may time out within an input: a timeout would be noise. */
    .header_timeout_ms = 60000,
    .body_timeout_ms = 60000,
    .idle_timeout_ms = 60000,
    .send_timeout_ms = 60000,
    .linger_timeout_ms = 60000,
    /* ... but the deadline of a deferred response that never starts: 503
     * within an input (ht/response.h, "Answering later"). */
    .defer_timeout_ms = DEFER_MS,
    .max_keepalive_requests = 12,
    .send_buffer_size = 1024, /* the minimum: bodies go out of line, batches flush */
    .send_buffer_cache = 4,
    .body_policy = policy_, /* some bodies streamed to the handler, some with small limits */
};

ht_alloc_t* alloc_;
ht_loop_t* loop_;
static ht_server_t server_ = { .config = &cfg_ };
static ht_acceptor_t acc_;
static struct sockaddr_un addr_;
static socklen_t addr_len_;
bool verbose_;

/* ---- driving the loop from this thread ---- */

static ht_op_t pump_a_, pump_b_;
static void pump_b_cb(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    (void) op, (void) res;
    ht_loop__stop(loop);
}
static void pump_a_cb(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    (void) op, (void) res;
    ht_loop__defer(loop, &pump_b_, 0, pump_b_cb); /* runs after this iteration's poll */
}
/* Exactly one loop iteration with a non-blocking poll: A runs before the
 * poll and defers B, which runs on the next pass (after the poll) and stops. */
static void pump_(void) {
    ht_loop__defer(loop_, &pump_a_, 0, pump_a_cb);
    if (ht_loop__run(loop_) < 0) FAIL("ht_loop__run failed");
}
/* Runs the loop for about ms, sleeping in its poll: for deferred responses
 * that answer after a timer (a few ms, or the 20 ms deadline). */
static ht_timer_t wait_t_;
static void wait_cb(ht_loop_t* loop, ht_timer_t* t) {
    (void) t;
    ht_loop__stop(loop);
}
static void pump_wait_(uint64_t ms) {
    ht_loop__timer_start(loop_, &wait_t_, ms, wait_cb);
    if (ht_loop__run(loop_) < 0) FAIL("ht_loop__run failed");
    if (ht_loop__timer_active(&wait_t_)) ht_loop__timer_stop(loop_, &wait_t_);
}

static void init_(void) {
    if (loop_) return;
    verbose_ = getenv("HT_CONN_VERBOSE") != nullptr;
    alloc_ = ht_alloc__init();
    ht_loop_options_t lo = { .entries = 64, .buf_size = 4096, .buf_count = 64 };
    if (!alloc_ || ht_loop__init_with(&loop_, alloc_, &lo) < 0) FAIL("loop init");
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) FAIL("socket: %s", strerror(errno));
    memset(&addr_, 0, sizeof addr_);
    addr_.sun_family = AF_UNIX;
    /* Abstract namespace: nothing on disk, gone with the process. */
    int l = snprintf(addr_.sun_path + 1, sizeof addr_.sun_path - 1, "hachettp-fuzz-conn-%d", (int) getpid());
    addr_len_ = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + (size_t) l);
    if (bind(lfd, (struct sockaddr*) &addr_, addr_len_) != 0 || listen(lfd, 16) != 0)
        FAIL("bind/listen: %s", strerror(errno));
    if (ht_server__adopt(&server_, lfd) < 0 || ht_server__port(&server_) != 0) FAIL("adopt");
    if (ht_server__serve(&acc_, &server_, loop_, alloc_, handler_) < 0) FAIL("serve");
}

/* ---- the client side ---- */

static void read_all_(int fd, out_t* o) {
    while (!o->eof) {
        if (o->cap - o->n < 65536) {
            if (o->cap >= OUT_CAP) FAIL("more than %u bytes of responses", OUT_CAP);
            o->cap = o->cap ? o->cap * 2 : 65536;
            o->p = realloc(o->p, o->cap);
            if (!o->p) abort();
        }
        ssize_t r = recv(fd, o->p + o->n, o->cap - o->n, 0);
        if (r > 0) { o->n += (size_t) r; continue; }
        if (r == 0) { o->eof = true; break; }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        if (errno == ECONNRESET) { o->eof = o->reset = true; break; }
        FAIL("client recv: %s", strerror(errno));
    }
}

/* Open descriptors below 128 (the harness and the loop hold a few). */
static int count_fds_(void) {
    int n = 0;
    for (int fd = 0; fd < 128; fd++)
        if (fcntl(fd, F_GETFD) >= 0) n++;
    return n;
}

static int outq_(int fd) {
    int q = 0;
    if (ioctl(fd, SIOCOUTQ, &q) != 0) return 0; /* e.g. after the peer closed */
    return q;
}

static double mono_s_(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Pumps until the server has read everything sent so far and stopped
 * producing output (or stopped reading: lingering, closed, waiting), and
 * no deferred response that is going to answer (a timer, a post, a stream,
 * a deadline) is still pending: each of those gets a few non-blocking
 * turns, then the loop sleeps in its poll 1 ms at a time. Streamed request
 * bodies still being read are not waited for (their bytes may be in the
 * next piece). */
static void settle_(int fd, out_t* o) {
    int idle = 0, quiet = 0, turns = 0;
    double t0 = 0;
    while (!o->eof && quiet < 4096) {
        size_t before = o->n;
        int q0 = outq_(fd);
        bool waiting = pends_(true) > 0;
        if (waiting && turns >= 4) pump_wait_(1);
        else pump_();
        read_all_(fd, o);
        int q1 = outq_(fd);
        if (o->n != before || q1 != q0) idle = 0;
        else idle++;
        if (pends_(true) > 0) {
            idle = 0;
            if (turns++ == 0) t0 = mono_s_();
            else if ((turns & 63) == 0 && mono_s_() - t0 > 5)
                FAIL("a deferred response still pending 5 s on (%d handles)", pends_(true));
            continue;
        }
        turns = 0;
        quiet++;
        if (idle >= (q1 == 0 ? 3 : 16)) return;
    }
}

static void send_piece_(int fd, const uint8_t* p, size_t n, out_t* o) {
    for (int spins = 0; n > 0; spins++) {
        if (spins > 100000) FAIL("server stopped reading for good (%zu bytes left)", n);
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) { p += w, n -= (size_t) w; continue; }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) { pump_(); read_all_(fd, o); continue; }
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) return; /* the server closed: fine */
        FAIL("client send: %s", strerror(errno));
    }
    settle_(fd, o);
}

/* ---- one input ---- */

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    init_();
    if (size < HDR) return 0;
    const uint8_t* stream = data + HDR;
    size_t len = size - HDR;
    size_t cut[6] = { 0 };
    int ncut = 1;
    for (int k = 0; k < 4; k++) {
        size_t c = (size_t) data[2 * k] | (size_t) data[2 * k + 1] << 8;
        if (c > 0 && c < len) cut[ncut++] = c;
    }
    cut[ncut++] = len;
    for (int i = 1; i < ncut; i++) /* sort: insertion */
        for (int j = i; j > 0 && cut[j] < cut[j - 1]; j--) { size_t x = cut[j]; cut[j] = cut[j - 1]; cut[j - 1] = x; }

    ht_acceptor_stats_t s0, s1;
    ht_acceptor__stats(&acc_, &s0);
    uint64_t e0 = enobufs_;
    dtally_t d0 = dt_;
    int fds0 = count_fds_();
    if (s0.open != 0) FAIL("a connection left over from the last input");
    if (pends_(false) != 0 || s0.deferred_now != 0) FAIL("a deferred handle left over from the last input");
    eof_sent_ = false;
    nanswers_ = 0;

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) FAIL("client socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr*) &addr_, addr_len_) != 0) FAIL("connect: %s", strerror(errno));
    for (int i = 0; i < 1000; i++) {
        pump_();
        ht_acceptor__stats(&acc_, &s1);
        if (s1.accepted > s0.accepted) break;
    }
    if (s1.accepted != s0.accepted + 1) FAIL("connection not accepted");

    out_t o = { 0 };
    for (int i = 0; i + 1 < ncut; i++)
        if (cut[i + 1] > cut[i]) send_piece_(fd, stream + cut[i], cut[i + 1] - cut[i], &o);
    /* The client leaves: deferred responses still pending are cut off. */
    eof_sent_ = true;
    if (shutdown(fd, SHUT_WR) != 0 && errno != ENOTCONN) FAIL("shutdown: %s", strerror(errno));

    double t0 = mono_s_();
    for (uint32_t i = 0; !o.eof; i++) {
        pump_();
        read_all_(fd, &o);
        if ((i & 255) == 255 && mono_s_() - t0 > 5)
            FAIL("no EOF from the server 5 s after the client's (%zu bytes read)", o.n);
    }
    close(fd);
    for (int i = 0; i < 10000; i++) {
        ht_acceptor__stats(&acc_, &s1);
        if (s1.open == 0) break;
        pump_();
    }
    if (s1.open != 0) FAIL("the server still holds the connection after the client closed");
    if (count_fds_() != fds0) FAIL("%d descriptors open, %d before the input", count_fds_(), fds0);
    /* Late completions run a turn after their cut; then every handle is back. */
    for (int i = 0; i < 100 && pends_(false) > 0; i++) pump_();
    if (pends_(false) != 0) FAIL("%d deferred handles never released (no cancel callback?)", pends_(false));
    ht_acceptor__stats(&acc_, &s1);

    if (verbose_) fprintf(stderr, "fuzz_conn: %d pieces, %zu bytes in, %zu out%s:\n%.*s\n", ncut - 1, len, o.n,
                          o.reset ? " (reset)" : "", (int) o.n, o.p ? o.p : "");
    dtally_t dd = { dt_.defers - d0.defers,         dt_.releases - d0.releases,     dt_.cut_503 - d0.cut_503,
                    dt_.cut_504 - d0.cut_504,       dt_.cut_closed - d0.cut_closed, dt_.cut_body - d0.cut_body,
                    dt_.cut_streams - d0.cut_streams };
    tally_t t = { 0 };
    parse_responses_(o.p, o.n, dd.cut_streams, &t);
    if (t.cut_streams > dd.cut_streams) FAIL("%llu streams end short, %llu were cut off",
                                             (unsigned long long) t.cut_streams, (unsigned long long) dd.cut_streams);
    uint64_t cuts = dd.cut_503 + dd.cut_504 + dd.cut_closed + dd.cut_body;
    if (verbose_)
        fprintf(stderr, "fuzz_conn: %llu echoes (%llu streamed, %llu SSE), %llu empty 500s, %llu+%llu deadline "
                        "answers, %llu errors; %llu deferred, %llu cut off (%llu closed, %llu body)\n",
                (unsigned long long) t.echoes, (unsigned long long) t.streams, (unsigned long long) t.sses,
                (unsigned long long) t.fallbacks, (unsigned long long) t.deadline_503,
                (unsigned long long) t.deadline_504, (unsigned long long) t.errors, (unsigned long long) dd.defers,
                (unsigned long long) cuts, (unsigned long long) dd.cut_closed, (unsigned long long) dd.cut_body);
    if (dd.defers != dd.releases) FAIL("%llu handles deferred, %llu released", (unsigned long long) dd.defers,
                                       (unsigned long long) dd.releases);
    if (dd.defers != s1.deferred - s0.deferred || cuts != s1.cut_off - s0.cut_off || s1.deferred_now != 0)
        FAIL("the acceptor counted %llu deferred, %llu cut off (%u now); the handler %llu and %llu",
             (unsigned long long) (s1.deferred - s0.deferred), (unsigned long long) (s1.cut_off - s0.cut_off),
             s1.deferred_now, (unsigned long long) dd.defers, (unsigned long long) cuts);
    if (t.fallbacks != enobufs_ - e0)
        FAIL("%llu empty 500s, the handler ran out of room %llu times", (unsigned long long) t.fallbacks,
             (unsigned long long) (enobufs_ - e0));
    if (t.deadline_503 != dd.cut_503 || t.deadline_504 != dd.cut_504)
        FAIL("%llu 503 and %llu 504 responses, %llu and %llu deadlines passed", (unsigned long long) t.deadline_503,
             (unsigned long long) t.deadline_504, (unsigned long long) dd.cut_503, (unsigned long long) dd.cut_504);
    /* Every request the server handled: an echo, an empty 500, a deadline's
     * answer, a body that failed (its error response), or cut off by the
     * client leaving (no answer). */
    uint64_t answered = t.echoes + t.fallbacks + t.deadline_503 + t.deadline_504 + dd.cut_closed + dd.cut_body;
    /* A stream cut off by the client's leaving whose bytes happened to be
     * all out (a HEAD, or the last piece written) reads as a whole echo. */
    uint64_t whole_cut = dd.cut_streams - t.cut_streams;
    if (answered < s1.requests - s0.requests || answered > s1.requests - s0.requests + whole_cut)
        FAIL("%llu requests accounted for (%llu echoes, %llu empty 500s, %llu deadlines, %llu cut off), the server "
             "handled %llu", (unsigned long long) answered, (unsigned long long) t.echoes,
             (unsigned long long) t.fallbacks, (unsigned long long) (t.deadline_503 + t.deadline_504),
             (unsigned long long) (dd.cut_closed + dd.cut_body), (unsigned long long) (s1.requests - s0.requests));
    if (dd.cut_body > t.errors)
        FAIL("%llu streamed bodies failed, %llu error responses", (unsigned long long) dd.cut_body,
             (unsigned long long) t.errors);
    if (t.errors + t.deadline_503 + t.deadline_504 != s1.errors - s0.errors || t.errors > 1)
        FAIL("%llu error responses (+ %llu deadline answers), the server counted %llu", (unsigned long long) t.errors,
             (unsigned long long) (t.deadline_503 + t.deadline_504), (unsigned long long) (s1.errors - s0.errors));
    if (s1.timeouts != s0.timeouts) FAIL("a timeout during an input");
    free(o.p);
    return 0;
}
