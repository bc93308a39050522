/* ht/route_rt.h — the fixed part of every route matcher htgen generates.
 *
 * A PREFIX_routes.c (htgen -> re2c) holds what depends on routes.ht: the
 * route tables, the parameter languages (re2c DFAs), the segment automaton
 * (states as code, and as tables past a size) and the captures. This
 * header holds what does not, once, for every matcher of a program: the
 * scan that finds the path's '/' (16 bytes per compare), the window
 * refill, the numeric conversions, percent-decoding, the interpreter of
 * table-driven states and the Allow formatting. Header only: nothing here
 * needs libhachettp's library, so a MATCH_ONLY matcher links without it.
 *
 * Nothing here is API for programs: names are ht_rt__x, and they change
 * with htgen. A generated file and this header come from the same version.
 */
#ifndef HT_ROUTE_RT_H
#define HT_ROUTE_RT_H

#include <ht/slice.h>
#include <ht/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

HT_EXTERN_C_BEGIN

/* ---- loads and word constants ----
 * Literal segments are compared as 2-, 4- and 8-byte words: loads of n
 * bytes at p, any alignment, and constants written as little-endian words,
 * swapped on a big-endian target. */
__attribute__((unused)) HT_INLINE uint16_t ht_rt__l16(const char* p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
__attribute__((unused)) HT_INLINE uint32_t ht_rt__l32(const char* p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
__attribute__((unused)) HT_INLINE uint64_t ht_rt__l64(const char* p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#  define HT_RT_C16(x) __builtin_bswap16(x)
#  define HT_RT_C32(x) __builtin_bswap32(x)
#  define HT_RT_C64(x) __builtin_bswap64(x)
#else
#  define HT_RT_C16(x) (x)
#  define HT_RT_C32(x) (x)
#  define HT_RT_C64(x) (x)
#endif

/* ---- the path scan: where the '/' are, 64 bytes at a time, as bits ---- */
/* *fl after a scan: the path holds a '%' (parameters need decoding), a NUL
   (no parameter language holds one: nothing matches). */
enum { HT_RT_PCT = 1, HT_RT_NUL = 2 };

__attribute__((noinline, cold, unused)) static unsigned ht_rt__which(const char* s, size_t n) {
    return (memchr(s, '%', n) ? (unsigned) HT_RT_PCT : 0u) | (memchr(s, 0, n) ? (unsigned) HT_RT_NUL : 0u);
}

/* Bit i set: p[i] is '/', for the k <= 64 bytes at p; *low is not 0 when
   they may hold a '%' or a NUL (some byte <= '%': '%', NUL, or a rare other,
   '!', '$', controls, that ht_rt__which tells apart). No call: a matcher
   that calls nothing keeps its values in the registers a call clobbers.
   Loads never pass p + k: the last 16 (8) bytes overlap the ones before. */
__attribute__((unused)) HT_INLINE uint64_t ht_rt__bits(const char* p, size_t k, unsigned* low) {
#if defined(__SSE2__)
    if (k >= 16) { /* the first 16, the last 16, then 16 .. 48 as far as k needs */
        const __m128i sl = _mm_set1_epi8('/');
        __m128i v = _mm_loadu_si128((const __m128i*) (const void*) p);
        __m128i w = _mm_loadu_si128((const __m128i*) (const void*) (p + k - 16));
        uint64_t bits = (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, sl)) |
                        (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(w, sl)) << (k - 16);
        __m128i lo = _mm_min_epu8(v, w); /* the smallest byte at each position */
        if (k > 32) {
            v = _mm_loadu_si128((const __m128i*) (const void*) (p + 16));
            bits |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, sl)) << 16;
            lo = _mm_min_epu8(lo, v);
            if (k > 48) {
                v = _mm_loadu_si128((const __m128i*) (const void*) (p + 32));
                bits |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, sl)) << 32;
                lo = _mm_min_epu8(lo, v);
            }
        }
        __m128i le = _mm_cmpeq_epi8(_mm_min_epu8(lo, _mm_set1_epi8(0x25)), lo); /* a byte <= '%' */
        *low = (unsigned) _mm_movemask_epi8(le);
        return bits;
    }
    if (k >= 8) { /* the first and the last 8 bytes, as one vector */
        __m128i v = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i*) (const void*) p),
                                       _mm_loadl_epi64((const __m128i*) (const void*) (p + k - 8)));
        unsigned ms = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')));
        __m128i le = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x25)), v);
        *low = (unsigned) _mm_movemask_epi8(le);
        return (uint64_t) (ms & 0xffu) | (uint64_t) (ms >> 8) << (k - 8);
    }
