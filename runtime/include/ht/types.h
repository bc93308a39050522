/* ht/types.h — base types, C23 shims, platform macros and the error list.
 *
 * Every public header includes this one first. Conventions it fixes:
 *   - ht_result_t: 0 on success, a negative value on failure. Values in
 *     [-4095, -1] are negated errno codes (-ENOMEM, -EAGAIN, ...); values at or
 *     below HT_E__BASE are hachettp's own codes from HT_ERRORS below, each of
 *     which carries the HTTP status it maps to.
 *   - ht_io_t: a byte count (>= 0) or an ht_result_t error (< 0).
 *   - -EAGAIN from a parser or decoder means "need more input", never an error.
 */
#ifndef HT_TYPES_H
#define HT_TYPES_H

#include <assert.h>   /* static_assert before C23 */
#include <errno.h>
#include <stdbool.h>  /* bool before C23 */
#include <stddef.h>
#include <stdint.h>

/* ---- C23 shims: gcc < 13 and clang < 16 lack nullptr in -std=c2x. ---- */
#if !defined(__cplusplus)
#  if (defined(__clang__) && __clang_major__ < 16) || \
      (!defined(__clang__) && defined(__GNUC__) && __GNUC__ < 13) || \
      (!defined(__GNUC__) && (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 202311L))
#    define nullptr ((void*) 0)
#  endif
#endif

/* ---- C++: the headers compile as C++17 (tests/cxx), declarations with C
 * linkage. Inline code spells what differs through these. ---- */
#if defined(__cplusplus)
#  define HT_EXTERN_C_BEGIN extern "C" {
#  define HT_EXTERN_C_END   }
#  define HT_ALIGNOF(T)     alignof(T)
/* The library's private atomic fields, which C++ code never touches: the
 * same size and alignment as T on every supported target (server.c checks). */
#  define HT_ATOMIC(T)      T
#else
#  define HT_EXTERN_C_BEGIN
#  define HT_EXTERN_C_END
#  define HT_ALIGNOF(T)     _Alignof(T)
#  define HT_ATOMIC(T)      _Atomic(T)
#endif

/* ---- Platform detection: exactly one HT_OS_* is 1. ---- */
#if defined(_WIN32)
#  define HT_OS_WINDOWS 1
#elif defined(__linux__)
#  define HT_OS_LINUX 1
#elif defined(__APPLE__)
#  define HT_OS_MACOS 1
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__)
#  define HT_OS_BSD 1
#else
#  error "hachettp: unsupported platform"
#endif
#if !defined(_WIN32)
#  define HT_OS_POSIX 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define HT_LIKELY(x)   __builtin_expect(!!(x), 1)
#  define HT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#  define HT_INLINE      static inline __attribute__((always_inline))
#else
#  define HT_LIKELY(x)   (x)
#  define HT_UNLIKELY(x) (x)
#  define HT_INLINE      static inline
#endif

#define HT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef int32_t ht_result_t;
typedef int64_t ht_io_t;

/* ---- hachettp's own error codes: X(NAME, http_status, message) ----
 * One list; the enum, ht_result__str() and ht_result__status() derive from it.
 * Parse errors are fine-grained so tests and logs say exactly what was wrong. */
