/* files/resolve_win32.c — the Windows half of resolution (see resolve.c and
 * the rules at the top of ht/fs.h).
 *
 * Files are opened relative to the docroot's directory handle, never by an
 * absolute name: NtCreateFile with OBJECT_ATTRIBUTES.RootDirectory, the
 * Windows counterpart of openat(2). The portable part has already refused
 * '\', dot segments and dotfiles; Windows adds names that the Win32 layer
 * or NTFS would reinterpret, each refused as "no such file" (404, what a
 * POSIX server answers for the same bytes):
 *   - ':' anywhere: drive letters ("C:"), alternate data streams
 *     ("file::$DATA", "file:stream");
 *   - the characters < > " | ? * and controls (wildcards, device syntax);
 *   - a segment ending in '.' or ' ' (Win32 strips them: "x.txt." is
 *     "x.txt");
 *   - DOS device names (CON, NUL, AUX, PRN, COM1-9, LPT1-9, with or without
 *     an extension).
 * Then the opened file's final path (GetFinalPathNameByHandleW, which
 * expands 8.3 short names, follows links and has the stored case) must be
 * exactly the root's final path + '\' + the requested name: so "SECRET~1.TXT"
 * cannot reach "secret.txt" past a rule, a name differing only in case is
 * not another name for the same file (as on POSIX), and a symlink or
 * junction is never followed: one leading out of the root is an escape
 * (-EXDEV, 403), any other name that is not the file's own is "no such
 * file" (-ENOENT, 404; POSIX would serve a link within the root). Hence
 * HT_FS_FOLLOW_OUTSIDE is not implemented on Windows: ht_fs__root_open
 * refuses it with -ENOTSUP.
 *
 * Handles are synchronous (FILE_SYNCHRONOUS_IO_NONALERT): TransmitFile and
 * positioned ReadFile take their offsets from an OVERLAPPED either way. */
#include "files.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <winternl.h>

#include <string.h>

#include "base/win32.h"

#ifndef FILE_OPEN
#  define FILE_OPEN 0x00000001
#endif
#ifndef FILE_SYNCHRONOUS_IO_NONALERT
#  define FILE_SYNCHRONOUS_IO_NONALERT 0x00000020
#endif
#ifndef OBJ_CASE_INSENSITIVE
#  define OBJ_CASE_INSENSITIVE 0x00000040
#endif

/* Longest wide path handled (a final path is "\\?\C:\..."). */
#define WPATH_MAX (HT_FS_PATH_MAX + 512)

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define FILETIME_UNIX_EPOCH 116444736000000000ULL

void ht_fs__close(ht_file_t f) {
    if (f != HT_FILE_INVALID && f != 0) CloseHandle((HANDLE) f);
}

ht_result_t ht_fs__stat(ht_file_t f, ht_fs_stat_t* st) {
    BY_HANDLE_FILE_INFORMATION bi;
    if (!GetFileInformationByHandle((HANDLE) f, &bi)) return ht_win32__err(GetLastError());
    uint64_t t = ((uint64_t) bi.ftLastWriteTime.dwHighDateTime << 32) | bi.ftLastWriteTime.dwLowDateTime;
    int64_t rel = (int64_t) (t - FILETIME_UNIX_EPOCH);
    int64_t sec = rel / 10000000;
    int64_t rem = rel % 10000000;
    if (rem < 0) rem += 10000000, sec--;
    bool dir = (bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
    *st = (ht_fs_stat_t){
        .size = dir ? 0 : ((uint64_t) bi.nFileSizeHigh << 32) | bi.nFileSizeLow,
        .mtime_sec = sec,
        .mtime_nsec = (uint32_t) rem * 100u,
        .is_dir = dir,
        .dev = bi.dwVolumeSerialNumber,
        .ino = ((uint64_t) bi.nFileIndexHigh << 32) | bi.nFileIndexLow,
    };
    if (bi.dwFileAttributes & (FILE_ATTRIBUTE_DEVICE | FILE_ATTRIBUTE_REPARSE_POINT)) return -EPERM;
    return GetFileType((HANDLE) f) == FILE_TYPE_DISK ? 0 : -EPERM;
}

bool ht_fs_win32_bad_segment_(const char* s, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c < 0x20 || c == ':' || c == '<' || c == '>' || c == '"' || c == '|' || c == '?' ||
            c == '*' || c == '\\')
            return true;
    }
    if (s[n - 1] == '.' || s[n - 1] == ' ') return true;
    /* DOS devices: the base name before the first '.', case-insensitive. */
    size_t b = 0;
    while (b < n && s[b] != '.') b++;
    char up[5] = { 0 };
    if (b == 3 || b == 4) {
        for (size_t i = 0; i < b; i++) up[i] = (char) (s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
        if (b == 3 && (!memcmp(up, "CON", 3) || !memcmp(up, "NUL", 3) || !memcmp(up, "AUX", 3) ||
                       !memcmp(up, "PRN", 3)))
            return true;
        if (b == 4 && (!memcmp(up, "COM", 3) || !memcmp(up, "LPT", 3)) && up[3] >= '0' && up[3] <= '9')
            return true;
    }
    return false;
}

/* The final path of h, as GetFinalPathNameByHandleW gives it; its length in
 * wide characters, or 0. */
