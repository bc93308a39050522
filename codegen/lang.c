/* codegen/lang.c — what htgen needs of the parameter languages (dsl/regex.c
 * parses them): re2c text for a language, and two proofs on Thompson NFAs,
 * intersection (with a witness: route conflicts) and inclusion (a route
 * that a more specific one covers; predicate relations of the automaton).
 */
#include "lang.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool set_has_(const uint8_t set[32], unsigned c) { return set[c >> 3] >> (c & 7) & 1; }

/* ---- re2c emission ---- */
static bool plain_(unsigned c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '"' && c != '\\' && c != ']' && c != '-' && c != '^' && c > 0x20 && c < 0x7f);
}

static void emit_byte_(dsl_buf_t* b, unsigned c, bool in_class) {
    if (plain_(c) && !(in_class && (c == '[' || c == '\'')) && !(!in_class && c == '\''))
        dsl_buf__put(b, (const char*) &(char){ (char) c }, 1);
    else
        dsl_buf__printf(b, "\\x%02X", c);
}

/* The one byte of a set of one, else -1. */
static int single_(const rx_t* r) {
    if (r->op != RX_SET) return -1;
    int found = -1;
    for (int i = 0; i < 32; i++) {
        if (!r->set[i]) continue;
        if (found >= 0 || (r->set[i] & (r->set[i] - 1))) return -1;
        found = i * 8 + __builtin_ctz(r->set[i]);
    }
    return found;
}

static void emit_set_(dsl_buf_t* b, const uint8_t set[32]) {
    int count = 0;
    for (unsigned c = 0; c < 256; c++) count += set_has_(set, c);
    bool neg = count > 128;
    dsl_buf__puts(b, neg ? "[^" : "[");
    for (unsigned c = 0; c < 256;) {
        if (set_has_(set, c) == neg) {
            c++;
            continue;
        }
        unsigned e = c;
        while (e + 1 < 256 && set_has_(set, e + 1) != neg) e++;
        emit_byte_(b, c, true);
        if (e > c) {
            if (e > c + 1) dsl_buf__puts(b, "-");
            emit_byte_(b, e, true);
        }
        c = e + 1;
    }
    dsl_buf__puts(b, "]");
}

/* Emits a CAT chain, merging single bytes into one "string". */
static void emit_(dsl_buf_t* b, const rx_t* r, bool paren);

static void emit_cat_(dsl_buf_t* b, const rx_t* r, bool* in_str) {
    if (r->op == RX_CAT) {
        emit_cat_(b, r->a, in_str);
        emit_cat_(b, r->b, in_str);
        return;
    }
    int c = single_(r);
    if (c >= 0) {
        if (!*in_str) {
            dsl_buf__puts(b, *in_str ? "" : (b->len && b->ptr[b->len - 1] != '(' ? " \"" : "\""));
            *in_str = true;
        }
        emit_byte_(b, (unsigned) c, false);
        return;
    }
    if (*in_str) {
        dsl_buf__puts(b, "\"");
        *in_str = false;
    }
    if (b->len && b->ptr[b->len - 1] != '(') dsl_buf__puts(b, " ");
    emit_(b, r, true);
}

/* An alternation chain as one: a | b | c, not ((a | b) | c). */
static void emit_alt_(dsl_buf_t* b, const rx_t* r) {
    if (r->op != RX_ALT) {
        emit_(b, r, true);
        return;
    }
    emit_alt_(b, r->a);
    dsl_buf__puts(b, " | ");
    emit_alt_(b, r->b);
}

static void emit_(dsl_buf_t* b, const rx_t* r, bool paren) {
    switch (r->op) {
    case RX_EMPTY: dsl_buf__puts(b, "\"\""); return;
    case RX_SET: {
        int c = single_(r);
        if (c >= 0) {
            dsl_buf__puts(b, "\"");
            emit_byte_(b, (unsigned) c, false);
            dsl_buf__puts(b, "\"");
        } else {
            emit_set_(b, r->set);
        }
        return;
    }
    case RX_CAT: {
        if (paren) dsl_buf__puts(b, "(");
        bool in_str = false;
        emit_cat_(b, r, &in_str);
        if (in_str) dsl_buf__puts(b, "\"");
        if (paren) dsl_buf__puts(b, ")");
        return;
    }
    case RX_ALT:
        if (paren) dsl_buf__puts(b, "(");
        emit_alt_(b, r);
        if (paren) dsl_buf__puts(b, ")");
        return;
    case RX_REP:
        emit_(b, r->a, true);
        rx__emit_quant(b, r->min, r->max);
        return;
    }
}

