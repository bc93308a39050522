/* check_loop_send: the proactor's send, sendfile and poll operations (part
 * of check_loop, see loop_fixture.h): partial writes behind a full socket,
 * cancellation while waiting for room, files that end early, and readiness
 * polls (level-triggered, cancelled, peer close, fd reuse). */
#include "loop_fixture.h"

/* --------------------------------------------------------------- send --- */

typedef struct {
    int fd;
    const unsigned char* want;
    size_t len;
    size_t got;
    bool ok;
} reader_t;

static void* slow_reader(void* arg) {
    reader_t* r = arg;
    static unsigned char buf[4096];
    r->ok = true;
    size_t since = 0;
    while (r->got < r->len) {
        ssize_t n = read(r->fd, buf, sizeof buf);
        if (n <= 0) break;
        if (memcmp(buf, r->want + r->got, (size_t) n) != 0) r->ok = false;
        r->got += (size_t) n;
        since += (size_t) n;
        if (since >= 256 * 1024) { /* slow: the sender must wait for room */
            since = 0;
            ht_test__sleep_ms(2);
        }
    }
    return nullptr;
}

/* Small enough that the sender meets a full socket many times, large enough
 * for loopback's 64 KiB MSS (a tinier receive window stalls TCP itself in
 * zero-window probing). */
static void small_buffers(int s, int c) {
    int v = 16384;
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    v = 65536;
    setsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
}

enum { NIOV = 3000 };
START_TEST(send_many_iovs_with_partial_writes) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    small_buffers(s, c);
    static unsigned char data[NIOV * 700];
    static ht_iov_t iov[NIOV];
    size_t total = 0;
    srand(7);
    for (int i = 0; i < NIOV; i++) {
        size_t len = (size_t) (i % 7 == 0 ? 0 : rand() % 700 + 1); /* some empty */
        for (size_t k = 0; k < len; k++) data[total + k] = (unsigned char) rand();
        iov[i] = (ht_iov_t) { data + total, len };
        total += len;
    }
    reader_t r = { .fd = c, .want = data, .len = total };
    pthread_t th;
    pthread_create(&th, nullptr, slow_reader, &r);
    ht_op_t op = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__send(loop, &op, s, iov, NIOV, on_one_result), 0);
    ck_assert_int_eq(nresults, 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], (ht_io_t) total);
    ck_assert_uint_eq(r.got, total);
    ck_assert(r.ok);
    ht_backend_info_t info;
    ht_backend__info(loop, &info);
    ck_assert_uint_gt(info.send_resumes, 0); /* the resume path really ran */
    ht_loop__close(loop, s);
    close(c);
    ht_loop__free(loop, A);
}
END_TEST

/* One buffer takes the single-buffer send(2) path of the epoll backend
 * (io_uring: IORING_OP_SEND): each partial write must resume at the right
 * byte until the whole buffer is out. */
START_TEST(send_one_buffer_with_partial_writes) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    small_buffers(s, c);
    static unsigned char data[2 << 20];
    srand(11);
    for (size_t k = 0; k < sizeof data; k++) data[k] = (unsigned char) rand();
    reader_t r = { .fd = c, .want = data, .len = sizeof data };
    pthread_t th;
    pthread_create(&th, nullptr, slow_reader, &r);
    ht_iov_t iov[1] = { { data, sizeof data } };
    ht_op_t op = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__send(loop, &op, s, iov, 1, on_one_result), 0);
    ck_assert_int_eq(nresults, 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], (ht_io_t) sizeof data);
    ck_assert_uint_eq(r.got, sizeof data);
    ck_assert(r.ok);
    ht_backend_info_t info;
    ht_backend__info(loop, &info);
    ck_assert_uint_gt(info.send_resumes, 0); /* it met a full socket and resumed */
    ht_loop__close(loop, s);
    close(c);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(cancel_send_waiting_for_room) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    small_buffers(s, c);
    static unsigned char data[4 << 20]; /* nobody reads: it cannot all fit */
    ht_iov_t iov[1] = { { data, sizeof data } };
    ht_op_t op = { 0 };
    cancel_calls = 0;
    ck_assert_int_eq(ht_loop__send(loop, &op, s, iov, 1, on_cancelled), 0);
    ht_timer_t t = { .data = &op };
    ht_loop__timer_start(loop, &t, 20, on_cancel_timer);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(cancel_calls, 1);
    ck_assert_int_eq(cancel_res, -ECANCELED);
    ht_loop__close(loop, s);
    close(c);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(cancel_sendfile_waiting_for_room) {
    ht_loop_t* loop = new_loop(nullptr);
    char path[] = "/tmp/ht_loop_sendfile_XXXXXX";
    int f = mkstemp(path);
    ck_assert_int_ge(f, 0);
    unlink(path);
    ck_assert_int_eq(ftruncate(f, 8 << 20), 0); /* sparse: reads as zeros */
    int s, c;
    tcp_pair(&s, &c);
    small_buffers(s, c);
    ht_op_t op = { 0 };
    cancel_calls = 0;
    ck_assert_int_eq(ht_loop__sendfile(loop, &op, s, f, 0, 8 << 20, on_cancelled), 0);
    ht_timer_t t = { .data = &op };
    ht_loop__timer_start(loop, &t, 20, on_cancel_timer);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(cancel_calls, 1);
    ck_assert_int_eq(cancel_res, -ECANCELED);
    ht_loop__close(loop, s);
    close(c);
    close(f);
    ht_loop__free(loop, A);
}
END_TEST

