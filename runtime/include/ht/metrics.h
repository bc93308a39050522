/* ht/metrics.h — server metrics in the Prometheus text format.
 *
 * Set a metrics object in the config (`cfg.metrics = m`) and each acceptor
 * counts, in a block of its own (its slot in the server: label worker):
 *
 *   ht_requests_total{worker,code="2xx",method="GET"}  responses by status class and method
 *                                                      (method "none": the server's answer
 *                                                      to a request it could not parse)
 *   ht_response_body_bytes_total{worker}               body bytes of those responses
 *   ht_request_duration_seconds{worker} (histogram)    dispatch to the response's end
 *   ht_open_connections{worker}                        gauge
 *   ht_deferred_in_flight{worker}                      deferred responses and streams now
 *   ht_deferred_total{worker}, ht_cut_off_total{worker}, ht_accepted_total{worker}
 *
 * Hot path: each counter is written only by its acceptor's thread (a
 * relaxed load and store, plain moves on x86: no lock, no shared
 * read-modify-write); ht_metrics__render sums nothing across threads, it
 * reads each block (relaxed loads) and prints it, from any thread, at scrape
 * time. Gauges are refreshed at each response and each acceptor timer tick.
 * An acceptor's block is in the scrape from ht_server__serve on, at zero
 * until it serves: every worker's series exists before its first connection.
 * Nothing is paid without a metrics object (one test per response).
 */
#ifndef HT_METRICS_H
#define HT_METRICS_H

#include <ht/types.h>

HT_EXTERN_C_BEGIN

typedef struct ht_metrics ht_metrics_t;

/* 0 or -ENOMEM. Must outlive every acceptor using it. */
ht_result_t ht_metrics__create(ht_metrics_t** out);
void ht_metrics__free(ht_metrics_t* m);

/* The text exposition (format 0.0.4) of every worker that served, into
 * buf (NUL-terminated when it fits). Returns the length the whole text
 * needs: when it is >= cap, call again with a larger buffer. */
size_t ht_metrics__render(const ht_metrics_t* m, char* buf, size_t cap);

/* A handler that answers with ht_metrics__render's text (cfg->user_data is
 * the ht_metrics_t), e.g. for a listener of its own (ht --metrics). */
struct ht_config;
struct ht_request;
struct ht_response;
struct ht_alloc;
void ht_metrics__handler(const struct ht_config* cfg, const struct ht_request* req,
                         struct ht_response* res, struct ht_alloc* a);

HT_EXTERN_C_END

#endif /* HT_METRICS_H */
