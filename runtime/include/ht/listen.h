/* ht/listen.h — listening sockets made outside ht_server__listen: those a
 * service manager passes (socket activation), Unix-domain sockets, and TCP
 * on a host name. Each gives a listening socket for ht_server__adopt, which
 * then owns it.
 *
 *   ht_listen_fd_t fds[16];
 *   int32_t n = ht_listen__activation(fds, 16, true);
 *   for (int32_t i = 0; i < n; i++) ht_server__adopt(&servers[i], fds[i].fd);
 *
 * POSIX only but ht_listen__tcp; on Windows the others return -ENOTSUP
 * (ht_listen__activation: only when LISTEN_FDS is set, else 0).
 */
#ifndef HT_LISTEN_H
#define HT_LISTEN_H

#include <ht/net.h>

HT_EXTERN_C_BEGIN

/* The first descriptor a service manager passes (SD_LISTEN_FDS_START). */
#define HT_LISTEN_FDS_START 3

typedef struct ht_listen_fd {
    ht_socket_t fd;
    char        name[64]; /* its LISTEN_FDNAMES entry ("unknown" when none) */
} ht_listen_fd_t;

/* Socket activation, systemd's protocol (sd_listen_fds(3) semantics, no
 * libsystemd): when LISTEN_PID is this process, LISTEN_FDS=n sockets are
 * descriptors 3 .. 3+n-1, named by the colon-separated LISTEN_FDNAMES.
 * Each is made close-on-exec; unset_env removes the three variables (so
 * that children do not take them for theirs). Returns n (0: none passed,
 * or passed to another process), -E2BIG when n > cap (none is returned),
 * -EINVAL for a malformed variable, -EBADF when a passed descriptor is not
 * open. The sockets are the caller's; ht_server__adopt refuses what is not
 * a listening stream socket (Accept=yes or datagram units). */
int32_t ht_listen__activation(ht_listen_fd_t* out, uint32_t cap, bool unset_env);

/* A listening Unix-domain stream socket at path (non-blocking,
 * close-on-exec). A stale socket file there (nothing accepts on it) is
 * removed first; a live one is -EADDRINUSE, and so is anything that is not
 * a socket (never removed). mode >= 0: the socket file's permissions, set
 * before listening (e.g. 0660 for a proxy in the same group); < 0: as
 * bind(2) made it (0777 & ~umask). -ENAMETOOLONG when path does not fit
 * sockaddr_un. ht_listen__unix_remove(path) when done. */
ht_result_t ht_listen__unix(const char* path, int32_t mode, int32_t backlog, ht_socket_t* out);
/* Removes the socket file at path if it is a socket (at exit). */
void ht_listen__unix_remove(const char* path);

/* A listening TCP socket on host:port like ht_server__listen's (non-blocking,
 * close-on-exec, SO_REUSEADDR, SO_REUSEPORT), where host may also be a name
 * ("localhost", "web.internal"): resolved with getaddrinfo, the first
 * address that binds is taken. nullptr: every interface. -ENXIO when the name
 * does not resolve; *bound_port gets the port bound (port 0 picks one).
 * Windows: literals only (-EINVAL for a name). */
ht_result_t ht_listen__tcp(const char* host, uint16_t port, int32_t backlog, ht_socket_t* out,
                           uint16_t* bound_port);

HT_EXTERN_C_END

#endif /* HT_LISTEN_H */
