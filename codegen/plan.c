/* codegen/plan.c — specificity, conflicts, groups, lowering, the automaton
 * and the subsumption proofs (see plan.h). Every step is linear in the
 * routes, or in the routes that could meet: a file of 10,000 routes plans
 * in well under a second.
 */
#include "plan.h"

#include "lang.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- specificity */
int plan__cmp_spec(const dsl_route_t* a, const dsl_route_t* b) {
    for (int i = 0; i < a->nranks && i < b->nranks; i++)
        if (a->ranks[i] != b->ranks[i]) return a->ranks[i] > b->ranks[i] ? 1 : -1;
    if (a->nranks != b->nranks) return a->nranks > b->nranks ? 1 : -1;
    return 0;
}

void plan__spec_str(const dsl_route_t* r, char* buf, size_t cap) {
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->nranks && o + 3 < cap; i++)
        o += (size_t) snprintf(buf + o, cap - o, i ? ".%d" : "%d", r->ranks[i]);
}

void plan__methods_str(const dsl_file_t* f, uint64_t m, char* buf, size_t cap) {
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < f->nmethods; i++)
        if (m >> i & 1 && o + strlen(f->methods[i]) + 2 < cap)
            o += (size_t) snprintf(buf + o, cap - o, o ? "|%s" : "%s", f->methods[i]);
}

static bool is_sep_(const dsl_piece_t* pc) { return !pc->is_param && pc->lit_len == 1 && pc->lit[0] == '/'; }

/* ---------------------------------------------------------------- conflicts */
bool plan__conflicts(dsl_file_t* f) {
    int errors = f->src->errors;
    /* Conflicts: same specificity, common method, a common path. Segments
     * never contain '/' (except a final rest), so paths intersect exactly when
     * every segment pair does; that keeps the product automata small. Two
     * routes of the same specificity have their literal segments in the
     * same places, and those must be equal for a common path: only routes
     * with the same key (ranks, then the literal segments) are compared,
     * each with the earlier ones of its key, in file order. */
    dsl_map_t keys = { 0 };
    int* prev = dsl_xcalloc((size_t) f->nroutes + 1, sizeof *prev); /* the previous route of its key, -1 */
    char** keytext = dsl_xcalloc((size_t) f->nroutes + 1, sizeof *keytext);
    for (int j = 0; j < f->nroutes; j++) {
        dsl_route_t* b = f->routes[j];
        dsl_buf_t k = { 0 };
        for (int s = 0; s < b->nranks; s++) dsl_buf__put(&k, (const char*) &b->ranks[s], sizeof b->ranks[s]);
        /* the bytes of each literal segment; a NUL (never in a literal) for any other */
        for (int q = 0, sg = -1; q < b->npieces; q++) {
            const dsl_piece_t* pc = &b->pieces[q];
            if (is_sep_(pc)) {
                dsl_buf__put(&k, "/", 1);
                if (b->ranks[++sg] != DSL_RANK_LITERAL) dsl_buf__put(&k, "", 1);
            } else if (b->ranks[sg] == DSL_RANK_LITERAL) {
                dsl_buf__put(&k, pc->lit, pc->lit_len);
            }
        }
        keytext[j] = k.ptr;
        bool added;
        int* last = dsl_map__at(&keys, k.ptr, k.len, &added);
        prev[j] = *last;
        *last = j;
        /* the earlier routes of the key, in file order */
        int nsame = 0;
        for (int i = prev[j]; i >= 0; i = prev[i]) nsame++;
        int* same = dsl_xcalloc((size_t) nsame + 1, sizeof *same);
        for (int i = prev[j], q = nsame; i >= 0; i = prev[i]) same[--q] = i;
        for (int q = 0; q < nsame; q++) {
            dsl_route_t* a = f->routes[same[q]];
            uint64_t common = a->methods & b->methods;
            if (!common || plan__cmp_spec(a, b) != 0) continue;
            bool all = true;
            char wit[256], whole[1024];
            size_t wl = 0;
            /* With host blocks the first segment is the host's pseudo-segment
               (dsl/host.c): the witness is the rest, and the host is named. */
            int s0 = f->nhosts ? 1 : 0;
            for (int s = s0; s < a->nranks && all; s++) {
                all = rx__intersects(a->segrx[s], b->segrx[s], wit, sizeof wit);
                if (all && wl + strlen(wit) + 2 < sizeof whole) {
                    whole[wl++] = '/';
                    memcpy(whole + wl, wit, strlen(wit));
                    wl += strlen(wit);
                }
            }
            if (!all) continue;
            whole[wl] = '\0';
            if (s0 && a->host && wl + 64 < sizeof whole)
                snprintf(whole + wl, sizeof whole - wl, "' for Host '%.*s", 48, f->hosts[a->host - 1].name);
            char ms[256];
            int m0 = __builtin_ctzll(common);
            plan__methods_str(f, b->methods, ms, sizeof ms);
            dsl_diag(f->src, b->loc, true,
                     "route '%s %s' conflicts with %s:%d:%d: both match '%s %s' with the same "
                     "specificity",
                     ms, b->pattern, f->src->name, a->loc.line, a->loc.col, f->methods[m0], whole);
            plan__methods_str(f, a->methods, ms, sizeof ms);
            dsl_note(f->src, a->loc, "the other route: '%s %s'", ms, a->pattern);
        }
        free(same);
    }
    dsl_map__free(&keys);
    for (int j = 0; j < f->nroutes; j++) free(keytext[j]);
    free(keytext);
    free(prev);
    return f->src->errors == errors;
}

