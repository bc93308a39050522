/* dsl/dsl.h — the routes.ht front end: text -> tokens (lexer.re) -> the
 * route model (parse.c: grammar and the checks a route or a name needs on
 * its own; regex.c: parameter regexes), with what htgen's other modules
 * share (util.c: arena, buffer, hash map, out of memory, diagnostics).
 * Conflicts between routes, precedence and the matcher are codegen's
 * (codegen/plan.h).
 *
 * The library htdsl (dsl/CMakeLists.txt), linked into htgen only (never
 * into libhachettp). The model owns
 * all its memory through one arena (dsl_arena_t); dsl_file__free releases
 * everything at once. Every diagnostic goes through dsl_diag(), which prints
 * `file:line:col: error|warning: message`, the source line and a caret line
 * to stderr and counts errors; callers write no output when errors > 0.
 */
#ifndef HT_DSL_H
#define HT_DSL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ht/types.h> /* nullptr on compilers without it */

/* ---- out of memory: "htgen: out of memory" and exit status 1 ---- */
__attribute__((noreturn)) void dsl_oom(void);
void* dsl_xmalloc(size_t n);
void* dsl_xcalloc(size_t n, size_t size);
void* dsl_xrealloc(void* p, size_t n);
char* dsl_xstrndup(const char* s, size_t n);

/* ---- arena: every model allocation, freed in one go ---- */
typedef struct dsl_arena {
    struct dsl_chunk* head;
} dsl_arena_t;
void* dsl_arena__alloc(dsl_arena_t* a, size_t n); /* zeroed; aborts on OOM */
char* dsl_arena__strndup(dsl_arena_t* a, const char* s, size_t n);
void dsl_arena__free(dsl_arena_t* a);

/* ---- source + diagnostics ---- */
typedef struct dsl_src {
    const char* name; /* as given on the command line */
    const char* text; /* file contents, NOT NUL-terminated for the lexer */
    size_t len;
    int errors, warnings;
} dsl_src_t;

typedef struct dsl_loc {
    int line, col; /* 1-based; col counts bytes */
} dsl_loc_t;

__attribute__((format(printf, 4, 5))) void dsl_diag(dsl_src_t* src, dsl_loc_t at, bool error,
                                                    const char* fmt, ...);
/* A note attached to the previous diagnostic: its source line and caret
 * like the diagnostic's, not counted. */
__attribute__((format(printf, 3, 4))) void dsl_note(dsl_src_t* src, dsl_loc_t at, const char* fmt,
                                                    ...);

/* Edit distance of a and b (adjacent transpositions count 1), or max + 1
 * when it is larger: "did you mean" hints (SPEC.md, Diagnostics). */
int dsl_edit_distance(const char* a, size_t na, const char* b, size_t nb, int max);

/* ---- lexer (dsl/lexer.re) ---- */
typedef enum dsl_tok_kind {
    DSL_T_EOF = 0,
    DSL_T_NL,    /* end of line (comments are skipped; the last one is kept in the lexer) */
    DSL_T_WORD,  /* a run of non-blank bytes other than | and # */
    DSL_T_PATH,  /* a word starting with '/': may contain | and # */
    DSL_T_ARROW, /* -> */
    DSL_T_PIPE,  /* | */
    DSL_T_BAD,   /* a byte that cannot start a token (control, NUL) */
    DSL_T_COMMENT, /* "#..." to the end of the line: only with dsl_lexer_t.comments */
} dsl_tok_kind_t;

typedef struct dsl_tok {
    dsl_tok_kind_t kind;
    const char* ptr;
    size_t len;
    dsl_loc_t loc;
} dsl_tok_t;

typedef struct dsl_lexer {
    const char* start;
    const char* cur;
    const char* lim; /* one past the last byte: the bounds check, no sentinel */
    const char* line_start;
    int line;
    bool comments; /* return comments as DSL_T_COMMENT (the formatter); false: skip them */
    /* The last comment skipped ('#' included) and its line: a route's
     * trailing comment becomes its description (dsl_route_t.doc). */
    const char* comment;
    size_t comment_len;
    int comment_line;
} dsl_lexer_t;

void dsl_lexer__init(dsl_lexer_t* lx, const char* text, size_t len); /* comments skipped */
dsl_tok_t dsl_lexer__next(dsl_lexer_t* lx);

