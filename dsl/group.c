/* dsl/group.c — `group PATH opts...` ... `end`: a literal prefix and the
 * options (before=, after=, timeout=, body=, upstream) that the routes
 * inside inherit, nested groups included. The parser (parse.c) reads the
 * lines and keeps the stack of open groups; this file checks a group line,
 * joins prefixes, hands a route what it inherits and checks hook names.
 * Routes come out flat (dsl_file_t.routes), so conflicts and the matcher
 * see no groups. Semantics: dsl/SPEC.md, Groups.
 */
#include "dsl.h"

#include <string.h>

static dsl_loc_t at_(dsl_loc_t base, size_t off) { return (dsl_loc_t){ base.line, base.col + (int) off }; }

/* The hook NAME of kind `after` (interned: one entry per name), or -1 after
 * a diagnostic. */
static int hook_(dsl_file_t* f, dsl_src_t* src, const char* key, const dsl_tok_t* v, bool after) {
    if (v->len == 0 || !dsl_is_ident(v->ptr, v->len) || dsl_is_c_keyword(v->ptr, v->len)) {
        dsl_diag(src, v->loc, true, "expected a hook name (a C identifier, not a keyword) after '%s='", key);
        return -1;
    }
    const char* why = dsl_name__reserved(v->ptr, v->len);
    if (why) {
        dsl_diag(src, v->loc, true, "'%.*s' cannot name a hook: %s", (int) v->len, v->ptr, why);
        return -1;
    }
    for (int i = 0; i < f->nhooks; i++) {
        const dsl_hook_t* h = &f->hooks[i];
        if (strlen(h->name) != v->len || memcmp(h->name, v->ptr, v->len) != 0) continue;
        if (h->after == after) return i;
        dsl_diag(src, v->loc, true,
                 "'%s' is %s hook (at %s:%d:%d); %s hook has another signature and needs another name",
                 h->name, h->after ? "an after" : "a before", src->name, h->loc.line, h->loc.col,
                 after ? "an after" : "a before");
        return -1;
    }
    dsl_hook_t* nh = dsl_arena__alloc(&f->arena, (size_t) (f->nhooks + 1) * sizeof *nh);
    if (f->nhooks) memcpy(nh, f->hooks, (size_t) f->nhooks * sizeof *nh);
    nh[f->nhooks] = (dsl_hook_t){ .name = dsl_arena__strndup(&f->arena, v->ptr, v->len), .loc = v->loc,
                                  .after = after };
    f->hooks = nh;
    return f->nhooks++;
}

/* The prefix: literal (no parameters), a valid path on its own. */
static bool prefix_ok_(dsl_file_t* f, dsl_src_t* src, const dsl_tok_t* path) {
    for (size_t i = 0; i < path->len; i++)
        if (path->ptr[i] == '{' || path->ptr[i] == '}') {
            dsl_diag(src, at_(path->loc, i), true,
                     "a group prefix is literal: parameters go in the routes' own paths");
            return false;
        }
    dsl_route_t scratch = { 0 };
    return dsl_path__parse(&f->arena, src, &scratch, path);
}

enum { OPT_BEFORE, OPT_AFTER, OPT_TIMEOUT, OPT_BODY, OPT_UPSTREAM, OPT_N };
static const char* const opt_names_[OPT_N] = { "before", "after", "timeout", "body", "upstream" };

