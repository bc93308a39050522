/* check_explain: htgen --explain (codegen/explain.h) gives the answer of the
 * matcher htgen generates, for examples/routing/routes.ht, the golden set
 * and the query golden set ({name:path...}, query words): every route's pattern with each parameter replaced by values from a
 * vocabulary (numbers, names, escapes, overflow, empty), with trailing
 * slashes added and removed and a segment appended, under every method of
 * the file and a few others. The random route sets get the same comparison
 * in check_codegen_prop; the printed text has goldens (explain/). The hosts
 * set (host blocks) is compared with PREFIX__match_host over the same
 * requests times Host values: exact, wildcard, nested wildcard, unknown,
 * none, upper case, with a port and a final dot. */
#include "app_routes.h"
#include "gq_routes.h"
#include "hst_routes.h"
#include "routing_routes.h"

#include "explain.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

typedef struct loaded {
    dsl_src_t src;
    dsl_file_t f;
    dsl_buf_t text;
    plan_t plan;
} loaded_t;

static void load_(loaded_t* l, const char* path, const char* dir) {
    memset(l, 0, sizeof *l);
    FILE* fp = fopen(path, "rb");
    ck_assert_msg(fp != nullptr, "cannot open %s", path);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) dsl_buf__put(&l->text, chunk, got);
    fclose(fp);
    l->src = (dsl_src_t){ .name = path, .text = l->text.ptr, .len = l->text.len };
    ck_assert(dsl_file__parse(&l->f, &l->src, dir));
    ck_assert(plan__conflicts(&l->f));
    ck_assert(plan__build(&l->plan, &l->f, "routes.ht"));
}

static void unload_(loaded_t* l) {
    plan__free(&l->plan);
    dsl_file__free(&l->f);
    dsl_buf__free(&l->text);
}

typedef int (*match_fn)(const char* method, const char* path, int* route);

static char scratch_[4096];

static int app_(const char* method, const char* path, int* route) {
    app_match_t m;
    m.scratch = scratch_;
    m.scratch_cap = sizeof scratch_;
    int st = (int) app__match_token(ht_slice__from_cstr(method), ht_slice__from_cstr(path), &m);
    *route = (int) m.route;
    return st;
}


static int gq_(const char* method, const char* path, int* route) {
    gq_match_t m;
    m.scratch = scratch_;
    m.scratch_cap = sizeof scratch_;
    int st = (int) gq__match_token(ht_slice__from_cstr(method), ht_slice__from_cstr(path), &m);
    *route = (int) m.route;
    return st;
}

/* The Host values, nullptr for none. */
static const char* const hosts_[] = { nullptr,
                                      "api.example.com",
                                      "API.Example.COM",
                                      "api.example.com:8080",
                                      "api.example.com.",
                                      "www.example.com",
                                      "foo.example.com",
                                      "a.b.example.com",
                                      "x.eu.example.com",
                                      "X.EU.EXAMPLE.COM:443",
                                      "eu.example.com",
                                      "example.com",
                                      ".example.com",
                                      "other.org",
                                      "" };
enum { NHOSTS = sizeof hosts_ / sizeof hosts_[0] };
/* examples/routing's: its block's, unknown, none (fewer: it has more routes). */
static const char* const routing_hosts_[] = { nullptr, "api.localhost", "API.LOCALHOST:8080", "www.api.localhost" };
enum { NROUTING_HOSTS = sizeof routing_hosts_ / sizeof routing_hosts_[0] };
static const char* host_; /* the Host of hst_'s and routing_'s requests */

/* examples/routing has a host block (api.localhost): PREFIX__match_host */
static int routing_(const char* method, const char* path, int* route) {
    static char big[2 * ROUTING_HOST_SCRATCH + 4096];
    routing_match_t m;
    m.scratch = big;
    m.scratch_cap = sizeof big;
    ht_slice_t tok = ht_slice__from_cstr(method);
    ht_slice_t host = host_ ? ht_slice__from_cstr(host_) : ht_slice__from(nullptr, 0);
    int st = (int) routing__match_host(ht_method__from_slice(tok), tok, host, ht_slice__from_cstr(path), &m);
    *route = (int) m.route;
    return st;
}

