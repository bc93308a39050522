/* check_codegen_query: the parts of typed query parameters and {name:path...} below
 * the end-to-end test (tests/routing/query_e2e.py): the route model the
 * front end builds (dsl.h dsl_qparam_t, what other generators read), the
 * run-time type checks of <ht/route_query.h> against the build-time check
 * of defaults (dsl_query__value_ok) and strtoull/strtoll on random text,
 * and ht_rt__safe_path on a table of values. */
#include <check.h>

#include "dsl.h"

#include <ht/route_query.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_(dsl_file_t* f, dsl_src_t* src, const char* text) {
    *f = (dsl_file_t){ 0 };
    *src = (dsl_src_t){ .name = "t.ht", .text = text, .len = strlen(text) };
    return dsl_file__parse(f, src, ".");
}

START_TEST(test_model) {
    dsl_file_t f;
    dsl_src_t src;
    ck_assert(parse_(&f, &src,
                     "GET /s/{id:u64} ?q ?page:u64=1 ?tag:slug* ?o:uuid? ?t:str=\"a b\" -> s strict\n"
                     "GET /raw/{file:path...} -> raw\n"));
    const dsl_route_t* r = f.routes[0];
    ck_assert_int_eq(r->nparams, 1);
    ck_assert_int_eq(r->nquery, 5);
    ck_assert(r->strict);
    const dsl_qparam_t* q = r->query;
    ck_assert_str_eq(q[0].name, "q");
    ck_assert_int_eq(q[0].kind, DSL_P_STR);
    ck_assert(q[0].required && !q[0].optional && !q[0].repeated && !q[0].def);
    ck_assert_str_eq(q[1].name, "page");
    ck_assert_int_eq(q[1].kind, DSL_P_U64);
    ck_assert_str_eq(q[1].def, "1");
    ck_assert(!q[1].required && !q[1].optional && !q[1].repeated);
    ck_assert_int_eq(q[2].kind, DSL_P_SLUG);
    ck_assert(q[2].repeated && !q[2].required && !q[2].def);
    ck_assert_int_eq(q[3].kind, DSL_P_UUID);
    ck_assert(q[3].optional && !q[3].required);
    ck_assert_str_eq(q[4].def, "a b"); /* quotes removed */
    ck_assert_int_eq(q[4].loc.line, 1);
    ck_assert_int_eq(q[4].loc.col, 52); /* of its "?" */
    ck_assert_int_eq(f.routes[1]->params[0]->kind, DSL_P_PATH);
    ck_assert_int_eq(f.routes[1]->ranks[1], DSL_RANK_REST);
    ck_assert(!f.routes[1]->strict && f.routes[1]->nquery == 0);
    dsl_file__free(&f);
}
END_TEST

/* A random string over digits, hex letters, '-' and a few others. */
static size_t rand_text_(unsigned* seed, char* out, size_t cap) {
    static const char alpha[] = "0123456789000000000-abcdefABCDEF_xz ";
    size_t n = (size_t) (rand_r(seed) % 40);
    if (n >= cap) n = cap - 1;
    for (size_t i = 0; i < n; i++) out[i] = alpha[rand_r(seed) % (sizeof alpha - 1)];
    if (n == 36 && rand_r(seed) % 2) out[8] = out[13] = out[18] = out[23] = '-'; /* uuid-shaped */
    out[n] = '\0';
    return n;
}

