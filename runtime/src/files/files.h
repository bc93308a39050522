/* files/files.h — internal API of the files module (ht/fs.h is the public one).
 *
 * Shared by resolve.c, listing.c and plan.c; tests include it too.
 */
#ifndef HT_FILES_INTERNAL_H
#define HT_FILES_INTERNAL_H

#include <ht/fs.h>

#include <string.h>

/* Opens rel (decoded, relative to root->dir, no leading '/', no dot or empty
 * segments, NUL-terminated, may be "" for the root itself) under root's
 * symlink policy: openat2 RESOLVE_BENEATH where it works, else the
 * component walk. Returns the fd (O_RDONLY|O_CLOEXEC|O_NONBLOCK) or a
 * negated errno: -EXDEV for an escape from the root (symlink), -ELOOP for
 * too many links, the open errno otherwise. */
int32_t ht_fs_open_beneath_(const ht_fs_root_t* root, const char* rel, bool use_openat2);

/* Whether openat2 is usable on this kernel (probed once, cached). */
bool ht_fs_have_openat2_(void);

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

#endif /* HT_FILES_INTERNAL_H */
