/* tests/windows/check.h — the subset of libcheck's API the portable suites
 * use, run in-process, for the Windows build (Check is not packaged for
 * mingw-w64). Found before any real <check.h> because only the Windows
 * test targets have this directory on their include path
 * (cmake/HtWindows.cmake); the suites compile unchanged.
 *
 * Differences from Check: no fork (a crash ends the whole run, which still
 * fails it), no timeouts; a failed assertion longjmps out of the test, runs
 * the fixture's teardown and counts the test as failed. Output: one line per
 * failure and a summary, like CK_NORMAL.
 */
#ifndef HT_TESTS_WINDOWS_CHECK_H
#define HT_TESTS_WINDOWS_CHECK_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum print_output { CK_SILENT, CK_MINIMAL, CK_NORMAL, CK_VERBOSE };

typedef struct ck_test_ {
    const char* name;
    void (*fn)(int _i);
} ck_test_t;

#define CK_MAX_TESTS 128
typedef struct TCase {
    const char* name;
    const ck_test_t* tests[CK_MAX_TESTS];
    int from[CK_MAX_TESTS], to[CK_MAX_TESTS];
    int n;
    void (*setup)(void);
    void (*teardown)(void);
    struct TCase* next;
} TCase;

typedef struct Suite {
    const char* name;
    TCase* first;
    TCase* last;
} Suite;

typedef struct SRunner {
    Suite* s;
    int run, failed;
} SRunner;

/* static: each suite is one translation unit (plus the library). */
static jmp_buf ck_jmp_;
static const char* ck_test_name_;

#define START_TEST(name)                                                     \
    static void name##_fn_(int _i);                                          \
    static const ck_test_t name##_t_ = { #name, name##_fn_ };                \
    static const ck_test_t* const name = &name##_t_;                         \
    static void name##_fn_(int _i)
#define END_TEST

static inline Suite* suite_create(const char* name) {
    Suite* s = calloc(1, sizeof *s);
    if (!s) abort();
    s->name = name;
    return s;
}

static inline TCase* tcase_create(const char* name) {
    TCase* tc = calloc(1, sizeof *tc);
    if (!tc) abort();
    tc->name = name;
    return tc;
}

static inline void suite_add_tcase(Suite* s, TCase* tc) {
    if (s->last) s->last->next = tc;
    else s->first = tc;
    s->last = tc;
}

static inline void tcase_add_loop_test(TCase* tc, const ck_test_t* t, int from, int to) {
    if (tc->n == CK_MAX_TESTS) abort();
    tc->tests[tc->n] = t;
    tc->from[tc->n] = from;
    tc->to[tc->n] = to;
    tc->n++;
}
#define tcase_add_test(tc, t) tcase_add_loop_test((tc), (t), 0, 1)

static inline void tcase_add_checked_fixture(TCase* tc, void (*setup)(void), void (*teardown)(void)) {
    tc->setup = setup;
    tc->teardown = teardown;
}
#define tcase_add_unchecked_fixture tcase_add_checked_fixture
#define tcase_set_timeout(tc, t) ((void) (tc), (void) (t))

static inline SRunner* srunner_create(Suite* s) {
    SRunner* sr = calloc(1, sizeof *sr);
    if (!sr) abort();
    sr->s = s;
    return sr;
}

/* 0 if the test ran through, 1 if an assertion failed (longjmp). Alone in
 * its own frame so that nothing of the caller's is live across setjmp. */
static inline int ck_run_one_(const ck_test_t* t, int i) {
    if (setjmp(ck_jmp_) != 0) return 1;
    t->fn(i);
    return 0;
}

/* Whether HT_CK_SKIP (a comma-separated list of test names) names t: a
 * test of a C-library behaviour Windows does not have is skipped by the
 * runner script, which says why, instead of being edited out. */
static inline bool ck_skipped_(const char* name) {
    const char* list = getenv("HT_CK_SKIP");
    size_t n = strlen(name);
    while (list && *list) {
        const char* end = strchr(list, ',');
        size_t len = end ? (size_t) (end - list) : strlen(list);
        if (len == n && memcmp(list, name, n) == 0) return true;
        list = end ? end + 1 : NULL;
    }
    return false;
}

static inline void srunner_run_all(SRunner* sr, enum print_output mode) {
    for (TCase* tc = sr->s->first; tc; tc = tc->next) {
        for (int k = 0; k < tc->n; k++) {
            if (ck_skipped_(tc->tests[k]->name)) {
                if (mode != CK_SILENT) printf("skipped: %s (HT_CK_SKIP)\n", tc->tests[k]->name);
                continue;
            }
            for (int i = tc->from[k]; i < tc->to[k]; i++) {
                ck_test_name_ = tc->tests[k]->name;
                sr->run++;
                if (tc->setup) tc->setup();
                sr->failed += ck_run_one_(tc->tests[k], i);
                if (tc->teardown) tc->teardown();
            }
        }
    }
    if (mode != CK_SILENT)
        printf("%d%%: Checks: %d, Failures: %d, Errors: 0 (%s)\n",
               sr->run ? 100 * (sr->run - sr->failed) / sr->run : 100, sr->run, sr->failed, sr->s->name);
}

static inline int srunner_ntests_failed(SRunner* sr) { return sr->failed; }

static inline void srunner_free(SRunner* sr) {
    TCase* tc = sr->s->first;
    while (tc) {
        TCase* next = tc->next;
        free(tc);
        tc = next;
    }
    free(sr->s);
    free(sr);
}

