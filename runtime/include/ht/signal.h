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
 * Windows has no SIGTERM; every way it asks a process to stop begins the
 * same graceful shutdown (signo is passed as shown):
 *   - console control events: Ctrl+C and Ctrl+Break (SIGINT), the console
 *     closing and system shutdown (SIGTERM); log-off is ignored (only
 *     services get it, for any user's log-off);
 *   - WM_CLOSE to the process's windows (taskkill without /F): SIGTERM. The
 *     install starts a thread with a hidden top-level window for it (none
 *     where there is no desktop, e.g. in a service); with user32 loaded,
 *     log-off and shutdown arrive as WM_ENDSESSION, also SIGTERM;
 *   - under Wine on Linux, the Unix SIGTERM, which Wine itself would let
 *     kill the process: SIGTERM.
 * These run on threads of their own. A second Ctrl+C, Ctrl+Break, WM_CLOSE
 * or SIGTERM ends the process at once (exit status 128 + signo). After the
 * console close and the end of the session Windows ends the process when
 * the handler returns, so it does not return: main's return ends the
 * process once the drain is done, within Windows' own limit (5 s after a
 * console close). A service's stop request reaches the service's control
 * handler, not this one: that handler calls ht_server__shutdown. There is
 * no SIGPIPE to ignore. ht_signal__uninstall also ends the window's thread.
 */
#ifndef HT_SIGNAL_H
#define HT_SIGNAL_H

#include <ht/server.h>

HT_EXTERN_C_BEGIN

/* Returns 0 or a negated errno from sigaction. */
ht_result_t ht_signal__install_default(ht_server_t* server);
/* Restores the default actions and forgets the server. */
void ht_signal__uninstall(void);

HT_EXTERN_C_END

#endif /* HT_SIGNAL_H */
