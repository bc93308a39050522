/* server/out.c — send buffers: the acceptor's cache of them, their growth
 * for a response that does not fit behind pipelined ones, and their iovec
 * bookkeeping. What goes into one is the builder's (response.c); when it
 * goes out is the connection's (conn.c). */
#include <stddef.h>
#include <string.h>

#include "server/conn.h"

/* The cache's slow paths (the fast ones are inline in out.h). */
ht_out_t* ht_out__new_(ht_acceptor_t* acc) {
    ht_out_t* o = ht_alloc__alloc(acc->alloc_, sizeof(ht_out_t) + acc->cfg_.send_buffer_size);
    if (o == nullptr) return nullptr;
    memset(o, 0, sizeof *o);
    o->cap = o->size = o->unit = acc->cfg_.send_buffer_size;
    o->file = HT_FILE_INVALID;
    return o;
}

void ht_out__release_(ht_out_t* o) {
    if (o->file_state != HT_OUT_FILE_NONE && o->file_own) ht_fs__close(o->file);
    o->file_state = HT_OUT_FILE_NONE;
    o->file = HT_FILE_INVALID;
    o->file_own = 0;
    o->file_off = o->file_len = 0;
    for (uint32_t i = 0; i < o->nexts; i++)
        if (o->ext[i].a) ht_alloc__free(o->ext[i].a, o->ext[i].p, o->ext[i].n);
    o->nexts = 0;
}

ht_result_t ht_conn__out_grow_(ht_conn_t* c, ht_response_t* res, size_t need) {
    ht_acceptor_t* acc = c->acc;
    ht_out_t* o = res->out;
    uint32_t unit = o->unit;
    /* Only what an empty buffer would have held: the bound on memory (start
     * < unit, so a grown buffer is under 2 * unit; the batch ends with this
     * response, as out_has_room measures against unit). */
    if (need > unit || o->len - res->start > unit - need) return -ENOBUFS;
    uint32_t cap = res->start + unit;
    acc->stats_.out_grown++;
    if (o->size >= cap) { /* grown for an earlier batch: room in place */
        o->cap = cap;
        return 0;
    }
    ht_out_t* g = ht_alloc__alloc(acc->alloc_, sizeof(ht_out_t) + cap);
    if (g == nullptr) return -ENOMEM;
    /* Everything moves: the bytes, iovecs, out-of-line bodies, file. */
    memcpy(g, o, offsetof(ht_out_t, data) + o->len);
    g->next = nullptr;
    g->cap = g->size = cap;
    uintptr_t lo = (uintptr_t) o->data, hi = lo + o->len;
    for (uint32_t i = 0; i < g->iovcnt; i++) {
        uintptr_t b = (uintptr_t) g->iov[i].base;
        if (b >= lo && b <= hi) g->iov[i].base = g->data + (b - lo);
    }
    /* The old one is empty now (nothing of it to free or close). */
    o->nexts = o->iovcnt = 0;
    o->file_state = HT_OUT_FILE_NONE;
    o->file = HT_FILE_INVALID;
    o->file_own = 0;
    /* A deferred response builds in dout; everything else in out. */
    if (c->dout == o) c->dout = g;
    else c->out = g;
    ht_out__put_(acc, o);
    res->out = g;
    return 0;
}

void ht_out__cache_free_(ht_acceptor_t* acc) {
    ht_out_t* o;
    while ((o = acc->free_out_) != nullptr) {
        acc->free_out_ = o->next;
        OUT_UNPOISON(o);
        ht_alloc__free(acc->alloc_, o, sizeof(ht_out_t) + o->size);
    }
    acc->free_out_count_ = 0;
}
