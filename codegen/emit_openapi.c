/* codegen/emit_openapi.c — htgen --openapi: the routes file as an OpenAPI
 * 3.1 document (JSON). The mapping (dsl/SPEC.md, "OpenAPI export"):
 *
 *   paths         the pattern in template form (/img-{id}.png), one path
 *                 item per template; operations in OpenAPI's method order;
 *   operationId   the handler; handler_method when the handler has several
 *                 operations; _2, _3... if that is still taken;
 *   parameters    path parameters, a schema per type (regexes translated
 *                 from the parsed regex to an anchored ECMA-262 pattern),
 *                 then query parameters (default, optional, repeated);
 *   responses     default, plus what the server itself answers for the
 *                 route: 400 bad escape, 413 body limit, 503/504 deadline,
 *                 a mount's or an embed's own statuses;
 *   x-...         body limit, timeout, upstream, stream, rest parameters,
 *                 mount and embed trees; the line in routes.ht.
 *
 * Left out, with a warning: methods OpenAPI 3.1 has no field for (CONNECT
 * and custom tokens), and a route whose template OpenAPI cannot tell from
 * an earlier route's (same segments, other parameter names, or the same
 * path and method). Output is reproducible: keys in a fixed order.
 */
#include "emit.h"
#include "lang.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- JSON */
/* A writer that indents by two spaces and puts the commas in. */
typedef struct jw {
    dsl_buf_t* b;
    int depth;
    bool first[64];
} jw_t;

static void jw_nl_(jw_t* w) {
    dsl_buf__puts(w->b, "\n");
    for (int i = 0; i < w->depth; i++) dsl_buf__puts(w->b, "  ");
}

/* Before a member or an element. */
static void jw_sep_(jw_t* w) {
    if (!w->first[w->depth]) dsl_buf__puts(w->b, ",");
    w->first[w->depth] = false;
    jw_nl_(w);
}

/* s as a JSON string: quotes, backslashes and control bytes escaped; bytes
   that are not valid UTF-8 (a comment may hold any) become U+FFFD. */
static void jw_str_(jw_t* w, const char* s, size_t n) {
    dsl_buf_t* b = w->b;
    dsl_buf__puts(b, "\"");
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char) s[i];
        if (c == '"' || c == '\\') {
            dsl_buf__printf(b, "\\%c", c);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            dsl_buf__printf(b, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            dsl_buf__put(b, (const char*) &c, 1);
            i++;
        } else {
            /* A well-formed sequence (RFC 3629: no overlongs, surrogates or
               code points past U+10FFFF) is copied; anything else is one
               replacement character per byte. */
            size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
            bool ok = len && i + len <= n;
            for (size_t k = 1; ok && k < len; k++) ok = ((unsigned char) s[i + k] & 0xC0) == 0x80;
            if (ok && len >= 3) {
                unsigned char d = (unsigned char) s[i + 1];
                ok = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d >= 0xA0) && !(c == 0xF0 && d < 0x90) &&
                     !(c == 0xF4 && d >= 0x90);
            }
            if (ok) {
                dsl_buf__put(b, s + i, len);
                i += len;
            } else {
                dsl_buf__puts(b, "\xEF\xBF\xBD");
                i++;
            }
        }
    }
    dsl_buf__puts(b, "\"");
}

static void jw_key_(jw_t* w, const char* k) {
    jw_sep_(w);
    jw_str_(w, k, strlen(k));
    dsl_buf__puts(w->b, ": ");
}

static void jw_open_(jw_t* w, const char* brace) {
    dsl_buf__puts(w->b, brace);
    w->first[++w->depth] = true;
}

static void jw_close_(jw_t* w, const char* brace) {
    bool empty = w->first[w->depth--];
    if (!empty) jw_nl_(w);
    dsl_buf__puts(w->b, brace);
}

static void jw_kstr_(jw_t* w, const char* k, const char* v) {
    jw_key_(w, k);
    jw_str_(w, v, strlen(v));
}

/* A member whose value is JSON text as given (true, a number). */
static void jw_kraw_(jw_t* w, const char* k, const char* json) {
    jw_key_(w, k);
    dsl_buf__puts(w->b, json);
}

static void jw_knum_(jw_t* w, const char* k, unsigned long long v) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%llu", v);
    jw_kraw_(w, k, tmp);
}

/* ------------------------------------------------ regexes as ECMA-262 */
/* Bytes other than letters, digits and '_' are written \xHH, which reads
   the same with and without the u flag; a byte from 0x80 is then the code
   point U+0080..U+00FF (exact for ASCII languages only: SPEC.md). */
