/* codegen/win32_compat.h — the POSIX functions htgen uses that mingw-w64's
 * C library lacks (strndup, realpath). Windows builds force-include it into
 * htgen's sources (cmake/HtWindows.cmake), so the sources need no #ifdef. */
#ifndef HT_CODEGEN_WIN32_COMPAT_H
#define HT_CODEGEN_WIN32_COMPAT_H
#if defined(_WIN32)
#  include <stdlib.h>
#  include <string.h>

static inline char* ht_compat_strndup_(const char* s, size_t n) {
    size_t len = strnlen(s, n);
    char* p = malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}
#  define strndup ht_compat_strndup_

/* realpath(3) as POSIX has it (resolved == nullptr: malloc'ed result);
 * _fullpath makes the name absolute and removes dot segments, but does not
 * resolve links (Windows builds never follow them, see resolve_win32.c). */
static inline char* ht_compat_realpath_(const char* path, char* resolved) {
    return _fullpath(resolved, path, resolved ? 260 : 0);
}
#  define realpath ht_compat_realpath_
#endif
#endif /* HT_CODEGEN_WIN32_COMPAT_H */
