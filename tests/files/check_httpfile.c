/* check_httpfile: HTTP-dates (three formats, round trips), ETags and their
 * list matching, RFC 9110 preconditions, Range, If-Range, Accept-Encoding. */
#include <check.h>
#include <ht/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S(lit) HT_SLICE(lit)
#define ABSENT HT_SLICE_NULL

/* ---- dates ---- */

START_TEST(date_rfc_examples) {
    /* RFC 9110 §5.6.7's example, in its three forms. */
    int64_t t = 0;
    ck_assert(ht_http__parse_date(S("Sun, 06 Nov 1994 08:49:37 GMT"), &t));
    ck_assert_int_eq(t, 784111777);
    t = 0;
    ck_assert(ht_http__parse_date(S("Sunday, 06-Nov-94 08:49:37 GMT"), &t));
    ck_assert_int_eq(t, 784111777);
    t = 0;
    ck_assert(ht_http__parse_date(S("Sun Nov  6 08:49:37 1994"), &t));
    ck_assert_int_eq(t, 784111777);
    char out[32];
    ck_assert_uint_eq(ht_http__format_date(out, 784111777), 29);
    ck_assert_str_eq(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    ht_http__format_date(out, 0);
    ck_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    ht_http__format_date(out, -1);
    ck_assert_str_eq(out, "Wed, 31 Dec 1969 23:59:59 GMT");
    ht_http__format_date(out, 951782400); /* leap day of a /400 year */
    ck_assert_str_eq(out, "Tue, 29 Feb 2000 00:00:00 GMT");
    ht_http__format_date(out, INT64_MAX);
    ck_assert_str_eq(out, "Fri, 31 Dec 9999 23:59:59 GMT");
    ht_http__format_date(out, INT64_MIN);
    ck_assert_str_eq(out, "Mon, 01 Jan 0001 00:00:00 GMT");
    /* Two-digit years: 00..69 are 20xx. */
    ck_assert(ht_http__parse_date(S("Thursday, 01-Jan-70 00:00:00 GMT"), &t));
    ck_assert_int_eq(t, 0);
    ck_assert(ht_http__parse_date(S("Saturday, 01-Jan-00 00:00:00 GMT"), &t));
    ck_assert_int_eq(t, 946684800);
    /* asctime with a two-digit day; a leap second reads as :59. */
    ck_assert(ht_http__parse_date(S("Thu Dec 31 23:59:60 1998"), &t));
    ck_assert_int_eq(t, 915148799);
}
END_TEST

START_TEST(date_round_trip_against_libc) {
    /* Every format round-trips, and agrees with gmtime_r/strftime. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t t = (int64_t) (x % 253402300800ull) - (i % 3 == 0 ? 62135596800LL : 0);
        if (i < 3) t = (int64_t[]){ 0, 253402300799LL, -62135596800LL }[i];
        char out[32], want[64];
        ht_http__format_date(out, t);
        time_t tt = (time_t) t;
        struct tm tm;
        ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
        if (tm.tm_year + 1900 >= 1000) { /* strftime's %Y does not pad */
            strftime(want, sizeof want, "%a, %d %b %Y %H:%M:%S GMT", &tm);
            ck_assert_str_eq(out, want);
        }
        int64_t back = -1;
        ck_assert_msg(ht_http__parse_date(ht_slice__from_cstr(out), &back), "%s", out);
        ck_assert_int_eq(back, t);
        /* asctime form of the same instant. */
        char asc[32];
        snprintf(asc, sizeof asc, "%.3s %.3s %2d %.8s %.4s", out, out + 8, tm.tm_mday, out + 17, out + 12);
        back = -1;
        ck_assert_msg(ht_http__parse_date(ht_slice__from_cstr(asc), &back), "%s", asc);
        ck_assert_int_eq(back, t);
        /* RFC 850 for years 1970..2069. */
        int year = tm.tm_year + 1900;
        if (year >= 1970 && year <= 2069) {
            char r850[48], wd[16];
            strftime(wd, sizeof wd, "%A", &tm);
            snprintf(r850, sizeof r850, "%s, %.2s-%.3s-%02d %.8s GMT", wd, out + 5, out + 8, year % 100, out + 17);
            back = -1;
            ck_assert_msg(ht_http__parse_date(ht_slice__from_cstr(r850), &back), "%s", r850);
            ck_assert_int_eq(back, t);
        }
    }
}
END_TEST

