/* precompress.c — sidecars for every coding this build has; see precompress.h. */
#include "precompress.h"

#include "compress.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const unsigned char* p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t) w;
    }
    return 0;
}

/* The whole of an open regular file (s: its fstat) into *out (malloc'd). */
static int read_all(int fd, const struct stat* s, unsigned char** out) {
    size_t n = (size_t) s->st_size;
    unsigned char* buf = malloc(n ? n : 1);
    if (!buf) return -ENOMEM;
    for (size_t got = 0; got < n;) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t) got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { /* the file shrank under us, or an error */
            int e = r < 0 ? errno : EIO;
            free(buf);
            return -e;
        }
        got += (size_t) r;
    }
    *out = buf;
    return 0;
}

/* Compresses data (the bytes of name, whose stat is s) with coding e into
 * name + suffix beside it: a temporary file, then rename(2). 0, 1 (not
 * smaller), -ENOTSUP or -errno; *out_size gets the sidecar's size. */
static int write_sidecar(int dirfd, const char* name, const struct stat* s, ht_fs_encoding_t e,
                         const unsigned char* data, uint64_t* out_size) {
    unsigned char* z = nullptr;
    size_t zn = 0;
    if (!ht_compress__available(e)) return -ENOTSUP;
    if (!ht_compress__load(nullptr)) return -ELIBACC;
    if (!ht_compress__buffer(e, data, (size_t) s->st_size, &z, &zn)) return -ENOMEM;
    if (zn >= (size_t) s->st_size) {
        free(z);
        return 1; /* not worth it */
    }
    ht_slice_t suf = ht_fs__encoding_suffix(e);
    char side[NAME_MAX + 8];
    if ((size_t) snprintf(side, sizeof side, "%s%.*s", name, (int) suf.len, suf.ptr) >= sizeof side) {
        free(z);
        return -ENAMETOOLONG;
    }
    /* The temporary name sits beside the target so rename(2) is atomic. */
    char tmp[NAME_MAX + 48];
    int out = -1;
    for (int tries = 0; tries < 100 && out < 0; tries++) {
        snprintf(tmp, sizeof tmp, ".%.200s.tmp%ld.%d", side, (long) getpid(), tries);
        out = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (out < 0 && errno != EEXIST) break;
    }
    if (out < 0) {
        free(z);
        return -errno;
    }
    int err = write_all(out, z, zn);
    free(z);
    if (err == 0 && fsync(out) != 0) err = -errno;
    if (close(out) != 0 && err == 0) err = -errno;
    if (err == 0) {
        /* Same mtime as the original: "not older than", so it is served. */
        struct timespec ts[2] = { s->st_atim, s->st_mtim };
        if (utimensat(dirfd, tmp, ts, 0) != 0) err = -errno;
    }
    if (err == 0 && renameat(dirfd, tmp, dirfd, side) != 0) err = -errno;
    if (err != 0) unlinkat(dirfd, tmp, 0);
    *out_size = zn;
    return err;
}

int ht_precompress__file(int dirfd, const char* name, ht_fs_encoding_t e) {
    int in = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) return -errno;
    struct stat s;
    if (fstat(in, &s) != 0 || !S_ISREG(s.st_mode)) {
        int err = errno ? errno : EINVAL;
        close(in);
        return -err;
    }
    unsigned char* data = nullptr;
    int r = read_all(in, &s, &data);
    close(in);
    uint64_t zn = 0;
    if (r == 0) r = write_sidecar(dirfd, name, &s, e, data, &zn);
    free(data);
    return r;
}

/* nftw has no user pointer: the walk's state lives here (single-threaded tool). */
static struct {
    const ht_fs_mime_t*     mime;
    FILE*                   log;
    ht_precompress_stats_t* st;
    bool                    verbose; /* a line on log for each compressible file */
} walk_;

static bool is_sidecar(const char* base, size_t n) {
    for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) {
        ht_slice_t suf = ht_fs__encoding_suffix((ht_fs_encoding_t) e);
        if (n > suf.len && memcmp(base + n - suf.len, suf.ptr, suf.len) == 0) return true;
    }
    return false;
}

/* Whether the sidecar name (in dfd) is fresh: a regular file not older than
 * s. A non-regular one is not ours to replace: *foreign. */
