/* check_bytes: growable buffer (growth, aliasing, out-of-memory), formatting,
 * strict integer parsing. */
#include <check.h>
#include <ht/bytes.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wchar.h>

static ht_alloc_t* parent;
static ht_alloc_counting_t counting;
static ht_alloc_t* a; /* &counting.base */

static void setup(void) {
    parent = ht_alloc__init();
    ht_alloc__counting_init(&counting, parent);
    a = &counting.base;
}
static void teardown(void) {
    ck_assert_uint_eq(counting.live_bytes, 0); /* every test frees what it took */
    ht_alloc__finalize(parent);
}

static bool content_is(const ht_bytes_t* b, const char* want) {
    return ht_slice__eq(ht_bytes__slice(b), ht_slice__from_cstr(want));
}

/* ---- buffer ---- */

START_TEST(init_allocates_nothing) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    ck_assert_ptr_eq(b.alloc, a);
    ck_assert_uint_eq(counting.allocs, 0);
    ck_assert_uint_eq(ht_bytes__push(&b, nullptr, 0), 0); /* empty push: no allocation */
    ck_assert_uint_eq(counting.allocs, 0);
    ht_bytes__free(&b);
    ck_assert_uint_eq(counting.frees, 0);
    ht_bytes__free(&b); /* twice is harmless */
}
END_TEST

START_TEST(growth_is_geometric) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    enum { N = 100000 };
    size_t last_cap = 0, grows = 0;
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(ht_bytes__push_byte(&b, (char) ('a' + i % 26)), 0);
        if (b.cap != last_cap) {
            ck_assert_uint_ge(b.cap, 2 * last_cap); /* at least doubling */
            last_cap = b.cap;
            grows++;
        }
    }
    ck_assert_uint_eq(b.len, N);
    for (size_t i = 0; i < N; i++) ck_assert_int_eq(b.data[i], 'a' + (int) (i % 26));
    /* 64 .. 131072: 12 steps; linear growth would take thousands. */
    ck_assert_uint_le(grows, 12);
    ck_assert_uint_eq(counting.allocs + counting.reallocs, grows);
    ck_assert_uint_eq(counting.live_bytes, b.cap);
    ht_bytes__free(&b);
    ck_assert_uint_eq(counting.frees, 1);
}
END_TEST

START_TEST(reserve_then_push_does_not_allocate) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ck_assert_int_eq(ht_bytes__push_cstr(&b, "head"), 0);
    ck_assert_int_eq(ht_bytes__reserve(&b, 1000), 0);
    ck_assert_uint_ge(b.cap, 1004);
    uint64_t before = counting.allocs + counting.reallocs;
    for (int i = 0; i < 1000; i++) ck_assert_int_eq(ht_bytes__push_byte(&b, 'x'), 0);
    ck_assert_uint_eq(counting.allocs + counting.reallocs, before);
    ck_assert_uint_eq(b.len, 1004);
    ck_assert_int_eq(ht_bytes__reserve(&b, 0), 0);
    ht_bytes__free(&b);
}
END_TEST

START_TEST(clear_keeps_capacity) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ck_assert_int_eq(ht_bytes__push_cstr(&b, "hello world"), 0);
    size_t cap = b.cap;
    char* data = b.data;
    ht_bytes__truncate(&b, 5);
    ck_assert(content_is(&b, "hello"));
    ht_bytes__truncate(&b, 50); /* longer: no-op */
    ck_assert(content_is(&b, "hello"));
    ht_bytes__clear(&b);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, cap);
    ck_assert_ptr_eq(b.data, data);
    ck_assert_int_eq(ht_bytes__push_cstr(&b, "again"), 0);
    ck_assert(content_is(&b, "again"));
    ck_assert_uint_eq(counting.allocs + counting.reallocs, 1);
    ht_bytes__free(&b);
}
END_TEST

