/* tests/windows/win_stop.c — delivers a console control event to a running
 * process, the way the console does when its window closes or the system
 * shuts down (tests/windows/stop_check.py drives it under Wine):
 *
 *   win_stop EVENT IMAGE   EVENT: close, logoff or shutdown; IMAGE: the
 *                          executable's name (e.g. ht.exe), every process
 *                          with that name gets the event
 *   win_stop service NAME  starts the (created) service NAME, prints
 *                          "running" once it runs, then on a line from
 *                          stdin asks it to stop (SERVICE_CONTROL_STOP),
 *                          prints "stop state N" (the state the service
 *                          reported: 3 is STOP_PENDING) and, once it is
 *                          STOPPED (at most 30 s), "stopped exit N" (its
 *                          Win32 exit code). Wine's sc.exe cannot query a
 *                          service, and Wine ends the session's services
 *                          when no other program runs: this one runs
 *                          throughout.
 *
 * GenerateConsoleCtrlEvent only sends Ctrl+C and Ctrl+Break, and only
 * within one console; the other events are what kernel32's CtrlRoutine
 * (exported, undocumented; the routine Windows itself starts in the target
 * for every control event) runs the handlers with, so this starts it in the
 * target with CreateRemoteThread. kernel32 is at the same address in every
 * process of a session, as Windows (and Wine) load it. Exits 0 if at least
 * one process got the event (the service stopped with exit code 0), 1
 * otherwise. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <tlhelp32.h>

#include <stdio.h>
#include <string.h>

#include <ht/types.h> /* nullptr before C23 */

/* SERVICE_STOPPED within 30 s: prints the exit code, returns it (or -1). */
static long wait_stopped(SC_HANDLE svc, SERVICE_STATUS* st) {
    for (int i = 0; i < 300 && QueryServiceStatus(svc, st) && st->dwCurrentState != SERVICE_STOPPED; i++)
        Sleep(100);
    if (st->dwCurrentState != SERVICE_STOPPED) {
        fprintf(stderr, "win_stop: still in state %lu after 30 s\n", (unsigned long) st->dwCurrentState);
        return -1;
    }
    printf("stopped exit %lu\n", (unsigned long) st->dwWin32ExitCode);
    fflush(stdout);
    return (long) st->dwWin32ExitCode;
}

static int run_service(const char* name) {
    SC_HANDLE scm = OpenSCManagerA(nullptr, nullptr, SC_MANAGER_CONNECT);
    SC_HANDLE svc = scm ? OpenServiceA(scm, name, SERVICE_START | SERVICE_STOP | SERVICE_QUERY_STATUS) : nullptr;
    if (!svc) {
        fprintf(stderr, "win_stop: service %s: error %lu\n", name, GetLastError());
        return 1;
    }
    int rc = 1;
    SERVICE_STATUS st = { 0 };
    if (!StartServiceA(svc, 0, nullptr)) {
        fprintf(stderr, "win_stop: start %s: error %lu\n", name, GetLastError());
        goto out;
    }
    for (int i = 0; i < 600 && QueryServiceStatus(svc, &st) && st.dwCurrentState == SERVICE_START_PENDING; i++)
        Sleep(100);
    if (st.dwCurrentState != SERVICE_RUNNING) {
        fprintf(stderr, "win_stop: %s in state %lu, not running\n", name, (unsigned long) st.dwCurrentState);
        (void) wait_stopped(svc, &st);
        goto out;
    }
    printf("running\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) goto out; /* EOF: leave it running, sc stop is the caller's */
    if (!ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
        fprintf(stderr, "win_stop: stop %s: error %lu\n", name, GetLastError());
        goto out;
    }
    printf("stop state %lu\n", (unsigned long) st.dwCurrentState);
    fflush(stdout);
    rc = wait_stopped(svc, &st) == 0 ? 0 : 1;
out:
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    return rc;
}

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "service") == 0) return run_service(argv[2]);
    static const struct {
        const char* name;
        DWORD ev;
    } events[] = { { "close", CTRL_CLOSE_EVENT }, { "logoff", CTRL_LOGOFF_EVENT }, { "shutdown", CTRL_SHUTDOWN_EVENT } };
    DWORD ev = (DWORD) -1;
    for (size_t i = 0; argc == 3 && i < sizeof events / sizeof events[0]; i++)
        if (strcmp(argv[1], events[i].name) == 0) ev = events[i].ev;
    if (ev == (DWORD) -1) {
        fprintf(stderr, "usage: win_stop close|logoff|shutdown IMAGE | win_stop service NAME\n");
        return 2;
    }
    LPTHREAD_START_ROUTINE ctrl =
        (LPTHREAD_START_ROUTINE) (void (*)(void)) GetProcAddress(GetModuleHandleA("kernel32.dll"), "CtrlRoutine");
    if (!ctrl) {
        fprintf(stderr, "win_stop: no kernel32!CtrlRoutine\n");
        return 1;
    }
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE) return 1;
    PROCESSENTRY32 pe = { .dwSize = sizeof pe };
    int sent = 0;
    for (BOOL ok = Process32First(snap, &pe); ok; ok = Process32Next(snap, &pe)) {
        if (_stricmp(pe.szExeFile, argv[2]) != 0) continue;
        HANDLE p = OpenProcess(PROCESS_CREATE_THREAD | PROCESS_QUERY_INFORMATION | PROCESS_VM_OPERATION |
                                   PROCESS_VM_WRITE | PROCESS_VM_READ,
                               FALSE, pe.th32ProcessID);
        HANDLE t = p ? CreateRemoteThread(p, nullptr, 0, ctrl, (void*) (ULONG_PTR) ev, 0, nullptr) : nullptr;
        if (t) {
            printf("win_stop: %s sent to %s (pid %lu)\n", argv[1], pe.szExeFile, (unsigned long) pe.th32ProcessID);
            sent++;
            CloseHandle(t);
        } else {
            fprintf(stderr, "win_stop: pid %lu: error %lu\n", (unsigned long) pe.th32ProcessID, GetLastError());
        }
        if (p) CloseHandle(p);
    }
    CloseHandle(snap);
    return sent ? 0 : 1;
}
