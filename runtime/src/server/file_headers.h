/* server/file_headers.h — internal: a header set (ht/headers.h) applied to
 * one file or asset response by serve_file.c and serve_asset.c. Only built
 * when the root or table has a set: without one neither file calls in here.
 *
 * Use: ht_fh__init once per request; ht_fh__preflight before anything
 * else; then for the answer: status, each of the server's own fields
 * through ht_fh__field (a rule may replace it, Vary gets Origin merged in),
 * ht_fh__finish (the rules' fields, CORS), then the body. ht_fh__error is
 * ht_response__error with the CORS fields. */
#ifndef HT_SERVER_FILE_HEADERS_H
#define HT_SERVER_FILE_HEADERS_H

#include <ht/headers.h>
#include <ht/request.h>
#include <ht/response.h>

typedef struct ht_fh {
    const ht_headers_t* h;
    ht_slice_t origin;   /* the Access-Control-Allow-Origin value, or null (none) */
    bool vary_origin;    /* a list of origins: every answer has Vary: Origin */
    bool vary_done;      /* ... and it has been written (merged) */
    uint64_t mask;       /* the rules that apply to this answer (bit i: rule i) */
} ht_fh_t;

void ht_fh__init(ht_fh_t* fh, const ht_headers_t* h, const ht_request_t* req);
/* A CORS preflight from an allowed origin: answers it (204) and returns
 * true with *r the builder's result; otherwise false and nothing done. */
bool ht_fh__preflight(ht_fh_t* fh, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, ht_result_t* r);
/* The answer's status and the served path (rules apply to 200/206/304). */
ht_result_t ht_fh__status(ht_fh_t* fh, ht_response_t* res, uint16_t status, ht_slice_t path);
/* One of the server's own fields (name from its own table, value it built). */
ht_result_t ht_fh__field(ht_fh_t* fh, ht_response_t* res, ht_slice_t name, ht_slice_t value);
/* The rules' fields, CORS, and Vary: Origin when not merged yet. */
ht_result_t ht_fh__finish(ht_fh_t* fh, ht_response_t* res);
/* status (>= 300) with the CORS fields and ht_response__error's page. */
ht_result_t ht_fh__error(ht_fh_t* fh, ht_response_t* res, uint16_t status, ht_alloc_t* a);

#endif /* HT_SERVER_FILE_HEADERS_H */