START_TEST(push_variants) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ck_assert_int_eq(ht_bytes__push(&b, "ab\0c", 4), 0); /* bytes, NUL included */
    ck_assert_int_eq(ht_bytes__push_slice(&b, HT_SLICE("|sl")), 0);
    ck_assert_int_eq(ht_bytes__push_byte(&b, '|'), 0);
    ck_assert_int_eq(ht_bytes__push_cstr(&b, "cs"), 0);
    ck_assert_int_eq(ht_bytes__push_cstr(&b, ""), 0);
    ck_assert_int_eq(ht_bytes__push_slice(&b, HT_SLICE_NULL), 0);
    ck_assert_uint_eq(b.len, 10);
    ck_assert_int_eq(memcmp(b.data, "ab\0c|sl|cs", 10), 0);
    ht_bytes__free(&b);
}
END_TEST

START_TEST(push_from_itself_survives_growth) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ck_assert_int_eq(ht_bytes__push_cstr(&b, "0123456789"), 0);
    /* Each push doubles the content from its own (moving) storage. ASan
     * catches a read from the freed old block. */
    for (int i = 0; i < 12; i++) ck_assert_int_eq(ht_bytes__push(&b, b.data, b.len), 0);
    ck_assert_uint_eq(b.len, 10u << 12);
    for (size_t i = 0; i < b.len; i++) ck_assert_int_eq(b.data[i], '0' + (int) (i % 10));
    /* A tail sub-range of itself, too. */
    size_t len = b.len;
    ck_assert_int_eq(ht_bytes__push(&b, b.data + len - 3, 3), 0);
    ck_assert_int_eq(memcmp(b.data + len, "789", 3), 0);
    ht_bytes__free(&b);
}
END_TEST

START_TEST(extend_and_cstr) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ck_assert_str_eq(ht_bytes__cstr(&b), "");
    ck_assert_uint_eq(b.len, 0);
    char* p = ht_bytes__extend(&b, 3);
    ck_assert_ptr_nonnull(p);
    memcpy(p, "xyz", 3);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_ptr_nonnull(ht_bytes__extend(&b, 0));
    ck_assert_uint_eq(b.len, 3);
    ck_assert_str_eq(ht_bytes__cstr(&b), "xyz");
    ck_assert_uint_eq(b.len, 3); /* the NUL is not content */
    ck_assert_int_eq(ht_bytes__push_byte(&b, '!'), 0);
    ck_assert_str_eq(ht_bytes__cstr(&b), "xyz!");
    ht_bytes__free(&b);
}
END_TEST

/* Every growing call, refused by the allocator, returns -ENOMEM and leaves
 * the buffer exactly as it was; the buffer keeps working afterwards. */
START_TEST(out_of_memory_leaves_buffer_valid) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    counting.fail_after = 0;
    ck_assert_int_eq(ht_bytes__push_byte(&b, 'x'), -ENOMEM);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    counting.fail_after = SIZE_MAX;

    ck_assert_int_eq(ht_bytes__push_cstr(&b, "keep"), 0);
    ht_bytes__truncate(&b, 4);
    char big[200];
    memset(big, 'B', sizeof big);
    counting.fail_after = 0;
    char* data = b.data;
    size_t cap = b.cap;
    ht_result_t r[10];
    r[0] = ht_bytes__push(&b, big, sizeof big);
    r[1] = ht_bytes__push_slice(&b, ht_slice__from(big, sizeof big));
    r[2] = ht_bytes__reserve(&b, 1000);
    r[3] = ht_bytes__pushf(&b, "%0200d", 7);
    ck_assert_ptr_null(ht_bytes__extend(&b, 500));
    /* Fill to capacity, then every one-more-byte call must fail. */
    while (b.len < b.cap) ck_assert_int_eq(ht_bytes__push_byte(&b, '.'), 0);
    size_t full = b.len;
    r[4] = ht_bytes__push_byte(&b, 'x');
    r[5] = ht_bytes__push_cstr(&b, "x");
    r[6] = ht_bytes__push_u64(&b, 1);
    r[7] = ht_bytes__push_i64(&b, -1);
    r[8] = ht_bytes__push_hex(&b, 1);
    r[9] = ht_bytes__pushf(&b, "x");
    ck_assert_ptr_null(ht_bytes__cstr(&b));
    for (size_t i = 0; i < HT_ARRAY_LEN(r); i++) ck_assert_int_eq(r[i], -ENOMEM);
    ck_assert_ptr_eq(b.data, data);
    ck_assert_uint_eq(b.cap, cap);
    ck_assert_uint_eq(b.len, full);
    ck_assert_int_eq(memcmp(b.data, "keep", 4), 0);
    ck_assert_uint_ge(counting.failures, 10);

    counting.fail_after = SIZE_MAX; /* memory is back: it carries on */
    ck_assert_int_eq(ht_bytes__push(&b, big, sizeof big), 0);
    ck_assert_uint_eq(b.len, full + sizeof big);
    ck_assert_int_eq(memcmp(b.data, "keep", 4), 0);
    ht_bytes__free(&b);
}
END_TEST

