/* check_defer: a deferred response's life end to end (ht/response.h
 * "Answering later"), on whichever loop backend this build has: completion
 * on a later turn and from other threads, a head begun before the defer,
 * pipelining behind a deferred response, deadlines and the late calls after
 * them, clients that leave, and graceful shutdown with responses pending.
 * Under ASan every misuse the header calls safe (completing twice, after the
 * deadline, after the client left) runs against the real handle. Streamed
 * bodies are check_defer_stream's; both serve defer_handler.h. */
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

START_TEST(deferred_next_turn) {
    start_defer(0, 0);
    resp_t p;
    roundtrip("GET /later HTTP/1.1\r\nHost: x\r\n\r\n", &p);
    ck_assert_int_eq(p.status, 200);
    ck_assert_str_eq(p.body, "later\n");
    ck_assert(p.has_length && !p.close);
    resp_free(&p);
    /* the status and header set before the defer moved with it */
    roundtrip("GET /headfirst HTTP/1.1\r\nHost: x\r\n\r\n", &p);
    ck_assert_int_eq(p.status, 202);
    ck_assert_ptr_nonnull(strstr(p.head, "\r\nX-Before: defer\r\nX-After: defer\r\n"));
    ck_assert_str_eq(p.body, "accepted");
    resp_free(&p);
    stop();
    ck_assert_int_eq(atomic_load(&g_twice_result), HT_E_RESPONSE_STATE);
    ck_assert_uint_eq(S.stats.deferred, 2);
    ck_assert_uint_eq(S.stats.deferred_now, 0);
}
END_TEST