START_TEST(date_rejects) {
    static const char* const bad[] = {
        "",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        " Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 1900 08:49:37 GMT",
        "Sun, 29 Feb 2023 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 19a4 08:49:37 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sundae, 06-Nov-94 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov 06 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 ",
        "Sun  Nov 6 08:49:37 1994",
        "1994-11-06T08:49:37Z",
        "784111777",
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(bad); i++) {
        int64_t t = 42;
        ck_assert_msg(!ht_http__parse_date(ht_slice__from_cstr(bad[i]), &t), "%s", bad[i]);
        ck_assert_int_eq(t, 42);
    }
    int64_t t = 42;
    ck_assert(!ht_http__parse_date(HT_SLICE_NULL, &t));
    /* "Sun Nov 06" (zero-padded day) is asctime's 2DIGIT form: fine. */
    ck_assert(ht_http__parse_date(S("Sun Nov 06 08:49:37 1994"), &t));
    ck_assert_int_eq(t, 784111777);
}
END_TEST

/* ---- ETags ---- */

START_TEST(etag_format) {
    ht_fs_stat_t st = { .size = 1234, .mtime_sec = 1700000000, .mtime_nsec = 5, .ino = 0xabc, .dev = 9 };
    char e[HT_FS_ETAG_MAX + 1];
    size_t n = ht_fs__etag(e, &st);
    ck_assert_str_eq(e, "\"abc-4d2-6553f100.5\"");
    ck_assert_uint_eq(n, strlen(e));
    st = (ht_fs_stat_t){ .size = UINT64_MAX, .mtime_sec = INT64_MIN, .mtime_nsec = 999999999, .ino = UINT64_MAX };
    n = ht_fs__etag(e, &st);
    ck_assert_uint_le(n, HT_FS_ETAG_MAX);
    ck_assert_str_eq(e, "\"ffffffffffffffff-ffffffffffffffff-8000000000000000.3b9ac9ff\"");
    /* Any change of ino, size or mtime (even ns) changes the tag; dev does not. */
    ht_fs_stat_t base = { .size = 10, .mtime_sec = 100, .mtime_nsec = 1, .ino = 7, .dev = 1 };
    char b[HT_FS_ETAG_MAX + 1], o[HT_FS_ETAG_MAX + 1];
    ht_fs__etag(b, &base);
    ht_fs_stat_t v = base; v.mtime_nsec++; ht_fs__etag(o, &v); ck_assert_str_ne(b, o);
    v = base; v.size++; ht_fs__etag(o, &v); ck_assert_str_ne(b, o);
    v = base; v.ino++; ht_fs__etag(o, &v); ck_assert_str_ne(b, o);
    v = base; v.dev++; ht_fs__etag(o, &v); ck_assert_str_eq(b, o);
}
END_TEST

START_TEST(etag_lists) {
    ht_slice_t tag = S("\"abc\"");
    struct { const char* list; bool strong, weak; } cases[] = {
        { "\"abc\"", true, true },
        { "W/\"abc\"", false, true },
        { "\"xyz\", \"abc\"", true, true },
        { "\"xyz\",W/\"abc\"", false, true },
        { " \"xyz\" ,\t\"abc\" ", true, true },
        { "\"xyz\"", false, false },
        { "*", true, true },
        { " * ", true, true },
        { "\"ABC\"", false, false },
        { "abc", false, false },
        { "\"abc", false, false },
        { "\"abc\" \"xyz\"", false, false },
        { "\"abc\"x", false, false },
        { "w/\"abc\"", false, false },
        { "\"xyz\", junk, \"abc\"", false, false },
        { "", false, false },
        { ",,\"abc\",", true, true },
        { "\"a\"\"abc\"", false, false },
        { "*, \"abc\"", false, false },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        ht_slice_t l = ht_slice__from_cstr(cases[i].list);
        ck_assert_msg(ht_fs__etag_list_match(l, tag, false) == cases[i].strong, "strong %s", cases[i].list);
        ck_assert_msg(ht_fs__etag_list_match(l, tag, true) == cases[i].weak, "weak %s", cases[i].list);
    }
}
END_TEST

