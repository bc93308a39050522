/* codegen/embed.c — `embed PREFIX DIR`: a static tree compiled into the
 * program. See embed.h for the outputs; the serving rules are
 * ht_response__asset's (<ht/response.h>).
 *
 * What is decided here, at build time, once:
 *   - which files: regular files under DIR (symlinks followed), names
 *     starting with '.' left out except ".well-known" (a mount hides them
 *     too), sorted bytewise by path (the runtime binary-searches them);
 *   - Content-Type: the runtime's table (ht_fs__mime_lookup) with the
 *     file's `mime` lines, so embed and mount agree;
 *   - a variant per content coding (HT_FS_ENCODINGS: br, zstd, gzip; see
 *     compress.h, reproducible) only for compressible types over 1 KiB,
 *     each kept only when smaller than the raw bytes; br and zstd only
 *     where this htgen was built with libbrotli / libzstd;
 *   - strong ETags from the bytes (FNV-1a 64 + CRC-32 + size): the same
 *     tree gives the same tags in every build, and a changed file a new one.
 * Output is reproducible: no dates, no absolute paths in PREFIX_embed.c.
 */
#include "embed.h"
#include "emit.h"

#include "compress.h"

#include <ht/fs.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* Only files over this size are compressed (a smaller body fits a packet
 * either way; the Vary and the second copy would cost more than they save). */
#define CODED_MIN 1024
/* One compressor call per file (compress.h); text assets are far smaller. */
#define CODED_MAX (1u << 30)
#define MAX_DEPTH 64

typedef struct asset {
    char* path; /* "/a/b.css", beneath the tree */
    char* type;
    char etag[64];
    uint64_t off, size; /* in the blob */
    struct {
        char etag[72];
        uint64_t off, size; /* size 0: no variant */
    } coded[HT_FS_ENC_CODINGS];
} asset_t;

typedef struct tree {
    asset_t* v;
    size_t n, cap;
} tree_t;

typedef struct ctx {
    dsl_buf_t* bin;
    dsl_buf_t* deps;
    ht_fs_mime_t* mime;
    bool gzip;
    bool ok;
} ctx_t;

int embed__count(const dsl_file_t* f) {
    int n = 0;
    for (int j = 0; j < f->nroutes; j++) n += f->routes[j]->kind == DSL_R_EMBED;
    return n;
}

void embed__dep(dsl_buf_t* deps, const char* path) {
    dsl_buf__puts(deps, " \\\n  ");
    for (const char* c = path; *c; c++) {
        if (*c == ' ' || *c == '#' || *c == '\\') dsl_buf__puts(deps, "\\");
        if (*c == '$') dsl_buf__puts(deps, "$");
        dsl_buf__put(deps, c, 1);
    }
}

static void dep_abs_(ctx_t* x, const char* path) {
    char real[PATH_MAX];
    embed__dep(x->deps, realpath(path, real) ? real : path);
}

/* A C string literal; 3-digit octal escapes, so a following digit is safe. */
static void cstr_(dsl_buf_t* b, const char* s, size_t n) {
    dsl_buf__puts(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '"' || c == '\\')
            dsl_buf__printf(b, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f || c == '?')
            dsl_buf__printf(b, "\\%03o", c);
        else
            dsl_buf__put(b, (const char*) &c, 1);
    }
    dsl_buf__puts(b, "\"");
}

static uint64_t fnv1a_(const unsigned char* p, size_t n) {
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static bool read_file_(const char* path, unsigned char** data, size_t* n) {
    FILE* fp = fopen(path, "rb");
    if (!fp) return false;
    dsl_buf_t b = { 0 };
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) dsl_buf__put(&b, chunk, got);
    bool ok = !ferror(fp);
    fclose(fp);
    *data = (unsigned char*) b.ptr;
    *n = b.len;
    return ok;
}

