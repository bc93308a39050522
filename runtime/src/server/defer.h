/* server/defer.h — internal: a deferred response handle, shared by defer.c
 * (its life: deadlines, the pool, defer, attach, release, posts, streamed
 * request bodies) and defer_stream.c (a streamed response body and SSE).
 * The connection's view of a handle is conn.h's ("defer.c" section).
 *
 * A handle (ht_defer_t) is taken from its acceptor's pool by
 * ht_response__defer and goes back by ht_response__release; d->conn is set
 * only while the connection points at it (c->defer == d). */
#ifndef HT_SERVER_DEFER_H
#define HT_SERVER_DEFER_H

#include "server/conn.h"

typedef struct ht_defer_pool ht_defer_pool_t;

typedef struct ht_defer {
    ht_response_t  res;       /* &res is the handle; res.d points back here */
    ht_conn_t*     conn;      /* while attached (c->defer == this), else nullptr */
    ht_defer_pool_t* pool;    /* where this struct goes back to */
    ht_loop_t*     loop;
    ht_acceptor_t* acc;       /* while on one of its deadline lists */
    struct ht_defer* dprev;   /* deadline list links; dnext also links the pool */
    struct ht_defer* dnext;
    uint64_t       due;       /* on a deadline list: when (loop ms) */
    int8_t         dl;        /* that list's index, or -1 */
    ht_post_t      post;
    ht_response_fn post_fn;   /* set with each post */
    void*          post_ud;
    uint64_t       left;      /* HT_SM_LENGTH: body bytes still to come */
    uint32_t       deadline_ms; /* the deadline's length (it waits while a body is read) */
    /* From here to the timers: zero when a handle is taken (the fields
     * above are all set by ht_response__defer, the timers are stopped). */
    ht_response_fn cancel_fn;
    void*          cancel_ud;
    ht_response_fn ready_fn;
    void*          ready_ud;
    ht_body_fn     body_fn;
    void*          body_ud;
    uint32_t       beat_ms;
    uint8_t        mode;      /* HT_SM_* */
    uint8_t        dflags;    /* HT_DF_* */
    ht_timer_t     deadline;  /* a deadline no list takes, or a shutdown's drain */
    ht_timer_t     beat;      /* SSE heartbeat */
    ht_timer_t     kick;      /* 0 ms: a body pump on the next iteration (a timer, so
                               * that a release can stop it) */
} ht_defer_t;

/* Released handles kept for the next defer, so that a deferred response
 * costs no malloc. The pool outlives its acceptor while handles are out
 * (a handle may be released after serve_finalize): closed, it frees what
 * comes back and itself with the last one. */
struct ht_defer_pool {
    ht_defer_t* free;
    ht_alloc_t* alloc;
    uint32_t    nfree;
    uint32_t    out;       /* handles given out and not released */
    bool        closed;    /* the acceptor is finalized */
};

enum { /* how a streamed body is framed */
    HT_SM_NONE = 0, /* not streaming */
    HT_SM_LENGTH,   /* Content-Length */
    HT_SM_CHUNKED,  /* Transfer-Encoding: chunked */
    HT_SM_CLOSE,    /* HTTP/1.0: until the connection closes */
    HT_SM_NOBODY,   /* HEAD, 204, 304: head only */
};

enum {
    HT_DF_POSTED     = 1u << 0, /* a post is queued */
    HT_DF_WANT_READY = 1u << 1, /* a write was refused: call ready when there is room */
    HT_DF_DRAIN      = 1u << 2, /* the deadline timer is the shutdown's */
};

HT_INLINE ht_defer_t* ht_defer__of_(const ht_response_t* res) { return res->d; }

/* ---- defer.c, for defer_stream.c ---- */
/* Takes d off its deadline list and stops its own timer. */
void ht_defer__deadline_stop_(ht_defer_t* d);
/* Detaches a handle whose response is complete: the connection sends what
 * it holds and no longer needs the handle. */
void ht_defer__detach_(ht_defer_t* d);

/* ---- defer_stream.c, for defer.c ---- */
/* Ends a stream (ht_response__release): the last chunk, or a close where
 * the framing needs one; DONE, detached. */
ht_result_t ht_defer__stream_end_(ht_defer_t* d);

#endif /* HT_SERVER_DEFER_H */
