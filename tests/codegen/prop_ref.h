/* prop_ref.h — the reference matcher of the codegen property test, shared
 * with tests/fuzz/fuzz_match.c: written from the spec, not from htgen. A
 * linear scan over the routes, each pattern matched segment by segment with
 * plain C predicates for the types, the most specific match by segment
 * ranks (literal 5 > affix+typed 4 > affix+{name} 3 > typed/regex 2 >
 * {name} 1 > rest 0, compared left to right), GET answering HEAD, 405 +
 * Allow, OPTIONS, 308 on a trailing-slash-only mismatch, and
 * percent-decoding. reference_() reports through PROP_REF_FAIL(fmt, ...),
 * which the includer defines (Check's ck_abort_msg, or abort for the
 * fuzzer), when a request has two best routes (htgen's conflict check let
 * something ambiguous through) or a pattern uses a type unknown here.
 *
 * Limits: at most PROP_REF_MAX_ROUTES routes (64 unless the includer
 * defines more) of 16 segments; paths of at most PROP_PATH_MAX bytes
 * (decoded parameters are written into prop_result_t.params[k]). A request
 * costs one pass over the routes (two for a 404's Allow and redirect), so
 * 10,000-route sets stay quick. Everything is static: include it in one
 * translation unit; a ref_t reused for another set needs prop_ref_reset. */
#ifndef HT_TEST_PROP_REF_H
#define HT_TEST_PROP_REF_H

#include "prop.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PROP_REF_FAIL
#error "define PROP_REF_FAIL(fmt, ...) before including prop_ref.h"
#endif
#ifndef PROP_REF_MAX_ROUTES
#define PROP_REF_MAX_ROUTES 64
#endif

enum { ST_FOUND, ST_NOT_FOUND, ST_405, ST_OPTIONS, ST_REDIRECT, ST_BAD };

/* ---- pattern model ---- */
typedef struct seg {
    char pre[64], suf[64];
    int kind; /* 0 literal (pre), 1 param, 2 rest */
    char type[32];
} seg_t;

typedef struct pat {
    seg_t segs[16];
    int n;
    int ranks[16];
} pat_t;

static void parse_pat_(const char* p, pat_t* out) {
    memset(out, 0, sizeof *out);
    const char* s = p + 1;
    for (;;) {
        seg_t* g = &out->segs[out->n];
        const char* e = s;
        while (*e && *e != '/' && *e != '{') e++;
        memcpy(g->pre, s, (size_t) (e - s));
        if (*e == '{') {
            const char* q = e + 1;
            while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_') q++;
            if (!strncmp(q, "...}", 4)) {
                g->kind = 2;
                e = q + 4;
            } else if (*q == '}') {
                g->kind = 1;
                e = q + 1;
            } else if (q[0] == ':' && q[1] == '/') {
                const char* end = strstr(q, "/}");
                memcpy(g->type, q + 1, (size_t) (end - q));
                g->kind = 1;
                e = end + 2;
            } else {
                const char* end = strchr(q, '}');
                memcpy(g->type, q + 1, (size_t) (end - q - 1));
                g->kind = 1;
                e = end + 1;
            }
            const char* f = e;
            while (*f && *f != '/') f++;
            memcpy(g->suf, e, (size_t) (f - e));
            e = f;
        }
        bool plain = !strcmp(g->type, "") || !strcmp(g->type, "str");
        bool affix = g->pre[0] || g->suf[0];
        out->ranks[out->n] = g->kind == 0 ? 5 : g->kind == 2 ? 0 : affix ? (plain ? 3 : 4) : (plain ? 1 : 2);
        out->n++;
        if (g->kind == 2 || !*e) break;
        s = e + 1;
    }
}

/* ---- type predicates (on raw bytes) ---- */
static bool all_(const char* v, size_t n, const char* set) {
    if (!n) return false;
    for (size_t i = 0; i < n; i++)
        if (!memchr(set, v[i], strlen(set))) return false;
    return true;
}
#define DIGITS "0123456789"
#define HEXD "0123456789abcdefABCDEF"