static void add_file_(ctx_t* x, tree_t* t, const char* fs, const char* url) {
    unsigned char* data = nullptr;
    size_t n = 0;
    if (!read_file_(fs, &data, &n)) {
        fprintf(stderr, "htgen: embed: cannot read %s: %s\n", fs, strerror(errno));
        x->ok = false;
        free(data);
        return;
    }
    dep_abs_(x, fs);
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->v = dsl_xrealloc(t->v, t->cap * sizeof *t->v);
    }
    asset_t* a = &t->v[t->n++];
    *a = (asset_t){ .path = dsl_xstrndup(url, strlen(url)) };
    ht_slice_t ty = ht_fs__mime_lookup(x->mime, ht_slice__from_cstr(url));
    a->type = dsl_xstrndup(ty.ptr, ty.len);
    uint64_t h = fnv1a_(data, n);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t o = 0; o < n;) { /* zlib takes uInt lengths */
        size_t k = n - o < (1u << 30) ? n - o : (1u << 30);
        crc = crc32(crc, data + o, (uInt) k);
        o += k;
    }
    snprintf(a->etag, sizeof a->etag, "\"%016llx%08lx-%llx\"", (unsigned long long) h, (unsigned long) crc,
             (unsigned long long) n);
    a->off = x->bin->len;
    a->size = n;
    dsl_buf__put(x->bin, (const char*) data, n);
    for (unsigned e = 0; x->gzip && e < HT_FS_ENC_CODINGS; e++) {
        if (!ht_compress__available((ht_fs_encoding_t) e) || n <= CODED_MIN || n >= CODED_MAX ||
            !ht_fs__mime_compressible(ty))
            continue;
        unsigned char* z = nullptr;
        size_t zn = 0;
        if (!ht_compress__buffer((ht_fs_encoding_t) e, data, n, &z, &zn)) {
            fprintf(stderr, "htgen: embed: %.*s compression failed on %s\n",
                    (int) ht_fs__encoding_token((ht_fs_encoding_t) e).len,
                    ht_fs__encoding_token((ht_fs_encoding_t) e).ptr, fs);
            x->ok = false;
        } else if (zn < n) {
            a->coded[e].off = x->bin->len;
            a->coded[e].size = zn;
            dsl_buf__put(x->bin, (const char*) z, zn);
            /* The same bytes as another representation: another strong tag,
             * "<raw tag>-<suffix>" ("...-gz", "...-br", "...-zst"). */
            ht_slice_t suf = ht_fs__encoding_suffix((ht_fs_encoding_t) e);
            snprintf(a->coded[e].etag, sizeof a->coded[e].etag, "%.*s-%.*s\"", (int) strlen(a->etag) - 1,
                     a->etag, (int) suf.len - 1, suf.ptr + 1);
        }
        free(z);
    }
    free(data);
}

static int name_cmp_(const void* a, const void* b) { return strcmp(*(char* const*) a, *(char* const*) b); }

