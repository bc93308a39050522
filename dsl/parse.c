/* dsl/parse.c — recursive-descent parser and semantic checks for routes.ht:
 * the file loop, route lines, group/host blocks and the checks across
 * routes; the directives (mount, embed, mime, context, errors) are
 * directives.c's, blocks' options group.c's and host.c's.
 *
 * Grammar and semantics: dsl/SPEC.md. The parser recovers at the end of each
 * line, so one run reports every error in the file.
 */
#include "parser.h"

#include <ht/http.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The directive names, for the parser and its "did you mean" hint. */
static const char* const directives_[] = { "prefix", "context", "mount", "embed", "mime", "trailing_slash", "errors",
                                           "group", "end", "host" };

/* The entry of list[0..n) nearest to tok when it is a near miss (1 edit,
 * 2 for names of 6 bytes or more) and not tok itself; nullptr if none. */
static const char* near_miss_(const dsl_tok_t* tok, const char* const* list, int n) {
    const char* best = nullptr;
    int best_d = 3;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(list[i]);
        int max = len >= 6 ? 2 : 1;
        int d = dsl_edit_distance(tok->ptr, tok->len, list[i], len, max);
        if (d > 0 && d <= max && d < best_d) {
            best = list[i];
            best_d = d;
        }
    }
    return best;
}

/* ---- statements ---- */
int dsl_file__method_index(const dsl_file_t* f, const char* tok, size_t len) {
    for (int i = 0; i < f->nmethods; i++)
        if (strlen(f->methods[i]) == len && memcmp(f->methods[i], tok, len) == 0) return i;
    return -1;
}

bool dsl_parse_size(const dsl_tok_t* t, uint64_t* out) {
    uint64_t v = 0;
    size_t i = 0;
    if (t->len == 0 || !isdigit((unsigned char) t->ptr[0])) return false;
    while (i < t->len && isdigit((unsigned char) t->ptr[i])) {
        if (v > UINT64_MAX / 10) return false;
        v = v * 10 + (uint64_t) (t->ptr[i++] - '0');
    }
    uint64_t mul = 1;
    if (i < t->len) {
        char c = t->ptr[i++];
        if (c == 'K' || c == 'k')
            mul = 1024;
        else if (c == 'M' || c == 'm')
            mul = 1024 * 1024;
        else if (c == 'G' || c == 'g')
            mul = 1024ull * 1024 * 1024;
        else
            return false;
    }
    if (i != t->len || (v && mul > UINT64_MAX / v)) return false;
    *out = v * mul;
    return true;
}

/* A handler is the C function PREFIX_NAME (and PREFIX_NAME_params_t). htgen's
 * own symbols are PREFIX__x, or end in '_', and its types end in "_t": a name
 * that begins or ends with '_', holds "__" or ends in "_t" could meet one. */
const char* dsl_name__reserved(const char* s, size_t n) {
    bool dunder = false;
    for (size_t i = 1; i < n; i++) dunder = dunder || (s[i - 1] == '_' && s[i] == '_');
    if (s[0] == '_' || s[n - 1] == '_' || dunder)
        return "names that begin or end with '_' or hold '__' are left to htgen's own (PREFIX__dispatch, ...)";
    if (n >= 2 && s[n - 2] == '_' && s[n - 1] == 't')
        return "names ending in '_t' are left to types (PREFIX_route_t, PREFIX_NAME_params_t, ...)";
    return nullptr;
}

static bool handler_name_ok_(parser_t* p, const dsl_tok_t* t) {
    const char* s = t->ptr;
    size_t n = t->len;
    const char* why = dsl_name__reserved(s, n);
    if (!why) return true;
    dsl_diag(p->src, t->loc, true, "'%.*s' cannot name a handler: %s", (int) n, s, why);
    return false;
}

