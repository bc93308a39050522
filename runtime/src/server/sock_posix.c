/* server/sock_posix.c — server/sock.h over BSD sockets (Linux). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/sock.h"
#include "server/sock_addr.h"

static ht_result_t bind_listen(const struct sockaddr_storage* ss, socklen_t len, bool dual, int32_t backlog,
                               int* out) {
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1, zero = 0;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
#ifdef SO_REUSEPORT
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
#endif
    if (dual) (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (const struct sockaddr*) ss, len) != 0 || listen(fd, backlog > 0 ? backlog : 511) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    *out = fd;
    return 0;
}

ht_result_t ht_sock__listen(const char* host, uint16_t port, int32_t backlog, ht_socket_t* out,
                            uint16_t* bound_port) {
    struct sockaddr_storage ss;
    socklen_t len = 0;
    int fd = -1;
    ht_result_t r;
    if (host != nullptr) {
        if ((r = parse_host(host, port, &ss, &len)) < 0) return r;
        if ((r = bind_listen(&ss, len, false, backlog, &fd)) < 0) return r;
    } else {
        /* All interfaces: dual-stack IPv6 if the host has IPv6, else IPv4. */
        len = any_addr(&ss, AF_INET6, port);
        r = bind_listen(&ss, len, true, backlog, &fd);
        if (no_ipv6(r)) {
            len = any_addr(&ss, AF_INET, port);
            r = bind_listen(&ss, len, false, backlog, &fd);
        }
        if (r < 0) return r;
    }
    /* Zeroed (memset, which the analyzer follows through the casts below):
     * clang-analyzer does not model getsockname filling it in. */
    struct sockaddr_storage bound;
    memset(&bound, 0, sizeof bound);
    socklen_t blen = sizeof bound;
    if (getsockname(fd, (struct sockaddr*) &bound, &blen) != 0) {
        r = -errno;
        close(fd);
        return r;
    }
    *bound_port = port_of(&bound);
    *out = fd;
    return 0;
}

ht_result_t ht_sock__adopt(ht_socket_t s, uint16_t* bound_port) {
    int listening = 0;
    socklen_t n = sizeof listening;
    if (getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &listening, &n) != 0) return -errno;
    if (!listening) return -EINVAL;
    int fl = fcntl(s, F_GETFL);
    if (fl < 0 || fcntl(s, F_SETFL, fl | O_NONBLOCK) != 0) return -errno;
    struct sockaddr_storage bound;
    memset(&bound, 0, sizeof bound); /* see ht_sock__listen */
    socklen_t blen = sizeof bound;
    if (getsockname(s, (struct sockaddr*) &bound, &blen) != 0) return -errno;
    *bound_port = port_of(&bound);
    return 0;
}

void ht_sock__close(ht_socket_t s) {
    if (s >= 0) close(s);
}

void ht_sock__shutdown_write(ht_socket_t s) { (void) shutdown(s, SHUT_WR); }

void ht_sock__nodelay(ht_socket_t s) {
    int one = 1;
    (void) setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

#if defined(HT_OS_LINUX)
/* The first number in /proc/sys/NAME after skip others, or 0. */
static uint64_t sysctl_num(const char* path, int skip) {
    char buf[64];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    const char* p = buf;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        uint64_t v = 0;
        if (*p < '0' || *p > '9') return 0;
        while (*p >= '0' && *p <= '9' && v < (1ull << 40)) v = v * 10 + (uint64_t) (*p++ - '0');
        if (skip-- == 0) return v;
    }
}

/* (tuning's maximum << 32) | the most SO_SNDBUF gives, both in the kernel's
 * doubled bytes, capped at INT32_MAX; bit 63 once read. Every worker may
 * read it the first time: the same numbers, so the race is harmless. */
static _Atomic uint64_t sndbuf_limits_;

bool ht_sock__grow_sndbuf(ht_socket_t s, uint64_t len, uint32_t want) {
    uint64_t lim = atomic_load_explicit(&sndbuf_limits_, memory_order_relaxed);
    if (lim == 0) {
        uint64_t tuned = sysctl_num("/proc/sys/net/ipv4/tcp_wmem", 2);
        uint64_t set = 2 * sysctl_num("/proc/sys/net/core/wmem_max", 0);
        tuned = tuned < INT32_MAX ? tuned : INT32_MAX;
        set = set < INT32_MAX ? set : INT32_MAX;
        lim = 1ull << 63 | tuned << 32 | set;
        atomic_store_explicit(&sndbuf_limits_, lim, memory_order_relaxed);
    }
    uint64_t tuned = (lim >> 32) & INT32_MAX, set = lim & INT32_MAX;
    uint64_t got = want < set ? want : set;
    if (tuned == 0 || len <= tuned || got <= tuned) return false; /* unknown, or no gain */
    int half = (int) (got / 2); /* the kernel doubles what it is given */
    return setsockopt(s, SOL_SOCKET, SO_SNDBUF, &half, sizeof half) == 0;
}
#else
bool ht_sock__grow_sndbuf(ht_socket_t s, uint64_t len, uint32_t want) {
    (void) s, (void) len, (void) want;
    return false;
}
#endif

ht_result_t ht_sock__peer(ht_socket_t s, ht_addr_t* out) {
    /* Zeroed: clang-analyzer does not model getpeername filling it in
     * (once per connection, on demand: not the hot path). */
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof ss;
    if (getpeername(s, (struct sockaddr*) &ss, &len) != 0) return -errno;
    addr_from(&ss, out);
    return 0;
}

size_t ht_addr__format(const ht_addr_t* a, char* out) { return addr_format(a, out); }
