/* codegen/emit_mime.c — PREFIX_mime.gperf: the `mime` lines as a gperf
 * perfect hash (PREFIX__mime_lookup; extension without the dot, any case). */
#include "emit.h"

void emit_mime(const gen_t* g, dsl_buf_t* b) {
    dsl_file_t* f = g->f;
    dsl_buf__printf(b, "%%{\n");
    emit__banner(g, b, "/*", "*/");
    dsl_buf__printf(b, "#include \"%s_routes.h\"\n#include <string.h>\n%%}\n", g->P);
    dsl_buf__printf(b,
                    "%%language=ANSI-C\n%%struct-type\n%%readonly-tables\n%%ignore-case\n"
                    "%%compare-lengths\n%%define slot-name ext\n%%define initializer-suffix ,nullptr\n"
                    "%%define hash-function-name %s__mime_hash\n"
                    "%%define lookup-function-name %s__mime_lookup\n"
                    "struct %s_mime;\n%%%%\n",
                    g->P, g->P, g->P);
    for (int i = 0; i < f->nmimes; i++) dsl_buf__printf(b, "%s, \"%s\"\n", f->mimes[i].ext, f->mimes[i].type);
    dsl_buf__printf(b, "%%%%\n");
}
