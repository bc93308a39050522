/* codegen/compress.c — see compress.h. */
#include "compress.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>
#ifdef HT_HAVE_BROTLI
#  include <brotli/encode.h>
#endif
#ifdef HT_HAVE_ZSTD
#  include <zstd.h>
#endif

/* ---- The libraries' functions ----
 *
 * Reached through a struct of pointers per library, each member typed by the
 * library's own prototype (so a call is checked as a direct one would be).
 * POSIX: filled by dlopen on first use (dynload.h), so that ht, which links
 * this file for --precompress only, does not load the libraries every time
 * it starts to serve. Windows (htgen.exe; ht.exe has no --precompress): the
 * static libraries, linked, as before. The lists name each function once.
 * __typeof__: C23's typeof, which gcc 12 and clang 14 do not have in -std=c2x. */
#define ZLIB_FNS(X, T)   X(T, deflateInit2_) X(T, deflateBound) X(T, deflate) X(T, deflateEnd)
#define BROTLI_FNS(X, T) X(T, BrotliEncoderMaxCompressedSize) X(T, BrotliEncoderCompress)
#define ZSTD_FNS(X, T)   X(T, ZSTD_compressBound) X(T, ZSTD_compress) X(T, ZSTD_isError)
#define FN_PTR(T, f)     __typeof__(f)* (f);

typedef struct zlib_fns { ZLIB_FNS(FN_PTR, ) } zlib_fns_t;
#ifdef HT_HAVE_BROTLI
typedef struct brotli_fns { BROTLI_FNS(FN_PTR, ) } brotli_fns_t;
#endif
#ifdef HT_HAVE_ZSTD
typedef struct zstd_fns { ZSTD_FNS(FN_PTR, ) } zstd_fns_t;
#endif

#if defined(_WIN32)
#  define FN_LINKED(T, f) .f = f,
static const zlib_fns_t z_ = { ZLIB_FNS(FN_LINKED, ) };
#  ifdef HT_HAVE_BROTLI
static const brotli_fns_t br_fns_ = { BROTLI_FNS(FN_LINKED, ) };
#  endif
#  ifdef HT_HAVE_ZSTD
static const zstd_fns_t zstd_fns_ = { ZSTD_FNS(FN_LINKED, ) };
#  endif

bool ht_compress__load(const char** why) {
    if (why) *why = nullptr;
    return true;
}
#else
#  include "dynload.h"

#  define FN_SYM(T, f) { #f, offsetof(T, f) },
static zlib_fns_t z_;
static const ht_dynload_sym_t z_syms_[] = { ZLIB_FNS(FN_SYM, zlib_fns_t) };
#  ifdef HT_HAVE_BROTLI
static brotli_fns_t br_fns_;
static const ht_dynload_sym_t br_syms_[] = { BROTLI_FNS(FN_SYM, brotli_fns_t) };
#  endif
#  ifdef HT_HAVE_ZSTD
static zstd_fns_t zstd_fns_;
static const ht_dynload_sym_t zstd_syms_[] = { ZSTD_FNS(FN_SYM, zstd_fns_t) };
#  endif

/* Sonames: the ABI of the headers these were compiled against (Debian 12:
 * zlib 1.2.13, brotli 1.0.9, zstd 1.5.4). The package is the runtime one,
 * the one a machine without the -dev packages lacks. */
static const struct {
    ht_dynload_lib_t lib;
    void*            fns;
} libs_[] = {
    { { { "libz.so.1" }, "zlib1g", z_syms_, HT_ARRAY_LEN(z_syms_) }, &z_ },
#  ifdef HT_HAVE_BROTLI
    { { { "libbrotlienc.so.1" }, "libbrotli1", br_syms_, HT_ARRAY_LEN(br_syms_) }, &br_fns_ },
#  endif
#  ifdef HT_HAVE_ZSTD
    { { { "libzstd.so.1" }, "libzstd1", zstd_syms_, HT_ARRAY_LEN(zstd_syms_) }, &zstd_fns_ },
#  endif
};

bool ht_compress__load(const char** why) {
    /* Once: the answer, and the reason, are the first call's. */
    static enum { UNTRIED, LOADED, FAILED } state;
    static char reason[512];
    for (size_t i = 0; state == UNTRIED && i < HT_ARRAY_LEN(libs_); i++)
        if (!ht_dynload__open(&libs_[i].lib, libs_[i].fns, reason, sizeof reason)) state = FAILED;
    if (state == UNTRIED) state = LOADED;
    if (why) *why = state == LOADED ? nullptr : reason;
    return state == LOADED;
}
#endif

