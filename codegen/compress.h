/* codegen/compress.h — the content codings of HT_FS_ENCODINGS (<ht/fs.h>) as
 * in-memory compressors, for the tools that write precompressed variants:
 * htgen's `embed` (variants compiled in) and `ht --precompress` (sidecar
 * files). Tool-time only: libhachettp serves variants but never compresses,
 * and links none of zlib, libbrotli, libzstd.
 *
 * gzip (zlib) is always built in. br (libbrotli) and zstd (libzstd) are
 * when CMake found their development packages (libbrotli-dev, libzstd-dev);
 * without them ht_compress__available says false and the tools write what
 * they can, saying so (ht_compress__missing).
 *
 * Every coding runs at its highest ratio (a one-off cost for a file served
 * many times) with output a browser decodes: gzip level 9, brotli quality 11
 * (window 4 MiB), zstd level 19 (window at most 8 MiB, the most RFC 8878 §3
 * asks a Content-Encoding: zstd decoder to support). Outputs are
 * reproducible: no timestamps, no file names. */
#ifndef HT_CODEGEN_COMPRESS_H
#define HT_CODEGEN_COMPRESS_H

#include <ht/fs.h>

#include <stddef.h>

/* Loads the libraries of every coding this build has, the first time it is
 * called; later calls give the first call's answer. true; or false with
 * *why (when why is not nullptr; static storage) naming the library that
 * could not be loaded and the Debian package that installs it. Not
 * thread-safe (the tools are single-threaded). ht_compress__buffer calls it
 * itself; a tool calls it first to stop, with that line, before any work. */
bool ht_compress__load(const char** why);

/* Whether coding e (< HT_FS_ENC_CODINGS) can be written by this build (its
 * library may still fail to load: ht_compress__load). */
bool ht_compress__available(ht_fs_encoding_t e);

/* A line naming the codings this build cannot write and the packages that
 * would enable them ("br, zstd (build with libbrotli-dev, libzstd-dev)"),
 * or nullptr when every coding is available. Static storage. */
const char* ht_compress__missing(void);

/* Compresses in[0, n) with coding e into *out (malloc'd, the caller frees)
 * of *out_n bytes. false when e is unavailable, the libraries cannot be
 * loaded, n is over 1 GiB, or the library fails (then *out is nullptr). */
bool ht_compress__buffer(ht_fs_encoding_t e, const unsigned char* in, size_t n, unsigned char** out,
                         size_t* out_n);

#endif /* HT_CODEGEN_COMPRESS_H */