void rx__emit_quant(dsl_buf_t* b, int min, int max) {
    if (min == 0 && max < 0)
        dsl_buf__puts(b, "*");
    else if (min == 1 && max < 0)
        dsl_buf__puts(b, "+");
    else if (min == 0 && max == 1)
        dsl_buf__puts(b, "?");
    else if (max < 0)
        dsl_buf__printf(b, "{%d,}", min);
    else if (max == min)
        dsl_buf__printf(b, "{%d}", min);
    else
        dsl_buf__printf(b, "{%d,%d}", min, max);
}

void rx__emit(dsl_buf_t* b, const rx_t* r) {
    bool in_str = false;
    if (r->op == RX_CAT) {
        emit_cat_(b, r, &in_str);
        if (in_str) dsl_buf__puts(b, "\"");
    } else {
        emit_(b, r, false);
    }
}

/* ---- Thompson NFA + product reachability ---- */
typedef struct nstate {
    int eps[2]; /* -1 when absent */
    int next;   /* -1: no byte edge */
    const uint8_t* set;
} nstate_t;

typedef struct nfa {
    nstate_t* s;
    int n, cap;
} nfa_t;

static int nnew_(nfa_t* f) {
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->s = dsl_xrealloc(f->s, (size_t) f->cap * sizeof *f->s);
    }
    f->s[f->n] = (nstate_t){ .eps = { -1, -1 }, .next = -1 };
    return f->n++;
}
static void eps_(nfa_t* f, int from, int to) {
    if (f->s[from].eps[0] < 0)
        f->s[from].eps[0] = to;
    else
        f->s[from].eps[1] = to;
}

/* Builds r between a fresh start and end; returns start, *end set. */
static int build_(nfa_t* f, const rx_t* r, int* end) {
    switch (r->op) {
    case RX_EMPTY: {
        int s = nnew_(f);
        *end = s;
        return s;
    }
    case RX_SET: {
        int s = nnew_(f), e = nnew_(f);
        f->s[s].set = r->set;
        f->s[s].next = e;
        *end = e;
        return s;
    }
    case RX_CAT: {
        int e1, e2;
        int s = build_(f, r->a, &e1);
        int s2 = build_(f, r->b, &e2);
        eps_(f, e1, s2);
        *end = e2;
        return s;
    }
    case RX_ALT: {
        int s = nnew_(f), e = nnew_(f), e1, e2;
        int s1 = build_(f, r->a, &e1);
        int s2 = build_(f, r->b, &e2);
        eps_(f, s, s1);
        eps_(f, s, s2);
        eps_(f, e1, e);
        eps_(f, e2, e);
        *end = e;
        return s;
    }
    case RX_REP: {
        int s = nnew_(f), cur = s;
        for (int i = 0; i < r->min; i++) {
            int e;
            int x = build_(f, r->a, &e);
            eps_(f, cur, x);
            cur = e;
        }
        if (r->max < 0) {
            int e;
            int loop = nnew_(f);
            int x = build_(f, r->a, &e);
            eps_(f, cur, loop);
            eps_(f, loop, x);
            eps_(f, e, loop);
            int out = nnew_(f);
            eps_(f, loop, out);
            *end = out;
            return s;
        }
        int out = nnew_(f);
        for (int i = r->min; i < r->max; i++) {
            int e;
            int x = build_(f, r->a, &e);
            eps_(f, cur, x);
            eps_(f, cur, out);
            cur = e;
        }
        eps_(f, cur, out);
        *end = out;
        return s;
    }
    }
    *end = nnew_(f);
    return *end;
}

