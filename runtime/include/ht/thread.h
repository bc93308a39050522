/* ht/thread.h — CPU count and pinning for the calling thread.
 *
 * CPU numbers are the kernel's (what sched_getcpu() returns), not indices.
 * The CPUs a thread may use are its affinity mask, which taskset(1), cgroup
 * cpusets and container runtimes narrow; everything here honours it, so a
 * process started with `taskset -c 2,3` counts 2 CPUs, and they are 2 and 3.
 * Linux: sched_getaffinity/sched_setaffinity. Windows: the process affinity
 * mask of the current processor group (so at most 64 CPUs) and
 * SetThreadAffinityMask. Nothing here allocates (masks are on the stack,
 * which caps the CPU numbers handled at 8191).
 */
#ifndef HT_THREAD_H
#define HT_THREAD_H

#include <ht/types.h>

HT_EXTERN_C_BEGIN

/* CPUs in the calling thread's affinity mask (online ones only: the kernel
 * keeps offline CPUs out of it); the online count if the mask cannot be
 * read. Always >= 1. Call it before pinning if you want the process's view:
 * a pinned thread counts 1. */
uint32_t ht_thread__cpu_count(void);

/* The CPU numbers of the calling thread's affinity mask, ascending, into
 * out[0, cap); returns how many there are in all (which may exceed cap),
 * or a negative errno if the mask cannot be read. */
int32_t ht_thread__cpu_list(uint32_t* out, uint32_t cap);

/* Pins the calling thread to CPU cpu alone. 0, or -EINVAL when cpu is not
 * one the thread may run on (not online, outside the cpuset, >= 8192), or
 * another negative errno. */
ht_result_t ht_thread__pin(uint32_t cpu);

HT_EXTERN_C_END

#endif /* HT_THREAD_H */
