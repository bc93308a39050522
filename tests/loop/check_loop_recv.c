/* check_loop_recv: the proactor's accept and receive operations (part of
 * check_loop, see loop_fixture.h): accepts and their cancellation, receives
 * into the pool and into caller memory, pool exhaustion and order, cancel
 * racing completion, closes and fd number reuse. */
#include "loop_fixture.h"

/* ------------------------------------------------------------- accept --- */

enum { NCLIENTS = 200 };
static int accepted, accept_final_calls;
static ht_result_t accept_final;
static void on_accept(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    if (res >= 0) {
        int fd = (int) res;
        ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
        ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        ck_assert_int_eq(accept_final_calls, 0);
        ht_loop__close(loop, fd);
        if (++accepted == NCLIENTS) ht_loop__cancel(loop, op);
        return;
    }
    accept_final_calls++;
    accept_final = (ht_result_t) res;
}

static void* connect_thread(void* arg) {
    uint16_t port = (uint16_t) (uintptr_t) arg;
    int fds[NCLIENTS];
    for (int i = 0; i < NCLIENTS; i++) {
        fds[i] = ht_test__connect_loopback(port);
        if (i % 16 == 0) ht_test__sleep_ms(1);
    }
    ht_test__sleep_ms(100);
    for (int i = 0; i < NCLIENTS; i++)
        if (fds[i] >= 0) close(fds[i]);
    return nullptr;
}

START_TEST(accept_many_then_cancel) {
    ht_loop_t* loop = new_loop(nullptr);
    uint16_t port;
    int l = ht_test__listen_loopback(&port, 1024);
    ht_op_t op = { 0 };
    accepted = accept_final_calls = 0;
    ck_assert_int_eq(ht_loop__accept(loop, &op, l, on_accept), 0);
    pthread_t th;
    pthread_create(&th, nullptr, connect_thread, (void*) (uintptr_t) port);
    ck_assert_int_eq(ht_loop__run(loop), 0); /* returns after the final callback */
    pthread_join(th, nullptr);
    ck_assert_int_eq(accepted, NCLIENTS);
    ck_assert_int_eq(accept_final_calls, 1);
    ck_assert_int_eq(accept_final, -ECANCELED);
    close(l);
    ht_loop__free(loop, A);
}
END_TEST

static void on_accept_cancel_twice(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    accept_final_calls++;
    accept_final = (ht_result_t) res;
}
void on_cancel_timer(ht_loop_t* loop, ht_timer_t* t) {
    ht_op_t* op = t->data;
    ht_loop__cancel(loop, op);
    ht_loop__cancel(loop, op); /* a second request changes nothing */
}

START_TEST(cancel_idle_accept_once) {
    ht_loop_t* loop = new_loop(nullptr);
    uint16_t port;
    int l = ht_test__listen_loopback(&port, 16);
    ht_op_t op = { 0 };
    accept_final_calls = 0;
    ck_assert_int_eq(ht_loop__accept(loop, &op, l, on_accept_cancel_twice), 0);
    ht_timer_t t = { .data = &op };
    ht_loop__timer_start(loop, &t, 10, on_cancel_timer);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(accept_final_calls, 1);
    ck_assert_int_eq(accept_final, -ECANCELED);
    close(l);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(accept_stops_on_emfile) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* In a child: the fd limit is lowered for this process only. */
        ht_loop_t* loop = nullptr;
        if (ht_loop__init(&loop, A) != 0) _exit(10);
        uint16_t port;
        int l = ht_test__listen_loopback(&port, 16);
        int c[3];
        for (int i = 0; i < 3; i++) c[i] = ht_test__connect_loopback(port);
        if (c[0] < 0 || c[1] < 0 || c[2] < 0) _exit(11);
        int probe = dup(0);
        close(probe);
        /* room for exactly one more fd (the first accept) */
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = (rlim_t) probe + 1;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) _exit(12);
        ht_op_t op = { 0 };
        accepted = accept_final_calls = 0;
        if (ht_loop__accept(loop, &op, l, on_accept_cancel_twice) != 0) _exit(13);
        if (ht_loop__run(loop) != 0) _exit(14); /* returns: the accept stopped */
        /* one fd came through, then the op ended with EMFILE, exactly once */
        if (accept_final_calls != 2) _exit(15);
        if (accept_final != -EMFILE) _exit(16);
        ht_loop__free(loop, A);
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
}
END_TEST

/* --------------------------------------------------------------- recv --- */

