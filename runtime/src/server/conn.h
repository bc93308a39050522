/* server/conn.h — internal: connections, send buffers and the response
 * builder's state, shared by conn.c, response.c and the tests. */
#ifndef HT_SERVER_CONN_H
#define HT_SERVER_CONN_H

#include <ht/server.h>

#include "http/parse.h"
#include "loop/clock.h"

/* Timeout classes: each has one duration, so appending at the tail keeps
 * every list sorted by deadline and one sweep of the heads is enough. */
enum ht_tclass {
    HT_TC_HEADER = 0, /* waiting for (the rest of) a request head */
    HT_TC_BODY,       /* waiting for body bytes */
    HT_TC_IDLE,       /* keep-alive, nothing buffered */
    HT_TC_SEND,       /* a send is in flight */
    HT_TC_LINGER,     /* write side shut, draining input before close */
    HT_TC_STARVED,    /* waiting for a pooled receive buffer */
    HT_TC_DEFER,      /* waiting for a deferred response (its own deadline timer) */
    HT_TC_DEAD,       /* closing, waiting for its operations to return (no timeout) */
    HT_TC_NONE = 0xff,
};
static_assert(HT_TC_DEFER + 1 == HT_ACCEPTOR_CLASSES_, "one list per class");

#define HT_OUT_IOV 16
#define HT_OUT_EXT 8

/* A send buffer: the response bytes of one read batch, plus the iovec that
 * sends them and the out-of-line bodies to free once sent. Lives in the
 * acceptor's freelist while unused. A buffer grown by ht_conn__out_grow_
 * (size under twice unit) is freed, not cached, when the connection lets it
 * go; until then each batch starts with cap = unit again (on_send), so what
 * fits never depends on an earlier batch. */
typedef struct ht_out {
    struct ht_out* next;     /* freelist */
    uint32_t       cap;      /* bytes of data[] this batch may use: unit, or for the
                              * batch that grew it, that response's start + unit */
    uint32_t       size;     /* bytes of data[] allocated */
    uint32_t       unit;     /* send_buffer_size */
    uint32_t       len;      /* bytes written */
    uint32_t       sealed;   /* data[0, sealed) is covered by iov[] */
    uint32_t       iovcnt;
    uint32_t       nexts;
    uint64_t       total;    /* bytes to send */
    uint64_t       file_off; /* file body after iov[] (see ht_response__file) */
    uint64_t       file_len;
    ht_file_t      file;     /* HT_FILE_INVALID: none */
    uint8_t        file_own;
    uint8_t        file_state; /* HT_OUT_FILE_* */
    ht_iov_t       iov[HT_OUT_IOV];
    struct { void* p; size_t n; ht_alloc_t* a; } ext[HT_OUT_EXT];
    char           data[];
} ht_out_t;

struct ht_conn;
struct ht_defer;

struct ht_response {
    ht_out_t*   out;         /* nullptr: a deferred response not building yet */
    struct ht_conn* conn;    /* owner of out, which may grow (ht_conn__out_grow_);
                              * nullptr: a fixed buffer (unit tests) */
    struct ht_defer* d;      /* the deferred handle this is, or nullptr */
    const char* date;        /* the acceptor's cached "Date: ...\r\n" line */
    uint64_t    body_bytes;  /* ht_response__body_bytes */
    uint32_t    start;       /* rollback point */
    uint32_t    start_iov;
    uint32_t    start_ext;
    uint32_t    timeout_ms;  /* ht_response__timeout, before a defer (0: config's) */
    uint16_t    timeout_status;
    uint16_t    status;
    uint8_t     state;       /* HT_RES_* */
    uint8_t     flags;       /* HT_RESF_* */
    ht_error_page_fn err_fn; /* ht_response__on_error, or nullptr: the built-in page */
    void*       err_ud;
    ht_slice_t  err_msg;     /* ht_response__error_msg's message: valid under HT_RESF_ERR_MSG only
                              * (so that ht_response__begin_ has nothing more to set) */
    ht_done_fn  done_fn;     /* ht_response__on_done: valid with HT_RESF_ON_DONE (a handle's:
                              * zeroed by defer, so nullptr when unset) */
    void*       done_ud;
    uint32_t    done_tag;
};

/* A response's states. The handler's own response goes NONE -> HEAD -> DONE
 * within the call (or FAILED, then a 500 replaces it), or hands over to a
 * deferred handle (DEFERRED). A handle goes the same way, later, or NONE/HEAD
 * -> STREAM -> DONE for a streamed body; GONE once cut off (defer.c). */
