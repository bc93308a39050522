/* ht/route_query.h — the fixed part of the typed query parameters that
 * htgen generates into PREFIX_dispatch.c (routes.ht: `?name:type` words,
 * dsl/SPEC.md "Query parameters"). The generated code holds what depends on
 * routes.ht: a switch on each route's parameter names, defaults, where each
 * value goes; this header holds what does not: splitting the query into
 * pairs, decoding, the type checks, the 400 that names the parameter.
 *
 * Decoding is the path parameters' (<ht/route_rt.h>: %XX, %00 and a bad
 * escape refused) plus the form rule for queries: '+' is a space
 * (application/x-www-form-urlencoded, as browsers send forms; a literal '+'
 * arrives as %2B). Decoded values go to the match's scratch buffer.
 *
 * Header only; ht_rt__qrefuse calls libhachettp (a dispatch file is linked
 * with it). Names are ht_rt__x: not API for programs.
 */
#ifndef HT_ROUTE_QUERY_H
#define HT_ROUTE_QUERY_H

#include <ht/alloc.h>
#include <ht/response.h>
#include <ht/route_rt.h>
#include <ht/slice.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

HT_EXTERN_C_BEGIN

/* The query's "name=value" pairs, split on '&' (not ';'), empty ones
   skipped; a pair without '=' has an empty value. */
typedef struct ht_rt_qit {
    const char* p;
    const char* end;
} ht_rt_qit_t;

__attribute__((unused)) static inline bool ht_rt__qnext(ht_rt_qit_t* it, ht_slice_t* k, ht_slice_t* v) {
    while (it->p < it->end && *it->p == '&') it->p++;
    if (it->p >= it->end) return false;
    const char* s = it->p;
    const char* amp = (const char*) memchr(s, '&', (size_t) (it->end - s));
    const char* e = amp ? amp : it->end;
    const char* eq = (const char*) memchr(s, '=', (size_t) (e - s));
    *k = ht_slice__from(s, (size_t) ((eq ? eq : e) - s));
    *v = eq ? ht_slice__from(eq + 1, (size_t) (e - eq - 1)) : ht_slice__from(e, 0);
    it->p = e;
    return true;
}

/* Decodes s (%XX, '+' as a space) into out[0..); the decoded length, or -1
   for a bad escape or %00. out has room for s.len bytes. */
__attribute__((unused)) static inline ptrdiff_t ht_rt__qdecode_to(ht_slice_t s, char* out) {
    size_t o = 0;
    for (size_t k = 0; k < s.len; k++) {
        unsigned char c = (unsigned char) s.ptr[k];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (s.len - k < 3) return -1;
            int h = ht_rt__xv((unsigned char) s.ptr[k + 1]);
            int l = ht_rt__xv((unsigned char) s.ptr[k + 2]);
            if (h < 0 || l < 0 || (h | l) == 0) return -1;
            c = (unsigned char) (h << 4 | l);
            k += 2;
        }
        out[o++] = (char) c;
    }
    return (ptrdiff_t) o;
}

/* A value, decoded into the scratch buffer when it holds '%' or '+'.
   false: a bad escape or %00 (or no room, which ht_rt__qroom rules out). */
__attribute__((unused)) static inline bool ht_rt__qdecode(ht_slice_t* v, ht_rt_scratch_t sc) {
    if (!memchr(v->ptr, '%', v->len) && !memchr(v->ptr, '+', v->len)) return true;
    if (!sc.buf || sc.cap - *sc.used < v->len) return false;
    char* out = sc.buf + *sc.used;
    ptrdiff_t n = ht_rt__qdecode_to(*v, out);
    if (n < 0) return false;
    *sc.used += (size_t) n;
    *v = ht_slice__from(out, (size_t) n);
    return true;
}

/* A name, decoded into buf (cap bytes) when it holds '%' or '+'; a name
   that does not decode or fit is no declared parameter's (empty, nullptr). */
__attribute__((unused)) static inline ht_slice_t ht_rt__qname(ht_slice_t k, char* buf, size_t cap) {
    if (!memchr(k.ptr, '%', k.len) && !memchr(k.ptr, '+', k.len)) return k;
    ht_slice_t none = { nullptr, 0 };
    if (k.len > cap) return none;
    ptrdiff_t n = ht_rt__qdecode_to(k, buf);
    return n < 0 ? none : ht_slice__from(buf, (size_t) n);
}