/* ---- regular expressions (dsl/regex.c): a re2c-syntax subset ---- */
typedef enum rx_op { RX_EMPTY, RX_SET, RX_CAT, RX_ALT, RX_REP } rx_op_t;
typedef struct rx {
    rx_op_t op;
    uint8_t set[32]; /* RX_SET: bit b set = byte b accepted */
    struct rx *a, *b;
    int min, max; /* RX_REP: max < 0 = unbounded */
} rx_t;

rx_t* rx__set(dsl_arena_t* a, const uint8_t set[32]);
rx_t* rx__byte(dsl_arena_t* a, uint8_t c);
rx_t* rx__lit(dsl_arena_t* a, const char* s, size_t n); /* exact bytes */
rx_t* rx__cat(dsl_arena_t* a, rx_t* x, rx_t* y);
rx_t* rx__alt(dsl_arena_t* a, rx_t* x, rx_t* y);
rx_t* rx__rep(dsl_arena_t* a, rx_t* x, int min, int max);
/* Parses re2c-syntax text (strings "..", '..' case-insensitive, [classes],
 * [^classes], ., escapes, * + ? {n} {n,} {n,m}, |, parentheses; a bare
 * printable character stands for itself). On error returns nullptr and
 * stores a message and the byte offset of the problem. */
rx_t* rx__parse(dsl_arena_t* a, const char* s, size_t n, char* err, size_t errcap, size_t* erroff);
/* Removes the given byte from every set (anchoring a parameter to one segment).
 * Returns false when a set became empty. */
bool rx__remove_byte(rx_t* r, uint8_t c);
/* Can r match the empty string? */
bool rx__nullable(const rx_t* r);

/* ---- growable output buffer ---- */
typedef struct dsl_buf {
    char* ptr;
    size_t len, cap;
} dsl_buf_t;
void dsl_buf__put(dsl_buf_t* b, const char* s, size_t n);
void dsl_buf__puts(dsl_buf_t* b, const char* s);
__attribute__((format(printf, 2, 3))) void dsl_buf__printf(dsl_buf_t* b, const char* fmt, ...);
void dsl_buf__free(dsl_buf_t* b);

/* ---- the formatter (dsl/fmt.c): htgen --fmt ----
 * Lexical only (tokens and comments, no parsing), so it formats any file
 * that lexes, new syntax and files with semantic errors included, and the
 * parser sees the same tokens, line by line, before and after: a file's
 * meaning never changes. Appends the canonical text of src to out (SPEC.md,
 * "Tools"); false after a diagnostic (a byte that does not lex), with
 * nothing appended. */
bool dsl_fmt(dsl_src_t* src, dsl_buf_t* out);

/* ---- a hash map from byte strings to ints; keys are borrowed, not copied ---- */
typedef struct dsl_map {
    struct dsl_map_slot* slot;
    size_t cap, n;
} dsl_map_t;
/* The value of key, inserted as -1 (*added true) when new; valid until the
 * next insertion. */
int* dsl_map__at(dsl_map_t* m, const void* key, size_t len, bool* added);
int dsl_map__get(const dsl_map_t* m, const void* key, size_t len); /* -1: absent */
void dsl_map__free(dsl_map_t* m);
uint64_t dsl_hash(const void* p, size_t n, uint64_t seed); /* FNV-1a, mixed */

/* ---- the route model ---- */
#define DSL_MAX_METHODS 64

typedef enum dsl_pkind {
    DSL_P_NAME, /* {name}: one non-empty segment, percent-decoded */
    DSL_P_STR,  /* {name:str}: same as {name} */
    DSL_P_SLUG, /* [A-Za-z0-9_-]+, raw */
    DSL_P_U64,  /* decimal, 1..20 digits, <= UINT64_MAX */
    DSL_P_I64,  /* optional '-', decimal within int64_t */
    DSL_P_HEX,  /* 1..16 hex digits -> uint64_t */
    DSL_P_UUID, /* 8-4-4-4-12 hex digits, raw slice */
    DSL_P_REGEX,
    DSL_P_REST, /* {name...}: the rest of the path, may be empty, may hold '/' */
    DSL_P_PATH, /* {name:path...}: a rest that is safe to join to a directory: no
                   '.' / '..' / empty segment, no %2F, '\\', %5C or %00 (else 400) */
} dsl_pkind_t;