/* Walks fs (the directory for URL path url, "" for the root) in name order. */
static void walk_(ctx_t* x, tree_t* t, const char* fs, const char* url, int depth) {
    if (depth > MAX_DEPTH) {
        fprintf(stderr, "htgen: embed: %s: deeper than %d directories (a symlink loop?)\n", fs, MAX_DEPTH);
        x->ok = false;
        return;
    }
    DIR* d = opendir(fs);
    if (!d) {
        fprintf(stderr, "htgen: embed: cannot open directory %s: %s\n", fs, strerror(errno));
        x->ok = false;
        return;
    }
    dep_abs_(x, fs); /* its mtime changes when an entry is added or removed */
    char** names = nullptr;
    size_t nn = 0, cap = 0;
    struct dirent* e;
    while ((e = readdir(d))) {
        const char* nm = e->d_name;
        if (nm[0] == '.' && strcmp(nm, ".well-known") != 0) continue; /* also "." and ".." */
        if (nn == cap) {
            cap = cap ? 2 * cap : 32;
            names = dsl_xrealloc(names, cap * sizeof *names);
        }
        names[nn++] = dsl_xstrndup(nm, strlen(nm));
    }
    closedir(d);
    if (nn) qsort(names, nn, sizeof *names, name_cmp_);
    for (size_t i = 0; i < nn; i++) {
        size_t fl = strlen(fs) + strlen(names[i]) + 2, ul = strlen(url) + strlen(names[i]) + 2;
        char* cf = dsl_xmalloc(fl);
        char* cu = dsl_xmalloc(ul);
        snprintf(cf, fl, "%s/%s", fs, names[i]);
        snprintf(cu, ul, "%s/%s", url, names[i]);
        struct stat st;
        if (ul >= HT_FS_PATH_MAX) {
            fprintf(stderr, "htgen: embed: %s: path too long to be served\n", cf);
            x->ok = false;
        } else if (stat(cf, &st) != 0) {
            fprintf(stderr, "htgen: embed: cannot stat %s: %s\n", cf, strerror(errno));
            x->ok = false;
        } else if (S_ISDIR(st.st_mode)) {
            walk_(x, t, cf, cu, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            add_file_(x, t, cf, cu);
        } /* FIFOs, sockets, devices: not content */
        free(cf);
        free(cu);
        free(names[i]);
    }
    free(names);
}

static int asset_cmp_(const void* a, const void* b) {
    return strcmp(((const asset_t*) a)->path, ((const asset_t*) b)->path);
}

/* The URL prefix of a mount-like route: the pattern without "/{path...}". */
static void prefix_of_(const dsl_route_t* r, char* out, size_t cap) {
    size_t pl = strlen(r->pattern) - strlen("{path...}");
    if (pl > 1) pl--;
    snprintf(out, cap, "%.*s", (int) pl, r->pattern);
}

void embed__emit_header(const dsl_file_t* f, const char* P, const char* U, dsl_buf_t* b) {
    dsl_buf__printf(b,
                    "/* ---- Embedded trees (%s_embed.c + %s_embed.bin, linked with libhachettp) ----\n"
                    "   One ht_asset_set_t (<ht/response.h>) per `embed` line, in file order,\n"
                    "   compiled into the program: nothing is read from disk at run time, and\n"
                    "   %s__dispatch serves them without %s__mounts_open. */\n"
                    "#define %s_EMBED_COUNT %d\n"
                    "typedef struct ht_asset_set ht_asset_set_t;\n"
                    "/* The set of embed line i (0-based), nullptr out of range. */\n"
                    "const ht_asset_set_t* %s__embed(int i);\n"
                    "/* ht_response__asset for embed line i under its prefix. */\n"
                    "void %s__embed_serve(int i, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a);\n\n",
                    P, P, P, P, U, embed__count(f), P, P);
}

bool embed__generate(const dsl_file_t* f, const char* routes_dir, const char* P, const char* banner,
                     dsl_buf_t* c, dsl_buf_t* bin, dsl_buf_t* deps) {
    ht_alloc_t* alloc = ht_alloc__init();
    ht_fs_mime_t mime;
    ht_fs__mime_init(&mime, alloc);
    for (int i = 0; i < f->nmimes; i++)
        (void) ht_fs__mime_add(&mime, ht_slice__from_cstr(f->mimes[i].ext), ht_slice__from_cstr(f->mimes[i].type));
    int ne = embed__count(f);
    tree_t* trees = dsl_xcalloc(ne > 0 ? (size_t) ne : 1, sizeof *trees);
    ctx_t x = { .bin = bin, .deps = deps, .mime = &mime, .ok = true };
    const char* missing = ht_compress__missing();
    if (ne > 0 && missing) /* the build still works; its assets are larger */
        fprintf(stderr, "htgen: note: this htgen cannot write %s: embedded trees get the other variants only\n",
                missing);
    /* A library this htgen was built for but cannot load stops the build:
     * the output must not depend on what the machine has installed. */
    bool coding = true;
    const char* why = nullptr;
    for (int j = 0; j < f->nroutes && coding; j++)
        if (f->routes[j]->kind == DSL_R_EMBED && f->routes[j]->gzip && !ht_compress__load(&why)) {
            fprintf(stderr, "htgen: embed: %s\n", why);
            x.ok = coding = false;
        }
    int k = 0;
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        if (r->kind != DSL_R_EMBED) continue;
        dsl_buf_t dir = { 0 };
        if (r->dir[0] != '/' && routes_dir && *routes_dir) {
            dsl_buf__puts(&dir, routes_dir);
            dsl_buf__puts(&dir, "/");
        }
        dsl_buf__puts(&dir, r->dir);
        x.gzip = r->gzip && coding;
        walk_(&x, &trees[k], dir.ptr, "", 0);
        if (trees[k].n) qsort(trees[k].v, trees[k].n, sizeof *trees[k].v, asset_cmp_); /* bytewise */
        dsl_buf__free(&dir);
        k++;
    }

    char U[128];
    size_t ul = 0;
    for (const char* q = P; *q && ul + 1 < sizeof U; q++) U[ul++] = (char) (*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
    U[ul] = '\0';
    dsl_buf__puts(c, banner);
    dsl_buf__printf(c,
                    "#include \"%s_routes.h\"\n\n#include <ht/response.h>\n\n#include <stdint.h>\n\n"
                    "/* Every embedded byte is in %s_embed.bin, pulled in by the assembler (the\n"
                    "   compiler never parses it, so a large tree costs no compile time). Where\n"
                    "   it is: %s_EMBED_BLOB, a path the assembler opens (relative: to its working\n"
                    "   directory, then its -I directories). hachettp_add_routes passes the\n"
                    "   absolute path; by hand: -D%s_EMBED_BLOB='\"gen/%s_embed.bin\"' or -Wa,-Igen. */\n"
                    "#ifndef %s_EMBED_BLOB\n#  define %s_EMBED_BLOB \"%s_embed.bin\"\n#endif\n"
                    "#if defined(_WIN32) /* PE/COFF: no section stack, no ELF visibility */\n"
                    "#  define %s_EMBED_ASM_BEGIN_ \".section .rdata,\\\"dr\\\"\\n\"\n"
                    "#  define %s_EMBED_ASM_HIDE_ \"\"\n"
                    "#  define %s_EMBED_ASM_END_ \".text\\n\"\n"
                    "#  define %s_EMBED_HIDDEN_\n"
                    "#else\n"
                    "#  define %s_EMBED_ASM_BEGIN_ \".pushsection .rodata\\n\"\n"
                    "#  define %s_EMBED_ASM_HIDE_ \".hidden %s_embed_blob_\\n\"\n"
                    "#  define %s_EMBED_ASM_END_ \".popsection\\n\"\n"
                    "#  define %s_EMBED_HIDDEN_ __attribute__((visibility(\"hidden\")))\n"
                    "#endif\n"
                    "__asm__(%s_EMBED_ASM_BEGIN_\n"
                    "        \".balign 16\\n\"\n"
                    "        \".globl %s_embed_blob_\\n\"\n"
                    "        %s_EMBED_ASM_HIDE_\n"
                    "        \"%s_embed_blob_:\\n\"\n"
                    "        \".incbin \\\"\" %s_EMBED_BLOB \"\\\"\\n\"\n"
                    "        %s_EMBED_ASM_END_);\n"
                    "extern const uint8_t %s_embed_blob_[] %s_EMBED_HIDDEN_;\n"
                    "#define %s_B_(off) (%s_embed_blob_ + (off))\n\n",
                    P, P, U, U, P, U, U, P,
                    U, U, U, U, U, U, P, U, U,
                    U, P, U, P, U, U, P, U, P, P);
    k = 0;
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        if (r->kind != DSL_R_EMBED) continue;
        tree_t* t = &trees[k];
        uint64_t raw = 0, zb[HT_FS_ENC_CODINGS] = { 0 };
        size_t nz[HT_FS_ENC_CODINGS] = { 0 };
        for (size_t i = 0; i < t->n; i++) {
            raw += t->v[i].size;
            for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) {
                zb[e] += t->v[i].coded[e].size;
                nz[e] += t->v[i].coded[e].size != 0;
            }
        }
        dsl_buf__printf(c, "/* line %d: embed %s: %zu file%s, %llu bytes", r->loc.line, r->dir, t->n,
                        t->n == 1 ? "" : "s", (unsigned long long) raw);
        for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) {
            ht_slice_t tok = ht_fs__encoding_token((ht_fs_encoding_t) e);
            dsl_buf__printf(c, "; %zu %.*s variant%s, %llu bytes", nz[e], (int) tok.len, tok.ptr,
                            nz[e] == 1 ? "" : "s", (unsigned long long) zb[e]);
        }
        dsl_buf__puts(c, " */\n");
        if (t->n) {
            dsl_buf__printf(c, "static const ht_asset_t %s_embed_%d_[%zu] = {\n", P, k, t->n);
            for (size_t i = 0; i < t->n; i++) {
                const asset_t* a = &t->v[i];
                dsl_buf__puts(c, "    { ");
                cstr_(c, a->path, strlen(a->path));
                dsl_buf__puts(c, ", ");
                cstr_(c, a->type, strlen(a->type));
                dsl_buf__puts(c, ", ");
                cstr_(c, a->etag, strlen(a->etag));
                dsl_buf__printf(c, ", %s_B_(%llu), %llu, ", P, (unsigned long long) a->off,
                                (unsigned long long) a->size);
                dsl_buf__puts(c, "{");
                for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) {
                    dsl_buf__puts(c, e ? ", " : " ");
                    if (a->coded[e].size) {
                        dsl_buf__puts(c, "{ ");
                        cstr_(c, a->coded[e].etag, strlen(a->coded[e].etag));
                        dsl_buf__printf(c, ", %s_B_(%llu), %llu }", P, (unsigned long long) a->coded[e].off,
                                        (unsigned long long) a->coded[e].size);
                    } else {
                        dsl_buf__puts(c, "{ nullptr, nullptr, 0 }");
                    }
                }
                dsl_buf__puts(c, " } },\n");
            }
            dsl_buf__puts(c, "};\n\n");
        }
        k++;
    }
    k = 0;
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        if (r->kind != DSL_R_EMBED) continue;
        if (dsl_route__has_headers(r)) {
            char name[160];
            snprintf(name, sizeof name, "%s_embed_headers_%d_", P, k);
            emit__header_set(c, r, name);
        }
        k++;
    }
    dsl_buf__printf(c, "static const ht_asset_set_t %s_embed_sets_[%d] = {\n", P, ne);
    k = 0;
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        if (r->kind != DSL_R_EMBED) continue;
        if (trees[k].n)
            dsl_buf__printf(c, "    { %s_embed_%d_, %zu, ", P, k, trees[k].n);
        else
            dsl_buf__puts(c, "    { nullptr, 0, ");
        cstr_(c, r->index_file, strlen(r->index_file));
        if (dsl_route__has_headers(r)) dsl_buf__printf(c, ", &%s_embed_headers_%d_", P, k);
        else dsl_buf__puts(c, ", nullptr");
        dsl_buf__puts(c, " },\n");
        k++;
    }
    dsl_buf__printf(c, "};\n\nstatic const char* const %s_embed_prefixes_[%d] = {", P, ne);
    for (int j = 0; j < f->nroutes; j++) {
        const dsl_route_t* r = f->routes[j];
        if (r->kind != DSL_R_EMBED) continue;
        char pre[1024];
        prefix_of_(r, pre, sizeof pre);
        dsl_buf__puts(c, " ");
        cstr_(c, pre, strlen(pre));
        dsl_buf__puts(c, ",");
    }
    dsl_buf__printf(c,
                    " };\n\n"
                    "const ht_asset_set_t* %s__embed(int i) {\n"
                    "    return i >= 0 && i < %d ? &%s_embed_sets_[i] : nullptr;\n"
                    "}\n\n"
                    "void %s__embed_serve(int i, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {\n"
                    "    (void) ht_response__asset(res, req, &%s_embed_sets_[i], ht_slice__from_cstr(%s_embed_prefixes_[i]), a);\n"
                    "}\n",
                    P, ne, P, P, P, P);

    for (int i = 0; i < ne; i++) {
        for (size_t j = 0; j < trees[i].n; j++) {
            free(trees[i].v[j].path);
            free(trees[i].v[j].type);
        }
        free(trees[i].v);
    }
    free(trees);
    ht_fs__mime_free(&mime);
    ht_alloc__finalize(alloc);
    return x.ok;
}
