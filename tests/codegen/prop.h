/* prop.h — the property test's view of a generated route set (see
 * propgen.c and gen_sets.sh): the routes as written, for the reference
 * matcher, and a runner that reports PREFIX__match's result as strings. */
#ifndef HT_TEST_PROP_H
#define HT_TEST_PROP_H

#include <ht/slice.h>

#include <stdint.h>
#include <string.h>

typedef struct prop_route {
    const char* methods; /* "GET|POST" */
    const char* pattern;
} prop_route_t;

/* The longest path the reference (prop_ref.h) takes; room for one decoded
 * parameter or redirect of it. Many 64-byte windows of the matcher's '/'
 * scan, so the fuzzer reaches its refills. */
#define PROP_PATH_MAX 1100
#define PROP_STR_MAX (PROP_PATH_MAX + 100)

typedef struct prop_result {
    int status; /* PREFIX_MATCH_* (the same order in every set) */
    int route;  /* 1-based route id, 0 = none */
    uint32_t allow; /* prop_method_bit() bits */
    char redirect[PROP_STR_MAX];
    int nparams;
    char params[8][PROP_STR_MAX]; /* decoded slices; numbers in decimal */
    char scratch[2 * PROP_STR_MAX];
    /* When set, the runner decodes into scratch_p[0, scratch_n) instead of
     * scratch (the fuzzer passes an exact-size heap buffer). */
    char* scratch_p;
    size_t scratch_n;
} prop_result_t;

typedef struct prop_set {
    const char* prefix;
    const prop_route_t* routes;
    int nroutes;
    int slash_redirect;
    int (*run)(const char* method, const char* path, size_t len, prop_result_t* out);
} prop_set_t;

extern const prop_set_t* const prop_sets[];
extern const int prop_nsets;

/* A fixed bit per method name across all sets (the sets' own method
 * numbering differs when custom tokens appear). */
static inline uint32_t prop_method_bit(const char* m) {
    static const char* const names[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
                                         "OPTIONS", "TRACE", "PATCH", "BREW" };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(names[i], m)) return 1u << i;
    return 1u << 31;
}

static inline void prop_copy(char* dst, ht_slice_t s) {
    size_t n = s.len < PROP_STR_MAX - 1 ? s.len : PROP_STR_MAX - 1;
    memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

#endif
