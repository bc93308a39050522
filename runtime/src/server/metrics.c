/* server/metrics.c — ht/metrics.h: one block per acceptor slot, written by
 * that acceptor's thread only, read by whoever renders. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ht/metrics.h>
#include <ht/response.h>

#include "server/metrics_int.h"

#define M_CLASSES 5                      /* 1xx .. 5xx */
#define M_METHODS (HT_METHOD__COUNT + 1) /* ht_method_t, then "none" */
/* Duration buckets, seconds (le). */
static const double m_le[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                               0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,  5, 10 };
#define M_BUCKETS (sizeof m_le / sizeof m_le[0])

typedef _Atomic(uint64_t) m_u64;

typedef struct m_block {
    _Atomic(bool) used;
    m_u64 requests[M_CLASSES][M_METHODS];
    m_u64 bytes;
    m_u64 bucket[M_BUCKETS];             /* not cumulative: one per bucket (render sums) */
    m_u64 dur_sum_ns;
    m_u64 dur_count;
    m_u64 open, deferred_now, deferred, cut_off, accepted;
    /* Each request writes the gauges above and reads `used`: without a
     * line between blocks, the next acceptor's `used` could share a cache
     * line with these, and every request would move it between cores.
     * A gap, not alignment: calloc promises 16 bytes. */
    char gap_[64];
} m_block_t;

struct ht_metrics {
    m_block_t w[HT_SERVER_MAX_ACCEPTORS];
};

/* A counter of the calling acceptor's own block: no other thread writes
 * it, so a relaxed load and store (no read-modify-write) is exact. */
HT_INLINE void m_add(m_u64* c, uint64_t v) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}
HT_INLINE void m_set(m_u64* c, uint64_t v) { atomic_store_explicit(c, v, memory_order_relaxed); }
HT_INLINE uint64_t m_get(const m_u64* c) {
    return atomic_load_explicit((m_u64*) c, memory_order_relaxed);
}

