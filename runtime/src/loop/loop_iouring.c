/* loop_iouring.c — the proactor on io_uring, through raw syscalls.
 *
 * No liburing: the ABI structs and constants below are our own copies of
 * <linux/io_uring.h> (only the parts used), so the build does not depend on
 * the installed kernel headers being new enough.
 *
 * One io_uring_enter per loop iteration submits everything the callbacks
 * queued and waits for the next completions (timeout via
 * IORING_ENTER_EXT_ARG, else an IORING_OP_TIMEOUT). What the kernel offers is
 * used, with a fallback each:
 *   - SINGLE_ISSUER + DEFER_TASKRUN (6.1): completions are produced only
 *     inside our enter call, in one batch, no IPIs; else COOP_TASKRUN
 *     (5.19), else plain. NO_SQARRAY (6.6) drops the SQ indirection array.
 *   - Registered ring fd (5.18): enter skips the fd table lookup.
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
 *
 * Tests force the fallbacks with the environment variable
 * HT_LOOP__TEST_DISABLE (read once per ht_loop__init, meant for tests only),
 * a comma-separated list of: defer, coop, sqarray, submitall, regring, pbuf,
 * multishot, extarg, singlemmap, or "all"; "uring" makes io_uring_setup look
 * unavailable (ENOSYS), "probe" makes the opcode probe fail (a kernel too
 * old for the opcodes we use: reported as unavailable too).
 */
#include "loop/internal.h"
#include "loop/iouring_info.h"

#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* ------------------------------------------------- the kernel ABI (ours) --- */

#ifndef __NR_io_uring_setup
#  define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#  define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#  define __NR_io_uring_register 427
#endif

typedef struct {
    uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1;
    uint64_t user_addr;
} uring_sq_offsets_t;

typedef struct {
    uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1;
    uint64_t user_addr;
} uring_cq_offsets_t;

typedef struct {
    uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd;
    uint32_t resv[3];
    uring_sq_offsets_t sq_off;
    uring_cq_offsets_t cq_off;
} uring_params_t;
static_assert(sizeof(uring_params_t) == 120, "io_uring_params ABI");

typedef struct {
    uint8_t  opcode;
    uint8_t  flags;      /* IOSQE_* */
    uint16_t ioprio;     /* accept: IORING_ACCEPT_MULTISHOT */
    int32_t  fd;
    uint64_t off;        /* also addr2 */
    uint64_t addr;
    uint32_t len;
    uint32_t op_flags;   /* msg_flags, accept_flags, poll32_events, timeout_flags */
    uint64_t user_data;
    uint16_t buf_group;
    uint16_t personality;
    int32_t  splice_fd_in;
    uint64_t addr3;
    uint64_t pad2;
} uring_sqe_t;
static_assert(sizeof(uring_sqe_t) == 64, "io_uring_sqe ABI");

typedef struct {
    uint64_t user_data;
    int32_t  res;
    uint32_t flags;
} uring_cqe_t;

typedef struct { /* io_uring_buf: one provided-buffer ring entry */
    uint64_t addr;
    uint32_t len;
    uint16_t bid;
    uint16_t resv; /* entry 0's resv is the ring tail */
} uring_buf_t;

typedef struct {
    uint64_t ring_addr;
    uint32_t ring_entries;
    uint16_t bgid;
    uint16_t flags;
    uint64_t resv[3];
} uring_buf_reg_t;

typedef struct {
    uint32_t offset;
    uint32_t resv;
    uint64_t data;
} uring_rsrc_update_t;

typedef struct {
    uint8_t  last_op;
    uint8_t  ops_len;
    uint16_t resv;
    uint32_t resv2[3];
    struct {
        uint8_t  op;
        uint8_t  resv;
        uint16_t flags; /* PROBE_OP_SUPPORTED */
        uint32_t resv2;
    } ops[64];
} uring_probe_t;

typedef struct {
    uint64_t sigmask;
    uint32_t sigmask_sz;
    uint32_t pad;
    uint64_t ts;
} uring_getevents_arg_t;

typedef struct {
    int64_t tv_sec;
    long long tv_nsec;
} uring_timespec_t;