static char got[1 << 16];
size_t ngot;
ht_io_t results[64];
int nresults;
static void on_recv_pool(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    results[nresults++] = res;
    if (res > 0) {
        ck_assert_ptr_nonnull(op->buf);
        ck_assert_uint_le((uint64_t) res, op->buf->cap);
        memcpy(got + ngot, op->buf->data, (size_t) res);
        ngot += (size_t) res;
        ht_loop__buf_release(loop, op->buf);
        ck_assert_int_eq(ht_loop__recv(loop, op, (int32_t) (intptr_t) op->data, on_recv_pool), 0);
    }
}

static void* slow_writer(void* arg) {
    int fd = (int) (intptr_t) arg;
    ht_test__sleep_ms(20);
    ht_test__write_all(fd, "hello ", 6);
    ht_test__sleep_ms(20);
    ht_test__write_all(fd, "world", 5);
    ht_test__sleep_ms(20);
    shutdown(fd, SHUT_WR);
    return nullptr;
}

START_TEST(recv_pool_until_eof) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    ht_op_t op = { .data = (void*) (intptr_t) s };
    ngot = 0;
    nresults = 0;
    ck_assert_int_eq(ht_loop__recv(loop, &op, s, on_recv_pool), 0);
    pthread_t th;
    pthread_create(&th, nullptr, slow_writer, (void*) (intptr_t) c);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert_uint_eq(ngot, 11);
    ck_assert(memcmp(got, "hello world", 11) == 0);
    ck_assert_int_eq(results[nresults - 1], 0); /* end of stream last */
    ck_assert_int_ge(nresults, 3);
    /* every buffer is back: all can be acquired */
    ht_buf_t* b = ht_loop__buf_acquire(loop);
    ck_assert_ptr_nonnull(b);
    ht_loop__buf_release(loop, b);
    ht_loop__close(loop, s);
    close(c);
    ht_loop__free(loop, A);
}
END_TEST

static char into[8];
static void on_recv_into(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    results[nresults++] = res;
    if (res > 0) {
        memcpy(got + ngot, into, (size_t) res);
        ngot += (size_t) res;
        ck_assert_int_eq(ht_loop__recv_into(loop, op, (int32_t) (intptr_t) op->data, into,
                                            sizeof into, on_recv_into), 0);
    }
}

START_TEST(recv_into_caller_memory) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    const char* msg = "0123456789abcdefghijklmnopqrstuvwxyz"; /* > sizeof into */
    ht_test__write_all(c, msg, strlen(msg));
    shutdown(c, SHUT_WR);
    ht_op_t op = { .data = (void*) (intptr_t) s };
    ngot = 0;
    nresults = 0;
    ck_assert_int_eq(ht_loop__recv_into(loop, &op, s, into, sizeof into, on_recv_into), 0);
    ck_assert_int_eq(nresults, 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_uint_eq(ngot, strlen(msg));
    ck_assert(memcmp(got, msg, ngot) == 0);
    ck_assert_int_eq(results[nresults - 1], 0);
    for (int i = 0; i < nresults - 1; i++) ck_assert_int_le(results[i], (int) sizeof into);
    ht_loop__close(loop, s);
    close(c);
    ht_loop__free(loop, A);
}
END_TEST

int cancel_calls;
ht_io_t cancel_res;
void on_cancelled(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    cancel_calls++;
    cancel_res = res;
}

START_TEST(cancel_pending_recv_once) {
    for (int kind = 0; kind < 2; kind++) {
        ht_loop_t* loop = new_loop(nullptr);
        int s, c;
        tcp_pair(&s, &c);
        ht_op_t op = { 0 };
        cancel_calls = 0;
        if (kind == 0) ck_assert_int_eq(ht_loop__recv(loop, &op, s, on_cancelled), 0);
        else ck_assert_int_eq(ht_loop__recv_into(loop, &op, s, into, sizeof into, on_cancelled), 0);
        ht_timer_t t = { .data = &op };
        ht_loop__timer_start(loop, &t, 10, on_cancel_timer);
        ck_assert_int_eq(ht_loop__run(loop), 0);
        ck_assert_int_eq(cancel_calls, 1);
        ck_assert_int_eq(cancel_res, -ECANCELED);
        /* the fd is usable again: data sent now arrives in a new recv */
        ht_test__write_all(c, "x", 1);
        nresults = 0;
        ngot = 0;
        op.data = (void*) (intptr_t) s;
        ck_assert_int_eq(ht_loop__recv(loop, &op, s, on_recv_pool), 0);
        shutdown(c, SHUT_WR);
        ck_assert_int_eq(ht_loop__run(loop), 0);
        ck_assert_uint_eq(ngot, 1);
        ck_assert_int_eq(got[0], 'x');
        ht_loop__close(loop, s);
        close(c);
        ht_loop__free(loop, A);
    }
}
END_TEST

