/* ht/server.h — listening socket, acceptors, and the connection lifecycle.
 *
 * One ht_server_t owns one listening socket. Each event loop that serves it
 * runs one ht_acceptor_t (caller storage, zero-initialised, e.g.
 * `ht_acceptor_t acc = {0};`) which accepts connections on that loop and owns
 * them: per-connection state comes from a per-acceptor freelist, grown on
 * demand from the acceptor's allocator and reused, so after warm-up serving
 * requests allocates nothing. Workers share the socket (SO_REUSEPORT, one
 * accept queue); the kernel spreads connections over their loops.
 *
 * Lifetimes:
 *   listen  -> serve (per loop) -> ht_loop__run -> serve_finalize -> close
 * The server must outlive every acceptor serving it; an acceptor must stay at
 * the same address from serve until serve_finalize; the loop and allocator
 * passed to serve must outlive the acceptor. serve_finalize is called after
 * ht_loop__run has returned and before ht_loop__free.
 *
 * Shutdown: ht_server__shutdown (or the default signal handler, ht/signal.h)
 * makes every acceptor stop accepting, close idle connections, finish the
 * requests in flight (their responses carry Connection: close) and, once its
 * last connection is gone, call ht_loop__stop on its loop. A request still
 * arriving gets until its header/body timeout; a response still sending,
 * until the send timeout. A connection accepted but silent so far gets
 * until its header timeout for its first request (its client just
 * connected: closing would reset it), and one
 * accepted while the accept was being cancelled is served too. So another
 * process can take over the same listening socket (ht's SIGUSR2) without
 * a refused request. A second signal (or exiting) cuts this short.
 *
 * Per-connection cost: a connection struct (~320 bytes) while open; receive
 * buffers come from the loop's pool only while bytes are waiting (a request
 * still incomplete after a receive moves to a buffer of its own from the
 * acceptor's allocator, so clients that trickle requests cannot drain the
 * pool that every other connection receives into), send
 * buffers from the acceptor's freelist only while a response is built or
 * sent, so an idle keep-alive connection holds nothing else.
 *
 * Handlers run on the loop's thread, one at a time. The response is complete
 * when the handler returns (see ht/response.h); `a` is the acceptor's
 * allocator, for what the handler needs during the call and for bodies the
 * server frees after sending.
 */
#ifndef HT_SERVER_H
#define HT_SERVER_H

#include <ht/config.h>
#include <ht/loop.h>
#include <ht/net.h>
#include <ht/request.h>
#include <ht/response.h>

HT_EXTERN_C_BEGIN

typedef struct ht_server ht_server_t;
typedef struct ht_acceptor ht_acceptor_t;

typedef void (*ht_handler_fn)(const ht_config_t* cfg, const ht_request_t* req,
                              ht_response_t* res, ht_alloc_t* a);

/* Called by the default signal handler on the first SIGINT/SIGTERM, after
 * shutdown has begun. It runs in signal context: only async-signal-safe work
 * (write(2), setting a flag, ht_loop__wake, ht_server__shutdown). */
typedef void (*ht_signal_handler_fn)(ht_server_t* server, int signo);

/* How many acceptors (loops) can serve one server at once. */
#define HT_SERVER_MAX_ACCEPTORS 256

struct ht_server {
    const ht_config_t*   config;         /* nullptr: all defaults */
    ht_signal_handler_fn signal_handler; /* optional, see ht/signal.h */
    /* private: zero-initialised by `= {.config = ...}` */
    ht_socket_t          fd_;
    uint16_t             port_;
    bool                 listening_;
    HT_ATOMIC(uint32_t)  shutdown_;      /* 0 running, 1 shutting down */
    HT_ATOMIC(uint32_t)  signals_;       /* signals seen by the default handler */
    HT_ATOMIC(uint32_t)  waking_;        /* wakers in progress (see server.c) */
    HT_ATOMIC(ht_loop_t*) loops_[HT_SERVER_MAX_ACCEPTORS];
};

/* Binds and listens. host: an IPv4 or IPv6 literal ("127.0.0.1", "::1",
 * "[::1]"), or nullptr for every interface (dual-stack IPv6 where available,
 * else IPv4). port 0 picks a free port (see ht_server__port). The socket is
 * non-blocking, close-on-exec, SO_REUSEADDR and SO_REUSEPORT. Returns 0, a
 * negated errno (-EADDRINUSE, ...), or -EINVAL for a host that is not a literal. */
ht_result_t ht_server__listen(ht_server_t* server, const char* host, uint16_t port, int32_t backlog);
/* Serves on a socket the caller created, bound and made listen (inherited
 * through socket activation, a Unix socket, options ht_server__listen does
 * not set). The server owns it from here: ht_server__close closes it. It is
 * made non-blocking. Returns 0, -EALREADY (already listening), -EINVAL (not
 * a listening socket) or a negated errno. ht_server__port gives its port, 0
 * for a non-IP socket. */
