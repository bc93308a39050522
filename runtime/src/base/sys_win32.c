/* base/sys_win32.c — base/sys.h on Windows (GetTickCount64,
 * GetSystemTimeAsFileTime, VirtualAlloc, _beginthreadex). */
#include "base/sys.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <malloc.h>
#include <process.h>
#include <string.h>

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define FILETIME_UNIX_EPOCH 116444736000000000ULL

uint64_t ht_sys__loop_mono_ms(void) { return GetTickCount64(); }

int64_t ht_sys__wall_ms(void) {
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    uint64_t t = ((uint64_t) ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    return (int64_t) ((t - FILETIME_UNIX_EPOCH) / 10000u);
}

uint64_t ht_sys__mono_ms(void) { return GetTickCount64(); }

void* ht_sys__map(size_t len) {
    /* Committed pages are demand-zero: physical memory is taken on first
     * touch, as with an anonymous mmap. */
    return VirtualAlloc(nullptr, len, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

void ht_sys__unmap(void* p, size_t len) {
    (void) len;
    if (p) VirtualFree(p, 0, MEM_RELEASE);
}

/* Every block is an _aligned_malloc one (at least 16-byte aligned, what
 * malloc gives on x64), so that one free fits all. */
void* ht_sys__mem_alloc(size_t size, size_t align) {
    return _aligned_malloc(size ? size : 1, align < 16 ? 16 : align);
}

/* The CRT's aligned heap has no zeroing allocation: zeroed here. */
void* ht_sys__mem_calloc(size_t size) {
    void* p = ht_sys__mem_alloc(size, 16);
    if (p) memset(p, 0, size);
    return p;
}

void* ht_sys__mem_realloc(void* p, size_t old_size, size_t new_size, size_t align) {
    (void) old_size;
    return _aligned_realloc(p, new_size ? new_size : 1, align < 16 ? 16 : align);
}

void ht_sys__mem_free(void* p) { _aligned_free(p); }

void ht_sys__yield(void) { SwitchToThread(); }

typedef struct {
    void* (*fn)(void*);
    void* arg;
} start_t;

static unsigned __stdcall thread_entry(void* p) {
    start_t s = *(start_t*) p;
    HeapFree(GetProcessHeap(), 0, p);
    s.fn(s.arg);
    return 0;
}

ht_result_t ht_sys__thread_start(ht_sys_thread_t* t, void* (*fn)(void*), void* arg) {
    /* The trampoline's two pointers travel on the process heap (thread
     * creation is not a hot path). */
    start_t* s = HeapAlloc(GetProcessHeap(), 0, sizeof *s);
    if (!s) return -ENOMEM;
    s->fn = fn;
    s->arg = arg;
    uintptr_t h = _beginthreadex(nullptr, 0, thread_entry, s, 0, nullptr);
    if (h == 0) {
        HeapFree(GetProcessHeap(), 0, s);
        return -EAGAIN;
    }
    t->h = h;
    return 0;
}

ht_result_t ht_sys__thread_join(ht_sys_thread_t t) {
    HANDLE h = (HANDLE) t.h;
    DWORD rc = WaitForSingleObject(h, INFINITE);
    CloseHandle(h);
    return rc == WAIT_OBJECT_0 ? 0 : -EINVAL;
}

/* ---- base/win32.h ---- */

#include <winsock2.h>

#include "base/win32.h"

ht_result_t ht_win32__err(uint32_t e) {
    switch (e) {
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME: case ERROR_INVALID_DRIVE: case ERROR_DIRECTORY:
        return -ENOENT;
    case ERROR_FILENAME_EXCED_RANGE: return -ENAMETOOLONG;
    case ERROR_ACCESS_DENIED: case ERROR_SHARING_VIOLATION: case ERROR_LOCK_VIOLATION:
        return -EACCES;
    case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: return -ENOMEM;
    case ERROR_TOO_MANY_OPEN_FILES: return -EMFILE;
    case ERROR_INVALID_HANDLE: return -EBADF;
    case ERROR_INVALID_PARAMETER: return -EINVAL;
    case ERROR_HANDLE_EOF: return -EIO;
    case ERROR_OPERATION_ABORTED: return -ECANCELED;
    case ERROR_NETNAME_DELETED: case ERROR_CONNECTION_ABORTED: return -ECONNRESET;
    case ERROR_BROKEN_PIPE: return -EPIPE;
    case ERROR_NOT_SUPPORTED: return -ENOTSUP;
    default:
        if (e >= WSABASEERR && e < WSABASEERR + 2000) return ht_win32__wsa_err((int32_t) e);
        return -EIO;
    }
}

ht_result_t ht_win32__wsa_err(int32_t e) {
    switch (e) {
    case WSAEWOULDBLOCK: return -EWOULDBLOCK;
    case WSAEINTR: return -EINTR;
    case WSAEBADF: case WSAENOTSOCK: return -ENOTSOCK;
    case WSAEACCES: return -EACCES;
    case WSAEFAULT: return -EFAULT;
    case WSAEINVAL: return -EINVAL;
    case WSAEMFILE: return -EMFILE;
    case WSAENOBUFS: return -ENOBUFS;
    case WSAEADDRINUSE: return -EADDRINUSE;
    case WSAEADDRNOTAVAIL: return -EADDRNOTAVAIL;
    case WSAEAFNOSUPPORT: return -EAFNOSUPPORT;
    case WSAEPROTONOSUPPORT: return -EPROTONOSUPPORT;
    case WSAEOPNOTSUPP: return -EOPNOTSUPP;
    case WSAECONNRESET: case WSAENETRESET: return -ECONNRESET;
    case WSAECONNABORTED: return -ECONNABORTED;
    case WSAESHUTDOWN: return -EPIPE;
    case WSAENOTCONN: return -ENOTCONN;
    case WSAETIMEDOUT: return -ETIMEDOUT;
    case WSA_OPERATION_ABORTED: return -ECANCELED;
    case WSANOTINITIALISED: return -EINVAL;
    default: return -EIO;
    }
}

static INIT_ONCE wsa_once = INIT_ONCE_STATIC_INIT;
static int wsa_rc;

static BOOL CALLBACK wsa_start(PINIT_ONCE once, PVOID p, PVOID* ctx) {
    (void) once, (void) p, (void) ctx;
    WSADATA d;
    wsa_rc = WSAStartup(MAKEWORD(2, 2), &d);
    return TRUE;
}

ht_result_t ht_win32__wsa_init(void) {
    InitOnceExecuteOnce(&wsa_once, wsa_start, nullptr, nullptr);
    return wsa_rc ? ht_win32__wsa_err(wsa_rc) : 0;
}
