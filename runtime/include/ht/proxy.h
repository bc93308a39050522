/* ht/proxy.h — behind a load balancer: the client's address through the
 * PROXY protocol (HAProxy's, v1 text and v2 binary) or through Forwarded
 * (RFC 7239) / X-Forwarded-For, each believed only from trusted sources.
 *
 * PROXY protocol: set ht_config_t.proxy_protocol to a trust list. Then on
 * that server every connection must come from an address in the list (any
 * other is closed at accept, before a byte is read) and must begin with a
 * PROXY header, v1 or v2; a malformed header, or one not complete within
 * header_timeout_ms, closes the connection without a response and without
 * reading further. v2 TLVs are skipped (their framing is checked). The
 * header's source address becomes the connection's: ht_request__peer (and
 * so access logs, metrics, handlers) gives it; ht_request__socket_peer
 * gives the proxy's. A v2 LOCAL header (the proxy's own health check) or
 * v1 UNKNOWN keeps the socket's address.
 *
 * Forwarded / X-Forwarded-For: set ht_config_t.trust_forwarded; then
 * ht_request__client applies it (see there). Nothing reads those fields
 * otherwise.
 *
 * Cost when neither is configured: one pointer test per accepted
 * connection; nothing per request.
 */
#ifndef HT_PROXY_H
#define HT_PROXY_H

#include <ht/net.h>
#include <ht/request.h>
#include <ht/slice.h>

HT_EXTERN_C_BEGIN

/* One trusted source: an IPv4/IPv6 network (addr/bits), or, with family
 * HT_ADDR_NONE ("unix" in text), every peer that is not IP (a Unix socket). */
typedef struct ht_cidr {
    ht_addr_t net;  /* port unused */
    uint8_t   bits; /* prefix length: 0..32 / 0..128 */
} ht_cidr_t;

/* A list of them, as ht_config_t points to it (it must outlive the server). */
typedef struct ht_trust {
    const ht_cidr_t* cidrs;
    uint32_t         count;
} ht_trust_t;

/* An IPv4 ("192.0.2.1") or IPv6 ("2001:db8::1", "::ffff:192.0.2.1", no
 * brackets, no zone) literal, the whole of text; an IPv4-mapped IPv6
 * address is given as IPv4. 0 or -EINVAL. Platform-independent. */
ht_result_t ht_addr__parse(ht_slice_t text, ht_addr_t* out);

/* Parses "10.0.0.0/8, 127.0.0.1, ::1/128, unix" (comma-separated; a bare
 * address is a host: /32 or /128; host bits beyond the prefix must be 0)
 * into out[0, cap); *count gets how many. 0, -EINVAL (with *count the index
 * of the bad entry) or -E2BIG. */
ht_result_t ht_trust__parse(const char* list, ht_cidr_t* out, uint32_t cap, uint32_t* count);
/* Whether a is in t (IPv4-mapped IPv6 addresses are IPv4 already). */
bool ht_trust__contains(const ht_trust_t* t, const ht_addr_t* a);

/* ---- The PROXY header parser (the server uses it; exposed for tests and
 * for programs that read the header themselves) ---- */
typedef struct ht_proxy_header {
    uint8_t   version; /* 1 or 2 */
    bool      local;   /* v2 LOCAL, v1 UNKNOWN, or an address family we do not
                        * take (v2 UNIX, UNSPEC, datagrams): src/dst are NONE */
    ht_addr_t src;     /* the client, with its port */
    ht_addr_t dst;     /* the address the client connected to */
} ht_proxy_header_t;

/* Longest header accepted (v2 with TLVs); a longer one is malformed. */
#define HT_PROXY_MAX_HEADER 4096u

/* Parses the PROXY header at the start of buf[0, len): its length (> 0;
 * the connection's own bytes follow), -EAGAIN (a prefix of a header: more
 * bytes needed), or HT_E_BAD_PROXY as soon as the bytes cannot be one.
 * Reads only buf[0, len); the result does not depend on how the bytes were
 * split (a prefix of a valid header is -EAGAIN, of a bad one -EAGAIN or the
 * error). */
ht_io_t ht_proxy__parse(const char* buf, size_t len, ht_proxy_header_t* out);

/* ---- Per request ---- */

/* The address of the socket's peer: the proxy's when the connection came
 * through the PROXY protocol, else the same as ht_request__peer. */
ht_result_t ht_request__socket_peer(const ht_request_t* r, ht_addr_t* out);

/* The client's address as the trust rules allow: ht_request__peer's
 * address (the PROXY header's, if any); and when that peer is in the
 * config's trust_forwarded list, the hops that Forwarded's for= (RFC 7239;
 * preferred when present) or X-Forwarded-For list are walked from the
 * right, skipping trusted ones: the first untrusted hop is the client (the
 * leftmost when every hop is trusted). A hop that is not an IP address
 * ("unknown", an obfuscated node, garbage) stops the walk: the last
 * trusted address is the answer. Port: Forwarded's if given, else 0 (0 and
 * ht_request__peer's port when no hop was taken). 0 or ht_request__peer's
 * error. */
ht_result_t ht_request__client(const ht_request_t* r, ht_addr_t* out);

HT_EXTERN_C_END

#endif /* HT_PROXY_H */
