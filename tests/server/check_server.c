/* check_server: requests and responses on the wire, end to end, on
 * whichever loop backend this build has: keep-alive, pipelining (large heads
 * included), requests split anywhere, Content-Length and chunked bodies,
 * 100-continue, limits and their statuses, HTTP/1.0, HEAD, half-close, the
 * request accessors and file bodies. Each test runs a server on its own
 * thread (srv_fixture.h) serving srv_handler.h's handler, and talks to it
 * with plain blocking sockets that have receive timeouts, so nothing can
 * hang: every wait is bounded. Connections, timeouts and resources are
 * check_server_conn's; listening sockets and whole processes
 * check_server_proc's. */
#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"
#include "server/srv_handler.h"

static bool valid_date_line(const char* head) {
    const char* d = strstr(head, "\r\nDate: ");
    if (!d) return false;
    d += 8;
    /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    static const char* days = "SunMonTueWedThuFriSat";
    bool day = false;
    for (int i = 0; i < 7; i++) day |= memcmp(d, days + 3 * i, 3) == 0;
    return day && d[3] == ',' && d[4] == ' ' && d[7] == ' ' && d[11] == ' ' && d[16] == ' ' && d[19] == ':' &&
           d[22] == ':' && memcmp(d + 25, " GMT\r\n", 6) == 0;
}

/* ------------------------------------------------------------- tests --- */

START_TEST(hello_and_keep_alive_reuse) {
    start();
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    for (int i = 0; i < 100; i++) {
        send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        resp_t p;
        ck_assert(read_resp(&r, &p, false));
        ck_assert_int_eq(p.status, 200);
        ck_assert_str_eq(p.body, "hello from hachettp\n");
        ck_assert(!p.close);
        ck_assert(valid_date_line(p.head));
        /* byte-exact apart from the date */
        ck_assert(strncmp(p.head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                  "Content-Length: 20\r\nDate: ", 84) == 0);
        ck_assert_uint_eq(strlen(p.head), 84 + 29 + 4);
        resp_free(&p);
    }
    rd_free(&r);
    close(fd);
    stop();
    ck_assert_uint_eq(S.stats.accepted, 1);
    ck_assert_uint_eq(S.stats.requests, 100);
}
END_TEST

START_TEST(pipelining_64_in_order) {
    start();
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    for (int round = 0; round < 3; round++) {
        char req[64 * 64];
        size_t n = 0;
        for (int i = 0; i < 64; i++)
            n += (size_t) snprintf(req + n, sizeof req - n, "GET /p/%d HTTP/1.1\r\nHost: x\r\n\r\n", round * 64 + i);
        ht_test__write_all(fd, req, n);
        for (int i = 0; i < 64; i++) {
            resp_t p;
            ck_assert(read_resp(&r, &p, false));
            char want[512], num[16];
            int nl = snprintf(num, sizeof num, "%d", round * 64 + i);
            /* Byte-exact: the Date value is the only variable, take it from the response. */
            const char* d = strstr(p.head, "\r\nDate: ");
            ck_assert_ptr_nonnull(d);
            int wl = snprintf(want, sizeof want,
                              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nDate: %.29s\r\n\r\n%s",
                              nl, d + 8, num);
            ck_assert_uint_eq(p.raw_len, (size_t) wl);
            ck_assert(memcmp(p.raw, want, (size_t) wl) == 0);
            ck_assert(valid_date_line(p.head));
            resp_free(&p);
        }
    }
    /* Responses larger than the send buffer, inline and out of line, mixed
     * with small ones: several sends, still in order and whole. */
    static const size_t sizes[] = { 1000, 20000, 3, 70000, 5000, 0, 16384 };
    char* req = malloc(64 * 64);
    size_t n = 0;
    for (int i = 0; i < 64; i++)
        n += (size_t) sprintf(req + n, "GET /big?n=%zu HTTP/1.1\r\nHost: x\r\n\r\n", sizes[i % 7]);
    ht_test__write_all(fd, req, n);
    free(req);
    char* want = malloc(70000);
    fill_pattern(want, 70000);
    for (int i = 0; i < 64; i++) {
        resp_t p;
        ck_assert(read_resp(&r, &p, false));
        ck_assert_uint_eq(p.body_len, sizes[i % 7]);
        ck_assert(memcmp(p.body, want, p.body_len) == 0);
        resp_free(&p);
    }
    free(want);
    rd_free(&r);
    close(fd);
    stop();
    ck_assert_uint_eq(S.stats.requests, 192 + 64);
}
END_TEST

