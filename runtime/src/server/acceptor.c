/* server/acceptor.c — an acceptor: accepting connections on its loop (and
 * pausing at the connection cap or on EMFILE), the periodic sweep of the
 * timeout lists, graceful shutdown, and serve / finalize. What happens on a
 * connection is conn.c's.
 *
 * Timeouts: one list per timeout class (header, body, idle, send, linger,
 * starved, deferred). Every connection is on exactly one list while open;
 * all entries of a list have the same duration, so appending keeps it
 * sorted and one periodic timer per acceptor only looks at list heads
 * (deferred responses have deadlines of their own, defer.c).
 */
#include <string.h>

#include "server/access_log.h"
#include "server/metrics_int.h"
#include "server/observe.h"
#include "server/conn.h"
#include "server/sock.h"

ht_result_t ht_server__register_(ht_server_t* server, ht_loop_t* loop, uint32_t* slot);
void ht_server__unregister_(ht_server_t* server, uint32_t slot);

enum { ACC_IDLE = 0, ACC_ARMED, ACC_CANCELLING };

static void accept_arm(ht_acceptor_t* acc);
static void acc_check_done(ht_acceptor_t* acc);

static void on_tick(ht_loop_t* loop, ht_timer_t* t);
static void on_retry(ht_loop_t* loop, ht_timer_t* t);

static void tick_ensure(ht_acceptor_t* acc) {
    if (!ht_loop__timer_active(&acc->tick_)) ht_loop__timer_start(acc->loop_, &acc->tick_, acc->tick_ms_, on_tick);
}

static void on_accept(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    ht_acceptor_t* acc = op->data;
    if (res >= 0) {
        ht_socket_t fd = (ht_socket_t) res;
        /* Accepted after shutdown began (io_uring's multishot accept, before
         * its cancel lands): served, with Connection: close, rather than
         * reset. Another process may be taking over the same listening
         * socket (ht's SIGUSR2), and this client is already out of the
         * shared queue. */
        tick_ensure(acc);
        if (!ht_conn__start_(acc, fd)) {
            ht_sock__close(fd);
            return;
        }
        /* io_uring's multishot accept may still deliver what the kernel
         * took from the backlog before the cancel below takes effect
         * (accepting_ == ACC_CANCELLING): those are served too, so the cap
         * can be passed by at most that burst (bounded by the backlog)
         * rather than clients the kernel let in being dropped. */
        if (acc->stats_.open >= acc->cfg_.max_connections && acc->accepting_ == ACC_ARMED) {
            acc->accepting_ = ACC_CANCELLING;
            ht_loop__cancel(loop, &acc->accept_op_);
        }
        return;
    }
    /* The accept operation is over. */
    acc->accepting_ = ACC_IDLE;
    if (acc->stopping_) {
        acc_check_done(acc);
        return;
    }
    if (res == -ECANCELED) {
        if (acc->stats_.open < acc->cfg_.max_connections) accept_arm(acc);
        return;
    }
    /* EMFILE & co.: no spinning; a closing connection or the timer retries. */
    ht_loop__timer_start(loop, &acc->retry_, acc->cfg_.accept_retry_ms, on_retry);
}

static void on_retry(ht_loop_t* loop, ht_timer_t* t) {
    (void) loop;
    ht_acceptor_t* acc = t->data;
    if (!acc->stopping_ && acc->accepting_ == ACC_IDLE && acc->stats_.open < acc->cfg_.max_connections)
        accept_arm(acc);
}

static void accept_arm(ht_acceptor_t* acc) {
    if (acc->accepting_ != ACC_IDLE) return;
    if (ht_loop__timer_active(&acc->retry_)) ht_loop__timer_stop(acc->loop_, &acc->retry_);
    acc->accept_op_.data = acc;
    ht_result_t r = ht_loop__accept(acc->loop_, &acc->accept_op_, acc->server_->fd_, on_accept);
    if (r < 0) {
        ht_loop__timer_start(acc->loop_, &acc->retry_, acc->cfg_.accept_retry_ms, on_retry);
        return;
    }
    acc->accepting_ = ACC_ARMED;
}