/* DURATION: an integer and a unit (ms, s, m, h), more than 0, at most 1 hour. */
bool dsl_parse_duration(dsl_src_t* src, const dsl_tok_t* t, uint32_t* out) {
    uint64_t v = 0;
    size_t i = 0;
    bool ok = t->kind == DSL_T_WORD && t->len && isdigit((unsigned char) t->ptr[0]);
    while (ok && i < t->len && isdigit((unsigned char) t->ptr[i])) {
        v = v * 10 + (uint64_t) (t->ptr[i++] - '0');
        if (v > 3600u * 1000) v = 3600u * 1000 + 1; /* over the cap whatever the unit: no overflow */
    }
    static const struct { const char* unit; uint32_t ms; } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 3600 * 1000 },
    };
    uint32_t mul = 0;
    for (size_t k = 0; ok && k < sizeof units / sizeof units[0]; k++)
        if (t->len - i == strlen(units[k].unit) && memcmp(t->ptr + i, units[k].unit, t->len - i) == 0)
            mul = units[k].ms;
    if (!ok || mul == 0) {
        dsl_diag(src, t->loc, true,
                 "expected a duration after 'timeout': an integer and ms, s, m or h (500ms, 5s, 2m)");
        return false;
    }
    if (v == 0) {
        dsl_diag(src, t->loc, true, "a timeout must be more than 0");
        return false;
    }
    if (v * mul > 3600u * 1000) {
        dsl_diag(src, t->loc, true, "timeout '%.*s' is over 1 hour", (int) t->len, t->ptr);
        return false;
    }
    *out = (uint32_t) (v * mul);
    return true;
}

/* Methods without a request body to stream (RFC 9110 gives theirs no meaning). */
static const char* bodyless_method_(const dsl_file_t* f, uint64_t methods) {
    static const char* const none[] = { "GET", "HEAD", "DELETE", "CONNECT", "OPTIONS", "TRACE" };
    for (size_t k = 0; k < sizeof none / sizeof none[0]; k++) {
        int mi = dsl_file__method_index(f, none[k], strlen(none[k]));
        if (mi >= 0 && methods >> mi & 1) return none[k];
    }
    return nullptr;
}

/* { route-opt }: body SIZE, timeout DURATION, upstream, stream, strict; each
 * at most once. On an error the line is skipped and false returned (no route). */
static bool route_opts_(parser_t* p, dsl_route_t* r) {
    bool seen[5] = { false };
    static const char* const names[5] = { "body", "timeout", "upstream", "stream", "strict" };
    while (!at_eol_(p)) {
        dsl_tok_t o = p->tok;
        int k = 0;
        while (k < 5 && !(o.kind == DSL_T_WORD && tok_is_(&o, names[k]))) k++;
        if (k == 5) {
            dsl_diag(p->src, o.loc, true,
                     "unknown route option '%.*s' (known: body SIZE, timeout DURATION, upstream, stream, strict)",
                     (int) o.len, o.ptr);
            goto fail;
        }
        if (seen[k]) {
            dsl_diag(p->src, o.loc, true, "route option '%s' given twice", names[k]);
            goto fail;
        }
        seen[k] = true;
        next_(p);
        if (k == 0) {
            if (p->tok.kind != DSL_T_WORD || !dsl_parse_size(&p->tok, &r->body_limit)) {
                dsl_diag(p->src, p->tok.loc, true,
                         "expected a body size limit after 'body' (bytes, or with K / M / G)");
                goto fail;
            }
            next_(p);
        } else if (k == 1) {
            if (!dsl_parse_duration(p->src, &p->tok, &r->timeout_ms)) goto fail;
            next_(p);
        } else if (k == 2) {
            r->upstream = true;
        } else if (k == 4) {
            r->strict = true; /* an undeclared query parameter is 400 */
        } else {
            const char* m = bodyless_method_(p->f, r->methods);
            if (m) {
                dsl_diag(p->src, o.loc, true,
                         "'stream' needs methods that carry a request body (POST, PUT, PATCH, ...), not %s", m);
                goto fail;
            }
            r->stream = true;
        }
    }
    return true;
fail:
    skip_line_(p);
    return false;
}

/* { "?" query-param }: the words between the path and '->' (dsl/query.c). */
static bool query_words_(parser_t* p, dsl_route_t* r) {
    bool ok = true;
    while (p->tok.kind == DSL_T_WORD && p->tok.ptr[0] == '?') {
        ok = dsl_query__parse(&p->f->arena, p->src, r, &p->tok) && ok;
        next_(p);
    }
    return ok;
}

