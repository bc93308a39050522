/* ht/config.h — the server's tuning knobs.
 *
 * Every field's zero value means "the documented default", so
 * `ht_config_t cfg = {0};` is a complete, sensible configuration. The server
 * reads the config when ht_server__serve starts an acceptor and keeps its own
 * resolved copy (zeros replaced by defaults, out-of-range values clamped);
 * later edits to the caller's struct do not affect a running acceptor. That
 * resolved copy is what handlers receive as their `cfg` argument, so a
 * handler sees the effective values and the caller's user_data.
 */
#ifndef HT_CONFIG_H
#define HT_CONFIG_H

#include <ht/types.h>

HT_EXTERN_C_BEGIN

struct ht_config;
struct ht_request;
/* What a body_policy hook answers for one request. */
typedef struct ht_body_policy {
    uint64_t limit;  /* most body bytes (Content-Length or decoded chunked); 0: max_body.
                      * Over: 413, before reading when the length is announced,
                      * else on the first byte over it. */
    bool     stream; /* deliver the body as it arrives (ht_response__read_body) */
    bool     json_errors; /* the server's own answers about this body (413, a
                           * malformed chunked body, 408) as JSON errors
                           * (ht_response__error_json): `errors PREFIX json` */
} ht_body_policy_t;
typedef ht_body_policy_t (*ht_body_policy_fn)(const struct ht_config* cfg, const struct ht_request* req);

typedef struct ht_config {
    /* ---- Request limits (each maps to its status; the connection closes) ---- */
    uint32_t max_request_line;  /* bytes up to the first CRLF; 0 = 8192. Over: 414. */
    uint32_t max_head;          /* bytes of the whole request head; 0 = 8192, clamped to
                                 * the loop's receive buffer size. Over: 431. */
    uint16_t max_headers;       /* header fields per request; 0 = 64, at most 1024.
                                 * Over: 431. */
    uint64_t max_body;          /* request body bytes (Content-Length or decoded
                                 * chunked), delivered whole to the handler; 0 = 1 MiB.
                                 * Over: 413 (sent before reading the body). */
    uint32_t max_trailer;       /* bytes of chunked trailer fields; 0 = 4096. Over: 431. */

    /* ---- Timeouts, milliseconds ---- */
    uint32_t header_timeout_ms; /* from the first byte of a request (or the accept) until
                                 * its head is complete; 0 = 10000. Expiry: 408 + close
                                 * if any byte arrived, else a silent close. */
    uint32_t body_timeout_ms;   /* longest gap between two reads of a body; 0 = 10000.
                                 * Expiry: 408 + close. */
    uint32_t idle_timeout_ms;   /* keep-alive wait for the next request; 0 = 60000.
                                 * Expiry: silent close. */
    uint32_t send_timeout_ms;   /* time for one batch of responses to be sent in full;
                                 * 0 = 30000. Expiry: the connection is dropped. */
    uint32_t linger_timeout_ms; /* after a final response the write side is shut and
                                 * input drained for at most this long, so the client
                                 * reads the response instead of a reset; 0 = 2000.
                                 * Past 256 KiB drained, input is left unread until
                                 * then (the response still goes out). */
    uint32_t defer_timeout_ms;  /* a deferred response must start within this (unless
                                 * ht_response__timeout says otherwise); 0 = 30000.
                                 * Expiry: 503 (ht/response.h, "Answering later"). */
    uint32_t drain_timeout_ms;  /* after shutdown begins, how long deferred responses
                                 * and streams may still run; 0 = 10000. Then those
                                 * not started get 503, streams are ended. */

    /* ---- Connections ---- */
    uint32_t max_connections;   /* open connections per acceptor; 0 = 16384. At the cap
                                 * the acceptor stops accepting (the kernel's backlog
                                 * holds new clients) and resumes below it. io_uring:
                                 * connections its accept already took when the cap
                                 * was reached are served too: one burst of the
                                 * kernel's, what the backlog held (and, on a busy
                                 * machine, what handshakes completed meanwhile). */
    uint32_t max_keepalive_requests; /* requests per connection before it is closed
                                 * (Connection: close on the last); 0 = 100000. */
    uint32_t accept_retry_ms;   /* after EMFILE/ENFILE/ENOBUFS/ENOMEM the accept is
                                 * re-armed after this delay or when a connection
                                 * closes, whichever comes first; 0 = 100. */

    /* ---- Buffers ---- */
    uint32_t send_buffer_size;  /* per-connection response buffer, taken from a
                                 * per-acceptor freelist only while a response is being
                                 * built or sent (idle connections hold none); response
                                 * heads and bodies that fit are written straight into
                                 * it and sent with one send per read batch; larger
                                 * bodies are sent from their own memory. A head that
                                 * fits in an empty one never fails behind pipelined
                                 * responses: that batch gets a larger buffer (under
                                 * twice this, freed once sent; ht/response.h).
                                 * 0 = 16384, at least 1024. */
    uint32_t send_buffer_cache; /* free send buffers an acceptor keeps for reuse (beyond
                                 * that they are freed, so a burst does not pin its peak
                                 * memory); 0 = 64. */
    uint32_t file_send_buffer;  /* the kernel's send buffer (SO_SNDBUF, in bytes as the
                                 * kernel counts them) a connection is given before its
                                 * first file body (ht_response__file) longer than the
                                 * kernel's own tuning lets that buffer grow (Linux:
                                 * net.ipv4.tcp_wmem's maximum, 4 MiB by default); only
                                 * where the system allows more (net.core.wmem_max,
                                 * which the kernel doubles), and not on other systems.
                                 * Fewer, larger sendfile rounds per file: less server
                                 * CPU per byte (BENCHMARKS.md, Server, issue 18). It
                                 * ends the kernel's tuning of that connection's buffer
                                 * and lets it hold that much of a file's pages.
                                 * 0 = 8 MiB; at or below the kernel's maximum: off. */

    /* ---- For the application ---- */
    void* user_data;            /* copied into the resolved config handed to handlers */
    /* Decides, when a request's head has arrived and a body follows, how the
     * body is taken: its limit and whether it is streamed to the handler
     * (ht_response__read_body) instead of buffered whole. nullptr: every body
     * is buffered, up to max_body. The route compiler generates one
     * (PREFIX__body_policy) from each route's `body` options. */
    ht_body_policy_fn body_policy;

    /* ---- Behind proxies (ht/proxy.h); the lists must outlive the server ---- */
    /* Trusted PROXY protocol senders: when set, every connection must come
     * from one of them (others are closed at accept) and start with a PROXY
     * v1/v2 header, whose source address becomes ht_request__peer's.
     * nullptr: off (the default; costs nothing). */
    const struct ht_trust* proxy_protocol;
    /* Peers whose Forwarded / X-Forwarded-For ht_request__client believes.
     * nullptr: none. */
    const struct ht_trust* trust_forwarded;

    /* ---- Access log (ht/log.h); must outlive the acceptors ---- */
    /* Every response is logged there, the server's own answers too.
     * nullptr: none (one pointer test per response). */
    struct ht_access_log* access_log;
    /* Per-worker counters (ht/metrics.h); must outlive the acceptors.
     * nullptr: none. */
    struct ht_metrics* metrics;
} ht_config_t;