/* recv and send pending on the same fd at once */
static void* echo_after_read(void* arg) {
    reader_t* r = arg;
    slow_reader(r);
    ht_test__write_all(r->fd, "done", 4);
    return nullptr;
}

START_TEST(recv_and_send_pending_on_one_fd) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    small_buffers(s, c);
    static unsigned char data[1 << 20];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char) (i * 31 + 7);
    ht_iov_t iov[2] = { { data, 1000 }, { data + 1000, sizeof data - 1000 } };
    reader_t r = { .fd = c, .want = data, .len = sizeof data };
    ht_op_t rop = { 0 }, sop = { 0 };
    nresults = 0;
    ngot = 0;
    ck_assert_int_eq(ht_loop__recv(loop, &rop, s, on_one_result), 0);
    ck_assert_int_eq(ht_loop__send(loop, &sop, s, iov, 2, on_one_result), 0);
    pthread_t th;
    pthread_create(&th, nullptr, echo_after_read, &r);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert(r.ok);
    ck_assert_int_eq(nresults, 2);
    ck_assert_int_eq(results[0], (ht_io_t) sizeof data); /* the send finished first */
    ck_assert_int_eq(results[1], 4);
    ht_loop__close(loop, s);
    close(c);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(sendfile_multi_mib_byte_identical) {
    ht_loop_t* loop = new_loop(nullptr);
    char path[] = "/tmp/ht_loop_sendfile_XXXXXX";
    int f = mkstemp(path);
    ck_assert_int_ge(f, 0);
    unlink(path);
    size_t flen = 5u << 20;
    unsigned char* data = malloc(flen);
    srand(99);
    for (size_t i = 0; i < flen; i++) data[i] = (unsigned char) rand();
    ht_test__write_all(f, data, flen);
    int s, c;
    tcp_pair(&s, &c);
    small_buffers(s, c);
    size_t off = 1234, len = flen - 1234 - 777;
    reader_t r = { .fd = c, .want = data + off, .len = len };
    pthread_t th;
    pthread_create(&th, nullptr, slow_reader, &r);
    ht_op_t op = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__sendfile(loop, &op, s, f, off, len, on_one_result), 0);
    ck_assert_int_eq(nresults, 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], (ht_io_t) len);
    ck_assert_uint_eq(r.got, len);
    ck_assert(r.ok);
    ht_backend_info_t info;
    ht_backend__info(loop, &info);
    ck_assert_uint_gt(info.send_resumes, 0); /* waited for room at least once */
    /* a file shorter than promised: -EIO, after what it had */
    nresults = 0;
    ck_assert_int_eq(ht_loop__sendfile(loop, &op, s, f, flen - 10, 100, on_one_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], -EIO);
    ht_loop__close(loop, s);
    close(c);
    close(f);
    free(data);
    ht_loop__free(loop, A);
}
END_TEST

/* A send started from a receive's callback, on a socket whose event (a
 * request's EPOLLIN comes with EPOLLOUT) is still being handled: the send
 * finds the socket full, and the event's stale EPOLLOUT must not stand in
 * for the edge it waits for (epoll skips it; the edge then comes as the
 * reader drains). Every byte arrives and the send completes. */
