/* server/signal.c — SIGINT/SIGTERM: first graceful, second forced.
 * The handler only uses atomics, ht_loop__wake (an eventfd/ring write) and
 * sigaction/raise, all async-signal-safe. */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include <ht/signal.h>

static _Atomic(ht_server_t*) g_server_;
static _Atomic(uint32_t) g_count_;

static void on_signal_(int signo) {
    int saved = errno;
    uint32_t n = atomic_fetch_add(&g_count_, 1);
    ht_server_t* s = atomic_load(&g_server_);
    if (n > 0 || s == nullptr) {
        /* Second signal: die the way this signal normally kills. */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigemptyset(&sa.sa_mask);
        sigaction(signo, &sa, nullptr);
        raise(signo);
        errno = saved;
        return;
    }
    atomic_fetch_add(&s->signals_, 1);
    ht_server__shutdown(s);
    if (s->signal_handler) s->signal_handler(s, signo);
    errno = saved;
}

ht_result_t ht_signal__install_default(ht_server_t* server) {
    atomic_store(&g_server_, server);
    atomic_store(&g_count_, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal_;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &sa, nullptr) != 0 || sigaction(SIGTERM, &sa, nullptr) != 0) return -errno;
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    (void) sigaction(SIGPIPE, &ign, nullptr);
    return 0;
}

void ht_signal__uninstall(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    (void) sigaction(SIGINT, &sa, nullptr);
    (void) sigaction(SIGTERM, &sa, nullptr);
    atomic_store(&g_server_, nullptr);
}
