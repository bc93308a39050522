/* server/signal_win32.c — ht/signal.h on Windows, which has no SIGTERM: a
 * request to stop reaches a process in one of these ways, and each one
 * begins the same graceful shutdown (ht_server__shutdown):
 *   - console control events (SetConsoleCtrlHandler): Ctrl+C and
 *     Ctrl+Break count as SIGINT; the console closing (CTRL_CLOSE_EVENT) and
 *     system shutdown (CTRL_SHUTDOWN_EVENT) as SIGTERM. CTRL_LOGOFF_EVENT
 *     is ignored: only services receive it, for any user's log-off, which
 *     is no reason for a server to stop;
 *   - WM_CLOSE to a top-level window (taskkill without /F, a process
 *     manager's "end task"): SIGTERM. A hidden window on a thread of its
 *     own receives it. Because user32 is then loaded, Windows sends this
 *     process WM_QUERYENDSESSION/WM_ENDSESSION at log-off and shutdown
 *     instead of the console events, so WM_ENDSESSION counts as SIGTERM too;
 *   - under Wine, the Unix SIGTERM (signal_wine.c), as SIGTERM.
 * A service's stop (SERVICE_CONTROL_STOP) goes to the service's own control
 * handler, which calls ht_server__shutdown itself (examples/ht).
 *
 * The first request begins the drain. A second Ctrl+C, Ctrl+Break, WM_CLOSE
 * or SIGTERM ends the process at once (TerminateProcess with 128 + signo,
 * as a shell reports a killed process). Not ExitProcess: it runs every DLL's
 * detach code, which may wait on locks (the CRT's streams, the heap) held by
 * the threads it has just ended. Under Wine even TerminateProcess can hang,
 * in Wine's own process exit, so there a SIGTERM after the first is ended
 * by the host (signal_wine.h). The console close and the end of the
 * session never force: Windows ends the process as soon as their handler
 * returns, so the handler does not return. It begins the drain and waits;
 * main returning ends the process, with main's exit status, and Windows
 * bounds the wait (5 s after a console close; its shutdown timeout).
 *
 * Windows runs control handlers on threads of their own, so unlike a POSIX
 * handler this one interrupts nothing; it still only uses atomics and
 * ht_server__shutdown (ht_loop__wake). */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <signal.h>
#include <stdatomic.h>

#include <ht/signal.h>

#include "signal_wine.h"

static _Atomic(ht_server_t*) g_server_;
static _Atomic(uint32_t) g_count_;
/* A handler is waiting for the process to end (see hold_). */
static atomic_bool g_holding_;

/* The hidden window's thread, its window, and the message that ends it. */
static HANDLE g_win_thread_;
static _Atomic(HWND) g_hwnd_;
#define HT_WM_QUIT_ (WM_APP + 0x4854)

/* One stop request: the first begins the shutdown (and calls the server's
 * signal_handler); a later one ends the process if may_force. */
static void request_(ht_server_t* s, int signo, bool may_force) {
    if (atomic_fetch_add(&g_count_, 1) > 0) {
        if (may_force) (void) TerminateProcess(GetCurrentProcess(), 128u + (unsigned) signo);
        return;
    }
    ht_wine__stop_begun();
    atomic_fetch_add(&s->signals_, 1);
    ht_server__shutdown(s);
    if (s->signal_handler) s->signal_handler(s, signo);
}

/* For events after which Windows ends the process: wait for main to end it
 * once the drain is done (Windows ends it anyway at its own deadline). */
_Noreturn static void hold_(void) {
    atomic_store(&g_holding_, true);
    for (;;) Sleep(INFINITE);
}

