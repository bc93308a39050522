/* check_defer_stream: streamed bodies of deferred responses end to end
 * (ht/response.h "Streamed bodies", "Streamed request bodies"), on whichever
 * loop backend this build has: stream framings (chunked, length, HTTP/1.0,
 * HEAD, 304), back pressure, stalled readers, Server-Sent Events, and
 * streamed uploads with 100-continue, limits, refusals and a consumer that
 * pauses. The handle's life is check_defer's; both serve defer_handler.h. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"
#include "server/defer_handler.h"

/* ------------------------------------------------------------- tests --- */

START_TEST(stream_framings) {
    start_defer(0, 0);
    /* HTTP/1.1, unknown length: chunked, one chunk per write */
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "GET /stream?n=4 HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 200);
    ck_assert(!p.has_length);
    ck_assert_ptr_nonnull(strstr(p.head, "\r\nTransfer-Encoding: chunked\r\n"));
    resp_free(&p);
    char body[4096];
    size_t n;
    ck_assert(read_chunked(&r, body, sizeof body, &n));
    ck_assert_uint_eq(n, 32);
    ck_assert(memcmp(body, "piece 0\npiece 1\npiece 2\npiece 3\n", 32) == 0);
    /* the connection is reusable */
    send_str(fd, "GET /p/next HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "next");
    resp_free(&p);
    /* a known length: Content-Length, raw bytes */
    send_str(fd, "GET /stream?n=2&len=16 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert(p.has_length);
    ck_assert_str_eq(p.body, "piece 0\npiece 1\n");
    resp_free(&p);
    /* HEAD: the head only, then the next response */
    send_str(fd, "HEAD /stream?n=2 HTTP/1.1\r\nHost: x\r\n\r\nGET /p/h HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, true));
    ck_assert_int_eq(p.status, 200);
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "h");
    resp_free(&p);
    /* 304: no body either */
    send_str(fd, "GET /stream?n=2&status=304 HTTP/1.1\r\nHost: x\r\n\r\nGET /p/c HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 304);
    ck_assert_ptr_null(strstr(p.head, "Transfer-Encoding"));
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "c");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* a known length not reached: the body is cut short by a close */
    fd = client();
    rd_init(&r, fd);
    send_str(fd, "GET /stream?n=1&len=100 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(!read_resp(&r, &p, false));
    ck_assert_int_eq(r.eof, 1);
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* HTTP/1.0: close-delimited */
    fd = client();
    rd_init(&r, fd);
    send_str(fd, "GET /stream?n=3 HTTP/1.0\r\n\r\n");
    while (rd_fill(&r)) {}
    ck_assert_int_eq(r.eof, 1);
    r.buf[r.len] = 0;
    ck_assert_ptr_nonnull(strstr(r.buf, "\r\nConnection: close\r\n"));
    ck_assert_ptr_null(strstr(r.buf, "chunked"));
    char* b = strstr(r.buf, "\r\n\r\n");
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(b + 4, "piece 0\npiece 1\npiece 2\n");
    rd_free(&r);
    close(fd);
    stop();
}
END_TEST

START_TEST(back_pressure) {
    start_defer(0, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "GET /flood?pieces=160 HTTP/1.1\r\nHost: x\r\n\r\n"); /* 10 MiB */
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    resp_free(&p);
    /* Read slowly at first: the producer must wait, not queue. */
    ht_test__sleep_ms(200);
    uint64_t peak_early = atomic_load(&g_body_bytes);
    static char body[11 << 20];
    size_t n;
    ck_assert(read_chunked(&r, body, sizeof body, &n));
    ck_assert_uint_eq(n, 160u * 65536u);
    for (size_t i = 0; i < n; i += 4099) ck_assert_int_eq(body[i], (char) ('A' + (i / 65536 + i % 65536) % 26));
    /* Two send buffers and two 64 KiB pieces in flight at most (plus the
     * connection's own structures). */
    uint64_t peak = atomic_load(&g_body_bytes);
    ck_assert_msg(peak < 400u * 1024u, "server held %llu bytes for one stream", (unsigned long long) peak);
    ck_assert_uint_le(peak_early, peak);
    rd_free(&r);
    close(fd);
    stop();
}
END_TEST

START_TEST(stalled_reader_dropped) {
    start_defer(0, 300);
    int fd = client();
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    send_str(fd, "GET /flood?pieces=1000 HTTP/1.1\r\nHost: x\r\n\r\n");
    /* Never read: the send timeout drops the connection and the producer
     * is told (its cancel releases the handle). */
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&g_cancels) < 1 && ht_test__mono_ms() - t0 < 5000) ht_test__sleep_ms(10);
    ck_assert_int_eq(atomic_load(&g_cancels), 1);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_CLOSED);
    ck_assert_msg(atomic_load(&g_body_bytes) < 400u * 1024u, "held %llu",
                  (unsigned long long) atomic_load(&g_body_bytes));
    close(fd);
    resp_t p;
    roundtrip("GET /p/ok HTTP/1.1\r\nHost: x\r\n\r\n", &p);
    ck_assert_str_eq(p.body, "ok");
    resp_free(&p);
    stop();
}
END_TEST

