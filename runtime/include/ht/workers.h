/* ht/workers.h — a thread-per-core pool.
 *
 * N threads each run the same worker function. Each thread is pinned to its
 * own CPU before it runs anything (worker id i gets the i-th CPU of the
 * affinity mask ht_workers__init saw, wrapping around when there are more
 * workers than CPUs), and gets its OWN allocator, a fresh ht_alloc__init()
 * created on that thread and finalized after the worker function returns:
 * memory is first touched on the worker's CPU and never shared, so nothing
 * in a worker needs locks.
 *
 * Stopping. The pool does not know what a worker is waiting on. A worker
 * tells it with ht_workers__ready(w, id, stop_fn, arg) once it can be
 * stopped (typically: its loop exists); ht_workers__stop then calls every
 * registered stop_fn(arg), once each. The worker function is expected to
 * return soon after: making that happen is the stop fn's job (the pool
 * neither cancels nor kills threads). Typical worker (the README's):
 *
 *   ht_workers__ready(w, id, (ht_worker_stop_fn) ht_loop__wake, loop);
 *   ht_loop__run(loop);
 *
 * Threads and signals. ht_workers__stop may be called from any thread and
 * from a signal handler (it only uses lock-free atomics and the stop
 * functions). A stop fn must therefore itself be thread-safe, and
 * async-signal-safe if stop is called from a handler (ht_loop__wake is
 * both). Worker threads start with SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1
 * and SIGUSR2 blocked, so those process-directed signals are delivered to
 * the thread that started the pool (usually main, waiting in join) rather
 * than interrupting a worker's loop. (Windows: nothing to block; console
 * events arrive on a thread of their own. Pinning: SetThreadAffinityMask.)
 *
 * Lifetime. init (any thread) -> start -> ... -> join -> free, from the thread
 * that owns the pool. The ht_workers_t is allocated from the allocator given
 * to init, which must outlive it.
 */
#ifndef HT_WORKERS_H
#define HT_WORKERS_H

#include <ht/alloc.h>

HT_EXTERN_C_BEGIN

typedef struct ht_workers ht_workers_t;

/* Runs on worker thread id (0 .. n-1) with that thread's own allocator a
 * (valid until the function returns) and the ud given to start. */
typedef void (*ht_worker_fn)(ht_workers_t* w, uint32_t id, ht_alloc_t* a, void* ud);
/* Asks a worker to stop. Called from whichever thread (or signal handler)
 * called ht_workers__stop, possibly concurrently with the worker itself:
 * must be thread-safe, and async-signal-safe if stop is used from a
 * handler. Called at most once per registration. */
typedef void (*ht_worker_stop_fn)(void* arg);

/* Creates a pool of n workers (0: one per CPU of the caller's affinity mask)
 * without starting them. Reads the caller's affinity mask now: call it before
 * pinning the calling thread. 0, -EINVAL (n > 4096), or -ENOMEM. */
ht_result_t ht_workers__init(ht_workers_t** out, uint32_t n, ht_alloc_t* a);

/* Starts the n threads, each running fn(w, id, its allocator, ud). Once per
 * pool. On failure (-EAGAIN etc. from thread creation, -EALREADY if already
 * started), the threads already running are asked to stop and are joined
 * before it returns (this waits for their workers to register and return). */
ht_result_t ht_workers__start(ht_workers_t* w, ht_worker_fn fn, void* ud);

/* Called by worker id (from its own thread): from now on ht_workers__stop
 * stops it by calling stop(arg), once. If a stop was already requested,
 * stop(arg) is called right away, before this returns. Calling it again
 * replaces the registration (a new one, called once more if a stop comes or
 * already came); stop == nullptr removes it, waiting for a stop(arg) that is
 * running on another thread to return, after which arg may be destroyed.
 *
 * arg must stay valid while registered. The pool removes the registration
 * itself when the worker function returns. A worker that can end without
 * being stopped (its loop ran out of work, or shut down through the server)
 * and frees arg before returning should deregister first, or a stop arriving
 * in between would use the freed arg. */
void ht_workers__ready(ht_workers_t* w, uint32_t id, ht_worker_stop_fn stop, void* arg);

/* Requests every worker to stop: sets the stop flag, then calls each
 * registered stop fn not called yet. Workers that register later are stopped
 * when they register. Thread-safe and async-signal-safe; may be called any
 * number of times (a registration is still called only once), and before
 * start. */
void ht_workers__stop(ht_workers_t* w);

/* Whether ht_workers__stop has been called (for workers that poll). */
bool ht_workers__stopping(const ht_workers_t* w);

/* Waits for every started thread to return. 0, or the first error: a worker
 * whose allocator could not be created (-ENOMEM; its function never ran) or
 * a failed pthread_join. Call once, from the thread that started the pool. */
ht_result_t ht_workers__join(ht_workers_t* w);

/* Releases the pool. If it was started and not joined, stops and joins it
 * first. */
void ht_workers__free(ht_workers_t* w);

/* Number of workers. */
uint32_t ht_workers__count(const ht_workers_t* w);
/* The CPU worker id was pinned to, or -1 if pinning failed (the worker ran
 * unpinned) or the worker has not started yet. */
int32_t ht_workers__cpu(const ht_workers_t* w, uint32_t id);

HT_EXTERN_C_END

#endif /* HT_WORKERS_H */
