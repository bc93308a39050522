/* files/resolve.c — request path -> open file beneath a docroot, safely.
 * The rules are at the top of ht/fs.h; this file is their implementation. */
#include "files.h"

#include <ht/uri.h>

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

int32_t ht_fs_open_beneath_(const ht_fs_root_t* root, const char* rel, bool use_openat2) {
    if (rel[0] == '\0') rel = ".";
    if (root->flags & HT_FS_FOLLOW_OUTSIDE) {
        /* rel holds no ".." (normalised), so only symlinks lead out: allowed. */
        int fd;
        do fd = openat(root->dir, rel, OPEN_FLAGS);
        while (fd < 0 && errno == EINTR);
        return fd < 0 ? -errno : fd;
    }
#if defined(SYS_openat2)
    if (use_openat2 && !(root->flags & HT_FS_NO_OPENAT2) && ht_fs_have_openat2_())
        return openat2_beneath(root->dir, rel);
#else
    (void) use_openat2;
#endif
    return walk_beneath(root->dir, rel);
}

ht_fs_status_t ht_fs_status_from_errno_(int32_t e) {
    switch (-e) {
    case ENOENT: case ENOTDIR: case ENAMETOOLONG:
        return HT_FS_NOT_FOUND;
    case EACCES: case EPERM: case EXDEV: case ELOOP: case ENXIO: case ENODEV:
        return HT_FS_FORBIDDEN;
    default:
        return HT_FS_ERROR;
    }
}

/* ---- Root ---- */

ht_result_t ht_fs__root_open(ht_fs_root_t* root, const char* path, uint32_t flags,
                             const char* index, const ht_fs_mime_t* mime) {
    *root = (ht_fs_root_t){ .dir = HT_FILE_INVALID, .flags = flags, .mime = mime };
    if (!index) index = "index.html";
    size_t n = strlen(index);
    if (n == 0 || n > HT_FS_INDEX_MAX || strchr(index, '/') || strcmp(index, ".") == 0 ||
        strcmp(index, "..") == 0)
        return -EINVAL;
    memcpy(root->index, index, n + 1);
    root->index_len = (uint16_t) n;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    root->dir = fd;
    return 0;
}

void ht_fs__root_close(ht_fs_root_t* root) {
    ht_fs__close(root->dir);
    root->dir = HT_FILE_INVALID;
}

/* ---- Resolution ---- */

/* Opens the decoded path buf[0, n) (starts with '/', no dot or empty
 * segments; buf[n] writable) and classifies what it found. */
static ht_fs_status_t open_decoded(const ht_fs_root_t* root, char* buf, size_t n,
                                   ht_fs_entry_t* entry) {
    bool slash = n > 1 && buf[n - 1] == '/';
    size_t rel_end = slash ? n - 1 : n;
    char saved = buf[rel_end];
    buf[rel_end] = '\0';
    int32_t fd = ht_fs_open_beneath_(root, buf + 1, true);
    buf[rel_end] = saved;
    if (fd < 0) {
        entry->err = fd;
        return ht_fs_status_from_errno_(fd);
    }
    ht_result_t r = ht_fs__stat(fd, &entry->st);
    if (r != 0) {
        close(fd);
        entry->err = r;
        return r == -EPERM ? HT_FS_FORBIDDEN : HT_FS_ERROR;
    }
    if (!entry->st.is_dir) {
        if (slash) { close(fd); return HT_FS_NOT_FOUND; } /* "file/" */
        entry->fd = fd;
        return HT_FS_FILE;
    }
    if (!slash && n > 1) { close(fd); return HT_FS_REDIRECT; }
    entry->fd = fd;
    return HT_FS_DIR;
}

ht_fs_status_t ht_fs__open(const ht_fs_root_t* root, ht_slice_t path, ht_fs_entry_t* entry) {
    char buf[HT_FS_PATH_MAX];
    *entry = (ht_fs_entry_t){ .fd = HT_FILE_INVALID, .path = path };
    if (path.len == 0 || path.ptr[0] != '/') return HT_FS_BAD_PATH;
    if (path.len >= sizeof buf) return HT_FS_TOO_LONG;
    if (memchr(path.ptr, '\0', path.len)) return HT_FS_BAD_PATH;
    memcpy(buf, path.ptr, path.len);
    return open_decoded(root, buf, path.len, entry);
}

ht_fs_status_t ht_fs__resolve(const ht_fs_root_t* root, ht_slice_t raw, char* buf,
                              ht_fs_entry_t* entry) {
    *entry = (ht_fs_entry_t){ .fd = HT_FILE_INVALID };
    if (raw.len == 0 || raw.ptr[0] != '/') return HT_FS_BAD_PATH;
    if (raw.len >= HT_FS_PATH_MAX) return HT_FS_TOO_LONG;
    ht_io_t n = ht_uri__decode(raw, buf, HT_FS_PATH_MAX, HT_URI_DECODE_NO_SLASH);
    if (n < 0) return HT_FS_BAD_PATH;
    /* A backslash, raw or decoded, is refused: it is a separator somewhere. */
    if (memchr(buf, '\\', (size_t) n)) return HT_FS_BAD_PATH;
    n = ht_uri__remove_dot_segments(buf, (size_t) n, HT_URI_DOTS_STRICT);
    if (n < 0) return HT_FS_BAD_PATH;
    /* Drop empty segments: "//a///b" is "/a/b". */
    size_t w = 0;
    for (size_t r = 0; r < (size_t) n; r++)
        if (!(buf[r] == '/' && w > 0 && buf[w - 1] == '/')) buf[w++] = buf[r];
    if (w == 0) buf[w++] = '/'; /* cannot happen (raw starts with '/'), kept for safety */
    entry->path = ht_slice__from(buf, w);
    if (!(root->flags & HT_FS_DOTFILES))
        for (size_t i = 0; i + 1 < w; i++)
            if (buf[i] == '/' && buf[i + 1] == '.') {
                size_t e = i + 1;
                while (e < w && buf[e] != '/') e++;
                if (ht_fs_is_dotfile_(buf + i + 1, e - i - 1)) return HT_FS_FORBIDDEN;
            }
    return open_decoded(root, buf, w, entry);
}

/* ---- Redirect target ---- */

ht_result_t ht_fs__push_location(ht_bytes_t* out, ht_slice_t path, ht_slice_t query) {
    size_t start = out->len;
    /* Keep '/' and the sub-delims that cannot change how a path parses;
     * ';' is encoded too (some servers treat it as a parameter separator). */
    ht_slice_t p = path;
    while (p.len > 1 && p.ptr[0] == '/' && p.ptr[1] == '/') p = ht_slice__sub(p, 1, p.len - 1);
    ht_result_t r = ht_fs_push_pct_(out, p, "/!$&'()*+,=:@");
    if (r == 0 && query.len) {
        r = ht_bytes__push_byte(out, '?');
        if (r == 0) r = ht_bytes__push_slice(out, query);
    }
    if (r != 0) ht_bytes__truncate(out, start);
    return r;
}
