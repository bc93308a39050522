/* dsl/lexer.re — the routes.ht tokenizer (re2c input, compiled by CMake).
 *
 * End of input uses a fake sentinel: YYPEEK yields 0 once the cursor reaches
 * the limit, so the buffer needs no terminator; a real NUL byte in the file is
 * told apart from the end by comparing the cursor with the limit.
 */
#include "dsl.h"

void dsl_lexer__init(dsl_lexer_t* lx, const char* text, size_t len) {
    lx->start = text;
    lx->cur = text;
    lx->lim = text + len;
    lx->line_start = text;
    lx->line = 1;
    lx->comments = false;
    lx->comment = nullptr;
    lx->comment_len = 0;
    lx->comment_line = 0;
}

static dsl_tok_t tok_(dsl_lexer_t* lx, dsl_tok_kind_t k, const char* from) {
    return (dsl_tok_t){ .kind = k,
                        .ptr = from,
                        .len = (size_t) (lx->cur - from),
                        .loc = { lx->line, (int) (from - lx->line_start) + 1 } };
}

dsl_tok_t dsl_lexer__next(dsl_lexer_t* lx) {
    const char* mk = lx->cur;
    (void) mk; /* YYBACKUP is only used by some DFAs */
    for (;;) {
        const char* tok = lx->cur;
        /*!re2c
            re2c:api = custom;
            re2c:api:style = free-form;
            re2c:define:YYCTYPE = "unsigned char";
            re2c:define:YYPEEK = "(lx->cur < lx->lim ? (unsigned char) *lx->cur : 0u)";
            re2c:define:YYSKIP = "++lx->cur;";
            re2c:define:YYBACKUP = "mk = lx->cur;";
            re2c:define:YYRESTORE = "lx->cur = mk;";
            re2c:yyfill:enable = 0;
            re2c:indent:top = 2;

            blank   = [ \t]+;
            eol     = "\r"? "\n";
            comment = "#" [^\n\x00]*;
            word    = [^ \t\r\n|#\x00-\x1F\x7F]+;
            path    = "/" [^ \t\r\n\x00-\x1F\x7F]*;
            /* KEY="a value": a word whose double-quoted tail may hold blanks,
               '|' and '#' (a mount's header="X-Frame-Options: DENY"). */
            qword   = [^ \t\r\n|#"/\x00-\x1F\x7F] [^ \t\r\n|#"\x00-\x1F\x7F]* "\"" [^"\r\n\x00-\x1F\x7F]* "\"";

            [\x00] {
                if (lx->cur > lx->lim) { lx->cur = lx->lim; return tok_(lx, DSL_T_EOF, lx->lim); }
                return tok_(lx, DSL_T_BAD, tok);
            }
            blank   { continue; }
            comment {
                if (lx->comments) return tok_(lx, DSL_T_COMMENT, tok);
                lx->comment = tok;
                lx->comment_len = (size_t) (lx->cur - tok);
                lx->comment_line = lx->line;
                continue;
            }
            eol {
                dsl_tok_t t = tok_(lx, DSL_T_NL, tok);
                lx->line++;
                lx->line_start = lx->cur;
                return t;
            }
            "->"    { return tok_(lx, DSL_T_ARROW, tok); }
            "|"     { return tok_(lx, DSL_T_PIPE, tok); }
            path    { return tok_(lx, DSL_T_PATH, tok); }
            word    { return tok_(lx, DSL_T_WORD, tok); }
            qword   { return tok_(lx, DSL_T_WORD, tok); }
            *       { return tok_(lx, DSL_T_BAD, tok); }
        */
    }
}
