/* lifecycle_posix.c — how an ht process winds down and hands over (lifecycle.h). */
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listener.h"

/* --drain-grace: the first SIGTERM only starts draining (health 503, the
 * rest served as before); SIGALRM at the end of the grace starts the
 * server's shutdown (stop accepting, finish what is in flight); a second
 * SIGTERM, or SIGINT, does it at once. Async-signal-safe: atomics, alarm,
 * write, ht_server__shutdown. */
static ht_server_t* volatile drain_server;
static unsigned drain_grace_s;
static atomic_bool* drain_flag;

static void on_drain_alarm(int signo) {
    (void) signo;
    int saved = errno;
    if (drain_server) ht_server__shutdown(drain_server);
    errno = saved;
}

static void on_drain_term(int signo) {
    int saved = errno;
    if (!atomic_exchange(drain_flag, true)) {
        static const char msg[] = "ht: draining: health answers 503, stopping after the grace period\n";
        (void) !write(2, msg, sizeof msg - 1);
        alarm(drain_grace_s);
    } else if (drain_server && !ht_server__shutting_down(drain_server)) {
        ht_server__shutdown(drain_server);
        static const char msg[] = "ht: shutting down (again to force)\n";
        (void) !write(2, msg, sizeof msg - 1);
    } else {
        signal(signo, SIG_DFL); /* a third one: die the way SIGTERM kills */
        raise(signo);
    }
    errno = saved;
}

/* ---- Takeover: SIGUSR2 or SIGHUP re-executes ht with the listening socket ----
 *
 * The handler only writes a byte to a pipe; main (which otherwise waits for
 * the workers) forks and execs the binary at the path this one was started
 * from (a new build installed there by rename is what runs) with the same
 * arguments. The child gets the SAME listening socket (HT_INHERIT_FD), not
 * a new SO_REUSEPORT one: both processes accept from one queue, and when the
 * old one closes its descriptor no queued connection is reset (closing one
 * of several SO_REUSEPORT sockets resets those in its own queue). Once every
 * child worker is ready it writes a byte to HT_READY_FD; only then does the
 * old process shut down gracefully (stop accepting, finish in flight, exit
 * 0). If the child fails first, the old one keeps serving. */
static int takeover_pipe[2] = { -1, -1 };
static char self_exe[PATH_MAX];
static char** self_argv;

static void on_takeover_signal(int signo) {
    (void) signo;
    int saved = errno;
    if (takeover_pipe[1] >= 0) (void) !write(takeover_pipe[1], "t", 1);
    errno = saved;
}

int lifecycle_install_takeover(char** argv) {
    self_argv = argv;
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0) return -errno;
    self_exe[n] = '\0';
    /* A binary replaced by rename leaves "(deleted)" on the old inode's
     * link: the path is what the new one lives at. */
    static const char del[] = " (deleted)";
    if ((size_t) n > sizeof del - 1 && strcmp(self_exe + n - (sizeof del - 1), del) == 0)
        self_exe[n - (ssize_t) (sizeof del - 1)] = '\0';
    if (pipe2(takeover_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -errno;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_takeover_signal;
    if (sigaction(SIGUSR2, &sa, nullptr) != 0 || sigaction(SIGHUP, &sa, nullptr) != 0) return -errno;
    return 0;
}

/* Starts the new process and waits (at most 60 s) until it serves. True if
 * it took over. */
static bool takeover(ht_server_t* server) {
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) != 0) return false;
    int lfd = fcntl(ht_server__socket(server), F_DUPFD, 3); /* without FD_CLOEXEC */
    int wfd = fcntl(rp[1], F_DUPFD, 3);
    char e_lfd[40], e_wfd[40];
    snprintf(e_lfd, sizeof e_lfd, "HT_INHERIT_FD=%d", lfd);
    snprintf(e_wfd, sizeof e_wfd, "HT_READY_FD=%d", wfd);
    extern char** environ;
    size_t ne = 0;
    while (environ[ne]) ne++;
    char** env = calloc(ne + 3, sizeof *env);
    pid_t pid = -1;
    if (lfd >= 0 && wfd >= 0 && env) {
        size_t k = 0;
        for (size_t i = 0; i < ne; i++)
            if (strncmp(environ[i], "HT_INHERIT_FD=", 14) != 0 && strncmp(environ[i], "HT_READY_FD=", 12) != 0)
                env[k++] = environ[i];
        env[k++] = e_lfd;
        env[k++] = e_wfd;
        env[k] = nullptr;
        pid = fork();
        if (pid == 0) {
            /* Only async-signal-safe calls between fork and exec. */
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            execve(self_exe, self_argv, env);
            _exit(127);
        }
    }
    free(env);
    if (lfd >= 0) close(lfd);
    if (wfd >= 0) close(wfd);
    close(rp[1]);
    bool ok = false;
    if (pid > 0) {
        char b;
        struct pollfd p = { .fd = rp[0], .events = POLLIN };
        int rc;
        do rc = poll(&p, 1, 60000); while (rc < 0 && errno == EINTR);
        ok = rc == 1 && read(rp[0], &b, 1) == 1;
        if (ok) {
            fprintf(stderr, "ht: handed over to pid %ld, draining\n", (long) pid);
        } else {
            fprintf(stderr, "ht: takeover by pid %ld failed, still serving\n", (long) pid);
            if (rc == 0) kill(pid, SIGKILL);
            (void) waitpid(pid, nullptr, 0);
        }
    } else {
        fprintf(stderr, "ht: takeover: cannot start %s: %s\n", self_exe, strerror(errno));
    }
    close(rp[0]);
    return ok;
}

