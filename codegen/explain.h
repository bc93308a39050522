/* codegen/explain.h — `htgen --explain routes.ht 'GET /users/42'`: which
 * route answers a request and why the others do not.
 *
 * The answer comes from the plan's segment automaton (plan.h, automaton.h),
 * walked here segment by segment exactly as the generated PREFIX__match
 * walks it: the same states, literals, predicates and the same row table
 * (precedence, HEAD by GET, 405's Allow, OPTIONS), then the trailing-slash
 * probe. So --explain cannot disagree with the matcher htgen writes
 * (tests/codegen/check_explain.c and check_codegen_prop hold them side by
 * side). The reasons for the routes that lost are the precedence rules of
 * dsl/SPEC.md, stated for the first segment where the two routes differ.
 *
 * In a file with `host` blocks the automaton holds every route behind its
 * host's pseudo-segment (dsl/host.c); the request is explained as
 * PREFIX__match_host answers it: for the Host given, its block's routes
 * (ht_rt__host_block picks the block), then the routes outside blocks.
 * The report shows the host, never the pseudo-segment.
 */
#ifndef HT_CODEGEN_EXPLAIN_H
#define HT_CODEGEN_EXPLAIN_H

#include "dsl.h"
#include "plan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The statuses of PREFIX__match, in its order. */
typedef enum explain_status {
    EXPLAIN_FOUND,
    EXPLAIN_NOT_FOUND,
    EXPLAIN_METHOD_NOT_ALLOWED,
    EXPLAIN_OPTIONS,
    EXPLAIN_REDIRECT,
    EXPLAIN_BAD_REQUEST,
} explain_status_t;

typedef struct explain_answer {
    explain_status_t status;
    int route;      /* 1-based route id (file order) when FOUND, else 0 */
    int row;        /* the automaton's row where the path ended (0: nothing matched) */
    uint64_t allow; /* 405 / OPTIONS: method mask of the file's method table */
    bool redirect_adds; /* REDIRECT: true when the canonical path adds a '/' */
} explain_answer_t;

/* What PREFIX__match answers for method (a token, any case as given) and
   the raw path s[0 .. n) (no query). A path that does not start with '/'
   matches nothing. Parameters are decoded as the matcher does: a bad
   escape in a decoded parameter is BAD_REQUEST. */
explain_answer_t explain__match(const plan_t* p, const char* method, size_t mlen, const char* s, size_t n);

/* What PREFIX__match_host answers for a Host value host[0 .. hlen)
   (nullptr: no Host header) in a file with host blocks; s is the path as
   the request has it. Without host blocks, explain__match. */
explain_answer_t explain__match_host(const plan_t* p, const char* method, size_t mlen, const char* host,
                                     size_t hlen, const char* s, size_t n);

/* The report for one request, "METHOD PATH[?QUERY]" (the query is
   ignored, as dispatch does), appended to out. base names the routes file;
   host is the request's Host value (nullptr: none), which picks the host
   block. Returns false (with a message in out) when the request is not one. */
bool explain__request(const plan_t* p, const char* base, const char* request, const char* host, dsl_buf_t* out);

#endif /* HT_CODEGEN_EXPLAIN_H */
