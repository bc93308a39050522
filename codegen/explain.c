/* codegen/explain.c — htgen --explain (explain.h): the matcher's answer for
 * one request, walked on the plan's automaton, and the reasons around it.
 */
#include "explain.h"

#include "automaton.h"
#include "lang.h"

#include <ht/route_rt.h> /* ht_rt__safe_path: {name:path...}'s check, the matcher's own */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the automaton, as PREFIX__match runs it ---- */

static bool in_rx_(const rx_t* rx, const char* s, size_t n) {
    dsl_arena_t tmp = { 0 };
    bool in = rx__intersects(rx, rx__lit(&tmp, s, n), nullptr, 0);
    dsl_arena__free(&tmp);
    return in;
}

static bool pred_holds_(const au_pred_t* q, const char* s, size_t n) {
    if (q->prefix) return n >= q->len && memcmp(s, q->lit, q->len) == 0;
    return in_rx_(q->rx, s, n);
}

/* The row where the path ends: one step per segment, a literal compared
   whole first, else the predicate mask and not-empty bit; a sink (only
   rests left) takes whatever follows. 0: nothing matched. */
static int walk_(const au_t* au, const char* s, size_t n) {
    if (!n || s[0] != '/' || memchr(s, 0, n)) return 0;
    int st = 0;
    size_t i = 1;
    for (;;) {
        const au_state_t* S = &au->st[st];
        if (S->sink) return S->row;
        size_t j = i;
        while (j < n && s[j] != '/') j++;
        const char* seg = s + i;
        size_t len = j - i;
        int to = -1;
        bool lit = false;
        for (int k = 0; k < S->nlit && !lit; k++)
            if (S->lit[k].len == len && (!len || memcmp(S->lit[k].s, seg, len) == 0)) {
                to = S->lit[k].to;
                lit = true;
            }
        if (!lit) {
            unsigned mk = 0;
            for (int k = 0; k < S->npred; k++)
                if (pred_holds_(&au->pred[S->pred[k]], seg, len)) mk |= 1u << k;
            to = S->to[mk << 1 | (len > 0)];
        }
        if (to < 0) return 0;
        st = to;
        if (j >= n) break;
        i = j + 1;
    }
    return au->st[st].row;
}

/* ---- a route's parameters in a path ---- */
enum { MAX_SEGS = 256 };

typedef struct segs {
    int n;
    size_t start[MAX_SEGS], end[MAX_SEGS];
} segs_t;

static bool split_(const char* s, size_t n, segs_t* sg) {
    sg->n = 0;
    size_t i = 1;
    for (;;) {
        if (sg->n == MAX_SEGS) return false;
        size_t j = i;
        while (j < n && s[j] != '/') j++;
        sg->start[sg->n] = i;
        sg->end[sg->n] = j;
        sg->n++;
        if (j >= n) return true;
        i = j + 1;
    }
}

/* Does route r match path s on its own (its segment languages)? */
static bool route_matches_(const dsl_route_t* r, const char* s, size_t n, const segs_t* sg) {
    for (int i = 0; i < r->nranks; i++) {
        if (i >= sg->n) return false;
        if (r->ranks[i] == DSL_RANK_REST && i == r->nranks - 1)
            return in_rx_(r->segrx[i], s + sg->start[i], n - sg->start[i]);
        if (!in_rx_(r->segrx[i], s + sg->start[i], sg->end[i] - sg->start[i])) return false;
    }
    return sg->n == r->nranks;
}

typedef struct place {
    int seg;
    size_t pre, suf;
} place_t;

/* Where each parameter of r lies (segment, literal bytes around it). */
static void places_(const dsl_route_t* r, place_t* pl) {
    int seg = -1, cur = -1;
    size_t lit = 0;
    for (int k = 0; k < r->npieces; k++) {
        const dsl_piece_t* pc = &r->pieces[k];
        if (!pc->is_param && pc->lit_len == 1 && pc->lit[0] == '/') {
            seg++;
            lit = 0;
            cur = -1;
            continue;
        }
        if (pc->is_param) {
            cur = pc->param.index;
            pl[cur] = (place_t){ .seg = seg, .pre = lit, .suf = 0 };
        } else if (cur >= 0) {
            pl[cur].suf += pc->lit_len;
        } else {
            lit += pc->lit_len;
        }
    }
}

