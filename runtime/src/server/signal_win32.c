/* server/signal_win32.c — ht/signal.h on Windows: a console control handler
 * (SetConsoleCtrlHandler) stands in for SIGINT/SIGTERM. Ctrl+C and
 * Ctrl+Break map to SIGINT, closing the console, log-off and shutdown to
 * SIGTERM; the first event begins the graceful shutdown, a second one ends
 * the process at once (ExitProcess with 128 + signo, as a shell reports a
 * killed process). Windows runs the handler on a thread of its own, so
 * unlike a POSIX handler it interrupts nothing; it still only uses atomics
 * and ht_loop__wake. For CLOSE/LOGOFF/SHUTDOWN events Windows ends the
 * process when the handler returns, so the handler then waits (up to 5 s,
 * inside the system's own limit) for the workers to finish. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <signal.h>
#include <stdatomic.h>

#include <ht/signal.h>

static _Atomic(ht_server_t*) g_server_;
static _Atomic(uint32_t) g_count_;

static BOOL WINAPI on_ctrl_(DWORD ev) {
    int signo = (ev == CTRL_C_EVENT || ev == CTRL_BREAK_EVENT) ? SIGINT : SIGTERM;
    uint32_t n = atomic_fetch_add(&g_count_, 1);
    ht_server_t* s = atomic_load(&g_server_);
    if (s == nullptr) return FALSE; /* the default: end the process */
    if (n > 0) ExitProcess(128u + (unsigned) signo);
    atomic_fetch_add(&s->signals_, 1);
    ht_server__shutdown(s);
    if (s->signal_handler) s->signal_handler(s, signo);
    if (signo == SIGTERM) Sleep(5000);
    return TRUE;
}

ht_result_t ht_signal__install_default(ht_server_t* server) {
    atomic_store(&g_server_, server);
    atomic_store(&g_count_, 0);
    return SetConsoleCtrlHandler(on_ctrl_, TRUE) ? 0 : -EINVAL;
}

void ht_signal__uninstall(void) {
    (void) SetConsoleCtrlHandler(on_ctrl_, FALSE);
    atomic_store(&g_server_, nullptr);
}