START_TEST(size_overflow_is_enomem) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ck_assert_int_eq(ht_bytes__push_cstr(&b, "abc"), 0);
    ck_assert_int_eq(ht_bytes__reserve(&b, SIZE_MAX), -ENOMEM);
    ck_assert_int_eq(ht_bytes__reserve(&b, SIZE_MAX - 2), -ENOMEM);
    ck_assert_ptr_null(ht_bytes__extend(&b, SIZE_MAX));
    ck_assert(content_is(&b, "abc"));
    ht_bytes__free(&b);
}
END_TEST

/* An allocator that refuses any block above a size limit: shows that a
 * refused doubling falls back to the exact size needed. */
typedef struct {
    ht_alloc_t  base;
    ht_alloc_t* parent;
    size_t      limit;
} limit_alloc_t;
static void* limit_alloc(ht_alloc_t* self, size_t size, size_t align) {
    limit_alloc_t* l = (limit_alloc_t*) self;
    return size > l->limit ? nullptr : l->parent->alloc(l->parent, size, align);
}
static void* limit_realloc(ht_alloc_t* self, void* p, size_t old, size_t size, size_t align) {
    limit_alloc_t* l = (limit_alloc_t*) self;
    return size > l->limit ? nullptr : l->parent->realloc(l->parent, p, old, size, align);
}
static void limit_free(ht_alloc_t* self, void* p, size_t size) {
    limit_alloc_t* l = (limit_alloc_t*) self;
    l->parent->free(l->parent, p, size);
}

START_TEST(refused_doubling_falls_back_to_exact) {
    limit_alloc_t l = { { limit_alloc, limit_realloc, limit_free }, a, 100 };
    ht_bytes_t b;
    ht_bytes__init(&b, &l.base);
    for (int i = 0; i < 64; i++) ck_assert_int_eq(ht_bytes__push_byte(&b, 'x'), 0);
    ck_assert_uint_eq(b.cap, 64);
    ck_assert_int_eq(ht_bytes__push_byte(&b, 'y'), 0); /* 128 refused, 65 granted */
    ck_assert_uint_eq(b.cap, 65);
    ck_assert_int_eq(ht_bytes__push(&b, "0123456789012345678901234567890123456", 36), -ENOMEM);
    ck_assert_uint_eq(b.len, 65);
    ck_assert_int_eq(b.data[64], 'y');
    ht_bytes__free(&b);
}
END_TEST

/* ---- formatting ---- */

