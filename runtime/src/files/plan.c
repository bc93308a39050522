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

/* Lets go of the fd: closes it if the plan owns it. */
static void drop_fd(ht_fs_plan_t* p) {
    if (!p->fd_borrowed) ht_fs__close(p->fd);
    p->fd = HT_FILE_INVALID;
    p->fd_borrowed = false;
    p->data = nullptr;
}

static void fail(ht_fs_plan_t* p, uint16_t status) {
    drop_fd(p);
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

static void plan_init(ht_fs_plan_t* p) {
    p->status = 0;
    p->body = HT_FS_BODY_NONE;
    p->n_headers = 0;
    p->fd = HT_FILE_INVALID;
    p->fd_borrowed = false;
    p->data = nullptr;
    p->offset = p->length = 0;
    p->st = (ht_fs_stat_t){ 0 };
    p->path = HT_SLICE_NULL;
    p->resolved = 0;
    p->encoding = HT_FS_ENC_IDENTITY;
    p->text_len = 0;
    p->fields_ = HT_SLICE_NULL;
}

/* Opens NAME + the suffix of coding e when it is a regular file not older
 * than NAME (p->st): a stale sidecar is neither served nor makes the
 * response vary. */
static bool open_sidecar(const ht_fs_root_t* root, ht_fs_plan_t* p, ht_fs_encoding_t e, ht_fs_entry_t* out) {
    size_t len = p->path.len;
    ht_slice_t suf = ht_fs__encoding_suffix(e);
    if (!path_append(p, suf.ptr, suf.len)) return false;
    ht_fs_status_t s = ht_fs__open(root, p->path, out);
    p->path.len = len;
    if (s != HT_FS_FILE) {
        if (s == HT_FS_DIR) ht_fs__close(out->fd);
        return false;
    }
    if (out->st.mtime_sec > p->st.mtime_sec ||
        (out->st.mtime_sec == p->st.mtime_sec && out->st.mtime_nsec >= p->st.mtime_nsec))
        return true;
    ht_fs__close(out->fd);
    return false;
}

/* Chooses among p's file and its sidecars (HT_FS_ENCODINGS) and, for a
 * coding, swaps the sidecar into p. Sidecars are probed in the client's
 * order (q descending, server preference on ties) and the probing stops at
 * the first one present that the client accepts: it is the best available
 * coding. Otherwise every sidecar is probed, since the existence of any
 * makes the response vary (*vary). Returns the ht_fs__choose_encoding. */
static ht_fs_encoding_t pick_sidecar(const ht_fs_root_t* root, const ht_fs_accept_t* acc, ht_fs_plan_t* p,
                                     bool* vary) {
    ht_fs_encoding_t order[HT_FS_ENC_CODINGS] = { 0 }; /* all set below (cppcheck cannot tell) */
    for (unsigned i = 0; i < HT_FS_ENC_CODINGS; i++) { /* insertion sort, stable */
        unsigned j = i;
        for (; j > 0 && acc->q[order[j - 1]] < acc->q[i]; j--) order[j] = order[j - 1];
        order[j] = (ht_fs_encoding_t) i;
    }
    ht_fs_entry_t best = { .fd = HT_FILE_INVALID };
    uint32_t available = 0;
    for (unsigned i = 0; i < HT_FS_ENC_CODINGS; i++) {
        ht_fs_encoding_t e = order[i];
        if (*vary && (available || acc->q[e] == 0)) break;
        ht_fs_entry_t se;
        if (!open_sidecar(root, p, e, &se)) continue;
        *vary = true;
        if (acc->q[e] > 0 && !available) {
            available = 1u << e;
            best = se;
        } else {
            ht_fs__close(se.fd);
        }
    }
    ht_fs_encoding_t enc = ht_fs__choose_encoding(acc, available);
    if (enc != HT_FS_ENC_IDENTITY && enc != HT_FS_ENC_NONE) {
        ht_fs__close(p->fd);
        p->fd = best.fd;
        p->st = best.st;
        p->encoding = (uint8_t) enc;
    } else if (available) {
        ht_fs__close(best.fd);
    }
    return enc;
}

/* Everything up to the choice of the file to send: method, resolution,
 * index, listing, sidecar. Returns true when the plan holds an open regular
 * file (p->fd, p->st, p->path, p->encoding) still to be finished with
 * finish_file(type, vary); false when the plan is complete already. */
static bool plan_select(const ht_fs_root_t* root, const ht_fs_request_t* req, const ht_fs_accept_t* acc,
                        ht_fs_plan_t* p, ht_slice_t* type_out, bool* vary_out) {
    if (req->method != HT_METHOD_GET && req->method != HT_METHOD_HEAD) {
        p->status = 405;
        add_static(p, HT_HEADER_ALLOW, "Allow", HT_SLICE("GET, HEAD"));
        return false;
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
        if (3 * e.path.len + 2 > cap) { fail(p, 414); return false; }
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
        return false;
    }
    if (s != HT_FS_FILE && s != HT_FS_DIR) {
        fail(p, status_of(&e, s));
        return false;
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
                    return false;
                }
            }
            if (!served_index) p->path.len = dir_len;
        }
        if (!served_index) {
            if (root->flags & HT_FS_NO_LIST) {
                fail(p, 404);
                return false;
            }
            p->status = 200;
            p->body = HT_FS_BODY_LISTING;
            add_static(p, HT_HEADER_CONTENT_TYPE, "Content-Type", HT_SLICE("text/html; charset=utf-8"));
            /* A listing changes with its directory; no validators, no cache. */
            add_static(p, HT_HEADER_CACHE_CONTROL, "Cache-Control", HT_SLICE("no-cache"));
            return false;
        }
    }

    /* A file (maybe the index). Its type comes from the original name. */
    *type_out = ht_fs__mime_lookup(root->mime, p->path);
    *vary_out = false;
    ht_fs_encoding_t enc = HT_FS_ENC_IDENTITY;
    if (!(root->flags & HT_FS_NO_GZIP)) enc = pick_sidecar(root, acc, p, vary_out);
    else if (acc->q[HT_FS_ENC_IDENTITY] == 0) enc = HT_FS_ENC_NONE;
    if (enc == HT_FS_ENC_NONE) {
        fail(p, 406);
        p->encoding = HT_FS_ENC_NONE;
        if (*vary_out) add_static(p, HT_HEADER_VARY, "Vary", HT_SLICE("Accept-Encoding"));
        return false;
    }
    return true;
}

