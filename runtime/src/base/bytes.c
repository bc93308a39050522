/* base/bytes.c — growable byte buffer, number formatting and strict parsing. */
#include <ht/bytes.h>

#include <stdio.h>
#include <string.h>

/* Smallest allocation: avoids a string of tiny reallocs for short strings. */
enum { BYTES_MIN_CAP = 64 };

void ht_bytes__init(ht_bytes_t* b, ht_alloc_t* a) {
    *b = (ht_bytes_t){ .data = nullptr, .len = 0, .cap = 0, .alloc = a };
}

void ht_bytes__free(ht_bytes_t* b) {
    if (b->data) ht_alloc__free(b->alloc, b->data, b->cap);
    b->data = nullptr;
    b->len = b->cap = 0;
}

/* Slow path of reserve: grows to at least need bytes, doubling. */
static ht_result_t bytes_grow(ht_bytes_t* b, size_t need) {
    size_t cap = b->cap > SIZE_MAX / 2 ? SIZE_MAX : b->cap * 2;
    if (cap < need) cap = need;
    if (cap < BYTES_MIN_CAP) cap = BYTES_MIN_CAP;
    char* p = ht_alloc__realloc(b->alloc, b->data, b->cap, cap);
    if (!p && cap > need) { /* doubling may be what failed: try the exact size */
        cap = need;
        p = ht_alloc__realloc(b->alloc, b->data, b->cap, cap);
    }
    if (!p) return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

ht_result_t ht_bytes__reserve(ht_bytes_t* b, size_t n) {
    if (HT_LIKELY(b->cap - b->len >= n)) return 0;
    if (n > SIZE_MAX - b->len) return -ENOMEM;
    return bytes_grow(b, b->len + n);
}

ht_result_t ht_bytes__push(ht_bytes_t* b, const void* p, size_t n) {
    if (n == 0) return 0;
    if (HT_UNLIKELY(b->cap - b->len < n)) {
        /* p may point into our own buffer, which the realloc may move. */
        const char* c = p;
        bool inside = b->data && (uintptr_t) c >= (uintptr_t) b->data &&
                      (uintptr_t) c < (uintptr_t) b->data + b->cap;
        size_t off = inside ? (size_t) (c - b->data) : 0;
        ht_result_t r = ht_bytes__reserve(b, n);
        if (r) return r;
        if (inside) p = b->data + off;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

ht_result_t ht_bytes__push_slice(ht_bytes_t* b, ht_slice_t s) {
    return ht_bytes__push(b, s.ptr, s.len);
}

ht_result_t ht_bytes__push_byte(ht_bytes_t* b, char c) {
    if (HT_UNLIKELY(b->len == b->cap)) {
        ht_result_t r = ht_bytes__reserve(b, 1);
        if (r) return r;
    }
    b->data[b->len++] = c;
    return 0;
}

ht_result_t ht_bytes__push_cstr(ht_bytes_t* b, const char* s) {
    return ht_bytes__push(b, s, strlen(s));
}

char* ht_bytes__extend(ht_bytes_t* b, size_t n) {
    /* At least one byte so that data is never nullptr here, even for n == 0. */
    if (ht_bytes__reserve(b, n ? n : 1)) return nullptr;
    char* p = b->data + b->len;
    b->len += n;
    return p;
}

ht_result_t ht_bytes__vpushf(ht_bytes_t* b, const char* fmt, va_list ap) {
    /* First try into the spare capacity; only if it does not fit, grow to the
     * exact size vsnprintf reported and format again (it needs room for its
     * NUL, which we then drop). */
    va_list ap2;
    va_copy(ap2, ap);
    size_t avail = b->cap - b->len;
    int n = vsnprintf(avail ? b->data + b->len : nullptr, avail, fmt, ap2);
    va_end(ap2);
    if (n < 0) return -EINVAL;
    if ((size_t) n >= avail) {
        ht_result_t r = ht_bytes__reserve(b, (size_t) n + 1);
        if (r) return r;
        va_copy(ap2, ap);
        int m = vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap2);
        va_end(ap2);
        if (m != n) return -EINVAL; /* the arguments changed under us: cannot happen */
    }
    b->len += (size_t) n;
    return 0;
}

ht_result_t ht_bytes__pushf(ht_bytes_t* b, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ht_result_t r = ht_bytes__vpushf(b, fmt, ap);
    va_end(ap);
    return r;
}

/* Two digits per division: half the divisions of the naive loop. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Writes v in decimal ending at end (exclusive); returns the first digit. */
static char* format_u64(char* end, uint64_t v) {
    char* p = end;
    while (v >= 100) {
        unsigned i = (unsigned) (v % 100) * 2;
        v /= 100;
        *--p = digit_pairs[i + 1];
        *--p = digit_pairs[i];
    }
    if (v >= 10) {
        unsigned i = (unsigned) v * 2;
        *--p = digit_pairs[i + 1];
        *--p = digit_pairs[i];
    } else {
        *--p = (char) ('0' + v);
    }
    return p;
}

ht_result_t ht_bytes__push_u64(ht_bytes_t* b, uint64_t v) {
    char buf[20];
    char* p = format_u64(buf + sizeof buf, v);
    return ht_bytes__push(b, p, (size_t) (buf + sizeof buf - p));
}

ht_result_t ht_bytes__push_i64(ht_bytes_t* b, int64_t v) {
    char buf[21];
    /* Negate in unsigned arithmetic: -INT64_MIN does not fit an int64_t. */
    uint64_t mag = v < 0 ? 0 - (uint64_t) v : (uint64_t) v;
    char* p = format_u64(buf + sizeof buf, mag);
    if (v < 0) *--p = '-';
    return ht_bytes__push(b, p, (size_t) (buf + sizeof buf - p));
}

ht_result_t ht_bytes__push_hex(ht_bytes_t* b, uint64_t v) {
    static const char hex[] = "0123456789abcdef";
    char buf[16];
    char* p = buf + sizeof buf;
    do {
        *--p = hex[v & 15];
        v >>= 4;
    } while (v);
    return ht_bytes__push(b, p, (size_t) (buf + sizeof buf - p));
}

const char* ht_bytes__cstr(ht_bytes_t* b) {
    if (ht_bytes__reserve(b, 1)) return nullptr;
    b->data[b->len] = '\0';
    return b->data;
}

/* ---- parsing ---- */

static ht_result_t parse_digits(const char* p, size_t n, uint64_t limit, uint64_t* out) {
    if (n == 0) return HT_E_BAD_NUMBER;
    uint64_t v = 0;
    bool over = false;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned) (unsigned char) p[i] - '0';
        if (d > 9) return HT_E_BAD_NUMBER; /* a bad byte wins over overflow */
        if (v > (limit - d) / 10) over = true;
        else v = v * 10 + d;
    }
    if (over) return HT_E_OVERFLOW;
    *out = v;
    return 0;
}