#if defined(__GNUC__)
__attribute__((format(gnu_printf, 3, 4), noreturn))
#endif
static inline void ck_fail_(const char* file, int line, const char* fmt, ...);

#include <stdarg.h>
static inline void ck_fail_(const char* file, int line, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: %s: ", file, line, ck_test_name_);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    longjmp(ck_jmp_, 1);
}

#define ck_assert_msg(expr, ...) \
    ((expr) ? (void) 0 : ck_fail_(__FILE__, __LINE__, "Assertion '%s' failed: " "%s", #expr, ck_msg_(__VA_ARGS__)))
/* The optional message of ck_assert_msg, formatted into a static buffer. */
#if defined(__GNUC__)
__attribute__((format(gnu_printf, 1, 2)))
#endif
static inline const char* ck_msg_(const char* fmt, ...) {
    static char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}
#define ck_assert(expr) ck_assert_msg(expr, "%s", "")
#define ck_abort_msg(...) ck_fail_(__FILE__, __LINE__, "%s", ck_msg_(__VA_ARGS__))
#define ck_abort() ck_abort_msg("%s", "explicitly aborted")

#define CK_CMP_(type, fmt, X, OP, Y)                                                              \
    do {                                                                                          \
        type x_ = (X);                                                                            \
        type y_ = (Y);                                                                            \
        if (!(x_ OP y_))                                                                          \
            ck_fail_(__FILE__, __LINE__, "Assertion '%s' failed: %s == %" fmt ", %s == %" fmt,   \
                     #X " " #OP " " #Y, #X, x_, #Y, y_);                                          \
    } while (0)
#define ck_assert_int_eq(X, Y) CK_CMP_(intmax_t, PRIdMAX, X, ==, Y)
#define ck_assert_int_ne(X, Y) CK_CMP_(intmax_t, PRIdMAX, X, !=, Y)
#define ck_assert_int_lt(X, Y) CK_CMP_(intmax_t, PRIdMAX, X, <, Y)
#define ck_assert_int_le(X, Y) CK_CMP_(intmax_t, PRIdMAX, X, <=, Y)
#define ck_assert_int_gt(X, Y) CK_CMP_(intmax_t, PRIdMAX, X, >, Y)
#define ck_assert_int_ge(X, Y) CK_CMP_(intmax_t, PRIdMAX, X, >=, Y)
#define ck_assert_uint_eq(X, Y) CK_CMP_(uintmax_t, PRIuMAX, X, ==, Y)
#define ck_assert_uint_ne(X, Y) CK_CMP_(uintmax_t, PRIuMAX, X, !=, Y)
#define ck_assert_uint_lt(X, Y) CK_CMP_(uintmax_t, PRIuMAX, X, <, Y)
#define ck_assert_uint_le(X, Y) CK_CMP_(uintmax_t, PRIuMAX, X, <=, Y)
#define ck_assert_uint_gt(X, Y) CK_CMP_(uintmax_t, PRIuMAX, X, >, Y)
#define ck_assert_uint_ge(X, Y) CK_CMP_(uintmax_t, PRIuMAX, X, >=, Y)
#define ck_assert_ptr_eq(X, Y) CK_CMP_(const void*, "p", X, ==, Y)
#define ck_assert_ptr_ne(X, Y) CK_CMP_(const void*, "p", X, !=, Y)
#define ck_assert_ptr_null(X) ck_assert_ptr_eq(X, NULL)
#define ck_assert_ptr_nonnull(X) ck_assert_ptr_ne(X, NULL)

#define CK_STR_(X, OP, Y)                                                                         \
    do {                                                                                          \
        const char* x_ = (X);                                                                     \
        const char* y_ = (Y);                                                                     \
        if (!(x_ && y_ && strcmp(x_, y_) OP 0))                                                   \
            ck_fail_(__FILE__, __LINE__, "Assertion '%s' failed: %s == \"%s\", %s == \"%s\"",     \
                     #X " " #OP " " #Y, #X, x_ ? x_ : "(null)", #Y, y_ ? y_ : "(null)");          \
    } while (0)
#define ck_assert_str_eq(X, Y) CK_STR_(X, ==, Y)
#define ck_assert_str_ne(X, Y) CK_STR_(X, !=, Y)

/* gmtime_r for the suites' libc oracles: the MS CRT's gmtime refuses times
 * before 1970 and after 3000, which check_httpfile's date round trip spans
 * (years 1..9999). Proleptic Gregorian, days to civil date as in Howard
 * Hinnant's "chrono-compatible low-level date algorithms". */
#include <time.h>
static inline struct tm* ck_gmtime_r_(const time_t* tp, struct tm* out) {
    int64_t t = (int64_t) *tp;
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) rem += 86400, days--;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    static const int cum[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    *out = (struct tm){
        .tm_sec = (int) (rem % 60), .tm_min = (int) (rem / 60 % 60), .tm_hour = (int) (rem / 3600),
        .tm_mday = (int) d, .tm_mon = (int) m - 1, .tm_year = (int) (y - 1900),
        .tm_wday = (int) (((days % 7) + 11) % 7), /* 1970-01-01 was a Thursday (4) */
        .tm_yday = cum[m - 1] + (int) d - 1 + (leap && m > 2),
    };
    return out;
}
#undef gmtime_r
#define gmtime_r ck_gmtime_r_

#endif /* HT_TESTS_WINDOWS_CHECK_H */
