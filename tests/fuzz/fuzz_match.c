/* fuzz_match: the generated matcher of a fixed route set (match.ht, compiled
 * twice: fm with trailing_slash redirect, fms strict) against the reference
 * matcher of tests/codegen/prop_ref.h, on arbitrary method + path bytes.
 *
 * Input: byte 0 picks the method (a known token, or, from 0xE0 up, the tchar
 * bytes that follow up to a space, which need not name any method); the
 * rest, at most MAX_PATH bytes, is the path. The path, the method and the
 * decode scratch (SCRATCH_NEED bytes: the generated header's promise) are
 * exact-size heap copies, so ASan catches a read past the path or a write
 * past the scratch.
 *
 * Invariants (abort on violation), per route set:
 *   - result kind, route id (FOUND), the Allow set (405/OPTIONS), the redirect
 *     target (308) and every parameter (decoded bytes; numbers by value)
 *     equal the reference's;
 *   - no request has two best routes in the reference (htgen's conflict
 *     check let nothing ambiguous through);
 *   - PREFIX__match (method id) == PREFIX__match_token (the token) for
 *     every method the runtime has an id for. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ht/http.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_match: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)
#define PROP_REF_FAIL(...) FAIL(__VA_ARGS__)
#include "prop_ref.h"

#include "fm_routes.h"
#include "fms_routes.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern const prop_set_t fm_set, fms_set;

/* What prop_ref.h's buffers hold: paths of several 64-byte windows of the
 * matcher's '/' scan. */
#define MAX_PATH PROP_PATH_MAX

/* The scratch the generated header promises is enough: path.len + 1. */
#define SCRATCH_NEED(n) ((n) + 1)

static const char* const methods_[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW",
                                        "CONNECT", "TRACE", "get", "FOO", "GETS", "BREWS", "G" };