static void ecma_byte_(dsl_buf_t* b, int c) {
    if (isalnum(c) || c == '_')
        dsl_buf__printf(b, "%c", c);
    else
        dsl_buf__printf(b, "\\x%02X", (unsigned) c);
}

static bool in_set_(const uint8_t* set, int c) { return set[c >> 3] >> (c & 7) & 1; }

static void ecma_set_(dsl_buf_t* b, const uint8_t set[32]) {
    int count = 0, one = -1;
    for (int c = 0; c < 256; c++)
        if (in_set_(set, c)) count++, one = c;
    if (count == 1) {
        ecma_byte_(b, one);
        return;
    }
    bool neg = count > 128; /* [^/] rather than a list of 254 bytes */
    dsl_buf__puts(b, neg ? "[^" : "[");
    for (int c = 0; c < 256;) {
        if (in_set_(set, c) == neg) {
            c++;
            continue;
        }
        int e = c;
        while (e + 1 < 256 && in_set_(set, e + 1) != neg) e++;
        ecma_byte_(b, c);
        if (e > c) {
            if (e > c + 1) dsl_buf__puts(b, "-");
            ecma_byte_(b, e);
        }
        c = e + 1;
    }
    dsl_buf__puts(b, "]");
}

static void ecma_(dsl_buf_t* b, const rx_t* r) {
    switch (r->op) {
    case RX_EMPTY: break;
    case RX_SET: ecma_set_(b, r->set); break;
    case RX_CAT:
        ecma_(b, r->a);
        ecma_(b, r->b);
        break;
    case RX_ALT:
        dsl_buf__puts(b, "(?:");
        ecma_(b, r->a);
        dsl_buf__puts(b, "|");
        ecma_(b, r->b);
        dsl_buf__puts(b, ")");
        break;
    case RX_REP:
        if (r->a->op == RX_SET) {
            ecma_(b, r->a);
        } else {
            dsl_buf__puts(b, "(?:");
            ecma_(b, r->a);
            dsl_buf__puts(b, ")");
        }
        rx__emit_quant(b, r->min, r->max); /* ECMA-262 writes it as re2c does */
        break;
    }
}

/* ---------------------------------------------------------------- routes */
/* OpenAPI 3.1's Path Item fields for operations, in its order; CONNECT and
   custom methods have none. */
static const char* const oa_methods_[] = { "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE" };
#define NOA ((int) (sizeof oa_methods_ / sizeof oa_methods_[0]))

typedef struct item {
    char* tpl;                 /* "/users/{id}" */
    const dsl_route_t* op[NOA]; /* by oa_methods_ */
    const char* opid[NOA];
} item_t;

/* The pattern in OpenAPI's template form, and (key) with the names left
   out: two templates OpenAPI holds for one path when their keys are equal. */
static void template_(const dsl_file_t* f, const dsl_route_t* r, dsl_buf_t* tpl, dsl_buf_t* key) {
    size_t skip = emit__host_skip(f, r); /* a host block's pseudo-segment: literal bytes */
    for (int i = 0; i < r->npieces; i++) {
        const dsl_piece_t* pc = &r->pieces[i];
        if (pc->is_param) {
            dsl_buf__printf(tpl, "{%s}", pc->param.name);
            dsl_buf__puts(key, "{}");
        } else {
            size_t x0 = skip < pc->lit_len ? skip : pc->lit_len;
            skip -= x0;
            dsl_buf__put(tpl, pc->lit + x0, pc->lit_len - x0);
            dsl_buf__put(key, pc->lit + x0, pc->lit_len - x0);
        }
    }
    dsl_buf__put(tpl, "", 1);
    dsl_buf__put(key, "", 1);
}

static bool decoded_(dsl_pkind_t k) {
    return k == DSL_P_NAME || k == DSL_P_STR || k == DSL_P_REGEX || k == DSL_P_REST || k == DSL_P_PATH;
}

