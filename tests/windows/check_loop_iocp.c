/* tests/windows/check_loop_iocp.c — the IOCP backend's operations one by
 * one, under Wine (tests/windows/run.sh; Check API from tests/windows/
 * check.h): timers, cross-thread wake and posts, deferred completions,
 * ht_loop__poll's -ENOTSUP, accept, its cancellation and a loop freed with
 * one pending, the zero-byte-probe receive and its cancellation, recv_into,
 * send, sendfile with a head (one TransmitFile), end of stream. The
 * server-level behaviour is tests/portable/http_cases.py's. */
#include <check.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <ht/ht.h>

static ht_alloc_t* A;
static ht_io_t results[16];
static int nresults;

static void on_result(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    (void) loop, (void) op;
    if (nresults < 16) results[nresults++] = res;
}

static ht_loop_t* new_loop(void) {
    ht_loop_t* loop = nullptr;
    ck_assert_int_eq(ht_loop__init(&loop, A), 0);
    ck_assert_str_eq(ht_loop__backend(), "iocp");
    return loop;
}

/* A connected pair over 127.0.0.1: *srv from ht_server__listen's socket
 * through the loop's accept, *cli a plain blocking client socket. */
static ht_server_t server;
static SOCKET client_connect(void) {
    SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ck_assert(c != INVALID_SOCKET);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(ht_server__port(&server)) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(c, (struct sockaddr*) &a, sizeof a), 0);
    return c;
}

static ht_socket_t accepted;
static void on_accept(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    if (res >= 0) {
        accepted = (ht_socket_t) res;
        ht_loop__cancel(loop, op); /* one is enough */
        return;
    }
    on_result(loop, op, res);
}

static void pair(ht_loop_t* loop, ht_socket_t* srv, SOCKET* cli) {
    ht_op_t op = { 0 };
    accepted = HT_SOCKET_INVALID;
    nresults = 0;
    ck_assert_int_eq(ht_loop__accept(loop, &op, ht_server__socket(&server), on_accept), 0);
    *cli = client_connect();
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert(accepted != HT_SOCKET_INVALID);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], -ECANCELED); /* cancelled from its own callback */
    *srv = accepted;
    nresults = 0;
}

static void setup(void) {
    A = ht_alloc__init();
    server = (ht_server_t){ 0 };
    ck_assert_int_eq(ht_server__listen(&server, "127.0.0.1", 0, 16), 0);
}

static void teardown(void) {
    ht_server__close(&server);
    ht_alloc__finalize(A);
}

/* ---- timers, wake, defer ---- */

static int fired[4], nfired;
static void on_timer(ht_loop_t* loop, ht_timer_t* t) {
    (void) loop;
    fired[nfired++] = (int) (intptr_t) t->data;
}

START_TEST(timers_fire_in_deadline_order) {
    ht_loop_t* loop = new_loop();
    ht_timer_t t[3] = { { .data = (void*) 1 }, { .data = (void*) 2 }, { .data = (void*) 3 } };
    nfired = 0;
    uint64_t t0 = GetTickCount64();
    ht_loop__timer_start(loop, &t[0], 60, on_timer);
    ht_loop__timer_start(loop, &t[1], 20, on_timer);
    ht_loop__timer_start(loop, &t[2], 40, on_timer);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nfired, 3);
    ck_assert_int_eq(fired[0], 2);
    ck_assert_int_eq(fired[1], 3);
    ck_assert_int_eq(fired[2], 1);
    ck_assert_uint_ge(GetTickCount64() - t0, 55); /* coarse clock: 60 ms less a tick */
    ht_loop__free(loop, A);
}
END_TEST

static volatile LONG woken;
static void on_wake(ht_loop_t* loop, ht_waker_t* w) {
    (void) w;
    InterlockedIncrement(&woken);
    ht_loop__stop(loop);
}

static DWORD WINAPI waker_thread(void* p) {
    Sleep(30);
    ht_loop__wake(p);
    return 0;
}