static ht_iov_t big_iov[1];
static int big_fd;
static void on_recv_then_send(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    results[nresults++] = res;
    if (res > 0 && op->buf) ht_loop__buf_release(loop, op->buf);
    ht_op_t* sop = op->data;
    ck_assert_int_eq(ht_loop__send(loop, sop, big_fd, big_iov, 1, on_one_result), 0);
}

START_TEST(send_from_a_receive_callback_waits_for_room) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    small_buffers(s, c);
    size_t len = 3u << 20;
    unsigned char* data = malloc(len);
    srand(5);
    for (size_t i = 0; i < len; i++) data[i] = (unsigned char) rand();
    big_iov[0] = (ht_iov_t) { data, len };
    big_fd = s;
    ht_op_t rop = { 0 }, sop = { 0 };
    rop.data = &sop;
    nresults = 0;
    ck_assert_int_eq(ht_loop__recv(loop, &rop, s, on_recv_then_send), 0);
    ht_test__write_all(c, "GET", 3);
    reader_t r = { .fd = c, .want = data, .len = len };
    pthread_t th;
    pthread_create(&th, nullptr, slow_reader, &r);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert_int_eq(nresults, 2);
    ck_assert_int_eq(results[0], 3);
    ck_assert_int_eq(results[1], (ht_io_t) len);
    ck_assert_uint_eq(r.got, len);
    ck_assert(r.ok);
    ht_loop__close(loop, s);
    close(c);
    free(data);
    ht_loop__free(loop, A);
}
END_TEST

/* A file that ends before the promised length while a slow reader keeps the
 * socket full: every short count waits for room instead of trying again at
 * once (poll(2) first on epoll, whose edge must come), the last one is the
 * file's end, and the op still completes, with -EIO, once the reader has
 * all the file had. */
START_TEST(sendfile_file_ends_behind_a_full_socket) {
    ht_loop_t* loop = new_loop(nullptr);
    char path[] = "/tmp/ht_loop_sendfile_XXXXXX";
    int f = mkstemp(path);
    ck_assert_int_ge(f, 0);
    unlink(path);
    size_t flen = (1u << 20) + 4567;
    unsigned char* data = malloc(flen);
    srand(11);
    for (size_t i = 0; i < flen; i++) data[i] = (unsigned char) rand();
    ht_test__write_all(f, data, flen);
    int s, c;
    tcp_pair(&s, &c);
    small_buffers(s, c);
    reader_t r = { .fd = c, .want = data + 100, .len = flen - 100 };
    pthread_t th;
    pthread_create(&th, nullptr, slow_reader, &r);
    ht_op_t op = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__sendfile(loop, &op, s, f, 100, 2u << 20, on_one_result), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], -EIO);
    ck_assert_uint_eq(r.got, flen - 100);
    ck_assert(r.ok);
    ht_backend_info_t info;
    ht_backend__info(loop, &info);
    ck_assert_uint_gt(info.send_resumes, 0); /* it did wait for room */
    ht_loop__close(loop, s);
    close(c);
    close(f);
    free(data);
    ht_loop__free(loop, A);
}
END_TEST

/* ht_loop__sendfile_head: a head larger than the socket buffers, then a
 * file range, as one operation with one completion. */
