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
 *     nothing carries over to the next input. */
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

#define FAIL(...) do { fprintf(stderr, "fuzz_conn: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define HDR 8            /* 4 little-endian 16-bit split offsets */
#define MAX_BODY 8192u
#define OUT_CAP (4u << 20)
#define DEFER_MS 20u     /* defer_timeout_ms */

static ht_body_policy_t policy_(const ht_config_t* cfg, const ht_request_t* req);

static const ht_config_t cfg_ = {
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

static ht_alloc_t* alloc_;
static ht_loop_t* loop_;
static ht_server_t server_ = { .config = &cfg_ };
static ht_acceptor_t acc_;
static struct sockaddr_un addr_;
static socklen_t addr_len_;
static bool verbose_;

/* ---- the handler: echo, now or later ----
 *
 * What the handler does with a request is a function of its target (FNV-1a
 * of the bytes; a target starting "/_" + a letter a..p picks the kind
 * itself, the hash the variant bits), so an input always does the same
 * thing: kind = the hash's low 4 bits, variant = the rest. Every kind
 * answers the same echo (or an SSE event carrying its first line), now or
 * later, or is cut off; the parser at the end checks each response and the
 * counts below say how many of each to expect.
 *
 *   a-d sync     the echo, in the handler
 *   e   next     deferred, completed by a 0 ms timer
 *   f   delay    deferred, completed after 1-4 ms (v>>1); v&1: not waited
 *                for (the client may leave first: cut off, HT_E_CLOSED)
 *   g   inline   deferred and completed inside the handler; v&8: status and
 *                headers before the defer (they move to the handle; e, f, h,
 *                k too: finding 5, fixed)
 *   h   post     ht_response__post from this thread (v&1: from a timer);
 *                a second post is -EBUSY
 *   i-j hang     deferred, never completed: the deadline answers (v>>1: the
 *                config's 20 ms, 1 ms, 2 ms with 504, 3 ms set before the
 *                defer); v&1: not waited for. A turn after the cut, the late
 *                calls: every one HT_E_GONE, release too
 *   k   twice    completed on a 0 ms timer, then again: HT_E_RESPONSE_STATE
 *   l-m stream   ht_response__stream: v&2 known length (then one byte more is
 *                -EINVAL), 1-4 pieces (v>>2), v&16 one piece per timer tick
 *                (v&32: 1 ms), v&64 the head from the handler; -EAGAIN waits
 *                for the ready callback
 *   n   sse      sse_begin (v&2: 1 ms heartbeats), one event, v&4 a comment,
 *                the end after 0-3 ms (v>>3); l-n, v&1: not waited for (the
 *                client may leave mid-stream: the response ends short)
 *   o-p upload   the body_policy streams the body (v>>1: max_body, 64, 1000
 *                bytes, or buffered with a 100-byte limit); (v>>8)&3 == 0:
 *                answered at once unread (closes); (v>>10)&3 == 0: deferred,
 *                never read, answered a turn later (closes); else read_body
 *                (v&32: from a timer; twice: -EALREADY), each piece appended
 *                to the echo, answered at the last one (v&1: a turn later;
 *                v&64: as a stream); v&0x1000: paused (ht_response__pause_body)
 *                after each piece, resumed by a timer (v&0x2000: 1 ms)
 *
 * v&128: a cut-off handle is released a turn later (late calls first), not
 * in its cancel callback. Every handle is released exactly once; a cancel
 * callback stops its timer. */

static char echo_[1024 + 1 + MAX_BODY + 64];
static uint64_t enobufs_;
static bool eof_sent_; /* the client has shut its write side (this input) */

enum { K_SYNC, K_NEXT, K_DELAY, K_INLINE, K_POST, K_HANG, K_TWICE, K_STREAM, K_SSE, K_UPLOAD };
static const uint8_t kinds_[16] = { K_SYNC, K_SYNC,  K_SYNC,   K_SYNC,   K_NEXT,   K_DELAY, K_INLINE, K_POST,
                                    K_HANG, K_HANG,  K_TWICE,  K_STREAM, K_STREAM, K_SSE,   K_UPLOAD, K_UPLOAD };
static const char* const kind_names_[] = { "sync", "next", "delay", "inline", "post", "hang", "twice", "stream",
                                           "sse", "upload" };

static uint32_t sel_of_(ht_slice_t t) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < t.len; i++) h = (h ^ (uint8_t) t.ptr[i]) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    if (t.len >= 3 && t.ptr[0] == '/' && t.ptr[1] == '_' && t.ptr[2] >= 'a' && t.ptr[2] <= 'p')
        h = (h & ~15u) | (uint32_t) (t.ptr[2] - 'a');
    return h;
}

/* Deferred events, cumulative (each input compares before/after). */
typedef struct dtally {
    uint64_t defers, releases, cut_503, cut_504, cut_closed, cut_body;
    uint64_t cut_streams; /* of cut_closed: streams that had begun */
} dtally_t;
static dtally_t dt_;

/* The server's answers in place of cut-off handles, in request order (one
 * handle at a time per connection): a deadline's 503/504 (status), or the
 * error of a streamed body that failed (status 0). A HEAD request's answer
 * has no body, and only the handle knew the method. */
typedef struct answer {
    uint16_t status;
    bool     head_only;
} answer_t;
static answer_t answers_[64];
static int nanswers_;

