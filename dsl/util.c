/* dsl/util.c — out of memory, arena, output buffer, string map, method
 * tokens and compiler-style diagnostics: what the front end and htgen's
 * other modules share. */
#include "dsl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- out of memory: one message, exit status 1 ---- */
void dsl_oom(void) {
    fputs("htgen: out of memory\n", stderr);
    exit(1);
}

void* dsl_xmalloc(size_t n) {
    void* p = malloc(n ? n : 1);
    if (!p) dsl_oom();
    return p;
}

void* dsl_xcalloc(size_t n, size_t size) {
    void* p = calloc(n ? n : 1, size ? size : 1);
    if (!p) dsl_oom();
    return p;
}

void* dsl_xrealloc(void* p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) dsl_oom();
    return p;
}

char* dsl_xstrndup(const char* s, size_t n) {
    size_t len = 0;
    while (len < n && s[len]) len++;
    char* p = dsl_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

typedef struct dsl_chunk {
    struct dsl_chunk* next;
    max_align_t data[];
} dsl_chunk_t;

void* dsl_arena__alloc(dsl_arena_t* a, size_t n) {
    /* One chunk per allocation: the model is small, and this keeps ASan exact. */
    dsl_chunk_t* c = dsl_xcalloc(1, sizeof *c + n + 1);
    c->next = a->head;
    a->head = c;
    return c->data;
}

char* dsl_arena__strndup(dsl_arena_t* a, const char* s, size_t n) {
    char* p = dsl_arena__alloc(a, n + 1);
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void dsl_arena__free(dsl_arena_t* a) {
    for (dsl_chunk_t* c = a->head; c;) {
        dsl_chunk_t* next = c->next;
        free(c);
        c = next;
    }
    a->head = nullptr;
}

void dsl_buf__put(dsl_buf_t* b, const char* s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        b->ptr = dsl_xrealloc(b->ptr, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->ptr + b->len, s, n);
    b->len += n;
    b->ptr[b->len] = '\0';
}

void dsl_buf__puts(dsl_buf_t* b, const char* s) { dsl_buf__put(b, s, strlen(s)); }

void dsl_buf__printf(dsl_buf_t* b, const char* fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t) n < sizeof small) {
        dsl_buf__put(b, small, (size_t) n);
        return;
    }
    char* big = dsl_xmalloc((size_t) n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t) n + 1, fmt, ap);
    va_end(ap);
    dsl_buf__put(b, big, (size_t) n);
    free(big);
}

void dsl_buf__free(dsl_buf_t* b) {
    free(b->ptr);
    *b = (dsl_buf_t){ 0 };
}

/* ---- a map from byte strings to ints (keys are borrowed) ---- */
typedef struct dsl_map_slot {
    const void* key; /* nullptr: empty */
    size_t len;
    uint64_t hash;
    int value;
} dsl_map_slot_t;

uint64_t dsl_hash(const void* p, size_t n, uint64_t seed) {
    const unsigned char* s = p;
    uint64_t h = 1469598103934665603u ^ seed;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211u;
    return h ^ h >> 31;
}

static dsl_map_slot_t* map_slot_(const dsl_map_t* m, const void* key, size_t len, uint64_t h) {
    size_t mask = m->cap - 1;
    for (size_t i = (size_t) h & mask;; i = (i + 1) & mask) {
        dsl_map_slot_t* sl = &m->slot[i];
        if (!sl->key || (sl->hash == h && sl->len == len && (!len || memcmp(sl->key, key, len) == 0))) return sl;
    }
}

int* dsl_map__at(dsl_map_t* m, const void* key, size_t len, bool* added) {
    if ((m->n + 1) * 2 > m->cap) {
        dsl_map_t bigger = { .slot = dsl_xcalloc(m->cap ? m->cap * 2 : 64, sizeof *m->slot),
                             .cap = m->cap ? m->cap * 2 : 64, .n = m->n };
        for (size_t i = 0; i < m->cap; i++)
            if (m->slot[i].key) *map_slot_(&bigger, m->slot[i].key, m->slot[i].len, m->slot[i].hash) = m->slot[i];
        free(m->slot);
        *m = bigger;
    }
    uint64_t h = dsl_hash(key, len, 0);
    dsl_map_slot_t* sl = map_slot_(m, key, len, h);
    *added = !sl->key;
    if (*added) {
        *sl = (dsl_map_slot_t){ .key = len ? key : "", .len = len, .hash = h, .value = -1 };
        m->n++;
    }
    return &sl->value;
}