/* The last file's validators, per thread: a hot file is planned again and
 * again with the same stat, and formatting its ETag and Last-Modified was
 * ~500 instructions of a small file's ~4,400 (callgrind, BENCHMARKS.md). */
typedef struct validators {
    uint64_t ino, size;
    int64_t  mtime_sec;
    uint32_t mtime_nsec;
    uint8_t  tag_len, lm_len; /* tag_len 0: nothing yet */
    char     tag[HT_FS_ETAG_MAX + 1];
    char     lm[HT_HTTP_DATE_LEN + 1];
} validators_t;
static _Thread_local validators_t last_validators_;

/* st's ETag and Last-Modified, from the thread's memo (valid until the next
 * call on this thread). */
static const validators_t* validators(const ht_fs_stat_t* st) {
    validators_t* v = &last_validators_;
    if (!v->tag_len || v->ino != st->ino || v->size != st->size || v->mtime_sec != st->mtime_sec ||
        v->mtime_nsec != st->mtime_nsec) {
        v->tag_len = (uint8_t) ht_fs__etag(v->tag, st);
        v->lm_len = (uint8_t) ht_http__format_date(v->lm, st->mtime_sec);
        v->ino = st->ino;
        v->size = st->size;
        v->mtime_sec = st->mtime_sec;
        v->mtime_nsec = st->mtime_nsec;
    }
    return v;
}

/* Validators, preconditions, Range and the headers of a selected file.
 * (add() copies the validators into the plan: the thread's memo may be
 * overwritten by the next plan.) */
