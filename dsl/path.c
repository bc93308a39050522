/* dsl/path.c — a route's path pattern: literal pieces, typed, regex and
 * rest parameters, each compiled to the regex the automaton is built from
 * (dsl.h, dsl_path__parse; the grammar is in dsl/SPEC.md). */
#include "dsl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dsl_loc_t at_(dsl_loc_t base, size_t off) { return (dsl_loc_t){ base.line, base.col + (int) off }; }

/* ---- built-in parameter languages ---- */
static void set_range_(uint8_t set[32], unsigned lo, unsigned hi) {
    for (unsigned c = lo; c <= hi; c++) set[c >> 3] |= (uint8_t) (1u << (c & 7));
}

static rx_t* set_rx_(dsl_arena_t* a, const char* ranges) {
    uint8_t set[32] = { 0 };
    for (const char* r = ranges; *r; r += 2) set_range_(set, (unsigned char) r[0], (unsigned char) r[1]);
    return rx__set(a, set);
}

static rx_t* digits_(dsl_arena_t* a) { return set_rx_(a, "09"); }

/* Decimal strings whose value is <= max (a digit string), at most strlen(max)
 * digits, leading zeros allowed: overflow is a mismatch in the DFA itself, so
 * a less specific route can still take the request. */
static rx_t* decimal_upto_(dsl_arena_t* a, const char* max) {
    int L = (int) strlen(max);
    rx_t* r = rx__rep(a, digits_(a), 1, L - 1);
    for (int i = 0; i < L; i++) {
        if (max[i] == '0') continue;
        uint8_t set[32] = { 0 };
        set_range_(set, '0', (unsigned char) (max[i] - 1));
        rx_t* alt = rx__lit(a, max, (size_t) i);
        if (i == 0) alt = nullptr;
        alt = rx__cat(a, alt, rx__set(a, set));
        if (L - 1 - i > 0) alt = rx__cat(a, alt, rx__rep(a, digits_(a), L - 1 - i, L - 1 - i));
        r = rx__alt(a, r, alt);
    }
    return rx__alt(a, r, rx__lit(a, max, (size_t) L));
}

static rx_t* kind_rx_(dsl_arena_t* a, dsl_pkind_t k) {
    switch (k) {
    case DSL_P_NAME:
    case DSL_P_STR: {
        uint8_t set[32];
        memset(set, 0xff, sizeof set);
        set[0] &= (uint8_t) ~1u;                          /* NUL: the end sentinel */
        set['/' >> 3] &= (uint8_t) ~(1u << ('/' & 7));
        return rx__rep(a, rx__set(a, set), 1, -1);
    }
    case DSL_P_SLUG: return rx__rep(a, set_rx_(a, "AZaz09__--"), 1, -1);
    case DSL_P_U64: return decimal_upto_(a, "18446744073709551615");
    case DSL_P_I64:
        return rx__alt(a, decimal_upto_(a, "9223372036854775807"),
                       rx__cat(a, rx__byte(a, '-'), decimal_upto_(a, "9223372036854775808")));
    case DSL_P_HEX: return rx__rep(a, set_rx_(a, "09afAF"), 1, 16);
    case DSL_P_UUID: {
        rx_t* r = nullptr;
        static const int groups[] = { 8, 4, 4, 4, 12 };
        for (int i = 0; i < 5; i++) {
            if (i) r = rx__cat(a, r, rx__byte(a, '-'));
            r = rx__cat(a, r, rx__rep(a, set_rx_(a, "09afAF"), groups[i], groups[i]));
        }
        return r;
    }
    case DSL_P_REST:
    case DSL_P_PATH: { /* the safe rest: checked after matching (ht_rt__safe_path) */
        uint8_t set[32];
        memset(set, 0xff, sizeof set);
        set[0] &= (uint8_t) ~1u;
        return rx__rep(a, rx__set(a, set), 0, -1);
    }
    case DSL_P_REGEX: break;
    }
    return nullptr;
}

static const struct {
    const char* name;
    dsl_pkind_t kind;
} types_[] = {
    { "str", DSL_P_STR }, { "slug", DSL_P_SLUG }, { "u64", DSL_P_U64 },
    { "i64", DSL_P_I64 }, { "hex", DSL_P_HEX },   { "uuid", DSL_P_UUID },
};

/* ---- path patterns ---- */
static bool pchar_(unsigned char c) {
    return isalnum(c) || (c && strchr("-._~!$&'()*+,;=:@%/", c));
}

