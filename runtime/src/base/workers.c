/* base/workers.c — thread-per-core pool: pinned threads, one allocator each,
 * stop registration that is safe from signal handlers.
 *
 * Stop protocol. Each worker slot has a state: EMPTY (no stop fn), READY
 * (stop fn registered, not called yet), CALLING (someone is running it right
 * now), DONE (it ran). A caller of stop runs a stop fn only after winning
 * READY -> CALLING, and moves to DONE after: each registration is called at
 * most once however many times stop is called, so a second stop cannot reach
 * a loop its worker has since freed. Deregistration waits out CALLING and
 * then takes READY or DONE -> EMPTY. So the fn and arg fields are only
 * written while nobody can be reading them, and a stop fn never runs after
 * its deregistration returned. Lock-free atomics only: usable from a signal
 * handler.
 *
 * "Registers after stop" is a Dekker pattern: ready() stores READY then
 * loads stop_requested; stop() stores stop_requested then reads the state.
 * Both sequentially consistent, so at least one side sees the other and the
 * worker is stopped; the READY -> CALLING exchange makes it exactly once.
 */
#include <ht/thread.h>
#include <ht/workers.h>

#include "base/sys.h"

#include <stdatomic.h>

enum { SLOT_EMPTY, SLOT_READY, SLOT_CALLING, SLOT_DONE };
enum { WORKERS_MAX = 4096 };

typedef struct worker {
    ht_workers_t*     pool;
    ht_sys_thread_t   thread;
    uint32_t          id;
    uint32_t          cpu_want; /* UINT32_MAX: do not pin */
    atomic_int        cpu;      /* pinned CPU, -1 until then / if it failed */
    atomic_uint       state;    /* SLOT_* */
    ht_worker_stop_fn stop;     /* valid in READY, CALLING, DONE */
    void*             arg;
    ht_result_t       result;   /* written by the worker thread, read after join */
    bool              started;
} worker_t;

struct ht_workers {
    ht_alloc_t*  alloc;
    size_t       size; /* of this allocation */
    uint32_t     n;
    bool         started;
    bool         joined;
    atomic_bool  stop_requested;
    ht_worker_fn fn;
    void*        ud;
    worker_t     slots[];
};

/* Runs the stop fn of s if registered and not yet called. */
static void slot_fire(worker_t* s) {
    unsigned expect = SLOT_READY;
    if (!atomic_compare_exchange_strong(&s->state, &expect, SLOT_CALLING)) return;
    s->stop(s->arg);
    atomic_store(&s->state, SLOT_DONE);
}

/* Removes the registration of s, waiting for a running stop fn to return. */
static void slot_clear(worker_t* s) {
    for (;;) {
        unsigned st = atomic_load(&s->state);
        if (st == SLOT_EMPTY) return;
        if ((st == SLOT_READY || st == SLOT_DONE) &&
            atomic_compare_exchange_strong(&s->state, &st, SLOT_EMPTY))
            return;
        ht_sys__yield(); /* CALLING on another thread: a stop fn is brief */
    }
}

ht_result_t ht_workers__init(ht_workers_t** out, uint32_t n, ht_alloc_t* a) {
    *out = nullptr;
    if (n > WORKERS_MAX) return -EINVAL;
    uint32_t ncpu = ht_thread__cpu_count();
    if (n == 0) n = ncpu < WORKERS_MAX ? ncpu : WORKERS_MAX;

    uint32_t* cpus = ht_alloc__calloc(a, ncpu, sizeof *cpus);
    if (!cpus) return -ENOMEM;
    int32_t got = ht_thread__cpu_list(cpus, ncpu);
    uint32_t have = got < 0 ? 0 : ((uint32_t) got < ncpu ? (uint32_t) got : ncpu);

    size_t size = sizeof(ht_workers_t) + (size_t) n * sizeof(worker_t);
    ht_workers_t* w = ht_alloc__alloc(a, size);
    if (!w) {
        ht_alloc__free(a, cpus, (size_t) ncpu * sizeof *cpus);
        return -ENOMEM;
    }
    w->alloc = a;
    w->size = size;
    w->n = n;
    w->started = w->joined = false;
    atomic_init(&w->stop_requested, false);
    w->fn = nullptr;
    w->ud = nullptr;
    for (uint32_t i = 0; i < n; i++) {
        worker_t* s = &w->slots[i];
        s->pool = w;
        s->id = i;
        s->cpu_want = have ? cpus[i % have] : UINT32_MAX;
        atomic_init(&s->cpu, -1);
        atomic_init(&s->state, SLOT_EMPTY);
        s->stop = nullptr;
        s->arg = nullptr;
        s->result = 0;
        s->started = false;
    }
    ht_alloc__free(a, cpus, (size_t) ncpu * sizeof *cpus);
    *out = w;
    return 0;
}

