/* server/conn.c — a connection's life on the wire (HTTP/1).
 *
 * Per connection, at most one receive-side and one send-side operation are
 * in flight. A connection that has nothing buffered receives into a pooled
 * loop buffer (so an idle connection holds no memory beyond its struct); a
 * connection with a partial request receives straight into the free tail of
 * the buffer it already holds (no copy, no growth for heads). Complete
 * requests in the buffer are parsed and answered one after the other, their
 * responses written into one send buffer and sent with one send; the
 * connection then goes back to reading.
 *
 * A deferred response (defer.c) pauses that: the requests behind it wait
 * in the buffer until it has gone out; the connection's side of that is
 * conn_defer.c. Accepting, the timeout sweep and shutdown are the
 * acceptor's (acceptor.c), and what it does to a connection (start it,
 * end it at a deadline) is conn_accept.c; the send buffers are out.c's.
 */
#include <stddef.h>
#include <string.h>

#include "server/observe.h"
#include "server/conn.h"
#include "server/sock.h"

/* Input read and dropped while lingering, at most: past it the connection
 * waits out its linger timeout unread (on_recv). */
#define LINGER_MAX_DRAIN (256u * 1024u)

static void conn_process(ht_conn_t* c);
static void conn_close(ht_conn_t* c);
static void on_recv(ht_loop_t* loop, ht_op_t* op, ht_io_t res);

static void starved_wake_one(ht_acceptor_t* acc);

static void in_release(ht_conn_t* c) {
    if (c->in == nullptr) return;
    if (c->in_buf) {
        ht_loop__buf_release(c->acc->loop_, c->in_buf);
        starved_wake_one(c->acc);
    } else {
        ht_alloc__free(c->acc->alloc_, c->in, c->in_cap);
    }
    c->in = nullptr;
    c->in_buf = nullptr;
    c->in_cap = c->in_len = c->in_off = 0;
}

/* Moves the unconsumed bytes to the front of the buffer. */
static void in_compact(ht_conn_t* c) {
    if (c->in_off == 0) return;
    size_t n = c->in_len - c->in_off;
    if (n) memmove(c->in, c->in + c->in_off, n);
    c->in_len = n;
    c->in_off = 0;
}

/* Makes room for at least `need` bytes from in_off on (compacting, then
 * moving to an allocated buffer). False on allocation failure. */
static bool in_reserve(ht_conn_t* c, size_t need) {
    if (c->in_cap - c->in_off >= need) return true;
    in_compact(c);
    if (c->in_cap >= need) return true;
    size_t cap = need;
    char* p = ht_alloc__alloc(c->acc->alloc_, cap);
    if (p == nullptr) return false;
    memcpy(p, c->in, c->in_len);
    size_t len = c->in_len;
    in_release(c);
    c->in = p;
    c->in_cap = cap;
    c->in_len = len;
    c->in_off = 0;
    return true;
}

/* A partial request must not pin a pooled receive buffer: the pool is per
 * loop (1024 by default), so that many clients trickling a request byte by
 * byte (slowloris) would starve every other connection of receive buffers
 * until their header timeout. Before waiting for more, what is left moves
 * to a buffer of its own of the same size (its pages are touched only as
 * bytes arrive) and the pooled one goes back, waking a starved connection.
 * Complete requests never get here; a pipelined batch that ends mid-request
 * pays one allocation and a copy of its tail. False on allocation failure
 * (the pooled buffer is kept). */
static bool in_unpool(ht_conn_t* c) {
    if (c->in == nullptr) return false;
    size_t n = c->in_len - c->in_off, cap = c->in_cap;
    char* p = ht_alloc__alloc(c->acc->alloc_, cap);
    if (p == nullptr) return false;
    memcpy(p, c->in + c->in_off, n);
    in_release(c);
    c->in = p;
    c->in_cap = cap;
    c->in_len = n;
    return true;
}

/* ---- Receiving ---- */

static void recv_start(ht_conn_t* c) {
    ht_acceptor_t* acc = c->acc;
    ht_result_t r;
    if (c->in == nullptr) {
        c->flags |= HT_CF_POOLED;
        r = ht_loop__recv(acc->loop_, &c->rop, c->fd, on_recv);
    } else {
        if (c->in_len == c->in_cap) in_compact(c);
        if (c->in_len == c->in_cap) {
            /* Full and still incomplete: the parser's limits stop this
             * before it happens; treat it as a bad request all the same. */
            conn_close(c);
            return;
        }
        c->flags &= (uint16_t) ~HT_CF_POOLED;
        r = ht_loop__recv_into(acc->loop_, &c->rop, c->fd, c->in + c->in_len, c->in_cap - c->in_len,
                               on_recv);
    }
    if (r < 0) {
        conn_close(c);
        return;
    }
    c->flags |= HT_CF_RECV;
}

