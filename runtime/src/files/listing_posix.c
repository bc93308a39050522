/* files/listing_posix.c — reading a directory for ht_fs__listing (Linux:
 * getdents64 into allocator memory, fstatat without following links). */
#include "files.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__)
#  include <sys/syscall.h>
#endif

/* Decides whether and how one directory entry is listed. */
static ht_result_t consider(const ht_fs_root_t* root, int dir, ht_slice_t path, ht_fs_dir_fn add,
                            void* ud, const char* name) {
    size_t len = strlen(name);
    if (ht_fs_listing_skips_(root, name, len)) return 0;
    struct stat s;
    if (fstatat(dir, name, &s, AT_SYMLINK_NOFOLLOW) != 0) return 0; /* gone meanwhile */
    ht_fs_stat_t st;
    if (S_ISLNK(s.st_mode)) {
        /* Listed as what it points to, if that is servable under the root's
         * policy: resolved exactly as a request for it would be. */
        char full[HT_FS_PATH_MAX];
        if (path.len + len >= sizeof full) return 0;
        memcpy(full, path.ptr, path.len);
        memcpy(full + path.len, name, len);
        ht_fs_entry_t e;
        ht_fs_status_t r = ht_fs__open(root, ht_slice__from(full, path.len + len), &e);
        if (r == HT_FS_REDIRECT) return add(ud, name, len, true, &e.st);
        if (r != HT_FS_FILE) return 0;
        st = e.st;
        ht_fs__close(e.fd);
        return add(ud, name, len, false, &st);
    }
    if (!S_ISREG(s.st_mode) && !S_ISDIR(s.st_mode)) return 0;
    st = (ht_fs_stat_t){ .size = (uint64_t) s.st_size, .mtime_sec = (int64_t) s.st_mtim.tv_sec };
    return add(ud, name, len, S_ISDIR(s.st_mode), &st);
}

ht_result_t ht_fs_read_dir_(const ht_fs_root_t* root, ht_file_t dir, ht_slice_t path, ht_fs_dir_fn add,
                            void* ud, ht_alloc_t* a) {
#if defined(__linux__)
    /* getdents64 into allocator memory: opendir(3) would malloc behind the
     * caller's back. */
    const size_t cap = 32768;
    char* buf = ht_alloc__alloc(a, cap);
    if (!buf) return -ENOMEM;
    ht_result_t r = 0;
    if (lseek(dir, 0, SEEK_SET) != 0) r = -errno;
    while (r == 0) {
        long n = syscall(SYS_getdents64, dir, buf, cap);
        if (n < 0) { r = -errno; break; }
        if (n == 0) break;
        for (long off = 0; off < n && r == 0;) {
            /* struct linux_dirent64: ino(8) off(8) reclen(2) type(1) name */
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            r = consider(root, dir, path, add, ud, buf + off + 19);
            off += reclen;
        }
    }
    ht_alloc__free(a, buf, cap);
    return r;
#else
#  error "ht_fs__listing: only Linux is implemented"
#endif
}
