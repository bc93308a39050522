/* ht/bytes.h — a growable byte buffer, formatting, strict integer parsing.
 *
 * Ownership. An ht_bytes_t owns data[0, cap), obtained from its allocator
 * (the one given to ht_bytes__init, kept in .alloc); ht_bytes__free returns
 * it. The struct itself is caller storage. data is nullptr until the first
 * byte is pushed, and any push may move it: pointers into data stay valid
 * only until the next call that can grow the buffer.
 *
 * Contents are bytes, not a C string: nothing is NUL-terminated unless
 * ht_bytes__cstr is asked for it.
 *
 * Failure. Every growing call returns 0 or -ENOMEM (also when len + n would
 * overflow size_t). On failure the buffer is unchanged and still valid: its
 * old contents stay, it can be pushed to again or freed. Growth is
 * geometric (doubling), so n pushes cost O(n) amortised.
 *
 * Fields may be read directly; write them only through these functions.
 */
#ifndef HT_BYTES_H
#define HT_BYTES_H

#include <ht/alloc.h>
#include <ht/slice.h>
#include <stdarg.h>

HT_EXTERN_C_BEGIN

typedef struct ht_bytes {
    char*       data;  /* data[0, len) is the content; nullptr while cap == 0 */
    size_t      len;
    size_t      cap;
    ht_alloc_t* alloc; /* where data comes from and goes back to */
} ht_bytes_t;

/* Empty buffer using a; allocates nothing. */
void ht_bytes__init(ht_bytes_t* b, ht_alloc_t* a);
/* Releases data; b is empty afterwards and may be reused (same allocator). */
void ht_bytes__free(ht_bytes_t* b);
/* Ensures room for n more bytes without another allocation: cap >= len + n. */
ht_result_t ht_bytes__reserve(ht_bytes_t* b, size_t n);
/* Forgets the content, keeps the capacity (for reuse without allocating). */
HT_INLINE void ht_bytes__clear(ht_bytes_t* b) { b->len = 0; }
/* Shortens the content to len bytes (no-op if already shorter). */
HT_INLINE void ht_bytes__truncate(ht_bytes_t* b, size_t len) {
    if (len < b->len) b->len = len;
}
/* The content as a slice borrowed from b (valid until b next grows or is freed). */
HT_INLINE ht_slice_t ht_bytes__slice(const ht_bytes_t* b) {
    return ht_slice__from(b->data, b->len);
}

/* Appends n bytes from p (p may point into b itself). */
ht_result_t ht_bytes__push(ht_bytes_t* b, const void* p, size_t n);
ht_result_t ht_bytes__push_slice(ht_bytes_t* b, ht_slice_t s);
ht_result_t ht_bytes__push_byte(ht_bytes_t* b, char c);
/* Appends strlen(s) bytes (the NUL is not appended). */
ht_result_t ht_bytes__push_cstr(ht_bytes_t* b, const char* s);
/* Appends n uninitialised bytes and returns where they start (the caller
 * fills them, e.g. with read(2)), or nullptr on out-of-memory. */
char* ht_bytes__extend(ht_bytes_t* b, size_t n);

/* printf-style append (vsnprintf rules, "C" formatting as the libc does it).
 * -ENOMEM as above; -EINVAL if vsnprintf reports an encoding error. */
#if defined(__GNUC__) || defined(__clang__)
#  define HT_PRINTF_(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#  define HT_PRINTF_(fmt, args)
#endif
ht_result_t ht_bytes__pushf(ht_bytes_t* b, const char* fmt, ...) HT_PRINTF_(2, 3);
ht_result_t ht_bytes__vpushf(ht_bytes_t* b, const char* fmt, va_list ap) HT_PRINTF_(2, 0);

/* Decimal, without locale or printf: the fast path for Content-Length etc. */
ht_result_t ht_bytes__push_u64(ht_bytes_t* b, uint64_t v);
ht_result_t ht_bytes__push_i64(ht_bytes_t* b, int64_t v);
/* Lowercase hexadecimal without prefix or padding ("0", "1f"): chunk sizes. */
ht_result_t ht_bytes__push_hex(ht_bytes_t* b, uint64_t v);

/* Makes data[len] a NUL (not counted in len) and returns data, for APIs that
 * want a C string (open(2) paths). nullptr on out-of-memory. Content holding
 * a NUL of its own is the caller's concern. */
const char* ht_bytes__cstr(ht_bytes_t* b);

/* ---- Strict integer parsing. The whole slice must be the number: no
 * whitespace, no prefix ("0x"), no '+', no trailing bytes. Leading zeros are
 * accepted ("007" is 7), as RFC 9110's 1*DIGIT grammar (Content-Length,
 * chunk sizes) accepts them. Results:
 *   0                  *out set;
 *   HT_E_BAD_NUMBER    empty slice, a lone '-', or any byte outside the grammar;
 *   HT_E_OVERFLOW      syntactically valid but out of range.
 * *out is untouched on failure. */

/* 1*DIGIT, 0 .. 18446744073709551615. No sign at all. */
ht_result_t ht_bytes__parse_u64(ht_slice_t s, uint64_t* out);
/* ["-"] 1*DIGIT, -9223372036854775808 .. 9223372036854775807 ("-0" is 0). */
ht_result_t ht_bytes__parse_i64(ht_slice_t s, int64_t* out);
/* 1*HEXDIG (either case), 0 .. 0xffffffffffffffff. */
ht_result_t ht_bytes__parse_hex(ht_slice_t s, uint64_t* out);

HT_EXTERN_C_END

#endif /* HT_BYTES_H */
