/* check_loop: the proactor (ht/loop.h) on whichever backend this build has.
 * Real sockets on 127.0.0.1, ports picked by the kernel. The io_uring build
 * also runs this suite as check_loop_fallback with HT_LOOP__TEST_DISABLE=all
 * (see loop_iouring_setup.c), so every fallback path is exercised too.
 *
 * The tests are in four files (loop_fixture.h): this one has the fixture,
 * timers, defer, wakes, posts, steady-state allocations and initialisation;
 * check_loop_recv.c accept and receive; check_loop_send.c send, sendfile
 * and poll; check_loop_ring.c a burst of 1,000 connections. */
#include "loop_fixture.h"

ht_alloc_t* A;

static void setup(void) {
    A = ht_alloc__init();
    alarm(60); /* a hung loop fails the test instead of the whole run */
}
static void teardown(void) {
    alarm(0);
    ht_alloc__finalize(A);
}

/* ------------------------------------------------------------- timers --- */

static int order[64];
static int norder;
static void on_timer_record(ht_loop_t* loop, ht_timer_t* t) {
    ck_assert(!ht_loop__timer_active(t));
    order[norder++] = (int) (intptr_t) t->data;
}

START_TEST(timers_fire_in_deadline_then_start_order) {
    /* Before the loop: deadlines count from its cached time (ht/loop.h), not
     * from when timer_start is called (a slow TSan start-up took 5 ms). */
    uint64_t t0 = ht_test__mono_ms();
    ht_loop_t* loop = new_loop(nullptr);
    ht_timer_t t[5] = { 0 };
    uint64_t ms[5] = { 30, 10, 20, 10, 0 };
    for (int i = 0; i < 5; i++) {
        t[i].data = (void*) (intptr_t) i;
        ht_loop__timer_start(loop, &t[i], ms[i], on_timer_record);
        ck_assert(ht_loop__timer_active(&t[i]));
    }
    norder = 0;
    ck_assert_int_eq(ht_loop__run(loop), 0); /* returns once no timer is armed */
    ck_assert_uint_ge(ht_test__mono_ms() - t0, 29);
    int want[5] = { 4, 1, 3, 2, 0 };
    ck_assert_int_eq(norder, 5);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(order[i], want[i]);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(timer_stop_and_rearm) {
    uint64_t t0 = ht_test__mono_ms(); /* before the loop, as above */
    ht_loop_t* loop = new_loop(nullptr);
    ht_timer_t a = { .data = (void*) 0 }, b = { .data = (void*) 1 }, c = { .data = (void*) 2 };
    ht_loop__timer_start(loop, &a, 10, on_timer_record);
    ht_loop__timer_start(loop, &b, 20, on_timer_record);
    ht_loop__timer_start(loop, &c, 5, on_timer_record);
    ht_loop__timer_stop(loop, &b);
    ht_loop__timer_stop(loop, &b); /* stopping a stopped timer is a no-op */
    ck_assert(!ht_loop__timer_active(&b));
    ht_loop__timer_start(loop, &c, 30, on_timer_record); /* re-arm while armed */
    norder = 0;
    ht_loop__run(loop);
    ck_assert_uint_ge(ht_test__mono_ms() - t0, 29);
    ck_assert_int_eq(norder, 2);
    ck_assert_int_eq(order[0], 0);
    ck_assert_int_eq(order[1], 2);
    ht_loop__free(loop, A);
}
END_TEST

/* 0 ms timers live in a FIFO beside the heap (loop.c): stopped there,
 * moved to the heap by a re-arm with a delay, and run in start order. */
START_TEST(zero_ms_timers_fifo) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_timer_t t[6] = { 0 };
    for (int i = 0; i < 6; i++) {
        t[i].data = (void*) (intptr_t) i;
        ht_loop__timer_start(loop, &t[i], 0, on_timer_record);
    }
    ht_loop__timer_stop(loop, &t[0]);                    /* the head */
    ht_loop__timer_stop(loop, &t[3]);                    /* the middle */
    ht_loop__timer_stop(loop, &t[5]);                    /* the tail */
    ck_assert(!ht_loop__timer_active(&t[5]));
    ht_loop__timer_start(loop, &t[5], 0, on_timer_record); /* again: at the end */
    ht_loop__timer_start(loop, &t[1], 5, on_timer_record); /* to the heap */
    ht_loop__timer_start(loop, &t[3], 0, on_timer_record);
    norder = 0;
    ck_assert_int_eq(ht_loop__run(loop), 0);
    int want[5] = { 2, 4, 5, 3, 1 };
    ck_assert_int_eq(norder, 5);
    for (int i = 0; i < 5; i++) ck_assert_int_eq(order[i], want[i]);
    ht_loop__free(loop, A);
}
END_TEST