/* ---------------------------------------------------------------- lowering */
char plan__kind_code(dsl_pkind_t k) {
    switch (k) {
    case DSL_P_U64: return 'u';
    case DSL_P_HEX: return 'h';
    case DSL_P_I64: return 'i';
    case DSL_P_REST: return 'r';
    case DSL_P_PATH: return 'p';
    case DSL_P_NAME:
    case DSL_P_STR:
    case DSL_P_REGEX: return 'd';
    case DSL_P_SLUG:
    case DSL_P_UUID: return 's';
    }
    return 's';
}

/* The definition's name for a parameter kind (a regex: nullptr, named by
   its text). */
static const char* kind_def_(dsl_pkind_t k) {
    switch (k) {
    case DSL_P_NAME:
    case DSL_P_STR: return "seg";
    case DSL_P_SLUG: return "slug";
    case DSL_P_U64: return "u64";
    case DSL_P_I64: return "i64";
    case DSL_P_HEX: return "hex";
    case DSL_P_UUID: return "uuid";
    case DSL_P_REGEX:
    case DSL_P_REST:
    case DSL_P_PATH: break;
    }
    return nullptr;
}

/* Literal bytes as a re2c string: printable bytes as they are, others (and
   the string's own quote and backslash) as \xHH. */
static void quote_(dsl_buf_t* b, const char* s, size_t n) {
    dsl_buf__put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\')
            dsl_buf__put(b, (const char*) &s[i], 1);
        else
            dsl_buf__printf(b, "\\x%02X", c);
    }
    dsl_buf__put(b, "\"", 1);
}

/* The name of parameter pm's language, defining it on first use: a kind's
   language by the kind's name, a regex by its text (the map borrows the
   name, a static string, or the text, which the definition keeps). */
static const char* def_of_(plan_t* p, dsl_map_t* defs, const dsl_route_t* r, const dsl_param_t* pm) {
    const char* kn = kind_def_(pm->kind);
    if (kn) {
        int k = dsl_map__get(defs, kn, strlen(kn));
        if (k >= 0) return p->def[k].name;
    }
    dsl_buf_t text = { 0 };
    rx__emit(&text, pm->rx);
    dsl_buf__put(&text, "", 1);
    const char* key = kn ? kn : text.ptr;
    bool added;
    int* at = dsl_map__at(defs, key, strlen(key), &added);
    if (!added) {
        dsl_buf__free(&text);
        return p->def[*at].name;
    }
    int nre = 0;
    for (int i = 0; i < p->ndef; i++) nre += !kind_def_(p->def[i].param->kind);
    char name[32];
    snprintf(name, sizeof name, "%s%d", kn ? "" : "re", nre + 1);
    *at = p->ndef;
    p->def = dsl_xrealloc(p->def, (size_t) (p->ndef + 1) * sizeof *p->def);
    p->def[p->ndef++] = (plan_def_t){ .name = dsl_xstrndup(kn ? kn : name, strlen(kn ? kn : name)),
                                      .text = text.ptr, .first = r, .param = pm };
    return p->def[p->ndef - 1].name;
}

/* A segment with a parameter as a re2c rule over the definitions:
   "img-" u64 ".png". */
