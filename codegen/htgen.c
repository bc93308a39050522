/* codegen/htgen.c — the route compiler's driver: routes.ht -> PREFIX_routes.h,
 * PREFIX_routes.re (re2c input), PREFIX_dispatch.c (the request callback)
 * and PREFIX_mime.gperf (+ PREFIX_embed.c/.bin).
 *
 *   htgen routes.ht -o OUTDIR     generate (nothing is written on error)
 *   htgen --check routes.ht       diagnostics only
 *   htgen --list routes.ht        the route table
 *   htgen --explain routes.ht 'GET /x'   which route answers, and why (explain.h)
 *   htgen --fmt [-i] [--check] routes.ht  the canonical layout (dsl/fmt.c)
 *   htgen --openapi routes.ht     the OpenAPI 3.1 document (emit_openapi.c)
 *
 * The house: text -> tokens -> the route model (dsl/: lexer.re, parse.c,
 * regex.c) -> the plan (plan.h: specificity, conflicts, groups, lowering,
 * subsumption) -> the segment automaton (automaton.h) -> one emitter per
 * output file (emit.h) -> the files, written here, each to a temporary name
 * and renamed once all are complete.
 */
#include "dsl.h"
#include "embed.h"
#include "emit.h"
#include "explain.h"
#include "plan.h"

#include <ht/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void errors_(const dsl_src_t* src) {
    fprintf(stderr, "%d error%s generated.\n", src->errors, src->errors == 1 ? "" : "s");
}

/* ---------------------------------------------------------------- files */
static bool write_tmp_(const char* path, const dsl_buf_t* b) {
    FILE* fp = fopen(path, "wb");
    if (!fp) return false;
    bool ok = fwrite(b->ptr, 1, b->len, fp) == b->len;
    ok = fclose(fp) == 0 && ok;
    return ok;
}

static int generate_(gen_t* g, const char* outdir, const char* mount_base) {
    dsl_buf_t h = { 0 }, re = { 0 }, mime = { 0 }, disp = { 0 };
    char hname[256];
    snprintf(hname, sizeof hname, "%s_routes.h", g->P);
    plan_t plan;
    if (!plan__build(&plan, g->f, g->base)) {
        errors_(g->f->src);
        return -1;
    }
    g->plan = &plan;
    emit_header(g, &h, hname);
    emit_matcher(g, &re);
    g->plan = nullptr;
    plan__free(&plan);
    emit_dispatch(g, &disp, mount_base);
    if (g->f->nmimes) emit_mime(g, &mime);

    const char* names[4] = { "routes.h", "routes.re", "dispatch.c", "mime.gperf" };
    dsl_buf_t* bufs[4] = { &h, &re, &disp, &mime };
    int nfiles = g->f->nmimes ? 4 : 3;
    char finals[4][4096], tmps[4][4096];
    bool ok = true;
    for (int i = 0; i < nfiles && ok; i++) {
        snprintf(finals[i], sizeof finals[i], "%s/%s_%s", outdir, g->P, names[i]);
        snprintf(tmps[i], sizeof tmps[i], "%s/.%s_%s.tmp%ld", outdir, g->P, names[i], (long) getpid());
        if (!write_tmp_(tmps[i], bufs[i])) {
            fprintf(stderr, "htgen: cannot write %s: %s\n", tmps[i], strerror(errno));
            ok = false;
            nfiles = i + 1;
        }
    }
    /* Rename only once every file is complete. */
    for (int i = 0; i < nfiles; i++) {
        if (ok && rename(tmps[i], finals[i]) != 0) {
            fprintf(stderr, "htgen: cannot rename to %s: %s\n", finals[i], strerror(errno));
            ok = false;
        }
        if (!ok) remove(tmps[i]);
    }
    dsl_buf__free(&h);
    dsl_buf__free(&re);
    dsl_buf__free(&mime);
    dsl_buf__free(&disp);
    return ok ? 0 : 1;
}

static void list_(gen_t* g) {
    dsl_file_t* f = g->f;
    printf("%-16s %-40s %-20s %-12s %s\n", "METHODS", "PATTERN", "HANDLER", "SPECIFICITY", "LINE");
    for (int j = 0; j < f->nroutes; j++) {
        dsl_route_t* r = f->routes[j];
        char ms[512], sp[256], h[512];
        plan__methods_str(f, r->methods, ms, sizeof ms);
        plan__spec_str(r, sp, sizeof sp);
        if (r->kind == DSL_R_EMBED)
            snprintf(h, sizeof h, "[embed %s]", r->dir);
        else if (r->kind == DSL_R_MOUNT)
            snprintf(h, sizeof h, "[mount %s]", r->dir);
        else
            snprintf(h, sizeof h, "%s", r->handler);
        /* Host blocks: the host before the path, the specificity without
           the pseudo-segment (dsl/host.c). */
        char pat[1024];
        snprintf(pat, sizeof pat, "%s%s%s", r->host ? f->hosts[r->host - 1].name : "", r->host ? " " : "", r->pattern);
        printf("%-16s %-40s %-20s %-12s %s:%d\n", ms, pat, h, sp + (f->nhosts ? 2 : 0), g->base, r->loc.line);
    }
}

