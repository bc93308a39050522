/* server/serve_asset.c — ht_response__asset: a request answered from an
 * asset set in memory (the route compiler's `embed`). The HTTP decisions are
 * the files module's pure functions (preconditions, Range, If-Range,
 * Accept-Encoding, Location encoding) and the path rules are ht_fs__resolve's,
 * so an embedded tree answers like the same tree mounted from disk; only
 * what a file system adds (listings, Last-Modified, symlinks) is absent. */
#include <ht/fs.h>
#include <ht/response.h>
#include <ht/uri.h>

#include <stdio.h>
#include <string.h>

#include "server/conn.h" /* ht_response__header_own_: for the fields built here */
#include "server/file_headers.h"

/* With a header set (fh), the builder calls go through it: rules replace
 * fields, CORS is added, Vary merged. Without one, the plain calls. */
static ht_result_t status_(ht_response_t* res, ht_fh_t* fh, uint16_t status, ht_slice_t path) {
    return fh ? ht_fh__status(fh, res, status, path) : ht_response__status(res, status);
}
static ht_result_t field_(ht_response_t* res, ht_fh_t* fh, ht_slice_t name, ht_slice_t value) {
    return fh ? ht_fh__field(fh, res, name, value) : ht_response__header_own_(res, name, value);
}
/* Type and tag come from a table a program may have written: checked. */
static ht_result_t checked_(ht_response_t* res, ht_fh_t* fh, ht_slice_t name, ht_slice_t value) {
    if (!fh) return ht_response__header(res, name, value);
    return ht_response__valid_header_value(value) ? ht_fh__field(fh, res, name, value) : HT_E_BAD_HEADER_VALUE;
}
static ht_result_t finish_(ht_response_t* res, ht_fh_t* fh) { return fh ? ht_fh__finish(fh, res) : 0; }
static ht_result_t fail_(ht_response_t* res, ht_fh_t* fh, uint16_t status, ht_alloc_t* a) {
    return fh ? ht_fh__error(fh, res, status, a) : ht_response__error(res, status, a);
}

static int cmp_path(const char* p, ht_slice_t s) {
    size_t n = strlen(p);
    int c = memcmp(p, s.ptr, n < s.len ? n : s.len);
    if (c) return c;
    return n < s.len ? -1 : n > s.len;
}

