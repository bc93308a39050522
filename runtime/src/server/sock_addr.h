/* server/sock_addr.h — internal: the BSD-socket address code that
 * sock_posix.c and sock_win32.c share (Winsock has the same sockaddr
 * structures, inet_pton/inet_ntop and byte-order calls). Include it after the
 * platform's socket headers; it includes none itself, so it stays free of
 * platform #ifdefs. socklen_t is int on Winsock. */
#ifndef HT_SERVER_SOCK_ADDR_H
#define HT_SERVER_SOCK_ADDR_H

#include <string.h>

#include <ht/net.h>

/* Parses a literal host ("127.0.0.1", "::1", "[::1]") into ss. */
static inline ht_result_t parse_host(const char* host, uint16_t port, struct sockaddr_storage* ss, socklen_t* len) {
    memset(ss, 0, sizeof *ss);
    char tmp[64];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        if (n - 2 >= sizeof tmp) return -EINVAL;
        memcpy(tmp, host + 1, n - 2);
        tmp[n - 2] = '\0';
        host = tmp;
    }
    struct sockaddr_in* v4 = (struct sockaddr_in*) ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *len = sizeof *v4;
        return 0;
    }
    struct sockaddr_in6* v6 = (struct sockaddr_in6*) ss;
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *len = sizeof *v6;
        return 0;
    }
    return -EINVAL;
}

/* The wildcard address of family (AF_INET6: in6addr_any, AF_INET:
 * INADDR_ANY) on port, for listening on every interface; returns its length. */
static inline socklen_t any_addr(struct sockaddr_storage* ss, int family, uint16_t port) {
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6* v6 = (struct sockaddr_in6*) ss;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_any;
        v6->sin6_port = htons(port);
        return sizeof *v6;
    }
    struct sockaddr_in* v4 = (struct sockaddr_in*) ss;
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(INADDR_ANY);
    v4->sin_port = htons(port);
    return sizeof *v4;
}

/* Whether a failed IPv6 wildcard listen means "no IPv6 here" (try IPv4). */
static inline bool no_ipv6(ht_result_t r) {
    return r == -EAFNOSUPPORT || r == -EADDRNOTAVAIL || r == -EPROTONOSUPPORT;
}

/* A sockaddr (IPv4, IPv6, or anything else as HT_ADDR_NONE) as ht_addr_t. */
static inline void addr_from(const struct sockaddr_storage* ss, ht_addr_t* out) {
    *out = (ht_addr_t){ .family = HT_ADDR_NONE };
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in* in = (const struct sockaddr_in*) ss;
        out->family = HT_ADDR_IPV4;
        out->port = ntohs(in->sin_port);
        memcpy(out->addr, &in->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6* in6 = (const struct sockaddr_in6*) ss;
        out->port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            out->family = HT_ADDR_IPV4; /* a dual-stack socket's IPv4 client */
            memcpy(out->addr, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            out->family = HT_ADDR_IPV6;
            memcpy(out->addr, &in6->sin6_addr, 16);
        }
    }
}

/* The port of a bound IPv4/IPv6 address; 0 for any other family (a Unix
 * socket handed to ht_server__adopt). */
static inline uint16_t port_of(const struct sockaddr_storage* ss) {
    if (ss->ss_family == AF_INET) return ntohs(((const struct sockaddr_in*) ss)->sin_port);
    if (ss->ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6*) ss)->sin6_port);
    return 0;
}

/* ht_addr__format's body (each platform file defines the public symbol). */
static inline size_t addr_format(const ht_addr_t* a, char* out) {
    int af = a->family == HT_ADDR_IPV4 ? AF_INET : a->family == HT_ADDR_IPV6 ? AF_INET6 : 0;
    if (af == 0 || inet_ntop(af, a->addr, out, HT_ADDR_STRLEN) == nullptr) {
        out[0] = '-';
        out[1] = '\0';
        return 1;
    }
    return strlen(out);
}

#endif /* HT_SERVER_SOCK_ADDR_H */
