/* examples/ht/service.h — ht --service NAME: running as a Windows service
 * (service_win32.c). The service control manager's stop and shutdown
 * requests begin the server's graceful shutdown, as SIGTERM does on POSIX.
 *
 *   service_start(name, &server)  before serving: connects to the SCM on a
 *                                 thread of its own, reports START_PENDING
 *   service_running()             once serving: reports RUNNING
 *   service_stopped(code)         at the end: reports STOPPED with code
 *                                 (0 ok) and waits for the SCM thread
 *
 * The server must outlive service_stopped. One service per process. */
#ifndef HT_EXAMPLE_SERVICE_H
#define HT_EXAMPLE_SERVICE_H

#include <ht/server.h>

/* 0, or -ENOTCONN when the process was not started by the SCM (e.g. from a
 * console), or another negated errno; on error nothing is left running. */
ht_result_t service_start(const char* name, ht_server_t* server);
void service_running(void);
void service_stopped(uint32_t exit_code);

#endif /* HT_EXAMPLE_SERVICE_H */