static bool rest_(dsl_pkind_t k) { return k == DSL_P_REST || k == DSL_P_PATH; }

static bool decoded_(dsl_pkind_t k) {
    return k == DSL_P_NAME || k == DSL_P_STR || k == DSL_P_REGEX || rest_(k);
}

static int hex_(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes v into out (NUL-terminated); false on a bad escape or %00,
   which the matcher answers with BAD_REQUEST. */
static bool pct_decode_(const char* v, size_t n, dsl_buf_t* out) {
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '%') {
            int h = i + 2 < n ? hex_(v[i + 1]) : -1;
            int l = i + 2 < n ? hex_(v[i + 2]) : -1;
            if (h < 0 || l < 0 || (h == 0 && l == 0)) return false;
            c = (char) (h * 16 + l);
            i += 2;
        }
        dsl_buf__put(out, &c, 1);
    }
    dsl_buf__put(out, "", 1);
    out->len--;
    return true;
}

static const char* kind_name_(dsl_pkind_t k) {
    switch (k) {
    case DSL_P_NAME: return "{name}";
    case DSL_P_STR: return "str";
    case DSL_P_SLUG: return "slug";
    case DSL_P_U64: return "u64";
    case DSL_P_I64: return "i64";
    case DSL_P_HEX: return "hex";
    case DSL_P_UUID: return "uuid";
    case DSL_P_REGEX: return "regex";
    case DSL_P_REST: return "rest";
    case DSL_P_PATH: return "path...";
    }
    return "?";
}

/* The parameters of r in path s as "name = value (type)" lines into out
   (when out is not nullptr); false when one does not decode. */
static bool params_(const dsl_route_t* r, const char* s, size_t n, const segs_t* sg, dsl_buf_t* out,
                    const char** bad) {
    place_t* pl = dsl_xcalloc((size_t) r->nparams + 1, sizeof *pl);
    places_(r, pl);
    bool ok = true;
    for (int k = 0; k < r->nparams && ok; k++) {
        const dsl_param_t* q = r->params[k];
        size_t a = sg->start[pl[k].seg] + pl[k].pre;
        size_t e = rest_(q->kind) ? n : sg->end[pl[k].seg] - pl[k].suf;
        dsl_buf_t v = { 0 };
        if (q->kind == DSL_P_PATH && !ht_rt__safe_path(ht_slice__from(s + a, e - a))) {
            *bad = q->name;
            ok = false;
        } else if (decoded_(q->kind)) {
            if (!pct_decode_(s + a, e - a, &v)) {
                *bad = q->name;
                ok = false;
            }
        } else {
            dsl_buf__put(&v, s + a, e - a);
            dsl_buf__put(&v, "", 1);
            v.len--;
        }
        if (ok && out) {
            dsl_buf__printf(out, "%-9s %s = ", k ? "" : "params", q->name);
            if (q->kind == DSL_P_U64)
                dsl_buf__printf(out, "%" PRIu64, (uint64_t) strtoull(v.ptr, nullptr, 10));
            else if (q->kind == DSL_P_I64)
                dsl_buf__printf(out, "%" PRId64, (int64_t) strtoll(v.ptr, nullptr, 10));
            else if (q->kind == DSL_P_HEX)
                dsl_buf__printf(out, "%" PRIu64, (uint64_t) strtoull(v.ptr, nullptr, 16));
            else
                dsl_buf__printf(out, "\"%s\"", v.ptr ? v.ptr : "");
            dsl_buf__printf(out, " (%s)\n", kind_name_(q->kind));
        }
        dsl_buf__free(&v);
    }
    free(pl);
    return ok;
}

static bool bad_is_path_(const dsl_route_t* r, const char* name) {
    for (int k = 0; k < r->nparams; k++)
        if (r->params[k]->name == name) return r->params[k]->kind == DSL_P_PATH;
    return false;
}

/* ---- the answer ---- */