ht_result_t ht_metrics__create(ht_metrics_t** out) {
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void ht_metrics__free(ht_metrics_t* m) { free(m); }

void ht_metrics__gauges_(ht_acceptor_t* acc) {
    m_block_t* b = &acc->cfg_.metrics->w[acc->slot_];
    if (!atomic_load_explicit(&b->used, memory_order_relaxed))
        atomic_store_explicit(&b->used, true, memory_order_relaxed);
    m_set(&b->open, acc->stats_.open);
    m_set(&b->deferred_now, acc->stats_.deferred_now);
    m_set(&b->deferred, acc->stats_.deferred);
    m_set(&b->cut_off, acc->stats_.cut_off);
    m_set(&b->accepted, acc->stats_.accepted);
}

void ht_metrics__observe_(ht_acceptor_t* acc, uint8_t method, uint16_t status, uint64_t bytes, uint64_t dur_ns) {
    m_block_t* b = &acc->cfg_.metrics->w[acc->slot_];
    unsigned cls = status / 100;
    if (cls < 1 || cls > 5) cls = 5;
    if (method >= M_METHODS) method = M_METHODS - 1;
    m_add(&b->requests[cls - 1][method], 1);
    m_add(&b->bytes, bytes);
    double s = (double) dur_ns / 1e9;
    size_t k = 0;
    while (k < M_BUCKETS && s > m_le[k]) k++;
    if (k < M_BUCKETS) m_add(&b->bucket[k], 1);
    m_add(&b->dur_sum_ns, dur_ns);
    m_add(&b->dur_count, 1);
    ht_metrics__gauges_(acc);
}

/* ---- Rendering ---- */

typedef struct out {
    char*  p;
    size_t n, cap;
} out_t;

#if defined(__MINGW32__)
#  define M_PRINTF __attribute__((format(gnu_printf, 2, 3)))
#else
#  define M_PRINTF __attribute__((format(printf, 2, 3)))
#endif
M_PRINTF static void pr(out_t* o, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(o->n < o->cap ? o->p + o->n : nullptr, o->n < o->cap ? o->cap - o->n : 0, fmt, ap);
    va_end(ap);
    if (k > 0) o->n += (size_t) k;
}

static const char* method_label(unsigned i) {
    if (i == M_METHODS - 1) return "none";
    if (i == HT_METHOD_OTHER) return "other";
    return ht_method__name((ht_method_t) i);
}

static void head(out_t* o, const char* name, const char* type, const char* help) {
    pr(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

size_t ht_metrics__render(const ht_metrics_t* m, char* buf, size_t cap) {
    out_t o = { buf, 0, cap };
    if (cap) buf[0] = '\0';
    head(&o, "ht_requests_total", "counter", "Responses sent, by status class and request method.");
    for (unsigned w = 0; w < HT_SERVER_MAX_ACCEPTORS; w++) {
        const m_block_t* b = &m->w[w];
        if (!atomic_load_explicit((_Atomic(bool)*) &b->used, memory_order_relaxed)) continue;
        for (unsigned c = 0; c < M_CLASSES; c++)
            for (unsigned k = 0; k < M_METHODS; k++) {
                uint64_t v = m_get(&b->requests[c][k]);
                if (v) pr(&o, "ht_requests_total{worker=\"%u\",code=\"%uxx\",method=\"%s\"} %llu\n", w, c + 1,
                          method_label(k), (unsigned long long) v);
            }
    }
    static const struct { const char* name; const char* type; const char* help; size_t off; } scalars[] = {
        { "ht_response_body_bytes_total", "counter", "Body bytes of the responses sent.", offsetof(m_block_t, bytes) },
        { "ht_accepted_total", "counter", "Connections accepted.", offsetof(m_block_t, accepted) },
        { "ht_open_connections", "gauge", "Connections open now.", offsetof(m_block_t, open) },
        { "ht_deferred_in_flight", "gauge", "Deferred responses and streams in flight now.",
          offsetof(m_block_t, deferred_now) },
        { "ht_deferred_total", "counter", "Responses deferred.", offsetof(m_block_t, deferred) },
        { "ht_cut_off_total", "counter", "Deferred responses cut off (deadline, client gone, drain).",
          offsetof(m_block_t, cut_off) },
    };
    for (size_t s = 0; s < sizeof scalars / sizeof scalars[0]; s++) {
        head(&o, scalars[s].name, scalars[s].type, scalars[s].help);
        for (unsigned w = 0; w < HT_SERVER_MAX_ACCEPTORS; w++) {
            const m_block_t* b = &m->w[w];
            if (!atomic_load_explicit((_Atomic(bool)*) &b->used, memory_order_relaxed)) continue;
            const m_u64* v = (const m_u64*) ((const char*) b + scalars[s].off);
            pr(&o, "%s{worker=\"%u\"} %llu\n", scalars[s].name, w, (unsigned long long) m_get(v));
        }
    }
    head(&o, "ht_request_duration_seconds", "histogram", "From a request's dispatch to its response's end.");
    for (unsigned w = 0; w < HT_SERVER_MAX_ACCEPTORS; w++) {
        const m_block_t* b = &m->w[w];
        if (!atomic_load_explicit((_Atomic(bool)*) &b->used, memory_order_relaxed)) continue;
        /* count first: buckets written after it may only make +Inf exceed
         * the sum of the finite ones, never a bucket exceed +Inf. */
        uint64_t count = m_get(&b->dur_count), cum = 0;
        for (size_t k = 0; k < M_BUCKETS; k++) {
            cum += m_get(&b->bucket[k]);
            if (cum > count) cum = count;
            pr(&o, "ht_request_duration_seconds_bucket{worker=\"%u\",le=\"%g\"} %llu\n", w, m_le[k],
               (unsigned long long) cum);
        }
        pr(&o, "ht_request_duration_seconds_bucket{worker=\"%u\",le=\"+Inf\"} %llu\n", w, (unsigned long long) count);
        pr(&o, "ht_request_duration_seconds_sum{worker=\"%u\"} %.9f\n", w, (double) m_get(&b->dur_sum_ns) / 1e9);
        pr(&o, "ht_request_duration_seconds_count{worker=\"%u\"} %llu\n", w, (unsigned long long) count);
    }
    return o.n;
}

void ht_metrics__handler(const struct ht_config* cfg, const struct ht_request* req, struct ht_response* res,
                         struct ht_alloc* a) {
    (void) req;
    const ht_metrics_t* m = cfg->user_data;
    size_t cap = 16384;
    for (int tries = 0; tries < 4; tries++) {
        char* buf = ht_alloc__alloc(a, cap);
        if (buf == nullptr) break;
        size_t n = ht_metrics__render(m, buf, cap);
        if (n < cap) {
            (void) ht_response__status(res, 200);
            (void) ht_response__header(res, ht_slice__from_cstr("Content-Type"),
                                       ht_slice__from_cstr("text/plain; version=0.0.4; charset=utf-8"));
            (void) ht_response__body(res, buf, n, a);
            ht_alloc__free(a, buf, cap);
            return;
        }
        ht_alloc__free(a, buf, cap);
        cap = n + 1;
    }
    (void) ht_response__error(res, 500, a);
}
