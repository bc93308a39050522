/* ht/route_dispatch.h — the fixed part of every PREFIX_dispatch.c htgen
 * generates: the answers that do not depend on routes.ht (405/OPTIONS with
 * Allow, the trailing-slash redirect, a mount's files) and the call of a
 * route's handler with its deadline. PREFIX_dispatch.c keeps the tables:
 * the routes, each handler's call, the mounts.
 *
 * Header only, like <ht/route_rt.h>; these call libhachettp (a dispatch
 * file is linked with it). Names are ht_rt__x: not API for programs.
 */
#ifndef HT_ROUTE_DISPATCH_H
#define HT_ROUTE_DISPATCH_H

#include <ht/alloc.h>
#include <ht/bytes.h>
#include <ht/fs.h>
#include <ht/request.h>
#include <ht/response.h>
#include <ht/route_rt.h>
#include <ht/slice.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

HT_EXTERN_C_BEGIN

/* status (405 or 204) with Allow: the methods of allow, formatted into v
   (cap bytes: the file's PREFIX_ALLOW_MAX). */
__attribute__((unused)) static inline void ht_rt__allow(ht_response_t* res, uint16_t status, uint64_t allow,
                                                       const char* const* methods, int nmethods, char* v,
                                                       size_t cap, ht_alloc_t* a) {
    ht_rt__allow_format(methods, nmethods, allow, v, cap);
    if (ht_response__status(res, status) != 0) return;
    if (ht_response__header(res, HT_SLICE("Allow"), ht_slice__from_cstr(v)) != 0) return;
    if (status == 405)
        (void) ht_response__error(res, status, a);
    else
        (void) ht_response__body(res, nullptr, 0, a);
}

/* 308 to the canonical raw path, the query kept. */
__attribute__((unused)) static inline void ht_rt__redirect(ht_response_t* res, ht_slice_t to, ht_slice_t query,
                                                          ht_alloc_t* a) {
    /* "//host" would be a network-path reference: an open redirect. */
    while (to.len > 1 && to.ptr[0] == '/' && to.ptr[1] == '/') to.ptr++, to.len--;
    ht_bytes_t loc;
    ht_bytes__init(&loc, a);
    ht_result_t r = ht_bytes__push_slice(&loc, to);
    if (r == 0 && query.len) r = ht_bytes__push_byte(&loc, '?');
    if (r == 0) r = ht_bytes__push_slice(&loc, query);
    if (r == 0) r = ht_response__status(res, 308);
    if (r == 0) r = ht_response__header(res, HT_SLICE("Location"), ht_bytes__slice(&loc));
    if (r == 0) (void) ht_response__error(res, 308, a);
    ht_bytes__free(&loc);
}

/* The hook (ht_response__on_error) of `errors PREFIX json`: every error as JSON. */
__attribute__((unused)) static inline ht_result_t ht_rt__json_errors(ht_response_t* res, uint16_t status,
                                                                    void* ud, ht_alloc_t* a) {
    (void) ud;
    return ht_response__error_json(res, status, a);
}

/* Opens one mount's directory: base/dir (an absolute dir as is), with its
   options, into root. 0, or -ENAMETOOLONG, -ENOENT, -ENOTDIR, -ENOMEM... */
__attribute__((unused)) static inline ht_result_t ht_rt__mount_open(ht_fs_root_t* root, const char* base,
                                                                   const char* dir, bool list, bool gzip,
                                                                   const char* index, ht_fs_mime_t* mime) {
    char path[4096];
    int n = dir[0] == '/' ? snprintf(path, sizeof path, "%s", dir) : snprintf(path, sizeof path, "%s/%s", base, dir);
    if (n < 0 || (size_t) n >= sizeof path) return -ENAMETOOLONG;
    uint32_t flags = (list ? 0u : (uint32_t) HT_FS_NO_LIST) | (gzip ? 0u : (uint32_t) HT_FS_NO_GZIP);
    return ht_fs__root_open(root, path, flags, index, mime);
}

/* ht_response__serve_file under a mount prefix: path safety, index,
   listing, gzip sidecar, conditionals, ranges, Location with the prefix;
   small bodies copied, larger ones zero-copy; headers: the mount's
   cache=, header= and cors= (ht/headers.h), or nullptr. root nullptr: the
   mounts are not open yet (503). */
__attribute__((unused)) static inline void ht_rt__serve_mount_with(const ht_fs_root_t* root, const char* prefix,
                                                                  const ht_headers_t* headers,
                                                                  const ht_request_t* req, ht_response_t* res,
                                                                  ht_alloc_t* a) {
    if (!root) {
        (void) ht_response__error(res, 503, a);
        return;
    }
    ht_serve_file_options_t o;
    memset(&o, 0, sizeof o); /* not designated: this header compiles as C++ too */
    o.mount = ht_slice__from_cstr(prefix);
    o.headers = headers;
    (void) ht_response__serve_file(res, req, root, &o, a);
}
/* The same without header options. */
__attribute__((unused)) static inline void ht_rt__serve_mount(const ht_fs_root_t* root, const char* prefix,
                                                             const ht_request_t* req, ht_response_t* res,
                                                             ht_alloc_t* a) {
    ht_rt__serve_mount_with(root, prefix, nullptr, req, res, a);
}

/* A block of routes' handlers, in PREFIX_dispatch.c: a switch on the route
   that calls its handler with the context and params struct as their real
   types (64 routes a block: no function grows with the route count). */
typedef void (*ht_rt_calls_fn)(unsigned route, void* ctx, const ht_request_t* req, ht_response_t* res,
                               ht_alloc_t* a, const void* params);

/* Calls route's handler through its block, with the route's deadline first
   when it has `timeout` or `upstream` (ms 0: the server's defer_timeout_ms;
   504 with upstream). */
__attribute__((unused)) static inline void ht_rt__call(ht_rt_calls_fn block, unsigned route, uint32_t timeout_ms,
                                                      bool upstream, void* ctx, const ht_request_t* req,
                                                      ht_response_t* res, ht_alloc_t* a, const void* params) {
    if (timeout_ms || upstream) (void) ht_response__timeout(res, timeout_ms, upstream ? 504 : 0);
    block(route, ctx, req, res, a, params);
}

HT_EXTERN_C_END

#endif /* HT_ROUTE_DISPATCH_H */