bool rx__intersects(const rx_t* x, const rx_t* y, char* witness, size_t cap) {
    nfa_t a = { 0 }, b = { 0 };
    int ea, eb;
    int sa = build_(&a, x, &ea);
    int sb = build_(&b, y, &eb);
    size_t npairs = (size_t) a.n * (size_t) b.n;
    int* prev = dsl_xmalloc(npairs * sizeof *prev); /* BFS parent, -2 = unseen */
    int16_t* via = dsl_xmalloc(npairs * sizeof *via);
    int* queue = dsl_xmalloc(npairs * sizeof *queue);
    for (size_t i = 0; i < npairs; i++) prev[i] = -2;
    size_t qh = 0, qt = 0;
    int start = sa * b.n + sb;
    prev[start] = -1;
    via[start] = -1;
    queue[qt++] = start;
    int hit = -1;
    while (qh < qt && hit < 0) {
        int cur = queue[qh++];
        int pa = cur / b.n, pb = cur % b.n;
        if (pa == ea && pb == eb) {
            hit = cur;
            break;
        }
        int nexts[4];
        int16_t bytes[4];
        int k = 0;
        for (int i = 0; i < 2; i++) {
            if (a.s[pa].eps[i] >= 0) nexts[k] = a.s[pa].eps[i] * b.n + pb, bytes[k++] = -1;
        }
        for (int i = 0; i < 2; i++) {
            if (b.s[pb].eps[i] >= 0) nexts[k] = pa * b.n + b.s[pb].eps[i], bytes[k++] = -1;
        }
        for (int i = 0; i < k; i++)
            if (prev[nexts[i]] == -2) {
                prev[nexts[i]] = cur;
                via[nexts[i]] = bytes[i];
                queue[qt++] = nexts[i];
            }
        if (a.s[pa].next >= 0 && b.s[pb].next >= 0) {
            int common = -1;
            for (int i = 0; i < 32 && common < 0; i++) {
                uint8_t m = a.s[pa].set[i] & b.s[pb].set[i];
                if (m) common = i * 8 + __builtin_ctz(m);
            }
            int nx = a.s[pa].next * b.n + b.s[pb].next;
            if (common >= 0 && prev[nx] == -2) {
                /* Prefer a printable witness byte when there is one. */
                for (int c = 'a'; c <= 'z'; c++)
                    if (set_has_(a.s[pa].set, (unsigned) c) && set_has_(b.s[pb].set, (unsigned) c)) {
                        common = c;
                        break;
                    }
                if (common < 0x21 || common > 0x7e)
                    for (int c = 0x21; c < 0x7f; c++)
                        if (set_has_(a.s[pa].set, (unsigned) c) &&
                            set_has_(b.s[pb].set, (unsigned) c)) {
                            common = c;
                            break;
                        }
                prev[nx] = cur;
                via[nx] = (int16_t) common;
                queue[qt++] = nx;
            }
        }
    }
    if (hit >= 0 && witness && cap) {
        /* Walk back, collecting bytes in reverse. */
        size_t n = 0;
        for (int c = hit; c >= 0 && prev[c] >= -1; c = prev[c])
            if (via[c] >= 0) n++;
        size_t len = n < cap - 1 ? n : cap - 1;
        size_t pos = n;
        for (int c = hit; c >= 0; c = prev[c])
            if (via[c] >= 0) {
                pos--;
                if (pos < len) witness[pos] = (char) via[c];
            }
        witness[len] = '\0';
    }
    free(prev);
    free(via);
    free(queue);
    free(a.s);
    free(b.s);
    return hit >= 0;
}

/* ---- inclusion: L(x) ⊆ L(y)? ----
 * Walks x's NFA in product with the subset construction of y's NFA: a pair
 * (state of x, set of y states) where x can end while no y state ends is a
 * string of x outside y. Route segments are small, so are the sets. */
typedef struct sub_ {
    const nfa_t* y;
    size_t words; /* uint64_t words per y-set */
} sub_t;

static void close_(const nfa_t* f, uint64_t* set) {
    int stack[4096], sp = 0;
    for (int i = 0; i < f->n; i++)
        if (set[i >> 6] >> (i & 63) & 1) stack[sp++] = i;
    while (sp > 0) {
        int s = stack[--sp];
        for (int k = 0; k < 2; k++) {
            int t = f->s[s].eps[k];
            if (t >= 0 && !(set[t >> 6] >> (t & 63) & 1)) {
                set[t >> 6] |= UINT64_C(1) << (t & 63);
                if (sp < 4096) stack[sp++] = t;
            }
        }
    }
}

