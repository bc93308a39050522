/* server/sock.h — internal: the socket calls the server makes outside the
 * event loop, one implementation per platform (sock_posix.c, sock_win32.c;
 * CMake compiles exactly one), so server.c, conn.c and request.c stay
 * portable. Sockets are ht_socket_t (ht/net.h). */
#ifndef HT_SERVER_SOCK_H
#define HT_SERVER_SOCK_H

#include <ht/net.h>

/* A non-blocking, close-on-exec (Windows: non-inheritable) listening TCP
 * socket with SO_REUSEADDR (POSIX: and SO_REUSEPORT) on host:port. host: an
 * IPv4 or IPv6 literal ("127.0.0.1", "::1", "[::1]"), or nullptr for every
 * interface (dual-stack IPv6 where available, else IPv4). *bound_port gets
 * the port actually bound (port 0 picks one). 0, a negated errno
 * (-EADDRINUSE, ...), or -EINVAL for a host that is not a literal. */
ht_result_t ht_sock__listen(const char* host, uint16_t port, int32_t backlog, ht_socket_t* out,
                            uint16_t* bound_port);
/* Takes a socket the caller bound and put in the listening state (socket
 * activation, a Unix socket): -EINVAL if it is not listening; makes it
 * non-blocking; *bound_port gets its port (0 if not IP). */
ht_result_t ht_sock__adopt(ht_socket_t s, uint16_t* bound_port);
/* Closes s (errors are ignored). */
void ht_sock__close(ht_socket_t s);
/* Half-closes the sending side (the peer reads EOF after what was sent). */
void ht_sock__shutdown_write(ht_socket_t s);
/* TCP_NODELAY on an accepted socket (best effort). */
void ht_sock__nodelay(ht_socket_t s);
/* Raises an accepted socket's send buffer (SO_SNDBUF) to want bytes, as the
 * kernel counts them, before a file body of len bytes, where that gives it
 * more than the kernel's own tuning would: len and want are over the largest
 * buffer that tuning grows to (Linux: net.ipv4.tcp_wmem's third field), and
 * the system lets SO_SNDBUF past it (net.core.wmem_max, which the kernel
 * doubles; want is capped there). Both limits are read once per process.
 * Setting SO_SNDBUF ends the kernel's tuning for that socket: callers do it
 * once per connection. Whether it was set (best effort; false elsewhere
 * than Linux). */
bool ht_sock__grow_sndbuf(ht_socket_t s, uint64_t len, uint32_t want);
/* The connected peer's address: 0 or a negated errno. */
ht_result_t ht_sock__peer(ht_socket_t s, ht_addr_t* out);

#endif /* HT_SERVER_SOCK_H */
