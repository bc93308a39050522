/* files/headers.c — header rules and CORS for files and assets (ht/headers.h):
 * the checks a set passes once, and the glob matcher the serving path uses.
 * Pure functions over strings; serving them is server/file_headers.c. */
#include <ht/headers.h>
#include <ht/http.h>
#include <ht/response.h> /* ht_response__valid_header_name / _value */

#include <string.h>

/* ---- Globs ---- */

bool ht_headers__glob_valid(const char* g, const char** why) {
    const char* w = nullptr;
    size_t n = g ? strlen(g) : 0;
    bool slash = g && strchr(g, '/') != nullptr;
    if (n == 0) w = "empty glob";
    for (size_t i = 0; !w && i < n; i++) {
        unsigned char c = (unsigned char) g[i];
        if (c < 0x20 || c == 0x7f) w = "control character in glob";
        else if (c == '[' || c == ']' || c == '\\') w = "'[', ']' and '\\' are not supported in globs";
        else if (c == '}' || c == ',') w = "'}' or ',' outside {a,b}";
        else if (c == '*' && i + 1 < n && g[i + 1] == '*') {
            /* "**" is a whole segment of a pattern with '/'. */
            if (!slash) w = "'**' needs a pattern with '/' (\"/assets/**\")";
            else if ((i > 0 && g[i - 1] != '/') || (i + 2 < n && g[i + 2] != '/'))
                w = "'**' must be a whole segment (\"/a/**/b\")";
            i++;
        } else if (c == '{') {
            size_t j = i + 1;
            for (; j < n && g[j] != '}'; j++)
                if (g[j] == '{' || g[j] == '*' || g[j] == '?' || g[j] == '/' || g[j] == '[' || g[j] == ']' ||
                    g[j] == '\\' || (unsigned char) g[j] < 0x20)
                    break;
            if (j >= n) w = "'{' without its '}'";
            else if (g[j] != '}') w = "only plain names inside {a,b}";
            i = j;
        }
    }
    if (!w && slash && g[0] != '/') w = "a glob with '/' matches the whole path: start it with '/'";
    if (why) *why = w;
    return w == nullptr;
}

/* g[0, ge) against s[0, se). */
static bool gmatch(const char* g, const char* ge, const char* s, const char* se) {
    while (g < ge) {
        char c = *g;
        if (c == '*' && g + 1 < ge && g[1] == '*') {
            g += 2;
            if (g == ge) return true; /* the rest, '/' included */
            g++;                      /* "**" '/': zero or more whole segments */
            for (;;) {
                if (gmatch(g, ge, s, se)) return true;
                while (s < se && *s != '/') s++;
                if (s == se) return false;
                s++;
            }
        }
        if (c == '*') {
            /* "*.css": a literal rest is a suffix of a run without '/'. */
            const char* lit = g + 1;
            while (lit < ge && *lit != '*' && *lit != '?' && *lit != '{' && *lit != '/') lit++;
            if (lit == ge) {
                size_t n = (size_t) (ge - g - 1);
                return (size_t) (se - s) >= n && !memchr(s, '/', (size_t) (se - s) - n) &&
                       memcmp(se - n, g + 1, n) == 0;
            }
            for (const char* t = s;; t++) {
                if (gmatch(g + 1, ge, t, se)) return true;
                if (t == se || *t == '/') return false;
            }
        }
        if (c == '{') {
            const char* end = memchr(g, '}', (size_t) (ge - g));
            for (const char* a = g + 1; a <= end;) {
                const char* b = a;
                while (b < end && *b != ',') b++;
                size_t l = (size_t) (b - a);
                if ((size_t) (se - s) >= l && memcmp(s, a, l) == 0 && gmatch(end + 1, ge, s + l, se)) return true;
                a = b + 1;
            }
            return false;
        }
        if (s == se) return false;
        if (c == '?' ? *s == '/' : *s != c) return false;
        g++, s++;
    }
    return s == se;
}

bool ht_headers__glob_match(const char* g, ht_slice_t path) {
    if (!g || !*g) return true;
    const char* s = path.ptr;
    const char* se = path.ptr + path.len;
    if (!strchr(g, '/')) /* the last segment */
        for (const char* t = se; t > path.ptr; t--)
            if (t[-1] == '/') {
                s = t;
                break;
            }
    return gmatch(g, g + strlen(g), s, se);
}

/* ---- Origins ---- */

