/* files/files.h — internal API of the files module (ht/fs.h is the public one).
 *
 * Shared by resolve.c, listing.c and plan.c; tests include it too.
 */
#ifndef HT_FILES_INTERNAL_H
#define HT_FILES_INTERNAL_H

#include <ht/fs.h>

#include <string.h>

/* ---- Platform half (resolve_posix.c / resolve_win32.c) ---- */

/* Opens rel (decoded, relative to root->dir, no leading '/', no dot or empty
 * segments, NUL-terminated, may be "" for the root itself) under root's
 * symlink policy into *out. POSIX: openat2 RESOLVE_BENEATH where it works
 * (and HT_FS_NO_OPENAT2 is not set), else the component walk; the fd is
 * O_RDONLY|O_CLOEXEC|O_NONBLOCK. Windows: see resolve_win32.c. 0 or a
 * negated errno: -EXDEV for an escape from the root (symlink), -ELOOP for
 * too many links, the open errno otherwise. */
ht_result_t ht_fs_open_beneath_(const ht_fs_root_t* root, const char* rel, ht_file_t* out);

/* Whether one path segment (n UTF-8 bytes) is a name Windows would
 * reinterpret (resolve_win32.c lists the rules): the resolver answers such
 * a name "no such file", so a listing must not link to it either. Windows. */
bool ht_fs_win32_bad_segment_(const char* s, size_t n);

/* Whether openat2 is usable on this kernel (probed once, cached). POSIX. */
bool ht_fs_have_openat2_(void);

/* Opens the directory path as a docroot handle: 0 or a negated errno
 * (-ENOTDIR when it is not a directory, -ENOTSUP for root flags this
 * platform does not implement: HT_FS_FOLLOW_OUTSIDE on Windows). */
ht_result_t ht_fs_root_dir_open_(const char* path, uint32_t flags, ht_file_t* out);

/* A second handle to the same open file (close-on-exec / not inheritable),
 * with its own lifetime: 0 or a negated errno. */
ht_result_t ht_fs_dup_(ht_file_t f, ht_file_t* out);

/* Reads n bytes at offset off (positioned: the handle's offset is not
 * used), retrying short reads: the byte count (< n only at end of file),
 * or a negated errno if nothing could be read. */
ht_io_t ht_fs_pread_(ht_file_t f, void* buf, size_t n, uint64_t off);

/* One entry of a directory listing: name[0, len) (not NUL-terminated), and
 * for files size and mtime_sec in *st. Non-zero stops the reading. */
typedef ht_result_t (*ht_fs_dir_fn)(void* ud, const char* name, size_t len, bool dir,
                                    const ht_fs_stat_t* st);
/* Calls add for every entry of the open directory dir (whose decoded path
 * is path) that a listing shows: not "." or "..", not hidden by
 * ht_fs_listing_skips_, a regular file or directory, or a symlink that
 * resolves beneath the root under root's policy (listed as its target).
 * Temporary memory from a. 0, the first non-zero add result, or a negated
 * errno from reading the directory. */
ht_result_t ht_fs_read_dir_(const ht_fs_root_t* root, ht_file_t dir, ht_slice_t path, ht_fs_dir_fn add,
                            void* ud, ht_alloc_t* a);

/* ---- Portable ---- */

/* Maps an errno from opening to a status (ENOENT/ENOTDIR -> NOT_FOUND, ...). */
ht_fs_status_t ht_fs_status_from_errno_(int32_t neg_errno);

/* Percent-encodes s into out: bytes in keep_extra (besides unreserved
 * ALPHA DIGIT - . _ ~) are copied, every other byte becomes %XX
 * (uppercase hex). 0 or -ENOMEM. */
ht_result_t ht_fs_push_pct_(ht_bytes_t* out, ht_slice_t s, const char* keep_extra);

/* HTML-escapes s into out for text and attribute values: & < > " ' become
 * entities; C0 controls, DEL and bytes that are not well-formed UTF-8 (also
 * overlongs, surrogates, > U+10FFFF) become U+FFFD. 0 or -ENOMEM. */
ht_result_t ht_fs_push_html_(ht_bytes_t* out, ht_slice_t s);

/* Whether a name (one segment, len bytes) is hidden by the dotfile policy:
 * it starts with '.' and is not ".well-known" (RFC 8615). */
HT_INLINE bool ht_fs_is_dotfile_(const char* name, size_t len) {
    return len > 0 && name[0] == '.' &&
           !(len == 11 && memcmp(name, ".well-known", 11) == 0);
}

/* Whether a listing leaves the name out: "." and "..", and dotfiles unless
 * the root serves them. */
HT_INLINE bool ht_fs_listing_skips_(const ht_fs_root_t* root, const char* name, size_t len) {
    if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.'))) return true;
    return ht_fs_is_dotfile_(name, len) && !(root->flags & HT_FS_DOTFILES);
}

#endif /* HT_FILES_INTERNAL_H */
