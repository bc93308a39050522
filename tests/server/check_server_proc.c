/* check_server_proc: listening sockets and server processes, on whichever
 * loop backend this build has: listening on IPv4/IPv6 and its errors,
 * adopting a caller's listening socket, the peer address on IPv4, dual-stack
 * and IPv6 sockets, and servers forked into processes of their own (the
 * default signal handling: graceful, then forced; running out of
 * descriptors without a busy loop). Same fixture and handler as check_server
 * (srv_fixture.h, srv_handler.h); every wait is bounded. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"
#include "server/srv_handler.h"

/* ------------------------------------------------------------- tests --- */

/* ht_request__peer: the client's address and port as the client's own
 * socket names them, on IPv4, on a dual-stack socket (an IPv4 client is
 * IPv4, not ::ffff:...), and on IPv6 where the host has it; the same answer
 * for every request of a connection. */
static void peer_case(const char* listen_host, int family, const char* want_host) {
    g_listen_host = listen_host;
    start();
    g_listen_host = "127.0.0.1";
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_storage ss = { 0 };
    socklen_t sl;
    if (family == AF_INET) {
        struct sockaddr_in* a = (struct sockaddr_in*) &ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(ht_server__port(&S.server));
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof *a;
    } else {
        struct sockaddr_in6* a = (struct sockaddr_in6*) &ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(ht_server__port(&S.server));
        a->sin6_addr = in6addr_loopback;
        sl = sizeof *a;
    }
    ck_assert_int_eq(connect(fd, (struct sockaddr*) &ss, sl), 0);
    struct sockaddr_storage me;
    socklen_t ml = sizeof me;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr*) &me, &ml), 0);
    unsigned my_port = ntohs(family == AF_INET ? ((struct sockaddr_in*) &me)->sin_port
                                               : ((struct sockaddr_in6*) &me)->sin6_port);
    char want[96];
    snprintf(want, sizeof want, "%s %u 0", want_host, my_port);
    rd_t r;
    rd_init(&r, fd);
    for (int i = 0; i < 3; i++) {
        send_str(fd, "GET /peer HTTP/1.1\r\nHost: h\r\n\r\n");
        resp_t p;
        ck_assert(read_resp(&r, &p, false));
        ck_assert_str_eq(p.body, want);
        resp_free(&p);
    }
    rd_free(&r);
    close(fd);
    stop();
}

START_TEST(peer_address) {
    peer_case("127.0.0.1", AF_INET, "127.0.0.1");
    peer_case(nullptr, AF_INET, "127.0.0.1"); /* dual-stack, IPv4-mapped */
    ht_server_t s6 = { 0 };
    if (ht_server__listen(&s6, "::1", 0, 16) == 0) { /* IPv6 here */
        ht_server__close(&s6);
        peer_case("::1", AF_INET6, "::1");
    }
}
END_TEST

START_TEST(listen_ipv6_and_errors) {
    ht_server_t s6 = { 0 };
    ht_result_t r = ht_server__listen(&s6, "::1", 0, 16);
    if (r == 0) {
        ck_assert_uint_gt(ht_server__port(&s6), 0);
        ht_server__close(&s6);
    }
    ht_server_t s4 = { 0 };
    ck_assert_int_eq(ht_server__listen(&s4, "[::1", 0, 16), -EINVAL);
    ck_assert_int_eq(ht_server__listen(&s4, "localhost", 0, 16), -EINVAL);
    ck_assert_int_eq(ht_server__listen(&s4, "127.0.0.1", 0, 16), 0);
    ht_server_t s5 = { 0 };
    /* SO_REUSEPORT: a second listener on the same port is allowed */
    ck_assert_int_eq(ht_server__listen(&s5, "127.0.0.1", ht_server__port(&s4), 16), 0);
    ht_server__close(&s5);
    ht_server__close(&s4);
    ht_server__close(&s4); /* idempotent */
}
END_TEST

/* A socket the caller made (blocking, with its own options) is served as
 * is: adopt makes it non-blocking and reports its port; what is not a
 * listening socket is refused and left to the caller. */