static bool dec_le_(const char* v, size_t n, const char* max) {
    size_t L = strlen(max);
    if (!all_(v, n, DIGITS) || n > L) return false;
    return n < L || memcmp(v, max, L) <= 0;
}

static bool type_ok_(const char* type, const char* v, size_t n) {
    if (!n) return false;
    if (!*type || !strcmp(type, "str")) return !memchr(v, '/', n) && !memchr(v, 0, n);
    if (!strcmp(type, "u64")) return dec_le_(v, n, "18446744073709551615");
    if (!strcmp(type, "i64"))
        return v[0] == '-' ? dec_le_(v + 1, n - 1, "9223372036854775808") : dec_le_(v, n, "9223372036854775807");
    if (!strcmp(type, "hex")) return n <= 16 && all_(v, n, HEXD);
    if (!strcmp(type, "slug"))
        return all_(v, n, DIGITS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-");
    if (!strcmp(type, "uuid")) {
        if (n != 36) return false;
        for (size_t i = 0; i < 36; i++) {
            bool dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? v[i] != '-' : !memchr(HEXD, v[i], 22)) return false;
        }
        return true;
    }
    if (!strcmp(type, "/[a-c]+/")) return all_(v, n, "abc");
    if (!strcmp(type, "/v[0-9]+/")) return n >= 2 && v[0] == 'v' && all_(v + 1, n - 1, DIGITS);
    if (!strcmp(type, "/[0-9]{2,3}/")) return (n == 2 || n == 3) && all_(v, n, DIGITS);
    PROP_REF_FAIL("unknown type %s", type);
    return false;
}

static bool decoded_type_(const char* type) {
    return !*type || !strcmp(type, "str") || type[0] == '/';
}

/* Percent-decodes; false on a bad escape or %00. */
static bool pct_decode_(const char* v, size_t n, char* out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '%') {
            unsigned h, l;
            if (i + 2 >= n) return false;
            char hx[3] = { v[i + 1], v[i + 2], 0 };
            if (!memchr(HEXD, hx[0], 22) || !memchr(HEXD, hx[1], 22)) return false;
            sscanf(hx, "%1x", &h);
            sscanf(hx + 1, "%1x", &l);
            if (h == 0 && l == 0) return false; /* %00 is refused too */
            out[o++] = (char) (h * 16 + l);
            i += 2;
        } else {
            out[o++] = v[i];
        }
    }
    out[o] = '\0';
    return true;
}

/* Does `path` (n bytes) match pattern p? Fills the raw params (start, len). */
static bool pat_match_(const pat_t* p, const char* path, size_t n, size_t* ps, size_t* pl, int* np) {
    if (n == 0 || path[0] != '/' || memchr(path, 0, n)) return false;
    size_t at = 1;
    *np = 0;
    for (int i = 0; i < p->n; i++) {
        const seg_t* g = &p->segs[i];
        if (g->kind == 2) {
            size_t pre = strlen(g->pre);
            if (n - at < pre || memcmp(path + at, g->pre, pre)) return false;
            ps[*np] = at + pre;
            pl[*np] = n - at - pre;
            (*np)++;
            return true;
        }
        size_t e = at;
        while (e < n && path[e] != '/') e++;
        const char* v = path + at;
        size_t len = e - at;
        if (g->kind == 0) {
            if (len != strlen(g->pre) || memcmp(v, g->pre, len)) return false;
        } else {
            size_t pre = strlen(g->pre), suf = strlen(g->suf);
            if (len < pre + suf + 1) return false;
            if (memcmp(v, g->pre, pre) || memcmp(v + len - suf, g->suf, suf)) return false;
            if (!type_ok_(g->type, v + pre, len - pre - suf)) return false;
            ps[*np] = at + pre;
            pl[*np] = len - pre - suf;
            (*np)++;
        }
        bool last = i == p->n - 1;
        if (last) return e == n;
        if (e == n) return false;
        at = e + 1;
    }
    return false;
}

