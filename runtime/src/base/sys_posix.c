/* base/sys_posix.c — base/sys.h on POSIX (Linux: clock_gettime, mmap,
 * pthreads). */
#include "base/sys.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

uint64_t ht_sys__loop_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

int64_t ht_sys__wall_ms(void) {
    struct timespec ts;
    /* CLOCK_REALTIME_COARSE: a Date header needs seconds, not a precise read. */
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t ht_sys__mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

void* ht_sys__map(size_t len) {
    /* Anonymous private memory: pages are faulted in on first write, so a
     * page nobody used costs no RSS. NORESERVE: don't charge overcommit. */
    void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
    return mem == MAP_FAILED ? nullptr : mem;
}

void ht_sys__unmap(void* p, size_t len) {
    if (p) munmap(p, len);
}

void ht_sys__yield(void) { sched_yield(); }

ht_result_t ht_sys__thread_start(ht_sys_thread_t* t, void* (*fn)(void*), void* arg) {
    /* Threads inherit the creator's signal mask: block the shutdown signals
     * around creation so the new thread starts with them blocked. */
    sigset_t block, old;
    sigemptyset(&block);
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
    for (size_t i = 0; i < HT_ARRAY_LEN(sigs); i++) sigaddset(&block, sigs[i]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_t th;
    int rc = pthread_create(&th, nullptr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (rc) return -rc;
    static_assert(sizeof(pthread_t) <= sizeof(uintptr_t), "pthread_t fits a uintptr_t");
    t->h = (uintptr_t) th;
    return 0;
}

ht_result_t ht_sys__thread_join(ht_sys_thread_t t) {
    int rc = pthread_join((pthread_t) t.h, nullptr);
    return rc ? -rc : 0;
}

/* Alignments up to max_align_t come from malloc directly; larger ones from
 * aligned_alloc (size rounded up, as C11 requires a multiple of the
 * alignment). */
void* ht_sys__mem_alloc(size_t size, size_t align) {
    if (align <= _Alignof(max_align_t)) return malloc(size ? size : 1);
    size_t rounded = (size + align - 1) & ~(align - 1);
    if (rounded < size) return nullptr;
    return aligned_alloc(align, rounded ? rounded : align);
}

void* ht_sys__mem_calloc(size_t size) { return calloc(1, size ? size : 1); }

void* ht_sys__mem_realloc(void* p, size_t old_size, size_t new_size, size_t align) {
    if (align <= _Alignof(max_align_t)) return realloc(p, new_size ? new_size : 1);
    void* q = ht_sys__mem_alloc(new_size, align);
    if (q && p) {
        memcpy(q, p, old_size < new_size ? old_size : new_size);
        free(p);
    }
    return q;
}

void ht_sys__mem_free(void* p) { free(p); }