START_TEST(adopt_a_listening_socket) {
    int raw = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(raw, 0);
    ht_server_t bad = { 0 };
    ck_assert_int_eq(ht_server__adopt(&bad, raw), -EINVAL); /* not listening yet */
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(raw, (struct sockaddr*) &a, sizeof a), 0);
    ck_assert_int_eq(listen(raw, 64), 0);
    socklen_t alen = sizeof a;
    ck_assert_int_eq(getsockname(raw, (struct sockaddr*) &a, &alen), 0);

    srv_reset(nullptr, nullptr);
    ck_assert_int_eq(ht_server__adopt(&S.server, raw), 0);
    ck_assert_int_eq(ht_server__adopt(&S.server, raw), -EALREADY);
    ck_assert_uint_eq(ht_server__port(&S.server), ntohs(a.sin_port));
    ck_assert_int_eq(ht_server__socket(&S.server), raw);
    ck_assert(fcntl(raw, F_GETFL) & O_NONBLOCK);
    srv_run();

    resp_t p;
    roundtrip("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &p);
    ck_assert_int_eq(p.status, 200);
    ck_assert_str_eq(p.body, "hello from hachettp\n");
    resp_free(&p);
    stop(); /* ht_server__close closes the adopted socket */
    ck_assert_int_eq(fcntl(raw, F_GETFD), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_uint_eq(S.stats.requests, 1);
}
END_TEST

/* ------------------------------------------------- forked servers --- */

static int g_sig_pipe = -1;
static void on_sig(ht_server_t* server, int signo) {
    (void) server;
    char c = (char) signo;
    (void) !write(g_sig_pipe, &c, 1);
}

/* Child: serve on 127.0.0.1:0 with the default signal handling; report the
 * port on `out`; extra_fds > 0 lowers RLIMIT_NOFILE to what is open + extra. */
static void child_serve(int out, int sigpipe, int extra_fds) {
    alarm(60);
    ht_config_t cfg = { .accept_retry_ms = 50 };
    ht_server_t server = { .config = &cfg, .signal_handler = on_sig };
    g_sig_pipe = sigpipe;
    if (ht_server__listen(&server, "127.0.0.1", 0, 64) != 0) _exit(10);
    ht_alloc_t* a = ht_alloc__init();
    ht_loop_t* loop = nullptr;
    if (ht_loop__init(&loop, a) != 0) _exit(11);
    if (ht_signal__install_default(&server) != 0) _exit(12);
    ht_acceptor_t acc = { 0 };
    if (ht_server__serve(&acc, &server, loop, a, handler) != 0) _exit(13);
    if (extra_fds > 0) {
        /* The limit is on descriptor numbers: find the lowest free ones. */
        int probe[64] = { 0 }; /* extra_fds <= 64; zeroed for gcc -O2's flow analysis */
        if (extra_fds > 64) _exit(15);
        for (int i = 0; i < extra_fds; i++) probe[i] = dup(0);
        int top = probe[extra_fds - 1];
        for (int i = 0; i < extra_fds; i++) close(probe[i]);
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = (rlim_t) top + 1;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(14);
    }
    uint16_t port = ht_server__port(&server);
    if (write(out, &port, sizeof port) != sizeof port) _exit(15);
    ht_result_t r = ht_loop__run(loop);
    ht_server__serve_finalize(&acc);
    ht_loop__free(loop, a);
    ht_server__close(&server);
    ht_alloc__finalize(a);
    _exit(r == 0 ? 0 : 16);
}

static pid_t fork_server(uint16_t* port, int* sigpipe_rd, int extra_fds) {
    int p[2], q[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(pipe(q), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        close(q[0]);
        child_serve(p[1], q[1], extra_fds);
    }
    close(p[1]);
    close(q[1]);
    struct pollfd pf = { p[0], POLLIN, 0 };
    ck_assert_int_eq(poll(&pf, 1, 5000), 1);
    ck_assert_int_eq(read(p[0], port, sizeof *port), (ssize_t) sizeof *port);
    close(p[0]);
    *sigpipe_rd = q[0];
    return pid;
}

static int wait_child(pid_t pid, int timeout_ms) {
    int st = 0;
    uint64_t t0 = ht_test__mono_ms();
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (ht_test__mono_ms() - t0 > (uint64_t) timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            ck_abort_msg("child did not exit within %d ms", timeout_ms);
        }
        ht_test__sleep_ms(5);
    }
    return st;
}

START_TEST(signal_graceful_then_forced) {
    uint16_t port;
    int sp;
    pid_t pid = fork_server(&port, &sp, 0);
    /* first signal: the in-flight response completes, the process exits 0 */
    size_t n = 24000000;
    int fd = client_to(port, 10000);
    char req[64];
    snprintf(req, sizeof req, "GET /big?n=%zu HTTP/1.1\r\nHost: x\r\n\r\n", n);
    send_str(fd, req);
    rd_t r;
    rd_init(&r, fd);
    ck_assert(rd_fill(&r));
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    char signo = 0;
    struct pollfd pf = { sp, POLLIN, 0 };
    ck_assert_int_eq(poll(&pf, 1, 5000), 1);
    ck_assert_int_eq(read(sp, &signo, 1), 1);
    ck_assert_int_eq(signo, SIGTERM); /* server->signal_handler ran */
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_uint_eq(p.body_len, n);
    resp_free(&p);
    expect_eof(&r);
    rd_free(&r);
    close(fd);
    int st = wait_child(pid, 10000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
    close(sp);

    /* second signal: forced, while a client stalls a response */
    pid = fork_server(&port, &sp, 0);
    fd = client_to(port, 10000);
    send_str(fd, req); /* never read: the send cannot finish */
    ht_test__sleep_ms(100);
    ck_assert_int_eq(kill(pid, SIGINT), 0);
    pf.fd = sp;
    ck_assert_int_eq(poll(&pf, 1, 5000), 1);
    ck_assert_int_eq(read(sp, &signo, 1), 1);
    ck_assert_int_eq(signo, SIGINT);
    ht_test__sleep_ms(200);
    ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0); /* still finishing */
    ck_assert_int_eq(kill(pid, SIGINT), 0);
    st = wait_child(pid, 5000);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT, "status %#x", st);
    close(fd);
    close(sp);
}
END_TEST