/* A deferred handle and what it will answer. */
typedef struct pend {
    ht_response_t* res;
    ht_timer_t     t;
    char*          buf;     /* METHOD SP TARGET LF BODY, heap, exactly cap bytes */
    size_t         n, cap;
    size_t         mlen;    /* method */
    size_t         line;    /* METHOD SP TARGET LF */
    size_t         sent;    /* stream: body bytes written */
    uint32_t       var;
    uint16_t       tstatus; /* K_HANG: the deadline's status */
    uint8_t        kind;
    uint8_t        pieces;
    bool in_use, awaited, reading, asked, paused, posted, cut, head_first, head_only, http10, want_ready, streaming;
} pend_t;
#define PEND_MAX 32
static pend_t pend_[PEND_MAX];

static int pends_(bool awaited_only) {
    int n = 0;
    for (int i = 0; i < PEND_MAX; i++) {
        const pend_t* p = &pend_[i];
        if (p->in_use && (!awaited_only || (p->awaited && !p->reading && !p->cut))) n++;
    }
    return n;
}

static void pend_free_(pend_t* p) {
    if (ht_loop__timer_active(&p->t)) FAIL("a handle released with its timer armed");
    free(p->buf);
    memset(p, 0, sizeof *p);
}

/* The builder's measure of a head (ht/response.h): status line 17, each
 * field name + value + 4, 101 for the fields the server adds and the blank
 * line; a stream's framing field (Content-Length or Transfer-Encoding:
 * chunked) is added as a field of its own before those 101. */
static size_t digits_(uint64_t v) {
    size_t k = 1;
    while (v >= 10) v /= 10, k++;
    return k;
}
/* framing < 0: no stream; else X-Echo-Stream and that many framing bytes. */
static size_t echo_head_size_(size_t mlen, size_t blen, int framing) {
    return 17 + (13 + mlen + 4) + (11 + digits_(blen) + 4) + (framing >= 0 ? 13 + 3 + 4 + (size_t) framing : 0) + 101;
}

/* -ENOBUFS is the answer only for heads an empty send buffer cannot hold
 * (counted: each is one empty 500); anything else fails the input. */
static void check_build_(ht_result_t r, size_t head, const char* what) {
    if (r == -ENOBUFS && head <= cfg_.send_buffer_size)
        FAIL("%s: a %zu-byte head failed with -ENOBUFS though an empty %u-byte send buffer holds it "
             "(pipelining or deferral changed a response)", what, head, cfg_.send_buffer_size);
    if (r == -ENOBUFS) enobufs_++;
    else if (r != 0) FAIL("%s: echo response could not be built: %d", what, r);
}

/* Status, X-Echo-Method, X-Echo-Body (+ X-Echo-Stream: the request's version). */
static ht_result_t echo_head_(ht_response_t* res, ht_slice_t m, size_t blen, const char* stream) {
    char bl[24];
    snprintf(bl, sizeof bl, "%zu", blen);
    ht_result_t r = ht_response__status(res, 200);
    if (r == 0) r = ht_response__header(res, HT_SLICE("X-Echo-Method"), m);
    if (r == 0) r = ht_response__header_cstr(res, "X-Echo-Body", bl);
    if (r == 0 && stream) r = ht_response__header_cstr(res, "X-Echo-Stream", stream);
    return r;
}

static size_t echo_fill_(char* dst, ht_slice_t m, ht_slice_t t, ht_slice_t b) {
    size_t n = 0;
    memcpy(dst + n, m.ptr, m.len), n += m.len;
    dst[n++] = ' ';
    memcpy(dst + n, t.ptr, t.len), n += t.len;
    dst[n++] = '\n';
    if (b.len) memcpy(dst + n, b.ptr, b.len), n += b.len;
    return n;
}

/* The echo, now, on the handler's response. */
static void echo_now_(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    ht_slice_t m = ht_request__method_slice(req), t = ht_request__target(req), b = ht_request__body(req);
    if (m.len + t.len + b.len + 2 > sizeof echo_) FAIL("request larger than the limits allow");
    size_t n = echo_fill_(echo_, m, t, b);
    ht_result_t r = echo_head_(res, m, b.len, nullptr);
    if (r == 0) r = ht_response__body(res, echo_, n, a);
    /* A head that does not fit in an empty send buffer: the server answers
     * an empty 500 instead (ht/response.h). Anything that fits an empty
     * buffer must not fail, whatever earlier pipelined responses hold. */
    if (cfg->send_buffer_size != cfg_.send_buffer_size) FAIL("the resolved config's send buffer");
    check_build_(r, echo_head_size_(m.len, b.len, -1), "sync");
}

static void release_(pend_t* p, ht_result_t want) {
    ht_result_t r = ht_response__release(p->res);
    if (r != want) FAIL("%s: release returned %d, expected %d", kind_names_[p->kind], r, want);
    dt_.releases++;
    pend_free_(p);
}

/* Calls on a finished (DONE or FAILED) handle before its release. */
static void after_done_(pend_t* p) {
    ht_response_t* d = p->res;
    ht_result_t r;
    if ((r = ht_response__text(d, 200, "again\n", alloc_)) != HT_E_RESPONSE_STATE)
        FAIL("completing twice returned %d", r);
    if ((r = ht_response__body(d, "x", 1, alloc_)) != HT_E_RESPONSE_STATE) FAIL("a second body returned %d", r);
    if ((r = ht_response__write(d, "x", 1)) != HT_E_RESPONSE_STATE) FAIL("a write after the body returned %d", r);
    if ((r = ht_response__stream(d, 1)) != HT_E_RESPONSE_STATE) FAIL("a stream after the body returned %d", r);
    if ((r = ht_response__timeout(d, 5, 0)) != HT_E_RESPONSE_STATE) FAIL("a timeout after the body returned %d", r);
    if (ht_response__defer(d) != nullptr) FAIL("a finished handle deferred again");
    if (ht_response__gone(d)) FAIL("a finished handle says it was cut off");
}

