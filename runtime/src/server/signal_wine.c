/* server/signal_wine.c — SIGTERM under Wine (see signal_wine.h).
 *
 * Wine maps the Unix SIGINT to CTRL_C_EVENT but installs nothing for
 * SIGTERM, so `kill PID` (docker stop, systemd, a supervisor) ends a
 * Windows program at once, in-flight responses cut, exit status 143. A
 * Windows program cannot ask Wine for that signal, so this one asks Linux:
 * when ntdll exports wine_get_host_version and it reports Linux, the handler
 * is installed with the rt_sigaction system call itself. In signal context
 * it makes system calls only (no Windows API, no TEB, no CRT): it marks the
 * request and sends the process SIGINT, turning SIGTERM into a console
 * event that runs on a Windows thread of its own, where the drain starts.
 * Once a stop has begun, a SIGTERM ends the process in the handler itself
 * (exit_group, status 143): see ht_wine__stop_begun. On real Windows, or any host other than Linux x86-64, nothing is done. */
#include "signal_wine.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <ht/types.h>

static atomic_bool g_pending_;
static atomic_bool g_stopping_;

#if defined(__x86_64__)

static atomic_bool g_installed_;

/* Linux x86-64 system call numbers, flags and the kernel's sigaction. */
enum { NR_RT_SIGACTION = 13, NR_RT_SIGRETURN = 15, NR_GETPID = 39, NR_KILL = 62, NR_EXIT_GROUP = 231 };
enum { LINUX_SIGINT = 2, LINUX_SIGTERM = 15 };
#  define LINUX_SA_RESTORER 0x04000000ULL
#  define LINUX_SA_ONSTACK  0x08000000ULL
#  define LINUX_SA_RESTART  0x10000000ULL
#  define LINUX_SA_NODEFER  0x40000000ULL
struct linux_sigaction_ {
    uint64_t handler; /* or 0 (SIG_DFL) */
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;    /* the kernel's sigset_t: 64 bits */
};
static struct linux_sigaction_ g_old_; /* what the release restores */

static int64_t linux_syscall_(int64_t nr, int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t r;
    register int64_t r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}

/* The kernel returns from a handler through the restorer: rt_sigreturn. */
void ht_wine_sigreturn_(void);
__asm__(".text\n"
        ".globl ht_wine_sigreturn_\n"
        "ht_wine_sigreturn_:\n"
        "    movq $15, %rax\n"
        "    syscall\n"
        "    hlt\n");
static_assert(NR_RT_SIGRETURN == 15, "the restorer above");

/* Called by Linux with the System V convention, not Windows x64's. */
__attribute__((sysv_abi)) static void on_sigterm_(int signo) {
    (void) signo;
    if (atomic_load(&g_stopping_)) (void) linux_syscall_(NR_EXIT_GROUP, 128 + LINUX_SIGTERM, 0, 0, 0);
    atomic_store(&g_pending_, true);
    (void) linux_syscall_(NR_KILL, linux_syscall_(NR_GETPID, 0, 0, 0, 0), LINUX_SIGINT, 0, 0);
}

static bool on_wine_linux_(void) {
    typedef void (*host_version_fn)(const char** sysname, const char** release);
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    if (!ntdll) return false;
    host_version_fn f = (host_version_fn) (void (*)(void)) GetProcAddress(ntdll, "wine_get_host_version");
    if (!f) return false; /* real Windows */
    const char* sysname = nullptr;
    const char* release = nullptr;
    f(&sysname, &release);
    return sysname && strcmp(sysname, "Linux") == 0;
}

static bool sigaction_(const struct linux_sigaction_* sa, struct linux_sigaction_* old) {
    return linux_syscall_(NR_RT_SIGACTION, LINUX_SIGTERM, (int64_t) (uintptr_t) sa, (int64_t) (uintptr_t) old,
                          sizeof sa->mask) == 0;
}

bool ht_wine__catch_sigterm(void) {
    if (atomic_load(&g_installed_)) return true;
    if (!on_wine_linux_()) return false;
    const struct linux_sigaction_ sa = {
        .handler = (uint64_t) (uintptr_t) on_sigterm_,
        /* NODEFER: the SIGINT this handler sends is often taken on the same
         * thread before the handler returns, and the control thread Wine
         * then starts inherits that thread's mask: with SIGTERM blocked
         * there, a later SIGTERM could find no thread to run on. */
        .flags = LINUX_SA_RESTORER | LINUX_SA_ONSTACK | LINUX_SA_RESTART | LINUX_SA_NODEFER,
        .restorer = (uint64_t) (uintptr_t) ht_wine_sigreturn_,
    };
    if (!sigaction_(&sa, &g_old_)) return false;
    atomic_store(&g_installed_, true);
    return true;
}

void ht_wine__release_sigterm(void) {
    if (atomic_exchange(&g_installed_, false)) (void) sigaction_(&g_old_, nullptr);
}

#else /* not x86-64: no Wine bridge */

bool ht_wine__catch_sigterm(void) {
    return false;
}

void ht_wine__release_sigterm(void) {}

#endif

void ht_wine__stop_begun(void) {
    atomic_store(&g_stopping_, true);
}

bool ht_wine__take_sigterm(void) {
    return atomic_exchange(&g_pending_, false);
}