static char* seg_rule_(plan_t* p, dsl_map_t* defs, const dsl_route_t* r, int seg) {
    dsl_buf_t t = { 0 };
    int s = -1;
    for (int k = 0; k < r->npieces; k++) {
        const dsl_piece_t* pc = &r->pieces[k];
        if (is_sep_(pc)) {
            s++;
            continue;
        }
        if (s != seg) continue;
        if (t.len) dsl_buf__put(&t, " ", 1);
        if (pc->is_param)
            dsl_buf__puts(&t, def_of_(p, defs, r, &pc->param));
        else
            quote_(&t, pc->lit, pc->lit_len);
    }
    dsl_buf__put(&t, "", 1);
    return t.ptr;
}

static char* keep_(plan_t* p, char* s) {
    if (!(p->nkeys & (p->nkeys - 1))) /* at 0, 1, 2, 4, ...: doubling */
        p->keys = dsl_xrealloc(p->keys, (size_t) (p->nkeys ? p->nkeys * 2 : 1) * sizeof *p->keys);
    p->keys[p->nkeys++] = s;
    return s;
}

/* The route's segments for the automaton (seg[nranks]) and, when place is
   given, where its parameters lie. */
static void segments_(plan_t* p, dsl_map_t* defs, const dsl_route_t* r, au_seg_t* seg, plan_place_t* place) {
    int s = -1;
    for (int k = 0; k < r->npieces; k++) {
        const dsl_piece_t* pc = &r->pieces[k];
        if (is_sep_(pc)) {
            s++;
            seg[s] = (au_seg_t){ .kind = AU_LIT, .lit = "", .len = 0 };
            continue;
        }
        au_seg_t* sg = &seg[s];
        if (!pc->is_param) {
            if (sg->kind == AU_LIT && !sg->len) {
                sg->lit = pc->lit;
                sg->len = pc->lit_len;
            } else if (place && sg->kind != AU_LIT) {
                /* the suffix after this segment's parameter */
                for (int q = 0; q < r->nparams; q++)
                    if (place[q].seg == s) place[q].suf = pc->lit_len;
            }
            continue;
        }
        size_t pre = sg->kind == AU_LIT ? sg->len : 0;
        if (place) place[pc->param.index] = (plan_place_t){ .seg = s, .pre = pre };
        switch (r->ranks[s]) {
        case DSL_RANK_REST: *sg = (au_seg_t){ .kind = AU_REST, .lit = sg->lit, .len = pre }; break;
        case DSL_RANK_PARAM: *sg = (au_seg_t){ .kind = AU_NAME }; break;
        default:
            *sg = (au_seg_t){ .kind = AU_PRED, .rx = r->segrx[s],
                              .key = p ? keep_(p, seg_rule_(p, defs, r, s)) : nullptr }; /* no p: places only */
        }
    }
}

/* The rule of a route: its segments, literal ones as strings, the others as
   their rules. Two routes with the same text match the same paths. */
static char* rule_text_(plan_t* p, dsl_map_t* defs, const dsl_route_t* r) {
    dsl_buf_t t = { 0 };
    int s = -1;
    for (int k = 0; k < r->npieces; k++) {
        const dsl_piece_t* pc = &r->pieces[k];
        if (is_sep_(pc)) {
            s++;
            dsl_buf__puts(&t, s ? " \"/\"" : "\"/\"");
            if (r->ranks[s] == DSL_RANK_LITERAL || r->ranks[s] == DSL_RANK_REST) continue;
            char* rule = r->ranks[s] == DSL_RANK_PARAM ? dsl_xstrndup("seg", 3) : seg_rule_(p, defs, r, s);
            dsl_buf__printf(&t, " (%s)", rule);
            free(rule);
            continue;
        }
        if (r->ranks[s] == DSL_RANK_LITERAL || (r->ranks[s] == DSL_RANK_REST && !pc->is_param)) {
            dsl_buf__put(&t, " ", 1);
            quote_(&t, pc->lit, pc->lit_len);
        } else if (r->ranks[s] == DSL_RANK_REST) {
            dsl_buf__puts(&t, " (rest)");
        }
    }
    dsl_buf__put(&t, "", 1);
    return t.ptr;
}

