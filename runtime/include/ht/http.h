/* ht/http.h — the closed vocabularies of HTTP/1.1: methods, statuses, and the
 * header names hachettp knows by id.
 *
 * Each is one X-macro list; enums, name tables, reason phrases and the
 * gperf-generated header-name lookup all derive from these lists, so adding an
 * entry here is the whole change (the build regenerates the gperf table).
 */
#ifndef HT_HTTP_H
#define HT_HTTP_H

#include <ht/slice.h>

HT_EXTERN_C_BEGIN

/* ---- Methods: X(ID, "TOKEN") ---- */
#define HT_METHODS(X) \
    X(GET, "GET")         \
    X(HEAD, "HEAD")       \
    X(POST, "POST")       \
    X(PUT, "PUT")         \
    X(DELETE, "DELETE")   \
    X(CONNECT, "CONNECT") \
    X(OPTIONS, "OPTIONS") \
    X(TRACE, "TRACE")     \
    X(PATCH, "PATCH")

typedef enum ht_method {
    HT_METHOD_OTHER = 0, /* a valid token not in the list: compare the slice */
#define HT_X_(id, tok) HT_METHOD_##id,
    HT_METHODS(HT_X_)
#undef HT_X_
    HT_METHOD__COUNT
} ht_method_t;

/* "GET", ...; "" for HT_METHOD_OTHER. */
const char* ht_method__name(ht_method_t m);
/* The id of a method token (exact, case-sensitive per RFC 9110), or OTHER. */
ht_method_t ht_method__from_slice(ht_slice_t token);

