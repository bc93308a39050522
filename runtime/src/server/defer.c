/* server/defer.c — a response's life after its handler returns.
 *
 * One state machine, kept on the handle's ht_response_t (state) and its
 * connection (flags):
 *
 *   handler's response --defer--> DEFERRED (the handler's copy is dead)
 *   handle: NONE/HEAD --body/file--> DONE ----------------------\
 *           NONE/HEAD --stream--> STREAM --release--> DONE -------+--> sent, the
 *           any state before DONE --deadline/client gone--> GONE   requests behind
 *                                                                   it resume
 *
 * The handle is the application's until ht_response__release; the
 * connection points at it (c->defer) only while the response is still being
 * built or streamed. Its bytes go to the connection's dout buffer, which the
 * connection hands to the wire (c->out) whenever no send is in flight
 * (conn_defer.c: ht_conn__defer_flush_), so a stream holds at most the buffer in
 * flight and the one filling.
 *
 * This file is the handle's life: deadlines, the pool, defer, attach,
 * release, posts and streamed request bodies. A streamed response body and
 * SSE (STREAM) are defer_stream.c's; defer.h has the handle both share.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "server/observe.h"
#include "server/defer.h"

/* Released handles a pool keeps (ht_defer_pool_t, defer.h). */
#define HT_DEFER_POOL_KEEP 64

ht_out_t ht_out__unattached_; /* cap 0: see conn.h */

/* ---- Deadlines ---- */

static void on_deadline(ht_loop_t* loop, ht_timer_t* t);
static void deadline_passed(ht_defer_t* d);

static void dl_remove(ht_defer_t* d) {
    if (d->dl < 0) return;
    ht_deadline_list_t* l = &d->acc->deadlines_[d->dl];
    if (d->dprev) d->dprev->dnext = d->dnext; else l->head = d->dnext;
    if (d->dnext) d->dnext->dprev = d->dprev; else l->tail = d->dprev;
    d->dprev = d->dnext = nullptr;
    d->dl = -1;
}

static void on_list_timer(ht_loop_t* loop, ht_timer_t* t) {
    ht_deadline_list_t* l = t->data;
    uint64_t now = ht_loop__now_ms_(loop);
    /* Bounded: each pass takes the head off the list. */
    for (uint32_t guard = 0; guard < 1u << 20 && l->head && l->head->due <= now; guard++) {
        ht_defer_t* d = l->head;
        dl_remove(d);
        deadline_passed(d);
    }
    if (l->head) ht_loop__timer_start(loop, &l->timer, l->head->due - now, on_list_timer);
}

/* (Re)starts d's deadline, ms from now: on the list of that duration
 * (O(1); its timer is armed only when it was not), or on the handle's own
 * timer when every list holds another duration. */
static void deadline_arm(ht_defer_t* d, uint32_t ms);
static void deadline_start(ht_defer_t* d, uint32_t ms) {
    dl_remove(d);
    if (ht_loop__timer_active(&d->deadline)) ht_loop__timer_stop(d->loop, &d->deadline);
    deadline_arm(d, ms);
}

/* deadline_start for a handle on no list whose own timer is stopped (one
 * just taken from the pool, as every defer does). */
static void deadline_arm(ht_defer_t* d, uint32_t ms) {
    ht_acceptor_t* acc = d->conn->acc;
    ht_deadline_list_t* l = acc->deadlines_[0].ms == ms ? &acc->deadlines_[0] : nullptr;
    for (int i = 0; l == nullptr && i < HT_ACCEPTOR_DEADLINE_LISTS_; i++) {
        ht_deadline_list_t* c = &acc->deadlines_[i];
        if (c->ms == ms) { l = c; break; }
        if (l == nullptr && c->head == nullptr) l = c;
    }
    if (l == nullptr) {
        ht_loop__timer_start(d->loop, &d->deadline, ms, on_deadline);
        return;
    }
    if (l->ms != ms) {
        /* An empty list takes a new duration; its lazy timer, if armed for
         * the old one, finds nothing due and is re-armed below. */
        l->ms = ms;
        l->timer.data = l;
    }
    d->acc = acc;
    d->dl = (int8_t) (l - acc->deadlines_);
    d->due = ht_loop__now_ms_(d->loop) + ms;
    d->dprev = l->tail;
    d->dnext = nullptr;
    if (l->tail) l->tail->dnext = d; else l->head = d;
    l->tail = d;
    if (!ht_loop__timer_active(&l->timer) || l->timer.deadline_ > d->due)
        ht_loop__timer_start(d->loop, &l->timer, ms, on_list_timer);
}