static int rearms;
static void on_rearm0(ht_loop_t* loop, ht_timer_t* t) {
    if (++rearms < 100) ht_loop__timer_start(loop, t, 0, on_rearm0);
}
static int other_fired_at;
static void on_other(ht_loop_t* loop, ht_timer_t* t) { other_fired_at = rearms; }

START_TEST(timer_rearmed_with_zero_does_not_starve) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_timer_t t = { 0 }, o = { 0 };
    rearms = 0;
    other_fired_at = -1;
    ht_loop__timer_start(loop, &t, 0, on_rearm0);
    ht_loop__timer_start(loop, &o, 0, on_other);
    ht_loop__run(loop);
    ck_assert_int_eq(rearms, 100);
    /* o was due in the first pass: it ran before the re-armed timer's 2nd run */
    ck_assert_int_eq(other_fired_at, 1);
    ht_loop__free(loop, A);
}
END_TEST

enum { NHEAP = 2000 };
static ht_timer_t heap_t[NHEAP];
static uint64_t heap_dl[NHEAP];
static bool heap_stopped[NHEAP], heap_fired[NHEAP];
static uint64_t heap_last_dl;
static int heap_count;
static void on_heap(ht_loop_t* loop, ht_timer_t* t) {
    int i = (int) (t - heap_t);
    ck_assert(!heap_stopped[i]);
    ck_assert(!heap_fired[i]);
    heap_fired[i] = true;
    ck_assert_uint_ge(heap_dl[i], heap_last_dl); /* never out of order */
    heap_last_dl = heap_dl[i];
    heap_count++;
}

START_TEST(timer_heap_random_order) {
    ht_loop_t* loop = new_loop(nullptr);
    srand(12345);
    uint64_t now = ht_loop__now_ms(loop);
    for (int i = 0; i < NHEAP; i++) {
        uint64_t ms = (uint64_t) (rand() % 60);
        heap_dl[i] = now + ms;
        heap_stopped[i] = heap_fired[i] = false;
        ht_loop__timer_start(loop, &heap_t[i], ms, on_heap);
    }
    /* stop a third, re-arm a third with a new deadline */
    int expect = 0;
    for (int i = 0; i < NHEAP; i++) {
        if (i % 3 == 0) {
            ht_loop__timer_stop(loop, &heap_t[i]);
            heap_stopped[i] = true;
        } else {
            if (i % 3 == 1) {
                uint64_t ms = (uint64_t) (rand() % 60);
                heap_dl[i] = now + ms;
                ht_loop__timer_start(loop, &heap_t[i], ms, on_heap);
            }
            expect++;
        }
    }
    heap_last_dl = 0;
    heap_count = 0;
    ht_loop__run(loop);
    ck_assert_int_eq(heap_count, expect);
    ht_loop__free(loop, A);
}
END_TEST

/* -------------------------------------------------------------- defer --- */

static int defer_seen[8];
static int ndefer;
static void on_defer(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    defer_seen[ndefer++] = (int) res;
    if (res == 2) ht_loop__defer(loop, op, 20, on_defer); /* runs next iteration */
}

