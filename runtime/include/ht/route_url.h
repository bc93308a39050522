/* ht/route_url.h — the fixed part of the URL builders htgen generates
 * (PREFIX__url_<handler>, declared in PREFIX_routes.h, defined in
 * PREFIX_routes.c). Each builder is one call of ht_rt__url with its
 * route's pattern as a template, its arguments, and the matcher's own
 * predicates for the segments whose language a value may miss (slug,
 * uuid, regex).
 *
 * Nothing here is API for programs: names are ht_rt__x, and they change
 * with htgen. A generated file and this header come from the same version.
 */
#ifndef HT_ROUTE_URL_H
#define HT_ROUTE_URL_H

#include <ht/route_rt.h>
#include <ht/slice.h>
#include <ht/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

HT_EXTERN_C_BEGIN

/* The template's parameter mark: HT_RT_URL_MARK then one kind byte. */
#define HT_RT_URL_MARK '\001'
/* A query parameter's mark, after the path: HT_RT_URL_QMARK, a mode byte,
 * a kind byte, then the name (up to the next mark or the end). */
#define HT_RT_URL_QMARK '\002'

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

/* A byte a query value or name holds as is: unreserved, and the pchar
 * sub-delims and '/', '?' but the ones the form rules give a meaning ('&',
 * '=', '+'). A space is written '+', which the dispatch reads back as one
 * (<ht/route_query.h>); every other byte %XX. */