/* ---------------------------------------------------------------- proofs */
/* A segment without parameter: its bytes into buf (false: it has one). */
static bool seg_lit_(const dsl_route_t* r, int seg, char* buf, size_t cap, size_t* len) {
    if (r->ranks[seg] != DSL_RANK_LITERAL) return false;
    int s = -1;
    *len = 0;
    for (int k = 0; k < r->npieces; k++) {
        const dsl_piece_t* pc = &r->pieces[k];
        if (is_sep_(pc)) {
            s++;
            continue;
        }
        if (s != seg || pc->is_param) continue;
        if (*len + pc->lit_len > cap) return false;
        memcpy(buf + *len, pc->lit, pc->lit_len);
        *len += pc->lit_len;
    }
    return true;
}

static bool has_rest_(const dsl_route_t* r) { return r->nranks && r->ranks[r->nranks - 1] == DSL_RANK_REST; }

/* Can a path match both? Segments never hold '/' except a final rest, so
   with as many segments, the paths meet when every segment pair does. */
static bool meet_(const dsl_route_t* a, const dsl_route_t* b) {
    if (a->nranks != b->nranks) {
        if (!has_rest_(a) && !has_rest_(b)) return false;
        return rx__intersects(a->rx, b->rx, nullptr, 0);
    }
    for (int s = 0; s < a->nranks; s++) {
        char la[256], lb[256];
        size_t na, nb;
        if (seg_lit_(a, s, la, sizeof la, &na) && seg_lit_(b, s, lb, sizeof lb, &nb) &&
            (na != nb || memcmp(la, lb, na) != 0))
            return false;
    }
    for (int s = 0; s < a->nranks; s++)
        if (!rx__intersects(a->segrx[s], b->segrx[s], nullptr, 0)) return false;
    return true;
}

/* Every path of b also a path of a? (same segment count; else: no) */
static bool within_(const dsl_route_t* b, const dsl_route_t* a) {
    if (a->nranks != b->nranks) return false;
    for (int s = 0; s < a->nranks; s++)
        if (!rx__subset(b->segrx[s], a->segrx[s])) return false;
    return true;
}

static int group_cmp_(const void* x, const void* y) {
    const plan_group_t* a = x;
    const plan_group_t* b = y;
    int c = plan__cmp_spec(a->rep, b->rep);
    if (c) return -c;
    return a->rep->id - b->rep->id;
}

void plan__free(plan_t* p) {
    for (int i = 0; i < p->ng; i++) {
        free(p->g[i].rule);
        free(p->g[i].route);
        free(p->g[i].seg);
    }
    free(p->g);
    for (int k = 0; k < p->nkeys; k++) free(p->keys[k]);
    free(p->keys);
    for (int k = 0; k < p->ndef; k++) {
        free(p->def[k].name);
        free(p->def[k].text);
    }
    free(p->def);
    for (int k = 0; k < p->nsig; k++) {
        free(p->sig[k].kinds);
        free(p->sig[k].place);
        free(p->sig[k].routes);
    }
    free(p->sig);
    for (int k = 0; k < p->nshape; k++) free(p->shape[k]);
    free(p->shape);
    free(p->rsig);
    au__free(&p->au);
    *p = (plan_t){ 0 };
}

/* Each route's capture signature: kind codes, then each parameter's place.
   Signatures and their shapes (kind strings) are numbered in order of first
   use, from 1 (0: no parameters). */
