/* dsl/parser.h — the parser's state and token helpers, shared by the
 * statements of parse.c (routes, blocks, the file) and directives.c (mount,
 * embed, mime, context, errors). Internal to htdsl. */
#ifndef HT_DSL_PARSER_H
#define HT_DSL_PARSER_H

#include "dsl.h"

#include <string.h>

typedef struct parser {
    dsl_file_t* f;
    dsl_src_t* src;
    dsl_lexer_t lx;
    dsl_tok_t tok;
    const char* dir;
    int nmounts;
    int cap_routes;
    dsl_group_t* group; /* the innermost open group, or nullptr */
    bool in_host;       /* inside a `host` block (opened at host_loc) */
    int host;           /* its host: 1 + index into f->hosts, 0 when the line was wrong */
    dsl_loc_t host_loc;
    int stray_hosts;    /* host lines refused inside a block: their `end`s are theirs */
} parser_t;

static inline void next_(parser_t* p) {
    for (;;) {
        p->tok = dsl_lexer__next(&p->lx);
        if (p->tok.kind != DSL_T_BAD) return;
        dsl_diag(p->src, p->tok.loc, true, "unexpected byte 0x%02X", (unsigned char) *p->tok.ptr);
    }
}

static inline void skip_line_(parser_t* p) {
    while (p->tok.kind != DSL_T_NL && p->tok.kind != DSL_T_EOF) next_(p);
}

static inline bool at_eol_(const parser_t* p) { return p->tok.kind == DSL_T_NL || p->tok.kind == DSL_T_EOF; }

static inline bool tok_is_(const dsl_tok_t* t, const char* s) {
    return t->len == strlen(s) && memcmp(t->ptr, s, t->len) == 0;
}

static inline char* tokdup_(parser_t* p, const dsl_tok_t* t) {
    return dsl_arena__strndup(&p->f->arena, t->ptr, t->len);
}

static inline dsl_loc_t at_(dsl_loc_t base, size_t off) { return (dsl_loc_t){ base.line, base.col + (int) off }; }

/* Expects a line end after a complete statement. */
static inline void end_line_(parser_t* p) {
    if (!at_eol_(p)) {
        dsl_diag(p->src, p->tok.loc, true, "unexpected '%.*s' at the end of the line", (int) p->tok.len,
                 p->tok.ptr);
        skip_line_(p);
    }
}

static inline dsl_route_t* new_route_(parser_t* p) {
    dsl_file_t* f = p->f;
    if (f->nroutes == p->cap_routes) {
        p->cap_routes = p->cap_routes ? p->cap_routes * 2 : 64;
        dsl_route_t** nr = dsl_arena__alloc(&f->arena, (size_t) p->cap_routes * sizeof *nr);
        if (f->nroutes) memcpy(nr, f->routes, (size_t) f->nroutes * sizeof *nr);
        f->routes = nr;
    }
    dsl_route_t* r = dsl_arena__alloc(&f->arena, sizeof *r);
    return r;
}

static inline void add_route_(parser_t* p, dsl_route_t* r) {
    p->f->routes[p->f->nroutes++] = r;
    r->id = p->f->nroutes;
}

/* ---- directives.c: one statement each, the current token its keyword ---- */
void dsl_parse__mount(parser_t* p, bool embed); /* mount and embed lines */
void dsl_parse__mime(parser_t* p);
void dsl_parse__context(parser_t* p);
void dsl_parse__errors(parser_t* p);

#endif /* HT_DSL_PARSER_H */