START_TEST(sendfile_head_then_file_byte_identical) {
    ht_loop_t* loop = new_loop(nullptr);
    char path[] = "/tmp/ht_loop_sendfile_XXXXXX";
    int f = mkstemp(path);
    ck_assert_int_ge(f, 0);
    unlink(path);
    size_t flen = 3u << 20, hlen = 70000, off = 4321, len = flen - 4321 - 99;
    unsigned char* data = malloc(flen);
    unsigned char* want = malloc(hlen + len);
    srand(7);
    for (size_t i = 0; i < flen; i++) data[i] = (unsigned char) rand();
    for (size_t i = 0; i < hlen; i++) want[i] = (unsigned char) (i * 13 + 5);
    memcpy(want + hlen, data + off, len);
    ht_test__write_all(f, data, flen);
    int s, c;
    tcp_pair(&s, &c);
    small_buffers(s, c);
    reader_t r = { .fd = c, .want = want, .len = hlen + len };
    pthread_t th;
    pthread_create(&th, nullptr, slow_reader, &r);
    ht_iov_t head = { want, hlen }; /* the reader only reads want */
    ht_op_t op = { 0 };
    nresults = 0;
    ck_assert_int_eq(ht_loop__sendfile_head(loop, &op, s, &head, f, off, len, on_one_result), 0);
    ck_assert_int_eq(nresults, 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert_int_eq(nresults, 1);
    ck_assert_int_eq(results[0], (ht_io_t) (hlen + len));
    ck_assert_uint_eq(head.len, 0); /* progress tracked in the caller's iov */
    ck_assert_uint_eq(r.got, hlen + len);
    ck_assert(r.ok);
    ht_loop__close(loop, s);
    close(c);
    close(f);
    free(data);
    free(want);
    ht_loop__free(loop, A);
}
END_TEST

/* --------------------------------------------------------------- poll --- */

static ht_io_t poll_res[8];
static int npoll;
static void on_poll(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    ck_assert_int_lt(npoll, 8);
    poll_res[npoll++] = res;
}
static void on_poll_stop(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    on_poll(loop, op, res);
    ht_loop__stop(loop);
}

/* Runs the loop for ms (a timer stops it), whatever else is pending. */
static void run_for(ht_loop_t* loop, uint64_t ms) {
    ht_timer_t t = { 0 };
    ht_loop__timer_start(loop, &t, ms, on_stop_timer);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ht_loop__timer_stop(loop, &t);
}

static void on_write_timer(ht_loop_t* loop, ht_timer_t* t) {
    ht_test__write_all((int) (intptr_t) t->data, "w", 1);
}

/* Fills s's send buffer (small_buffers first) for good: not writable until
 * the peer reads. The peer's window keeps opening for a while after the
 * first EAGAIN (by up to 50 ms), so fill until three 30 ms pauses in a row
 * let nothing more in. Returns the bytes queued. */
static size_t fill_send_buffer(int s) {
    static char junk[65536];
    size_t total = 0;
    for (int quiet = 0, round = 0; quiet < 3; round++) {
        ck_assert_int_lt(round, 100);
        if (round) ht_test__sleep_ms(30);
        size_t before = total;
        ssize_t n;
        while ((n = send(s, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL)) > 0) total += (size_t) n;
        ck_assert(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
        quiet = total == before ? quiet + 1 : 0;
    }
    return total;
}

START_TEST(poll_in_waits_for_data_level_triggered) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    ht_op_t op = { 0 };
    npoll = 0;
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_IN, on_poll), 0);
    run_for(loop, 50);
    ck_assert_int_eq(npoll, 0); /* nothing to read: still waiting */
    ht_timer_t w = { .data = (void*) (intptr_t) c };
    ht_loop__timer_start(loop, &w, 20, on_write_timer); /* while the loop sleeps */
    ck_assert_int_eq(ht_loop__run(loop), 0);          /* returns after the callback */
    ck_assert_int_eq(npoll, 1);
    ck_assert_int_eq(poll_res[0], HT_POLL_IN);
    /* level-triggered: nothing was read, so it is ready again at once */
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_IN, on_poll), 0);
    ck_assert_int_eq(npoll, 1); /* never from inside the call */
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(npoll, 2);
    ck_assert_int_eq(poll_res[1], HT_POLL_IN);
    /* the owner reads it all: the next wait waits, for the next write */
    char b[8];
    ck_assert_int_eq(recv(s, b, sizeof b, 0), 1);
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_IN, on_poll), 0);
    run_for(loop, 50);
    ck_assert_int_eq(npoll, 2);
    ht_loop__timer_start(loop, &w, 20, on_write_timer);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(npoll, 3);
    ck_assert_int_eq(poll_res[2], HT_POLL_IN);
    ht_loop__forget(loop, s);
    close(s);
    close(c);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(poll_out_on_writable_socket_completes_at_once) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    ht_op_t op = { 0 };
    npoll = 0;
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_OUT, on_poll), 0);
    ck_assert_int_eq(npoll, 0);
    uint64_t t0 = ht_test__mono_ms();
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 1000);
    ck_assert_int_eq(npoll, 1);
    ck_assert_int_eq(poll_res[0], HT_POLL_OUT);
    /* events must be exactly one of the two */
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_IN | HT_POLL_OUT, on_poll), -EINVAL);
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, 0, on_poll), -EINVAL);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(npoll, 1);
    ht_loop__forget(loop, s);
    close(s);
    close(c);
    ht_loop__free(loop, A);
}
END_TEST

