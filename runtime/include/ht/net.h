/* ht/net.h — the platform's socket handle type.
 *
 * POSIX: a file descriptor (int32_t), HT_SOCKET_INVALID is -1. Windows would
 * use SOCKET; the rest of the API only passes ht_socket_t around.
 */
#ifndef HT_NET_H
#define HT_NET_H

#include <ht/types.h>

#if defined(HT_OS_POSIX)
typedef int32_t ht_socket_t;
#  define HT_SOCKET_INVALID ((ht_socket_t) -1)
#else
typedef uintptr_t ht_socket_t;
#  define HT_SOCKET_INVALID ((ht_socket_t) ~(uintptr_t) 0)
#endif

#endif /* HT_NET_H */
