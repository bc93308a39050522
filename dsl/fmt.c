/* dsl/fmt.c — htgen --fmt: the canonical layout of a routes.ht (dsl.h,
 * dsl_fmt; the rules are SPEC.md's "Tools" section).
 *
 * Works on the lexer's tokens and comments only. Each line keeps its tokens
 * in order and stays one line; only the blanks between tokens change (none
 * around the '|' of a method list, where the lexer needs none), so the
 * parser reads the same statements. The output is lexed again and compared
 * token by token with the input before it is handed out: a formatter bug
 * can fail, never change a file's meaning.
 */
#include "dsl.h"

#include <stdlib.h>
#include <string.h>

enum { INDENT = 4, NCOL = 5 };

typedef enum lkind {
    L_BLANK,
    L_COMMENT, /* a comment alone */
    L_ROUTE,   /* methods, path [query words], ->, handler, options */
    L_FILES,   /* mount, embed, mime: keyword, prefix, directory or type, options */
    L_ERRORS,  /* errors PREFIX json | errors PREFIX -> handler */
    L_DIR,     /* prefix, context, trailing_slash: not aligned */
    L_OPEN,    /* group, host: the lines up to their `end` are indented */
    L_END,
    L_OTHER,   /* anything else that lexes (the parser will say what is wrong) */
} lkind_t;

typedef struct fline {
    lkind_t kind;
    int depth;
    dsl_buf_t col[NCOL]; /* the cells; L_OPEN, L_END, L_OTHER: col[0] only */
    const char* com;     /* the comment, without a CR before the LF */
    size_t comlen;
    int run;             /* the run of aligned lines it is in (-1: none) */
} fline_t;

static bool is_(const dsl_tok_t* t, const char* s) {
    return t->kind == DSL_T_WORD && t->len == strlen(s) && memcmp(t->ptr, s, t->len) == 0;
}

