/* check_server_files: large file bodies (ht_response__file) end to end, on
 * whichever loop backend this build has: the kernel send buffer a connection
 * gets before a file longer than the kernel's own tuning lets that buffer
 * grow (config.h, file_send_buffer), and bodies byte for byte through a slow
 * reader and past a client that leaves mid-file. The server runs in this
 * process, so its side of a connection is found among our own descriptors
 * and its SO_SNDBUF read directly. Every wait is bounded. */
#include <check.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"

static char g_path[64];

static void fill_pattern(char* p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (char) ('a' + (i * 7 + i / 4093) % 23);
}

/* GET/HEAD /file: g_path whole, zero-copy; the server closes it. */
static void handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) cfg;
    if (!ht_slice__eq(ht_request__path(req), HT_SLICE("/file"))) {
        ht_response__text(res, 404, "no\n", a);
        return;
    }
    int f = open(g_path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (f < 0 || fstat(f, &st) != 0) {
        ht_response__text(res, 500, "open\n", a);
        return;
    }
    ht_response__status(res, 200);
    ht_response__header_cstr(res, "Content-Type", "application/octet-stream");
    ht_response__file(res, f, 0, (uint64_t) st.st_size, true);
}

/* The file the handler serves: n bytes of pattern, also returned. */
static char* make_file(size_t n) {
    strcpy(g_path, "/tmp/ht_check_server_files_XXXXXX");
    int f = mkstemp(g_path);
    ck_assert_int_ge(f, 0);
    char* data = malloc(n);
    fill_pattern(data, n);
    ht_test__write_all(f, data, n);
    close(f);
    return data;
}

/* /proc/sys/NAME's number after `skip` others; 0 if unreadable. */
static uint64_t sysctl_num(const char* path, int skip) {
    FILE* f = fopen(path, "r");
    if (!f) return 0;
    unsigned long long v = 0;
    for (int i = 0; i <= skip; i++)
        if (fscanf(f, "%llu", &v) != 1) v = 0;
    fclose(f);
    return v;
}
/* The largest send buffer the kernel's tuning grows to, and the largest
 * SO_SNDBUF gives (it doubles what it is told, up to wmem_max). */
static uint64_t tuned_max(void) { return sysctl_num("/proc/sys/net/ipv4/tcp_wmem", 2); }
static uint64_t set_max(void) { return 2 * sysctl_num("/proc/sys/net/core/wmem_max", 0); }

/* The server's end of client socket fd, among this process's descriptors. */
static int server_end(int fd) {
    struct sockaddr_in me, peer, a, b;
    socklen_t l = sizeof me;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr*) &me, &l), 0);
    l = sizeof peer;
    ck_assert_int_eq(getpeername(fd, (struct sockaddr*) &peer, &l), 0);
    DIR* d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int found = -1;
    for (struct dirent* e; found < 0 && (e = readdir(d)) != nullptr;) {
        int s = atoi(e->d_name);
        if (s == fd || e->d_name[0] == '.') continue;
        socklen_t la = sizeof a, lb = sizeof b;
        if (getsockname(s, (struct sockaddr*) &a, &la) != 0 || getpeername(s, (struct sockaddr*) &b, &lb) != 0 ||
            a.sin_family != AF_INET)
            continue;
        if (a.sin_port == peer.sin_port && b.sin_port == me.sin_port && a.sin_addr.s_addr == peer.sin_addr.s_addr)
            found = s;
    }
    closedir(d);
    ck_assert_msg(found >= 0, "the server's end of the connection is not among our descriptors");
    return found;
}

static uint64_t sndbuf_of(int s) {
    int v = 0;
    socklen_t l = sizeof v;
    ck_assert_int_eq(getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
    return (uint64_t) v;
}

/* GET /file on fd; the body must be want[0, n). */
static void get_file(rd_t* r, const char* want, size_t n) {
    send_str(r->fd, "GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(r, &p, false));
    ck_assert_int_eq(p.status, 200);
    ck_assert_uint_eq(p.body_len, n);
    ck_assert(memcmp(p.body, want, n) == 0);
    resp_free(&p);
}

static void setup(void) { alarm(100); }
static void teardown(void) {
    alarm(0);
    if (g_path[0]) unlink(g_path);
    g_path[0] = 0;
}

/* A body longer than the tuning's maximum: SO_SNDBUF becomes the default
 * 8 MiB (capped by wmem_max) where that is more than the tuning reaches;
 * elsewhere the buffer is left to the kernel. A HEAD sends no body and
 * changes nothing. */
START_TEST(large_file_gets_the_larger_send_buffer) {
    uint64_t tuned = tuned_max(), most = set_max();
    ck_assert_uint_gt(tuned, 0);
    size_t n = (size_t) tuned + (2u << 20);
    char* data = make_file(n);
    start();
    int fd = client_to(ht_server__port(&S.server), 10000);
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, true));
    char cl[64];
    snprintf(cl, sizeof cl, "\r\nContent-Length: %zu\r\n", n);
    ck_assert(strstr(p.head, cl) != nullptr);
    resp_free(&p);
    int s = server_end(fd);
    ck_assert_uint_le(sndbuf_of(s), tuned);
    get_file(&r, data, n);
    uint64_t want = HT_CONFIG_DEFAULT_FILE_SEND_BUFFER < most ? HT_CONFIG_DEFAULT_FILE_SEND_BUFFER : most;
    if (want > tuned) ck_assert_uint_eq(sndbuf_of(s), want);
    else ck_assert_uint_le(sndbuf_of(s), tuned); /* this system allows no more than its tuning */
    get_file(&r, data, n); /* the same connection again: still whole */
    if (want > tuned) ck_assert_uint_eq(sndbuf_of(s), want);
    rd_free(&r);
    close(fd);
    stop();
    free(data);
}
END_TEST

