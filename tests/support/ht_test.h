/* tests/support/ht_test.h — what the Check suites share: running a suite
 * from main(), a monotonic clock and sleep, counting open fds, 127.0.0.1
 * sockets (a listener on a port the kernel picks, a client, writing all),
 * and child processes for the suites that run a real binary (spawn with
 * its output on pipes, a line of it with a timeout, a bounded wait).
 * Header-only, static inline: include it as "support/ht_test.h" (the suites'
 * include path has tests/). POSIX; failures are Check assertions. */
#ifndef HT_TEST_SUPPORT_H
#define HT_TEST_SUPPORT_H

#include <check.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Runs every test of s; main's exit status (EXIT_FAILURE if any failed). */
static inline int ht_test__run(Suite* s) {
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static inline uint64_t ht_test__mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static inline void ht_test__sleep_ms(int ms) {
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0) {}
}

/* Open descriptors among the first 4096 (leak checks: compare before/after). */
static inline int ht_test__count_fds(void) {
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) >= 0) n++;
    return n;
}

/* A non-blocking, close-on-exec socket listening on 127.0.0.1 at a port the
 * kernel picks, returned in *port. */
static inline int ht_test__listen_loopback(uint16_t* port, int backlog) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(l, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(l, (struct sockaddr*) &a, sizeof a), 0);
    ck_assert_int_eq(listen(l, backlog), 0);
    socklen_t len = sizeof a;
    ck_assert_int_eq(getsockname(l, (struct sockaddr*) &a, &len), 0);
    *port = ntohs(a.sin_port);
    return l;
}

/* A blocking, close-on-exec client connected to 127.0.0.1:port, or -1 (errno
 * set) if connect(2) failed. */
static inline int ht_test__connect_loopback(uint16_t port) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0) return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(c, (struct sockaddr*) &a, sizeof a) < 0) {
        int e = errno;
        close(c);
        errno = e;
        return -1;
    }
    return c;
}

/* Writes all n bytes to a blocking fd: send(2) without SIGPIPE on sockets,
 * write(2) on anything else. */
static inline void ht_test__write_all(int fd, const void* p, size_t n) {
    const char* c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k < 0 && errno == ENOTSOCK) k = write(fd, c, n);
        if (k < 0 && errno == EINTR) continue;
        ck_assert_msg(k > 0, "write: %s", k < 0 ? strerror(errno) : "0 bytes");
        c += k;
        n -= (size_t) k;
    }
}

/* ---- Child processes ---- */

/* Runs path with args (args[0] first, nullptr last): its stderr goes to a
 * pipe whose read end is *err_fd and, when out_fd is set, its stdout to
 * another (*out_fd); without, stdout is this process's. Both read ends are
 * close-on-exec. Returns the child's pid. */
static inline pid_t ht_test__spawn(const char* path, const char* const* args, int* err_fd, int* out_fd) {
    int ep[2], op[2] = { -1, -1 };
    ck_assert_int_eq(pipe2(ep, O_CLOEXEC), 0);
    if (out_fd) ck_assert_int_eq(pipe2(op, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(ep[1], 2);
        if (out_fd) dup2(op[1], 1);
        execv(path, (char* const*) args);
        _exit(127);
    }
    close(ep[1]);
    *err_fd = ep[0];
    if (out_fd) {
        close(op[1]);
        *out_fd = op[0];
    }
    return pid;
}

/* Reads from fd up to a '\n' (kept), EOF or timeout_ms without a byte;
 * NUL-terminated. The bytes read. */
static inline size_t ht_test__read_line(int fd, char* buf, size_t cap, int timeout_ms) {
    size_t n = 0;
    while (n + 1 < cap) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, timeout_ms) <= 0) break;
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0) break;
        if (buf[n++] == '\n') break;
    }
    buf[n] = '\0';
    return n;
}

/* Waits for pid at most ms: its wait status, or -1 when it has not ended. */
static inline int ht_test__wait_for(pid_t pid, int ms) {
    for (int i = 0; i < ms / 10; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) return st;
        ht_test__sleep_ms(10);
    }
    return -1;
}

#endif /* HT_TEST_SUPPORT_H */
