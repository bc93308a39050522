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
#include "server/sock_addr.h"

static ht_result_t bind_listen(const struct sockaddr_storage* ss, socklen_t len, bool dual, int32_t backlog,
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
    socklen_t len = 0;
    SOCKET s = INVALID_SOCKET;
    if (host != nullptr) {
        if ((r = parse_host(host, port, &ss, &len)) < 0) return r;
        if ((r = bind_listen(&ss, len, false, backlog, &s)) < 0) return r;
    } else {
        len = any_addr(&ss, AF_INET6, port);
        r = bind_listen(&ss, len, true, backlog, &s);
        if (no_ipv6(r)) {
            len = any_addr(&ss, AF_INET, port);
            r = bind_listen(&ss, len, false, backlog, &s);
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
    *bound_port = port_of(&bound);
    *out = (ht_socket_t) s;
    return 0;
}

ht_result_t ht_sock__adopt(ht_socket_t s, uint16_t* bound_port) {
    ht_result_t r = ht_win32__wsa_init();
    if (r) return r;
    BOOL listening = FALSE;
    int n = sizeof listening;
    if (getsockopt((SOCKET) s, SOL_SOCKET, SO_ACCEPTCONN, (char*) &listening, &n) != 0)
        return ht_win32__wsa_err(WSAGetLastError());
    if (!listening) return -EINVAL;
    u_long nb = 1;
    if (ioctlsocket((SOCKET) s, FIONBIO, &nb) != 0) return ht_win32__wsa_err(WSAGetLastError());
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    if (getsockname((SOCKET) s, (struct sockaddr*) &bound, &blen) != 0)
        return ht_win32__wsa_err(WSAGetLastError());
    *bound_port = port_of(&bound);
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

/* Windows tunes its own send buffers (ideal send backlog) and TransmitFile
 * sends from the file: nothing to raise. */
bool ht_sock__grow_sndbuf(ht_socket_t s, uint64_t len, uint32_t want) {
    (void) s, (void) len, (void) want;
    return false;
}

ht_result_t ht_sock__peer(ht_socket_t s, ht_addr_t* out) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername((SOCKET) s, (struct sockaddr*) &ss, &len) != 0) return ht_win32__wsa_err(WSAGetLastError());
    addr_from(&ss, out);
    return 0;
}

size_t ht_addr__format(const ht_addr_t* a, char* out) { return addr_format(a, out); }
