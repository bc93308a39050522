/* http/parse.h — the HTTP/1.1 request-head parser and chunked decoder
 * (internal; the server and tests use it, users see ht/request.h).
 *
 * Shaped like picohttpparser: one function over a caller buffer, a
 * caller-owned header array, zero-copy slices into the buffer, and a result
 * that is bytes / need-more / error. Strict per RFC 9112; each rejection is a
 * distinct HT_E_* code that carries its HTTP status (ht_result__status).
 *
 * Incremental use: keep one ht_parser_t per request, zeroed before the first
 * call; call again with the same (grown) buffer after more bytes arrive. Bytes
 * already examined are not parsed again: while the head is incomplete the
 * parser only scans new bytes for the end of the head.
 */
#ifndef HT_HTTP_PARSE_H
#define HT_HTTP_PARSE_H

#include <ht/http.h>

typedef struct ht_parse_limits {
    uint32_t max_request_line;  /* bytes before the first CRLF, else 414 */
    uint32_t max_head;          /* bytes of the whole head, else 431 */
    uint16_t max_headers;       /* header fields, else 431 (<= out->max_headers) */
} ht_parse_limits_t;

#define HT_PARSE_LIMITS_DEFAULT ((ht_parse_limits_t){ 8192, 16384, 64 })

enum ht_head_flags {
    HT_HEAD_CONTENT_LENGTH = 1u << 0, /* content_length is valid */
    HT_HEAD_CHUNKED        = 1u << 1, /* Transfer-Encoding ends in chunked */
    HT_HEAD_KEEP_ALIVE     = 1u << 2, /* persistent after this request (version + Connection) */
    HT_HEAD_EXPECT_CONTINUE = 1u << 3, /* Expect: 100-continue */
    HT_HEAD_UPGRADE        = 1u << 4, /* Connection: upgrade + Upgrade present */
};

typedef struct ht_request_head {
    /* in */
    ht_header_t* headers;       /* caller-owned array ... */
    uint16_t     max_headers;   /* ... of this many entries */
    /* out: slices point into the parsed buffer */
    uint16_t     num_headers;
    uint8_t      method_id;     /* ht_method_t */
    uint8_t      version_minor; /* 0 or 1 (HTTP/1.x only; others are 505) */
    uint32_t     flags;         /* enum ht_head_flags */
    ht_slice_t   method;
    ht_slice_t   target;        /* raw request-target, see ht/uri.h */
    ht_slice_t   host;          /* Host value (empty if absent in 1.0) */
    uint64_t     content_length;
} ht_request_head_t;

typedef struct ht_parser {
    size_t scanned; /* private: bytes known not to complete the head */
} ht_parser_t;

/* Parses the request head in buf[0, len).
 * Returns the head's length in bytes (> 0; the body, if any, starts there),
 * -EAGAIN if more bytes are needed, or an HT_E_* error. On error, out is
 * unspecified. Limits are enforced even while incomplete: a head that already
 * exceeds them fails with 414/431 instead of waiting for more. */
ht_io_t ht_parse__request(ht_parser_t* p, const char* buf, size_t len,
                          const ht_parse_limits_t* limits, ht_request_head_t* out);

/* Incremental, in-place chunked body decoder (RFC 9112 §7.1): chunk sizes in
 * hex (overflow rejected), extensions validated and ignored, trailer fields
 * validated and discarded, CRLF strictly required. Zero it before use. */
typedef struct ht_chunked {
    uint64_t remaining;   /* private */
    uint64_t total;       /* decoded payload bytes so far */
    uint32_t line_bytes;  /* private: size of the current size/trailer line */
    uint32_t trailer_bytes;
    uint8_t  state;       /* private */
} ht_chunked_t;

/* Decodes buf[0, *len) in place. On return buf[0, *len) holds the payload
 * bytes decoded by this call. Returns -EAGAIN when the body continues (call
 * again with the next raw bytes), an HT_E_* error, or, once the last chunk and
 * trailers are complete, the count (>= 0) of bytes that followed the body;
 * those were moved to buf[*len, *len + result). Payload beyond max_body
 * fails with HT_E_BODY_TOO_LARGE; trailers beyond max_trailer with 431. */
ht_io_t ht_chunked__decode(ht_chunked_t* d, char* buf, size_t* len, uint64_t max_body,
                           uint32_t max_trailer);

#endif /* HT_HTTP_PARSE_H */
