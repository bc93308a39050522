/* server/access_log.h — internal: where the server feeds ht/log.h. Each
 * call is made only when the acceptor's config has an access_log. */
#ifndef HT_SERVER_ACCESS_LOG_H
#define HT_SERVER_ACCESS_LOG_H

#include <ht/log.h>

#include "server/conn.h"

/* Monotonic nanoseconds: a request's start, for duration_us. */
uint64_t ht_alog__now_ns_(void);
/* ht_alog__now_ns_ when log's format has a duration, else 0. */
uint64_t ht_alog__t0_(const ht_access_log_t* log);
/* Logs one response on c: req (nullptr: the server's own answer before a
 * request was parsed; then c's stashed request if it has one), its status
 * and body bytes; t0: ht_alog__now_ns_ at dispatch, or 0. */
void ht_alog__record_(ht_conn_t* c, const ht_request_t* req, uint16_t status, uint64_t bytes, uint64_t t0);
/* A deferred response: keeps a copy of what the line needs from req (it is
 * gone once the handler returns) until ht_alog__record_ (req == nullptr)
 * or ht_alog__drop_. */
void ht_alog__stash_(ht_conn_t* c, const ht_request_t* req, uint64_t t0);
/* Frees c's stash, if any (the connection is freed). */
void ht_alog__drop_(ht_conn_t* c);
/* The acceptor's timer: writes out what is buffered if the last write was
 * a second ago or more. True while something stays buffered. */
bool ht_alog__tick_(ht_acceptor_t* acc);
/* Writes out and frees the acceptor's buffer (serve_finalize). */
void ht_alog__acceptor_done_(ht_acceptor_t* acc);

#endif
