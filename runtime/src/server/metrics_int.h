/* server/metrics_int.h — internal: where the server feeds ht/metrics.h.
 * Called only when the acceptor's config has metrics. */
#ifndef HT_SERVER_METRICS_INT_H
#define HT_SERVER_METRICS_INT_H

#include <ht/metrics.h>
#include <ht/server.h>

/* One response: method (ht_method_t, or HT_METHOD__COUNT for the server's
 * answer to a request it could not parse), status, body bytes, duration
 * (ns; 0 for early answers). Refreshes the gauges too. */
void ht_metrics__observe_(ht_acceptor_t* acc, uint8_t method, uint16_t status, uint64_t bytes, uint64_t dur_ns);
/* The gauges (open connections, deferred in flight, ...) from acc's stats. */
void ht_metrics__gauges_(ht_acceptor_t* acc);

#endif