/* Connects to the listening socket s and hangs up: a wakeup for whoever
 * else accepts on it. */
static void poke_listener(int s) {
    struct sockaddr_storage sa;
    socklen_t n = sizeof sa;
    if (s < 0 || getsockname(s, (struct sockaddr*) &sa, &n) != 0) return;
    int c = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c < 0) return;
    (void) connect(c, (struct sockaddr*) &sa, n); /* loopback: at once, or in progress */
    struct pollfd p = { .fd = c, .events = POLLOUT };
    (void) poll(&p, 1, 1000);
    close(c);
}

void lifecycle_wait(ht_server_t* server, uint32_t workers, atomic_uint* done, atomic_uint* failed) {
    if (takeover_pipe[0] < 0) return; /* no takeover: the caller joins the workers */
    bool handed = false;
    while (atomic_load(done) + atomic_load(failed) < workers) {
        struct pollfd p = { .fd = takeover_pipe[0], .events = POLLIN };
        if (poll(&p, 1, 200) != 1) continue;
        char buf[64];
        while (read(takeover_pipe[0], buf, sizeof buf) > 0) {}
        if (handed || ht_server__shutting_down(server)) continue;
        if (takeover(server)) {
            handed = true;
            listener_forget(); /* a Unix socket file is the new process's now */
            ht_server__shutdown(server);
        }
    }
    /* io_uring: a client that arrived while this process's accept was
     * being cancelled can take the socket's wakeup with it (the accept's
     * wait is exclusive), and then waits in the queue, unseen by the new
     * process, until another client connects (seen: 4 looping clients
     * stalled 10 s in some of check_ht_fleet's runs). A connection of our
     * own, once our accepts are gone, wakes the new process's accept. */
    if (handed) poke_listener(ht_server__socket(server));
}

int lifecycle_inherited_fd(const char* name) {
    const char* v = getenv(name);
    if (!v || *v < '0' || *v > '9') return -1;
    char* end;
    errno = 0;
    unsigned long fd = strtoul(v, &end, 10);
    if (*end || errno || fd > INT_MAX) return -1;
    unsetenv(name);
    if (fcntl((int) fd, F_SETFD, FD_CLOEXEC) != 0) return -1;
    return (int) fd;
}

int lifecycle_install_drain(ht_server_t* server, unsigned grace_s, atomic_bool* draining) {
    drain_flag = draining;
    drain_server = server;
    drain_grace_s = grace_s;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_drain_alarm;
    if (sigaction(SIGALRM, &sa, nullptr) != 0) return -errno;
    sa.sa_handler = on_drain_term;
    if (sigaction(SIGTERM, &sa, nullptr) != 0) return -errno;
    return 0;
}