START_TEST(defer_runs_later_in_order) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_op_t ops[3] = { 0 };
    ndefer = 0;
    for (int i = 0; i < 3; i++) ht_loop__defer(loop, &ops[i], i + 1, on_defer);
    ck_assert_int_eq(ndefer, 0); /* never from inside the call */
    ht_loop__cancel(loop, &ops[0]); /* already complete: no-op */
    ck_assert_int_eq(ht_loop__run(loop), 0);
    int want[4] = { 1, 2, 3, 20 };
    ck_assert_int_eq(ndefer, 4);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(defer_seen[i], want[i]);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(run_returns_when_idle) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_waker_t w = { 0 };
    ht_loop__waker_add(loop, &w, nullptr); /* wakers do not keep it alive */
    uint64_t t0 = ht_test__mono_ms();
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 1000);
    ht_loop__waker_remove(loop, &w);
    ck_assert_str_ne(ht_loop__backend(), "");
    ht_loop__free(loop, A);
}
END_TEST

void on_stop_timer(ht_loop_t* loop, ht_timer_t* t) { ht_loop__stop(loop); }

static ht_timer_t victim;
static void on_kill_victim(ht_loop_t* loop, ht_timer_t* t) {
    order[norder++] = 100;
    ht_loop__timer_stop(loop, &victim);
}

START_TEST(timer_callback_stops_a_due_timer) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_timer_t killer = { 0 };
    victim = (ht_timer_t) { .data = (void*) 1 };
    ht_loop__timer_start(loop, &killer, 5, on_kill_victim);
    ht_loop__timer_start(loop, &victim, 5, on_timer_record); /* same deadline, later */
    norder = 0;
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(norder, 1);
    ck_assert_int_eq(order[0], 100);
    ck_assert(!ht_loop__timer_active(&victim));
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(timer_far_future_does_not_overflow) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_timer_t far = { 0 }, soon = { .data = (void*) 7 };
    ht_loop__timer_start(loop, &far, UINT64_MAX, on_timer_record);
    ht_loop__timer_start(loop, &soon, 5, on_stop_timer);
    uint64_t t0 = ht_test__mono_ms();
    ck_assert_int_eq(ht_loop__run(loop), 0); /* stopped by soon, far never due */
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 5000);
    ck_assert(ht_loop__timer_active(&far));
    ck_assert(!ht_loop__timer_active(&soon));
    ht_loop__timer_stop(loop, &far);
    ht_loop__free(loop, A);
}
END_TEST

START_TEST(stop_returns_with_work_pending) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_timer_t s = { 0 }, later = { 0 };
    ht_loop__timer_start(loop, &s, 5, on_stop_timer);
    ht_loop__timer_start(loop, &later, 100000, on_stop_timer);
    uint64_t t0 = ht_test__mono_ms();
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 5000);
    ck_assert(ht_loop__timer_active(&later));
    ht_loop__timer_stop(loop, &later);
    ht_loop__free(loop, A);
}
END_TEST

/* -------------------------------------------------------------- wakes --- */

static int wakes_a, wakes_b;
static ht_timer_t keepalive;
static void on_wake_a(ht_loop_t* loop, ht_waker_t* w) {
    wakes_a++;
    ht_loop__timer_stop(loop, &keepalive);
}
static void on_wake_b(ht_loop_t* loop, ht_waker_t* w) { wakes_b++; }

static void* waker_thread(void* loop) {
    ht_test__sleep_ms(30);
    ht_loop__wake(loop);
    ht_loop__wake(loop); /* coalesces */
    return nullptr;
}

START_TEST(wake_from_another_thread) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_waker_t a = { 0 }, b = { 0 };
    ht_loop__waker_add(loop, &a, on_wake_a);
    ht_loop__waker_add(loop, &b, on_wake_b);
    ht_loop__waker_remove(loop, &b);
    wakes_a = wakes_b = 0;
    keepalive = (ht_timer_t) { 0 };
    ht_loop__timer_start(loop, &keepalive, 20000, on_stop_timer);
    pthread_t th;
    uint64_t t0 = ht_test__mono_ms();
    pthread_create(&th, nullptr, waker_thread, loop);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 5000);
    ck_assert_int_ge(wakes_a, 1);
    ck_assert_int_eq(wakes_b, 0);
    ht_loop__free(loop, A);
}
END_TEST

