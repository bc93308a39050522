/* pg_conn.c — one libpq connection driven by a worker's loop (pg_conn.h).
 *
 * States: DOWN --start/retry--> CONNECTING --PQconnectPoll OK--> UP
 *         CONNECTING/UP --error, EOF, fail--> DROPPING --waits back--> DOWN
 *         (retry timer) or CLOSED (closing).
 * At most one wait for input (rd) and one for output (wr) is pending; the
 * socket is given back to libpq (PQfinish) only once both have returned, and
 * the loop forgets it first (ht_loop__forget), so a reused descriptor number
 * never inherits a stale registration.
 */
#include "pg_conn.h"

#include <stdio.h>
#include <string.h>

enum {
    BACKOFF_MIN_MS = 100,
    BACKOFF_MAX_MS = 2000,
    /* PQconnectPoll ignores connect_timeout (its manual: the application
     * decides), and a host that drops packets would hold an attempt for the
     * kernel's SYN retries (minutes): past this, the attempt is dropped. */
    CONNECT_TIMEOUT_MS = 5000,
};

static void connect_begin(pg_conn_t* c);
static void drop(pg_conn_t* c, const char* why);

static void log_line(const pg_conn_t* c, const char* what, const char* msg) {
    /* libpq's messages end with a newline (some have two lines). */
    size_t n = msg ? strlen(msg) : 0;
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) n--;
    fprintf(stderr, "microservice: %s: %s%s%.*s\n", c->name, what, n ? ": " : "", (int) n, msg ? msg : "");
}

static void on_rd(ht_loop_t* loop, ht_op_t* op, ht_io_t res);
static void on_wr(ht_loop_t* loop, ht_op_t* op, ht_io_t res);

static void wait_for(pg_conn_t* c, uint32_t events) {
    bool in = events == HT_POLL_IN;
    ht_op_t* op = in ? &c->rd : &c->wr;
    if (in ? c->rd_on : c->wr_on) return;
    op->data = c;
    ht_result_t r = ht_loop__poll(c->loop, op, c->fd, events, in ? on_rd : on_wr);
    if (r < 0) {
        drop(c, ht_result__str(r));
        return;
    }
    if (in) c->rd_on = true;
    else c->wr_on = true;
}

static void on_retry(ht_loop_t* loop, ht_timer_t* t) {
    (void) loop;
    connect_begin(t->data);
}

/* Both waits are back: the socket goes back to libpq, and we try again. */
static void drop_finish(pg_conn_t* c) {
    if (c->rd_on || c->wr_on) return;
    if (c->fd >= 0) ht_loop__forget(c->loop, c->fd);
    PQfinish(c->pg);
    c->pg = nullptr;
    c->fd = -1;
    if (c->closing) {
        c->state = PG_CONN_CLOSED;
        return;
    }
    c->state = PG_CONN_DOWN;
    uint32_t ms = c->backoff_ms;
    c->backoff_ms = ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
    /* Jitter, so that many workers do not all knock at the same instant. */
    ms += (uint32_t) (ht_loop__now_ms(c->loop) % (ms / 4 + 1));
    ht_loop__timer_start(c->loop, &c->timer, ms, on_retry);
}

static void drop(pg_conn_t* c, const char* why) {
    if (c->state != PG_CONN_CONNECTING && c->state != PG_CONN_UP) return;
    bool was_up = c->state == PG_CONN_UP;
    c->state = PG_CONN_DROPPING;
    if (ht_loop__timer_active(&c->timer)) ht_loop__timer_stop(c->loop, &c->timer);
    if (!c->quiet && !c->closing) log_line(c, was_up ? "connection lost" : "cannot connect", why);
    c->quiet = true;
    if (c->rd_on) ht_loop__cancel(c->loop, &c->rd);
    if (c->wr_on) ht_loop__cancel(c->loop, &c->wr);
    if (was_up) c->ops->down(c);
    drop_finish(c);
}

static void connect_step(pg_conn_t* c) {
    /* libpq may close the socket and open another (the next address). */
    if (c->fd >= 0) ht_loop__forget(c->loop, c->fd);
    PostgresPollingStatusType st = PQconnectPoll(c->pg);
    c->fd = PQsocket(c->pg);
    switch (st) {
    case PGRES_POLLING_READING: wait_for(c, HT_POLL_IN); return;
    case PGRES_POLLING_WRITING: wait_for(c, HT_POLL_OUT); return;
    case PGRES_POLLING_OK: break;
    default: drop(c, PQerrorMessage(c->pg)); return;
    }
    if (PQsetnonblocking(c->pg, 1) != 0) {
        drop(c, PQerrorMessage(c->pg));
        return;
    }
    /* Connected: the connect deadline is off. */
    if (ht_loop__timer_active(&c->timer)) ht_loop__timer_stop(c->loop, &c->timer);
    c->state = PG_CONN_UP;
    wait_for(c, HT_POLL_IN);
    if (c->state == PG_CONN_UP) c->ops->up(c);
}

/* What the server says outside any result (the FATAL before a shutdown
 * closes the connection, warnings): to our log, in our format, instead of
 * libpq's bare stderr line. */
static void on_notice(void* arg, const char* msg) { log_line(arg, "server", msg); }

static void on_connect_timeout(ht_loop_t* loop, ht_timer_t* t) {
    (void) loop;
    pg_conn_t* c = t->data;
    if (c->state == PG_CONN_CONNECTING) drop(c, "timed out");
}

