/* examples/ht/lifecycle.h — how an ht process winds down and hands over
 * (POSIX; lifecycle_posix.c).
 *
 * --drain-grace: the first SIGTERM only starts draining (*draining turns
 * true, so the health path answers 503, and the rest is served as before);
 * SIGALRM at the end of the grace starts the server's shutdown; a second
 * SIGTERM, or SIGINT, does it at once.
 *
 * Takeover: SIGUSR2 or SIGHUP re-executes the binary at the path this one was
 * started from, with the same arguments and the same listening socket
 * (HT_INHERIT_FD); once every worker of the new process is ready it writes a
 * byte to HT_READY_FD, and only then does this one shut down gracefully. If
 * the new process fails first, this one keeps serving.
 *
 * The server, the flag and the counters are the caller's and must outlive
 * the process's serving (they are main's locals and statics). */
#ifndef HT_EXAMPLES_HT_LIFECYCLE_H
#define HT_EXAMPLES_HT_LIFECYCLE_H

#include <ht/ht.h>
#include <stdatomic.h>
#include <stdint.h>

#if defined(HT_OS_POSIX)
/* SIGTERM and SIGALRM handlers for a grace of grace_s seconds. 0 or -errno. */
int lifecycle_install_drain(ht_server_t* server, unsigned grace_s, atomic_bool* draining);
/* SIGUSR2 and SIGHUP request a takeover (argv: what the new process gets).
 * 0 or -errno; on failure the signals keep their old meaning. */
int lifecycle_install_takeover(char** argv);
/* Main's wait while the workers run (until done + failed reach workers):
 * carries out takeover requests. Returns at once without a takeover. */
void lifecycle_wait(ht_server_t* server, uint32_t workers, atomic_uint* done, atomic_uint* failed);
/* In a process started by a takeover: the descriptor in the environment
 * variable name (then removed, the descriptor made close-on-exec), or -1. */
int lifecycle_inherited_fd(const char* name);
#endif

#endif /* HT_EXAMPLES_HT_LIFECYCLE_H */
