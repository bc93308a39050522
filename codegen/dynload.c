/* codegen/dynload.c — see dynload.h. */
#include "dynload.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* More than any library here needs (zlib's 4 is the most). */
#define MAX_SYMS 16

static_assert(sizeof(void (*)(void)) == sizeof(void*), "function addresses fit a void* (POSIX dlsym)");

bool ht_dynload__open(const ht_dynload_lib_t* lib, void* fns, char* why, size_t why_n) {
    void* h = nullptr;
    const char* err = "no file name to try";
    for (size_t i = 0; i < sizeof lib->sonames / sizeof lib->sonames[0] && lib->sonames[i] && !h; i++) {
        /* NOW: a library whose own dependencies cannot be resolved fails
         * here, with its reason, rather than at the first call. LOCAL: its
         * symbols are reached through the pointers only. */
        h = dlopen(lib->sonames[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) err = dlerror();
    }
    void* addr[MAX_SYMS];
    size_t n = 0;
    if (h && lib->nsyms > MAX_SYMS) {
        err = "too many symbols for the loader";
    } else if (h) {
        for (; n < lib->nsyms; n++) {
            (void) dlerror();
            addr[n] = dlsym(h, lib->syms[n].name);
            if (!addr[n]) { /* a function is never at address 0 */
                err = dlerror();
                break;
            }
        }
    }
    if (!h || n < lib->nsyms) {
        snprintf(why, why_n, "cannot load %s (install Debian's %s): %s", lib->sonames[0] ? lib->sonames[0] : "?",
                 lib->package, err ? err : "unknown error");
        if (h) dlclose(h);
        return false;
    }
    /* POSIX guarantees a function's address survives the trip through
     * void*; memcpy stores it in the member without a cast between object
     * and function pointers, which ISO C leaves undefined. */
    for (size_t i = 0; i < n; i++) memcpy((char*) fns + lib->syms[i].offset, &addr[i], sizeof addr[i]);
    return true;
}
