/* Compiled by the codegen_line_directives_hook test, which expects it to
 * FAIL: grp_require_auth is a before hook (groups/routes.ht line 10), which
 * returns bool, and #line makes the compiler point there. */
#include "grp_routes.h"

void grp_require_auth(struct grp_ctx* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) ctx, (void) req, (void) res, (void) a;
}
