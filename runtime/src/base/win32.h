/* base/win32.h — internal, Windows only: error mapping and Winsock set-up
 * shared by the platform files (sys_win32.c defines them). Portable code
 * never includes this. */
#ifndef HT_BASE_WIN32_H
#define HT_BASE_WIN32_H

#include <ht/types.h>

/* The negated errno (<errno.h>, mingw-w64's POSIX supplement included) that
 * stands for a Win32 error (GetLastError) / a Winsock error (WSAGetLastError):
 * -ENOENT, -EACCES, -ECONNRESET, -EWOULDBLOCK, ... -EIO when unknown. */
ht_result_t ht_win32__err(uint32_t win_error);
ht_result_t ht_win32__wsa_err(int32_t wsa_error);

/* WSAStartup once per process (idempotent, thread-safe): 0 or a negated
 * errno. Everything that makes a socket calls it first. */
ht_result_t ht_win32__wsa_init(void);

#endif /* HT_BASE_WIN32_H */