/* Index of the first asset whose path is >= s. */
static uint32_t lower_bound(const ht_asset_set_t* set, ht_slice_t s) {
    uint32_t lo = 0, hi = set->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cmp_path(set->assets[mid].path, s) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

const ht_asset_t* ht_asset__find(const ht_asset_set_t* set, ht_slice_t path) {
    uint32_t i = lower_bound(set, path);
    return i < set->count && cmp_path(set->assets[i].path, path) == 0 ? &set->assets[i] : nullptr;
}

/* Whether dir (ending with '/') is a directory of the set: "/" always is,
 * else some path starts with it (the first path >= dir would). */
static bool is_dir(const ht_asset_set_t* set, ht_slice_t dir) {
    if (dir.len == 1) return true;
    uint32_t i = lower_bound(set, dir);
    return i < set->count && strncmp(set->assets[i].path, dir.ptr, dir.len) == 0;
}

/* The request path made what ht_fs__resolve would look up: decoded (no %2F,
 * no %00), no '\', dot segments removed strictly, empty segments dropped.
 * Returns the status to answer when it is refused, else 0. */
static uint16_t normalise(ht_slice_t raw, char* buf, ht_slice_t* out) {
    if (raw.len == 0 || raw.ptr[0] != '/') return 400;
    if (raw.len >= HT_FS_PATH_MAX) return 414;
    ht_io_t n = ht_uri__decode(raw, buf, HT_FS_PATH_MAX, HT_URI_DECODE_NO_SLASH);
    if (n < 0 || memchr(buf, '\\', (size_t) n)) return 400;
    n = ht_uri__remove_dot_segments(buf, (size_t) n, HT_URI_DOTS_STRICT);
    if (n < 0) return 400;
    size_t w = 0;
    for (size_t r = 0; r < (size_t) n; r++)
        if (!(buf[r] == '/' && w > 0 && buf[w - 1] == '/')) buf[w++] = buf[r];
    if (w == 0) buf[w++] = '/';
    *out = ht_slice__from(buf, w);
    return 0;
}

/* Dotfiles are never embedded (htgen leaves them out, as a mount hides
 * them): a request naming one is a plain 404, like any missing name. */
static bool names_dotfile(ht_slice_t p) {
    for (size_t i = 0; i + 1 < p.len; i++)
        if (p.ptr[i] == '/' && p.ptr[i + 1] == '.') {
            size_t e = i + 1;
            while (e < p.len && p.ptr[e] != '/') e++;
            size_t len = e - i - 1;
            if (!(len == 11 && memcmp(p.ptr + i + 1, ".well-known", 11) == 0)) return true;
        }
    return false;
}

/* 301 to mount + path (encoded) + "/" + query. */
static ht_result_t redirect(ht_response_t* res, ht_fh_t* fh, ht_slice_t mount, ht_slice_t path, ht_slice_t query,
                            ht_alloc_t* a) {
    ht_bytes_t loc;
    ht_bytes__init(&loc, a);
    ht_result_t r = ht_bytes__push_slice(&loc, mount);
    if (r == 0) r = ht_fs__push_location(&loc, path, HT_SLICE_NULL);
    if (r == 0) r = ht_bytes__push(&loc, "/", 1);
    if (r == 0 && query.len) r = ht_bytes__push(&loc, "?", 1);
    if (r == 0 && query.len) r = ht_bytes__push_slice(&loc, query);
    if (r == 0) r = status_(res, fh, 301, path);
    if (r == 0) r = ht_response__header(res, HT_SLICE("Location"), ht_bytes__slice(&loc));
    if (r == 0) r = finish_(res, fh);
    if (r == 0) r = ht_response__error(res, 301, a);
    ht_bytes__free(&loc);
    return r;
}

static ht_result_t send_asset(ht_response_t* res, const ht_request_t* req, const ht_asset_t* as,
                              ht_fh_t* fh, ht_alloc_t* a) {
    ht_method_t m = ht_request__method(req);
    ht_slice_t range = ht_request__header(req, HT_HEADER_RANGE);
    bool ranged = m == HT_METHOD_GET && range.ptr;
    uint32_t available = 0;
    for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) available |= (as->coded[e].etag != nullptr) << e;
    bool vary = available != 0;
    ht_fs_accept_t acc;
    ht_fs__accept_parse(ht_request__header(req, HT_HEADER_ACCEPT_ENCODING), &acc);
    /* A Range applies to the raw bytes: only identity is offered then. */
    ht_fs_encoding_t enc = ht_fs__choose_encoding(&acc, ranged ? 0 : available);
    if (enc == HT_FS_ENC_NONE) {
        ht_result_t r = ht_response__status(res, 406);
        if (r == 0 && vary) r = ht_response__header_own_(res, HT_SLICE("Vary"), HT_SLICE("Accept-Encoding"));
        if (r == 0) r = ht_response__error(res, 406, a);
        return r;
    }
    bool coded = enc != HT_FS_ENC_IDENTITY;
    ht_slice_t etag = ht_slice__from_cstr(coded ? as->coded[enc].etag : as->etag);
    const uint8_t* data = coded ? as->coded[enc].data : as->data;
    uint64_t size = coded ? as->coded[enc].size : as->size;
    ht_slice_t path = ht_slice__from_cstr(as->path);

    /* No modification date: only the entity-tag preconditions apply. */
    ht_fs_request_t q = {
        .method = m,
        .if_match = ht_request__header(req, HT_HEADER_IF_MATCH),
        .if_none_match = ht_request__header(req, HT_HEADER_IF_NONE_MATCH),
    };
    uint16_t pre = ht_fs__preconditions(&q, etag, 0);
    ht_result_t r;
    if (pre == 412) return fail_(res, fh, 412, a);
    if (pre == 304) {
        r = status_(res, fh, 304, path);
        if (r == 0) r = checked_(res, fh, HT_SLICE("ETag"), etag);
        if (r == 0 && vary) r = field_(res, fh, HT_SLICE("Vary"), HT_SLICE("Accept-Encoding"));
        if (r == 0) r = finish_(res, fh);
        if (r == 0) r = ht_response__body(res, nullptr, 0, a);
        return r;
    }

    uint64_t off = 0, len = size;
    ht_fs_range_kind_t rk = HT_FS_RANGE_NONE;
    if (ranged && ht_fs__if_range(ht_request__header(req, HT_HEADER_IF_RANGE), etag, INT64_MIN))
        rk = ht_fs__range(range, size, &off, &len);
    char cr[80];
    if (rk == HT_FS_RANGE_UNSATISFIABLE) {
        int n = snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long) size);
        r = status_(res, fh, 416, path);
        if (r == 0) r = field_(res, fh, HT_SLICE("Content-Range"), ht_slice__from(cr, (size_t) n));
        if (r == 0 && vary) r = field_(res, fh, HT_SLICE("Vary"), HT_SLICE("Accept-Encoding"));
        if (r == 0) r = finish_(res, fh);
        if (r == 0) r = ht_response__error(res, 416, a);
        return r;
    }
    r = status_(res, fh, rk == HT_FS_RANGE_ONE ? 206 : 200, path);
    if (r == 0) r = checked_(res, fh, HT_SLICE("Content-Type"), ht_slice__from_cstr(as->type));
    if (r == 0) r = checked_(res, fh, HT_SLICE("ETag"), etag);
    if (r == 0) r = field_(res, fh, HT_SLICE("Accept-Ranges"), HT_SLICE("bytes"));
    if (r == 0 && rk == HT_FS_RANGE_ONE) {
        int n = snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long) off,
                         (unsigned long long) (off + len - 1), (unsigned long long) size);
        r = field_(res, fh, HT_SLICE("Content-Range"), ht_slice__from(cr, (size_t) n));
    }
    if (r == 0 && coded) r = field_(res, fh, HT_SLICE("Content-Encoding"), ht_fs__encoding_token(enc));
    if (r == 0 && vary) r = field_(res, fh, HT_SLICE("Vary"), HT_SLICE("Accept-Encoding"));
    if (r == 0) r = finish_(res, fh);
    if (r == 0) r = ht_response__body_ref(res, len ? data + off : nullptr, (size_t) len);
    return r;
}