static bool tchar_(uint8_t c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char* status_name_(int s) {
    static const char* const n[] = { "FOUND", "NOT_FOUND", "405", "OPTIONS", "REDIRECT", "BAD_REQUEST" };
    return s >= 0 && s < 6 ? n[s] : "?";
}

typedef struct id_result {
    int status;
    int route;
    uint64_t allow;
} id_result_t;

/* Both entry points of one generated set, for a method the runtime knows. */
#define ID_VS_TOKEN(P, method_id, token, path, n, scratch, out_id, out_tok)                                  \
    do {                                                                                                      \
        P##_match_t m1_ = { .scratch = (scratch), .scratch_cap = SCRATCH_NEED(n) };                                   \
        (out_id).status = (int) P##__match((method_id), ht_slice__from((path), (n)), &m1_);                   \
        (out_id).route = (int) m1_.route;                                                                     \
        (out_id).allow = m1_.allow;                                                                           \
        P##_match_t m2_ = { .scratch = (scratch), .scratch_cap = SCRATCH_NEED(n) };                                   \
        (out_tok).status = (int) P##__match_token(ht_slice__from_cstr(token), ht_slice__from((path), (n)), &m2_); \
        (out_tok).route = (int) m2_.route;                                                                    \
        (out_tok).allow = m2_.allow;                                                                          \
    } while (0)

static bool verbose_;

static void check_set_(ref_t* r, const char* method, const char* path, size_t n, char* scratch) {
    static prop_result_t got, want;
    memset(&got, 0, sizeof got);
    got.scratch_p = scratch;
    got.scratch_n = SCRATCH_NEED(n);
    r->set->run(method, path, n, &got);
    reference_(r, method, path, n, &want);
    const char* pfx = r->set->prefix;
    if (verbose_)
        fprintf(stderr, "%s %s '%.*s': %s route %d, %d params%s%s\n", pfx, method, (int) n, path,
                status_name_(want.status), want.route, want.nparams, want.status == ST_REDIRECT ? " -> " : "",
                want.status == ST_REDIRECT ? want.redirect : "");
    /* m->route is part of the contract for FOUND only (PREFIX_routes.h). */
    if (got.status != want.status || (want.status == ST_FOUND && got.route != want.route))
        FAIL("%s %s '%.*s': got %s route %d, want %s route %d", pfx, method, (int) n, path,
             status_name_(got.status), got.route, status_name_(want.status), want.route);
    if ((want.status == ST_405 || want.status == ST_OPTIONS) && got.allow != want.allow)
        FAIL("%s %s '%.*s': allow %#x, want %#x", pfx, method, (int) n, path, got.allow, want.allow);
    if (want.status == ST_REDIRECT && strcmp(got.redirect, want.redirect))
        FAIL("%s %s '%.*s': redirect '%s', want '%s'", pfx, method, (int) n, path, got.redirect, want.redirect);
    if (want.status == ST_FOUND) {
        if (got.nparams != want.nparams)
            FAIL("%s %s '%.*s': %d params, want %d", pfx, method, (int) n, path, got.nparams, want.nparams);
        for (int k = 0; k < want.nparams; k++)
            if (strcmp(got.params[k], want.params[k]))
                FAIL("%s %s '%.*s': param %d '%s', want '%s'", pfx, method, (int) n, path, k, got.params[k],
                     want.params[k]);
    }
}

static ref_t refs_[2];

static void init_(void) {
    static bool done;
    if (done) return;
    done = true;
    verbose_ = getenv("HT_MATCH_VERBOSE") != nullptr;
    const prop_set_t* sets[2] = { &fm_set, &fms_set };
    for (int s = 0; s < 2; s++) {
        refs_[s].set = sets[s];
        if (sets[s]->nroutes > 64) FAIL("%s: more routes than the reference holds", sets[s]->prefix);
        for (int i = 0; i < sets[s]->nroutes; i++) parse_pat_(sets[s]->routes[i].pattern, &refs_[s].pats[i]);
    }
    if (!fm_set.slash_redirect || fms_set.slash_redirect) FAIL("match.ht: fm must redirect, fms be strict");
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    init_();
    if (size == 0) return 0;
    size_t at = 1;
    char tok[32];
    const char* method = methods_[data[0] % (sizeof methods_ / sizeof methods_[0])];
    if (data[0] >= 0xE0) {
        size_t l = 0;
        while (at < size && data[at] != ' ' && l < 24 && tchar_(data[at])) tok[l++] = (char) data[at++];
        if (at < size && data[at] == ' ') at++;
        tok[l] = '\0';
        if (l) method = tok;
    }
    size_t n = size - at;
    if (n > MAX_PATH) n = MAX_PATH;

    size_t ml = strlen(method);
    char* m = malloc(ml + 1);
    char* path = malloc(n ? n : 1);
    char* scratch = malloc(SCRATCH_NEED(n));
    if (!m || !path || !scratch) abort();
    memcpy(m, method, ml + 1);
    if (n) memcpy(path, data + at, n);

    check_set_(&refs_[0], m, path, n, scratch);
    check_set_(&refs_[1], m, path, n, scratch);

    ht_method_t id = ht_method__from_slice(ht_slice__from(m, ml));
    if (id != HT_METHOD_OTHER) {
        id_result_t a, b, c, d;
        ID_VS_TOKEN(fm, id, m, path, n, scratch, a, b);
        ID_VS_TOKEN(fms, id, m, path, n, scratch, c, d);
        if (a.status != b.status || a.route != b.route || a.allow != b.allow ||
            c.status != d.status || c.route != d.route || c.allow != d.allow)
            FAIL("%s '%.*s': __match by id and by token differ (fm %d/%d vs %d/%d, fms %d/%d vs %d/%d)", m,
                 (int) n, path, a.status, a.route, b.status, b.route, c.status, c.route, d.status, d.route);
    }
    free(scratch);
    free(path);
    free(m);
    return 0;
}
