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

/* Resume state; all fields private. Zero it before the first call of each
 * request. Between calls the buffer may move (realloc) but the bytes already
 * passed must stay the same and len must not shrink. */
typedef struct ht_parser {
    size_t   scanned;    /* bytes examined so far; none of [line_start, scanned) is LF */
    size_t   line_start; /* offset of the first line not yet complete */
    uint32_t line;       /* its index: 0 the request line, k the k-th field line */
} ht_parser_t;

/* Build variants: x86-64 uses SSE2 scans (always there), plus an SSSE3 nibble
 * table for field names where the target has SSSE3; -DHT_PARSE_USE_AVX2 makes
 * value/target scans 32 bytes wide on AVX2 targets (no faster on the benchmark
 * requests); -DHT_PARSE_SCALAR forces the portable scalar code. All read only
 * buf[0, len).
 *
 * Parses the request head in buf[0, len). limits may be nullptr (defaults).
 * Returns the head's length in bytes (> 0; the body, if any, starts there),
 * -EAGAIN if more bytes are needed, or an HT_E_* error. On error, out is
 * unspecified; on success every field of out is set (content_length 0 unless
 * HT_HEAD_CONTENT_LENGTH). The slices in out point into buf.
 *
 * The result does not depend on how the bytes were split across calls. Errors
 * are decided a line at a time, in line order, once the line's LF has arrived:
 * for each line, first the limits (request line > max_request_line bytes before
 * its CRLF: 414; head through this line's LF > max_head: 431, except that a
 * request line reaching past max_head is 414 unless the empty lines before it
 * already filled the head; a field line past max_headers: 431), then its
 * syntax, left to right. An incomplete line is only
 * checked against the first two limits, so an oversized head fails as soon as
 * the bytes show it. Framing semantics (Host, Content-Length, Transfer-Encoding,
 * Connection, Expect) are checked when the head is complete, in field order;
 * then CL+TE (400) and a missing Host in 1.1 (400).
 *
 * Rules beyond the RFC's letter, decided here:
 *   - Empty lines (CRLF) before the request line are skipped (RFC 9112 §2.2).
 *   - A CR not followed by LF is HT_E_BARE_CR, an LF not preceded by CR is
 *     HT_E_BARE_LF, wherever they appear (request line, names, values).
 *   - Transfer-Encoding: the codings of all TE fields form one list; empty
 *     elements are ignored. Only "chunked" is implemented: a coding after
 *     chunked (e.g. "chunked, identity"), a second chunked, chunked with
 *     parameters, or an empty list is 400 HT_E_BAD_TRANSFER_ENCODING; any other
 *     coding before chunked ("identity, chunked", "gzip, chunked") is 501
 *     HT_E_UNKNOWN_TRANSFER_CODING. TE in an HTTP/1.0 request is 400.
 *   - Content-Length: 1*DIGIT, or a list of identical such values ("5, 5"),
 *     also across repeated fields; anything else (sign, space inside, hex,
 *     empty element, > UINT64_MAX) is HT_E_BAD_CONTENT_LENGTH, differing
 *     values HT_E_DUP_CONTENT_LENGTH.
 *   - Expect: "100-continue" (any case) sets HT_HEAD_EXPECT_CONTINUE in 1.1
 *     and is ignored in 1.0; an empty value is ignored; anything else is 417.
 *   - Connection: a comma list of tokens (else HT_E_BAD_HEADER_VALUE); "close",
 *     "keep-alive", "upgrade" are recognised, others ignored. */
ht_io_t ht_parse__request(ht_parser_t* p, const char* buf, size_t len,
                          const ht_parse_limits_t* limits, ht_request_head_t* out);

/* Incremental, in-place chunked body decoder (RFC 9112 §7.1): chunk sizes in
 * hex (more than 64 bits: HT_E_CHUNK_TOO_LARGE), extensions
 * (`;name[=token|quoted-string]` with BWS) validated and ignored, trailer
 * fields validated like header fields and discarded, CRLF strictly required.
 * Framing errors (LF without CR, no CRLF after the data, bad extension, a
 * size line over 4 KiB) are HT_E_BAD_CHUNK; trailer lines fail with the
 * header-field codes. Input may be split anywhere, down to a byte per call.
 * Zero it before use; after an error, do not call again. */
typedef struct ht_chunked {
    uint64_t remaining;     /* private: size being read, then data left in the chunk */
    uint64_t total;         /* payload bytes decoded so far */
    uint32_t line_bytes;    /* private: bytes of the current chunk-size line */
    uint32_t trailer_bytes; /* private: bytes of trailer field lines so far */
    uint8_t  state;         /* private */
} ht_chunked_t;

/* Decodes buf[0, *len) in place. On return buf[0, *len) holds the payload
 * bytes decoded by this call. Returns -EAGAIN when the body continues (call
 * again with the next raw bytes), an HT_E_* error, or, once the last chunk and
 * trailers are complete, the count (>= 0) of bytes that followed the body;
 * those were moved to buf[*len, *len + result); later calls return all their
 * input that way. A chunk that would take the payload beyond max_body fails
 * with HT_E_BODY_TOO_LARGE as soon as its size line ends; trailer field lines
 * (the final CRLF not counted) beyond max_trailer bytes fail with
 * HT_E_HEADERS_TOO_LARGE (431); max_trailer 0 allows no trailer field. */
ht_io_t ht_chunked__decode(ht_chunked_t* d, char* buf, size_t* len, uint64_t max_body,
                           uint32_t max_trailer);

/* tchar (RFC 9110 §5.6.2) membership: 1 for token characters. Shared by the
 * parser, the chunked decoder and the response builder's name check. */
extern const uint8_t ht_http__tchar[256];

#endif /* HT_HTTP_PARSE_H */