typedef struct dsl_param {
    dsl_pkind_t kind;
    const char* name;
    dsl_loc_t loc;
    rx_t* rx; /* the language of this parameter's bytes */
    int index; /* position among the route's parameters */
} dsl_param_t;

/* A path pattern is a sequence of pieces: literal bytes or one parameter. */
typedef struct dsl_piece {
    bool is_param;
    const char* lit;
    size_t lit_len;
    dsl_param_t param;
} dsl_piece_t;

/* A typed query parameter: one `?name:type` word between a route's path and
 * `->` (SPEC.md, "Query parameters"). Its values are percent-decoded ('+' is
 * a space) and checked against kind by the generated dispatch; its members
 * follow the path parameters in the handler's params struct: `T name`, plus
 * `bool has_name` when optional, or `T name[DSL_QUERY_REPEAT_MAX]` and
 * `size_t name_count` when repeated. Exactly one of required, optional,
 * repeated and def != nullptr holds. */
typedef struct dsl_qparam {
    const char* name;
    dsl_pkind_t kind; /* DSL_P_STR (also `?name` alone), _SLUG, _U64, _I64, _HEX or _UUID */
    const char* def;  /* `=default`: the text as written, quotes removed; it parses as kind */
    bool required;    /* `?name:type`: missing is 400 */
    bool optional;    /* `?name:type?`: no default, has_name says if given */
    bool repeated;    /* `?name:type*`: 0..DSL_QUERY_REPEAT_MAX values; more is 400 */
    dsl_loc_t loc;    /* of the word (its '?') */
} dsl_qparam_t;
#define DSL_QUERY_REPEAT_MAX 16

/* DSL_R_EMBED: `embed PREFIX DIR`, a mount whose tree is compiled in (codegen/embed.c). */
typedef enum dsl_rkind { DSL_R_HANDLER, DSL_R_MOUNT, DSL_R_EMBED } dsl_rkind_t;

/* Segment ranks: higher wins. A route's specificity is the vector of its
 * segment ranks, compared left to right. */
enum {
    DSL_RANK_REST = 0,
    DSL_RANK_PARAM = 1,       /* {name}, {name:str} alone */
    DSL_RANK_TYPED = 2,       /* typed or regex alone */
    DSL_RANK_AFFIX_PARAM = 3, /* literal prefix/suffix around {name} */
    DSL_RANK_AFFIX_TYPED = 4, /* literal prefix/suffix around typed/regex */
    DSL_RANK_LITERAL = 5,
};

typedef struct dsl_route {
    dsl_rkind_t kind;
    dsl_loc_t loc; /* of the first method token (or the mount keyword) */
    dsl_loc_t path_loc;
    uint64_t methods; /* bit i = method i of dsl_file_t.methods */
    const char* pattern;
    dsl_piece_t* pieces;
    int npieces;
    dsl_param_t** params; /* in order of appearance */
    int nparams;
    dsl_qparam_t* query;  /* `?name:type` words, in order (dsl/query.c) */
    int nquery;
    bool strict;          /* `strict`: a query parameter not declared is 400 */
    const char* handler; /* DSL_R_HANDLER */
    dsl_loc_t handler_loc;
    uint64_t body_limit; /* 0 = the server default */
    uint32_t timeout_ms; /* `timeout`: 0 = none (the server's defer_timeout_ms) */
    bool upstream;       /* `upstream`: a missed deadline is 504, not 503 */
    bool stream;         /* `stream`: the body is handed to the handler as it arrives */
    int* ranks;
    int nranks;
    rx_t* rx; /* the whole path */
    rx_t** segrx; /* one per segment (nranks) */
    const char* id_name; /* enum suffix, unique */
    int id;              /* 1-based, source order */
    const char* doc;     /* the line's trailing comment, '#' and outer blanks cut; nullptr: none */
    /* mount */
    const char* dir;
    const char* index_file;
    bool list, gzip;
    /* mount/embed header options (dsl/headers.c): Cache-Control from cache=
     * first, then each header= in order; cors= origins ("*" alone) */
    const char** hdr_names;
    const char** hdr_values;
    dsl_loc_t* hdr_locs;
    int nhdrs;
    const char** cors;
    int ncors;
    dsl_loc_t cors_loc;
    /* hooks of its groups (indexes into dsl_file_t.hooks), in call order:
     * before hooks outer group first, after hooks inner group first */
    const int* before;
    int nbefore;
    const int* after;
    int nafter;
    int host; /* its `host` block: 1 + index into dsl_file_t.hosts, 0 none */
} dsl_route_t;