static void starved_wake_one(ht_acceptor_t* acc) {
    ht_conn_t* c = acc->lists_[HT_TC_STARVED].head;
    if (c == nullptr || acc->in_callback_ > 8) return;
    acc->in_callback_++;
    ht_conn__tl_set_(c, ht_conn__tc_waiting_(c));
    recv_start(c);
    acc->in_callback_--;
}

/* ---- Sending ---- */

static void on_send(ht_loop_t* loop, ht_op_t* op, ht_io_t res);

static void linger_start(ht_conn_t* c) {
    c->flags |= HT_CF_LINGER;
    c->rstate = HT_RS_DONE;
    if (c->flags & HT_CF_EOF) {
        conn_close(c);
        return;
    }
    /* Half-close: the client sees the end of the response, then EOF; what
     * it still sends is read and dropped so that closing does not turn
     * into a reset that could destroy the response in its receive queue. */
    ht_sock__shutdown_write(c->fd);
    ht_conn__tl_set_(c, HT_TC_LINGER);
    if (!(c->flags & HT_CF_RECV)) {
        in_release(c);
        recv_start(c);
    }
}

/* A file body this long may want a larger kernel send buffer than its
 * tuning reaches (config.h, file_send_buffer): fewer sendfile rounds. Once
 * per connection, where the system allows it (ht_sock__grow_sndbuf). */
enum { FILE_SNDBUF_MIN = 1u << 20 };
__attribute__((noinline, cold)) static void file_sndbuf(ht_conn_t* c, uint64_t len) {
    if (!c->sndbuf_grown) c->sndbuf_grown = ht_sock__grow_sndbuf(c->fd, len, c->acc->cfg_.file_send_buffer);
}

static void send_start(ht_conn_t* c) {
    ht_out_t* o = c->out;
    ht_out__seal_(o);
    ht_result_t r;
    if (o->iovcnt == 1 && o->file_state == HT_OUT_FILE_PENDING && o->file_len > 0) {
        /* A head and its file body in one operation (ht_response__file):
         * one completion, and on Windows one TransmitFile. */
        if (HT_UNLIKELY(o->file_len > FILE_SNDBUF_MIN)) file_sndbuf(c, o->file_len);
        o->file_state = HT_OUT_FILE_SENDING;
        r = ht_loop__sendfile_head(c->acc->loop_, &c->sop, c->fd, &o->iov[0], o->file, o->file_off,
                                   o->file_len, on_send);
    } else if (o->iovcnt) {
        r = ht_loop__send(c->acc->loop_, &c->sop, c->fd, o->iov, o->iovcnt, on_send);
    } else {
        /* Heads are out; now the file body (ht_response__file). */
        if (HT_UNLIKELY(o->file_len > FILE_SNDBUF_MIN)) file_sndbuf(c, o->file_len);
        o->file_state = HT_OUT_FILE_SENDING;
        r = ht_loop__sendfile(c->acc->loop_, &c->sop, c->fd, o->file, o->file_off, o->file_len, on_send);
    }
    if (r < 0) {
        conn_close(c);
        return;
    }
    c->flags |= HT_CF_SEND;
    ht_conn__tl_set_(c, HT_TC_SEND);
}