START_TEST(wake_from_another_thread) {
    ht_loop_t* loop = new_loop();
    ht_waker_t w = { 0 };
    ht_loop__waker_add(loop, &w, on_wake);
    ht_timer_t keep = { 0 }; /* keeps the loop waiting */
    ht_loop__timer_start(loop, &keep, 10000, on_timer);
    woken = 0;
    HANDLE th = CreateThread(nullptr, 0, waker_thread, loop, 0, nullptr);
    uint64_t t0 = GetTickCount64();
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(woken, 1);
    ck_assert_uint_lt(GetTickCount64() - t0, 5000);
    WaitForSingleObject(th, INFINITE);
    CloseHandle(th);
    ht_loop__timer_stop(loop, &keep);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(defer_runs_on_the_next_iteration) {
    ht_loop_t* loop = new_loop();
    ht_op_t op = { 0 };
    nresults = 0;
    ht_loop__defer(loop, &op, 42, on_result);
    ck_assert_int_eq(nresults, 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], 42);
    ht_loop__free(loop, A);
}
END_TEST

/* ---- posts from another thread; poll is not offered ---- */

enum { NPOSTS = 200 };
static ht_post_t posts[NPOSTS];
static int posts_run;
static DWORD loop_tid;
static void on_post(ht_loop_t* loop, ht_post_t* p) {
    ck_assert_uint_eq(GetCurrentThreadId(), loop_tid); /* on the loop's thread */
    ck_assert_int_eq((int) (intptr_t) p->data, posts_run); /* in posting order */
    if (++posts_run == NPOSTS) ht_loop__stop(loop);
}

static DWORD WINAPI poster_thread(void* p) {
    Sleep(30); /* the loop is waiting by now */
    for (int i = 0; i < NPOSTS; i++) {
        posts[i].data = (void*) (intptr_t) i;
        ht_loop__post(p, &posts[i], on_post);
    }
    return 0;
}

START_TEST(post_from_another_thread) {
    ht_loop_t* loop = new_loop();
    ht_timer_t keep = { 0 }; /* keeps the loop waiting: posts do not */
    ht_loop__timer_start(loop, &keep, 10000, on_timer);
    loop_tid = GetCurrentThreadId();
    posts_run = 0;
    HANDLE th = CreateThread(nullptr, 0, poster_thread, loop, 0, nullptr);
    uint64_t t0 = GetTickCount64();
    while (posts_run < NPOSTS && GetTickCount64() - t0 < 5000) ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(posts_run, NPOSTS);
    ck_assert_uint_lt(GetTickCount64() - t0, 5000);
    WaitForSingleObject(th, INFINITE);
    CloseHandle(th);
    ht_loop__timer_stop(loop, &keep);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(poll_is_not_supported) {
    ht_loop_t* loop = new_loop();
    ht_socket_t s;
    SOCKET c;
    pair(loop, &s, &c);
    ht_op_t op = { 0 };
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_IN, on_result), -ENOTSUP);
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_OUT, on_result), -ENOTSUP);
    ht_loop__forget(loop, s); /* nothing to forget: harmless */
    ck_assert_int_eq(ht_loop__run(loop), 0); /* nothing was started */
    ck_assert_int_eq(nresults, 0);
    ht_loop__close(loop, s);
    closesocket(c);
    ht_loop__free(loop, A);
}
END_TEST

/* ---- accept ---- */

START_TEST(accept_cancel_while_waiting) {
    ht_loop_t* loop = new_loop();
    ht_op_t op = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__accept(loop, &op, ht_server__socket(&server), on_result), 0);
    ht_loop__cancel(loop, &op);
    ck_assert_int_eq(nresults, 0); /* never from inside the call */
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], -ECANCELED);
    /* and the listening socket still accepts afterwards */
    ht_socket_t s;
    SOCKET c;
    pair(loop, &s, &c);
    ht_loop__close(loop, s);
    closesocket(c);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(free_with_accept_pending) {
    /* ht_loop__free abandons a pending accept: its AcceptEx must be over
     * before the call returns (the op's memory may go right after), and
     * the listening socket serves the next loop. */
    ht_loop_t* loop = new_loop();
    ht_op_t* op = calloc(1, sizeof *op);
    nresults = 0;
    ck_assert_int_eq(ht_loop__accept(loop, op, ht_server__socket(&server), on_result), 0);
    ht_loop__free(loop, A);
    memset(op, 0x5A, sizeof *op);
    free(op);
    loop = new_loop();
    ht_socket_t s;
    SOCKET c;
    pair(loop, &s, &c);
    ck_assert_int_eq(send(c, "x", 1, 0), 1);
    char b;
    ht_op_t rop = { 0 };
    ck_assert_int_eq(ht_loop__recv_into(loop, &rop, s, &b, 1, on_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], 1);
    ht_loop__close(loop, s);
    closesocket(c);
    ht_loop__free(loop, A);
}
END_TEST