/* The echo on the handle, then its release. */
static void complete_(pend_t* p) {
    ht_response_t* d = p->res;
    ht_slice_t m = { p->buf, p->mlen };
    size_t blen = p->n - p->line;
    ht_result_t r = 0;
    if (!p->head_first) r = echo_head_(d, m, blen, nullptr);
    if (r == 0) r = ht_response__body(d, p->buf, p->n, alloc_);
    check_build_(r, echo_head_size_(p->mlen, blen, -1), kind_names_[p->kind]);
    if (p->kind == K_TWICE) after_done_(p);
    release_(p, 0);
}

static void on_timer_(ht_loop_t* loop, ht_timer_t* t);

/* Streams: the echo in `pieces` writes, at once (up to a refusal) or one
 * per timer tick; the ready callback resumes a refused writer. */
static bool stream_begin_(pend_t* p) {
    ht_response_t* d = p->res;
    ht_slice_t m = { p->buf, p->mlen };
    ht_result_t r;
    size_t framing;
    if (p->kind == K_SSE) {
        /* status, X-Echo-Sse, X-Echo-Stream, then sse_begin's Content-Type and
         * Cache-Control and the chunked framing (none for HTTP/1.0) */
        r = ht_response__status(d, 200);
        if (r == 0) r = ht_response__header(d, HT_SLICE("X-Echo-Sse"), m);
        if (r == 0) r = ht_response__header_cstr(d, "X-Echo-Stream", p->http10 ? "1.0" : "1.1");
        if (r == 0) r = ht_response__sse_begin(d, (p->var & 2) ? 1 : 0);
        check_build_(r, 17 + (10 + p->mlen + 4) + 20 + 33 + 25 + (p->http10 ? 0 : 28) + 101, "sse");
    } else {
        bool known = p->var & 2;
        /* Content-Length (HEAD too), Transfer-Encoding: chunked to 1.1, none to 1.0 */
        framing = known ? 16 + digits_(p->n) + 2 : p->http10 ? 0 : 28;
        r = echo_head_(d, m, p->n - p->line, p->http10 ? "1.0" : "1.1");
        if (r == 0) r = ht_response__stream(d, known ? p->n : HT_LENGTH_UNKNOWN);
        check_build_(r, echo_head_size_(p->mlen, p->n - p->line, (int) framing), "stream");
    }
    if (r != 0) { /* the server answers an empty 500 */
        release_(p, 0);
        return false;
    }
    p->streaming = true;
    return true;
}

static void on_ready_(ht_response_t* res, ht_result_t why, void* ud);

static void stream_more_(pend_t* p) {
    ht_response_t* d = p->res;
    bool paced = p->var & 16;
    if (p->kind == K_SSE) {
        if (p->sent == 0) {
            ht_result_t r = ht_response__sse_event(d, "echo", "1", (ht_slice_t){ p->buf, p->line - 1 });
            if (r == -EAGAIN) { p->want_ready = true; return; }
            if (r != 0) FAIL("sse_event: %d", r);
            p->sent = 1;
            if (p->var & 4) { /* refused (-EAGAIN): dropped, the ready callback ignored */
                r = ht_response__sse_comment(d, "c");
                if (r == -EAGAIN) p->want_ready = true;
                else if (r != 0) FAIL("sse_comment: %d", r);
            }
            /* some time for heartbeats, then the end */
            ht_loop__timer_start(loop_, &p->t, (p->var >> 3) & 3, on_timer_);
            return;
        }
        release_(p, 0);
        return;
    }
    while (p->sent < p->n) {
        size_t per = (p->n + p->pieces - 1) / p->pieces, k = p->n - p->sent < per ? p->n - p->sent : per;
        ht_result_t r = ht_response__write(d, p->buf + p->sent, k);
        if (r == -EAGAIN) { p->want_ready = true; return; }
        if (r != 0) FAIL("write of %zu bytes at %zu of %zu: %d", k, p->sent, p->n, r);
        p->sent += k;
        if (paced && p->sent < p->n) {
            ht_loop__timer_start(loop_, &p->t, (p->var & 32) ? 1 : 0, on_timer_);
            return;
        }
    }
    if ((p->var & 2) && !p->head_only) { /* a known length: one byte more is refused */
        ht_result_t r = ht_response__write(d, "x", 1);
        if (r != -EINVAL) FAIL("a write past the length returned %d", r);
    }
    release_(p, 0);
}

static void on_ready_(ht_response_t* res, ht_result_t why, void* ud) {
    pend_t* p = ud;
    if (p->res != res || why != 0) FAIL("ready callback for the wrong handle, or with %d", why);
    if (!p->want_ready) {
        /* A heartbeat the queue refused (on_beat's own write) asks for it
         * too; otherwise only a refused write of ours. */
        if (p->kind == K_SSE && (p->var & 2)) return;
        FAIL("ready callback without a refused write");
    }
    p->want_ready = false;
    if (p->kind == K_SSE && p->sent) return; /* the refused comment: dropped */
    stream_more_(p);
}