static void on_tick(ht_loop_t* loop, ht_timer_t* t) {
    ht_acceptor_t* acc = t->data;
    uint64_t now = ht_loop__now_ms_(loop);
    for (uint8_t cls = 0; cls < HT_ACCEPTOR_CLASSES_; cls++) {
        /* Bounded: each timeout moves the head off this list. */
        for (uint32_t guard = 0; guard < 1u << 20; guard++) {
            ht_conn_t* c = acc->lists_[cls].head;
            if (c == nullptr || c->deadline > now) break;
            ht_conn__timeout_(c, cls);
        }
    }
    /* Starved connections retry each tick. */
    for (uint32_t i = 0; i < 64 && acc->lists_[HT_TC_STARVED].head; i++) {
        ht_conn__retry_(acc->lists_[HT_TC_STARVED].head);
    }
    /* The access log writes what it holds at most once a second: the timer
     * runs on while it holds something. Metrics: the gauges. */
    bool log_pending = HT_UNLIKELY(acc->observe_) && ht_obs__tick_(acc);
    if (acc->stats_.open > 0 || log_pending) ht_loop__timer_start(loop, &acc->tick_, acc->tick_ms_, on_tick);
}

/* ---- Shutdown ---- */

static void acc_check_done(ht_acceptor_t* acc) {
    if (!acc->stopping_ || !acc->active_ || acc->stats_.open > 0 || acc->accepting_ != ACC_IDLE) return;
    if (ht_loop__timer_active(&acc->tick_)) ht_loop__timer_stop(acc->loop_, &acc->tick_);
    if (ht_loop__timer_active(&acc->retry_)) ht_loop__timer_stop(acc->loop_, &acc->retry_);
    ht_loop__stop(acc->loop_);
}

static void acc_begin_shutdown(ht_acceptor_t* acc) {
    if (acc->stopping_) return;
    acc->stopping_ = 1;
    if (acc->accepting_ == ACC_ARMED) {
        acc->accepting_ = ACC_CANCELLING;
        ht_loop__cancel(acc->loop_, &acc->accept_op_);
    }
    if (ht_loop__timer_active(&acc->retry_)) ht_loop__timer_stop(acc->loop_, &acc->retry_);
    /* Deferred responses and streams get the drain time at most. */
    static const uint8_t busy_classes[] = { HT_TC_DEFER, HT_TC_SEND, HT_TC_BODY };
    for (size_t k = 0; k < HT_ARRAY_LEN(busy_classes); k++)
        for (ht_conn_t* c = acc->lists_[busy_classes[k]].head; c; c = c->tnext)
            if (c->defer) ht_defer__drain_(c->defer, acc->cfg_.drain_timeout_ms);
    /* Idle connections close now; the others finish their current request
     * with Connection: close. A fresh connection that has sent nothing yet
     * keeps its header deadline for its first request: its client has just
     * connected and its request is likely on the way; closing would reset
     * it (a takeover, ht's SIGUSR2, shuts the old process down while
     * clients keep connecting). Not shortened either: a loop that stalls
     * (a loaded machine) would sweep it before reading the request its
     * receive already holds. */
    static const uint8_t idle_classes[] = { HT_TC_IDLE, HT_TC_STARVED, HT_TC_HEADER };
    for (size_t k = 0; k < HT_ARRAY_LEN(idle_classes); k++) {
        ht_conn_t* c = acc->lists_[idle_classes[k]].head;
        while (c) {
            ht_conn_t* next = c->tnext;
            bool empty = c->in == nullptr || c->in_len == c->in_off;
            if (c->flags & HT_CF_DEFER) {
                /* Waiting for a deferred response on the list it was on
                 * (conn.c moves it lazily): it drains like the others. */
                if (c->defer) ht_defer__drain_(c->defer, acc->cfg_.drain_timeout_ms);
            } else if (idle_classes[k] == HT_TC_HEADER && empty && c->requests == 0) {
                /* fresh: see above */
            } else if (idle_classes[k] != HT_TC_HEADER || empty) {
                ht_conn__close_(c);
            }
            c = next;
        }
    }
    acc_check_done(acc);
}

static void on_wake(ht_loop_t* loop, ht_waker_t* w) {
    (void) loop;
    ht_acceptor_t* acc = w->data;
    if (acc->active_ && ht_server__shutting_down(acc->server_)) acc_begin_shutdown(acc);
}

/* ---- Public ---- */

