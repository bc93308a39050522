/* dsl/headers.c — a mount or embed line's header options, checked at build
 * time with the runtime's own rules (ht/headers.h), so a routes.ht that
 * compiles never hands the server a header it would refuse:
 *
 *   cache=SECONDS[,immutable] | cache=no-cache | cache=no-store
 *       Cache-Control: "public, max-age=SECONDS[, immutable]", or as given;
 *   header="Name: value"   (repeatable; quoted when it holds blanks)
 *   cors=* | cors=ORIGIN[,ORIGIN...]
 */
#include "dsl.h"

#include <ht/headers.h>

#include <stdio.h>
#include <string.h>

static dsl_loc_t at_(dsl_loc_t base, size_t off) { return (dsl_loc_t){ base.line, base.col + (int) off }; }

static void add_(dsl_file_t* f, dsl_route_t* r, const char* name, const char* value, dsl_loc_t loc) {
    int n = r->nhdrs + 1;
    const char** names = dsl_arena__alloc(&f->arena, (size_t) n * sizeof *names);
    const char** values = dsl_arena__alloc(&f->arena, (size_t) n * sizeof *values);
    dsl_loc_t* locs = dsl_arena__alloc(&f->arena, (size_t) n * sizeof *locs);
    if (r->nhdrs) {
        memcpy(names, r->hdr_names, (size_t) r->nhdrs * sizeof *names);
        memcpy(values, r->hdr_values, (size_t) r->nhdrs * sizeof *values);
        memcpy(locs, r->hdr_locs, (size_t) r->nhdrs * sizeof *locs);
    }
    names[r->nhdrs] = name;
    values[r->nhdrs] = value;
    locs[r->nhdrs] = loc;
    r->hdr_names = names, r->hdr_values = values, r->hdr_locs = locs, r->nhdrs = n;
}

static const char* why_(ht_result_t e) {
    switch (e) {
    case HT_E_BAD_HEADER_NAME: return "is not a header name (a token)";
    case HT_E_BAD_HEADER_VALUE: return "holds a control character (not a header value)";
    case HT_E_RESERVED_HEADER: return "is a header the server sets itself";
    default: return ht_result__str(e);
    }
}

static int cache_(dsl_file_t* f, dsl_src_t* src, dsl_route_t* r, const char* v, dsl_loc_t vloc) {
    for (int i = 0; i < r->nhdrs; i++)
        if (strcmp(r->hdr_names[i], "Cache-Control") == 0) {
            dsl_diag(src, vloc, true, "cache= given twice");
            return -1;
        }
    const char* out = nullptr;
    if (strcmp(v, "no-cache") == 0 || strcmp(v, "no-store") == 0) {
        out = v;
    } else {
        size_t d = strspn(v, "0123456789");
        bool imm = strcmp(v + d, ",immutable") == 0;
        if (d == 0 || d > 10 || (v[d] && !imm)) {
            dsl_diag(src, vloc, true, "cache= wants SECONDS[,immutable], no-cache or no-store");
            return -1;
        }
        char buf[64];
        snprintf(buf, sizeof buf, "public, max-age=%.*s%s", (int) d, v, imm ? ", immutable" : "");
        out = dsl_arena__strndup(&f->arena, buf, strlen(buf));
    }
    add_(f, r, "Cache-Control", out, vloc);
    return 1;
}

static int header_(dsl_file_t* f, dsl_src_t* src, dsl_route_t* r, const char* v, size_t vl, dsl_loc_t vloc) {
    const char* colon = memchr(v, ':', vl);
    if (!colon || colon == v) {
        dsl_diag(src, vloc, true, "header= wants \"Name: value\"");
        return -1;
    }
    size_t nl = (size_t) (colon - v);
    const char* b = colon + 1;
    const char* e = v + vl;
    while (b < e && (*b == ' ' || *b == '\t')) b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
    ht_header_rule_t rule = { .name = dsl_arena__strndup(&f->arena, v, nl),
                              .value = dsl_arena__strndup(&f->arena, b, (size_t) (e - b)) };
    ht_result_t err = ht_headers__rule_check(&rule);
    if (err != 0) {
        bool name = err != HT_E_BAD_HEADER_VALUE;
        dsl_diag(src, name ? vloc : at_(vloc, (size_t) (b - v)), true, "'%s' %s", name ? rule.name : rule.value,
                 why_(err));
        return -1;
    }
    for (int i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hdr_names[i], rule.name) == 0) {
            dsl_diag(src, vloc, true, "header '%s' given twice on this line%s", rule.name,
                     strcmp(r->hdr_names[i], "Cache-Control") == 0 ? " (cache= sets it)" : "");
            return -1;
        }
    add_(f, r, rule.name, rule.value, vloc);
    return 1;
}

static int cors_(dsl_file_t* f, dsl_src_t* src, dsl_route_t* r, const char* v, size_t vl, dsl_loc_t vloc) {
    if (r->ncors) {
        dsl_diag(src, vloc, true, "cors= given twice (list the origins in one, comma-separated)");
        return -1;
    }
    int n = 1;
    for (size_t i = 0; i < vl; i++) n += v[i] == ',';
    const char** o = dsl_arena__alloc(&f->arena, (size_t) n * sizeof *o);
    int k = 0;
    for (size_t i = 0; i <= vl;) {
        size_t j = i;
        while (j < vl && v[j] != ',') j++;
        ht_slice_t s = { v + i, j - i };
        bool star = s.len == 1 && s.ptr[0] == '*';
        if (star ? n != 1 : !ht_headers__origin_valid(s)) {
            dsl_diag(src, at_(vloc, i), true,
                     star ? "cors=* stands alone, not in a list"
                          : "'%.*s' is not an origin (scheme://host[:port], e.g. https://a.example)",
                     (int) s.len, s.ptr);
            return -1;
        }
        o[k++] = dsl_arena__strndup(&f->arena, s.ptr, s.len);
        i = j + 1;
    }
    r->cors = o;
    r->ncors = k;
    r->cors_loc = vloc;
    return 1;
}

int dsl_header_opt__parse(dsl_file_t* f, dsl_src_t* src, dsl_route_t* r, const char* key, size_t kl,
                          const char* val, dsl_loc_t vloc) {
    size_t vl = strlen(val);
    if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') { /* the lexer kept the quotes */
        val++, vl -= 2;
        vloc = at_(vloc, 1);
    }
    char* v = dsl_arena__strndup(&f->arena, val, vl);
    if (kl == 5 && memcmp(key, "cache", 5) == 0) return cache_(f, src, r, v, vloc);
    if (kl == 6 && memcmp(key, "header", 6) == 0) return header_(f, src, r, v, vl, vloc);
    if (kl == 4 && memcmp(key, "cors", 4) == 0) return cors_(f, src, r, v, vl, vloc);
    return 0;
}

bool dsl_header_opt__finish(dsl_src_t* src, const dsl_route_t* r) {
    if (!r->ncors) return true;
    for (int i = 0; i < r->nhdrs; i++)
        if (strncasecmp(r->hdr_names[i], "Access-Control-", 15) == 0) {
            dsl_diag(src, r->hdr_locs[i], true, "cors= sets the Access-Control-* headers");
            return false;
        }
    return true;
}

bool dsl_route__has_headers(const dsl_route_t* r) { return r->nhdrs || r->ncors; }