/* A streamed request body: appended to the echo. */
static void on_piece_(ht_response_t* res, ht_slice_t piece, bool last, void* ud) {
    pend_t* p = ud;
    if (p->res != res) FAIL("body piece for the wrong handle");
    if (!p->reading || !p->asked) FAIL("a body piece after the last one, or before read_body");
    if (p->paused) FAIL("a body piece while paused");
    if (piece.len > p->cap - p->n) FAIL("a streamed body beyond its limit (%zu + %zu)", p->n, piece.len);
    if (piece.len) memcpy(p->buf + p->n, piece.ptr, piece.len);
    p->n += piece.len;
    ht_result_t r;
    if (!last) {
        if (p->var & 0x1000) { /* a consumer that needs a moment: paused until a timer */
            if ((r = ht_response__pause_body(res, true)) != 0) FAIL("pause_body: %d", r);
            p->paused = true;
            ht_loop__timer_start(loop_, &p->t, (p->var & 0x2000) ? 1 : 0, on_timer_);
        }
        return;
    }
    p->reading = false;
    if ((r = ht_response__pause_body(res, true)) != -ENODATA) FAIL("pause_body after the last piece: %d", r);
    if (p->var & 1) { /* answered a turn later */
        ht_loop__timer_start(loop_, &p->t, 0, on_timer_);
        return;
    }
    if (p->var & 64) {
        if (stream_begin_(p)) stream_more_(p);
    } else {
        complete_(p);
    }
}

static void on_post_(ht_response_t* res, ht_result_t why, void* ud) {
    pend_t* p = ud;
    if (p->res != res || !p->posted) FAIL("post callback for the wrong handle");
    p->posted = false;
    if (why == HT_E_GONE) {
        if (!p->cut) FAIL("post says gone, no cancel callback ran");
        release_(p, HT_E_GONE);
        return;
    }
    if (why != 0 || p->cut) FAIL("post callback with %d (cut: %d)", why, p->cut);
    complete_(p);
}

static void read_body_(pend_t* p) {
    p->asked = true;
    ht_result_t r = ht_response__read_body(p->res, on_piece_, p);
    if (r != 0) FAIL("read_body: %d", r);
    if ((r = ht_response__read_body(p->res, on_piece_, p)) != -EALREADY) FAIL("read_body twice: %d", r);
}

/* After the cut: every call is refused; a turn later, the late completion. */
static void late_(pend_t* p) {
    ht_response_t* d = p->res;
    ht_result_t r;
    if (!ht_response__gone(d)) FAIL("cut off but not gone");
    if ((r = ht_response__text(d, 200, "too late\n", alloc_)) != HT_E_GONE) FAIL("late text: %d", r);
    if ((r = ht_response__write(d, "x", 1)) != HT_E_GONE) FAIL("late write: %d", r);
    if ((r = ht_response__stream(d, HT_LENGTH_UNKNOWN)) != HT_E_GONE) FAIL("late stream: %d", r);
    if ((r = ht_response__sse_event(d, nullptr, nullptr, HT_SLICE("x"))) != HT_E_GONE) FAIL("late event: %d", r);
    if ((r = ht_response__read_body(d, on_piece_, p)) != HT_E_GONE) FAIL("late read_body: %d", r);
    if ((r = ht_response__pause_body(d, false)) != HT_E_GONE) FAIL("late pause_body: %d", r);
}

static void on_timer_(ht_loop_t* loop, ht_timer_t* t) {
    (void) loop;
    pend_t* p = t->data;
    if (p->cut) { /* the late completion */
        late_(p);
        release_(p, HT_E_GONE);
        return;
    }
    if (p->streaming) { /* the next piece (or the end of an SSE stream) */
        stream_more_(p);
        return;
    }
    switch (p->kind) {
    case K_NEXT:
    case K_DELAY:
    case K_TWICE:
        complete_(p);
        break;
    case K_POST:
        if (ht_response__post(p->res, on_post_, p) != 0) FAIL("post refused");
        p->posted = true;
        if (ht_response__post(p->res, on_post_, p) != -EBUSY) FAIL("a second post accepted");
        break;
    case K_STREAM:
    case K_SSE:
        if (stream_begin_(p)) stream_more_(p);
        break;
    case K_UPLOAD:
        if (p->paused) { /* resumed: what is buffered comes from the loop */
            p->paused = false;
            ht_result_t r = ht_response__pause_body(p->res, false);
            if (r != 0) FAIL("pause_body(false): %d", r);
        } else if (p->reading && !p->asked) { /* read_body a turn after the defer */
            read_body_(p);
        } else if (p->reading) {
            FAIL("upload timer while reading");
        } else if (p->var & 64) {
            if (stream_begin_(p)) stream_more_(p);
        } else {
            complete_(p);
        }
        break;
    default:
        FAIL("timer for kind %d", p->kind);
    }
}

static void on_cancel_(ht_response_t* res, ht_result_t why, void* ud) {
    pend_t* p = ud;
    if (p->res != res || !p->in_use) FAIL("cancel callback for the wrong handle");
    if (p->cut) FAIL("cancel callback twice");
    p->cut = true;
    if (verbose_) fprintf(stderr, "fuzz_conn: %s handle cut off: %d\n", kind_names_[p->kind], why);
    if (why == HT_E_TIMEOUT) {
        if (p->kind != K_HANG && p->kind != K_UPLOAD) FAIL("%s handle hit its deadline", kind_names_[p->kind]);
        if (p->streaming) FAIL("a stream hit the deadline to start");
        if (p->tstatus == 504) dt_.cut_504++;
        else dt_.cut_503++;
        if (nanswers_ == (int) (sizeof answers_ / sizeof answers_[0])) FAIL("too many deadlines");
        answers_[nanswers_++] = (answer_t){ p->tstatus, p->head_only };
    } else if (why == HT_E_CLOSED) {
        if (!eof_sent_) FAIL("%s handle cut off (connection closed) before the client left", kind_names_[p->kind]);
        dt_.cut_closed++;
        if (p->streaming) dt_.cut_streams++;
    } else {
        if (p->kind != K_UPLOAD) FAIL("%s handle cut off with %d", kind_names_[p->kind], why);
        dt_.cut_body++;
        if (nanswers_ == (int) (sizeof answers_ / sizeof answers_[0])) FAIL("too many body errors");
        answers_[nanswers_++] = (answer_t){ 0, p->head_only };
    }
    if (ht_loop__timer_active(&p->t)) ht_loop__timer_stop(loop_, &p->t);
    p->want_ready = false;
    late_(p);
    if (p->posted) return; /* on_post_ releases it */
    if (p->kind == K_HANG || (p->var & 128)) ht_loop__timer_start(loop_, &p->t, 0, on_timer_);
    else release_(p, HT_E_GONE);
}

