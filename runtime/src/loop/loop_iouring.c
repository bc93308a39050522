/* loop_iouring.c — the proactor on io_uring, through raw syscalls: ops
 * submitted, completions dispatched. The ring is created in
 * loop_iouring_setup.c (which kernel features are used, and their fallbacks);
 * the kernel ABI and struct ht_backend are in loop/iouring_abi.h.
 *
 * One io_uring_enter per loop iteration submits everything the callbacks
 * queued and waits for the next completions (timeout via
 * IORING_ENTER_EXT_ARG, else an IORING_OP_TIMEOUT). The rings grow when an
 * accept or a full SQ asks (ht_iouring__grow, loop_iouring_setup.c). Per op:
 *   - Multishot accept (5.19): one SQE accepts until cancelled; on -EINVAL
 *     we fall back to single-shot accepts re-armed after each completion.
 *   - Provided-buffer ring (5.19): recv picks its buffer when data arrives,
 *     so idle connections hold none. The ring is kept small and topped up
 *     from the pool's LIFO free stack before each enter: the kernel consumes
 *     ring entries in FIFO order, so a ring holding the whole pool would
 *     cycle through (and fault in) every buffer. It starts at RING_START
 *     buffers and doubles, up to RING_MAX, each time a batch ran it dry. A
 *     recv that finds the ring empty while the pool still has buffers is
 *     silently resubmitted; -ENOBUFS reaches the caller only when the pool
 *     is empty.
 *     Fallback: the recv takes a pool buffer when it is submitted.
 *   - Not used, measured: IORING_RECVSEND_POLL_FIRST on receives (skip the
 *     attempt that fails with EAGAIN when the next request is not there yet)
 *     showed no gain for small requests and cost ~10% CPU per pipelined
 *     request (16 cores, 6.18, wrk -c64). Registered (fixed) files: the fds
 *     are the caller's (setsockopt, shutdown, close, sendfile), so the
 *     registered ring fd is all we register.
 *   - Sends: IORING_OP_SEND for one iovec, SENDMSG for several (the msghdr
 *     lives in a per-SQE-slot array: the kernel reads it at submit time,
 *     IORING_FEAT_SUBMIT_STABLE), MSG_NOSIGNAL; the remainder of a partial
 *     send (and anything beyond IOV_MAX iovecs) is resubmitted.
 *   - sendfile: sendfile(2) on the non-blocking socket from the loop thread,
 *     waiting with IORING_OP_POLL_ADD(POLLOUT) when the socket is full (a
 *     short count says so: the poll checks the level when armed). Not
 *     splice through a pipe: io_uring always punts IORING_OP_SPLICE to its
 *     io-wq worker threads (a thread hand-off per chunk, twice: file->pipe,
 *     pipe->socket), and a per-loop pipe would serialise concurrent file
 *     sends; sendfile(2) is the same zero-copy page-cache path without either.
 *   - Wake: a blocking eventfd with an IORING_OP_READ always pending (a
 *     non-blocking one would complete at once with -EAGAIN).
 *   - ht_loop__poll: a one-shot IORING_OP_POLL_ADD (the kernel checks the
 *     level when it arms the poll, so a ready socket completes at once);
 *     nothing is kept per fd, so ht_loop__forget has nothing to do.
 */
#include "loop/internal.h"
#include "loop/iouring_abi.h"
#include "loop/nocancel.h"

#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int enter(ht_backend_t* be, uint32_t to_submit, uint32_t min_complete, uint32_t flags,
                 void* arg, size_t argsz) {
    long r = ht_nc__io_uring_enter(be->enter_fd, to_submit, min_complete, flags | be->enter_flags,
                                   arg, argsz);
    return r < 0 ? -errno : (int) r;
}

/* ------------------------------------------------------------ the rings --- */

static uint32_t sq_pending(ht_backend_t* be) {
    return be->sq_local_tail - __atomic_load_n(be->sq_head, __ATOMIC_ACQUIRE);
}

/* Publishes queued SQEs and submits them without waiting (SQ full). */
static int flush(ht_backend_t* be) {
    __atomic_store_n(be->sq_tail, be->sq_local_tail, __ATOMIC_RELEASE);
    uint32_t n;
    while ((n = sq_pending(be)) > 0) {
        int r = enter(be, n, 0, 0, nullptr, 0);
        if (r < 0 && r != -EINTR) return r;
        if (r == 0) return -EAGAIN; /* the kernel took nothing: don't spin */
    }
    return 0;
}

