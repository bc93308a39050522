/* check_workers: CPU count and pinning (ht/thread.h), and the thread-per-core
 * pool (ht/workers.h): pinning per worker, one allocator per worker, stop
 * registration (before/after stop, repeated stop, deregistration, from a
 * signal handler, racing start), join and free.
 *
 * The workers here wait on an eventfd that their own stop fn writes to: the
 * pool is tested without the event loop. Every wait is bounded. */
#include <check.h>
#include <ht/thread.h>
#include <ht/workers.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum { MAXW = 64, WAIT_MS = 10000 };

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Waits (bounded) until *v >= want; returns whether it got there. */
static bool wait_for(atomic_int* v, int want) {
    uint64_t end = now_ms() + WAIT_MS;
    while (atomic_load(v) < want) {
        if (now_ms() > end) return false;
        usleep(1000);
    }
    return true;
}

/* The calling thread's affinity mask as a list (test-side, independent of
 * ht_thread__cpu_list). */
static int mask_cpus(int* out, int cap) {
    cpu_set_t set;
    CPU_ZERO(&set);
    ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) {
            if (n < cap) out[n] = c;
            n++;
        }
    return n;
}

/* ---- ht/thread.h ---- */

START_TEST(cpu_count_matches_affinity_mask) {
    int cpus[CPU_SETSIZE];
    int n = mask_cpus(cpus, CPU_SETSIZE);
    ck_assert_int_ge(n, 1);
    ck_assert_uint_eq(ht_thread__cpu_count(), (uint32_t) n);
    uint32_t list[CPU_SETSIZE];
    ck_assert_int_eq(ht_thread__cpu_list(list, CPU_SETSIZE), n);
    for (int i = 0; i < n; i++) ck_assert_uint_eq(list[i], (uint32_t) cpus[i]);
    /* A short buffer still reports the full count. */
    ck_assert_int_eq(ht_thread__cpu_list(list, 0), n);
}
END_TEST

typedef struct {
    uint32_t    target;
    ht_result_t pin;
    int         running_on;
    uint32_t    count_after;
    int32_t     list_after;
    uint32_t    first_after;
    ht_result_t bad_pin;
    ht_result_t huge_pin;
} pin_probe_t;

static void* pin_thread(void* p) {
    pin_probe_t* pr = p;
    pr->pin = ht_thread__pin(pr->target);
    pr->running_on = sched_getcpu();
    pr->count_after = ht_thread__cpu_count(); /* honours the narrowed mask */
    pr->list_after = ht_thread__cpu_list(&pr->first_after, 1);
    pr->bad_pin = ht_thread__pin(CPU_SETSIZE - 1 + 3000);
    pr->huge_pin = ht_thread__pin(UINT32_MAX);
    return nullptr;
}

START_TEST(pin_each_cpu) {
    int cpus[CPU_SETSIZE];
    int n = mask_cpus(cpus, CPU_SETSIZE);
    for (int i = 0; i < n; i++) {
        pin_probe_t pr = { .target = (uint32_t) cpus[i] };
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, nullptr, pin_thread, &pr), 0);
        ck_assert_int_eq(pthread_join(t, nullptr), 0);
        ck_assert_int_eq(pr.pin, 0);
        ck_assert_int_eq(pr.running_on, cpus[i]);
        ck_assert_uint_eq(pr.count_after, 1);
        ck_assert_int_eq(pr.list_after, 1);
        ck_assert_uint_eq(pr.first_after, (uint32_t) cpus[i]);
        ck_assert_int_eq(pr.bad_pin, -EINVAL); /* no such CPU */
        ck_assert_int_eq(pr.huge_pin, -EINVAL);
    }
    /* Pinning a thread did not narrow the process (this thread). */
    ck_assert_uint_eq(ht_thread__cpu_count(), (uint32_t) n);
}
END_TEST

/* ---- the pool ---- */