enum { HT_RES_NONE = 0, HT_RES_HEAD, HT_RES_DONE, HT_RES_FAILED, HT_RES_STREAM, HT_RES_DEFERRED,
       HT_RES_GONE };
enum {
    HT_RESF_HEAD_ONLY  = 1u << 0, /* HEAD request: no body bytes */
    HT_RESF_CLOSE      = 1u << 1, /* Connection: close */
    HT_RESF_KEEP_ALIVE = 1u << 2, /* HTTP/1.0 keep-alive: say so */
    HT_RESF_HTTP10     = 1u << 3, /* an HTTP/1.0 request (no chunked coding) */
    HT_RESF_IN_ERROR   = 1u << 4, /* err_fn is running: ht_response__error is the built-in page */
    HT_RESF_ERR_MSG    = 1u << 5, /* inside ht_response__error_msg: err_msg is its message */
    HT_RESF_ON_DONE    = 1u << 6, /* done_fn is set (ht_response__on_done) */
};

enum { HT_OUT_FILE_NONE = 0, HT_OUT_FILE_PENDING, HT_OUT_FILE_SENDING };

/* The error a builder call on a response in the wrong state returns. */
HT_INLINE ht_result_t ht_response__state_err_(const ht_response_t* res) {
    return res->state == HT_RES_GONE ? HT_E_GONE : HT_E_RESPONSE_STATE;
}

/* Response builder internals (response.c). conn: the connection that owns
 * out (its buffer may grow), or nullptr for a fixed buffer. */
HT_INLINE void ht_response__begin_(ht_response_t* res, ht_out_t* out, struct ht_conn* conn,
                                   const char* date_line, uint8_t flags) {
    /* Inline: once per request (and per deferred response's first call). */
    res->out = out;
    res->conn = conn;
    res->d = nullptr;
    res->date = date_line;
    res->start = out->len;
    res->start_iov = out->iovcnt;
    res->start_ext = out->nexts;
    res->body_bytes = 0;
    res->timeout_ms = 0;
    res->timeout_status = 0;
    res->status = 0;
    res->state = HT_RES_NONE;
    res->flags = flags;
    res->err_fn = nullptr;
    res->err_ud = nullptr;
    /* done_fn is unset: HT_RESF_ON_DONE (in flags) says when it is set. */
}
/* Ends a streamed response's head (Date, Connection, the blank line); the
 * framing header (Content-Length or Transfer-Encoding) is already in it. */
ht_result_t ht_response__end_head_stream_(ht_response_t* res);
/* Completes the response: a 500 if nothing valid was built. */
void ht_response__finish_(ht_response_t* res);
/* Appends a bare interim "100 Continue". False if there is no room. */
bool ht_out__continue_(ht_out_t* out);
/* Makes room for need more bytes of the response res is building, which
 * does not fit behind the earlier (pipelined) responses in c->out: when it
 * would fit in an empty send buffer (its bytes so far plus need <=
 * send_buffer_size), the batch may use res->start + send_buffer_size bytes:
 * in place if c->out is that large already, else c->out and res->out become
 * a new buffer holding everything so far (iovecs rebased, bodies and file
 * carried over) and the old one goes back to the cache. Returns 0, -ENOBUFS
 * (too large even for an empty buffer) or -ENOMEM. (conn.c) */
ht_result_t ht_conn__out_grow_(struct ht_conn* c, ht_response_t* res, size_t need);
/* ht_response__header for a field the library built itself (a name from
 * its own table, a value it formatted or the MIME table's): no checks, no
 * id lookup, no trimming; they cost ~400 instructions per field, most of
 * a small file's header time. Never for a caller's or a client's bytes. */
ht_result_t ht_response__header_own_(ht_response_t* res, ht_slice_t name, ht_slice_t value);
/* ht_response__status, then several fields as ht_response__header_own_
 * would write them, already serialized ("Name: value\r\n" each: a cached
 * file's, ht_fs_plan_t.fields_): for 200, one room check and one copy. */
ht_result_t ht_response__status_fields_own_(ht_response_t* res, uint16_t status, ht_slice_t lines);
/* Refreshes the acceptor-style date line "Date: ...\r\n" (37 bytes + NUL). */
void ht_date_line_(char* out, int64_t t);
#define HT_DATE_LINE_LEN 37

