/* ht/slice.h — a borrowed view of bytes.
 *
 * An ht_slice_t never owns its bytes: it points into a buffer someone else
 * keeps alive (the connection's receive buffer, a string literal, ...). Slices
 * are not NUL-terminated. Passing them by value is the convention.
 */
#ifndef HT_SLICE_H
#define HT_SLICE_H

#include <ht/types.h>
#include <string.h>

HT_EXTERN_C_BEGIN

typedef struct ht_slice {
    const char* ptr;
    size_t      len;
} ht_slice_t;

/* A slice of a string literal, without the terminating NUL. */
#if defined(__cplusplus) /* no compound literals: an aggregate temporary */
#  define HT_SLICE(lit) (ht_slice_t{ "" lit, sizeof(lit) - 1 })
#  define HT_SLICE_NULL (ht_slice_t{ nullptr, 0 })
#else
#  define HT_SLICE(lit) ((ht_slice_t){ .ptr = "" lit, .len = sizeof(lit) - 1 })
#  define HT_SLICE_NULL ((ht_slice_t){ .ptr = nullptr, .len = 0 })
#endif
/* printf("%.*s", HT_SLICE_FMT(s)) */
#define HT_SLICE_FMT(s) (int) (s).len, (s).ptr

/* Members assigned one by one: the inline code is C and C++ alike. */
HT_INLINE ht_slice_t ht_slice__from(const char* p, size_t len) {
    ht_slice_t s;
    s.ptr = p;
    s.len = len;
    return s;
}
HT_INLINE ht_slice_t ht_slice__from_cstr(const char* s) { return ht_slice__from(s, s ? strlen(s) : 0); }
HT_INLINE bool ht_slice__is_empty(ht_slice_t s) { return s.len == 0; }

/* Byte-wise equality. Inline: against a literal (HT_SLICE) the compiler
 * turns the memcmp into a load and a compare or two. */
HT_INLINE bool ht_slice__eq(ht_slice_t a, ht_slice_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
/* ASCII case-insensitive equality (header names, tokens); other bytes exact. */
bool ht_slice__eq_nocase(ht_slice_t a, ht_slice_t b);
/* memcmp-style ordering: <0, 0, >0; a shorter prefix sorts first. */
int ht_slice__cmp(ht_slice_t a, ht_slice_t b);
int ht_slice__cmp_nocase(ht_slice_t a, ht_slice_t b);
bool ht_slice__starts_with(ht_slice_t s, ht_slice_t prefix);
bool ht_slice__ends_with(ht_slice_t s, ht_slice_t suffix);
bool ht_slice__starts_with_nocase(ht_slice_t s, ht_slice_t prefix);
/* Index of the first c in s, or SIZE_MAX. */
size_t ht_slice__find_byte(ht_slice_t s, char c);
/* Sub-slice [from, from+len), clamped to s. */
ht_slice_t ht_slice__sub(ht_slice_t s, size_t from, size_t len);
/* Without leading and trailing SP / HTAB (RFC 9110 OWS). */
ht_slice_t ht_slice__trim_ows(ht_slice_t s);
/* Splits s at the first sep: *head gets what precedes it, s what follows.
 * Returns false (head = whole s, rest empty) when sep is absent. Used to walk
 * comma lists: while (s.len) { ht_slice__split(&s, ',', &item); ... } */
bool ht_slice__split(ht_slice_t* s, char sep, ht_slice_t* head);

HT_EXTERN_C_END

#endif /* HT_SLICE_H */