void on_one_result(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    results[nresults++] = res;
    if (res > 0 && op->buf && (intptr_t) op->data != 1) ht_loop__buf_release(loop, op->buf);
}

START_TEST(peer_reset_is_an_error) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c); /* RST */
    ht_test__sleep_ms(10);
    ht_op_t op = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__recv(loop, &op, s, on_one_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], -ECONNRESET);
    /* sending to the reset peer fails with an error, without SIGPIPE */
    static char blob[4096];
    ht_iov_t iov[1] = { { blob, sizeof blob } };
    ht_op_t sop = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__send(loop, &sop, s, iov, 1, on_one_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_msg(results[0] == -EPIPE || results[0] == -ECONNRESET, "send: %lld",
                  (long long) results[0]);
    ht_loop__close(loop, s);
    ht_loop__free(loop, A);
}
END_TEST

/* sendfile(2) on a socket whose reset a receive has already reported fails
 * with EPIPE and raises SIGPIPE (it has no MSG_NOSIGNAL); this process does
 * not ignore SIGPIPE. The op completes with the error, and afterwards no
 * SIGPIPE is pending and the thread's mask is as it was. */
START_TEST(sendfile_to_a_reset_peer_raises_no_sigpipe) {
    ht_loop_t* loop = new_loop(nullptr);
    char path[] = "/tmp/ht_loop_sendfile_XXXXXX";
    int f = mkstemp(path);
    ck_assert_int_ge(f, 0);
    unlink(path);
    static char blob[65536];
    ht_test__write_all(f, blob, sizeof blob);
    int s, c;
    tcp_pair(&s, &c);
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c); /* RST */
    ht_test__sleep_ms(10);
    ht_op_t op = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__recv(loop, &op, s, on_one_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(results[0], -ECONNRESET); /* the error is taken */
    sigset_t before, after, pending;
    pthread_sigmask(SIG_SETMASK, nullptr, &before);
    nresults = 0;
    ck_assert_int_eq(ht_loop__sendfile(loop, &op, s, f, 0, sizeof blob, on_one_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], -EPIPE);
    pthread_sigmask(SIG_SETMASK, nullptr, &after);
    ck_assert(!sigismember(&after, SIGPIPE) && !sigismember(&before, SIGPIPE));
    sigpending(&pending);
    ck_assert(!sigismember(&pending, SIGPIPE));
    ht_loop__close(loop, s);
    close(f);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(pool_exhaustion_gives_enobufs) {
    ht_loop_options_t opt = { .buf_count = 4, .buf_size = 1024 };
    ht_loop_t* loop = new_loop(&opt);
    int s[5], c[5];
    ht_op_t op[5];
    nresults = 0;
    for (int i = 0; i < 5; i++) {
        tcp_pair(&s[i], &c[i]);
        ht_test__write_all(c[i], "data", 4);
        op[i] = (ht_op_t) { .data = (void*) 1 }; /* keep the buffer */
    }
    ht_test__sleep_ms(10);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(ht_loop__recv(loop, &op[i], s[i], on_one_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 5);
    int ok = 0, nobufs = -1;
    for (int i = 0; i < 5; i++) {
        if (results[i] == 4) ok++;
        else ck_assert_int_eq(results[i], -ENOBUFS);
    }
    ck_assert_int_eq(ok, 4);
    ck_assert_ptr_null(ht_loop__buf_acquire(loop));
    for (int i = 0; i < 5; i++) {
        if (op[i].buf) {
            ck_assert(memcmp(op[i].buf->data, "data", 4) == 0);
            ht_loop__buf_release(loop, op[i].buf);
            op[i].buf = nullptr;
        } else {
            nobufs = i;
        }
    }
    ck_assert_int_ge(nobufs, 0);
    /* with buffers back, the same connection's data is received */
    nresults = 0;
    op[nobufs].data = nullptr;
    ck_assert_int_eq(ht_loop__recv(loop, &op[nobufs], s[nobufs], on_one_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], 4);
    for (int i = 0; i < 5; i++) {
        ht_loop__close(loop, s[i]);
        close(c[i]);
    }
    /* acquire/release outside a recv: at most buf_count, all come back */
    ht_buf_t* held[8];
    int n = 0;
    while (n < 8 && (held[n] = ht_loop__buf_acquire(loop))) {
        ck_assert_uint_eq(held[n]->cap, 1024);
        memset(held[n]->data, n, 1024);
        n++;
    }
    ck_assert_int_ge(n, 1);
    ck_assert_int_le(n, 4);
    while (n) ht_loop__buf_release(loop, held[--n]);
    ht_loop__free(loop, A);
}
END_TEST

/* Buffers never used go out lowest address first (the pool's mapping is
 * faulted from its start; their bookkeeping is written only then), and a
 * released buffer is the next one handed out. */
START_TEST(pool_lowest_first_then_last_released) {
    ht_loop_options_t opt = { .buf_count = 64, .buf_size = 1024 };
    ht_loop_t* loop = new_loop(&opt);
    ht_buf_t* b[3];
    for (int i = 0; i < 3; i++) {
        b[i] = ht_loop__buf_acquire(loop);
        ck_assert_ptr_nonnull(b[i]);
        ck_assert_uint_eq(b[i]->cap, 1024);
        memset(b[i]->data, 'a' + i, 1024);
        if (i) ck_assert_ptr_eq(b[i]->data, b[i - 1]->data + 1024);
    }
    ht_loop__buf_release(loop, b[1]);
    ck_assert_ptr_eq(ht_loop__buf_acquire(loop), b[1]);
    ht_loop__buf_release(loop, b[0]);
    ht_loop__buf_release(loop, b[2]);
    ck_assert_ptr_eq(ht_loop__buf_acquire(loop), b[2]);
    ck_assert_ptr_eq(ht_loop__buf_acquire(loop), b[0]);
    ht_buf_t* fresh = ht_loop__buf_acquire(loop);
    ck_assert_ptr_nonnull(fresh);
    ck_assert_ptr_eq(fresh->data, b[2]->data + 1024);
    for (int i = 0; i < 3; i++) ht_loop__buf_release(loop, b[i]);
    ht_loop__buf_release(loop, fresh);
    ht_loop__free(loop, A);
}
END_TEST

enum { NMANY = 150 };
static int many_ok, many_err;
static void on_many(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    if (res == 3 && memcmp(op->buf->data, "abc", 3) == 0) many_ok++;
    else many_err++;
    if (res > 0) ht_loop__buf_release(loop, op->buf);
}

/* More connections with data than the io_uring buffer ring holds at once:
 * the backend must refill and resubmit, never report ENOBUFS while the pool
 * still has buffers. */
START_TEST(recv_on_many_connections_at_once) {
    ht_loop_options_t opt = { .buf_count = 256, .buf_size = 512 };
    ht_loop_t* loop = new_loop(&opt);
    static int s[NMANY], c[NMANY];
    static ht_op_t op[NMANY];
    for (int i = 0; i < NMANY; i++) {
        tcp_pair(&s[i], &c[i]);
        ht_test__write_all(c[i], "abc", 3);
    }
    ht_test__sleep_ms(10);
    many_ok = many_err = 0;
    for (int i = 0; i < NMANY; i++) {
        op[i] = (ht_op_t) { 0 };
        ck_assert_int_eq(ht_loop__recv(loop, &op[i], s[i], on_many), 0);
    }
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(many_err, 0);
    ck_assert_int_eq(many_ok, NMANY);
    ht_backend_info_t info;
    ht_backend__info(loop, &info);
    if (info.features & HT_BE_PBUF_RING) ck_assert_uint_gt(info.nobufs_retries, 0);
    for (int i = 0; i < NMANY; i++) {
        ht_loop__close(loop, s[i]);
        close(c[i]);
    }
    ht_loop__free(loop, A);
}
END_TEST

/* Cancel racing completion: in the first recv callback of a batch, every
 * other pending recv is cancelled, although its data may already be waiting
 * (io_uring: its CQE may already sit in the ring). Each start must get
 * exactly one callback, data or -ECANCELED, and no byte may be lost. */
enum { NRACE = 40, RACE_ROUNDS = 30 };
typedef struct {
    ht_op_t op;
    int s, c;
    int starts, calls;
    bool cancelled;
    size_t got;
} racer_t;
static int race_data_after_cancel, race_cancelled;
static racer_t racers[NRACE];
static bool race_cancel_armed, race_draining;
static void on_race(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    racer_t* r = op->data;
    r->calls++;
    ck_assert_int_eq(r->calls, r->starts);
    if (r->cancelled) {
        r->cancelled = false;
        if (res > 0) race_data_after_cancel++;
        else race_cancelled++;
    }
    if (res > 0) {
        r->got += (size_t) res;
        ht_loop__buf_release(loop, op->buf);
    } else if (race_draining) {
        ck_assert_int_eq(res, 0);
    } else {
        ck_assert_int_eq(res, -ECANCELED);
    }
    if (race_cancel_armed) {
        race_cancel_armed = false;
        for (int i = 0; i < NRACE; i++)
            if (racers[i].calls < racers[i].starts) {
                racers[i].cancelled = true;
                ht_loop__cancel(loop, &racers[i].op);
            }
    }
}

START_TEST(cancel_racing_completions_loses_nothing) {
    ht_loop_t* loop = new_loop(nullptr);
    for (int i = 0; i < NRACE; i++) {
        racers[i] = (racer_t) { 0 };
        tcp_pair(&racers[i].s, &racers[i].c);
        racers[i].op.data = &racers[i];
    }
    size_t sent = 0;
    race_draining = false;
    race_data_after_cancel = race_cancelled = 0;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        for (int i = 0; i < NRACE; i++) {
            if ((i + round) % 3 == 0) continue; /* some stay silent this round */
            ht_test__write_all(racers[i].c, "0123456789", 10);
            sent += 10;
        }
        ht_test__sleep_ms(1);
        for (int i = 0; i < NRACE; i++) {
            racers[i].starts++;
            ck_assert_int_eq(ht_loop__recv(loop, &racers[i].op, racers[i].s, on_race), 0);
        }
        race_cancel_armed = true;
        ck_assert_int_eq(ht_loop__run(loop), 0);
        for (int i = 0; i < NRACE; i++) ck_assert_int_eq(racers[i].calls, racers[i].starts);
    }
    /* drain what cancelled recvs left in the sockets */
    size_t total = 0;
    race_draining = true;
    for (int i = 0; i < NRACE; i++) {
        shutdown(racers[i].c, SHUT_WR);
        for (;;) {
            racers[i].starts++;
            size_t before = racers[i].got;
            int calls = racers[i].calls;
            ck_assert_int_eq(ht_loop__recv(loop, &racers[i].op, racers[i].s, on_race), 0);
            ck_assert_int_eq(ht_loop__run(loop), 0);
            ck_assert_int_eq(racers[i].calls, calls + 1);
            if (racers[i].got == before) break; /* EOF */
        }
        total += racers[i].got;
        ht_loop__close(loop, racers[i].s);
        close(racers[i].c);
    }
    ck_assert_uint_eq(total, sent);
    /* Informational: how often a cancel lost the race to data. */
    fprintf(stderr, "cancel races: %d cancelled, %d completed with data anyway\n",
            race_cancelled, race_data_after_cancel);
    ck_assert_int_gt(race_cancelled, 0);
    ht_loop__free(loop, A);
}
END_TEST

static void on_recv_then_close(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    results[nresults++] = res;
    if (res > 0) ht_loop__buf_release(loop, op->buf);
    ht_loop__close(loop, (int32_t) (intptr_t) op->data);
}

/* A close queued by the last callback happens before run returns, although
 * the loop has nothing left to wait for. */
START_TEST(close_in_last_callback_is_done_when_run_returns) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    ht_test__write_all(c, "bye", 3);
    ht_op_t op = { .data = (void*) (intptr_t) s };
    nresults = 0;
    ck_assert_int_eq(ht_loop__recv(loop, &op, s, on_recv_then_close), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], 3);
    errno = 0;
    ck_assert_int_eq(fcntl(s, F_GETFD), -1);
    ck_assert_int_eq(errno, EBADF);
    char b;
    ck_assert_int_eq(read(c, &b, 1), 0); /* the peer sees the close */
    close(c);
    ht_loop__free(loop, A);
}
END_TEST