static ht_loop_t* sig_loop;
static void on_sigusr1(int sig) { ht_loop__wake(sig_loop); }
static void* signal_thread(void* arg) {
    ht_test__sleep_ms(30);
    kill(getpid(), SIGUSR1);
    return nullptr;
}

START_TEST(wake_from_signal_handler) {
    ht_loop_t* loop = new_loop(nullptr);
    sig_loop = loop;
    struct sigaction sa = { .sa_handler = on_sigusr1 };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, nullptr);
    ht_waker_t a = { 0 };
    ht_loop__waker_add(loop, &a, on_wake_a);
    wakes_a = 0;
    keepalive = (ht_timer_t) { 0 };
    ht_loop__timer_start(loop, &keepalive, 20000, on_stop_timer);
    pthread_t th;
    uint64_t t0 = ht_test__mono_ms();
    pthread_create(&th, nullptr, signal_thread, nullptr);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 5000);
    ck_assert_int_eq(wakes_a, 1);
    signal(SIGUSR1, SIG_DFL);
    ht_loop__free(loop, A);
}
END_TEST

static int self_removals;
static void on_wake_remove_self(ht_loop_t* loop, ht_waker_t* w) {
    self_removals++;
    ht_loop__waker_remove(loop, w);
    ht_loop__timer_stop(loop, &keepalive);
}

START_TEST(waker_may_remove_itself) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_waker_t a = { 0 }, b = { 0 };
    ht_loop__waker_add(loop, &a, on_wake_remove_self);
    ht_loop__waker_add(loop, &b, on_wake_b);
    self_removals = wakes_b = 0;
    keepalive = (ht_timer_t) { 0 };
    ht_loop__timer_start(loop, &keepalive, 20000, on_stop_timer);
    ht_loop__wake(loop); /* from the loop's own thread, before run: still seen */
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(self_removals, 1);
    ck_assert_int_eq(wakes_b, 1);
    /* a second wake reaches only b */
    ht_loop__timer_start(loop, &keepalive, 50, on_timer_record);
    norder = 0;
    ht_loop__wake(loop);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(self_removals, 1);
    ck_assert_int_eq(wakes_b, 2);
    ht_loop__waker_remove(loop, &b);
    ht_loop__free(loop, A);
}
END_TEST

/* -------------------------------------------------------------- posts --- */

enum { POST_THREADS = 4, POST_EACH = 1000 };
static ht_post_t post_nodes[POST_THREADS][POST_EACH];
static int post_next[POST_THREADS], posts_seen;
static pthread_t post_loop_thread;
static ht_timer_t post_keepalive;

static void on_post_seq(ht_loop_t* loop, ht_post_t* p) {
    ck_assert(pthread_equal(pthread_self(), post_loop_thread));
    int t = (int) (intptr_t) p->data / POST_EACH, i = (int) (intptr_t) p->data % POST_EACH;
    ck_assert_int_eq(i, post_next[t]); /* FIFO per posting thread */
    ck_assert_ptr_eq(p, &post_nodes[t][i]);
    post_next[t]++;
    if (++posts_seen == POST_THREADS * POST_EACH) ht_loop__timer_stop(loop, &post_keepalive);
}

typedef struct {
    ht_loop_t* loop;
    int t;
} poster_t;
static void* poster_thread(void* arg) {
    poster_t* a = arg;
    for (int i = 0; i < POST_EACH; i++) {
        post_nodes[a->t][i].data = (void*) (intptr_t) (a->t * POST_EACH + i);
        ht_loop__post(a->loop, &post_nodes[a->t][i], on_post_seq);
        if (i % 128 == 0) sched_yield(); /* let the loop take partial batches */
    }
    return nullptr;
}