#endif
    uint64_t bits = 0;
    unsigned f = 0;
    for (size_t i = 0; i < k; i++) {
        bits |= (uint64_t) (p[i] == '/') << i;
        f |= (unsigned char) p[i] <= 0x25;
    }
    *low = f;
    return bits;
}

/* The first window: the '/' of s[0 .. 64) and, when the path ends in it,
   the end (bit n) as one more; *fl for the whole path. */
__attribute__((unused)) HT_INLINE uint64_t ht_rt__scan(const char* s, size_t n, unsigned* fl) {
    unsigned low;
    uint64_t bits = n < 64 ? ht_rt__bits(s, n, &low) | UINT64_C(1) << n : ht_rt__bits(s, 64, &low);
    *fl = __builtin_expect(low != 0 || n > 64, 0) ? ht_rt__which(s, n) : 0u;
    return bits;
}

/* The next window, when the bits ran out (paths of 64 bytes and more).
   Returned in two registers: a base whose address was taken would live on
   the stack for the whole match. */
typedef struct ht_rt_win {
    uint64_t bits;
    const char* base;
} ht_rt_win_t;
__attribute__((noinline, unused)) static ht_rt_win_t ht_rt__more(const char* wb, const char* lim) {
    for (;;) {
        unsigned low; /* not needed: ht_rt__scan looked at the whole path */
        wb += 64;
        size_t k = (size_t) (lim - wb);
        /* No compound literals: this header compiles as C++ too. */
        ht_rt_win_t w = { 0, wb };
        if (k < 64) {
            w.bits = ht_rt__bits(wb, k, &low) | UINT64_C(1) << k;
            return w;
        }
        w.bits = ht_rt__bits(wb, 64, &low);
        if (w.bits) return w;
    }
}

/* The lowest set bit's index, bits != 0. gcc widens __builtin_ctzll's int
   with one more instruction per segment; on x86-64, bsf gives it as a
   64-bit word. */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((unused)) HT_INLINE uint64_t ht_rt__low(uint64_t bits) {
    uint64_t i;
    __asm__("bsfq %1, %0" : "=r"(i) : "rm"(bits) : "cc");
    return i;
}
#else
#  define ht_rt__low(bits) ((uint64_t) __builtin_ctzll(bits))
#endif

/* One step: e becomes the end of the segment that starts after it (the
   next '/', or lim); bits is not 0 (the state refilled it first). */
#define HT_RT_NEXT(e, wb, bits)                                                                    \
    do {                                                                                           \
        (e) = (wb) + ht_rt__low(bits);                                                             \
        (bits) &= (bits) - 1;                                                                      \
    } while (0)

/* ---- parameter values ----
 * Conversions are exact: the parameter's DFA bounded the digits. */
