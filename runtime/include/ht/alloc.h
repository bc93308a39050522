/* ht/alloc.h — the pluggable allocator.
 *
 * Everything in libhachettp that allocates takes an ht_alloc_t*; nothing calls
 * malloc behind the caller's back. An allocator is used from one thread at a
 * time (each worker owns its own), so implementations need no locking.
 *
 * The vtable passes sizes back on free/realloc so that arena and size-class
 * allocators need no headers. Callers must pass the size they allocated.
 */
#ifndef HT_ALLOC_H
#define HT_ALLOC_H

#include <ht/types.h>

HT_EXTERN_C_BEGIN

typedef struct ht_alloc ht_alloc_t;

struct ht_alloc {
    /* Returns size bytes aligned to align (a power of two, <= 4096), or nullptr. */
    void* (*alloc)(ht_alloc_t* self, size_t size, size_t align);
    /* Grows or shrinks p (from alloc, of old_size bytes); nullptr p acts as alloc.
     * On failure returns nullptr and p stays valid. */
    void* (*realloc)(ht_alloc_t* self, void* p, size_t old_size, size_t new_size, size_t align);
    /* Releases p (nullptr is a no-op); size is what was asked for. */
    void (*free)(ht_alloc_t* self, void* p, size_t size);
};

/* The default (malloc-backed) allocator. Returns a new instance owned by the
 * caller, released with ht_alloc__finalize; nullptr if out of memory. */
ht_alloc_t* ht_alloc__init(void);
void ht_alloc__finalize(ht_alloc_t* a);

/* Convenience wrappers over the vtable (alignment: max_align_t). */
HT_INLINE void* ht_alloc__alloc(ht_alloc_t* a, size_t size) {
    return a->alloc(a, size, HT_ALIGNOF(max_align_t));
}
HT_INLINE void* ht_alloc__realloc(ht_alloc_t* a, void* p, size_t old_size, size_t new_size) {
    return a->realloc(a, p, old_size, new_size, HT_ALIGNOF(max_align_t));
}
HT_INLINE void ht_alloc__free(ht_alloc_t* a, void* p, size_t size) {
    a->free(a, p, size);
}
/* Zeroed allocation of n objects of size each; nullptr on overflow or OOM. */
void* ht_alloc__calloc(ht_alloc_t* a, size_t n, size_t size);

/* A counting allocator that forwards to parent and records every call: the
 * tool behind "no allocation on the hot path" tests. Not thread-safe. It can
 * also be told to fail: once fail_after further successful allocations have
 * happened, every later alloc/realloc returns nullptr (SIZE_MAX = never). */
typedef struct ht_alloc_counting {
    ht_alloc_t  base;        /* pass &c.base wherever an ht_alloc_t* goes */
    ht_alloc_t* parent;
    uint64_t    allocs;      /* successful alloc calls (realloc of nullptr included) */
    uint64_t    reallocs;    /* successful realloc calls on a non-null pointer */
    uint64_t    frees;       /* free calls on a non-null pointer */
    uint64_t    failures;    /* calls refused by fail_after */
    size_t      live_bytes;  /* currently allocated */
    size_t      peak_bytes;
    size_t      fail_after;
} ht_alloc_counting_t;

void ht_alloc__counting_init(ht_alloc_counting_t* c, ht_alloc_t* parent);

HT_EXTERN_C_END

#endif /* HT_ALLOC_H */
