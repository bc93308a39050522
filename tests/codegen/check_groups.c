/* Groups end to end (groups/routes.ht): the generated dispatch served by a
 * real server on this build's backend. A before hook answers 401/403
 * unless a header is there, outer group's first; after hooks see every
 * final status, inner group's first: a before hook's answer, a handler's,
 * a deferred response completed later, the server's 503/504 when a
 * deadline passes, and 0 when the client left; group options (timeout,
 * upstream, body) are inherited and a route's own wins. */
#include "grp_routes.h"

#include <check.h>
#include <stdatomic.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"

/* What the hooks saw, appended on the server's thread and read by the test
 * once n says an entry is there. */
typedef struct grp_event {
    char kind; /* 'A' require_auth, 'B' require_admin, 'c' log_call, 'a' log_admin */
    int route;
    int status;
} grp_event_t;

struct grp_ctx {
    grp_event_t ev[64];
    _Atomic(int) n;
    ht_response_t* held; /* GET /api/later's deferred response */
};

static struct grp_ctx G;

static void event_(char kind, int route, int status) {
    int i = atomic_load(&G.n);
    ck_assert_int_lt(i, 64);
    G.ev[i] = (grp_event_t){ kind, route, status };
    atomic_store(&G.n, i + 1);
}

/* Waits (bounded) until n events were recorded. */
static void wait_events_(int n) {
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&G.n) < n && ht_test__mono_ms() - t0 < 5000) ht_test__sleep_ms(2);
    ck_assert_int_eq(atomic_load(&G.n), n);
}

static void expect_event_(int i, char kind, int route, int status) {
    ck_assert_msg(G.ev[i].kind == kind && G.ev[i].route == route && G.ev[i].status == status,
                  "event %d: got %c route %d status %d, want %c %d %d", i, G.ev[i].kind, G.ev[i].route,
                  G.ev[i].status, kind, route, status);
}

/* ---- hooks ---- */
bool grp_require_auth(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) ctx;
    event_('A', 0, 0);
    ht_slice_t t = ht_request__header_by_name(req, HT_SLICE("X-Token"));
    if (ht_slice__eq(t, HT_SLICE("yes"))) return true;
    (void) ht_response__text(res, 401, "no token", a);
    return false;
}

bool grp_require_admin(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) ctx;
    event_('B', 0, 0);
    if (ht_request__header_by_name(req, HT_SLICE("X-Admin")).ptr) return true;
    (void) ht_response__text(res, 403, "not admin", a);
    return false;
}

void grp_log_call(struct grp_ctx* ctx, grp_route_t route, uint16_t status) {
    (void) ctx;
    event_('c', (int) route, status);
}

void grp_log_admin(struct grp_ctx* ctx, grp_route_t route, uint16_t status) {
    (void) ctx;
    event_('a', (int) route, status);
}

/* ---- handlers ---- */
static void release_on_cancel_(ht_response_t* res, ht_result_t why, void* ud) {
    (void) why, (void) ud;
    (void) ht_response__release(res);
}

/* Defers and never answers: the deadline or the client's leaving cuts it off. */
static void hang_(ht_response_t* res, ht_alloc_t* a) {
    ht_response_t* later = ht_response__defer(res);
    if (!later) {
        (void) ht_response__error(res, 500, a);
        return;
    }
    ht_response__on_cancel(later, release_on_cancel_, nullptr);
}

void grp_open_page(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                   const grp_open_page_params_t* p) {
    (void) ctx, (void) req, (void) p;
    (void) ht_response__text(res, 200, "open", a);
}

void grp_release(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                 const grp_release_params_t* p) {
    (void) req, (void) p;
    if (!ctx->held) {
        (void) ht_response__error(res, 409, a);
        return;
    }
    (void) ht_response__text(ctx->held, 201, "done", a);
    (void) ht_response__release(ctx->held);
    ctx->held = nullptr;
    (void) ht_response__text(res, 200, "released", a);
}

void grp_item(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
              const grp_item_params_t* p) {
    (void) ctx, (void) req;
    char body[64];
    snprintf(body, sizeof body, "item %llu", (unsigned long long) p->id);
    (void) ht_response__text(res, 200, body, a);
}

