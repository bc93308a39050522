/* ht/net.h — the platform's socket and file handle types.
 *
 * POSIX: a file descriptor (int32_t), HT_SOCKET_INVALID is -1. Windows: a
 * Winsock SOCKET (uintptr_t), HT_SOCKET_INVALID is INVALID_SOCKET. The rest
 * of the API only passes ht_socket_t around. Likewise ht_file_t, an open
 * file (POSIX: a file descriptor; Windows: a HANDLE), here rather than in
 * ht/fs.h so that ht/loop.h (sendfile) needs nothing of the file module.
 */
#ifndef HT_NET_H
#define HT_NET_H

#include <ht/types.h>

HT_EXTERN_C_BEGIN

#if defined(HT_OS_POSIX)
typedef int32_t ht_socket_t;
#  define HT_SOCKET_INVALID ((ht_socket_t) -1)
#else
typedef uintptr_t ht_socket_t;
#  define HT_SOCKET_INVALID ((ht_socket_t) ~(uintptr_t) 0)
#endif

#if defined(HT_OS_POSIX)
typedef int32_t ht_file_t;
#  define HT_FILE_INVALID ((ht_file_t) -1)
#else
typedef uintptr_t ht_file_t; /* HANDLE */
#  define HT_FILE_INVALID ((ht_file_t) ~(uintptr_t) 0)
#endif

/* A peer's IP address and port, platform-neutral (20 bytes; no sockaddr
 * on the public surface). An IPv4 client of a dual-stack socket
 * (::ffff:a.b.c.d) is given as IPv4. */
typedef enum ht_addr_family {
    HT_ADDR_NONE = 0, /* unknown, or not an IP socket (a Unix socket pair) */
    HT_ADDR_IPV4 = 4, /* addr[0, 4), network byte order */
    HT_ADDR_IPV6 = 6, /* addr[0, 16) */
} ht_addr_family_t;

typedef struct ht_addr {
    uint8_t  family; /* ht_addr_family_t */
    uint16_t port;   /* host byte order */
    uint8_t  addr[16];
} ht_addr_t;

/* Longest text ht_addr__format writes, NUL included (INET6_ADDRSTRLEN). */
#define HT_ADDR_STRLEN 46

/* The address (without the port) as text: "127.0.0.1", "2001:db8::1"
 * (RFC 5952 form), or "-" for HT_ADDR_NONE, the Common Log Format's
 * "unknown". out: at least HT_ADDR_STRLEN bytes, NUL-terminated; returns the
 * length. */
size_t ht_addr__format(const ht_addr_t* a, char* out);

HT_EXTERN_C_END

#endif /* HT_NET_H */
