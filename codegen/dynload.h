/* codegen/dynload.h — a shared library loaded at run time, its functions
 * resolved into a struct of pointers: how the tools reach the compressors
 * (compress.c). A program that compresses only on request (`ht
 * --precompress`; every start of ht is a server otherwise) should not map,
 * relocate and resolve zlib, libbrotlienc and libzstd (and the libm brotli
 * pulls in) each time it starts: ~600 kB of RSS before the first request
 * (BENCHMARKS.md, Issue 18, "Where the memory goes").
 *
 * The caller keeps the types: its struct's members are declared with the
 * real prototypes (from the -dev packages' headers, typeof), and names each
 * symbol with the offset of its member. Loaded libraries are never unloaded
 * (the pointers stay valid for the life of the process).
 *
 * POSIX (dlopen). Windows builds link the compressors statically instead
 * (compress.c), and do not build this file. */
#ifndef HT_CODEGEN_DYNLOAD_H
#define HT_CODEGEN_DYNLOAD_H

#include <ht/types.h> /* bool, nullptr, static_assert: C23 where the compiler lacks it */

#include <stddef.h>

/* One function of the library: its name, and where its address goes in the
 * caller's struct (offsetof the member, a pointer to that function's type). */
typedef struct ht_dynload_sym {
    const char* name;
    size_t      offset;
} ht_dynload_sym_t;

typedef struct ht_dynload_lib {
    /* Names dlopen tries, in order, until one loads (nullptr ends the list
     * early): sonames ("libz.so.1"), the ABI the headers were written for. */
    const char* sonames[2];
    const char* package; /* the Debian package that installs it ("zlib1g") */
    const ht_dynload_sym_t* syms;
    size_t                  nsyms;
} ht_dynload_lib_t;

/* Loads lib and writes the address of each of its syms into the struct at
 * fns. true; or false with a line in why (why_n bytes, nul-terminated)
 * naming the library, the package to install and dlopen's or dlsym's
 * reason, and fns untouched (nothing of lib stays loaded). */
bool ht_dynload__open(const ht_dynload_lib_t* lib, void* fns, char* why, size_t why_n);

#endif /* HT_CODEGEN_DYNLOAD_H */