enum {
    HT_CF_RECV      = 1u << 0,  /* rop in flight */
    HT_CF_SEND      = 1u << 1,  /* sop in flight */
    HT_CF_EOF       = 1u << 2,  /* peer finished sending */
    HT_CF_CLOSE     = 1u << 3,  /* last response queued: close once sent */
    HT_CF_LINGER    = 1u << 4,  /* write side shut, draining */
    HT_CF_DEAD      = 1u << 5,  /* closing: waiting for ops to return */
    HT_CF_POOLED    = 1u << 6,  /* the rop in flight is a pooled recv */
    HT_CF_CONTINUE  = 1u << 7,  /* 100 Continue handled for this request */
    HT_CF_PARSED    = 1u << 8,  /* acc->headers_ holds this conn's current head */
    HT_CF_DEFER     = 1u << 9,  /* a deferred response is outstanding: requests behind wait */
    HT_CF_DEFER_END = 1u << 10, /* ... and all its bytes are in dout or sent */
    HT_CF_DEFER_OUT = 1u << 11, /* ... and some of them went to the wire */
    HT_CF_EXPECT    = 1u << 12, /* the client waits for 100 Continue before its body */
    HT_CF_BUSY      = 1u << 13, /* inside conn_process: resuming waits for it */
    HT_CF_CHUNKED   = 1u << 14, /* the streamed body is chunked (else body_need counts) */
    HT_CF_INTERIM   = 1u << 15, /* dout holds only a 100 Continue so far */
};

/* Receive states. BODY_WAIT: a streamed body the handler has not asked
 * for; BODY_STREAM: delivering it (ht_response__read_body); BODY_PAUSED:
 * the handler paused it (ht_response__pause_body). */
enum { HT_RS_HEAD = 0, HT_RS_BODY_CL, HT_RS_BODY_CHUNKED, HT_RS_DONE, HT_RS_BODY_WAIT,
       HT_RS_BODY_STREAM, HT_RS_BODY_PAUSED,
       HT_RS_PROXY /* waiting for a PROXY protocol header (proxy.c) */ };

/* Whether part of a streamed request body is still to be read. */
#define HT_RS_BODY_UNREAD(rs) ((rs) == HT_RS_BODY_WAIT || (rs) == HT_RS_BODY_STREAM || (rs) == HT_RS_BODY_PAUSED)

/* A connection; from the acceptor's freelist. */
typedef struct ht_conn {
    ht_acceptor_t*  acc;
    struct ht_conn* tprev;   /* class list; tnext doubles as freelist link */
    struct ht_conn* tnext;
    uint64_t        deadline;
    ht_op_t         rop;     /* recv side */
    ht_op_t         sop;     /* send side */
    char*           in;      /* received bytes: a pooled buffer's data or our own */
    ht_buf_t*       in_buf;  /* the pooled buffer, or nullptr if `in` is allocated */
    size_t          in_cap;
    size_t          in_len;
    size_t          in_off;  /* start of the current request */
    ht_out_t*       out;
    ht_out_t*       dout;    /* the deferred response's bytes not yet handed to out */
    struct ht_defer* defer;  /* the deferred handle, while it is attached */
    ht_parser_t     parser;
    ht_chunked_t    chunked;
    uint64_t        body_need;   /* Content-Length of the current body */
    uint64_t        body_len;    /* chunked: payload bytes decoded so far */
    uint64_t        drained;     /* linger: bytes discarded */
    uint64_t        body_limit;  /* the current request's body limit (body_policy) */
    uint32_t        head_len;    /* current request's head, once parsed */
    uint32_t        requests;
    ht_socket_t     fd;
    uint16_t        flags;       /* HT_CF_* */
    uint8_t         tclass;
    uint8_t         rstate;      /* HT_RS_* */
    uint8_t         rflags;      /* the deferred response's HT_RESF_* */
    ht_addr_t       peer;        /* ht_request__peer's answer, once asked */
    int16_t         peer_err;    /* 0 (not asked yet, or known) or getpeername's -errno */
    bool            peer_known;
    bool            proxied;     /* came through the PROXY protocol: peer is the header's */
    bool            json_err;    /* the current body's errors as JSON (body_policy) */
    bool            sndbuf_grown; /* SO_SNDBUF raised for a large file (ht_sock__grow_sndbuf) */
    ht_addr_t       sock_peer;   /* ... and this the proxy's (ht_request__socket_peer) */
    void*           log_stash_;  /* a deferred request's access-log fields (access_log.c) */
    uint64_t        obs_t0_;     /* a deferred request's dispatch time (observe.c) */
    uint8_t         obs_method_; /* ... and method */
    bool            obs_pending_;
    /* A cut-off deferred response's completion callback (ht_response__on_done),
     * run with the status of the server's answer in its place, or with
     * done_status_ when the connection closes first. */
    ht_done_fn      done_fn_;
    void*           done_ud_;
    uint32_t        done_tag_;
    uint16_t        done_status_;
} ht_conn_t;