typedef struct dsl_mime {
    const char* ext; /* without the dot, lower case */
    const char* type;
    dsl_loc_t loc;
} dsl_mime_t;

/* `errors PREFIX json` / `errors PREFIX -> handler`: how 404/405 (and, for
 * json, every error) under a path prefix are answered. */
typedef struct dsl_errors {
    const char* prefix;  /* "/api" (no trailing '/'), or "/" */
    const char* handler; /* nullptr: JSON errors */
    dsl_loc_t loc, handler_loc;
} dsl_errors_t;

/* A group's `before=NAME` or `after=NAME` hook: the C function PREFIX_NAME
 * (signatures: dsl/SPEC.md, Groups). One name is one kind of hook. */
typedef struct dsl_hook {
    const char* name;
    dsl_loc_t loc; /* its first use */
    bool after;
} dsl_hook_t;

/* A `host` block's pattern: "api.example.com" or "*.example.com", lower case. */
typedef struct dsl_host {
    const char* name;
    dsl_loc_t loc; /* its first block */
    bool wild;
} dsl_host_t;

typedef struct dsl_file {
    dsl_arena_t arena;
    dsl_src_t* src;
    const char* prefix; /* default "routes" */
    dsl_loc_t prefix_loc;
    const char* prefix_cli; /* set before parsing: htgen --prefix, wins over the file */
    /* `context C-TYPE [HEADER]`: the handlers' first parameter is a C-TYPE*. */
    const char* context;        /* "void" by default, "struct x", "union x" or a typedef name */
    const char* context_header; /* "x.h" or <x.h> as written, or nullptr */
    bool context_tag;           /* struct/union: forward-declared in PREFIX_routes.h */
    dsl_loc_t context_loc;
    bool slash_redirect; /* trailing_slash redirect|strict */
    const char* methods[DSL_MAX_METHODS];
    int nmethods; /* the HT_METHODS list first, then custom tokens */
    int nstd;     /* how many of methods[] are HT_METHODS */
    dsl_route_t** routes;
    int nroutes;
    dsl_mime_t* mimes;
    int nmimes;
    dsl_errors_t* errors; /* file order */
    int nerrors;
    dsl_hook_t* hooks; /* group hooks, by first use */
    int nhooks;
    dsl_host_t* hosts; /* `host` patterns, by first block */
    int nhosts;
} dsl_file_t;

/* A mount or embed line's header options (dsl/headers.c): `cache=`,
 * `header=` (repeatable) and `cors=`, each checked as the runtime's
 * ht_headers__check would at serve time. Returns 0 when key is none of
 * them, 1 when parsed into r, -1 after a diagnostic. */
int dsl_header_opt__parse(dsl_file_t* f, dsl_src_t* src, dsl_route_t* r, const char* key, size_t kl,
                          const char* val, dsl_loc_t vloc);
/* The line's options as a whole (a header= beside cache= or cors=). */
bool dsl_header_opt__finish(dsl_src_t* src, const dsl_route_t* r);
/* Whether r has header options (a header set to emit). */
bool dsl_route__has_headers(const dsl_route_t* r);

/* ---- groups (dsl/group.c) ----
 * `group PATH opts...` ... `end`: what the routes inside inherit. The
 * parser keeps the open groups as a stack (up: the enclosing one). */
typedef struct dsl_group {
    struct dsl_group* up;
    dsl_loc_t loc;      /* of the `group` keyword */
    const char* prefix; /* the joined literal prefix of it and its outer groups, without a
                           trailing '/'; "" for "/" */
    size_t plen;
    int before, after;  /* hook index, or -1 */
    uint64_t body;      /* body=SIZE, or 0 */
    uint32_t timeout_ms; /* timeout=DURATION, or 0 */
    bool upstream;
} dsl_group_t;
/* The group line after its keyword (kw): the prefix token and the option
 * words. Always returns a frame to push (an erroneous line still needs its
 * `end`); errors go to src. */
