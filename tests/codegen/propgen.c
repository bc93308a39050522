/* propgen: random route sets for the property test (a build-time tool).
 *
 *   propgen SEED                    a random routes.ht on stdout (prefix pSEED)
 *   propgen --plain SEED            the same without predicates: literal segments,
 *                                   {name} and {name...} only (htgen then writes
 *                                   PREFIX__match's states twice: the hot copy)
 *   propgen --big SEED N            one of N routes: small sets side by side
 *                                   under namespaces (/nA/mB/...)
 *   propgen --glue PREFIX FILE.ht   C glue for the final file: its route table
 *                                   (for the reference matcher) and a runner
 *                                   turning PREFIX__match results into strings
 *
 * The build drops conflicting lines reported by htgen until the set compiles,
 * so the sets that reach the test are exactly those htgen accepted.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_;
static int plain_; /* --plain: no typed, regex or affixed segment */
static uint32_t rnd_(uint32_t n) {
    rng_ = rng_ * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t) ((rng_ >> 33) % n);
}

static const char* const lits_[] = { "a", "b", "c", "ab", "x-1", "v1", "12" };
static const char* const types_[] = { "", ":u64", ":i64", ":hex", ":slug", ":uuid", ":str",
                                      ":/[a-c]+/", ":/v[0-9]+/", ":/[0-9]{2,3}/" };
static const char* const methods_[] = { "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "BREW" };

/* One route's methods and path, from the vocabulary above, after the
   literal segments of ns (a namespace, "" for none). */
static void route_(const char* ns, char* ms, char* path);

static void gen_(unsigned seed, int big) {
    rng_ = seed * 0x9E3779B97F4A7C15ull + 12345;
    for (int i = 0; i < 4; i++) rnd_(2);
    printf("prefix p%u\n", seed);
    if (rnd_(4) == 0) printf("trailing_slash strict\n");
    int nroutes = big ? big : 3 + (int) rnd_(14);
    for (int r = 0; r < nroutes; r++) {
        /* A big set: small sets side by side under two levels of namespaces
           (25 x 25: fan-outs an automaton state of code takes), and a few
           routes outside them (they meet the others at the top). */
        char ns[64] = "", ms[128], path[512];
        if (big && rnd_(64) != 0) snprintf(ns, sizeof ns, "/n%u/m%u", rnd_(25), rnd_(25));
        route_(ns, ms, path);
        printf("%s %s -> s%uh%d\n", ms, path, seed, r);
    }
}

static void route_(const char* ns, char* ms, char* path) {
    /* methods: mostly one, sometimes several */
    int nm = rnd_(4) == 0 ? 2 : 1;
    unsigned used = 0;
    ms[0] = '\0';
    for (int k = 0; k < nm; k++) {
        unsigned w = rnd_(10);
        unsigned mi = w < 5 ? 0 : w < 7 ? 1 : w < 8 ? 2 : w < 9 ? 3 : 4 + rnd_(3);
        if (used >> mi & 1) continue;
        used |= 1u << mi;
        if (*ms) strcat(ms, "|");
        strcat(ms, methods_[mi]);
    }
    strcpy(path, ns);
    int depth = 1 + (int) rnd_(4);
    int pn = 0;
    for (int d = 0; d < depth; d++) {
        strcat(path, "/");
        unsigned w = rnd_(10);
        char seg[128];
        if (w < 5) {
            snprintf(seg, sizeof seg, "%s", lits_[rnd_(sizeof lits_ / sizeof lits_[0])]);
        } else if (w < 8) {
            const char* ty = types_[rnd_(sizeof types_ / sizeof types_[0])];
            snprintf(seg, sizeof seg, "{p%d%s}", pn++, plain_ ? "" : ty);
        } else if (w < 9 && plain_) {
            snprintf(seg, sizeof seg, "%s", lits_[rnd_(sizeof lits_ / sizeof lits_[0])]);
        } else if (w < 9) {
            /* literal prefix / suffix around a parameter */
            const char* ty = rnd_(2) ? ":u64" : "";
            if (rnd_(2))
                snprintf(seg, sizeof seg, "img-{p%d%s}.png", pn++, ty);
            else
                snprintf(seg, sizeof seg, "f-{p%d%s}", pn++, ty);
        } else {
            snprintf(seg, sizeof seg, "%s{p%d...}", rnd_(3) == 0 && !plain_ ? "r-" : "", pn++);
            strcat(path, seg);
            break;
        }
        strcat(path, seg);
        if (d == depth - 1 && rnd_(8) == 0) strcat(path, "/");
    }
}

/* ---- glue ---- */
typedef struct param {
    char name[32];
    char kind[16]; /* "", u64, i64, hex, ... , rest, regex */
} param_t;

static int params_of_(const char* pat, param_t* out) {
    int n = 0;
    for (const char* p = pat; (p = strchr(p, '{'));) {
        const char* q = p + 1;
        size_t nl = strcspn(q, ":.}");
        memcpy(out[n].name, q, nl);
        out[n].name[nl] = '\0';
        q += nl;
        if (*q == '.')
            strcpy(out[n].kind, "rest");
        else if (*q == ':' && q[1] == '/')
            strcpy(out[n].kind, "regex");
        else if (*q == ':') {
            size_t tl = strcspn(q + 1, "}");
            memcpy(out[n].kind, q + 1, tl);
            out[n].kind[tl] = '\0';
        } else
            out[n].kind[0] = '\0';
        n++;
        p = strstr(q, "}");
        if (!p) break;
        if (!strcmp(out[n - 1].kind, "regex")) p = strstr(q, "/}") + 2;
    }
    return n;
}

static void upper_(const char* s, char* out) {
    while (*s) *out++ = (char) (*s >= 'a' && *s <= 'z' ? *s - 32 : *s), s++;
    *out = '\0';
}

static int glue_(const char* P, const char* file) {
    FILE* f = fopen(file, "r");
    if (!f) return 2;
    char U[64];
    upper_(P, U);
    char line[1024];
    typedef struct { char pat[512], meth[128], hand[32]; } gl_t;
    gl_t* rt = NULL;
    int n = 0, cap = 0, slash = 1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "prefix", 6)) continue;
        if (!strncmp(line, "trailing_slash strict", 21)) {
            slash = 0;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            rt = realloc(rt, (size_t) cap * sizeof *rt);
            if (!rt) return 2;
        }
        if (sscanf(line, "%127s %511s -> %31s", rt[n].meth, rt[n].pat, rt[n].hand) == 3) n++;
    }
