/* check_codegen_plan: the plan module of htgen (codegen/plan.h) on its own:
 * specificity, conflicts, groups, lowering (capture signatures, predicate
 * rules over named definitions), subsumption, and linear behaviour on a
 * 10,000-route file. Route files are parsed from strings by the front end
 * (htdsl); diagnostics go to stderr as in htgen. */
#include <check.h>

#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct fx {
    dsl_src_t src;
    dsl_file_t f;
    char* text;
} fx_t;

/* Parses text (routes.ht syntax); true when the front end accepts it. */
static bool parse_(fx_t* x, const char* text) {
    *x = (fx_t){ .text = strdup(text) };
    x->src = (dsl_src_t){ .name = "t.ht", .text = x->text, .len = strlen(x->text) };
    return dsl_file__parse(&x->f, &x->src, ".");
}

static void free_(fx_t* x) {
    dsl_file__free(&x->f);
    free(x->text);
}

static const dsl_route_t* route_(const fx_t* x, const char* handler) {
    for (int j = 0; j < x->f.nroutes; j++)
        if (x->f.routes[j]->handler && !strcmp(x->f.routes[j]->handler, handler)) return x->f.routes[j];
    ck_abort_msg("no route with handler %s", handler);
    return nullptr;
}

START_TEST(test_specificity) {
    fx_t x;
    ck_assert(parse_(&x, "GET /users/new -> a\n"
                         "GET /users/{id:u64} -> b\n"
                         "GET /users/{name} -> c\n"
                         "GET /users/{p...} -> d\n"
                         "GET /users/img-{id:u64}.png -> e\n"
                         "GET /users -> f\n"));
    char sp[64];
    plan__spec_str(route_(&x, "b"), sp, sizeof sp);
    ck_assert_str_eq(sp, "5.2");
    plan__spec_str(route_(&x, "e"), sp, sizeof sp);
    ck_assert_str_eq(sp, "5.4");
    plan__spec_str(route_(&x, "d"), sp, sizeof sp);
    ck_assert_str_eq(sp, "5.0");
    ck_assert_int_eq(plan__cmp_spec(route_(&x, "a"), route_(&x, "b")), 1);
    ck_assert_int_eq(plan__cmp_spec(route_(&x, "b"), route_(&x, "c")), 1);
    ck_assert_int_eq(plan__cmp_spec(route_(&x, "e"), route_(&x, "b")), 1);
    ck_assert_int_eq(plan__cmp_spec(route_(&x, "c"), route_(&x, "d")), 1);
    ck_assert_int_eq(plan__cmp_spec(route_(&x, "f"), route_(&x, "d")), -1); /* a prefix loses to its longer self */
    ck_assert_int_eq(plan__cmp_spec(route_(&x, "b"), route_(&x, "b")), 0);
    free_(&x);
}
END_TEST

START_TEST(test_conflicts) {
    fx_t x;
    ck_assert(parse_(&x, "GET /a/{x} -> a\nGET /a/{y:str} -> b\n"));
    ck_assert(!plan__conflicts(&x.f)); /* same specificity, both match /a/a */
    ck_assert_int_eq(x.src.errors, 1);
    free_(&x);
    /* different methods, different literals, or disjoint languages: none */
    ck_assert(parse_(&x, "GET /a/{x} -> a\nPOST /a/{y} -> b\nGET /b/{y} -> c\n"
                         "GET /n/{h:hex} -> d\nGET /n/{s:/z+/} -> e\n"));
    ck_assert(plan__conflicts(&x.f));
    ck_assert_int_eq(x.src.errors, 0);
    free_(&x);
    /* affixes in different places still meet: a{x} and {x}b both take "ab" */
    ck_assert(parse_(&x, "GET /a{x} -> a\nGET /{x}b -> b\n"));
    ck_assert(!plan__conflicts(&x.f));
    free_(&x);
}
END_TEST

