/* files/listing_win32.c — reading a directory for ht_fs__listing on Windows:
 * GetFileInformationByHandleEx(FileIdBothDirectoryInfo) on the open
 * directory handle (no name re-lookup), into allocator memory. Links
 * (reparse points) are left out, as resolve_win32.c never follows them;
 * so are devices, and names the resolver refuses: those not valid UTF-16
 * and those Windows would reinterpret (":", '"', "*", a trailing '.', ...;
 * a Unix tree under Wine has them), whose links would only answer 404. */
#include "files.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "base/win32.h"

#define FILETIME_UNIX_EPOCH 116444736000000000ULL

ht_result_t ht_fs_read_dir_(const ht_fs_root_t* root, ht_file_t dir, ht_slice_t path, ht_fs_dir_fn add,
                            void* ud, ht_alloc_t* a) {
    (void) path;
    const size_t cap = 32768;
    char* buf = ht_alloc__alloc(a, cap);
    if (!buf) return -ENOMEM;
    ht_result_t r = 0;
    FILE_INFO_BY_HANDLE_CLASS cls = FileIdBothDirectoryRestartInfo;
    for (;;) {
        if (!GetFileInformationByHandleEx((HANDLE) dir, cls, buf, (DWORD) cap)) {
            DWORD e = GetLastError();
            if (e != ERROR_NO_MORE_FILES) r = ht_win32__err(e);
            break;
        }
        cls = FileIdBothDirectoryInfo;
        for (size_t off = 0; r == 0;) {
            FILE_ID_BOTH_DIR_INFO* fi = (FILE_ID_BOTH_DIR_INFO*) (void*) (buf + off);
            char name[HT_FS_PATH_MAX];
            int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, fi->FileName,
                                        (int) (fi->FileNameLength / 2), name, (int) sizeof name, nullptr, nullptr);
            DWORD at = fi->FileAttributes;
            if (n > 0 && !ht_fs_listing_skips_(root, name, (size_t) n) &&
                !ht_fs_win32_bad_segment_(name, (size_t) n) &&
                !(at & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DEVICE))) {
                uint64_t t = (uint64_t) fi->LastWriteTime.QuadPart;
                ht_fs_stat_t st = {
                    .size = (uint64_t) fi->EndOfFile.QuadPart,
                    .mtime_sec = ((int64_t) t - (int64_t) FILETIME_UNIX_EPOCH) / 10000000,
                };
                r = add(ud, name, (size_t) n, (at & FILE_ATTRIBUTE_DIRECTORY) != 0, &st);
            }
            if (fi->NextEntryOffset == 0) break;
            off += fi->NextEntryOffset;
        }
        if (r) break;
    }
    ht_alloc__free(a, buf, cap);
    return r;
}
