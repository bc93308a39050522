/* server/signal_wine.h — SIGTERM for a Windows build running under Wine
 * (signal_wine.c). Internal to signal_win32.c. */
#ifndef HT_SERVER_SIGNAL_WINE_H
#define HT_SERVER_SIGNAL_WINE_H

#include <stdbool.h>

/* Under Wine on Linux x86-64 only (a no-op returning false elsewhere, real
 * Windows included): installs a handler for the Unix process's SIGTERM,
 * which Wine otherwise leaves at its default action (the process dies, no
 * Windows code runs). The handler marks the request and sends the process
 * SIGINT, which Wine delivers as CTRL_C_EVENT to the console control
 * handlers; the handler then asks ht_wine__take_sigterm whether that event
 * stands for a SIGTERM. Returns whether the handler is installed. */
bool ht_wine__catch_sigterm(void);
/* Restores SIGTERM's default action (if ht_wine__catch_sigterm installed
 * the handler). */
void ht_wine__release_sigterm(void);
/* Whether a SIGTERM is pending (and clears it): called for CTRL_C_EVENT. */
bool ht_wine__take_sigterm(void);
/* A stop has begun (any way): from now on the handler ends the process
 * itself on SIGTERM, exit status 143, as the default action would. A
 * forced stop through Windows (TerminateProcess from a control thread)
 * can hang inside Wine's own process exit when it ends threads that are
 * blocked in the host's system calls; the host's exit_group cannot. */
void ht_wine__stop_begun(void);

#endif /* HT_SERVER_SIGNAL_WINE_H */
