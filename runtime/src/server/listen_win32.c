/* server/listen_win32.c — ht/listen.h on Windows: no socket activation and
 * no Unix-domain sockets here (-ENOTSUP), TCP on literals only. */
#include <stdlib.h>

#include <ht/listen.h>

#include "server/sock.h"

int32_t ht_listen__activation(ht_listen_fd_t* out, uint32_t cap, bool unset_env) {
    (void) out;
    (void) cap;
    (void) unset_env;
    return getenv("LISTEN_FDS") != nullptr ? -ENOTSUP : 0;
}

ht_result_t ht_listen__unix(const char* path, int32_t mode, int32_t backlog, ht_socket_t* out) {
    (void) path;
    (void) mode;
    (void) backlog;
    (void) out;
    return -ENOTSUP;
}

void ht_listen__unix_remove(const char* path) { (void) path; }

ht_result_t ht_listen__tcp(const char* host, uint16_t port, int32_t backlog, ht_socket_t* out,
                           uint16_t* bound_port) {
    return ht_sock__listen(host, port, backlog, out, bound_port);
}