typedef struct ctx {
    ht_alloc_t*  main_alloc;
    atomic_int   wakes_needed;   /* stop calls a worker waits for before returning */
    bool         deregister;     /* register, then deregister at once, then wait for release */
    bool         reregister;     /* register again after each wake-up */
    bool         leave_at_once;  /* register, then return without deregistering */
    atomic_int   release;
    atomic_int   registered;
    atomic_int   returned;
    atomic_int   stop_calls[MAXW];
    int          woke[MAXW];     /* wake-ups seen (eventfd counter sum) */
    ht_alloc_t*  alloc_seen[MAXW];
    int          cpu_seen[MAXW]; /* sched_getcpu() in the worker */
    int          mask_n[MAXW];   /* CPUs in the worker's affinity mask */
    int          mask_first[MAXW];
    bool         sigs_blocked[MAXW];
    bool         alloc_works[MAXW];
    uint32_t     count_seen[MAXW];
} ctx_t;

typedef struct {
    int         efd;
    atomic_int* calls;
} stopper_t;

static void stop_by_eventfd(void* arg) {
    stopper_t* s = arg;
    atomic_fetch_add(s->calls, 1);
    uint64_t one = 1;
    ssize_t rc = write(s->efd, &one, sizeof one); /* async-signal-safe */
    (void) rc;
}

static void test_worker(ht_workers_t* w, uint32_t id, ht_alloc_t* a, void* ud) {
    ctx_t* c = ud;
    ck_assert_uint_lt(id, MAXW);
    c->cpu_seen[id] = sched_getcpu();
    int cpus[8];
    c->mask_n[id] = mask_cpus(cpus, 8);
    c->mask_first[id] = cpus[0];
    c->alloc_seen[id] = a;
    c->count_seen[id] = ht_workers__count(w);
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, nullptr, &cur);
    c->sigs_blocked[id] = sigismember(&cur, SIGINT) && sigismember(&cur, SIGTERM) &&
                          sigismember(&cur, SIGUSR1) && !sigismember(&cur, SIGSEGV);
    char* p = ht_alloc__alloc(a, 4096); /* the worker's allocator is usable here */
    if (p) {
        memset(p, (int) id, 4096);
        c->alloc_works[id] = p[4095] == (char) id;
        ht_alloc__free(a, p, 4096);
    }

    stopper_t st = { .efd = eventfd(0, EFD_CLOEXEC), .calls = &c->stop_calls[id] };
    ck_assert_int_ge(st.efd, 0);
    ht_workers__ready(w, id, stop_by_eventfd, &st);
    if (c->deregister) ht_workers__ready(w, id, nullptr, nullptr);
    atomic_fetch_add(&c->registered, 1);
    if (c->leave_at_once) { /* st dies with this frame: the pool must forget it */
        close(st.efd);
        atomic_fetch_add(&c->returned, 1);
        return;
    }

    if (c->deregister) {
        uint64_t end = now_ms() + WAIT_MS;
        while (!atomic_load(&c->release) && now_ms() < end) usleep(1000);
    } else {
        uint64_t end = now_ms() + WAIT_MS;
        while (c->woke[id] < atomic_load(&c->wakes_needed) && now_ms() < end) {
            struct pollfd pfd = { .fd = st.efd, .events = POLLIN };
            if (poll(&pfd, 1, 100) == 1) {
                uint64_t v;
                if (read(st.efd, &v, sizeof v) == sizeof v) c->woke[id] += (int) v;
                if (c->reregister && c->woke[id] < atomic_load(&c->wakes_needed))
                    ht_workers__ready(w, id, stop_by_eventfd, &st);
            }
        }
    }
    /* st (and its fd) go away now: deregister so no later stop touches them. */
    ht_workers__ready(w, id, nullptr, nullptr);
    close(st.efd);
    atomic_fetch_add(&c->returned, 1);
}

static ht_alloc_t* parent;
static ht_alloc_counting_t counting;

static void setup(void) {
    parent = ht_alloc__init();
    ht_alloc__counting_init(&counting, parent);
}
static void teardown(void) {
    ck_assert_uint_eq(counting.live_bytes, 0);
    ht_alloc__finalize(parent);
}

static ctx_t* new_ctx(int wakes) {
    ctx_t* c = calloc(1, sizeof *c);
    c->main_alloc = &counting.base;
    atomic_init(&c->wakes_needed, wakes);
    for (int i = 0; i < MAXW; i++) c->cpu_seen[i] = c->mask_first[i] = -1;
    return c;
}