static explain_answer_t answer_(const plan_t* p, int mi, bool options, const char* s, size_t n) {
    const dsl_file_t* f = p->f;
    const au_t* au = &p->au;
    explain_answer_t a = { .status = EXPLAIN_NOT_FOUND };
    a.row = walk_(au, s, n);
    size_t cols = (size_t) f->nmethods + 1;
    if (a.row && mi >= 0) a.route = (int) au->fin[(size_t) a.row * cols + (size_t) mi];
    if (a.route) {
        segs_t sg;
        const char* bad = nullptr;
        if (split_(s, n, &sg) && !params_(f->routes[a.route - 1], s, n, &sg, nullptr, &bad))
            a.status = EXPLAIN_BAD_REQUEST;
        else
            a.status = EXPLAIN_FOUND;
        return a;
    }
    if (a.row) {
        a.allow = au->allow[a.row];
        a.status = options ? EXPLAIN_OPTIONS : EXPLAIN_METHOD_NOT_ALLOWED;
        return a;
    }
    /* trailing_slash redirect: the other form of the path matches some method */
    if (f->slash_redirect && n && s[0] == '/' && !memchr(s, 0, n)) {
        if (n > 1 && s[n - 1] == '/') {
            if (walk_(au, s, n - 1)) a.status = EXPLAIN_REDIRECT;
        } else {
            char* t = dsl_xmalloc(n + 1);
            memcpy(t, s, n);
            t[n] = '/';
            if (walk_(au, t, n + 1)) {
                a.status = EXPLAIN_REDIRECT;
                a.redirect_adds = true;
            }
            free(t);
        }
    }
    return a;
}

explain_answer_t explain__match(const plan_t* p, const char* method, size_t mlen, const char* s, size_t n) {
    int mi = dsl_file__method_index(p->f, method, mlen);
    explain_answer_t a = answer_(p, mi, mlen == 7 && memcmp(method, "OPTIONS", 7) == 0, s, n);
    if (a.status != EXPLAIN_FOUND) a.route = 0; /* as PREFIX__match's m->route */
    return a;
}

/* ---- host blocks, as PREFIX__match_host picks them ---- */

/* The block (index into f->hosts) for a Host value, or -1: the generated
   table's order (dsl_host__order) and the matcher's own ht_rt__host_block. */
static int host_block_(const dsl_file_t* f, const char* host, size_t hlen) {
    if (!f->nhosts || !host) return -1;
    int* o = dsl_host__order(f);
    ht_rt_host_t* t = dsl_xcalloc((size_t) f->nhosts, sizeof *t);
    char** segs = dsl_xcalloc((size_t) f->nhosts, sizeof *segs);
    for (int k = 0; k < f->nhosts; k++) {
        const dsl_host_t* h = &f->hosts[o[k]];
        size_t l = strlen(h->name);
        segs[k] = dsl_xmalloc(l + 2);
        segs[k][0] = ' ';
        memcpy(segs[k] + 1, h->name, l + 1);
        t[k] = (ht_rt_host_t){ .seg = segs[k], .len = (uint32_t) (l + 1), .wild = h->wild };
    }
    int k = ht_rt__host_block((ht_slice_t){ host, hlen }, t, f->nhosts);
    int b = k >= 0 ? o[k] : -1;
    for (int i = 0; i < f->nhosts; i++) free(segs[i]);
    free(segs);
    free(t);
    free(o);
    return b;
}

/* The path the automaton sees in a file with host blocks: "/ HOST" + s for
   block b, "/ " + s outside blocks (b < 0); s itself without host blocks.
   Returns the length of what was put in front. */
static size_t pseudo_(const dsl_file_t* f, int b, const char* s, size_t n, dsl_buf_t* out) {
    out->len = 0;
    size_t skip = 0;
    if (f->nhosts) {
        const char* name = b >= 0 ? f->hosts[b].name : "";
        dsl_buf__printf(out, "/ %s", name);
        skip = out->len;
    }
    dsl_buf__put(out, s, n);
    dsl_buf__put(out, "", 1);
    out->len--;
    return skip;
}