bool ht_headers__origin_valid(ht_slice_t o) {
    size_t i;
    if (o.len > 8 && memcmp(o.ptr, "https://", 8) == 0) i = 8;
    else if (o.len > 7 && memcmp(o.ptr, "http://", 7) == 0) i = 7;
    else return false;
    size_t h = i;
    if (o.ptr[i] == '[') {
        for (i++; i < o.len && o.ptr[i] != ']'; i++) {
            char c = o.ptr[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
                return false;
        }
        if (i >= o.len || i == h + 1) return false;
        i++;
    } else {
        for (; i < o.len && o.ptr[i] != ':'; i++) {
            char c = o.ptr[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.'))
                return false;
        }
        if (i == h || o.ptr[h] == '.' || o.ptr[i - 1] == '.') return false;
    }
    if (i == o.len) return true;
    if (o.ptr[i] != ':') return false;
    size_t d = ++i;
    uint32_t port = 0;
    for (; i < o.len; i++) {
        if (o.ptr[i] < '0' || o.ptr[i] > '9' || i - d >= 5) return false;
        port = port * 10 + (uint32_t) (o.ptr[i] - '0');
    }
    return i > d && port <= 65535;
}

/* ---- Rules ---- */

/* Fields the file server must keep right, on top of what
 * ht_response__header refuses; Vary is merged by the server. */
#define HT_RULE_RESERVED(X)                                                                       \
    X(CONTENT_LENGTH) X(TRANSFER_ENCODING) X(DATE) X(CONNECTION) X(CONTENT_RANGE)                 \
    X(CONTENT_ENCODING) X(ETAG) X(LAST_MODIFIED) X(LOCATION) X(ACCEPT_RANGES) X(ALLOW) X(VARY)

static bool reserved(ht_slice_t name) {
    switch (ht_header__id(name.ptr, name.len)) {
#define HT_X_(id) case HT_HEADER_##id:
        HT_RULE_RESERVED(HT_X_)
#undef HT_X_
        return true;
    default:
        return false;
    }
}

static bool is_access_control(const char* name) {
    return ht_slice__eq_nocase(ht_slice__from(name, strnlen(name, 15)), HT_SLICE("Access-Control-"));
}

ht_result_t ht_headers__rule_check(const ht_header_rule_t* r) {
    if (r->match && *r->match && !ht_headers__glob_valid(r->match, nullptr)) return HT_E_BAD_GLOB;
    if (!r->name) return HT_E_BAD_HEADER_NAME;
    ht_slice_t name = ht_slice__from_cstr(r->name);
    if (!ht_response__valid_header_name(name)) return HT_E_BAD_HEADER_NAME;
    if (reserved(name)) return HT_E_RESERVED_HEADER;
    if (!r->value || !ht_response__valid_header_value(ht_slice__from_cstr(r->value))) return HT_E_BAD_HEADER_VALUE;
    return 0;
}

/* A comma list of tokens, OWS around the commas, at least one. */
static bool token_list(const char* s) {
    size_t n = strlen(s), i = 0, tokens = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        size_t b = i;
        while (i < n && s[i] != ',' && s[i] != ' ' && s[i] != '\t') i++;
        if (i > b) {
            if (!ht_response__valid_header_name(ht_slice__from(s + b, i - b))) return false;
            tokens++;
        }
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i < n && s[i] != ',') return false;
        if (i < n) i++;
    }
    return tokens > 0;
}

ht_result_t ht_headers__check(const ht_headers_t* h, uint32_t* at) {
    if (!h) return 0;
    if (h->count && !h->rules) return -EINVAL;
    if (h->count > HT_HEADERS_MAX_RULES) return -E2BIG; /* the serving side's bit mask */
    for (uint32_t i = 0; i < h->count; i++) {
        ht_result_t r = ht_headers__rule_check(&h->rules[i]);
        if (r == 0 && h->cors && is_access_control(h->rules[i].name)) r = HT_E_RESERVED_HEADER;
        if (r != 0) {
            if (at) *at = i;
            return r;
        }
    }
    const ht_cors_t* c = h->cors;
    if (!c) return 0;
    if (at) *at = h->count;
    if (c->count == 0 || !c->origins) return HT_E_BAD_ORIGIN;
    for (uint32_t i = 0; i < c->count; i++) {
        if (at) *at = h->count + i;
        const char* o = c->origins[i];
        if (!o) return HT_E_BAD_ORIGIN;
        if (strcmp(o, "*") == 0 ? c->count != 1 : !ht_headers__origin_valid(ht_slice__from_cstr(o)))
            return HT_E_BAD_ORIGIN;
    }
    if (at) *at = h->count;
    if ((c->methods && !token_list(c->methods)) || (c->headers && !token_list(c->headers)))
        return HT_E_BAD_HEADER_VALUE;
    return 0;
}
