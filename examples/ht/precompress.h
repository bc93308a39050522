/* precompress.h — `ht --precompress DIR`: writes gzip sidecars (foo.gz beside
 * foo) for the compressible files of a tree, with zlib. Program side only:
 * libhachettp itself has no third-party dependency; it only serves the
 * sidecars (ht_fs__plan). */
#ifndef HT_PRECOMPRESS_H
#define HT_PRECOMPRESS_H

#include <ht/fs.h>
#include <stdio.h>

typedef struct ht_precompress_stats {
    uint32_t written;     /* sidecars created or refreshed */
    uint32_t up_to_date;  /* sidecars already fresh (not older than the original) */
    uint32_t skipped;     /* compressible but not worth it (gzip not smaller) */
    uint32_t too_small;   /* compressible but under HT_PRECOMPRESS_MIN_SIZE */
    uint32_t failed;      /* read/write errors (reported on log) */
    uint64_t bytes_in, bytes_out; /* of the files written */
} ht_precompress_stats_t;

/* Smallest file worth compressing: below this the gzip header eats the gain. */
#define HT_PRECOMPRESS_MIN_SIZE 256

/* Walks dir (not following symlinks, skipping dotfiles and directories
 * starting with '.') and, for every regular file whose type (mime, as
 * served; may be nullptr) is compressible and whose size is at least
 * HT_PRECOMPRESS_MIN_SIZE, writes NAME.gz when it is missing or older than
 * NAME. Each sidecar is written to a temporary file in the same directory,
 * then renamed over NAME.gz (readers see the old or the new one, never a
 * partial one), and given NAME's mtime so that it counts as fresh. A sidecar
 * that would not be smaller than its original is not written (and a stale
 * one is removed, so it is not served). Problems are reported on log (may
 * be nullptr) and counted; verbose also reports there what was done to
 * each compressible file. Returns 0, or -1 if dir cannot be walked. */
int ht_precompress__tree(const char* dir, const ht_fs_mime_t* mime, FILE* log, bool verbose,
                         ht_precompress_stats_t* st);

/* Compresses one file to the sidecar path gz (atomically, as above).
 * 0, 1 (not smaller: nothing written), or -errno. */
int ht_precompress__file(int dirfd, const char* name, const char* gz_name);

#endif /* HT_PRECOMPRESS_H */
