/* check_loop_ring: a burst of 1,000 connections (part of check_loop, see
 * loop_fixture.h). On io_uring it checks the rings' growth: where the kernel
 * can resize rings (HT_BE_RESIZE_RINGS) an idle loop's rings are one page
 * each and must grow under the burst, and the 1,000 completions of one
 * multishot accept overflow the small CQ first (IORING_FEAT_NODROP keeps
 * them). Every accept, receive and send must complete exactly once and every
 * byte arrive, on the resizing path, on the fixed-size one (resize switched
 * off here; every fallback in check_loop_fallback) and on epoll. Grown rings
 * that cannot be mapped end the run with the error. */
#include "loop_fixture.h"

enum { NBURST = 1000, MSG = 8 };
typedef struct {
    ht_op_t recv, send;
    int fd;
    int recv_calls, send_calls;
    char out[MSG];
    ht_iov_t iov;
} burst_conn_t;

static burst_conn_t bconns[NBURST];
static int nburst;            /* connections in this run (NBURST unless fds are short) */
static int naccepted, nsent, burst_errors;
static int burst_accept_finals;
static ht_io_t burst_accept_final;
static uint8_t id_seen[NBURST];
static ht_op_t burst_accept;

static void on_burst_send(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    burst_conn_t* c = op->data;
    c->send_calls++;
    if (res != MSG) burst_errors++;
    if (++nsent == nburst) ht_loop__cancel(loop, &burst_accept);
}

/* The client sent "q" and its index in 7 digits; the answer is "a" and the
 * same digits. */
static void on_burst_recv(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    burst_conn_t* c = op->data;
    c->recv_calls++;
    if (res != MSG || op->buf->data[0] != 'q') {
        burst_errors++;
        if (res > 0) ht_loop__buf_release(loop, op->buf);
        return;
    }
    unsigned id = 0;
    for (int i = 1; i < MSG; i++) id = id * 10 + (unsigned) (op->buf->data[i] - '0');
    if (id >= (unsigned) nburst || id_seen[id]++) burst_errors++;
    c->out[0] = 'a';
    memcpy(c->out + 1, op->buf->data + 1, MSG - 1);
    ht_loop__buf_release(loop, op->buf);
    c->iov = (ht_iov_t) { c->out, MSG };
    c->send.data = c;
    if (ht_loop__send(loop, &c->send, c->fd, &c->iov, 1, on_burst_send) != 0) burst_errors++;
}

static void on_burst_accept(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    if (res < 0) {
        burst_accept_finals++;
        burst_accept_final = res;
        return;
    }
    if (naccepted == nburst) { /* more connections than clients */
        burst_errors++;
        close((int) res);
        return;
    }
    burst_conn_t* c = &bconns[naccepted++];
    c->fd = (int) res;
    c->recv.data = c;
    if (ht_loop__recv(loop, &c->recv, c->fd, on_burst_recv) != 0) burst_errors++;
}

/* The burst, with HT_LOOP__TEST_DISABLE extended by `disable` (nullptr:
 * as the environment has it). */