static uint64_t child_cpu_ms(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE* f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char* p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* fields after the comm: state(3) ... utime(14) stime(15) */
    ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st), 2);
    return (uint64_t) (ut + st) * 1000 / (uint64_t) sysconf(_SC_CLK_TCK);
}

START_TEST(emfile_without_busy_loop) {
    uint16_t port;
    int sp;
    pid_t pid = fork_server(&port, &sp, 2); /* room for two connections */
    int a = client_to(port, 5000), b = client_to(port, 5000);
    rd_t ra, rb, rc;
    rd_init(&ra, a);
    rd_init(&rb, b);
    resp_t p;
    send_str(a, "GET /p/1 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&ra, &p, false));
    resp_free(&p);
    send_str(b, "GET /p/2 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&rb, &p, false));
    resp_free(&p);
    /* the third connects (backlog) but the server is out of descriptors */
    int c = client_to(port, 5000);
    rd_init(&rc, c);
    send_str(c, "GET /p/3 HTTP/1.1\r\nHost: x\r\n\r\n");
    ht_test__sleep_ms(100);
    uint64_t cpu0 = child_cpu_ms(pid);
    ht_test__sleep_ms(600);
    uint64_t cpu = child_cpu_ms(pid) - cpu0;
    ck_assert_msg(cpu < 150, "server burnt %llu ms of CPU in 600 ms while out of descriptors",
                  (unsigned long long) cpu);
    struct pollfd pf = { c, POLLIN, 0 };
    if (poll(&pf, 1, 0) != 0) {
        char dbg[256] = { 0 };
        ssize_t k = recv(c, dbg, sizeof dbg - 1, 0);
        ck_abort_msg("served early (%zd): %s", k, dbg);
    }
    /* and is served once a descriptor is free */
    close(a);
    ck_assert(read_resp(&rc, &p, false));
    ck_assert_str_eq(p.body, "3");
    resp_free(&p);
    kill(pid, SIGTERM);
    close(b);
    close(c);
    int st = wait_child(pid, 10000);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
    rd_free(&ra);
    rd_free(&rb);
    rd_free(&rc);
    close(sp);
}
END_TEST

int main(void) {
    Suite* s = suite_create("server_proc");
    TCase* t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, listen_ipv6_and_errors);
    tcase_add_test(t, adopt_a_listening_socket);
    tcase_add_test(t, peer_address);
    tcase_add_test(t, signal_graceful_then_forced);
    tcase_add_test(t, emfile_without_busy_loop);
    suite_add_tcase(s, t);
    return ht_test__run(s);
}