static bool directive_(const dsl_tok_t* t) {
    static const char* const dirs[] = { "prefix", "context", "trailing_slash" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (is_(t, dirs[i])) return true;
    return false;
}

/* Tokens t[a .. b) into cell c, one blank between them. */
static void cell_(dsl_buf_t* c, const dsl_tok_t* t, int a, int b) {
    for (int k = a; k < b; k++) {
        if (k > a) dsl_buf__put(c, " ", 1);
        dsl_buf__put(c, t[k].ptr, t[k].len);
    }
}

/* A route's cells, when the line has a route's shape; false if not. */
static bool route_(fline_t* l, const dsl_tok_t* t, int n) {
    int k = 0;
    if (t[k].kind != DSL_T_WORD) return false;
    dsl_buf__put(&l->col[0], t[k].ptr, t[k].len);
    k++;
    while (k + 1 < n && t[k].kind == DSL_T_PIPE && t[k + 1].kind == DSL_T_WORD) {
        dsl_buf__put(&l->col[0], "|", 1);
        dsl_buf__put(&l->col[0], t[k + 1].ptr, t[k + 1].len);
        k += 2;
    }
    if (k >= n || t[k].kind != DSL_T_PATH) return false;
    int arrow = k + 1;
    while (arrow < n && t[arrow].kind != DSL_T_ARROW) arrow++;
    if (arrow + 1 >= n) return false;
    cell_(&l->col[1], t, k, arrow);
    cell_(&l->col[2], t, arrow, arrow + 1);
    cell_(&l->col[3], t, arrow + 1, arrow + 2);
    cell_(&l->col[4], t, arrow + 2, n);
    return true;
}

static void classify_(fline_t* l, const dsl_tok_t* t, int n) {
    if (!n) {
        l->kind = l->com ? L_COMMENT : L_BLANK;
        return;
    }
    if (is_(&t[0], "group") || is_(&t[0], "host") || is_(&t[0], "end")) {
        l->kind = is_(&t[0], "end") ? L_END : L_OPEN;
        cell_(&l->col[0], t, 0, n);
        return;
    }
    if (directive_(&t[0])) {
        l->kind = L_DIR;
        cell_(&l->col[0], t, 0, n);
        return;
    }
    if (is_(&t[0], "mount") || is_(&t[0], "embed") || is_(&t[0], "mime") || is_(&t[0], "errors")) {
        /* keyword, then one cell per argument, the rest (options) in the last */
        l->kind = is_(&t[0], "errors") ? L_ERRORS : L_FILES;
        int args = l->kind == L_ERRORS ? 2 : 3;
        for (int c = 0; c < args && c < n; c++) cell_(&l->col[c], t, c, c + 1);
        if (n > args) cell_(&l->col[args], t, args, n);
        return;
    }
    l->kind = L_ROUTE;
    if (route_(l, t, n)) return;
    for (int c = 0; c < NCOL; c++) l->col[c].len = 0;
    l->kind = L_OTHER;
    cell_(&l->col[0], t, 0, n);
}

static void pad_(dsl_buf_t* b, size_t n) {
    for (size_t i = 0; i < n; i++) dsl_buf__put(b, " ", 1);
}

/* The line's content, its cells padded to the run's widths (w), no
   trailing blanks. */
static void content_(dsl_buf_t* b, const fline_t* l, const size_t* w) {
    int last = -1;
    for (int c = 0; c < NCOL; c++)
        if (l->col[c].len) last = c;
    for (int c = 0; c <= last; c++) {
        if (c) pad_(b, 1);
        dsl_buf__put(b, l->col[c].ptr ? l->col[c].ptr : "", l->col[c].len);
        if (c < last && w) pad_(b, w[c] - l->col[c].len);
    }
}

/* The tokens of text, comments included (their CR dropped), as a string of
   kinds and bytes, with the NL of an empty line (and one before the end)
   left out: what the output must share with the input, as fmt collapses
   blank lines and ends the last line. */
static void tokens_(const char* text, size_t len, dsl_buf_t* out) {
    dsl_lexer_t lx;
    dsl_lexer__init(&lx, text, len);
    lx.comments = true;
    bool nl = false, prev_nl = true;
    for (;;) {
        dsl_tok_t t = dsl_lexer__next(&lx);
        if (t.kind == DSL_T_EOF) return;
        if (t.kind == DSL_T_NL) {
            nl = !prev_nl;
            prev_nl = true;
            continue;
        }
        if (nl) dsl_buf__put(out, "\n", 2);
        nl = prev_nl = false;
        size_t n = t.len;
        if (t.kind == DSL_T_COMMENT && n && t.ptr[n - 1] == '\r') n--;
        char k = (char) ('0' + (int) t.kind);
        dsl_buf__put(out, &k, 1);
        dsl_buf__put(out, t.ptr, n);
        dsl_buf__put(out, "", 1);
    }
}

static bool same_tokens_(const char* a, size_t an, const char* b, size_t bn) {
    dsl_buf_t x = { 0 }, y = { 0 };
    tokens_(a, an, &x);
    tokens_(b, bn, &y);
    bool same = x.len == y.len && (!x.len || memcmp(x.ptr, y.ptr, x.len) == 0);
    dsl_buf__free(&x);
    dsl_buf__free(&y);
    return same;
}

bool dsl_fmt(dsl_src_t* src, dsl_buf_t* out) {
    dsl_lexer_t lx;
    dsl_lexer__init(&lx, src->text, src->len);
    lx.comments = true;
    int cap = 64, nl = 0, ntok = 0, captok = 64;
    fline_t* lines = dsl_xcalloc((size_t) cap, sizeof *lines);
    dsl_tok_t* toks = dsl_xcalloc((size_t) captok, sizeof *toks);
    bool ok = true;
    for (bool eof = false; !eof;) {
        dsl_tok_t t = dsl_lexer__next(&lx);
        if (t.kind == DSL_T_BAD) {
            dsl_diag(src, t.loc, true, "unexpected byte 0x%02X: a file that does not lex is not formatted",
                     (unsigned char) *t.ptr);
            ok = false;
            continue;
        }
        if (t.kind == DSL_T_COMMENT) {
            if (nl == cap) {
                lines = dsl_xrealloc(lines, (size_t) cap * 2 * sizeof *lines);
                memset(lines + cap, 0, (size_t) cap * sizeof *lines);
                cap *= 2;
            }
            lines[nl].com = t.ptr;
            lines[nl].comlen = t.len && t.ptr[t.len - 1] == '\r' ? t.len - 1 : t.len;
            continue;
        }
        if (t.kind != DSL_T_NL && t.kind != DSL_T_EOF) {
            if (ntok == captok) toks = dsl_xrealloc(toks, (size_t) (captok *= 2) * sizeof *toks);
            toks[ntok++] = t;
            continue;
        }
        eof = t.kind == DSL_T_EOF;
        if (eof && !ntok && !(nl < cap && lines[nl].com)) break; /* nothing after the last LF */
        if (nl == cap) {
            lines = dsl_xrealloc(lines, (size_t) cap * 2 * sizeof *lines);
            memset(lines + cap, 0, (size_t) cap * sizeof *lines);
            cap *= 2;
        }
        classify_(&lines[nl], toks, ntok);
        nl++;
        ntok = 0;
    }
    free(toks);
    if (ok) {
        /* depths, then runs: consecutive route lines (or mount/embed/mime,
           or errors lines) at one depth, comments among them; a blank or any
           other line ends one */
        int depth = 0;
        for (int i = 0; i < nl; i++) {
            if (lines[i].kind == L_END && depth > 0) depth--;
            lines[i].depth = depth;
            if (lines[i].kind == L_OPEN) depth++;
            lines[i].run = -1;
        }
        for (int i = 0; i < nl; i++) {
            lkind_t k = lines[i].kind;
            if ((k != L_ROUTE && k != L_FILES && k != L_ERRORS) || lines[i].run >= 0) continue;
            for (int j = i; j < nl && lines[j].depth == lines[i].depth; j++) {
                if (lines[j].kind == k)
                    lines[j].run = i;
                else if (lines[j].kind != L_COMMENT)
                    break;
            }
        }
        dsl_buf_t res = { 0 };
        bool blank = false, any = false;
        for (int i = 0; i < nl; i++) {
            const fline_t* l = &lines[i];
            if (l->kind == L_BLANK) {
                blank = any;
                continue;
            }
            if (blank) dsl_buf__put(&res, "\n", 1);
            blank = false;
            any = true;
            pad_(&res, (size_t) l->depth * INDENT);
            if (l->kind == L_COMMENT) {
                dsl_buf__put(&res, l->com, l->comlen);
                dsl_buf__put(&res, "\n", 1);
                continue;
            }
            size_t w[NCOL] = { 0 }, comcol = 0;
            if (l->run >= 0) {
                for (int j = l->run; j < nl && (lines[j].run == l->run || lines[j].kind == L_COMMENT); j++) {
                    if (lines[j].run != l->run) continue;
                    for (int c = 0; c < NCOL; c++)
                        if (lines[j].col[c].len > w[c]) w[c] = lines[j].col[c].len;
                }
                for (int j = l->run; j < nl && (lines[j].run == l->run || lines[j].kind == L_COMMENT); j++) {
                    if (lines[j].run != l->run || !lines[j].com) continue;
                    dsl_buf_t tmp = { 0 };
                    content_(&tmp, &lines[j], w);
                    if (tmp.len > comcol) comcol = tmp.len;
                    dsl_buf__free(&tmp);
                }
            }
            size_t start = res.len;
            content_(&res, l, l->run >= 0 ? w : nullptr);
            if (l->com) {
                size_t have = res.len - start;
                pad_(&res, (comcol > have ? comcol - have : 0) + 2);
                dsl_buf__put(&res, l->com, l->comlen);
            }
            dsl_buf__put(&res, "\n", 1);
        }
        if (!same_tokens_(src->text, src->len, res.ptr ? res.ptr : "", res.len)) {
            dsl_diag(src, (dsl_loc_t){ 1, 1 }, true, "internal error: formatting would change the tokens");
            ok = false;
        } else {
            dsl_buf__put(out, res.ptr ? res.ptr : "", res.len);
        }
        dsl_buf__free(&res);
    }
    for (int i = 0; i < nl; i++)
        for (int c = 0; c < NCOL; c++) dsl_buf__free(&lines[i].col[c]);
    free(lines);
    return ok;
}
