/* ht/loop.h — the proactor: one event loop per thread.
 *
 * Model. The caller starts an operation (accept, recv, send, sendfile, timer)
 * and gets exactly one completion callback for it, on the loop's own thread,
 * from inside ht_loop__run — never from inside the call that started it. The
 * backend (epoll or io_uring on Linux, IOCP on Windows, chosen at build time)
 * is invisible here.
 *
 * Ownership. Operation structs (ht_op_t, ht_timer_t) are caller storage,
 * usually embedded in a connection; zero-initialise them before first use
 * (ht_loop__timer_active and ht_loop__cancel read their private state). They
 * must stay valid and untouched from the start call until their callback has
 * run (a timer: until it fired or was stopped). Buffers passed to an operation
 * likewise stay valid until its completion. Only ht_loop__wake and
 * ht_loop__post are thread-safe; everything else must be called on the
 * loop's thread, the thread that called ht_loop__init (io_uring: the ring is
 * set up SINGLE_ISSUER/DEFER_TASKRUN and its registered fd belongs to that
 * thread, so create the loop inside the worker that runs it).
 *
 * Lifetime. ht_loop__run returns when ht_loop__stop was called, or when no
 * operation or timer is pending (the loop has nothing left to do).
 *
 * Sockets. Every socket handed to an operation must be non-blocking (those
 * from ht_loop__accept are). An fd may have one receive-side operation
 * (accept/recv/recv_into) and one send-side operation (send/sendfile) pending
 * at the same time, never two of the same side. Close sockets that had
 * operations with ht_loop__close once none is pending: the epoll backend must
 * forget the fd's registration (fd numbers are reused), io_uring batches the
 * close into its next submission. close(2) stays correct for fds returned by
 * ht_loop__accept (a reused number is re-registered), not for others.
 * Windows (IOCP): sockets must be overlapped (WSA_FLAG_OVERLAPPED: those from
 * ht_server__listen and ht_loop__accept are); each is tied to the first
 * loop that runs an operation on it, for good, except a listening socket,
 * which any number of loops may accept on (see loop_iocp.c); errors are
 * mapped to the same negated errno values.
 */
#ifndef HT_LOOP_H
#define HT_LOOP_H

#include <ht/alloc.h>
#include <ht/net.h> /* ht_socket_t, ht_file_t */

HT_EXTERN_C_BEGIN

/* The name this error had when only io_uring could refuse to start; kept
 * so that programs checking ht_loop__init's result still compile. */
#define HT_E_IO_URING_UNAVAILABLE HT_E_BACKEND_UNAVAILABLE

typedef struct ht_loop ht_loop_t;
typedef struct ht_op ht_op_t;
typedef struct ht_timer ht_timer_t;
typedef struct ht_waker ht_waker_t;

/* Completion: res is the operation's result (bytes, a new fd, 0) or an error:
 * a negated errno, or -ECANCELED after ht_loop__cancel. */
typedef void (*ht_op_fn)(ht_loop_t* loop, ht_op_t* op, ht_io_t res);

/* Scatter/gather element; layout-compatible with struct iovec on POSIX. */
typedef struct ht_iov {
    void*  base;
    size_t len;
} ht_iov_t;

/* A loop-owned receive buffer (see ht_loop__recv). */
typedef struct ht_buf {
    char*    data;
    uint32_t cap;
    uint32_t id; /* private */
} ht_buf_t;

struct ht_op {
    ht_op_fn cb;
    void*    data;      /* user pointer, untouched by the loop */
    ht_buf_t* buf;      /* out: the buffer a pooled recv filled */
    /* private below: the backend's state for this operation */
    ht_op_t*  next_;
    union {
        struct { ht_iov_t* iov; uint32_t iovcnt; } v;
        struct { char* p; size_t len; } b;
        struct { ht_file_t file; uint64_t off; uint64_t len; ht_iov_t* head; } f;
    } u_;
    uint64_t  done_;
#if defined(HT_OS_WINDOWS)
    uintptr_t ovl_[4]; /* the operation's OVERLAPPED (IOCP), see loop_iocp.c */
#endif
    ht_socket_t fd_;
    uint8_t   kind_;
    uint8_t   state_;
    uint16_t  flags_;
};

