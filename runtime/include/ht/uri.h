/* ht/uri.h — request-target parsing, percent-decoding, dot-segment removal,
 * query iteration (RFC 9112 §3.2, RFC 3986).
 *
 * Zero-copy. ht_uri__parse fills an ht_uri_t whose slices point into the
 * target it was given; they live exactly as long as those bytes. Nothing here
 * allocates. Decoding and dot removal write into caller memory (which may be
 * the input itself: both only ever shrink).
 *
 * What is validated where:
 *   ht_uri__parse   the grammar of the four request-target forms; every byte
 *                   (CTLs, SP, DEL, '#', non-ASCII, and RFC 3986's excluded
 *                   " < > \ ^ ` { | } are refused unless HT_URI_LENIENT);
 *                   that each '%' starts "%" HEXDIG HEXDIG. It does not
 *                   decode, so "%00" and "%2F" pass here and are the
 *                   decoder's business.
 *   ht_uri__decode  escapes: malformed ones and %00 always, %2F on request.
 *
 * Turning a path into a file name safely (what a static file server does):
 *   decode with HT_URI_DECODE_NO_SLASH (so "%2F" cannot create or hide a
 *   segment), then ht_uri__remove_dot_segments with HT_URI_DOTS_STRICT (so
 *   "/../x" and "/%2e%2e/x" are refused instead of clamped). Order matters:
 *   removing dots before decoding would miss "%2e%2e".
 */
#ifndef HT_URI_H
#define HT_URI_H

#include <ht/slice.h>

HT_EXTERN_C_BEGIN

typedef enum ht_uri_form {
    HT_URI_ORIGIN = 1, /* "/path?query": the usual form */
    HT_URI_ABSOLUTE,   /* "http://host:port/path?query": to proxies, or any server */
    HT_URI_AUTHORITY,  /* "host:port": CONNECT only (ask with HT_URI_CONNECT) */
    HT_URI_ASTERISK,   /* "*": OPTIONS only (the caller checks the method) */
} ht_uri_form_t;

typedef struct ht_uri {
    /* ABSOLUTE: as written (compare with ht_slice__eq_nocase); empty otherwise. */
    ht_slice_t scheme;
    /* ABSOLUTE, AUTHORITY: a reg-name or IPv4 address as written (still
     * percent-encoded, case not folded), or an IP literal with its brackets
     * ("[::1]"). Never empty for these forms; empty for the others. */
    ht_slice_t host;
    /* ORIGIN: starts with '/'. ABSOLUTE: empty or starts with '/' (empty
     * means "/", RFC 9112 §3.2.1). ASTERISK: "*". AUTHORITY: empty.
     * Still percent-encoded. */
    ht_slice_t path;
    /* After the '?', without it; still encoded. Empty if none (see has_query). */
    ht_slice_t query;
    /* 1..65535 when the authority gives one; 0 when absent or empty ("h:").
     * An explicit port 0 is refused. */
    uint16_t port;
    uint8_t  form;      /* ht_uri_form_t */
    bool     has_query; /* a '?' was present, even with nothing after it */
} ht_uri_t;

enum ht_uri_parse_flags {
    /* The request is CONNECT: the target must be authority-form
     * (host ":" port, port required) and nothing else is accepted. Without
     * this flag authority-form is refused (it would be ambiguous with a
     * scheme). */
    HT_URI_CONNECT = 1u << 0,
    /* Also accept " < > \ ^ ` { | } and bytes >= 0x80 in path and query,
     * which some clients send unencoded. CTLs, SP, DEL and '#' stay refused. */
    HT_URI_LENIENT = 1u << 1,
};

/* Parses a request-target. 0 and *u filled, or:
 *   HT_E_BAD_URI     empty target, a byte not allowed where it is, a fragment
 *                    ('#'), a scheme without "//" authority, userinfo ('@'
 *                    in the authority, refused per RFC 9110 §4.2.4), an empty
 *                    host, a port that is not 1..65535, a form not allowed by
 *                    flags;
 *   HT_E_BAD_ESCAPE  a '%' not followed by two hex digits.
 * On failure *u is zeroed. */
ht_result_t ht_uri__parse(ht_uri_t* u, ht_slice_t target, uint32_t flags);

enum ht_uri_decode_flags {
    /* Refuse "%2F"/"%2f": for paths, where a decoded '/' would change the
     * segment structure the router or file system sees. */
    HT_URI_DECODE_NO_SLASH = 1u << 0,
    /* Decode '+' as ' ' (application/x-www-form-urlencoded query values).
     * Off by default: in paths, and per RFC 3986, '+' is just '+'. A literal
     * plus in a form value arrives as "%2B" either way. */
    HT_URI_DECODE_PLUS = 1u << 1,
};

/* Percent-decodes in into out[0, out_cap) and returns the decoded length, or:
 *   HT_E_BAD_ESCAPE  '%' not followed by two hex digits ("%", "%4", "%zz"),
 *                    "%00" or a raw NUL byte (a NUL would truncate C strings
 *                    downstream), "%2F" under HT_URI_DECODE_NO_SLASH;
 *   -ENOSPC          out_cap is too small (in.len always suffices).
 * out may be in.ptr itself (decoding in place). On failure out holds a
 * partial result and must not be used. Bytes other than escapes (and '+')
 * are copied unchanged; the decoded result may contain any byte but NUL. */
ht_io_t ht_uri__decode(ht_slice_t in, char* out, size_t out_cap, uint32_t flags);

enum ht_uri_dots_flags {
    /* Refuse a ".." that would climb above the root (or above the start of a
     * relative path) with HT_E_PATH_ESCAPE, instead of clamping as RFC 3986
     * does ("/../a" -> "/a"). */
    HT_URI_DOTS_STRICT = 1u << 0,
};

/* Removes "." and ".." segments from path[0, len) in place (RFC 3986
 * §5.2.4) and returns the new length, or HT_E_PATH_ESCAPE under
 * HT_URI_DOTS_STRICT (path then holds a partial result). Only whole
 * segments are dot segments: ".a", "a.", "..." are names. Empty segments
 * ("//") are kept. Works on decoded or encoded paths alike; see the top of
 * this header for which one a file server wants. */
ht_io_t ht_uri__remove_dot_segments(char* path, size_t len, uint32_t flags);

/* ---- Query iteration over "k=v&k2=v2" (the query slice, without '?').
 * Pairs are split on '&' only (not ';'). Empty pairs ("&&", a leading or
 * trailing '&') are skipped. A pair without '=' ("flag") yields an empty
 * value whose ptr is nullptr, so it can be told from "flag=" (empty value,
 * non-null ptr). Key and value are raw slices of the query: decode them
 * separately (usually with HT_URI_DECODE_PLUS). Example:
 *
 *   ht_uri_query_iter_t it;
 *   ht_slice_t k, v;
 *   ht_uri__query_iter(&it, uri.query);
 *   while (ht_uri__query_next(&it, &k, &v)) { ... }
 */
typedef struct ht_uri_query_iter {
    ht_slice_t rest; /* what has not been visited yet */
} ht_uri_query_iter_t;

HT_INLINE void ht_uri__query_iter(ht_uri_query_iter_t* it, ht_slice_t query) {
    it->rest = query;
}
/* Next pair into *key, *value; false (both untouched) at the end. */
bool ht_uri__query_next(ht_uri_query_iter_t* it, ht_slice_t* key, ht_slice_t* value);
/* The value of the first pair whose raw key equals key byte for byte. */
bool ht_uri__query_find(ht_slice_t query, ht_slice_t key, ht_slice_t* value);

HT_EXTERN_C_END

#endif /* HT_URI_H */