#define meths(i) rt[i].meth
#define pats(i) rt[i].pat
#define hand(i) rt[i].hand
    fclose(f);
    printf("/* generated by propgen --glue from %s */\n#include \"prop.h\"\n#include \"%s_routes.h\"\n"
           "#include <inttypes.h>\n#include <stdio.h>\n#include <string.h>\n\n",
           strrchr(file, '/') ? strrchr(file, '/') + 1 : file, P);
    printf("static const prop_route_t %s_table_[] = {\n", P);
    for (int i = 0; i < n; i++) printf("    { \"%s\", \"%s\" },\n", meths(i), pats(i));
    printf("};\n\n");
    printf("static int %s_run_(const char* method, const char* path, size_t len, prop_result_t* out) {\n"
           "    %s_match_t m = { .scratch = out->scratch_p ? out->scratch_p : out->scratch,\n"
           "                     .scratch_cap = out->scratch_p ? out->scratch_n : sizeof out->scratch };\n"
           "    out->status = (int) %s__match_token(ht_slice__from_cstr(method), ht_slice__from(path, len), &m);\n"
           "    out->route = (int) m.route;\n"
           "    out->allow = 0;\n"
           "    for (int k = 0; k < %s_METHOD__COUNT; k++)\n"
           "        if (m.allow >> k & 1) out->allow |= prop_method_bit(%s__methods[k]);\n"
           "    out->redirect[0] = '\\0';\n"
           "    if (m.redirect.ptr) snprintf(out->redirect, sizeof out->redirect, \"%%.*s\", HT_SLICE_FMT(m.redirect));\n"
           "    out->nparams = 0;\n"
           "    if (out->status != 0) return 0;\n"
           "    switch (m.route) {\n",
           P, P, P, U, P);
    for (int i = 0; i < n; i++) {
        param_t ps[16];
        int np = params_of_(pats(i), ps);
        char H[64];
        upper_(hand(i), H);
        printf("    case %s_ROUTE_%s:\n", U, H);
        for (int k = 0; k < np; k++) {
            const char* kd = ps[k].kind;
            if (!strcmp(kd, "u64") || !strcmp(kd, "hex"))
                printf("        snprintf(out->params[%d], sizeof out->params[0], \"%%\" PRIu64, m.p.%s.%s);\n", k,
                       hand(i), ps[k].name);
            else if (!strcmp(kd, "i64"))
                printf("        snprintf(out->params[%d], sizeof out->params[0], \"%%\" PRId64, m.p.%s.%s);\n", k,
                       hand(i), ps[k].name);
            else
                printf("        prop_copy(out->params[%d], m.p.%s.%s);\n", k, hand(i), ps[k].name);
        }
        printf("        out->nparams = %d;\n        break;\n", np);
    }
    printf("    default: break;\n    }\n    return 0;\n}\n\n");
    printf("const prop_set_t %s_set = { \"%s\", %s_table_, %d, %d, %s_run_ };\n", P, P, P, n, slash, P);
    free(rt);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 4 && !strcmp(argv[1], "--glue")) return glue_(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "--big")) {
        gen_((unsigned) strtoul(argv[2], NULL, 10), atoi(argv[3]));
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "--plain")) {
        plain_ = 1;
        gen_((unsigned) strtoul(argv[2], NULL, 10), 0);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: propgen SEED | propgen --plain SEED | propgen --big SEED ROUTES | propgen --glue PREFIX "
                        "FILE.ht\n");
        return 2;
    }
    gen_((unsigned) strtoul(argv[1], NULL, 10), 0);
    return 0;
}
