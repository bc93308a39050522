/* dsl/regex.c — the regular expressions of routes.ht: the syntax tree, and
 * a parser for the re2c syntax subset a route parameter may use. What htgen
 * proves on them (intersection, inclusion) and how it writes them back as
 * re2c text is codegen/lang.c.
 */
#include "dsl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- constructors ---- */
static rx_t* node_(dsl_arena_t* a, rx_op_t op) {
    rx_t* r = dsl_arena__alloc(a, sizeof *r);
    r->op = op;
    return r;
}
rx_t* rx__set(dsl_arena_t* a, const uint8_t set[32]) {
    rx_t* r = node_(a, RX_SET);
    memcpy(r->set, set, 32);
    return r;
}
rx_t* rx__byte(dsl_arena_t* a, uint8_t c) {
    rx_t* r = node_(a, RX_SET);
    r->set[c >> 3] = (uint8_t) (1u << (c & 7));
    return r;
}
rx_t* rx__cat(dsl_arena_t* a, rx_t* x, rx_t* y) {
    if (!x) return y;
    if (!y) return x;
    rx_t* r = node_(a, RX_CAT);
    r->a = x;
    r->b = y;
    return r;
}
rx_t* rx__lit(dsl_arena_t* a, const char* s, size_t n) {
    rx_t* r = nullptr;
    for (size_t i = 0; i < n; i++) r = rx__cat(a, r, rx__byte(a, (uint8_t) s[i]));
    return r ? r : node_(a, RX_EMPTY);
}
rx_t* rx__alt(dsl_arena_t* a, rx_t* x, rx_t* y) {
    rx_t* r = node_(a, RX_ALT);
    r->a = x;
    r->b = y;
    return r;
}
rx_t* rx__rep(dsl_arena_t* a, rx_t* x, int min, int max) {
    rx_t* r = node_(a, RX_REP);
    r->a = x;
    r->min = min;
    r->max = max;
    return r;
}

static void set_add_(uint8_t set[32], unsigned c) { set[c >> 3] |= (uint8_t) (1u << (c & 7)); }

/* ---- parser ---- */
typedef struct rxp {
    dsl_arena_t* a;
    const char* s;
    size_t n, i;
    char* err;
    size_t errcap;
    size_t erroff;
    bool failed;
} rxp_t;

static rx_t* fail_(rxp_t* p, size_t at, const char* msg) {
    if (!p->failed) {
        snprintf(p->err, p->errcap, "%s", msg);
        p->erroff = at;
        p->failed = true;
    }
    return nullptr;
}

static int hexval_(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One escape after a backslash at p->i (already consumed). -1 on error. */
static int escape_(rxp_t* p) {
    if (p->i >= p->n) return fail_(p, p->i - 1, "dangling backslash"), -1;
    char c = p->s[p->i++];
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    case 'a': return '\a';
    case 'b': return '\b';
    case 'x': {
        if (p->i + 2 > p->n) return fail_(p, p->i - 2, "\\x needs two hex digits"), -1;
        int h = hexval_(p->s[p->i]), l = hexval_(p->s[p->i + 1]);
        if (h < 0 || l < 0) return fail_(p, p->i - 2, "\\x needs two hex digits"), -1;
        p->i += 2;
        return h * 16 + l;
    }
    default:
        if ((unsigned char) c < 0x20 || (unsigned char) c >= 0x7f ||
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            return fail_(p, p->i - 2, "unknown escape sequence"), -1;
        return (unsigned char) c; /* \\ \" \' \] \- \/ \. ... */
    }
}

static rx_t* alt_(rxp_t* p);

static rx_t* class_(rxp_t* p) {
    size_t open = p->i - 1;
    bool neg = false;
    uint8_t set[32] = { 0 };
    if (p->i < p->n && p->s[p->i] == '^') {
        neg = true;
        p->i++;
    }
    for (;;) {
        if (p->i >= p->n) return fail_(p, open, "unterminated character class");
        char c = p->s[p->i];
        if (c == ']') {
            p->i++;
            break;
        }
        int lo;
        p->i++;
        if (c == '\\') {
            if ((lo = escape_(p)) < 0) return nullptr;
        } else {
            lo = (unsigned char) c;
        }
        int hi = lo;
        if (p->i + 1 < p->n && p->s[p->i] == '-' && p->s[p->i + 1] != ']') {
            size_t at = p->i;
            p->i++;
            char d = p->s[p->i++];
            if (d == '\\') {
                if ((hi = escape_(p)) < 0) return nullptr;
            } else {
                hi = (unsigned char) d;
            }
            if (hi < lo) return fail_(p, at, "reversed range in character class");
        }
        for (int x = lo; x <= hi; x++) set_add_(set, (unsigned) x);
    }
    if (neg)
        for (int i = 0; i < 32; i++) set[i] = (uint8_t) ~set[i];
    return rx__set(p->a, set);
}

static rx_t* string_(rxp_t* p, char q) {
    size_t open = p->i - 1;
    rx_t* r = node_(p->a, RX_EMPTY);
    for (;;) {
        if (p->i >= p->n) return fail_(p, open, "unterminated string");
        char c = p->s[p->i++];
        if (c == q) break;
        int b = (unsigned char) c;
        if (c == '\\' && (b = escape_(p)) < 0) return nullptr;
        uint8_t set[32] = { 0 };
        set_add_(set, (unsigned) b);
        if (q == '\'' && b < 128 && ((b | 32) >= 'a' && (b | 32) <= 'z')) {
            set_add_(set, (unsigned) (b | 32));
            set_add_(set, (unsigned) (b & ~32));
        }
        r = r->op == RX_EMPTY ? rx__set(p->a, set) : rx__cat(p->a, r, rx__set(p->a, set));
    }
    return r;
}

static rx_t* atom_(rxp_t* p) {
    size_t at = p->i;
    char c = p->s[p->i++];
    switch (c) {
    case '(': {
        rx_t* r = alt_(p);
        if (!r) return nullptr;
        if (p->i >= p->n || p->s[p->i] != ')') return fail_(p, at, "unbalanced '('");
        p->i++;
        return r;
    }
    case '[': return class_(p);
    case '"':
    case '\'': return string_(p, c);
    case '.': {
        uint8_t set[32];
        memset(set, 0xff, sizeof set);
        set['\n' >> 3] &= (uint8_t) ~(1u << ('\n' & 7));
        return rx__set(p->a, set);
    }
    case '\\': {
        int b = escape_(p);
        return b < 0 ? nullptr : rx__byte(p->a, (uint8_t) b);
    }
    case ')': return fail_(p, at, "unbalanced ')'");
    case '*':
    case '+':
    case '?':
    case '{': return fail_(p, at, "repetition operator without an operand");
    case ']':
    case '}': return fail_(p, at, "unexpected closing bracket");
    default:
        if ((unsigned char) c <= 0x20 || (unsigned char) c >= 0x7f)
            return fail_(p, at, "unexpected character");
        return rx__byte(p->a, (uint8_t) c);
    }
}

static bool number_(rxp_t* p, int* out) {
    if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return false;
    long v = 0;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
        v = v * 10 + (p->s[p->i++] - '0');
        if (v > 1000) v = 1001;
    }
    *out = (int) v;
    return true;
}

