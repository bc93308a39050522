/* listener.h — where ht listens: the socket systemd passed (LISTEN_FDS),
 * a Unix-domain socket ("unix:/path"), an IP literal or a host name. */
#ifndef HT_EXAMPLE_LISTENER_H
#define HT_EXAMPLE_LISTENER_H

#include <ht/ht.h>

/* Opens server's listening socket: the socket passed by socket activation
 * if there is one (then bind and port are not used), else bind: "unix:PATH"
 * (a stale socket file there is replaced; listener_close removes it), an
 * IPv4/IPv6 literal, a host name (getaddrinfo), or nullptr (every
 * interface). busy(host, port) tells whether a TCP port is served by
 * another process already. Returns 0, -ECANCELED when it has printed why
 * not (activation, Unix socket), or a negated errno for host:port (-ENXIO:
 * the name does not resolve). */
ht_result_t listener_open(ht_server_t* server, const char* bind, uint16_t port,
                          bool (*busy)(const char* host, uint16_t port));
/* What server listens on, for the "serving" line: "http://127.0.0.1:8080/",
 * "unix:/run/ht.sock", ... (a static buffer). */
const char* listener_where(const ht_server_t* server, const char* bind);
/* Removes the Unix socket file listener_open made, if any (at exit). */
void listener_close(void);
/* Forgets that file without removing it: another process serves it now
 * (a takeover). */
void listener_forget(void);
/* Serves a listening socket inherited from the process this one takes over
 * from; with bind "unix:PATH" the file is this process's to remove at exit. */
ht_result_t listener_adopt(ht_server_t* server, ht_socket_t s, const char* bind);

#endif