static int cmp_rank_(const pat_t* a, const pat_t* b) {
    for (int i = 0; i < a->n && i < b->n; i++)
        if (a->ranks[i] != b->ranks[i]) return a->ranks[i] > b->ranks[i] ? 1 : -1;
    return a->n == b->n ? 0 : a->n > b->n ? 1 : -1;
}

static bool has_method_(const char* list, const char* m) {
    size_t ml = strlen(m);
    for (const char* p = list; p;) {
        const char* bar = strchr(p, '|');
        size_t l = bar ? (size_t) (bar - p) : strlen(p);
        if (l == ml && !memcmp(p, m, l)) return true;
        p = bar ? bar + 1 : nullptr;
    }
    return false;
}

typedef struct ref {
    const prop_set_t* set;
    pat_t pats[PROP_REF_MAX_ROUTES];
    /* computed on first use: a HEAD route has the same pattern as route i */
    bool twins_ready;
    bool head_twin[PROP_REF_MAX_ROUTES];
} ref_t;

/* The ref_t will match another set (pats[] are the caller's to refill). */
static inline void prop_ref_reset(ref_t* r) { r->twins_ready = false; }

static const prop_set_t* twin_set_;
static int twin_cmp_(const void* a, const void* b) {
    int x = *(const int*) a, y = *(const int*) b;
    int c = strcmp(twin_set_->routes[x].pattern, twin_set_->routes[y].pattern);
    return c ? c : (x > y) - (x < y);
}

/* head_twin[] for every route: routes sorted by pattern, a run at a time. */
static void twins_(ref_t* r) {
    int n = r->set->nroutes;
    int* ix = malloc((size_t) (n ? n : 1) * sizeof *ix);
    if (!ix) abort();
    for (int i = 0; i < n; i++) ix[i] = i;
    twin_set_ = r->set;
    qsort(ix, (size_t) n, sizeof *ix, twin_cmp_);
    for (int a = 0; a < n;) {
        int b = a;
        bool head = false;
        for (; b < n && !strcmp(r->set->routes[ix[b]].pattern, r->set->routes[ix[a]].pattern); b++)
            if (has_method_(r->set->routes[ix[b]].methods, "HEAD")) head = true;
        for (int k = a; k < b; k++) r->head_twin[ix[k]] = head;
        a = b;
    }
    free(ix);
    r->twins_ready = true;
}

/* Best route for method + path: route index or -1; *ambiguous when two tie. */
static int best_(ref_t* r, const char* method, const char* path, size_t n, bool* ambiguous) {
    int best = -1;
    bool best_explicit = false;
    *ambiguous = false;
    bool head = !strcmp(method, "HEAD");
    if (head && !r->twins_ready) twins_(r);
    for (int i = 0; i < r->set->nroutes; i++) {
        const prop_route_t* rt = &r->set->routes[i];
        bool explicit_ = has_method_(rt->methods, method);
        /* GET answers HEAD unless a HEAD route has the same pattern */
        bool fallback = !explicit_ && head && has_method_(rt->methods, "GET") && !r->head_twin[i];
        if (!explicit_ && !fallback) continue;
        size_t ps[16], pl[16];
        int np;
        if (!pat_match_(&r->pats[i], path, n, ps, pl, &np)) continue;
        if (best < 0) {
            best = i;
            best_explicit = explicit_;
            continue;
        }
        int c = cmp_rank_(&r->pats[i], &r->pats[best]);
        if (c == 0 && explicit_ != best_explicit) c = explicit_ ? 1 : -1;
        if (c > 0) {
            best = i;
            best_explicit = explicit_;
            *ambiguous = false;
        } else if (c == 0) {
            *ambiguous = true;
        }
    }
    return best;
}