static void route_line_(parser_t* p) {
    dsl_file_t* f = p->f;
    dsl_route_t* r = new_route_(p);
    r->kind = DSL_R_HANDLER;
    r->loc = p->tok.loc;
    bool ok = true;
    for (;;) {
        dsl_tok_t m = p->tok;
        if (m.kind != DSL_T_WORD) {
            dsl_diag(p->src, m.loc, true, "expected a method token");
            skip_line_(p);
            return;
        }
        bool tchar = true;
        for (size_t i = 0; i < m.len; i++) tchar = tchar && dsl_is_tchar((unsigned char) m.ptr[i]);
        if (!tchar) {
            dsl_diag(p->src, m.loc, true, "'%.*s' is not a valid method token (RFC 9110 tchar)",
                     (int) m.len, m.ptr);
            ok = false;
        } else {
            bool upper = true;
            for (size_t i = 0; i < m.len; i++) upper = upper && !islower((unsigned char) m.ptr[i]);
            if (!upper)
                dsl_diag(p->src, m.loc, false,
                         "method '%.*s' is not upper case; methods are case-sensitive", (int) m.len,
                         m.ptr);
            int mi = dsl_file__method_index(f, m.ptr, m.len);
            /* An extension method one typo away from a standard one (SPEC.md,
             * Methods): still compiled as written, with a warning. */
            const char* near = mi < 0 || mi >= f->nstd ? near_miss_(&m, f->methods, f->nstd)
                                                       : nullptr;
            if (near)
                dsl_diag(p->src, m.loc, false, "unknown method '%.*s'; did you mean '%s'?", (int) m.len, m.ptr,
                         near);
            if (mi < 0) {
                if (f->nmethods == DSL_MAX_METHODS) {
                    dsl_diag(p->src, m.loc, true, "too many distinct methods (at most %d)",
                             DSL_MAX_METHODS);
                    ok = false;
                } else {
                    mi = f->nmethods;
                    f->methods[f->nmethods++] = tokdup_(p, &m);
                }
            }
            if (mi >= 0) {
                if (r->methods >> mi & 1)
                    dsl_diag(p->src, m.loc, false, "method '%.*s' listed twice", (int) m.len, m.ptr);
                r->methods |= 1ull << mi;
            }
        }
        next_(p);
        if (p->tok.kind != DSL_T_PIPE) break;
        next_(p);
    }
    if (p->tok.kind != DSL_T_PATH) {
        dsl_diag(p->src, p->tok.loc, true, "expected a path starting with '/'");
        skip_line_(p);
        return;
    }
    dsl_tok_t path = p->tok;
    if (p->group) path = dsl_group__path(f, p->group, &path);
    if (!dsl_path__parse(&p->f->arena, p->src, r, &path)) ok = false;
    next_(p);
    ok = query_words_(p, r) && ok;
    if (p->tok.kind != DSL_T_ARROW) {
        dsl_diag(p->src, p->tok.loc, true, "expected '->' and a handler name after the path");
        skip_line_(p);
        return;
    }
    next_(p);
    if (p->tok.kind != DSL_T_WORD || !dsl_is_ident(p->tok.ptr, p->tok.len)) {
        dsl_diag(p->src, p->tok.loc, true, "expected a handler name (a C identifier)");
        skip_line_(p);
        return;
    }
    if (dsl_is_c_keyword(p->tok.ptr, p->tok.len)) {
        dsl_diag(p->src, p->tok.loc, true, "'%.*s' is a C keyword and cannot name a handler", (int) p->tok.len,
                 p->tok.ptr);
        skip_line_(p);
        return;
    }
    if (!handler_name_ok_(p, &p->tok)) ok = false;
    r->handler = tokdup_(p, &p->tok);
    r->handler_loc = p->tok.loc;
    next_(p);
    if (!route_opts_(p, r)) return;
    if (p->group) dsl_group__inherit(f, p->group, r);
    r->host = p->host;
    if (ok) add_route_(p, r);
}

