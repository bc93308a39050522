/* server/server.c — the listening socket, config defaults, and the shutdown
 * fan-out to every acceptor's loop. */
#include <stdatomic.h>
#include <string.h>

#include <ht/server.h>

#include "base/sys.h"
#include "server/sock.h"

/* C++ sees ht_server_t's atomic fields as plain ones (HT_ATOMIC in
 * <ht/types.h>): the struct must have the same layout either way. True on
 * every target we build for (hence NOLINT: "both sides are equivalent");
 * here to fail the build on one where it is not. */
static_assert(sizeof(_Atomic(uint32_t)) == sizeof(uint32_t) && /* NOLINT(misc-redundant-expression) */
                  _Alignof(_Atomic(uint32_t)) == _Alignof(uint32_t),
              "ht_server_t: _Atomic(uint32_t) differs from uint32_t");
static_assert(sizeof(_Atomic(ht_loop_t*)) == sizeof(ht_loop_t*) && /* NOLINT(misc-redundant-expression) */
                  _Alignof(_Atomic(ht_loop_t*)) == _Alignof(ht_loop_t*),
              "ht_server_t: _Atomic(ht_loop_t*) differs from ht_loop_t*");

void ht_config__resolve(ht_config_t* out, const ht_config_t* in) {
    ht_config_t c = in ? *in : (ht_config_t){ 0 };
#define DEF(f, v) if (c.f == 0) c.f = (v)
    DEF(max_request_line, HT_CONFIG_DEFAULT_MAX_REQUEST_LINE);
    DEF(max_head, HT_CONFIG_DEFAULT_MAX_HEAD);
    DEF(max_headers, HT_CONFIG_DEFAULT_MAX_HEADERS);
    DEF(max_body, HT_CONFIG_DEFAULT_MAX_BODY);
    DEF(max_trailer, HT_CONFIG_DEFAULT_MAX_TRAILER);
    DEF(header_timeout_ms, HT_CONFIG_DEFAULT_HEADER_TIMEOUT_MS);
    DEF(body_timeout_ms, HT_CONFIG_DEFAULT_BODY_TIMEOUT_MS);
    DEF(idle_timeout_ms, HT_CONFIG_DEFAULT_IDLE_TIMEOUT_MS);
    DEF(send_timeout_ms, HT_CONFIG_DEFAULT_SEND_TIMEOUT_MS);
    DEF(linger_timeout_ms, HT_CONFIG_DEFAULT_LINGER_TIMEOUT_MS);
    DEF(defer_timeout_ms, HT_CONFIG_DEFAULT_DEFER_TIMEOUT_MS);
    DEF(drain_timeout_ms, HT_CONFIG_DEFAULT_DRAIN_TIMEOUT_MS);
    DEF(max_connections, HT_CONFIG_DEFAULT_MAX_CONNECTIONS);
    DEF(max_keepalive_requests, HT_CONFIG_DEFAULT_MAX_KEEPALIVE);
    DEF(accept_retry_ms, HT_CONFIG_DEFAULT_ACCEPT_RETRY_MS);
    DEF(send_buffer_size, HT_CONFIG_DEFAULT_SEND_BUFFER_SIZE);
    DEF(send_buffer_cache, HT_CONFIG_DEFAULT_SEND_BUFFER_CACHE);
    DEF(file_send_buffer, HT_CONFIG_DEFAULT_FILE_SEND_BUFFER);
#undef DEF
    if (c.max_headers > HT_CONFIG_MAX_HEADERS_LIMIT) c.max_headers = HT_CONFIG_MAX_HEADERS_LIMIT;
    if (c.send_buffer_size < HT_CONFIG_MIN_SEND_BUFFER_SIZE) c.send_buffer_size = HT_CONFIG_MIN_SEND_BUFFER_SIZE;
    if (c.send_buffer_size > (1u << 30)) c.send_buffer_size = 1u << 30;
    if (c.max_request_line > c.max_head) c.max_request_line = c.max_head;
    /* The whole request (head + body) is kept in one buffer. */
    if (c.max_body > (uint64_t) 1 << 40) c.max_body = (uint64_t) 1 << 40;
    *out = c;
}

ht_result_t ht_server__listen(ht_server_t* server, const char* host, uint16_t port, int32_t backlog) {
    if (server->listening_) return -EALREADY;
    ht_socket_t fd;
    uint16_t bound;
    ht_result_t r = ht_sock__listen(host, port, backlog, &fd, &bound);
    if (r < 0) return r;
    server->port_ = bound;
    server->fd_ = fd;
    server->listening_ = true;
    atomic_store(&server->shutdown_, 0);
    return 0;
}

ht_result_t ht_server__adopt(ht_server_t* server, ht_socket_t s) {
    if (server->listening_) return -EALREADY;
    uint16_t bound;
    ht_result_t r = ht_sock__adopt(s, &bound);
    if (r < 0) return r;
    server->port_ = bound;
    server->fd_ = s;
    server->listening_ = true;
    atomic_store(&server->shutdown_, 0);
    return 0;
}

uint16_t ht_server__port(const ht_server_t* server) { return server->port_; }
ht_socket_t ht_server__socket(const ht_server_t* server) {
    return server->listening_ ? server->fd_ : HT_SOCKET_INVALID;
}

void ht_server__close(ht_server_t* server) {
    if (!server->listening_) return;
    ht_sock__close(server->fd_);
    server->fd_ = HT_SOCKET_INVALID;
    server->listening_ = false;
}

/* Async-signal-safe: atomics and ht_loop__wake only. waking_ tells an
 * acceptor being finalized that a wake may still be using its loop. */
void ht_server__shutdown(ht_server_t* server) {
    atomic_store(&server->shutdown_, 1);
    atomic_fetch_add(&server->waking_, 1);
    for (size_t i = 0; i < HT_SERVER_MAX_ACCEPTORS; i++) {
        ht_loop_t* l = atomic_load(&server->loops_[i]);
        if (l) ht_loop__wake(l);
    }
    atomic_fetch_sub(&server->waking_, 1);
}

bool ht_server__shutting_down(const ht_server_t* server) {
    return atomic_load(&((ht_server_t*) server)->shutdown_) != 0;
}

/* Registration used by conn.c. */
ht_result_t ht_server__register_(ht_server_t* server, ht_loop_t* loop, uint32_t* slot);
void ht_server__unregister_(ht_server_t* server, uint32_t slot);

ht_result_t ht_server__register_(ht_server_t* server, ht_loop_t* loop, uint32_t* slot) {
    for (uint32_t i = 0; i < HT_SERVER_MAX_ACCEPTORS; i++) {
        ht_loop_t* expected = nullptr;
        if (atomic_compare_exchange_strong(&server->loops_[i], &expected, loop)) {
            *slot = i;
            return 0;
        }
    }
    return -ENOSPC;
}

void ht_server__unregister_(ht_server_t* server, uint32_t slot) {
    atomic_store(&server->loops_[slot], nullptr);
    /* A concurrent shutdown may have loaded the pointer just before: wait
     * until it is done with it, the loop is about to be freed. */
    while (atomic_load(&server->waking_) != 0) ht_sys__yield();
}
