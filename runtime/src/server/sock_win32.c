/* server/sock_win32.c — server/sock.h over Winsock 2. Sockets are created
 * overlapped (WSA_FLAG_OVERLAPPED, for the IOCP backend) and not
 * inheritable. The listening socket gets SO_EXCLUSIVEADDRUSE rather than
 * SO_REUSEADDR: on Windows the latter would let another process bind the
 * same port and steal connections. There is no SO_REUSEPORT: workers share
 * the one listening socket (the IOCP backend duplicates it per loop). */
#include <winsock2.h>
#include <ws2tcpip.h>

#include <string.h>

#include "base/win32.h"
#include "server/sock.h"

static ht_result_t parse_host(const char* host, uint16_t port, struct sockaddr_storage* ss, int* len) {
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

static ht_result_t bind_listen(const struct sockaddr_storage* ss, int len, bool dual, int32_t backlog,
                               SOCKET* out) {
    SOCKET s = WSASocketW(ss->ss_family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                          WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) return ht_win32__wsa_err(WSAGetLastError());
    BOOL one = TRUE;
    DWORD zero = 0;
    u_long nb = 1;
    (void) setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char*) &one, sizeof one);
    if (dual) (void) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (const char*) &zero, sizeof zero);
    if (bind(s, (const struct sockaddr*) ss, len) != 0 || listen(s, backlog > 0 ? backlog : SOMAXCONN) != 0 ||
        ioctlsocket(s, FIONBIO, &nb) != 0) {
        ht_result_t r = ht_win32__wsa_err(WSAGetLastError());
        closesocket(s);
        return r;
    }
    *out = s;
    return 0;
}

ht_result_t ht_sock__listen(const char* host, uint16_t port, int32_t backlog, ht_socket_t* out,
                            uint16_t* bound_port) {
    ht_result_t r = ht_win32__wsa_init();
    if (r) return r;
    struct sockaddr_storage ss;
    int len = 0;
    SOCKET s = INVALID_SOCKET;
    if (host != nullptr) {
        if ((r = parse_host(host, port, &ss, &len)) < 0) return r;
        if ((r = bind_listen(&ss, len, false, backlog, &s)) < 0) return r;
    } else {
        memset(&ss, 0, sizeof ss);
        struct sockaddr_in6* v6 = (struct sockaddr_in6*) &ss;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_any;
        v6->sin6_port = htons(port);
        r = bind_listen(&ss, sizeof *v6, true, backlog, &s);
        if (r == -EAFNOSUPPORT || r == -EADDRNOTAVAIL || r == -EPROTONOSUPPORT) {
            memset(&ss, 0, sizeof ss);
            struct sockaddr_in* v4 = (struct sockaddr_in*) &ss;
            v4->sin_family = AF_INET;
            v4->sin_addr.s_addr = htonl(INADDR_ANY);
            v4->sin_port = htons(port);
            r = bind_listen(&ss, sizeof *v4, false, backlog, &s);
        }
        if (r < 0) return r;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    if (getsockname(s, (struct sockaddr*) &bound, &blen) != 0) {
        r = ht_win32__wsa_err(WSAGetLastError());
        closesocket(s);
        return r;
    }
    *bound_port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in*) &bound)->sin_port
                                                   : ((struct sockaddr_in6*) &bound)->sin6_port);
    *out = (ht_socket_t) s;
    return 0;
}

void ht_sock__close(ht_socket_t s) {
    if (s != HT_SOCKET_INVALID) closesocket((SOCKET) s);
}

void ht_sock__shutdown_write(ht_socket_t s) { (void) shutdown((SOCKET) s, SD_SEND); }

void ht_sock__nodelay(ht_socket_t s) {
    BOOL one = TRUE;
    (void) setsockopt((SOCKET) s, IPPROTO_TCP, TCP_NODELAY, (const char*) &one, sizeof one);
}

static void addr_from(const struct sockaddr_storage* ss, ht_addr_t* out) {
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

ht_result_t ht_sock__peer(ht_socket_t s, ht_addr_t* out) {
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (getpeername((SOCKET) s, (struct sockaddr*) &ss, &len) != 0) return ht_win32__wsa_err(WSAGetLastError());
    addr_from(&ss, out);
    return 0;
}

size_t ht_addr__format(const ht_addr_t* a, char* out) {
    int af = a->family == HT_ADDR_IPV4 ? AF_INET : a->family == HT_ADDR_IPV6 ? AF_INET6 : 0;
    if (af == 0 || inet_ntop(af, a->addr, out, HT_ADDR_STRLEN) == nullptr) {
        out[0] = '-';
        out[1] = '\0';
        return 1;
    }
    return strlen(out);
}