static int hst_(const char* method, const char* path, int* route) {
    static char big[2 * HST_HOST_SCRATCH + 4096];
    hst_match_t m;
    m.scratch = big;
    m.scratch_cap = sizeof big;
    ht_slice_t tok = ht_slice__from_cstr(method);
    ht_slice_t host = host_ ? ht_slice__from_cstr(host_) : ht_slice__from(nullptr, 0);
    int st = (int) hst__match_host(ht_method__from_slice(tok), tok, host, ht_slice__from_cstr(path), &m);
    *route = (int) m.route;
    return st;
}

static const char* const values_[] = { "42", "bob", "new", "a%41", "%zz", "", "18446744073709551616", "-7",
                                       "ff", "a-b_c", "x/y", "123e4567-e89b-12d3-a456-426614174000", "v12",
                                       "img-5.png", "q", "..", "a/./b", "a%2Fb", "a\\b", "x/" };
enum { NVALUES = sizeof values_ / sizeof values_[0] };
static const char* const methods_[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW" };

/* Route r's pattern with every parameter replaced by values_[(v + k) % NVALUES].
   In a file with host blocks r->pieces start with the pseudo-segment ("/",
   " api.example.com"), which a request's path does not hold: skipped. */
static size_t instance_(const dsl_file_t* f, const dsl_route_t* r, int v, char* out, size_t cap) {
    size_t o = 0;
    for (int k = f->nhosts ? 2 : 0; k < r->npieces && o + 64 < cap; k++) {
        const dsl_piece_t* pc = &r->pieces[k];
        const char* s = pc->is_param ? values_[(v + pc->param.index) % NVALUES] : pc->lit;
        size_t n = pc->is_param ? strlen(s) : pc->lit_len;
        memcpy(out + o, s, n);
        o += n;
    }
    out[o] = '\0';
    return o;
}

static int compare_(const loaded_t* l, match_fn match) {
    int checked = 0;
    for (int j = 0; j < l->f.nroutes; j++)
        for (int v = 0; v < NVALUES; v++)
            for (int mut = 0; mut < 3; mut++) {
                char path[512];
                size_t n = instance_(&l->f, l->f.routes[j], v, path, sizeof path - 4);
                if (mut == 1 && n > 1 && path[n - 1] == '/') path[--n] = '\0';
                else if (mut == 1) path[n++] = '/', path[n] = '\0';
                if (mut == 2) memcpy(path + n, "/z", 3), n += 2;
                for (size_t mi = 0; mi < sizeof methods_ / sizeof methods_[0]; mi++) {
                    int route;
                    int st = match(methods_[mi], path, &route);
                    explain_answer_t a =
                        l->f.nhosts ? explain__match_host(&l->plan, methods_[mi], strlen(methods_[mi]), host_,
                                                            host_ ? strlen(host_) : 0, path, n)
                                      : explain__match(&l->plan, methods_[mi], strlen(methods_[mi]), path, n);
                    ck_assert_msg((int) a.status == st && a.route == route,
                                  "%s %s (Host %s): --explain says status %d route %d, the matcher %d route %d",
                                  methods_[mi], path, host_ ? host_ : "none", a.status, a.route, st, route);
                    checked++;
                }
            }
    return checked;
}


START_TEST(test_golden_set) {
    loaded_t l;
    load_(&l, GOLDEN_HT, GOLDEN_DIR);
    int n = compare_(&l, app_);
    ck_assert_int_eq(n, l.f.nroutes * NVALUES * 3 * 8);
    unload_(&l);
}
END_TEST

START_TEST(test_query_set) {
    loaded_t l;
    load_(&l, GOLDEN_QUERY_HT, GOLDEN_QUERY_DIR);
    int n = compare_(&l, gq_);
    ck_assert_int_eq(n, l.f.nroutes * NVALUES * 3 * 8);
    /* the safe rest refuses a '..' segment: 400, as the matcher says */
    explain_answer_t a = explain__match(&l.plan, "GET", 3, "/raw/a/../b", 11);
    ck_assert_int_eq(a.status, EXPLAIN_BAD_REQUEST);
    unload_(&l);
}
END_TEST

/* Every request of compare_ under every Host of hs[0 .. n). */
static int compare_hosts_(const loaded_t* l, match_fn match, const char* const* hs, int n) {
    int checked = 0;
    for (int h = 0; h < n; h++) {
        host_ = hs[h];
        checked += compare_(l, match);
    }
    host_ = nullptr;
    return checked;
}

START_TEST(test_routing_example) {
    loaded_t l;
    load_(&l, ROUTING_HT, ROUTING_DIR);
    int n = compare_hosts_(&l, routing_, routing_hosts_, NROUTING_HOSTS);
    ck_assert_int_eq(n, NROUTING_HOSTS * l.f.nroutes * NVALUES * 3 * 8);
    /* the answers the example documents */
    explain_answer_t a = explain__match_host(&l.plan, "GET", 3, nullptr, 0, "/users/new", 10);
    ck_assert_int_eq(a.route, ROUTING_ROUTE_USER_NEW);
    a = explain__match_host(&l.plan, "GET", 3, nullptr, 0, "/docs", 5);
    ck_assert_int_eq(a.status, EXPLAIN_REDIRECT);
    a = explain__match_host(&l.plan, "GET", 3, "api.localhost:8080", 18, "/", 1);
    ck_assert_int_eq(a.route, ROUTING_ROUTE_API_HOME);
    a = explain__match_host(&l.plan, "GET", 3, nullptr, 0, "/", 1);
    ck_assert_int_eq(a.route, ROUTING_ROUTE_HOME);
    a = explain__match_host(&l.plan, "GET", 3, "api.localhost", 13, "/admin/stats", 12);
    ck_assert_int_eq(a.route, ROUTING_ROUTE_ADMIN_STATS);
    unload_(&l);
}
END_TEST

START_TEST(test_hosts_set) {
    loaded_t l;
    load_(&l, HOSTS_HT, HOSTS_DIR);
    int n = compare_hosts_(&l, hst_, hosts_, NHOSTS);
    ck_assert_int_eq(n, NHOSTS * l.f.nroutes * NVALUES * 3 * 8);
    /* the answers SPEC.md documents: a block's own route, exact before
       wildcard, the longer suffix, the fallback, no Host */
    struct {
        const char* host;
        const char* path;
        int route;
    } want[] = {
        { "api.example.com", "/v1/ping", HST_ROUTE_API_PING },
        { "API.EXAMPLE.COM:8080", "/v1/ping", HST_ROUTE_API_PING },
        { "api.example.com", "/v2/ping", HST_ROUTE_API_PING2 },
        { "api.example.com", "/admin/stats", HST_ROUTE_API_STATS },
        { "b.example.com", "/v1/ping", HST_ROUTE_WILD_PING },
        { "b.eu.example.com", "/v1/ping", HST_ROUTE_EU_PING },
        { "api.example.com", "/only", HST_ROUTE_ONLY },
        { "example.com", "/v1/ping", HST_ROUTE_PING },
        { nullptr, "/v1/ping", HST_ROUTE_PING },
        { nullptr, "/v2/ping", 0 },
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const char* hs = want[k].host;
        explain_answer_t a = explain__match_host(&l.plan, "GET", 3, hs, hs ? strlen(hs) : 0, want[k].path,
                                                 strlen(want[k].path));
        ck_assert_msg(a.route == want[k].route, "GET %s (Host %s): route %d, want %d", want[k].path,
                      hs ? hs : "none", a.route, want[k].route);
    }
    unload_(&l);
}
END_TEST

int main(void) {
    Suite* s = suite_create("explain");
    TCase* tc = tcase_create("matcher");
    tcase_add_test(tc, test_routing_example);
    tcase_add_test(tc, test_golden_set);
    tcase_add_test(tc, test_query_set);
    tcase_add_test(tc, test_hosts_set);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
