/* codegen/emit.h — the emitters, one per output file, and what they share.
 *
 *   PREFIX_routes.h     emit_header.c    types, route ids, prototypes
 *   PREFIX_routes.re    emit_matcher.c   the matcher (re2c input); its automaton as
 *                       emit_states.c    code and as tables (emit_matcher.h)
 *                       emit_tables.c
 *   PREFIX_dispatch.c   emit_dispatch.c  the server callback, body policy, mounts
 *   PREFIX_mime.gperf   emit_mime.c      `mime` lines (gperf input)
 *   PREFIX_embed.c/.bin embed.c          `embed` trees (embed.h)
 *   (both .h and .re)   emit_urls.c      the URL builders (reverse routing)
 *   OpenAPI 3.1 JSON    emit_openapi.c   htgen --openapi
 *
 * Output is byte-for-byte reproducible: no dates, no absolute paths (the
 * routes file is named by its base name in banners and #line directives).
 * The fixed code they would otherwise repeat in every file lives in the
 * runtime's headers, <ht/route_rt.h> and <ht/route_dispatch.h>.
 */
#ifndef HT_CODEGEN_EMIT_H
#define HT_CODEGEN_EMIT_H

#include "dsl.h"
#include "plan.h"

typedef struct gen {
    dsl_file_t* f;
    const plan_t* plan; /* for the matcher */
    const char* base;   /* routes file base name */
    const char* P;      /* prefix */
    char U[128];        /* upper-case prefix */
    bool* stem1;        /* [route index]: the first route of its params struct */
    /* The matcher's layout (emit_matcher.c): how much of the automaton is
       code, and the most in one function; 0: the defaults. -1 code weight:
       no state as code (tests). */
    int code_weight, chunk_weight;
} gen_t;

/* Fills g's names and stem1 for f (after a successful parse). */
void gen__init(gen_t* g, dsl_file_t* f, const char* base);
void gen__free(gen_t* g);

/* ---- the files ---- */
void emit_header(const gen_t* g, dsl_buf_t* b, const char* hname);
void emit_matcher(const gen_t* g, dsl_buf_t* b);
void emit_dispatch(const gen_t* g, dsl_buf_t* b, const char* mount_base);
void emit_mime(const gen_t* g, dsl_buf_t* b);
/* `host` blocks (only with some): PREFIX__match_host, in the matcher and
 * the header (emit_host.c). */
void emit_host__matcher(const gen_t* g, dsl_buf_t* b);
void emit_host__header(const gen_t* g, dsl_buf_t* b);
/* The URL builders' declarations (PREFIX_routes.h, hname for the #line
   back to itself) and definitions (PREFIX_routes.re: g->plan set). */
void emit_url_decls(const gen_t* g, dsl_buf_t* b, const char* hname);
void emit_url_defs(const gen_t* g, dsl_buf_t* b);
/* The OpenAPI 3.1 document of g->f (info.version: version). Routes it
   cannot describe (custom methods, a path OpenAPI cannot tell from an
   earlier one) are left out with a warning on g->f->src. */
void emit_openapi(const gen_t* g, dsl_buf_t* b, const char* version);

/* ---- shared helpers ---- */
/* In a file with host blocks, how many literal bytes at the start of r's
 * pieces are its host pseudo-segment ("/ api.example.com", "/ " outside
 * blocks: dsl_host__apply), which a URL or an OpenAPI path leaves out;
 * else 0. */
size_t emit__host_skip(const dsl_file_t* f, const dsl_route_t* r);
/* The DO-NOT-EDIT banner between open and close ("/ *", "* /"). */
void emit__banner(const gen_t* g, dsl_buf_t* b, const char* open, const char* close);
/* s as a C string literal. */
void emit__cstr(dsl_buf_t* b, const char* s);
/* Route r's header options (cache=, header=, cors=) as `static const
 * ht_headers_t NAME` and its tables NAMErules_, NAMEorigins_, NAMEcors_
 * (NAME ends with '_'; emit_headers.c). */
void emit__header_set(dsl_buf_t* b, const dsl_route_t* r, const char* name);
/* A pattern inside a C comment ("*" "/" kept apart). */
void emit__comment_text(dsl_buf_t* b, const char* s);
/* Generated text with $P (the prefix) and $U (its upper case) filled in:
   the long fixed parts read as the C they produce. */
void emit__tpl(dsl_buf_t* b, const gen_t* g, const char* t);
/* A method name as a C identifier: custom tokens may hold '-', '.', ... */
void emit__method_ident(const char* m, char* out, size_t cap);
/* The URL builder's name after PREFIX__url_: the handler, with _2, _3...
   as in route ids for repeats; mount_N, embed_N. */
void emit__url_name(const dsl_route_t* r, char* out, size_t cap);
/* The params struct name stem: the handler, or "mount". */
const char* emit__stem(const dsl_route_t* r);
/* A parameter kind's name in comments: u64, slug, segment, ... */
const char* emit__kind_name(dsl_pkind_t k);
/* ---- typed query parameters (emit_query.c) ---- */
/* Whether route r parses the query (it declares `?name` words or `strict`);
   whether some route of f does. */
bool emit__route_has_query(const dsl_route_t* r);
bool emit__has_query(const dsl_file_t* f);
/* r's query members of its params struct (after the path parameters). */
void emit__query_members(const dsl_route_t* r, dsl_buf_t* b);
/* PREFIX_dispatch.c: the parsers, and the switch that runs them after a match. */
void emit__query_parsers(const gen_t* g, dsl_buf_t* b);
void emit__query_calls(const gen_t* g, dsl_buf_t* b);
/* How many lines b holds (for #line back to the file itself). */
int emit__lines(const dsl_buf_t* b);

#endif /* HT_CODEGEN_EMIT_H */