/* Each request's report (explain.h), one blank line between them. */
static int explain_(gen_t* g, const char* const* reqs, int n, const char* host) {
    plan_t plan;
    if (!plan__build(&plan, g->f, g->base)) {
        errors_(g->f->src);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        dsl_buf_t out = { 0 };
        bool ok = explain__request(&plan, g->base, reqs[i], host, &out);
        if (i && ok) fputs("\n", stdout);
        fwrite(out.ptr, 1, out.len, ok ? stdout : stderr);
        if (!ok) rc = 2;
        dsl_buf__free(&out);
    }
    plan__free(&plan);
    return rc;
}

static bool write_file_(const char* path, const dsl_buf_t* b);

/* --openapi: to stdout, or to FILE (-o) through a temporary name. */
static int openapi_(gen_t* g, const char* out, const char* version) {
    dsl_buf_t b = { 0 };
    emit_openapi(g, &b, version);
    int rc = 0;
    if (!out) {
        rc = fwrite(b.ptr, 1, b.len, stdout) == b.len && fflush(stdout) == 0 ? 0 : 2;
        if (rc) fprintf(stderr, "htgen: cannot write the OpenAPI document: %s\n", strerror(errno));
    } else if (!write_file_(out, &b)) {
        rc = 2;
    }
    dsl_buf__free(&b);
    return rc;
}

/* ---- embed lines (codegen/embed.c) and the depfile ---- */
static bool write_file_(const char* path, const dsl_buf_t* b) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long) getpid());
    if (!write_tmp_(tmp, b) || rename(tmp, path) != 0) {
        fprintf(stderr, "htgen: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
        return false;
    }
    return true;
}

/* htgen --fmt: the formatted file to stdout, over the file (in_place), or
   only whether it differs (check: status 1). Nothing is written on an error. */
static int fmt_(const char* in, const dsl_buf_t* text, bool check, bool in_place) {
    dsl_src_t src = { .name = in, .text = text->ptr ? text->ptr : "", .len = text->len };
    dsl_buf_t out = { 0 };
    int rc = 0;
    if (!dsl_fmt(&src, &out)) {
        errors_(&src);
        rc = 1;
    } else if (check) {
        if (out.len != text->len || (out.len && memcmp(out.ptr, text->ptr, out.len) != 0)) {
            fprintf(stderr, "htgen: %s is not formatted (htgen --fmt -i %s)\n", in, in);
            rc = 1;
        }
    } else if (in_place) {
        if (!write_file_(in, &out)) rc = 2;
    } else if (out.len && fwrite(out.ptr, 1, out.len, stdout) != out.len) {
        rc = 2;
    }
    dsl_buf__free(&out);
    return rc;
}

/* generate_ plus PREFIX_embed.c / PREFIX_embed.bin and the depfile. The
 * trees are read before anything is written, so an unreadable file leaves
 * no output; returns as generate_ does (1 also for an embed read error). */
static int generate_all_(gen_t* g, const char* dir, const char* in, const char* outdir, const char* mount_base,
                         const char* depfile) {
    dsl_buf_t ec = { 0 }, eb = { 0 }, deps = { 0 }, banner = { 0 };
    char real[4096];
    dsl_buf__printf(&deps, "%s/%s_routes.h:", outdir, g->P);
    embed__dep(&deps, realpath(in, real) ? real : in);
    bool embeds = embed__count(g->f) > 0;
    if (embeds) {
        emit__banner(g, &banner, "/*", "*/");
        dsl_buf__puts(&banner, "\n");
        if (!embed__generate(g->f, dir, g->P, banner.ptr, &ec, &eb, &deps)) {
            dsl_buf__free(&ec), dsl_buf__free(&eb), dsl_buf__free(&deps), dsl_buf__free(&banner);
            return 1;
        }
    }
    int rc = generate_(g, outdir, mount_base);
    if (rc == 0 && embeds) {
        char pc[4096], pb[4096];
        snprintf(pc, sizeof pc, "%s/%s_embed.c", outdir, g->P);
        snprintf(pb, sizeof pb, "%s/%s_embed.bin", outdir, g->P);
        if (!write_file_(pb, &eb) || !write_file_(pc, &ec)) rc = 1;
    }
    dsl_buf__puts(&deps, "\n");
    if (rc == 0 && depfile && !write_file_(depfile, &deps)) rc = 1;
    dsl_buf__free(&ec), dsl_buf__free(&eb), dsl_buf__free(&deps), dsl_buf__free(&banner);
    return rc;
}