typedef struct {
    int fd;
    size_t len;
} drain_t;
static void* drain_thread(void* arg) {
    drain_t* d = arg;
    static char b[65536];
    while (d->len > 0) {
        ssize_t n = recv(d->fd, b, d->len < sizeof b ? d->len : sizeof b, 0);
        if (n <= 0) break;
        d->len -= (size_t) n;
    }
    return nullptr;
}

START_TEST(poll_in_and_out_pending_on_one_fd) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    small_buffers(s, c);
    size_t queued = fill_send_buffer(s);
    ht_op_t in = { 0 }, out = { 0 };
    npoll = 0;
    ck_assert_int_eq(ht_loop__poll(loop, &in, s, HT_POLL_IN, on_poll_stop), 0);
    ck_assert_int_eq(ht_loop__poll(loop, &out, s, HT_POLL_OUT, on_poll), 0);
    if (strcmp(ht_loop__backend(), "epoll") == 0) { /* one op per side (ht/loop.h) */
        ht_op_t again = { 0 };
        ck_assert_int_eq(ht_loop__poll(loop, &again, s, HT_POLL_IN, on_poll), -EBUSY);
        ck_assert_int_eq(ht_loop__poll(loop, &again, s, HT_POLL_OUT, on_poll), -EBUSY);
    }
    run_for(loop, 50);
    ck_assert_msg(npoll == 0, "neither readable nor writable, yet %lld", (long long) poll_res[0]);
    ht_timer_t w = { .data = (void*) (intptr_t) c };
    ht_loop__timer_start(loop, &w, 20, on_write_timer);
    ck_assert_int_eq(ht_loop__run(loop), 0); /* stopped by the IN callback */
    ck_assert_int_eq(npoll, 1);
    ck_assert_int_eq(poll_res[0], HT_POLL_IN);
    /* the peer reads everything: room to write, OUT completes */
    drain_t d = { c, queued };
    pthread_t th;
    pthread_create(&th, nullptr, drain_thread, &d);
    ck_assert_int_eq(ht_loop__run(loop), 0); /* returns after OUT's callback */
    pthread_join(th, nullptr);
    ck_assert_uint_eq(d.len, 0);
    ck_assert_int_eq(npoll, 2);
    ck_assert_int_eq(poll_res[1], HT_POLL_OUT);
    ht_loop__forget(loop, s);
    close(s);
    close(c);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(poll_cancel_once) {
    for (int side = 0; side < 2; side++) {
        ht_loop_t* loop = new_loop(nullptr);
        int s, c;
        tcp_pair(&s, &c);
        small_buffers(s, c);
        if (side == 1) fill_send_buffer(s);
        ht_op_t op = { 0 };
        cancel_calls = 0;
        ck_assert_int_eq(ht_loop__poll(loop, &op, s, side ? HT_POLL_OUT : HT_POLL_IN, on_cancelled), 0);
        ht_timer_t t = { .data = &op };
        ht_loop__timer_start(loop, &t, 10, on_cancel_timer); /* cancels twice */
        ck_assert_int_eq(ht_loop__run(loop), 0);
        ck_assert_int_eq(cancel_calls, 1);
        ck_assert_int_eq(cancel_res, -ECANCELED);
        ht_loop__cancel(loop, &op); /* completed: a no-op */
        run_for(loop, 20);
        ck_assert_int_eq(cancel_calls, 1);
        /* the fd can be waited on again */
        if (side == 0) {
            ht_test__write_all(c, "x", 1);
            npoll = 0;
            ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_IN, on_poll), 0);
            ck_assert_int_eq(ht_loop__run(loop), 0);
            ck_assert_int_eq(npoll, 1);
            ck_assert_int_eq(poll_res[0], HT_POLL_IN);
        }
        ht_loop__forget(loop, s);
        close(s);
        close(c);
        ht_loop__free(loop, A);
    }
}
END_TEST

static void on_close_timer(ht_loop_t* loop, ht_timer_t* t) { close((int) (intptr_t) t->data); }