typedef void (*ht_timer_fn)(ht_loop_t* loop, ht_timer_t* t);
struct ht_timer {
    ht_timer_fn cb;
    void*       data;
    /* private: an intrusive binary min-heap node (no allocation, so starting
     * a timer cannot fail), or for a 0 ms timer a node of the loop's FIFO of
     * timers due now (left_/right_ link it); seq_ orders equal deadlines by
     * start order. */
    ht_timer_t* parent_;
    ht_timer_t* left_;
    ht_timer_t* right_;
    uint64_t    deadline_;
    uint64_t    seq_;
    uint8_t     active_; /* 0 stopped, 1 in the heap, 2 in the due FIFO */
};

typedef void (*ht_waker_fn)(ht_loop_t* loop, ht_waker_t* w);
struct ht_waker {
    ht_waker_fn cb;
    void*       data;
    ht_waker_t* next_; /* private */
};

typedef struct ht_loop_options {
    uint32_t entries;      /* io_uring SQ size (CQ: 8x); 0 = 256. On kernels that
                            * resize rings (6.13+) these are the largest sizes:
                            * the rings start at 64/128 and grow with the ops in
                            * flight. epoll: events per wait. */
    uint32_t buf_size;     /* pooled receive buffer size; 0 = 16 KiB */
    uint32_t buf_count;    /* pooled receive buffers; 0 = 1024, at most 65536. One
                            * mmap'ed region, faulted in only where touched; free
                            * buffers are reused LIFO so the hot set stays small. */
} ht_loop_options_t;

/* Creates a loop owned by the calling thread. -ENOMEM, -EMFILE, or
 * HT_E_BACKEND_UNAVAILABLE (with a one-line message on stderr naming the
 * epoll build) when the kernel refuses io_uring. */
ht_result_t ht_loop__init(ht_loop_t** out, ht_alloc_t* a);
ht_result_t ht_loop__init_with(ht_loop_t** out, ht_alloc_t* a, const ht_loop_options_t* opt);
/* Frees a loop whose run has returned; pending operations are abandoned
 * (their callbacks never run), queued closes are submitted first. */
void ht_loop__free(ht_loop_t* loop, ht_alloc_t* a);

/* Runs until stopped or idle. Before returning it hands the kernel whatever
 * the last callbacks queued (io_uring closes, cancels). Returns 0, or a
 * negated errno if the kernel wait itself failed. */
ht_result_t ht_loop__run(ht_loop_t* loop);
/* Makes ht_loop__run return after the current iteration. Loop thread only. */
void ht_loop__stop(ht_loop_t* loop);
/* Thread-safe and async-signal-safe: wakes the loop, which then calls every
 * registered waker's callback on its own thread. Typed void* so it can be
 * used directly as a worker stop function. */
void ht_loop__wake(void* loop);
/* Registers a waker (caller storage, valid until removed or the loop is
 * freed). Wakers do not keep the loop alive. */
void ht_loop__waker_add(ht_loop_t* loop, ht_waker_t* w, ht_waker_fn cb);
void ht_loop__waker_remove(ht_loop_t* loop, ht_waker_t* w);

/* Monotonic milliseconds, cached once per loop iteration. */
uint64_t ht_loop__now_ms(const ht_loop_t* loop);
/* Wall-clock seconds (CLOCK_REALTIME_COARSE), cached once per iteration. */
int64_t ht_loop__wall_s(const ht_loop_t* loop);

/* ---- Operations. Each returns 0 when started, or a negative error when it
 * could not be (then no callback will run): -EBUSY when the fd already has an
 * op of the same side pending (epoll) or the submission queue cannot be
 * flushed (io_uring), -ENOMEM when the epoll fd table cannot grow. ---- */

/* Persistent accept on a non-blocking listening socket: cb runs once per
 * accepted connection with the new fd (non-blocking, close-on-exec) as res,
 * and keeps running until ht_loop__cancel (then once more with -ECANCELED).
 * On -EMFILE/-ENFILE/-ENOBUFS/-ENOMEM (and -EBADF/-EINVAL/-ENOTSOCK) the
 * accept stops (the op is complete) so that no loop spins on an error; the
 * caller re-arms it later. Transient per-connection errors (ECONNABORTED,
 * EPROTO, EPERM) are skipped. io_uring: connections the kernel accepted
 * between ht_loop__cancel and the cancellation taking effect are still
 * delivered (res >= 0) before the final -ECANCELED: the callback owns them
 * (closing them would drop clients the kernel has already let in). */