/* Parses the PATH token into r. Reports errors; returns false on any. */
bool dsl_path__parse(dsl_arena_t* a, dsl_src_t* src, dsl_route_t* r, const dsl_tok_t* t) {
    const char* s = t->ptr;
    size_t n = t->len;
    int errs = src->errors;
    int cap = 8;
    r->pieces = dsl_arena__alloc(a, (size_t) cap * sizeof *r->pieces);
    r->params = dsl_arena__alloc(a, n * sizeof *r->params + 1);
    r->ranks = dsl_arena__alloc(a, (n + 1) * sizeof *r->ranks);
    rx_t** segrx = dsl_arena__alloc(a, (n + 1) * sizeof *segrx);
    r->pattern = dsl_arena__strndup(a, t->ptr, t->len);
    r->path_loc = t->loc;

    r->pieces[r->npieces++] = (dsl_piece_t){ .lit = "/", .lit_len = 1 };
    size_t i = 1; /* s[0] == '/' */
    bool rest_seen = false;
    dsl_loc_t rest_loc = { 0, 0 };
    rx_t* whole = rx__byte(a, '/');
    for (int seg = 0;; seg++) {
        /* One segment: s[i .. j) up to the next top-level '/'. */
        int nparams_in_seg = 0;
        bool has_lit = false;
        dsl_param_t* seg_param = nullptr;
        rx_t* srx = nullptr;
        while (i < n && s[i] != '/') {
            if (r->npieces + 1 >= cap) {
                dsl_piece_t* np = dsl_arena__alloc(a, (size_t) cap * 2 * sizeof *np);
                memcpy(np, r->pieces, (size_t) cap * sizeof *np);
                r->pieces = np;
                cap *= 2;
            }
            dsl_piece_t* pc = &r->pieces[r->npieces];
            if (rest_seen) {
                dsl_diag(src, rest_loc, true, "a rest parameter '{...}' must end the path");
                rest_seen = false; /* report once */
            }
            if (s[i] == '{') {
                size_t open = i;
                dsl_loc_t ploc = at_(t->loc, open);
                size_t ns = ++i;
                while (i < n && (isalnum((unsigned char) s[i]) || s[i] == '_')) i++;
                size_t ne = i;
                dsl_param_t* prm = &pc->param;
                pc->is_param = true;
                prm->loc = ploc;
                prm->name = dsl_arena__strndup(a, s + ns, ne - ns);
                if (dsl_is_c_keyword(s + ns, ne - ns)) {
                    dsl_diag(src, at_(t->loc, ns), true, "'%s' is a C keyword and cannot name a parameter",
                             prm->name);
                    return false;
                }
                if (!dsl_is_ident(s + ns, ne - ns)) {
                    dsl_diag(src, at_(t->loc, ns), true,
                             "a parameter needs a name (a C identifier) after '{'");
                    return false;
                }
                bool safe = n - i >= 9 && memcmp(s + i, ":path...}", 9) == 0; /* {name:path...} */
                if (safe || (n - i >= 4 && memcmp(s + i, "...}", 4) == 0)) {
                    prm->kind = safe ? DSL_P_PATH : DSL_P_REST;
                    i += safe ? 9 : 4;
                    rest_seen = true;
                    rest_loc = ploc;
                } else if (i < n && s[i] == '}') {
                    prm->kind = DSL_P_NAME;
                    i++;
                } else if (i < n && s[i] == ':' && i + 1 < n && s[i + 1] == '/') {
                    /* {name:/regex/}: the regex ends at the first "/}". */
                    size_t rs = i + 2, re = rs;
                    while (re + 1 < n && !(s[re] == '/' && s[re + 1] == '}')) re++;
                    if (re + 1 >= n) {
                        dsl_diag(src, ploc, true, "unterminated regex parameter: expected '/}'");
                        return false;
                    }
                    char err[128];
                    size_t eoff = 0;
                    prm->kind = DSL_P_REGEX;
                    prm->rx = rx__parse(a, s + rs, re - rs, err, sizeof err, &eoff);
                    if (!prm->rx) {
                        dsl_diag(src, at_(t->loc, rs + eoff), true, "bad regex: %s", err);
                    } else {
                        /* Anchored to one segment: '/' and the end sentinel never match. */
                        bool ok = rx__remove_byte(prm->rx, '/');
                        ok = rx__remove_byte(prm->rx, 0) && ok;
                        if (!ok)
                            dsl_diag(src, at_(t->loc, rs), true,
                                     "bad regex: a part of it can only match '/' or NUL, which "
                                     "never occur inside a segment");
                        else if (rx__nullable(prm->rx))
                            dsl_diag(src, at_(t->loc, rs), true,
                                     "bad regex: it matches the empty string; a parameter is never "
                                     "empty");
                    }
                    i = re + 2;
                } else if (i < n && s[i] == ':') {
                    size_t ts = ++i;
                    while (i < n && s[i] != '}' && s[i] != '/') i++;
                    if (i >= n || s[i] != '}') {
                        dsl_diag(src, ploc, true, "unterminated parameter: expected '}'");
                        return false;
                    }
                    bool found = false;
                    for (size_t k = 0; k < sizeof types_ / sizeof types_[0]; k++)
                        if (strlen(types_[k].name) == i - ts &&
                            memcmp(types_[k].name, s + ts, i - ts) == 0) {
                            prm->kind = types_[k].kind;
                            found = true;
                        }
                    if (!found && i - ts == 4 && memcmp(s + ts, "path", 4) == 0) {
                        dsl_diag(src, at_(t->loc, ts), true,
                                 "'path' is the type of a safe rest parameter: write {%s:path...}", prm->name);
                        prm->kind = DSL_P_STR;
                    } else if (!found) {
                        dsl_diag(src, at_(t->loc, ts), true,
                                 "unknown parameter type '%.*s' (known: u64 i64 hex uuid slug str, "
                                 "or a /regex/)",
                                 (int) (i - ts), s + ts);
                        prm->kind = DSL_P_STR;
                    }
                    i++;
                } else {
                    dsl_diag(src, at_(t->loc, i), true,
                             "expected '}', ':TYPE}', ':/regex/}' or '...}' in a parameter");
                    return false;
                }
                if (prm->kind != DSL_P_REGEX || !prm->rx) {
                    if (prm->kind == DSL_P_REGEX) prm->kind = DSL_P_STR;
                    prm->rx = kind_rx_(a, prm->kind);
                }
                for (int k = 0; k < r->nparams; k++)
                    if (strcmp(r->params[k]->name, prm->name) == 0)
                        dsl_diag(src, ploc, true, "duplicate parameter name '%s' in this route",
                                 prm->name);
                prm->index = r->nparams;
                r->params[r->nparams++] = prm;
                if (++nparams_in_seg == 2)
                    dsl_diag(src, ploc, true,
                             "at most one parameter per path segment (the split between two would "
                             "be ambiguous)");
                seg_param = prm;
                srx = rx__cat(a, srx, prm->rx);
                if (prm->kind == DSL_P_REST || prm->kind == DSL_P_PATH) {
                    /* The rest may contain '/': it closes the pattern. */
                    r->npieces++;
                    while (i < n) {
                        if (rest_seen) {
                            dsl_diag(src, rest_loc, true, "a rest parameter '{...}' must end the path");
                            rest_seen = false;
                        }
                        i++;
                    }
                    break;
                }
            } else if (s[i] == '}') {
                dsl_diag(src, at_(t->loc, i), true, "'}' without a matching '{'");
                return false;
            } else {
                size_t ls = i;
                while (i < n && s[i] != '/' && s[i] != '{' && s[i] != '}') {
                    unsigned char c = (unsigned char) s[i];
                    if (!pchar_(c)) {
                        dsl_diag(src, at_(t->loc, i), true,
                                 "character '%c' is not allowed in a path; percent-encode it", c);
                        return false;
                    }
                    if (c == '%' && (i + 2 >= n + 0 || !isxdigit((unsigned char) s[i + 1]) ||
                                     !isxdigit((unsigned char) s[i + 2]))) {
                        dsl_diag(src, at_(t->loc, i), true, "'%%' must start a %%XX escape");
                        return false;
                    }
                    i++;
                }
                pc->is_param = false;
                pc->lit = s + ls;
                pc->lit_len = i - ls;
                has_lit = true;
                srx = rx__cat(a, srx, rx__lit(a, s + ls, i - ls));
            }
            r->npieces++;
        }
        /* Segment rank. */
        int rank;
        if (!seg_param)
            rank = DSL_RANK_LITERAL;
        else if (seg_param->kind == DSL_P_REST || seg_param->kind == DSL_P_PATH)
            rank = DSL_RANK_REST;
        else {
            bool plain = seg_param->kind == DSL_P_NAME || seg_param->kind == DSL_P_STR;
            if (has_lit)
                rank = plain ? DSL_RANK_AFFIX_PARAM : DSL_RANK_AFFIX_TYPED;
            else
                rank = plain ? DSL_RANK_PARAM : DSL_RANK_TYPED;
        }
        r->ranks[seg] = rank;
        segrx[seg] = srx ? srx : rx__lit(a, "", 0);
        r->nranks = seg + 1;
        whole = rx__cat(a, whole, segrx[seg]);
        if (i >= n) break;
        i++; /* the '/' */
        whole = rx__cat(a, whole, rx__byte(a, '/'));
        /* A literal '/' is a piece of its own so codegen sees segment ends. */
        if (r->npieces + 1 >= cap) {
            dsl_piece_t* np = dsl_arena__alloc(a, (size_t) cap * 2 * sizeof *np);
            memcpy(np, r->pieces, (size_t) cap * sizeof *np);
            r->pieces = np;
            cap *= 2;
        }
        r->pieces[r->npieces++] = (dsl_piece_t){ .lit = "/", .lit_len = 1 };
    }
    r->rx = whole;
    r->segrx = segrx;
    return src->errors == errs;
}
