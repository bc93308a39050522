/* codegen/compress.c — see compress.h. */
#include "compress.h"

#include <stdlib.h>
#include <zlib.h>
#ifdef HT_HAVE_BROTLI
#  include <brotli/encode.h>
#endif
#ifdef HT_HAVE_ZSTD
#  include <zstd.h>
#endif

/* One call per buffer: zlib takes a uInt of input, and text assets are far smaller. */
#define MAX_INPUT ((size_t) 1 << 30)

static bool gzip_(const unsigned char* in, size_t n, unsigned char** out, size_t* out_n) {
    z_stream z = { 0 };
    /* windowBits 15 + 16: a gzip wrapper (RFC 1952) with mtime 0, as
     * Content-Encoding: gzip wants and reproducibility asks. */
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return false;
    uLong cap = deflateBound(&z, (uLong) n);
    unsigned char* buf = malloc(cap ? cap : 1);
    if (!buf) {
        deflateEnd(&z);
        return false;
    }
    z.next_in = (Bytef*) in;
    z.avail_in = (uInt) n;
    z.next_out = buf;
    z.avail_out = (uInt) cap;
    int r = deflate(&z, Z_FINISH);
    *out_n = z.total_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) {
        free(buf);
        return false;
    }
    *out = buf;
    return true;
}

#ifdef HT_HAVE_BROTLI
static bool br_(const unsigned char* in, size_t n, unsigned char** out, size_t* out_n) {
    size_t cap = BrotliEncoderMaxCompressedSize(n);
    if (cap == 0) cap = n + 1024; /* 0: too large to bound; the 1 GiB cap keeps this sane */
    unsigned char* buf = malloc(cap);
    if (!buf) return false;
    *out_n = cap;
    if (!BrotliEncoderCompress(BROTLI_MAX_QUALITY, 22, BROTLI_MODE_GENERIC, n, in, out_n, buf)) {
        free(buf);
        return false;
    }
    *out = buf;
    return true;
}
#endif

#ifdef HT_HAVE_ZSTD
static bool zstd_(const unsigned char* in, size_t n, unsigned char** out, size_t* out_n) {
    size_t cap = ZSTD_compressBound(n);
    unsigned char* buf = malloc(cap ? cap : 1);
    if (!buf) return false;
    /* Level 19 keeps windowLog at 23 (8 MiB); 20-22 would need more of a decoder. */
    size_t r = ZSTD_compress(buf, cap, in, n, 19);
    if (ZSTD_isError(r)) {
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
    if (!ht_compress__available(e) || n > MAX_INPUT) return false;
    return compressors_[e](in, n, out, out_n);
}