ht_result_t ht_loop__accept(ht_loop_t* loop, ht_op_t* op, ht_socket_t listen_fd, ht_op_fn cb);

/* Receives into a loop-owned buffer chosen when data arrives (io_uring:
 * provided-buffer ring; epoll: taken from the pool on readiness), so an idle
 * connection holds no buffer. On res > 0, op->buf holds the bytes at
 * op->buf->data[0, res); the caller owns it until ht_loop__buf_release.
 * res == 0 is end of stream (no buffer is held). The completion is -ENOBUFS
 * when data arrived but every pooled buffer was taken (the recv is over; the
 * caller frees buffers and starts it again). */
ht_result_t ht_loop__recv(ht_loop_t* loop, ht_op_t* op, ht_socket_t fd, ht_op_fn cb);
/* Takes a free pooled buffer outside a recv (for assembling a request that
 * spans several receives), or nullptr if none is free. io_uring keeps a few
 * free buffers (16 to 64) lent to the kernel's buffer ring, so this may
 * return nullptr slightly before every buffer is in use. */
ht_buf_t* ht_loop__buf_acquire(ht_loop_t* loop);
void ht_loop__buf_release(ht_loop_t* loop, ht_buf_t* buf);

/* Receives into caller memory p[0, len): completes with the byte count of one
 * successful receive (> 0), 0 at end of stream, or an error. */
ht_result_t ht_loop__recv_into(ht_loop_t* loop, ht_op_t* op, ht_socket_t fd, char* p, size_t len,
                               ht_op_fn cb);

/* Sends all of iov[0, iovcnt) (the array is caller storage and may be
 * modified to track progress). Completes with the total byte count once all
 * is sent, or with an error (-EPIPE, -ECONNRESET, ...). Never raises SIGPIPE. */
ht_result_t ht_loop__send(ht_loop_t* loop, ht_op_t* op, ht_socket_t fd, ht_iov_t* iov,
                          uint32_t iovcnt, ht_op_fn cb);

/* Sends len bytes of file starting at off to the socket without copying
 * through user space (sendfile(2) on both backends; io_uring waits for
 * POLLOUT with IORING_OP_POLL_ADD, see loop_iouring.c for why not splice).
 * Completes with len once all is sent, -EIO if the file ends before len
 * bytes, or another error (a peer's reset: -ECONNRESET or -EPIPE). Never
 * raises SIGPIPE: sendfile(2) has no MSG_NOSIGNAL, so SIGPIPE is blocked in
 * the loop's thread while it runs and one it raised is discarded (unless
 * the thread already blocked SIGPIPE itself). */
ht_result_t ht_loop__sendfile(ht_loop_t* loop, ht_op_t* op, ht_socket_t sock, ht_file_t file,
                              uint64_t off, uint64_t len, ht_op_fn cb);

/* ht_loop__sendfile with head->base[0, head->len) sent first, in the same
 * operation: one completion for a response head and its file body. epoll
 * and io_uring send the head with MSG_MORE right before sendfile(2) (the
 * head and the file's first bytes share segments); IOCP hands both to one
 * TransmitFile (TRANSMIT_FILE_BUFFERS.Head). head is caller storage,
 * updated to track progress, valid until the completion; head->len may be
 * 0. Completes with the head's length + len once all is sent, or an error
 * as ht_loop__sendfile. */
ht_result_t ht_loop__sendfile_head(ht_loop_t* loop, ht_op_t* op, ht_socket_t sock, ht_iov_t* head,
                                   ht_file_t file, uint64_t off, uint64_t len, ht_op_fn cb);

/* Requests cancellation of a started operation. Its callback still runs
 * exactly once, later: with its result if it already completed, otherwise
 * with -ECANCELED. Cancelling a completed (not pending) op is a no-op. */
void ht_loop__cancel(ht_loop_t* loop, ht_op_t* op);