START_TEST(post_from_threads_fifo_per_thread) {
    ht_loop_t* loop = new_loop(nullptr);
    post_loop_thread = pthread_self();
    posts_seen = 0;
    memset(post_next, 0, sizeof post_next);
    post_keepalive = (ht_timer_t) { 0 };
    ht_loop__timer_start(loop, &post_keepalive, 10000, on_stop_timer); /* fails the count */
    pthread_t th[POST_THREADS];
    poster_t args[POST_THREADS];
    for (int t = 0; t < POST_THREADS; t++) {
        args[t] = (poster_t) { loop, t };
        pthread_create(&th[t], nullptr, poster_thread, &args[t]);
    }
    ck_assert_int_eq(ht_loop__run(loop), 0); /* returns once all arrived */
    for (int t = 0; t < POST_THREADS; t++) pthread_join(th[t], nullptr);
    ck_assert_int_eq(posts_seen, POST_THREADS * POST_EACH);
    for (int t = 0; t < POST_THREADS; t++) ck_assert_int_eq(post_next[t], POST_EACH);
    ck_assert(!ht_loop__timer_active(&post_keepalive));
    ht_loop__free(loop, A);
}
END_TEST

static int post_calls;
static void on_post_count(ht_loop_t* loop, ht_post_t* p) {
    ck_assert(pthread_equal(pthread_self(), post_loop_thread));
    post_calls++;
    if (p->data) ht_loop__timer_stop(loop, p->data);
}
static void* post_one_thread(void* arg) {
    poster_t* a = arg;
    ht_loop__post(a->loop, &post_nodes[0][0], on_post_count);
    return nullptr;
}

START_TEST(post_before_run) {
    ht_loop_t* loop = new_loop(nullptr);
    post_loop_thread = pthread_self();
    post_calls = 0;
    /* from this thread, nothing else to do: run still runs it, then returns */
    ht_post_t p = { 0 };
    ht_loop__post(loop, &p, on_post_count);
    ck_assert_int_eq(post_calls, 0); /* never from inside the call */
    uint64_t t0 = ht_test__mono_ms();
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(post_calls, 1);
    /* from another thread, done before run, with a long timer armed */
    ht_timer_t keep = { 0 };
    ht_loop__timer_start(loop, &keep, 10000, on_stop_timer);
    post_nodes[0][0] = (ht_post_t) { .data = &keep };
    poster_t a = { loop, 0 };
    pthread_t th;
    pthread_create(&th, nullptr, post_one_thread, &a);
    pthread_join(th, nullptr);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(post_calls, 2);
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 1000);
    /* queued when the loop is freed: dropped, never run */
    ht_loop__post(loop, &p, on_post_count);
    ht_loop__free(loop, A);
    ck_assert_int_eq(post_calls, 2);
}
END_TEST

static int reposts;
static void on_repost(ht_loop_t* loop, ht_post_t* p) {
    if (++reposts < 100) ht_loop__post(loop, p, on_repost); /* the same node, again */
    else ht_loop__timer_stop(loop, p->data);
}

START_TEST(post_same_node_again_from_its_callback) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_timer_t keep = { 0 };
    ht_loop__timer_start(loop, &keep, 10000, on_stop_timer);
    ht_post_t p = { .data = &keep };
    reposts = 0;
    ht_loop__post(loop, &p, on_repost);
    uint64_t t0 = ht_test__mono_ms();
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert_int_eq(reposts, 100);
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 5000);
    /* each repost waited for a later iteration: one kernel wait or more apiece */
    ht_backend_info_t info;
    ht_backend__info(loop, &info);
    ck_assert_uint_ge(info.waits, 99);
    ht_loop__free(loop, A);
}
END_TEST

