/* check_ht_fleet: `ht` as a fleet runs it (issue 19): it serves where
 * io_uring is blocked (or, in an io_uring build, says it cannot and exits
 * non-zero without claiming to serve), answers a health check, drains on
 * SIGTERM for --drain-grace seconds, and hands its listening socket to a
 * new binary on SIGUSR2 without refusing a connection. */
#include <arpa/inet.h>
#include <check.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ht/config_build.h>
#include <ht/types.h>

#include "support/ht_test.h"

static char root[64];

static void make_root(void) {
    strcpy(root, "/tmp/ht_fleet_XXXXXX");
    if (!mkdtemp(root)) abort();
    char p[128];
    snprintf(p, sizeof p, "%s/small.txt", root);
    FILE* f = fopen(p, "w");
    if (!f) abort();
    fputs("small file\n", f);
    fclose(f);
}

static void remove_root(void) {
    char p[128];
    snprintf(p, sizeof p, "%s/small.txt", root);
    unlink(p);
    rmdir(root);
}

/* The port from "ht: serving ... on http://127.0.0.1:PORT/", or 0. */
static uint16_t serving_port(int err_fd) {
    char line[512];
    for (int i = 0; i < 8; i++) {
        if (ht_test__read_line(err_fd, line, sizeof line, 10000) == 0) return 0;
        const char* at = strstr(line, "ht: serving ");
        if (at && (at = strstr(line, "127.0.0.1:"))) return (uint16_t) atoi(at + 10);
    }
    return 0;
}

/* Sends raw bytes, reads the answer; the status, or -errno / -1000 for no
 * or a malformed answer. */
static int raw_status(uint16_t port, const char* req, size_t n) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr*) &sa, sizeof sa) != 0) {
        int e = errno;
        close(s);
        return -e;
    }
    char buf[4096];
    if (write(s, req, n) != (ssize_t) n) {
        close(s);
        return -EPIPE;
    }
    size_t len = 0;
    for (;;) {
        struct pollfd p = { .fd = s, .events = POLLIN };
        if (poll(&p, 1, 10000) != 1) break;
        ssize_t k = read(s, buf + len, sizeof buf - 1 - len);
        if (k < 0) {
            int e = errno;
            close(s);
            return -e;
        }
        if (k == 0) break;
        len += (size_t) k;
        if (len == sizeof buf - 1) break;
    }
    close(s);
    buf[len] = '\0';
    if (len < 12 || strncmp(buf, "HTTP/1.1 ", 9) != 0) return -1000;
    return atoi(buf + 9);
}

/* One GET with Connection: close (raw_status). */
static int get_status(uint16_t port, const char* path) {
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    return raw_status(port, req, (size_t) n);
}

/* ---- item 7: io_uring blocked by seccomp ---- */

START_TEST(io_uring_blocked) {
    int ef;
    const char* args[] = { NO_URING_BIN, HT_BIN, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "2", nullptr };
    pid_t p = ht_test__spawn(args[0], args, &ef, nullptr);
#if HT_BACKEND_IOURING
    /* This build cannot serve there: it must say so, not claim to serve,
     * and exit non-zero (systemd's Restart=on-failure must see it). */
    char line[512], all[4096] = "";
    while (ht_test__read_line(ef, line, sizeof line, 10000) > 0) strncat(all, line, sizeof all - strlen(all) - 1);
    int st = ht_test__wait_for(p, 10000);
    ck_assert_int_ne(st, -1);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 1);
    ck_assert_msg(strstr(all, "serving") == nullptr || strstr(all, "not serving") != nullptr, "%s", all);
    ck_assert_msg(strstr(all, "could not start") != nullptr, "%s", all);
#else
    uint16_t port = serving_port(ef);
    ck_assert_uint_ne(port, 0);
    ck_assert_int_eq(get_status(port, "/small.txt"), 200);
    ck_assert_int_eq(kill(p, SIGTERM), 0);
    int st = ht_test__wait_for(p, 10000);
    ck_assert_int_ne(st, -1);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
#endif
    close(ef);
}
END_TEST