#define HT_ERRORS(X)                                                                   \
    X(HT_E_BAD_REQUEST,        400, "malformed request")                                \
    X(HT_E_BAD_METHOD,         400, "invalid method token")                             \
    X(HT_E_BAD_TARGET,         400, "invalid request target")                           \
    X(HT_E_BAD_VERSION,        400, "malformed HTTP version")                           \
    X(HT_E_VERSION,            505, "HTTP version not supported")                       \
    X(HT_E_BAD_HEADER_NAME,    400, "invalid header field name")                        \
    X(HT_E_BAD_HEADER_VALUE,   400, "invalid character in header field value")          \
    X(HT_E_SPACE_BEFORE_COLON, 400, "whitespace between header name and colon")         \
    X(HT_E_OBS_FOLD,           400, "obsolete line folding")                            \
    X(HT_E_BARE_CR,            400, "CR not followed by LF")                            \
    X(HT_E_BARE_LF,            400, "LF not preceded by CR")                            \
    X(HT_E_MISSING_HOST,       400, "HTTP/1.1 request without Host")                    \
    X(HT_E_DUP_HOST,           400, "more than one Host header")                        \
    X(HT_E_BAD_CONTENT_LENGTH, 400, "invalid Content-Length")                           \
    X(HT_E_DUP_CONTENT_LENGTH, 400, "conflicting Content-Length values")                \
    X(HT_E_CL_AND_TE,          400, "both Content-Length and Transfer-Encoding")        \
    X(HT_E_BAD_TRANSFER_ENCODING, 400, "chunked is not the final transfer coding")     \
    X(HT_E_UNKNOWN_TRANSFER_CODING, 501, "unsupported transfer coding")                 \
    X(HT_E_BAD_CHUNK,          400, "malformed chunked body")                           \
    X(HT_E_CHUNK_TOO_LARGE,    400, "chunk size overflow")                              \
    X(HT_E_URI_TOO_LONG,       414, "request line too long")                            \
    X(HT_E_HEADERS_TOO_LARGE,  431, "request header fields too large")                  \
    X(HT_E_TOO_MANY_HEADERS,   431, "too many header fields")                           \
    X(HT_E_BODY_TOO_LARGE,     413, "request body too large")                           \
    X(HT_E_NOT_IMPLEMENTED,    501, "not implemented")                                  \
    X(HT_E_EXPECTATION_FAILED, 417, "unsupported expectation")                         \
    X(HT_E_TIMEOUT,            408, "request timeout")                                  \
    X(HT_E_BACKEND_UNAVAILABLE, 500, "event backend refused by the kernel (io_uring: rebuild with -DHT_IO_URING=OFF for epoll)") \
    X(HT_E_BAD_URI,            400, "malformed URI")                                    \
    X(HT_E_BAD_ESCAPE,         400, "malformed or forbidden percent-escape")            \
    X(HT_E_PATH_ESCAPE,        400, "path escapes its root")                            \
    X(HT_E_OVERFLOW,           400, "integer overflow")                                 \
    X(HT_E_CLOSED,             500, "connection closed")                                \
    X(HT_E_BAD_NUMBER,         400, "malformed number")                                 \
    X(HT_E_RESPONSE_STATE,     500, "response builder call out of order")              \
    X(HT_E_RESERVED_HEADER,    500, "header is written by the server, not the handler") \
    X(HT_E_GONE,               503, "response cut off (deadline, client gone or shutdown)") \
    X(HT_E_SHUTDOWN,           503, "server shutting down: its drain time ran out")     \
    X(HT_E_BAD_HOST,           400, "Host is not a valid uri-host[:port]")             \
    X(HT_E_BAD_PROXY,          400, "malformed PROXY protocol header")              \
    X(HT_E_BAD_GLOB,           500, "malformed glob in a header rule")                 \
    X(HT_E_BAD_ORIGIN,         500, "not a serialized origin (scheme://host[:port])")

#define HT_E__BASE (-4096)
enum ht_error_index_ { /* private: position in HT_ERRORS */
#define HT_X_(name, status, msg) name##__IDX_,
    HT_ERRORS(HT_X_)
#undef HT_X_
    HT_E__COUNT
};
enum ht_error { /* HT_E_BAD_REQUEST == HT_E__BASE, then one lower each */
#define HT_X_(name, status, msg) name = HT_E__BASE - name##__IDX_,
    HT_ERRORS(HT_X_)
#undef HT_X_
};

HT_EXTERN_C_BEGIN
/* A short, static, human-readable description of r (never nullptr). */
const char* ht_result__str(ht_result_t r);
/* The HTTP status an error maps to: its HT_ERRORS status, 500 for errno codes. */
uint16_t ht_result__status(ht_result_t r);
HT_EXTERN_C_END

/* Library version, for programs' --version. */
#define HT_VERSION_MAJOR 0
#define HT_VERSION_MINOR 1
#define HT_VERSION_PATCH 0
#define HT_VERSION_STRING "0.1.0"

#endif /* HT_TYPES_H */