/* ---- Status codes: X(CODE, NAME, "Reason") ---- */
#define HT_STATUSES(X)                                        \
    X(100, CONTINUE, "Continue")                              \
    X(101, SWITCHING_PROTOCOLS, "Switching Protocols")        \
    X(200, OK, "OK")                                          \
    X(201, CREATED, "Created")                                \
    X(202, ACCEPTED, "Accepted")                              \
    X(204, NO_CONTENT, "No Content")                          \
    X(206, PARTIAL_CONTENT, "Partial Content")                \
    X(301, MOVED_PERMANENTLY, "Moved Permanently")            \
    X(302, FOUND, "Found")                                    \
    X(303, SEE_OTHER, "See Other")                            \
    X(304, NOT_MODIFIED, "Not Modified")                      \
    X(307, TEMPORARY_REDIRECT, "Temporary Redirect")          \
    X(308, PERMANENT_REDIRECT, "Permanent Redirect")          \
    X(400, BAD_REQUEST, "Bad Request")                        \
    X(401, UNAUTHORIZED, "Unauthorized")                      \
    X(403, FORBIDDEN, "Forbidden")                            \
    X(404, NOT_FOUND, "Not Found")                            \
    X(405, METHOD_NOT_ALLOWED, "Method Not Allowed")          \
    X(406, NOT_ACCEPTABLE, "Not Acceptable")                  \
    X(408, REQUEST_TIMEOUT, "Request Timeout")                \
    X(409, CONFLICT, "Conflict")                              \
    X(410, GONE, "Gone")                                      \
    X(411, LENGTH_REQUIRED, "Length Required")                \
    X(412, PRECONDITION_FAILED, "Precondition Failed")        \
    X(413, CONTENT_TOO_LARGE, "Content Too Large")            \
    X(414, URI_TOO_LONG, "URI Too Long")                      \
    X(415, UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type")  \
    X(416, RANGE_NOT_SATISFIABLE, "Range Not Satisfiable")    \
    X(417, EXPECTATION_FAILED, "Expectation Failed")          \
    X(422, UNPROCESSABLE_CONTENT, "Unprocessable Content")    \
    X(426, UPGRADE_REQUIRED, "Upgrade Required")              \
    X(429, TOO_MANY_REQUESTS, "Too Many Requests")            \
    X(431, REQUEST_HEADER_FIELDS_TOO_LARGE, "Request Header Fields Too Large") \
    X(500, INTERNAL_SERVER_ERROR, "Internal Server Error")    \
    X(501, NOT_IMPLEMENTED, "Not Implemented")                \
    X(502, BAD_GATEWAY, "Bad Gateway")                        \
    X(503, SERVICE_UNAVAILABLE, "Service Unavailable")        \
    X(504, GATEWAY_TIMEOUT, "Gateway Timeout")                \
    X(505, HTTP_VERSION_NOT_SUPPORTED, "HTTP Version Not Supported")

enum ht_status {
#define HT_X_(code, name, reason) HT_STATUS_##name = (code),
    HT_STATUSES(HT_X_)
#undef HT_X_
};

/* The reason phrase of a status, or "" for one not in the list. */
const char* ht_status__reason(uint16_t status);

/* ---- Header names known by id: X(ID, "Canonical-Name") ----
 * Lookup is ASCII case-insensitive through a gperf perfect hash generated at
 * build time from this list (runtime/src/http/header_id.gperf in the build
 * tree). Parsed headers carry their id; hot paths compare ids, not strings. */
#define HT_HEADERS(X)                                        \
    X(ACCEPT, "Accept")                                      \
    X(ACCEPT_CHARSET, "Accept-Charset")                      \
    X(ACCEPT_ENCODING, "Accept-Encoding")                    \
    X(ACCEPT_LANGUAGE, "Accept-Language")                    \
    X(ACCEPT_RANGES, "Accept-Ranges")                        \
    X(ACCESS_CONTROL_ALLOW_ORIGIN, "Access-Control-Allow-Origin") \
    X(AGE, "Age")                                            \
    X(ALLOW, "Allow")                                        \
    X(AUTHORIZATION, "Authorization")                        \
    X(CACHE_CONTROL, "Cache-Control")                        \
    X(CONNECTION, "Connection")                              \
    X(CONTENT_DISPOSITION, "Content-Disposition")            \
    X(CONTENT_ENCODING, "Content-Encoding")                  \
    X(CONTENT_LANGUAGE, "Content-Language")                  \
    X(CONTENT_LENGTH, "Content-Length")                      \
    X(CONTENT_LOCATION, "Content-Location")                  \
    X(CONTENT_RANGE, "Content-Range")                        \
    X(CONTENT_TYPE, "Content-Type")                          \
    X(COOKIE, "Cookie")                                      \
    X(DATE, "Date")                                          \
    X(ETAG, "ETag")                                          \
    X(EXPECT, "Expect")                                      \
    X(EXPIRES, "Expires")                                    \
    X(FORWARDED, "Forwarded")                                \
    X(FROM, "From")                                          \
    X(HOST, "Host")                                          \
    X(IF_MATCH, "If-Match")                                  \
    X(IF_MODIFIED_SINCE, "If-Modified-Since")                \
    X(IF_NONE_MATCH, "If-None-Match")                        \
    X(IF_RANGE, "If-Range")                                  \
    X(IF_UNMODIFIED_SINCE, "If-Unmodified-Since")            \
    X(KEEP_ALIVE, "Keep-Alive")                              \
    X(LAST_MODIFIED, "Last-Modified")                        \
    X(LINK, "Link")                                          \
    X(LOCATION, "Location")                                  \
    X(MAX_FORWARDS, "Max-Forwards")                          \
    X(ORIGIN, "Origin")                                      \
    X(PRAGMA, "Pragma")                                      \
    X(PROXY_AUTHORIZATION, "Proxy-Authorization")            \
    X(RANGE, "Range")                                        \
    X(REFERER, "Referer")                                    \
    X(RETRY_AFTER, "Retry-After")                            \
    X(SEC_FETCH_DEST, "Sec-Fetch-Dest")                      \
    X(SEC_FETCH_MODE, "Sec-Fetch-Mode")                      \
    X(SEC_FETCH_SITE, "Sec-Fetch-Site")                      \
    X(SEC_FETCH_USER, "Sec-Fetch-User")                      \
    X(SERVER, "Server")                                      \
    X(SET_COOKIE, "Set-Cookie")                              \
    X(TE, "TE")                                              \
    X(TRAILER, "Trailer")                                    \
    X(TRANSFER_ENCODING, "Transfer-Encoding")                \
    X(UPGRADE, "Upgrade")                                    \
    X(UPGRADE_INSECURE_REQUESTS, "Upgrade-Insecure-Requests") \
    X(USER_AGENT, "User-Agent")                              \
    X(VARY, "Vary")                                          \
    X(VIA, "Via")                                            \
    X(WWW_AUTHENTICATE, "WWW-Authenticate")                  \
    X(X_FORWARDED_FOR, "X-Forwarded-For")                    \
    X(X_FORWARDED_HOST, "X-Forwarded-Host")                  \
    X(X_FORWARDED_PROTO, "X-Forwarded-Proto")                \
    X(X_REQUESTED_WITH, "X-Requested-With")

typedef enum ht_header_id {
    HT_HEADER__UNKNOWN = 0,
#define HT_X_(id, name) HT_HEADER_##id,
    HT_HEADERS(HT_X_)
#undef HT_X_
    HT_HEADER__COUNT
} ht_header_id_t;

/* One header field as parsed: zero-copy slices into the request buffer, the
 * value without surrounding whitespace. */
typedef struct ht_header {
    ht_slice_t     name;
    ht_slice_t     value;
    ht_header_id_t id;
} ht_header_t;

/* The id of a header name (ASCII case-insensitive), or HT_HEADER__UNKNOWN. */
ht_header_id_t ht_header__id(const char* name, size_t len);
/* The canonical spelling of a known id ("Content-Length"), "" otherwise. */
const char* ht_header__name(ht_header_id_t id);

/* ---- HTTP-dates (RFC 9110 §5.6.7) ---- */

/* IMF-fixdate length: "Sun, 06 Nov 1994 08:49:37 GMT". */
#define HT_HTTP_DATE_LEN 29

/* Formats Unix time t as an IMF-fixdate into out[0, 30) (NUL-terminated);
 * returns 29. Times before 0001-01-01 or after 9999-12-31 23:59:59 are
 * clamped to those ends. Pure arithmetic (no gmtime_r, locale or time
 * zone): the server's Date header and the files module's Last-Modified. */
size_t ht_http__format_date(char* out, int64_t t);

/* Parses an HTTP-date in any of the three formats RFC 9110 §5.6.7 says a
 * recipient must accept, into Unix time:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit years: the
 *                one at most 50 years in the future counts from 1970; here
 *                simply 70..99 -> 19xx, 00..69 -> 20xx)
 *   asctime      "Sun Nov  6 08:49:37 1994"
 * Strict: exact spacing, case-sensitive names, in-range fields (seconds up
 * to 60, a leap second, read as 59); the day name is checked for form but
 * not against the date. false (and *out untouched) on anything else. */
bool ht_http__parse_date(ht_slice_t s, int64_t* out);

HT_EXTERN_C_END

#endif /* HT_HTTP_H */
