/* loop_epoll.c — the proactor on readiness: completions emulated with
 * epoll + non-blocking syscalls.
 *
 * Edge-triggered, registered once. Each fd is added to the epoll set the
 * first time an operation uses it, with EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET,
 * and never modified: level-triggered interest would have to be switched off
 * whenever no operation wants it (one epoll_ctl per operation, nginx pays
 * none and neither do we). The price of edge triggering is bookkeeping: per fd
 * we remember whether it may still be readable (an edge was seen and the
 * last read did not prove it drained), and an operation started on a
 * possibly-ready fd goes on a ready list that the next poll drains without
 * waiting. A short read means drained (any later arrival raises a new edge);
 * after EPOLLRDHUP/HUP/ERR the fd stays readable for good.
 *
 * Interest is per fd, not per op: one receive-side op (accept/recv, or a
 * poll for IN) and one send-side op (send/sendfile, or a poll for OUT) may be
 * pending on the same fd.
 *
 * Polls (ht_loop__poll) are level-triggered for the caller, who reads and
 * writes the socket itself, so after an edge we cannot know whether it
 * drained it: a poll started while an edge is unaccounted for (or any poll
 * for OUT, which has no such flag) asks poll(2) once, and waits for the next
 * edge only if the socket is not ready. An edge completes a waiting poll
 * without a syscall.
 *
 * Sends are tried at once in ht_loop__send (most responses fit the socket
 * buffer, so this saves a wait); the result still reaches the callback from
 * the loop's deferred queue, never from inside the start call.
 */
#include "loop/internal.h"
#include "loop/nocancel.h"

#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* ht_loop__poll_bits reads epoll's bits as poll(2)'s. */
static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT && EPOLLERR == POLLERR &&
                  EPOLLHUP == POLLHUP && EPOLLRDHUP == POLLRDHUP,
              "epoll and poll event bits");

typedef struct ep_fd {
    ht_op_t* rd;         /* pending accept / recv / recv_into / poll for IN */
    ht_op_t* wr;         /* pending send / sendfile / poll for OUT */
    int32_t  ready_next; /* ready list link, valid while in_ready */
    uint32_t gen;        /* bumped whenever the number may name a new file */
    uint32_t wr_wait;    /* be->waits (low half) when wr found the socket full and began to wait */
    uint8_t  reg;        /* in the epoll set (registered with this gen) */
    uint8_t  readable;   /* an input edge was seen and not yet drained */
    uint8_t  eof;        /* RDHUP/HUP/ERR seen: reads never block again */
    uint8_t  in_ready;
} ep_fd_t;

/* epoll_event.data: fd in the low half, the entry's gen in the high half, so
 * an event already fetched for a file that was closed (and its number
 * reused) in the same batch is recognised as stale and dropped. */
#define EP_DATA(fd, gen) (((uint64_t) (gen) << 32) | (uint32_t) (fd))
#define EP_WAKE UINT64_MAX

struct ht_backend {
    int32_t  epfd;
    uint32_t nfds;      /* fds[] covers fd numbers [0, nfds) */
    ep_fd_t* fds;       /* grown on demand (warm-up only: fd numbers are reused) */
    int32_t  ready_head, ready_tail;
    uint32_t nevents;
    uint64_t waits, send_resumes;
    struct epoll_event events[];
};

const char* ht_loop__backend(void) { return "epoll"; }

static size_t be_size(uint32_t nevents) {
    return sizeof(ht_backend_t) + sizeof(struct epoll_event) * nevents;
}

ht_result_t ht_backend__init(ht_loop_t* loop) {
    uint32_t nevents = loop->entries;
    ht_backend_t* be = ht_alloc__calloc(loop->alloc, 1, be_size(nevents));
    if (!be) return -ENOMEM;
    be->nevents = nevents;
    be->ready_head = be->ready_tail = -1;
    be->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (be->epfd < 0) {
        ht_result_t r = -errno;
        ht_alloc__free(loop->alloc, be, be_size(nevents));
        return r;
    }
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EP_WAKE };
    if (loop->wake_fd < 0 || epoll_ctl(be->epfd, EPOLL_CTL_ADD, loop->wake_fd, &ev) < 0) {
        ht_result_t r = -errno;
        if (loop->wake_fd >= 0) close(loop->wake_fd);
        close(be->epfd);
        ht_alloc__free(loop->alloc, be, be_size(nevents));
        return r;
    }
    loop->be = be;
    return 0;
}

void ht_backend__free(ht_loop_t* loop) {
    ht_backend_t* be = loop->be;
    if (!be) return;
    close(loop->wake_fd);
    close(be->epfd);
    ht_alloc__free(loop->alloc, be->fds, sizeof(ep_fd_t) * be->nfds);
    ht_alloc__free(loop->alloc, be, be_size(be->nevents));
    loop->be = nullptr;
}