enum {
    SETUP_CQSIZE = 1u << 3,
    SETUP_SUBMIT_ALL = 1u << 7,
    SETUP_COOP_TASKRUN = 1u << 8,
    SETUP_SINGLE_ISSUER = 1u << 12,
    SETUP_DEFER_TASKRUN = 1u << 13,
    SETUP_NO_SQARRAY = 1u << 16,
};
enum { FEAT_SINGLE_MMAP = 1u << 0, FEAT_NODROP = 1u << 1, FEAT_EXT_ARG = 1u << 8 };
enum {
    ENTER_GETEVENTS = 1u << 0,
    ENTER_EXT_ARG = 1u << 3,
    ENTER_REGISTERED_RING = 1u << 4,
};
enum {
    OP_POLL_ADD = 6,
    OP_SENDMSG = 9,
    OP_TIMEOUT = 11,
    OP_ACCEPT = 13,
    OP_ASYNC_CANCEL = 14,
    OP_CLOSE = 19,
    OP_READ = 22,
    OP_SEND = 26,
    OP_RECV = 27,
};
enum { SQE_BUFFER_SELECT = 1u << 5 };
enum { CQE_F_BUFFER = 1u << 0, CQE_F_MORE = 1u << 1, CQE_BUFFER_SHIFT = 16 };
enum { ACCEPT_MULTISHOT = 1u << 0 };
enum { REGISTER_PROBE = 8, REGISTER_RING_FDS = 20, REGISTER_PBUF_RING = 22 };
enum { PROBE_OP_SUPPORTED = 1u << 0 };
#define OFF_SQ_RING 0ull
#define OFF_CQ_RING 0x8000000ull
#define OFF_SQES    0x10000000ull

/* user_data values that are not ops (ops are at least 8-byte aligned). */
enum { UD_IGNORE = 1, UD_WAKE = 2, UD_TIMEOUT = 3 };

enum { RING_START = 16, RING_MAX = 64 }; /* provided buffers kept in the kernel's ring */
enum { BGID = 0 };

/* ---------------------------------------------------------- the state --- */

struct ht_backend {
    int32_t  ring_fd;
    int32_t  enter_fd;      /* ring_fd, or its registered index */
    uint32_t enter_flags;   /* ENTER_REGISTERED_RING when registered */
    uint32_t setup_flags;
    uint32_t features;

    uint32_t* sq_head;
    uint32_t* sq_tail;
    uint32_t  sq_mask, sq_entries;
    uint32_t  sq_local_tail; /* published to *sq_tail before each enter */
    uring_sqe_t* sqes;
    struct msghdr* msgs;     /* one per SQE slot, for SENDMSG */

    uint32_t* cq_head;
    uint32_t* cq_tail;
    uint32_t  cq_mask;
    uring_cqe_t* cqes;

    void*  sq_map;
    size_t sq_map_len;
    void*  cq_map; /* == sq_map with IORING_FEAT_SINGLE_MMAP */
    size_t cq_map_len;
    size_t sqes_len;

    /* provided-buffer ring */
    bool         pbuf;
    uring_buf_t* br;
    size_t       br_len;
    uint32_t     br_mask;
    uint16_t     br_tail;    /* local tail */
    uint32_t     br_in;      /* buffers the kernel holds in the ring */
    uint32_t     br_target;  /* buffers to keep in the ring; grows to br_max */
    uint32_t     br_max;

    bool multishot_accept;
    bool ext_arg;
    bool single_mmap;
    uint64_t waits, send_resumes, nobufs_retries;

    uint64_t wake_val;
    /* IORING_OP_TIMEOUT fallback: armed count and earliest armed deadline */
    uint32_t timeouts_armed;
    uint64_t timeout_deadline;
    uring_timespec_t timeout_ts;
};

const char* ht_loop__backend(void) { return "io_uring"; }

static int sys_setup(uint32_t entries, uring_params_t* p) {
    return (int) syscall(__NR_io_uring_setup, entries, p);
}
static int sys_register(int fd, unsigned op, void* arg, unsigned n) {
    return (int) syscall(__NR_io_uring_register, fd, op, arg, n);
}