static const char* const all_methods_[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW" };

/* The methods with a best route for the path: those of every route that
   matches it (HEAD with GET: a GET route answers HEAD, or its HEAD twin,
   which matches too, does), among all_methods_, and OPTIONS with any. */
static uint32_t allow_(const ref_t* r, const char* path, size_t n) {
    uint32_t allow = 0;
    for (int i = 0; i < r->set->nroutes; i++) {
        size_t ps[16], pl[16];
        int np;
        if (!pat_match_(&r->pats[i], path, n, ps, pl, &np)) continue;
        for (unsigned k = 0; k < sizeof all_methods_ / sizeof all_methods_[0]; k++)
            if (has_method_(r->set->routes[i].methods, all_methods_[k])) allow |= prop_method_bit(all_methods_[k]);
        if (has_method_(r->set->routes[i].methods, "GET")) allow |= prop_method_bit("HEAD");
    }
    if (allow) allow |= prop_method_bit("OPTIONS");
    return allow;
}

static void reference_(ref_t* r, const char* method, const char* path, size_t n, prop_result_t* out) {
    memset(out, 0, sizeof *out);
    bool amb;
    int b = best_(r, method, path, n, &amb);
    if (amb) PROP_REF_FAIL("%s: two best routes for %s %.*s", r->set->prefix, method, (int) n, path);
    if (b >= 0) {
        size_t ps[16], pl[16];
        int np;
        pat_match_(&r->pats[b], path, n, ps, pl, &np);
        out->status = ST_FOUND;
        out->route = b + 1;
        out->nparams = np;
        /* parameter types in pattern order */
        int k = 0;
        for (int i = 0; i < r->pats[b].n; i++) {
            const seg_t* g = &r->pats[b].segs[i];
            if (g->kind == 0) continue;
            const char* v = path + ps[k];
            size_t len = pl[k];
            if (g->kind == 2 || decoded_type_(g->type)) {
                if (!pct_decode_(v, len, out->params[k])) {
                    memset(out, 0, sizeof *out);
                    out->status = ST_BAD;
                    return;
                }
            } else if (!strcmp(g->type, "u64") || !strcmp(g->type, "hex") || !strcmp(g->type, "i64")) {
                /* The path need not be NUL-terminated (the fuzzer's is an
                 * exact-size copy): convert a terminated copy. type_ok_()
                 * held these to at most 20 bytes. */
                char num[32];
                snprintf(num, sizeof num, "%.*s", (int) len, v);
                if (g->type[0] == 'i')
                    snprintf(out->params[k], sizeof out->params[k], "%" PRId64, (int64_t) strtoll(num, nullptr, 10));
                else
                    snprintf(out->params[k], sizeof out->params[k], "%" PRIu64,
                             (uint64_t) strtoull(num, nullptr, g->type[0] == 'h' ? 16 : 10));
            } else {
                snprintf(out->params[k], sizeof out->params[k], "%.*s", (int) len, v);
            }
            k++;
        }
        return;
    }
    uint32_t allow = allow_(r, path, n);
    if (allow) {
        out->status = !strcmp(method, "OPTIONS") ? ST_OPTIONS : ST_405;
        out->allow = allow;
        return;
    }
    if (r->set->slash_redirect) {
        char alt[PROP_STR_MAX];
        if (n > 1 && path[n - 1] == '/') {
            if (allow_(r, path, n - 1)) {
                out->status = ST_REDIRECT;
                snprintf(out->redirect, sizeof out->redirect, "%.*s", (int) (n - 1), path);
                return;
            }
        } else if (n && n + 1 < sizeof alt) {
            memcpy(alt, path, n);
            alt[n] = '/';
            if (allow_(r, alt, n + 1)) {
                out->status = ST_REDIRECT;
                snprintf(out->redirect, sizeof out->redirect, "%.*s/", (int) n, path);
                return;
            }
        }
    }
    out->status = ST_NOT_FOUND;
}

#endif /* HT_TEST_PROP_REF_H */
