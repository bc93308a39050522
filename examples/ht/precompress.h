/* precompress.h — `ht --precompress DIR`: writes precompressed sidecars
 * (foo.br, foo.zst, foo.gz beside foo: HT_FS_ENCODINGS) for the compressible
 * files of a tree, with libbrotli, libzstd and zlib (codegen/compress.h).
 * Program side only: libhachettp itself has no third-party dependency; it
 * only serves the sidecars (ht_fs__plan). A build without libbrotli-dev or
 * libzstd-dev writes the other codings and says which it cannot. The
 * libraries are loaded when a tree or file is compressed, not at start-up
 * (ht_compress__load); a machine that lacks one of them gets nothing
 * written and a line naming it and its Debian package. */
#ifndef HT_PRECOMPRESS_H
#define HT_PRECOMPRESS_H

#include <ht/fs.h>
#include <stdio.h>

/* Counts are of sidecars (a file may get one per coding). */
typedef struct ht_precompress_stats {
    uint32_t written;     /* sidecars created or refreshed */
    uint32_t up_to_date;  /* sidecars already fresh (not older than the original) */
    uint32_t skipped;     /* compressible but not worth it (the coding not smaller) */
    uint32_t too_small;   /* compressible but under HT_PRECOMPRESS_MIN_SIZE */
    uint32_t failed;      /* read/write errors (reported on log) */
    uint64_t bytes_in;    /* originals that got at least one sidecar written */
    /* Per coding (ht_fs_encoding_t): the sidecars written, and their originals. */
    uint64_t coded_out[HT_FS_ENC_CODINGS], coded_in[HT_FS_ENC_CODINGS];
} ht_precompress_stats_t;

/* Smallest file worth compressing: below this the coding's header eats the gain. */
#define HT_PRECOMPRESS_MIN_SIZE 256

/* Walks dir (not following symlinks, skipping dotfiles and directories
 * starting with '.', and the sidecars themselves) and, for every regular
 * file whose type (mime, as served; may be nullptr) is compressible and
 * whose size is at least HT_PRECOMPRESS_MIN_SIZE, writes NAME + suffix for
 * each coding this build has (ht_compress__available) when it is missing or
 * older than NAME. Each sidecar is written to a temporary file in the same
 * directory, then renamed over its name (readers see the old or the new
 * one, never a partial one), and given NAME's mtime so that it counts as
 * fresh. A sidecar that would not be smaller than its original is not
 * written (and a stale one is removed, so it is not served). Problems, and
 * codings this build cannot write, are reported on log (may be nullptr);
 * problems are counted; verbose also reports there what was done to each
 * compressible file. Returns 0, or -1 if dir cannot be walked or a library
 * cannot be loaded (said on log). */
int ht_precompress__tree(const char* dir, const ht_fs_mime_t* mime, FILE* log, bool verbose,
                         ht_precompress_stats_t* st);

/* Compresses one file (name, in dirfd) into its sidecar for coding e
 * (name + ht_fs__encoding_suffix(e)), atomically, as above.
 * 0, 1 (not smaller: nothing written), -ENOTSUP (coding not built in),
 * -ELIBACC (its library cannot be loaded: ht_compress__load says why), or
 * -errno. */
int ht_precompress__file(int dirfd, const char* name, ht_fs_encoding_t e);

#endif /* HT_PRECOMPRESS_H */