/* ---- receive ---- */

static void on_recv_pooled(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    on_result(loop, op, res);
    if (res > 0) {
        ck_assert_int_eq(memcmp(op->buf->data, "hello", 5), 0);
        ht_loop__buf_release(loop, op->buf);
    }
}

START_TEST(recv_pooled_then_eof) {
    ht_loop_t* loop = new_loop();
    ht_socket_t s;
    SOCKET c;
    pair(loop, &s, &c);
    ht_op_t op = { 0 };
    ck_assert_int_eq(ht_loop__recv(loop, &op, s, on_recv_pooled), 0);
    ck_assert_int_eq(send(c, "hello", 5, 0), 5);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], 5);
    shutdown(c, SD_SEND);
    ck_assert_int_eq(ht_loop__recv(loop, &op, s, on_recv_pooled), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 2);
    ck_assert_int_eq(results[1], 0); /* end of stream, no buffer held */
    ht_loop__close(loop, s);
    closesocket(c);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(recv_cancel_while_idle) {
    ht_loop_t* loop = new_loop();
    ht_socket_t s;
    SOCKET c;
    pair(loop, &s, &c);
    ht_op_t op = { 0 }, op2 = { 0 };
    char into[8];
    ck_assert_int_eq(ht_loop__recv(loop, &op, s, on_result), 0);
    ht_loop__cancel(loop, &op);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], -ECANCELED);
    ck_assert_int_eq(ht_loop__recv_into(loop, &op2, s, into, sizeof into, on_result), 0);
    ht_loop__cancel(loop, &op2);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 2);
    ck_assert_int_eq(results[1], -ECANCELED);
    /* the socket is still good: data sent now arrives */
    ck_assert_int_eq(ht_loop__recv_into(loop, &op2, s, into, sizeof into, on_result), 0);
    ck_assert_int_eq(send(c, "abc", 3, 0), 3);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 3);
    ck_assert_int_eq(results[2], 3);
    ck_assert_int_eq(memcmp(into, "abc", 3), 0);
    ht_loop__close(loop, s);
    closesocket(c);
    ht_loop__free(loop, A);
}
END_TEST

/* ---- send, sendfile ---- */

static size_t read_all(SOCKET c, char* out, size_t want) {
    size_t got = 0;
    while (got < want) {
        int n = recv(c, out + got, (int) (want - got > 65536 ? 65536 : want - got), 0);
        if (n <= 0) break;
        got += (size_t) n;
    }
    return got;
}

typedef struct {
    SOCKET c;
    char*  out;
    size_t want, got;
} reader_t;

static DWORD WINAPI reader_thread(void* p) {
    reader_t* r = p;
    r->got = read_all(r->c, r->out, r->want);
    return 0;
}

