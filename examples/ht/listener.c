/* listener.c — ht's listening socket (see listener.h): socket activation
 * through ht_listen__activation (systemd's LISTEN_FDS protocol, no
 * libsystemd), Unix sockets, host names (ht/listen.h). ht serves one
 * socket: a unit passing several is refused with a message rather than
 * half served. */
#include "listener.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#if defined(HT_OS_POSIX)
#include <sys/socket.h>
#endif

static char unix_path[108];
static bool activated;
static char activated_name[64];

ht_result_t listener_open(ht_server_t* server, const char* bind, uint16_t port,
                          bool (*busy)(const char* host, uint16_t port)) {
    ht_listen_fd_t fds[8];
    int32_t n = ht_listen__activation(fds, HT_ARRAY_LEN(fds), true);
    if (n < 0 || n > 1) {
        fprintf(stderr, "ht: socket activation: %s\n",
                n > 1 || n == -E2BIG ? "ht serves one socket, several were passed" : strerror((int) -n));
        return -ECANCELED;
    }
    ht_result_t r;
    if (n == 1) {
        r = ht_server__adopt(server, fds[0].fd);
        if (r != 0) {
            fprintf(stderr, "ht: socket activation: descriptor %d (%s): %s\n", (int) fds[0].fd, fds[0].name,
                    r == -EINVAL ? "not a listening stream socket" : strerror(-r));
            return -ECANCELED;
        }
        activated = true;
        snprintf(activated_name, sizeof activated_name, "%s", fds[0].name);
        return 0;
    }
    if (bind && strncmp(bind, "unix:", 5) == 0) {
        const char* path = bind + 5;
        ht_socket_t s;
        r = ht_listen__unix(path, -1, 1024, &s);
        if (r == 0 && (r = ht_server__adopt(server, s)) != 0) ht_listen__unix_remove(path);
        if (r != 0) {
            fprintf(stderr, "ht: cannot listen on unix:%s: %s\n", path,
                    r == -ENOTSUP ? "no Unix sockets on this platform" : strerror(-r));
            return -ECANCELED;
        }
        snprintf(unix_path, sizeof unix_path, "%s", path);
        return 0;
    }
    r = busy(bind, port) ? -EADDRINUSE : ht_server__listen(server, bind, port, 1024);
    if (r == -EINVAL && bind) { /* not a literal: a name */
        ht_socket_t s;
        uint16_t bound;
        r = ht_listen__tcp(bind, port, 1024, &s, &bound);
        if (r == 0) r = ht_server__adopt(server, s); /* fails only if already listening */
    }
    return r;
}

/* "::" or "0.0.0.0": the family of the socket ht_server__listen bound
 * to every address. */
static const char* any_host(const ht_server_t* server) {
#if defined(HT_OS_POSIX)
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getsockname(ht_server__socket(server), (struct sockaddr*) &ss, &len) == 0 && ss.ss_family == AF_INET6)
        return "::";
#else
    (void) server;
#endif
    return "0.0.0.0";
}

const char* listener_where(const ht_server_t* server, const char* bind) {
    static char where[192];
    uint16_t port = ht_server__port(server);
    if (unix_path[0]) {
        snprintf(where, sizeof where, "unix:%s", unix_path);
    } else if (activated) {
        if (port) snprintf(where, sizeof where, "port %u (socket activation: %s)", (unsigned) port, activated_name);
        else snprintf(where, sizeof where, "the socket passed by socket activation (%s)", activated_name);
    } else if (port == 0) {
        snprintf(where, sizeof where, "its inherited socket");
    } else {
        /* No -b: ht_server__listen's dual-stack [::] where the host has
         * IPv6, else 0.0.0.0; ask the socket which one it got. */
        const char* host = bind ? bind : any_host(server);
        bool v6 = strchr(host, ':') && host[0] != '[';
        snprintf(where, sizeof where, "http://%s%s%s:%u/%s", v6 ? "[" : "", host, v6 ? "]" : "", (unsigned) port,
                 bind ? "" : v6 ? " (every address, IPv4 and IPv6)" : " (every IPv4 address)");
    }
    return where;
}

void listener_close(void) {
    if (unix_path[0]) ht_listen__unix_remove(unix_path);
    unix_path[0] = '\0';
}

void listener_forget(void) { unix_path[0] = '\0'; }

ht_result_t listener_adopt(ht_server_t* server, ht_socket_t s, const char* bind) {
    ht_result_t r = ht_server__adopt(server, s);
    if (r == 0 && bind && strncmp(bind, "unix:", 5) == 0) snprintf(unix_path, sizeof unix_path, "%s", bind + 5);
    return r;
}