int dsl_map__get(const dsl_map_t* m, const void* key, size_t len) {
    if (!m->cap) return -1;
    dsl_map_slot_t* sl = map_slot_(m, key, len, dsl_hash(key, len, 0));
    return sl->key ? sl->value : -1;
}

void dsl_map__free(dsl_map_t* m) {
    free(m->slot);
    *m = (dsl_map_t){ 0 };
}

/* ---- method tokens ---- */
bool dsl_is_tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The source line `line` (1-based), without its line end. */
static void line_of_(const dsl_src_t* src, int line, const char** p, size_t* n) {
    const char* s = src->text;
    const char* end = s + src->len;
    for (int l = 1; l < line && s < end; s++)
        if (*s == '\n') l++;
    const char* e = s;
    while (e < end && *e != '\n' && *e != '\r') e++;
    *p = s;
    *n = (size_t) (e - s);
}

__attribute__((format(printf, 5, 0))) static void vdiag_(dsl_src_t* src, dsl_loc_t at, const char* kind, bool caret, const char* fmt,
                   va_list ap) {
    fprintf(stderr, "%s:%d:%d: %s: ", src->name, at.line, at.col, kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    if (!caret || at.line <= 0) return;
    const char* p;
    size_t n;
    line_of_(src, at.line, &p, &n);
    /* Control bytes would break the caret alignment: show them as '?'. */
    fputc(' ', stderr);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) p[i];
        fputc(c == '\t' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : c, stderr);
    }
    fputc('\n', stderr);
    fputc(' ', stderr);
    for (int i = 1; i < at.col; i++) fputc(' ', stderr);
    fputs("^\n", stderr);
}

void dsl_diag(dsl_src_t* src, dsl_loc_t at, bool error, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vdiag_(src, at, error ? "error" : "warning", true, fmt, ap);
    va_end(ap);
    if (error)
        src->errors++;
    else
        src->warnings++;
}

void dsl_note(dsl_src_t* src, dsl_loc_t at, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vdiag_(src, at, "note", true, fmt, ap);
    va_end(ap);
}

/* Optimal string alignment distance (Damerau-Levenshtein with adjacent
 * transpositions, no substring edited twice), capped: returns at most
 * max + 1. For "did you mean" hints over short keywords only. */
int dsl_edit_distance(const char* a, size_t na, const char* b, size_t nb, int max) {
    if (na > 32 || nb > 32) return max + 1;
    if ((na > nb ? na - nb : nb - na) > (size_t) max) return max + 1;
    int d[33][33];
    for (size_t i = 0; i <= na; i++) d[i][0] = (int) i;
    for (size_t j = 0; j <= nb; j++) d[0][j] = (int) j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[na][nb] > max ? max + 1 : d[na][nb];
}

const char* dsl_param__ctype(dsl_pkind_t k) {
    switch (k) {
    case DSL_P_U64:
    case DSL_P_HEX: return "uint64_t";
    case DSL_P_I64: return "int64_t";
    default: return "ht_slice_t";
    }
}

bool dsl_is_ident(const char* s, size_t n) {
    if (n == 0 || !(isalpha((unsigned char) s[0]) || s[0] == '_')) return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char) s[i]) || s[i] == '_')) return false;
    return true;
}

/* C23 keywords cannot name a handler, a parameter or the prefix. */
bool dsl_is_c_keyword(const char* s, size_t n) {
    static const char* const kw[] = {
        "alignas", "alignof", "auto", "bool", "break", "case", "char", "const", "constexpr",
        "continue", "default", "do", "double", "else", "enum", "extern", "false", "float", "for",
        "goto", "if", "inline", "int", "long", "nullptr", "register", "restrict", "return", "short",
        "signed", "sizeof", "static", "static_assert", "struct", "switch", "thread_local", "true",
        "typedef", "typeof", "typeof_unqual", "union", "unsigned", "void", "volatile", "while",
    };
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (strlen(kw[i]) == n && memcmp(kw[i], s, n) == 0) return true;
    return false;
}