/* After processing: send what was produced, or go back to reading. */
static void conn_next(ht_conn_t* c) {
    if (c->flags & HT_CF_DEAD) return;
    if (c->flags & HT_CF_LINGER) return;
    ht_acceptor_t* acc = c->acc;
    if (!(c->flags & HT_CF_SEND) && c->out) {
        if (ht_out__pending_(c->out)) {
            send_start(c);
            if (c->flags & HT_CF_DEAD) return;
        } else {
            ht_out__put_(acc, c->out);
            c->out = nullptr;
        }
    }
    if (c->flags & HT_CF_DEFER) {
        ht_conn__defer_wait_(c);
        return;
    }
    bool sending = (c->flags & HT_CF_SEND) != 0;
    if (!sending && (c->flags & HT_CF_CLOSE)) {
        linger_start(c);
        return;
    }
    if (c->in && c->in_off == c->in_len && !(c->flags & HT_CF_RECV) && c->rstate == HT_RS_HEAD) {
        in_release(c); /* idle connections hold no buffer */
    }
    if (c->flags & HT_CF_EOF) {
        /* Nothing more will arrive: done once the responses are out. */
        if (!sending) conn_close(c);
        return;
    }
    if (c->flags & HT_CF_CLOSE) return; /* waiting for the last send */
    if (HT_UNLIKELY(acc->stopping_) && !sending && c->rstate == HT_RS_HEAD &&
        (c->in == nullptr || c->in_off == c->in_len)) {
        conn_close(c); /* went idle during shutdown */
        return;
    }
    if (!(c->flags & HT_CF_RECV)) {
        /* While a send is in flight only a pooled recv may run: the buffer
         * we hold must not move under a pending receive. */
        if (c->in_buf && !sending && c->in_off < c->in_len) (void) in_unpool(c);
        if (c->in == nullptr || !sending) recv_start(c);
        if (c->flags & HT_CF_DEAD) return;
    }
    if (!sending) {
        switch (c->rstate) {
        case HT_RS_HEAD:
            if (c->in == nullptr || c->in_off == c->in_len) ht_conn__tl_enter_(c, c->requests ? HT_TC_IDLE : HT_TC_HEADER);
            else ht_conn__tl_enter_(c, HT_TC_HEADER);
            break;
        case HT_RS_BODY_CL:
        case HT_RS_BODY_CHUNKED:
            ht_conn__tl_enter_(c, HT_TC_BODY);
            break;
        default:
            break;
        }
    }
}

static void conn_free(ht_conn_t* c) {
    ht_acceptor_t* acc = c->acc;
    /* During shutdown the loop may return before it submits another batch,
     * and a batched io_uring close would then never happen: close(2) now
     * (correct for accepted sockets on both backends, see ht/loop.h). */
    if (HT_UNLIKELY(acc->stopping_)) ht_sock__close(c->fd);
    else ht_loop__close(acc->loop_, c->fd);
    in_release(c);
    if (c->out) {
        ht_out__put_(acc, c->out);
        c->out = nullptr;
    }
    if (c->dout) {
        ht_out__put_(acc, c->dout);
        c->dout = nullptr;
    }
    if (HT_UNLIKELY(c->log_stash_ != nullptr)) ht_obs__drop_(c);
    ht_conn__tl_unlink_(c);
    c->tnext = acc->free_conns_;
    acc->free_conns_ = c;
    acc->stats_.open--;
    ht_acceptor__conn_freed_(acc);
}

static void conn_close(ht_conn_t* c) {
    if (c->flags & HT_CF_DEAD) return;
    c->flags |= HT_CF_DEAD;
    /* The application learns it now, once; its handle stays valid. */
    if (c->defer) ht_defer__cut_(c->defer, HT_E_CLOSED);
    if (HT_UNLIKELY(c->done_fn_ != nullptr)) ht_conn__done_(c, c->done_status_); /* no answer went out */
    ht_conn__tl_set_(c, HT_TC_DEAD);
    if (c->flags & HT_CF_RECV) ht_loop__cancel(c->acc->loop_, &c->rop);
    if (c->flags & HT_CF_SEND) ht_loop__cancel(c->acc->loop_, &c->sop);
    if (!(c->flags & (HT_CF_RECV | HT_CF_SEND))) conn_free(c);
}

