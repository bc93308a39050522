/* codegen/plan.h — from the route model (dsl.h) to what the emitters write:
 *
 *   specificity    the rank vector of a route; precedence is its order;
 *   conflicts      two routes of one specificity with a common method and
 *                  a common path: an error, with a witness path;
 *   groups         routes with the same pattern and specificity, in
 *                  precedence order: the automaton's input;
 *   lowering       each group's segments (literal bytes, {name}, a
 *                  predicate, a rest) and each route's capture signature
 *                  (where its parameters lie: segment, literal bytes before
 *                  and after), with the re2c text of every predicate written
 *                  over named definitions (u64, slug, ..., re1, ...);
 *   the automaton  codegen/automaton.h, built from the groups;
 *   subsumption    a route that can never win for one of its methods is an
 *                  error: each method of each route must win an accepting
 *                  state of the automaton, and where a single more specific
 *                  route covers it whole, that route is named.
 *
 * The emitters (emit.h) only read a plan. Everything plan__build allocates
 * belongs to the plan_t; plan__free releases it.
 */
#ifndef HT_CODEGEN_PLAN_H
#define HT_CODEGEN_PLAN_H

#include "automaton.h"
#include "dsl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- specificity ---- */
/* -1 / 0 / 1: specificity order of two routes (1: a beats b). */
int plan__cmp_spec(const dsl_route_t* a, const dsl_route_t* b);
/* "5.1.0" into buf. */
void plan__spec_str(const dsl_route_t* r, char* buf, size_t cap);

/* The methods of mask m as written in routes.ht ("GET|PUT", method-table order). */
void plan__methods_str(const dsl_file_t* f, uint64_t m, char* buf, size_t cap);

/* ---- conflicts ----
 * Reports every pair of routes of one specificity with a common method that
 * can match a common path (at the later route, with the earlier one's
 * location and a witness request). Runs over the routes that parsed, so a
 * file's syntax errors and conflicts come out in one run. Linear in the
 * routes but for routes with the same literal segments in the same places
 * (only they can meet). Returns true when there is none. */
bool plan__conflicts(dsl_file_t* f);

/* ---- the plan ---- */
/* Parameter kinds as the captures see them: u u64, h hex, i i64, d decoded
   slice ({name}, str, regex), r rest (decoded, to the end), s raw slice. */
char plan__kind_code(dsl_pkind_t k);

/* Where parameter k of a route lies: in segment seg, after pre literal
   bytes of it and before suf (a rest parameter runs to the end). */
typedef struct plan_place {
    int seg;
    size_t pre, suf;
} plan_place_t;

/* A capture signature: the parameters' kind codes and places. Routes with
   one signature share one piece of capture code. */
typedef struct plan_sig {
    char* kinds;         /* "ud"; "" for sig 0 (no parameters) */
    plan_place_t* place; /* [strlen(kinds)] */
    int shape;           /* plan.shape[]: the struct its fields are laid out as */
    int nroutes;         /* routes with it */
    int* routes;         /* their ids, in file order */
} plan_sig_t;

/* A named re2c definition the predicates use: a parameter kind's language
   (seg, slug, u64, i64, hex, uuid) or a regex of the file (re1, re2, ...). */
typedef struct plan_def {
    char* name;
    char* text;                /* re2c syntax */
    const dsl_route_t* first;  /* the first route using it */
    const dsl_param_t* param;  /* its parameter there */
} plan_def_t;

/* Routes with the same pattern (their rule text, parameters by position)
   and the same specificity form a group; the automaton works on groups, in
   precedence order. */
typedef struct plan_group {
    const dsl_route_t* rep; /* the first route of the group */
    char* rule;             /* the pattern as a re2c rule over the definitions */
    uint64_t methods;       /* real methods of its routes */
    int* route;             /* [nmethods]: route id for a method, 0 none */
    int spec;               /* specificity class: 0 the most specific */
    au_seg_t* seg;          /* [rep->nranks] */
} plan_group_t;

typedef struct plan {
    const dsl_file_t* f;
    plan_group_t* g; /* g[0 .. ng) in precedence order */
    int ng;
    int maxp;        /* the most parameters of a route */
    au_t au;         /* the segment automaton; au.pred[k].key is predicate k's rule */
    plan_def_t* def; /* the named definitions the predicates use, in order of first use */
    int ndef;
    plan_sig_t* sig; /* sig[0]: no parameters */
    int nsig;
    char** shape;    /* shape[0]: ""; then the signatures' distinct layouts: u (uint64_t), i, s (slice) */
    int nshape;
    int* rsig;       /* [route id]: its signature */
    char** keys;     /* strings the automaton borrows (predicate rules), owned */
    int nkeys;
} plan_t;

/* Groups, lowering, the automaton and the subsumption proofs for f, whose
 * routes parsed and have no conflict. base names the routes file in
 * diagnostics. On an error (reported through dsl_diag) returns false with
 * nothing left to free. */
bool plan__build(plan_t* p, dsl_file_t* f, const char* base);
void plan__free(plan_t* p);

/* The lines of routes.ht that the routes ids[0 .. n) are on, as
   "routes.ht:3, 7-9, 12": ascending, runs joined, at most max numbers
   (then ", ... (N routes)"). For generated comments. */
void plan__lines(const dsl_file_t* f, const char* base, const int* ids, int n, int max, dsl_buf_t* out);

#endif /* HT_CODEGEN_PLAN_H */