static void* worker_thread(void* p) {
    worker_t* s = p;
    ht_workers_t* w = s->pool;
    /* Pin first, so that the allocator and everything the worker touches
     * is first-touched on its own CPU (NUMA node). */
    if (s->cpu_want != UINT32_MAX && ht_thread__pin(s->cpu_want) == 0)
        atomic_store(&s->cpu, (int) s->cpu_want);
    ht_alloc_t* a = ht_alloc__init();
    if (!a) {
        s->result = -ENOMEM;
        return nullptr;
    }
    w->fn(w, s->id, a, w->ud);
    slot_clear(s); /* the worker's stop arg is about to go away */
    ht_alloc__finalize(a);
    return nullptr;
}

static ht_result_t join_started(ht_workers_t* w) {
    ht_result_t first = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        worker_t* s = &w->slots[i];
        if (!s->started) continue;
        ht_result_t rc = ht_sys__thread_join(s->thread);
        s->started = false;
        if (!first && rc) first = rc;
        if (!first && s->result) first = s->result;
    }
    w->joined = true;
    return first;
}

ht_result_t ht_workers__start(ht_workers_t* w, ht_worker_fn fn, void* ud) {
    if (w->started) return -EALREADY;
    w->started = true;
    w->fn = fn;
    w->ud = ud;

    /* Workers start with the shutdown signals blocked (base/sys.h). */
    ht_result_t r = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        worker_t* s = &w->slots[i];
        r = ht_sys__thread_start(&s->thread, worker_thread, s);
        if (r) break;
        s->started = true;
    }
    if (r) {
        ht_workers__stop(w);
        join_started(w);
    }
    return r;
}

void ht_workers__ready(ht_workers_t* w, uint32_t id, ht_worker_stop_fn stop, void* arg) {
    if (id >= w->n) return;
    worker_t* s = &w->slots[id];
    slot_clear(s);
    if (!stop) return;
    s->stop = stop;
    s->arg = arg;
    atomic_store(&s->state, SLOT_READY);
    if (atomic_load(&w->stop_requested)) slot_fire(s);
}

void ht_workers__stop(ht_workers_t* w) {
    atomic_store(&w->stop_requested, true);
    for (uint32_t i = 0; i < w->n; i++) slot_fire(&w->slots[i]);
}

bool ht_workers__stopping(const ht_workers_t* w) {
    return atomic_load(&((ht_workers_t*) w)->stop_requested);
}

ht_result_t ht_workers__join(ht_workers_t* w) {
    return join_started(w);
}

void ht_workers__free(ht_workers_t* w) {
    if (!w) return;
    if (w->started && !w->joined) {
        ht_workers__stop(w);
        join_started(w);
    }
    w->alloc->free(w->alloc, w, w->size);
}

uint32_t ht_workers__count(const ht_workers_t* w) { return w->n; }

int32_t ht_workers__cpu(const ht_workers_t* w, uint32_t id) {
    if (id >= w->n) return -1;
    return atomic_load(&((ht_workers_t*) w)->slots[id].cpu);
}