static void on_send(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    (void) loop;
    ht_conn_t* c = op->data;
    c->flags &= (uint16_t) ~HT_CF_SEND;
    if (c->out && (res < 0 || (c->flags & HT_CF_DEAD) || c->out->file_state != HT_OUT_FILE_PENDING)) {
        ht_out__reset_(c->out);
        /* The next batch: a grown buffer's extra room was for its own batch
         * (ht_conn__out_grow_), so what fits never depends on an earlier one. */
        c->out->cap = c->out->unit;
    }
    if (c->flags & HT_CF_DEAD) {
        if (!(c->flags & HT_CF_RECV)) conn_free(c);
        return;
    }
    if (res < 0) {
        conn_close(c);
        return;
    }
    if (c->out && c->out->file_state == HT_OUT_FILE_PENDING) {
        /* The iovecs went out; the file body follows. */
        c->out->iovcnt = 0;
        c->out->len = c->out->sealed = 0;
        send_start(c);
        return;
    }
    ht_conn__tl_unlink_(c);
    if (c->flags & HT_CF_DEFER) {
        ht_conn__defer_after_send_(c);
        return;
    }
    /* Nothing buffered (the usual keep-alive case: the batch was answered
     * whole and the buffer went back) leaves conn_process nothing to do. */
    if (c->in) {
        conn_process(c);
    } else if ((c->flags & (HT_CF_LINGER | HT_CF_CLOSE | HT_CF_EOF | HT_CF_RECV)) == HT_CF_RECV &&
               c->rstate == HT_RS_HEAD && !c->acc->stopping_) {
        /* ... and its next receive already waiting (conn_next started it
         * beside the send): all conn_next would do is give the send buffer
         * back and time the wait (~45 instructions of its tests). */
        if (c->out) {
            ht_out__put_(c->acc, c->out);
            c->out = nullptr;
        }
        ht_conn__tl_enter_(c, c->requests ? HT_TC_IDLE : HT_TC_HEADER);
        return;
    }
    conn_next(c);
}

/* ---- Errors ---- */

static bool out_ensure(ht_conn_t* c) {
    if (c->out) return true;
    c->out = ht_out__get_(c->acc);
    return c->out != nullptr;
}

/* Queues the error response for err and closes after it. */
static void conn_fail(ht_conn_t* c, ht_result_t err, bool json) {
    ht_acceptor_t* acc = c->acc;
    acc->stats_.errors++;
    c->rstate = HT_RS_DONE;
    c->flags |= HT_CF_CLOSE;
    if (!out_ensure(c)) {
        conn_close(c);
        return;
    }
    int64_t now = ht_loop__wall_s_(acc->loop_);
    if (now != acc->date_s_) {
        acc->date_s_ = now;
        ht_date_line_(acc->date_, now);
    }
    ht_response_t res;
    ht_response__begin_(&res, c->out, c, acc->date_, HT_RESF_CLOSE);
    if (json)
        (void) ht_response__error_json(&res, ht_result__status(err), acc->alloc_);
    else
        (void) ht_response__error(&res, ht_result__status(err), acc->alloc_);
    ht_response__finish_(&res);
    if (HT_UNLIKELY(acc->observe_)) ht_obs__end_(c, res.status, res.body_bytes);
}

/* ---- For conn_defer.c and conn_accept.c ----
 *
 * Out-of-line doors to the helpers above. They are called on the deferred
 * path only; the helpers stay static so that the compiler inlines them
 * into the request path here exactly as before. */

void ht_conn__close_(ht_conn_t* c) { conn_close(c); }
void ht_conn__next_(ht_conn_t* c) { conn_next(c); }
void ht_conn__process_(ht_conn_t* c) { conn_process(c); }
void ht_conn__send_start_(ht_conn_t* c) { send_start(c); }
void ht_conn__recv_start_(ht_conn_t* c) { recv_start(c); }
void ht_conn__in_release_(ht_conn_t* c) { in_release(c); }
void ht_conn__in_compact_(ht_conn_t* c) { in_compact(c); }
bool ht_conn__in_unpool_(ht_conn_t* c) { return in_unpool(c); }
void ht_conn__fail_(ht_conn_t* c, ht_result_t err, bool json) { conn_fail(c, err, json); }

/* ---- Requests ---- */

static ht_parse_limits_t limits_of(const ht_acceptor_t* acc, const ht_conn_t* c) {
    ht_parse_limits_t l;
    l.max_request_line = acc->cfg_.max_request_line;
    uint32_t head = acc->cfg_.max_head;
    /* A head must fit in the buffer it is received into. */
    if (c->in_buf && head > c->in_buf->cap) head = c->in_buf->cap;
    l.max_head = head;
    l.max_headers = acc->cfg_.max_headers;
    return l;
}

