/* examples/ht/service_win32.c — ht as a Windows service (service.h).
 *
 * StartServiceCtrlDispatcher blocks the thread that calls it until the
 * service stops, so it runs on a thread of its own and main goes on as
 * usual. Its ServiceMain registers the control handler, reports
 * START_PENDING, signals service_start and waits for service_stopped.
 * SERVICE_CONTROL_STOP, _SHUTDOWN and _PRESHUTDOWN report STOP_PENDING and
 * call ht_server__shutdown: ht stops accepting, finishes what is in flight
 * and main reports STOPPED once everything is closed. The SCM waits for
 * STOPPED as long as the wait hints say (and, at system shutdown, until its
 * preshutdown timeout; 3 minutes by default). A repeated stop does not
 * force: the SCM ends the process itself if the service overruns. */
#include "service.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

static wchar_t g_name_[257];
static SERVICE_STATUS_HANDLE g_status_;
static SERVICE_STATUS g_st_; /* under g_lock_: the handler and main report */
static SRWLOCK g_lock_ = SRWLOCK_INIT;
static ht_server_t* g_server_;
static HANDLE g_started_, g_done_, g_thread_;
static atomic_bool g_ok_;

/* The drain is bounded by the server's send/drain timeouts; the hint only
 * tells the SCM how long to wait between two reports before it gives up. */
#define STOP_WAIT_HINT_MS 30000u

static void report_(DWORD state, DWORD exit_code) {
    AcquireSRWLockExclusive(&g_lock_);
    g_st_.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    g_st_.dwCurrentState = state;
    g_st_.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PRESHUTDOWN : 0;
    g_st_.dwWin32ExitCode = exit_code;
    g_st_.dwWaitHint = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING ? STOP_WAIT_HINT_MS : 0;
    g_st_.dwCheckPoint = g_st_.dwWaitHint ? g_st_.dwCheckPoint + 1 : 0;
    (void) SetServiceStatus(g_status_, &g_st_);
    ReleaseSRWLockExclusive(&g_lock_);
}

static DWORD WINAPI on_control_(DWORD ctl, DWORD type, void* data, void* ctx) {
    (void) type, (void) data, (void) ctx;
    switch (ctl) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
    case SERVICE_CONTROL_PRESHUTDOWN:
        /* Also when a console event (CTRL_SHUTDOWN_EVENT reaches services
         * too) began the drain already: the SCM waits on STOP_PENDING. A
         * repeated shutdown only wakes the loops again. */
        report_(SERVICE_STOP_PENDING, NO_ERROR);
        ht_server__shutdown(g_server_);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE: return NO_ERROR;
    default: return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

static void WINAPI service_main_(DWORD argc, wchar_t** argv) {
    (void) argc, (void) argv;
    g_status_ = RegisterServiceCtrlHandlerExW(g_name_, on_control_, nullptr);
    if (g_status_) {
        report_(SERVICE_START_PENDING, NO_ERROR);
        atomic_store(&g_ok_, true);
    }
    SetEvent(g_started_);
    if (g_status_) (void) WaitForSingleObject(g_done_, INFINITE);
}

static DWORD WINAPI dispatcher_main_(void* unused) {
    (void) unused;
    SERVICE_TABLE_ENTRYW table[] = { { g_name_, service_main_ }, { nullptr, nullptr } };
    DWORD err = StartServiceCtrlDispatcherW(table) ? 0 : GetLastError();
    SetEvent(g_started_); /* it failed before ServiceMain, or the service ended */
    return err;
}

ht_result_t service_start(const char* name, ht_server_t* server) {
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, g_name_, 257) <= 1) return -EINVAL;
    g_server_ = server;
    g_started_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    g_done_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (!g_started_ || !g_done_) return -ENOMEM;
    g_thread_ = CreateThread(nullptr, 0, dispatcher_main_, nullptr, 0, nullptr);
    if (!g_thread_) return -ENOMEM;
    (void) WaitForSingleObject(g_started_, INFINITE);
    if (atomic_load(&g_ok_)) return 0;
    (void) WaitForSingleObject(g_thread_, INFINITE);
    DWORD err = 0;
    (void) GetExitCodeThread(g_thread_, &err);
    CloseHandle(g_thread_);
    g_thread_ = nullptr;
    return err == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT ? -ENOTCONN : -EIO;
}

void service_running(void) {
    report_(SERVICE_RUNNING, NO_ERROR);
}

void service_stopped(uint32_t exit_code) {
    /* ERROR_SERVICE_SPECIFIC_ERROR would need the code in another field;
     * a generic failure is enough for the SCM's log and recovery actions. */
    report_(SERVICE_STOPPED, exit_code ? ERROR_PROCESS_ABORTED : NO_ERROR);
    SetEvent(g_done_);
    /* The dispatcher returns once ServiceMain has; bounded all the same. */
    (void) WaitForSingleObject(g_thread_, 10000);
    CloseHandle(g_thread_);
    g_thread_ = nullptr;
}
