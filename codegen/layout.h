/* codegen/layout.h — where the matcher puts each automaton state: as code,
 * in PREFIX__match or a further function of bounded size, or as a table
 * that <ht/route_rt.h>'s ht_rt__run walks (codegen/emit_states.c and
 * codegen/emit_tables.c write them out). States are code while two budgets
 * allow, in order of discovery (breadth first: the shallow states every
 * path crosses come first); a state's weight is about the lines of C it
 * takes.
 */
#ifndef HT_CODEGEN_LAYOUT_H
#define HT_CODEGEN_LAYOUT_H

#include "automaton.h"

#include <stdbool.h>

/* Which states are code (and in which function) and which are tables. */
typedef struct layout {
    int n;          /* states */
    int* weight;    /* [n] */
    int* parent;    /* [n]: the state that discovered it, -1 for 0 */
    int* chunk;     /* [n]: its function (0: PREFIX__match itself), -1: a table state only */
    int nchunks;
    int* order;     /* the code states, function by function, each function's root first */
    int* cstart;    /* [nchunks + 1]: order[cstart[k] .. cstart[k + 1]) is function k */
    bool* entry;    /* [n]: entered from another function: a case of its entry switch */
    bool* label;    /* [n]: a goto in its own function leads to it */
    int* tix;       /* [n]: its index among the table states, -1 */
    int ntab;
    int* tab;       /* [ntab]: the table states, by state number */
    int* gix;       /* [n]: a state in code that a table state goes on to: its k in HT_RT_GO | k, -1 */
    int ngo;
    int* go;        /* [ngo]: those states */
} layout_t;

/* The next state of st for its k-th way out (literals, then masks: -1
   none), and how many ways out it has. */
int layout__out(const au_state_t* st, int k);
int layout__nouts(const au_state_t* st);

/* The layout of au: code within code_weight in all, main_weight in
   PREFIX__match, chunk_weight in each further function. */
void layout__build(const au_t* au, layout_t* l, int code_weight, int chunk_weight, int main_weight);
void layout__free(layout_t* l);

#endif