START_TEST(pushf_formats) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ck_assert_int_eq(ht_bytes__pushf(&b, "%d-%s-%05.1f-%c%%", -42, "str", 3.14159, 'z'), 0);
    ck_assert(content_is(&b, "-42-str-003.1-z%"));
    ck_assert_int_eq(ht_bytes__pushf(&b, "%s", ""), 0);
    ck_assert(content_is(&b, "-42-str-003.1-z%"));
    /* Appends after existing content; grows when it does not fit. */
    ck_assert_int_eq(ht_bytes__pushf(&b, "|%0300d|", 5), 0);
    ck_assert_uint_eq(b.len, 16 + 302);
    ck_assert_int_eq(b.data[16], '|');
    for (size_t i = 17; i < 16 + 300; i++) ck_assert_int_eq(b.data[i], '0');
    ck_assert_int_eq(b.data[16 + 300], '5');
    ck_assert_int_eq(b.data[16 + 301], '|');
    /* Fits exactly into the spare capacity: vsnprintf's NUL needs one more
     * byte, which must not be mistaken for truncated output. */
    ht_bytes__clear(&b);
    size_t cap = b.cap;
    ck_assert_int_eq(ht_bytes__pushf(&b, "%0*d", (int) cap, 1), 0);
    ck_assert_uint_eq(b.len, cap);
    ck_assert_int_eq(b.data[cap - 1], '1');
    ck_assert_int_eq(b.data[0], '0');
    ht_bytes__free(&b);
}
END_TEST

START_TEST(pushf_encoding_error_is_einval) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ck_assert_int_eq(ht_bytes__push_cstr(&b, "ok"), 0);
    /* In the "C" locale a wide character outside ASCII cannot be converted. */
    ck_assert_int_eq(ht_bytes__pushf(&b, "x%lcy", (wint_t) 0x263A), -EINVAL);
    ck_assert(content_is(&b, "ok"));
    ht_bytes__free(&b);
}
END_TEST

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void) { /* xorshift64*: reproducible */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717u;
}

/* Values at every decimal and hex digit-count boundary plus random ones. */
static size_t interesting_values(uint64_t* v, size_t cap) {
    size_t n = 0;
    v[n++] = 0;
    v[n++] = UINT64_MAX;
    v[n++] = (uint64_t) INT64_MAX;
    v[n++] = (uint64_t) INT64_MAX + 1;
    for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10) {
        v[n++] = p - 1;
        v[n++] = p;
        v[n++] = p + 1;
        v[n++] = p * 10 - 1;
    }
    for (int s = 0; s < 64; s++) {
        v[n++] = (uint64_t) 1 << s;
        v[n++] = ((uint64_t) 1 << s) - 1;
    }
    while (n < cap) {
        uint64_t r = rng();
        v[n++] = r >> (r % 64); /* spread over all lengths */
    }
    return n;
}

START_TEST(decimal_and_hex_match_printf) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    static uint64_t vals[5000];
    size_t n = interesting_values(vals, HT_ARRAY_LEN(vals));
    char want[64];
    for (size_t i = 0; i < n; i++) {
        uint64_t v = vals[i];
        ht_bytes__clear(&b);
        ck_assert_int_eq(ht_bytes__push_u64(&b, v), 0);
        snprintf(want, sizeof want, "%" PRIu64, v);
        ck_assert_msg(content_is(&b, want), "u64 %s", want);

        ht_bytes__clear(&b);
        ck_assert_int_eq(ht_bytes__push_i64(&b, (int64_t) v), 0);
        snprintf(want, sizeof want, "%" PRId64, (int64_t) v);
        ck_assert_msg(content_is(&b, want), "i64 %s", want);

        ht_bytes__clear(&b);
        ck_assert_int_eq(ht_bytes__push_i64(&b, -(int64_t) (v >> 1)), 0);
        snprintf(want, sizeof want, "%" PRId64, -(int64_t) (v >> 1));
        ck_assert_msg(content_is(&b, want), "i64 %s", want);

        ht_bytes__clear(&b);
        ck_assert_int_eq(ht_bytes__push_hex(&b, v), 0);
        snprintf(want, sizeof want, "%" PRIx64, v);
        ck_assert_msg(content_is(&b, want), "hex %s", want);
    }
    ht_bytes__clear(&b);
    ck_assert_int_eq(ht_bytes__push_i64(&b, INT64_MIN), 0);
    ck_assert(content_is(&b, "-9223372036854775808"));
    ht_bytes__clear(&b); /* appends, no separator */
    ck_assert_int_eq(ht_bytes__push_u64(&b, 12), 0);
    ck_assert_int_eq(ht_bytes__push_hex(&b, 255), 0);
    ck_assert_int_eq(ht_bytes__push_i64(&b, -3), 0);
    ck_assert(content_is(&b, "12ff-3"));
    ht_bytes__free(&b);
}
END_TEST