/* ---- preconditions ---- */

START_TEST(preconditions) {
    const int64_t mt = 784111777;
    ht_slice_t tag = S("\"t1\"");
    struct {
        ht_method_t m;
        const char *im, *inm, *ims, *ius;
        uint16_t want;
    } cases[] = {
        { HT_METHOD_GET, 0, 0, 0, 0, 0 },
        /* If-None-Match */
        { HT_METHOD_GET, 0, "\"t1\"", 0, 0, 304 },
        { HT_METHOD_HEAD, 0, "\"t1\"", 0, 0, 304 },
        { HT_METHOD_GET, 0, "W/\"t1\"", 0, 0, 304 },
        { HT_METHOD_GET, 0, "\"t0\", \"t1\"", 0, 0, 304 },
        { HT_METHOD_GET, 0, "*", 0, 0, 304 },
        { HT_METHOD_GET, 0, "\"t0\"", 0, 0, 0 },
        { HT_METHOD_POST, 0, "\"t1\"", 0, 0, 412 },
        /* If-Modified-Since */
        { HT_METHOD_GET, 0, 0, "Sun, 06 Nov 1994 08:49:37 GMT", 0, 304 },
        { HT_METHOD_GET, 0, 0, "Sun, 06 Nov 1994 08:49:38 GMT", 0, 304 },
        { HT_METHOD_GET, 0, 0, "Sun, 06 Nov 1994 08:49:36 GMT", 0, 0 },
        { HT_METHOD_GET, 0, 0, "Sunday, 06-Nov-94 08:49:37 GMT", 0, 304 },
        { HT_METHOD_GET, 0, 0, "Sun Nov  6 08:49:37 1994", 0, 304 },
        { HT_METHOD_GET, 0, 0, "garbage", 0, 0 },
        { HT_METHOD_POST, 0, 0, "Sun, 06 Nov 1994 08:49:37 GMT", 0, 0 },
        /* If-None-Match wins over If-Modified-Since. */
        { HT_METHOD_GET, 0, "\"t0\"", "Sun, 06 Nov 1994 08:49:37 GMT", 0, 0 },
        { HT_METHOD_GET, 0, "\"t1\"", "Sun, 06 Nov 1994 08:49:36 GMT", 0, 304 },
        /* If-Match (strong) */
        { HT_METHOD_GET, "\"t1\"", 0, 0, 0, 0 },
        { HT_METHOD_GET, "*", 0, 0, 0, 0 },
        { HT_METHOD_GET, "\"t0\"", 0, 0, 0, 412 },
        { HT_METHOD_GET, "W/\"t1\"", 0, 0, 0, 412 },
        /* If-Unmodified-Since */
        { HT_METHOD_GET, 0, 0, 0, "Sun, 06 Nov 1994 08:49:37 GMT", 0 },
        { HT_METHOD_GET, 0, 0, 0, "Sun, 06 Nov 1994 08:49:36 GMT", 412 },
        { HT_METHOD_GET, 0, 0, 0, "nonsense", 0 },
        /* If-Match wins over If-Unmodified-Since; then If-None-Match applies. */
        { HT_METHOD_GET, "\"t1\"", 0, 0, "Sun, 06 Nov 1994 08:49:36 GMT", 0 },
        { HT_METHOD_GET, "\"t1\"", "\"t1\"", 0, 0, 304 },
        { HT_METHOD_GET, "\"t0\"", "\"t1\"", 0, 0, 412 },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        ht_fs_request_t r = { .method = cases[i].m };
        if (cases[i].im) r.if_match = ht_slice__from_cstr(cases[i].im);
        if (cases[i].inm) r.if_none_match = ht_slice__from_cstr(cases[i].inm);
        if (cases[i].ims) r.if_modified_since = ht_slice__from_cstr(cases[i].ims);
        if (cases[i].ius) r.if_unmodified_since = ht_slice__from_cstr(cases[i].ius);
        ck_assert_msg(ht_fs__preconditions(&r, tag, mt) == cases[i].want, "case %zu", i);
    }
}
END_TEST

