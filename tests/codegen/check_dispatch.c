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

#include <string.h>

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
}
END_TEST

START_TEST(test_dispatch_context) {
    dsp_ctx_t ctx = { 0 };
    ht_config_t cfg = { .user_data = &ctx, .body_policy = dsp__body_policy };
    ht_request_t r = req_("GET", "/items/42");
    dsp__dispatch(&cfg, &r, nullptr, nullptr);
    ck_assert_int_eq(ctx.calls, 1);
    ck_assert_str_eq(ctx.last, "item");
    ck_assert_uint_eq(ctx.id, 42);
    /* A streamed body: the handler runs at head time, the body still to come. */
    r = req_("PUT", "/upload/report-7");
    r.flags_ |= HT_REQUEST_F_BODY_PENDING;
    dsp__dispatch(&cfg, &r, nullptr, nullptr);
    ck_assert_int_eq(ctx.calls, 2);
    ck_assert_str_eq(ctx.last, "upload");
    ck_assert(ctx.pending);
    ck_assert(ctx.name.len == 8 && memcmp(ctx.name.ptr, "report-7", 8) == 0);
    /* A buffered body under the route's limit reaches the handler. */
    static char body[4096];
    r = req_("POST", "/items");
    r.body_ = ht_slice__from(body, sizeof body);
    dsp__dispatch(&cfg, &r, nullptr, nullptr);
    ck_assert_int_eq(ctx.calls, 3);
    ck_assert_str_eq(ctx.last, "add");
    ck_assert(!ctx.pending);
    r = req_("BREW", "/pot");
    dsp__dispatch(&cfg, &r, nullptr, nullptr);
    ck_assert_str_eq(ctx.last, "brew");
    ck_assert_int_eq(dsp__routes[DSP_ROUTE_UPLOAD].stream, true);
    ck_assert_str_eq(dsp__routes[DSP_ROUTE_UPLOAD].handler, "upload");
}
END_TEST

int main(void) {
    Suite* s = suite_create("dispatch");
    TCase* tc = tcase_create("dispatch");
    tcase_add_test(tc, test_body_policy);
    tcase_add_test(tc, test_dispatch_context);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