/* group PATH opts... : opens a group (dsl/group.c) until its `end`. */
static void group_(parser_t* p) {
    dsl_loc_t kw = p->tok.loc;
    next_(p);
    dsl_tok_t path = p->tok;
    bool has_path = path.kind == DSL_T_PATH;
    if (!has_path)
        dsl_diag(p->src, path.loc, true, "expected a path prefix starting with '/' after 'group'");
    else
        next_(p);
    enum { MAX_OPTS = 16 };
    dsl_tok_t opts[MAX_OPTS];
    int n = 0;
    for (; !at_eol_(p); next_(p)) {
        if (n == MAX_OPTS) {
            dsl_diag(p->src, p->tok.loc, true, "too many group options (at most %d)", MAX_OPTS);
            skip_line_(p);
            break;
        }
        opts[n++] = p->tok;
    }
    p->group = dsl_group__open(p->f, p->src, p->group, kw, has_path ? &path : nullptr, opts, has_path ? n : 0);
}

/* host PATTERN: a block of routes for one Host (dsl/host.c), top level only. */
static void host_(parser_t* p) {
    dsl_loc_t kw = p->tok.loc;
    if (p->group || p->in_host) {
        dsl_loc_t o = p->group ? p->group->loc : p->host_loc;
        dsl_diag(p->src, kw, true, "a host block is top level only: this one is inside the %s at %s:%d:%d",
                 p->group ? "group" : "host block", p->src->name, o.line, o.col);
        p->stray_hosts++;
        skip_line_(p);
        return;
    }
    next_(p);
    p->in_host = true;
    p->host_loc = kw;
    p->host = dsl_host__open(p->f, p->src, &p->tok);
    if (p->host == 0) {
        skip_line_(p);
        return;
    }
    next_(p);
    end_line_(p);
}

/* end: closes the innermost group, else the host block. */
static void end_(parser_t* p) {
    if (p->stray_hosts)
        p->stray_hosts--;
    else if (p->group)
        p->group = p->group->up;
    else if (p->in_host)
        p->in_host = false, p->host = 0;
    else
        dsl_diag(p->src, p->tok.loc, true, "'end' without an open 'group' or 'host'");
    next_(p);
    end_line_(p);
}

static void statement_(parser_t* p) {
    dsl_tok_t t = p->tok;
    if (t.kind == DSL_T_NL) return;
    if (t.kind != DSL_T_WORD) {
        dsl_diag(p->src, t.loc, true, "expected a route (METHOD /path -> handler) or a directive");
        skip_line_(p);
        return;
    }
    /* A route: a word followed by '|' or a path, or an upper-case word that
     * is not a directive (so "GET -> x" reports the missing path). */
    dsl_lexer_t save = p->lx;
    dsl_tok_t la = dsl_lexer__next(&save);
    bool directive = false;
    for (size_t i = 0; i < HT_ARRAY_LEN(directives_); i++) directive = directive || tok_is_(&t, directives_[i]);
    bool upper = true;
    for (size_t i = 0; i < t.len; i++) upper = upper && !islower((unsigned char) t.ptr[i]);
    /* "moutn /static ./public" would otherwise parse as a route with a
     * lower-case method: a lower-case near miss of a directive is one. */
    const char* hint = directive || upper ? nullptr : near_miss_(&t, directives_, (int) HT_ARRAY_LEN(directives_));
    if (hint) {
        dsl_diag(p->src, t.loc, true, "unknown directive '%.*s'; did you mean '%s'?", (int) t.len, t.ptr, hint);
        skip_line_(p);
        return;
    }
    if (!directive && (la.kind == DSL_T_PIPE || la.kind == DSL_T_PATH || upper)) {
        route_line_(p);
        return;
    }
    if ((p->group || p->in_host) && !tok_is_(&t, "group") && !tok_is_(&t, "end") && !tok_is_(&t, "host")) {
        dsl_diag(p->src, t.loc, true, "'%.*s' cannot be inside a %s (routes and groups can)", (int) t.len,
                 t.ptr, p->group ? "group" : "host block");
        skip_line_(p);
        return;
    }
    if (tok_is_(&t, "group")) {
        group_(p);
    } else if (tok_is_(&t, "host")) {
        host_(p);
    } else if (tok_is_(&t, "end")) {
        end_(p);
    } else if (tok_is_(&t, "prefix")) {
        next_(p);
        /* The prefix is always followed by '_' in C names: a keyword is fine. */
        if (p->tok.kind != DSL_T_WORD || !dsl_is_ident(p->tok.ptr, p->tok.len)) {
            dsl_diag(p->src, p->tok.loc, true, "expected a C identifier after 'prefix'");
            skip_line_(p);
            return;
        }
        if (p->f->prefix_loc.line)
            dsl_diag(p->src, t.loc, true, "'prefix' given twice (first at %s:%d:%d)", p->src->name,
                     p->f->prefix_loc.line, p->f->prefix_loc.col);
        p->f->prefix = tokdup_(p, &p->tok);
        p->f->prefix_loc = t.loc;
        next_(p);
        end_line_(p);
    } else if (tok_is_(&t, "trailing_slash")) {
        next_(p);
        if (p->tok.kind == DSL_T_WORD && tok_is_(&p->tok, "redirect"))
            p->f->slash_redirect = true;
        else if (p->tok.kind == DSL_T_WORD && tok_is_(&p->tok, "strict"))
            p->f->slash_redirect = false;
        else {
            dsl_diag(p->src, p->tok.loc, true, "expected 'redirect' or 'strict' after 'trailing_slash'");
            skip_line_(p);
            return;
        }
        next_(p);
        end_line_(p);
    } else if (tok_is_(&t, "context")) {
        dsl_parse__context(p);
    } else if (tok_is_(&t, "mount")) {
        dsl_parse__mount(p, false);
    } else if (tok_is_(&t, "mime")) {
        dsl_parse__mime(p);
    } else if (tok_is_(&t, "embed")) {
        dsl_parse__mount(p, true);
    } else if (tok_is_(&t, "errors")) {
        dsl_parse__errors(p);
    } else {
        dsl_diag(p->src, t.loc, true,
                 "unknown directive '%.*s' (known: prefix, context, mount, embed, mime, trailing_slash, errors, group, host; a route "
                 "is METHOD /path -> handler)",
                 (int) t.len, t.ptr);
        skip_line_(p);
    }
}