/* ---- parsing ---- */

typedef struct {
    const char* in;
    size_t      len; /* 0: strlen(in) */
    ht_result_t r;
    uint64_t    v;
} parse_case_t;

#define OK(s, val) { s, 0, 0, val }
#define ERR(s, e)  { s, 0, e, 0 }

static ht_slice_t case_slice(const parse_case_t* c) {
    return ht_slice__from(c->in, c->len ? c->len : strlen(c->in));
}

START_TEST(parse_u64_rules) {
    static const parse_case_t cases[] = {
        OK("0", 0),
        OK("7", 7),
        OK("007", 7), /* leading zeros: 1*DIGIT allows them */
        OK("1234567890", 1234567890u),
        OK("18446744073709551615", UINT64_MAX),
        OK("0000000000000000000000018446744073709551615", UINT64_MAX),
        OK("18446744073709551610", UINT64_MAX - 5),
        ERR("18446744073709551616", HT_E_OVERFLOW), /* max + 1 */
        ERR("18446744073709551620", HT_E_OVERFLOW),
        ERR("99999999999999999999", HT_E_OVERFLOW),
        ERR("100000000000000000000", HT_E_OVERFLOW),
        ERR("", HT_E_BAD_NUMBER),
        ERR("+1", HT_E_BAD_NUMBER),
        ERR("-1", HT_E_BAD_NUMBER),
        ERR("-0", HT_E_BAD_NUMBER),
        ERR(" 1", HT_E_BAD_NUMBER),
        ERR("1 ", HT_E_BAD_NUMBER),
        ERR("1\t", HT_E_BAD_NUMBER),
        ERR("1a", HT_E_BAD_NUMBER),
        ERR("0x10", HT_E_BAD_NUMBER),
        ERR("1,000", HT_E_BAD_NUMBER),
        ERR("1.0", HT_E_BAD_NUMBER),
        ERR("\xd9\xa1", HT_E_BAD_NUMBER), /* ARABIC-INDIC DIGIT ONE */
        ERR("/", HT_E_BAD_NUMBER),        /* '0' - 1 */
        ERR(":", HT_E_BAD_NUMBER),        /* '9' + 1 */
        ERR("99999999999999999999x", HT_E_BAD_NUMBER), /* bad byte beats overflow */
        { "12\0003", 4, HT_E_BAD_NUMBER, 0 },         /* embedded NUL */
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        const parse_case_t* c = &cases[i];
        uint64_t v = 0xDEADBEEF;
        ht_result_t r = ht_bytes__parse_u64(case_slice(c), &v);
        ck_assert_msg(r == c->r, "case %zu \"%s\": got %d want %d", i, c->in, r, c->r);
        ck_assert_msg(v == (c->r ? 0xDEADBEEF : c->v), "case %zu \"%s\": value %" PRIu64, i,
                      c->in, v);
    }
    uint64_t v = 1;
    ck_assert_int_eq(ht_bytes__parse_u64(HT_SLICE_NULL, &v), HT_E_BAD_NUMBER);
    /* Only the slice is read: the digits after it are not part of the number. */
    ck_assert_int_eq(ht_bytes__parse_u64(ht_slice__from("123456", 3), &v), 0);
    ck_assert_uint_eq(v, 123);
}
END_TEST

