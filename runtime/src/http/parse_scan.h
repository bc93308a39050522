/* http/parse_scan.h — internal to parse.c: how the request parser scans bytes.
 *
 * The scans return the first byte in [p, end) outside a character class (or
 * end): field values and lines, the request-target, Host names, digits,
 * tokens. Each is a vector block loop (SSE2, 16 bytes; 32 with
 * -DHT_PARSE_USE_AVX2; a pshufb nibble table for tokens where SSSE3 exists)
 * with a scalar tail, or plain loops under -DHT_PARSE_SCALAR or without SSE2.
 * None reads at or after end (see parse.c's head comment for why and how).
 *
 * Kept apart from parse.c so that the file reads as the grammar (request line,
 * field lines, framing headers) and this one as the byte scanning it calls.
 * Everything here is static inline and has no state; only parse.c includes it
 * (and the test and bench builds that compile parse.c again under other
 * names and flags). It also defines the HT_PARSE_SSE2 / HT_PARSE_AVX2 switches
 * and IS_TCHAR that parse.c's grammar uses.
 *
 * Target: parse.c turns AVX-512 off for gcc before any include, so these
 * functions are compiled with parse.c's target; the same pragma stands here
 * so that holds whoever includes this header (it is a no-op once applied). */
#ifndef HT_HTTP_PARSE_SCAN_H
#define HT_HTTP_PARSE_SCAN_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__AVX512F__)
#  pragma GCC target("no-avx512f")
#endif

#include "http/parse.h" /* ht_http__tchar, HT_INLINE */

#include <stdint.h>

#if !defined(HT_PARSE_SCALAR) && defined(__SSE2__)
#  include <immintrin.h>
#  define HT_PARSE_SSE2 1
/* 32-byte scans are opt-in (-DHT_PARSE_USE_AVX2 with an AVX2 target): on the
 * benchmark requests, whose values are mostly shorter than 32 bytes, they
 * measured no faster than the 16-byte ones (issue 18: 1-2 % faster on 703
 * bytes, 2-3 % slower on 27; BENCHMARKS.md, "Parser"). */
#  if defined(__AVX2__) && defined(HT_PARSE_USE_AVX2)
#    define HT_PARSE_AVX2 1
#  endif
#endif

#define IS_TCHAR(c) (ht_http__tchar[(uint8_t) (c)] != 0)

/* ---- scans: the first byte in [p, end) outside a class, or end ---- */

#if HT_PARSE_SSE2
/* Mask of the bytes of v that stop a field value: CTLs (< 0x20, HTAB
 * included; the caller steps over HTAB) and DEL. obs-text (>= 0x80) passes. */
HT_INLINE unsigned value_stop16(__m128i v) {
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
    __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    return (unsigned) _mm_movemask_epi8(_mm_or_si128(ctl, del));
}
/* Mask of the bytes below 0x20 or above 0x7e, the field lines' fast class:
 * CTLs (HTAB included), DEL, and obs-text, which the caller steps over like
 * HTAB. Two operations: adding 1 moves DEL..0xff to the bottom of the signed
 * range, just under 0x00..0x1f moved to 0x01..0x20. The compare selects the
 * bytes that pass (its destination is then the sum, not a copy of a
 * constant) and the mask is inverted: the loops test it against 0xffff.
 * one and sp: every byte 1 and 0x20 (field_k_t below). */
HT_INLINE unsigned field_stop16k(__m128i v, __m128i one, __m128i sp) {
    return (unsigned) _mm_movemask_epi8(_mm_cmpgt_epi8(_mm_add_epi8(v, one), sp)) ^ 0xffffu;
}
/* Mask of the bytes that end a request-target: <= 0x20 and >= 0x7f (the
 * same, one further). */
HT_INLINE unsigned target_stop16(__m128i v) {
    return (unsigned) _mm_movemask_epi8(
        _mm_cmpgt_epi8(_mm_add_epi8(v, _mm_set1_epi8(1)), _mm_set1_epi8(0x21))) ^ 0xffffu;
}
/* All-ones lanes where lo <= byte <= hi (unsigned), in two operations: the
 * addition moves [lo, hi] to the bottom of the signed range. */
