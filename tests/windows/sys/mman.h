/* tests/windows/sys/mman.h — the anonymous-mapping subset of mmap(2) and
 * mprotect(2) the suites' guard pages use (tests/http/guard.h), over
 * VirtualAlloc/VirtualProtect, plus sysconf(_SC_PAGESIZE). Only the Windows
 * test targets see it (cmake/HtWindows.cmake). */
#ifndef HT_TESTS_WINDOWS_SYS_MMAN_H
#define HT_TESTS_WINDOWS_SYS_MMAN_H

#include <stddef.h>
#include <sys/types.h>

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define MAP_ANON MAP_ANONYMOUS
#define MAP_NORESERVE 0x4000
#define MAP_FAILED ((void*) -1)

static inline DWORD ck_prot_(int prot) {
    return prot & PROT_WRITE ? PAGE_READWRITE : prot & PROT_READ ? PAGE_READONLY : PAGE_NOACCESS;
}

static inline void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
    (void) addr, (void) flags, (void) off;
    if (fd != -1) return MAP_FAILED; /* anonymous mappings only */
    void* p = VirtualAlloc(NULL, len, MEM_RESERVE | MEM_COMMIT, ck_prot_(prot));
    return p ? p : MAP_FAILED;
}

static inline int munmap(void* addr, size_t len) {
    (void) len;
    return VirtualFree(addr, 0, MEM_RELEASE) ? 0 : -1;
}

static inline int mprotect(void* addr, size_t len, int prot) {
    DWORD old;
    return VirtualProtect(addr, len, ck_prot_(prot), &old) ? 0 : -1;
}

#ifndef _SC_PAGESIZE
#  define _SC_PAGESIZE 30
static inline long sysconf(int name) {
    if (name != _SC_PAGESIZE) return -1;
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return (long) si.dwPageSize;
}
#endif

#endif /* HT_TESTS_WINDOWS_SYS_MMAN_H */
