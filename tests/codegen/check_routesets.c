/* check_routesets: the four public route sets of bench-data/routes
 * (go-http-routing-benchmark), converted to routes.ht at configure time and
 * compiled by htgen + re2c. Line i of S.requests (and S.golit.requests) must
 * match route i with exactly the parameter values at its {param} segments. */
#include "github_routes.h"
#include "gplus_routes.h"
#include "parse_routes.h"
#include "static_routes.h"

#include <check.h>
#include <stdbool.h>
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

/* These sets call nothing from github__match's states, so htgen writes them
   twice: github__match takes paths under 64 bytes with no byte <= '%', and
   hands the rest to github__long. Both must answer alike on each side of
   the line. */
static github_status_t gh_(const char* path, github_match_t* m) {
    return github__match(HT_METHOD_GET, ht_slice__from_cstr(path), m);
}
static bool gh_eq_(ht_slice_t v, const char* want) {
    return v.len == strlen(want) && !memcmp(v.ptr, want, v.len);
}

START_TEST(test_handoff) {
    char scratch[256];
    github_match_t m = { .scratch = scratch, .scratch_cap = sizeof scratch };
    /* GET /applications/{client_id}/tokens/{access_token}: 63 bytes (hot), 64 (long) */
    const char* at[] = { "/applications/c/tokens/0123456789012345678901234567890123456789",
                         "/applications/c/tokens/01234567890123456789012345678901234567890",
                         "/applications/c/tokens/012345678901234567890123456789012345678901234567890123456789xyz" };
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(gh_(at[i], &m), GITHUB_MATCH_FOUND);
        ck_assert_int_eq(m.route, GITHUB_ROUTE_GITHUB_R5);
        ck_assert(gh_eq_(m.p.github_r5.client_id, "c"));
        ck_assert(gh_eq_(m.p.github_r5.access_token, at[i] + 23));
    }
    /* a '%': decoded, short and long */
    ck_assert_int_eq(gh_("/applications/a%2Fb/tokens/t%41", &m), GITHUB_MATCH_FOUND);
    ck_assert(gh_eq_(m.p.github_r5.client_id, "a/b"));
    ck_assert(gh_eq_(m.p.github_r5.access_token, "tA"));
    ck_assert_int_eq(gh_("/applications/a%2Fb/tokens/0123456789012345678901234567890123456789%41", &m),
                     GITHUB_MATCH_FOUND);
    ck_assert(gh_eq_(m.p.github_r5.access_token, "0123456789012345678901234567890123456789A"));
    ck_assert_int_eq(gh_("/applications/a/tokens/%zz", &m), GITHUB_MATCH_BAD_REQUEST);
    /* a byte <= '%' that is neither: matched as it is */
    ck_assert_int_eq(gh_("/applications/a!$/tokens/t", &m), GITHUB_MATCH_FOUND);
    ck_assert(gh_eq_(m.p.github_r5.client_id, "a!$"));
    /* a NUL: nothing matches, short or long */
    static const char nul[] = "/applications/a\0b/tokens/t";
    ck_assert_int_eq(github__match(HT_METHOD_GET, ht_slice__from(nul, sizeof nul - 1), &m), GITHUB_MATCH_NOT_FOUND);
    static const char nul_long[] = "/applications/a\0b/tokens/0123456789012345678901234567890123456789";
    ck_assert_int_eq(github__match(HT_METHOD_GET, ht_slice__from(nul_long, sizeof nul_long - 1), &m),
                     GITHUB_MATCH_NOT_FOUND);
    /* the end of a short path and of a long one, where a route ends or not */
    ck_assert_int_eq(gh_("/applications/c/tokens", &m), GITHUB_MATCH_METHOD_NOT_ALLOWED); /* DELETE only */
    ck_assert_int_eq(gh_("/applications/c/tokens/t/x", &m), GITHUB_MATCH_NOT_FOUND);
    ck_assert_int_eq(gh_("/applications/c/tokens/0123456789012345678901234567890123456789/x", &m),
                     GITHUB_MATCH_NOT_FOUND);
}
END_TEST

int main(void) {
    Suite* s = suite_create("routesets");
    TCase* tc = tcase_create("bench-data");
    tcase_add_test(tc, test_github);
    tcase_add_test(tc, test_gplus);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_static);
    tcase_add_test(tc, test_handoff);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