static int enter(ht_backend_t* be, uint32_t to_submit, uint32_t min_complete, uint32_t flags,
                 void* arg, size_t argsz) {
    long r = syscall(__NR_io_uring_enter, be->enter_fd, to_submit, min_complete,
                     flags | be->enter_flags, arg, argsz);
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

/* The next free SQE, zeroed; nullptr only if the SQ is full and cannot be
 * flushed. */
static uring_sqe_t* sqe_get(ht_backend_t* be) {
    if (HT_UNLIKELY(sq_pending(be) >= be->sq_entries) && flush(be) < 0) return nullptr;
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

static bool wake_arm(ht_loop_t* loop) {
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
        if (res > 0 || res == -EINTR || res == -EAGAIN) wake_arm(loop);
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

void ht_backend__info(const ht_loop_t* loop, ht_backend_info_t* out) {
    const ht_backend_t* be = loop->be;
    uint32_t f = 0;
    if (be->setup_flags & SETUP_DEFER_TASKRUN) f |= HT_BE_DEFER_TASKRUN;
    if (be->setup_flags & SETUP_COOP_TASKRUN) f |= HT_BE_COOP_TASKRUN;
    if (be->setup_flags & SETUP_NO_SQARRAY) f |= HT_BE_NO_SQARRAY;
    if (be->enter_flags & ENTER_REGISTERED_RING) f |= HT_BE_REG_RING;
    if (be->pbuf) f |= HT_BE_PBUF_RING;
    if (be->multishot_accept) f |= HT_BE_MULTISHOT_ACCEPT;
    if (be->ext_arg) f |= HT_BE_EXT_ARG;
    if (be->single_mmap) f |= HT_BE_SINGLE_MMAP;
    *out = (ht_backend_info_t) { .features = f, .waits = be->waits,
                                 .send_resumes = be->send_resumes,
                                 .nobufs_retries = be->nobufs_retries };
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
        } else if (loop->now_ms + (uint64_t) timeout_ms < be->timeout_deadline) {
            uring_sqe_t* s = sqe_get(be);
            if (s) { /* the kernel copies the timespec at submit */
                be->timeout_ts = ts;
                s->opcode = OP_TIMEOUT;
                s->addr = (uint64_t) (uintptr_t) &be->timeout_ts;
                s->len = 1;
                s->user_data = UD_TIMEOUT;
                be->timeouts_armed++;
                be->timeout_deadline = loop->now_ms + (uint64_t) timeout_ms;
            }
        }
    }
    __atomic_store_n(be->sq_tail, be->sq_local_tail, __ATOMIC_RELEASE);
    be->waits++;
    int r = enter(be, sq_pending(be), min_complete, flags, argp, argsz);
    if (r < 0 && r != -EINTR && r != -ETIME && r != -EAGAIN && r != -EBUSY) return r;
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

/* --------------------------------------------------------- init / free --- */

static bool disabled(const char* list, const char* what) {
    if (!list) return false;
    /* "all": every optional feature, not the two that fake unavailability */
    if (strstr(list, "all") && strcmp(what, "uring") != 0 && strcmp(what, "probe") != 0)
        return true;
    size_t n = strlen(what);
    for (const char* p = list; (p = strstr(p, what)); p += n) {
        bool start_ok = p == list || p[-1] == ',';
        bool end_ok = p[n] == '\0' || p[n] == ',';
        if (start_ok && end_ok) return true;
    }
    return false;
}

static void unmap_rings(ht_backend_t* be) {
    if (be->sqes) munmap(be->sqes, be->sqes_len);
    if (be->cq_map && be->cq_map != be->sq_map) munmap(be->cq_map, be->cq_map_len);
    if (be->sq_map) munmap(be->sq_map, be->sq_map_len);
    be->sqes = nullptr;
    be->cq_map = be->sq_map = nullptr;
}

/* No MAP_POPULATE: ring pages count towards RSS only once touched. */
static ht_result_t map_rings(ht_backend_t* be, const uring_params_t* p, bool single_mmap) {
    size_t sq_len = p->sq_off.array + (size_t) p->sq_entries * sizeof(uint32_t);
    if (be->setup_flags & SETUP_NO_SQARRAY) sq_len = p->sq_off.flags + sizeof(uint32_t);
    size_t cq_len = p->cq_off.cqes + (size_t) p->cq_entries * sizeof(uring_cqe_t);
    if (single_mmap) {
        if (cq_len > sq_len) sq_len = cq_len;
        cq_len = sq_len;
    }
    void* sq = mmap(nullptr, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, be->ring_fd,
                    OFF_SQ_RING);
    if (sq == MAP_FAILED) return -errno;
    be->sq_map = sq;
    be->sq_map_len = sq_len;
    if (single_mmap) {
        be->cq_map = sq;
    } else {
        void* cq = mmap(nullptr, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED,
                        be->ring_fd, OFF_CQ_RING);
        if (cq == MAP_FAILED) return -errno;
        be->cq_map = cq;
    }
    be->cq_map_len = cq_len;
    be->sqes_len = (size_t) p->sq_entries * sizeof(uring_sqe_t);
    void* sqes = mmap(nullptr, be->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED,
                      be->ring_fd, OFF_SQES);
    if (sqes == MAP_FAILED) return -errno;
    be->sqes = sqes;

    char* s = sq;
    char* c = be->cq_map;
    be->sq_head = (uint32_t*) (s + p->sq_off.head);
    be->sq_tail = (uint32_t*) (s + p->sq_off.tail);
    be->sq_mask = *(uint32_t*) (s + p->sq_off.ring_mask);
    be->sq_entries = *(uint32_t*) (s + p->sq_off.ring_entries);
    be->sq_local_tail = *be->sq_tail;
    if (!(be->setup_flags & SETUP_NO_SQARRAY)) {
        /* Identity mapping, written once: SQE slot i is always array[i]. */
        uint32_t* array = (uint32_t*) (s + p->sq_off.array);
        for (uint32_t i = 0; i < be->sq_entries; i++) array[i] = i;
    }
    be->cq_head = (uint32_t*) (c + p->cq_off.head);
    be->cq_tail = (uint32_t*) (c + p->cq_off.tail);
    be->cq_mask = *(uint32_t*) (c + p->cq_off.ring_mask);
    be->cqes = (uring_cqe_t*) (c + p->cq_off.cqes);
    return 0;
}

static void setup_pbuf(ht_loop_t* loop) {
    ht_backend_t* be = loop->be;
    uint32_t max = loop->buf_count < RING_MAX ? loop->buf_count : RING_MAX;
    uint32_t entries = 1;
    while (entries < max) entries <<= 1;
    be->br_len = (size_t) entries * sizeof(uring_buf_t);
    void* mem = mmap(nullptr, be->br_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (mem == MAP_FAILED) return;
    uring_buf_reg_t reg = { .ring_addr = (uint64_t) (uintptr_t) mem, .ring_entries = entries,
                            .bgid = BGID };
    if (sys_register(be->ring_fd, REGISTER_PBUF_RING, &reg, 1) < 0) {
        munmap(mem, be->br_len); /* kernel < 5.19: buffers taken at submit */
        return;
    }
    be->br = mem;
    be->br_mask = entries - 1;
    be->br_max = max;
    be->br_target = max < RING_START ? max : RING_START;
    be->pbuf = true;
}

ht_result_t ht_backend__init(ht_loop_t* loop) {
    const char* dis = getenv("HT_LOOP__TEST_DISABLE");
    ht_backend_t* be = ht_alloc__calloc(loop->alloc, 1, sizeof *be);
    if (!be) return -ENOMEM;
    be->ring_fd = -1;
    be->timeout_deadline = UINT64_MAX;

    /* Ask for everything, drop features one at a time on EINVAL (older
     * kernels reject flags they do not know). */
    static const uint32_t drop_order[] = {
        SETUP_NO_SQARRAY, SETUP_DEFER_TASKRUN, SETUP_SINGLE_ISSUER,
        SETUP_COOP_TASKRUN, SETUP_SUBMIT_ALL, SETUP_CQSIZE,
    };
    uint32_t want = SETUP_CQSIZE | SETUP_SUBMIT_ALL | SETUP_COOP_TASKRUN | SETUP_SINGLE_ISSUER |
                    SETUP_DEFER_TASKRUN | SETUP_NO_SQARRAY;
    if (disabled(dis, "sqarray")) want &= ~SETUP_NO_SQARRAY;
    if (disabled(dis, "defer")) want &= ~(SETUP_DEFER_TASKRUN | SETUP_SINGLE_ISSUER);
    if (disabled(dis, "coop")) want &= ~SETUP_COOP_TASKRUN;
    if (disabled(dis, "submitall")) want &= ~SETUP_SUBMIT_ALL;
    /* 8x the SQ: room for a burst of completions from many connections; a
     * larger burst is not lost (IORING_FEAT_NODROP), just slower. */
    uint32_t cq_entries = loop->entries * 8 > 65536 ? 65536 : loop->entries * 8;
    uring_params_t p;
    int fd = -1, err = 0;
    for (size_t i = 0;; i++) {
        memset(&p, 0, sizeof p);
        p.flags = want;
        p.cq_entries = cq_entries;
        fd = disabled(dis, "uring") ? (errno = ENOSYS, -1) : sys_setup(loop->entries, &p);
        if (fd >= 0) break;
        err = errno;
        if (err != EINVAL || i == HT_ARRAY_LEN(drop_order)) break;
        want &= ~drop_order[i];
        if (!(want & SETUP_SINGLE_ISSUER)) want &= ~SETUP_DEFER_TASKRUN;
    }
    if (fd >= 0) {
        /* Every opcode we issue must exist (kernel >= 5.6); an older io_uring
         * is as good as none. */
        static const uint8_t needed[] = { OP_POLL_ADD, OP_SENDMSG, OP_TIMEOUT, OP_ACCEPT,
                                          OP_ASYNC_CANCEL, OP_CLOSE, OP_READ, OP_SEND, OP_RECV };
        uring_probe_t probe;
        memset(&probe, 0, sizeof probe);
        bool ok = sys_register(fd, REGISTER_PROBE, &probe, HT_ARRAY_LEN(probe.ops)) == 0 &&
                  !disabled(dis, "probe");
        for (size_t i = 0; ok && i < HT_ARRAY_LEN(needed); i++)
            ok = needed[i] <= probe.last_op && (probe.ops[needed[i]].flags & PROBE_OP_SUPPORTED);
        if (!ok) {
            close(fd);
            fd = -1;
            err = ENOSYS;
        }
    }
    if (fd < 0) {
        ht_alloc__free(loop->alloc, be, sizeof *be);
        if (err == ENOSYS || err == EPERM || err == EACCES || err == EINVAL) {
            fprintf(stderr, "hachettp: io_uring is unavailable here (io_uring_setup: %s); "
                            "rebuild with -DHT_IO_URING=OFF for the epoll backend\n",
                    strerror(err));
            return HT_E_BACKEND_UNAVAILABLE;
        }
        return -err;
    }
    be->ring_fd = be->enter_fd = fd;
    be->setup_flags = want;
    be->features = p.features;
    be->ext_arg = (p.features & FEAT_EXT_ARG) && !disabled(dis, "extarg");
    loop->be = be;

    be->single_mmap = (p.features & FEAT_SINGLE_MMAP) && !disabled(dis, "singlemmap");
    ht_result_t r = map_rings(be, &p, be->single_mmap);
    if (r == 0) {
        /* Not zeroed: a slot is written whole before its SENDMSG, so an
         * idle loop's 14 kB of them cost no RSS until sends use them. */
        be->msgs = ht_alloc__alloc(loop->alloc, sizeof(struct msghdr) * be->sq_entries);
        if (!be->msgs) r = -ENOMEM;
    }
    if (r == 0) {
        loop->wake_fd = eventfd(0, EFD_CLOEXEC); /* blocking: see the top */
        if (loop->wake_fd < 0) r = -errno;
    }
    if (r != 0) {
        ht_backend__free(loop);
        return r;
    }
    if (!disabled(dis, "regring")) {
        uring_rsrc_update_t up = { .offset = UINT32_MAX, .data = (uint64_t) fd };
        if (sys_register(fd, REGISTER_RING_FDS, &up, 1) == 1) {
            be->enter_fd = (int32_t) up.offset;
            be->enter_flags = ENTER_REGISTERED_RING;
        }
    }
    if (!disabled(dis, "pbuf")) setup_pbuf(loop);
    be->multishot_accept = !disabled(dis, "multishot");
    wake_arm(loop);
    return 0;
}

void ht_backend__free(ht_loop_t* loop) {
    ht_backend_t* be = loop->be;
    if (!be) return;
    /* Closing the ring cancels whatever is still in flight. */
    unmap_rings(be);
    if (be->ring_fd >= 0) close(be->ring_fd);
    if (be->br) munmap(be->br, be->br_len);
    if (loop->wake_fd >= 0) close(loop->wake_fd);
    loop->wake_fd = -1;
    ht_alloc__free(loop->alloc, be->msgs, sizeof(struct msghdr) * be->sq_entries);
    ht_alloc__free(loop->alloc, be, sizeof *be);
    loop->be = nullptr;
}