HT_INLINE __m128i in_range16(__m128i v, uint8_t lo, uint8_t hi) {
    return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char) (uint8_t) (0x80u - lo))),
                          _mm_set1_epi8((char) (uint8_t) (0x80u + hi - lo + 1u)));
}
/* Mask of the bytes that end a Host's usual name: anything but letters,
 * digits, '.' and '-' ("| 0x20" folds A-Z onto a-z and moves no other byte
 * into a-z). What follows the name is judged by the caller. */
HT_INLINE unsigned hostname_stop16(__m128i v) {
    __m128i alpha = in_range16(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
    __m128i ok    = _mm_or_si128(_mm_or_si128(alpha, in_range16(v, '0', '9')), in_range16(v, '-', '.'));
    return (unsigned) _mm_movemask_epi8(ok) ^ 0xffffu;
}
HT_INLINE unsigned digit_stop16(__m128i v) {
    return (unsigned) _mm_movemask_epi8(in_range16(v, '0', '9')) ^ 0xffffu;
}
#endif
#if HT_PARSE_AVX2
HT_INLINE __m256i in_range32(__m256i v, uint8_t lo, uint8_t hi) {
    return _mm256_cmpgt_epi8(_mm256_set1_epi8((char) (uint8_t) (0x80u + hi - lo + 1u)),
                             _mm256_add_epi8(v, _mm256_set1_epi8((char) (uint8_t) (0x80u - lo))));
}
HT_INLINE uint32_t hostname_stop32(__m256i v) {
    __m256i alpha = in_range32(_mm256_or_si256(v, _mm256_set1_epi8(0x20)), 'a', 'z');
    __m256i ok = _mm256_or_si256(_mm256_or_si256(alpha, in_range32(v, '0', '9')), in_range32(v, '-', '.'));
    return ~(uint32_t) _mm256_movemask_epi8(ok);
}
HT_INLINE uint32_t digit_stop32(__m256i v) {
    return ~(uint32_t) _mm256_movemask_epi8(in_range32(v, '0', '9'));
}
HT_INLINE uint32_t value_stop32(__m256i v) {
    __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
    __m256i del = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0x7f));
    return (uint32_t) _mm256_movemask_epi8(_mm256_or_si256(ctl, del));
}
HT_INLINE uint32_t field_stop32(__m256i v) {
    return (uint32_t) _mm256_movemask_epi8(
        _mm256_cmpgt_epi8(_mm256_set1_epi8(0x21), _mm256_add_epi8(v, _mm256_set1_epi8(1))));
}
HT_INLINE uint32_t target_stop32(__m256i v) {
    return (uint32_t) _mm256_movemask_epi8(
        _mm256_cmpgt_epi8(_mm256_set1_epi8(0x22), _mm256_add_epi8(v, _mm256_set1_epi8(1))));
}
#endif

/* Defines scan_<name>(p, end, base): the first byte in [p, end) for which the
 * class stops, or end. base is the start of the buffer: when 8 to 15 bytes
 * remain and the buffer holds 16, the last 16 bytes of the buffer are loaded
 * and the bytes before p masked off, so nothing past end is read; fewer than
 * 8 go a byte at a time, cheaper than building the class's constants (the
 * "Host: x" of a minimal request). */
#if HT_PARSE_AVX2
#  define HT_SCAN_WIDE_(stop32)                                               \
    while (end - p >= 32) {                                                   \
        uint32_t m = stop32(_mm256_loadu_si256((const __m256i*) (const void*) p)); \
        if (m) return p + __builtin_ctz(m);                                   \
        p += 32;                                                              \
    }