ht_result_t ht_server__adopt(ht_server_t* server, ht_socket_t s);
/* The bound port (after listen). */
uint16_t ht_server__port(const ht_server_t* server);
/* The listening socket (after listen). */
ht_socket_t ht_server__socket(const ht_server_t* server);
/* Closes the listening socket. Call after every acceptor is finalized. */
void ht_server__close(ht_server_t* server);

/* Begins a graceful shutdown of every acceptor serving this server.
 * Thread-safe and async-signal-safe; idempotent. */
void ht_server__shutdown(ht_server_t* server);
/* Whether shutdown has begun. */
bool ht_server__shutting_down(const ht_server_t* server);

/* Starts accepting on loop (on the loop's thread). acc is zeroed caller
 * storage; it registers itself with the server so that shutdown reaches it
 * (the server is written to through atomics only, hence const). Returns 0,
 * -ENOMEM, -ENOSPC (more than HT_SERVER_MAX_ACCEPTORS), -EBADF (server not
 * listening) or the accept error. */
ht_result_t ht_server__serve(ht_acceptor_t* acc, const ht_server_t* server, ht_loop_t* loop,
                             ht_alloc_t* a, ht_handler_fn handler);
/* Releases everything the acceptor holds (connections still open are
 * closed abruptly). Call after ht_loop__run returned; idempotent. */
void ht_server__serve_finalize(ht_acceptor_t* acc);

/* Counters, for tests and monitoring (loop thread). */
typedef struct ht_acceptor_stats {
    uint64_t accepted;
    uint64_t requests;
    uint32_t open;          /* connections open now */
    uint32_t conn_structs;  /* connection structs allocated (open + free) */
    uint64_t timeouts;
    uint64_t errors;        /* requests answered with an error status by the server */
    uint64_t starved;       /* receives that found no pooled buffer (retried later) */
    uint64_t out_grown;     /* send buffers grown for a response that did not fit behind
                             * pipelined ones (ht/response.h) */
    uint64_t deferred;      /* responses deferred (ht_response__defer) */
    uint64_t cut_off;       /* deferred responses cut off (deadline, client gone, drain) */
    uint32_t deferred_now;  /* deferred handles attached to a connection now */
} ht_acceptor_stats_t;
void ht_acceptor__stats(const ht_acceptor_t* acc, ht_acceptor_stats_t* out);

/* ---- The acceptor's storage. Every field is private. ---- */
struct ht_conn;
typedef struct ht_conn_list_ {
    struct ht_conn* head;
    struct ht_conn* tail;
} ht_conn_list_t;

#define HT_ACCEPTOR_CLASSES_ 7
#define HT_ACCEPTOR_DEADLINE_LISTS_ 4

/* Deferred responses waiting for their deadline, one list per duration
 * (server/defer.c): appending keeps each sorted, and one timer per list,
 * re-armed lazily, replaces a heap insert and removal per response. */
struct ht_defer;
struct ht_defer_pool;
typedef struct ht_deadline_list_ {
    struct ht_defer* head;
    struct ht_defer* tail;
    ht_timer_t       timer;
    uint32_t         ms;
} ht_deadline_list_t;

struct ht_acceptor {
    ht_config_t         cfg_;         /* resolved copy */
    ht_server_t*        server_;
    ht_loop_t*          loop_;
    ht_alloc_t*         alloc_;
    ht_handler_fn       handler_;
    ht_op_t             accept_op_;
    ht_timer_t          tick_;        /* sweeps the deadline lists */
    ht_timer_t          retry_;       /* re-arms accept after EMFILE & co. */
    ht_waker_t          waker_;       /* learns of shutdown */
    ht_conn_list_t      lists_[HT_ACCEPTOR_CLASSES_ + 1]; /* by timeout class; last: closing */
    uint32_t            timeout_ms_[HT_ACCEPTOR_CLASSES_ + 1];
    struct ht_conn*     free_conns_;
    void*               free_out_;    /* free send buffers */
    ht_header_t*        headers_;     /* cfg_.max_headers entries, shared by parses */
    struct ht_defer_pool* defer_pool_; /* deferred handles for reuse (defer.c), or nullptr */
    ht_deadline_list_t  deadlines_[HT_ACCEPTOR_DEADLINE_LISTS_];
    ht_acceptor_stats_t stats_;
    uint32_t            free_out_count_;
    uint32_t            slot_;
    uint32_t            tick_ms_;
    uint8_t             accepting_;   /* accept op armed */
    uint8_t             stopping_;    /* shutdown begun */
    uint8_t             active_;      /* between serve and finalize */
    uint8_t             in_callback_;
    int64_t             date_s_;
    char                date_[48];    /* "Date: <IMF-fixdate>\r\n" */
    void*               log_;         /* access-log buffer (access_log.c), or nullptr */
    uint8_t             observe_;     /* an access log or metrics in cfg_ (observe.c) */
};

HT_EXTERN_C_END

#endif /* HT_SERVER_H */
