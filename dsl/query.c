/* dsl/query.c — a route's typed query parameters: the `?name:type` words
 * between its path and `->` (dsl.h, dsl_query__parse; grammar and rules in
 * dsl/SPEC.md, "Query parameters"). Each word becomes one dsl_qparam_t;
 * codegen/emit_query.c turns them into the dispatch's query parsing. */
#include "dsl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dsl_loc_t at_(dsl_loc_t base, size_t off) { return (dsl_loc_t){ base.line, base.col + (int) off }; }

static const struct {
    const char* name;
    dsl_pkind_t kind;
} qtypes_[] = {
    { "str", DSL_P_STR }, { "slug", DSL_P_SLUG }, { "u64", DSL_P_U64 },
    { "i64", DSL_P_I64 }, { "hex", DSL_P_HEX },   { "uuid", DSL_P_UUID },
};

/* Digits s[0..n) as a decimal at most max (both without sign). */
static bool decimal_le_(const char* s, size_t n, const char* max) {
    size_t ml = strlen(max);
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char) s[i])) return false;
    while (n > 1 && s[0] == '0') s++, n--; /* leading zeros are allowed, as in the path */
    return n < ml || (n == ml && memcmp(s, max, n) <= 0);
}

bool dsl_query__value_ok(dsl_pkind_t k, const char* s, size_t n) {
    switch (k) {
    case DSL_P_U64: return decimal_le_(s, n, "18446744073709551615");
    case DSL_P_I64:
        return n && s[0] == '-' ? decimal_le_(s + 1, n - 1, "9223372036854775808")
                                : decimal_le_(s, n, "9223372036854775807");
    case DSL_P_HEX:
        if (n == 0 || n > 16) return false;
        for (size_t i = 0; i < n; i++)
            if (!isxdigit((unsigned char) s[i])) return false;
        return true;
    case DSL_P_UUID:
        if (n != 36) return false;
        for (size_t i = 0; i < n; i++)
            if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                return false;
        return true;
    case DSL_P_SLUG:
        if (n == 0) return false;
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '-') return false;
        return true;
    default: return true; /* str: any bytes, empty too */
    }
}

/* The members a parameter adds to the params struct besides its own name:
   `has_NAME` (optional) or `NAME_count` (repeated). */
static void extra_member_(const dsl_qparam_t* q, char* out, size_t cap) {
    if (q->repeated)
        snprintf(out, cap, "%s_count", q->name);
    else if (q->optional)
        snprintf(out, cap, "has_%s", q->name);
    else
        out[0] = '\0';
}

/* Who declares member name m in r already: 0 none, 1 a path parameter,
   2 a query parameter of that name, 3 a query parameter's extra member. */
static int member_taken_(const dsl_route_t* r, const char* m, dsl_loc_t* where) {
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i]->name, m) == 0) {
            *where = r->params[i]->loc;
            return 1;
        }
    for (int i = 0; i < r->nquery; i++) {
        char extra[300];
        extra_member_(&r->query[i], extra, sizeof extra);
        if (strcmp(r->query[i].name, m) == 0 || strcmp(extra, m) == 0) {
            *where = r->query[i].loc;
            return strcmp(r->query[i].name, m) == 0 ? 2 : 3;
        }
    }
    return 0;
}