/* Forgets what we knew about fd: its number now names a different file. */
static void fd_reset(ht_backend_t* be, int32_t fd) {
    if ((uint32_t) fd >= be->nfds) return;
    ep_fd_t* e = &be->fds[fd];
    e->rd = e->wr = nullptr;
    e->reg = e->readable = e->eof = 0;
    e->gen++;
    /* in_ready/ready_next stay: the list may still link through it, and a
     * stale ready entry is harmless (a syscall would just say EAGAIN). */
}

/* The entry for fd, registered in the epoll set; nullptr with errno set. */
static ep_fd_t* fd_get(ht_loop_t* loop, int32_t fd) {
    ht_backend_t* be = loop->be;
    if (fd < 0) {
        errno = EBADF;
        return nullptr;
    }
    if ((uint32_t) fd >= be->nfds) {
        uint32_t n = be->nfds ? be->nfds : 256;
        while (n <= (uint32_t) fd) n *= 2;
        ep_fd_t* fds = ht_alloc__realloc(loop->alloc, be->fds, sizeof(ep_fd_t) * be->nfds,
                                         sizeof(ep_fd_t) * n);
        if (!fds) {
            errno = ENOMEM;
            return nullptr;
        }
        for (uint32_t i = be->nfds; i < n; i++) fds[i] = (ep_fd_t) { .ready_next = -1 };
        be->fds = fds;
        be->nfds = n;
    }
    ep_fd_t* e = &be->fds[fd];
    if (!e->reg) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                  .data.u64 = EP_DATA(fd, e->gen) };
        if (epoll_ctl(be->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            if (errno != EEXIST || epoll_ctl(be->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
                return nullptr;
            /* Re-armed by MOD: any current readiness is reported again. */
        }
        e->reg = 1;
    }
    return e;
}

static void ready_push(ht_backend_t* be, int32_t fd) {
    ep_fd_t* e = &be->fds[fd];
    if (e->in_ready) return;
    e->in_ready = 1;
    e->ready_next = -1;
    if (be->ready_tail >= 0) be->fds[be->ready_tail].ready_next = fd;
    else be->ready_head = fd;
    be->ready_tail = fd;
}

/* ------------------------------------------------------------ reading --- */

static void do_accept(ht_loop_t* loop, int32_t fd) {
    ht_backend_t* be = loop->be;
    /* Bounded per pass so one busy listener cannot starve the others. */
    for (int i = 0; i < 64; i++) {
        ht_op_t* op = be->fds[fd].rd;
        if (!op || op->kind_ != HT_OP_ACCEPT) return; /* cancelled from a callback */
        int32_t c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0) {
            fd_reset(be, c);
            op->cb(loop, op, c);
            continue;
        }
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            be->fds[fd].readable = 0;
            return;
        }
        if (ht_loop__accept_error_stops(err)) {
            be->fds[fd].rd = nullptr;
            ht_loop__complete(loop, op, -err);
            return;
        }
        /* ECONNABORTED, EPROTO, EPERM (firewall), EINTR: that one connection
         * failed; keep accepting. */
    }
    ready_push(be, fd);
}

static void do_recv(ht_loop_t* loop, int32_t fd) {
    ht_backend_t* be = loop->be;
    ht_op_t* op = be->fds[fd].rd;
    char* p;
    size_t cap;
    uint32_t id = UINT32_MAX;
    if (op->kind_ == HT_OP_RECV) {
        /* The buffer is taken only now that data is (probably) there. */
        id = ht_pool__pop(loop);
        if (id == UINT32_MAX) {
            be->fds[fd].rd = nullptr;
            ht_loop__complete(loop, op, -ENOBUFS);
            return;
        }
        p = loop->bufs[id].data;
        cap = loop->bufs[id].cap;
    } else {
        p = op->u_.b.p;
        cap = op->u_.b.len;
    }
    ssize_t n;
    do n = ht_nc__recv(fd, p, cap, 0);
    while (n < 0 && errno == EINTR);
    ep_fd_t* e = &be->fds[fd];
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (id != UINT32_MAX) ht_pool__push(loop, id);
        e->readable = 0;
        return;
    }
    ht_io_t res = n < 0 ? -errno : n;
    if (n > 0 && (size_t) n < cap && !e->eof) e->readable = 0;
    if (id != UINT32_MAX) {
        if (n > 0) op->buf = &loop->bufs[id];
        else ht_pool__push(loop, id);
    }
    e->rd = nullptr;
    ht_loop__complete(loop, op, res);
}

/* ------------------------------------------------------------ polling --- */

/* The socket's readiness for op's HT_POLL_* bit now, from poll(2): the
 * result bits, 0 if not ready, or a negated errno. */