static bool fresh_at(int dfd, const char* side, const struct stat* s, bool* foreign) {
    struct stat gs;
    *foreign = false;
    if (fstatat(dfd, side, &gs, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (!S_ISREG(gs.st_mode)) {
        *foreign = true;
        return false;
    }
    return gs.st_mtim.tv_sec > s->st_mtim.tv_sec ||
           (gs.st_mtim.tv_sec == s->st_mtim.tv_sec && gs.st_mtim.tv_nsec >= s->st_mtim.tv_nsec);
}

static void report(const char* path, const char* what, int err) {
    walk_.st->failed++;
    if (walk_.log) fprintf(walk_.log, "ht: precompress: %s%s: %s\n", path, what, strerror(err));
}

static int visit(const char* path, const struct stat* s, int type, struct FTW* f) {
    const char* base = path + f->base;
    if (f->level > 0 && base[0] == '.') return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
    if (type != FTW_F || !S_ISREG(s->st_mode)) return FTW_CONTINUE;
    size_t n = strlen(base);
    if (is_sidecar(base, n)) return FTW_CONTINUE;
    ht_slice_t type_v = ht_fs__mime_lookup(walk_.mime, ht_slice__from(base, n));
    if (!ht_fs__mime_compressible(type_v)) return FTW_CONTINUE;
    if (s->st_size < HT_PRECOMPRESS_MIN_SIZE) {
        walk_.st->too_small++;
        if (walk_.verbose && walk_.log)
            fprintf(walk_.log, "ht: precompress: %s: too small (%lld bytes)\n", path, (long long) s->st_size);
        return FTW_CONTINUE;
    }
    /* Work relative to the file's directory: names, not paths, go to *at(). */
    char dirpath[PATH_MAX];
    size_t dl = (size_t) f->base;
    if (dl >= sizeof dirpath || n + 8 > NAME_MAX) return FTW_CONTINUE;
    memcpy(dirpath, path, dl);
    dirpath[dl] = '\0';
    int dfd = open(dl ? dirpath : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        report(path, "", errno);
        return FTW_CONTINUE;
    }
    unsigned char* data = nullptr; /* read once, for the first coding that needs it */
    struct stat rs = *s;
    bool any = false;
    for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) {
        if (!ht_compress__available((ht_fs_encoding_t) e)) continue;
        ht_slice_t suf = ht_fs__encoding_suffix((ht_fs_encoding_t) e);
        char side[NAME_MAX + 8];
        snprintf(side, sizeof side, "%s%.*s", base, (int) suf.len, suf.ptr);
        bool foreign;
        if (fresh_at(dfd, side, s, &foreign)) {
            walk_.st->up_to_date++;
            if (walk_.verbose && walk_.log) fprintf(walk_.log, "ht: precompress: %s%s: up to date\n", path, suf.ptr);
            continue;
        }
        if (foreign) continue;
        if (!data) {
            int in = openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            int r = in < 0 ? -errno : fstat(in, &rs) != 0 ? -errno : read_all(in, &rs, &data);
            if (in >= 0) close(in);
            if (r != 0) {
                report(path, "", -r);
                break;
            }
        }
        uint64_t zn = 0;
        int r = write_sidecar(dfd, base, &rs, (ht_fs_encoding_t) e, data, &zn);
        if (r == 0) {
            walk_.st->written++;
            walk_.st->coded_in[e] += (uint64_t) rs.st_size;
            walk_.st->coded_out[e] += zn;
            any = true;
            if (walk_.verbose && walk_.log)
                fprintf(walk_.log, "ht: precompress: %s%s: %lld -> %llu bytes\n", path, suf.ptr,
                        (long long) rs.st_size, (unsigned long long) zn);
        } else if (r == 1) {
            walk_.st->skipped++;
            if (walk_.verbose && walk_.log)
                fprintf(walk_.log, "ht: precompress: %s%s: not smaller\n", path, suf.ptr);
            unlinkat(dfd, side, 0); /* a stale sidecar would otherwise keep being ignored */
        } else {
            report(path, suf.ptr, -r);
        }
    }
    if (any) walk_.st->bytes_in += (uint64_t) rs.st_size;
    free(data);
    close(dfd);
    return FTW_CONTINUE;
}

int ht_precompress__tree(const char* dir, const ht_fs_mime_t* mime, FILE* log, bool verbose,
                         ht_precompress_stats_t* st) {
    *st = (ht_precompress_stats_t){ 0 };
    walk_.mime = mime;
    walk_.log = log;
    walk_.st = st;
    walk_.verbose = verbose;
    struct stat s;
    if (stat(dir, &s) != 0 || !S_ISDIR(s.st_mode)) {
        if (log) fprintf(log, "ht: precompress: %s: %s\n", dir, strerror(errno ? errno : ENOTDIR));
        return -1;
    }
    /* Before any work: a missing library stops the run, whole (a tree with
     * some codings written and not others would be served unevenly). */
    const char* why = nullptr;
    if (!ht_compress__load(&why)) {
        if (log) fprintf(log, "ht: precompress: %s\n", why);
        return -1;
    }
    const char* missing = ht_compress__missing();
    if (missing && log)
        fprintf(log, "ht: precompress: this ht cannot write %s; writing the other codings only\n", missing);
    int r = nftw(dir, visit, 32, FTW_PHYS | FTW_ACTIONRETVAL);
    if (r != 0 && log) fprintf(log, "ht: precompress: %s: %s\n", dir, strerror(errno));
    return r == 0 ? 0 : -1;
}