/* Runs and clears c's pending completion callback (see done_fn_). */
HT_INLINE void ht_conn__done_(ht_conn_t* c, uint16_t status) {
    ht_done_fn fn = c->done_fn_;
    c->done_fn_ = nullptr;
    fn(c->done_ud_, c->done_tag_, status);
}

/* ---- out.c / out.h: send buffers ---- */
#include "server/out.h"
/* Frees the cache (serve_finalize). */
void ht_out__cache_free_(ht_acceptor_t* acc);
/* Whether o holds anything for the wire. */
HT_INLINE bool ht_out__pending_(const ht_out_t* o) {
    return o->len || o->iovcnt || o->file_state != HT_OUT_FILE_NONE;
}

/* ---- Timeout lists (inline: the request path moves a connection on every
 * request) ---- */

static inline void ht_conn__tl_unlink_(ht_conn_t* c) {
    if (c->tclass == HT_TC_NONE) return;
    ht_conn_list_t* l = &c->acc->lists_[c->tclass];
    if (c->tprev) c->tprev->tnext = c->tnext; else l->head = c->tnext;
    if (c->tnext) c->tnext->tprev = c->tprev; else l->tail = c->tprev;
    c->tprev = c->tnext = nullptr;
    c->tclass = HT_TC_NONE;
}

/* Moves c to the tail of class cls with a fresh deadline. */
static inline void ht_conn__tl_set_(ht_conn_t* c, uint8_t cls) {
    ht_acceptor_t* acc = c->acc;
    ht_conn__tl_unlink_(c);
    ht_conn_list_t* l = &acc->lists_[cls];
    c->deadline = ht_loop__now_ms_(acc->loop_) + acc->timeout_ms_[cls];
    c->tclass = cls;
    c->tprev = l->tail;
    c->tnext = nullptr;
    if (l->tail) l->tail->tnext = c; else l->head = c;
    l->tail = c;
}

/* Like ht_conn__tl_set_, but keeps the deadline when already in cls. */
static inline void ht_conn__tl_enter_(ht_conn_t* c, uint8_t cls) {
    if (c->tclass != cls) ht_conn__tl_set_(c, cls);
}

/* ---- conn_accept.c, for the acceptor ---- */
/* A connection for the accepted fd, receiving; false if out of memory. */
bool ht_conn__start_(ht_acceptor_t* acc, ht_socket_t fd);
/* c's deadline in timeout class cls has passed. */
void ht_conn__timeout_(ht_conn_t* c, uint8_t cls);
/* A starved connection tries to receive again. */
void ht_conn__retry_(ht_conn_t* c);
/* ---- conn.c, for the others ---- */
/* Closes the connection (the handle is cut off with HT_E_CLOSED); for
 * defer.c, conn_defer.c and conn_accept.c. */
void ht_conn__close_(ht_conn_t* c);
/* ---- conn.c, for conn_defer.c (the deferred path) and conn_accept.c ---- */
/* After processing: sends what was produced, or goes back to reading. */
void ht_conn__next_(ht_conn_t* c);
/* Parses and answers the complete requests in the receive buffer. */
void ht_conn__process_(ht_conn_t* c);
/* Sends c->out (not empty; no send in flight). */
void ht_conn__send_start_(ht_conn_t* c);
/* Starts a receive: pooled when c holds no buffer, else into its tail. */
void ht_conn__recv_start_(ht_conn_t* c);
/* Lets the receive buffer go (a pooled one wakes a starved connection). */
void ht_conn__in_release_(ht_conn_t* c);
/* Moves the unconsumed bytes to the front of the receive buffer. */
void ht_conn__in_compact_(ht_conn_t* c);
/* Moves what is left of a pooled receive buffer to one of c's own; false
 * on allocation failure (the pooled one is kept). */