void grp_later(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
               const grp_later_params_t* p) {
    (void) req, (void) p;
    ctx->held = ht_response__defer(res);
    if (!ctx->held) (void) ht_response__error(res, 500, a);
}

void grp_stuck(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
               const grp_stuck_params_t* p) {
    (void) ctx, (void) req, (void) p;
    hang_(res, a);
}

void grp_gone(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
              const grp_gone_params_t* p) {
    (void) ctx, (void) req, (void) p;
    hang_(res, a);
}

void grp_stats(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
               const grp_stats_params_t* p) {
    (void) ctx, (void) req, (void) p;
    (void) ht_response__text(res, 200, "stats", a);
}

void grp_echo(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
              const grp_echo_params_t* p) {
    (void) ctx, (void) p;
    ht_slice_t b = ht_request__body(req);
    (void) ht_response__text_n(res, 200, b.ptr, b.len, a);
}

void grp_big(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
             const grp_big_params_t* p) {
    (void) ctx, (void) p;
    char body[32];
    snprintf(body, sizeof body, "%zu bytes", ht_request__body(req).len);
    (void) ht_response__text(res, 200, body, a);
}

void grp_wait(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
              const grp_wait_params_t* p) {
    (void) ctx, (void) req, (void) p;
    hang_(res, a);
}

static void handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    grp__dispatch(cfg, req, res, a);
}

static void start_grp(void) {
    memset(&G, 0, sizeof G);
    ht_config_t cfg = { .user_data = &G, .body_policy = grp__body_policy, .defer_timeout_ms = 5000 };
    start_cfg(&cfg);
}

/* One request on a new connection: its response. */
static resp_t ask_(const char* raw) {
    int fd = client();
    send_str(fd, raw);
    rd_t r;
    rd_init(&r, fd);
    resp_t out;
    ck_assert_msg(read_resp(&r, &out, false), "no response to %s", raw);
    rd_free(&r);
    close(fd);
    return out;
}

static void expect_(const char* raw, int status, const char* body) {
    resp_t p = ask_(raw);
    ck_assert_int_eq(p.status, status);
    ck_assert_str_eq(p.body, body);
    resp_free(&p);
}

#define TOKEN "X-Token: yes\r\n"

START_TEST(test_before_hooks) {
    start_grp();
    /* Outside any group: no hook. */
    expect_("GET /open HTTP/1.1\r\nHost: x\r\n\r\n", 200, "open");
    ck_assert_int_eq(atomic_load(&G.n), 0);
    /* The before hook answers 401; the after hook sees it. */
    expect_("GET /api/items/7 HTTP/1.1\r\nHost: x\r\n\r\n", 401, "no token");
    wait_events_(2);
    expect_event_(0, 'A', 0, 0);
    expect_event_(1, 'c', GRP_ROUTE_ITEM, 401);
    expect_("GET /api/items/7 HTTP/1.1\r\nHost: x\r\n" TOKEN "\r\n", 200, "item 7");
    wait_events_(4);
    expect_event_(3, 'c', GRP_ROUTE_ITEM, 200);
    /* Nested: the outer before hook first, then the inner; after hooks the
     * other way round. */
    expect_("GET /api/admin/stats HTTP/1.1\r\nHost: x\r\n" TOKEN "\r\n", 403, "not admin");
    wait_events_(8);
    expect_event_(4, 'A', 0, 0);
    expect_event_(5, 'B', 0, 0);
    expect_event_(6, 'a', GRP_ROUTE_STATS, 403);
    expect_event_(7, 'c', GRP_ROUTE_STATS, 403);
    expect_("GET /api/admin/stats HTTP/1.1\r\nHost: x\r\nX-Admin: 1\r\n" TOKEN "\r\n", 200, "stats");
    wait_events_(12);
    expect_event_(10, 'a', GRP_ROUTE_STATS, 200);
    expect_event_(11, 'c', GRP_ROUTE_STATS, 200);
    /* The outer hook's 401 stops before the inner one. */
    expect_("GET /api/admin/stats HTTP/1.1\r\nHost: x\r\nX-Admin: 1\r\n\r\n", 401, "no token");
    wait_events_(15);
    expect_event_(12, 'A', 0, 0);
    expect_event_(13, 'a', GRP_ROUTE_STATS, 401);
    expect_event_(14, 'c', GRP_ROUTE_STATS, 401);
    /* No route: the dispatch's 404, no hook. */
    resp_t p = ask_("GET /api/nothing HTTP/1.1\r\nHost: x\r\n" TOKEN "\r\n");
    ck_assert_int_eq(p.status, 404);
    resp_free(&p);
    ht_test__sleep_ms(20);
    ck_assert_int_eq(atomic_load(&G.n), 15);
    stop();
}
END_TEST