static void on_accept_first_then_cancel(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    results[nresults++] = res;
    if (res >= 0) {
        close((int) res);
        ht_loop__cancel(loop, op);
    }
}

/* Cancelling a persistent accept while many connections are queued: one or
 * more connections (io_uring's multishot may deliver what it accepted before
 * the cancel took effect; the callback owns those), then exactly one
 * -ECANCELED, and no accepted fd leaks. */
START_TEST(cancel_accept_with_backlog_leaks_nothing) {
    ht_loop_t* loop = new_loop(nullptr);
    uint16_t port;
    int l = ht_test__listen_loopback(&port, 128);
    enum { NQ = 50 };
    int cl[NQ];
    for (int i = 0; i < NQ; i++) {
        cl[i] = ht_test__connect_loopback(port);
        ck_assert_int_ge(cl[i], 0);
    }
    int before = ht_test__count_fds();
    ht_op_t op = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__accept(loop, &op, l, on_accept_first_then_cancel), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_ge(nresults, 2);
    ck_assert_int_le(nresults, NQ + 1);
    for (int i = 0; i < nresults - 1; i++) ck_assert_int_ge(results[i], 0);
    ck_assert_int_eq(results[nresults - 1], -ECANCELED);
    ck_assert_int_eq(ht_test__count_fds(), before);
    for (int i = 0; i < NQ; i++) close(cl[i]);
    close(l);
    ht_loop__free(loop, A);
}
END_TEST