explain_answer_t explain__match_host(const plan_t* p, const char* method, size_t mlen, const char* host,
                                     size_t hlen, const char* s, size_t n) {
    const dsl_file_t* f = p->f;
    if (!f->nhosts) return explain__match(p, method, mlen, s, n);
    int b = host_block_(f, host, hlen);
    dsl_buf_t t = { 0 };
    explain_answer_t a;
    for (;;) {
        pseudo_(f, b, s, n, &t);
        a = explain__match(p, method, mlen, t.ptr, t.len);
        if (a.status != EXPLAIN_NOT_FOUND || b < 0) break;
        b = -1; /* then the routes outside host blocks */
    }
    dsl_buf__free(&t);
    return a;
}

/* ---- the report ---- */

static const char* rank_name_(int rank) {
    switch (rank) {
    case DSL_RANK_LITERAL: return "a literal segment";
    case DSL_RANK_AFFIX_TYPED: return "a typed parameter with a literal prefix/suffix";
    case DSL_RANK_AFFIX_PARAM: return "a {name} parameter with a literal prefix/suffix";
    case DSL_RANK_TYPED: return "a typed or regex parameter";
    case DSL_RANK_PARAM: return "a {name} parameter";
    case DSL_RANK_REST: return "a rest parameter";
    default: return "?";
    }
}

static void route_line_(const plan_t* p, const char* base, const dsl_route_t* r, dsl_buf_t* out) {
    char ms[512], sp[256];
    plan__methods_str(p->f, r->methods, ms, sizeof ms);
    plan__spec_str(r, sp, sizeof sp);
    /* Host blocks: the host before the path, as --list shows it, and the
       specificity without the pseudo-segment (dsl/host.c). */
    const char* spec = sp + (p->f->nhosts ? 2 : 0);
    const char* host = r->host ? p->f->hosts[r->host - 1].name : "";
    const char* hsep = r->host ? " " : "";
    if (r->kind == DSL_R_HANDLER)
        dsl_buf__printf(out, "%s:%d: %s %s%s%s -> %s (specificity %s", base, r->loc.line, ms, host, hsep, r->pattern,
                        r->handler, spec);
    else
        dsl_buf__printf(out, "%s:%d: %s %s%s%s %s (specificity %s", base, r->loc.line,
                        r->kind == DSL_R_MOUNT ? "mount" : "embed", host, hsep, r->pattern, r->dir, spec);
    /* a group's hooks, in call order */
    for (int k = 0; k < r->nbefore; k++) dsl_buf__printf(out, ", before=%s", p->f->hooks[r->before[k]].name);
    for (int k = 0; k < r->nafter; k++) dsl_buf__printf(out, ", after=%s", p->f->hooks[r->after[k]].name);
    dsl_buf__puts(out, ")");
}

static void allow_str_(const dsl_file_t* f, uint64_t m, dsl_buf_t* out) {
    bool first = true;
    for (int i = 0; i < f->nmethods; i++)
        if (m >> i & 1) {
            dsl_buf__printf(out, "%s%s", first ? "" : ", ", f->methods[i]);
            first = false;
        }
}

/* Why r, which matches the path too, lost to the winner w for method mi. */
static void why_lost_(const plan_t* p, const dsl_route_t* w, const dsl_route_t* r, int mi, int get, int head,
                      dsl_buf_t* out) {
    const dsl_file_t* f = p->f;
    bool has = mi >= 0 && (r->methods >> mi & 1);
    bool by_get = !has && mi >= 0 && mi == head && get >= 0 && (r->methods >> get & 1);
    if (!has && !by_get) {
        char ms[512];
        plan__methods_str(f, r->methods, ms, sizeof ms);
        dsl_buf__printf(out, ": not for %s (its methods: %s)", mi >= 0 ? f->methods[mi] : "this method", ms);
        return;
    }
    int c = plan__cmp_spec(w, r);
    int seg0 = f->nhosts ? 1 : 0; /* the pseudo-segment is not counted */
    if (c > 0) {
        int i = 0;
        while (i < w->nranks && i < r->nranks && w->ranks[i] == r->ranks[i]) i++;
        if (i < w->nranks && i < r->nranks)
            dsl_buf__printf(out, ": less specific: %s beats %s at segment %d", rank_name_(w->ranks[i]),
                            rank_name_(r->ranks[i]), i + 1 - seg0);
        else
            dsl_buf__printf(out, ": less specific: a longer pattern beats its own prefix (segment %d)", i + 1 - seg0);
        if (by_get) dsl_buf__puts(out, " (its GET would answer HEAD)");
        return;
    }
    if (c == 0 && by_get) {
        dsl_buf__puts(out, ": its GET would answer HEAD, but a HEAD route at least as specific wins");
        return;
    }
    dsl_buf__puts(out, ": not the route the matcher chose"); /* not reached: the plan proved precedence */
}