START_TEST(test_groups_and_lowering) {
    fx_t x;
    ck_assert(parse_(&x, "GET /users/{id:u64} -> user\n"
                         "DELETE /users/{id:u64} -> user_delete\n"
                         "GET /users/new -> user_new\n"
                         "GET /img-{id:u64}.png -> img\n"
                         "GET /v/{ver:/v[0-9]+/}/x -> versioned\n"
                         "GET /files/{path...} -> file\n"
                         "GET /t/{n:i64}/{h:hex} -> typed\n"));
    plan_t p;
    ck_assert(plan__build(&p, &x.f, "t.ht"));
    /* the two /users/{id:u64} routes are one group; most specific first */
    ck_assert_int_eq(p.ng, 6);
    ck_assert_int_eq(p.g[0].rep->id, route_(&x, "user_new")->id);
    for (int i = 1; i < p.ng; i++) ck_assert_int_ge(plan__cmp_spec(p.g[i - 1].rep, p.g[i].rep), 0);
    int gu = -1;
    for (int i = 0; i < p.ng; i++)
        if (p.g[i].rep == route_(&x, "user")) gu = i;
    ck_assert_int_ge(gu, 0);
    ck_assert_int_eq(p.g[gu].route[dsl_file__method_index(&x.f, "DELETE", 6)], route_(&x, "user_delete")->id);
    /* capture signatures: where each parameter lies */
    const plan_sig_t* s = &p.sig[p.rsig[route_(&x, "img")->id]];
    ck_assert_str_eq(s->kinds, "u");
    ck_assert_int_eq(s->place[0].seg, 0);
    ck_assert_int_eq((int) s->place[0].pre, 4);
    ck_assert_int_eq((int) s->place[0].suf, 4);
    ck_assert_int_eq(p.rsig[route_(&x, "user")->id], p.rsig[route_(&x, "user_delete")->id]);
    s = &p.sig[p.rsig[route_(&x, "typed")->id]];
    ck_assert_str_eq(s->kinds, "ih");
    ck_assert_int_eq(s->place[1].seg, 2);
    ck_assert_str_eq(p.shape[s->shape], "iu"); /* hex is a uint64_t */
    ck_assert_str_eq(p.sig[p.rsig[route_(&x, "file")->id]].kinds, "r");
    ck_assert_str_eq(p.shape[p.sig[p.rsig[route_(&x, "versioned")->id]].shape], "s");
    /* predicates are rules over named definitions, each defined once */
    bool img = false, re = false;
    for (int k = 0; k < p.au.npred; k++) {
        if (p.au.pred[k].prefix) continue;
        img = img || !strcmp(p.au.pred[k].key, "\"img-\" u64 \".png\"");
        re = re || !strcmp(p.au.pred[k].key, "re1");
    }
    ck_assert(img);
    ck_assert(re);
    int nu64 = 0;
    for (int k = 0; k < p.ndef; k++) {
        nu64 += !strcmp(p.def[k].name, "u64");
        if (!strcmp(p.def[k].name, "re1")) ck_assert_str_eq(p.def[k].text, "\"v\" [0-9]+");
    }
    ck_assert_int_eq(nu64, 1);
    /* every method of every route wins somewhere */
    for (int j = 0; j < x.f.nroutes; j++)
        ck_assert_uint_eq(p.au.reached[x.f.routes[j]->id] & x.f.routes[j]->methods, x.f.routes[j]->methods);
    plan__free(&p);
    free_(&x);
}
END_TEST

