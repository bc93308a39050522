/* server/observe.c — the access log and the metrics, fed from one place
 * (server/observe.h). */
#include <ht/log.h>
#include <ht/metrics.h>

#include "server/access_log.h"
#include "server/metrics_int.h"
#include "server/observe.h"

uint64_t ht_obs__start_(const ht_acceptor_t* acc) {
    if (acc->cfg_.metrics) return ht_alog__now_ns_();
    return ht_alog__t0_(acc->cfg_.access_log);
}

void ht_obs__done_(ht_conn_t* c, const ht_request_t* req, uint16_t status, uint64_t bytes, uint64_t t0) {
    ht_acceptor_t* acc = c->acc;
    if (acc->cfg_.access_log) ht_alog__record_(c, req, status, bytes, t0);
    if (acc->cfg_.metrics)
        ht_metrics__observe_(acc, (uint8_t) ht_request__method(req), status, bytes, ht_alog__now_ns_() - t0);
}

void ht_obs__deferred_(ht_conn_t* c, const ht_request_t* req, uint64_t t0) {
    if (c->acc->cfg_.access_log) ht_alog__stash_(c, req, t0);
    c->obs_t0_ = t0;
    c->obs_method_ = (uint8_t) ht_request__method(req);
    c->obs_pending_ = true;
}

void ht_obs__end_(ht_conn_t* c, uint16_t status, uint64_t bytes) {
    ht_acceptor_t* acc = c->acc;
    if (acc->cfg_.access_log) ht_alog__record_(c, nullptr, status, bytes, 0);
    if (acc->cfg_.metrics) {
        if (c->obs_pending_)
            ht_metrics__observe_(acc, c->obs_method_, status, bytes, ht_alog__now_ns_() - c->obs_t0_);
        else
            ht_metrics__observe_(acc, HT_METHOD__COUNT, status, bytes, 0);
    }
    c->obs_pending_ = false;
}

void ht_obs__drop_(ht_conn_t* c) {
    ht_alog__drop_(c);
    c->obs_pending_ = false;
}

bool ht_obs__tick_(ht_acceptor_t* acc) {
    if (acc->cfg_.metrics) ht_metrics__gauges_(acc);
    return acc->log_ != nullptr && ht_alog__tick_(acc);
}