ht_result_t ht_bytes__parse_u64(ht_slice_t s, uint64_t* out) {
    return parse_digits(s.ptr, s.len, UINT64_MAX, out);
}

ht_result_t ht_bytes__parse_i64(ht_slice_t s, int64_t* out) {
    if (s.len == 0) return HT_E_BAD_NUMBER;
    bool neg = s.ptr[0] == '-';
    uint64_t limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    uint64_t v;
    ht_result_t r = parse_digits(s.ptr + neg, s.len - neg, limit, &v);
    if (r) return r;
    /* v <= 2^63: for INT64_MIN the unsigned negation wraps to its bit pattern. */
    *out = neg ? (int64_t) (0 - v) : (int64_t) v;
    return 0;
}

static inline int hex_value(unsigned char c) {
    if ((unsigned) c - '0' < 10u) return c - '0';
    c |= 0x20;
    if ((unsigned) c - 'a' < 6u) return c - 'a' + 10;
    return -1;
}

ht_result_t ht_bytes__parse_hex(ht_slice_t s, uint64_t* out) {
    if (s.len == 0) return HT_E_BAD_NUMBER;
    uint64_t v = 0;
    bool over = false;
    for (size_t i = 0; i < s.len; i++) {
        int d = hex_value((unsigned char) s.ptr[i]);
        if (d < 0) return HT_E_BAD_NUMBER;
        if (v >> 60) over = true;
        else v = (v << 4) | (unsigned) d;
    }
    if (over) return HT_E_OVERFLOW;
    *out = v;
    return 0;
}