START_TEST(four_workers_pinned_own_allocator_stop_join) {
    int cpus[CPU_SETSIZE];
    int ncpu = mask_cpus(cpus, CPU_SETSIZE);
    ctx_t* c = new_ctx(1);
    ht_workers_t* w = nullptr;
    ck_assert_int_eq(ht_workers__init(&w, 4, &counting.base), 0);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(ht_workers__count(w), 4);
    ck_assert_int_eq(ht_workers__cpu(w, 0), -1); /* not started */
    ck_assert_int_eq(ht_workers__start(w, test_worker, c), 0);
    ck_assert_int_eq(ht_workers__start(w, test_worker, c), -EALREADY);
    ck_assert(wait_for(&c->registered, 4));
    ck_assert(!ht_workers__stopping(w));
    ck_assert_int_eq(atomic_load(&c->returned), 0); /* nobody leaves before stop */

    for (uint32_t i = 0; i < 4; i++) {
        int want = cpus[i % (uint32_t) ncpu]; /* i-th CPU of the mask, wrapping */
        ck_assert_int_eq(ht_workers__cpu(w, i), want);
        ck_assert_int_eq(c->cpu_seen[i], want);
        ck_assert_int_eq(c->mask_n[i], 1);
        ck_assert_int_eq(c->mask_first[i], want);
        ck_assert(c->sigs_blocked[i]);
        ck_assert(c->alloc_works[i]);
        ck_assert_uint_eq(c->count_seen[i], 4);
        ck_assert_ptr_nonnull(c->alloc_seen[i]);
        ck_assert_ptr_ne(c->alloc_seen[i], &counting.base);
        ck_assert_ptr_ne(c->alloc_seen[i], parent);
        for (uint32_t j = 0; j < i; j++) {
            ck_assert_ptr_ne(c->alloc_seen[i], c->alloc_seen[j]); /* one each, all alive */
            if (ncpu >= 4) ck_assert_int_ne(c->cpu_seen[i], c->cpu_seen[j]); /* distinct cores */
        }
    }
    ck_assert_int_eq(ht_workers__cpu(w, 4), -1);
    /* The pool's own memory came from the allocator given to init, and only it. */
    ck_assert_uint_gt(counting.live_bytes, 0);

    ht_workers__stop(w);
    ck_assert(ht_workers__stopping(w));
    ck_assert_int_eq(ht_workers__join(w), 0);
    ck_assert_int_eq(atomic_load(&c->returned), 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(atomic_load(&c->stop_calls[i]), 1);
        ck_assert_int_eq(c->woke[i], 1);
    }
    ht_workers__free(w);
    free(c);
}
END_TEST

START_TEST(zero_means_one_per_cpu) {
    ctx_t* c = new_ctx(1);
    ht_workers_t* w;
    ck_assert_int_eq(ht_workers__init(&w, 0, &counting.base), 0);
    uint32_t n = ht_workers__count(w);
    ck_assert_uint_eq(n, ht_thread__cpu_count());
    ck_assert_int_eq(ht_workers__start(w, test_worker, c), 0);
    ck_assert(wait_for(&c->registered, (int) n));
    for (uint32_t i = 1; i < n && i < MAXW; i++) /* one per CPU: all distinct */
        for (uint32_t j = 0; j < i; j++) ck_assert_int_ne(c->cpu_seen[i], c->cpu_seen[j]);
    ht_workers__stop(w);
    ck_assert_int_eq(ht_workers__join(w), 0);
    ht_workers__free(w);
    free(c);
}
END_TEST

START_TEST(register_after_stop_is_stopped_at_once) {
    ctx_t* c = new_ctx(1);
    ht_workers_t* w;
    ck_assert_int_eq(ht_workers__init(&w, 4, &counting.base), 0);
    ht_workers__stop(w); /* before start: nothing registered, nothing called */
    ck_assert(ht_workers__stopping(w));
    ck_assert_int_eq(ht_workers__start(w, test_worker, c), 0);
    ck_assert_int_eq(ht_workers__join(w), 0); /* returns only if each was stopped */
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(atomic_load(&c->stop_calls[i]), 1);
        ck_assert_int_eq(c->woke[i], 1);
    }
    ht_workers__free(w);
    free(c);
}
END_TEST

