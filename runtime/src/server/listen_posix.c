/* server/listen_posix.c — ht/listen.h over POSIX: socket activation
 * (LISTEN_FDS), Unix-domain sockets, TCP on a host name. Nothing here runs
 * per connection: each function is called once at start. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ht/listen.h>

#include "server/sock.h"
#include "server/sock_addr.h"

/* A decimal in [0, max] filling all of s. */
static bool parse_dec(const char* s, uint64_t max, uint64_t* out) {
    if (s == nullptr || *s == '\0') return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        v = v * 10 + (uint64_t) (*s - '0');
        if (v > max) return false;
    }
    *out = v;
    return true;
}

int32_t ht_listen__activation(ht_listen_fd_t* out, uint32_t cap, bool unset_env) {
    const char* pid_s = getenv("LISTEN_PID");
    const char* fds_s = getenv("LISTEN_FDS");
    const char* names = getenv("LISTEN_FDNAMES");
    int32_t r = 0;
    uint64_t pid, n;
    if (pid_s == nullptr || fds_s == nullptr) goto done;
    if (!parse_dec(pid_s, INT32_MAX, &pid) || !parse_dec(fds_s, 4096, &n)) {
        r = -EINVAL;
        goto done;
    }
    if ((pid_t) pid != getpid() || n == 0) goto done; /* another process's */
    if (n > cap) {
        r = -E2BIG;
        goto done;
    }
    for (uint32_t i = 0; i < (uint32_t) n; i++) {
        int fd = HT_LISTEN_FDS_START + (int) i;
        int fl = fcntl(fd, F_GETFD);
        if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) != 0) {
            r = -EBADF;
            goto done;
        }
        out[i].fd = fd;
        snprintf(out[i].name, sizeof out[i].name, "unknown");
    }
    /* Names: "a:b:c", one per descriptor; fewer or empty ones stay "unknown". */
    for (uint32_t i = 0; names && *names && i < (uint32_t) n; i++) {
        size_t len = strcspn(names, ":");
        if (len > 0 && len < sizeof out[i].name) {
            memcpy(out[i].name, names, len);
            out[i].name[len] = '\0';
        }
        names += len;
        if (*names == ':') names++;
    }
    r = (int32_t) n;
done:
    if (unset_env) {
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
    }
    return r;
}

/* ---- Unix-domain sockets ---- */

static ht_result_t unix_addr(const char* path, struct sockaddr_un* sa) {
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0) return -EINVAL;
    if (n >= sizeof sa->sun_path) return -ENAMETOOLONG;
    memcpy(sa->sun_path, path, n);
    return 0;
}

/* Whether the socket file at sa is stale: a socket nobody accepts on. */
static bool unix_stale(const struct sockaddr_un* sa) {
    struct stat st;
    if (lstat(sa->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0) return false;
    bool stale = connect(c, (const struct sockaddr*) sa, sizeof *sa) != 0 && errno == ECONNREFUSED;
    close(c);
    return stale;
}

ht_result_t ht_listen__unix(const char* path, int32_t mode, int32_t backlog, ht_socket_t* out) {
    struct sockaddr_un sa;
    ht_result_t r = unix_addr(path, &sa);
    if (r < 0) return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (bind(fd, (const struct sockaddr*) &sa, sizeof sa) != 0) {
        r = -errno;
        /* A live socket, or a file that is not a socket, stays as it is. */
        if (r == -EADDRINUSE && unix_stale(&sa) && unlink(path) == 0)
            r = bind(fd, (const struct sockaddr*) &sa, sizeof sa) == 0 ? 0 : -errno;
        if (r < 0) {
            close(fd);
            return r;
        }
    }
    /* Permissions before listen: nobody can connect in between. */
    if ((mode >= 0 && chmod(path, (mode_t) mode) != 0) || listen(fd, backlog > 0 ? backlog : 511) != 0) {
        r = -errno;
        close(fd);
        (void) unlink(path);
        return r;
    }
    *out = fd;
    return 0;
}

void ht_listen__unix_remove(const char* path) {
    struct stat st;
    if (path && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) (void) unlink(path);
}

/* ---- TCP on a name ---- */

ht_result_t ht_listen__tcp(const char* host, uint16_t port, int32_t backlog, ht_socket_t* out,
                           uint16_t* bound_port) {
    /* Literals (and nullptr) the way ht_server__listen takes them. */
    struct sockaddr_storage ss;
    socklen_t len;
    if (host == nullptr || parse_host(host, port, &ss, &len) == 0)
        return ht_sock__listen(host, port, backlog, out, bound_port);
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned) port);
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_ADDRCONFIG,
                              .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
    struct addrinfo* res = nullptr;
    if (getaddrinfo(host, service, &hints, &res) != 0 || res == nullptr) return -ENXIO;
    ht_result_t r = -EADDRNOTAVAIL;
    for (struct addrinfo* ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        char lit[HT_ADDR_STRLEN];
        const void* a = ai->ai_family == AF_INET ? (const void*) &((struct sockaddr_in*) ai->ai_addr)->sin_addr
                                                 : (const void*) &((struct sockaddr_in6*) ai->ai_addr)->sin6_addr;
        if (inet_ntop(ai->ai_family, a, lit, sizeof lit) == nullptr) continue;
        r = ht_sock__listen(lit, port, backlog, out, bound_port);
        if (r == 0) break;
    }
    freeaddrinfo(res);
    return r;
}
