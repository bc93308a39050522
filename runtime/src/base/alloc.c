/* base/alloc.c — the default (malloc) and counting allocators. */
#include <ht/alloc.h>

#include "base/sys.h"

#include <stdlib.h>
#include <string.h>

/* ---- default: the C heap, through base/sys.h (malloc/aligned_alloc on
 * POSIX; the MS CRT has no aligned_alloc, so Windows uses _aligned_malloc
 * for every block). ---- */

static void* default_alloc(ht_alloc_t* self, size_t size, size_t align) {
    (void) self;
    return ht_sys__mem_alloc(size, align);
}

static void* default_realloc(ht_alloc_t* self, void* p, size_t old_size, size_t new_size,
                             size_t align) {
    (void) self;
    return ht_sys__mem_realloc(p, old_size, new_size, align);
}

static void default_free(ht_alloc_t* self, void* p, size_t size) {
    (void) self;
    (void) size;
    ht_sys__mem_free(p);
}

ht_alloc_t* ht_alloc__init(void) {
    ht_alloc_t* a = malloc(sizeof *a);
    if (!a) return nullptr;
    *a = (ht_alloc_t){ .alloc = default_alloc, .realloc = default_realloc, .free = default_free };
    return a;
}

void ht_alloc__finalize(ht_alloc_t* a) { free(a); }

void* ht_alloc__calloc(ht_alloc_t* a, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return nullptr;
    /* The default allocator's own zeroing: a large table (the open-file
     * cache's, 136 kB) then costs RSS only for the pages it writes. */
    if (a->alloc == default_alloc) return ht_sys__mem_calloc(n * size);
    void* p = ht_alloc__alloc(a, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

/* ---- counting ---- */

static bool counting_refuse(ht_alloc_counting_t* c) {
    if (c->fail_after == SIZE_MAX) return false;
    if (c->fail_after > 0) {
        c->fail_after--;
        return false;
    }
    c->failures++;
    return true;
}

static void counting_track(ht_alloc_counting_t* c, size_t grow, size_t shrink) {
    c->live_bytes = c->live_bytes + grow - shrink;
    if (c->live_bytes > c->peak_bytes) c->peak_bytes = c->live_bytes;
}

static void* counting_alloc(ht_alloc_t* self, size_t size, size_t align) {
    ht_alloc_counting_t* c = (ht_alloc_counting_t*) self;
    if (counting_refuse(c)) return nullptr;
    void* p = c->parent->alloc(c->parent, size, align);
    if (p) {
        c->allocs++;
        counting_track(c, size, 0);
    }
    return p;
}

static void* counting_realloc(ht_alloc_t* self, void* p, size_t old_size, size_t new_size,
                              size_t align) {
    ht_alloc_counting_t* c = (ht_alloc_counting_t*) self;
    if (counting_refuse(c)) return nullptr;
    void* q = c->parent->realloc(c->parent, p, old_size, new_size, align);
    if (q) {
        if (p) c->reallocs++;
        else c->allocs++;
        counting_track(c, new_size, p ? old_size : 0);
    }
    return q;
}

static void counting_free(ht_alloc_t* self, void* p, size_t size) {
    ht_alloc_counting_t* c = (ht_alloc_counting_t*) self;
    if (!p) return;
    c->frees++;
    c->live_bytes -= size;
    c->parent->free(c->parent, p, size);
}

void ht_alloc__counting_init(ht_alloc_counting_t* c, ht_alloc_t* parent) {
    *c = (ht_alloc_counting_t){
        .base = { .alloc = counting_alloc, .realloc = counting_realloc, .free = counting_free },
        .parent = parent,
        .fail_after = SIZE_MAX,
    };
}