static void run_burst(const char* disable) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    nburst = rl.rlim_cur > 2 * NBURST + 64 ? NBURST : (int) (rl.rlim_cur - 64) / 2;
    /* The clients connect before anything accepts: the listen backlog must
     * hold them all (somaxconn is 4096 since Linux 5.4, 128 before). */
    FILE* f = fopen("/proc/sys/net/core/somaxconn", "r");
    int somaxconn = 0;
    if (f) {
        if (fscanf(f, "%d", &somaxconn) != 1) somaxconn = 0;
        fclose(f);
    }
    if (somaxconn > 0 && somaxconn < nburst) nburst = somaxconn;
    ck_assert_int_ge(nburst, 100);
    naccepted = nsent = burst_errors = burst_accept_finals = 0;
    memset(id_seen, 0, sizeof id_seen);
    memset(bconns, 0, sizeof bconns);
    burst_accept = (ht_op_t) { 0 };

    const char* env = getenv("HT_LOOP__TEST_DISABLE");
    char saved[128] = "", dis[160];
    if (env) snprintf(saved, sizeof saved, "%s", env);
    if (disable) {
        snprintf(dis, sizeof dis, "%s%s%s", saved, env ? "," : "", disable);
        setenv("HT_LOOP__TEST_DISABLE", dis, 1);
    }
    ht_loop_t* loop = new_loop(nullptr);
    if (disable && env) setenv("HT_LOOP__TEST_DISABLE", saved, 1);
    else if (disable) unsetenv("HT_LOOP__TEST_DISABLE");

    bool uring = strcmp(ht_loop__backend(), "io_uring") == 0;
    ht_backend_info_t idle;
    ht_backend__info(loop, &idle);
    bool resizing = idle.features & HT_BE_RESIZE_RINGS;
    if (disable) ck_assert(!resizing);
    if (resizing) { /* one page each: 64 SQEs, 128 CQEs */
        ck_assert_uint_eq(idle.sq_entries, 64);
        ck_assert_uint_eq(idle.cq_entries, 128);
    } else if (uring) { /* the fixed sizes: options.entries (256) and 8x */
        ck_assert_uint_eq(idle.sq_entries, 256);
        ck_assert_uint_eq(idle.cq_entries, 2048);
    }

    /* Every client connected and its request sent before the accept starts:
     * the first enter finds them all. */
    uint16_t port;
    int l = ht_test__listen_loopback(&port, NBURST);
    static int cli[NBURST];
    for (int i = 0; i < nburst; i++) {
        cli[i] = ht_test__connect_loopback(port);
        ck_assert_int_ge(cli[i], 0);
        char req[16];
        snprintf(req, sizeof req, "q%07d", i % 10000000);
        ht_test__write_all(cli[i], req, MSG);
    }
    ck_assert_int_eq(ht_loop__accept(loop, &burst_accept, l, on_burst_accept), 0);
    uint64_t t0 = ht_test__mono_ms();
    ck_assert_int_eq(ht_loop__run(loop), 0);
    uint64_t ms = ht_test__mono_ms() - t0;

    ck_assert_int_eq(burst_errors, 0);
    ck_assert_int_eq(naccepted, nburst);
    ck_assert_int_eq(nsent, nburst);
    ck_assert_int_eq(burst_accept_finals, 1);
    ck_assert_int_eq(burst_accept_final, -ECANCELED);
    for (int i = 0; i < nburst; i++) {
        ck_assert_int_eq(bconns[i].recv_calls, 1);
        ck_assert_int_eq(bconns[i].send_calls, 1);
        ck_assert_int_eq(id_seen[i], 1);
    }
    for (int i = 0; i < nburst; i++) {
        char want[16], got[MSG];
        snprintf(want, sizeof want, "a%07d", i % 10000000);
        size_t n = 0;
        while (n < MSG) {
            ssize_t k = read(cli[i], got + n, MSG - n);
            ck_assert_int_gt(k, 0);
            n += (size_t) k;
        }
        ck_assert_mem_eq(got, want, MSG);
    }

    ht_backend_info_t info;
    ht_backend__info(loop, &info);
    fprintf(stderr, "burst of %d (%s%s): %llu ms, rings %u/%u -> %u/%u, %u resizes\n", nburst,
            ht_loop__backend(), resizing ? ", resizing" : "", (unsigned long long) ms,
            idle.sq_entries, idle.cq_entries, info.sq_entries, info.cq_entries,
            info.ring_resizes);
    if (resizing) {
        /* 1,000 receives in flight at once ask for the largest CQ */
        ck_assert_uint_ge(info.ring_resizes, 1);
        if (nburst == NBURST) ck_assert_uint_eq(info.cq_entries, 2048);
        else ck_assert_uint_gt(info.cq_entries, 128);
        ck_assert_uint_ge(info.sq_entries, 64);
        ck_assert_uint_le(info.sq_entries, 256);
    } else {
        ck_assert_uint_eq(info.ring_resizes, 0);
        ck_assert_uint_eq(info.sq_entries, idle.sq_entries);
        ck_assert_uint_eq(info.cq_entries, idle.cq_entries);
    }
    for (int i = 0; i < nburst; i++) {
        ht_loop__close(loop, bconns[i].fd);
        close(cli[i]);
    }
    close(l);
    ht_loop__free(loop, A);
}

START_TEST(burst_of_1000_connections) {
    run_burst(nullptr);
}
END_TEST

START_TEST(burst_of_1000_connections_fixed_rings) {
    if (strcmp(ht_loop__backend(), "io_uring") != 0) return; /* epoll: the test above */
    run_burst("resize");
}
END_TEST

static int dead_recvs;
static void on_dead_recv(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    dead_recvs++;
    if (res > 0) ht_loop__buf_release(loop, op->buf);
}

/* Grown rings that cannot be mapped (ENOMEM, forced): the run returns the
 * error instead of waiting on rings it can no longer see, and the loop can
 * still be freed (ASan: nothing leaked, nothing touched after unmap). */
START_TEST(rings_that_cannot_be_remapped_end_the_run) {
    if (strcmp(ht_loop__backend(), "io_uring") != 0) return;
    setenv("HT_LOOP__TEST_DISABLE", "growmap", 1);
    ht_loop_t* loop = new_loop(nullptr);
    unsetenv("HT_LOOP__TEST_DISABLE");
    ht_backend_info_t info;
    ht_backend__info(loop, &info);
    if (!(info.features & HT_BE_RESIZE_RINGS)) { /* kernel < 6.13: nothing grows */
        ht_loop__free(loop, A);
        return;
    }
    /* 100 receives started in one batch fill the 64-entry SQ: it grows */
    enum { N = 100 };
    static int s[N], c[N];
    static ht_op_t op[N];
    dead_recvs = 0;
    for (int i = 0; i < N; i++) {
        tcp_pair(&s[i], &c[i]);
        op[i] = (ht_op_t) { 0 };
        ck_assert_int_eq(ht_loop__recv(loop, &op[i], s[i], on_dead_recv), 0);
    }
    ck_assert_int_eq(ht_loop__run(loop), -ENOMEM);
    ck_assert_int_eq(dead_recvs, 0); /* no data was sent: nothing completed */
    ht_backend__info(loop, &info);
    ck_assert_uint_eq(info.ring_resizes, 0);
    ht_loop__free(loop, A);
    for (int i = 0; i < N; i++) {
        close(s[i]);
        close(c[i]);
    }
}
END_TEST

void loop_add_ring_tests(TCase* tc) {
    tcase_add_test(tc, rings_that_cannot_be_remapped_end_the_run);
    tcase_add_test(tc, burst_of_1000_connections);
    tcase_add_test(tc, burst_of_1000_connections_fixed_rings);
}
