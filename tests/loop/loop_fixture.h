/* loop_fixture.h: what the check_loop sources share (private to tests/loop).
 * check_loop is one program built from check_loop.c (main, the fixture, the
 * loop's own machinery), check_loop_recv.c (accept and receive),
 * check_loop_send.c (send, sendfile and poll) and check_loop_ring.c (a burst
 * of 1,000 connections: io_uring's ring growth); all their tests run in the
 * one TCase "core" registered by check_loop.c, in the same order as ever.
 * A is the allocator of the running test: set by the fixture's setup before
 * each test and finalized (leaks checked) by its teardown. */
#ifndef HT_TESTS_LOOP_FIXTURE_H
#define HT_TESTS_LOOP_FIXTURE_H

#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ht/loop.h>
#include "loop/internal.h"     /* ht_backend__info */
#include "loop/iouring_info.h" /* HT_BE_* */
#include "support/ht_test.h"

extern ht_alloc_t* A;

static inline ht_loop_t* new_loop(const ht_loop_options_t* opt) {
    ht_loop_t* loop = nullptr;
    ht_result_t r = ht_loop__init_with(&loop, A, opt);
    ck_assert_msg(r == 0, "ht_loop__init: %d (%s)", r, ht_result__str(r));
    return loop;
}

static inline void set_nonblock(int fd) {
    ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

/* A connected pair: *srv non-blocking (the loop's side), *cli blocking. */
static inline void tcp_pair(int* srv, int* cli) {
    uint16_t port;
    int l = ht_test__listen_loopback(&port, 16);
    *cli = ht_test__connect_loopback(port);
    ck_assert_int_ge(*cli, 0);
    int s;
    do s = accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    while (s < 0 && errno == EAGAIN);
    ck_assert_int_ge(s, 0);
    close(l);
    *srv = s;
}

/* Callbacks and their records shared by tests in several files (defined
 * beside their first users: on_stop_timer in check_loop.c, the rest in
 * check_loop_recv.c). Each test runs in its own process (Check forks), so
 * these start zeroed and the test resets what it reads. */
extern size_t ngot;
extern ht_io_t results[64];
extern int nresults;
extern int cancel_calls;
extern ht_io_t cancel_res;
void on_stop_timer(ht_loop_t* loop, ht_timer_t* t);
void on_cancel_timer(ht_loop_t* loop, ht_timer_t* t);
void on_cancelled(ht_loop_t* loop, ht_op_t* op, ht_io_t res);
void on_one_result(ht_loop_t* loop, ht_op_t* op, ht_io_t res);

/* Each adds its file's tests to the TCase, in registration order. */
void loop_add_recv_tests(TCase* tc);
void loop_add_send_tests(TCase* tc);
void loop_add_ring_tests(TCase* tc);

#endif
