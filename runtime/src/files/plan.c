/* files/plan.c — ht_fs__plan: the whole static-file decision for one request
 * (method, resolution, index, listing, sidecar, preconditions, Range). */
#include "files.h"

#include <stdio.h>
#include <string.h>

/* Copies v into the plan's text storage and adds the header. The storage is
 * sized for the worst case (a Location of 3 bytes per path byte plus a few
 * short values), so a failure here is a bug: it is asserted. */
static void add(ht_fs_plan_t* p, ht_header_id_t id, const char* name, ht_slice_t v) {
    assert(p->n_headers < HT_FS_PLAN_HEADERS && p->text_len + v.len <= sizeof p->text);
    char* dst = p->text + p->text_len;
    memcpy(dst, v.ptr, v.len);
    p->text_len += (uint32_t) v.len;
    p->headers[p->n_headers++] = (ht_header_t){
        .name = ht_slice__from_cstr(name), .value = ht_slice__from(dst, v.len), .id = id };
}

static void add_static(ht_fs_plan_t* p, ht_header_id_t id, const char* name, ht_slice_t v) {
    assert(p->n_headers < HT_FS_PLAN_HEADERS);
    p->headers[p->n_headers++] = (ht_header_t){ .name = ht_slice__from_cstr(name), .value = v, .id = id };
}

static void fail(ht_fs_plan_t* p, uint16_t status) {
    ht_fs__close(p->fd);
    p->fd = HT_FILE_INVALID;
    p->status = status;
    p->body = HT_FS_BODY_NONE;
    p->n_headers = 0;
    p->text_len = 0;
}

static uint16_t status_of(const ht_fs_entry_t* e, ht_fs_status_t s) {
    switch (s) {
    case HT_FS_NOT_FOUND: return 404;
    case HT_FS_FORBIDDEN: return 403;
    case HT_FS_BAD_PATH:  return 400;
    case HT_FS_TOO_LONG:  return 414;
    case HT_FS_ERROR:     return (e->err == -EMFILE || e->err == -ENFILE) ? 503 : 500;
    default:              return 500;
    }
}

/* Appends s to the decoded path held in p->path_buf; false if too long. */
static bool path_append(ht_fs_plan_t* p, const char* s, size_t n) {
    if (p->path.len + n >= sizeof p->path_buf) return false;
    memcpy(p->path_buf + p->path.len, s, n);
    p->path.len += n;
    return true;
}

