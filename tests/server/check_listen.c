/* check_listen: ht/listen.h — socket activation (LISTEN_FDS, in a forked
 * child so descriptor 3 and the environment are its own), Unix-domain
 * sockets (served end to end, stale and live socket files, modes), TCP on
 * a host name. Every wait is bounded. */
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"

static void handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) cfg;
    ht_addr_t peer;
    ht_result_t r = ht_request__peer(req, &peer);
    char body[64];
    int n = snprintf(body, sizeof body, "peer %d family %u", (int) r, (unsigned) peer.family);
    ht_response__bytes(res, 200, HT_SLICE("text/plain"), body, (size_t) n, a);
}

static char dir[64];
static void setup(void) {
    alarm(60);
    strcpy(dir, "/tmp/ht_listen_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}
static void teardown(void) {
    alarm(0);
    char p[128];
    snprintf(p, sizeof p, "%s/s", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/f", dir);
    unlink(p);
    rmdir(dir);
}

/* In a child: descriptors 3 and 4 as systemd would pass them. Exit status:
 * 0 all checks passed, else the failed check's number. */
static int activation_child(void) {
    /* Made above 10 first: socket() may return 3 or 4 itself when they
     * are free, and closing the original after dup2 would close them. */
    int a0 = socket(AF_INET, SOCK_STREAM, 0), b0 = socket(AF_INET, SOCK_STREAM, 0);
    int a = fcntl(a0, F_DUPFD, 10), b = fcntl(b0, F_DUPFD, 10);
    close(a0);
    close(b0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (a < 0 || b < 0 || bind(a, (struct sockaddr*) &sa, sizeof sa) || listen(a, 8)) return 1;
    if (dup2(a, 3) != 3 || dup2(b, 4) != 4) return 2;
    close(a);
    close(b);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long) getpid());
    ht_listen_fd_t fds[4];
    /* Nothing passed, or passed to another process: 0, env kept. */
    unsetenv("LISTEN_PID");
    if (ht_listen__activation(fds, 4, false) != 0) return 3;
    setenv("LISTEN_PID", "1", 1);
    setenv("LISTEN_FDS", "2", 1);
    if (ht_listen__activation(fds, 4, false) != 0) return 4;
    if (getenv("LISTEN_FDS") == nullptr) return 5;
    /* Malformed */
    setenv("LISTEN_PID", "12x", 1);
    if (ht_listen__activation(fds, 4, false) != -EINVAL) return 6;
    /* Ours: two, named; too many for the caller's array */
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDNAMES", "web:", 1);
    if (ht_listen__activation(fds, 1, false) != -E2BIG) return 7;
    if (ht_listen__activation(fds, 4, true) != 2) return 8;
    if (fds[0].fd != 3 || fds[1].fd != 4) return 9;
    if (strcmp(fds[0].name, "web") != 0 || strcmp(fds[1].name, "unknown") != 0) return 10;
    if (!(fcntl(3, F_GETFD) & FD_CLOEXEC) || !(fcntl(4, F_GETFD) & FD_CLOEXEC)) return 11;
    if (getenv("LISTEN_PID") || getenv("LISTEN_FDS") || getenv("LISTEN_FDNAMES")) return 12;
    if (ht_listen__activation(fds, 4, true) != 0) return 13; /* consumed */
    /* The listening one is adopted, the other (not listening) refused. */
    ht_server_t s = { 0 }, t = { 0 };
    if (ht_server__adopt(&s, fds[0].fd) != 0 || ht_server__port(&s) == 0) return 14;
    if (ht_server__adopt(&t, fds[1].fd) != -EINVAL) return 15;
    ht_server__close(&s);
    /* A descriptor that is not open */
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "3", 1);
    close(5);
    if (ht_listen__activation(fds, 4, true) != -EBADF) return 16;
    return 0;
}

START_TEST(socket_activation) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) _exit(activation_child());
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "check %d failed", WEXITSTATUS(st));
}
END_TEST

static int unix_connect(const char* path) { /* path: under 96 bytes */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr*) &sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

START_TEST(unix_socket_serves_and_replaces_stale) {
    char path[96], file[96];
    snprintf(path, sizeof path, "%s/s", dir);
    snprintf(file, sizeof file, "%s/f", dir);
    /* A stale socket file: bound, closed, never unlinked. */
    int stale = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    ck_assert_int_eq(bind(stale, (struct sockaddr*) &sa, sizeof sa), 0);
    close(stale);

    srv_reset(nullptr, nullptr);
    ht_socket_t s;
    ck_assert_int_eq(ht_listen__unix(path, 0600, 64, &s), 0);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert(fcntl(s, F_GETFD) & FD_CLOEXEC);
    /* A live one is not replaced; nor is a file that is not a socket. */
    ht_socket_t s2;
    ck_assert_int_eq(ht_listen__unix(path, -1, 64, &s2), -EADDRINUSE);
    FILE* f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(ht_listen__unix(file, -1, 64, &s2), -EADDRINUSE);
    ck_assert_int_eq(lstat(file, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    ck_assert_int_eq(ht_listen__unix(longp, -1, 64, &s2), -ENAMETOOLONG);

    ck_assert_int_eq(ht_server__adopt(&S.server, s), 0);
    ck_assert_uint_eq(ht_server__port(&S.server), 0);
    srv_run();
    for (int i = 0; i < 3; i++) {
        resp_t p;
        roundtrip_fd(unix_connect(path), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &p);
        ck_assert_int_eq(p.status, 200);
        /* No IP peer on a Unix socket: known, and HT_ADDR_NONE. */
        ck_assert_str_eq(p.body, "peer 0 family 0");
        resp_free(&p);
    }
    stop();
    ht_listen__unix_remove(path);
    ck_assert_int_ne(lstat(path, &st), 0);
    ht_listen__unix_remove(file); /* not a socket: kept */
    ck_assert_int_eq(lstat(file, &st), 0);
}
END_TEST

START_TEST(tcp_on_a_name) {
    ht_socket_t s;
    uint16_t port = 0;
    ck_assert_int_eq(ht_listen__tcp("localhost", 0, 16, &s, &port), 0);
    ck_assert_uint_gt(port, 0);
    ht_server_t srv = { 0 };
    ck_assert_int_eq(ht_server__adopt(&srv, s), 0);
    ck_assert_uint_eq(ht_server__port(&srv), port);
    ht_server__close(&srv);
    ck_assert_int_eq(ht_listen__tcp("127.0.0.1", 0, 16, &s, &port), 0); /* literals too */
    close(s);
    ck_assert_int_eq(ht_listen__tcp("no-such-host.invalid", 0, 16, &s, &port), -ENXIO);
}
END_TEST

int main(void) {
    Suite* s = suite_create("listen");
    TCase* t = tcase_create("listen");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, socket_activation);
    tcase_add_test(t, unix_socket_serves_and_replaces_stale);
    tcase_add_test(t, tcp_on_a_name);
    suite_add_tcase(s, t);
    return ht_test__run(s);
}