static void signatures_(plan_t* p) {
    const dsl_file_t* f = p->f;
    dsl_map_t bysig = { 0 }, byshape = { 0 };
    char** texts = dsl_xcalloc((size_t) f->nroutes + 2, sizeof *texts);
    p->sig = dsl_xcalloc((size_t) f->nroutes + 2, sizeof *p->sig);
    p->shape = dsl_xcalloc((size_t) f->nroutes + 2, sizeof *p->shape);
    p->rsig = dsl_xcalloc((size_t) f->nroutes + 1, sizeof *p->rsig);
    p->sig[0] = (plan_sig_t){ .kinds = dsl_xstrndup("", 0), .routes = dsl_xcalloc(1, sizeof(int)) };
    p->shape[0] = dsl_xstrndup("", 0);
    p->nsig = p->nshape = 1;
    bool added;
    *dsl_map__at(&bysig, "", 0, &added) = 0;
    *dsl_map__at(&byshape, "", 0, &added) = 0;
    int* cap = dsl_xcalloc((size_t) f->nroutes + 2, sizeof *cap);
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        plan_place_t* pl = dsl_xcalloc((size_t) r->nparams + 1, sizeof *pl);
        au_seg_t* sg = dsl_xcalloc((size_t) r->nranks + 1, sizeof *sg);
        segments_(nullptr, nullptr, r, sg, pl);
        free(sg);
        dsl_buf_t t = { 0 };
        for (int k = 0; k < r->nparams; k++) dsl_buf__printf(&t, "%c", plan__kind_code(r->params[k]->kind));
        size_t nk = t.len;
        for (int k = 0; k < r->nparams; k++) dsl_buf__printf(&t, " %d.%zu.%zu", pl[k].seg, pl[k].pre, pl[k].suf);
        dsl_buf__put(&t, "", 1);
        int* at = dsl_map__at(&bysig, t.ptr, t.len - 1, &added);
        if (added) {
            *at = p->nsig;
            texts[p->nsig] = t.ptr;
            plan_sig_t* s = &p->sig[p->nsig++];
            *s = (plan_sig_t){ .kinds = dsl_xstrndup(t.ptr, nk), .place = pl };
            /* the shape: the kinds' C types (u64/hex, i64, slice) */
            char* lay = dsl_xstrndup(s->kinds, nk);
            for (char* c = lay; *c; c++) *c = *c == 'h' ? 'u' : *c == 'd' || *c == 'r' || *c == 'p' ? 's' : *c;
            int* sh = dsl_map__at(&byshape, lay, nk, &added);
            if (added) {
                *sh = p->nshape;
                p->shape[p->nshape++] = lay;
            } else {
                free(lay);
            }
            s->shape = *sh;
        } else {
            free(t.ptr);
            free(pl);
        }
        plan_sig_t* s = &p->sig[*at];
        if (s->nroutes == cap[*at]) {
            cap[*at] = cap[*at] ? cap[*at] * 2 : 4;
            s->routes = dsl_xrealloc(s->routes, (size_t) cap[*at] * sizeof *s->routes);
        }
        s->routes[s->nroutes++] = r->id;
        p->rsig[r->id] = *at;
    }
    free(cap);
    for (int k = 0; k < p->nsig; k++) free(texts[k]);
    free(texts);
    dsl_map__free(&bysig);
    dsl_map__free(&byshape);
}

/* Groups in precedence order, the automaton, then the proof that every
   method of every route wins somewhere. */
