/* server/observe.h — internal: what the connection code calls when the
 * acceptor observes its responses (acc->observe_: an access log, metrics
 * or both in the config). One place for both, so each response costs one
 * test when neither is set. */
#ifndef HT_SERVER_OBSERVE_H
#define HT_SERVER_OBSERVE_H

#include "server/conn.h"

/* At dispatch: the start time the observers need (0 when none needs it). */
uint64_t ht_obs__start_(const ht_acceptor_t* acc);
/* A response completed within its handler call. */
void ht_obs__done_(ht_conn_t* c, const ht_request_t* req, uint16_t status, uint64_t bytes, uint64_t t0);
/* The handler deferred: keep what the end needs (req is gone by then). */
void ht_obs__deferred_(ht_conn_t* c, const ht_request_t* req, uint64_t t0);
/* A deferred response ended, or the server answered itself (no request). */
void ht_obs__end_(ht_conn_t* c, uint16_t status, uint64_t bytes);
/* The connection is freed. */
void ht_obs__drop_(ht_conn_t* c);
/* The acceptor's timer; true while the access log holds lines. */
bool ht_obs__tick_(ht_acceptor_t* acc);

#endif