dsl_group_t* dsl_group__open(dsl_file_t* f, dsl_src_t* src, dsl_group_t* up, dsl_loc_t kw,
                             const dsl_tok_t* path, const dsl_tok_t* opts, int nopts);
/* A route's path inside group g: the joined pattern as a path token (its
 * location shifted so that columns within the route's own path are right). */
dsl_tok_t dsl_group__path(dsl_file_t* f, const dsl_group_t* g, const dsl_tok_t* path);
/* What route r inherits from g and its outer groups: body, timeout (unless
 * r sets its own), upstream, hooks. */
void dsl_group__inherit(dsl_file_t* f, const dsl_group_t* g, dsl_route_t* r);
/* Hook names against handler names (one C function each), after parsing. */
void dsl_group__check(dsl_file_t* f, dsl_src_t* src);

/* ---- hosts (dsl/host.c) ----
 * The pattern after `host` (t): checked and interned (blocks of one host
 * add up); 1 + its index, or 0 after a diagnostic. */
int dsl_host__open(dsl_file_t* f, dsl_src_t* src, const dsl_tok_t* t);
/* After parsing, in a file with host blocks: every route's path gets its
 * host's pseudo-segment in front (a blank and the pattern; a blank alone
 * outside blocks), which PREFIX__match_host matches (host.c). r->pattern
 * stays as written. Nothing without host blocks. */
void dsl_host__apply(dsl_file_t* f, dsl_src_t* src);
/* The hosts' lookup order, as indexes into f->hosts (malloc'd, the caller
 * frees): exact names in file order, then wildcards by suffix length,
 * longest first (file order among equals). PREFIX__match_host's table
 * (codegen/emit_host.c) and htgen --explain (codegen/explain.c) share it. */
int* dsl_host__order(const dsl_file_t* f);

/* Shared by the statements of parse.c and group.c: SIZE (bytes, or with
 * K / M / G), DURATION (an integer and ms, s, m or h; > 0, <= 1 h: a
 * diagnostic when not), and why a name cannot be a C function PREFIX_NAME
 * beside htgen's own (nullptr: it can). */
bool dsl_parse_size(const dsl_tok_t* t, uint64_t* out);
bool dsl_parse_duration(dsl_src_t* src, const dsl_tok_t* t, uint32_t* out);
const char* dsl_name__reserved(const char* s, size_t n);

/* Parses and checks the whole file; diagnostics go to stderr. `dir` is the
 * directory of the routes file (mount directories are relative to it).
 * Returns src->errors == 0. */
bool dsl_file__parse(dsl_file_t* f, dsl_src_t* src, const char* dir);
void dsl_file__free(dsl_file_t* f);
/* The C type a parameter of kind k has in the generated params struct (and
 * what makes two handlers' signatures equal). */
const char* dsl_param__ctype(dsl_pkind_t k);
int dsl_file__method_index(const dsl_file_t* f, const char* tok, size_t len);
/* RFC 9110 tchar: the bytes of a method token. */
bool dsl_is_tchar(unsigned char c);
/* A C identifier; a C23 keyword (which cannot name a handler, a parameter or
 * the prefix). */
bool dsl_is_ident(const char* s, size_t n);
bool dsl_is_c_keyword(const char* s, size_t n);
/* Parses the path pattern t into r's pieces, parameters and ranks (path.c);
 * false, with diagnostics on src, if it is not valid. */
bool dsl_path__parse(dsl_arena_t* a, dsl_src_t* src, dsl_route_t* r, const dsl_tok_t* t);
/* Parses one `?name...` word t into r->query (query.c), after the path was
 * parsed into r; false, with diagnostics on src, if it is not valid. */
bool dsl_query__parse(dsl_arena_t* a, dsl_src_t* src, dsl_route_t* r, const dsl_tok_t* t);
/* Whether text s[0..n) is a value of query type k (defaults; the generated
 * dispatch checks request values the same way, <ht/route_query.h>). */
bool dsl_query__value_ok(dsl_pkind_t k, const char* s, size_t n);
/* The same query parameters (names, C types, optional, repeated): what two
 * routes of one handler need, as they share its params struct. */
bool dsl_query__same(const dsl_route_t* a, const dsl_route_t* b);
/* A query type's name as written (u64, str, ...). */
const char* dsl_query__type_name(dsl_pkind_t k);

#endif /* HT_DSL_H */
