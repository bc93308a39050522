/* loop/loop_posix.c — what the two POSIX backends (epoll, io_uring) share
 * beyond loop.c: the eventfd wake, a sendfile op's head + sendfile(2)
 * until the socket fills, and a poll op's result bits. */
#include "loop/internal.h"
#include "loop/nocancel.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

void ht_backend__wake(ht_loop_t* loop) {
    uint64_t one = 1;
    ssize_t n = write(loop->wake_fd, &one, sizeof one);
    (void) n; /* EAGAIN means the counter is already non-zero: still woken */
}

/* Whether fd has room to write now (or an error the next call reports). */
static bool writable_now(int fd) {
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int n;
    do n = poll(&p, 1, 0);
    while (n < 0 && errno == EINTR);
    return n != 0;
}

/* sendfile(2) until op's range is sent, the socket fills, or an error. */
static int sendfile_loop(ht_op_t* op, ht_io_t* res, bool level_wait) {
    while (op->u_.f.len > 0) {
        off_t off = (off_t) op->u_.f.off;
        size_t chunk = op->u_.f.len < (1u << 30) ? (size_t) op->u_.f.len : (1u << 30);
        ssize_t n = sendfile(op->fd_, op->u_.f.file, &off, chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return HT_IO_WAIT;
            *res = -errno;
            return HT_IO_DONE;
        }
        if (n == 0) { /* the file is shorter than promised */
            *res = -EIO;
            return HT_IO_DONE;
        }
        op->u_.f.off += (uint64_t) n;
        op->u_.f.len -= (uint64_t) n;
        op->done_ += (uint64_t) n;
        /* A short count: the socket filled part-way (or the file ended, or
         * the connection failed: the next call reports either). Calling
         * again now would only splice 64 KiB of the page cache into
         * sendfile's pipe to learn EAGAIN and put it back, one call in three
         * for a large file (BENCHMARKS.md, Server, issue 18). Stop here when
         * the backend's wait checks the level as it is armed (io_uring's
         * POLL_ADD), or once poll(2) finds no room: tcp_poll then sets
         * SOCK_NOSPACE, so epoll's edge is sure to come when the socket
         * drains. */
        if ((size_t) n < chunk && op->u_.f.len > 0 && (level_wait || !writable_now(op->fd_)))
            return HT_IO_WAIT;
    }
    *res = (ht_io_t) op->done_;
    return HT_IO_DONE;
}

int ht_loop__sendfile_some(ht_op_t* op, ht_io_t* res, bool level_wait) {
    /* The head first (ht_loop__sendfile_head), corked onto the file's
     * first bytes by MSG_MORE when a body follows. */
    ht_iov_t* h = op->u_.f.head;
    while (h && h->len > 0) {
        ssize_t n = ht_nc__send(op->fd_, h->base, h->len,
                         MSG_NOSIGNAL | MSG_DONTWAIT | (op->u_.f.len ? MSG_MORE : 0));
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return HT_IO_WAIT;
            *res = -errno;
            return HT_IO_DONE;
        }
        h->base = (char*) h->base + n;
        h->len -= (size_t) n;
        op->done_ += (uint64_t) n;
    }
    if (op->u_.f.len == 0) {
        *res = (ht_io_t) op->done_;
        return HT_IO_DONE;
    }
    /* sendfile(2) has no MSG_NOSIGNAL: a connection reset before or while
     * it sends raises SIGPIPE (a reset in the middle of a call takes the
     * error and leaves EPIPE to the next one; a reset in CLOSE_WAIT is EPIPE
     * at once), which kills a program that did not ignore it
     * (ht_signal__install_default does). So this thread blocks SIGPIPE
     * while the calls run and takes back one they raised. A caller that
     * blocks SIGPIPE itself keeps what is pending. */
    sigset_t pipe, old;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    bool mine = pthread_sigmask(SIG_BLOCK, &pipe, &old) == 0 && !sigismember(&old, SIGPIPE);
    int r = sendfile_loop(op, res, level_wait);
    if (mine) {
        /* Only a call that stopped early can have raised it. */
        if (r == HT_IO_WAIT || *res < 0) {
            static const struct timespec none = { 0, 0 };
            while (sigtimedwait(&pipe, nullptr, &none) < 0 && errno == EINTR) {}
        }
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }
    return r;
}

uint32_t ht_loop__poll_bits(uint32_t asked, uint32_t revents) {
    /* A hang-up or error completes either wait: the owner's next read or
     * write is what reports it (EOF, the error). */
    uint32_t fail = revents & (POLLERR | POLLHUP);
    uint32_t bits = fail ? HT_POLL_ERR : 0;
    if (asked == HT_POLL_IN && (fail || (revents & (POLLIN | POLLRDHUP)))) bits |= HT_POLL_IN;
    if (asked == HT_POLL_OUT && (fail || (revents & POLLOUT))) bits |= HT_POLL_OUT;
    return bits;
}