void ht_fs__plan(const ht_fs_root_t* root, const ht_fs_request_t* req, ht_fs_plan_t* p) {
    p->status = 0;
    p->body = HT_FS_BODY_NONE;
    p->n_headers = 0;
    p->fd = HT_FILE_INVALID;
    p->offset = p->length = 0;
    p->st = (ht_fs_stat_t){ 0 };
    p->path = HT_SLICE_NULL;
    p->resolved = 0;
    p->gzip = false;
    p->text_len = 0;

    if (req->method != HT_METHOD_GET && req->method != HT_METHOD_HEAD) {
        p->status = 405;
        add_static(p, HT_HEADER_ALLOW, "Allow", HT_SLICE("GET, HEAD"));
        return;
    }

    ht_fs_entry_t e;
    ht_fs_status_t s = ht_fs__resolve(root, req->path, p->path_buf, &e);
    p->resolved = s;
    p->path = e.path;
    if (s == HT_FS_REDIRECT) {
        /* Location: the encoded, normalised path + "/" (+ query), written
         * through an ht_bytes_t over the plan's own storage. */
        char* dst = p->text + p->text_len;
        size_t cap = sizeof p->text - p->text_len;
        ht_bytes_t loc = { .data = dst, .len = 0, .cap = cap, .alloc = nullptr };
        /* loc never grows: 3 * path + 1 + query fits since the raw path and
         * query together are shorter than HT_FS_PATH_MAX... unless the query
         * is long; then it is dropped rather than overflow. */
        bool with_query = 3 * e.path.len + 2 + req->query.len <= cap;
        if (3 * e.path.len + 2 > cap) { fail(p, 414); return; }
        ht_fs__push_location(&loc, e.path, HT_SLICE_NULL);
        loc.data[loc.len++] = '/';
        if (with_query && req->query.len) {
            loc.data[loc.len++] = '?';
            memcpy(loc.data + loc.len, req->query.ptr, req->query.len);
            loc.len += req->query.len;
        }
        p->text_len += (uint32_t) loc.len;
        p->status = 301;
        p->headers[p->n_headers++] = (ht_header_t){
            .name = HT_SLICE("Location"), .value = ht_slice__from(dst, loc.len), .id = HT_HEADER_LOCATION };
        return;
    }
    if (s != HT_FS_FILE && s != HT_FS_DIR) {
        fail(p, status_of(&e, s));
        return;
    }
    p->fd = e.fd;
    p->st = e.st;

    if (s == HT_FS_DIR) {
        bool served_index = false;
        if (!(root->flags & HT_FS_NO_INDEX)) {
            size_t dir_len = p->path.len;
            if (path_append(p, root->index, root->index_len)) {
                ht_fs_entry_t ie;
                ht_fs_status_t is = ht_fs__open(root, p->path, &ie);
                if (is == HT_FS_FILE) {
                    ht_fs__close(p->fd);
                    p->fd = ie.fd;
                    p->st = ie.st;
                    served_index = true;
                } else if (is == HT_FS_DIR) {
                    ht_fs__close(ie.fd);
                } else if (is == HT_FS_ERROR) {
                    fail(p, status_of(&ie, is));
                    return;
                }
            }
            if (!served_index) p->path.len = dir_len;
        }
        if (!served_index) {
            if (root->flags & HT_FS_NO_LIST) {
                fail(p, 404);
                return;
            }
            p->status = 200;
            p->body = HT_FS_BODY_LISTING;
            add_static(p, HT_HEADER_CONTENT_TYPE, "Content-Type", HT_SLICE("text/html; charset=utf-8"));
            /* A listing changes with its directory; no validators, no cache. */
            add_static(p, HT_HEADER_CACHE_CONTROL, "Cache-Control", HT_SLICE("no-cache"));
            return;
        }
    }

    /* A file (maybe the index). Its type comes from the original name. */
    ht_slice_t type = ht_fs__mime_lookup(root->mime, p->path);
    bool vary = false;
    if (!(root->flags & HT_FS_NO_GZIP)) {
        size_t len = p->path.len;
        if (path_append(p, ".gz", 3)) {
            ht_fs_entry_t ge;
            ht_fs_status_t gs = ht_fs__open(root, p->path, &ge);
            p->path.len = len;
            if (gs == HT_FS_FILE) {
                /* Stale sidecars (older than the original) are not served, and
                 * do not make the response vary. */
                bool fresh = ge.st.mtime_sec > p->st.mtime_sec ||
                             (ge.st.mtime_sec == p->st.mtime_sec && ge.st.mtime_nsec >= p->st.mtime_nsec);
                if (fresh) {
                    vary = true;
                    if (ht_fs__accepts_gzip(req->accept_encoding)) {
                        ht_fs__close(p->fd);
                        p->fd = ge.fd;
                        p->st = ge.st;
                        p->gzip = true;
                        ge.fd = HT_FILE_INVALID;
                    }
                }
                ht_fs__close(ge.fd);
            } else if (gs == HT_FS_DIR) {
                ht_fs__close(ge.fd);
            }
        }
    }

    char etag[HT_FS_ETAG_MAX + 1];
    ht_slice_t tag = ht_slice__from(etag, ht_fs__etag(etag, &p->st));
    char date[HT_FS_DATE_LEN + 1];
    ht_slice_t lm = ht_slice__from(date, ht_fs__date_format(date, p->st.mtime_sec));

    uint16_t pre = ht_fs__preconditions(req, tag, p->st.mtime_sec);
    if (pre == 412) {
        fail(p, 412);
        return;
    }
    if (pre == 304) {
        ht_fs__close(p->fd);
        p->fd = HT_FILE_INVALID;
        p->status = 304;
        add(p, HT_HEADER_ETAG, "ETag", tag);
        add(p, HT_HEADER_LAST_MODIFIED, "Last-Modified", lm);
        if (vary) add_static(p, HT_HEADER_VARY, "Vary", HT_SLICE("Accept-Encoding"));
        return;
    }

    uint64_t off = 0, len = p->st.size;
    ht_fs_range_kind_t rk = HT_FS_RANGE_NONE;
    /* Range is defined for GET only (RFC 9110 §14.2): HEAD ignores it. */
    if (req->method == HT_METHOD_GET && req->range.ptr && ht_fs__if_range(req->if_range, tag, p->st.mtime_sec))
        rk = ht_fs__range(req->range, p->st.size, &off, &len);
    if (rk == HT_FS_RANGE_UNSATISFIABLE) {
        fail(p, 416);
        char cr[48];
        int n = snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long) p->st.size);
        add(p, HT_HEADER_CONTENT_RANGE, "Content-Range", ht_slice__from(cr, (size_t) n));
        return;
    }
    p->status = rk == HT_FS_RANGE_ONE ? 206 : 200;
    p->body = HT_FS_BODY_FILE;
    p->offset = off;
    p->length = len;
    add_static(p, HT_HEADER_CONTENT_TYPE, "Content-Type", type);
    add(p, HT_HEADER_ETAG, "ETag", tag);
    add(p, HT_HEADER_LAST_MODIFIED, "Last-Modified", lm);
    add_static(p, HT_HEADER_ACCEPT_RANGES, "Accept-Ranges", HT_SLICE("bytes"));
    if (rk == HT_FS_RANGE_ONE) {
        char cr[80];
        int n = snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long) off,
                         (unsigned long long) (off + len - 1), (unsigned long long) p->st.size);
        add(p, HT_HEADER_CONTENT_RANGE, "Content-Range", ht_slice__from(cr, (size_t) n));
    }
    if (p->gzip) add_static(p, HT_HEADER_CONTENT_ENCODING, "Content-Encoding", HT_SLICE("gzip"));
    if (vary) add_static(p, HT_HEADER_VARY, "Vary", HT_SLICE("Accept-Encoding"));
}

void ht_fs__plan_release(ht_fs_plan_t* p) {
    ht_fs__close(p->fd);
    p->fd = HT_FILE_INVALID;
}