/* Runs op->cb (with res) on the next iteration: a way to complete something
 * asynchronously without I/O. Keeps the loop alive until it has run. */
void ht_loop__defer(ht_loop_t* loop, ht_op_t* op, ht_io_t res, ht_op_fn cb);

/* Closes fd, which must have no pending operation (cancel them and wait for
 * their callbacks first). epoll: drops the fd's registration, then close(2).
 * io_uring: an IORING_OP_CLOSE in the next batch (no extra syscall); the
 * number is free once that batch is submitted (at the latest when
 * ht_loop__run returns). Errors are not reported. */
void ht_loop__close(ht_loop_t* loop, ht_socket_t fd);

/* ---- Waiting on a socket the application owns (a database client's, an
 * upstream's): the loop watches it and calls back on its own thread. ---- */
enum {
    HT_POLL_IN  = 1u << 0, /* readable (or at end of stream) */
    HT_POLL_OUT = 1u << 1, /* writable */
    HT_POLL_ERR = 1u << 2, /* an error or hang-up is pending (reported, never asked for) */
};
/* One-shot readiness wait on fd, a non-blocking socket the caller owns and
 * reads and writes itself: cb runs once with the HT_POLL_* bits that are
 * ready (> 0), or with an error (-ECANCELED after ht_loop__cancel). events
 * is HT_POLL_IN or HT_POLL_OUT: a wait for IN counts as fd's receive-side
 * operation and a wait for OUT as its send-side one, so one of each may be
 * pending at once. Level-triggered: a socket already ready completes on the
 * next iteration. Before the caller closes fd it cancels its waits, lets
 * their callbacks run, then calls ht_loop__forget (epoll drops the
 * registration it keeps per fd number). io_uring: IORING_OP_POLL_ADD;
 * epoll: the loop's own registration of fd. Windows (IOCP): -ENOTSUP, no
 * readiness model there; hand results to the loop from the thread that
 * waits instead (ht_loop__post). */
ht_result_t ht_loop__poll(ht_loop_t* loop, ht_op_t* op, ht_socket_t fd, uint32_t events, ht_op_fn cb);
/* Forgets whatever the loop keeps about fd (no wait may be pending), without
 * closing it: call it before the owner closes a socket it waited on. */
void ht_loop__forget(ht_loop_t* loop, ht_socket_t fd);

/* ---- Handing work to the loop from another thread. ---- */
typedef struct ht_post ht_post_t;
typedef void (*ht_post_fn)(ht_loop_t* loop, ht_post_t* p);
struct ht_post {
    ht_post_fn cb;
    void*      data;    /* user pointer, untouched by the loop */
    ht_post_t* next_;   /* private */
};
/* Thread-safe (any thread, not a signal handler): queues p and wakes the
 * loop, which calls cb(loop, p) on its own thread from its next iteration,
 * in the order posts were queued from one thread. p is caller storage,
 * valid and unposted until its callback runs; the caller may post it again
 * from the callback. One lock-free push per post, and
 * nothing at all on a loop that is never posted to. Posts do not keep the
 * loop alive: what is queued when the loop is freed never runs; a post
 * call still in progress on another thread when the loop is freed (its
 * callback may have run already) is waited for by ht_loop__free. */
void ht_loop__post(ht_loop_t* loop, ht_post_t* p, ht_post_fn cb);

/* ---- Timers: one-shot, millisecond resolution, caller storage. Starting an
 * armed timer re-arms it. Timers keep the loop alive while armed. A timer's
 * deadline is ht_loop__now_ms + ms: counted from the loop's cached time (its
 * creation or the start of the current iteration), as in libuv, so that
 * starting thousands of timers costs no clock reads. ---- */
void ht_loop__timer_start(ht_loop_t* loop, ht_timer_t* t, uint64_t ms, ht_timer_fn cb);
void ht_loop__timer_stop(ht_loop_t* loop, ht_timer_t* t);
/* Inline: the server asks it for every deferred response. */
HT_INLINE bool ht_loop__timer_active(const ht_timer_t* t) { return t->active_ != 0; }

/* "epoll", "io_uring" or "iocp": the backend this library was built with. */
const char* ht_loop__backend(void);

HT_EXTERN_C_END

#endif /* HT_LOOP_H */
