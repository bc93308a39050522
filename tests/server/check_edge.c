/* check_edge: RFC 9110/9112 edge conformance on the wire (issue 19, item 8),
 * on whichever loop backend this build has: a Host that is not a uri-host,
 * HTTP/1.x with x > 1, bytes that cannot start a request line (a TLS
 * ClientHello), whitespace after a chunk size, the HTTP/2 preface. Every
 * wait is bounded (receive timeouts, alarm). */
#include <check.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"

static void handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) cfg;
    char body[64];
    int n = snprintf(body, sizeof body, "1.%u %.*s", (unsigned) ht_request__version_minor(req),
                     (int) ht_request__body(req).len, ht_request__body(req).ptr);
    ht_response__bytes(res, 200, HT_SLICE("text/plain"), body, (size_t) n, a);
}

static void setup(void) { alarm(60); }
static void teardown(void) { alarm(0); }

/* Sends req on a fresh connection; the response's status, and whether the
 * server then closed (EOF) within timeout_ms. */
static int one_shot(const char* req, size_t len, bool* closed, char* body, size_t body_cap) {
    int fd = client_to(ht_server__port(&S.server), 3000);
    rd_t r;
    rd_init(&r, fd);
    ht_test__write_all(fd, req, len);
    resp_t p;
    int status = -1;
    if (read_resp(&r, &p, false)) {
        status = p.status;
        if (body) snprintf(body, body_cap, "%s", p.body);
        if (closed) {
            *closed = p.close && r.len == r.off && !rd_fill(&r) && r.eof == 1;
        }
        resp_free(&p);
    }
    rd_free(&r);
    close(fd);
    return status;
}

START_TEST(host_must_be_uri_host) {
    start();
    bool closed = false;
    ck_assert_int_eq(one_shot("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 29, &closed, nullptr, 0), 400);
    ck_assert(closed);
    static const char* const bad[] = { "a b", "u@a", "a:8o", "[::1", "a?b", "a#b" };
    for (size_t i = 0; i < HT_ARRAY_LEN(bad); i++) {
        char req[128];
        int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
        ck_assert_msg(one_shot(req, (size_t) n, nullptr, nullptr, 0) == 400, "Host: %s", bad[i]);
    }
    static const char* const good[] = { "a", "a.example:8080", "127.0.0.1:1", "[::1]:80", "x:", "" };
    for (size_t i = 0; i < HT_ARRAY_LEN(good); i++) {
        char req[128];
        int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
        ck_assert_msg(one_shot(req, (size_t) n, nullptr, nullptr, 0) == 200, "Host: %s", good[i]);
    }
    stop();
}
END_TEST

START_TEST(http_1x_is_processed_as_1_1) {
    start();
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    /* Two on one connection: 1.2 keeps it alive like 1.1 does. */
    send_str(fd, "GET /a HTTP/1.2\r\nHost: x\r\n\r\nGET /b HTTP/1.9\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 2; i++) {
        resp_t p;
        ck_assert(read_resp(&r, &p, false));
        ck_assert_int_eq(p.status, 200);
        ck_assert_str_eq(p.body, "1.1 ");
        ck_assert(strncmp(p.head, "HTTP/1.1 200", 12) == 0);
        ck_assert(!p.close);
        resp_free(&p);
    }
    rd_free(&r);
    close(fd);
    /* ... but HTTP/2.0 and 0.9 are other majors: 505 */
    bool closed = false;
    ck_assert_int_eq(one_shot("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 28, &closed, nullptr, 0), 505);
    ck_assert(closed);
    stop();
}
END_TEST

/* A TLS ClientHello to the plain port: 400 and EOF at once, not at the
 * header timeout (30 s here, so waiting for it would fail the test). */
START_TEST(tls_client_hello_gets_400_and_close_at_once) {
    ht_config_t cfg = { .header_timeout_ms = 30000 };
    start_cfg(&cfg);
    static const char hello[] = "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5a\x5b\x5c";
    uint64_t t0 = ht_test__mono_ms();
    bool closed = false;
    ck_assert_int_eq(one_shot(hello, sizeof hello - 1, &closed, nullptr, 0), 400);
    ck_assert(closed);
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 2500);
    /* Binary junk after a good request on a kept-alive connection too. */
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    ht_test__write_all(fd, "\x80\x01", 2);
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 200);
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 400);
    ck_assert(p.close);
    resp_free(&p);
    expect_eof(&r);
    rd_free(&r);
    close(fd);
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 5000);
    stop();
}
END_TEST

START_TEST(whitespace_after_chunk_size_is_rejected) {
    start();
    static const char bad[] = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "3 \r\nabc\r\n0\r\n\r\n";
    bool closed = false;
    ck_assert_int_eq(one_shot(bad, sizeof bad - 1, &closed, nullptr, 0), 400);
    ck_assert(closed);
    /* ... allowed before an extension's ";" */
    static const char good[] = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3 ;a=b\r\nabc\r\n0\r\n\r\n";
    char body[64];
    ck_assert_int_eq(one_shot(good, sizeof good - 1, nullptr, body, sizeof body), 200);
    ck_assert_str_eq(body, "1.1 abc");
    stop();
}
END_TEST

/* HTTP/2 with prior knowledge: the preface gets 505 and a close. */
START_TEST(http2_preface_gets_505_and_close) {
    start();
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    bool closed = false;
    ck_assert_int_eq(one_shot(preface, sizeof preface - 1, &closed, nullptr, 0), 505);
    ck_assert(closed);
    stop();
    ck_assert_uint_eq(S.stats.requests, 0);
}
END_TEST

int main(void) {
    Suite* s = suite_create("edge");
    TCase* t = tcase_create("conformance");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, host_must_be_uri_host);
    tcase_add_test(t, http_1x_is_processed_as_1_1);
    tcase_add_test(t, tls_client_hello_gets_400_and_close_at_once);
    tcase_add_test(t, whitespace_after_chunk_size_is_rejected);
    tcase_add_test(t, http2_preface_gets_505_and_close);
    suite_add_tcase(s, t);
    return ht_test__run(s);
}
