/* precompress.c — gzip sidecars with zlib; see precompress.h. */
#include "precompress.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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

int ht_precompress__file(int dirfd, const char* name, const char* gz_name) {
    int in = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) return -errno;
    struct stat s;
    if (fstat(in, &s) != 0 || !S_ISREG(s.st_mode)) {
        int e = errno ? errno : EINVAL;
        close(in);
        return -e;
    }
    /* The temporary name sits beside the target so rename(2) is atomic. */
    char tmp[NAME_MAX + 32];
    int out = -1;
    for (int tries = 0; tries < 100 && out < 0; tries++) {
        snprintf(tmp, sizeof tmp, ".%.200s.tmp%ld.%d", gz_name, (long) getpid(), tries);
        out = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (out < 0 && errno != EEXIST) break;
    }
    if (out < 0) {
        int e = errno;
        close(in);
        return -e;
    }
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip wrapper (RFC 1952), as Content-Encoding: gzip wants. */
    int rc = deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
    int err = rc == Z_OK ? 0 : -ENOMEM;
    static unsigned char ibuf[65536], obuf[65536]; /* the tool is single-threaded */
    uint64_t total_out = 0;
    bool eof = false;
    while (err == 0 && !eof) {
        ssize_t n = read(in, ibuf, sizeof ibuf);
        if (n < 0) {
            if (errno == EINTR) continue;
            err = -errno;
            break;
        }
        eof = n == 0;
        z.next_in = ibuf;
        z.avail_in = (uInt) n;
        do {
            z.next_out = obuf;
            z.avail_out = sizeof obuf;
            rc = deflate(&z, eof ? Z_FINISH : Z_NO_FLUSH);
            if (rc == Z_STREAM_ERROR) { err = -EIO; break; }
            size_t have = sizeof obuf - z.avail_out;
            total_out += have;
            if (have && (err = write_all(out, obuf, have)) != 0) break;
        } while (z.avail_out == 0);
    }
    if (rc == Z_OK || rc == Z_STREAM_END) deflateEnd(&z);
    close(in);
    if (err == 0 && fsync(out) != 0) err = -errno;
    if (close(out) != 0 && err == 0) err = -errno;
    if (err == 0 && total_out >= (uint64_t) s.st_size) err = 1; /* not worth it */
    if (err == 0) {
        /* Same mtime as the original: "not older than", so it is served. */
        struct timespec ts[2] = { s.st_atim, s.st_mtim };
        if (utimensat(dirfd, tmp, ts, 0) != 0) err = -errno;
    }
    if (err == 0 && renameat(dirfd, tmp, dirfd, gz_name) != 0) err = -errno;
    if (err != 0) unlinkat(dirfd, tmp, 0);
    return err;
}

/* nftw has no user pointer: the walk's state lives here (single-threaded tool). */
static struct {
    const ht_fs_mime_t*     mime;
    FILE*                   log;
    bool                    verbose;
    ht_precompress_stats_t* st;
} walk_;

static bool gz_name_of(const char* path, char* out, size_t cap) {
    return (size_t) snprintf(out, cap, "%s.gz", path) < cap;
}

static int visit(const char* path, const struct stat* s, int type, struct FTW* f) {
    const char* base = path + f->base;
    if (f->level > 0 && base[0] == '.') return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
    if (type != FTW_F || !S_ISREG(s->st_mode)) return FTW_CONTINUE;
    size_t n = strlen(base);
    if (n >= 3 && strcmp(base + n - 3, ".gz") == 0) return FTW_CONTINUE;
    ht_slice_t type_v = ht_fs__mime_lookup(walk_.mime, ht_slice__from(base, n));
    if (!ht_fs__mime_compressible(type_v)) return FTW_CONTINUE;
    if (s->st_size < HT_PRECOMPRESS_MIN_SIZE) {
        walk_.st->too_small++;
        if (walk_.verbose && walk_.log)
            fprintf(walk_.log, "ht: precompress: %s: too small (%lld bytes)\n", path, (long long) s->st_size);
        return FTW_CONTINUE;
    }
    char gz[PATH_MAX];
    if (!gz_name_of(path, gz, sizeof gz)) return FTW_CONTINUE;
    struct stat gs;
    if (lstat(gz, &gs) == 0) {
        if (!S_ISREG(gs.st_mode)) return FTW_CONTINUE; /* not ours to replace */
        bool fresh = gs.st_mtim.tv_sec > s->st_mtim.tv_sec ||
                     (gs.st_mtim.tv_sec == s->st_mtim.tv_sec && gs.st_mtim.tv_nsec >= s->st_mtim.tv_nsec);
        if (fresh) {
            walk_.st->up_to_date++;
            if (walk_.verbose && walk_.log) fprintf(walk_.log, "ht: precompress: %s: up to date\n", path);
            return FTW_CONTINUE;
        }
    }
    /* Work relative to the file's directory: names, not paths, go to *at(). */
    char dirpath[PATH_MAX];
    size_t dl = (size_t) f->base;
    if (dl >= sizeof dirpath) return FTW_CONTINUE;
    memcpy(dirpath, path, dl);
    dirpath[dl] = '\0';
    int dfd = open(dl ? dirpath : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        walk_.st->failed++;
        if (walk_.log) fprintf(walk_.log, "ht: precompress: %s: %s\n", path, strerror(errno));
        return FTW_CONTINUE;
    }
    char gzname[NAME_MAX + 4];
    snprintf(gzname, sizeof gzname, "%s.gz", base);
    int r = ht_precompress__file(dfd, base, gzname);
    if (r == 0) {
        struct stat ns;
        walk_.st->written++;
        walk_.st->bytes_in += (uint64_t) s->st_size;
        bool sized = fstatat(dfd, gzname, &ns, 0) == 0;
        if (sized) walk_.st->bytes_out += (uint64_t) ns.st_size;
        if (walk_.verbose && walk_.log)
            fprintf(walk_.log, "ht: precompress: %s: %lld -> %lld bytes\n", path, (long long) s->st_size,
                    sized ? (long long) ns.st_size : -1LL);
    } else if (r == 1) {
        walk_.st->skipped++;
        if (walk_.verbose && walk_.log) fprintf(walk_.log, "ht: precompress: %s: not smaller gzipped\n", path);
        unlinkat(dfd, gzname, 0); /* a stale sidecar would otherwise keep being ignored */
    } else {
        walk_.st->failed++;
        if (walk_.log) fprintf(walk_.log, "ht: precompress: %s: %s\n", path, strerror(-r));
    }
    close(dfd);
    return FTW_CONTINUE;
}

int ht_precompress__tree(const char* dir, const ht_fs_mime_t* mime, FILE* log, bool verbose,
                         ht_precompress_stats_t* st) {
    *st = (ht_precompress_stats_t){ 0 };
    walk_.mime = mime;
    walk_.log = log;
    walk_.verbose = verbose;
    walk_.st = st;
    struct stat s;
    if (stat(dir, &s) != 0 || !S_ISDIR(s.st_mode)) {
        if (log) fprintf(log, "ht: precompress: %s: %s\n", dir, strerror(errno ? errno : ENOTDIR));
        return -1;
    }
    int r = nftw(dir, visit, 32, FTW_PHYS | FTW_ACTIONRETVAL);
    if (r != 0 && log) fprintf(log, "ht: precompress: %s: %s\n", dir, strerror(errno));
    return r == 0 ? 0 : -1;
}