static uint64_t post_ran_at;
static void on_post_wake(ht_loop_t* loop, ht_post_t* p) {
    ck_assert(pthread_equal(pthread_self(), post_loop_thread));
    post_ran_at = ht_test__mono_ms();
    ht_loop__timer_stop(loop, p->data);
}
static uint64_t post_sent_at;
static void* late_poster(void* arg) {
    poster_t* a = arg;
    ht_test__sleep_ms(100); /* the loop is asleep in its 10 s wait by now */
    post_sent_at = ht_test__mono_ms();
    ht_loop__post(a->loop, &post_nodes[1][0], on_post_wake);
    return nullptr;
}

START_TEST(post_wakes_a_sleeping_loop) {
    ht_loop_t* loop = new_loop(nullptr);
    post_loop_thread = pthread_self();
    ht_timer_t keep = { 0 };
    ht_loop__timer_start(loop, &keep, 10000, on_stop_timer);
    post_nodes[1][0] = (ht_post_t) { .data = &keep };
    post_ran_at = 0;
    poster_t a = { loop, 1 };
    pthread_t th;
    uint64_t t0 = ht_test__mono_ms();
    pthread_create(&th, nullptr, late_poster, &a);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    pthread_join(th, nullptr);
    ck_assert_uint_gt(post_ran_at, 0);
    ck_assert_uint_lt(post_ran_at - post_sent_at, 1000);
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 2000);
    ck_assert(!ht_loop__timer_active(&keep));
    ht_loop__free(loop, A);
}
END_TEST

/* ------------------------------------------------- steady state allocs --- */

enum { CYCLES = 10000 };
typedef struct {
    int a, b;
    ht_op_t a_send, a_recv, b_send, b_recv;
    ht_iov_t a_iov[2], b_iov[1];
    char ping[64], pong[64], a_in[128];
    ht_timer_t t;
    int cycles;
    uint64_t allocs_after_warmup;
    ht_alloc_counting_t* cnt;
    bool failed;
} pingpong_t;

static void pp_start(ht_loop_t* loop, pingpong_t* p);
static void pp_noop_timer(ht_loop_t* loop, ht_timer_t* t) {}

static void pp_a_recv(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    pingpong_t* p = op->data;
    if (res != 64 || memcmp(p->a_in, p->pong, 64) != 0) {
        p->failed = true;
        return;
    }
    ht_loop__timer_stop(loop, &p->t);
    if (++p->cycles == 1) p->allocs_after_warmup = p->cnt->allocs + p->cnt->reallocs;
    if (p->cycles < CYCLES) pp_start(loop, p);
}
static void pp_b_send(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    pingpong_t* p = op->data;
    if (res != 64) p->failed = true;
}
static void pp_b_recv(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    pingpong_t* p = op->data;
    if (res != 64 || memcmp(op->buf->data, p->ping, 64) != 0) {
        p->failed = true;
        return;
    }
    ht_loop__buf_release(loop, op->buf);
    p->b_iov[0] = (ht_iov_t) { p->pong, 64 };
    if (ht_loop__send(loop, &p->b_send, p->b, p->b_iov, 1, pp_b_send) != 0) p->failed = true;
}
static void pp_a_send(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    pingpong_t* p = op->data;
    if (res != 64) p->failed = true;
}
static void pp_start(ht_loop_t* loop, pingpong_t* p) {
    ht_loop__timer_start(loop, &p->t, 10000, pp_noop_timer);
    p->a_iov[0] = (ht_iov_t) { p->ping, 20 };
    p->a_iov[1] = (ht_iov_t) { p->ping + 20, 44 };
    bool ok = ht_loop__recv(loop, &p->b_recv, p->b, pp_b_recv) == 0 &&
              ht_loop__recv_into(loop, &p->a_recv, p->a, p->a_in, 64, pp_a_recv) == 0 &&
              ht_loop__send(loop, &p->a_send, p->a, p->a_iov, 2, pp_a_send) == 0;
    if (!ok) p->failed = true;
}

