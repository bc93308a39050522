/* codegen/lang.h — the parameter languages as htgen uses them: re2c text,
 * and the proofs behind conflicts, subsumption and the automaton's
 * predicate relations (codegen/lang.c). The languages come from the front
 * end (dsl.h's rx_t).
 */
#ifndef HT_CODEGEN_LANG_H
#define HT_CODEGEN_LANG_H

#include "dsl.h"

/* Appends re2c syntax for r to the buffer. */
void rx__emit(dsl_buf_t* b, const rx_t* r);
/* Appends the quantifier of a repetition, min to max times (max < 0: no
 * bound): *, +, ?, {n}, {n,} or {n,m}. re2c and ECMA-262 (emit_openapi.c's
 * patterns) write these alike. */
void rx__emit_quant(dsl_buf_t* b, int min, int max);
/* Do the two languages intersect? Also returns one common string (witness,
 * up to cap-1 bytes, NUL-terminated) when they do. */
bool rx__intersects(const rx_t* x, const rx_t* y, char* witness, size_t cap);
/* Is every string of x also one of y (L(x) ⊆ L(y))? Exact; false also when
 * the automata are too large to decide. */
bool rx__subset(const rx_t* x, const rx_t* y);

#endif /* HT_CODEGEN_LANG_H */