ht_result_t ht_server__serve(ht_acceptor_t* acc, const ht_server_t* server, ht_loop_t* loop,
                             ht_alloc_t* a, ht_handler_fn handler) {
    if (!server->listening_) return -EBADF;
    if (handler == nullptr || loop == nullptr || a == nullptr) return -EINVAL;
    memset(acc, 0, sizeof *acc);
    ht_config__resolve(&acc->cfg_, server->config);
    acc->observe_ = acc->cfg_.access_log != nullptr || acc->cfg_.metrics != nullptr;
    acc->server_ = (ht_server_t*) server; /* registration goes through atomics only */
    acc->loop_ = loop;
    acc->alloc_ = a;
    acc->handler_ = handler;
    acc->headers_ = ht_alloc__calloc(a, acc->cfg_.max_headers, sizeof(ht_header_t));
    if (acc->headers_ == nullptr) return -ENOMEM;
    acc->timeout_ms_[HT_TC_HEADER] = acc->cfg_.header_timeout_ms;
    acc->timeout_ms_[HT_TC_BODY] = acc->cfg_.body_timeout_ms;
    acc->timeout_ms_[HT_TC_IDLE] = acc->cfg_.idle_timeout_ms;
    acc->timeout_ms_[HT_TC_SEND] = acc->cfg_.send_timeout_ms;
    acc->timeout_ms_[HT_TC_LINGER] = acc->cfg_.linger_timeout_ms;
    acc->timeout_ms_[HT_TC_STARVED] = acc->cfg_.idle_timeout_ms;
    /* Deferred responses have deadlines of their own (timers, defer.c). */
    acc->timeout_ms_[HT_TC_DEFER] = UINT32_MAX;
    uint32_t min = UINT32_MAX;
    for (int i = 0; i < HT_ACCEPTOR_CLASSES_; i++)
        if (acc->timeout_ms_[i] < min) min = acc->timeout_ms_[i];
    acc->tick_ms_ = min / 8;
    if (acc->tick_ms_ < 5) acc->tick_ms_ = 5;
    if (acc->tick_ms_ > 1000) acc->tick_ms_ = 1000;
    acc->tick_.data = acc;
    acc->retry_.data = acc;
    acc->retry_.cb = on_retry;
    acc->date_s_ = ht_loop__wall_s_(loop);
    ht_date_line_(acc->date_, acc->date_s_);
    ht_result_t r = ht_server__register_(acc->server_, loop, &acc->slot_);
    if (r < 0) {
        ht_alloc__free(a, acc->headers_, (size_t) acc->cfg_.max_headers * sizeof(ht_header_t));
        acc->headers_ = nullptr;
        return r;
    }
    /* In the scrape from the start, at zero: a worker that has not been
     * handed a connection yet is not a series missing from the scrape. */
    if (acc->cfg_.metrics) ht_metrics__gauges_(acc);
    acc->waker_.data = acc;
    ht_loop__waker_add(loop, &acc->waker_, on_wake);
    acc->active_ = 1;
    if (ht_server__shutting_down(server)) {
        acc->stopping_ = 1;
        return 0;
    }
    accept_arm(acc);
    return 0;
}

void ht_server__serve_finalize(ht_acceptor_t* acc) {
    if (!acc->active_) return;
    ht_server__unregister_(acc->server_, acc->slot_);
    ht_loop__waker_remove(acc->loop_, &acc->waker_);
    /* Normally shutdown has closed everything. If the loop was stopped some
     * other way, close what is open and run the loop until every cancelled
     * operation has returned: memory a pending receive writes into must not
     * be freed under it. acc_check_done stops the loop again. */
    if (acc->stats_.open > 0 || acc->accepting_ != ACC_IDLE) {
        acc->stopping_ = 1;
        if (acc->accepting_ == ACC_ARMED) {
            acc->accepting_ = ACC_CANCELLING;
            ht_loop__cancel(acc->loop_, &acc->accept_op_);
        }
        for (int cls = 0; cls < HT_ACCEPTOR_CLASSES_; cls++) {
            ht_conn_t* c;
            while ((c = acc->lists_[cls].head) != nullptr) ht_conn__close_(c);
        }
        if (acc->stats_.open > 0 || acc->accepting_ != ACC_IDLE) (void) ht_loop__run(acc->loop_);
    }
    acc->active_ = 0;
    if (ht_loop__timer_active(&acc->tick_)) ht_loop__timer_stop(acc->loop_, &acc->tick_);
    if (ht_loop__timer_active(&acc->retry_)) ht_loop__timer_stop(acc->loop_, &acc->retry_);
    ht_conn_t* c;
    while ((c = acc->free_conns_) != nullptr) {
        acc->free_conns_ = c->tnext;
        ht_alloc__free(acc->alloc_, c, sizeof *c);
    }
    ht_out__cache_free_(acc);
    ht_defer__acceptor_done_(acc);
    if (acc->log_) ht_alog__acceptor_done_(acc);
    ht_alloc__free(acc->alloc_, acc->headers_, (size_t) acc->cfg_.max_headers * sizeof(ht_header_t));
    acc->headers_ = nullptr;
}

void ht_acceptor__stats(const ht_acceptor_t* acc, ht_acceptor_stats_t* out) { *out = acc->stats_; }

void ht_acceptor__conn_freed_(ht_acceptor_t* acc) {
    /* A descriptor and a slot were just freed. */
    if (!acc->stopping_ && acc->accepting_ == ACC_IDLE && acc->stats_.open < acc->cfg_.max_connections)
        accept_arm(acc);
    acc_check_done(acc);
}