/* The peer closes (FIN) before or during the wait, or resets (RST): IN is
 * reported (the owner's read then sees the end), with ERR on a reset. */
START_TEST(poll_reports_peer_close) {
    for (int how = 0; how < 3; how++) {
        ht_loop_t* loop = new_loop(nullptr);
        int s, c;
        tcp_pair(&s, &c);
        ht_op_t op = { 0 };
        ht_timer_t t = { .data = (void*) (intptr_t) c };
        npoll = 0;
        if (how == 0) {
            close(c);
            ht_test__sleep_ms(10);
        } else if (how == 2) {
            struct linger lg = { .l_onoff = 1, .l_linger = 0 };
            setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_IN, on_poll), 0);
        if (how > 0) ht_loop__timer_start(loop, &t, 20, on_close_timer);
        ck_assert_int_eq(ht_loop__run(loop), 0);
        ck_assert_int_eq(npoll, 1);
        ck_assert_msg(poll_res[0] > 0 && (poll_res[0] & HT_POLL_IN) &&
                          !(poll_res[0] & ~(ht_io_t) (HT_POLL_IN | HT_POLL_ERR)),
                      "how %d: %lld", how, (long long) poll_res[0]);
        char b;
        if (how < 2) {
            ck_assert_int_eq(recv(s, &b, 1, 0), 0); /* end of stream */
        } else {
            ck_assert(poll_res[0] & HT_POLL_ERR);
            ck_assert_int_eq(recv(s, &b, 1, 0), -1);
            ck_assert_int_eq(errno, ECONNRESET);
        }
        ht_loop__forget(loop, s);
        close(s);
        ht_loop__free(loop, A);
    }
}
END_TEST

/* The caller closes its socket after ht_loop__forget, and the kernel hands
 * the same number to another socket: waiting on it works (epoll registers the
 * new file instead of trusting its table). */
START_TEST(poll_forget_then_fd_number_reuse) {
    ht_loop_t* loop = new_loop(nullptr);
    int s, c;
    tcp_pair(&s, &c);
    ht_op_t op = { 0 };
    npoll = 0;
    ht_test__write_all(c, "x", 1);
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_IN, on_poll), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_OUT, on_poll), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(npoll, 2);
    int s2, c2;
    tcp_pair(&s2, &c2);
    ht_loop__forget(loop, s);
    close(s);
    close(c);
    ck_assert_int_eq(dup2(s2, s), s); /* the same number, another socket */
    close(s2);
    /* a wait that only a new edge can end */
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_IN, on_poll_stop), 0);
    ht_timer_t w = { .data = (void*) (intptr_t) c2 };
    ht_loop__timer_start(loop, &w, 20, on_write_timer);
    run_for(loop, 5000);
    ck_assert_int_eq(npoll, 3);
    ck_assert_int_eq(poll_res[2], HT_POLL_IN);
    ck_assert_int_eq(ht_loop__poll(loop, &op, s, HT_POLL_OUT, on_poll), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(npoll, 4);
    ck_assert_int_eq(poll_res[3], HT_POLL_OUT);
    ht_loop__forget(loop, s);
    close(s);
    close(c2);
    ht_loop__free(loop, A);
}
END_TEST
void loop_add_send_tests(TCase* tc) {
    tcase_add_test(tc, send_many_iovs_with_partial_writes);
    tcase_add_test(tc, send_one_buffer_with_partial_writes);
    tcase_add_test(tc, cancel_send_waiting_for_room);
    tcase_add_test(tc, cancel_sendfile_waiting_for_room);
    tcase_add_test(tc, recv_and_send_pending_on_one_fd);
    tcase_add_test(tc, sendfile_multi_mib_byte_identical);
    tcase_add_test(tc, sendfile_file_ends_behind_a_full_socket);
    tcase_add_test(tc, send_from_a_receive_callback_waits_for_room);
    tcase_add_test(tc, sendfile_head_then_file_byte_identical);
    tcase_add_test(tc, poll_in_waits_for_data_level_triggered);
    tcase_add_test(tc, poll_out_on_writable_socket_completes_at_once);
    tcase_add_test(tc, poll_in_and_out_pending_on_one_fd);
    tcase_add_test(tc, poll_cancel_once);
    tcase_add_test(tc, poll_reports_peer_close);
    tcase_add_test(tc, poll_forget_then_fd_number_reuse);
}
