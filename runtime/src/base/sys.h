/* base/sys.h — internal: the few operating-system services the portable
 * runtime needs, one implementation per platform (sys_posix.c,
 * sys_win32.c; CMake compiles exactly one). Everything else that differs
 * per platform lives in its module's own platform files (loop backends,
 * server/sock_posix.c and sock_win32.c, files/ resolve_ and listing_posix.c
 * or _win32.c, base/thread.c or thread_win32.c,
 * server/signal.c or signal_win32.c), so portable code needs no #ifdef.
 */
#ifndef HT_BASE_SYS_H
#define HT_BASE_SYS_H

#include <ht/types.h>

/* The loop's clocks (ht_loop__update_time): monotonic milliseconds, read
 * after every kernel wait, and wall-clock (Unix) milliseconds, read only when
 * the second the loop caches may have ended (a Date header's seconds: a
 * coarse clock is fine). */
uint64_t ht_sys__loop_mono_ms(void);
int64_t ht_sys__wall_ms(void);
/* The monotonic clock alone, in milliseconds (coarse). */
uint64_t ht_sys__mono_ms(void);

/* len bytes of zeroed, private, read-write memory whose pages are backed only
 * once touched (mmap MAP_NORESERVE / VirtualAlloc); nullptr on failure. */
void* ht_sys__map(size_t len);
void ht_sys__unmap(void* p, size_t len);

/* The default allocator's heap: size bytes aligned to align (a power of
 * two; up to max_align_t costs nothing extra), nullptr on failure;
 * realloc keeps the alignment; free takes what either returned. */
void* ht_sys__mem_alloc(size_t size, size_t align);
/* size zeroed bytes (alignment max_align_t) from the same heap. POSIX:
 * calloc, which leaves a block fresh from the kernel (a large one is an
 * mmap of its own) untouched, so its pages cost no RSS until written. */
void* ht_sys__mem_calloc(size_t size);
void* ht_sys__mem_realloc(void* p, size_t old_size, size_t new_size, size_t align);
void ht_sys__mem_free(void* p);

/* Yields the CPU (a spin-wait's back-off). */
void ht_sys__yield(void);

/* A joinable thread. POSIX: created with the shutdown signals (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2) blocked, so process-directed
 * signals reach the thread that started the pool; Windows delivers console
 * events on a thread of their own, there is nothing to block. */
typedef struct ht_sys_thread {
    uintptr_t h;
} ht_sys_thread_t;
/* 0 or a negated errno (-EAGAIN when the system is out of threads). */
ht_result_t ht_sys__thread_start(ht_sys_thread_t* t, void* (*fn)(void*), void* arg);
/* Waits for t to return; 0 or a negated errno. */
ht_result_t ht_sys__thread_join(ht_sys_thread_t t);

#endif /* HT_BASE_SYS_H */
