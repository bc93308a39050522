/* check_routesets: the four public route sets of bench-data/routes
 * (go-http-routing-benchmark), converted to routes.ht at configure time and
 * compiled by htgen + re2c. Line i of S.requests (and S.golit.requests) must
 * match route i with exactly the parameter values at its {param} segments. */
#include "github_routes.h"
#include "gplus_routes.h"
#include "parse_routes.h"
#include "static_routes.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 512

typedef struct lines {
    char* text;
    char* line[MAX_LINES];
    int n;
} lines_t;

static void read_lines_(const char* set, const char* suffix, lines_t* out) {
    char path[1024];
    snprintf(path, sizeof path, "%s/routes/%s.%s", HT_BENCH_DATA_DIR, set, suffix);
    FILE* f = fopen(path, "rb");
    ck_assert_msg(f != nullptr, "cannot open %s", path);
    static char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    out->text = strdup(buf);
    out->n = 0;
    for (char* save = nullptr, *l = strtok_r(out->text, "\n", &save); l && out->n < MAX_LINES;
         l = strtok_r(nullptr, "\n", &save))
        out->line[out->n++] = l;
}

/* Splits "METHOD /a/b" into the method and the path's segments (strndup'ed). */
static int split_(const char* line, char* method, size_t mcap, char** segs, int cap) {
    const char* sp = strchr(line, ' ');
    ck_assert_ptr_nonnull(sp);
    snprintf(method, mcap, "%.*s", (int) (sp - line), line);
    int n = 0;
    const char* p = sp + 1;
    while (*p == '/' && n < cap) {
        const char* q = p + 1;
        while (*q && *q != '/') q++;
        segs[n++] = strndup(p + 1, (size_t) (q - p - 1));
        p = q;
    }
    return n;
}

/* The generated params structs of these sets hold only ht_slice_t members
 * (untyped {name} segments), so the match's union is read as an array. */
#define CHECK_SET(S, SU)                                                                        \
    static void check_##S##_(const char* suffix) {                                              \
        lines_t routes, reqs;                                                                   \
        read_lines_(#S, "routes", &routes);                                                     \
        read_lines_(#S, suffix, &reqs);                                                         \
        ck_assert_int_eq(routes.n, reqs.n);                                                     \
        ck_assert_int_eq(routes.n, SU##_ROUTE__COUNT - 1);                                      \
        char scratch[1024];                                                                     \
        for (int i = 0; i < reqs.n; i++) {                                                      \
            char* rq = strdup(reqs.line[i]);                                                    \
            char* sp = strchr(rq, ' ');                                                         \
            ck_assert_ptr_nonnull(sp);                                                          \
            ht_slice_t meth = ht_slice__from(rq, (size_t) (sp - rq));                           \
            ht_slice_t path = ht_slice__from_cstr(sp + 1);                                      \
            S##_match_t m = { .scratch = scratch, .scratch_cap = sizeof scratch };              \
            S##_status_t st = S##__match_token(meth, path, &m);                                 \
            ck_assert_msg(st == SU##_MATCH_FOUND && (int) m.route == i + 1,                     \
                          "%s %s line %d: status %d route %d", #S, suffix, i + 1, (int) st,      \
                          (int) m.route);                                                       \
            /* expected params: request segments where the route has {x} */                    \
            char rm[32], qm[32];                                                                \
            char* rsegs[64];                                                                    \
            char* qsegs[64];                                                                    \
            int rn = split_(routes.line[i], rm, sizeof rm, rsegs, 64);                          \
            int qn = split_(reqs.line[i], qm, sizeof qm, qsegs, 64);                            \
            ck_assert_int_eq(rn, qn);                                                           \
            ck_assert_str_eq(rm, qm);                                                           \
            /* every parameter of these sets is a slice: read the k-th one                 \
             * out of the union by bytes (an array view would be out of                       \
             * bounds for the active member, which -O2 -Warray-bounds sees) */                 \
            int k = 0;                                                                          \
            for (int s = 0; s < rn; s++) {                                                      \
                if (rsegs[s][0] != '{') {                                                       \
                    ck_assert_str_eq(rsegs[s], qsegs[s]);                                       \
                    continue;                                                                   \
                }                                                                               \
                ht_slice_t got;                                                                 \
                ck_assert_uint_le((size_t) (k + 1) * sizeof got, sizeof m.p);                   \
                memcpy(&got, (const char*) &m.p + (size_t) k * sizeof got, sizeof got);         \
                ck_assert_msg(got.len == strlen(qsegs[s]) &&                                    \
                                  memcmp(got.ptr, qsegs[s], got.len) == 0,                      \
                              "%s line %d param %d: got '%.*s' want '%s'", #S, i + 1, k,         \
                              HT_SLICE_FMT(got), qsegs[s]);                                     \
                k++;                                                                            \
            }                                                                                   \
            for (int s = 0; s < rn; s++) free(rsegs[s]);                                        \
            for (int s = 0; s < qn; s++) free(qsegs[s]);                                        \
            free(rq);                                                                           \
        }                                                                                       \
        free(routes.text);                                                                      \
        free(reqs.text);                                                                        \
    }                                                                                           \
    START_TEST(test_##S) {                                                                      \
        check_##S##_("requests");                                                               \
        check_##S##_("golit.requests");                                                         \
    }                                                                                           \
    END_TEST

CHECK_SET(github, GITHUB)
CHECK_SET(gplus, GPLUS)
CHECK_SET(parse, PARSE)
CHECK_SET(static, STATIC)

int main(void) {
    Suite* s = suite_create("routesets");
    TCase* tc = tcase_create("bench-data");
    tcase_add_test(tc, test_github);
    tcase_add_test(tc, test_gplus);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_static);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
