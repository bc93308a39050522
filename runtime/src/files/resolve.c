/* files/resolve.c — request path -> open file beneath a docroot, safely.
 * The rules are at the top of ht/fs.h; this file is their portable part
 * (decoding, dot segments, dotfiles, classification). Opening beneath the
 * root is the platform's: resolve_posix.c or resolve_win32.c. */
#include "files.h"

#include <ht/uri.h>

#include <string.h>

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
    return ht_fs_root_dir_open_(path, flags, &root->dir);
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
    ht_file_t fd = HT_FILE_INVALID;
    ht_result_t e = ht_fs_open_beneath_(root, buf + 1, &fd);
    buf[rel_end] = saved;
    if (e < 0) {
        entry->err = e;
        return ht_fs_status_from_errno_(e);
    }
    ht_result_t r = ht_fs__stat(fd, &entry->st);
    if (r != 0) {
        ht_fs__close(fd);
        entry->err = r;
        return r == -EPERM ? HT_FS_FORBIDDEN : HT_FS_ERROR;
    }
    if (!entry->st.is_dir) {
        if (slash) { ht_fs__close(fd); return HT_FS_NOT_FOUND; } /* "file/" */
        entry->fd = fd;
        return HT_FS_FILE;
    }
    if (!slash && n > 1) { ht_fs__close(fd); return HT_FS_REDIRECT; }
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
