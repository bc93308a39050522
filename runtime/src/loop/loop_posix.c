/* loop/loop_posix.c — what the two POSIX backends (epoll, io_uring) share
 * beyond loop.c: the eventfd wake, a sendfile op's head + sendfile(2)
 * until EAGAIN, and a poll op's result bits. */
#include "loop/internal.h"

#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

void ht_backend__wake(ht_loop_t* loop) {
    uint64_t one = 1;
    ssize_t n = write(loop->wake_fd, &one, sizeof one);
    (void) n; /* EAGAIN means the counter is already non-zero: still woken */
}

int ht_loop__sendfile_some(ht_op_t* op, ht_io_t* res) {
    /* The head first (ht_loop__sendfile_head), corked onto the file's
     * first bytes by MSG_MORE when a body follows. */
    ht_iov_t* h = op->u_.f.head;
    while (h && h->len > 0) {
        ssize_t n = send(op->fd_, h->base, h->len,
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
    }
    *res = (ht_io_t) op->done_;
    return HT_IO_DONE;
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