START_TEST(test_after_deferred) {
    start_grp();
    /* Completed later, from another request: the after hook sees 201 then. */
    int fd = client();
    send_str(fd, "GET /api/later HTTP/1.1\r\nHost: x\r\n" TOKEN "\r\n");
    uint64_t t0 = ht_test__mono_ms();
    while (atomic_load(&G.n) < 1 && ht_test__mono_ms() - t0 < 5000) ht_test__sleep_ms(2);
    ht_test__sleep_ms(20);
    ck_assert_int_eq(atomic_load(&G.n), 1); /* the before hook only */
    expect_("POST /release HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 200, "released");
    rd_t r;
    rd_init(&r, fd);
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, 201);
    ck_assert_str_eq(p.body, "done");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    wait_events_(2);
    expect_event_(1, 'c', GRP_ROUTE_LATER, 201);
    /* Never completed: the route's 100 ms deadline, the server's 503. */
    p = ask_("GET /api/stuck HTTP/1.1\r\nHost: x\r\n" TOKEN "\r\n");
    ck_assert_int_eq(p.status, 503);
    resp_free(&p);
    wait_events_(4);
    expect_event_(3, 'c', GRP_ROUTE_STUCK, 503);
    /* The client leaves before an answer: status 0. */
    fd = client();
    send_str(fd, "GET /api/gone HTTP/1.1\r\nHost: x\r\n" TOKEN "\r\n");
    t0 = ht_test__mono_ms();
    while (atomic_load(&G.n) < 5 && ht_test__mono_ms() - t0 < 5000) ht_test__sleep_ms(2);
    close(fd);
    wait_events_(6);
    expect_event_(5, 'c', GRP_ROUTE_GONE, 0);
    stop();
}
END_TEST

START_TEST(test_inherited_options) {
    start_grp();
    char raw[4096 + 256], body[3000];
    memset(body, 'x', sizeof body);
    /* body=1K from the group. */
    snprintf(raw, sizeof raw, "POST /v2/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n%.2000s", body);
    resp_t p = ask_(raw);
    ck_assert_int_eq(p.status, 413);
    resp_free(&p);
    expect_("POST /v2/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 200, "hello");
    /* `body 4K` on the route wins. */
    snprintf(raw, sizeof raw, "POST /v2/big HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n%.3000s", body);
    expect_(raw, 200, "3000 bytes");
    ck_assert_uint_eq(grp__routes[GRP_ROUTE_BIG].body_limit, 4096);
    ck_assert_uint_eq(grp__routes[GRP_ROUTE_ECHO].body_limit, 1024);
    /* timeout=150ms upstream: 504 after about 150 ms. */
    uint64_t t0 = ht_test__mono_ms();
    p = ask_("GET /v2/wait HTTP/1.1\r\nHost: x\r\n\r\n");
    uint64_t dt = ht_test__mono_ms() - t0;
    ck_assert_int_eq(p.status, 504);
    ck_assert_uint_ge(dt, 140);
    ck_assert_uint_lt(dt, 3000);
    resp_free(&p);
    ck_assert_int_eq(atomic_load(&G.n), 0); /* no hooks in /v2 */
    stop();
}
END_TEST

int main(void) {
    Suite* s = suite_create("groups");
    TCase* tc = tcase_create("dispatch");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_before_hooks);
    tcase_add_test(tc, test_after_deferred);
    tcase_add_test(tc, test_inherited_options);
    suite_add_tcase(s, tc);
    return ht_test__run(s);
}
