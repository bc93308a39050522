/* ht/signal.h — shutdown signal wiring.
 *
 * ht_signal__install_default(&server) installs SIGINT and SIGTERM handlers:
 *   - first signal: ht_server__shutdown(server) — every acceptor stops
 *     accepting, closes idle connections, lets in-flight responses finish and
 *     then stops its loop — and then server->signal_handler(server, signo)
 *     if set (in signal context: async-signal-safe work only);
 *   - second signal: the process exits at once (the default action of that
 *     signal is restored and it is raised again).
 * It also ignores SIGPIPE (sends use MSG_NOSIGNAL anyway; this covers user
 * code writing to closed pipes). The handler only touches atomics and calls
 * ht_loop__wake, so it is async-signal-safe. One server at a time: installing
 * for another server replaces the first.
 *
 * Windows: a console control handler (SetConsoleCtrlHandler) instead: Ctrl+C
 * and Ctrl+Break count as SIGINT, closing the console, log-off and shutdown
 * as SIGTERM (signo is passed as such); it runs on a thread of its own, and a
 * second event ends the process (exit status 128 + signo). There is no
 * SIGPIPE to ignore.
 */
#ifndef HT_SIGNAL_H
#define HT_SIGNAL_H

#include <ht/server.h>

/* Returns 0 or a negated errno from sigaction. */
ht_result_t ht_signal__install_default(ht_server_t* server);
/* Restores the default actions and forgets the server. */
void ht_signal__uninstall(void);

#endif /* HT_SIGNAL_H */