/* ---- Range ---- */

START_TEST(ranges) {
    struct { const char* h; uint64_t size; ht_fs_range_kind_t k; uint64_t off, len; } cases[] = {
        { "bytes=0-0", 100, HT_FS_RANGE_ONE, 0, 1 },
        { "bytes=0-99", 100, HT_FS_RANGE_ONE, 0, 100 },
        { "bytes=0-1000", 100, HT_FS_RANGE_ONE, 0, 100 },
        { "bytes=10-19", 100, HT_FS_RANGE_ONE, 10, 10 },
        { "bytes=99-", 100, HT_FS_RANGE_ONE, 99, 1 },
        { "bytes=50-", 100, HT_FS_RANGE_ONE, 50, 50 },
        { "bytes=-1", 100, HT_FS_RANGE_ONE, 99, 1 },
        { "bytes=-30", 100, HT_FS_RANGE_ONE, 70, 30 },
        { "bytes=-500", 100, HT_FS_RANGE_ONE, 0, 100 },
        { "BYTES=1-2", 100, HT_FS_RANGE_ONE, 1, 2 },
        { "bytes=007-008", 100, HT_FS_RANGE_ONE, 7, 2 },
        { "bytes=1-2, 200-300", 100, HT_FS_RANGE_ONE, 1, 2 },     /* one satisfiable */
        { "bytes= 1-2", 100, HT_FS_RANGE_ONE, 1, 2 },
        { "bytes=1-2,", 100, HT_FS_RANGE_ONE, 1, 2 },
        { "bytes=,1-2", 100, HT_FS_RANGE_ONE, 1, 2 },
        { "bytes=0-18446744073709551615", 100, HT_FS_RANGE_ONE, 0, 100 },
        /* unsatisfiable */
        { "bytes=100-", 100, HT_FS_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=100-200", 100, HT_FS_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=-0", 100, HT_FS_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=200-300, 400-", 100, HT_FS_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=0-0", 0, HT_FS_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=0-", 0, HT_FS_RANGE_UNSATISFIABLE, 0, 0 },
        /* ignored: multi-range, malformed, other units */
        { "bytes=-5", 0, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=0-1,5-6", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=0-1,0-1", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=5-4", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=0-1,5-4", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=a-b", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=1", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=-", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=--1", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=1-2-3", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=+1-2", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=1 -2", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes =0-1", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "items=0-1", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=0-18446744073709551616", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "bytes=18446744073709551616-", 100, HT_FS_RANGE_NONE, 0, 0 },
        { "", 100, HT_FS_RANGE_NONE, 0, 0 },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        uint64_t off = 77, len = 77;
        ht_fs_range_kind_t k = ht_fs__range(ht_slice__from_cstr(cases[i].h), cases[i].size, &off, &len);
        ck_assert_msg(k == cases[i].k, "%s: kind %d", cases[i].h, (int) k);
        if (k == HT_FS_RANGE_ONE) {
            ck_assert_msg(off == cases[i].off && len == cases[i].len, "%s: %llu+%llu", cases[i].h,
                          (unsigned long long) off, (unsigned long long) len);
        }
    }
    uint64_t o, l;
    ck_assert(ht_fs__range(HT_SLICE_NULL, 100, &o, &l) == HT_FS_RANGE_NONE);
    /* More than 100 elements: ignored as a whole (a cheap DoS guard). */
    char big[2048] = "bytes=";
    for (int i = 0; i < 101; i++) strcat(big, "200-300,");
    ck_assert(ht_fs__range(ht_slice__from_cstr(big), 100, &o, &l) == HT_FS_RANGE_NONE);
    char ok[2048] = "bytes=";
    for (int i = 0; i < 99; i++) strcat(ok, "200-300,");
    strcat(ok, "1-1");
    ck_assert(ht_fs__range(ht_slice__from_cstr(ok), 100, &o, &l) == HT_FS_RANGE_ONE);
    ck_assert_uint_eq(o, 1);
}
END_TEST

START_TEST(if_range) {
    ht_slice_t tag = S("\"t1\"");
    const int64_t mt = 784111777;
    ck_assert(ht_fs__if_range(ABSENT, tag, mt));
    ck_assert(ht_fs__if_range(S("\"t1\""), tag, mt));
    ck_assert(!ht_fs__if_range(S("\"t2\""), tag, mt));
    ck_assert(!ht_fs__if_range(S("W/\"t1\""), tag, mt));
    ck_assert(ht_fs__if_range(S("Sun, 06 Nov 1994 08:49:37 GMT"), tag, mt));
    ck_assert(!ht_fs__if_range(S("Sun, 06 Nov 1994 08:49:38 GMT"), tag, mt));
    ck_assert(!ht_fs__if_range(S("Sun, 06 Nov 1994 08:49:36 GMT"), tag, mt));
    ck_assert(!ht_fs__if_range(S("garbage"), tag, mt));
    ck_assert(!ht_fs__if_range(S(""), tag, mt));
}
END_TEST

/* ---- Accept-Encoding ---- */

START_TEST(accept_encoding) {
    struct { const char* ae; int32_t q; bool gz; } cases[] = {
        { "gzip", 1000, true },
        { "GZip", 1000, true },
        { "x-gzip", 1000, true },
        { "gzip, deflate, br", 1000, true },
        { "br;q=1.0, gzip;q=0.8, *;q=0.1", 800, true },
        { "gzip;q=0", 0, false },
        { "gzip;q=0.000", 0, false },
        { "gzip; q=0.001", 1, true },
        { "gzip;Q=0.5", 500, true },
        { "gzip ; q=0.5", 500, true },
        { "gzip;q=1", 1000, true },
        { "gzip;q=1.000", 1000, true },
        { "*", 1000, true },
        { "*;q=0", 0, false },
        { "*;q=0.3, gzip;q=0", 0, false },
        { "gzip;q=0, *", 0, false },
        { "identity", -1, false },
        { "deflate, br", -1, false },
        { "", -1, false },
        { "gzip;q=1.001", -1, false },   /* malformed q: element skipped */
        { "gzip;q=2", -1, false },
        { "gzip;q=0.5x", -1, false },
        { "gzip;q=.5", -1, false },
        { "gzip;q=0.5000", -1, false },
        { "gzip;q=bad, *;q=0.2", 200, true },
        { "br,,gzip", 1000, true },
        { "gzipx", -1, false },
        { "gzip;level=9", 1000, true },
        { "gzip;q=0.7;level=1", 700, true },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        ht_slice_t ae = ht_slice__from_cstr(cases[i].ae);
        ck_assert_msg(ht_fs__accept_q(ae, S("gzip")) == cases[i].q, "%s: %d", cases[i].ae,
                      ht_fs__accept_q(ae, S("gzip")));
        ck_assert_msg(ht_fs__accepts_gzip(ae) == cases[i].gz, "%s", cases[i].ae);
    }
    ck_assert_int_eq(ht_fs__accept_q(ABSENT, S("gzip")), -1);
    ck_assert(!ht_fs__accepts_gzip(ABSENT));
    ck_assert_int_eq(ht_fs__accept_q(S("gzip, br;q=0.9"), S("br")), 900);
    ck_assert_int_eq(ht_fs__accept_q(S("gzip, identity;q=0"), S("identity")), 0);
    /* x-gzip is only an alias of gzip. */
    ck_assert_int_eq(ht_fs__accept_q(S("x-gzip"), S("br")), -1);
    /* All q-values at once (by ht_fs_encoding_t: br, zstd, gzip, identity).
     * An absent field and an empty one allow identity only. */
    struct { ht_slice_t ae; uint16_t q[HT_FS_ENC_CODINGS + 1]; } all[] = {
        { ABSENT, { 0, 0, 0, 1 } },
        { S(""), { 0, 0, 0, 1 } },
        { S("gzip"), { 0, 0, 1000, 1 } },
        { S("br;q=0.5, *;q=0.1"), { 500, 100, 100, 100 } },
        { S("zstd, identity;q=0"), { 0, 1000, 0, 0 } },
        { S("*;q=0"), { 0, 0, 0, 0 } },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(all); i++) {
        ht_fs_accept_t acc;
        memset(&acc, 0xee, sizeof acc);
        ht_fs__accept_parse(all[i].ae, &acc);
        for (unsigned e = 0; e <= HT_FS_ENC_CODINGS; e++)
            ck_assert_msg(acc.q[e] == all[i].q[e], "%zu: coding %u: %u", i, e, acc.q[e]);
    }
}
END_TEST

/* ht_fs__accept_parse keeps the last values it parsed (per thread): more
 * distinct values than it keeps, in changing order, values of one length
 * that differ in a byte, and one too long to keep, each always with its
 * own q-values. */
START_TEST(accept_encoding_memo) {
    struct { const char* ae; uint16_t q[HT_FS_ENC_CODINGS + 1]; } v[] = {
        { "gzip, deflate, br, zstd", { 1000, 1000, 1000, 1 } },
        { "gzip", { 0, 0, 1000, 1 } },
        { "zstd", { 0, 1000, 0, 1 } },
        { "br;q=0.5", { 500, 0, 0, 1 } },
        { "br;q=0.6", { 600, 0, 0, 1 } },
        { "BR;Q=0.6", { 600, 0, 0, 1 } },
        { "gzip, deflate", { 0, 0, 1000, 1 } },
        { "identity;q=0, gzip;q=0.25, br;q=0.5, zstd;q=0.75, deflate, compress, x-foo",
          { 500, 750, 250, 0 } },
    };
    static const unsigned order[] = { 0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 4, 3, 4, 3, 7, 7,
                                      2, 1, 6, 5, 0, 6, 1, 5, 2, 4, 3, 0, 7, 1 };
    for (size_t k = 0; k < HT_ARRAY_LEN(order); k++) {
        unsigned i = order[k];
        ht_fs_accept_t acc;
        memset(&acc, 0xee, sizeof acc);
        ht_fs__accept_parse(ht_slice__from_cstr(v[i].ae), &acc);
        for (unsigned e = 0; e <= HT_FS_ENC_CODINGS; e++)
            ck_assert_msg(acc.q[e] == v[i].q[e], "step %zu, \"%s\": coding %u: %u", k, v[i].ae, e, acc.q[e]);
    }
}
END_TEST

int main(void) {
    Suite* s = suite_create("httpfile");
    TCase* tc = tcase_create("httpfile");
    tcase_add_test(tc, date_rfc_examples);
    tcase_add_test(tc, date_round_trip_against_libc);
    tcase_add_test(tc, date_rejects);
    tcase_add_test(tc, etag_format);
    tcase_add_test(tc, etag_lists);
    tcase_add_test(tc, preconditions);
    tcase_add_test(tc, ranges);
    tcase_add_test(tc, if_range);
    tcase_add_test(tc, accept_encoding);
    tcase_add_test(tc, accept_encoding_memo);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