bool ht_conn__in_unpool_(ht_conn_t* c);
/* Queues the error response for err (json: as JSON) and closes after it. */
void ht_conn__fail_(ht_conn_t* c, ht_result_t err, bool json);
/* The timeout list a connection waiting for input belongs on. */
HT_INLINE uint8_t ht_conn__tc_waiting_(const ht_conn_t* c) {
    if (c->flags & HT_CF_DEFER) return c->rstate == HT_RS_BODY_STREAM ? HT_TC_BODY : HT_TC_DEFER;
    return c->requests ? HT_TC_IDLE : HT_TC_HEADER;
}
/* ---- proxy.c, for conn.c (only with cfg_.proxy_protocol set) ---- */
/* Whether the socket's peer is a trusted proxy; *sock_peer gets it. */
bool ht_proxy__admit_(ht_acceptor_t* acc, ht_socket_t fd, ht_addr_t* sock_peer);
/* Parses the PROXY header at c->in + in_off: its length (the peer is set),
 * -EAGAIN, or HT_E_BAD_PROXY. */
ht_io_t ht_proxy__consume_(ht_conn_t* c);
/* ---- acceptor.c, for conn.c ---- */
/* A connection was freed: accepting may resume, a shutdown may be done. */
void ht_acceptor__conn_freed_(ht_acceptor_t* acc);

/* ---- conn_defer.c: the connection's side of deferred responses ---- */
/* For conn_next while HT_CF_DEFER is set: hands dout to the wire when no
 * send is in flight, keeps a receive running (or closes for a client that
 * left), picks the timeout list. */
void ht_conn__defer_wait_(ht_conn_t* c);
/* For conn.c: a send completed while HT_CF_DEFER is set (on_send). */
void ht_conn__defer_after_send_(ht_conn_t* c);
/* For defer.c and defer_stream.c: */
/* Hands dout to the wire when no send is in flight; once the deferred
 * response has ended and is all sent, resumes the requests behind it. */
void ht_conn__defer_flush_(ht_conn_t* c);
/* The deferred response failed or was cut off (the handle is detached):
 * the server answers `status` in its place (closing after it when close is
 * set or a body is left unread), or just closes when some of the response
 * went out already. */
void ht_conn__defer_fail_(ht_conn_t* c, uint16_t status, bool close);
/* Delivers the buffered bytes of a streamed body (HT_RS_BODY_STREAM),
 * then goes on as conn_next does (also for conn.c's on_recv). */
void ht_conn__body_pump_(ht_conn_t* c);
/* "100 Continue" to a client that waits for it (ht_response__read_body). */
void ht_conn__continue_(ht_conn_t* c);
/* Refreshes the acceptor's cached Date line; returns it. */
HT_INLINE const char* ht_conn__date_(ht_acceptor_t* acc) {
    int64_t now = ht_loop__wall_s_(acc->loop_);
    if (HT_UNLIKELY(now != acc->date_s_)) {
        acc->date_s_ = now;
        ht_date_line_(acc->date_, now);
    }
    return acc->date_;
}

/* ---- defer.c (defer_stream.c: ht_defer__sent_) ---- */
/* Whether the handle's response is being built (status or headers set,
 * not yet complete nor streaming): its bytes in dout must not go out. */
bool ht_defer__building_(const struct ht_defer* d);
/* Cuts the handle off (reason to its cancel callback) and detaches it. */
void ht_defer__cut_(struct ht_defer* d, ht_result_t reason);
/* Shutdown began: the handle has drain_ms more at most. */
void ht_defer__drain_(struct ht_defer* d, uint32_t drain_ms);
/* Called by the builder when a deferred response becomes DONE. */
void ht_defer__done_(struct ht_defer* d);
/* The first builder call of a handle that has no buffer yet: attaches one. */
ht_result_t ht_defer__attach_(ht_response_t* res);
/* What a deferred handle's out points to until it attaches: no room, so
 * the first builder call takes the room check's slow path (res_grow), which
 * attaches; the synchronous path tests nothing more. */
extern ht_out_t ht_out__unattached_;
/* serve_finalize: the deadline lists' timers stop, the handle pool is
 * closed (freed now, or with the last handle still out). */
void ht_defer__acceptor_done_(ht_acceptor_t* acc);
/* After a send: room again for a refused writer (conn_defer.c; in
 * defer_stream.c). */
void ht_defer__sent_(struct ht_defer* d);
/* The body callback of a streamed request body. */
void ht_defer__body_(struct ht_defer* d, ht_slice_t piece, bool last);

#endif /* HT_SERVER_CONN_H */