/* ---- the types: the path parameters' languages (dsl/SPEC.md) ---- */
__attribute__((unused)) static inline bool ht_rt__qdigits(ht_slice_t v, size_t from, size_t max) {
    if (v.len <= from) return false;
    for (size_t k = from; k < v.len; k++)
        if (v.ptr[k] < '0' || v.ptr[k] > '9') return false;
    /* leading zeros are allowed (as in paths), so count the rest */
    size_t z = from;
    while (z + 1 < v.len && v.ptr[z] == '0') z++;
    return v.len - z <= max;
}
/* u64: 1 or more decimal digits, at most UINT64_MAX. */
__attribute__((unused)) static inline bool ht_rt__qu64(ht_slice_t v, uint64_t* out) {
    if (!ht_rt__qdigits(v, 0, 20)) return false;
    uint64_t x = 0;
    for (size_t k = 0; k < v.len; k++) {
        uint64_t d = (uint64_t) (v.ptr[k] - '0');
        if (x > (UINT64_MAX - d) / 10) return false;
        x = x * 10 + d;
    }
    *out = x;
    return true;
}
/* i64: an optional '-', then decimal digits within int64_t. */
__attribute__((unused)) static inline bool ht_rt__qi64(ht_slice_t v, int64_t* out) {
    bool neg = v.len && v.ptr[0] == '-';
    if (!ht_rt__qdigits(v, neg, 19)) return false;
    uint64_t x = 0;
    for (size_t k = neg; k < v.len; k++) x = x * 10 + (uint64_t) (v.ptr[k] - '0'); /* < 10^19: no overflow */
    if (x > (uint64_t) INT64_MAX + neg) return false;
    *out = neg ? (x ? -(int64_t) (x - 1) - 1 : 0) : (int64_t) x;
    return true;
}
/* hex: 1 to 16 hex digits. */
__attribute__((unused)) static inline bool ht_rt__qhex(ht_slice_t v, uint64_t* out) {
    if (v.len == 0 || v.len > 16) return false;
    for (size_t k = 0; k < v.len; k++)
        if (ht_rt__xv((unsigned char) v.ptr[k]) < 0) return false;
    *out = ht_rt__hex(v.ptr, v.len);
    return true;
}
/* uuid and slug: ht_rt__quuid, ht_rt__qslug (<ht/route_rt.h>: the URL
   builders check them too, without libhachettp). */

/* ---- answers ---- */
/* 400 with "query parameter 'NAME': WHY" (the error page's message, JSON
   under `errors PREFIX json`); false, for the generated code to return. */
__attribute__((unused, noinline, cold)) static bool ht_rt__qrefuse(ht_response_t* res, const char* name,
                                                                   const char* why, ht_alloc_t* a) {
    char msg[160];
    int n = snprintf(msg, sizeof msg, "query parameter '%s': %s", name, why);
    size_t len = n < 0 ? 0 : (size_t) n < sizeof msg ? (size_t) n : sizeof msg - 1;
    (void) ht_response__error_msg(res, 400, ht_slice__from(msg, len), a);
    return false;
}
/* `strict`: 400 naming a parameter the route does not declare (its first 64
   bytes; bytes outside printable ASCII as '?'). */
__attribute__((unused, noinline, cold)) static bool ht_rt__qunknown(ht_response_t* res, ht_slice_t k,
                                                                    ht_alloc_t* a) {
    char name[65];
    size_t n = k.len < 64 ? k.len : 64;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) k.ptr[i];
        name[i] = c > 0x20 && c < 0x7f ? (char) c : '?';
    }
    name[n] = '\0';
    return ht_rt__qrefuse(res, name, "not a parameter of this route", a);
}
/* Room in the scratch buffer for every value decoded (decoding only
   shrinks): else 414, like a path too long for it. */
__attribute__((unused)) static inline bool ht_rt__qroom(ht_slice_t query, ht_rt_scratch_t sc, ht_response_t* res,
                                                       ht_alloc_t* a) {
    if (query.len <= sc.cap - *sc.used) return true;
    (void) ht_response__error(res, 414, a);
    return false;
}

HT_EXTERN_C_END

#endif /* HT_ROUTE_QUERY_H */