/* Which requests stream their bodies (K_UPLOAD), with what limit; a few
 * buffered ones get a small limit. */
static ht_body_policy_t policy_(const ht_config_t* cfg, const ht_request_t* req) {
    (void) cfg;
    if (!ht_request__body_pending(req)) FAIL("body_policy asked without a body pending");
    uint32_t sel = sel_of_(ht_request__target(req)), var = sel >> 4;
    switch (kinds_[sel & 15]) {
    case K_UPLOAD:
        switch ((var >> 1) & 3) {
        case 0: return (ht_body_policy_t){ .limit = 0, .stream = true }; /* max_body */
        case 1: return (ht_body_policy_t){ .limit = 64, .stream = true };
        case 2: return (ht_body_policy_t){ .limit = 1000, .stream = true };
        default: return (ht_body_policy_t){ .limit = 100, .stream = false };
        }
    case K_SYNC:
        if ((var & 6) == 6) return (ht_body_policy_t){ .limit = 32, .stream = false };
        return (ht_body_policy_t){ 0 };
    default:
        return (ht_body_policy_t){ 0 };
    }
}

static void handler_(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    ht_slice_t m = ht_request__method_slice(req), t = ht_request__target(req), b = ht_request__body(req);
    uint32_t sel = sel_of_(t), var = sel >> 4;
    int kind = kinds_[sel & 15];
    bool pending = ht_request__body_pending(req);
    if (pending && kind != K_UPLOAD) FAIL("a streamed body the policy did not ask for");
    if (kind == K_UPLOAD && !pending) kind = K_SYNC;    /* no body, or buffered */
    if (kind == K_UPLOAD && ((var >> 8) & 3) == 0) kind = K_SYNC; /* answered without reading: closes */
    if (verbose_) fprintf(stderr, "fuzz_conn: %.*s %.*s: %s, variant %#x\n", HT_SLICE_FMT(m), HT_SLICE_FMT(t),
                          kind_names_[kind], var);
    if (kind == K_SYNC) {
        echo_now_(cfg, req, res, a);
        return;
    }
    pend_t* p = nullptr;
    for (int i = 0; i < PEND_MAX && !p; i++)
        if (!pend_[i].in_use) p = &pend_[i];
    if (p == nullptr) FAIL("more than %d deferred handles", PEND_MAX);
    memset(p, 0, sizeof *p);
    p->in_use = true;
    p->kind = (uint8_t) kind;
    p->var = var;
    p->t.data = p;
    p->pieces = (uint8_t) (1 + ((var >> 2) & 3));
    p->head_only = ht_request__method(req) == HT_METHOD_HEAD;
    p->http10 = ht_request__version_minor(req) == 0;
    p->mlen = m.len;
    p->line = m.len + t.len + 2;
    p->cap = p->line + (kind == K_UPLOAD ? MAX_BODY : b.len);
    p->buf = malloc(p->cap);
    if (!p->buf) abort();
    p->n = echo_fill_(p->buf, m, t, b);
    p->awaited = true;
    p->head_first = (var & 8) && (kind == K_NEXT || kind == K_DELAY || kind == K_INLINE || kind == K_POST ||
                                  kind == K_TWICE);
    if (kind == K_HANG) {
        p->awaited = !(var & 1);
        p->tstatus = ((var >> 1) & 3) == 2 ? 504 : 503;
        /* a timeout set on the handler's response carries over */
        if (((var >> 1) & 3) == 3 && ht_response__timeout(res, 3, 0) != 0) FAIL("timeout before defer");
    }
    /* not waited for: the client may leave first (a stream: mid-body) */
    if (kind == K_DELAY || kind == K_STREAM || kind == K_SSE) p->awaited = !(var & 1);
    /* README.md, finding 5 (fixed): a head being built in a handle's buffer
     * must stay there until the response is complete or streams. */
    if (p->head_first) {
        /* status and headers before the defer: they move to the handle */
        ht_result_t r = echo_head_(res, m, b.len, nullptr);
        if (r != 0) {
            check_build_(r, echo_head_size_(m.len, b.len, -1), "head first");
            if (ht_response__defer(res) != nullptr) FAIL("a failed response deferred");
            pend_free_(p); /* the server answers an empty 500 */
            return;
        }
    }
    ht_response_t* d = ht_response__defer(res);
    if (d == nullptr) FAIL("defer refused");
    dt_.defers++;
    p->res = d;
    /* The handler's own response is dead now. */
    ht_result_t r;
    if ((r = ht_response__text(res, 200, "x", a)) != HT_E_RESPONSE_STATE) FAIL("the deferred response took %d", r);
    if (ht_response__defer(res) != nullptr || ht_response__defer(d) != nullptr) FAIL("deferred twice");
    if (ht_response__loop(d) != loop_) FAIL("the handle's loop");
    ht_response__on_cancel(d, on_cancel_, p);
    switch (kind) {
    case K_NEXT:
    case K_TWICE:
        ht_loop__timer_start(loop_, &p->t, 0, on_timer_);
        break;
    case K_DELAY:
        ht_loop__timer_start(loop_, &p->t, 1 + ((var >> 1) & 3), on_timer_);
        break;
    case K_INLINE:
        complete_(p);
        break;
    case K_POST:
        if (var & 1) {
            ht_loop__timer_start(loop_, &p->t, 0, on_timer_);
        } else {
            if (ht_response__post(d, on_post_, p) != 0) FAIL("post refused");
            p->posted = true;
            if (ht_response__post(d, on_post_, p) != -EBUSY) FAIL("a second post accepted");
        }
        break;
    case K_HANG:
        switch ((var >> 1) & 3) {
        case 1: r = ht_response__timeout(d, 1, 0); break;
        case 2: r = ht_response__timeout(d, 2, 504); break;
        default: r = 0; break; /* the config's 20 ms, or the 3 ms set before the defer */
        }
        if (r != 0) FAIL("timeout: %d", r);
        if (ht_response__timeout(d, 1, 404) != -EINVAL) FAIL("a 404 deadline status accepted");
        if (var & 8) { /* a head being built when the deadline passes is dropped */
            if ((r = ht_response__status(d, 200)) != 0) FAIL("status: %d", r);
            if ((r = ht_response__header_cstr(d, "X-Echo-Dropped", "1")) != 0) FAIL("header: %d", r);
        }
        break;
    case K_STREAM:
    case K_SSE:
        ht_response__on_ready(d, on_ready_, p);
        if (var & 64) { /* the head from the handler */
            if (!stream_begin_(p)) return;
            if (kind == K_STREAM && !(var & 16)) stream_more_(p);
            else ht_loop__timer_start(loop_, &p->t, 0, on_timer_);
        } else {
            ht_loop__timer_start(loop_, &p->t, 0, on_timer_);
        }
        break;
    case K_UPLOAD:
        ht_response__on_ready(d, on_ready_, p);
        p->n = p->line; /* the body is streamed in */
        if (((var >> 10) & 3) == 0) { /* never asks for it: answered a turn later, then closes */
            if ((r = ht_response__pause_body(d, true)) != -ENODATA) FAIL("pause_body before read_body: %d", r);
            ht_loop__timer_start(loop_, &p->t, 0, on_timer_);
            break;
        }
        p->reading = true;
        if (var & 32) ht_loop__timer_start(loop_, &p->t, 0, on_timer_);
        else read_body_(p);
        break;
    default:
        FAIL("kind %d", kind);
    }
}

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

