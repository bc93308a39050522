/* check_codegen_prop: for every generated route set (gen_sets.sh) and
 * hundreds of request paths, PREFIX__match agrees with the reference matcher
 * of prop_ref.h (written from the spec; shared with tests/fuzz/fuzz_match.c),
 * which also asserts that no request has two best routes: htgen's conflict
 * check let nothing ambiguous through. htgen --explain (codegen/explain.h)
 * must give the matcher's answer for every request of the small sets. */
#include <check.h>

#define PROP_REF_FAIL(...) ck_abort_msg(__VA_ARGS__)
#define PROP_REF_MAX_ROUTES 12000 /* the big sets: 10,000 routes */
#include "prop_ref.h"

#include "explain.h" /* htgen --explain's answer must be the matcher's too */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* htgen --explain's plan of a set's routes file (PROP_WORK_DIR/PREFIX.ht, as
   gen_sets.sh left it), for the sets of up to 64 routes. */
typedef struct explained {
    dsl_src_t src;
    dsl_file_t f;
    dsl_buf_t text;
    plan_t plan;
    bool ok;
} explained_t;

static void explained_open_(explained_t* e, const char* prefix) {
    memset(e, 0, sizeof *e);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.ht", PROP_WORK_DIR, prefix);
    FILE* fp = fopen(path, "rb");
    ck_assert_msg(fp != nullptr, "cannot open %s", path);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) dsl_buf__put(&e->text, chunk, got);
    fclose(fp);
    e->src = (dsl_src_t){ .name = path, .text = e->text.ptr, .len = e->text.len };
    ck_assert_msg(dsl_file__parse(&e->f, &e->src, PROP_WORK_DIR) && plan__conflicts(&e->f), "%s", path);
    ck_assert_msg(plan__build(&e->plan, &e->f, prefix), "%s", path);
    e->ok = true;
}

static void explained_close_(explained_t* e) {
    if (!e->ok) return;
    plan__free(&e->plan);
    dsl_file__free(&e->f);
    dsl_buf__free(&e->text);
    e->ok = false;
}

/* ---- request generation ---- */
static uint64_t rng_;
static uint32_t rnd_(uint32_t n) {
    rng_ = rng_ * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t) ((rng_ >> 33) % n);
}

static void value_for_(const char* type, char* out) {
    static const char* const names[] = { "a", "bob", "x%2Fy", "%41b", "%zz", "a%", "abc", "v12", "12", "-5",
                                         "ff", "a-b_c", "img-1.png", "ab", "c", "x-1",
                                         /* past 64 bytes: PREFIX__long's, where htgen writes a hot copy */
                                         "a-value-long-enough-to-take-the-path-past-sixty-four-bytes-%41-x" };
    unsigned w = rnd_(10);
    if (w == 0) { /* anything at all */
        strcpy(out, names[rnd_(sizeof names / sizeof names[0])]);
    } else if (!*type || !strcmp(type, "str")) {
        strcpy(out, names[rnd_(sizeof names / sizeof names[0])]);
    } else if (!strcmp(type, "u64")) {
        static const char* const v[] = { "0", "7", "42", "18446744073709551615", "18446744073709551616",
                                         "00000000000000000001", "000000000000000000001", "99999999999999999999" };
        strcpy(out, v[rnd_(8)]);
    } else if (!strcmp(type, "i64")) {
        static const char* const v[] = { "0", "-1", "42", "9223372036854775807", "9223372036854775808",
                                         "-9223372036854775808", "-9223372036854775809", "-0" };
        strcpy(out, v[rnd_(8)]);
    } else if (!strcmp(type, "hex")) {
        static const char* const v[] = { "0", "ff", "DEADbeef", "ffffffffffffffff", "10000000000000000", "g1" };
        strcpy(out, v[rnd_(6)]);
    } else if (!strcmp(type, "slug")) {
        static const char* const v[] = { "a-b", "A_9", "a.b", "x" };
        strcpy(out, v[rnd_(4)]);
    } else if (!strcmp(type, "uuid")) {
        static const char* const v[] = { "123e4567-e89b-12d3-a456-426614174000",
                                         "123e4567-e89b-12d3-a456-42661417400",
                                         "123E4567-E89B-12D3-A456-426614174000" };
        strcpy(out, v[rnd_(3)]);
    } else {
        static const char* const v[] = { "abc", "v7", "123", "1234", "b", "v", "cab" };
        strcpy(out, v[rnd_(7)]);
    }
}

