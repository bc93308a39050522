/* base/alloc.c — the default (malloc) and counting allocators. */
#include <ht/alloc.h>

#include <stdlib.h>
#include <string.h>

/* ---- default: malloc/aligned_alloc. Alignments up to max_align_t come from
 * malloc directly; larger ones from aligned_alloc (size rounded up, as C11
 * requires a multiple of the alignment). ---- */

static void* default_alloc(ht_alloc_t* self, size_t size, size_t align) {
    (void) self;
    if (align <= _Alignof(max_align_t)) return malloc(size ? size : 1);
    size_t rounded = (size + align - 1) & ~(align - 1);
    if (rounded < size) return nullptr;
    return aligned_alloc(align, rounded ? rounded : align);
}

static void* default_realloc(ht_alloc_t* self, void* p, size_t old_size, size_t new_size,
                             size_t align) {
    if (align <= _Alignof(max_align_t)) return realloc(p, new_size ? new_size : 1);
    void* q = default_alloc(self, new_size, align);
    if (q && p) {
        memcpy(q, p, old_size < new_size ? old_size : new_size);
        free(p);
    }
    return q;
}

static void default_free(ht_alloc_t* self, void* p, size_t size) {
    (void) self;
    (void) size;
    free(p);
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