static ht_io_t poll_now(const ht_op_t* op) {
    struct pollfd p = { .fd = op->fd_,
                        .events = (short) (op->u_.b.len == HT_POLL_IN ? POLLIN | POLLRDHUP : POLLOUT) };
    int n;
    do n = poll(&p, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (p.revents & POLLNVAL) return -EBADF;
    return ht_loop__poll_bits((uint32_t) op->u_.b.len, (uint32_t) p.revents);
}

/* An edge (ev) for a waiting poll; ev == 0: none, ask poll(2). */
static void do_poll(ht_loop_t* loop, int32_t fd, ht_op_t* op, uint32_t ev) {
    ht_backend_t* be = loop->be;
    ht_io_t res = ev ? ht_loop__poll_bits((uint32_t) op->u_.b.len, ev) : poll_now(op);
    if (res == 0) {
        if (op->u_.b.len == HT_POLL_IN) be->fds[fd].readable = 0; /* drained: wait for an edge */
        return;
    }
    if (op->u_.b.len == HT_POLL_IN) be->fds[fd].rd = nullptr;
    else be->fds[fd].wr = nullptr;
    ht_loop__complete(loop, op, res);
}

static void do_read(ht_loop_t* loop, int32_t fd, uint32_t ev) {
    ht_op_t* op = loop->be->fds[fd].rd;
    if (!op) return;
    if (op->kind_ == HT_OP_ACCEPT) do_accept(loop, fd);
    else if (op->kind_ == HT_OP_POLL) do_poll(loop, fd, op, ev);
    else do_recv(loop, fd);
}

/* ------------------------------------------------------------ writing --- */

/* Pushes a send forward; HT_IO_DONE with *res set, or HT_IO_WAIT on EAGAIN. */
static int send_some(ht_loop_t* loop, ht_op_t* op, ht_io_t* res) {
    int32_t fd = op->fd_;
    for (;;) {
        ht_iov_t* iov = op->u_.v.iov;
        uint32_t cnt = op->u_.v.iovcnt;
        while (cnt && iov->len == 0) iov++, cnt--;
        op->u_.v.iov = iov;
        op->u_.v.iovcnt = cnt;
        if (cnt == 0) {
            *res = (ht_io_t) op->done_;
            return HT_IO_DONE;
        }
        ssize_t n;
        if (cnt == 1) {
            /* One buffer (a small response): send(2) spares the kernel
             * sendmsg(2)'s copies and checks of a msghdr and an iovec array. */
            n = ht_nc__send(fd, iov->base, iov->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        } else {
            struct msghdr msg = { .msg_iov = (struct iovec*) iov,
                                  .msg_iovlen = cnt < IOV_MAX ? cnt : IOV_MAX };
            n = ht_nc__sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return HT_IO_WAIT;
            *res = -errno;
            return HT_IO_DONE;
        }
        ht_loop__iov_advance(op, (size_t) n);
    }
}

static int write_some(ht_loop_t* loop, ht_op_t* op, ht_io_t* res) {
    return op->kind_ == HT_OP_SEND ? send_some(loop, op, res) : ht_loop__sendfile_some(op, res, false);
}

static void do_write(ht_loop_t* loop, int32_t fd, uint32_t ev) {
    ht_backend_t* be = loop->be;
    ht_op_t* op = be->fds[fd].wr;
    if (!op) return;
    if (op->kind_ == HT_OP_POLL) {
        do_poll(loop, fd, op, ev);
        return;
    }
    ht_io_t res;
    if (write_some(loop, op, &res) == HT_IO_WAIT) {
        be->send_resumes++;
        return;
    }
    be->fds[fd].wr = nullptr;
    ht_loop__complete(loop, op, res);
}

static ht_result_t poll_start(ht_loop_t* loop, ht_op_t* op, ep_fd_t* e) {
    bool in = op->u_.b.len == HT_POLL_IN;
    if (in ? e->rd != nullptr : e->wr != nullptr) return -EBUSY;
    /* No edge since the socket was last seen drained: only a new one can
     * make it ready, no need to ask. */
    if (in && !e->readable && !e->eof) {
        e->rd = op;
        return 0;
    }
    ht_io_t res = poll_now(op);
    if (res != 0) {
        ht_loop__complete_later(loop, op, res);
        return 0;
    }
    /* Not ready: any readiness from now on raises an edge. */
    if (in) {
        e->readable = 0;
        e->rd = op;
    } else {
        e->wr = op;
        e->wr_wait = (uint32_t) loop->be->waits;
    }
    return 0;
}

/* -------------------------------------------------------------- hooks --- */

ht_result_t ht_backend__start(ht_loop_t* loop, ht_op_t* op) {
    ht_backend_t* be = loop->be;
    int32_t fd = op->fd_;
    ep_fd_t* e = fd_get(loop, fd);
    if (!e) return -errno;
    if (op->kind_ == HT_OP_SEND || op->kind_ == HT_OP_SENDFILE) {
        if (e->wr) return -EBUSY;
        ht_io_t res;
        if (write_some(loop, op, &res) == HT_IO_DONE) {
            ht_loop__complete_later(loop, op, res);
        } else {
            e = &be->fds[fd];
            e->wr = op;
            e->wr_wait = (uint32_t) be->waits;
            be->send_resumes++;
        }
        return 0;
    }
    if (op->kind_ == HT_OP_POLL) return poll_start(loop, op, e);
    if (e->rd) return -EBUSY;
    e->rd = op;
    if (e->readable || e->eof) ready_push(be, fd);
    return 0;
}

void ht_backend__cancel(ht_loop_t* loop, ht_op_t* op) {
    ht_backend_t* be = loop->be;
    int32_t fd = op->fd_;
    if (fd >= 0 && (uint32_t) fd < be->nfds) {
        ep_fd_t* e = &be->fds[fd];
        if (e->rd == op) e->rd = nullptr;
        if (e->wr == op) e->wr = nullptr;
    }
    ht_loop__complete_later(loop, op, -ECANCELED);
}

void ht_backend__close(ht_loop_t* loop, ht_socket_t fd) {
    /* No EPOLL_CTL_DEL: closing the last reference removes the registration,
     * and a stale event for a duplicated file only costs an EAGAIN. */
    fd_reset(loop->be, fd);
    close(fd);
}

void ht_backend__forget(ht_loop_t* loop, ht_socket_t fd) {
    ht_backend_t* be = loop->be;
    /* DEL as well: the owner's file may outlive its close (a dup, a fork),
     * and its registration with it. */
    if (fd >= 0 && (uint32_t) fd < be->nfds && be->fds[fd].reg)
        (void) epoll_ctl(be->epfd, EPOLL_CTL_DEL, fd, nullptr);
    fd_reset(be, fd);
}

void ht_backend__flush(ht_loop_t* loop) { (void) loop; /* nothing is ever queued */ }

void ht_backend__info(const ht_loop_t* loop, ht_backend_info_t* out) {
    *out = (ht_backend_info_t) { .waits = loop->be->waits,
                                 .send_resumes = loop->be->send_resumes };
}

ht_result_t ht_backend__poll(ht_loop_t* loop, int64_t timeout_ms) {
    ht_backend_t* be = loop->be;
    if (be->ready_head >= 0) timeout_ms = 0;
    int timeout = timeout_ms > INT_MAX ? INT_MAX : (int) timeout_ms;
    be->waits++;
    int n = ht_nc__epoll_wait(be->epfd, be->events, (int) be->nevents, timeout);
    if (n < 0) {
        if (errno != EINTR) return -errno;
        n = 0;
    }
    if (timeout != 0) ht_loop__update_time(loop);
    for (int i = 0; i < n; i++) {
        uint32_t ev = be->events[i].events;
        uint64_t data = be->events[i].data.u64;
        if (data == EP_WAKE) {
            uint64_t v;
            ssize_t r = read(loop->wake_fd, &v, sizeof v);
            (void) r;
            ht_loop__wakers_run(loop);
            continue;
        }
        int32_t fd = (int32_t) (uint32_t) data;
        uint32_t gen = (uint32_t) (data >> 32);
        if ((uint32_t) fd >= be->nfds || be->fds[fd].gen != gen) continue; /* stale */
        ep_fd_t* e = &be->fds[fd];
        if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) e->eof = 1;
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            e->readable = 1;
            if (e->rd) do_read(loop, fd, ev);
        }
        /* Callbacks may have grown the table or closed and reused fd. A
         * send-side op started since this batch was fetched has tried the
         * socket after this event and found it full (its edge is sure to
         * come): this EPOLLOUT would only repeat the try to learn EAGAIN (a
         * request's EPOLLIN comes with EPOLLOUT on an idle socket: for a
         * large file, one sendfile in vain per response). */
        e = &be->fds[fd];
        if ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && e->gen == gen && e->wr &&
            (e->wr_wait != (uint32_t) be->waits || (ev & (EPOLLHUP | EPOLLERR))))
            do_write(loop, fd, ev);
    }
    /* Ops started on fds that may already be ready; pushes made while
     * draining wait for the next poll. */
    int32_t rfd = be->ready_head;
    be->ready_head = be->ready_tail = -1;
    while (rfd >= 0) {
        ep_fd_t* e = &be->fds[rfd];
        int32_t next = e->ready_next;
        e->in_ready = 0;
        if (e->rd && (e->readable || e->eof)) do_read(loop, rfd, 0);
        rfd = next;
    }
    return 0;
}
