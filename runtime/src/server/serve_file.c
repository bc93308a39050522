/* server/serve_file.c — ht_response__serve_file: a request, through
 * ht_fs__plan (or the per-loop cache), turned into a response. Every
 * decision is the files module's; this file only maps the plan onto the
 * builder calls and picks how the body travels. */
#include <string.h>

#include "base/sys.h"
#include "files/files.h"
#include "server/conn.h"
#include "server/file_headers.h"

/* Bodies up to this size are copied into the response (the send buffer's
 * default size): one write with the head, coalesced with pipelined ones.
 * A separate sendfile for a small body costs a syscall and, before
 * TCP_NODELAY, stalled ~40 ms on Nagle + delayed ACK. */
#define SMALL_BODY 16384

/* The clock the cache's ttl is measured with: the loop's (cached once per
 * iteration) when the request came from a connection. */
static int64_t now_ms(const ht_request_t* req) {
    if (req->conn_) return (int64_t) ht_loop__now_ms_(req->conn_->acc->loop_);
    return (int64_t) ht_sys__mono_ms();
}

/* The body of a file plan. Zero-copy: ht_response__file sends the range
 * with sendfile after the head and closes the fd it is given once sent, on
 * failure, or at once for HEAD. A cached fd is the cache's, which may close
 * it (eviction, revalidation) while a send is still in flight, so the
 * response gets its own dup of it — except for HEAD, which sends no body
 * and needs no descriptor of its own. Small bodies are copied instead (from
 * the cache's memory, or read). Inlined, as respond() is. */
HT_INLINE ht_result_t file_body(ht_response_t* res, const ht_request_t* req, ht_fs_plan_t* p,
                                ht_alloc_t* a) {
    bool head = ht_request__method(req) == HT_METHOD_HEAD;
    if (head) {
        if (p->fd_borrowed) return ht_response__file(res, p->fd, p->offset, p->length, false);
        return ht_response__file(res, ht_fs__plan_take_fd(p), p->offset, p->length, true);
    }
    if (p->length <= SMALL_BODY) {
        if (p->data) return ht_response__body(res, p->data + p->offset, (size_t) p->length, a);
        char buf[SMALL_BODY];
        /* Short (the file shrank under us): let the file path drop the connection. */
        ht_io_t got = ht_fs_pread_(p->fd, buf, (size_t) p->length, p->offset);
        if (got == (ht_io_t) p->length) return ht_response__body(res, buf, (size_t) got, a);
    }
    ht_file_t f;
    if (p->fd_borrowed) {
        ht_result_t r = ht_fs_dup_(p->fd, &f);
        if (r != 0) return r;
    } else {
        f = ht_fs__plan_take_fd(p);
    }
    return ht_response__file(res, f, p->offset, p->length, true);
}

/* Location for a redirect under a mount: prefix + the plan's value (which
 * starts with '/'). */
static ht_result_t location_header(ht_response_t* res, ht_slice_t mount, ht_slice_t v, ht_alloc_t* a) {
    if (mount.len == 0) return ht_response__header(res, HT_SLICE("Location"), v);
    ht_bytes_t loc;
    ht_bytes__init(&loc, a);
    ht_result_t r = ht_bytes__push_slice(&loc, mount);
    if (r == 0) r = ht_bytes__push_slice(&loc, v);
    if (r == 0) r = ht_response__header(res, HT_SLICE("Location"), ht_bytes__slice(&loc));
    ht_bytes__free(&loc);
    return r;
}

/* The body of p's response, its head written (respond, respond_fh): the
 * file, a listing, an error page or nothing. Inlined in both. */
HT_INLINE ht_result_t respond_body(ht_response_t* res, const ht_request_t* req, const ht_fs_root_t* root,
                                   ht_fs_plan_t* p, ht_slice_t mount, ht_alloc_t* a) {
    switch (p->body) {
    case HT_FS_BODY_FILE:
        return file_body(res, req, p, a);
    case HT_FS_BODY_LISTING: {
        ht_bytes_t html;
        ht_bytes__init(&html, a);
        ht_result_t r = ht_fs__listing(root, p->fd, p->path, mount, &html, a);
        if (r == 0) r = ht_response__body(res, html.data, html.len, a);
        ht_bytes__free(&html);
        return r;
    }
    default:
        if (p->status >= 300 && p->status != 304) return ht_response__error(res, p->status, a);
        return ht_response__body(res, nullptr, 0, a);
    }
}

/* The plan onto the response; vary_accept: the answer depends on Accept
 * (the SPA fallback). Inlined: it is the hot path of a small file, and a
 * call of its own cost ~18 instructions a request (callgrind). */
