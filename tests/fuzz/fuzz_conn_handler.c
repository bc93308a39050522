/* fuzz_conn_handler.c — fuzz_conn's handler (see fuzz_conn.c for the
 * harness and the invariants): the echo, answered now or later through a
 * deferred handle, streamed, as SSE, from a streamed request body, or cut
 * off; every handle call checked against ht/response.h, and the counts the
 * harness compares with the responses and the acceptor's. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ht/server.h>

#include "fuzz_conn.h"

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
uint64_t enobufs_;
bool eof_sent_;

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

/* The counts and answers fuzz_conn.h describes (dtally_t, answer_t). */
dtally_t dt_;
answer_t answers_[64];
int nanswers_;

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

int pends_(bool awaited_only) {
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
ht_body_policy_t policy_(const ht_config_t* cfg, const ht_request_t* req) {
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

void handler_(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
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