void ht_defer__deadline_stop_(ht_defer_t* d) {
    dl_remove(d);
    if (ht_loop__timer_active(&d->deadline)) ht_loop__timer_stop(d->loop, &d->deadline);
}

static void defer_timers_stop(ht_defer_t* d) {
    ht_defer__deadline_stop_(d);
    if (ht_loop__timer_active(&d->beat)) ht_loop__timer_stop(d->loop, &d->beat);
    if (ht_loop__timer_active(&d->kick)) ht_loop__timer_stop(d->loop, &d->kick);
}

/* ---- Cutting off ---- */

bool ht_defer__building_(const ht_defer_t* d) {
    uint8_t st = d->res.state;
    return st == HT_RES_NONE || st == HT_RES_HEAD || st == HT_RES_FAILED;
}

void ht_defer__cut_(ht_defer_t* d, ht_result_t reason) {
    ht_conn_t* c = d->conn;
    if (c) {
        c->defer = nullptr;
        c->acc->stats_.deferred_now--;
        c->acc->stats_.cut_off++;
    }
    d->conn = nullptr;
    if (HT_UNLIKELY(d->res.done_fn != nullptr)) {
        /* The server answers in its place (ht_conn__defer_fail_), or nothing
         * more goes out: the connection runs the callback with what it sends. */
        uint16_t st = d->res.state == HT_RES_STREAM ? d->res.status : 0;
        ht_done_fn done = d->res.done_fn;
        d->res.done_fn = nullptr;
        if (c) {
            c->done_fn_ = done;
            c->done_ud_ = d->res.done_ud;
            c->done_tag_ = d->res.done_tag;
            c->done_status_ = st;
        } else {
            done(d->res.done_ud, d->res.done_tag, st);
        }
    }
    d->res.state = HT_RES_GONE;
    d->res.out = nullptr;
    d->res.conn = nullptr;
    defer_timers_stop(d);
    ht_response_fn fn = d->cancel_fn;
    d->cancel_fn = nullptr;
    /* Last: the callback may release the handle. */
    if (fn) fn(&d->res, reason, d->cancel_ud);
}

/* Detaches a handle whose response is complete: the connection sends what
 * it holds and no longer needs the handle. */
void ht_defer__detach_(ht_defer_t* d) {
    ht_conn_t* c = d->conn;
    if (HT_UNLIKELY(d->res.done_fn != nullptr)) {
        ht_done_fn done = d->res.done_fn;
        d->res.done_fn = nullptr;
        done(d->res.done_ud, d->res.done_tag, d->res.status);
    }
    defer_timers_stop(d);
    d->res.out = nullptr;
    d->res.conn = nullptr;
    d->conn = nullptr;
    if (c == nullptr) return;
    c->defer = nullptr;
    c->acc->stats_.deferred_now--;
    if (HT_UNLIKELY(c->acc->observe_)) ht_obs__end_(c, d->res.status, d->res.body_bytes);
    c->flags |= HT_CF_DEFER_END;
    ht_conn__defer_flush_(c);
}

static void on_deadline(ht_loop_t* loop, ht_timer_t* t) {
    (void) loop;
    deadline_passed(t->data);
}

static void deadline_passed(ht_defer_t* d) {
    ht_conn_t* c = d->conn;
    if (c == nullptr) return;
    if (d->res.state == HT_RES_STREAM) {
        /* Only a drain stops a stream: end it where it is, then close. */
        bool chunked = d->mode == HT_SM_CHUNKED;
        c->rflags |= HT_RESF_CLOSE;
        if (HT_UNLIKELY(c->acc->observe_)) ht_obs__end_(c, d->res.status, d->res.body_bytes);
        ht_defer__cut_(d, HT_E_SHUTDOWN); /* d may be freed from here on */
        if (chunked && c->dout == nullptr) c->dout = ht_out__get_(c->acc);
        if (chunked && c->dout && c->dout->cap - c->dout->len >= 5) {
            memcpy(c->dout->data + c->dout->len, "0\r\n\r\n", 5);
            c->dout->len += 5;
        }
        c->flags |= HT_CF_DEFER_END;
        ht_conn__defer_flush_(c);
        return;
    }
    ht_result_t why = (d->dflags & HT_DF_DRAIN) ? HT_E_SHUTDOWN : HT_E_TIMEOUT;
    uint16_t status = d->res.timeout_status ? d->res.timeout_status : 503;
    ht_defer__cut_(d, why); /* d may be freed from here on */
    /* Nothing of it went out (a response still being built is dropped):
     * the server answers in its place. */
    ht_conn__defer_fail_(c, status, false);
}