static size_t gen_path_(const ref_t* r, char* out, size_t cap) {
    if (rnd_(6) == 0) { /* random path from the vocabulary */
        static const char* const parts[] = { "a", "b", "c", "ab", "x-1", "12", "v1", "img-5.png", "f-x", "r-q", "" };
        size_t o = 0;
        int d = 1 + (int) rnd_(4);
        for (int i = 0; i < d && o + 20 < cap; i++)
            o += (size_t) snprintf(out + o, cap - o, "/%s", parts[rnd_(sizeof parts / sizeof parts[0])]);
        return o;
    }
    const pat_t* p = &r->pats[rnd_((uint32_t) r->set->nroutes)];
    size_t o = 0;
    for (int i = 0; i < p->n; i++) {
        const seg_t* g = &p->segs[i];
        char v[128] = "";
        if (g->kind == 0) {
            o += (size_t) snprintf(out + o, cap - o, "/%s", g->pre);
            continue;
        }
        if (g->kind == 2) {
            static const char* const rest[] = { "", "x", "x/y", "a%2Fb/c", "deep/er/path/", "%zz" };
            o += (size_t) snprintf(out + o, cap - o, "/%s%s", g->pre, rest[rnd_(6)]);
            break;
        }
        value_for_(g->type, v);
        o += (size_t) snprintf(out + o, cap - o, "/%s%s%s", g->pre, v, g->suf);
    }
    if (o == 0) out[o++] = '/';
    switch (rnd_(12)) { /* mutations */
    case 0: if (o + 1 < cap) out[o++] = '/'; break;
    case 1: if (o > 1 && out[o - 1] == '/') o--; break;
    case 2: if (o > 2) out[1 + rnd_((uint32_t) o - 1)] = 'q'; break;
    case 3: if (o + 2 < cap) { out[o++] = '/'; out[o++] = 'z'; } break;
    default: break;
    }
    out[o] = '\0';
    return o;
}

START_TEST(test_agrees_with_reference) {
    int checked = 0, want_checked = 0, big = 0, explained = 0;
    static explained_t ex;
    static ref_t r;
    for (int si = 0; si < prop_nsets; si++) {
        r.set = prop_sets[si];
        prop_ref_reset(&r);
        ck_assert_int_le(r.set->nroutes, PROP_REF_MAX_ROUTES);
        for (int i = 0; i < r.set->nroutes; i++) parse_pat_(r.set->routes[i].pattern, &r.pats[i]);
        rng_ = 0xC0FFEEull + (uint64_t) si;
        /* a big set (gen_sets.sh's last ones): more requests, as many
           routes are behind each */
        int nq = r.set->nroutes > 64 ? 3000 : 400;
        big += r.set->nroutes > 64;
        if (r.set->nroutes <= 64) explained_open_(&ex, r.set->prefix);
        want_checked += nq;
        for (int q = 0; q < nq; q++) {
            char path[700];
            size_t n = gen_path_(&r, path, sizeof path);
            const char* method;
            if (rnd_(3) == 0) {
                method = all_methods_[rnd_(sizeof all_methods_ / sizeof all_methods_[0])];
            } else {
                /* a method of some route: most requests should hit something */
                static char m[32];
                const char* ms = r.set->routes[rnd_((uint32_t) r.set->nroutes)].methods;
                size_t l = strcspn(ms, "|");
                snprintf(m, sizeof m, "%.*s", (int) l, ms);
                method = m;
            }
            static prop_result_t got, want;
            memset(&got, 0, sizeof got);
            r.set->run(method, path, n, &got);
            reference_(&r, method, path, n, &want);
            ck_assert_msg(got.status == want.status && got.route == want.route,
                          "%s %s %s: got status %d route %d, want status %d route %d", r.set->prefix, method,
                          path, got.status, got.route, want.status, want.route);
            if (want.status == ST_405 || want.status == ST_OPTIONS)
                ck_assert_msg(got.allow == want.allow, "%s %s %s: allow %#x want %#x", r.set->prefix, method, path,
                              got.allow, want.allow);
            if (want.status == ST_REDIRECT) ck_assert_str_eq(got.redirect, want.redirect);
            if (want.status == ST_FOUND) {
                ck_assert_msg(got.nparams == want.nparams, "%s %s %s: status %d route %d, %d params, want %d", r.set->prefix,
                              method, path, got.status, got.route, got.nparams, want.nparams);
                for (int k = 0; k < want.nparams; k++)
                    ck_assert_msg(!strcmp(got.params[k], want.params[k]), "%s %s %s: param %d got '%s' want '%s'",
                                  r.set->prefix, method, path, k, got.params[k], want.params[k]);
            }
            if (ex.ok) {
                explain_answer_t a = explain__match(&ex.plan, method, strlen(method), path, n);
                ck_assert_msg((int) a.status == got.status && a.route == got.route,
                              "%s %s %s: --explain says status %d route %d, the matcher %d route %d", r.set->prefix,
                              method, path, a.status, a.route, got.status, got.route);
                explained++;
            }
            checked++;
        }
        explained_close_(&ex);
    }
    ck_assert_int_ge(prop_nsets, 1);
    ck_assert_int_eq(checked, want_checked);
    ck_assert_int_ge(explained, 400);
    fprintf(stderr, "check_codegen_prop: %d sets (%d big), %d requests (%d also through --explain)\n", prop_nsets, big,
            checked, explained);
}
END_TEST

int main(void) {
    Suite* s = suite_create("codegen_prop");
    TCase* tc = tcase_create("reference");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_agrees_with_reference);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
