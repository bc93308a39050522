/* loop/nocancel.h — internal (Linux backends): the socket calls of the
 * request path without glibc's cancellation bracket.
 *
 * glibc's recv, send, sendmsg and epoll_wait are thread cancellation points:
 * in a process with more than one thread (ht with its workers, any server
 * that starts a pool) each call brackets its syscall with
 * __pthread_enable_asynccancel / __pthread_disable_asynccancel, ~30
 * instructions a call, ~90 a request on epoll (BENCHMARKS.md, Server, issue
 * 18, "the connection path"). Loop threads are never cancelled (the project
 * has no pthread_cancel; a loop stops through ht_loop__stop), so the bare
 * syscall does the same work with the same contract: -1 and errno on
 * failure. x86-64 only; other targets keep the libc wrappers. io_uring_enter
 * (loop_iouring.c) goes the same way.
 *
 * Under ASan and TSan the socket calls stay libc's: ASan's interceptors
 * check the bytes a send reads and a receive writes (server/out.h poisons
 * the send buffers given back so that an iovec left pointing into one is
 * reported at the send), TSan's order threads that talk through a socket.
 * The sanitized test builds keep that net; io_uring_enter, which no
 * interceptor sees, is bare in every build.
 */
#ifndef HT_LOOP_NOCANCEL_H
#define HT_LOOP_NOCANCEL_H

#include <ht/types.h>

#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#    define HT_NC_SANITIZED 1
#  endif
#endif
#if (defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)) && !defined(HT_NC_SANITIZED)
#  define HT_NC_SANITIZED 1
#endif

#if defined(__x86_64__) && defined(__GNUC__)
/* The syscall instruction inline: glibc's syscall() is a call that shifts
 * all six argument registers, which for a single-threaded server (hello:
 * glibc skips the bracket there) cost more than the wrappers saved. Same
 * contract as the wrappers: -1 with errno set on failure. */
static inline long ht_nc__sys6(long nr, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long r;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    if (HT_UNLIKELY((unsigned long) r > -4096ul)) {
        errno = (int) -r;
        return -1;
    }
    return r;
}

/* io_uring_enter has no libc wrapper: syscall() is a call that shifts all six
 * argument registers (~15 instructions, twice a request). */
static inline int ht_nc__io_uring_enter(int fd, uint32_t to_submit, uint32_t min_complete,
                                        uint32_t flags, void* arg, size_t argsz) {
    return (int) ht_nc__sys6(SYS_io_uring_enter, fd, to_submit, min_complete, flags, (long) arg,
                             (long) argsz);
}
#else
static inline int ht_nc__io_uring_enter(int fd, uint32_t to_submit, uint32_t min_complete,
                                        uint32_t flags, void* arg, size_t argsz) {
    return (int) syscall(SYS_io_uring_enter, fd, to_submit, min_complete, flags, arg, argsz);
}
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(HT_NC_SANITIZED)
static inline ssize_t ht_nc__recv(int fd, void* p, size_t n, int flags) {
    return ht_nc__sys6(SYS_recvfrom, fd, (long) p, (long) n, flags, 0, 0);
}

static inline ssize_t ht_nc__send(int fd, const void* p, size_t n, int flags) {
    return ht_nc__sys6(SYS_sendto, fd, (long) p, (long) n, flags, 0, 0);
}

static inline ssize_t ht_nc__sendmsg(int fd, const struct msghdr* m, int flags) {
    return ht_nc__sys6(SYS_sendmsg, fd, (long) m, flags, 0, 0, 0);
}

static inline int ht_nc__epoll_wait(int epfd, struct epoll_event* ev, int n, int timeout_ms) {
    return (int) ht_nc__sys6(SYS_epoll_wait, epfd, (long) ev, n, timeout_ms, 0, 0);
}
#else
/* Elsewhere, and sanitized, the libc wrappers, cancellation bracket and all. */
static inline ssize_t ht_nc__recv(int fd, void* p, size_t n, int flags) { return recv(fd, p, n, flags); }
static inline ssize_t ht_nc__send(int fd, const void* p, size_t n, int flags) {
    return send(fd, p, n, flags);
}
static inline ssize_t ht_nc__sendmsg(int fd, const struct msghdr* m, int flags) {
    return sendmsg(fd, m, flags);
}
static inline int ht_nc__epoll_wait(int epfd, struct epoll_event* ev, int n, int timeout_ms) {
    return epoll_wait(epfd, ev, n, timeout_ms);
}
#endif

#endif /* HT_LOOP_NOCANCEL_H */
