/* fuzz_dsl: the routes.ht front end (dsl/: lexer, parser, regex subset,
 * conflict checks) as htgen runs it, and its formatter (dsl_fmt: idempotent,
 * the same errors after as before). Input: a routes file. It must never
 * crash or leak, and everything it writes must be diagnostics shaped
 * `fuzz.ht:LINE:COL: error|warning|note: message`, each of them
 * followed by a source line and a caret line (both starting with ' '), with
 * LINE within the file. The return value must agree with the error count.
 *
 * The diagnostics go to stderr (dsl/util.c); for the duration of one run the
 * stderr stream is swapped for an open_memstream (glibc lets `stderr` be
 * assigned), so libFuzzer's own output, which keeps its own FILE*, and the
 * sanitizers', which write to fd 2, are unaffected. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static FILE* real_err;

#define FAIL(...) do { fprintf(real_err, "fuzz_dsl: " __VA_ARGS__); fputc('\n', real_err); abort(); } while (0)

static int lines_in(const char* s, size_t n) {
    int l = 1;
    for (size_t i = 0; i < n; i++) l += s[i] == '\n';
    return l;
}

/* htgen --fmt (dsl_fmt) on the same input: when it formats it, formatting
 * the result again changes nothing, and the formatted file parses with as
 * many errors and warnings as the input. Diagnostics are discarded here. */
static void fmt_check_(const char* text, size_t size, int errors, int warnings) {
    char* sink = nullptr;
    size_t sinklen = 0;
    FILE* mem = open_memstream(&sink, &sinklen);
    if (!mem) abort();
    stderr = mem;
    dsl_src_t s1 = { .name = "fuzz.ht", .text = text, .len = size };
    dsl_buf_t a = { 0 }, b = { 0 };
    bool ok = dsl_fmt(&s1, &a);
    dsl_src_t s2 = { .name = "fuzz.ht", .text = a.ptr ? a.ptr : "", .len = a.len };
    bool ok2 = ok && dsl_fmt(&s2, &b);
    dsl_src_t s3 = { .name = "fuzz.ht", .text = a.ptr ? a.ptr : "", .len = a.len };
    dsl_file_t f;
    memset(&f, 0, sizeof f);
    if (ok) dsl_file__parse(&f, &s3, "/nonexistent/fuzz-dsl");
    dsl_file__free(&f);
    stderr = real_err;
    fclose(mem);
    free(sink);
    if (ok && !ok2) FAIL("fmt refuses its own output");
    if (ok && (a.len != b.len || (a.len && memcmp(a.ptr, b.ptr, a.len) != 0))) FAIL("fmt is not idempotent");
    if (ok && (s3.errors != errors || s3.warnings != warnings))
        FAIL("formatted: %d errors, %d warnings; input: %d, %d", s3.errors, s3.warnings, errors, warnings);
    dsl_buf__free(&a);
    dsl_buf__free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 1 << 16) return 0;
    char* text = malloc(size ? size : 1);
    memcpy(text, data, size);
    dsl_src_t src = { .name = "fuzz.ht", .text = text, .len = size };
    dsl_file_t f;
    memset(&f, 0, sizeof f);

    char* out = nullptr;
    size_t outlen = 0;
    real_err = stderr;
    FILE* mem = open_memstream(&out, &outlen);
    if (!mem) abort();
    stderr = mem;
    /* a directory that does not exist: mounts are diagnosed, never read */
    bool ok = dsl_file__parse(&f, &src, "/nonexistent/fuzz-dsl");
    dsl_file__free(&f);
    stderr = real_err;
    fclose(mem);

    if (ok != (src.errors == 0)) FAIL("returned %d with %d errors", ok, src.errors);
    if (src.errors && outlen == 0) FAIL("errors counted, nothing printed");
    int maxline = lines_in(text, size);
    int expect_echo = 0; /* lines of source echo + caret still due */
    int diags = 0;
    for (char* p = out; p < out + outlen;) {
        char* e = memchr(p, '\n', (size_t) (out + outlen - p));
        if (!e) FAIL("unterminated output line");
        *e = 0;
        if (expect_echo) {
            if (p[0] != ' ') FAIL("expected a source or caret line, got: %s", p);
            if (expect_echo == 1 && (e == p + 1 || e[-1] != '^')) FAIL("caret line without '^': %s", p);
            expect_echo--;
        } else {
            int line, col, off = 0;
            char kind[16];
            if (strncmp(p, "fuzz.ht:", 8) != 0 ||
                sscanf(p + 8, "%d:%d: %15[a-z]:%n", &line, &col, kind, &off) != 3 || off == 0)
                FAIL("not a diagnostic: %s", p);
            if (line < 1 || line > maxline || col < 1) FAIL("location out of the file: %s", p);
            /* every kind, notes too, echoes its source line and a caret */
            if (strcmp(kind, "error") == 0 || strcmp(kind, "warning") == 0 || strcmp(kind, "note") == 0)
                expect_echo = 2;
            else
                FAIL("unknown kind: %s", p);
            diags++;
        }
        p = e + 1;
    }
    if (expect_echo) FAIL("diagnostic without its source and caret lines");
    if (diags < src.errors + src.warnings) FAIL("%d diagnostics for %d errors, %d warnings", diags, src.errors, src.warnings);
    free(out);
    fmt_check_(text, size, src.errors, src.warnings);
    free(text);
    return 0;
}
