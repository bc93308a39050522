/* dsl/directives.c — the directive statements of routes.ht that describe
 * what is served besides routes: mount and embed, mime, context and errors
 * (dsl/SPEC.md). The file loop and routes are parse.c's. */
#include "parser.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool onoff_(parser_t* p, const char* v, dsl_loc_t loc, bool* out) {
    if (strcmp(v, "on") == 0)
        *out = true;
    else if (strcmp(v, "off") == 0)
        *out = false;
    else {
        dsl_diag(p->src, loc, true, "expected 'on' or 'off'");
        return false;
    }
    return true;
}

/* mount PREFIX DIR [opts], and embed PREFIX DIR [opts]: the same line for a
 * tree read at run time or compiled in (codegen/embed.c). */
void dsl_parse__mount(parser_t* p, bool embed) {
    dsl_file_t* f = p->f;
    dsl_route_t* r = new_route_(p);
    r->kind = embed ? DSL_R_EMBED : DSL_R_MOUNT;
    const char* kw = embed ? "embed" : "mount";
    r->loc = p->tok.loc;
    next_(p);
    if (p->tok.kind != DSL_T_PATH) {
        dsl_diag(p->src, p->tok.loc, true, "expected a URL prefix starting with '/' after '%s'", kw);
        skip_line_(p);
        return;
    }
    dsl_tok_t pre = p->tok;
    for (size_t i = 0; i < pre.len; i++)
        if (pre.ptr[i] == '{' || pre.ptr[i] == '}') {
            dsl_diag(p->src, at_(pre.loc, i), true, "%s prefix is literal (no parameters)", embed ? "an embed" : "a mount");
            skip_line_(p);
            return;
        }
    /* PREFIX/{path...}; a trailing '/' in the prefix is not doubled. */
    size_t plen = pre.len;
    while (plen > 1 && pre.ptr[plen - 1] == '/') plen--;
    dsl_buf_t pat = { 0 };
    dsl_buf__put(&pat, pre.ptr, plen);
    dsl_buf__puts(&pat, plen == 1 ? "{path...}" : "/{path...}");
    dsl_tok_t synth = { .kind = DSL_T_PATH, .ptr = dsl_arena__strndup(&f->arena, pat.ptr, pat.len),
                        .len = pat.len, .loc = pre.loc };
    dsl_buf__free(&pat);
    bool ok = dsl_path__parse(&p->f->arena, p->src, r, &synth);
    next_(p);
    if (p->tok.kind != DSL_T_WORD && p->tok.kind != DSL_T_PATH) {
        dsl_diag(p->src, p->tok.loc, true, "expected a directory after the %s prefix", kw);
        skip_line_(p);
        return;
    }
    r->dir = tokdup_(p, &p->tok);
    {
        dsl_buf_t full = { 0 };
        if (r->dir[0] != '/' && p->dir && *p->dir) {
            dsl_buf__puts(&full, p->dir);
            dsl_buf__puts(&full, "/");
        }
        dsl_buf__puts(&full, r->dir);
        struct stat st;
        if (stat(full.ptr, &st) != 0 || !S_ISDIR(st.st_mode)) {
            dsl_diag(p->src, p->tok.loc, true,
                     "%s directory '%s' does not exist or is not a directory (relative paths "
                     "start at the routes file's directory)",
                     kw, r->dir);
            ok = false;
        }
        dsl_buf__free(&full);
    }
    next_(p);
    r->index_file = "index.html";
    r->gzip = embed; /* an embedded tree stores gzip variants unless gzip=off */
    while (!at_eol_(p)) {
        dsl_tok_t o = p->tok;
        const char* eq = o.kind == DSL_T_WORD ? memchr(o.ptr, '=', o.len) : nullptr;
        if (!eq) {
            dsl_diag(p->src, o.loc, true, "expected a %s option KEY=VALUE (index, %sgzip, cache, header, cors)", kw,
                     embed ? "" : "list, ");
            ok = false;
            next_(p);
            continue;
        }
        size_t kl = (size_t) (eq - o.ptr);
        char* val = dsl_arena__strndup(&f->arena, eq + 1, o.len - kl - 1);
        dsl_loc_t vloc = at_(o.loc, kl + 1);
        if (kl == 5 && memcmp(o.ptr, "index", 5) == 0) {
            if (!*val || strchr(val, '/')) {
                dsl_diag(p->src, vloc, true, "index= needs a file name");
                ok = false;
            }
            r->index_file = val;
        } else if (kl == 4 && memcmp(o.ptr, "list", 4) == 0) {
            ok = onoff_(p, val, vloc, &r->list) && ok;
            if (embed && r->list) {
                dsl_diag(p->src, o.loc, true, "an embedded tree has no directory listings (list=on)");
                ok = false;
            }
        } else if (kl == 4 && memcmp(o.ptr, "gzip", 4) == 0) {
            ok = onoff_(p, val, vloc, &r->gzip) && ok;
        } else {
            int h = dsl_header_opt__parse(f, p->src, r, o.ptr, kl, val, vloc);
            if (h == 0)
                dsl_diag(p->src, o.loc, true, "unknown %s option '%.*s' (known: index, %sgzip, cache, header, cors)",
                         kw, (int) kl, o.ptr, embed ? "" : "list, ");
            ok = h > 0 && ok;
        }
        next_(p);
    }
    ok = dsl_header_opt__finish(p->src, r) && ok;
    r->methods = 1ull << dsl_file__method_index(f, "GET", 3) | 1ull << dsl_file__method_index(f, "HEAD", 4);
    r->handler = nullptr;
    if (ok) {
        add_route_(p, r);
        p->nmounts++;
    }
}

