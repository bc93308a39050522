/* server/file_headers.c — a header set applied to one file or asset
 * response (server/file_headers.h). Only reached when a set is attached, so
 * the plain serving path pays nothing for it. The set was checked once
 * (ht_headers__check): rule fields go out without per-request validation. */
#include "server/file_headers.h"

#include <stdio.h>
#include <string.h>

#include "server/conn.h" /* ht_response__header_own_ */

static ht_slice_t cstr(const char* s) { return ht_slice__from_cstr(s); }

void ht_fh__init(ht_fh_t* fh, const ht_headers_t* h, const ht_request_t* req) {
    *fh = (ht_fh_t){ .h = h };
    const ht_cors_t* c = h->cors;
    if (!c) return;
    if (c->count == 1 && strcmp(c->origins[0], "*") == 0) {
        fh->origin = HT_SLICE("*");
        return;
    }
    fh->vary_origin = true;
    ht_slice_t o = ht_request__header(req, HT_HEADER_ORIGIN);
    if (!o.ptr) return;
    for (uint32_t i = 0; i < c->count; i++)
        if (ht_slice__eq_nocase(o, cstr(c->origins[i]))) {
            fh->origin = o;
            return;
        }
}

/* Access-Control-Allow-Origin and, for a list, Vary: Origin. The echoed
 * value is the client's: it equals a checked origin, byte for byte but case. */
static ht_result_t allow_origin(ht_fh_t* fh, ht_response_t* res) {
    ht_result_t r = 0;
    if (fh->origin.ptr) r = ht_response__header_own_(res, HT_SLICE("Access-Control-Allow-Origin"), fh->origin);
    if (r == 0 && fh->vary_origin && !fh->vary_done) {
        r = ht_response__header_own_(res, HT_SLICE("Vary"), HT_SLICE("Origin"));
        fh->vary_done = true;
    }
    return r;
}

static bool preflight(const ht_fh_t* fh, const ht_request_t* req) {
    return fh->h->cors && ht_request__method(req) == HT_METHOD_OPTIONS && fh->origin.ptr &&
           ht_request__header(req, HT_HEADER_ORIGIN).ptr &&
           ht_request__header_by_name(req, HT_SLICE("Access-Control-Request-Method")).ptr;
}

bool ht_headers__is_preflight(const ht_headers_t* h, const ht_request_t* req) {
    if (!h || !h->cors || ht_request__method(req) != HT_METHOD_OPTIONS) return false;
    ht_fh_t fh;
    ht_fh__init(&fh, h, req);
    return preflight(&fh, req);
}

bool ht_fh__preflight(ht_fh_t* fh, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, ht_result_t* r) {
    const ht_cors_t* c = fh->h->cors;
    if (!preflight(fh, req)) return false;
    char age[16];
    int n = snprintf(age, sizeof age, "%u", c->max_age ? c->max_age : HT_CORS_DEFAULT_MAX_AGE);
    ht_result_t e = ht_response__status(res, 204);
    if (e == 0) e = allow_origin(fh, res);
    if (e == 0)
        e = ht_response__header_own_(res, HT_SLICE("Access-Control-Allow-Methods"),
                                     c->methods ? cstr(c->methods) : HT_SLICE(HT_CORS_DEFAULT_METHODS));
    if (e == 0)
        e = ht_response__header_own_(res, HT_SLICE("Access-Control-Allow-Headers"),
                                     c->headers ? cstr(c->headers) : HT_SLICE(HT_CORS_DEFAULT_HEADERS));
    if (e == 0) e = ht_response__header_own_(res, HT_SLICE("Access-Control-Max-Age"), ht_slice__from(age, (size_t) n));
    if (e == 0) e = ht_response__body(res, nullptr, 0, a);
    *r = e;
    return true;
}

/* Whether name (any case) is the rule's name: the first byte first, since
 * most of the server's fields differ from a rule's there. */
static bool same_name(ht_slice_t name, const char* rule) {
    if (name.len == 0 || ((name.ptr[0] ^ rule[0]) & ~0x20) != 0) return false;
    return ht_slice__eq_nocase(name, cstr(rule));
}

ht_result_t ht_fh__status(ht_fh_t* fh, ht_response_t* res, uint16_t status, ht_slice_t path) {
    fh->mask = 0;
    if (fh->h->count && (status == 200 || status == 206 || status == 304)) {
        /* The rules that apply: glob matched, the first such per name (at
         * most HT_HEADERS_MAX_RULES: the set's check keeps them in the mask). */
        const ht_header_rule_t* rs = fh->h->rules;
        for (uint32_t i = 0; i < fh->h->count; i++) {
            if (!ht_headers__glob_match(rs[i].match, path)) continue;
            bool first = true;
            for (uint64_t m = fh->mask; m && first; m &= m - 1)
                first = !same_name(cstr(rs[i].name), rs[__builtin_ctzll(m)].name);
            if (first) fh->mask |= UINT64_C(1) << i;
        }
    }
    return ht_response__status(res, status);
}

ht_result_t ht_fh__field(ht_fh_t* fh, ht_response_t* res, ht_slice_t name, ht_slice_t value) {
    for (uint64_t m = fh->mask; m; m &= m - 1)
        if (same_name(name, fh->h->rules[__builtin_ctzll(m)].name))
            return 0; /* replaced by the rule's own field (ht_fh__finish) */
    if (fh->vary_origin && !fh->vary_done && ht_slice__eq_nocase(name, HT_SLICE("Vary"))) {
        char v[128];
        if (value.len + 8 <= sizeof v) {
            memcpy(v, value.ptr, value.len);
            memcpy(v + value.len, ", Origin", 8);
            fh->vary_done = true;
            return ht_response__header_own_(res, name, ht_slice__from(v, value.len + 8));
        }
    }
    return ht_response__header_own_(res, name, value);
}

ht_result_t ht_fh__finish(ht_fh_t* fh, ht_response_t* res) {
    ht_result_t r = 0;
    for (uint64_t m = fh->mask; r == 0 && m; m &= m - 1) {
        const ht_header_rule_t* rule = &fh->h->rules[__builtin_ctzll(m)];
        r = ht_response__header_own_(res, cstr(rule->name), cstr(rule->value));
    }
    if (r == 0) r = allow_origin(fh, res);
    if (r == 0 && fh->origin.ptr)
        r = ht_response__header_own_(res, HT_SLICE("Access-Control-Expose-Headers"), HT_SLICE(HT_CORS_EXPOSE_HEADERS));
    return r;
}

ht_result_t ht_fh__error(ht_fh_t* fh, ht_response_t* res, uint16_t status, ht_alloc_t* a) {
    ht_result_t r = ht_fh__status(fh, res, status, HT_SLICE_NULL);
    if (r == 0) r = ht_fh__finish(fh, res);
    if (r == 0) r = ht_response__error(res, status, a);
    return r;
}