/* 404: the routes nearest to the path, segment by segment: a literal
   segment costs its edit distance; a parameter 0 when it takes the segment,
   else 1 plus the edit distances of its literal prefix and suffix; a
   missing or extra segment its length + 1. why gets the first parameter
   that refused its segment. */
static int distance_(const dsl_route_t* r, const char* s, size_t n, const segs_t* sg, int max, int seg0,
                     dsl_buf_t* why) {
    int d = 0;
    int k = 1; /* pieces[0] is the leading '/' */
    for (int i = 0; i < r->nranks && d <= max; i++) {
        /* segment i's pieces: literal bytes before and after its parameter */
        dsl_buf_t pre = { 0 }, suf = { 0 };
        const dsl_param_t* q = nullptr;
        for (; k < r->npieces; k++) {
            const dsl_piece_t* pc = &r->pieces[k];
            if (!pc->is_param && pc->lit_len == 1 && pc->lit[0] == '/') {
                k++;
                break;
            }
            if (pc->is_param)
                q = &pc->param;
            else
                dsl_buf__put(q ? &suf : &pre, pc->lit, pc->lit_len);
        }
        const char* v = i < sg->n ? s + sg->start[i] : "";
        size_t vl = i < sg->n ? sg->end[i] - sg->start[i] : 0;
        if (i >= sg->n) {
            d += (int) (pre.len + suf.len) + 1;
        } else if (!q) {
            d += dsl_edit_distance(v, vl, pre.ptr ? pre.ptr : "", pre.len, max);
        } else {
            size_t len = rest_(q->kind) ? n - sg->start[i] : vl;
            if (!in_rx_(r->segrx[i], v, len)) {
                d++;
                size_t a = pre.len < vl ? pre.len : vl, b = suf.len < vl - a ? suf.len : vl - a;
                d += dsl_edit_distance(v, a, pre.ptr ? pre.ptr : "", pre.len, max);
                d += dsl_edit_distance(v + vl - b, b, suf.ptr ? suf.ptr : "", suf.len, max);
                if (!why->len)
                    dsl_buf__printf(why, "segment %d '%.*s' is not parameter '%s' (%s)%s", i + 1 - seg0, (int) len, v,
                                    q->name, kind_name_(q->kind), pre.len || suf.len ? " with its prefix/suffix" : "");
            }
        }
        dsl_buf__free(&pre);
        dsl_buf__free(&suf);
        if (q && rest_(q->kind)) return d;
    }
    for (int i = r->nranks; i < sg->n; i++) d += (int) (sg->end[i] - sg->start[i]) + 1;
    return d;
}

/* The host line: which host block serves the request (files with host
   blocks, or a Host given for a file without). b: the block, fell_back:
   its routes do not match the path. */
static void host_line_(const plan_t* p, const char* base, const char* host, int b, bool fell_back, dsl_buf_t* out) {
    const dsl_file_t* f = p->f;
    if (!f->nhosts) {
        if (host) dsl_buf__printf(out, "host      %s (no host blocks in %s: every Host is served alike)\n", host, base);
        return;
    }
    if (!host)
        dsl_buf__puts(out, "host      none given (--host NAME): the routes outside host blocks\n");
    else if (b < 0)
        dsl_buf__printf(out, "host      %s: no host block, the routes outside host blocks\n", host);
    else if (fell_back)
        dsl_buf__printf(out,
                        "host      %s: host %s (%s:%d) has no route for the path, the routes outside host blocks "
                        "answer\n",
                        host, f->hosts[b].name, base, f->hosts[b].loc.line);
    else
        dsl_buf__printf(out, "host      %s: host %s (%s:%d)\n", host, f->hosts[b].name, base, f->hosts[b].loc.line);
}

