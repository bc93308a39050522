/* files/resolve_posix.c — the POSIX half of resolution (see resolve.c):
 * opening beneath the root fd with openat2(RESOLVE_BENEATH) or a component
 * walk, fstat, and the small file helpers of files.h. */
#include "files.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__)
#  include <linux/openat2.h>
#  include <sys/syscall.h>
#endif

#ifndef O_PATH
#  define O_PATH O_RDONLY
#endif

/* The flags every served file or directory is opened with: O_NONBLOCK so
 * that a FIFO planted in the tree cannot block the loop in open(2) (it is
 * then refused by its type), like nginx does. */
#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
/* Symlinks followed in one resolution, as the kernel's MAXSYMLINKS. */
#define MAX_LINKS 40

void ht_fs__close(ht_file_t f) {
    if (f >= 0) close(f);
}

ht_result_t ht_fs__stat(ht_file_t f, ht_fs_stat_t* st) {
    struct stat s;
    if (fstat(f, &s) != 0) return -errno;
    *st = (ht_fs_stat_t){
        .size = (uint64_t) s.st_size,
        .mtime_sec = (int64_t) s.st_mtim.tv_sec,
        .mtime_nsec = (uint32_t) s.st_mtim.tv_nsec,
        .is_dir = S_ISDIR(s.st_mode),
        .dev = (uint64_t) s.st_dev,
        .ino = (uint64_t) s.st_ino,
    };
    /* Only regular files and directories are ever served. */
    return (S_ISREG(s.st_mode) || S_ISDIR(s.st_mode)) ? 0 : -EPERM;
}

/* ---- openat2 ---- */

#if defined(SYS_openat2)
static int32_t openat2_beneath(int dir, const char* rel) {
    struct open_how how = {
        .flags = OPEN_FLAGS,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd;
    do fd = syscall(SYS_openat2, dir, rel, &how, sizeof how);
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : (int32_t) fd;
}
#endif

bool ht_fs_have_openat2_(void) {
#if defined(SYS_openat2)
    /* 0 unknown, 1 yes, 2 no; a race only probes twice. */
    static _Atomic int state = 0;
    int s = state;
    if (s == 0) {
        int32_t fd = openat2_beneath(AT_FDCWD, ".");
        /* ENOSYS: old kernel; EPERM: a seccomp filter refusing it; E2BIG /
         * EINVAL: a struct or flag it does not know. Anything else (EACCES
         * on an unreadable cwd) still proves the call exists. */
        s = (fd == -ENOSYS || fd == -EPERM || fd == -E2BIG || fd == -EINVAL) ? 2 : 1;
        if (fd >= 0) close(fd);
        state = s;
    }
    return s == 1;
#else
    return false;
#endif
}

/* ---- The component walk (no openat2) ---- */

/* Opens the already-resolved directory chain done ("a/b", "" for the root)
 * from the root, each step O_NOFOLLOW: they were directories a moment ago;
 * if one was swapped for a symlink since, the walk fails rather than
 * following it. */
static int32_t reopen_chain(int rootfd, const char* done) {
    int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cur < 0) return -errno;
    const char* p = done;
    char comp[256];
    while (*p) {
        const char* e = strchr(p, '/');
        size_t n = e ? (size_t) (e - p) : strlen(p);
        if (n >= sizeof comp) { close(cur); return -ENAMETOOLONG; }
        memcpy(comp, p, n);
        comp[n] = '\0';
        int next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        close(cur);
        if (next < 0) return -err;
        cur = next;
        p += n + (e != nullptr);
    }
    return cur;
}