/* The SQ is full: submits what it holds, then lets it grow (a batch that
 * fills it is likely to come again). Out of line: inlined, it cost every
 * send and receive 3 instructions of register saves. */
__attribute__((noinline, cold)) static int sq_full(ht_backend_t* be) {
    int r = flush(be);
    if (r == 0 && be->sq_entries < be->sq_max) {
        be->sq_full = true;
        ht_iouring__grow(be->loop);
    }
    return r;
}

/* The next free SQE, zeroed; nullptr only if the SQ is full and cannot be
 * flushed. */
static uring_sqe_t* sqe_get(ht_backend_t* be) {
    if (HT_UNLIKELY(sq_pending(be) >= be->sq_entries) && sq_full(be) < 0) return nullptr;
    uint32_t idx = be->sq_local_tail & be->sq_mask;
    uring_sqe_t* s = &be->sqes[idx];
    memset(s, 0, sizeof *s);
    be->sq_local_tail++;
    return s;
}

static void br_fill(ht_loop_t* loop) {
    ht_backend_t* be = loop->be;
    if (be->br_in >= be->br_target) return;
    uint16_t tail = be->br_tail;
    while (be->br_in < be->br_target) {
        uint32_t id = ht_pool__pop(loop);
        if (id == UINT32_MAX) break;
        uring_buf_t* b = &be->br[tail & be->br_mask];
        b->addr = (uint64_t) (uintptr_t) loop->bufs[id].data;
        b->len = loop->bufs[id].cap;
        b->bid = (uint16_t) id;
        tail++;
        be->br_in++;
    }
    if (tail != be->br_tail) {
        be->br_tail = tail;
        __atomic_store_n(&be->br[0].resv, tail, __ATOMIC_RELEASE);
    }
}

/* ------------------------------------------------------- op submission --- */

bool ht_iouring__wake_arm(ht_loop_t* loop) {
    uring_sqe_t* s = sqe_get(loop->be);
    if (!s) return false;
    s->opcode = OP_READ;
    s->fd = loop->wake_fd;
    s->addr = (uint64_t) (uintptr_t) &loop->be->wake_val;
    s->len = sizeof loop->be->wake_val;
    s->user_data = UD_WAKE;
    return true;
}

static ht_result_t submit_accept(ht_backend_t* be, ht_op_t* op) {
    uring_sqe_t* s = sqe_get(be);
    if (!s) return -EBUSY;
    s->opcode = OP_ACCEPT;
    s->fd = op->fd_;
    s->op_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
    if (be->multishot_accept) s->ioprio = ACCEPT_MULTISHOT;
    s->user_data = (uint64_t) (uintptr_t) op;
    return 0;
}

static ht_result_t submit_recv(ht_loop_t* loop, ht_op_t* op) {
    ht_backend_t* be = loop->be;
    char* p;
    size_t len;
    bool select = false;
    if (op->kind_ == HT_OP_RECV_INTO) {
        p = op->u_.b.p;
        len = op->u_.b.len;
    } else if (be->pbuf) {
        p = nullptr;
        len = loop->buf_size;
        select = true;
    } else {
        uint32_t id = ht_pool__pop(loop);
        if (id == UINT32_MAX) {
            ht_loop__complete_later(loop, op, -ENOBUFS);
            return 0;
        }
        op->done_ = id;
        p = loop->bufs[id].data;
        len = loop->bufs[id].cap;
    }
    uring_sqe_t* s = sqe_get(be);
    if (!s) {
        if (op->kind_ == HT_OP_RECV && !be->pbuf) ht_pool__push(loop, (uint32_t) op->done_);
        return -EBUSY;
    }
    s->opcode = OP_RECV;
    s->fd = op->fd_;
    s->addr = (uint64_t) (uintptr_t) p;
    s->len = len > UINT32_MAX ? UINT32_MAX : (uint32_t) len;
    if (select) {
        s->flags = SQE_BUFFER_SELECT;
        s->buf_group = BGID;
    }
    s->user_data = (uint64_t) (uintptr_t) op;
    return 0;
}

