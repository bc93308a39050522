/* server/out.h — internal: the send buffer's hot paths, inline (taking a
 * buffer from the acceptor's cache, giving it back, sealing and emptying
 * it run once or more per response). The slow paths and growth are out.c's.
 * Included by conn.h after the types it needs. */
#ifndef HT_SERVER_OUT_H
#define HT_SERVER_OUT_H

/* Under ASan the bytes of a cached send buffer are poisoned: an iovec left
 * pointing into a buffer given back (say, one a grown batch moved out of)
 * is reported where it is read (the send's interceptor on epoll), instead of
 * reading stale bytes that happen to be right. */
#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define HT_OUT_ASAN 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(HT_OUT_ASAN)
#  define HT_OUT_ASAN 1
#endif
#ifdef HT_OUT_ASAN
#  include <sanitizer/asan_interface.h>
#  define OUT_POISON(o)   ASAN_POISON_MEMORY_REGION((o)->data, (o)->size)
#  define OUT_UNPOISON(o) ASAN_UNPOISON_MEMORY_REGION((o)->data, (o)->size)
#else
#  define OUT_POISON(o)   ((void) (o))
#  define OUT_UNPOISON(o) ((void) (o))
#endif

/* A new buffer when the cache is empty (out.c). */
ht_out_t* ht_out__new_(ht_acceptor_t* acc);
/* Closes an owned file and frees out-of-line bodies (out.c). */
void ht_out__release_(ht_out_t* o);

/* Covers data[sealed, len) with an iovec entry (extending the last one
 * when it ends where this begins). */
HT_INLINE void ht_out__seal_(ht_out_t* o) {
    if (o->len == o->sealed) return;
    uint32_t n = o->len - o->sealed;
    if (o->iovcnt && (char*) o->iov[o->iovcnt - 1].base + o->iov[o->iovcnt - 1].len == o->data + o->sealed) {
        o->iov[o->iovcnt - 1].len += n;
    } else {
        o->iov[o->iovcnt].base = o->data + o->sealed;
        o->iov[o->iovcnt].len = n;
        o->iovcnt++;
    }
    o->total += n;
    o->sealed = o->len;
}

/* Frees the out-of-line bodies, closes an owned file, empties the buffer. */
HT_INLINE void ht_out__reset_(ht_out_t* o) {
    if (HT_UNLIKELY(o->nexts || o->file_state != HT_OUT_FILE_NONE)) ht_out__release_(o);
    o->iovcnt = 0;
    o->len = o->sealed = 0;
    o->total = 0;
}

/* A send buffer from the acceptor's cache (or a new one), or nullptr. */
HT_INLINE ht_out_t* ht_out__get_(ht_acceptor_t* acc) {
    ht_out_t* o = acc->free_out_;
    if (HT_UNLIKELY(o == nullptr)) return ht_out__new_(acc);
    acc->free_out_ = o->next;
    acc->free_out_count_--;
    OUT_UNPOISON(o);
    return o;
}

/* Empties o and gives it back; a grown one, or one past the cache's size,
 * is freed (the cache holds send_buffer_size ones only). */
HT_INLINE void ht_out__put_(ht_acceptor_t* acc, ht_out_t* o) {
    ht_out__reset_(o);
    if (HT_UNLIKELY(acc->free_out_count_ >= acc->cfg_.send_buffer_cache || o->size != o->unit)) {
        ht_alloc__free(acc->alloc_, o, sizeof(ht_out_t) + o->size);
        return;
    }
    OUT_POISON(o);
    o->next = acc->free_out_;
    acc->free_out_ = o;
    acc->free_out_count_++;
}

#endif /* HT_SERVER_OUT_H */