/* The request a handler (or the body policy) sees, but its keep-alive flag. */
/* Writes straight into *out: a local copied whole costs ~30 instructions. */
HT_INLINE void req_build(ht_conn_t* c, const ht_request_head_t* h, ht_slice_t body, ht_request_t* out) {
    ht_request_t* r = out;
    r->conn_ = c;
    /* clang-analyzer reports *h as possibly uninitialised on a path where a
     * body state is resumed with HT_CF_PARSED set; that flag is only set by
     * the parse that fills h in the same conn_process call and cleared on
     * every way out of it, so h is always the parsed head here. */
    /* NOLINTBEGIN(clang-analyzer-core.uninitialized.Assign) */
    r->method_ = h->method;
    r->target_ = h->target;
    r->host_ = h->host;
    r->body_ = body;
    r->headers_ = h->headers;
    r->num_headers_ = h->num_headers;
    r->content_length_ = h->content_length;
    r->method_id_ = h->method_id;
    r->version_minor_ = h->version_minor;
    /* NOLINTEND(clang-analyzer-core.uninitialized.Assign) */
    /* path / query */
    ht_slice_t t = h->target;
    size_t q = 0; /* targets are short: a plain scan beats a memchr call */
    while (q < t.len && t.ptr[q] != '?') q++;
    if (q == t.len) q = SIZE_MAX;
    ht_slice_t path = q == SIZE_MAX ? t : ht_slice__sub(t, 0, q);
    r->query_ = q == SIZE_MAX ? (ht_slice_t){ t.ptr + t.len, 0 } : ht_slice__sub(t, q + 1, t.len - q - 1);
    if (path.len && path.ptr[0] != '/' && path.ptr[0] != '*') {
        /* absolute-form: skip scheme://authority */
        size_t s = ht_slice__find_byte(path, ':');
        if (s != SIZE_MAX && s + 2 < path.len && path.ptr[s + 1] == '/' && path.ptr[s + 2] == '/') {
            ht_slice_t rest = ht_slice__sub(path, s + 3, path.len);
            size_t sl = ht_slice__find_byte(rest, '/');
            path = sl == SIZE_MAX ? HT_SLICE("/") : ht_slice__sub(rest, sl, rest.len);
        }
    }
    r->path_ = path;
    r->flags_ = (h->flags & HT_HEAD_CONTENT_LENGTH) ? HT_REQUEST_F_HAS_LENGTH : 0;
}

/* dispatch's handler call with an access log or metrics: timed, and
 * observed once the response is complete (a deferred one: when it ends). */
static bool dispatch_logged(ht_conn_t* c, const ht_request_t* req, ht_response_t* res) {
    ht_acceptor_t* acc = c->acc;
    uint64_t t0 = ht_obs__start_(acc);
    acc->handler_(&acc->cfg_, req, res, acc->alloc_);
    if (res->state == HT_RES_DEFERRED) {
        ht_obs__deferred_(c, req, t0);
        return true;
    }
    ht_response__finish_(res);
    ht_obs__done_(c, req, res->status, res->body_bytes, t0);
    return false;
}

static void dispatch(ht_conn_t* c, const ht_request_head_t* h, ht_slice_t body, bool chunked, bool pending) {
    ht_acceptor_t* acc = c->acc;
    ht_request_t req;
    req_build(c, h, body, &req);
    c->requests++;
    /* h is the parsed head (see req_build's note on the analyzer). */
    /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
    bool keep = (h->flags & HT_HEAD_KEEP_ALIVE) && !acc->stopping_ &&
                c->requests < acc->cfg_.max_keepalive_requests;
    req.flags_ |= (keep ? HT_REQUEST_F_KEEP_ALIVE : 0) | (chunked ? HT_REQUEST_F_CHUNKED : 0) |
                  (pending ? HT_REQUEST_F_BODY_PENDING : 0);

    int64_t now = ht_loop__wall_s_(acc->loop_);
    if (HT_UNLIKELY(now != acc->date_s_)) {
        acc->date_s_ = now;
        ht_date_line_(acc->date_, now);
    }
    uint8_t rf = (h->method_id == HT_METHOD_HEAD ? HT_RESF_HEAD_ONLY : 0) |
                 (h->version_minor == 0 ? HT_RESF_HTTP10 : 0);
    if (!keep) rf |= HT_RESF_CLOSE;
    else if (h->version_minor == 0) rf |= HT_RESF_KEEP_ALIVE;
    c->rflags = rf; /* for a deferred response */
    /* Answered at once, a streamed body stays unread: the connection closes. */
    if (HT_UNLIKELY(pending)) rf = (uint8_t) ((rf | HT_RESF_CLOSE) & ~HT_RESF_KEEP_ALIVE);
    ht_response_t res;
    ht_response__begin_(&res, c->out, c, acc->date_, rf);
    acc->stats_.requests++;
    if (HT_UNLIKELY(acc->observe_)) {
        if (dispatch_logged(c, &req, &res)) return; /* deferred */
    } else {
        acc->handler_(&acc->cfg_, &req, &res, acc->alloc_);
        if (HT_UNLIKELY(res.state == HT_RES_DEFERRED)) return; /* the handle carries on (defer.c) */
        ht_response__finish_(&res);
    }
    if (!keep || pending) {
        c->flags |= HT_CF_CLOSE;
        c->rstate = HT_RS_DONE;
    }
}

