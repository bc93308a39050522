/* codegen/emit_headers.c — a mount or embed line's header options as a
 * static ht_headers_t (<ht/headers.h>), for PREFIX_dispatch.c (mounts) and
 * PREFIX_embed.c (embeds). The parser checked them (dsl/headers.c) with the
 * runtime's own rules, which is the check the runtime asks for before
 * serving: the tables go out as data, nothing runs at startup. */
#include "emit.h"

void emit__header_set(dsl_buf_t* b, const dsl_route_t* r, const char* name) {
    dsl_buf__printf(b, "/* line %d: header options */\n", r->loc.line);
    if (r->nhdrs) {
        dsl_buf__printf(b, "static const ht_header_rule_t %srules_[%d] = {\n", name, r->nhdrs);
        for (int i = 0; i < r->nhdrs; i++) {
            dsl_buf__puts(b, "    { nullptr, ");
            emit__cstr(b, r->hdr_names[i]);
            dsl_buf__puts(b, ", ");
            emit__cstr(b, r->hdr_values[i]);
            dsl_buf__puts(b, " },\n");
        }
        dsl_buf__puts(b, "};\n");
    }
    if (r->ncors) {
        dsl_buf__printf(b, "static const char* const %sorigins_[%d] = {", name, r->ncors);
        for (int i = 0; i < r->ncors; i++) {
            dsl_buf__puts(b, i ? ", " : " ");
            emit__cstr(b, r->cors[i]);
        }
        dsl_buf__printf(b, " };\nstatic const ht_cors_t %scors_ = { %sorigins_, %d, nullptr, nullptr, 0 };\n", name,
                        name, r->ncors);
    }
    dsl_buf__printf(b, "static const ht_headers_t %s = { ", name);
    if (r->nhdrs) dsl_buf__printf(b, "%srules_, %d, ", name, r->nhdrs);
    else dsl_buf__puts(b, "nullptr, 0, ");
    if (r->ncors) dsl_buf__printf(b, "&%scors_ };\n\n", name);
    else dsl_buf__puts(b, "nullptr };\n\n");
}