static void finish_file(ht_fs_plan_t* p, const ht_fs_request_t* req, ht_slice_t type, bool vary) {
    const validators_t* v = validators(&p->st);
    ht_slice_t tag = ht_slice__from(v->tag, v->tag_len);
    ht_slice_t lm = ht_slice__from(v->lm, v->lm_len);

    uint16_t pre = ht_fs__preconditions(req, tag, p->st.mtime_sec);
    if (pre == 412) {
        fail(p, 412);
        return;
    }
    if (pre == 304) {
        drop_fd(p);
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
    if (p->encoding < HT_FS_ENC_CODINGS)
        add_static(p, HT_HEADER_CONTENT_ENCODING, "Content-Encoding",
                   ht_fs__encoding_token((ht_fs_encoding_t) p->encoding));
    if (vary) add_static(p, HT_HEADER_VARY, "Vary", HT_SLICE("Accept-Encoding"));
}

void ht_fs__plan(const ht_fs_root_t* root, const ht_fs_request_t* req, ht_fs_plan_t* p) {
    plan_init(p);
    ht_slice_t type;
    bool vary;
    ht_fs_accept_t acc;
    ht_fs__accept_parse(req->accept_encoding, &acc);
    if (plan_select(root, req, &acc, p, &type, &vary)) finish_file(p, req, type, vary);
}

void ht_fs__plan_release(ht_fs_plan_t* p) {
    drop_fd(p);
}

/* ---- Per-loop cache ---- */

/* An empty slot is all zero (mem == nullptr): the table comes from calloc
 * and is never written whole, so a page of it costs RSS only once an entry
 * lands there (1,024 entries are 136 kB; a site of a few files touches a
 * few pages). */
struct ht_fs_cache_entry_ {
    uint64_t            hash;
    const ht_fs_root_t* root;
    char*               mem;      /* key, path, then head: one allocation; nullptr: empty slot */
    uint32_t            key_len, path_len;
    char*               data;     /* contents, or nullptr */
    uint64_t            data_len;
    ht_slice_t          type;     /* static, or the root's mime table */
    ht_fs_stat_t        st;
    int64_t             validated_ms;
    ht_file_t           fd;
    uint32_t            used;     /* last use (cache tick), for eviction */
    uint64_t            accept;   /* accept_key_ of the request's Accept-Encoding */
    uint8_t             resolved; /* ht_fs_status_t of the request path */
    uint8_t             encoding; /* ht_fs_encoding_t of fd */
    bool                vary;
    uint8_t             tag_len, lm_len; /* the ETag and Last-Modified values in head */
    uint16_t            head_len; /* 0: no head (finish_file for every request) */
};

/* An entry's head: the fields of its plain answer (200, the whole file: no
 * precondition, no Range) serialized as the plan lists them, "Name:
 * value\r\n" each, so that a server copies one block (ht_fs_plan_t's
 * fields_) instead of writing four to six fields one by one (~490
 * instructions of a small file's ~3,160: callgrind, BENCHMARKS.md). It
 * follows the path in the entry's mem; the plan's ETag and Last-Modified
 * values point into it. */
#define HEAD_CT   "Content-Type: "
#define HEAD_ETAG "\r\nETag: "
#define HEAD_LM   "\r\nLast-Modified: "
#define HEAD_AR   "\r\nAccept-Ranges: bytes\r\n"
#define HEAD_CE   "Content-Encoding: "
#define HEAD_VARY "Vary: Accept-Encoding\r\n"
#define LIT_LEN(s) (sizeof(s) - 1)
HT_INLINE size_t head_tag_off(const ht_fs_cache_entry_* e) {
    return LIT_LEN(HEAD_CT) + e->type.len + LIT_LEN(HEAD_ETAG);
}
HT_INLINE size_t head_lm_off(const ht_fs_cache_entry_* e) {
    return head_tag_off(e) + e->tag_len + LIT_LEN(HEAD_LM);
}

#define WAYS 4

ht_result_t ht_fs__cache_init(ht_fs_cache_t* c, uint32_t entries, uint32_t ttl_ms,
                              uint32_t max_file, ht_alloc_t* a) {
    uint32_t n = entries ? entries : 256;
    if (n < WAYS) n = WAYS;
    if (n > 65536) n = 65536;
    uint32_t p2 = WAYS;
    while (p2 < n) p2 <<= 1;
    *c = (ht_fs_cache_t){ .n_ = p2, .ttl_ms_ = ttl_ms ? ttl_ms : 1000,
                          .max_file_ = max_file ? max_file : 65536, .alloc_ = a };
    if (max_file == UINT32_MAX) c->max_file_ = 0;
    c->entries_ = ht_alloc__calloc(a, p2, sizeof(ht_fs_cache_entry_));
    if (!c->entries_) return -ENOMEM;
    return 0;
}

static void entry_clear(ht_fs_cache_t* c, ht_fs_cache_entry_* e) {
    if (!e->mem) return;
    ht_fs__close(e->fd);
    ht_alloc__free(c->alloc_, e->mem, (size_t) e->key_len + e->path_len + e->head_len);
    if (e->data) ht_alloc__free(c->alloc_, e->data, (size_t) e->data_len);
    *e = (ht_fs_cache_entry_){ 0 };
}

void ht_fs__cache_free(ht_fs_cache_t* c) {
    if (!c->entries_) return;
    for (uint32_t i = 0; i < c->n_; i++) entry_clear(c, &c->entries_[i]);
    ht_alloc__free(c->alloc_, c->entries_, (size_t) c->n_ * sizeof(ht_fs_cache_entry_));
    c->entries_ = nullptr;
}

/* The q-values as one number: requests that allow the same codings equally
 * get the same answer, so they share an entry (browsers send a handful of
 * distinct Accept-Encoding values). 11 bits each hold 0..1000. */
static_assert((HT_FS_ENC_CODINGS + 1) * 11 <= 64, "accept_key_ packs every q-value");
static uint64_t accept_key_(const ht_fs_accept_t* acc) {
    uint64_t k = 0;
    for (unsigned e = 0; e <= HT_FS_ENC_CODINGS; e++) k = k << 11 | acc->q[e];
    return k;
}

/* Eight bytes of the path at a time (the last word overlapping the one
 * before it), a multiply and a shift each: the byte-wise FNV-1a it
 * replaces was ~70 instructions of a hit on a 10-byte path. Only picks the
 * set and screens the ways: the key itself is compared. */
static uint64_t hash_key(ht_slice_t path, uint64_t accept) {
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    uint64_t h = (accept ^ path.len) * k, w;
    size_t n = path.len;
    const char* s = path.ptr;
    if (n >= 8) {
        for (; n > 8; s += 8, n -= 8) {
            memcpy(&w, s, 8);
            h = (h ^ w) * k;
            h ^= h >> 29;
        }
        memcpy(&w, s + n - 8, 8);
    } else {
        w = 0;
        for (size_t i = 0; i < n; i++) w = w << 8 | (unsigned char) s[i];
    }
    h = (h ^ w) * k;
    return h ^ (h >> 29);
}

/* Reads the whole file into memory from the cache's allocator; nullptr if
 * that fails or the file changed size meanwhile (then it is not cached). */
static char* read_all(ht_fs_cache_t* c, ht_file_t fd, uint64_t size) {
    char* d = ht_alloc__alloc(c->alloc_, (size_t) size);
    if (!d) return nullptr;
    if (ht_fs_pread_(fd, d, (size_t) size, 0) != (ht_io_t) size) {
        ht_alloc__free(c->alloc_, d, (size_t) size);
        return nullptr;
    }
    return d;
}

/* The length of an entry's head for type, validators v, its coding and
 * vary; 0 when it would not fit head_len (a caller's MIME type of
 * kilobytes: such an entry is finished field by field). */
static size_t head_size(ht_slice_t type, const validators_t* v, uint8_t encoding, bool vary) {
    size_t n = LIT_LEN(HEAD_CT) + type.len + LIT_LEN(HEAD_ETAG) + v->tag_len + LIT_LEN(HEAD_LM) + v->lm_len +
               LIT_LEN(HEAD_AR);
    if (encoding < HT_FS_ENC_CODINGS)
        n += LIT_LEN(HEAD_CE) + ht_fs__encoding_token((ht_fs_encoding_t) encoding).len + 2;
    if (vary) n += LIT_LEN(HEAD_VARY);
    return n <= UINT16_MAX ? n : 0;
}

static char* put(char* d, const char* s, size_t n) {
    memcpy(d, s, n);
    return d + n;
}
#define PUT_LIT(d, lit) put((d), (lit), LIT_LEN(lit))

/* Writes e's head (head_size bytes) at d, with the validators v. */
static void head_write(char* d, const ht_fs_cache_entry_* e, const validators_t* v) {
    d = PUT_LIT(d, HEAD_CT);
    d = put(d, e->type.ptr, e->type.len);
    d = PUT_LIT(d, HEAD_ETAG);
    d = put(d, v->tag, v->tag_len);
    d = PUT_LIT(d, HEAD_LM);
    d = put(d, v->lm, v->lm_len);
    d = PUT_LIT(d, HEAD_AR);
    if (e->encoding < HT_FS_ENC_CODINGS) {
        ht_slice_t tok = ht_fs__encoding_token((ht_fs_encoding_t) e->encoding);
        d = PUT_LIT(d, HEAD_CE);
        d = put(d, tok.ptr, tok.len);
        d = PUT_LIT(d, "\r\n");
    }
    if (e->vary) PUT_LIT(d, HEAD_VARY);
}

/* A 304 for e's file from e's head: its ETag and Last-Modified lines are
 * next to each other there, the two fields finish_file's 304 has when the
 * entry has no Vary (a browser revalidating: ~200 instructions of field
 * writing saved). */
static void not_modified_entry(ht_fs_plan_t* p, const ht_fs_cache_entry_* e, const char* head) {
    drop_fd(p); /* as finish_file's 304 */
    p->status = 304;
    ht_slice_t tag = ht_slice__from(head + head_tag_off(e), e->tag_len);
    ht_slice_t lm = ht_slice__from(head + head_lm_off(e), e->lm_len);
    p->headers[0] = (ht_header_t){ .name = HT_SLICE("ETag"), .value = tag, .id = HT_HEADER_ETAG };
    p->headers[1] = (ht_header_t){ .name = HT_SLICE("Last-Modified"), .value = lm, .id = HT_HEADER_LAST_MODIFIED };
    p->n_headers = 2;
    const char* from = tag.ptr - (LIT_LEN(HEAD_ETAG) - 2); /* "ETag: " */
    p->fields_ = ht_slice__from(from, (size_t) (lm.ptr + lm.len + 2 - from));
}

/* finish_entry's request with a precondition or a Range: with
 * If-None-Match alone (it overrides If-Modified-Since), matched, the 304
 * from e's head; else finish_file. Out of line: the plain answer's path
 * stays as short as it was. */
__attribute__((noinline)) static void finish_entry_cond(ht_fs_plan_t* p, const ht_fs_request_t* req,
                                                        const ht_fs_cache_entry_* e) {
    const char* head = e->mem + e->key_len + e->path_len;
    if (req->if_none_match.ptr && !req->if_match.ptr && !req->if_unmodified_since.ptr && !e->vary &&
        !(req->range.ptr && req->method == HT_METHOD_GET) && /* the cache plans GET and HEAD only */
        ht_fs__etag_list_match(req->if_none_match, ht_slice__from(head + head_tag_off(e), e->tag_len), true))
        not_modified_entry(p, e, head);
    else
        finish_file(p, req, e->type, e->vary);
}

/* The plan of a request for e's file (p's fd, st, path and encoding set
 * from e): with no precondition and no Range to apply, the plain answer
 * from e's head (the fields finish_file would add, with the same values);
 * else finish_entry_cond. */
static void finish_entry(ht_fs_plan_t* p, const ht_fs_request_t* req, const ht_fs_cache_entry_* e) {
    if (e->head_len == 0) {
        finish_file(p, req, e->type, e->vary);
        return;
    }
    if (req->if_match.ptr || req->if_none_match.ptr || req->if_modified_since.ptr || req->if_unmodified_since.ptr ||
        (req->range.ptr && req->method == HT_METHOD_GET)) {
        finish_entry_cond(p, req, e);
        return;
    }
    const char* head = e->mem + e->key_len + e->path_len;
    p->status = 200;
    p->body = HT_FS_BODY_FILE;
    p->offset = 0;
    p->length = p->st.size;
    /* finish_file's fields, in its order; stored by index (the plan has
     * none yet): add_static's count kept in memory cost ~25 instructions. */
    ht_header_t* h = p->headers;
    h[0] = (ht_header_t){ .name = HT_SLICE("Content-Type"), .value = e->type, .id = HT_HEADER_CONTENT_TYPE };
    h[1] = (ht_header_t){ .name = HT_SLICE("ETag"), .value = ht_slice__from(head + head_tag_off(e), e->tag_len),
                          .id = HT_HEADER_ETAG };
    h[2] = (ht_header_t){ .name = HT_SLICE("Last-Modified"),
                          .value = ht_slice__from(head + head_lm_off(e), e->lm_len), .id = HT_HEADER_LAST_MODIFIED };
    h[3] = (ht_header_t){ .name = HT_SLICE("Accept-Ranges"), .value = HT_SLICE("bytes"), .id = HT_HEADER_ACCEPT_RANGES };
    unsigned n = 4;
    if (p->encoding < HT_FS_ENC_CODINGS)
        h[n++] = (ht_header_t){ .name = HT_SLICE("Content-Encoding"),
                                .value = ht_fs__encoding_token((ht_fs_encoding_t) p->encoding),
                                .id = HT_HEADER_CONTENT_ENCODING };
    if (e->vary)
        h[n++] = (ht_header_t){ .name = HT_SLICE("Vary"), .value = HT_SLICE("Accept-Encoding"), .id = HT_HEADER_VARY };
    p->n_headers = (uint8_t) n;
    p->fields_ = ht_slice__from(head, e->head_len);
}

void ht_fs__plan_cached(ht_fs_cache_t* c, const ht_fs_root_t* root, const ht_fs_request_t* req,
                        int64_t now_ms, ht_fs_plan_t* p) {
    plan_init(p);
    if (req->method != HT_METHOD_GET && req->method != HT_METHOD_HEAD) {
        ht_fs__plan(root, req, p);
        return;
    }
    ht_fs_accept_t acc;
    ht_fs__accept_parse(req->accept_encoding, &acc);
    uint64_t ak = accept_key_(&acc);
    uint64_t h = hash_key(req->path, ak);
    ht_fs_cache_entry_* set = &c->entries_[(h & (c->n_ / WAYS - 1)) * WAYS];
    ht_fs_cache_entry_* victim = &set[0];
    c->tick_++;
    for (unsigned i = 0; i < WAYS; i++) {
        ht_fs_cache_entry_* e = &set[i];
        if (e->mem && e->hash == h && e->root == root && e->accept == ak &&
            e->key_len == req->path.len && memcmp(e->mem, req->path.ptr, req->path.len) == 0) {
            if (now_ms - e->validated_ms >= (int64_t) c->ttl_ms_ || now_ms < e->validated_ms) {
                entry_clear(c, e); /* stale: replan below, into this slot */
                victim = e;
                break;
            }
            c->hits++;
            e->used = c->tick_;
            p->resolved = e->resolved;
            p->fd = e->fd;
            p->fd_borrowed = true;
            p->data = e->data;
            p->st = e->st;
            p->encoding = e->encoding;
            p->path = ht_slice__from(e->mem + e->key_len, e->path_len);
            finish_entry(p, req, e);
            return;
        }
        /* Eviction: an empty slot, else the least recently used. */
        if (victim->mem && (!e->mem || (int32_t) (e->used - victim->used) < 0))
            victim = e;
    }
    c->misses++;
    ht_slice_t type;
    bool vary;
    if (!plan_select(root, req, &acc, p, &type, &vary)) return;
    /* Insert: the entry takes the fd, the plan borrows it. */
    if (victim->mem) {
        c->evictions++;
        entry_clear(c, victim);
    }
    const validators_t* v = validators(&p->st);
    size_t hl = head_size(type, v, p->encoding, vary);
    size_t ml = req->path.len + p->path.len + hl;
    char* mem = ht_alloc__alloc(c->alloc_, ml ? ml : 1);
    if (mem) {
        memcpy(mem, req->path.ptr, req->path.len);
        memcpy(mem + req->path.len, p->path.ptr, p->path.len);
        char* data = nullptr;
        if (p->st.size <= c->max_file_ && p->st.size > 0) data = read_all(c, p->fd, p->st.size);
        *victim = (ht_fs_cache_entry_){
            .hash = h, .root = root, .mem = mem, .key_len = (uint32_t) req->path.len,
            .path_len = (uint32_t) p->path.len, .data = data, .data_len = data ? p->st.size : 0,
            .type = type, .st = p->st, .validated_ms = now_ms, .fd = p->fd, .used = c->tick_,
            .accept = ak, .resolved = (uint8_t) p->resolved, .encoding = p->encoding, .vary = vary,
            .tag_len = v->tag_len, .lm_len = v->lm_len, .head_len = (uint16_t) hl,
        };
        if (hl) head_write(mem + req->path.len + p->path.len, victim, v);
        p->fd_borrowed = true;
        p->data = data;
        p->path = ht_slice__from(mem + req->path.len, p->path.len);
        finish_entry(p, req, victim);
        return;
    }
    finish_file(p, req, type, vary); /* out of memory: served uncached, the plan keeps its fd */
}