typedef struct out {
    char* p;
    size_t n, cap;
    bool eof, reset;
} out_t;

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

/* ---- strict response parsing ---- */

static bool tchar_(uint8_t c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool ieq_(const char* a, size_t n, const char* lit) { return strlen(lit) == n && !strncasecmp(a, lit, n); }

static bool parse_u64_(const char* p, size_t n, uint64_t* v) {
    if (n == 0 || n > 19) return false;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        *v = *v * 10 + (uint64_t) (p[i] - '0');
    }
    return true;
}

typedef struct tally {
    uint64_t echoes, streams, sses, fallbacks, errors, deadline_503, deadline_504, continues, cut_streams;
} tally_t;

/* Finds CRLF from at; a bare CR or LF before it is a failure. */
/* (With cut: the bytes running out is no failure but *cut = true, SIZE_MAX.) */
static size_t line_end_cut_(const char* s, size_t n, size_t at, const char* what, bool* cut) {
    for (size_t i = at; i < n; i++) {
        if (s[i] == '\n') FAIL("bare LF in %s at %zu", what, i);
        if (s[i] == '\r') {
            if (i + 1 >= n) break;
            if (s[i + 1] != '\n') FAIL("bare CR in %s at %zu", what, i);
            return i;
        }
    }
    if (cut) {
        *cut = true;
        return SIZE_MAX;
    }
    FAIL("%s truncated (no CRLF after %zu)", what, at);
}
static size_t line_end_(const char* s, size_t n, size_t at, const char* what) {
    return line_end_cut_(s, n, at, what, nullptr);
}

/* A chunked body from at: returns its end; the payload is appended to dec.
 * cut: a body the bytes end in is allowed (*cut = true, returns n). */
static size_t chunked_body_(const char* s, size_t n, size_t at, out_t* dec, bool* cut) {
    for (;;) {
        size_t e = line_end_cut_(s, n, at, "chunk size line", cut);
        if (e == SIZE_MAX) return n;
        uint64_t sz = 0;
        size_t i = at;
        if (i == e) FAIL("empty chunk size at %zu", at);
        for (; i < e && sz < (1ull << 40); i++) {
            char c = s[i];
            int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
            if (d < 0) FAIL("bad chunk size at %zu", i);
            sz = sz * 16 + (uint64_t) d;
        }
        at = e + 2;
        if (sz == 0) {
            for (;;) { /* trailer fields, then CRLF */
                size_t te = line_end_cut_(s, n, at, "trailer", cut);
                if (te == SIZE_MAX) return n;
                bool last = te == at;
                at = te + 2;
                if (last) return at;
            }
        }
        if (n - at < sz + 2) {
            if (cut) {
                *cut = true;
                return n;
            }
            FAIL("chunk data truncated at %zu", at);
        }
        if (dec) {
            if (dec->cap - dec->n < sz) {
                dec->cap = dec->n + sz + 4096;
                dec->p = realloc(dec->p, dec->cap);
                if (!dec->p) abort();
            }
            memcpy(dec->p + dec->n, s + at, sz);
            dec->n += sz;
        }
        at += sz;
        if (s[at] != '\r' || s[at + 1] != '\n') FAIL("chunk data not followed by CRLF at %zu", at);
        at += 2;
    }
}