void dsl_parse__mime(parser_t* p) {
    dsl_file_t* f = p->f;
    dsl_loc_t loc = p->tok.loc;
    next_(p);
    if (p->tok.kind != DSL_T_WORD) {
        dsl_diag(p->src, p->tok.loc, true, "expected a file extension after 'mime'");
        skip_line_(p);
        return;
    }
    dsl_tok_t ext = p->tok;
    size_t off = ext.ptr[0] == '.' ? 1 : 0;
    bool good = ext.len > off;
    for (size_t i = off; i < ext.len; i++)
        good = good && (isalnum((unsigned char) ext.ptr[i]) || ext.ptr[i] == '-' || ext.ptr[i] == '_' ||
                        ext.ptr[i] == '.');
    if (!good) {
        dsl_diag(p->src, ext.loc, true, "'%.*s' is not a file extension", (int) ext.len, ext.ptr);
        skip_line_(p);
        return;
    }
    next_(p);
    dsl_tok_t ty = p->tok;
    if (ty.kind != DSL_T_WORD || !memchr(ty.ptr, '/', ty.len)) {
        dsl_diag(p->src, ty.loc, true, "expected a media type like 'application/wasm'");
        skip_line_(p);
        return;
    }
    for (size_t i = 0; i < ty.len; i++)
        if (ty.ptr[i] == '"' || ty.ptr[i] == '\\') {
            dsl_diag(p->src, at_(ty.loc, i), true, "unexpected character in a media type");
            skip_line_(p);
            return;
        }
    char* e = dsl_arena__strndup(&f->arena, ext.ptr + off, ext.len - off);
    for (char* c = e; *c; c++) *c = (char) tolower((unsigned char) *c);
    for (int i = 0; i < f->nmimes; i++)
        if (strcmp(f->mimes[i].ext, e) == 0) {
            dsl_diag(p->src, ext.loc, true, "extension '.%s' already mapped at %s:%d:%d", e,
                     p->src->name, f->mimes[i].loc.line, f->mimes[i].loc.col);
            skip_line_(p);
            return;
        }
    dsl_mime_t* nm = dsl_arena__alloc(&f->arena, (size_t) (f->nmimes + 1) * sizeof *nm);
    if (f->nmimes) memcpy(nm, f->mimes, (size_t) f->nmimes * sizeof *nm);
    nm[f->nmimes++] = (dsl_mime_t){ .ext = e, .type = tokdup_(p, &ty), .loc = loc };
    f->mimes = nm;
    next_(p);
    end_line_(p);
}

/* context C-TYPE [HEADER]: C-TYPE is `struct NAME`, `union NAME` (declared
 * by htgen), `void`, or a typedef name, which needs the HEADER declaring it
 * ("app.h" or <app.h>, included by PREFIX_routes.h). */
