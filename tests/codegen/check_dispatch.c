/* The generated dispatch and body policy, linked and run (dispatch/routes.ht):
 * handlers are PREFIX_NAME and get ht_config_t.user_data as their typed
 * context; PREFIX__body_policy answers each route's `body` limit and
 * `stream` flag from method + path alone, before any body is read. Requests
 * are built by hand (as tests/server does); the handlers here never touch
 * the response, so the found-route paths run without a server. */
#include "dsp_routes.h"

#include <check.h>

#include <ht/config.h>
#include <ht/request.h>

#include <stdio.h>
#include <string.h>

#include "server/out_fixture.h" /* a response built without a server */

void dsp_item(dsp_ctx_t* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
              const dsp_item_params_t* p) {
    (void) res, (void) a;
    ctx->calls++, ctx->last = "item", ctx->id = p->id, ctx->pending = ht_request__body_pending(req);
}

void dsp_add(dsp_ctx_t* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
             const dsp_add_params_t* p) {
    (void) res, (void) a, (void) p;
    ctx->calls++, ctx->last = "add", ctx->pending = ht_request__body_pending(req);
}

void dsp_upload(dsp_ctx_t* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                const dsp_upload_params_t* p) {
    (void) res, (void) a;
    ctx->calls++, ctx->last = "upload", ctx->name = p->name, ctx->pending = ht_request__body_pending(req);
}

void dsp_patch(dsp_ctx_t* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
               const dsp_patch_params_t* p) {
    (void) res, (void) a;
    ctx->calls++, ctx->last = "patch", ctx->name = p->x, ctx->pending = ht_request__body_pending(req);
}

void dsp_brew(dsp_ctx_t* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
              const dsp_brew_params_t* p) {
    (void) res, (void) a, (void) p;
    ctx->calls++, ctx->last = "brew", ctx->pending = ht_request__body_pending(req);
}

/* `errors /items -> items_error`: its 404s and 405s, status already chosen. */
void dsp_items_error(dsp_ctx_t* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                     uint16_t status) {
    ctx->calls++, ctx->last = "items_error";
    char page[128];
    ht_slice_t path = ht_request__path(req);
    snprintf(page, sizeof page, "<p>items: %u %.*s</p>", (unsigned) status, (int) path.len, path.ptr);
    (void) ht_response__html(res, status, page, a);
}

static ht_request_t req_(const char* method, const char* path) {
    ht_request_t r = { .method_ = ht_slice__from_cstr(method), .path_ = ht_slice__from_cstr(path) };
#define HT_X_(id, tok) if (strcmp(method, tok) == 0) r.method_id_ = HT_METHOD_##id;
    HT_METHODS(HT_X_)
#undef HT_X_
    return r;
}

static ht_body_policy_t policy_(const char* method, const char* path) {
    ht_request_t r = req_(method, path);
    ht_config_t cfg = { .body_policy = dsp__body_policy };
    return cfg.body_policy(&cfg, &r);
}

START_TEST(test_body_policy) {
    ht_body_policy_t p = policy_("POST", "/items");
    ck_assert_uint_eq(p.limit, 4096);
    ck_assert(!p.stream);
    p = policy_("PUT", "/upload/big-file_1");
    ck_assert_uint_eq(p.limit, UINT64_C(8) << 30);
    ck_assert(p.stream);
    p = policy_("PATCH", "/p/a%20b"); /* a decoded parameter: the scratch buffer */
    ck_assert_uint_eq(p.limit, 0);    /* no `body`: the server's max_body */
    ck_assert(p.stream);
    p = policy_("BREW", "/pot"); /* a custom method: matched by its token */
    ck_assert_uint_eq(p.limit, 1024 * 1024);
    ck_assert(p.stream);
    p = policy_("GET", "/items/7"); /* a route without options */
    ck_assert(p.limit == 0 && !p.stream);
    p = policy_("PUT", "/items"); /* 405: no route, the server's defaults */
    ck_assert(p.limit == 0 && !p.stream);
    p = policy_("PUT", "/nowhere");
    ck_assert(p.limit == 0 && !p.stream);
    p = policy_("PATCH", "/p/%zz"); /* a bad escape: 400 later, defaults now */
    ck_assert(p.limit == 0 && !p.stream);
    static char longp[DSP_SCRATCH_MAX + 8];
    memset(longp, 'a', sizeof longp - 1);
    memcpy(longp, "/p/", 3);
    p = policy_("PATCH", longp); /* 414 later */
    ck_assert(p.limit == 0 && !p.stream);
    /* `errors PREFIX json`: the server's own 413 (or 400, 408) about a body
       under that prefix is JSON too, with or without a route. */
    ck_assert(!policy_("POST", "/items").json_errors);
    ck_assert(policy_("POST", "/api/x").json_errors);
    ck_assert(policy_("PUT", "/api").json_errors);
    ck_assert(!policy_("PUT", "/apix").json_errors);
    ck_assert(policy_("POST", "/items/special/x").json_errors);
    ck_assert(!policy_("POST", "/items/x").json_errors);
}
END_TEST