/* ---- checks over the whole file ---- */
static bool same_signature_(const dsl_route_t* a, const dsl_route_t* b) {
    if (a->nparams != b->nparams) return false;
    for (int i = 0; i < a->nparams; i++)
        if (strcmp(a->params[i]->name, b->params[i]->name) != 0 ||
            strcmp(dsl_param__ctype(a->params[i]->kind), dsl_param__ctype(b->params[i]->kind)) != 0)
            return false;
    return dsl_query__same(a, b);
}

static bool has_lower_(const char* s) {
    for (; *s; s++)
        if (islower((unsigned char) *s)) return true;
    return false;
}

static void check_(parser_t* p) {
    dsl_file_t* f = p->f;
    /* Handler names: one signature each; mounts are never handlers. Each
     * handler's first route and its route count, by name (a hash map: a
     * file of 10,000 routes is checked in linear time). */
    dsl_map_t first = { 0 };
    int* uses = dsl_xcalloc((size_t) f->nroutes + 1, sizeof *uses); /* at the first route */
    int* kth = dsl_xcalloc((size_t) f->nroutes + 1, sizeof *kth);   /* the handler's k-th route */
    for (int j = 0; j < f->nroutes; j++) {
        dsl_route_t* b = f->routes[j];
        if (b->kind != DSL_R_HANDLER) continue;
        bool added;
        int* at = dsl_map__at(&first, b->handler, strlen(b->handler), &added);
        if (added) *at = j;
        dsl_route_t* a = f->routes[*at];
        kth[j] = ++uses[*at];
        if (!added && !same_signature_(a, b)) {
            dsl_diag(p->src, b->handler_loc, true,
                     "handler '%s' used with different parameters than at %s:%d:%d", b->handler,
                     p->src->name, a->handler_loc.line, a->handler_loc.col);
            dsl_note(p->src, a->handler_loc, "'%s' first used here", a->handler);
        }
        if (f->prefix && strcmp(b->handler, "mount") == 0) {
            /* PREFIX_mount_params_t is taken by mounts. */
            dsl_diag(p->src, b->handler_loc, true, "'mount' is reserved and cannot name a handler");
        }
        /* PREFIX_NAME would be spelled like the generated constants
         * (PREFIX_ROUTE_x, PREFIX_SCRATCH_MAX, ...) when neither has a lower-case letter. */
        if (!has_lower_(f->prefix) && !has_lower_(b->handler))
            dsl_diag(p->src, b->handler_loc, true,
                     "handler '%s' with the upper-case prefix '%s': %s_%s could be a generated "
                     "constant's name; use a lower-case letter in either",
                     b->handler, f->prefix, f->prefix, b->handler);
    }
    /* Enum names: HANDLER, HANDLER_2, ...; mounts MOUNT_1, ... */
    int nm = 0, ne = 0;
    dsl_map_t ids = { 0 };
    for (int j = 0; j < f->nroutes; j++) {
        dsl_route_t* r = f->routes[j];
        char name[256];
        if (r->kind == DSL_R_EMBED) {
            snprintf(name, sizeof name, "EMBED_%d", ++ne);
        } else if (r->kind == DSL_R_MOUNT) {
            snprintf(name, sizeof name, "MOUNT_%d", ++nm);
        } else {
            int k = kth[j];
            snprintf(name, sizeof name, k > 1 ? "%s_%d" : "%s", r->handler, k);
        }
        for (char* c = name; *c; c++) *c = (char) toupper((unsigned char) *c);
        r->id_name = dsl_arena__strndup(&f->arena, name, strlen(name));
        /* Handlers differing only in case, or `x` twice beside `x_2`, or `mount_1`. */
        bool added;
        int* at = dsl_map__at(&ids, r->id_name, strlen(r->id_name), &added);
        if (added) {
            *at = j;
        } else {
            const dsl_route_t* o = f->routes[*at];
            dsl_diag(p->src, r->kind == DSL_R_HANDLER ? r->handler_loc : r->loc, true,
                     "this route's id ROUTE_%s is also the id of the route at %s:%d:%d; rename a "
                     "handler",
                     r->id_name, p->src->name, o->loc.line, o->loc.col);
        }
    }
    dsl_map__free(&ids);
    dsl_map__free(&first);
    free(uses);
    free(kth);
}