START_TEST(test_subsumption) {
    fx_t x;
    /* covered whole by one more specific route */
    ck_assert(parse_(&x, "GET /a/b -> ab\nGET /a/{x:/b/} -> ax\n"));
    ck_assert(plan__conflicts(&x.f));
    plan_t p;
    ck_assert(!plan__build(&p, &x.f, "t.ht"));
    ck_assert_int_eq(x.src.errors, 1);
    free_(&x);
    /* covered by two together: the automaton's proof */
    ck_assert(parse_(&x, "GET /a/{x:/[ab]/} -> u\nGET /a/a -> a\nGET /a/b -> b\n"));
    ck_assert(!plan__build(&p, &x.f, "t.ht"));
    ck_assert_int_eq(x.src.errors, 1);
    free_(&x);
    /* another method still reaches it */
    ck_assert(parse_(&x, "GET /a/b -> ab\nGET|POST /a/{x:/b/} -> ax\n"));
    ck_assert(!plan__build(&p, &x.f, "t.ht")); /* GET is lost */
    free_(&x);
    ck_assert(parse_(&x, "GET /a/b -> ab\nPOST /a/{x:/b/} -> ax\n"));
    ck_assert(plan__build(&p, &x.f, "t.ht"));
    plan__free(&p);
    free_(&x);
}
END_TEST

START_TEST(test_lines) {
    fx_t x;
    ck_assert(parse_(&x, "GET /a -> a\nGET /b -> b\nGET /c -> c\n\nGET /d -> d\nGET /e -> e\n"));
    int ids[] = { 5, 1, 2, 3, 4 }; /* lines 6, 1, 2, 3, 5 */
    dsl_buf_t b = { 0 };
    plan__lines(&x.f, "t.ht", ids, 5, 10, &b);
    ck_assert_str_eq(b.ptr, "t.ht:1-3, 5-6");
    dsl_buf__free(&b);
    plan__lines(&x.f, "t.ht", ids, 5, 1, &b);
    ck_assert_str_eq(b.ptr, "t.ht:1-3, ... (5 routes)");
    dsl_buf__free(&b);
    free_(&x);
}
END_TEST

/* A 10,000-route file of every kind of segment (bench/router/gen_mixed.sh's
   shape): the plan stays linear. Ten times the routes may take at most ~20
   times the time of 1,000 (quadratic would be 100). */
static char* mixed_(int n) {
    static const char* const res[] = { "users", "orders", "items", "carts", "posts" };
    dsl_buf_t b = { 0 };
    for (int i = 0; i < n; i++) {
        int g = i % 10, j = i / 10, slot = j % 10, sr = j / 10;
        char base[128];
        snprintf(base, sizeof base, "/api/v%d/%s/r%d", g % 2 + 1, res[g / 2], sr);
        static const char* const tail[] = { "/op0", "/op1/detail", "/{name}", "/{id:u64}", "/{id:u64}/c",
                                            "/v/{ver:/v[0-9]+/}", "/files/{p...}", "/img-{id:u64}.png",
                                            "/{name}.json", "/tags/{t}" };
        dsl_buf__printf(&b, "GET %s%s -> h%d\n", base, tail[slot], i);
    }
    return b.ptr;
}

static double plan_secs_(int n) {
    char* text = mixed_(n);
    fx_t x;
    ck_assert(parse_(&x, text));
    free(text);
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    ck_assert(plan__conflicts(&x.f));
    plan_t p;
    ck_assert(plan__build(&p, &x.f, "t.ht"));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    ck_assert_int_eq(p.ng, n);
    plan__free(&p);
    free_(&x);
    return (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

START_TEST(test_linear) {
    double small = plan_secs_(1000), big = plan_secs_(10000);
    fprintf(stderr, "check_codegen_plan: 1,000 routes %.3f s, 10,000 routes %.3f s\n", small, big);
    ck_assert_msg(big < 20 * small + 0.5, "10x the routes took %.1fx the time", big / small);
}
END_TEST

int main(void) {
    Suite* s = suite_create("plan");
    TCase* tc = tcase_create("plan");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_specificity);
    tcase_add_test(tc, test_conflicts);
    tcase_add_test(tc, test_groups_and_lowering);
    tcase_add_test(tc, test_subsumption);
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_linear);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
