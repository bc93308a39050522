/* codegen/automaton.h — the segment automaton behind PREFIX__match.
 *
 * A path is a sequence of segments (the bytes between two '/'; "/" is one
 * empty segment). The automaton reads one whole segment per step. A state
 * is the set of route groups still alive after d segments (a state has one
 * depth d) plus the rest parameters already reached. Its transitions are
 * keyed by what the next segment is: one of the literal segments its groups
 * have at depth d (compared whole, as machine words, at run time), else the
 * set of parameter predicates the segment satisfies ({name} is "not empty";
 * typed, regex and affixed parameters are one re2c DFA each, over the
 * segment alone). Built by subset construction, so the run time never
 * backtracks: a literal that wins its segment but dies later still leaves
 * the parameter routes it also matched alive in the same state.
 *
 * When the path ends in a state, the groups that matched it whole are
 * known at build time, so precedence (most specific first; a GET route
 * answers HEAD unless a real HEAD route is at least as specific), the 405
 * Allow set and OPTIONS are resolved here, once per distinct set of groups
 * (a "row"), not at run time.
 *
 * Everything au__build allocates belongs to the au_t; au__free releases it.
 * The inputs (groups, segment bytes, regexes) are only borrowed.
 */
#ifndef HT_CODEGEN_AUTOMATON_H
#define HT_CODEGEN_AUTOMATON_H

#include "dsl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum au_kind {
    AU_LIT,  /* exactly these bytes (possibly none: "/dir/" ends with one) */
    AU_NAME, /* {name}, {name:str}: not empty */
    AU_PRED, /* typed, regex or affixed parameter: the segment's language rx */
    AU_REST, /* {name...} after an optional literal prefix: the rest of the path */
} au_kind_t;

typedef struct au_seg {
    au_kind_t kind;
    const char* lit; /* AU_LIT: the bytes; AU_REST: the prefix (may be empty) */
    size_t len;
    const rx_t* rx;  /* AU_PRED */
    const char* key; /* AU_PRED: rx in re2c syntax; equal keys share one predicate */
} au_seg_t;

/* One group of routes with the same pattern and specificity. Give them in
   precedence order (most specific first); `spec` is equal for groups that
   tie (no common method, or htgen reported a conflict). */
typedef struct au_group {
    int nseg;
    const au_seg_t* seg;
    uint64_t methods;  /* bit i: method i has a route here */
    const int* route;  /* [nmethods]: the route id for method i, 0 none */
    int spec;
} au_group_t;

typedef struct au_input {
    const au_group_t* g;
    int ng;
    int nmethods;
    int get, head, options; /* method indices (-1: the file has no such method) */
    int nroutes;            /* route ids are 1 .. nroutes */
} au_input_t;

/* A predicate on one segment: its bytes in the language rx, or (prefix)
   starting with lit. */
typedef struct au_pred {
    bool prefix;
    const rx_t* rx;
    const char* key;
    const char* lit;
    size_t len;
} au_pred_t;

typedef struct au_lit {
    const char* s;
    size_t len;
    int to; /* state */
} au_lit_t;

typedef struct au_state {
    int depth;  /* segments read before this state */
    int row;    /* where a path ending here goes (0: no group matched it) */
    bool sink;  /* only rest parameters left: whatever follows matches */
    int nlit;   /* literal segments, by length, then bytes */
    au_lit_t* lit;
    int npred;  /* predicates tested for a segment that is no literal here */
    int* pred;
    int* to;    /* [2 << npred]: (mask << 1 | not empty) -> state, -1 none */
    int* items; /* group index, or AU_RESTED | group index */
    int nitems;
} au_state_t;

#define AU_RESTED (1 << 24)

typedef struct au {
    int nstates;
    au_state_t* st;     /* st[0]: the start, before the first segment */
    int npred;
    au_pred_t* pred;
    int maxdepth;       /* the deepest state */
    int nrows;          /* row 0: nothing matched */
    uint32_t* fin;      /* [nrows][nmethods + 1]: route id, 0 none (then allow decides) */
    uint64_t* allow;    /* [nrows]: the methods of the matching groups (+ HEAD by GET, OPTIONS) */
    uint64_t* reached;  /* [nroutes + 1]: methods for which a route wins some row */
    int nmethods;
    int err_group;      /* au__build failed: the group where (-1: none) */
} au_t;

/* Builds the automaton. On a limit (states, predicates at one depth)
   returns false with a message in err and the group it arose at in
   au->err_group (-1 when no one group is to blame). */
bool au__build(au_t* au, const au_input_t* in, char* err, size_t errcap);
void au__free(au_t* au);

#endif /* HT_CODEGEN_AUTOMATON_H */