void ht_defer__drain_(ht_defer_t* d, uint32_t drain_ms) {
    uint64_t end = ht_loop__now_ms_(d->loop) + drain_ms;
    if (d->dl >= 0 && d->due <= end) return;
    if (ht_loop__timer_active(&d->deadline) && d->deadline.deadline_ <= end) return;
    dl_remove(d);
    d->dflags |= HT_DF_DRAIN;
    ht_loop__timer_start(d->loop, &d->deadline, drain_ms, on_deadline);
}

/* ---- The pool ---- */

static ht_defer_t* pool_take(ht_acceptor_t* acc) {
    ht_defer_pool_t* p = acc->defer_pool_;
    if (HT_UNLIKELY(p == nullptr)) {
        p = ht_alloc__alloc(acc->alloc_, sizeof *p);
        if (p == nullptr) return nullptr;
        *p = (ht_defer_pool_t){ .alloc = acc->alloc_ };
        acc->defer_pool_ = p;
    }
    ht_defer_t* d = p->free;
    if (d) {
        p->free = d->dnext;
        p->nfree--;
        /* Its timers are stopped; what is above cancel_fn defer sets. */
        memset(&d->cancel_fn, 0, offsetof(ht_defer_t, deadline) - offsetof(ht_defer_t, cancel_fn));
    } else {
        d = ht_alloc__alloc(p->alloc, sizeof *d);
        if (d == nullptr) return nullptr;
        memset(d, 0, sizeof *d);
        d->dl = -1; /* on no deadline list, as every pooled handle is */
    }
    d->pool = p;
    p->out++;
    return d;
}

static void pool_give(ht_defer_t* d) {
    ht_defer_pool_t* p = d->pool;
    p->out--;
    if (!p->closed && p->nfree < HT_DEFER_POOL_KEEP) {
        d->dnext = p->free;
        p->free = d;
        p->nfree++;
        return;
    }
    ht_alloc__free(p->alloc, d, sizeof *d);
    if (p->closed && p->out == 0) ht_alloc__free(p->alloc, p, sizeof *p);
}

void ht_defer__acceptor_done_(ht_acceptor_t* acc) {
    for (int i = 0; i < HT_ACCEPTOR_DEADLINE_LISTS_; i++)
        if (ht_loop__timer_active(&acc->deadlines_[i].timer)) ht_loop__timer_stop(acc->loop_, &acc->deadlines_[i].timer);
    ht_defer_pool_t* p = acc->defer_pool_;
    if (p == nullptr) return;
    acc->defer_pool_ = nullptr;
    ht_defer_t* d;
    while ((d = p->free) != nullptr) {
        p->free = d->dnext;
        ht_alloc__free(p->alloc, d, sizeof *d);
    }
    p->nfree = 0;
    p->closed = true;
    if (p->out == 0) ht_alloc__free(p->alloc, p, sizeof *p);
}

/* ---- Deferring ---- */

ht_response_t* ht_response__defer(ht_response_t* res) {
    ht_conn_t* c = res->conn;
    if (c == nullptr || res->d != nullptr) return nullptr;
    if (res->state != HT_RES_NONE && res->state != HT_RES_HEAD) return nullptr;
    if (c->defer != nullptr || (c->flags & HT_CF_DEFER)) return nullptr;
    ht_acceptor_t* acc = c->acc;
    ht_defer_t* d = pool_take(acc);
    if (d == nullptr) return nullptr;
    d->post.next_ = nullptr;
    d->post_fn = nullptr;
    d->post_ud = nullptr;
    d->left = 0;
    d->res = (ht_response_t){ 0 };
    if (res->state == HT_RES_HEAD) {
        /* Status and headers are in the batch's buffer, behind earlier
         * pipelined responses: they move to a buffer of the handle's own. */
        ht_out_t* o = ht_out__get_(acc);
        if (o == nullptr) {
            pool_give(d);
            return nullptr;
        }
        ht_response__begin_(&d->res, o, c, res->date, res->flags);
        uint32_t n = res->out->len - res->start;
        memcpy(o->data, res->out->data + res->start, n);
        o->len = n;
        res->out->len = res->start;
        c->dout = o;
        d->res.state = HT_RES_HEAD;
        d->res.status = res->status;
    } else {
        d->res.out = &ht_out__unattached_;
        d->res.flags = res->flags;
        d->res.date = res->date;
        d->res.state = HT_RES_NONE;
    }
    d->res.d = d;
    d->res.conn = c;
    d->res.err_fn = res->err_fn; /* the server's deadline answers use the same pages */
    d->res.err_ud = res->err_ud;
    if (res->flags & HT_RESF_ON_DONE) { /* ht_response__on_done: runs when the handle's response is */
        d->res.done_fn = res->done_fn;
        d->res.done_ud = res->done_ud;
        d->res.done_tag = res->done_tag;
    }
    d->res.timeout_status = res->timeout_status;
    d->conn = c;
    d->loop = acc->loop_;
    d->deadline.data = d;
    d->beat.data = d;
    d->post.data = d;
    d->kick.data = d;
    c->defer = d;
    c->flags |= HT_CF_DEFER;
    c->flags &= (uint16_t) ~(HT_CF_DEFER_END | HT_CF_DEFER_OUT);
    acc->stats_.deferred++;
    acc->stats_.deferred_now++;
    d->deadline_ms = res->timeout_ms ? res->timeout_ms : acc->cfg_.defer_timeout_ms;
    deadline_arm(d, d->deadline_ms); /* a pooled handle: on no list, timers stopped */
    if (HT_UNLIKELY(acc->stopping_)) ht_defer__drain_(d, acc->cfg_.drain_timeout_ms);
    res->state = HT_RES_DEFERRED;
    return &d->res;
}