static void usage_(FILE* to) {
    fputs("usage: htgen ROUTES.ht -o OUTDIR   generate PREFIX_routes.h, PREFIX_routes.re,\n"
          "                                    PREFIX_dispatch.c (and PREFIX_mime.gperf when\n"
          "                                    there are mime lines; PREFIX_embed.c and\n"
          "                                    PREFIX_embed.bin when there are embed lines)\n"
          "       htgen --check ROUTES.ht     report diagnostics only\n"
          "       htgen --list ROUTES.ht      print method, pattern, handler, specificity, line\n"
          "       htgen --explain ROUTES.ht 'METHOD /path' ...\n"
          "                                   which route answers each request (the generated\n"
          "                                   matcher's precedence), its parameters, and why\n"
          "                                   the other routes that match the path lose;\n"
          "                                   404, 405 + Allow, OPTIONS, 308 explained\n"
          "       htgen --explain ROUTES.ht 'METHOD /path' ... --host NAME\n"
          "                                   the requests carry Host: NAME (port and\n"
          "                                   case as a client sends them): its host block,\n"
          "                                   then the routes outside host blocks\n"
          "       htgen --fmt ROUTES.ht       print the file formatted: columns aligned,\n"
          "                                   comments kept, blocks indented (SPEC.md, Tools)\n"
          "       htgen --fmt --in-place ROUTES.ht  (or -i) rewrite the file formatted\n"
          "       htgen --fmt --check ROUTES.ht     exit status 1 when it is not formatted\n"
          "       htgen --openapi ROUTES.ht [-o FILE]  write the routes as an OpenAPI 3.1\n"
          "                                    document (JSON) to stdout or FILE\n"
          "       htgen -h | --help | --version\n"
          "Options: --prefix NAME overrides the file's `prefix` line.\n"
          "         --mount-base DIR: PREFIX_MOUNT_BASE, where mount directories are\n"
          "         looked up at run time by default (relative: to the working directory;\n"
          "         default \".\"). Give a relative path to keep the output reproducible.\n"
          "         --depfile FILE: also write FILE, a Makefile-style depfile naming the\n"
          "         routes file and every file and directory an `embed` line read, so a\n"
          "         build reruns htgen when a file under DIR is added, changed or removed.\n"
          "         --openapi-version V: info.version of --openapi's document (default \"0\").\n"
          "         --code-weight N, --chunk-weight N: how much of the route automaton is\n"
          "         C code (about lines; -1: none, all tables) and the most in one\n"
          "         function (defaults 6000 and 1000, 2500 in PREFIX__match); the rest is\n"
          "         tables. For tests and measurements: the defaults keep the C\n"
          "         compiler's time linear in the routes.\n"
          "Exit status: 0 ok, 1 errors in the routes file, 2 usage or I/O error.\n"
          "The language: dsl/SPEC.md.\n",
          to);
}

/* The options that take a value (the next argument). */
static bool is_valued_(const char* a) {
    static const char* const valued[] = { "--prefix",       "--mount-base",      "--depfile", "--code-weight",
                                          "--chunk-weight", "--openapi-version", "--host",    "-o" };
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
        if (strcmp(a, valued[k]) == 0) return true;
    return false;
}