START_TEST(server_sent_events) {
    start_defer(0, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "GET /sse?n=2&beat=40 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 7\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_ptr_nonnull(strstr(p.head, "\r\nContent-Type: text/event-stream\r\n"));
    ck_assert_ptr_nonnull(strstr(p.head, "\r\nCache-Control: no-cache\r\n"));
    resp_free(&p);
    static char body[8192];
    size_t n;
    ck_assert(read_chunked(&r, body, sizeof body - 1, &n));
    body[n] = 0;
    const char* want = ": resumed after 7\n\n"
                       "event: start\nid: 1\ndata: tick 1\ndata: line two\n\n"
                       "id: 2\ndata: tick 2\ndata: line two\n\n";
    ck_assert_msg(strncmp(body, want, strlen(want)) == 0, "got: %s", body);
    /* 150 ms after the last event with a 40 ms heartbeat: comments */
    ck_assert_ptr_nonnull(strstr(body + strlen(want), ":\n\n"));
    rd_free(&r);
    close(fd);
    stop();
}
END_TEST

static void upload_expect(const char* req, const char* body, size_t len, int status, const char* want) {
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, req);
    if (len) ht_test__write_all(fd, body, len);
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, status);
    if (want) ck_assert_str_eq(p.body, want);
    resp_free(&p);
    rd_free(&r);
    close(fd);
}

START_TEST(streamed_upload) {
    start_defer(0, 0);
    enum { LEN = 3 << 20 };
    char* data = malloc(LEN);
    uint64_t sum = 0;
    for (size_t i = 0; i < LEN; i++) {
        data[i] = (char) (i * 7 + i / 251);
        sum += (uint8_t) data[i];
    }
    char want[64], req[256];
    snprintf(want, sizeof want, "%u %llu", (unsigned) LEN, (unsigned long long) sum);
    /* Content-Length: 3 MiB, over the 1 MiB max_body a buffered body has */
    snprintf(req, sizeof req, "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n", (unsigned) LEN);
    upload_expect(req, data, LEN, 201, want);
    ck_assert_int_gt(atomic_load(&g_body_calls), 3);
    /* chunked, in uneven chunks */
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "PUT /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0; off < LEN;) {
        size_t k = 1 + (off * 13) % 70000;
        if (k > LEN - off) k = LEN - off;
        char h[32];
        snprintf(h, sizeof h, "%zx\r\n", k);
        send_str(fd, h);
        ht_test__write_all(fd, data + off, k);
        send_str(fd, "\r\n");
        off += k;
    }
    send_str(fd, "0\r\n\r\nGET /p/after HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 201);
    ck_assert_str_eq(p.body, want);
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false)); /* the body was read whole: keep-alive */
    ck_assert_str_eq(p.body, "after");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    free(data);
    stop();
}
END_TEST