/* The schema of a value of kind k (rx: a regex parameter's language). */
static void schema_body_(jw_t* w, dsl_pkind_t k, const rx_t* rx) {
    switch (k) {
    case DSL_P_U64:
        jw_kstr_(w, "type", "integer");
        jw_kstr_(w, "format", "uint64");
        jw_kraw_(w, "minimum", "0");
        break;
    case DSL_P_I64:
        jw_kstr_(w, "type", "integer");
        jw_kstr_(w, "format", "int64");
        break;
    case DSL_P_UUID:
        jw_kstr_(w, "type", "string");
        jw_kstr_(w, "format", "uuid");
        break;
    case DSL_P_SLUG:
        jw_kstr_(w, "type", "string");
        jw_kstr_(w, "pattern", "^[A-Za-z0-9_-]+$");
        break;
    case DSL_P_HEX:
        jw_kstr_(w, "type", "string");
        jw_kstr_(w, "pattern", "^[0-9A-Fa-f]{1,16}$");
        break;
    case DSL_P_REGEX: {
        jw_kstr_(w, "type", "string");
        if (!rx) break; /* a regex is a path parameter's: query values have none */
        dsl_buf_t re = { 0 };
        dsl_buf__puts(&re, "^(?:");
        ecma_(&re, rx);
        dsl_buf__puts(&re, ")$");
        jw_key_(w, "pattern");
        jw_str_(w, re.ptr, re.len);
        dsl_buf__free(&re);
        break;
    }
    case DSL_P_REST:
    case DSL_P_PATH: jw_kstr_(w, "type", "string"); break;
    case DSL_P_NAME:
    case DSL_P_STR:
        jw_kstr_(w, "type", "string");
        jw_kraw_(w, "minLength", "1");
        break;
    }
}

static void schema_(jw_t* w, const dsl_param_t* q) {
    jw_key_(w, "schema");
    jw_open_(w, "{");
    schema_body_(w, q->kind, q->rx);
    jw_close_(w, "}");
}

/* A query parameter (`?name:type`, `=default`, `?` optional, `*` repeated):
   form style, so a repeated one is `?tag=a&tag=b` (explode). */
static void query_param_(jw_t* w, const dsl_qparam_t* q) {
    jw_sep_(w);
    jw_open_(w, "{");
    jw_kstr_(w, "name", q->name);
    jw_kstr_(w, "in", "query");
    jw_kraw_(w, "required", q->required ? "true" : "false");
    jw_key_(w, "schema");
    jw_open_(w, "{");
    if (q->repeated) {
        jw_kstr_(w, "type", "array");
        jw_key_(w, "items");
        jw_open_(w, "{");
        schema_body_(w, q->kind, nullptr);
        jw_close_(w, "}");
        jw_knum_(w, "maxItems", DSL_QUERY_REPEAT_MAX);
    } else {
        schema_body_(w, q->kind, nullptr);
        if (q->def) {
            jw_key_(w, "default");
            if (q->kind == DSL_P_U64 || q->kind == DSL_P_I64)
                dsl_buf__puts(w->b, q->def); /* checked as a number of its type by the parser */
            else
                jw_str_(w, q->def, strlen(q->def));
        }
    }
    jw_close_(w, "}");
    jw_close_(w, "}");
}

/* The operation's parameters: the path's, in pattern order, then the
   query's, in the order of the route line. */
static void params_(jw_t* w, const dsl_route_t* r) {
    if (!r->nparams && !r->nquery) return;
    jw_key_(w, "parameters");
    jw_open_(w, "[");
    for (int k = 0; k < r->nparams; k++) {
        const dsl_param_t* q = r->params[k];
        jw_sep_(w);
        jw_open_(w, "{");
        jw_kstr_(w, "name", q->name);
        jw_kstr_(w, "in", "path");
        jw_kraw_(w, "required", "true");
        if (q->kind == DSL_P_REST)
            jw_kstr_(w, "description", "The rest of the path: may hold '/', may be empty.");
        else if (q->kind == DSL_P_PATH)
            jw_kstr_(w, "description",
                     "The rest of the path, safe to join to a directory: no '.', '..' or empty segment, "
                     "no encoded '/', no '\\' (400).");
        schema_(w, q);
        if (q->kind == DSL_P_REST || q->kind == DSL_P_PATH) jw_kraw_(w, "x-rest", "true");
        if (q->kind == DSL_P_PATH) jw_kraw_(w, "x-safe-path", "true");
        jw_close_(w, "}");
    }
    for (int k = 0; k < r->nquery; k++) query_param_(w, &r->query[k]);
    jw_close_(w, "]");
}

static bool has_body_(const char* m) {
    static const char* const none[] = { "GET", "HEAD", "DELETE", "OPTIONS", "TRACE" };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        if (strcmp(m, none[i]) == 0) return false;
    return true;
}

static void response_(jw_t* w, const char* status, const char* text) {
    jw_key_(w, status);
    jw_open_(w, "{");
    jw_kstr_(w, "description", text);
    jw_close_(w, "}");
}

/* What the server answers itself for r (SPEC.md, Generated API), then the
   handler's own answers as `default`. */
