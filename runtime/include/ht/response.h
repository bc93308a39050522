/* ht/response.h — what a handler writes.
 *
 * The server hands the handler one ht_response_t per request; the response
 * is complete when the handler returns (nothing may be added later). The head
 * is written straight into the connection's send buffer as the builder calls
 * are made, so the order is fixed:
 *
 *     ht_response__status(res, 200);                 // once, first
 *     ht_response__header(res, name, value);         // any number
 *     ht_response__body(res, data, len, a);          // at most once, last
 *
 * or one of the one-call helpers (text/html/json/bytes/error), which may
 * follow status/header calls (their status must then be the same). A call
 * out of this order returns HT_E_RESPONSE_STATE and changes nothing.
 *
 * The server writes these headers itself, and a handler may not set them
 * (HT_E_RESERVED_HEADER): Content-Length (always the body's exact length;
 * none for 1xx/204), Transfer-Encoding, Date (a per-loop cache refreshed once
 * a second), Connection (close or keep-alive, from the request and server
 * state). Names must be tokens (HT_E_BAD_HEADER_NAME); values may not contain
 * CR, LF, NUL or other controls but HTAB (HT_E_BAD_HEADER_VALUE) — no header
 * injection. A rejected call leaves the response as it was.
 *
 * HEAD requests: the handler builds the same response as for GET; the server
 * sends the head with the real Content-Length and no body.
 *
 * If the handler returns without a status, or a call failed for lack of room
 * or memory (-ENOBUFS: the head does not fit in the send buffer; -ENOMEM),
 * the server replaces whatever was written with an empty 500: a response
 * with a header silently missing never goes out. Later calls then fail.
 *
 * Bodies: ht_response__body copies the bytes. Small ones go into the send
 * buffer next to the head (one send); larger ones are copied into memory from
 * the allocator `a` the handler was given, freed by the server once sent.
 * ht_response__body_ref sends the caller's bytes without copying: they must
 * stay valid and unchanged until the server has sent them, which is after the
 * handler returns (static data, or data that outlives the connection).
 */
#ifndef HT_RESPONSE_H
#define HT_RESPONSE_H

#include <ht/alloc.h>
#include <ht/fs.h>
#include <ht/http.h>

typedef struct ht_response ht_response_t;

/* Starts the response with a status (100..999, not 1xx: interim responses
 * are the server's business). Any status code is allowed; the reason phrase
 * comes from HT_STATUSES ("" if unknown). */
ht_result_t ht_response__status(ht_response_t* res, uint16_t status);
/* The status set so far (0 if none). */
uint16_t ht_response__get_status(const ht_response_t* res);
/* Adds a header field (validated, see above). */
ht_result_t ht_response__header(ht_response_t* res, ht_slice_t name, ht_slice_t value);
ht_result_t ht_response__header_cstr(ht_response_t* res, const char* name, const char* value);
/* Ends the head and adds the body (copied; len may be 0). */
ht_result_t ht_response__body(ht_response_t* res, const void* data, size_t len, ht_alloc_t* a);
/* Ends the head and adds a borrowed body (not copied; see lifetime above). */
ht_result_t ht_response__body_ref(ht_response_t* res, const void* data, size_t len);

/* Ends the head and sends len bytes of file f from offset off as the body,
 * zero-copy (ht_loop__sendfile) after the head. own: the server closes f
 * once it is sent, or when the connection fails, or at once for HEAD; even
 * when this call fails, so an owned f never leaks. Not owned: f must stay
 * open until the server has sent it (e.g. a per-loop file cache that keeps
 * its descriptors for the loop's lifetime). A file body ends the batch:
 * pipelined requests after it are answered once it is sent. If the file is
 * shorter than off + len the connection is dropped (the head promised len). */
ht_result_t ht_response__file(ht_response_t* res, ht_file_t f, uint64_t off, uint64_t len, bool own);

/* One-call responses: status (unless already set to the same), a
 * Content-Type, and a copied body. */
ht_result_t ht_response__bytes(ht_response_t* res, uint16_t status, ht_slice_t content_type,
                               const void* data, size_t len, ht_alloc_t* a);
/* text/plain; charset=utf-8 */
ht_result_t ht_response__text(ht_response_t* res, uint16_t status, const char* text, ht_alloc_t* a);
/* text/html; charset=utf-8 */
ht_result_t ht_response__html(ht_response_t* res, uint16_t status, const char* html, ht_alloc_t* a);
/* application/json */
ht_result_t ht_response__json(ht_response_t* res, uint16_t status, const char* json, ht_alloc_t* a);
/* A small HTML error page naming the status ("404 Not Found"). */
ht_result_t ht_response__error(ht_response_t* res, uint16_t status, ht_alloc_t* a);

/* Whether a header name is a valid token, and a value is free of CR, LF,
 * NUL and other controls except HTAB (what ht_response__header checks). */
bool ht_response__valid_header_name(ht_slice_t name);
bool ht_response__valid_header_value(ht_slice_t value);

#endif /* HT_RESPONSE_H */