START_TEST(no_allocation_in_steady_state) {
    ht_alloc_counting_t cnt;
    ht_alloc__counting_init(&cnt, A);
    ht_loop_t* loop = nullptr;
    ck_assert_int_eq(ht_loop__init(&loop, &cnt.base), 0);
    uint64_t after_init = cnt.allocs + cnt.reallocs;
    static pingpong_t p;
    p = (pingpong_t) { .cnt = &cnt };
    tcp_pair(&p.b, &p.a);
    set_nonblock(p.a);
    memset(p.ping, 'p', sizeof p.ping);
    memset(p.pong, 'q', sizeof p.pong);
    p.a_send.data = p.a_recv.data = p.b_send.data = p.b_recv.data = &p;
    pp_start(loop, &p);
    ck_assert_int_eq(ht_loop__run(loop), 0);
    ck_assert(!p.failed);
    ck_assert_int_eq(p.cycles, CYCLES);
    /* the fd table may grow once for these fds (warm-up); never afterwards */
    ck_assert_uint_le(p.allocs_after_warmup - after_init, 1);
    ck_assert_uint_eq(cnt.allocs + cnt.reallocs, p.allocs_after_warmup);
    /* Batching: a cycle is 3 ops on one side and 2 on the other; io_uring
     * submits and reaps them in about two enters, epoll needs a wait per
     * readiness edge. A backend that waits per op would exceed this. */
    ht_backend_info_t info;
    ht_backend__info(loop, &info);
    fprintf(stderr, "no_allocation_in_steady_state: %s: %.2f kernel waits per cycle\n",
            ht_loop__backend(), (double) info.waits / CYCLES);
    ck_assert_uint_le(info.waits, 3u * CYCLES);
    ht_loop__close(loop, p.a);
    ht_loop__close(loop, p.b);
    ht_loop__free(loop, &cnt.base);
    ck_assert_uint_eq(cnt.live_bytes, 0);
}
END_TEST

START_TEST(init_fails_cleanly_without_memory) {
    for (size_t n = 0; n < 8; n++) {
        ht_alloc_counting_t cnt;
        ht_alloc__counting_init(&cnt, A);
        cnt.fail_after = n;
        ht_loop_t* loop = nullptr;
        ht_result_t r = ht_loop__init(&loop, &cnt.base);
        if (r == 0) {
            ht_loop__free(loop, &cnt.base);
        } else {
            ck_assert_int_eq(r, -ENOMEM);
            ck_assert_ptr_null(loop);
        }
        ck_assert_uint_eq(cnt.live_bytes, 0);
    }
}
END_TEST

/* Programs written against the error's first name still compile. */
static_assert(HT_E_IO_URING_UNAVAILABLE == HT_E_BACKEND_UNAVAILABLE, "the old name is an alias");

START_TEST(io_uring_unavailable_names_epoll_build) {
    if (strcmp(ht_loop__backend(), "io_uring") != 0) return; /* epoll build: n/a */
    setenv("HT_LOOP__TEST_DISABLE", "uring", 1);
    ht_loop_t* loop = nullptr;
    ht_result_t r = ht_loop__init(&loop, A);
    unsetenv("HT_LOOP__TEST_DISABLE");
    ck_assert_int_eq(r, HT_E_BACKEND_UNAVAILABLE);
    ck_assert_ptr_null(loop);
    ck_assert_ptr_nonnull(strstr(ht_result__str(r), "HT_IO_URING=OFF"));
    /* a kernel whose io_uring lacks an opcode we need: the same answer */
    setenv("HT_LOOP__TEST_DISABLE", "probe", 1);
    r = ht_loop__init(&loop, A);
    unsetenv("HT_LOOP__TEST_DISABLE");
    ck_assert_int_eq(r, HT_E_BACKEND_UNAVAILABLE);
    ck_assert_ptr_null(loop);
}
END_TEST

