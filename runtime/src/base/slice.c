/* base/slice.c — slice comparisons. ASCII case folding only: header names and
 * tokens are ASCII, and locale-dependent tolower() has no place here. */
#include <ht/slice.h>

static inline unsigned char fold(unsigned char c) {
    return (unsigned char) ((unsigned) c - 'A' < 26u ? c | 0x20 : c);
}

bool ht_slice__eq_nocase(ht_slice_t a, ht_slice_t b) {
    if (a.len != b.len) return false;
    for (size_t i = 0; i < a.len; i++)
        if (fold((unsigned char) a.ptr[i]) != fold((unsigned char) b.ptr[i])) return false;
    return true;
}

int ht_slice__cmp(ht_slice_t a, ht_slice_t b) {
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c) return c;
    return (a.len > b.len) - (a.len < b.len);
}

int ht_slice__cmp_nocase(ht_slice_t a, ht_slice_t b) {
    size_t n = a.len < b.len ? a.len : b.len;
    for (size_t i = 0; i < n; i++) {
        int d = fold((unsigned char) a.ptr[i]) - fold((unsigned char) b.ptr[i]);
        if (d) return d;
    }
    return (a.len > b.len) - (a.len < b.len);
}

bool ht_slice__starts_with(ht_slice_t s, ht_slice_t prefix) {
    return s.len >= prefix.len && ht_slice__eq(ht_slice__from(s.ptr, prefix.len), prefix);
}

bool ht_slice__ends_with(ht_slice_t s, ht_slice_t suffix) {
    return s.len >= suffix.len &&
           ht_slice__eq(ht_slice__from(s.ptr + s.len - suffix.len, suffix.len), suffix);
}

bool ht_slice__starts_with_nocase(ht_slice_t s, ht_slice_t prefix) {
    return s.len >= prefix.len && ht_slice__eq_nocase(ht_slice__from(s.ptr, prefix.len), prefix);
}

size_t ht_slice__find_byte(ht_slice_t s, char c) {
    const char* p = s.len ? memchr(s.ptr, c, s.len) : nullptr;
    return p ? (size_t) (p - s.ptr) : SIZE_MAX;
}

ht_slice_t ht_slice__sub(ht_slice_t s, size_t from, size_t len) {
    if (from > s.len) from = s.len;
    if (len > s.len - from) len = s.len - from;
    return ht_slice__from(s.ptr + from, len);
}

ht_slice_t ht_slice__trim_ows(ht_slice_t s) {
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) s.ptr++, s.len--;
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t')) s.len--;
    return s;
}

bool ht_slice__split(ht_slice_t* s, char sep, ht_slice_t* head) {
    size_t i = ht_slice__find_byte(*s, sep);
    if (i == SIZE_MAX) {
        *head = *s;
        *s = ht_slice__from(s->ptr + s->len, 0);
        return false;
    }
    *head = ht_slice__from(s->ptr, i);
    *s = ht_slice__from(s->ptr + i + 1, s->len - i - 1);
    return true;
}
