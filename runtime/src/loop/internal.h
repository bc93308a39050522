/* loop/internal.h — the contract between loop.c and its one backend.
 *
 * loop.c owns everything that does not depend on the kernel interface: the
 * loop object, time caching, the timer heap, the deferred-completion queue,
 * wakers, the receive-buffer pool and the run loop. A backend
 * (loop_epoll.c, or loop_iouring.c with loop_iouring_setup.c, both with
 * loop_posix.c; or loop_iocp.c on Windows; CMake compiles exactly one)
 * defines the ht_backend__* hooks below and its own struct ht_backend. Like redis'
 * ae_*.c or libuv's src/unix/internal.h, the hooks are few and dumb: the
 * backend never decides when the loop stops or what runs next.
 *
 * Op lifecycle (op->state_): IDLE -> PENDING (started, counted in
 * loop->active) -> [CANCELLING] -> QUEUED (result known, callback not yet run)
 * -> IDLE just before the callback. Backends complete an op either directly
 * from ht_backend__poll (ht_loop__complete) or through the deferred queue
 * (ht_loop__complete_later) when the result is known outside poll.
 */
#ifndef HT_LOOP_INTERNAL_H
#define HT_LOOP_INTERNAL_H

#include <ht/loop.h>

#include "loop/clock.h"

#include <stdatomic.h>

enum { /* op->state_ */
    HT_OP_IDLE = 0,
    HT_OP_PENDING,
    HT_OP_CANCELLING,
    HT_OP_QUEUED,
};

enum { /* op->kind_ */
    HT_OP_ACCEPT = 1,
    HT_OP_RECV,      /* into a pooled buffer */
    HT_OP_RECV_INTO,
    HT_OP_SEND,
    HT_OP_SENDFILE,
    HT_OP_DEFER,
    HT_OP_POLL,      /* readiness wait (ht_loop__poll); u_.b.len = the HT_POLL_* bit asked */
};

typedef struct ht_backend ht_backend_t;

struct ht_loop {
    ht_loop_clock_t clock;     /* first (loop/clock.h): cached per iteration */
    ht_alloc_t*   alloc;
    ht_backend_t* be;
    uint64_t      wall_next_ms; /* clock.now_ms from which clock.wall_s may be a second behind */
    uint32_t      active;      /* ops started and not yet called back (deferred included) */
    uint32_t      timers;      /* armed timers */
    bool          stop;
    int32_t       wake_fd;     /* POSIX backends: eventfd, created and watched by the
                                * backend; -1 where the backend wakes otherwise (IOCP) */
    uint32_t      wake_pending;/* atomic: a wake is written and not yet seen */

    /* timers: intrusive binary min-heap ordered by (deadline_, seq_), and
     * the 0 ms ones in a FIFO (already in that order: its deadlines are the
     * cached time when started, which never goes back) */
    ht_timer_t* heap_min;
    ht_timer_t* due_head;
    ht_timer_t* due_tail;
    uint32_t    heap_n;
    uint64_t    timer_seq;

    /* deferred completions, FIFO through op->next_; result in op->done_ */
    ht_op_t* defer_head;
    ht_op_t* defer_tail;

    ht_waker_t* wakers;
    /* ht_loop__post: a lock-free stack, newest first, pushed by any thread;
     * the loop takes it whole in ht_loop__wakers_run (see loop.c) */
    _Atomic(ht_post_t*) posts;
    _Atomic(uint32_t) posting; /* ht_loop__post calls in progress (ht_loop__free waits) */

    /* receive-buffer pool: one lazily faulted mapping; a LIFO free stack of
     * the buffers handed out before, and below it the ones never handed out,
     * fresh .. buf_count-1, taken in order. bufs[i] is written when buffer i
     * is first handed out, free_ids[] as buffers come back: like the
     * mapping, the bookkeeping costs RSS only for buffers in use (1,024
     * entries: 20 kB of an idle loop otherwise). */
    char*     pool_mem;
    size_t    pool_len;
    ht_buf_t* bufs;
    uint32_t* free_ids;
    uint8_t*  held;        /* per buffer: 1 while outside the free stack */
    uint32_t  free_n;
    uint32_t  fresh;       /* the first buffer never handed out */
    uint32_t  buf_count;
    uint32_t  buf_size;
    uint32_t  entries;     /* options.entries, defaulted */
};
static_assert(offsetof(struct ht_loop, clock) == 0, "loop/clock.h reads the clock at the start");

/* ---- hooks every backend defines ---- */

/* Sets up loop->be and loop->wake_fd (an eventfd whose readability the
 * backend reports by calling ht_loop__wakers_run). The pool exists already. */
ht_result_t ht_backend__init(ht_loop_t* loop);
void ht_backend__free(ht_loop_t* loop);
/* Submits what is queued and waits up to timeout_ms (-1: no limit, 0: do not
 * block) for completions, dispatching each one. Returns 0 or -errno. */
ht_result_t ht_backend__poll(ht_loop_t* loop, int64_t timeout_ms);
/* Starts op (fields fd_, kind_, u_ set by loop.c; state_ PENDING). On error
 * returns it and leaves nothing behind (loop.c undoes the accounting); a
 * backend without readiness waits returns -ENOTSUP for HT_OP_POLL. */
ht_result_t ht_backend__start(ht_loop_t* loop, ht_op_t* op);
/* Cancels a PENDING op: it must complete later (never from this call). */
void ht_backend__cancel(ht_loop_t* loop, ht_op_t* op);
void ht_backend__close(ht_loop_t* loop, ht_socket_t fd);
/* ht_loop__forget: drop what the backend keeps about fd (no op pending on
 * it), without closing it. */
