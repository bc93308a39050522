/* header_flags.c — ht's header flags into an ht_headers_t (header_flags.h).
 * The rules are checked here, once, at startup: the server trusts them. */
#include "header_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ht_header_rule_t* globbed;  /* --cache-control, in order */
static ht_header_rule_t* plain;    /* -H, in order */
static uint32_t n_globbed, n_plain;
static const char** origins;
static uint32_t n_origins;
static ht_cors_t cors;
static ht_headers_t set;

static char* dup_n(const char* s, size_t n) {
    char* p = malloc(n + 1);
    if (!p) {
        fprintf(stderr, "ht: out of memory\n");
        exit(1);
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* A rule refused before it joined the set (the set's own strings stay
 * reachable until exit). */
static void free_rule(ht_header_rule_t* r, bool own_name) {
    free((char*) r->match);
    if (own_name) free((char*) r->name);
    free((char*) r->value);
}

static bool push(ht_header_rule_t** v, uint32_t* n, ht_header_rule_t r) {
    ht_header_rule_t* g = realloc(*v, (*n + 1) * sizeof **v);
    if (!g) return false;
    g[(*n)++] = r;
    *v = g;
    return true;
}

static const char* why(ht_result_t r) {
    switch (r) {
    case HT_E_BAD_HEADER_NAME: return "the name is not a token";
    case HT_E_BAD_HEADER_VALUE: return "the value holds a control character (CR, LF, NUL...)";
    case HT_E_RESERVED_HEADER: return "the server sets this header itself";
    default: return ht_result__str(r);
    }
}

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

bool header_flags__header(const char* arg) {
    const char* colon = strchr(arg, ':');
    if (!colon || colon == arg) {
        fprintf(stderr, "ht: bad -H '%s' (want 'Name: value'; ht -h for help)\n", arg);
        return false;
    }
    const char* v = colon + 1;
    const char* e = v + strlen(v);
    while (is_ows(*v)) v++;
    while (e > v && is_ows(e[-1])) e--;
    ht_header_rule_t r = { .name = dup_n(arg, (size_t) (colon - arg)), .value = dup_n(v, (size_t) (e - v)) };
    ht_result_t err = ht_headers__rule_check(&r);
    if (err != 0) {
        fprintf(stderr, "ht: bad -H '%s': %s (ht -h for help)\n", arg, why(err));
        free_rule(&r, true);
        return false;
    }
    return push(&plain, &n_plain, r);
}

bool header_flags__cache_control(const char* arg) {
    const char* eq = strchr(arg, '=');
    if (!eq || eq == arg || eq[1] == '\0') {
        fprintf(stderr, "ht: bad --cache-control '%s' (want GLOB=VALUE, e.g. '*.css=max-age=3600'; ht -h for help)\n",
                arg);
        return false;
    }
    ht_header_rule_t r = { .match = dup_n(arg, (size_t) (eq - arg)), .name = "Cache-Control", .value = dup_n(eq + 1, strlen(eq + 1)) };
    const char* w = nullptr;
    if (!ht_headers__glob_valid(r.match, &w)) {
        fprintf(stderr, "ht: bad --cache-control '%s': glob '%s': %s (ht -h for help)\n", arg, r.match, w);
        free_rule(&r, false);
        return false;
    }
    ht_result_t err = ht_headers__rule_check(&r);
    if (err != 0) {
        fprintf(stderr, "ht: bad --cache-control '%s': %s (ht -h for help)\n", arg, why(err));
        free_rule(&r, false);
        return false;
    }
    return push(&globbed, &n_globbed, r);
}

bool header_flags__cors(const char* arg) {
    for (const char* s = arg;;) {
        const char* c = strchr(s, ',');
        size_t n = c ? (size_t) (c - s) : strlen(s);
        while (n && is_ows(*s)) s++, n--;
        while (n && is_ows(s[n - 1])) n--;
        char* o = dup_n(s, n);
        bool star = strcmp(o, "*") == 0;
        if (!star && !ht_headers__origin_valid(ht_slice__from(o, n))) {
            fprintf(stderr,
                    "ht: bad --cors origin '%s' (want * or scheme://host[:port], e.g. https://a.example; "
                    "ht -h for help)\n",
                    o);
            free(o);
            return false;
        }
        const char** g = realloc(origins, (n_origins + 1) * sizeof *origins);
        if (!g) return false;
        origins = g;
        origins[n_origins++] = o;
        if (!c) break;
        s = c + 1;
    }
    return true;
}

bool header_flags__finish(const ht_headers_t** out) {
    *out = nullptr;
    if (n_globbed + n_plain == 0 && n_origins == 0) return true;
    ht_header_rule_t* all = malloc((n_globbed + n_plain + 1) * sizeof *all);
    if (!all) return false;
    if (n_globbed) memcpy(all, globbed, n_globbed * sizeof *all);
    if (n_plain) memcpy(all + n_globbed, plain, n_plain * sizeof *all);
    set = (ht_headers_t){ .rules = all, .count = n_globbed + n_plain };
    if (n_origins) {
        cors = (ht_cors_t){ .origins = origins, .count = n_origins };
        set.cors = &cors;
    }
    uint32_t at = 0;
    ht_result_t r = ht_headers__check(&set, &at);
    if (r == HT_E_BAD_ORIGIN) {
        fprintf(stderr, "ht: bad --cors: '*' stands alone, not in a list (ht -h for help)\n");
        return false;
    }
    if (r == HT_E_RESERVED_HEADER && at < set.count) {
        fprintf(stderr, "ht: bad -H '%s': --cors sets the Access-Control-* headers (ht -h for help)\n",
                all[at].name);
        return false;
    }
    if (r != 0) {
        fprintf(stderr, "ht: bad header flags: %s (ht -h for help)\n", why(r));
        return false;
    }
    *out = &set;
    return true;
}