void dsl_parse__context(parser_t* p) {
    dsl_file_t* f = p->f;
    dsl_loc_t at = p->tok.loc;
    next_(p);
    dsl_tok_t kw = p->tok;
    bool tag = kw.kind == DSL_T_WORD && (tok_is_(&kw, "struct") || tok_is_(&kw, "union"));
    if (tag) next_(p);
    dsl_tok_t t = p->tok;
    bool is_void = !tag && t.kind == DSL_T_WORD && tok_is_(&t, "void");
    if (t.kind != DSL_T_WORD || !dsl_is_ident(t.ptr, t.len) || (!is_void && dsl_is_c_keyword(t.ptr, t.len))) {
        dsl_diag(p->src, t.loc, true,
                 "expected a C type after '%.*s': struct NAME, union NAME, void, or a typedef name and "
                 "its header",
                 (int) (tag ? kw.len : 7), tag ? kw.ptr : "context");
        skip_line_(p);
        return;
    }
    next_(p);
    dsl_tok_t h = p->tok;
    bool has_header = !at_eol_(p);
    if (has_header) {
        char close = h.kind != DSL_T_WORD ? 0 : h.ptr[0] == '"' ? '"' : h.ptr[0] == '<' ? '>' : 0;
        bool ok = close && h.len > 2 && h.ptr[h.len - 1] == close;
        for (size_t i = 1; ok && i + 1 < h.len; i++)
            ok = h.ptr[i] != '"' && h.ptr[i] != '<' && h.ptr[i] != '>' && h.ptr[i] != '\\';
        if (!ok) {
            dsl_diag(p->src, h.loc, true, "expected the header of the context type: \"file.h\" or <file.h>");
            skip_line_(p);
            return;
        }
        next_(p);
        if (!at_eol_(p)) {
            end_line_(p);
            return;
        }
    } else if (!tag && !is_void) {
        dsl_diag(p->src, t.loc, true,
                 "the context type '%.*s' needs the header that declares it (context %.*s \"app.h\"), "
                 "or name a struct (context struct NAME)",
                 (int) t.len, t.ptr, (int) t.len, t.ptr);
        return;
    }
    if (f->context_loc.line) {
        dsl_diag(p->src, at, true, "'context' given twice (first at %s:%d:%d)", p->src->name,
                 f->context_loc.line, f->context_loc.col);
        return;
    }
    char type[320];
    snprintf(type, sizeof type, "%.*s%s%.*s", tag ? (int) kw.len : 0, kw.ptr, tag ? " " : "", (int) t.len,
             t.ptr);
    f->context = dsl_arena__strndup(&f->arena, type, strlen(type));
    f->context_header = has_header ? tokdup_(p, &h) : nullptr;
    f->context_tag = tag;
    f->context_loc = at;
}

/* errors PREFIX json | errors PREFIX -> handler */
void dsl_parse__errors(parser_t* p) {
    dsl_file_t* f = p->f;
    dsl_loc_t loc = p->tok.loc;
    next_(p);
    dsl_tok_t pre = p->tok;
    if (pre.kind != DSL_T_PATH) {
        dsl_diag(p->src, pre.loc, true, "expected a path prefix after 'errors' (like /api)");
        skip_line_(p);
        return;
    }
    for (size_t i = 0; i < pre.len; i++)
        if (pre.ptr[i] == '{' || pre.ptr[i] == '}' || pre.ptr[i] == '%' || pre.ptr[i] == '?' ||
            pre.ptr[i] == '#' || pre.ptr[i] == '|' || (pre.ptr[i] == '/' && i + 1 < pre.len && pre.ptr[i + 1] == '/')) {
            dsl_diag(p->src, at_(pre.loc, i), true, "an errors prefix is a literal path (no parameters, escapes, "
                                                    "'?', '#', '|' or '//')");
            skip_line_(p);
            return;
        }
    size_t plen = pre.len > 1 && pre.ptr[pre.len - 1] == '/' ? pre.len - 1 : pre.len; /* "/api/" is "/api" */
    const char* prefix = dsl_arena__strndup(&f->arena, pre.ptr, plen);
    for (int i = 0; i < f->nerrors; i++)
        if (strcmp(f->errors[i].prefix, prefix) == 0) {
            dsl_diag(p->src, pre.loc, true, "errors for '%s' already given at %s:%d:%d", prefix, p->src->name,
                     f->errors[i].loc.line, f->errors[i].loc.col);
            skip_line_(p);
            return;
        }
    next_(p);
    dsl_errors_t e = { .prefix = prefix, .loc = loc };
    if (p->tok.kind == DSL_T_WORD && tok_is_(&p->tok, "json")) {
        next_(p);
    } else if (p->tok.kind == DSL_T_ARROW) {
        next_(p);
        if (p->tok.kind != DSL_T_WORD || !dsl_is_ident(p->tok.ptr, p->tok.len) || dsl_is_c_keyword(p->tok.ptr, p->tok.len)) {
            dsl_diag(p->src, p->tok.loc, true, "expected a handler name (a C identifier) after '->'");
            skip_line_(p);
            return;
        }
        e.handler = tokdup_(p, &p->tok);
        e.handler_loc = p->tok.loc;
        next_(p);
    } else {
        dsl_diag(p->src, p->tok.loc, true, "expected 'json' or '-> handler' after the errors prefix");
        skip_line_(p);
        return;
    }
    dsl_errors_t* ne = dsl_arena__alloc(&f->arena, (size_t) (f->nerrors + 1) * sizeof *ne);
    if (f->nerrors) memcpy(ne, f->errors, (size_t) f->nerrors * sizeof *ne);
    ne[f->nerrors++] = e;
    f->errors = ne;
    end_line_(p);
}