/* fd numbers are reused by the kernel: after ht_loop__close (any fd) or
 * close(2) (an fd from ht_loop__accept) the same number must work again. */
static int reuse_fd;
static void on_reuse_accept(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    results[nresults++] = res;
    if (res >= 0) reuse_fd = (int) res;
    ht_loop__cancel(loop, op);
}

START_TEST(fd_number_reuse_after_close) {
    ht_loop_t* loop = new_loop(nullptr);
    /* 1: a socket that is not from accept, closed with ht_loop__close */
    int s, c;
    tcp_pair(&s, &c);
    ht_test__write_all(c, "one", 3);
    ht_op_t op = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__recv(loop, &op, s, on_one_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(results[0], 3);
    ht_loop__close(loop, s);
    ck_assert_int_eq(ht_loop__run(loop), 0); /* io_uring: submits the queued close */
    close(c);
    int s2, c2;
    tcp_pair(&s2, &c2);
    ck_assert_int_eq(s2, s); /* the number came back: the case under test */
    ht_test__write_all(c2, "two", 3);
    nresults = 0;
    ck_assert_int_eq(ht_loop__recv(loop, &op, s2, on_one_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(results[0], 3);
    ht_loop__close(loop, s2);
    close(c2);

    /* 2: accepted fds closed with plain close(2) */
    uint16_t port;
    int l = ht_test__listen_loopback(&port, 16);
    int first = -1;
    for (int round = 0; round < 3; round++) {
        int cl = ht_test__connect_loopback(port);
        ck_assert_int_ge(cl, 0);
        ht_op_t acc = { 0 };
        nresults = 0;
        ck_assert_int_eq(ht_loop__accept(loop, &acc, l, on_reuse_accept), 0);
        ck_assert_int_eq(ht_loop__run(loop), 0);
        ck_assert_int_eq(results[0], reuse_fd);
        if (round == 0) first = reuse_fd;
        else ck_assert_int_eq(reuse_fd, first);
        ht_test__write_all(cl, "abc", 3);
        nresults = 0;
        ck_assert_int_eq(ht_loop__recv(loop, &op, reuse_fd, on_one_result), 0);
        ck_assert_int_eq(ht_loop__run(loop), 0);
        ck_assert_int_eq(nresults, 1);
        ck_assert_int_eq(results[0], 3);
        close(reuse_fd);
        close(cl);
    }
    close(l);
    ht_loop__free(loop, A);
}
END_TEST
void loop_add_recv_tests(TCase* tc) {
    tcase_add_test(tc, accept_many_then_cancel);
    tcase_add_test(tc, cancel_idle_accept_once);
    tcase_add_test(tc, accept_stops_on_emfile);
    tcase_add_test(tc, recv_pool_until_eof);
    tcase_add_test(tc, recv_into_caller_memory);
    tcase_add_test(tc, cancel_pending_recv_once);
    tcase_add_test(tc, peer_reset_is_an_error);
    tcase_add_test(tc, sendfile_to_a_reset_peer_raises_no_sigpipe);
    tcase_add_test(tc, pool_exhaustion_gives_enobufs);
    tcase_add_test(tc, recv_on_many_connections_at_once);
    tcase_add_test(tc, pool_lowest_first_then_last_released);
    tcase_add_test(tc, close_in_last_callback_is_done_when_run_returns);
    tcase_add_test(tc, fd_number_reuse_after_close);
    tcase_add_test(tc, cancel_accept_with_backlog_leaks_nothing);
    tcase_add_test(tc, cancel_racing_completions_loses_nothing);
}