HT_INLINE ht_result_t respond(ht_response_t* res, const ht_request_t* req, const ht_fs_root_t* root,
                              ht_fs_plan_t* p, ht_slice_t mount, bool vary_accept, ht_alloc_t* a) {
    ht_result_t r;
    if (p->fields_.len) { /* a cached file's fields, serialized once (files/plan.c) */
        r = ht_response__status_fields_own_(res, p->status, p->fields_);
    } else {
        r = ht_response__status(res, p->status);
        for (unsigned i = 0; r == 0 && i < p->n_headers; i++) {
            if (p->headers[i].id == HT_HEADER_LOCATION) r = location_header(res, mount, p->headers[i].value, a);
            else r = ht_response__header_own_(res, p->headers[i].name, p->headers[i].value); /* the plan's own */
        }
    }
    if (r == 0 && vary_accept) r = ht_response__header_own_(res, HT_SLICE("Vary"), HT_SLICE("Accept"));
    if (r != 0) return r;
    return respond_body(res, req, root, p, mount, a);
}

/* respond() under a header set: the rules may replace the plan's fields,
 * Vary takes Origin, and the rules' and CORS fields follow. A separate copy
 * so that a root without a set does not test for one per field. */
static ht_result_t respond_fh(ht_response_t* res, const ht_request_t* req, const ht_fs_root_t* root,
                              ht_fs_plan_t* p, ht_slice_t mount, bool vary_accept, ht_alloc_t* a, ht_fh_t* fh) {
    ht_result_t r = ht_fh__status(fh, res, p->status, p->path);
    for (unsigned i = 0; r == 0 && i < p->n_headers; i++) {
        if (p->headers[i].id == HT_HEADER_LOCATION) r = location_header(res, mount, p->headers[i].value, a);
        else r = ht_fh__field(fh, res, p->headers[i].name, p->headers[i].value);
    }
    if (r == 0 && vary_accept) r = ht_fh__field(fh, res, HT_SLICE("Vary"), HT_SLICE("Accept"));
    if (r == 0) r = ht_fh__finish(fh, res);
    if (r != 0) return r;
    return respond_body(res, req, root, p, mount, a);
}

/* Whether an Accept value allows text/html (RFC 9110 §12.5.1): the q of the
 * most specific range that matches it (text/html, then "text/" + "*", then
 * the wildcard range) is above 0. An absent header accepts anything. */
static bool accepts_html(ht_slice_t accept) {
    if (!accept.ptr) return true;
    int32_t q_by[3] = { -1, -1, -1 }; /* by specificity, as above; -1: not listed */
    ht_slice_t s = accept, item;
    while (s.len) {
        ht_slice__split(&s, ',', &item);
        ht_slice_t range, params = item;
        ht_slice__split(&params, ';', &range);
        range = ht_slice__trim_ows(range);
        int k = ht_slice__eq_nocase(range, HT_SLICE("text/html")) ? 0
                : ht_slice__eq_nocase(range, HT_SLICE("text/*")) ? 1
                : ht_slice__eq(range, HT_SLICE("*/*"))           ? 2
                                                                   : -1;
        if (k < 0) continue;
        int32_t q = 1000;
        ht_slice_t pm;
        while (params.len) {
            ht_slice__split(&params, ';', &pm);
            pm = ht_slice__trim_ows(pm);
            if (pm.len >= 2 && (pm.ptr[0] == 'q' || pm.ptr[0] == 'Q') && pm.ptr[1] == '=') {
                /* "0", "0.0", "0.000": refused; any other digit: some weight. */
                q = 0;
                for (size_t i = 2; i < pm.len; i++)
                    if (pm.ptr[i] >= '1' && pm.ptr[i] <= '9') q = 1;
            }
        }
        if (q_by[k] < 0) q_by[k] = q;
    }
    for (int k = 0; k < 3; k++)
        if (q_by[k] >= 0) return q_by[k] > 0;
    return false;
}

/* The bare mount prefix ("/static" without its '/'): 301 to prefix + "/"
 * (+ query), as ht_fs__plan answers a directory named without its slash.
 * Methods other than GET/HEAD still get their 405 from the plan. */
static ht_result_t mount_redirect(ht_response_t* res, const ht_request_t* req, ht_slice_t mount,
                                  ht_alloc_t* a) {
    ht_bytes_t loc;
    ht_bytes__init(&loc, a);
    ht_slice_t q = ht_request__query(req);
    ht_result_t r = ht_bytes__push_slice(&loc, mount);
    if (r == 0) r = ht_bytes__push(&loc, "/", 1);
    if (r == 0 && q.len) r = ht_bytes__push(&loc, "?", 1);
    if (r == 0 && q.len) r = ht_bytes__push_slice(&loc, q);
    if (r == 0) r = ht_response__status(res, 301);
    if (r == 0) r = ht_response__header(res, HT_SLICE("Location"), ht_bytes__slice(&loc));
    if (r == 0) r = ht_response__error(res, 301, a);
    ht_bytes__free(&loc);
    return r;
}

