/* base/thread_win32.c — ht/thread.h on Windows: the process affinity mask
 * (one processor group, so at most 64 CPUs), SetThreadAffinityMask. */
#include <ht/thread.h>

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

static DWORD_PTR process_mask(void) {
    DWORD_PTR proc = 0, sys = 0;
    if (!GetProcessAffinityMask(GetCurrentProcess(), &proc, &sys) || proc == 0) return 1;
    return proc;
}

uint32_t ht_thread__cpu_count(void) {
    uint32_t n = (uint32_t) __builtin_popcountll((unsigned long long) process_mask());
    return n ? n : 1;
}

int32_t ht_thread__cpu_list(uint32_t* out, uint32_t cap) {
    DWORD_PTR m = process_mask();
    int32_t n = 0;
    for (uint32_t cpu = 0; cpu < 8 * sizeof m; cpu++) {
        if (!(m & ((DWORD_PTR) 1 << cpu))) continue;
        if ((uint32_t) n < cap) out[n] = cpu;
        n++;
    }
    return n;
}

ht_result_t ht_thread__pin(uint32_t cpu) {
    if (cpu >= 8 * sizeof(DWORD_PTR) || !(process_mask() & ((DWORD_PTR) 1 << cpu))) return -EINVAL;
    return SetThreadAffinityMask(GetCurrentThread(), (DWORD_PTR) 1 << cpu) ? 0 : -EINVAL;
}