/* dsp__dispatch into a real response (an errors hook needs one). */
static void run_(const ht_config_t* cfg, const ht_request_t* r) {
    ht_out__reset_(OUT);
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    dsp__dispatch(cfg, r, &res, A);
    ht_response__finish_(&res);
    free(sent(nullptr));
}

START_TEST(test_dispatch_context) {
    dsp_ctx_t ctx = { 0 };
    ht_config_t cfg = { .user_data = &ctx, .body_policy = dsp__body_policy };
    ht_request_t r = req_("GET", "/items/42");
    run_(&cfg, &r);
    ck_assert_int_eq(ctx.calls, 1);
    ck_assert_str_eq(ctx.last, "item");
    ck_assert_uint_eq(ctx.id, 42);
    /* A streamed body: the handler runs at head time, the body still to come. */
    r = req_("PUT", "/upload/report-7");
    r.flags_ |= HT_REQUEST_F_BODY_PENDING;
    run_(&cfg, &r);
    ck_assert_int_eq(ctx.calls, 2);
    ck_assert_str_eq(ctx.last, "upload");
    ck_assert(ctx.pending);
    ck_assert(ctx.name.len == 8 && memcmp(ctx.name.ptr, "report-7", 8) == 0);
    /* A buffered body under the route's limit reaches the handler. */
    static char body[4096];
    r = req_("POST", "/items");
    r.body_ = ht_slice__from(body, sizeof body);
    run_(&cfg, &r);
    ck_assert_int_eq(ctx.calls, 3);
    ck_assert_str_eq(ctx.last, "add");
    ck_assert(!ctx.pending);
    r = req_("BREW", "/pot");
    run_(&cfg, &r);
    ck_assert_str_eq(ctx.last, "brew");
    ck_assert_int_eq(dsp__routes[DSP_ROUTE_UPLOAD].stream, true);
    ck_assert_str_eq(dsp__routes[DSP_ROUTE_UPLOAD].handler, "upload");
}
END_TEST

/* One request through dsp__dispatch into a real response: what it sends. */
static char* answer_(dsp_ctx_t* ctx, const char* method, const char* path) {
    ht_config_t cfg = { .user_data = ctx, .body_policy = dsp__body_policy };
    ht_request_t r = req_(method, path);
    ht_out__reset_(OUT);
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    dsp__dispatch(&cfg, &r, &res, A);
    ht_response__finish_(&res);
    return sent(nullptr);
}

#define HAS(s, lit) ck_assert_msg(strstr((s), (lit)) != nullptr, "no %s in:\n%s", (lit), (s))

START_TEST(test_errors) {
    dsp_ctx_t ctx = { 0 };
    /* No errors line: the built-in HTML page. */
    char* s = answer_(&ctx, "GET", "/nope");
    HAS(s, "HTTP/1.1 404 Not Found\r\n");
    HAS(s, "Content-Type: text/html; charset=utf-8\r\n");
    free(s);
    s = answer_(&ctx, "GET", "/itemsx"); /* not under /items: a prefix ends at '/' */
    HAS(s, "<h1>404 Not Found</h1>");
    free(s);
    /* `errors /api json`. */
    s = answer_(&ctx, "GET", "/api/users/7");
    HAS(s, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n");
    HAS(s, "\r\n\r\n{\"error\":\"Not Found\",\"status\":404}\n");
    free(s);
    s = answer_(&ctx, "GET", "/api");
    HAS(s, "{\"error\":\"Not Found\",\"status\":404}");
    free(s);
    ck_assert_int_eq(ctx.calls, 0);
    /* `errors /items -> items_error`: a 405 keeps its Allow, a 404 (a bad u64). */
    s = answer_(&ctx, "DELETE", "/items/5");
    HAS(s, "HTTP/1.1 405 Method Not Allowed\r\n");
    HAS(s, "Allow: GET, HEAD, OPTIONS\r\n");
    HAS(s, "<p>items: 405 /items/5</p>");
    free(s);
    ck_assert_int_eq(ctx.calls, 1);
    ck_assert_str_eq(ctx.last, "items_error");
    s = answer_(&ctx, "GET", "/items/x");
    HAS(s, "HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\n");
    HAS(s, "<p>items: 404 /items/x</p>");
    free(s);
    ck_assert_int_eq(ctx.calls, 2);
    /* The longest prefix wins: /items/special is JSON. */
    s = answer_(&ctx, "GET", "/items/special/x");
    HAS(s, "{\"error\":\"Not Found\",\"status\":404}");
    free(s);
    ck_assert_int_eq(ctx.calls, 2);
    /* A found route's handler runs as before. */
    s = answer_(&ctx, "GET", "/items/9");
    free(s);
    ck_assert_str_eq(ctx.last, "item");
}
END_TEST

int main(void) {
    Suite* s = suite_create("dispatch");
    TCase* tc = tcase_create("dispatch");
    tcase_add_test(tc, test_body_policy);
    tcase_add_test(tc, test_dispatch_context);
    tcase_add_test(tc, test_errors);
    tcase_add_checked_fixture(tc, setup, teardown);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
