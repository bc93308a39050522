/* codegen/emit_host.c — what a file with `host` blocks adds (only such a
 * file): in PREFIX_routes.re the table of its hosts' pseudo-segments and
 * PREFIX__match_host, which matches "/ HOST" + path for the request's host
 * block, then "/ " + path for the routes outside blocks (dsl/host.c); in
 * PREFIX_routes.h its declaration and scratch size. PREFIX__match keeps
 * its signature (it sees the pseudo-segments). */
#include "emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t seg_max_(const dsl_file_t* f) {
    size_t m = 1;
    for (int i = 0; i < f->nhosts; i++)
        if (strlen(f->hosts[i].name) + 1 > m) m = strlen(f->hosts[i].name) + 1;
    return m;
}

void emit_host__header(const gen_t* g, dsl_buf_t* b) {
    emit__tpl(b, g,
              "/* Host blocks (`host NAME` ... `end`): matches method + Host + path. The\n"
              "   routes of the request's host block first (Host compared without case,\n"
              "   its :port and a final '.' dropped; exact names before wildcards, the\n"
              "   longest suffix first; `*.SUFFIX`: one or more labels before .SUFFIX),\n"
              "   then, when none of them matches the path, the routes outside blocks.\n"
              "   method_token is read for HT_METHOD_OTHER. The path is matched with its\n"
              "   block's pseudo-segment in front (\"/ api.example.com/...\"), copied to\n"
              "   the end of m->scratch: scratch needs path.len + 1 more bytes than for\n"
              "   $P__match, plus $U_HOST_SEG_MAX ($U_HOST_SCRATCH is enough for a path\n"
              "   of $U_SCRATCH_MAX - 1 bytes). $P__match sees the pseudo-segments. */\n");
    dsl_buf__printf(b, "#define %s_HOST_SEG_MAX %zu\n", g->U, seg_max_(g->f) + 1);
    emit__tpl(b, g,
              "#define $U_HOST_SCRATCH (2 * $U_SCRATCH_MAX + $U_HOST_SEG_MAX)\n"
              "$P_status_t $P__match_host(ht_method_t method, ht_slice_t method_token, ht_slice_t host,\n"
              "    ht_slice_t path, $P_match_t* m);\n\n");
}

void emit_host__matcher(const gen_t* g, dsl_buf_t* b) {
    const dsl_file_t* f = g->f;
    int* o = dsl_host__order(f);
    dsl_buf__printf(b,
                    "\n/* The host blocks' pseudo-segments, in lookup order (ht_rt__host_block). */\n"
                    "static const ht_rt_host_t %s__hosts[%d] = {\n",
                    g->P, f->nhosts);
    for (int k = 0; k < f->nhosts; k++) {
        const dsl_host_t* h = &f->hosts[o[k]];
        char seg[300];
        snprintf(seg, sizeof seg, " %s", h->name);
        dsl_buf__puts(b, "    { ");
        emit__cstr(b, seg);
        dsl_buf__printf(b, ", %zu, %s }, /* %s:%d */\n", strlen(seg), h->wild ? "true" : "false", g->base,
                        h->loc.line);
    }
    dsl_buf__puts(b, "};\n\n");
    dsl_buf__printf(b, "#define %s__NHOSTS %d\n", g->P, f->nhosts);
    emit__tpl(b, g,
              "$P_status_t $P__match_host(ht_method_t method, ht_slice_t method_token, ht_slice_t host,\n"
              "    ht_slice_t path, $P_match_t* m) {\n"
              "    int h = ht_rt__host_block(host, $P__hosts, $P__NHOSTS);\n"
              "    const size_t cap = m->scratch_cap;\n"
              "    for (;;) {\n"
              "        const char* seg = h >= 0 ? $P__hosts[h].seg : \" \";\n"
              "        size_t sl = h >= 0 ? $P__hosts[h].len : 1, n = 1 + sl + path.len;\n"
              "        if (n > cap) { /* no room for the path with its pseudo-segment */\n"
              "            m->route = $U_ROUTE__NONE;\n"
              "            return $U_MATCH_NOT_FOUND;\n"
              "        }\n"
              "        char* sp = m->scratch + cap - n; /* behind what the matcher may write */\n"
              "        sp[0] = '/';\n"
              "        memcpy(sp + 1, seg, sl);\n"
              "        if (path.len) memcpy(sp + 1 + sl, path.ptr, path.len);\n"
              "        ht_slice_t p = { sp, n };\n"
              "        m->scratch_cap = cap - n;\n"
              "        $P_status_t st = method == HT_METHOD_OTHER ? $P__match_token(method_token, p, m)\n"
              "                                                   : $P__match(method, p, m);\n"
              "        m->scratch_cap = cap;\n"
              "        if (st == $U_MATCH_REDIRECT) { /* without the pseudo-segment */\n"
              "            m->redirect.ptr += 1 + sl;\n"
              "            m->redirect.len -= 1 + sl;\n"
              "        }\n"
              "        if (st != $U_MATCH_NOT_FOUND || h < 0) return st;\n"
              "        h = -1; /* then the routes outside host blocks */\n"
              "    }\n"
              "}\n");
    free(o);
}