START_TEST(backend_uses_kernel_features) {
    ht_loop_t* loop = new_loop(nullptr);
    ht_backend_info_t info;
    ht_backend__info(loop, &info);
    const char* dis = getenv("HT_LOOP__TEST_DISABLE");
    if (strcmp(ht_loop__backend(), "epoll") == 0) {
        ck_assert_uint_eq(info.features, 0);
    } else if (dis && strcmp(dis, "all") == 0) {
        ck_assert_uint_eq(info.features, 0); /* every fallback is forced */
    } else {
        /* Informational: which features this kernel gave us. */
        fprintf(stderr, "io_uring features: %s%s%s%s%s%s%s%s%s\n",
                info.features & HT_BE_DEFER_TASKRUN ? "defer_taskrun " : "",
                info.features & HT_BE_COOP_TASKRUN ? "coop_taskrun " : "",
                info.features & HT_BE_NO_SQARRAY ? "no_sqarray " : "",
                info.features & HT_BE_REG_RING ? "registered_ring " : "",
                info.features & HT_BE_PBUF_RING ? "pbuf_ring " : "",
                info.features & HT_BE_MULTISHOT_ACCEPT ? "multishot_accept " : "",
                info.features & HT_BE_EXT_ARG ? "ext_arg " : "",
                info.features & HT_BE_SINGLE_MMAP ? "single_mmap " : "",
                info.features & HT_BE_RESIZE_RINGS ? "resize_rings" : "");
        ck_assert(info.features & HT_BE_SINGLE_MMAP); /* 5.4+, everywhere */
        ht_loop__free(loop, A);
        setenv("HT_LOOP__TEST_DISABLE", "pbuf,multishot", 1);
        loop = new_loop(nullptr);
        unsetenv("HT_LOOP__TEST_DISABLE");
        ht_backend__info(loop, &info);
        ck_assert(!(info.features & (HT_BE_PBUF_RING | HT_BE_MULTISHOT_ACCEPT)));
    }
    ht_loop__free(loop, A);
}
END_TEST

static Suite* loop_suite(void) {
    Suite* s = suite_create("loop");
    TCase* tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, timers_fire_in_deadline_then_start_order);
    tcase_add_test(tc, timer_stop_and_rearm);
    tcase_add_test(tc, zero_ms_timers_fifo);
    tcase_add_test(tc, timer_rearmed_with_zero_does_not_starve);
    tcase_add_test(tc, timer_heap_random_order);
    tcase_add_test(tc, defer_runs_later_in_order);
    tcase_add_test(tc, run_returns_when_idle);
    tcase_add_test(tc, stop_returns_with_work_pending);
    tcase_add_test(tc, timer_far_future_does_not_overflow);
    tcase_add_test(tc, timer_callback_stops_a_due_timer);
    tcase_add_test(tc, wake_from_another_thread);
    tcase_add_test(tc, wake_from_signal_handler);
    tcase_add_test(tc, waker_may_remove_itself);
    tcase_add_test(tc, post_from_threads_fifo_per_thread);
    tcase_add_test(tc, post_before_run);
    tcase_add_test(tc, post_same_node_again_from_its_callback);
    tcase_add_test(tc, post_wakes_a_sleeping_loop);
    loop_add_recv_tests(tc);
    loop_add_send_tests(tc);
    loop_add_ring_tests(tc);
    tcase_add_test(tc, no_allocation_in_steady_state);
    tcase_add_test(tc, init_fails_cleanly_without_memory);
    tcase_add_test(tc, io_uring_unavailable_names_epoll_build);
    tcase_add_test(tc, backend_uses_kernel_features);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    /* An io_uring build on a machine that forbids io_uring (container
     * seccomp, kernel.io_uring_disabled) cannot test anything: say so and
     * report "skipped" to ctest (SKIP_RETURN_CODE 77), never "passed". */
    if (strcmp(ht_loop__backend(), "io_uring") == 0) {
        ht_alloc_t* a = ht_alloc__init();
        ht_loop_t* loop = nullptr;
        ht_result_t r = ht_loop__init(&loop, a);
        if (r == 0) ht_loop__free(loop, a);
        ht_alloc__finalize(a);
        if (r == HT_E_BACKEND_UNAVAILABLE) {
            fprintf(stderr, "check_loop: io_uring is unavailable here: SKIPPED\n");
            return 77;
        }
    }
    return ht_test__run(loop_suite());
}