/* X-Big's size for the largest /hdr/NN head that fits an empty buffer of
 * `unit` bytes, by the builder's own measure: status line 17, "X-Seq: NN"
 * 11, "X-Big: " + CRLF 9, and the 101 bytes end_head keeps for
 * Content-Length, Date, Connection and the blank line. */
static size_t hdr_fit(uint32_t unit) { return unit - 17 - 11 - 9 - 101; }

/* Checks one /hdr response: 200, its own X-Seq, X-Big of n pattern bytes,
 * Content-Length 2, Date, body "ok". */
static void expect_hdr(rd_t* r, int seq, size_t n) {
    resp_t p;
    ck_assert(read_resp(r, &p, false));
    ck_assert_msg(p.status == 200, "response %d (X-Big %zu): status %d", seq, n, p.status);
    char want[64];
    snprintf(want, sizeof want, "\r\nX-Seq: %02d\r\nX-Big: ", seq);
    char* x = strstr(p.head, want);
    ck_assert_msg(x != nullptr, "response %d: no X-Seq/X-Big in %.200s", seq, p.head);
    x += strlen(want);
    char* pat = malloc(n + 1);
    fill_pattern(pat, n);
    ck_assert_msg(memcmp(x, pat, n) == 0 && x[n] == '\r' && x[n + 1] == '\n', "response %d: X-Big differs", seq);
    free(pat);
    ck_assert(strstr(p.head, "\r\nContent-Length: 2\r\n") != nullptr);
    ck_assert(valid_date_line(p.head));
    ck_assert_uint_eq(p.body_len, 2);
    ck_assert_str_eq(p.body, "ok");
    resp_free(&p);
}

/* A response whose head fits in an empty send buffer is the same whether
 * or not pipelined responses fill the buffer before it (the buffer grows
 * for it rather than answering 500); only a head larger than the whole
 * buffer gets the empty 500, alone or pipelined. */