/* A route line's trailing comment (the lexer has read up to the line's end)
 * as the route's doc: the text after '#', outer blanks and CR cut. */
static void doc_(parser_t* p, dsl_route_t* r) {
    if (p->lx.comment_line != r->loc.line || !p->lx.comment) return;
    const char* s = p->lx.comment + 1;
    const char* e = p->lx.comment + p->lx.comment_len;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    if (e > s) r->doc = dsl_arena__strndup(&p->f->arena, s, (size_t) (e - s));
}

bool dsl_file__parse(dsl_file_t* f, dsl_src_t* src, const char* dir) {
    parser_t p = { .f = f, .src = src, .dir = dir };
    f->src = src;
    f->prefix = "routes";
    f->context = "void";
    f->slash_redirect = true;
#define HT_X_(id, tok) f->methods[f->nmethods++] = tok;
    HT_METHODS(HT_X_)
#undef HT_X_
    f->nstd = f->nmethods;
    dsl_lexer__init(&p.lx, src->text, src->len);
    next_(&p);
    while (p.tok.kind != DSL_T_EOF) {
        int before = f->nroutes;
        statement_(&p);
        if (f->nroutes > before) doc_(&p, f->routes[f->nroutes - 1]);
        if (p.tok.kind == DSL_T_NL) next_(&p);
    }
    for (; p.group; p.group = p.group->up)
        dsl_diag(src, p.group->loc, true, "'group' not closed: expected 'end' before the end of the file");
    if (p.in_host)
        dsl_diag(src, p.host_loc, true, "'host' block not closed: expected 'end' before the end of the file");
    dsl_host__apply(f, src); /* before the conflicts (codegen), which are then per host */
    if (f->prefix_cli) f->prefix = f->prefix_cli;
    check_(&p);
    dsl_group__check(f, src); /* over the routes that parsed: all errors in one run */
    if (f->nroutes == 0 && src->errors == 0)
        dsl_diag(src, (dsl_loc_t){ 1, 1 }, true, "no routes: the file defines nothing to match");
    return src->errors == 0;
}

void dsl_file__free(dsl_file_t* f) { dsl_arena__free(&f->arena); }
