/* guard.h — test helper: place bytes so that they end exactly at an
 * unreadable page, so any read past the end faults (SIGSEGV) instead of
 * silently reading the next byte. */
#ifndef HT_TEST_GUARD_H
#define HT_TEST_GUARD_H

#include <check.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ht/types.h>

/* Like ck_assert_msg, but silent on success: Check's asserts record a mark
 * point (a write) each time, too slow for loops over every split offset. */
#define CHECK_MSG(cond, ...)                                                     \
    do {                                                                       \
        if (!(cond)) ck_abort_msg(__VA_ARGS__);                                \
    } while (0)

typedef struct guard {
    char*  base;  /* two mappings' worth: [base, base+size) readable, then PROT_NONE */
    size_t size;
} guard_t;

static inline guard_t guard__open(size_t max_len) {
    size_t pg   = (size_t) sysconf(_SC_PAGESIZE);
    size_t size = (max_len + pg - 1) / pg * pg;
    if (size == 0) size = pg;
    char* m = mmap(nullptr, size + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(m, MAP_FAILED);
    ck_assert_int_eq(mprotect(m + size, pg, PROT_NONE), 0);
    return (guard_t){ .base = m, .size = size };
}

/* Copies src[0, len) to end at the guard page; returns the copy. */
static inline char* guard__place(guard_t* g, const char* src, size_t len) {
    CHECK_MSG(len <= g->size, "guard: %zu bytes do not fit", len);
    char* at = g->base + g->size - len;
    if (len) memcpy(at, src, len);
    return at;
}

static inline void guard__close(guard_t* g) {
    munmap(g->base, g->size + (size_t) sysconf(_SC_PAGESIZE));
}

#endif