START_TEST(parse_i64_rules) {
    static const struct {
        const char* in;
        ht_result_t r;
        int64_t     v;
    } cases[] = {
        { "0", 0, 0 },
        { "-0", 0, 0 },
        { "42", 0, 42 },
        { "-42", 0, -42 },
        { "-007", 0, -7 },
        { "9223372036854775807", 0, INT64_MAX },
        { "9223372036854775808", HT_E_OVERFLOW, 0 },
        { "-9223372036854775808", 0, INT64_MIN },
        { "-9223372036854775809", HT_E_OVERFLOW, 0 },
        { "-99999999999999999999", HT_E_OVERFLOW, 0 },
        { "18446744073709551615", HT_E_OVERFLOW, 0 },
        { "", HT_E_BAD_NUMBER, 0 },
        { "-", HT_E_BAD_NUMBER, 0 },
        { "--1", HT_E_BAD_NUMBER, 0 },
        { "+1", HT_E_BAD_NUMBER, 0 },
        { "1-", HT_E_BAD_NUMBER, 0 },
        { "- 1", HT_E_BAD_NUMBER, 0 },
        { " -1", HT_E_BAD_NUMBER, 0 },
        { "-1x", HT_E_BAD_NUMBER, 0 },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        int64_t v = 12345;
        ht_result_t r = ht_bytes__parse_i64(ht_slice__from_cstr(cases[i].in), &v);
        ck_assert_msg(r == cases[i].r, "case \"%s\": got %d want %d", cases[i].in, r, cases[i].r);
        ck_assert_msg(v == (cases[i].r ? 12345 : cases[i].v), "case \"%s\": value %" PRId64,
                      cases[i].in, v);
    }
    int64_t v;
    ck_assert_int_eq(ht_bytes__parse_i64(HT_SLICE_NULL, &v), HT_E_BAD_NUMBER);
}
END_TEST

START_TEST(parse_hex_rules) {
    static const parse_case_t cases[] = {
        OK("0", 0),
        OK("a", 10),
        OK("F", 15),
        OK("fFfF", 0xffff),
        OK("00ff", 0xff),
        OK("1234567890abcdef", 0x1234567890abcdefu),
        OK("ffffffffffffffff", UINT64_MAX),
        OK("00000000000000000000ffffffffffffffff", UINT64_MAX),
        ERR("10000000000000000", HT_E_OVERFLOW), /* 2^64 */
        ERR("fffffffffffffffff", HT_E_OVERFLOW),
        ERR("", HT_E_BAD_NUMBER),
        ERR("0x1", HT_E_BAD_NUMBER),
        ERR("g", HT_E_BAD_NUMBER),
        ERR("G", HT_E_BAD_NUMBER),
        ERR("@", HT_E_BAD_NUMBER), /* 'A' - 1 */
        ERR("`", HT_E_BAD_NUMBER), /* 'a' - 1 */
        ERR("-1", HT_E_BAD_NUMBER),
        ERR("+1", HT_E_BAD_NUMBER),
        ERR("1 ", HT_E_BAD_NUMBER),
        ERR("a;ext", HT_E_BAD_NUMBER),
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        const parse_case_t* c = &cases[i];
        uint64_t v = 0xDEADBEEF;
        ht_result_t r = ht_bytes__parse_hex(case_slice(c), &v);
        ck_assert_msg(r == c->r, "case %zu \"%s\": got %d want %d", i, c->in, r, c->r);
        ck_assert_msg(v == (c->r ? 0xDEADBEEF : c->v), "case \"%s\"", c->in);
    }
}
END_TEST