START_TEST(pipelined_large_heads_are_not_500) {
    ht_config_t cfg = { .send_buffer_size = 2048 };
    start_cfg(&cfg);
    const size_t fit = hdr_fit(2048);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    char req[256];
    /* Alone: the largest head fits, one byte more does not. */
    snprintf(req, sizeof req, "GET /hdr/00?n=%zu HTTP/1.1\r\nHost: x\r\n\r\n", fit);
    send_str(fd, req);
    expect_hdr(&r, 0, fit);
    snprintf(req, sizeof req, "GET /hdr/00?n=%zu HTTP/1.1\r\nHost: x\r\n\r\n", fit + 1);
    send_str(fd, req);
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 500);
    ck_assert_uint_eq(p.body_len, 0);
    resp_free(&p);
    /* Pipelined in one write: heads near the buffer's size behind small
     * and large ones, in every order; then the too-large one among them. */
    static const int64_t sizes[] = { 10, 0, -1, 1000, -40, 1500, 0, 0, 5, -2, 600, 0, 30, 0, -300, 20 };
    enum { N = sizeof sizes / sizeof sizes[0] };
    for (int round = 0; round < 3; round++) {
        char* all = malloc(N * 64);
        size_t len = 0;
        for (int i = 0; i < N; i++) {
            size_t n = sizes[i] <= 0 ? (size_t) ((int64_t) fit + sizes[i]) : (size_t) sizes[i];
            if (round == 2 && i == 7) n = fit + 1;
            len += (size_t) sprintf(all + len, "GET /hdr/%02d?n=%zu HTTP/1.1\r\nHost: x\r\n\r\n", i, n);
        }
        ht_test__write_all(fd, all, len);
        free(all);
        for (int i = 0; i < N; i++) {
            size_t n = sizes[i] <= 0 ? (size_t) ((int64_t) fit + sizes[i]) : (size_t) sizes[i];
            if (round == 2 && i == 7) {
                ck_assert(read_resp(&r, &p, false));
                ck_assert_int_eq(p.status, 500);
                ck_assert_uint_eq(p.body_len, 0);
                resp_free(&p);
                continue;
            }
            expect_hdr(&r, i, n);
        }
    }
    /* Big heads behind out-of-line bodies (iovecs that point outside the
     * buffer, kept as they are when it grows) and inline ones, and a HEAD. */
    char* all = malloc(16 * 96);
    size_t len = 0;
    for (int i = 0; i < 16; i++) {
        if (i % 4 == 0) len += (size_t) sprintf(all + len, "GET /big?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", 3000 + i);
        else if (i % 4 == 2) len += (size_t) sprintf(all + len, "GET /big?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", 200 + i);
        else len += (size_t) sprintf(all + len, "%s /hdr/%02d?n=%zu HTTP/1.1\r\nHost: x\r\n\r\n",
                                     i == 15 ? "HEAD" : "GET", i, fit - (size_t) i);
    }
    ht_test__write_all(fd, all, len);
    free(all);
    char* want = malloc(4000);
    fill_pattern(want, 4000);
    for (int i = 0; i < 16; i++) {
        if (i % 2 == 0) {
            ck_assert(read_resp(&r, &p, false));
            ck_assert_int_eq(p.status, 200);
            ck_assert_uint_eq(p.body_len, (size_t) (i % 4 == 0 ? 3000 + i : 200 + i));
            ck_assert(memcmp(p.body, want, p.body_len) == 0);
            resp_free(&p);
        } else if (i == 15) {
            ck_assert(read_resp(&r, &p, true));
            ck_assert_int_eq(p.status, 200);
            ck_assert(strstr(p.head, "\r\nX-Seq: 15\r\n") != nullptr);
            ck_assert(strstr(p.head, "\r\nContent-Length: 2\r\n") != nullptr);
            resp_free(&p);
        } else {
            expect_hdr(&r, i, fit - (size_t) i);
        }
    }
    free(want);
    rd_free(&r);
    close(fd);
    stop();
    ck_assert_uint_eq(S.stats.requests, 2 + 3 * N + 16);
    /* The pipelined big heads did not fit behind the earlier responses:
     * the buffer grew for them (and the test exercised that path). */
    ck_assert_uint_gt(S.stats.out_grown, 0);
}
END_TEST

START_TEST(request_split_at_every_byte) {
    start();
    const char* req = "POST /echo?x=1 HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\nContent-Length: 11\r\n\r\nhello world";
    size_t n = strlen(req);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    for (size_t k = 1; k < n; k++) {
        ht_test__write_all(fd, req, k);
        ht_test__sleep_ms(2); /* let the server see the first part on its own */
        ht_test__write_all(fd, req + k, n - k);
        resp_t p;
        ck_assert(read_resp(&r, &p, false));
        ck_assert_int_eq(p.status, 200);
        ck_assert_str_eq(p.body, "hello world");
        resp_free(&p);
    }
    /* and one byte at a time */
    for (size_t k = 0; k < n; k++) {
        ht_test__write_all(fd, req + k, 1);
        ht_test__sleep_ms(1);
    }
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "hello world");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    stop();
    ck_assert_uint_eq(S.stats.accepted, 1);
}
END_TEST