int main(int argc, char** argv) {
    const char* in = nullptr;
    const char* outdir = nullptr;
    const char* prefix = nullptr;
    const char* mount_base = ".";
    const char* depfile = nullptr;
    int code_weight = 0, chunk_weight = 0;
    bool check = false, list = false, explain = false, fmt = false, in_place = false, openapi = false;
    const char* reqs[64]; /* --explain's requests */
    const char* host = nullptr; /* --explain --host */
    int nreqs = 0;
    const char* oa_version = "0";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage_(stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("htgen %s\n", HT_VERSION_STRING);
            return 0;
        } else if (strcmp(argv[i], "--check") == 0) {
            check = true;
        } else if (strcmp(argv[i], "--list") == 0) {
            list = true;
        } else if (strcmp(argv[i], "--explain") == 0) {
            explain = true;
        } else if (strcmp(argv[i], "--fmt") == 0) {
            fmt = true;
        } else if (strcmp(argv[i], "--in-place") == 0 || strcmp(argv[i], "-i") == 0) {
            in_place = true;
        } else if (strcmp(argv[i], "--openapi") == 0) {
            openapi = true;
        } else if (strcmp(argv[i], "--openapi-version") == 0 && i + 1 < argc) {
            oa_version = argv[++i];
        } else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
            prefix = argv[++i];
        } else if (strcmp(argv[i], "--mount-base") == 0 && i + 1 < argc) {
            mount_base = argv[++i];
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (strcmp(argv[i], "--depfile") == 0 && i + 1 < argc) {
            depfile = argv[++i];
        } else if ((strcmp(argv[i], "--code-weight") == 0 || strcmp(argv[i], "--chunk-weight") == 0) &&
                   i + 1 < argc) {
            bool chunk = strcmp(argv[i], "--chunk-weight") == 0;
            char* end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < (chunk ? 1 : -1) || v > 1000000000) {
                fprintf(stderr, "htgen: %s needs a number\n", argv[i]);
                return 2;
            }
            *(chunk ? &chunk_weight : &code_weight) = (int) v;
            i++;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            outdir = argv[++i];
        } else if (i + 1 == argc && is_valued_(argv[i])) {
            /* The branches above take a value only when one follows. */
            fprintf(stderr, "htgen: option '%s' needs a value\n", argv[i]);
            usage_(stderr);
            return 2;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "htgen: unknown option '%s'\n", argv[i]);
            usage_(stderr);
            return 2;
        } else if (!in) {
            in = argv[i];
        } else if (explain) {
            if (nreqs == (int) (sizeof reqs / sizeof reqs[0])) {
                fprintf(stderr, "htgen: --explain takes at most %d requests\n", nreqs);
                return 2;
            }
            reqs[nreqs++] = argv[i];
        } else {
            fprintf(stderr, "htgen: more than one routes file\n");
            return 2;
        }
    }
    if (!in || (!check && !list && !explain && !fmt && !openapi && !outdir) || (explain && !nreqs) ||
        (in_place && !fmt) || (host && !explain)) {
        usage_(stderr);
        return 2;
    }
    if (prefix) {
        bool ident = *prefix && !(*prefix >= '0' && *prefix <= '9');
        for (const char* c = prefix; *c; c++)
            ident = ident && ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                              (*c >= '0' && *c <= '9') || *c == '_');
        if (!ident) {
            fprintf(stderr, "htgen: --prefix needs a C identifier\n");
            return 2;
        }
    }
    FILE* fp = fopen(in, "rb");
    if (!fp) {
        fprintf(stderr, "htgen: cannot open %s: %s\n", in, strerror(errno));
        return 2;
    }
    dsl_buf_t text = { 0 };
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) dsl_buf__put(&text, chunk, got);
    fclose(fp);

    if (fmt) {
        int rc = fmt_(in, &text, check, in_place);
        dsl_buf__free(&text);
        return rc;
    }
    const char* slash = strrchr(in, '/');
    char* dir = slash ? dsl_xstrndup(in, (size_t) (slash - in) + (slash == in)) : dsl_xstrndup(".", 1);
    dsl_src_t src = { .name = in, .text = text.ptr ? text.ptr : "", .len = text.len };
    dsl_file_t f = { .prefix_cli = prefix }; /* the handlers' names depend on it */
    bool ok = dsl_file__parse(&f, &src, dir);
    ok = plan__conflicts(&f) && ok; /* over the routes that parsed: all errors in one run */
    gen_t g;
    gen__init(&g, &f, slash ? slash + 1 : in);
    g.code_weight = code_weight;
    g.chunk_weight = chunk_weight;
    int rc = 0;
    if (!ok) {
        errors_(&src);
        rc = 1;
    } else if (list) {
        list_(&g);
    } else if (explain) {
        rc = explain_(&g, reqs, nreqs, host);
    } else if (openapi) {
        rc = openapi_(&g, outdir, oa_version);
    } else if (!check) {
        rc = generate_all_(&g, dir, in, outdir, mount_base, depfile);
        if (rc) rc = rc < 0 ? 1 : 2;
    } else {
        plan_t plan; /* the checks of the matcher plan: unreachable routes */
        if (plan__build(&plan, &f, g.base)) {
            plan__free(&plan);
        } else {
            errors_(&src);
            rc = 1;
        }
    }
    gen__free(&g);
    dsl_file__free(&f);
    dsl_buf__free(&text);
    free(dir);
    return rc;
}