START_TEST(pipelined_in_order) {
    start_defer(0, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    /* The slow one in the middle: the third waits for it (RFC 9112 9.3.2). */
    send_str(fd, "GET /p/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /later?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /p/3 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /later?ms=0 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /p/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const char* want[] = { "1", "later\n", "3", "later\n", "5" };
    for (int i = 0; i < 5; i++) {
        resp_t p;
        ck_assert(read_resp(&r, &p, false));
        ck_assert_str_eq(p.body, want[i]);
        ck_assert_int_eq(p.close, i == 4);
        resp_free(&p);
    }
    expect_eof(&r);
    rd_free(&r);
    close(fd);
    stop();
}
END_TEST

START_TEST(deadline_then_late) {
    start_defer(0, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    uint64_t t0 = ht_test__mono_ms();
    send_str(fd, "GET /hold?timeout=100 HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    uint64_t dt = ht_test__mono_ms() - t0;
    ck_assert_int_eq(p.status, 503);
    ck_assert_uint_ge(dt, 90);
    ck_assert_uint_lt(dt, 2000);
    ck_assert(!p.close); /* a clean answer: the connection stays */
    resp_free(&p);
    ck_assert_int_eq(atomic_load(&g_cancels), 1);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_TIMEOUT);
    /* The late completion: refused with an error code, nothing sent. */
    send_str(fd, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "ok\n");
    resp_free(&p);
    ht_test__sleep_ms(50);
    ck_assert_int_eq(atomic_load(&g_late_result), HT_E_GONE);
    ck_assert_int_eq(atomic_load(&g_release_result), HT_E_GONE);
    /* An upstream route: 504. */
    send_str(fd, "GET /hold?timeout=50&status=504 HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 504);
    resp_free(&p);
    send_str(fd, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert(read_resp(&r, &p, false));
    resp_free(&p);
    rd_free(&r);
    close(fd);
    stop();
    ck_assert_int_eq(atomic_load(&g_cancels), 2);
    ck_assert_uint_eq(S.stats.cut_off, 2);
}
END_TEST

START_TEST(client_leaves) {
    start_defer(0, 0);
    int fd = client();
    send_str(fd, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&g_handled) < 1 && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(1);
    close(fd);
    t0 = ht_test__mono_ms();
    while (atomic_load(&g_cancels) < 1 && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(2);
    ck_assert_int_eq(atomic_load(&g_cancels), 1);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_CLOSED);
    /* Other connections are untouched; the late calls are refused. */
    resp_t p;
    roundtrip("GET /late HTTP/1.1\r\nHost: x\r\n\r\n", &p);
    ck_assert_str_eq(p.body, "ok\n");
    resp_free(&p);
    ht_test__sleep_ms(50);
    ck_assert_int_eq(atomic_load(&g_late_result), HT_E_GONE);
    ck_assert_int_eq(atomic_load(&g_release_result), HT_E_GONE);
    stop();
    ck_assert_int_eq(atomic_load(&g_cancels), 1); /* told once */
}
END_TEST

START_TEST(from_other_threads) {
    start_defer(0, 0);
    enum { N = 40 };
    int fds[N];
    rd_t rs[N];
    for (int i = 0; i < N; i++) {
        fds[i] = client();
        rd_init(&rs[i], fds[i]);
        send_str(fds[i], "GET /thread HTTP/1.1\r\nHost: x\r\n\r\nGET /p/after HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    for (int i = 0; i < N; i++) {
        resp_t p;
        ck_assert(read_resp(&rs[i], &p, false));
        ck_assert_int_eq(p.status, 200);
        ck_assert_str_eq(p.body, "{\"from\":\"thread\"}");
        resp_free(&p);
        ck_assert(read_resp(&rs[i], &p, false));
        ck_assert_str_eq(p.body, "after");
        resp_free(&p);
        rd_free(&rs[i]);
        close(fds[i]);
    }
    stop();
    ck_assert_uint_eq(S.stats.deferred, N);
}
END_TEST

START_TEST(shutdown_drains) {
    ht_config_t cfg = { .drain_timeout_ms = 300 };
    start_cfg(&cfg);
    /* a deferred response that completes within the drain, and a stream
     * that would go on for ever */
    int a = client(), b = client();
    rd_t ra, rb;
    rd_init(&ra, a);
    rd_init(&rb, b);
    send_str(a, "GET /later?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n");
    send_str(b, "GET /sse?n=1000&beat=0 HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&rb, &p, false));
    resp_free(&p);
    uint64_t t0 = ht_test__mono_ms();
    ht_server__shutdown(&S.server);
    ck_assert(read_resp(&ra, &p, false));
    ck_assert_str_eq(p.body, "later\n");
    resp_free(&p);
    static char body[1 << 16];
    size_t n;
    ck_assert(read_chunked(&rb, body, sizeof body, &n)); /* ended cleanly */
    uint64_t dt = ht_test__mono_ms() - t0;
    ck_assert_uint_ge(dt, 250);
    ck_assert_uint_lt(dt, 3000);
    while (rd_fill(&rb)) {}
    ck_assert_int_eq(rb.eof, 1);
    rd_free(&ra);
    rd_free(&rb);
    close(a);
    close(b);
    stop();
}
END_TEST

START_TEST(head_begun_waits_for_its_body) {
    start_defer(0, 0);
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    send_str(fd, "GET /headlater HTTP/1.1\r\nHost: x\r\n\r\nGET /p/next HTTP/1.1\r\nHost: x\r\n\r\n");
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 202);
    ck_assert_ptr_nonnull(strstr(p.head, "\r\nX-Before: defer\r\nX-After: defer\r\nContent-Length: 8\r\n"));
    ck_assert_str_eq(p.body, "accepted");
    resp_free(&p);
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "next");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* begun, never completed, the client half-closes: nothing of the head
     * goes out (a response is whole or absent) */
    fd = client();
    rd_init(&r, fd);
    send_str(fd, "GET /headhold HTTP/1.1\r\nHost: x\r\n\r\n");
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&g_handled) < 1 && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(1);
    ht_test__sleep_ms(20);
    shutdown(fd, SHUT_WR);
    while (rd_fill(&r)) {}
    ck_assert_uint_eq(r.len, 0);
    ck_assert_int_eq(r.eof, 1);
    rd_free(&r);
    close(fd);
    t0 = ht_test__mono_ms();
    while (atomic_load(&g_cancels) < 1 && ht_test__mono_ms() - t0 < 2000) ht_test__sleep_ms(2);
    ck_assert_int_eq(atomic_load(&g_cancel_why), HT_E_CLOSED);
    resp_t q;
    roundtrip("GET /late HTTP/1.1\r\nHost: x\r\n\r\n", &q);
    resp_free(&q);
    stop();
}
END_TEST

static Suite* suite(void) {
    Suite* s = suite_create("defer");
    TCase* tc = tcase_create("defer");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, nullptr);
    tcase_add_test(tc, deferred_next_turn);
    tcase_add_test(tc, pipelined_in_order);
    tcase_add_test(tc, head_begun_waits_for_its_body);
    tcase_add_test(tc, deadline_then_late);
    tcase_add_test(tc, client_leaves);
    tcase_add_test(tc, from_other_threads);
    tcase_add_test(tc, shutdown_drains);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return ht_test__run(suite()); }