bool dsl_query__parse(dsl_arena_t* a, dsl_src_t* src, dsl_route_t* r, const dsl_tok_t* t) {
    const char* s = t->ptr;
    size_t n = t->len, i = 1; /* s[0] == '?' */
    dsl_qparam_t q = { .kind = DSL_P_STR, .loc = t->loc };
    while (i < n && (isalnum((unsigned char) s[i]) || s[i] == '_')) i++;
    if (!dsl_is_ident(s + 1, i - 1)) {
        dsl_diag(src, at_(t->loc, 1), true, "a query parameter needs a name (a C identifier) after '?'");
        return false;
    }
    if (dsl_is_c_keyword(s + 1, i - 1)) {
        dsl_diag(src, at_(t->loc, 1), true, "'%.*s' is a C keyword and cannot name a parameter", (int) (i - 1),
                 s + 1);
        return false;
    }
    q.name = dsl_arena__strndup(a, s + 1, i - 1);
    if (i < n && s[i] == ':') {
        size_t ts = ++i;
        while (i < n && isalnum((unsigned char) s[i])) i++;
        bool found = false;
        for (size_t k = 0; k < sizeof qtypes_ / sizeof qtypes_[0]; k++)
            if (strlen(qtypes_[k].name) == i - ts && memcmp(qtypes_[k].name, s + ts, i - ts) == 0) {
                q.kind = qtypes_[k].kind;
                found = true;
            }
        if (!found) {
            dsl_diag(src, at_(t->loc, ts), true,
                     "unknown query parameter type '%.*s' (known: u64 i64 hex uuid slug str)", (int) (i - ts),
                     s + ts);
            return false;
        }
    }
    if (i < n && s[i] == '=') {
        const char* d = s + i + 1;
        size_t dl = n - i - 1;
        if (dl >= 2 && d[0] == '"' && d[dl - 1] == '"') d++, dl -= 2; /* ?q:str="a b" */
        if (!dsl_query__value_ok(q.kind, d, dl)) {
            dsl_diag(src, at_(t->loc, i + 1), true, "default '%.*s' of query parameter '%s' is not %s %s", (int) dl,
                     d, q.name, q.kind == DSL_P_I64 ? "an" : "a", dsl_query__type_name(q.kind));
            return false;
        }
        q.def = dsl_arena__strndup(a, d, dl);
        i = n;
    } else if (i < n && (s[i] == '*' || s[i] == '?')) {
        q.repeated = s[i] == '*';
        q.optional = s[i] == '?';
        i++;
        if (i < n && s[i] == '=') {
            dsl_diag(src, at_(t->loc, i), true,
                     "query parameter '%s' is %s and takes no default (%s)", q.name,
                     q.repeated ? "repeated ('*')" : "optional ('?')",
                     q.repeated ? "it has 0 values when absent" : "has_NAME says whether it was given");
            return false;
        }
    }
    if (i < n) {
        dsl_diag(src, at_(t->loc, i), true,
                 "unexpected '%c' in a query parameter (?name, ?name:type, then =default, '?' or '*')", s[i]);
        return false;
    }
    q.required = !q.def && !q.optional && !q.repeated;
    /* Every member the parameter adds must be free in the params struct. */
    char extra[300];
    extra_member_(&q, extra, sizeof extra);
    const char* names[2] = { q.name, extra };
    for (int k = 0; k < 2; k++) {
        dsl_loc_t where;
        int who = names[k][0] ? member_taken_(r, names[k], &where) : 0;
        if (!who) continue;
        if (k == 0 && who == 1)
            dsl_diag(src, t->loc, true, "query parameter '%s' has the name of a path parameter of this route",
                     q.name);
        else if (k == 0 && who == 2)
            dsl_diag(src, t->loc, true, "query parameter '%s' is declared twice in this route", q.name);
        else
            dsl_diag(src, t->loc, true,
                     "query parameter '%s' and the params struct member '%s' clash (optional parameters add "
                     "has_NAME, repeated ones NAME_count)",
                     q.name, names[k]);
        dsl_note(src, where, "'%s' is declared here", names[k]);
        return false;
    }
    dsl_qparam_t* nq = dsl_arena__alloc(a, (size_t) (r->nquery + 1) * sizeof *nq);
    if (r->nquery) memcpy(nq, r->query, (size_t) r->nquery * sizeof *nq);
    nq[r->nquery++] = q;
    r->query = nq;
    return true;
}

bool dsl_query__same(const dsl_route_t* a, const dsl_route_t* b) {
    if (a->nquery != b->nquery) return false;
    for (int i = 0; i < a->nquery; i++) {
        const dsl_qparam_t *x = &a->query[i], *y = &b->query[i];
        if (strcmp(x->name, y->name) != 0 || strcmp(dsl_param__ctype(x->kind), dsl_param__ctype(y->kind)) != 0 ||
            x->repeated != y->repeated || x->optional != y->optional)
            return false;
    }
    return true;
}

const char* dsl_query__type_name(dsl_pkind_t k) {
    for (size_t i = 0; i < sizeof qtypes_ / sizeof qtypes_[0]; i++)
        if (qtypes_[i].kind == k) return qtypes_[i].name;
    return "str";
}