/* Queues the rest of a send; false when nothing is left to send. */
static ht_result_t submit_send(ht_backend_t* be, ht_op_t* op, bool* queued) {
    ht_iov_t* iov = op->u_.v.iov;
    uint32_t cnt = op->u_.v.iovcnt;
    while (cnt && iov->len == 0) iov++, cnt--;
    op->u_.v.iov = iov;
    op->u_.v.iovcnt = cnt;
    *queued = false;
    if (cnt == 0) return 0;
    uring_sqe_t* s = sqe_get(be);
    if (!s) return -EBUSY;
    s->fd = op->fd_;
    /* No MSG_WAITALL (which makes 5.19+ kernels retry a partial send
     * themselves): with a reader that stalls, then drains after we cancel and
     * close, it left megabytes queued that TCP trickled out through
     * zero-window probes (h5's send-timeout test took minutes instead of
     * milliseconds). A partial send completes and we resubmit the rest. */
    s->op_flags = MSG_NOSIGNAL;
    s->user_data = (uint64_t) (uintptr_t) op;
    if (cnt == 1) {
        s->opcode = OP_SEND;
        s->addr = (uint64_t) (uintptr_t) iov->base;
        s->len = iov->len > UINT32_MAX ? UINT32_MAX : (uint32_t) iov->len;
    } else {
        struct msghdr* m = &be->msgs[(uint32_t) (s - be->sqes)];
        *m = (struct msghdr) { .msg_iov = (struct iovec*) iov,
                               .msg_iovlen = cnt < IOV_MAX ? cnt : IOV_MAX };
        s->opcode = OP_SENDMSG;
        s->addr = (uint64_t) (uintptr_t) m;
        s->len = 1;
    }
    *queued = true;
    return 0;
}

/* One-shot (no IORING_POLL_ADD_MULTI in len). */
static ht_result_t submit_poll(ht_backend_t* be, ht_op_t* op, uint32_t events) {
    uring_sqe_t* s = sqe_get(be);
    if (!s) return -EBUSY;
    s->opcode = OP_POLL_ADD;
    s->fd = op->fd_;
    s->op_flags = events; /* poll32_events; little-endian layout */
    s->user_data = (uint64_t) (uintptr_t) op;
    return 0;
}

/* ---------------------------------------------------------- completion --- */

static void on_accept(ht_loop_t* loop, ht_op_t* op, int32_t res, uint32_t flags) {
    ht_backend_t* be = loop->be;
    bool more = flags & CQE_F_MORE;
    if (res >= 0) {
        /* Also a connection the multishot accept took after the cancel was
         * asked for (a burst from the backlog, up to its length): closing
         * it would drop a client that completed its handshake and may have
         * sent a request already; the caller decides (see ht/loop.h). */
        op->cb(loop, op, res);
        /* The ops a new connection started may ask for larger rings. */
        if (HT_UNLIKELY(loop->active > be->grow_at) && flush(be) == 0) ht_iouring__grow(loop);
        if (more) return;
        /* single-shot, or the kernel ended the multishot: re-arm */
        if (op->state_ == HT_OP_PENDING) {
            ht_result_t r = submit_accept(be, op);
            if (r < 0) ht_loop__complete(loop, op, r);
        } else {
            ht_loop__complete(loop, op, -ECANCELED);
        }
        return;
    }
    if (more) return;
    if (op->state_ == HT_OP_CANCELLING || res == -ECANCELED) {
        ht_loop__complete(loop, op, -ECANCELED);
        return;
    }
    if (res == -EINVAL && be->multishot_accept) {
        be->multishot_accept = false; /* kernel < 5.19: single-shot from now on */
    } else if (ht_loop__accept_error_stops(-res)) {
        ht_loop__complete(loop, op, res);
        return;
    }
    ht_result_t r = submit_accept(be, op);
    if (r < 0) ht_loop__complete(loop, op, r);
}

