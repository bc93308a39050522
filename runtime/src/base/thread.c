/* base/thread.c — affinity-aware CPU count and pinning (Linux). */
#include <ht/thread.h>

#include <sched.h>
#include <unistd.h>

#if defined(HT_OS_LINUX)

/* Masks live on the stack (no hidden allocation): 8192 CPUs, 1 KiB. The
 * kernel refuses (EINVAL) a buffer shorter than its own mask (nr_cpu_ids
 * bits); on such a machine we fall back to the online count and cannot pin
 * above CPU 8191. */
enum { MASK_CPUS = 8192, WORD_BITS = 8 * sizeof(unsigned long) };
typedef struct {
    unsigned long w[MASK_CPUS / WORD_BITS];
} mask_t;

static ht_result_t read_mask(mask_t* m) {
    *m = (mask_t){ 0 };
    /* sched_getaffinity(0) is the calling thread's mask. */
    return sched_getaffinity(0, sizeof *m, (cpu_set_t*) (void*) m) == 0 ? 0 : -errno;
}

static uint32_t online_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t) n : 1;
}

uint32_t ht_thread__cpu_count(void) {
    mask_t m;
    if (read_mask(&m)) return online_count();
    uint32_t n = 0;
    for (size_t i = 0; i < HT_ARRAY_LEN(m.w); i++) n += (uint32_t) __builtin_popcountl(m.w[i]);
    return n ? n : online_count();
}

int32_t ht_thread__cpu_list(uint32_t* out, uint32_t cap) {
    mask_t m;
    ht_result_t r = read_mask(&m);
    if (r) return r;
    int32_t n = 0;
    for (size_t i = 0; i < HT_ARRAY_LEN(m.w); i++) {
        for (unsigned long bits = m.w[i]; bits; bits &= bits - 1) {
            if ((uint32_t) n < cap) out[n] = (uint32_t) (i * WORD_BITS) + (uint32_t) __builtin_ctzl(bits);
            n++;
        }
    }
    return n;
}

ht_result_t ht_thread__pin(uint32_t cpu) {
    if (cpu >= MASK_CPUS) return -EINVAL;
    mask_t m = { 0 };
    m.w[cpu / WORD_BITS] = 1ul << (cpu % WORD_BITS);
    /* Size the call to the words in use: a kernel with a smaller mask than
     * ours accepts trailing zero words, but keep the call minimal anyway. */
    size_t size = (cpu / WORD_BITS + 1) * sizeof(unsigned long);
    return sched_setaffinity(0, size, (cpu_set_t*) (void*) &m) == 0 ? 0 : -errno;
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