START_TEST(upload_continue_and_refusals) {
    start_defer(0, 0);
    /* 100 Continue only once the handler asks for the body */
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 100);
    resp_free(&p);
    send_str(fd, "hello");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 201);
    ck_assert_str_eq(p.body, "5 532");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* refused before the body: no 100, the answer, then a clean close */
    fd = client();
    rd_init(&r, fd);
    send_str(fd, "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nX-Refuse: 1\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 401);
    ck_assert(p.close);
    resp_free(&p);
    expect_eof(&r);
    rd_free(&r);
    close(fd);
    /* Content-Length over the route's limit: 413 before the handler runs */
    int before = atomic_load(&g_handled);
    upload_expect("PUT /up_small HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", nullptr, 0, 413, nullptr);
    ck_assert_int_eq(atomic_load(&g_handled), before);
    /* chunked over the limit: 413, and the handler is told */
    fd = client();
    rd_init(&r, fd);
    send_str(fd, "PUT /up_small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "1f4\r\n");
    char chunk[500];
    memset(chunk, 'x', sizeof chunk);
    ht_test__write_all(fd, chunk, sizeof chunk);
    send_str(fd, "\r\n1f5\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 413);
    ck_assert(p.close);
    resp_free(&p);
    rd_free(&r);
    close(fd);
    ck_assert_int_eq(atomic_load(&g_cancels), 1);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_BODY_TOO_LARGE);
    /* the client leaves mid-upload: told, nothing kept */
    fd = client();
    send_str(fd, "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    ht_test__write_all(fd, chunk, sizeof chunk);
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&g_body_bytes) < sizeof chunk && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(2);
    close(fd);
    t0 = ht_test__mono_ms();
    while (atomic_load(&g_cancels) < 2 && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(2);
    ck_assert_int_eq(atomic_load(&g_cancels), 2);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_CLOSED);
    stop();
}
END_TEST

START_TEST(upload_paused_and_slow) {
    /* The deadline (200 ms) does not run while the body is read: a client
     * that takes 600 ms still gets its answer. */
    start_defer(200, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "PUT /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 6; i++) {
        send_str(fd, "5\r\nhello\r\n");
        ht_test__sleep_ms(100);
    }
    send_str(fd, "0\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 201);
    ck_assert_str_eq(p.body, "30 3192");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* A consumer that pauses 150 ms per MiB: 3 MiB arrive whole and in
     * order, nothing is delivered while paused. */
    atomic_store(&g_paused_ms, 0);
    atomic_store(&g_early, 0);
    enum { LEN = 3 << 20 };
    char* data = malloc(LEN);
    uint64_t sum = 0;
    for (size_t i = 0; i < LEN; i++) {
        data[i] = (char) (i * 31 + i / 4093);
        sum += (uint8_t) data[i];
    }
    char want[64], req[128];
    snprintf(want, sizeof want, "%u %llu", (unsigned) LEN, (unsigned long long) sum);
    snprintf(req, sizeof req, "PUT /up_pause HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n", (unsigned) LEN);
    upload_expect(req, data, LEN, 201, want);
    free(data);
    ck_assert_uint_ge(atomic_load(&g_paused_ms), 2 * 140);
    ck_assert_int_eq(atomic_load(&g_early), 0);
    stop();
}
END_TEST

static Suite* suite(void) {
    Suite* s = suite_create("defer_stream");
    TCase* tc = tcase_create("defer_stream");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, nullptr);
    tcase_add_test(tc, stream_framings);
    tcase_add_test(tc, back_pressure);
    tcase_add_test(tc, stalled_reader_dropped);
    tcase_add_test(tc, server_sent_events);
    tcase_add_test(tc, streamed_upload);
    tcase_add_test(tc, upload_continue_and_refusals);
    tcase_add_test(tc, upload_paused_and_slow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_test__run(suite()); }
