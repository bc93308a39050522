/* ht/request.h — what a handler receives.
 *
 * An ht_request_t is built by the server for one handler call and is valid
 * only during that call: every slice points into the connection's receive
 * buffer (or its body buffer), which is reused as soon as the handler
 * returns. Copy what must outlive the call. Read it through the accessors;
 * the fields are private and may change.
 */
#ifndef HT_REQUEST_H
#define HT_REQUEST_H

#include <ht/http.h>
#include <ht/net.h>

HT_EXTERN_C_BEGIN

struct ht_conn;

typedef struct ht_request {
    /* private: use the accessors below */
    struct ht_conn*    conn_;        /* the connection (nullptr: built outside a server) */
    ht_slice_t         method_;
    ht_slice_t         target_;
    ht_slice_t         path_;
    ht_slice_t         query_;
    ht_slice_t         host_;
    ht_slice_t         body_;
    const ht_header_t* headers_;
    uint64_t           content_length_;
    uint32_t           flags_;       /* HT_REQUEST_F_* */
    uint16_t           num_headers_;
    uint8_t            method_id_;   /* ht_method_t */
    uint8_t            version_minor_;
} ht_request_t;

enum {
    HT_REQUEST_F_KEEP_ALIVE = 1u << 0, /* the connection stays open after the response */
    HT_REQUEST_F_CHUNKED    = 1u << 1, /* the body arrived chunked (already decoded) */
    HT_REQUEST_F_HAS_LENGTH = 1u << 2, /* the request carried Content-Length */
    HT_REQUEST_F_BODY_PENDING = 1u << 3, /* a body follows, not read yet (streamed) */
};

/* The method's id (HT_METHOD_OTHER for a valid token not in HT_METHODS). */
HT_INLINE ht_method_t ht_request__method(const ht_request_t* r) { return (ht_method_t) r->method_id_; }
/* The method token as sent ("GET", "PROPFIND"). */
HT_INLINE ht_slice_t ht_request__method_slice(const ht_request_t* r) { return r->method_; }
/* The raw request-target as sent ("/a/b?x=1", or absolute-form, or "*"). */
HT_INLINE ht_slice_t ht_request__target(const ht_request_t* r) { return r->target_; }
/* The target's path: everything before the first '?', not percent-decoded
 * (for decoding and dot-segment removal see ht/uri.h). For absolute-form
 * targets, the path after the authority ("/" if empty). */
HT_INLINE ht_slice_t ht_request__path(const ht_request_t* r) { return r->path_; }
/* What follows the first '?' (without it), not decoded; empty if none. */
HT_INLINE ht_slice_t ht_request__query(const ht_request_t* r) { return r->query_; }
/* The Host header's value (empty when an HTTP/1.0 request had none). */
HT_INLINE ht_slice_t ht_request__host(const ht_request_t* r) { return r->host_; }
/* 0 for HTTP/1.0, 1 for HTTP/1.1. */
HT_INLINE uint8_t ht_request__version_minor(const ht_request_t* r) { return r->version_minor_; }
/* The whole body (decoded if it was chunked); empty if none. */
HT_INLINE ht_slice_t ht_request__body(const ht_request_t* r) { return r->body_; }
/* Whether the connection stays open after this response (HTTP/1.1 without
 * Connection: close, or 1.0 with Connection: keep-alive, and the server not
 * closing it for its own reasons: request cap, shutdown). */
HT_INLINE bool ht_request__keep_alive(const ht_request_t* r) {
    return (r->flags_ & HT_REQUEST_F_KEEP_ALIVE) != 0;
}
HT_INLINE bool ht_request__is_chunked(const ht_request_t* r) {
    return (r->flags_ & HT_REQUEST_F_CHUNKED) != 0;
}
/* Whether a body follows that has not been read: the config's body_policy
 * chose to stream it (ht_response__read_body); ht_request__body is empty. */
HT_INLINE bool ht_request__body_pending(const ht_request_t* r) {
    return (r->flags_ & HT_REQUEST_F_BODY_PENDING) != 0;
}
/* The body length the client announced (Content-Length), or UINT64_MAX
 * when it did not (chunked, or no body). */
HT_INLINE uint64_t ht_request__content_length(const ht_request_t* r) {
    return (r->flags_ & HT_REQUEST_F_HAS_LENGTH) ? r->content_length_ : UINT64_MAX;
}

/* The client's address and port, into *out (on a server with the PROXY
 * protocol on, ht/proxy.h, the address its header gave; for Forwarded /
 * X-Forwarded-For from trusted proxies see ht_request__client): 0, or a negated errno
 * (-ENOTCONN for a request not from a server's connection, or what
 * getpeername(2) said; *out is then HT_ADDR_NONE). Cost: nothing until
 * asked; then one getpeername(2) per connection, its answer kept with the
 * connection for the requests after it (20 bytes of the connection
 * struct). Asking at accept instead would cost a syscall (epoll) or a
 * sockaddr per accept completion (io_uring) on every connection, used or
 * not; the loop's accept can grow an address out-parameter if a server
 * ever needs it on each connection. */
ht_result_t ht_request__peer(const ht_request_t* r, ht_addr_t* out);

/* Header fields in the order received. */
HT_INLINE uint16_t ht_request__header_count(const ht_request_t* r) { return r->num_headers_; }
/* The i-th field (i < header_count), or nullptr. */
HT_INLINE const ht_header_t* ht_request__header_at(const ht_request_t* r, uint16_t i) {
    return i < r->num_headers_ ? &r->headers_[i] : nullptr;
}
/* The value of the first field with this id; HT_SLICE_NULL (ptr == nullptr)
 * if absent, so an empty value and a missing field can be told apart. */
ht_slice_t ht_request__header(const ht_request_t* r, ht_header_id_t id);
/* The same by name (ASCII case-insensitive); works for unknown names too. */
ht_slice_t ht_request__header_by_name(const ht_request_t* r, ht_slice_t name);
/* Iterates fields with this id (or every field if id is HT_HEADER__UNKNOWN
 * and name is empty; by name if id is UNKNOWN and name is not empty).
 * Start with *pos = 0; returns the next match or nullptr.
 *   uint16_t pos = 0; const ht_header_t* h;
 *   while ((h = ht_request__header_next(req, HT_HEADER_COOKIE, HT_SLICE_NULL, &pos))) ... */
const ht_header_t* ht_request__header_next(const ht_request_t* r, ht_header_id_t id,
                                           ht_slice_t name, uint16_t* pos);

HT_EXTERN_C_END

#endif /* HT_REQUEST_H */