static void on_recv(ht_loop_t* loop, ht_op_t* op, int32_t res, uint32_t flags) {
    ht_backend_t* be = loop->be;
    uint32_t id = UINT32_MAX;
    if (op->kind_ == HT_OP_RECV) {
        if (flags & CQE_F_BUFFER) {
            id = flags >> CQE_BUFFER_SHIFT;
            be->br_in--;
        } else if (!be->pbuf) {
            id = (uint32_t) op->done_;
        }
    }
    if (res > 0) {
        if (id != UINT32_MAX) op->buf = &loop->bufs[id];
        assert(op->kind_ == HT_OP_RECV_INTO || op->buf);
        ht_loop__complete(loop, op, res);
        return;
    }
    if (id != UINT32_MAX) ht_pool__push(loop, id);
    if (res == -ENOBUFS && be->pbuf && op->state_ == HT_OP_PENDING) {
        /* The ring ran dry inside one batch; the pool may still have some. */
        if (be->br_target < be->br_max) {
            be->br_target *= 2;
            if (be->br_target > be->br_max) be->br_target = be->br_max;
        }
        br_fill(loop);
        if (be->br_in > 0 && submit_recv(loop, op) == 0) {
            be->nobufs_retries++;
            return;
        }
    }
    if (op->state_ == HT_OP_CANCELLING && res < 0) res = -ECANCELED;
    ht_loop__complete(loop, op, res);
}

static void on_send(ht_loop_t* loop, ht_op_t* op, int32_t res) {
    if (res < 0) {
        ht_loop__complete(loop, op, res);
        return;
    }
    ht_loop__iov_advance(op, (size_t) res);
    bool queued = false;
    ht_result_t r = 0;
    if (op->state_ == HT_OP_PENDING) r = submit_send(loop->be, op, &queued);
    if (queued) {
        loop->be->send_resumes++;
        return;
    }
    if (r == 0 && op->u_.v.iovcnt > 0) r = -ECANCELED; /* cancelled part-way */
    ht_loop__complete(loop, op, r < 0 ? r : (ht_io_t) op->done_);
}

static void on_sendfile(ht_loop_t* loop, ht_op_t* op, int32_t res) {
    if (op->state_ == HT_OP_CANCELLING) {
        ht_loop__complete(loop, op, -ECANCELED);
        return;
    }
    if (res < 0) {
        ht_loop__complete(loop, op, res);
        return;
    }
    ht_io_t r;
    if (ht_loop__sendfile_some(op, &r, true) == HT_IO_WAIT) {
        ht_result_t e = submit_poll(loop->be, op, POLLOUT);
        loop->be->send_resumes++;
        if (e == 0) return;
        r = e;
    }
    ht_loop__complete(loop, op, r);
}

static void on_poll(ht_loop_t* loop, ht_op_t* op, int32_t res) {
    /* A poll that fired before its cancel took effect reports readiness. */
    if (res >= 0) res = (int32_t) ht_loop__poll_bits((uint32_t) op->u_.b.len, (uint32_t) res);
    else if (op->state_ == HT_OP_CANCELLING) res = -ECANCELED;
    ht_loop__complete(loop, op, res);
}

static void dispatch(ht_loop_t* loop, uint64_t ud, int32_t res, uint32_t flags) {
    ht_backend_t* be = loop->be;
    switch (ud) {
    case UD_IGNORE:
        return;
    case UD_WAKE:
        if (res > 0 || res == -EINTR || res == -EAGAIN) ht_iouring__wake_arm(loop);
        ht_loop__wakers_run(loop);
        return;
    case UD_TIMEOUT:
        if (--be->timeouts_armed == 0) be->timeout_deadline = UINT64_MAX;
        return;
    default:
        break;
    }
    ht_op_t* op = (ht_op_t*) (uintptr_t) ud;
    switch (op->kind_) {
    case HT_OP_ACCEPT: on_accept(loop, op, res, flags); break;
    case HT_OP_RECV:
    case HT_OP_RECV_INTO: on_recv(loop, op, res, flags); break;
    case HT_OP_SEND: on_send(loop, op, res); break;
    case HT_OP_SENDFILE: on_sendfile(loop, op, res); break;
    case HT_OP_POLL: on_poll(loop, op, res); break;
    default: assert(!"io_uring: completion for an unknown op kind"); break;
    }
}

/* -------------------------------------------------------------- hooks --- */