/* ---- item 4: health and drain grace ---- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

START_TEST(health_and_drain_grace) {
    int ef;
    const char* args[] = { HT_BIN, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "2",
                           "--health", "/healthz", "--drain-grace", "2", nullptr };
    pid_t p = ht_test__spawn(args[0], args, &ef, nullptr);
    uint16_t port = serving_port(ef);
    ck_assert_uint_ne(port, 0);
    ck_assert_int_eq(get_status(port, "/healthz"), 200);
    ck_assert_int_eq(get_status(port, "/small.txt"), 200);
    ck_assert_int_eq(get_status(port, "/healthz?x"), 200); /* the path, not the target */
    double t0 = now_s();
    ck_assert_int_eq(kill(p, SIGTERM), 0);
    /* During the grace: health 503, the rest served as before. */
    usleep(200 * 1000);
    ck_assert_int_eq(get_status(port, "/healthz"), 503);
    ck_assert_int_eq(get_status(port, "/small.txt"), 200);
    usleep(1000 * 1000);
    ck_assert_int_eq(get_status(port, "/small.txt"), 200);
    ck_assert_int_eq(waitpid(p, nullptr, WNOHANG), 0);
    /* Then it stops and exits 0. */
    int st = ht_test__wait_for(p, 10000);
    double took = now_s() - t0;
    ck_assert_int_ne(st, -1);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    ck_assert_msg(took >= 1.9 && took < 8.0, "exit %.2f s after SIGTERM", took);
    close(ef);

    /* Without a grace, SIGTERM stops at once; SIGTERM twice during a grace
     * stops at once too. */
    const char* args2[] = { HT_BIN, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "1",
                            "--health", "/healthz", "--drain-grace", "30", nullptr };
    p = ht_test__spawn(args2[0], args2, &ef, nullptr);
    port = serving_port(ef);
    ck_assert_uint_ne(port, 0);
    ck_assert_int_eq(kill(p, SIGTERM), 0);
    usleep(100 * 1000);
    ck_assert_int_eq(get_status(port, "/healthz"), 503);
    ck_assert_int_eq(kill(p, SIGTERM), 0);
    st = ht_test__wait_for(p, 10000);
    ck_assert_int_ne(st, -1);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    close(ef);
}
END_TEST

/* ---- item 5: access logs ---- */