void ht_backend__forget(ht_loop_t* loop, ht_socket_t fd);
/* Makes the backend's wait return and report the wake (it then calls
 * ht_loop__wakers_run on the loop's thread). Called by ht_loop__wake once per
 * batch of wakes, from any thread or a signal handler: thread-safe and
 * async-signal-safe. POSIX backends write loop->wake_fd (loop_posix.c); IOCP
 * posts a completion packet. */
void ht_backend__wake(ht_loop_t* loop);
/* Hands the kernel whatever is queued, without waiting (run is about to
 * return, or the loop is being freed): a close or cancel queued by the last
 * callback must not wait for a next run that may never come. */
void ht_backend__flush(ht_loop_t* loop);

/* Introspection for tests and benchmarks: which kernel features the backend
 * ended up using, and counters that show batching and partial I/O. */
typedef struct ht_backend_info {
    uint32_t features;       /* backend-specific bits (io_uring: iouring_info.h); 0 for epoll */
    uint64_t waits;          /* kernel waits: epoll_wait / io_uring_enter calls */
    uint64_t send_resumes;   /* a send or sendfile had to continue after a partial write */
    uint64_t nobufs_retries; /* io_uring: recv resubmitted after the ring ran dry */
    uint32_t sq_entries;     /* io_uring: the rings' sizes now (0 for epoll) */
    uint32_t cq_entries;
    uint32_t ring_resizes;   /* io_uring: times the rings grew since init */
} ht_backend_info_t;
void ht_backend__info(const ht_loop_t* loop, ht_backend_info_t* out);

/* ---- services loop.c gives backends ---- */

/* Final completion from inside poll: the op leaves the active set, then its
 * callback runs (it may restart the op). */
HT_INLINE void ht_loop__complete(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    op->state_ = HT_OP_IDLE;
    loop->active--;
    op->cb(loop, op, res);
}
/* Final completion known outside poll (e.g. inside a start or cancel call):
 * the callback runs from the loop's next deferred pass. */
void ht_loop__complete_later(ht_loop_t* loop, ht_op_t* op, ht_io_t res);
/* Refreshes now_ms/wall_s: backends call it right after their kernel wait
 * returns, so callbacks never see a time from before a long sleep. */
void ht_loop__update_time(ht_loop_t* loop);
/* Clears the wake flag, runs what ht_loop__post queued, then calls every
 * waker. */
void ht_loop__wakers_run(ht_loop_t* loop);

/* Non-blocking progress on a send-side op, shared by the backends. */
enum { HT_IO_DONE, HT_IO_WAIT }; /* finished (*res set) / would block */
/* Records n more bytes sent: advances op's caller-owned iov array (loop.h
 * lets sends track progress there) and its done_ count. */
void ht_loop__iov_advance(ht_op_t* op, size_t n);
/* The op's head (if any, send with MSG_MORE), then sendfile(2) until op's
 * range is sent (HT_IO_DONE, *res = total), the socket would block
 * (HT_IO_WAIT), or an error (-EIO if the file is short). After a short
 * sendfile it waits without trying again: level_wait says the backend's wait
 * sees a socket that is already writable (io_uring's POLL_ADD); otherwise
 * (epoll's edge) poll(2) checks first. SIGPIPE is blocked in the calling
 * thread while sendfile(2) runs (it has no MSG_NOSIGNAL), and one it raised
 * is taken back. POSIX backends only (loop_posix.c). */
int ht_loop__sendfile_some(ht_op_t* op, ht_io_t* res, bool level_wait);
/* A poll op's HT_POLL_* result from poll(2) revents (epoll's EPOLL* bits
 * have the same values): the bit asked for if ready or on a hang-up or
 * error (the owner's read or write then sees the EOF or error), plus
 * HT_POLL_ERR on POLLERR/POLLHUP; 0 if not ready. POSIX backends only
 * (loop_posix.c). */
uint32_t ht_loop__poll_bits(uint32_t asked, uint32_t revents);

/* Pool: pop a free buffer id (UINT32_MAX if none) / push one back. With
 * the free stack empty, a buffer never used before is set up and handed
 * out, lowest address first (the mapping is faulted from its start). Inline
 * code, not a call: a call here made io_uring's ring refill loop (br_fill)
 * keep its state in memory, 12 instructions more per request. */
HT_INLINE uint32_t ht_pool__pop(ht_loop_t* loop) {
    if (HT_UNLIKELY(loop->free_n == 0)) {
        if (loop->fresh == loop->buf_count) return UINT32_MAX;
        uint32_t id = loop->fresh++;
        loop->bufs[id] = (ht_buf_t) { .data = loop->pool_mem + (size_t) id * loop->buf_size,
                                      .cap = loop->buf_size, .id = id };
        loop->held[id] = 1;
        return id;
    }
    uint32_t id = loop->free_ids[--loop->free_n];
    loop->held[id] = 1;
    return id;
}
HT_INLINE void ht_pool__push(ht_loop_t* loop, uint32_t id) {
    assert(id < loop->buf_count && loop->held[id]);
    loop->held[id] = 0;
    loop->free_ids[loop->free_n++] = id;
}

/* Accept errors after which the persistent accept stops rather than spin. */
HT_INLINE bool ht_loop__accept_error_stops(int err) {
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM || err == EBADF ||
           err == EINVAL || err == ENOTSOCK || err == EOPNOTSUPP || err == EFAULT;
}

#endif /* HT_LOOP_INTERNAL_H */