static rx_t* rep_(rxp_t* p) {
    rx_t* r = atom_(p);
    while (r && p->i < p->n) {
        char c = p->s[p->i];
        size_t at = p->i;
        if (c == '*')
            r = rx__rep(p->a, r, 0, -1);
        else if (c == '+')
            r = rx__rep(p->a, r, 1, -1);
        else if (c == '?')
            r = rx__rep(p->a, r, 0, 1);
        else if (c == '{') {
            p->i++;
            int lo, hi;
            if (!number_(p, &lo)) return fail_(p, at, "expected a count after '{'");
            hi = lo;
            if (p->i < p->n && p->s[p->i] == ',') {
                p->i++;
                if (!number_(p, &hi)) hi = -1;
            }
            if (p->i >= p->n || p->s[p->i] != '}') return fail_(p, at, "unterminated '{n,m}'");
            if (lo > 1000 || hi > 1000) return fail_(p, at, "repetition count above 1000");
            if (hi >= 0 && hi < lo) return fail_(p, at, "repetition {n,m} with m < n");
            r = rx__rep(p->a, r, lo, hi);
        } else
            break;
        p->i++;
    }
    return r;
}

static rx_t* cat_(rxp_t* p) {
    rx_t* r = nullptr;
    while (p->i < p->n && p->s[p->i] != '|' && p->s[p->i] != ')') {
        rx_t* x = rep_(p);
        if (!x) return nullptr;
        r = rx__cat(p->a, r, x);
    }
    return r ? r : node_(p->a, RX_EMPTY);
}

static rx_t* alt_(rxp_t* p) {
    rx_t* r = cat_(p);
    while (r && p->i < p->n && p->s[p->i] == '|') {
        p->i++;
        rx_t* y = cat_(p);
        if (!y) return nullptr;
        r = rx__alt(p->a, r, y);
    }
    return r;
}

rx_t* rx__parse(dsl_arena_t* a, const char* s, size_t n, char* err, size_t errcap, size_t* erroff) {
    rxp_t p = { .a = a, .s = s, .n = n, .err = err, .errcap = errcap };
    if (n == 0) {
        fail_(&p, 0, "empty regular expression");
        *erroff = 0;
        return nullptr;
    }
    rx_t* r = alt_(&p);
    if (r && p.i < p.n) r = fail_(&p, p.i, "unbalanced ')'");
    if (!r) *erroff = p.erroff;
    return r;
}

bool rx__remove_byte(rx_t* r, uint8_t c) {
    if (!r) return true;
    switch (r->op) {
    case RX_EMPTY: return true;
    case RX_SET: {
        r->set[c >> 3] &= (uint8_t) ~(1u << (c & 7));
        for (int i = 0; i < 32; i++)
            if (r->set[i]) return true;
        return false;
    }
    case RX_CAT:
    case RX_ALT: {
        bool x = rx__remove_byte(r->a, c);
        bool y = rx__remove_byte(r->b, c);
        return x && y;
    }
    case RX_REP: return rx__remove_byte(r->a, c);
    }
    return true;
}

bool rx__nullable(const rx_t* r) {
    switch (r->op) {
    case RX_EMPTY: return true;
    case RX_SET: return false;
    case RX_CAT: return rx__nullable(r->a) && rx__nullable(r->b);
    case RX_ALT: return rx__nullable(r->a) || rx__nullable(r->b);
    case RX_REP: return r->min == 0 || rx__nullable(r->a);
    }
    return false;
}