static void connect_begin(pg_conn_t* c) {
    c->pg = PQconnectStart(c->conninfo);
    c->fd = -1;
    c->state = PG_CONN_CONNECTING;
    if (c->pg == nullptr) {
        drop(c, "out of memory");
        return;
    }
    PQsetNoticeProcessor(c->pg, on_notice, c);
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        drop(c, PQerrorMessage(c->pg));
        return;
    }
    /* As if PQconnectPoll had said PGRES_POLLING_WRITING (its manual). */
    c->fd = PQsocket(c->pg);
    ht_loop__timer_start(c->loop, &c->timer, CONNECT_TIMEOUT_MS, on_connect_timeout);
    wait_for(c, HT_POLL_OUT);
}

/* What on_rd and on_wr do first, their op's flag cleared: false when the
 * connection was being dropped (the drop is finished now) or the wait
 * failed (the connection is dropped). */
static bool wait_ended(pg_conn_t* c, ht_io_t res) {
    if (c->state == PG_CONN_DROPPING) {
        drop_finish(c);
        return false;
    }
    if (res < 0) {
        drop(c, ht_result__str((ht_result_t) res));
        return false;
    }
    return true;
}

static void on_rd(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    (void) loop;
    pg_conn_t* c = op->data;
    c->rd_on = false;
    if (!wait_ended(c, res)) return;
    if (c->state == PG_CONN_CONNECTING) {
        connect_step(c);
        return;
    }
    if (!PQconsumeInput(c->pg)) {
        drop(c, PQerrorMessage(c->pg));
        return;
    }
    c->ops->input(c);
    if (c->state != PG_CONN_UP) return;
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        drop(c, PQerrorMessage(c->pg));
        return;
    }
    wait_for(c, HT_POLL_IN);
}

static void on_wr(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    (void) loop;
    pg_conn_t* c = op->data;
    c->wr_on = false;
    if (!wait_ended(c, res)) return;
    if (c->state == PG_CONN_CONNECTING) connect_step(c);
    else pg_conn_flush(c);
}

void pg_conn_init(pg_conn_t* c, ht_loop_t* loop, const char* conninfo, const char* name,
                  const pg_conn_ops_t* ops, void* owner) {
    *c = (pg_conn_t){
        .ops = ops, .owner = owner, .conninfo = conninfo, .loop = loop, .fd = -1,
        .state = PG_CONN_DOWN, .backoff_ms = BACKOFF_MIN_MS,
    };
    snprintf(c->name, sizeof c->name, "%s", name);
    c->timer.data = c;
    c->cancel_post.data = c;
}

void pg_conn_start(pg_conn_t* c) {
    if (c->state == PG_CONN_DOWN && !c->closing) connect_begin(c);
}

void pg_conn_ok(pg_conn_t* c) {
    if (c->quiet) log_line(c, "connected", nullptr);
    c->quiet = false;
    c->backoff_ms = BACKOFF_MIN_MS;
}

void pg_conn_flush(pg_conn_t* c) {
    if (c->state != PG_CONN_UP) return;
    int r = PQflush(c->pg);
    if (r < 0) drop(c, PQerrorMessage(c->pg));
    else if (r == 1) wait_for(c, HT_POLL_OUT); /* input stays watched meanwhile */
}

void pg_conn_fail(pg_conn_t* c, const char* why) { drop(c, why); }

/* ---- Cancel requests, on a helper thread ---- */

static void on_cancel_done(ht_loop_t* loop, ht_post_t* p) {
    (void) loop;
    pg_conn_t* c = p->data;
    if (!c->cancel_busy) return; /* pg_conn_close joined it already */
    pthread_join(c->cancel_thread, nullptr);
    PQfreeCancel(c->cancel);
    c->cancel = nullptr;
    c->cancel_busy = false;
    if (!c->cancel_ok) log_line(c, "cancel request failed", c->cancel_err);
    if (!c->closing) c->ops->cancelled(c);
}

static void* cancel_main(void* arg) {
    pg_conn_t* c = arg;
    c->cancel_ok = PQcancel(c->cancel, c->cancel_err, (int) sizeof c->cancel_err);
    ht_loop__post(c->loop, &c->cancel_post, on_cancel_done); /* last touch of c */
    return nullptr;
}

bool pg_conn_cancel(pg_conn_t* c) {
    if (c->cancel_busy || c->state != PG_CONN_UP) return false;
    c->cancel = PQgetCancel(c->pg);
    if (c->cancel == nullptr) return false;
    c->cancel_busy = true;
    if (pthread_create(&c->cancel_thread, nullptr, cancel_main, c) != 0) {
        PQfreeCancel(c->cancel);
        c->cancel = nullptr;
        c->cancel_busy = false;
        return false;
    }
    return true;
}

void pg_conn_close(pg_conn_t* c) {
    c->closing = true;
    if (ht_loop__timer_active(&c->timer)) ht_loop__timer_stop(c->loop, &c->timer);
    if (c->cancel_busy) {
        pthread_join(c->cancel_thread, nullptr);
        PQfreeCancel(c->cancel);
        c->cancel = nullptr;
        c->cancel_busy = false;
    }
    if (c->state == PG_CONN_CONNECTING || c->state == PG_CONN_UP) drop(c, nullptr);
    else if (c->state == PG_CONN_DOWN) c->state = PG_CONN_CLOSED;
}