/* The request fields the plan reads, in one pass over the request's
 * fields (seven ht_request__header calls cost ~110 instructions a request
 * with a single Host field: callgrind, BENCHMARKS.md). Backwards, so that
 * the first field of a name is the one kept, as ht_request__header's. */
HT_INLINE void fs_request_fields(const ht_request_t* req, ht_fs_request_t* q) {
    for (uint16_t i = req->num_headers_; i-- > 0;) {
        const ht_header_t* h = &req->headers_[i];
        switch (h->id) {
        case HT_HEADER_IF_MATCH:            q->if_match = h->value; break;
        case HT_HEADER_IF_NONE_MATCH:       q->if_none_match = h->value; break;
        case HT_HEADER_IF_MODIFIED_SINCE:   q->if_modified_since = h->value; break;
        case HT_HEADER_IF_UNMODIFIED_SINCE: q->if_unmodified_since = h->value; break;
        case HT_HEADER_IF_RANGE:            q->if_range = h->value; break;
        case HT_HEADER_RANGE:               q->range = h->value; break;
        case HT_HEADER_ACCEPT_ENCODING:     q->accept_encoding = h->value; break;
        default:                            break;
        }
    }
}

/* The whole call, for a header set hs or none. Always inlined, so that the
 * call without a set (hs a constant nullptr) compiles to what it was before
 * sets existed, and the one with a set is a function of its own: an empty
 * set costs the public function one test (callgrind: ht's small file). */
HT_INLINE ht_result_t serve(ht_response_t* res, const ht_request_t* req, const ht_fs_root_t* root,
                            const ht_serve_file_options_t* opt, ht_alloc_t* a, const ht_headers_t* hs) {
    ht_slice_t path = ht_request__path(req);
    ht_slice_t mount = opt ? opt->mount : HT_SLICE_NULL;
    if (mount.len && mount.ptr[mount.len - 1] == '/') mount.len--; /* "/static/", "/" */
    ht_method_t m = ht_request__method(req);
    if (mount.len) {
        if (path.len < mount.len || memcmp(path.ptr, mount.ptr, mount.len) != 0 ||
            (path.len > mount.len && path.ptr[mount.len] != '/'))
            return ht_response__error(res, 404, a);
        path = ht_slice__sub(path, mount.len, path.len);
        if (path.len == 0) {
            if (m == HT_METHOD_GET || m == HT_METHOD_HEAD) return mount_redirect(res, req, mount, a);
            path = HT_SLICE("/"); /* for the plan's 405 */
        }
    }
    ht_fs_request_t q = { .method = m, .path = path, .query = ht_request__query(req) };
    fs_request_fields(req, &q);
    ht_fh_t fh = { 0 };
    if (hs != nullptr) {
        ht_fh__init(&fh, hs, req);
        ht_result_t r;
        if (ht_fh__preflight(&fh, req, res, a, &r)) return r;
    }
    /* ~8.5 KiB, mostly untouched (path and header text storage): on the
     * stack, so the call is reentrant and holds nothing between requests. */
    ht_fs_plan_t plan;
    if (opt && opt->cache) ht_fs__plan_cached(opt->cache, root, &q, now_ms(req), &plan);
    else ht_fs__plan(root, &q, &plan);
    /* SPA fallback: an extension-less path the root has no file for, asked
     * for as a page, gets the app's file (which plans like any file). */
    bool vary_accept = false;
    if (opt && opt->spa.len && plan.status == 404 && (m == HT_METHOD_GET || m == HT_METHOD_HEAD) &&
        ht_fs__extension(path).len == 0) {
        vary_accept = true;
        if (accepts_html(ht_request__header(req, HT_HEADER_ACCEPT))) {
            ht_fs__plan_release(&plan);
            q.path = opt->spa;
            q.query = HT_SLICE_NULL;
            if (opt->cache) ht_fs__plan_cached(opt->cache, root, &q, now_ms(req), &plan);
            else ht_fs__plan(root, &q, &plan);
        }
    }
    ht_result_t r = hs != nullptr ? respond_fh(res, req, root, &plan, mount, vary_accept, a, &fh)
                                  : respond(res, req, root, &plan, mount, vary_accept, a);
    ht_fs__plan_release(&plan);
    return r;
}

__attribute__((noinline)) static ht_result_t serve_with_headers(ht_response_t* res, const ht_request_t* req,
                                                                const ht_fs_root_t* root,
                                                                const ht_serve_file_options_t* opt, ht_alloc_t* a) {
    return serve(res, req, root, opt, a, opt->headers);
}

ht_result_t ht_response__serve_file(ht_response_t* res, const ht_request_t* req,
                                    const ht_fs_root_t* root, const ht_serve_file_options_t* opt,
                                    ht_alloc_t* a) {
    if (HT_UNLIKELY(opt && opt->headers)) return serve_with_headers(res, req, root, opt, a);
    return serve(res, req, root, opt, a, nullptr);
}