__attribute__((unused)) static inline uint64_t ht_rt__dec(const char* p, size_t n) {
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++) v = v * 10 + (uint64_t) (p[k] - '0');
    return v;
}
__attribute__((unused)) static inline uint64_t ht_rt__hex(const char* p, size_t n) {
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned c = (unsigned char) p[k];
        v = v << 4 | (c <= '9' ? c - '0' : (c | 32u) - 'a' + 10);
    }
    return v;
}
__attribute__((unused)) static inline int64_t ht_rt__i64(const char* p, size_t n) {
    if (n && p[0] == '-') {
        uint64_t v = ht_rt__dec(p + 1, n - 1); /* <= 2^63 */
        return v ? -(int64_t) (v - 1) - 1 : 0;
    }
    return (int64_t) ht_rt__dec(p, n);
}
__attribute__((unused)) static inline int ht_rt__xv(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 32u;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The match's scratch buffer: decoded parameters and a redirect's path. */
typedef struct ht_rt_scratch {
    char* buf;
    size_t cap;
    size_t* used;
} ht_rt_scratch_t;

/* Percent-decodes *v into the scratch buffer when it holds a '%'. false: a
   bad escape, %00 (a NUL would cut the value short in C strings;
   ht_uri__decode refuses it for the same reason), or no room. Out of line
   and cold: only paths holding a '%' reach it. */
__attribute__((unused, noinline, cold)) static bool ht_rt__decode(ht_slice_t* v, ht_rt_scratch_t sc) {
    if (!memchr(v->ptr, '%', v->len)) return true;
    if (!sc.buf || sc.cap - *sc.used < v->len) return false;
    char* out = sc.buf + *sc.used;
    size_t o = 0;
    for (size_t k = 0; k < v->len; k++) {
        unsigned char c = (unsigned char) v->ptr[k];
        if (c == '%') {
            if (k + 2 >= v->len) return false;
            int h = ht_rt__xv((unsigned char) v->ptr[k + 1]);
            int l = ht_rt__xv((unsigned char) v->ptr[k + 2]);
            if (h < 0 || l < 0 || (h | l) == 0) return false;
            c = (unsigned char) (h << 4 | l);
            k += 2;
        }
        out[o++] = (char) c;
    }
    *sc.used += o;
    *v = ht_slice__from(out, o);
    return true;
}

/* The parameters of kinds (u: u64, h: hex, i: i64, d: decoded, r: rest,
   p: safe rest, s: raw), laid out as C lays out a struct of them at p, percent-decoded
   where their kind says so. false: BAD_REQUEST. */
__attribute__((unused, noinline, cold)) static bool ht_rt__decode_all(const char* kinds, void* params,
                                                                     ht_rt_scratch_t sc) {
    char* p = (char*) params;
    size_t o = 0;
    for (const char* k = kinds; *k; k++) {
        bool num = *k == 'u' || *k == 'h' || *k == 'i';
        size_t al = num ? HT_ALIGNOF(uint64_t) : HT_ALIGNOF(ht_slice_t);
        o = (o + al - 1) / al * al;
        if (*k == 'd' || *k == 'r' || *k == 'p') {
            ht_slice_t v;
            memcpy(&v, p + o, sizeof v);
            if (!ht_rt__decode(&v, sc)) return false;
            memcpy(p + o, &v, sizeof v);
        }
        o += num ? sizeof(uint64_t) : sizeof(ht_slice_t);
    }
    return true;
}

/* The query types uuid and slug as <ht/route_query.h>'s parsers and
   <ht/route_url.h>'s builders check a decoded value. */
/* uuid: 8-4-4-4-12 hex digits (the value is the text). */
__attribute__((unused)) static inline bool ht_rt__quuid(ht_slice_t v) {
    if (v.len != 36) return false;
    for (size_t k = 0; k < 36; k++)
        if (k == 8 || k == 13 || k == 18 || k == 23 ? v.ptr[k] != '-' : ht_rt__xv((unsigned char) v.ptr[k]) < 0)
            return false;
    return true;
}
/* slug: 1 or more of [A-Za-z0-9_-]. */
__attribute__((unused)) static inline bool ht_rt__qslug(ht_slice_t v) {
    if (v.len == 0) return false;
    for (size_t k = 0; k < v.len; k++) {
        unsigned char c = (unsigned char) v.ptr[k];
        if (!((c >= '0' && c <= '9') || ((c | 32u) >= 'a' && (c | 32u) <= 'z') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* A {name:path...} value, raw (before decoding): safe to join to a
   directory? Empty, or segments split by single '/', none of them empty
   ("a//b", a trailing '/'), none "." or ".." once decoded ("%2E%2e" too),
   and no backslash, "%5C", "%2F" (a '/' inside a segment, which would read
   like two) or "%00" anywhere. Malformed escapes are the decoder's. Raw
   '.' and '..' segments reach the matcher: the request parser keeps the
   target as sent. */
__attribute__((unused)) static inline bool ht_rt__safe_path(ht_slice_t v) {
    size_t k = 0;
    while (k < v.len) {
        size_t dots = 0, len = 0; /* the segment's decoded length and its '.' */
        for (; k < v.len && v.ptr[k] != '/'; len++) {
            char c = v.ptr[k];
            if (c == '\\') return false;
            if (c == '%' && v.len - k >= 3) {
                char h = v.ptr[k + 1], l = (char) (v.ptr[k + 2] | 32);
                if ((h == '2' && l == 'f') || (h == '5' && l == 'c') || (h == '0' && l == '0')) return false;
                dots += h == '2' && l == 'e';
                k += 3;
                continue;
            }
            dots += c == '.';
            k++;
        }
        if (len == 0 || (dots == len && len <= 2)) return false; /* "", ".", ".." */
        if (k < v.len) {
            k++; /* the '/' */
            if (k == v.len) return false; /* a trailing '/': an empty last segment */
        }
    }
    return true;
}

/* ---- table-driven states ----
 * Past a size, htgen writes the automaton's states as tables rather than
 * code (the C compiler's time grows with the code, not with data), and
 * ht_rt__run walks them: the same steps as a state in code, one segment
 * per step, literals by binary search, then the parameter predicates. */
typedef bool (*ht_rt_pred_fn)(const char* b, const char* e);

#define HT_RT_DEAD UINT32_MAX /* no state: nothing matches */
#define HT_RT_GO 0x80000000u  /* a next state in code: HT_RT_GO | k, k the generated file's entry */
#define HT_RT_GONE UINT32_MAX /* ht_rt__run's answer then: the cursor says where to go on */
enum { HT_RT_SINK = 1 };      /* ht_rt_state_t.flags: only rest parameters left */

typedef struct ht_rt_state {
    uint32_t fin;   /* where a path that ends here goes: row x columns (0: nothing matched) */
    uint32_t lit;   /* its literal segments: au->lit[lit .. lit + nlit), by length, then bytes */
    uint32_t to;    /* au->to[to + (mask << 1 | not empty)]: the next state for a segment that
                       is none of the literals, mask bit k: it is in predicate k's language */
    uint32_t pred;  /* au->spred[pred .. pred + npred): the predicates (into au->pred) */
    uint16_t nlit;
    uint8_t npred;
    uint8_t flags;  /* HT_RT_SINK */
    uint32_t depth; /* segments read before this state: se[depth + 1] gets the next end */
} ht_rt_state_t;

typedef struct ht_rt_lit {
    uint64_t head; /* its first 8 bytes (fewer: zero-padded) as a little-endian word */
    uint32_t off;  /* all its bytes: au->bytes + off */
    uint32_t len;
    uint32_t to;   /* the next state */
} ht_rt_lit_t;
/* A state's literals are ordered by length, then head, then the bytes past
   the first 8. */

/* Where a walk is: the segments read up to e (a '/' or lim), the '/' of
   window wb still ahead in bits, and the state (HT_RT_GO | k: one in code). */
typedef struct ht_rt_cur {
    const char* e;
    uint64_t bits;
    const char* wb;
    uint32_t s;
} ht_rt_cur_t;

typedef struct ht_rt_au {
    const ht_rt_state_t* st;
    const ht_rt_lit_t* lit;
    const uint32_t* to;
    const uint16_t* spred;
    const ht_rt_pred_fn* pred;
    const char* bytes;
} ht_rt_au_t;

/* memcmp's order for n bytes, as a loop: past the head word, literals
   rarely differ late (and memcmp's bound on an empty table would alarm
   gcc's -Wstringop-overread). */
__attribute__((unused)) static inline int ht_rt__cmp(const char* x, const char* y, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return (unsigned char) x[i] < (unsigned char) y[i] ? -1 : 1;
    return 0;
}

/* Runs the table states from the cursor's, to where the path ends:
   returns that state's row x columns (0: nothing matched), or HT_RT_GONE
   when the walk reaches a state in code (the cursor is then at it, its
   s the HT_RT_GO | k of the table). */
__attribute__((unused)) static inline uint32_t ht_rt__run(const ht_rt_au_t* au, ht_rt_cur_t* k, const char* lim,
                                                         const char** se) {
    const char* e = k->e;
    uint64_t bits = k->bits;
    const char* wb = k->wb;
    uint32_t s = k->s;
    for (;;) {
        const ht_rt_state_t* st = &au->st[s];
        if (st->flags & HT_RT_SINK) return st->fin;
        if (__builtin_expect(!bits, 0)) {
            if (e == lim) return st->fin;
            ht_rt_win_t w = ht_rt__more(wb, lim);
            bits = w.bits;
            wb = w.base;
        }
        const char* b = e + 1;
        HT_RT_NEXT(e, wb, bits);
        se[st->depth + 1] = e;
        size_t n = (size_t) (e - b);
        /* a literal: binary search by (length, head, the rest) */
        const ht_rt_lit_t* lits = au->lit + st->lit;
        size_t lo = 0, hi = st->nlit;
        uint32_t to = HT_RT_DEAD;
        if (hi) {
            uint64_t h = 0;
            if (n >= 8 || lim - b >= 8) { /* within the path */
                h = ht_rt__l64(b);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                h = __builtin_bswap64(h);
#endif
                if (n < 8) h &= (UINT64_C(1) << (8 * n)) - 1;
            } else {
                for (size_t q = 0; q < n; q++) h |= (uint64_t) (unsigned char) b[q] << (8 * q);
            }
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const ht_rt_lit_t* l = &lits[mid];
                int c = l->len != n ? (l->len < n ? -1 : 1)
                      : l->head != h ? (l->head < h ? -1 : 1)
                      : n <= 8 ? 0 : ht_rt__cmp(au->bytes + l->off + 8, b + 8, n - 8);
                if (c == 0) {
                    to = l->to;
                    break;
                }
                if (c < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
        }
        if (to == HT_RT_DEAD) {
            /* else by the predicates it meets */
            unsigned x = b != e;
            for (unsigned q = 0; q < st->npred; q++)
                x |= (unsigned) au->pred[au->spred[st->pred + q]](b, e) << (q + 1);
            to = au->to[st->to + x];
            if (to == HT_RT_DEAD) return 0;
        }
        if (to & HT_RT_GO) {
            k->e = e;
            k->bits = bits;
            k->wb = wb;
            k->s = to;
            return HT_RT_GONE;
        }
        s = to;
    }
}

/* ---- methods ----
 * The column of a method token in a file's method table (methods[k] is
 * column k + 1), 0 when no route has it. */
__attribute__((unused)) static inline unsigned ht_rt__method_col(const char* const* methods, int n,
                                                                ht_slice_t method) {
    for (int k = 0; k < n; k++)
        if (strlen(methods[k]) == method.len && memcmp(methods[k], method.ptr, method.len) == 0)
            return (unsigned) k + 1;
    return 0;
}

/* "GET, HEAD, OPTIONS" for an allow mask (bit k: methods[k]); returns the
   length it needs, writes at most cap bytes, NUL-terminated when cap > 0. */
__attribute__((unused)) static inline size_t ht_rt__allow_format(const char* const* methods, int n, uint64_t allow,
                                                                char* buf, size_t cap) {
    size_t need = 0;
    for (int k = 0; k < n; k++) {
        if (!(allow >> k & 1)) continue;
        const char* name = methods[k];
        size_t l = strlen(name);
        for (int part = need ? 0 : 1; part < 2; part++) {
            const char* src = part ? name : ", ";
            size_t sl = part ? l : 2;
            for (size_t q = 0; q < sl; q++, need++)
                if (need + 1 < cap) buf[need] = src[q];
        }
    }
    if (cap) buf[need < cap ? need : cap - 1] = '\0';
    return need;
}

/* ---- trailing_slash redirect ----
 * Does the other form of path s[0 .. n) (a trailing '/' removed, or one
 * added in the scratch buffer) match some route? probe(path, m) matches it.
 * true: *to is that form. */
__attribute__((noinline, cold, unused)) static bool ht_rt__slash(const char* s, size_t n, ht_rt_scratch_t sc,
                                                                bool (*probe)(ht_slice_t path, void* m), void* m,
                                                                ht_slice_t* to) {
    if (n > 1 && s[n - 1] == '/') {
        if (!probe(ht_slice__from(s, n - 1), m)) return false;
        *to = ht_slice__from(s, n - 1);
        return true;
    }
    size_t used = *sc.used;
    if (!sc.buf || sc.cap - used < n + 1) return false;
    char* t = sc.buf + used;
    memcpy(t, s, n);
    t[n] = '/';
    if (!probe(ht_slice__from(t, n + 1), m)) return false;
    *sc.used = used + n + 1;
    *to = ht_slice__from(t, n + 1);
    return true;
}

/* `host` blocks (dsl/host.c): a block's pseudo-segment, a blank and its
   pattern in lower case (" api.example.com", " *.example.com"). */
typedef struct ht_rt_host {
    const char* seg;
    uint32_t len; /* of seg */
    bool wild;    /* "*.SUFFIX" */
} ht_rt_host_t;

/* Whether a (n bytes, any case) equals the lower-case ASCII b. */
__attribute__((unused)) static inline bool ht_rt__host_eq(const char* a, const char* b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) a[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char) (c + 32);
        if (c != (unsigned char) b[i]) return false;
    }
    return true;
}

/* The block of hosts[0 .. n) (exact names first, then wildcards, longest
   suffix first) for a Host value: ASCII case-insensitive, a ":port" and a
   final '.' dropped; "*.SUFFIX" matches one or more whole labels before
   ".SUFFIX", not SUFFIX itself. Its index, or -1. */
__attribute__((unused)) static inline int ht_rt__host_block(ht_slice_t host, const ht_rt_host_t* hosts, int n) {
    size_t len = host.len;
    for (size_t i = len; i > 0; i--) { /* ":8080" */
        char c = host.ptr[i - 1];
        if (c == ':') {
            len = i - 1;
            break;
        }
        if (c < '0' || c > '9') break;
    }
    if (len && host.ptr[len - 1] == '.') len--;
    for (int k = 0; k < n; k++) {
        const char* p = hosts[k].seg + 1;
        size_t pl = hosts[k].len - 1;
        if (!hosts[k].wild) {
            if (len == pl && ht_rt__host_eq(host.ptr, p, len)) return k;
            continue;
        }
        size_t sl = pl - 1; /* ".SUFFIX" */
        if (len < sl + 1 || !ht_rt__host_eq(host.ptr + len - sl, p + 1, sl)) continue;
        size_t q = len - sl; /* the labels before: no empty one */
        bool ok = host.ptr[0] != '.' && host.ptr[q - 1] != '.';
        for (size_t i = 1; ok && i < q; i++) ok = !(host.ptr[i] == '.' && host.ptr[i - 1] == '.');
        if (ok) return k;
    }
    return -1;
}

HT_EXTERN_C_END

#endif /* HT_ROUTE_RT_H */