/* "METHOD SP TARGET LF BODY": the method of X-Echo-Method, a target without
 * SP/CTL, a body of X-Echo-Body bytes. */
static void check_echo_(const char* b, size_t bl, const char* em, size_t eml, uint64_t echo_body, size_t at) {
    if (bl < eml + 2 || memcmp(b, em, eml) || b[eml] != ' ')
        FAIL("echo body does not start with the method at %zu", at);
    size_t i = eml + 1;
    while (i < bl && b[i] != '\n') {
        if ((uint8_t) b[i] <= 0x20 || b[i] == 0x7f)
            FAIL("SP/CTL 0x%02x in an echoed target at %zu", (uint8_t) b[i], at + i);
        i++;
    }
    if (i == eml + 1 || i == bl) FAIL("echoed target empty or unterminated at %zu", at);
    if (echo_body != bl - i - 1)
        FAIL("echo body %llu bytes, X-Echo-Body says %llu", (unsigned long long) (bl - i - 1),
             (unsigned long long) echo_body);
}

/* An SSE echo: heartbeats (":"), comments (": c") and exactly one event
 * "event: echo", "id: 1", "data: METHOD SP TARGET", each block ending in a
 * blank line. */
static void check_sse_(const char* b, size_t bl, const char* m, size_t ml, size_t at) {
    static const char ev[] = "event: echo\nid: 1\ndata: ";
    int events = 0;
    for (size_t i = 0; i < bl;) {
        const char* e = memmem(b + i, bl - i, "\n\n", 2);
        if (!e) FAIL("SSE block without its blank line at %zu", at + i);
        size_t k = (size_t) (e - (b + i));
        const char* blk = b + i;
        if (k >= 1 && blk[0] == ':') {
            if (memchr(blk, '\n', k) || !(k == 1 || (k == 3 && !memcmp(blk, ": c", 3))))
                FAIL("SSE comment %.*s at %zu", (int) k, blk, at + i);
        } else {
            size_t el = sizeof ev - 1;
            if (k < el + ml + 2 || memcmp(blk, ev, el) || memcmp(blk + el, m, ml) || blk[el + ml] != ' ')
                FAIL("SSE event %.*s at %zu", (int) k, blk, at + i);
            for (size_t j = el + ml + 1; j < k; j++)
                if ((uint8_t) blk[j] <= 0x20 || blk[j] == 0x7f)
                    FAIL("SP/CTL in an SSE event's target at %zu", at + i + j);
            events++;
        }
        i += k + 2;
    }
    if (events != 1) FAIL("%d SSE events at %zu", events, at);
}

