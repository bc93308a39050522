/* pg_conn.h — one libpq connection, driven by a worker's loop.
 *
 * libpq's asynchronous API leaves the waiting to the application; this is
 * that part, and only that. It connects (PQconnectStart, then each
 * PQconnectPoll step waits on the socket with ht_loop__poll, 5 s at most
 * for the whole attempt: PQconnectPoll leaves connect_timeout to its
 * caller), keeps a wait
 * for input armed while the connection is up and absorbs what arrives
 * (PQconsumeInput), waits for the socket to take more while PQflush says
 * output is left, notices a lost connection, and connects again after a
 * backoff (100 ms, doubling to 2 s, a little jitter). No call here blocks the
 * loop: the socket is non-blocking (PQsetnonblocking) once connected.
 *
 * What is sent and how results are read belong to the owner (store_pg.c),
 * told through pg_conn_ops_t, always on the loop's thread.
 *
 * Cancel requests. PQcancel opens a connection of its own and blocks until
 * the server has taken the request, so it runs on a helper thread, one at a
 * time per connection, and its outcome comes back to the loop with
 * ht_loop__post. (libpq 17 has a non-blocking cancel, PQcancelStart; Debian
 * 12 ships libpq 15.) On a Unix socket or a reachable host it takes well
 * under a millisecond of that thread's time; the loop never waits for it,
 * except pg_conn_close, which joins a cancel still running at shutdown.
 * libpq 15's PQcancel has no timeout of its own: for a server across a
 * network that may drop packets, put tcp_user_timeout (and keepalives_*,
 * which also let a silent connection be noticed) in the conninfo.
 *
 * Lifetime: pg_conn_init, pg_conn_start, ..., pg_conn_close, then the owner
 * runs the loop until it is idle (the cancelled waits return), then frees
 * the struct. The struct must not move while in use.
 */
#ifndef SVC_PG_CONN_H
#define SVC_PG_CONN_H

#include <ht/ht.h>
#include <libpq-fe.h>
#include <pthread.h>

typedef struct pg_conn pg_conn_t;

typedef struct pg_conn_ops {
    /* Connected: the owner sends its session setup (the socket is
     * non-blocking; call pg_conn_flush after sending). */
    void (*up)(pg_conn_t* c);
    /* Input was absorbed: the owner reads results (PQisBusy/PQgetResult)
     * and notifications (PQnotifies). */
    void (*input)(pg_conn_t* c);
    /* The connection was lost or closed after `up`: whatever the owner sent
     * will never be answered. c->pg is still there (for its error
     * message) and is finished right after. */
    void (*down)(pg_conn_t* c);
    /* A cancel request has been delivered to the server, or failed. */
    void (*cancelled)(pg_conn_t* c);
} pg_conn_ops_t;

enum {
    PG_CONN_DOWN,       /* not connected; the retry timer runs (unless closing) */
    PG_CONN_CONNECTING, /* PQconnectPoll steps */
    PG_CONN_UP,         /* connected: the owner's */
    PG_CONN_DROPPING,   /* waits cancelled, their callbacks not all back yet */
    PG_CONN_CLOSED,     /* pg_conn_close: done for good */
};

struct pg_conn {
    const pg_conn_ops_t* ops;
    void*                owner;
    const char*          conninfo; /* borrowed, outlives the connection */
    char                 name[32]; /* for log lines: "worker 0 queries" */
    ht_loop_t*           loop;
    PGconn*              pg;       /* nullptr while down */
    int                  fd;       /* the socket the waits are on, -1 */
    uint8_t              state;    /* PG_CONN_* */
    bool                 closing;
    bool                 rd_on, wr_on; /* a wait is pending */
    bool                 quiet;    /* the current outage has been logged */
    ht_op_t              rd, wr;
    ht_timer_t           timer;    /* DOWN: the retry backoff; CONNECTING: the deadline */
    uint32_t             backoff_ms;
    /* the cancel helper (see above) */
    bool                 cancel_busy;
    int                  cancel_ok;
    pthread_t            cancel_thread;
    PGcancel*            cancel;
    ht_post_t            cancel_post;
    char                 cancel_err[256];
};

void pg_conn_init(pg_conn_t* c, ht_loop_t* loop, const char* conninfo, const char* name,
                  const pg_conn_ops_t* ops, void* owner);
/* Starts connecting (at once; then after each loss, with backoff). */
void pg_conn_start(pg_conn_t* c);
/* Whether the connection is up (the owner's setup may still be running). */
static inline bool pg_conn_is_up(const pg_conn_t* c) { return c->state == PG_CONN_UP; }
/* The owner's setup worked: the next outage starts from the shortest backoff. */
void pg_conn_ok(pg_conn_t* c);
/* Sends what libpq holds (PQflush) and, if the socket is full, waits for
 * it to take more. Call after every PQsend*. */
void pg_conn_flush(pg_conn_t* c);
/* Drops the connection (a protocol error, a failed setup): down runs, then
 * the connection is made again after the backoff. why: for the log. */
void pg_conn_fail(pg_conn_t* c, const char* why);
/* Asks the server to cancel the statement it is running on this
 * connection (PQcancel on the helper thread). false: one is already under
 * way, or the connection is not up. ops->cancelled runs when it is done. */
bool pg_conn_cancel(pg_conn_t* c);
/* For good: no reconnect; the waits are cancelled and down runs if it was
 * up. The owner then runs the loop until idle. Joins a running cancel. */
void pg_conn_close(pg_conn_t* c);

#endif /* SVC_PG_CONN_H */