#else
#  define HT_SCAN_WIDE_(stop32)
#endif
/* The body of a scan: stop16(v) is an expression of the loaded vector v. */
#if HT_PARSE_SSE2
#  define HT_SCAN_BODY_(stop16, stop32, scalar_stop)                          \
    HT_SCAN_WIDE_(stop32)                                                     \
    if (end - p >= 16) { /* a fixed last start: 3 loop instructions, not 5 */ \
        const char* const last = end - 16;                                    \
        do {                                                                  \
            unsigned m = stop16(_mm_loadu_si128((const __m128i*) (const void*) p)); \
            if (m) return p + __builtin_ctz(m);                               \
            p += 16;                                                          \
        } while (p <= last);                                                  \
    }                                                                         \
    if (p == end) return end;                                                 \
    if (end - p >= 8 && end - base >= 16) {                                   \
        const char* at = end - 16;                                            \
        unsigned m = stop16(_mm_loadu_si128((const __m128i*) (const void*) at)); \
        m >>= (unsigned) (p - at);                                            \
        return m ? p + __builtin_ctz(m) : end;                                \
    }                                                                         \
    for (; p < end; p++)                                                      \
        if (scalar_stop((uint8_t) *p)) return p;                              \
    return end;
#else
#  define HT_SCAN_BODY_(stop16, stop32, scalar_stop)                          \
    (void) base;                                                              \
    while (end - p >= 4) {                                                    \
        if (scalar_stop((uint8_t) p[0])) return p;                            \
        if (scalar_stop((uint8_t) p[1])) return p + 1;                        \
        if (scalar_stop((uint8_t) p[2])) return p + 2;                        \
        if (scalar_stop((uint8_t) p[3])) return p + 3;                        \
        p += 4;                                                               \
    }                                                                         \
    for (; p < end; p++)                                                      \
        if (scalar_stop((uint8_t) *p)) return p;                              \
    return end;
#endif
#define HT_DEFINE_SCAN_(name, stop16, stop32, scalar_stop)                    \
    HT_INLINE const char* scan_##name(const char* p, const char* end,         \
                                      const char* base) {                     \
        HT_SCAN_BODY_(stop16, stop32, scalar_stop)                            \
    }

#define VALUE_STOP(c)  ((c) < 0x20 || (c) == 0x7f)
#define FIELD_STOP(c)  ((c) < 0x20 || (c) >= 0x7f)
#define TARGET_STOP(c) ((c) <= 0x20 || (c) >= 0x7f)
#define DIGIT_STOP(c)    ((unsigned) ((c) - '0') >= 10u)
#define HOSTNAME_STOP(c) ((unsigned) (((c) | 0x20) - 'a') >= 26u && DIGIT_STOP(c) && (c) != '.' && (c) != '-')
HT_DEFINE_SCAN_(value, value_stop16, value_stop32, VALUE_STOP)
/* The field scan of walk's line loop, with constants that walk builds once
 * (field_k_t): in AVX2 builds, gcc 12 otherwise rebuilds each one (mov,
 * vmovd, vpbroadcastb) wherever a scan starts, that is at every line. */
#if HT_PARSE_SSE2
typedef struct field_k {
    __m128i one, sp, colon;
} field_k_t;
#  define FIELD_K_INIT { _mm_set1_epi8(1), _mm_set1_epi8(0x20), _mm_set1_epi8(':') }
#  define FIELD_STOP16K_(v) field_stop16k((v), k->one, k->sp)
#else
typedef uint8_t field_k_t; /* nothing to keep without vectors */
#  define FIELD_K_INIT 0
#endif
HT_INLINE const char* scan_field(const char* p, const char* end, const char* base,
                                 const field_k_t* k) {
    (void) k;
    HT_SCAN_BODY_(FIELD_STOP16K_, field_stop32, FIELD_STOP)
}
HT_DEFINE_SCAN_(target, target_stop16, target_stop32, TARGET_STOP)
HT_DEFINE_SCAN_(hostname, hostname_stop16, hostname_stop32, HOSTNAME_STOP)
HT_DEFINE_SCAN_(digits, digit_stop16, digit_stop32, DIGIT_STOP)