/* The body_policy hook's answer for the request whose head is in h. */
static ht_body_policy_t body_policy(ht_conn_t* c, const ht_request_head_t* h) {
    ht_acceptor_t* acc = c->acc;
    ht_body_policy_t p = { acc->cfg_.max_body, false, false };
    if (acc->cfg_.body_policy == nullptr) return p;
    ht_request_t req;
    req_build(c, h, (ht_slice_t){ nullptr, 0 }, &req);
    req.flags_ |= ((h->flags & HT_HEAD_CHUNKED) ? HT_REQUEST_F_CHUNKED : 0) | HT_REQUEST_F_BODY_PENDING;
    ht_body_policy_t q = acc->cfg_.body_policy(&acc->cfg_, &req);
    if (q.limit) p.limit = q.limit;
    p.stream = q.stream;
    p.json_errors = q.json_errors;
    return p;
}

/* Whether the send buffer has room for one more response (head, a 500
 * fallback, one out-of-line body). A head that does not fit behind the
 * batch's earlier responses grows the buffer (ht_conn__out_grow_): room is
 * measured against unit, not cap, so the response that grew it (it ran past
 * unit) ends the batch, and a grown buffer stays under 2 * unit. */
static bool out_has_room(const ht_conn_t* c) {
    const ht_out_t* o = c->out;
    if (o->file_state != HT_OUT_FILE_NONE) return false; /* a file body ends the batch */
    uint32_t reserve = o->unit / 4;
    if (reserve > 4096) reserve = 4096;
    return o->len + reserve <= o->unit && o->iovcnt + 3 <= HT_OUT_IOV && o->nexts + 1 <= HT_OUT_EXT;
}

/* Parses the head at in_off into acc->headers_. */
static ht_io_t parse_head(ht_conn_t* c, ht_request_head_t* h) {
    ht_acceptor_t* acc = c->acc;
    h->headers = acc->headers_;
    h->max_headers = acc->cfg_.max_headers;
    ht_parse_limits_t lim = limits_of(acc, c);
    return ht_parse__request(&c->parser, c->in + c->in_off, c->in_len - c->in_off, &lim, h);
}

static void request_done(ht_conn_t* c, size_t consumed) {
    c->in_off += consumed;
    if (c->rstate != HT_RS_DONE) c->rstate = HT_RS_HEAD;
    memset(&c->parser, 0, sizeof c->parser);
    c->flags &= (uint16_t) ~(HT_CF_CONTINUE | HT_CF_PARSED);
    c->head_len = 0;
    c->body_need = c->body_len = 0;
}

/* Queues "100 Continue" when the client waits for it and the body is wanted. */
static void maybe_continue(ht_conn_t* c, const ht_request_head_t* h, size_t have) {
    if (c->flags & HT_CF_CONTINUE) return;
    c->flags |= HT_CF_CONTINUE;
    if (!(h->flags & HT_HEAD_EXPECT_CONTINUE) || h->version_minor == 0) return;
    if (have > 0) return; /* the client did not wait */
    if (!out_ensure(c) || !ht_out__continue_(c->out)) return;
}