bool explain__request(const plan_t* p, const char* base, const char* request, const char* host, dsl_buf_t* out) {
    const dsl_file_t* f = p->f;
    const char* m = request;
    while (*m == ' ' || *m == '\t') m++;
    size_t ml = strcspn(m, " \t");
    const char* rs = m + ml;
    while (*rs == ' ' || *rs == '\t') rs++;
    size_t rn = strcspn(rs, " \t?#");
    if (!ml || !rn || rs[0] != '/') {
        dsl_buf__printf(out, "htgen: --explain: '%s' is not a request: METHOD /path (e.g. 'GET /users/42')\n",
                        request);
        return false;
    }
    int mi = dsl_file__method_index(f, m, ml);
    int get = dsl_file__method_index(f, "GET", 3), head = dsl_file__method_index(f, "HEAD", 4);
    bool options = ml == 7 && memcmp(m, "OPTIONS", 7) == 0;
    /* In a file with host blocks the automaton sees the path behind its
       host's pseudo-segment, the block's first, then outside blocks' on a
       404 (PREFIX__match_host); everything below works on that path (s, n)
       and prints it without the first skip bytes. */
    int b = host_block_(f, host, host ? strlen(host) : 0);
    int b0 = b;
    dsl_buf_t ps = { 0 };
    size_t skip = pseudo_(f, b, rs, rn, &ps);
    explain_answer_t a = answer_(p, mi, options, ps.ptr, ps.len);
    if (a.status == EXPLAIN_NOT_FOUND && b >= 0) {
        b = -1;
        skip = pseudo_(f, b, rs, rn, &ps);
        a = answer_(p, mi, options, ps.ptr, ps.len);
    }
    const char* s = ps.ptr;
    size_t n = ps.len;
    dsl_buf__printf(out, "request   %.*s %.*s", (int) ml, m, (int) rn, rs);
    if (rs[rn] == '?') dsl_buf__puts(out, " (the query is not part of matching)");
    dsl_buf__puts(out, "\n");
    host_line_(p, base, host, b0, b0 >= 0 && b < 0, out);
    segs_t sg;
    bool split = split_(s, n, &sg);
    const dsl_route_t* w = a.route ? f->routes[a.route - 1] : nullptr;
    const char* bad = nullptr;
    switch (a.status) {
    case EXPLAIN_FOUND:
    case EXPLAIN_BAD_REQUEST:
        dsl_buf__puts(out, "answer    ");
        if (a.status == EXPLAIN_BAD_REQUEST) dsl_buf__puts(out, "400 Bad Request, for ");
        route_line_(p, base, w, out);
        dsl_buf__puts(out, "\n");
        if (mi == head && !(w->methods >> mi & 1))
            dsl_buf__puts(out, "          HEAD by the GET route: the server sends the head only\n");
        if (w->kind == DSL_R_MOUNT) dsl_buf__printf(out, "          the file is served from %s\n", w->dir);
        if (w->kind == DSL_R_EMBED) dsl_buf__printf(out, "          the file is served from the embedded %s\n", w->dir);
        if (split) params_(w, s, n, &sg, out, &bad);
        if (bad)
            dsl_buf__printf(out, "          parameter '%s' %s: 400 Bad Request\n", bad,
                            bad_is_path_(w, bad) ? "is no safe path (an empty, '.' or '..' segment, '\\', %5C, %2F or %00)"
                                                 : "holds a bad %-escape (or %00)");
        if (a.status == EXPLAIN_FOUND && w->nquery) {
            dsl_buf__puts(out, "query     checked by dispatch after the match:");
            for (int k = 0; k < w->nquery; k++) {
                const dsl_qparam_t* q = &w->query[k];
                dsl_buf__printf(out, " ?%s:%s%s%s%s%s", q->name, dsl_query__type_name(q->kind), q->def ? "=" : "",
                                q->def ? q->def : "", q->optional ? "?" : "", q->repeated ? "*" : "");
            }
            dsl_buf__puts(out, w->strict ? " (strict: others are 400)\n" : "\n");
        }
        break;
    case EXPLAIN_METHOD_NOT_ALLOWED:
    case EXPLAIN_OPTIONS:
        dsl_buf__puts(out, a.status == EXPLAIN_OPTIONS ? "answer    204 No Content (OPTIONS answered automatically), Allow: "
                                                       : "answer    405 Method Not Allowed, Allow: ");
        allow_str_(f, a.allow, out);
        dsl_buf__puts(out, "\n");
        break;
    case EXPLAIN_REDIRECT: {
        dsl_buf_t t = { 0 };
        dsl_buf__put(&t, s, a.redirect_adds ? n : n - 1);
        if (a.redirect_adds) dsl_buf__put(&t, "/", 1);
        dsl_buf__printf(out, "answer    308 Permanent Redirect to %.*s (trailing_slash redirect), which matches\n",
                        (int) (t.len - skip), t.ptr + skip);
        segs_t tg;
        if (split_(t.ptr, t.len, &tg))
            for (int j = 0; j < f->nroutes; j++)
                if (route_matches_(f->routes[j], t.ptr, t.len, &tg)) {
                    dsl_buf__puts(out, "          ");
                    route_line_(p, base, f->routes[j], out);
                    dsl_buf__puts(out, "\n");
                }
        dsl_buf__free(&t);
        break;
    }
    case EXPLAIN_NOT_FOUND:
        dsl_buf__puts(out, "answer    404 Not Found\n");
        break;
    }
    /* Every other route that matches the path, and why it did not answer. */
    bool any = false;
    for (int j = 0; split && j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        if (r == w || !route_matches_(r, s, n, &sg)) continue;
        dsl_buf__puts(out, any ? "          " : w ? "lost      " : "matched   ");
        any = true;
        route_line_(p, base, r, out);
        if (w) why_lost_(p, w, r, mi, get, head, out);
        dsl_buf__puts(out, "\n");
    }
    if (a.status == EXPLAIN_NOT_FOUND && split) {
        if (!f->slash_redirect && rn > 0) {
            /* what the redirect would have done */
            bool drop = rn > 1 && rs[rn - 1] == '/';
            dsl_buf_t t = { 0 };
            dsl_buf__put(&t, s, drop ? n - 1 : n);
            if (!drop) dsl_buf__put(&t, "/", 1);
            if (walk_(&p->au, t.ptr, t.len))
                dsl_buf__printf(out, "note      %.*s would match, but trailing_slash strict turns the redirect off\n",
                                (int) (t.len - skip), t.ptr + skip);
            dsl_buf__free(&t);
        }
        /* did you mean: the nearest routes, of the request's host block and
           outside blocks, each measured on its own pseudo-segment */
        int max = 2 + (int) rn / 4;
        int seg0 = f->nhosts ? 1 : 0;
        int best[3] = { -1, -1, -1 }, bd[3] = { 0, 0, 0 };
        dsl_buf_t hp = { 0 };
        segs_t hg;
        for (int j = 0; j < f->nroutes; j++) {
            const dsl_route_t* r = f->routes[j];
            if (r->host && r->host != b0 + 1) continue;
            pseudo_(f, r->host - 1, rs, rn, &hp);
            if (!split_(hp.ptr, hp.len, &hg)) continue;
            dsl_buf_t why = { 0 };
            int d = distance_(r, hp.ptr, hp.len, &hg, max, seg0, &why);
            dsl_buf__free(&why);
            if (d > max) continue;
            for (int q = 0; q < 3; q++)
                if (best[q] < 0 || d < bd[q]) {
                    for (int z = 2; z > q; z--) best[z] = best[z - 1], bd[z] = bd[z - 1];
                    best[q] = j, bd[q] = d;
                    break;
                }
        }
        for (int q = 0; q < 3 && best[q] >= 0; q++) {
            const dsl_route_t* r = f->routes[best[q]];
            pseudo_(f, r->host - 1, rs, rn, &hp);
            split_(hp.ptr, hp.len, &hg);
            dsl_buf_t why = { 0 };
            distance_(r, hp.ptr, hp.len, &hg, max, seg0, &why);
            dsl_buf__puts(out, q ? "          " : "nearest   ");
            route_line_(p, base, r, out);
            dsl_buf__printf(out, ": %d edit%s away%s%.*s\n", bd[q], bd[q] == 1 ? "" : "s", why.len ? "; " : "",
                            (int) why.len, why.ptr ? why.ptr : "");
            dsl_buf__free(&why);
        }
        dsl_buf__free(&hp);
    }
    dsl_buf__free(&ps);
    return true;
}
