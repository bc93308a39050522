/* precompress_win32.c — ht --precompress on Windows: not implemented. The
 * POSIX version (precompress.c) walks the tree with nftw and writes each
 * sidecar through openat/renameat; a Windows port would need its own walk.
 * Sidecars written on any machine are served by ht.exe all the same. */
#include "precompress.h"

#include <errno.h>

int ht_precompress__tree(const char* dir, const ht_fs_mime_t* mime, FILE* log, bool verbose,
                         ht_precompress_stats_t* st) {
    (void) dir, (void) mime, (void) verbose;
    *st = (ht_precompress_stats_t){ 0 };
    fprintf(log, "ht: --precompress is not implemented on Windows (write the .br, .zst and .gz "
                 "sidecars with ht --precompress on Linux; ht.exe serves them)\n");
    return -ENOTSUP;
}

int ht_precompress__file(int dirfd, const char* name, ht_fs_encoding_t e) {
    (void) dirfd, (void) name, (void) e;
    return -ENOTSUP;
}