ht_result_t ht_response__timeout(ht_response_t* res, uint32_t ms, uint16_t status) {
    if (status != 0 && (status < 500 || status > 599)) return -EINVAL;
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr) {
        if (res->state == HT_RES_DEFERRED || res->state == HT_RES_DONE) return HT_E_RESPONSE_STATE;
        res->timeout_ms = ms;
        res->timeout_status = status;
        return 0;
    }
    if (d->conn == nullptr) return ht_response__state_err_(res);
    if (res->state != HT_RES_NONE && res->state != HT_RES_HEAD) return HT_E_RESPONSE_STATE;
    res->timeout_status = status;
    if (ms) d->deadline_ms = ms;
    /* Not while a body is being read: the clock starts again after it. */
    if (ms && !(d->dflags & HT_DF_DRAIN) && !HT_RS_BODY_UNREAD(d->conn->rstate)) deadline_start(d, ms);
    return 0;
}

void ht_response__on_cancel(ht_response_t* res, ht_response_fn fn, void* ud) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr || res->state == HT_RES_GONE) return;
    d->cancel_fn = fn;
    d->cancel_ud = ud;
}

bool ht_response__gone(const ht_response_t* res) { return res->state == HT_RES_GONE; }

ht_loop_t* ht_response__loop(const ht_response_t* res) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d) return d->loop;
    return res->conn ? res->conn->acc->loop_ : nullptr;
}

ht_result_t ht_defer__attach_(ht_response_t* res) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr || d->conn == nullptr) return HT_E_RESPONSE_STATE;
    ht_conn_t* c = d->conn;
    if (c->dout == nullptr && (c->dout = ht_out__get_(c->acc)) == nullptr) return -ENOMEM;
    uint8_t flags = c->rflags;
    /* A body still unread when the response starts: the connection closes
     * after it (what is left of the body is never read). */
    if (HT_RS_BODY_UNREAD(c->rstate)) flags |= HT_RESF_CLOSE;
    if (flags & HT_RESF_CLOSE) flags &= (uint8_t) ~HT_RESF_KEEP_ALIVE;
    c->rflags = flags;
    /* What ht_response__begin_ sets that a handle's state (status, d, its
     * timeout status) does not already say: nothing was written yet. */
    ht_out_t* o = c->dout;
    res->out = o;
    res->date = ht_conn__date_(c->acc);
    res->start = o->len;
    res->start_iov = o->iovcnt;
    res->start_ext = o->nexts;
    res->flags = flags;
    c->flags &= (uint16_t) ~HT_CF_INTERIM;
    return 0;
}

void ht_defer__done_(ht_defer_t* d) {
    ht_out__seal_(d->res.out); /* what finish_ does to a DONE response */
    if (d->res.flags & HT_RESF_CLOSE && d->conn) d->conn->rflags |= HT_RESF_CLOSE;
    ht_defer__detach_(d);
}

/* ---- Releasing ---- */