static void conn_process(ht_conn_t* c) {
    ht_acceptor_t* acc = c->acc;
    ht_request_head_t h;
    c->flags |= HT_CF_BUSY;
    while (!(c->flags & (HT_CF_SEND | HT_CF_DEAD | HT_CF_CLOSE | HT_CF_LINGER | HT_CF_DEFER)) && c->in) {
        size_t avail = c->in_len - c->in_off;
        if (c->rstate == HT_RS_HEAD) {
            if (avail == 0) break;
            if (!out_ensure(c)) { conn_close(c); return; }
            if (!out_has_room(c)) break; /* flush first; resumed by on_send */
            ht_io_t r = parse_head(c, &h);
            if (r == -EAGAIN) break;
            if (r < 0) { conn_fail(c, (ht_result_t) r, false); break; }
            c->head_len = (uint32_t) r;
            c->flags |= HT_CF_PARSED;
            bool chunked = (h.flags & HT_HEAD_CHUNKED) != 0;
            bool has_body = chunked || ((h.flags & HT_HEAD_CONTENT_LENGTH) && h.content_length > 0);
            if (has_body) { /* read by the body states only */
                c->body_limit = acc->cfg_.max_body;
                c->json_err = false;
            }
            if (has_body && HT_UNLIKELY(acc->cfg_.body_policy != nullptr)) {
                ht_body_policy_t p = body_policy(c, &h);
                c->body_limit = p.limit;
                c->json_err = p.json_errors;
                if (!chunked && h.content_length > p.limit) { conn_fail(c, HT_E_BODY_TOO_LARGE, p.json_errors); break; }
                if (p.stream) {
                    /* The handler runs now and asks for the body, or not. */
                    memset(&c->chunked, 0, sizeof c->chunked);
                    c->flags = (uint16_t) ((c->flags & ~HT_CF_CHUNKED) | (chunked ? HT_CF_CHUNKED : 0));
                    c->body_need = chunked ? 0 : h.content_length;
                    c->body_len = 0;
                    if ((h.flags & HT_HEAD_EXPECT_CONTINUE) && h.version_minor == 1) c->flags |= HT_CF_EXPECT;
                    c->rstate = HT_RS_BODY_WAIT;
                    /* Only the head is consumed (its bytes stay where they
                     * are for the handler); the body is the handle's. */
                    ht_slice_t none = { c->in + c->in_off + r, 0 };
                    c->in_off += (size_t) r;
                    memset(&c->parser, 0, sizeof c->parser);
                    c->head_len = 0;
                    dispatch(c, &h, none, chunked, true);
                    c->flags &= (uint16_t) ~(HT_CF_CONTINUE | HT_CF_PARSED);
                    continue;
                }
            }
            if (chunked) {
                memset(&c->chunked, 0, sizeof c->chunked);
                c->rstate = HT_RS_BODY_CHUNKED;
                c->body_len = 0;
                maybe_continue(c, &h, avail - (size_t) r);
            } else if ((h.flags & HT_HEAD_CONTENT_LENGTH) && h.content_length > 0) {
                if (h.content_length > c->body_limit) { conn_fail(c, HT_E_BODY_TOO_LARGE, c->json_err); break; }
                c->body_need = h.content_length;
                c->rstate = HT_RS_BODY_CL;
                maybe_continue(c, &h, avail - (size_t) r);
            } else {
                dispatch(c, &h, (ht_slice_t){ c->in + c->in_off + r, 0 }, false, false);
                request_done(c, (size_t) r);
                continue;
            }
            /* fall through into the body states with the bytes we have */
        }
        if (c->rstate == HT_RS_BODY_CL) {
            size_t total = c->head_len + c->body_need;
            if (avail < total) {
                if (!in_reserve(c, total)) { conn_close(c); return; }
                break;
            }
            if (!(c->flags & HT_CF_PARSED)) {
                memset(&c->parser, 0, sizeof c->parser);
                if (parse_head(c, &h) != (ht_io_t) c->head_len) { conn_close(c); return; }
            }
            if (!out_ensure(c)) { conn_close(c); return; }
            if (!out_has_room(c)) break;
            dispatch(c, &h, (ht_slice_t){ c->in + c->in_off + c->head_len, c->body_need }, false, false);
            request_done(c, total);
            continue;
        }
        if (c->rstate == HT_RS_BODY_CHUNKED) {
            /* Raw bytes after the decoded payload are decoded in place. */
            size_t dec_end = c->in_off + c->head_len + c->body_len;
            size_t raw = c->in_len - dec_end;
            if (raw == 0) {
                if (!in_reserve(c, avail + 4096)) { conn_close(c); return; }
                break;
            }
            size_t n = raw;
            ht_io_t r = ht_chunked__decode(&c->chunked, c->in + dec_end, &n, c->body_limit,
                                           acc->cfg_.max_trailer);
            if (r == -EAGAIN) {
                c->body_len += n;
                c->in_len = dec_end + n;
                /* Keep room to receive into: grow by doubling. */
                size_t used = c->in_len - c->in_off;
                if (c->in_cap - c->in_off - used < 4096) {
                    size_t want = used * 2 > used + 16384 ? used * 2 : used + 16384;
                    if (!in_reserve(c, want)) { conn_close(c); return; }
                }
                ht_conn__tl_set_(c, HT_TC_BODY);
                break;
            }
            if (r < 0) { conn_fail(c, (ht_result_t) r, c->json_err); break; }
            c->body_len += n;
            /* The r bytes after the body were moved right behind the payload. */
            c->in_len = dec_end + n + (size_t) r;
            if (!(c->flags & HT_CF_PARSED)) {
                memset(&c->parser, 0, sizeof c->parser);
                if (parse_head(c, &h) != (ht_io_t) c->head_len) { conn_close(c); return; }
            }
            if (!out_ensure(c)) { conn_close(c); return; }
            if (!out_has_room(c)) {
                /* Decoded already: come back to dispatch without decoding. */
                c->rstate = HT_RS_BODY_CL;
                c->body_need = c->body_len;
                break;
            }
            dispatch(c, &h, (ht_slice_t){ c->in + c->in_off + c->head_len, c->body_len }, true, false);
            request_done(c, c->head_len + c->body_len);
            continue;
        }
        if (HT_UNLIKELY(c->rstate == HT_RS_PROXY)) {
            /* The PROXY protocol header (proxy.c) before the first request;
             * only servers configured for it get here. */
            if (avail == 0) break;
            ht_io_t r = ht_proxy__consume_(c);
            if (r == -EAGAIN) break;
            if (r < 0) { conn_close(c); return; } /* malformed: no answer, nothing more read */
            c->in_off += (size_t) r;
            c->rstate = HT_RS_HEAD;
            continue;
        }
        break;
    }
    /* Heads parsed in this call are only valid until the next parse on this
     * acceptor (the header array is shared). */
    c->flags &= (uint16_t) ~(HT_CF_PARSED | HT_CF_BUSY);
}