START_TEST(test_types_agree) {
    unsigned seed = 7;
    char s[64];
    int valid[4] = { 0 };
    for (int it = 0; it < 20000; it++) {
        size_t n = rand_text_(&seed, s, sizeof s);
        if (it % 5 == 0) n = (size_t) snprintf(s, sizeof s, "%s%" PRIu64, rand_r(&seed) % 2 ? "-" : "",
                                               (uint64_t) rand_r(&seed) << (rand_r(&seed) % 40) |
                                                   (rand_r(&seed) % 2 ? UINT64_C(1) << 63 : 0));
        ht_slice_t v = ht_slice__from(s, n);
        uint64_t u = 0;
        int64_t i = 0;
        bool ok = ht_rt__qu64(v, &u);
        ck_assert_msg(ok == dsl_query__value_ok(DSL_P_U64, s, n), "u64 '%s'", s);
        if (ok) {
            errno = 0;
            ck_assert_msg(u == strtoull(s, nullptr, 10) && errno == 0, "u64 value '%s'", s);
            valid[0]++;
        }
        ok = ht_rt__qi64(v, &i);
        ck_assert_msg(ok == dsl_query__value_ok(DSL_P_I64, s, n), "i64 '%s'", s);
        if (ok) {
            errno = 0;
            ck_assert_msg(i == strtoll(s, nullptr, 10) && errno == 0, "i64 value '%s'", s);
            valid[1]++;
        }
        ok = ht_rt__qhex(v, &u);
        ck_assert_msg(ok == dsl_query__value_ok(DSL_P_HEX, s, n), "hex '%s'", s);
        if (ok) ck_assert_msg(u == strtoull(s, nullptr, 16), "hex value '%s'", s);
        valid[2] += ok;
        ck_assert_msg(ht_rt__quuid(v) == dsl_query__value_ok(DSL_P_UUID, s, n), "uuid '%s'", s);
        ok = ht_rt__qslug(v);
        ck_assert_msg(ok == dsl_query__value_ok(DSL_P_SLUG, s, n), "slug '%s'", s);
        valid[3] += ok;
    }
    for (int k = 0; k < 4; k++) ck_assert_int_gt(valid[k], 500); /* both answers were seen */
    /* the edges */
    uint64_t u;
    int64_t i;
    ck_assert(ht_rt__qu64(HT_SLICE("18446744073709551615"), &u) && u == UINT64_MAX);
    ck_assert(!ht_rt__qu64(HT_SLICE("18446744073709551616"), &u));
    ck_assert(ht_rt__qu64(HT_SLICE("000000000000000000000000042"), &u) && u == 42);
    ck_assert(ht_rt__qi64(HT_SLICE("-9223372036854775808"), &i) && i == INT64_MIN);
    ck_assert(!ht_rt__qi64(HT_SLICE("9223372036854775808"), &i));
    ck_assert(!ht_rt__qi64(HT_SLICE("-"), &i) && !ht_rt__qu64(HT_SLICE(""), &u));
}
END_TEST

START_TEST(test_safe_path) {
    static const struct {
        const char* v;
        bool ok;
    } cases[] = {
        { "", true },           { "a", true },          { "a/b/c.txt", true },  { ".hidden", true },
        { "...", true },        { "a..b", true },       { "%2E%2E%2E", true },  { "a%20b", true },
        { ".", false },         { "..", false },        { "%2e", false },       { "%2E%2e", false },
        { ".%2E", false },      { "a/../b", false },    { "a/./b", false },     { "a/..", false },
        { "a/%2E%2E", false },  { "a//b", false },      { "/a", false },        { "a/", false },
        { "a%2Fb", false },     { "a%2fb", false },     { "a%5Cb", false },     { "a%5cb", false },
        { "a\\b", false },      { "a%00", false },      { "%2E%2E%2Fx", false }, { "a/%2E./b", false },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        ck_assert_msg(ht_rt__safe_path(ht_slice__from_cstr(cases[k].v)) == cases[k].ok, "'%s'", cases[k].v);
}
END_TEST

/* Splitting and decoding: pairs on '&', '+' as a space, %00 refused. */
START_TEST(test_split_decode) {
    const char* q = "&a=1&&b&c=x%2By+z&=e&d=%00&";
    ht_rt_qit_t it = { q, q + strlen(q) };
    ht_slice_t k, v;
    char buf[64];
    size_t used = 0;
    ht_rt_scratch_t sc = { buf, sizeof buf, &used };
    const char* want[][2] = { { "a", "1" }, { "b", "" }, { "c", "x+y z" }, { "", "e" }, { "d", nullptr } };
    size_t n = 0;
    while (ht_rt__qnext(&it, &k, &v)) {
        ck_assert_uint_lt(n, 5);
        ck_assert(ht_slice__eq(k, ht_slice__from_cstr(want[n][0])));
        bool ok = ht_rt__qdecode(&v, sc);
        ck_assert_int_eq(ok, want[n][1] != nullptr);
        if (ok) ck_assert(ht_slice__eq(v, ht_slice__from_cstr(want[n][1])));
        n++;
    }
    ck_assert_uint_eq(n, 5);
    ht_slice_t name = ht_rt__qname(HT_SLICE("%71"), buf, 8);
    ck_assert(ht_slice__eq(name, HT_SLICE("q")));
    ck_assert(ht_rt__qname(HT_SLICE("%zz"), buf, 8).ptr == nullptr);
}
END_TEST

int main(void) {
    Suite* s = suite_create("query");
    TCase* tc = tcase_create("core");
    tcase_add_test(tc, test_model);
    tcase_add_test(tc, test_types_agree);
    tcase_add_test(tc, test_safe_path);
    tcase_add_test(tc, test_split_decode);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
