/* tests/server/out_fixture.h — the send buffer the response suites build
 * into without a server (check_response, check_asset): an allocator, a
 * 4 KiB ht_out_t, a fixed Date line, and everything the buffer would send,
 * concatenated. Header-only, static: include it once per suite. */
#ifndef HT_TEST_OUT_FIXTURE_H
#define HT_TEST_OUT_FIXTURE_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <ht/ht.h>
#include "server/conn.h"

static ht_alloc_t* A;
static ht_out_t* OUT;
static char DATE[48];

static void setup(void) {
    A = ht_alloc__init();
    OUT = calloc(1, sizeof(ht_out_t) + 4096);
    OUT->cap = OUT->size = OUT->unit = 4096;
    OUT->file = -1;
    ht_date_line_(DATE, 784111777);
}

static void teardown(void) {
    ht_out__reset_(OUT);
    free(OUT);
    ht_alloc__finalize(A);
}

/* Everything the buffer would send, concatenated (the caller frees it);
 * *n gets its length. A pending file body (ht_response__file) follows the
 * iovecs: the buffer's total counts it. */
static char* sent(size_t* n) {
    ht_out__seal_(OUT);
    size_t total = 0;
    for (uint32_t i = 0; i < OUT->iovcnt; i++) total += OUT->iov[i].len;
    char* s = malloc(total + 1);
    size_t k = 0;
    for (uint32_t i = 0; i < OUT->iovcnt; i++) {
        memcpy(s + k, OUT->iov[i].base, OUT->iov[i].len);
        k += OUT->iov[i].len;
    }
    s[k] = 0;
    if (n) *n = k;
    ck_assert_uint_eq(k + (OUT->file_state == HT_OUT_FILE_PENDING ? OUT->file_len : 0), OUT->total);
    return s;
}

#endif /* HT_TEST_OUT_FIXTURE_H */