ht_result_t ht_response__asset(ht_response_t* res, const ht_request_t* req,
                               const ht_asset_set_t* set, ht_slice_t mount, ht_alloc_t* a) {
    ht_slice_t path = ht_request__path(req);
    if (mount.len && mount.ptr[mount.len - 1] == '/') mount.len--; /* "/ui/", "/" */
    ht_method_t m = ht_request__method(req);
    bool get = m == HT_METHOD_GET || m == HT_METHOD_HEAD;
    if (mount.len) {
        if (path.len < mount.len || memcmp(path.ptr, mount.ptr, mount.len) != 0 ||
            (path.len > mount.len && path.ptr[mount.len] != '/'))
            return ht_response__error(res, 404, a);
        path = ht_slice__sub(path, mount.len, path.len - mount.len);
    }
    ht_fh_t fh_, *fh = nullptr;
    if (set->headers) {
        fh = &fh_;
        ht_fh__init(fh, set->headers, req);
        ht_result_t r;
        if (ht_fh__preflight(fh, req, res, a, &r)) return r;
    }
    if (mount.len && path.len == 0 && get) return redirect(res, fh, mount, HT_SLICE(""), ht_request__query(req), a);
    if (!get) {
        ht_result_t r = status_(res, fh, 405, HT_SLICE_NULL);
        if (r == 0) r = field_(res, fh, HT_SLICE("Allow"), HT_SLICE("GET, HEAD"));
        if (r == 0) r = finish_(res, fh);
        if (r == 0) r = ht_response__error(res, 405, a);
        return r;
    }
    char buf[HT_FS_PATH_MAX];
    ht_slice_t p;
    uint16_t bad = normalise(path, buf, &p);
    if (bad) return fail_(res, fh, bad, a);
    if (names_dotfile(p)) return fail_(res, fh, 404, a);

    if (p.ptr[p.len - 1] == '/') { /* a directory: its index, no listing */
        size_t il = set->index ? strlen(set->index) : 0;
        if (il == 0 || p.len + il >= sizeof buf || !is_dir(set, p)) return fail_(res, fh, 404, a);
        memcpy(buf + p.len, set->index, il);
        const ht_asset_t* as = ht_asset__find(set, ht_slice__from(buf, p.len + il));
        return as ? send_asset(res, req, as, fh, a) : fail_(res, fh, 404, a);
    }
    const ht_asset_t* as = ht_asset__find(set, p);
    if (as) return send_asset(res, req, as, fh, a);
    if (p.len + 1 < sizeof buf) {
        buf[p.len] = '/';
        if (is_dir(set, ht_slice__from(buf, p.len + 1)))
            return redirect(res, fh, mount, p, ht_request__query(req), a);
    }
    return fail_(res, fh, 404, a);
}