/* Reads file p into buf (NUL-terminated); its length. */
static size_t slurp(const char* p, char* buf, size_t cap) {
    FILE* f = fopen(p, "r");
    if (!f) return buf[0] = '\0', 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

static size_t count_lines(const char* s) {
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* Waits (at most 5 s: the log writes at most once a second) until file p
 * has want lines; its contents in buf. */
static size_t wait_lines(const char* p, char* buf, size_t cap, size_t want) {
    size_t n = 0;
    for (int i = 0; i < 500 && (n = count_lines(buf)) < want; i++) {
        usleep(10000);
        slurp(p, buf, cap);
    }
    return n;
}

START_TEST(access_log_json_reopen) {
    char log[96], rotated[100];
    snprintf(log, sizeof log, "%s.log", root);
    snprintf(rotated, sizeof rotated, "%s.1", log);
    unlink(log);
    int ef;
    const char* args[] = { HT_BIN, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "1",
                           "--access-log", log, "--log-format", "json", nullptr };
    pid_t p = ht_test__spawn(args[0], args, &ef, nullptr);
    uint16_t port = serving_port(ef);
    ck_assert_uint_ne(port, 0);
    ck_assert_int_eq(get_status(port, "/small.txt"), 200);
    ck_assert_int_eq(get_status(port, "/nope"), 404);
    /* The server's own answers: a line that is not HTTP, a target over
     * max_request_line, a head over max_head. */
    static const char junk[] = "\x16\x03\x01 hello\r\n\r\n";
    ck_assert_int_eq(raw_status(port, junk, sizeof junk - 1), 400);
    static char big[12000];
    int n = snprintf(big, sizeof big, "GET /%09000d HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    ck_assert_int_eq(raw_status(port, big, (size_t) n), 414);
    n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: t\r\nX: %09000d\r\n\r\n", 0);
    ck_assert_int_eq(raw_status(port, big, (size_t) n), 431);
    static char text[65536];
    ck_assert_uint_eq(wait_lines(log, text, sizeof text, 5), 5);
    /* One JSON object per line, in order. */
    static const char* const want[] = {
        "\"method\":\"GET\",\"target\":\"/small.txt\",\"proto\":\"HTTP/1.1\",\"status\":200,\"bytes\":11,",
        "\"target\":\"/nope\",\"proto\":\"HTTP/1.1\",\"status\":404,",
        "\"method\":null,\"target\":null,\"proto\":null,\"status\":400,",
        "\"status\":414,",
        "\"status\":431,",
    };
    char* line = text;
    for (size_t i = 0; i < HT_ARRAY_LEN(want); i++) {
        char* end = strchr(line, '\n');
        ck_assert_ptr_nonnull(end);
        *end = '\0';
        ck_assert_msg(line[0] == '{' && end[-1] == '}', "%s", line);
        ck_assert_msg(strstr(line, want[i]) != nullptr, "line %zu: %s", i, line);
        ck_assert_msg(strstr(line, "\"client\":\"127.0.0.1\",\"proxy\":null,") != nullptr, "%s", line);
        ck_assert_msg(strstr(line, "\"worker\":0,") != nullptr && strstr(line, "\"duration_us\":") != nullptr,
                      "%s", line);
        line = end + 1;
    }
    /* logrotate: move the file away, SIGUSR1, the next line goes to a new
     * file at the same path. */
    ck_assert_int_eq(rename(log, rotated), 0);
    ck_assert_int_eq(kill(p, SIGUSR1), 0);
    usleep(200 * 1000);
    ck_assert_int_eq(get_status(port, "/small.txt?after"), 200);
    ck_assert_int_eq(kill(p, SIGTERM), 0); /* and the shutdown writes it out */
    int st = ht_test__wait_for(p, 10000);
    ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    slurp(log, text, sizeof text);
    ck_assert_msg(count_lines(text) == 1 && strstr(text, "\"target\":\"/small.txt?after\"") != nullptr, "%s", text);
    slurp(rotated, text, sizeof text);
    ck_assert_uint_eq(count_lines(text), 5);
    unlink(log);
    unlink(rotated);
    close(ef);
}
END_TEST

START_TEST(access_log_combined) {
    char log[96];
    snprintf(log, sizeof log, "%s.log", root);
    unlink(log);
    int ef;
    const char* args[] = { HT_BIN, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "1",
                           "--access-log=-", "--access-log", log, "--log-format", "combined", nullptr };
    pid_t p = ht_test__spawn(args[0], args, &ef, nullptr);
    uint16_t port = serving_port(ef);
    ck_assert_uint_ne(port, 0);
    static const char req[] = "GET /small.txt HTTP/1.1\r\nHost: t\r\nReferer: http://r/\r\n"
                              "User-Agent: a \"quoted\" \\ agent\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(raw_status(port, req, sizeof req - 1), 200);
    static const char head[] = "HEAD /small.txt HTTP/1.0\r\n\r\n";
    ck_assert_int_eq(raw_status(port, head, sizeof head - 1), 200);
    ck_assert_int_eq(kill(p, SIGTERM), 0);
    int st = ht_test__wait_for(p, 10000);
    ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    static char text[8192];
    slurp(log, text, sizeof text);
    ck_assert_msg(strncmp(text, "127.0.0.1 - - [", 15) == 0, "%s", text);
    ck_assert_msg(strstr(text, "] \"GET /small.txt HTTP/1.1\" 200 11 \"http://r/\" "
                               "\"a \\x22quoted\\x22 \\x5c agent\"\n") != nullptr, "%s", text);
    ck_assert_msg(strstr(text, "] \"HEAD /small.txt HTTP/1.0\" 200 - \"-\" \"-\"\n") != nullptr, "%s", text);
    unlink(log);
    close(ef);
}
END_TEST

/* ---- item 3: takeover of the listening socket under load ---- */

typedef struct load {
    uint16_t    port;
    atomic_bool stop;
    atomic_uint ok, failed;
    int         last_bad;
} load_t;

static void* load_thread(void* arg) {
    load_t* l = arg;
    while (!atomic_load(&l->stop)) {
        int st = get_status(l->port, "/small.txt");
        if (st == 200) {
            atomic_fetch_add(&l->ok, 1);
        } else {
            atomic_fetch_add(&l->failed, 1);
            l->last_bad = st;
        }
    }
    return nullptr;
}

/* The pid from "ht: handed over to pid N", read from err_fd; 0 if none. */
static pid_t handed_over(int err_fd) {
    char line[512];
    for (int i = 0; i < 16; i++) {
        if (ht_test__read_line(err_fd, line, sizeof line, 20000) == 0) return 0;
        const char* at = strstr(line, "handed over to pid ");
        if (at) return (pid_t) atol(at + 19);
    }
    return 0;
}

START_TEST(takeover_under_load) {
    /* Orphaned ht processes (each new one is the previous one's child)
     * come to this process, so each can be waited for. */
    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int ef;
    const char* args[] = { HT_BIN, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "2", nullptr };
    pid_t cur = ht_test__spawn(args[0], args, &ef, nullptr);
    uint16_t port = serving_port(ef);
    ck_assert_uint_ne(port, 0);
    static load_t l;
    l.port = port;
    pthread_t th[4];
    for (int i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&th[i], nullptr, load_thread, &l), 0);
    enum { TAKEOVERS = 20 };
    for (int i = 0; i < TAKEOVERS; i++) {
        usleep(50 * 1000);
        /* SIGHUP for one of them: it no longer kills ht. */
        ck_assert_int_eq(kill(cur, i == 7 ? SIGHUP : SIGUSR2), 0);
        pid_t next = handed_over(ef);
        ck_assert_msg(next > 0, "takeover %d: no handover", i);
        int st = ht_test__wait_for(cur, 15000);
        ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "takeover %d: old exit %d", i, st);
        cur = next;
    }
    usleep(100 * 1000);
    atomic_store(&l.stop, true);
    for (int i = 0; i < 4; i++) pthread_join(th[i], nullptr);
    ck_assert_int_eq(kill(cur, SIGTERM), 0);
    int st = ht_test__wait_for(cur, 15000);
    ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(ef);
    fprintf(stderr, "takeover_under_load: %d takeovers, %u requests ok, %u failed\n", TAKEOVERS,
            atomic_load(&l.ok), atomic_load(&l.failed));
    ck_assert_msg(atomic_load(&l.failed) == 0, "%u failed (last %d)", atomic_load(&l.failed), l.last_bad);
    ck_assert_uint_gt(atomic_load(&l.ok), 100);
}
END_TEST

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    Suite* s = suite_create("ht_fleet");
    TCase* tc = tcase_create("ht_fleet");
    tcase_add_unchecked_fixture(tc, make_root, remove_root);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, io_uring_blocked);
    tcase_add_test(tc, health_and_drain_grace);
    tcase_add_test(tc, access_log_json_reopen);
    tcase_add_test(tc, access_log_combined);
    tcase_add_test(tc, takeover_under_load);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