static void responses_(jw_t* w, const dsl_route_t* r, const char* method) {
    bool esc = r->nquery > 0; /* a missing or bad query parameter is 400 too */
    for (int k = 0; k < r->nparams; k++) esc = esc || decoded_(r->params[k]->kind);
    jw_key_(w, "responses");
    jw_open_(w, "{");
    if (r->kind != DSL_R_HANDLER) {
        response_(w, "200", "The file (206 for a range, 304 when not modified).");
        response_(w, "301", "A directory named without its '/'.");
    }
    if (esc)
        response_(w, "400", r->nquery ? "Bad Request: a bad escape in a path parameter, or a query parameter missing or not of its type."
                                      : "Bad Request: a malformed or forbidden percent-escape in a path parameter.");
    if (r->kind != DSL_R_HANDLER) {
        response_(w, "404", "No such file.");
        if (r->kind == DSL_R_EMBED) response_(w, "406", "No acceptable content coding.");
        response_(w, "416", "Range Not Satisfiable.");
    }
    if (r->kind == DSL_R_HANDLER && (has_body_(method) || r->body_limit))
        response_(w, "413", "Content Too Large: the body is over the route's limit.");
    if (r->kind == DSL_R_MOUNT) response_(w, "503", "The mounts are not open yet.");
    if (r->kind == DSL_R_HANDLER && r->upstream)
        response_(w, "504", "Gateway Timeout: no answer before the route's deadline.");
    else if (r->kind == DSL_R_HANDLER && r->timeout_ms)
        response_(w, "503", "Service Unavailable: no answer before the route's deadline.");
    if (r->kind == DSL_R_HANDLER) response_(w, "default", "The handler's response.");
    jw_close_(w, "}");
}

static void operation_(jw_t* w, const dsl_file_t* f, const dsl_route_t* r, int o, const char* opid) {
    char method[16];
    snprintf(method, sizeof method, "%s", oa_methods_[o]);
    for (char* c = method; *c; c++) *c = (char) tolower((unsigned char) *c);
    jw_key_(w, method);
    jw_open_(w, "{");
    jw_kstr_(w, "operationId", opid);
    if (r->doc) jw_kstr_(w, "summary", r->doc);
    params_(w, r);
    responses_(w, r, oa_methods_[o]);
    if (r->kind == DSL_R_HANDLER) jw_kstr_(w, "x-handler", r->handler);
    jw_knum_(w, "x-line", (unsigned long long) r->loc.line);
    /* A host block's route: OpenAPI has no Host in a path; the pattern as an
       extension (the same path in another block is one template: left out). */
    if (r->host) jw_kstr_(w, "x-host", f->hosts[r->host - 1].name);
    if (r->body_limit) jw_knum_(w, "x-body-limit", (unsigned long long) r->body_limit);
    if (r->timeout_ms) jw_knum_(w, "x-timeout-ms", (unsigned long long) r->timeout_ms);
    if (r->upstream) jw_kraw_(w, "x-upstream", "true");
    if (r->stream) jw_kraw_(w, "x-stream", "true");
    if (r->kind != DSL_R_HANDLER) {
        jw_key_(w, r->kind == DSL_R_MOUNT ? "x-mount" : "x-embed");
        jw_open_(w, "{");
        jw_kstr_(w, "dir", r->dir);
        jw_kstr_(w, "index", r->index_file ? r->index_file : "index.html");
        if (r->kind == DSL_R_MOUNT) jw_kraw_(w, "list", r->list ? "true" : "false");
        jw_kraw_(w, "gzip", r->gzip ? "true" : "false");
        jw_close_(w, "}");
    }
    jw_close_(w, "}");
}

/* A unique operationId from base: base, else base_2, base_3... */
static const char* unique_id_(dsl_file_t* f, dsl_map_t* used, const char* base) {
    for (int n = 1;; n++) {
        dsl_buf_t name = { 0 };
        dsl_buf__puts(&name, base);
        if (n > 1) dsl_buf__printf(&name, "_%d", n);
        char* s = dsl_arena__strndup(&f->arena, name.ptr, name.len);
        dsl_buf__free(&name);
        bool added;
        int* at = dsl_map__at(used, s, strlen(s), &added);
        if (added) {
            *at = 1;
            return s;
        }
    }
}

