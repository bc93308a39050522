/* tests/fuzz/fuzz_conn.h — what the three files of the fuzz_conn target
 * share: fuzz_conn.c (the harness: the config, the loop driven from this
 * thread, the client side, one input and the counts it checks),
 * fuzz_conn_handler.c (the handler and its deferred handles) and
 * fuzz_conn_parse.c (strict parsing of the responses read back). All of it
 * lives for the process and is touched from its one thread. Private to
 * fuzz_conn. */
#ifndef HT_FUZZ_CONN_H
#define HT_FUZZ_CONN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ht/server.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_conn: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

#define MAX_BODY 8192u

/* ---- fuzz_conn.c: set up once (init_) ---- */
extern const ht_config_t cfg_;
extern ht_alloc_t* alloc_;
extern ht_loop_t* loop_;
extern bool verbose_; /* HT_CONN_VERBOSE: each request and response on stderr */

/* ---- fuzz_conn_handler.c ---- */
/* Deferred events, cumulative (each input compares before/after). */
typedef struct dtally {
    uint64_t defers, releases, cut_503, cut_504, cut_closed, cut_body;
    uint64_t cut_streams; /* of cut_closed: streams that had begun */
} dtally_t;
extern dtally_t dt_;

/* The server's answers in place of cut-off handles, in request order (one
 * handle at a time per connection): a deadline's 503/504 (status), or the
 * error of a streamed body that failed (status 0). A HEAD request's answer
 * has no body, and only the handle knew the method. */
typedef struct answer {
    uint16_t status;
    bool     head_only;
} answer_t;
extern answer_t answers_[];
extern int nanswers_;     /* this input's, reset by the harness */
extern uint64_t enobufs_; /* handler calls refused with -ENOBUFS, cumulative */
extern bool eof_sent_;    /* the client has shut its write side (this input) */

/* Deferred handles in use; awaited_only: those still going to answer
 * (not reading a streamed body, not cut off). */
int pends_(bool awaited_only);
ht_body_policy_t policy_(const ht_config_t* cfg, const ht_request_t* req);
void handler_(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a);

/* ---- fuzz_conn_parse.c ---- */
/* The bytes the client read back (fuzz_conn.c); also a decoded chunked body. */
typedef struct out {
    char* p;
    size_t n, cap;
    bool eof, reset;
} out_t;

typedef struct tally {
    uint64_t echoes, streams, sses, fallbacks, errors, deadline_503, deadline_504, continues, cut_streams;
} tally_t;

/* Every response in s[0, n) checked strictly (fuzz_conn.c's invariants),
 * counted into t; cut_streams: how many streams the client's leaving cut
 * off (the last response may end short). */
void parse_responses_(const char* s, size_t n, uint64_t cut_streams, tally_t* t);

#endif /* HT_FUZZ_CONN_H */