static bool build_(plan_t* p, dsl_file_t* f, const char* base) {
    *p = (plan_t){ .f = f, .g = dsl_xcalloc((size_t) f->nroutes + 1, sizeof *p->g) };
    if (f->nroutes > 0xffff) { /* route ids are 16 bits in the captures' table (PREFIX__FOUND) */
        dsl_diag(f->src, f->routes[0xffff]->loc, true, "more than 65535 routes in one file");
        return false;
    }
    dsl_map_t defs = { 0 };
    /* Groups: routes with the same rule text and specificity (a hash map on
     * both), in file order of their first route. */
    dsl_map_t byrule = { 0 };
    char** keys = dsl_xcalloc((size_t) f->nroutes + 1, sizeof *keys);
    for (int j = 0; j < f->nroutes; j++) {
        dsl_route_t* r = f->routes[j];
        char* text = rule_text_(p, &defs, r);
        if (r->nparams > p->maxp) p->maxp = r->nparams;
        dsl_buf_t key = { 0 };
        for (int s = 0; s < r->nranks; s++) dsl_buf__printf(&key, "%d.", r->ranks[s]);
        dsl_buf__printf(&key, " %s", text);
        keys[j] = key.ptr;
        bool added;
        int* at = dsl_map__at(&byrule, key.ptr, key.len, &added);
        if (added) {
            *at = p->ng++;
            p->g[*at] = (plan_group_t){ .rep = r, .rule = text,
                                        .route = dsl_xcalloc((size_t) f->nmethods, sizeof(int)) };
        } else {
            free(text);
        }
        plan_group_t* gr = &p->g[*at];
        gr->methods |= r->methods;
        for (int mi = 0; mi < f->nmethods; mi++)
            if (r->methods >> mi & 1) gr->route[mi] = r->id; /* one per method: else a conflict */
    }
    dsl_map__free(&byrule);
    for (int j = 0; j < f->nroutes; j++) free(keys[j]);
    free(keys);
    qsort(p->g, (size_t) p->ng, sizeof *p->g, group_cmp_);
    for (int i = 0; i < p->ng; i++) {
        plan_group_t* a = &p->g[i];
        a->spec = i == 0 ? 0 : p->g[i - 1].spec + (plan__cmp_spec(p->g[i - 1].rep, a->rep) != 0);
    }

    au_group_t* ag = dsl_xcalloc((size_t) p->ng + 1, sizeof *ag);
    for (int i = 0; i < p->ng; i++) {
        plan_group_t* gr = &p->g[i];
        gr->seg = dsl_xcalloc((size_t) gr->rep->nranks + 1, sizeof *gr->seg);
        segments_(p, &defs, gr->rep, gr->seg, nullptr);
        ag[i] = (au_group_t){ .nseg = gr->rep->nranks, .seg = gr->seg, .methods = gr->methods,
                              .route = gr->route, .spec = gr->spec };
    }
    dsl_map__free(&defs);
    au_input_t in = { .g = ag, .ng = p->ng, .nmethods = f->nmethods, .nroutes = f->nroutes,
                      .get = dsl_file__method_index(f, "GET", 3),
                      .head = dsl_file__method_index(f, "HEAD", 4),
                      .options = dsl_file__method_index(f, "OPTIONS", 7) };
    char err[256];
    bool ok = au__build(&p->au, &in, err, sizeof err);
    free(ag);
    if (!ok) {
        int eg = p->au.err_group;
        dsl_diag(f->src, eg >= 0 ? p->g[eg].rep->loc : f->routes[0]->loc, true, "%s", err);
        return false;
    }
    /* Routes that no request reaches, for some method: each method of each
     * route must win at least one row of the automaton. Where one more
     * specific route covers a group whole, name it (searched only for the
     * groups that lost a method: linear when nothing is lost). */
    for (int j = 1; j < p->ng; j++) {
        plan_group_t* b = &p->g[j];
        bool lost = false;
        for (int mi = 0; mi < f->nmethods && !lost; mi++)
            lost = b->route[mi] && !(p->au.reached[b->route[mi]] >> mi & 1);
        for (int i = 0; i < j && lost; i++) {
            plan_group_t* a = &p->g[i];
            uint64_t common = a->methods & b->methods;
            if (!common || !meet_(a->rep, b->rep) || !within_(b->rep, a->rep)) continue;
            char ms[256];
            plan__methods_str(f, common, ms, sizeof ms);
            dsl_diag(f->src, b->rep->loc, true,
                     "route '%s %s' can never match %s: every such path goes to the more specific "
                     "route of %s:%d",
                     ms, b->rep->pattern, ms, base, a->rep->loc.line);
            dsl_note(f->src, a->rep->loc, "the more specific route: '%s'", a->rep->pattern);
            ok = false;
            break;
        }
    }
    if (!ok) return false;
    /* The rest: covered by several routes together. */
    for (int j = 0; j < f->nroutes; j++) {
        dsl_route_t* r = f->routes[j];
        uint64_t lost = r->methods & ~p->au.reached[r->id];
        if (!lost) continue;
        char ms[256];
        plan__methods_str(f, lost, ms, sizeof ms);
        dsl_diag(f->src, r->loc, true, "route '%s %s' can never match %s: more specific routes take every such path",
                 ms, r->pattern, ms);
        ok = false;
    }
    if (ok) signatures_(p);
    return ok;
}

bool plan__build(plan_t* p, dsl_file_t* f, const char* base) {
    if (build_(p, f, base)) return true;
    plan__free(p);
    return false;
}

/* ---------------------------------------------------------------- comments */
static int cmp_int_(const void* a, const void* b) {
    int x = *(const int*) a, y = *(const int*) b;
    return (x > y) - (x < y);
}

void plan__lines(const dsl_file_t* f, const char* base, const int* ids, int n, int max, dsl_buf_t* out) {
    int* ln = dsl_xcalloc((size_t) n + 1, sizeof *ln);
    for (int k = 0; k < n; k++) ln[k] = f->routes[ids[k] - 1]->loc.line;
    qsort(ln, (size_t) n, sizeof *ln, cmp_int_);
    dsl_buf__printf(out, "%s:", base);
    int shown = 0, k = 0;
    while (k < n && shown < max) {
        int a = ln[k], b = a;
        while (k < n && (ln[k] == b || ln[k] == b + 1)) b = ln[k++];
        dsl_buf__printf(out, shown ? ", %d" : "%d", a);
        if (b > a) dsl_buf__printf(out, "-%d", b);
        shown += b > a ? 2 : 1;
    }
    if (k < n) dsl_buf__printf(out, ", ... (%d routes)", n);
    free(ln);
}