static void parse_responses_(const char* s, size_t n, uint64_t cut_streams, tally_t* t) {
    size_t at = 0;
    int ai = 0; /* answers_ */
    bool closed = false;
    out_t dec = { 0 };
    while (at < n) {
        if (closed) FAIL("%zu bytes after a response that closed the connection (at %zu)", n - at, at);
        size_t start = at;
        if (n - at < 13 || memcmp(s + at, "HTTP/1.1 ", 9)) FAIL("no status line at %zu", at);
        const char* d = s + at + 9;
        if (d[0] < '1' || d[0] > '5' || d[1] < '0' || d[1] > '9' || d[2] < '0' || d[2] > '9')
            FAIL("bad status code at %zu", at);
        int status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
        if (d[3] != ' ') FAIL("no SP after the status code at %zu", at);
        size_t e = line_end_(s, n, at + 13, "status line");
        for (size_t i = at + 13; i < e; i++)
            if ((uint8_t) s[i] < 0x20 && s[i] != '\t') FAIL("CTL in the reason phrase at %zu", i);
        at = e + 2;
        int ncl = 0, ndate = 0, nte = 0, stream = 0;
        uint64_t cl = 0, echo_body = UINT64_MAX;
        bool close = false, chunked = false, dropped = false;
        const char *em = nullptr, *sm = nullptr;
        size_t eml = 0, sml = 0;
        for (int fields = 0;; fields++) {
            if (fields > 64) FAIL("too many fields at %zu", at);
            size_t le = line_end_(s, n, at, "field line");
            if (le == at) { at += 2; break; }
            size_t c = at;
            while (c < le && tchar_((uint8_t) s[c])) c++;
            if (c == at || c == le || s[c] != ':') FAIL("bad field name at %zu", at);
            const char* name = s + at;
            size_t nl = c - at;
            size_t v = c + 1;
            while (v < le && (s[v] == ' ' || s[v] == '\t')) v++;
            size_t ve = le;
            while (ve > v && (s[ve - 1] == ' ' || s[ve - 1] == '\t')) ve--;
            for (size_t i = v; i < ve; i++)
                if (((uint8_t) s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) FAIL("CTL in a field value at %zu", i);
            const char* val = s + v;
            size_t vl = ve - v;
            if (ieq_(name, nl, "Content-Length")) {
                ncl++;
                if (!parse_u64_(val, vl, &cl)) FAIL("bad Content-Length at %zu", at);
            } else if (ieq_(name, nl, "Transfer-Encoding")) {
                nte++;
                if (!ieq_(val, vl, "chunked")) FAIL("Transfer-Encoding other than chunked at %zu", at);
                chunked = true;
            } else if (ieq_(name, nl, "Date")) {
                ndate++;
            } else if (ieq_(name, nl, "Connection")) {
                if (ieq_(val, vl, "close")) close = true;
                else if (!ieq_(val, vl, "keep-alive")) FAIL("Connection: %.*s at %zu", (int) vl, val, at);
            } else if (ieq_(name, nl, "X-Echo-Method")) {
                em = val, eml = vl;
            } else if (ieq_(name, nl, "X-Echo-Sse")) {
                sm = val, sml = vl;
            } else if (ieq_(name, nl, "X-Echo-Stream")) {
                if (ieq_(val, vl, "1.0")) stream = 10;
                else if (ieq_(val, vl, "1.1")) stream = 11;
                else FAIL("X-Echo-Stream: %.*s", (int) vl, val);
            } else if (ieq_(name, nl, "X-Echo-Dropped")) {
                dropped = true;
            } else if (ieq_(name, nl, "X-Echo-Body")) {
                if (!parse_u64_(val, vl, &echo_body)) FAIL("bad X-Echo-Body at %zu", at);
            }
            at = le + 2;
        }
        if (dropped) FAIL("a head cut off by its deadline went out at %zu", start);
        if (status < 200) {
            if (status != 100 || ncl || nte || ndate || close) FAIL("unexpected interim response at %zu", start);
            t->continues++;
            continue;
        }
        if (ndate != 1) FAIL("%d Date fields at %zu", ndate, start);
        if (sm && !stream) FAIL("an SSE response without X-Echo-Stream");
        /* Methods are case-sensitive (RFC 9110 §9.1): "hEAD" is no HEAD. */
        const char* meth = em ? em : sm;
        size_t methl = em ? eml : sml;
        bool no_body = status == 204 || status == 304 || (meth && methl == 4 && !memcmp(meth, "HEAD", 4));
        /* A stream cut off because the client left ends with the bytes. */
        bool cut_ok = stream && cut_streams, cut = false;
        bool in_place = false; /* the server's answer in place of a handle */
        if (!meth && (status == 503 || status == 504)) {
            if (ai == nanswers_ || answers_[ai].status != status)
                FAIL("a %d at %zu, no deadline passed for it (%d of %d)", status, start, ai, nanswers_);
            in_place = true;
        } else if (!meth && status >= 400 && status < 500 && ai < nanswers_ && answers_[ai].status == 0) {
            in_place = true; /* a streamed body failed */
        }
        if (in_place) no_body = no_body || answers_[ai++].head_only;
        const char* body = s + at;
        size_t body_len = 0;
        if (status == 204 || status == 304) {
            if (ncl || nte) FAIL("framing fields on a %d at %zu", status, start);
        } else if (chunked) {
            /* only streams (to HTTP/1.1 clients) are chunked */
            if (ncl || nte != 1) FAIL("Transfer-Encoding with Content-Length, or twice, at %zu", start);
            if (stream != 11) FAIL("a chunked response that is no stream to an HTTP/1.1 request at %zu", start);
            if (!no_body) {
                dec.n = 0;
                at = chunked_body_(s, n, at, &dec, cut_ok ? &cut : nullptr);
                body = dec.p ? dec.p : "";
                body_len = dec.n;
            }
        } else if (ncl == 1) {
            if (!no_body) {
                if (n - at < cl && cut_ok) {
                    cut = true;
                    cl = n - at;
                }
                if (n - at < cl) FAIL("body truncated: %zu of %llu bytes at %zu", n - at, (unsigned long long) cl, at);
                body_len = (size_t) cl;
                at += cl;
            }
        } else if (ncl == 0 && stream && no_body) {
            /* HEAD of a stream to HTTP/1.0 of unknown length: no framing */
        } else if (ncl == 0 && stream == 10 && close) {
            body_len = n - at; /* HTTP/1.0 stream: the body ends with the connection */
            at = n;
            cut = cut_ok; /* the last response either way: the stream cut off is this one */
        } else {
            FAIL("%d Content-Length fields at %zu", ncl, start);
        }
        if (cut) { /* the client left mid-stream: the response ends where the bytes do */
            if (at != n) FAIL("a cut-off stream followed by %zu bytes", n - at);
            t->cut_streams++;
            break;
        }
        if (em) {
            t->echoes++;
            if (stream) t->streams++;
            if (status != 200) FAIL("echo response with status %d", status);
            if (!no_body) check_echo_(body, body_len, em, eml, echo_body, start);
            if (echo_body > MAX_BODY) FAIL("body of %llu bytes beyond max_body", (unsigned long long) echo_body);
        } else if (sm) {
            t->echoes++;
            t->sses++;
            if (status != 200) FAIL("SSE response with status %d", status);
            if (!no_body) check_sse_(body, body_len, sm, sml, start);
        } else if (stream) {
            FAIL("X-Echo-Stream without X-Echo-Method at %zu", start);
        } else if (status == 500 && ncl == 1 && cl == 0) {
            t->fallbacks++; /* the handler's response did not fit */
        } else if (status == 503 || status == 504) {
            /* a deferred response's deadline: the server answers in its
             * place, and keeps the connection when it can */
            if (status == 503) t->deadline_503++;
            else t->deadline_504++;
        } else {
            t->errors++;
            if (status < 400) FAIL("server response %d without the handler at %zu", status, start);
            if (!close) FAIL("error response %d does not close at %zu", status, start);
        }
        if (close) closed = true;
    }
    if (ai != nanswers_) FAIL("%d answers in place of cut-off handles, %d expected", ai, nanswers_);
    free(dec.p);
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
