/* ht/route_url.h — the fixed part of the URL builders htgen generates
 * (PREFIX__url_<handler>, declared in PREFIX_routes.h, defined in
 * PREFIX_routes.c). Each builder packs its arguments and calls
 * ht_rt__url with its route's pattern as a template; the generated code
 * then tests the segments whose language a value may miss (slug, uuid,
 * regex) with the matcher's own predicates.
 *
 * Nothing here is API for programs: names are ht_rt__x, and they change
 * with htgen. A generated file and this header come from the same version.
 */
#ifndef HT_ROUTE_URL_H
#define HT_ROUTE_URL_H

#include <ht/slice.h>
#include <ht/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

HT_EXTERN_C_BEGIN

/* One builder argument: u for u64 and hex, i for i64, s for the slices. */
typedef union ht_rt_url_arg {
    uint64_t u;
    int64_t i;
    ht_slice_t s;
} ht_rt_url_arg_t;

/* The template's parameter mark: HT_RT_URL_MARK then one kind byte. */
#define HT_RT_URL_MARK '\001'

/* A byte a path segment holds as is (RFC 3986 pchar but '%'): unreserved,
 * sub-delims, ':' and '@'. Every other byte is written %XX. */
HT_INLINE bool ht_rt__url_keep(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'': case '(':
    case ')': case '*': case '+': case ',': case ';': case '=': case ':': case '@':
        return true;
    default:
        return false;
    }
}

/* "." and "..": clients and proxies remove such segments (RFC 3986 5.2.4),
 * so a URL holding one would not reach the route as built. */
HT_INLINE bool ht_rt__url_dots(const char* b, const char* e) {
    return (e - b == 1 && b[0] == '.') || (e - b == 2 && b[0] == '.' && b[1] == '.');
}

/* Writes the path of template tpl with the values v into buf[0, cap):
 * tpl's bytes as they are but for HT_RT_URL_MARK + a kind, where the next
 * value goes:
 *   'u' v.u in decimal      'i' v.i in decimal      'h' v.u in lower-case hex
 *   's' v.s, one segment: percent-encoded, not empty, no NUL
 *   'r' v.s, the rest of the path: the same with '/' kept; may be empty.
 * seg[2k], seg[2k + 1] receive where the segment of parameter k starts and
 * ends in buf (for 'r': the parameter's own bytes), for the predicates;
 * both are nullptr for a route without parameters.
 * Returns the length (a NUL follows when cap is larger), -ENOSPC when it
 * does not fit in cap, -EINVAL when a value cannot be matched as given (an
 * empty segment, a NUL, a "." or ".." segment); after an error buf holds
 * an empty string when cap > 0. */
/* Out of line: one copy per matcher file, called by every builder (and gcc,
 * inlining it, cannot see that a template's kinds pick the union's members
 * that were set). */
__attribute__((unused, noinline)) static ht_io_t ht_rt__url(char* buf, size_t cap, const char* tpl,
                                                           const ht_rt_url_arg_t* v, size_t* seg) {
    static const char hexd[] = "0123456789abcdef";
    size_t n = 0, segb = 0;
    int k = 0, open = -1; /* open: a parameter whose segment has not ended yet */
    bool bad = false;
#define HT_RT_URL_PUT_(c)                                                                                  \
    do {                                                                                                   \
        char c_ = (char) (c); /* evaluated once, room or not */                                          \
        if (n < cap) buf[n] = c_;                                                                          \
        n++;                                                                                               \
    } while (0)
    for (const char* t = tpl;; t++) {
        if (*t == '/' || *t == '\0') {
            if (open >= 0) {
                seg[2 * open + 1] = n;
                open = -1;
            }
            if (*t == '\0') break;
            HT_RT_URL_PUT_('/');
            segb = n;
            continue;
        }
        if (*t != HT_RT_URL_MARK) {
            HT_RT_URL_PUT_(*t);
            continue;
        }
        char kind = *++t;
        if (kind == 'u' || kind == 'i' || kind == 'h') {
            uint64_t x = kind == 'i' && v[k].i < 0 ? 0 - (uint64_t) v[k].i : v[k].u;
            unsigned base = kind == 'h' ? 16u : 10u;
            char d[24];
            int nd = 0;
            do d[nd++] = hexd[x % base], x /= base;
            while (x);
            if (kind == 'i' && v[k].i < 0) HT_RT_URL_PUT_('-');
            while (nd) HT_RT_URL_PUT_(d[--nd]);
            seg[2 * k] = segb, open = k;
        } else {
            ht_slice_t s = v[k].s;
            size_t from = n;
            bad = bad || (kind == 's' && s.len == 0);
            for (size_t i = 0; i < s.len; i++) {
                unsigned char c = (unsigned char) s.ptr[i];
                bad = bad || c == 0;
                if (ht_rt__url_keep(c) || (kind == 'r' && c == '/')) {
                    HT_RT_URL_PUT_(c);
                } else {
                    HT_RT_URL_PUT_('%');
                    HT_RT_URL_PUT_("0123456789ABCDEF"[c >> 4]);
                    HT_RT_URL_PUT_("0123456789ABCDEF"[c & 15]);
                }
            }
            if (kind == 'r') {
                seg[2 * k] = from, seg[2 * k + 1] = n;
                /* its own segments, once written */
                for (size_t b = segb, e = from; n <= cap && e <= n; e++)
                    if (e == n || buf[e] == '/') {
                        bad = bad || ht_rt__url_dots(buf + b, buf + e);
                        b = e + 1;
                    }
            } else {
                seg[2 * k] = segb, open = k;
            }
        }
        k++;
    }
#undef HT_RT_URL_PUT_
    if (n < cap) buf[n] = '\0';
    for (int j = 0; j < k && n <= cap && !bad; j++)
        if (seg[2 * j + 1] - seg[2 * j] <= 2) bad = ht_rt__url_dots(buf + seg[2 * j], buf + seg[2 * j + 1]);
    if (n > cap || bad) {
        if (cap) buf[0] = '\0';
        return n > cap ? -ENOSPC : -EINVAL;
    }
    return (ht_io_t) n;
}

/* A generated check failed: the empty string and -EINVAL. */
HT_INLINE ht_io_t ht_rt__url_invalid(char* buf, size_t cap) {
    if (cap) buf[0] = '\0';
    return -EINVAL;
}

HT_EXTERN_C_END

#endif /* HT_ROUTE_URL_H */