ht_result_t ht_backend__start(ht_loop_t* loop, ht_op_t* op) {
    ht_backend_t* be = loop->be;
    switch (op->kind_) {
    case HT_OP_ACCEPT: return submit_accept(be, op);
    case HT_OP_RECV:
    case HT_OP_RECV_INTO: return submit_recv(loop, op);
    case HT_OP_SEND: {
        bool queued;
        ht_result_t r = submit_send(be, op, &queued);
        if (r == 0 && !queued) ht_loop__complete_later(loop, op, 0);
        return r;
    }
    case HT_OP_SENDFILE: {
        /* Most files fit the socket buffer: try now, wait only if full. */
        ht_io_t res;
        if (ht_loop__sendfile_some(op, &res, true) == HT_IO_DONE) {
            ht_loop__complete_later(loop, op, res);
            return 0;
        }
        return submit_poll(be, op, POLLOUT);
    }
    case HT_OP_POLL:
        return submit_poll(be, op, op->u_.b.len == HT_POLL_IN ? POLLIN | POLLRDHUP : POLLOUT);
    default: return -EINVAL;
    }
}

void ht_backend__cancel(ht_loop_t* loop, ht_op_t* op) {
    uring_sqe_t* s = sqe_get(loop->be);
    if (!s) return; /* SQ stuck: the op completes on its own */
    s->opcode = OP_ASYNC_CANCEL;
    s->addr = (uint64_t) (uintptr_t) op;
    s->user_data = UD_IGNORE; /* never the op: it may be reused by then */
    op->state_ = HT_OP_CANCELLING;
}

void ht_backend__close(ht_loop_t* loop, ht_socket_t fd) {
    uring_sqe_t* s = sqe_get(loop->be);
    if (!s) {
        close(fd);
        return;
    }
    s->opcode = OP_CLOSE;
    s->fd = fd;
    s->user_data = UD_IGNORE;
}

void ht_backend__forget(ht_loop_t* loop, ht_socket_t fd) { (void) loop, (void) fd; }

void ht_backend__flush(ht_loop_t* loop) {
    ht_backend_t* be = loop->be;
    if (be && be->sq_local_tail != __atomic_load_n(be->sq_head, __ATOMIC_ACQUIRE))
        (void) flush(be);
}

ht_result_t ht_backend__poll(ht_loop_t* loop, int64_t timeout_ms) {
    ht_backend_t* be = loop->be;
    if (be->pbuf) br_fill(loop);
    uint32_t flags = ENTER_GETEVENTS;
    uint32_t min_complete = timeout_ms != 0;
    uring_timespec_t ts;
    uring_getevents_arg_t arg;
    void* argp = nullptr;
    size_t argsz = 0;
    if (timeout_ms > 0) {
        ts = (uring_timespec_t) { .tv_sec = timeout_ms / 1000,
                                  .tv_nsec = (long long) (timeout_ms % 1000) * 1000000 };
        if (be->ext_arg) {
            arg = (uring_getevents_arg_t) { .ts = (uint64_t) (uintptr_t) &ts };
            argp = &arg;
            argsz = sizeof arg;
            flags |= ENTER_EXT_ARG;
        } else if (loop->clock.now_ms + (uint64_t) timeout_ms < be->timeout_deadline) {
            uring_sqe_t* s = sqe_get(be);
            if (s) { /* the kernel copies the timespec at submit */
                be->timeout_ts = ts;
                s->opcode = OP_TIMEOUT;
                s->addr = (uint64_t) (uintptr_t) &be->timeout_ts;
                s->len = 1;
                s->user_data = UD_TIMEOUT;
                be->timeouts_armed++;
                be->timeout_deadline = loop->clock.now_ms + (uint64_t) timeout_ms;
            }
        }
    }
    __atomic_store_n(be->sq_tail, be->sq_local_tail, __ATOMIC_RELEASE);
    be->waits++;
    int r = enter(be, sq_pending(be), min_complete, flags, argp, argsz);
    if (r < 0 && r != -EINTR && r != -ETIME && r != -EAGAIN && r != -EBUSY)
        return be->dead ? be->dead : r;
    ht_loop__update_time(loop);

    uint32_t head = *be->cq_head; /* only we move it */
    for (;;) {
        uint32_t tail = __atomic_load_n(be->cq_tail, __ATOMIC_ACQUIRE);
        if (head == tail) break;
        do {
            uring_cqe_t c = be->cqes[head & be->cq_mask];
            head++;
            /* Hand the slot back before the callback, which may submit. */
            __atomic_store_n(be->cq_head, head, __ATOMIC_RELEASE);
            dispatch(loop, c.user_data, c.res, c.flags);
        } while (head != tail);
    }
    return 0;
}