/* One call per buffer: zlib takes a uInt of input, and text assets are far smaller. */
#define MAX_INPUT ((size_t) 1 << 30)

static bool gzip_(const unsigned char* in, size_t n, unsigned char** out, size_t* out_n) {
    z_stream z = { 0 };
    /* windowBits 15 + 16: a gzip wrapper (RFC 1952) with mtime 0, as
     * Content-Encoding: gzip wants and reproducibility asks. */
    /* deflateInit2 is zlib.h's macro over deflateInit2_, which checks the
     * header's version and z_stream's size against the library's. */
    if (z_.deflateInit2_(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY, ZLIB_VERSION, (int) sizeof z) != Z_OK)
        return false;
    uLong cap = z_.deflateBound(&z, (uLong) n);
    unsigned char* buf = malloc(cap ? cap : 1);
    if (!buf) {
        z_.deflateEnd(&z);
        return false;
    }
    z.next_in = (Bytef*) in;
    z.avail_in = (uInt) n;
    z.next_out = buf;
    z.avail_out = (uInt) cap;
    int r = z_.deflate(&z, Z_FINISH);
    *out_n = z.total_out;
    z_.deflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(buf);
        return false;
    }
    *out = buf;
    return true;
}

#ifdef HT_HAVE_BROTLI
static bool br_(const unsigned char* in, size_t n, unsigned char** out, size_t* out_n) {
    size_t cap = br_fns_.BrotliEncoderMaxCompressedSize(n);
    if (cap == 0) cap = n + 1024; /* 0: too large to bound; the 1 GiB cap keeps this sane */
    unsigned char* buf = malloc(cap);
    if (!buf) return false;
    *out_n = cap;
    if (!br_fns_.BrotliEncoderCompress(BROTLI_MAX_QUALITY, 22, BROTLI_MODE_GENERIC, n, in, out_n, buf)) {
        free(buf);
        return false;
    }
    *out = buf;
    return true;
}
#endif

#ifdef HT_HAVE_ZSTD
static bool zstd_(const unsigned char* in, size_t n, unsigned char** out, size_t* out_n) {
    size_t cap = zstd_fns_.ZSTD_compressBound(n);
    unsigned char* buf = malloc(cap ? cap : 1);
    if (!buf) return false;
    /* Level 19 keeps windowLog at 23 (8 MiB); 20-22 would need more of a decoder. */
    size_t r = zstd_fns_.ZSTD_compress(buf, cap, in, n, 19);
    if (zstd_fns_.ZSTD_isError(r)) {
        free(buf);
        return false;
    }
    *out = buf;
    *out_n = r;
    return true;
}
#endif

typedef bool compress_fn(const unsigned char*, size_t, unsigned char**, size_t*);

static compress_fn* const compressors_[HT_FS_ENC_CODINGS] = {
    [HT_FS_ENC_GZIP] = gzip_,
#ifdef HT_HAVE_BROTLI
    [HT_FS_ENC_BR] = br_,
#endif
#ifdef HT_HAVE_ZSTD
    [HT_FS_ENC_ZSTD] = zstd_,
#endif
};

bool ht_compress__available(ht_fs_encoding_t e) {
    return (unsigned) e < HT_FS_ENC_CODINGS && compressors_[e] != nullptr;
}

const char* ht_compress__missing(void) {
#if !defined(HT_HAVE_BROTLI) && !defined(HT_HAVE_ZSTD)
    return "br, zstd (rebuild with libbrotli-dev and libzstd-dev installed)";
#elif !defined(HT_HAVE_BROTLI)
    return "br (rebuild with libbrotli-dev installed)";
#elif !defined(HT_HAVE_ZSTD)
    return "zstd (rebuild with libzstd-dev installed)";
#else
    return nullptr;
#endif
}

bool ht_compress__buffer(ht_fs_encoding_t e, const unsigned char* in, size_t n, unsigned char** out,
                         size_t* out_n) {
    *out = nullptr;
    *out_n = 0;
    if (!ht_compress__available(e) || n > MAX_INPUT || !ht_compress__load(nullptr)) return false;
    return compressors_[e](in, n, out, out_n);
}