static void on_recv(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    ht_conn_t* c = op->data;
    ht_acceptor_t* acc = c->acc;
    bool pooled = (c->flags & HT_CF_POOLED) != 0;
    c->flags &= (uint16_t) ~HT_CF_RECV;
    if (c->flags & HT_CF_DEAD) {
        if (res > 0 && pooled) ht_loop__buf_release(loop, op->buf);
        if (!(c->flags & HT_CF_SEND)) conn_free(c);
        return;
    }
    if (c->flags & HT_CF_LINGER) {
        if (res > 0) {
            if (pooled) ht_loop__buf_release(loop, op->buf);
            c->drained += (uint64_t) res;
            in_release(c);
            if (c->drained < LINGER_MAX_DRAIN) recv_start(c);
            /* Else no more reading: a close now, with input unread, would be
             * a reset that drops what of the last responses is still in
             * the send queue (a client that pipelined past the keep-alive
             * limit, reading them now). The linger timeout closes it, the
             * kernel sending meanwhile; the client's surplus waits unread. */
            return;
        } else if (res == -ENOBUFS) {
            /* No buffer to drain into: close instead of waiting. */
        }
        conn_close(c);
        return;
    }
    if (res == -ENOBUFS && pooled) {
        acc->stats_.starved++;
        ht_conn__tl_set_(c, HT_TC_STARVED);
        return;
    }
    if (res < 0) {
        conn_close(c);
        return;
    }
    if (res == 0) {
        c->flags |= HT_CF_EOF;
        if (c->flags & HT_CF_SEND) return; /* on_send finishes the job */
        if (c->flags & HT_CF_DEFER) {
            conn_next(c); /* ht_conn__defer_wait_: the client has left */
            return;
        }
        conn_process(c);
        conn_next(c);
        return;
    }
    if (pooled) {
        ht_buf_t* b = op->buf;
        c->in = b->data;
        c->in_buf = b;
        c->in_cap = b->cap;
        c->in_len = (size_t) res;
        c->in_off = 0;
    } else {
        c->in_len += (size_t) res;
    }
    if (c->rstate == HT_RS_BODY_CL || c->rstate == HT_RS_BODY_CHUNKED || c->rstate == HT_RS_BODY_STREAM)
        ht_conn__tl_set_(c, HT_TC_BODY);
    if (c->flags & HT_CF_SEND) return; /* processed when the send completes */
    if (c->flags & HT_CF_DEFER) {
        if (c->rstate == HT_RS_BODY_STREAM) ht_conn__body_pump_(c); /* then conn_next */
        else conn_next(c);
        return;
    }
    conn_process(c);
    conn_next(c);
}