START_TEST(bodies_content_length_and_chunked) {
    start();
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    resp_t p;
    /* small Content-Length */
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "abcde");
    resp_free(&p);
    /* chunked, with an extension and a trailer, pipelined with a GET */
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\n"
                 "GET /p/7 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "abcdefg");
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "7");
    resp_free(&p);
    /* large bodies, beyond one receive buffer */
    size_t n = 300000;
    char* big = malloc(n);
    fill_pattern(big, n);
    char head[128];
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", n);
    send_str(fd, head);
    ht_test__write_all(fd, big, n);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_uint_eq(p.body_len, n);
    ck_assert(memcmp(p.body, big, n) == 0);
    resp_free(&p);
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0; off < n;) {
        size_t c = n - off < 7000 ? n - off : 7000;
        char line[32];
        snprintf(line, sizeof line, "%zx\r\n", c);
        send_str(fd, line);
        ht_test__write_all(fd, big + off, c);
        send_str(fd, "\r\n");
        off += c;
    }
    send_str(fd, "0\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_uint_eq(p.body_len, n);
    ck_assert(memcmp(p.body, big, n) == 0);
    resp_free(&p);
    /* a body larger than a receive buffer with the next request right
     * behind it in the same write */
    {
        size_t m = 20000;
        char* both = malloc(m + 256);
        size_t k = (size_t) sprintf(both, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", m);
        memcpy(both + k, big, m);
        k += m;
        k += (size_t) sprintf(both + k, "GET /p/3 HTTP/1.1\r\nHost: x\r\n\r\n");
        ht_test__write_all(fd, both, k);
        free(both);
        ck_assert(read_resp(&r, &p, false));
        ck_assert_uint_eq(p.body_len, m);
        ck_assert(memcmp(p.body, big, m) == 0);
        resp_free(&p);
        ck_assert(read_resp(&r, &p, false));
        ck_assert_str_eq(p.body, "3");
        resp_free(&p);
    }
    /* empty chunked body */
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_uint_eq(p.body_len, 0);
    ck_assert_int_eq(p.status, 200);
    resp_free(&p);
    free(big);
    rd_free(&r);
    close(fd);
    stop();
    ck_assert_uint_eq(S.stats.accepted, 1);
}
END_TEST

START_TEST(expect_100_continue) {
    ht_config_t cfg = { .max_body = 1000 };
    start_cfg(&cfg);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    resp_t p;
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 100);
    ck_assert_str_eq(p.head, "HTTP/1.1 100 Continue\r\n\r\n");
    resp_free(&p);
    send_str(fd, "12345");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 200);
    ck_assert_str_eq(p.body, "12345");
    resp_free(&p);
    /* body sent without waiting: no interim response */
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 200);
    ck_assert_str_eq(p.body, "ok");
    resp_free(&p);
    /* too large: 413 at once, no 100 */
    send_str(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 413);
    ck_assert(p.close);
    resp_free(&p);
    expect_eof(&r);
    rd_free(&r);
    close(fd);
    stop();
}
END_TEST

