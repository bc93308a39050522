/* tests/windows/check_signal_win32.c — server/signal_win32.c in process,
 * under Wine (tests/windows/run.sh, which gives the prefix a display driver
 * that works headless, so windows can be made): the hidden window exists
 * while installed and is gone after ht_signal__uninstall; WM_CLOSE and
 * Ctrl+Break begin the shutdown (SIGTERM, SIGINT) once; a log-off event
 * does not; WM_ENDSESSION does, and its handler does not return (Windows
 * would end the process then). Console events are raised with kernel32's CtrlRoutine on a
 * thread here, as Windows does (win_stop.c says more). What ends the process
 * (a second request, the close and shutdown events) is stop_check.py's. */
#include <check.h>

#include <windows.h>

#include <signal.h>
#include <stdatomic.h>

#include <ht/signal.h>

static atomic_int last_signo;
static atomic_int calls;

static void on_signal(ht_server_t* s, int signo) {
    (void) s;
    atomic_store(&last_signo, signo);
    atomic_fetch_add(&calls, 1);
}

typedef struct {
    HWND hwnd;
} found_t;

static BOOL CALLBACK find_ours(HWND hwnd, LPARAM lp) {
    DWORD pid = 0;
    GetWindowThreadProcessId(hwnd, &pid);
    wchar_t cls[64];
    if (pid == GetCurrentProcessId() && GetClassNameW(hwnd, cls, 64) && wcscmp(cls, L"hachettp.signal") == 0) {
        ((found_t*) lp)->hwnd = hwnd;
        return FALSE;
    }
    return TRUE;
}

/* The process's hidden top-level window (as taskkill finds it), or null. */
static HWND our_window(void) {
    found_t f = { nullptr };
    EnumWindows(find_ours, (LPARAM) &f);
    return f.hwnd;
}

/* Runs the console handlers for ev the way Windows does: CtrlRoutine on a
 * thread of its own; waits for it. */
static void ctrl_event(DWORD ev) {
    LPTHREAD_START_ROUTINE ctrl =
        (LPTHREAD_START_ROUTINE) (void (*)(void)) GetProcAddress(GetModuleHandleA("kernel32.dll"), "CtrlRoutine");
    ck_assert_ptr_nonnull((void*) ctrl);
    HANDLE t = CreateThread(nullptr, 0, ctrl, (void*) (ULONG_PTR) ev, 0, nullptr);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
    CloseHandle(t);
}

static bool wait_shutdown(const ht_server_t* s) {
    for (int i = 0; i < 200 && !ht_server__shutting_down(s); i++) Sleep(10);
    return ht_server__shutting_down(s);
}

START_TEST(wm_close_drains_and_uninstall_removes_the_window) {
    for (int round = 0; round < 2; round++) { /* installable again after uninstall */
        ht_config_t cfg = { 0 };
        ht_server_t server = { .config = &cfg, .signal_handler = on_signal };
        atomic_store(&calls, 0);
        ck_assert_int_eq(ht_signal__install_default(&server), 0);
        HWND hwnd = our_window();
        ck_assert_ptr_nonnull(hwnd); /* there when install returns: taskkill right after start works */
        ck_assert(PostMessageW(hwnd, WM_CLOSE, 0, 0));
        ck_assert(wait_shutdown(&server));
        ck_assert_int_eq(atomic_load(&last_signo), SIGTERM);
        ck_assert_int_eq(atomic_load(&calls), 1);
        ck_assert_ptr_eq(our_window(), hwnd); /* kept: a second WM_CLOSE forces */
        ht_signal__uninstall();
        ck_assert_ptr_null(our_window());
    }
}
END_TEST

START_TEST(logoff_is_ignored_ctrl_break_drains) {
    ht_config_t cfg = { 0 };
    ht_server_t server = { .config = &cfg, .signal_handler = on_signal };
    atomic_store(&calls, 0);
    ck_assert_int_eq(ht_signal__install_default(&server), 0);
    ctrl_event(CTRL_LOGOFF_EVENT);
    Sleep(50);
    ck_assert(!ht_server__shutting_down(&server));
    ck_assert_int_eq(atomic_load(&calls), 0);
    ctrl_event(CTRL_BREAK_EVENT);
    ck_assert(wait_shutdown(&server));
    ck_assert_int_eq(atomic_load(&last_signo), SIGINT);
    ck_assert_int_eq(atomic_load(&calls), 1);
    ht_signal__uninstall();
}
END_TEST

/* Last: the window's thread stays held for the rest of the process. */
START_TEST(endsession_drains_and_holds) {
    ht_config_t cfg = { 0 };
    ht_server_t server = { .config = &cfg, .signal_handler = on_signal };
    atomic_store(&calls, 0);
    ck_assert_int_eq(ht_signal__install_default(&server), 0);
    HWND hwnd = our_window();
    ck_assert_ptr_nonnull(hwnd);
    DWORD_PTR ok = 0;
    ck_assert(SendMessageTimeoutW(hwnd, WM_QUERYENDSESSION, 0, 0, SMTO_BLOCK, 2000, &ok));
    ck_assert(ok == TRUE); /* the session may end */
    ck_assert(PostMessageW(hwnd, WM_ENDSESSION, TRUE, 0));
    ck_assert(wait_shutdown(&server));
    ck_assert_int_eq(atomic_load(&last_signo), SIGTERM);
    /* Still inside WM_ENDSESSION: nothing else is answered. */
    ck_assert(!SendMessageTimeoutW(hwnd, WM_NULL, 0, 0, SMTO_BLOCK, 300, &ok));
    DWORD t0 = GetTickCount();
    ht_signal__uninstall(); /* does not wait for the held thread */
    ck_assert_uint_lt(GetTickCount() - t0, 1000);
}
END_TEST

int main(void) {
    Suite* s = suite_create("signal-win32");
    TCase* tc = tcase_create("signal");
    tcase_add_test(tc, wm_close_drains_and_uninstall_removes_the_window);
    tcase_add_test(tc, logoff_is_ignored_ctrl_break_drains);
    tcase_add_test(tc, endsession_drains_and_holds);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
