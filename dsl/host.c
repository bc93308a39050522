/* dsl/host.c — `host NAME` ... `end` and `host *.SUFFIX` ... `end`: routes
 * served only for requests whose Host is NAME (or ends with .SUFFIX).
 *
 * How they are matched: in a file with host blocks every route's path gets
 * one more literal segment in front, its host's pseudo-segment: a blank
 * then the host pattern (" api.example.com", " *.example.com"), or a blank
 * alone for the routes outside any block. A request path never holds a
 * blank (the HTTP parser ends the request-target there), so the generated
 * PREFIX__match_host matches "/ HOST" + path for the request's host block,
 * then "/ " + path: one automaton, routes of different hosts never meet
 * (conflicts are per host as a consequence), and a file without host
 * blocks is untouched. Semantics: dsl/SPEC.md, Hosts.
 */
#include "dsl.h"

#include <ctype.h>
#include <string.h>

static dsl_loc_t at_(dsl_loc_t base, size_t off) { return (dsl_loc_t){ base.line, base.col + (int) off }; }

/* A host pattern: [ "*." ] label { "." label }, labels of letters, digits
 * and '-' (not first or last), 1..63 bytes, the whole at most 253. */
static bool pattern_ok_(dsl_src_t* src, const dsl_tok_t* t) {
    const char* s = t->ptr;
    size_t n = t->len, i = 0;
    if (n >= 2 && s[0] == '*' && s[1] == '.') i = 2;
    if (n == 1 && s[0] == '*') {
        dsl_diag(src, t->loc, true, "a wildcard host needs a suffix: '*.example.com'");
        return false;
    }
    if (n - i > 253) {
        dsl_diag(src, t->loc, true, "a host name has at most 253 bytes");
        return false;
    }
    size_t label = i;
    for (size_t k = i; k <= n; k++) {
        char c = k < n ? s[k] : '.';
        if (c == '.') {
            if (k == label) {
                dsl_diag(src, at_(t->loc, k), true, "empty label in host name '%.*s'", (int) n, s);
                return false;
            }
            if (k - label > 63) {
                dsl_diag(src, at_(t->loc, label), true, "a host name's label has at most 63 bytes");
                return false;
            }
            if (s[label] == '-' || s[k - 1] == '-') {
                dsl_diag(src, at_(t->loc, s[label] == '-' ? label : k - 1), true,
                         "a host name's label does not begin or end with '-'");
                return false;
            }
            label = k + 1;
            continue;
        }
        if (isalnum((unsigned char) c) || c == '-') continue;
        const char* why = c == '*'   ? "'*' can only be the whole first label ('*.example.com')"
                          : c == ':' ? "a host pattern has no port (the Host header's port is ignored)"
                                     : "a host name holds letters, digits, '-' and '.'";
        dsl_diag(src, at_(t->loc, k), true, "unexpected '%c' in host pattern: %s", c, why);
        return false;
    }
    return true;
}

int dsl_host__open(dsl_file_t* f, dsl_src_t* src, const dsl_tok_t* t) {
    if (t->kind != DSL_T_WORD) {
        dsl_diag(src, t->loc, true, "expected a host name after 'host' (api.example.com, *.example.com)");
        return 0;
    }
    if (!pattern_ok_(src, t)) return 0;
    char* name = dsl_arena__strndup(&f->arena, t->ptr, t->len);
    for (char* c = name; *c; c++) *c = (char) tolower((unsigned char) *c);
    for (int i = 0; i < f->nhosts; i++)
        if (strcmp(f->hosts[i].name, name) == 0) return i + 1; /* blocks of one host add up */
    dsl_host_t* nh = dsl_arena__alloc(&f->arena, (size_t) (f->nhosts + 1) * sizeof *nh);
    if (f->nhosts) memcpy(nh, f->hosts, (size_t) f->nhosts * sizeof *nh);
    nh[f->nhosts] = (dsl_host_t){ .name = name, .loc = t->loc, .wild = name[0] == '*' };
    f->hosts = nh;
    return ++f->nhosts;
}

void dsl_host__apply(dsl_file_t* f, dsl_src_t* src) {
    if (f->nhosts == 0) return;
    for (int j = 0; j < f->nroutes; j++) {
        dsl_route_t* r = f->routes[j];
        const char* pattern = r->pattern;
        dsl_loc_t loc = r->path_loc;
        const char* host = r->host ? f->hosts[r->host - 1].name : "";
        size_t hl = strlen(host), pl = strlen(pattern);
        /* Parsed with '~' for the blank (a path character), which is then
         * put in place: the pieces point into this buffer. */
        char* s = dsl_arena__alloc(&f->arena, 2 + hl + pl + 1);
        s[0] = '/';
        s[1] = '~';
        memcpy(s + 2, host, hl);
        memcpy(s + 2 + hl, pattern, pl);
        dsl_tok_t t = { .kind = DSL_T_PATH, .ptr = s, .len = 2 + hl + pl,
                        .loc = { loc.line, loc.col - (int) (2 + hl) } };
        r->npieces = r->nparams = r->nranks = 0;
        (void) dsl_path__parse(&f->arena, src, r, &t); /* parsed before: no error */
        s[1] = ' ';
        /* The segment languages were built from '~' (rx__lit copies): the
           pseudo-segment's and the whole path's are rebuilt with the blank,
           so a path checked against them (htgen --explain) is the matcher's. */
        r->segrx[0] = rx__lit(&f->arena, s + 1, 1 + hl);
        rx_t* whole = rx__byte(&f->arena, '/');
        for (int i = 0; i < r->nranks; i++) {
            if (i) whole = rx__cat(&f->arena, whole, rx__byte(&f->arena, '/'));
            whole = rx__cat(&f->arena, whole, r->segrx[i]);
        }
        r->rx = whole;
        r->pattern = pattern;
        r->path_loc = loc;
    }
}

int* dsl_host__order(const dsl_file_t* f) {
    int n = f->nhosts;
    int* o = dsl_xmalloc((size_t) (n ? n : 1) * sizeof *o);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!f->hosts[i].wild) o[k++] = i;
    int w0 = k;
    for (int i = 0; i < n; i++) {
        if (!f->hosts[i].wild) continue;
        int j = k++;
        for (; j > w0 && strlen(f->hosts[o[j - 1]].name) < strlen(f->hosts[i].name); j--) o[j] = o[j - 1];
        o[j] = i;
    }
    return o;
}