/* A body the tuned buffer can hold, or file_send_buffer at or below the
 * tuning's maximum: the kernel keeps tuning the buffer (at most its max). */
START_TEST(smaller_file_or_option_off_leaves_the_kernel_tuning) {
    uint64_t tuned = tuned_max();
    ck_assert_uint_gt(tuned, 0);
    size_t small = (size_t) (tuned < (3u << 20) ? tuned : (3u << 20));
    char* data = make_file(small);
    start();
    int fd = client_to(ht_server__port(&S.server), 10000);
    rd_t r;
    rd_init(&r, fd);
    get_file(&r, data, small);
    ck_assert_uint_le(sndbuf_of(server_end(fd)), tuned);
    rd_free(&r);
    close(fd);
    stop();
    free(data);
    unlink(g_path);

    size_t n = (size_t) tuned + (2u << 20);
    data = make_file(n);
    ht_config_t cfg = { .file_send_buffer = 1 };
    start_cfg(&cfg);
    fd = client_to(ht_server__port(&S.server), 10000);
    rd_init(&r, fd);
    get_file(&r, data, n);
    ck_assert_uint_le(sndbuf_of(server_end(fd)), tuned);
    rd_free(&r);
    close(fd);
    stop();
    free(data);
}
END_TEST

/* A reader far slower than the server, through a small receive buffer: the
 * sender meets a full socket again and again (short sendfile counts, then a
 * wait) and every byte arrives in order; the connection then serves again. */
START_TEST(slow_reader_gets_every_byte) {
    size_t n = 12u << 20;
    char* data = make_file(n);
    start();
    int fd = ht_test__connect_loopback(ht_server__port(&S.server));
    ck_assert_int_ge(fd, 0);
    int v = 65536;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    send_str(fd, "GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
    char* got = malloc(n + 4096);
    size_t len = 0, head = 0, since = 0;
    while (head == 0 || len < head + n) {
        ssize_t k = recv(fd, got + len, head ? head + n - len < 8192 ? head + n - len : 8192 : 4096, 0);
        ck_assert_msg(k > 0, "stream ended after %zu bytes", len);
        len += (size_t) k;
        since += (size_t) k;
        if (!head) {
            char* e = memmem(got, len, "\r\n\r\n", 4);
            if (e) head = (size_t) (e + 4 - got);
        }
        if (since >= (1u << 20)) { /* slow: the server must wait for room */
            since = 0;
            ht_test__sleep_ms(20);
        }
    }
    ck_assert(strncmp(got, "HTTP/1.1 200 ", 13) == 0);
    ck_assert_uint_eq(len, head + n);
    ck_assert(memcmp(got + head, data, n) == 0);
    free(got);
    rd_t r;
    rd_init(&r, fd);
    get_file(&r, data, n);
    rd_free(&r);
    close(fd);
    stop();
    free(data);
}
END_TEST

/* Clients that read part of a large body and leave (with unread bytes: a
 * reset, often in the middle of one of the server's sendfile calls, which
 * then takes the error; another call would raise SIGPIPE, and this process
 * does not ignore it): the server closes their connections and the file,
 * and serves the next client the whole body. */
START_TEST(client_gone_mid_file) {
    size_t n = 16u << 20;
    char* data = make_file(n);
    start();
    int fds_before = ht_test__count_fds();
    for (int i = 0; i < 12; i++) {
        int fd = client_to(ht_server__port(&S.server), 10000);
        send_str(fd, "GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
        char buf[65536];
        size_t got = 0;
        while (got < ((size_t) (i % 4) << 20) + 65536) {
            ssize_t k = recv(fd, buf, sizeof buf, 0);
            ck_assert_int_gt(k, 0);
            got += (size_t) k;
        }
        close(fd);
    }
    int fd = client_to(ht_server__port(&S.server), 10000);
    rd_t r;
    rd_init(&r, fd);
    get_file(&r, data, n);
    rd_free(&r);
    close(fd);
    /* every connection and file the server had is closed */
    uint64_t t0 = ht_test__mono_ms();
    while (ht_test__count_fds() > fds_before && ht_test__mono_ms() - t0 < 5000) ht_test__sleep_ms(10);
    ck_assert_int_le(ht_test__count_fds(), fds_before);
    stop();
    ck_assert_uint_eq(S.stats.requests, 13);
    free(data);
}
END_TEST

int main(void) {
    Suite* s = suite_create("server_files");
    TCase* t = tcase_create("large");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 100);
    tcase_add_test(t, large_file_gets_the_larger_send_buffer);
    tcase_add_test(t, smaller_file_or_option_off_leaves_the_kernel_tuning);
    tcase_add_test(t, slow_reader_gets_every_byte);
    tcase_add_test(t, client_gone_mid_file);
    suite_add_tcase(s, t);
    return ht_test__run(s);
}
