/* Compiled by the codegen_line_directives test, which expects it to FAIL:
 * app_hello's parameters are typed by routes.ht line 7, and #line makes the
 * compiler point there. */
#include "app_routes.h"

void app_hello(struct app_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
               const app_user_params_t* p) {
    (void) ctx, (void) req, (void) res, (void) a, (void) p;
}
