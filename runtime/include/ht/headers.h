/* ht/headers.h — extra response headers for files and assets: rules that
 * add a header (Cache-Control, HSTS, CSP, X-Frame-Options, ...) to what
 * ht_response__serve_file and ht_response__asset send, and CORS.
 *
 * A set is plain data the caller owns (static tables, as htgen writes for
 * `mount`/`embed` options, or arrays a program fills from its flags, as
 * `ht` does), borrowed by the docroot or asset table it is attached to
 * (ht_serve_file_options_t.headers, ht_asset_set_t.headers): it must stay
 * valid and unchanged while they serve. Read-only, so every worker shares it.
 *
 * Checked once: a set must pass ht_headers__check before it is served; the
 * serving functions trust it and do not validate per request (htgen checks
 * routes.ht's options at build time, `ht` its flags at startup). A nullptr
 * set costs one test per request and changes nothing.
 *
 * Rules. Each rule is (match, name, value). match is a glob over the decoded
 * path of the file served beneath the root ("/css/app.css"; the index file's
 * path for a directory), or nullptr/"" for every file:
 *   - a glob without '/' is matched against the last segment ("*.css");
 *     one with '/' against the whole path, which then starts with '/'
 *     ("/fonts/x-?.woff2");
 *   - '*' matches any run of bytes but '/', '?' one byte but '/', '**' (a
 *     whole segment) any run of segments, "{a,b}" one of the alternatives
 *     (not nested); other bytes match themselves ('[', ']' and '\' are
 *     refused, kept for classes and escapes later).
 * For each header name the first matching rule wins (so more specific rules
 * go first, e.g. `ht --cache-control` before `-H`). Rules apply to the
 * answers for a file or listing: 200, 206 and 304, HEAD included; not to
 * errors and redirects. A rule's header replaces the server's field of the
 * same name (Cache-Control, Content-Type), never duplicates it. Names the
 * server must keep right are refused (HT_E_RESERVED_HEADER): the fields
 * ht_response__header refuses, and Content-Range, Content-Encoding, ETag,
 * Last-Modified, Location, Accept-Ranges, Allow, Vary (merged by the
 * server: Accept-Encoding, Origin); Access-Control-* too when cors is set.
 *
 * CORS (cors != nullptr), on every answer from the root or table, errors
 * and redirects included (a script may then read a 404), but not on
 * ht_response__serve_file's answers about the mount itself (a path outside
 * it: 404; the bare prefix: 301):
 *   - origins: "*" alone (any origin: "Access-Control-Allow-Origin: *",
 *     no Vary), or a list of serialized origins ("https://a.example",
 *     "http://localhost:8080": scheme "://" host [":" port], no path, no
 *     trailing '/'; compared ASCII case-insensitively). A request whose
 *     Origin is listed gets it echoed; every answer then carries "Vary:
 *     Origin" (merged into "Vary: Accept-Encoding, Origin" where the server
 *     sends Vary), so that caches keep answers per origin. A request
 *     without Origin, or with one not listed, gets no CORS field at all:
 *     it is not an error, the browser enforces the refusal;
 *   - preflight: OPTIONS with Origin and Access-Control-Request-Method from
 *     an allowed origin is answered 204 with Allow-Origin (and Vary),
 *     Access-Control-Allow-Methods (methods, default "GET, HEAD"),
 *     -Allow-Headers (headers, default the conditional and range request
 *     fields, HT_CORS_DEFAULT_HEADERS) and -Max-Age (max_age seconds, 0:
 *     HT_CORS_DEFAULT_MAX_AGE). Any other OPTIONS gets what it got before
 *     (405 + Allow);
 *   - Access-Control-Expose-Headers lists the fields a script may want to
 *     read besides the safelisted ones (ETag, Last-Modified, Content-Range,
 *     Accept-Ranges, Content-Encoding), on answers to an allowed origin.
 */
#ifndef HT_HEADERS_H
#define HT_HEADERS_H

#include <ht/request.h>
#include <ht/slice.h>
#include <ht/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rules a set may hold (ht_headers__check: -E2BIG beyond). */
#define HT_HEADERS_MAX_RULES 64
#define HT_CORS_DEFAULT_METHODS "GET, HEAD"
#define HT_CORS_DEFAULT_HEADERS "Range, If-Match, If-None-Match, If-Modified-Since, If-Range, Cache-Control"
#define HT_CORS_DEFAULT_MAX_AGE 86400u
#define HT_CORS_EXPOSE_HEADERS "ETag, Last-Modified, Content-Range, Accept-Ranges, Content-Encoding"

/* One rule; strings borrowed, NUL-terminated. */
typedef struct ht_header_rule {
    const char* match; /* glob (see above), nullptr or "" for every file */
    const char* name;  /* a token, not reserved */
    const char* value; /* no CR, LF, NUL or other controls but HTAB; may be empty */
} ht_header_rule_t;

typedef struct ht_cors {
    const char* const* origins;  /* {"*"} or serialized origins; count >= 1 */
    uint32_t           count;
    const char*        methods;  /* preflight Allow-Methods; nullptr: HT_CORS_DEFAULT_METHODS */
    const char*        headers;  /* preflight Allow-Headers; nullptr: HT_CORS_DEFAULT_HEADERS */
    uint32_t           max_age;  /* preflight Max-Age in seconds; 0: HT_CORS_DEFAULT_MAX_AGE */
} ht_cors_t;

typedef struct ht_headers {
    const ht_header_rule_t* rules; /* in order: the first match per name wins */
    uint32_t                count;
    const ht_cors_t*        cors;  /* nullptr: no CORS */
} ht_headers_t;

/* Whether a glob is well formed (see above); *why (if given) says what is
 * wrong when not. */
bool ht_headers__glob_valid(const char* glob, const char** why);
/* Whether a valid glob matches a decoded path (starting with '/'). */
bool ht_headers__glob_match(const char* glob, ht_slice_t path);
/* Whether s is a serialized origin: "http" or "https" (lower case) "://",
 * a host of letters, digits, '-', '.' (or a bracketed IPv6 literal), an
 * optional ":port" of 1..5 digits, nothing else. */
bool ht_headers__origin_valid(ht_slice_t s);
/* Checks one rule: 0, HT_E_BAD_GLOB, HT_E_BAD_HEADER_NAME,
 * HT_E_RESERVED_HEADER or HT_E_BAD_HEADER_VALUE. */
ht_result_t ht_headers__rule_check(const ht_header_rule_t* rule);
/* Checks a whole set: at most HT_HEADERS_MAX_RULES rules (-E2BIG), every
 * rule, no Access-Control-* rule beside cors, the
 * cors origins ("*" alone, or valid origins: HT_E_BAD_ORIGIN), methods and
 * headers (comma lists of tokens: HT_E_BAD_HEADER_VALUE). *at (if given)
 * gets the index of the offending rule, or count + the origin's index for
 * a cors error. nullptr is a valid (empty) set. */
ht_result_t ht_headers__check(const ht_headers_t* h, uint32_t* at);

/* Whether req is a CORS preflight that a root or table with set h answers
 * (204): OPTIONS with Access-Control-Request-Method, from an allowed
 * Origin. For a router that answers OPTIONS itself (htgen's dispatch) to
 * hand these to the file server. h may be nullptr (false). */
bool ht_headers__is_preflight(const ht_headers_t* h, const ht_request_t* req);

#ifdef __cplusplus
}
#endif

#endif /* HT_HEADERS_H */