ht_result_t ht_response__release(ht_response_t* res) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr) return HT_E_RESPONSE_STATE;
    ht_result_t r = 0;
    if (res->state == HT_RES_GONE) {
        r = HT_E_GONE;
    } else if (d->conn) {
        d->cancel_fn = nullptr;
        if (res->state == HT_RES_STREAM) {
            (void) ht_defer__stream_end_(d);
        } else if (res->state != HT_RES_DONE) {
            /* What a handler's return does: an empty body, or a 500. */
            if (res->out == &ht_out__unattached_ && ht_defer__attach_(res) < 0) {
                ht_conn_t* c = d->conn;
                ht_defer__cut_(d, -ENOMEM);
                ht_conn__defer_fail_(c, 500, false);
            } else {
                ht_response__finish_(res);
                res->state = HT_RES_DONE;
                ht_defer__done_(d);
            }
        }
    }
    /* Detached (by the calls above, or before), so its timers are stopped:
     * none starts on a handle without a connection. */
    assert(d->conn == nullptr && d->dl < 0 && !ht_loop__timer_active(&d->deadline) &&
           !ht_loop__timer_active(&d->beat) && !ht_loop__timer_active(&d->kick));
    pool_give(d);
    return r;
}

/* ---- Other threads ---- */

static void on_post(ht_loop_t* loop, ht_post_t* p) {
    (void) loop;
    ht_defer_t* d = p->data;
    d->dflags &= (uint8_t) ~HT_DF_POSTED;
    ht_response_fn fn = d->post_fn;
    fn(&d->res, d->res.state == HT_RES_GONE ? HT_E_GONE : 0, d->post_ud);
}

ht_result_t ht_response__post(ht_response_t* res, ht_response_fn fn, void* ud) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr || fn == nullptr) return -EINVAL;
    /* Only this thread touches the handle until on_post runs (the
     * contract), so the flag needs no atomic; the loop's queue orders the
     * writes before the callback reads them. */
    if (d->dflags & HT_DF_POSTED) return -EBUSY;
    d->dflags |= HT_DF_POSTED;
    d->post_fn = fn;
    d->post_ud = ud;
    ht_loop__post(d->loop, &d->post, on_post);
    return 0;
}

/* ---- Streamed request bodies ---- */

static void on_kick(ht_loop_t* loop, ht_timer_t* t) {
    (void) loop;
    ht_defer_t* d = t->data;
    if (d->conn) ht_conn__body_pump_(d->conn);
}

ht_result_t ht_response__read_body(ht_response_t* res, ht_body_fn fn, void* ud) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr || fn == nullptr) return d ? -EINVAL : HT_E_RESPONSE_STATE;
    if (d->conn == nullptr) return ht_response__state_err_(res);
    ht_conn_t* c = d->conn;
    if (c->rstate != HT_RS_BODY_WAIT) return c->rstate == HT_RS_BODY_STREAM ? -EALREADY : -ENODATA;
    d->body_fn = fn;
    d->body_ud = ud;
    c->rstate = HT_RS_BODY_STREAM;
    /* A long upload is paced by the body timeout between reads, not by the
     * deadline, which starts again once the body is in. */
    if (!(d->dflags & HT_DF_DRAIN)) ht_defer__deadline_stop_(d);
    ht_conn__continue_(c);
    /* Bytes already received are delivered from the loop, never from
     * inside this call. */
    ht_loop__timer_start(d->loop, &d->kick, 0, on_kick);
    return 0;
}

ht_result_t ht_response__pause_body(ht_response_t* res, bool paused) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr) return HT_E_RESPONSE_STATE;
    if (d->conn == nullptr) return ht_response__state_err_(res);
    ht_conn_t* c = d->conn;
    if (paused) {
        if (c->rstate == HT_RS_BODY_STREAM) c->rstate = HT_RS_BODY_PAUSED;
        else if (c->rstate != HT_RS_BODY_PAUSED) return -ENODATA;
        if (ht_loop__timer_active(&d->kick)) ht_loop__timer_stop(d->loop, &d->kick);
        return 0;
    }
    if (c->rstate == HT_RS_BODY_PAUSED) c->rstate = HT_RS_BODY_STREAM;
    else if (c->rstate != HT_RS_BODY_STREAM) return -ENODATA;
    /* What is buffered comes from the loop, not from inside this call. */
    ht_loop__timer_start(d->loop, &d->kick, 0, on_kick);
    return 0;
}

void ht_defer__body_(ht_defer_t* d, ht_slice_t piece, bool last) {
    if (last && d->conn && d->res.state != HT_RES_STREAM && !(d->dflags & HT_DF_DRAIN))
        deadline_start(d, d->deadline_ms);
    if (d->body_fn) d->body_fn(&d->res, piece, last, d->body_ud);
}
