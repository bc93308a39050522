/* codegen/emit_matcher.h — what the three files that write PREFIX_routes.re
 * (the matcher, re2c input) share; internal to htgen.
 *
 *   emit_matcher.c  the file in order: route, mount and method tables, the
 *                   parameter languages and predicates, the captures,
 *                   PREFIX__fin; the helpers below
 *   emit_states.c   the automaton as code: its states, the functions they
 *                   are split into, PREFIX__match and its siblings
 *   emit_tables.c   the automaton as tables, for <ht/route_rt.h>'s
 *                   ht_rt__run (the states past the code budget)
 *
 * Where each state goes is codegen/layout.h's.
 */
#ifndef HT_CODEGEN_EMIT_MATCHER_H
#define HT_CODEGEN_EMIT_MATCHER_H

#include "emit.h"
#include "layout.h"

#include <stddef.h>
#include <stdint.h>

/* ---- literal bytes (emit_matcher.c) ---- */
/* The w bytes at s as a little-endian word (the generated constants are
   these; HT_RT_C16/32/64 swap them on a big-endian target). */
uint64_t emit_matcher__word(const char* s, size_t w);
/* C expressions: the w bytes at b + at (a load), the w bytes of s as the
   constant it is compared to. */
void emit_matcher__load(dsl_buf_t* b, size_t at, size_t w);
void emit_matcher__const(dsl_buf_t* b, const char* s, size_t w);
/* A C expression: the bytes [from, n) of s equal those at b + from ("1"
   when none); loads never reach past b + n. */
void emit_matcher__eq_from(dsl_buf_t* b, const char* s, size_t from, size_t n);
/* A literal inside a C comment: printable bytes, others as '.'. */
void emit_matcher__lit_comment(dsl_buf_t* b, const char* s, size_t n);

/* ---- states in comments (emit_matcher.c) ---- */
/* The route ids of the groups state st holds, into ids (room for
   st->nitems x methods); how many. */
int emit_matcher__state_routes(const gen_t* g, const au_state_t* st, int* ids);
/* " routes.ht:3, 7-9": the lines of st's routes (at most max numbers). */
void emit_matcher__state_lines(dsl_buf_t* b, const gen_t* g, const au_state_t* st, int max);

/* ---- the automaton ---- */
/* The table states of l, their walker's tables and PREFIX__cold (nothing
   when l has none; emit_tables.c). */
void emit_matcher__tables(dsl_buf_t* b, const gen_t* g, const layout_t* l);
/* The functions PREFIX__h1.. that hold the code states past
   PREFIX__match's (emit_states.c). */
void emit_matcher__chunks(dsl_buf_t* b, const gen_t* g, const layout_t* l);
/* PREFIX__match (and PREFIX__long where it has a hot copy), with its
   helpers PREFIX__col, PREFIX__other, PREFIX__probe (emit_states.c). */
void emit_matcher__match(dsl_buf_t* b, const gen_t* g, const layout_t* l);

#endif /* HT_CODEGEN_EMIT_MATCHER_H */