dsl_group_t* dsl_group__open(dsl_file_t* f, dsl_src_t* src, dsl_group_t* up, dsl_loc_t kw,
                             const dsl_tok_t* path, const dsl_tok_t* opts, int nopts) {
    dsl_group_t* g = dsl_arena__alloc(&f->arena, sizeof *g);
    g->up = up;
    g->loc = kw;
    g->before = g->after = -1;
    /* The joined prefix: the outer one, then this one without its trailing '/'. */
    size_t own = path && prefix_ok_(f, src, path) ? path->len : 0;
    while (own > 0 && path->ptr[own - 1] == '/') own--;
    size_t outer = up ? up->plen : 0;
    char* pre = dsl_arena__alloc(&f->arena, outer + own + 1);
    if (outer) memcpy(pre, up->prefix, outer);
    if (own) memcpy(pre + outer, path->ptr, own);
    g->prefix = pre;
    g->plen = outer + own;
    bool seen[OPT_N] = { false };
    for (int i = 0; i < nopts; i++) {
        const dsl_tok_t* o = &opts[i];
        const char* eq = o->kind == DSL_T_WORD ? memchr(o->ptr, '=', o->len) : nullptr;
        size_t kl = eq ? (size_t) (eq - o->ptr) : o->len;
        int k = 0;
        while (k < OPT_N && !(strlen(opt_names_[k]) == kl && memcmp(o->ptr, opt_names_[k], kl) == 0)) k++;
        if (o->kind != DSL_T_WORD || k == OPT_N || (k == OPT_UPSTREAM) != (eq == nullptr)) {
            dsl_diag(src, o->loc, true,
                     "unknown group option '%.*s' (known: before=HOOK, after=HOOK, timeout=DURATION, "
                     "body=SIZE, upstream)",
                     (int) o->len, o->ptr);
            continue;
        }
        if (seen[k]) {
            dsl_diag(src, o->loc, true, "group option '%s' given twice", opt_names_[k]);
            continue;
        }
        seen[k] = true;
        dsl_tok_t v = { .kind = DSL_T_WORD, .ptr = eq ? eq + 1 : o->ptr + o->len,
                        .len = eq ? o->len - kl - 1 : 0, .loc = at_(o->loc, kl + 1) };
        switch (k) {
        case OPT_BEFORE: g->before = hook_(f, src, "before", &v, false); break;
        case OPT_AFTER: g->after = hook_(f, src, "after", &v, true); break;
        case OPT_TIMEOUT: (void) dsl_parse_duration(src, &v, &g->timeout_ms); break;
        case OPT_BODY:
            if (!dsl_parse_size(&v, &g->body))
                dsl_diag(src, v.loc, true, "expected a body size limit after 'body=' (bytes, or with K / M / G)");
            break;
        default: g->upstream = true; break;
        }
    }
    return g;
}

dsl_tok_t dsl_group__path(dsl_file_t* f, const dsl_group_t* g, const dsl_tok_t* path) {
    char* s = dsl_arena__alloc(&f->arena, g->plen + path->len + 1);
    memcpy(s, g->prefix, g->plen);
    memcpy(s + g->plen, path->ptr, path->len);
    /* Diagnostics point into the route's own path: the prefix, checked on
     * its group line, has none. */
    return (dsl_tok_t){ .kind = DSL_T_PATH, .ptr = s, .len = g->plen + path->len,
                        .loc = { path->loc.line, path->loc.col - (int) g->plen } };
}

void dsl_group__inherit(dsl_file_t* f, const dsl_group_t* g, dsl_route_t* r) {
    int nb = 0, na = 0;
    for (const dsl_group_t* q = g; q; q = q->up) {
        nb += q->before >= 0;
        na += q->after >= 0;
        /* The innermost setting wins; the route's own wins over all. */
        if (r->body_limit == 0) r->body_limit = q->body;
        if (r->timeout_ms == 0) r->timeout_ms = q->timeout_ms;
        r->upstream = r->upstream || q->upstream;
    }
    int* before = nb ? dsl_arena__alloc(&f->arena, (size_t) nb * sizeof *before) : nullptr;
    int* after = na ? dsl_arena__alloc(&f->arena, (size_t) na * sizeof *after) : nullptr;
    /* Walking out from the innermost group: before hooks fill from the end
     * (the outermost runs first), after hooks from the start (the innermost
     * runs first), like layers of middleware. */
    int bi = nb, ai = 0;
    for (const dsl_group_t* q = g; q; q = q->up) {
        if (q->before >= 0) before[--bi] = q->before;
        if (q->after >= 0) after[ai++] = q->after;
    }
    r->before = before;
    r->nbefore = nb;
    r->after = after;
    r->nafter = na;
}

void dsl_group__check(dsl_file_t* f, dsl_src_t* src) {
    /* PREFIX_NAME is one C function: a hook cannot share it with a handler
     * (another signature). Few hooks: a scan per hook. */
    for (int i = 0; i < f->nhooks; i++) {
        const dsl_hook_t* h = &f->hooks[i];
        const char* kind = h->after ? "after" : "before";
        for (int j = 0; j < f->nroutes; j++) {
            const dsl_route_t* r = f->routes[j];
            if (r->kind != DSL_R_HANDLER || strcmp(r->handler, h->name) != 0) continue;
            dsl_diag(src, h->loc, true, "%s hook '%s' is also the name of a handler (at %s:%d:%d): each is the "
                     "C function %s_%s, with another signature",
                     kind, h->name, src->name, r->handler_loc.line, r->handler_loc.col, f->prefix, h->name);
            dsl_note(src, r->handler_loc, "handler '%s' here", r->handler);
            break;
        }
        for (int j = 0; j < f->nerrors; j++) {
            const dsl_errors_t* e = &f->errors[j];
            if (!e->handler || strcmp(e->handler, h->name) != 0) continue;
            dsl_diag(src, h->loc, true, "%s hook '%s' is also the name of an errors handler (at %s:%d:%d)", kind,
                     h->name, src->name, e->handler_loc.line, e->handler_loc.col);
            break;
        }
    }
}