static int32_t walk_beneath(int rootfd, const char* rel) {
    char pending[2 * HT_FS_PATH_MAX]; /* what is left to resolve */
    char done[HT_FS_PATH_MAX];     /* resolved directories, "a/b" */
    char link[HT_FS_PATH_MAX];
    size_t pending_len = strlen(rel), done_len = 0;
    if (pending_len >= sizeof pending) return -ENAMETOOLONG;
    memcpy(pending, rel, pending_len + 1);
    done[0] = '\0';
    unsigned links = 0;
    int32_t cur = reopen_chain(rootfd, "");
    if (cur < 0) return cur;
    size_t pos = 0;
    for (;;) {
        while (pos < pending_len && pending[pos] == '/') pos++;
        if (pos == pending_len) { /* everything resolved: cur is an O_PATH dir */
            int fd = openat(cur, ".", OPEN_FLAGS | O_DIRECTORY);
            int err = errno;
            close(cur);
            return fd < 0 ? -err : fd;
        }
        size_t end = pos;
        while (end < pending_len && pending[end] != '/') end++;
        size_t rest = end;
        while (rest < pending_len && pending[rest] == '/') rest++;
        bool last = rest == pending_len;
        char comp[256];
        size_t n = end - pos;
        if (n >= sizeof comp) { close(cur); return -ENAMETOOLONG; }
        memcpy(comp, pending + pos, n);
        comp[n] = '\0';
        if (strcmp(comp, ".") == 0) { pos = end; continue; }
        if (strcmp(comp, "..") == 0) {
            if (done_len == 0) { close(cur); return -EXDEV; } /* above the root */
            while (done_len > 0 && done[done_len - 1] != '/') done_len--;
            if (done_len > 0) done_len--; /* the separator */
            done[done_len] = '\0';
            close(cur);
            if ((cur = reopen_chain(rootfd, done)) < 0) return cur;
            pos = end;
            continue;
        }
        int fd = openat(cur, comp, (last ? OPEN_FLAGS : O_PATH) | O_NOFOLLOW | O_CLOEXEC);
        bool is_link = false;
        if (fd < 0) {
            if (errno != ELOOP) { int err = errno; close(cur); return -err; }
            is_link = true; /* a final component that is a symlink */
        } else {
            struct stat s;
            if (fstat(fd, &s) != 0) { int err = errno; close(fd); close(cur); return -err; }
            if (S_ISLNK(s.st_mode)) {
                is_link = true;
                close(fd);
            } else if (last) {
                close(cur);
                return fd;
            } else if (!S_ISDIR(s.st_mode)) {
                close(fd);
                close(cur);
                return -ENOTDIR;
            } else {
                if (done_len + 1 + n >= sizeof done) { close(fd); close(cur); return -ENAMETOOLONG; }
                if (done_len) done[done_len++] = '/';
                memcpy(done + done_len, comp, n + 1);
                done_len += n;
                close(cur);
                cur = fd;
                pos = end;
                continue;
            }
        }
        /* A symlink: splice its target in front of what is left, relative
         * to the directory it lives in (done). */
        if (is_link) {
            if (++links > MAX_LINKS) { close(cur); return -ELOOP; }
            ssize_t ln = readlinkat(cur, comp, link, sizeof link);
            if (ln < 0) { int err = errno; close(cur); return -err; }
            if ((size_t) ln >= sizeof link) { close(cur); return -ENAMETOOLONG; }
            if (ln == 0) { close(cur); return -ENOENT; }
            if (link[0] == '/') { close(cur); return -EXDEV; } /* absolute: outside by definition */
            size_t tail = pending_len - end;
            if ((size_t) ln + tail >= sizeof pending) { close(cur); return -ENAMETOOLONG; }
            memmove(pending + ln, pending + end, tail + 1); /* with the NUL */
            memcpy(pending, link, (size_t) ln);
            pending_len = (size_t) ln + tail;
            pos = 0;
        }
    }
}

static int32_t open_beneath(const ht_fs_root_t* root, const char* rel) {
    if (rel[0] == '\0') rel = ".";
    if (root->flags & HT_FS_FOLLOW_OUTSIDE) {
        /* rel holds no ".." (normalised), so only symlinks lead out: allowed. */
        int fd;
        do fd = openat(root->dir, rel, OPEN_FLAGS);
        while (fd < 0 && errno == EINTR);
        return fd < 0 ? -errno : fd;
    }
#if defined(SYS_openat2)
    if (!(root->flags & HT_FS_NO_OPENAT2) && ht_fs_have_openat2_())
        return openat2_beneath(root->dir, rel);
#endif
    return walk_beneath(root->dir, rel);
}

ht_result_t ht_fs_open_beneath_(const ht_fs_root_t* root, const char* rel, ht_file_t* out) {
    int32_t fd = open_beneath(root, rel);
    if (fd < 0) return fd;
    *out = fd;
    return 0;
}

ht_result_t ht_fs_root_dir_open_(const char* path, uint32_t flags, ht_file_t* out) {
    (void) flags; /* every policy is implemented here */
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    *out = fd;
    return 0;
}

ht_result_t ht_fs_dup_(ht_file_t f, ht_file_t* out) {
    int fd = fcntl(f, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return -errno;
    *out = fd;
    return 0;
}

ht_io_t ht_fs_pread_(ht_file_t f, void* buf, size_t n, uint64_t off) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(f, (char*) buf + got, n - got, (off_t) (off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return got ? (ht_io_t) got : -errno;
        if (r == 0) break;
        got += (size_t) r;
    }
    return (ht_io_t) got;
}