/* A registration is called once, however often stop is called: a later
 * stop must not reach a stop arg its worker may have freed since. */
START_TEST(repeated_stop_calls_each_registration_once) {
    ctx_t* c = new_ctx(2); /* workers wait for a second wake-up that must not come */
    ht_workers_t* w;
    ck_assert_int_eq(ht_workers__init(&w, 4, &counting.base), 0);
    ck_assert_int_eq(ht_workers__start(w, test_worker, c), 0);
    ck_assert(wait_for(&c->registered, 4));
    ht_workers__stop(w);
    for (int i = 0; i < 4; i++) ck_assert(wait_for(&c->stop_calls[i], 1));
    ht_workers__stop(w);
    ht_workers__stop(w);
    usleep(50000);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(atomic_load(&c->stop_calls[i]), 1);
    ck_assert_int_eq(atomic_load(&c->returned), 0);
    /* Release them by hand (as the worker's own end would). */
    atomic_store(&c->wakes_needed, 1);
    ck_assert_int_eq(ht_workers__join(w), 0);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(c->woke[i], 1);
    ht_workers__free(w);
    free(c);
}
END_TEST

/* A new registration after the stop is a new one: stopped at once. */
START_TEST(reregistration_after_stop_is_called_again) {
    ctx_t* c = new_ctx(2);
    c->reregister = true;
    ht_workers_t* w;
    ck_assert_int_eq(ht_workers__init(&w, 4, &counting.base), 0);
    ck_assert_int_eq(ht_workers__start(w, test_worker, c), 0);
    ck_assert(wait_for(&c->registered, 4));
    ht_workers__stop(w); /* once */
    ck_assert_int_eq(ht_workers__join(w), 0);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(atomic_load(&c->stop_calls[i]), 2);
        ck_assert_int_eq(c->woke[i], 2);
    }
    ht_workers__free(w);
    free(c);
}
END_TEST

START_TEST(deregistered_worker_is_not_called) {
    ctx_t* c = new_ctx(1);
    c->deregister = true;
    ht_workers_t* w;
    ck_assert_int_eq(ht_workers__init(&w, 4, &counting.base), 0);
    ck_assert_int_eq(ht_workers__start(w, test_worker, c), 0);
    ck_assert(wait_for(&c->registered, 4));
    ht_workers__stop(w);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(atomic_load(&c->stop_calls[i]), 0);
    atomic_store(&c->release, 1);
    ck_assert_int_eq(ht_workers__join(w), 0);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(atomic_load(&c->stop_calls[i]), 0);
    ht_workers__stop(w); /* after join: nothing registered, nothing happens */
    ht_workers__free(w);
    free(c);
}
END_TEST

/* stop racing the workers' registration: every worker must still be stopped
 * (the Dekker handshake in ready/stop). */
START_TEST(stop_racing_registration) {
    for (int round = 0; round < 40; round++) {
        ctx_t* c = new_ctx(1);
        ht_workers_t* w;
        ck_assert_int_eq(ht_workers__init(&w, 4, &counting.base), 0);
        ck_assert_int_eq(ht_workers__start(w, test_worker, c), 0);
        if (round % 2) usleep((useconds_t) (round * 10));
        ht_workers__stop(w);
        ck_assert_int_eq(ht_workers__join(w), 0);
        for (int i = 0; i < 4; i++) {
            ck_assert_msg(c->woke[i] == 1, "round %d worker %d woke %d", round, i, c->woke[i]);
            ck_assert_int_eq(atomic_load(&c->stop_calls[i]), 1); /* exactly once */
        }
        ht_workers__free(w);
        free(c);
    }
}
END_TEST

START_TEST(registration_ends_with_the_worker) {
    ctx_t* c = new_ctx(1);
    c->leave_at_once = true;
    ht_workers_t* w;
    ck_assert_int_eq(ht_workers__init(&w, 4, &counting.base), 0);
    ck_assert_int_eq(ht_workers__start(w, test_worker, c), 0);
    ck_assert_int_eq(ht_workers__join(w), 0);
    ck_assert_int_eq(atomic_load(&c->returned), 4);
    ht_workers__stop(w); /* would touch the dead frames if still registered */
    for (int i = 0; i < 4; i++) ck_assert_int_eq(atomic_load(&c->stop_calls[i]), 0);
    ht_workers__free(w);
    free(c);
}
END_TEST