START_TEST(send_iovecs_and_sendfile_head_byte_identical) {
    ht_loop_t* loop = new_loop();
    ht_socket_t s;
    SOCKET c;
    pair(loop, &s, &c);
    /* a 2 MiB file with a known pattern */
    char path[MAX_PATH], dir[MAX_PATH];
    GetTempPathA(sizeof dir, dir);
    GetTempFileNameA(dir, "ht", 0, path);
    size_t flen = 2u << 20, hlen = 100000, off = 777, len = flen - 777 - 33;
    char* data = malloc(flen);
    char* want = malloc(4 + hlen + len);
    char* got = malloc(4 + hlen + len);
    for (size_t i = 0; i < flen; i++) data[i] = (char) (i * 7 + i / 251);
    HANDLE fw = CreateFileA(path, GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, 0, nullptr);
    DWORD wrote;
    ck_assert(WriteFile(fw, data, (DWORD) flen, &wrote, nullptr) && wrote == flen);
    CloseHandle(fw);
    HANDLE f = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING, 0,
                           nullptr);
    ck_assert(f != INVALID_HANDLE_VALUE);
    memcpy(want, "ab", 2);
    memcpy(want + 2, "cd", 2);
    for (size_t i = 0; i < hlen; i++) want[4 + i] = (char) (i * 13 + 5);
    memcpy(want + 4 + hlen, data + off, len);
    reader_t r = { .c = c, .out = got, .want = 4 + hlen + len };
    HANDLE th = CreateThread(nullptr, 0, reader_thread, &r, 0, nullptr);
    /* two iovecs, then head + file in one TransmitFile */
    ht_iov_t iov[2] = { { want, 2 }, { want + 2, 2 } };
    ht_op_t op = { 0 };
    ck_assert_int_eq(ht_loop__send(loop, &op, s, iov, 2, on_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], 4);
    ht_iov_t head = { want + 4, hlen };
    ck_assert_int_eq(ht_loop__sendfile_head(loop, &op, s, &head, (ht_file_t) f, off, len, on_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 2);
    ck_assert_int_eq(results[1], (ht_io_t) (hlen + len));
    ck_assert_uint_eq(head.len, 0);
    ht_loop__close(loop, s); /* the reader sees EOF after everything */
    WaitForSingleObject(th, INFINITE);
    CloseHandle(th);
    ck_assert_uint_eq(r.got, 4 + hlen + len);
    ck_assert(memcmp(got, want, r.got) == 0);
    /* a file shorter than promised: -EIO */
    ht_socket_t s2;
    SOCKET c2;
    pair(loop, &s2, &c2);
    ck_assert_int_eq(ht_loop__sendfile(loop, &op, s2, (ht_file_t) f, flen - 10, 100, on_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], -EIO);
    ht_loop__close(loop, s2);
    closesocket(c2);
    closesocket(c);
    CloseHandle(f);
    DeleteFileA(path);
    free(data);
    free(want);
    free(got);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(send_to_a_reset_peer_fails) {
    ht_loop_t* loop = new_loop();
    ht_socket_t s;
    SOCKET c;
    pair(loop, &s, &c);
    struct linger lg = { 1, 0 };
    setsockopt(c, SOL_SOCKET, SO_LINGER, (const char*) &lg, sizeof lg);
    closesocket(c); /* RST */
    Sleep(50);
    static char big[1 << 20];
    ht_iov_t iov = { big, sizeof big };
    ht_op_t op = { 0 };
    ck_assert_int_eq(ht_loop__send(loop, &op, s, &iov, 1, on_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_msg(results[0] == -ECONNRESET || results[0] == -ECONNABORTED || results[0] == -EPIPE,
                  "send after RST: %lld", (long long) results[0]);
    ht_loop__close(loop, s);
    ht_loop__free(loop, A);
}
END_TEST

int main(void) {
    Suite* s = suite_create("loop-iocp");
    TCase* tc = tcase_create("ops");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, timers_fire_in_deadline_order);
    tcase_add_test(tc, wake_from_another_thread);
    tcase_add_test(tc, defer_runs_on_the_next_iteration);
    tcase_add_test(tc, post_from_another_thread);
    tcase_add_test(tc, poll_is_not_supported);
    tcase_add_test(tc, accept_cancel_while_waiting);
    tcase_add_test(tc, free_with_accept_pending);
    tcase_add_test(tc, recv_pooled_then_eof);
    tcase_add_test(tc, recv_cancel_while_idle);
    tcase_add_test(tc, send_iovecs_and_sendfile_head_byte_identical);
    tcase_add_test(tc, send_to_a_reset_peer_fails);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
