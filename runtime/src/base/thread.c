/* base/thread.c — affinity-aware CPU count and pinning (Linux). */
#include <ht/thread.h>

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(HT_OS_LINUX)

/* Reads the calling thread's mask into a CPU set big enough for it: the
 * kernel refuses (EINVAL) a set smaller than its cpumask, which can exceed
 * glibc's fixed 1024 CPUs, so grow until it fits. Returns a CPU_ALLOC'd set
 * (caller CPU_FREEs) and its size, or nullptr with errno set. */
static cpu_set_t* read_mask(size_t* size_out, int* ncpus_out) {
    for (int ncpus = 1024; ncpus <= (1 << 20); ncpus *= 2) {
        cpu_set_t* set = CPU_ALLOC((size_t) ncpus);
        if (!set) return nullptr;
        size_t size = CPU_ALLOC_SIZE((size_t) ncpus);
        CPU_ZERO_S(size, set);
        if (sched_getaffinity(0, size, set) == 0) {
            *size_out = size;
            *ncpus_out = ncpus;
            return set;
        }
        int e = errno;
        CPU_FREE(set);
        if (e != EINVAL) {
            errno = e;
            return nullptr;
        }
    }
    errno = EINVAL;
    return nullptr;
}

static uint32_t online_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t) n : 1;
}

uint32_t ht_thread__cpu_count(void) {
    size_t size;
    int ncpus;
    cpu_set_t* set = read_mask(&size, &ncpus);
    if (!set) return online_count();
    int n = CPU_COUNT_S(size, set);
    CPU_FREE(set);
    return n > 0 ? (uint32_t) n : online_count();
}

int32_t ht_thread__cpu_list(uint32_t* out, uint32_t cap) {
    size_t size;
    int ncpus;
    cpu_set_t* set = read_mask(&size, &ncpus);
    if (!set) return -errno;
    int32_t n = 0;
    for (int c = 0; c < ncpus; c++) {
        if (!CPU_ISSET_S((size_t) c, size, set)) continue;
        if ((uint32_t) n < cap) out[n] = (uint32_t) c;
        n++;
    }
    CPU_FREE(set);
    return n;
}

ht_result_t ht_thread__pin(uint32_t cpu) {
    if (cpu >= (1u << 20)) return -EINVAL;
    cpu_set_t* set = CPU_ALLOC((size_t) cpu + 1);
    if (!set) return -ENOMEM;
    size_t size = CPU_ALLOC_SIZE((size_t) cpu + 1);
    CPU_ZERO_S(size, set);
    CPU_SET_S((size_t) cpu, size, set);
    /* sched_setaffinity(0) is the calling thread, not the process. */
    int rc = sched_setaffinity(0, size, set);
    int e = errno;
    CPU_FREE(set);
    return rc == 0 ? 0 : -e;
}

#else /* not Linux: no affinity API in this build yet */

uint32_t ht_thread__cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t) n : 1;
}

int32_t ht_thread__cpu_list(uint32_t* out, uint32_t cap) {
    uint32_t n = ht_thread__cpu_count();
    for (uint32_t i = 0; i < n && i < cap; i++) out[i] = i;
    return (int32_t) n;
}

ht_result_t ht_thread__pin(uint32_t cpu) {
    (void) cpu;
    return -ENOTSUP;
}

#endif