bool rx__subset(const rx_t* x, const rx_t* y) {
    nfa_t a = { 0 }, b = { 0 };
    int ea, eb;
    int sa = build_(&a, x, &ea);
    int sb = build_(&b, y, &eb);
    if (a.n > 4000 || b.n > 4000) { /* beyond the closure stack: say no */
        free(a.s);
        free(b.s);
        return false;
    }
    size_t w = ((size_t) b.n + 63) / 64, rec = w + 1; /* record: x state, then the y set */
    size_t cap = 256, len = 0;
    uint64_t* seen = dsl_xmalloc(cap * rec * sizeof *seen);
    uint64_t* cur = dsl_xcalloc(rec, sizeof *cur);
    uint64_t* nx = dsl_xcalloc(rec, sizeof *nx);
    /* The start record. */
    seen[0] = (uint64_t) sa;
    memset(seen + 1, 0, w * sizeof *seen);
    seen[1 + (size_t) sb / 64] |= UINT64_C(1) << (sb & 63);
    close_(&b, seen + 1);
    len = 1;
    size_t hcap = 512;
    size_t* hset = dsl_xcalloc(hcap, sizeof *hset);
    {
        size_t h = (size_t) dsl_hash(seen, rec * sizeof *seen, 0) & (hcap - 1);
        hset[h] = 1;
    }
    bool sub = true;
    for (size_t qi = 0; qi < len && sub; qi++) {
        memcpy(cur, seen + qi * rec, rec * sizeof *cur);
        int px = (int) cur[0];
        const uint64_t* ys = cur + 1;
        if (px == ea && !(ys[eb >> 6] >> (eb & 63) & 1)) {
            sub = false;
            break;
        }
        /* Successors: x's epsilon moves keep the set, x's byte edge moves both. */
        int succ_x[3], nsucc = 0;
        for (int k = 0; k < 2; k++)
            if (a.s[px].eps[k] >= 0) succ_x[nsucc++] = a.s[px].eps[k];
        int byte_next = a.s[px].next;
        for (int c = (byte_next >= 0 ? 0 : 256); c < 256 + nsucc; c++) {
            if (c < 256) {
                if (!set_has_(a.s[px].set, (unsigned) c)) continue;
                memset(nx, 0, rec * sizeof *nx);
                nx[0] = (uint64_t) byte_next;
                for (int t = 0; t < b.n; t++)
                    if (ys[t >> 6] >> (t & 63) & 1 && b.s[t].next >= 0 && set_has_(b.s[t].set, (unsigned) c)) {
                        int u = b.s[t].next;
                        nx[1 + (size_t) u / 64] |= UINT64_C(1) << (u & 63);
                    }
                close_(&b, nx + 1);
            } else {
                memcpy(nx, cur, rec * sizeof *nx);
                nx[0] = (uint64_t) succ_x[c - 256];
            }
            /* seen before? (a hash set of record indices + 1) */
            if (len * 2 >= hcap) {
                free(hset);
                hcap *= 2;
                hset = dsl_xcalloc(hcap, sizeof *hset);
                for (size_t k = 0; k < len; k++) {
                    size_t h = (size_t) dsl_hash(seen + k * rec, rec * sizeof *seen, 0) & (hcap - 1);
                    while (hset[h]) h = (h + 1) & (hcap - 1);
                    hset[h] = k + 1;
                }
            }
            size_t h = (size_t) dsl_hash(nx, rec * sizeof *nx, 0) & (hcap - 1);
            bool known = false;
            for (; hset[h] && !known; h = known ? h : (h + 1) & (hcap - 1))
                known = memcmp(seen + (hset[h] - 1) * rec, nx, rec * sizeof *nx) == 0;
            if (known) continue;
            if (len == cap) {
                cap *= 2;
                seen = dsl_xrealloc(seen, cap * rec * sizeof *seen);
            }
            memcpy(seen + len * rec, nx, rec * sizeof *nx);
            hset[h] = ++len;
        }
    }
    free(hset);
    free(seen);
    free(cur);
    free(nx);
    free(a.s);
    free(b.s);
    return sub;
}