static ht_workers_t* sig_pool;
static pthread_t sig_main;
static volatile sig_atomic_t sig_on_main;

static void on_sigusr1(int sig) {
    (void) sig;
    sig_on_main = pthread_equal(pthread_self(), sig_main) ? 1 : 2;
    ht_workers__stop(sig_pool);
}

START_TEST(stop_from_signal_handler) {
    ctx_t* c = new_ctx(1);
    ck_assert_int_eq(ht_workers__init(&sig_pool, 4, &counting.base), 0);
    sig_main = pthread_self();
    sig_on_main = 0;
    struct sigaction sa = { .sa_handler = on_sigusr1 };
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, nullptr), 0);
    ck_assert_int_eq(ht_workers__start(sig_pool, test_worker, c), 0);
    ck_assert(wait_for(&c->registered, 4));
    /* Process-directed: workers block it, so the starting thread takes it. */
    ck_assert_int_eq(kill(getpid(), SIGUSR1), 0);
    ck_assert_int_eq(ht_workers__join(sig_pool), 0);
    ck_assert_int_eq(sig_on_main, 1);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(c->woke[i], 1);
    ht_workers__free(sig_pool);
    signal(SIGUSR1, SIG_DFL);
    free(c);
}
END_TEST

START_TEST(free_without_join_stops_and_joins) {
    ctx_t* c = new_ctx(1);
    ht_workers_t* w;
    ck_assert_int_eq(ht_workers__init(&w, 3, &counting.base), 0);
    ck_assert_int_eq(ht_workers__start(w, test_worker, c), 0);
    ck_assert(wait_for(&c->registered, 3));
    ht_workers__free(w);
    ck_assert_int_eq(atomic_load(&c->returned), 3);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(c->woke[i], 1);
    free(c);
}
END_TEST

START_TEST(init_errors) {
    ht_workers_t* w = (ht_workers_t*) &w;
    ck_assert_int_eq(ht_workers__init(&w, 4097, &counting.base), -EINVAL);
    ck_assert_ptr_null(w);
    counting.fail_after = 0; /* the CPU list */
    ck_assert_int_eq(ht_workers__init(&w, 4, &counting.base), -ENOMEM);
    counting.fail_after = 1; /* the pool itself */
    ck_assert_int_eq(ht_workers__init(&w, 4, &counting.base), -ENOMEM);
    ck_assert_ptr_null(w);
    counting.fail_after = SIZE_MAX;
    ck_assert_uint_eq(counting.live_bytes, 0);
    /* Unstarted pools free cleanly; stop and out-of-range ids are harmless. */
    ck_assert_int_eq(ht_workers__init(&w, 2, &counting.base), 0);
    ht_workers__ready(w, 7, stop_by_eventfd, nullptr);
    ht_workers__stop(w);
    ck_assert_int_eq(ht_workers__join(w), 0);
    ht_workers__free(w);
    ht_workers__free(nullptr);
}
END_TEST

int main(void) {
    Suite* s = suite_create("workers");
    TCase* tc = tcase_create("thread");
    tcase_add_test(tc, cpu_count_matches_affinity_mask);
    tcase_add_test(tc, pin_each_cpu);
    suite_add_tcase(s, tc);
    tc = tcase_create("pool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, four_workers_pinned_own_allocator_stop_join);
    tcase_add_test(tc, zero_means_one_per_cpu);
    tcase_add_test(tc, register_after_stop_is_stopped_at_once);
    tcase_add_test(tc, repeated_stop_calls_each_registration_once);
    tcase_add_test(tc, reregistration_after_stop_is_called_again);
    tcase_add_test(tc, deregistered_worker_is_not_called);
    tcase_add_test(tc, stop_racing_registration);
    tcase_add_test(tc, registration_ends_with_the_worker);
    tcase_add_test(tc, stop_from_signal_handler);
    tcase_add_test(tc, free_without_join_stops_and_joins);
    tcase_add_test(tc, init_errors);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