START_TEST(format_parse_roundtrip) {
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    static uint64_t vals[3000];
    size_t n = interesting_values(vals, HT_ARRAY_LEN(vals));
    for (size_t i = 0; i < n; i++) {
        uint64_t u = 0, h = 0;
        int64_t s = 0;
        ht_bytes__clear(&b);
        ck_assert_int_eq(ht_bytes__push_u64(&b, vals[i]), 0);
        ck_assert_int_eq(ht_bytes__parse_u64(ht_bytes__slice(&b), &u), 0);
        ck_assert_uint_eq(u, vals[i]);
        ht_bytes__clear(&b);
        ck_assert_int_eq(ht_bytes__push_i64(&b, (int64_t) vals[i]), 0);
        ck_assert_int_eq(ht_bytes__parse_i64(ht_bytes__slice(&b), &s), 0);
        ck_assert_int_eq(s, (int64_t) vals[i]);
        ht_bytes__clear(&b);
        ck_assert_int_eq(ht_bytes__push_hex(&b, vals[i]), 0);
        ck_assert_int_eq(ht_bytes__parse_hex(ht_bytes__slice(&b), &h), 0);
        ck_assert_uint_eq(h, vals[i]);
    }
    ht_bytes__free(&b);
}
END_TEST

START_TEST(error_code_maps_to_400) {
    ck_assert_uint_eq(ht_result__status(HT_E_BAD_NUMBER), 400);
    ck_assert_uint_eq(ht_result__status(HT_E_OVERFLOW), 400);
    ck_assert_str_eq(ht_result__str(HT_E_BAD_NUMBER), "malformed number");
}
END_TEST

/* Every parse case again with the input ending at an unreadable page. */
START_TEST(parse_reads_only_the_slice) {
    long pg = sysconf(_SC_PAGESIZE);
    char* m = mmap(nullptr, (size_t) pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(m != MAP_FAILED);
    ck_assert_int_eq(mprotect(m + pg, (size_t) pg, PROT_NONE), 0);
    static const char* inputs[] = { "", "0", "-", "-0", "18446744073709551615", "18446744073709551616",
                                    "-9223372036854775808", "ffffffffffffffff", "1x", "x1", "99999999999999999999" };
    for (size_t i = 0; i < HT_ARRAY_LEN(inputs); i++) {
        size_t n = strlen(inputs[i]);
        for (size_t k = 0; k <= n; k++) { /* each prefix, ending at the guard */
            char* p = m + pg - k;
            memcpy(p, inputs[i], k);
            uint64_t u;
            int64_t s;
            (void) ht_bytes__parse_u64(ht_slice__from(p, k), &u);
            (void) ht_bytes__parse_i64(ht_slice__from(p, k), &s);
            (void) ht_bytes__parse_hex(ht_slice__from(p, k), &u);
        }
    }
    munmap(m, (size_t) pg * 2);
}
END_TEST

int main(void) {
    Suite* s = suite_create("bytes");
    TCase* tc = tcase_create("buffer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, init_allocates_nothing);
    tcase_add_test(tc, growth_is_geometric);
    tcase_add_test(tc, reserve_then_push_does_not_allocate);
    tcase_add_test(tc, clear_keeps_capacity);
    tcase_add_test(tc, push_variants);
    tcase_add_test(tc, push_from_itself_survives_growth);
    tcase_add_test(tc, extend_and_cstr);
    tcase_add_test(tc, out_of_memory_leaves_buffer_valid);
    tcase_add_test(tc, size_overflow_is_enomem);
    tcase_add_test(tc, refused_doubling_falls_back_to_exact);
    suite_add_tcase(s, tc);
    tc = tcase_create("format");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, pushf_formats);
    tcase_add_test(tc, pushf_encoding_error_is_einval);
    tcase_add_test(tc, decimal_and_hex_match_printf);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parse_u64_rules);
    tcase_add_test(tc, parse_i64_rules);
    tcase_add_test(tc, parse_hex_rules);
    tcase_add_test(tc, format_parse_roundtrip);
    tcase_add_test(tc, error_code_maps_to_400);
    tcase_add_test(tc, parse_reads_only_the_slice);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