static void limit_request(int fd, int which) {
    char* buf = malloc(40000);
    size_t n = 0;
    switch (which) {
    case 0: /* request line too long */
        n = (size_t) sprintf(buf, "GET /");
        memset(buf + n, 'a', 3000); n += 3000;
        n += (size_t) sprintf(buf + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
        break;
    case 1: /* head too large */
        n = (size_t) sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
        memset(buf + n, 'b', 6000); n += 6000;
        n += (size_t) sprintf(buf + n, "\r\n\r\n");
        break;
    case 2: /* too many headers */
        n = (size_t) sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 20; i++) n += (size_t) sprintf(buf + n, "X-H%d: v\r\n", i);
        n += (size_t) sprintf(buf + n, "\r\n");
        break;
    case 3: /* Content-Length over the limit */
        n = (size_t) sprintf(buf, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n");
        break;
    case 4: /* chunked over the limit */
        n = (size_t) sprintf(buf, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n");
        memset(buf + n, 'c', 2000); n += 2000;
        n += (size_t) sprintf(buf + n, "\r\n0\r\n\r\n");
        break;
    case 5: /* malformed */
        n = (size_t) sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
        break;
    case 6: /* unsupported version (1.2 is 1.1: check_edge) */
        n = (size_t) sprintf(buf, "GET / HTTP/2.0\r\nHost: x\r\n\r\n");
        break;
    case 7: /* unknown transfer coding */
        n = (size_t) sprintf(buf, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        break;
    case 8: /* smuggling shape: CL and TE */
        n = (size_t) sprintf(buf, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        break;
    case 9: /* an expectation we do not know */
        n = (size_t) sprintf(buf, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 3\r\n\r\n");
        break;
    }
    ht_test__write_all(fd, buf, n);
    free(buf);
}

START_TEST(limits_get_their_status_and_close) {
    ht_config_t cfg = { .max_request_line = 1024, .max_head = 4096, .max_headers = 16, .max_body = 1000 };
    start_cfg(&cfg);
    static const int want[] = { 414, 431, 431, 413, 413, 400, 505, 501, 400, 417 };
    int keep = client(); /* another connection that must not notice */
    rd_t kr;
    rd_init(&kr, keep);
    for (int i = 0; i < (int) HT_ARRAY_LEN(want); i++) {
        int fd = client();
        rd_t r;
        rd_init(&r, fd);
        /* a good request first, then the bad one on the same connection */
        send_str(fd, "GET /p/1 HTTP/1.1\r\nHost: x\r\n\r\n");
        limit_request(fd, i);
        resp_t p;
        ck_assert(read_resp(&r, &p, false));
        ck_assert_int_eq(p.status, 200);
        resp_free(&p);
        ck_assert_msg(read_resp(&r, &p, false), "case %d: no response", i);
        ck_assert_msg(p.status == want[i], "case %d: status %d, want %d", i, p.status, want[i]);
        ck_assert(p.close);
        ck_assert(strstr(p.body, "<title>") != nullptr);
        resp_free(&p);
        expect_eof(&r);
        rd_free(&r);
        close(fd);
        send_str(keep, "GET /p/9 HTTP/1.1\r\nHost: x\r\n\r\n");
        ck_assert(read_resp(&kr, &p, false));
        ck_assert_str_eq(p.body, "9");
        resp_free(&p);
    }
    rd_free(&kr);
    close(keep);
    stop();
    ck_assert_uint_eq(S.stats.errors, HT_ARRAY_LEN(want));
}
END_TEST

START_TEST(http10_head_half_close_and_accessors) {
    start();
    resp_t p;
    /* 1.0 without keep-alive: response, then close */
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "GET /p/1 HTTP/1.0\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "1");
    ck_assert(p.close);
    resp_free(&p);
    expect_eof(&r);
    rd_free(&r);
    close(fd);
    /* 1.0 with keep-alive: says so, stays open */
    fd = client();
    rd_init(&r, fd);
    for (int i = 0; i < 2; i++) {
        send_str(fd, "GET /p/2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        ck_assert(read_resp(&r, &p, false));
        ck_assert_str_eq(p.body, "2");
        ck_assert(p.keep_alive);
        resp_free(&p);
    }
    /* HEAD: same length, no body */
    send_str(fd, "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ck_assert(read_resp(&r, &p, true));
    ck_assert(strstr(p.head, "Content-Length: 20\r\n") != nullptr);
    ck_assert_uint_eq(p.body_len, 0);
    resp_free(&p);
    /* half-close: the pipelined responses still arrive, then EOF */
    send_str(fd, "GET /p/3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /p/4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    shutdown(fd, SHUT_WR);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "3");
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "4");
    resp_free(&p);
    expect_eof(&r);
    rd_free(&r);
    close(fd);
    /* accessors */
    roundtrip("GET /info?a=1&b HTTP/1.1\r\nHost: h\r\nUser-Agent: ck\r\nX-Custom: yes\r\n\r\n", &p);
    ck_assert_str_eq(p.body, "m=GET t=/info?a=1&b q=a=1&b v=1 ka=1 ua=ck x=yes n=3");
    resp_free(&p);
    roundtrip("GET http://h:80/info HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", &p);
    ck_assert_str_eq(p.body, "m=GET t=http://h:80/info q= v=1 ka=0 ua= x= n=2");
    ck_assert(p.close);
    resp_free(&p);
    /* header injection refused, Content-Length stays right */
    roundtrip("GET /inject HTTP/1.1\r\nHost: h\r\n\r\n", &p);
    ck_assert_str_eq(p.body, "1 1");
    ck_assert(strstr(p.head, "Set-Cookie") == nullptr);
    ck_assert(strstr(p.head, "Content-Length: 3\r\n") != nullptr);
    resp_free(&p);
    /* a handler that builds nothing: 500 */
    roundtrip("GET /nothing HTTP/1.1\r\nHost: h\r\n\r\n", &p);
    ck_assert_int_eq(p.status, 500);
    resp_free(&p);
    stop();
}
END_TEST

START_TEST(file_bodies_zero_copy) {
    strcpy(g_file_path, "/tmp/ht_check_server_XXXXXX");
    int tf = mkstemp(g_file_path);
    ck_assert_int_ge(tf, 0);
    size_t n = 3000000;
    char* data = malloc(n);
    fill_pattern(data, n);
    ck_assert_int_eq(write(tf, data, n), (ssize_t) n);
    close(tf);
    start();
    int fds_before = ht_test__count_fds();
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    resp_t p;
    /* a file body between two small responses, all pipelined */
    send_str(fd, "GET /p/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /file?off=10 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /p/2 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /file HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "1");
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_uint_eq(p.body_len, n - 10);
    ck_assert(memcmp(p.body, data + 10, n - 10) == 0);
    ck_assert(strstr(p.head, "Content-Type: application/octet-stream\r\n") != nullptr);
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "2");
    resp_free(&p);
    ck_assert(read_resp(&r, &p, true));
    ck_assert(strstr(p.head, "Content-Length: 3000000\r\n") != nullptr);
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_uint_eq(p.body_len, n);
    ck_assert(memcmp(p.body, data, n) == 0);
    resp_free(&p);
    /* a small file body right after its head does not wait for an ACK */
    uint64_t t0 = ht_test__mono_ms();
    for (int i = 0; i < 20; i++) {
        char q[96];
        snprintf(q, sizeof q, "GET /file?off=%zu HTTP/1.1\r\nHost: x\r\n\r\n", n - 100);
        send_str(fd, q);
        ck_assert(read_resp(&r, &p, false));
        ck_assert_uint_eq(p.body_len, 100);
        ck_assert(memcmp(p.body, data + n - 100, 100) == 0);
        resp_free(&p);
    }
    uint64_t dt = ht_test__mono_ms() - t0;
    ck_assert_msg(dt < 400, "20 small file responses took %llu ms", (unsigned long long) dt);
    rd_free(&r);
    close(fd);
    /* every file the handler opened was closed by the server */
    ht_test__sleep_ms(50);
    ck_assert_int_le(ht_test__count_fds(), fds_before);
    stop();
    unlink(g_file_path);
    free(data);
}
END_TEST


int main(void) {
    Suite* s = suite_create("server");
    TCase* t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, hello_and_keep_alive_reuse);
    tcase_add_test(t, pipelining_64_in_order);
    tcase_add_test(t, pipelined_large_heads_are_not_500);
    tcase_add_test(t, request_split_at_every_byte);
    tcase_add_test(t, bodies_content_length_and_chunked);
    tcase_add_test(t, expect_100_continue);
    tcase_add_test(t, limits_get_their_status_and_close);
    tcase_add_test(t, http10_head_half_close_and_accessors);
    tcase_add_test(t, file_bodies_zero_copy);
    suite_add_tcase(s, t);
    return ht_test__run(s);
}