HT_INLINE bool ht_rt__url_qkeep(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '-': case '.': case '_': case '~': case '!': case '$': case '\'': case '(': case ')':
    case '*': case ',': case ';': case ':': case '@': case '/': case '?':
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

/* The most values a repeated query parameter takes (dsl.h DSL_QUERY_REPEAT_MAX). */
#define HT_RT_URL_QREPEAT_MAX 16

/* A segment predicate of the matcher (the generated PREFIX__p<k>): the
 * bytes [b, e) are in its language. */
typedef bool (*ht_rt_url_pred_fn)(const char* b, const char* e);

/* Writes one number at buf + n (as much as fits); the new n. */
__attribute__((unused)) static inline size_t ht_rt__url_num_(char* buf, size_t cap, size_t n, char kind, uint64_t x,
                                                             bool neg) {
    unsigned base = kind == 'h' ? 16u : 10u;
    char d[24];
    int nd = 0;
    do d[nd++] = "0123456789abcdef"[x % base], x /= base;
    while (x);
    if (neg) d[nd++] = '-';
    while (nd) {
        if (n < cap) buf[n] = d[nd - 1];
        n++, nd--;
    }
    return n;
}

/* The query part of ht_rt__url: the marks from t on, the values from ap;
 * the new n; *bad when a value cannot be given to the route. */
__attribute__((unused, noinline)) static size_t ht_rt__url_query_(char* buf, size_t cap, size_t n, const char* t,
                                                               va_list* ap, bool* bad) {
    bool first = true;
    while (*t == HT_RT_URL_QMARK) {
        char mode = t[1], kind = t[2];
        const char* name = t + 3;
        for (t = name; *t && *t != HT_RT_URL_QMARK; t++) {}
        size_t nlen = (size_t) (t - name);
        bool num = kind == 'u' || kind == 'i' || kind == 'h';
        const void* many = nullptr; /* the values: mode 'n', or 'o' for a number */
        size_t count = 1;
        uint64_t x = 0;
        bool neg = false;
        ht_slice_t s;
        s.ptr = nullptr, s.len = 0;
        if (mode == 'n') {
            many = va_arg(*ap, const void*);
            count = va_arg(*ap, size_t);
            if (count > HT_RT_URL_QREPEAT_MAX || (count && !many)) *bad = true, count = 0;
        } else if (mode == 'o' && num) {
            many = va_arg(*ap, const void*);
            count = many != nullptr;
        } else if (num) {
            int64_t i = kind == 'i' ? va_arg(*ap, int64_t) : 0;
            x = kind == 'i' ? (i < 0 ? 0 - (uint64_t) i : (uint64_t) i) : va_arg(*ap, uint64_t);
            neg = i < 0;
        } else {
            s = va_arg(*ap, ht_slice_t);
            count = mode == 'v' || s.ptr != nullptr;
        }
        for (size_t j = 0; j < count; j++) {
            if (many && kind == 'i') {
                int64_t i = ((const int64_t*) many)[j];
                x = i < 0 ? 0 - (uint64_t) i : (uint64_t) i, neg = i < 0;
            } else if (many && num) {
                x = ((const uint64_t*) many)[j];
            } else if (many) {
                s = ((const ht_slice_t*) many)[j];
            }
            if (n < cap) buf[n] = first ? '?' : '&';
            n++, first = false;
            for (size_t c = 0; c < nlen; c++, n++)
                if (n < cap) buf[n] = name[c];
            if (n < cap) buf[n] = '=';
            n++;
            if (num) {
                n = ht_rt__url_num_(buf, cap, n, kind, x, neg);
                continue;
            }
            if (s.len && !s.ptr) *bad = true, s.len = 0;
            *bad = *bad || (kind == 'g' && !ht_rt__qslug(s)) || (kind == 'd' && !ht_rt__quuid(s)) ||
                   memchr(s.ptr ? s.ptr : "", 0, s.len) != nullptr;
            for (size_t k = 0; k < s.len; k++) {
                unsigned char c = (unsigned char) s.ptr[k];
                char e[3] = { (char) c, 0, 0 };
                int ne = 1;
                if (c == ' ') {
                    e[0] = '+';
                } else if (!ht_rt__url_qkeep(c)) {
                    e[0] = '%', e[1] = "0123456789ABCDEF"[c >> 4], e[2] = "0123456789ABCDEF"[c & 15], ne = 3;
                }
                for (int q = 0; q < ne; q++, n++)
                    if (n < cap) buf[n] = e[q];
            }
        }
    }
    return n;
}

/* Writes the path of template tpl with the values that follow pred into
 * buf[0, cap): tpl's bytes as they are but for HT_RT_URL_MARK + a kind,
 * where the next value goes, of the type the kind says:
 *   'u' uint64_t, decimal     'i' int64_t, decimal     'h' uint64_t, lower-case hex
 *   's' ht_slice_t, one segment: percent-encoded, not empty, no NUL
 *   'r' ht_slice_t, the rest of the path: the same with '/' kept; may be empty
 *   'p' ht_slice_t, a safe rest ({name:path...}): as 'r', and refused unless
 *       ht_rt__safe_path takes what was written (no '.', '..' or empty
 *       segment, no '\\', no NUL: the matcher's 400).
 * pred (nullptr: none) has one entry per parameter: when not nullptr, the
 * whole segment of that parameter as written must satisfy it.
 * After the path, each HT_RT_URL_QMARK + mode + kind + name is a query
 * parameter, written "?name=value" (then "&name=value") when given, its
 * value encoded as ht_rt__url_qkeep says and checked as the dispatch checks
 * it (ht_rt__qslug, ht_rt__quuid; no NUL). The kinds: 'u' 'i' 'h' as above,
 * 's' str (any bytes, may be empty), 'g' slug, 'd' uuid. The modes:
 *   'v' one value, of the kind's type (required: always written)
 *   'o' optional or with a default: numbers a const uint64_t* / const
 *       int64_t*, the others an ht_slice_t; nullptr (.ptr nullptr) leaves
 *       it out
 *   'n' repeated: a const pointer to count values, then size_t count
 *       (at most HT_RT_URL_QREPEAT_MAX: more is -EINVAL); 0 leaves it out.
 * Returns the length (a NUL follows when cap is larger), -ENOSPC when it
 * does not fit in cap, -EINVAL when a value cannot be matched as given (an
 * empty segment, a NUL, a "." or ".." segment, a predicate that fails);
 * after an error buf holds an empty string when cap > 0.
 * Out of line and variadic: one copy per matcher file, and each builder is
 * one call, with no array of its own (10,000 routes compile as fast). */
__attribute__((unused, noinline)) static ht_io_t ht_rt__url(char* buf, size_t cap, const char* tpl,
                                                           const ht_rt_url_pred_fn* pred, ...) {
    static const char hexd[] = "0123456789abcdef";
    size_t n = 0, segb = 0;
    int k = 0, open = -1; /* open: a parameter whose segment has not ended yet */
    bool bad = false;
    va_list ap;
    va_start(ap, pred);
#define HT_RT_URL_PUT_(c)                                                                                  \
    do {                                                                                                   \
        char c_ = (char) (c); /* evaluated once, room or not */                                          \
        if (n < cap) buf[n] = c_;                                                                          \
        n++;                                                                                               \
    } while (0)
    for (const char* t = tpl;; t++) {
        if (*t == '/' || *t == '\0' || *t == HT_RT_URL_QMARK) {
            /* the end of a parameter's segment: once written, check it */
            if (open >= 0 && n <= cap) {
                bad = bad || ht_rt__url_dots(buf + segb, buf + n);
                bad = bad || (pred && pred[open] && !pred[open](buf + segb, buf + n));
            }
            open = -1;
            if (*t == '\0') break;
            if (*t == HT_RT_URL_QMARK) {
                n = ht_rt__url_query_(buf, cap, n, t, &ap, &bad);
                break;
            }
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
            int64_t i = kind == 'i' ? va_arg(ap, int64_t) : 0;
            uint64_t x = kind == 'i' ? (i < 0 ? 0 - (uint64_t) i : (uint64_t) i) : va_arg(ap, uint64_t);
            unsigned base = kind == 'h' ? 16u : 10u;
            char d[24];
            int nd = 0;
            do d[nd++] = hexd[x % base], x /= base;
            while (x);
            if (i < 0) HT_RT_URL_PUT_('-');
            while (nd) HT_RT_URL_PUT_(d[--nd]);
            open = k;
        } else {
            ht_slice_t s = va_arg(ap, ht_slice_t);
            size_t from = n;
            bad = bad || (kind == 's' && s.len == 0);
            for (size_t j = 0; j < s.len; j++) {
                unsigned char c = (unsigned char) s.ptr[j];
                bad = bad || c == 0;
                if (ht_rt__url_keep(c) || (kind != 's' && c == '/')) {
                    HT_RT_URL_PUT_(c);
                } else {
                    HT_RT_URL_PUT_('%');
                    HT_RT_URL_PUT_("0123456789ABCDEF"[c >> 4]);
                    HT_RT_URL_PUT_("0123456789ABCDEF"[c & 15]);
                }
            }
            if (kind != 's') {
                /* the last parameter: its own segments, once written (the
                   first one starts with the literal bytes before it) */
                for (size_t b = segb, e = from; n <= cap && e <= n; e++)
                    if (e == n || buf[e] == '/') {
                        bad = bad || ht_rt__url_dots(buf + b, buf + e);
                        b = e + 1;
                    }
                if (kind == 'p' && n <= cap) {
                    ht_slice_t w;
                    w.ptr = buf + from;
                    w.len = n - from;
                    bad = bad || !ht_rt__safe_path(w);
                }
            } else {
                open = k;
            }
        }
        k++;
    }
#undef HT_RT_URL_PUT_
    va_end(ap);
    if (n > cap || bad) {
        if (cap) buf[0] = '\0';
        return n > cap ? -ENOSPC : -EINVAL;
    }
    if (n < cap) buf[n] = '\0';
    return (ht_io_t) n;
}

HT_EXTERN_C_END

#endif /* HT_ROUTE_URL_H */