static BOOL WINAPI on_ctrl_(DWORD ev) {
    ht_server_t* s = atomic_load(&g_server_);
    if (s == nullptr) return FALSE; /* the default: end the process */
    switch (ev) {
    case CTRL_C_EVENT:
        request_(s, ht_wine__take_sigterm() ? SIGTERM : SIGINT, true);
        return TRUE;
    case CTRL_BREAK_EVENT: request_(s, SIGINT, true); return TRUE;
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT: request_(s, SIGTERM, false); hold_(); /* does not return */
    case CTRL_LOGOFF_EVENT: return TRUE; /* handled: not a reason to stop */
    default: return FALSE;
    }
}

static LRESULT CALLBACK on_message_(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp) {
    ht_server_t* s = atomic_load(&g_server_);
    switch (msg) {
    case WM_CLOSE: /* not DestroyWindow: a second WM_CLOSE forces */
        if (s) request_(s, SIGTERM, true);
        return 0;
    case WM_QUERYENDSESSION: return TRUE;
    case WM_ENDSESSION:
        if (wp && s) {
            request_(s, SIGTERM, false);
            hold_();
        }
        return 0;
    case HT_WM_QUIT_: DestroyWindow(hwnd); return 0;
    case WM_DESTROY: PostQuitMessage(0); return 0;
    default: return DefWindowProcW(hwnd, msg, wp, lp);
    }
}

/* The hidden window's thread: creates the window, sets *ready, runs its
 * message loop until HT_WM_QUIT_. Without a desktop (a service, Wine with
 * no display driver) the window cannot be made; the thread then ends and
 * the other ways to stop remain. */
static DWORD WINAPI window_main_(void* ready) {
    HINSTANCE inst = GetModuleHandleW(nullptr);
    WNDCLASSW wc = { .lpfnWndProc = on_message_, .hInstance = inst, .lpszClassName = L"hachettp.signal" };
    (void) RegisterClassW(&wc); /* may exist already: a window from an earlier install */
    /* Top-level (not HWND_MESSAGE: taskkill only enumerates top-level
     * windows), never shown. */
    HWND hwnd = CreateWindowExW(0, wc.lpszClassName, L"hachettp", WS_OVERLAPPED, 0, 0, 0, 0, nullptr,
                                nullptr, inst, nullptr);
    atomic_store(&g_hwnd_, hwnd);
    SetEvent((HANDLE) ready);
    if (!hwnd) return 0;
    MSG m;
    while (GetMessageW(&m, nullptr, 0, 0) > 0) DispatchMessageW(&m);
    return 0;
}

ht_result_t ht_signal__install_default(ht_server_t* server) {
    atomic_store(&g_server_, server);
    atomic_store(&g_count_, 0);
    if (!SetConsoleCtrlHandler(on_ctrl_, TRUE)) return -EINVAL;
    (void) ht_wine__catch_sigterm();
    if (!g_win_thread_) {
        /* Waits for the window, so a WM_CLOSE right after this returns is
         * not lost (bounded: a stuck window station must not stop start). */
        HANDLE ready = CreateEventW(nullptr, TRUE, FALSE, nullptr);
        if (ready) {
            g_win_thread_ = CreateThread(nullptr, 64 * 1024, window_main_, ready, 0, nullptr);
            if (g_win_thread_) (void) WaitForSingleObject(ready, 5000);
            CloseHandle(ready);
        }
    }
    return 0;
}

void ht_signal__uninstall(void) {
    atomic_store(&g_server_, nullptr);
    ht_wine__release_sigterm();
    if (g_win_thread_) {
        HWND hwnd = atomic_exchange(&g_hwnd_, nullptr);
        if (hwnd && !atomic_load(&g_holding_) && PostMessageW(hwnd, HT_WM_QUIT_, 0, 0))
            (void) WaitForSingleObject(g_win_thread_, 5000);
        CloseHandle(g_win_thread_);
        g_win_thread_ = nullptr;
    }
    /* A held handler may hold the console's handler lock (Wine does):
     * removing the handler would then wait for it forever. It ends with the
     * process, which is on its way out. */
    if (!atomic_load(&g_holding_)) (void) SetConsoleCtrlHandler(on_ctrl_, FALSE);
}