#if HT_PARSE_SSE2 && (defined(__SSSE3__) || HT_PARSE_AVX2)
/* tchar membership by nibbles (pshufb, SSSE3/AVX2): byte b is a tchar iff bit
 * (b >> 4) of TOKEN_LO[b & 15] is set; b >= 0x80 maps to no bit. */
#  define HT_PARSE_SIMD_TOKEN 1
#  define TOKEN_LO_ (char) 0xe8, (char) 0xfc, (char) 0xf8, (char) 0xfc, (char) 0xfc, (char) 0xfc, \
                    (char) 0xfc, (char) 0xfc, (char) 0xf8, (char) 0xf8, (char) 0xf4, (char) 0x54, \
                    (char) 0xd0, (char) 0x54, (char) 0xf4, (char) 0x70
#  define TOKEN_HI_ 1, 2, 4, 8, 16, 32, 64, (char) 128, 0, 0, 0, 0, 0, 0, 0, 0
HT_INLINE unsigned token_stop16(__m128i v) {
    const __m128i lo_t = _mm_setr_epi8(TOKEN_LO_);
    const __m128i hi_t = _mm_setr_epi8(TOKEN_HI_);
    const __m128i nib  = _mm_set1_epi8(0x0f);
    __m128i lo   = _mm_and_si128(v, nib);
    __m128i hi   = _mm_and_si128(_mm_srli_epi16(v, 4), nib);
    __m128i bits = _mm_and_si128(_mm_shuffle_epi8(lo_t, lo), _mm_shuffle_epi8(hi_t, hi));
    return (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(bits, _mm_setzero_si128()));
}
#  if HT_PARSE_AVX2
HT_INLINE uint32_t token_stop32(__m256i v) {
    const __m256i lo_t = _mm256_setr_epi8(TOKEN_LO_, TOKEN_LO_);
    const __m256i hi_t = _mm256_setr_epi8(TOKEN_HI_, TOKEN_HI_);
    const __m256i nib  = _mm256_set1_epi8(0x0f);
    __m256i lo   = _mm256_and_si256(v, nib);
    __m256i hi   = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
    __m256i bits = _mm256_and_si256(_mm256_shuffle_epi8(lo_t, lo), _mm256_shuffle_epi8(hi_t, hi));
    return (uint32_t) _mm256_movemask_epi8(_mm256_cmpeq_epi8(bits, _mm256_setzero_si256()));
}
#  endif
#  define TOKEN_STOP(c) (!IS_TCHAR(c))
HT_DEFINE_SCAN_(token_simd, token_stop16, token_stop32, TOKEN_STOP)
#endif

/* The end of a token run starting at p (the first non-tchar byte, or end). */
HT_INLINE const char* scan_token_scalar(const char* p, const char* end) {
    while (end - p >= 4) {
        if (!IS_TCHAR(p[0])) return p;
        if (!IS_TCHAR(p[1])) return p + 1;
        if (!IS_TCHAR(p[2])) return p + 2;
        if (!IS_TCHAR(p[3])) return p + 3;
        p += 4;
    }
    while (p < end && IS_TCHAR(*p)) p++;
    return p;
}

/* Field names: vectors where pshufb exists. With SSE2 alone, the bytes of
 * nearly every name (letters, digits, '-'; '.' comes with them) go 16 at a
 * time through the Host scan's class, and a rarer tchar there ('_', '!', ...)
 * hands the rest of the name to the scalar loop. Short list items: scalar. */
HT_INLINE const char* scan_name(const char* p, const char* end, const char* base) {
#if HT_PARSE_SIMD_TOKEN
    return scan_token_simd(p, end, base);
#elif HT_PARSE_SSE2
    const char* q = scan_hostname(p, end, base);
    if (HT_UNLIKELY(q < end && *q != ':' && IS_TCHAR(*q))) q = scan_token_scalar(q + 1, end);
    return q;
#else
    (void) base;
    return scan_token_scalar(p, end);
#endif
}

#endif /* HT_HTTP_PARSE_SCAN_H */