/* Defaults, in one place (the comments above repeat them). */
#define HT_CONFIG_DEFAULT_MAX_REQUEST_LINE      8192u
#define HT_CONFIG_DEFAULT_MAX_HEAD              8192u
#define HT_CONFIG_DEFAULT_MAX_HEADERS           64u
#define HT_CONFIG_MAX_HEADERS_LIMIT             1024u
#define HT_CONFIG_DEFAULT_MAX_BODY              (1024u * 1024u)
#define HT_CONFIG_DEFAULT_MAX_TRAILER           4096u
#define HT_CONFIG_DEFAULT_HEADER_TIMEOUT_MS     10000u
#define HT_CONFIG_DEFAULT_BODY_TIMEOUT_MS       10000u
#define HT_CONFIG_DEFAULT_IDLE_TIMEOUT_MS       60000u
#define HT_CONFIG_DEFAULT_SEND_TIMEOUT_MS       30000u
#define HT_CONFIG_DEFAULT_LINGER_TIMEOUT_MS     2000u
#define HT_CONFIG_DEFAULT_DEFER_TIMEOUT_MS      30000u
#define HT_CONFIG_DEFAULT_DRAIN_TIMEOUT_MS      10000u
#define HT_CONFIG_DEFAULT_MAX_CONNECTIONS       16384u
#define HT_CONFIG_DEFAULT_MAX_KEEPALIVE         100000u
#define HT_CONFIG_DEFAULT_ACCEPT_RETRY_MS       100u
#define HT_CONFIG_DEFAULT_SEND_BUFFER_SIZE      16384u
#define HT_CONFIG_MIN_SEND_BUFFER_SIZE          1024u
#define HT_CONFIG_DEFAULT_SEND_BUFFER_CACHE     64u
#define HT_CONFIG_DEFAULT_FILE_SEND_BUFFER      (8u << 20)

/* Writes into out the config with every zero replaced by its default and
 * out-of-range values clamped (in may be nullptr: all defaults). */
void ht_config__resolve(ht_config_t* out, const ht_config_t* in);

HT_EXTERN_C_END

#endif /* HT_CONFIG_H */