void emit_openapi(const gen_t* g, dsl_buf_t* b, const char* version) {
    dsl_file_t* f = g->f;
    item_t* items = dsl_xcalloc((size_t) f->nroutes + 1, sizeof *items);
    int nitems = 0;
    dsl_map_t bykey = { 0 };
    dsl_buf_t* keys = dsl_xcalloc((size_t) f->nroutes + 1, sizeof *keys);
    /* The path items and their operations, in file order. */
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        dsl_buf_t tpl = { 0 };
        template_(f, r, &tpl, &keys[j]);
        bool added;
        int* at = dsl_map__at(&bykey, keys[j].ptr, keys[j].len - 1, &added);
        if (added) {
            *at = nitems;
            items[nitems++].tpl = tpl.ptr;
        } else if (strcmp(items[*at].tpl, tpl.ptr) != 0) {
            dsl_diag(f->src, r->path_loc, false,
                     "route left out of the OpenAPI document: '%s' and '%s' are one path template there",
                     tpl.ptr, items[*at].tpl);
            dsl_buf__free(&tpl);
            continue;
        } else {
            dsl_buf__free(&tpl);
        }
        item_t* it = &items[*at];
        uint64_t ms = r->kind == DSL_R_HANDLER ? r->methods : 1; /* a mount or embed: GET */
        for (int mi = 0; mi < f->nmethods; mi++) {
            if (!(ms >> mi & 1)) continue;
            int o = 0;
            while (o < NOA && strcmp(oa_methods_[o], f->methods[mi]) != 0) o++;
            if (o == NOA) {
                dsl_diag(f->src, r->loc, false,
                         "method '%s' left out of the OpenAPI document: OpenAPI 3.1 has no field for it",
                         f->methods[mi]);
            } else if (it->op[o]) {
                dsl_diag(f->src, r->loc, false,
                         "%s %s left out of the OpenAPI document: line %d is its operation there", f->methods[mi],
                         it->tpl, it->op[o]->loc.line);
            } else {
                it->op[o] = r;
            }
        }
    }
    /* operationIds: a handler with one operation is named as it is (those
       first, so they keep their names), others handler_method. */
    dsl_map_t nops = { 0 }, used = { 0 };
    for (int i = 0; i < nitems; i++)
        for (int o = 0; o < NOA; o++)
            if (items[i].op[o] && items[i].op[o]->kind == DSL_R_HANDLER) {
                bool added;
                int* at = dsl_map__at(&nops, items[i].op[o]->handler, strlen(items[i].op[o]->handler), &added);
                *at = added ? 1 : *at + 1;
            }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < nitems; i++)
            for (int o = 0; o < NOA; o++) {
                const dsl_route_t* r = items[i].op[o];
                if (!r) continue;
                bool single = r->kind == DSL_R_HANDLER && dsl_map__get(&nops, r->handler, strlen(r->handler)) == 1;
                if (single != (pass == 0)) continue;
                char base[400];
                if (single) {
                    snprintf(base, sizeof base, "%s", r->handler);
                } else if (r->kind == DSL_R_HANDLER) {
                    char m[128];
                    emit__method_ident(oa_methods_[o], m, sizeof m);
                    for (char* c = m; *c; c++) *c = (char) tolower((unsigned char) *c);
                    snprintf(base, sizeof base, "%s_%s", r->handler, m);
                } else {
                    emit__url_name(r, base, sizeof base);
                }
                items[i].opid[o] = unique_id_(f, &used, base);
            }

    jw_t w = { .b = b };
    jw_open_(&w, "{");
    jw_kstr_(&w, "openapi", "3.1.0");
    jw_key_(&w, "info");
    jw_open_(&w, "{");
    jw_kstr_(&w, "title", g->P);
    jw_kstr_(&w, "version", version);
    char desc[512];
    snprintf(desc, sizeof desc, "Generated by htgen from %s (prefix %s). DO NOT EDIT.", g->base, g->P);
    jw_kstr_(&w, "description", desc);
    jw_close_(&w, "}");
    jw_key_(&w, "paths");
    jw_open_(&w, "{");
    for (int i = 0; i < nitems; i++) {
        bool any = false;
        for (int o = 0; o < NOA; o++) any = any || items[i].op[o];
        if (!any) continue; /* custom methods only */
        jw_key_(&w, items[i].tpl);
        jw_open_(&w, "{");
        for (int o = 0; o < NOA; o++) {
            if (items[i].op[o]) operation_(&w, f, items[i].op[o], o, items[i].opid[o]);
        }
        jw_close_(&w, "}");
    }
    jw_close_(&w, "}");
    jw_close_(&w, "}");
    dsl_buf__puts(b, "\n");

    for (int i = 0; i < nitems; i++) free(items[i].tpl);
    for (int j = 0; j < f->nroutes; j++) dsl_buf__free(&keys[j]);
    free(keys);
    free(items);
    dsl_map__free(&bykey);
    dsl_map__free(&nops);
    dsl_map__free(&used);
}