static DWORD final_path(HANDLE h, wchar_t* out, DWORD cap) {
    DWORD n = GetFinalPathNameByHandleW(h, out, cap, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    return n < cap ? n : 0;
}

ht_result_t ht_fs_open_beneath_(const ht_fs_root_t* root, const char* rel, ht_file_t* out) {
    size_t n = strlen(rel);
    for (size_t i = 0; i < n;) {
        size_t e = i;
        while (e < n && rel[e] != '/') e++;
        if (ht_fs_win32_bad_segment_(rel + i, e - i)) return -ENOENT;
        i = e + 1;
    }
    static_assert(sizeof(wchar_t) == 2, "UTF-16");
    wchar_t wrel[HT_FS_PATH_MAX];
    int wn = 0;
    if (n) {
        wn = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, rel, (int) n, wrel, HT_FS_PATH_MAX - 1);
        if (wn <= 0) return -ENOENT; /* not UTF-8: no such name on Windows */
        for (int i = 0; i < wn; i++)
            if (wrel[i] == L'/') wrel[i] = L'\\';
    }
    UNICODE_STRING name = { .Length = (USHORT) (wn * 2), .MaximumLength = (USHORT) (wn * 2),
                            .Buffer = wrel };
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &name, 0, (HANDLE) root->dir, nullptr);
    IO_STATUS_BLOCK io;
    HANDLE h = nullptr;
    NTSTATUS st = NtCreateFile(&h, FILE_GENERIC_READ | SYNCHRONIZE, &oa, &io, nullptr, 0,
                               FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN,
                               FILE_SYNCHRONOUS_IO_NONALERT, nullptr, 0);
    if (st < 0) return ht_win32__err(RtlNtStatusToDosError(st));
    /* The name check (see the top of this file). */
    wchar_t froot[WPATH_MAX], ffile[WPATH_MAX];
    DWORD rn = final_path((HANDLE) root->dir, froot, WPATH_MAX);
    DWORD fn = final_path(h, ffile, WPATH_MAX);
    bool same, beneath = false;
    if (rn == 0 || fn == 0) {
        same = false;
    } else if (wn == 0) {
        same = fn == rn && memcmp(froot, ffile, rn * 2) == 0;
    } else {
        /* A drive root's final path already ends in '\'. */
        DWORD sep = froot[rn - 1] == L'\\' ? 0 : 1;
        same = fn == rn + sep + (DWORD) wn && memcmp(froot, ffile, rn * 2) == 0 &&
               (sep == 0 || ffile[rn] == L'\\') && memcmp(ffile + rn + sep, wrel, (size_t) wn * 2) == 0;
    }
    if (!same && rn && fn) {
        DWORD sep = froot[rn - 1] == L'\\' ? 0 : 1;
        beneath = fn > rn + sep && memcmp(froot, ffile, rn * 2) == 0 && (sep == 0 || ffile[rn] == L'\\');
    }
    if (!same) {
        CloseHandle(h);
        /* Beneath the root under another name (8.3, case, a link within):
         * not a name of this tree, as on POSIX (404); elsewhere: an escape
         * through a link (403, as POSIX answers it). */
        return rn == 0 || fn == 0 ? -EACCES : beneath ? -ENOENT : -EXDEV;
    }
    *out = (ht_file_t) h;
    return 0;
}

bool ht_fs_have_openat2_(void) { return false; }

ht_result_t ht_fs_root_dir_open_(const char* path, uint32_t flags, ht_file_t* out) {
    if (flags & HT_FS_FOLLOW_OUTSIDE) return -ENOTSUP; /* see the top of this file */
    wchar_t w[WPATH_MAX];
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, WPATH_MAX) <= 0) return -ENOENT;
    HANDLE h = CreateFileW(w, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    if (h == INVALID_HANDLE_VALUE) return ht_win32__err(GetLastError());
    BY_HANDLE_FILE_INFORMATION bi;
    if (!GetFileInformationByHandle(h, &bi) || !(bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
        CloseHandle(h);
        return -ENOTDIR;
    }
    *out = (ht_file_t) h;
    return 0;
}

ht_result_t ht_fs_dup_(ht_file_t f, ht_file_t* out) {
    /* A new open of the same file (its own file object), so that transfers
     * of one cached file do not share a synchronous file object's lock and
     * position; DuplicateHandle (the same object) where that is refused. */
    HANDLE r = ReOpenFile((HANDLE) f, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, 0);
    if (r != INVALID_HANDLE_VALUE) {
        *out = (ht_file_t) r;
        return 0;
    }
    HANDLE p = GetCurrentProcess(), h;
    if (!DuplicateHandle(p, (HANDLE) f, p, &h, 0, FALSE, DUPLICATE_SAME_ACCESS))
        return ht_win32__err(GetLastError());
    *out = (ht_file_t) h;
    return 0;
}

ht_io_t ht_fs_pread_(ht_file_t f, void* buf, size_t n, uint64_t off) {
    size_t got = 0;
    while (got < n) {
        uint64_t at = off + got;
        OVERLAPPED ov = { .Offset = (DWORD) at, .OffsetHigh = (DWORD) (at >> 32) };
        DWORD chunk = n - got > (1u << 30) ? (1u << 30) : (DWORD) (n - got), r = 0;
        if (!ReadFile((HANDLE) f, (char*) buf + got, chunk, &r, &ov)) {
            DWORD e = GetLastError();
            if (e == ERROR_HANDLE_EOF) break;
            return got ? (ht_io_t) got : ht_win32__err(e);
        }
        if (r == 0) break;
        got += r;
    }
    return (ht_io_t) got;
}
