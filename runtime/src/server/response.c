/* server/response.c — the response builder: heads written straight into the
 * connection's send buffer, bodies inline when they fit, out of line (copied
 * into memory from the handler's allocator, or borrowed) when they do not. */
#include <string.h>

#include "server/conn.h"

/* ---- Validation (RFC 9110 §5.1, §5.5) ---- */

/* A name is a token: the parser's tchar table (http/parse.h), so that a
 * name the builder accepts is one the parser would. */
bool ht_response__valid_header_name(ht_slice_t name) {
    if (name.len == 0 || name.ptr == nullptr) return false;
    for (size_t i = 0; i < name.len; i++)
        if (!ht_http__tchar[(uint8_t) name.ptr[i]]) return false;
    return true;
}

bool ht_response__valid_header_value(ht_slice_t v) {
    if (v.len && v.ptr == nullptr) return false;
    for (size_t i = 0; i < v.len; i++) {
        uint8_t c = (uint8_t) v.ptr[i];
        /* field-content: VCHAR, SP, HTAB, obs-text; CR/LF/NUL never. */
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
    return true;
}

/* ---- Date ---- */

void ht_date_line_(char* out, int64_t t) {
    memcpy(out, "Date: ", 6);
    size_t n = ht_http__format_date(out + 6, t);
    memcpy(out + 6 + n, "\r\n", 3);
}

/* ---- Send buffer (the buffer itself is out.c's) ---- */

HT_INLINE bool out_room(const ht_out_t* o, size_t n) { return o->cap - o->len >= n; }
HT_INLINE void out_put(ht_out_t* o, const void* p, size_t n) {
    memcpy(o->data + o->len, p, n);
    o->len += (uint32_t) n;
}
#define OUT_LIT(o, lit) out_put((o), lit, sizeof(lit) - 1)

/* The slow path of every room check: the response does not fit behind the
 * batch's earlier responses. If it would fit in an empty buffer the buffer
 * grows (conn.c), so pipelining never changes a response; callers reload
 * res->out after it. Out of line: the common case is one compare. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline, cold))
#endif
static ht_result_t res_grow(ht_response_t* res, size_t n) {
    if (res->conn == nullptr) return -ENOBUFS;
    if (res->out == &ht_out__unattached_) {
        /* A deferred response's first call: its buffer comes now (defer.c). */
        ht_result_t r = ht_defer__attach_(res);
        if (r < 0 || out_room(res->out, n)) return r;
    }
    return ht_conn__out_grow_(res->conn, res, n);
}

bool ht_out__continue_(ht_out_t* o) {
    static const char k[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (!out_room(o, sizeof k - 1) || o->iovcnt >= HT_OUT_IOV) return false;
    out_put(o, k, sizeof k - 1);
    return true;
}

/* Decimal digits of v into p; returns the count. Lengths are mostly small:
 * count the digits, then write them backwards, two at a time. */
static const char digits2_[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
    "5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

static size_t put_u64(char* p, uint64_t v) {
    size_t n = 1;
    for (uint64_t t = v; t >= 10; t /= 10) n++;
    char* e = p + n;
    while (v >= 100) {
        uint64_t r = v % 100;
        v /= 100;
        e -= 2;
        e[0] = digits2_[2 * r];
        e[1] = digits2_[2 * r + 1];
    }
    if (v >= 10) {
        e -= 2;
        e[0] = digits2_[2 * v];
        e[1] = digits2_[2 * v + 1];
    } else {
        *--e = (char) ('0' + v);
    }
    return n;
}

/* ---- Builder ---- */


static void rollback(ht_response_t* res) {
    ht_out_t* o = res->out;
    for (uint32_t i = res->start_ext; i < o->nexts; i++)
        if (o->ext[i].a) ht_alloc__free(o->ext[i].a, o->ext[i].p, o->ext[i].n);
    o->nexts = res->start_ext;
    /* Recompute what the kept iovecs cover. */
    o->iovcnt = res->start_iov;
    uint64_t total = 0;
    for (uint32_t i = 0; i < o->iovcnt; i++) total += o->iov[i].len;
    o->total = total;
    o->len = o->sealed = res->start;
    /* The last kept iovec may have been extended past start. */
    if (o->iovcnt) {
        ht_iov_t* last = &o->iov[o->iovcnt - 1];
        char* end = (char*) last->base + last->len;
        if (end > o->data + res->start && (char*) last->base >= o->data && (char*) last->base < o->data + o->cap) {
            o->total -= (uint64_t) (end - (o->data + res->start));
            last->len = (size_t) (o->data + res->start - (char*) last->base);
        }
    }
}

ht_result_t ht_response__status(ht_response_t* res, uint16_t status) {
    if (res->state != HT_RES_NONE) return ht_response__state_err_(res);
    if (status < 200 || status > 999) return -EINVAL;
    ht_out_t* o = res->out; /* a deferred one's first call attaches in res_grow */
    if (HT_LIKELY(status == 200)) {
        if (HT_UNLIKELY(!out_room(o, 17))) {
            ht_result_t r = res_grow(res, 17);
            if (r < 0) return r;
            o = res->out;
        }
        OUT_LIT(o, "HTTP/1.1 200 OK\r\n");
    } else {
        const char* reason = ht_status__reason(status);
        size_t rl = strlen(reason);
        if (!out_room(o, 15 + rl)) {
            ht_result_t r = res_grow(res, 15 + rl);
            if (r < 0) return r;
            o = res->out;
        }
        char* p = o->data + o->len;
        memcpy(p, "HTTP/1.1 ", 9);
        p[9] = (char) ('0' + status / 100);
        p[10] = (char) ('0' + status / 10 % 10);
        p[11] = (char) ('0' + status % 10);
        p[12] = ' ';
        memcpy(p + 13, reason, rl);
        p[13 + rl] = '\r';
        p[14 + rl] = '\n';
        o->len += (uint32_t) (15 + rl);
    }
    res->status = status;
    res->state = HT_RES_HEAD;
    return 0;
}

uint16_t ht_response__get_status(const ht_response_t* res) { return res->status; }

uint64_t ht_response__body_bytes(const ht_response_t* res) { return res->body_bytes; }

ht_result_t ht_response__header(ht_response_t* res, ht_slice_t name, ht_slice_t value) {
    if (res->state != HT_RES_HEAD) return ht_response__state_err_(res);
    if (!ht_response__valid_header_name(name)) return HT_E_BAD_HEADER_NAME;
    if (!ht_response__valid_header_value(value)) return HT_E_BAD_HEADER_VALUE;
    switch (ht_header__id(name.ptr, name.len)) {
    case HT_HEADER_CONTENT_LENGTH:
    case HT_HEADER_TRANSFER_ENCODING:
    case HT_HEADER_DATE:
    case HT_HEADER_CONNECTION:
        return HT_E_RESERVED_HEADER;
    default:
        break;
    }
    return ht_response__header_own_(res, name, ht_slice__trim_ows(value));
}

ht_result_t ht_response__header_own_(ht_response_t* res, ht_slice_t name, ht_slice_t value) {
    if (res->state != HT_RES_HEAD) return ht_response__state_err_(res);
    ht_out_t* o = res->out;
    if (HT_UNLIKELY(!out_room(o, name.len + value.len + 4))) {
        ht_result_t r = res_grow(res, name.len + value.len + 4);
        if (r < 0) {
            res->state = HT_RES_FAILED; /* a head missing a field must not go out */
            return r;
        }
        o = res->out;
    }
    out_put(o, name.ptr, name.len);
    OUT_LIT(o, ": ");
    if (value.len) out_put(o, value.ptr, value.len);
    OUT_LIT(o, "\r\n");
    return 0;
}

ht_result_t ht_response__status_fields_own_(ht_response_t* res, uint16_t status, ht_slice_t lines) {
    ht_result_t r;
    if (HT_UNLIKELY(status != 200 || res->state != HT_RES_NONE)) {
        if ((r = ht_response__status(res, status)) < 0) return r;
    } else {
        if (HT_UNLIKELY(!out_room(res->out, 17)) && (r = res_grow(res, 17)) < 0) return r;
        OUT_LIT(res->out, "HTTP/1.1 200 OK\r\n");
        res->status = 200;
        res->state = HT_RES_HEAD;
    }
    ht_out_t* o = res->out;
    if (HT_UNLIKELY(!out_room(o, lines.len))) {
        r = res_grow(res, lines.len);
        if (r < 0) {
            res->state = HT_RES_FAILED; /* a head missing fields must not go out */
            return r;
        }
        o = res->out;
    }
    out_put(o, lines.ptr, lines.len);
    return 0;
}

ht_result_t ht_response__header_cstr(ht_response_t* res, const char* name, const char* value) {
    return ht_response__header(res, ht_slice__from_cstr(name), ht_slice__from_cstr(value));
}

/* "Content-Length: " 16 + 20 digits + CRLF, date line, "Connection: keep-alive\r\n" 24, CRLF */
enum { END_HEAD_MAX = 16 + 20 + 2 + HT_DATE_LINE_LEN + 24 + 2 };
static ht_result_t end_head_grow(ht_response_t* res, uint64_t body_len);

/* Ends the head: Content-Length (unless 1xx/204), Date, Connection, CRLF. */
static ht_result_t end_head(ht_response_t* res, uint64_t body_len) {
    ht_out_t* o = res->out;
    /* A tail call when it does not fit: no frame on the common path. */
    if (HT_UNLIKELY(!out_room(o, END_HEAD_MAX))) return end_head_grow(res, body_len);
    bool no_length = res->status == 204 || res->status == 304 || res->status < 200;
    if (!no_length) {
        OUT_LIT(o, "Content-Length: ");
        o->len += (uint32_t) put_u64(o->data + o->len, body_len);
        OUT_LIT(o, "\r\n");
    }
    out_put(o, res->date, HT_DATE_LINE_LEN);
    if (res->flags & HT_RESF_CLOSE) OUT_LIT(o, "Connection: close\r\n");
    else if (res->flags & HT_RESF_KEEP_ALIVE) OUT_LIT(o, "Connection: keep-alive\r\n");
    OUT_LIT(o, "\r\n");
    return 0;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline, cold))
#endif
static ht_result_t end_head_grow(ht_response_t* res, uint64_t body_len) {
    ht_result_t r = res_grow(res, END_HEAD_MAX);
    return r < 0 ? r : end_head(res, body_len);
}

ht_result_t ht_response__end_head_stream_(ht_response_t* res) {
    if (res->state != HT_RES_HEAD) return ht_response__state_err_(res);
    if (HT_UNLIKELY(!out_room(res->out, END_HEAD_MAX))) {
        ht_result_t r = res_grow(res, END_HEAD_MAX);
        if (r < 0) {
            res->state = HT_RES_FAILED;
            return r;
        }
    }
    ht_out_t* o = res->out;
    out_put(o, res->date, HT_DATE_LINE_LEN);
    if (res->flags & HT_RESF_CLOSE) OUT_LIT(o, "Connection: close\r\n");
    else if (res->flags & HT_RESF_KEEP_ALIVE) OUT_LIT(o, "Connection: keep-alive\r\n");
    OUT_LIT(o, "\r\n");
    return 0;
}

/* Adds the body: inline if it fits, else out of line (copied from `a`, or
 * borrowed when a is nullptr and borrow is set). */
/* Inline: one copy per caller keeps the common inline body on a straight
 * line (out of line, gcc splits it and every response pays the call). */
HT_INLINE ht_result_t add_body(ht_response_t* res, const void* data, size_t len, ht_alloc_t* a, bool borrow) {
    if (res->state != HT_RES_HEAD) return ht_response__state_err_(res);
    if (len && data == nullptr) return -EINVAL;
    uint32_t mark = res->out->len;
    ht_result_t r = end_head(res, len); /* writes nothing when it fails */
    if (r < 0) return r;
    ht_out_t* o = res->out; /* after end_head: it may have moved */
    bool no_body = (res->flags & HT_RESF_HEAD_ONLY) || res->status == 204 || res->status == 304;
    if (no_body || len == 0) {
        res->state = HT_RES_DONE;
        return 0;
    }
    if (HT_LIKELY(out_room(o, len) && (!borrow || len <= 1024))) {
        out_put(o, data, len);
        res->body_bytes = len;
        res->state = HT_RES_DONE;
        return 0;
    }
    if (!borrow && a == nullptr) {
        /* Nowhere to copy it but here: what an empty buffer would hold
         * inline still goes inline behind pipelined responses. */
        if ((r = res_grow(res, len)) < 0) { o->len = mark; return r == -ENOBUFS ? -EINVAL : r; }
        o = res->out;
        out_put(o, data, len);
        res->body_bytes = len;
        res->state = HT_RES_DONE;
        return 0;
    }
    /* Out of line: needs one iovec for the head so far, one for the body. */
    if (o->iovcnt + 2 > HT_OUT_IOV || o->nexts + 1 > HT_OUT_EXT) { o->len = mark; return -ENOBUFS; }
    void* p = (void*) data;
    if (!borrow) {
        p = ht_alloc__alloc(a, len);
        if (p == nullptr) { o->len = mark; return -ENOMEM; }
        memcpy(p, data, len);
        o->ext[o->nexts].p = p;
        o->ext[o->nexts].n = len;
        o->ext[o->nexts].a = a;
        o->nexts++;
    }
    ht_out__seal_(o);
    o->iov[o->iovcnt].base = p;
    o->iov[o->iovcnt].len = len;
    o->iovcnt++;
    o->total += len;
    res->body_bytes = len;
    res->state = HT_RES_DONE;
    return 0;
}

HT_INLINE ht_result_t add_body_or_fail(ht_response_t* res, const void* data, size_t len, ht_alloc_t* a, bool borrow) {
    ht_result_t r = add_body(res, data, len, a, borrow);
    if (r == -ENOBUFS || r == -ENOMEM) res->state = HT_RES_FAILED;
    else if (r == 0 && HT_UNLIKELY(res->d != nullptr)) ht_defer__done_(res->d); /* send it */
    return r;
}

ht_result_t ht_response__body(ht_response_t* res, const void* data, size_t len, ht_alloc_t* a) {
    return add_body_or_fail(res, data, len, a, false);
}

ht_result_t ht_response__body_ref(ht_response_t* res, const void* data, size_t len) {
    return add_body_or_fail(res, data, len, nullptr, true);
}

/* A header line known to be valid and not reserved (the helpers' own
 * Content-Type values): copied without the per-byte checks. */
static ht_result_t put_trusted(ht_response_t* res, const char* line, size_t n) {
    if (HT_UNLIKELY(!out_room(res->out, n))) {
        ht_result_t r = res_grow(res, n);
        if (r < 0) {
            res->state = HT_RES_FAILED;
            return r;
        }
    }
    out_put(res->out, line, n);
    return 0;
}

HT_INLINE ht_result_t helper(ht_response_t* res, uint16_t status, const char* ctype_line, size_t ctype_len,
                          ht_slice_t ctype, const void* data, size_t len, ht_alloc_t* a) {
    ht_result_t r;
    if (res->state == HT_RES_NONE) {
        if ((r = ht_response__status(res, status)) < 0) return r;
    } else if (res->state != HT_RES_HEAD || res->status != status) {
        return ht_response__state_err_(res);
    }
    if (ctype_line) {
        if ((r = put_trusted(res, ctype_line, ctype_len)) < 0) return r;
    } else if (ctype.len) {
        if (!ht_response__valid_header_value(ctype)) return HT_E_BAD_HEADER_VALUE;
        ctype = ht_slice__trim_ows(ctype);
        if (!out_room(res->out, ctype.len + 16) && (r = res_grow(res, ctype.len + 16)) < 0) {
            res->state = HT_RES_FAILED;
            return r;
        }
        ht_out_t* o = res->out;
        OUT_LIT(o, "Content-Type: ");
        out_put(o, ctype.ptr, ctype.len);
        OUT_LIT(o, "\r\n");
    }
    return add_body_or_fail(res, data, len, a, false);
}

#define CT_LINE(lit) "Content-Type: " lit "\r\n", sizeof("Content-Type: " lit "\r\n") - 1

ht_result_t ht_response__file(ht_response_t* res, ht_file_t f, uint64_t off, uint64_t len, bool own) {
    ht_out_t* o = res->out;
    ht_result_t r;
    if (res->state != HT_RES_HEAD) r = ht_response__state_err_(res);
    else if ((int64_t) f < 0) r = -EBADF; /* HT_FILE_INVALID and any other negative fd */
    else if (o->file_state != HT_OUT_FILE_NONE) r = HT_E_RESPONSE_STATE; /* one per batch */
    else if ((r = end_head(res, len)) < 0) res->state = HT_RES_FAILED; /* it wrote nothing */
    o = res->out; /* end_head may have moved it */
    if (r < 0) {
        if (own) ht_fs__close(f);
        return r;
    }
    res->state = HT_RES_DONE;
    bool no_body = (res->flags & HT_RESF_HEAD_ONLY) || res->status == 204 || res->status == 304;
    if (no_body || len == 0) {
        if (own) ht_fs__close(f);
    } else {
        res->body_bytes = len;
        o->file = f;
        o->file_off = off;
        o->file_len = len;
        o->file_own = own;
        o->file_state = HT_OUT_FILE_PENDING;
        o->total += len;
    }
    if (HT_UNLIKELY(res->d != nullptr)) ht_defer__done_(res->d);
    return 0;
}

ht_result_t ht_response__bytes(ht_response_t* res, uint16_t status, ht_slice_t ctype,
                               const void* data, size_t len, ht_alloc_t* a) {
    return helper(res, status, nullptr, 0, ctype, data, len, a);
}

ht_result_t ht_response__text_n(ht_response_t* res, uint16_t status, const char* text, size_t len, ht_alloc_t* a) {
    return helper(res, status, CT_LINE("text/plain; charset=utf-8"), HT_SLICE_NULL, text, len, a);
}

ht_result_t ht_response__html_n(ht_response_t* res, uint16_t status, const char* html, size_t len, ht_alloc_t* a) {
    return helper(res, status, CT_LINE("text/html; charset=utf-8"), HT_SLICE_NULL, html, len, a);
}

ht_result_t ht_response__json_n(ht_response_t* res, uint16_t status, const char* json, size_t len, ht_alloc_t* a) {
    return helper(res, status, CT_LINE("application/json"), HT_SLICE_NULL, json, len, a);
}

void ht_response__on_error(ht_response_t* res, ht_error_page_fn fn, void* ud) {
    res->err_fn = fn;
    res->err_ud = ud;
}

#define ERR_MSG_MAX 256 /* the bytes of a message kept; escaped, each may take 6 */

/* The message of ht_response__error_msg, escaped for HTML (html) or a JSON
 * string, into out (ERR_MSG_MAX * 6 bytes); its length. */
static size_t put_err_msg(ht_slice_t msg, char* out, bool html) {
    size_t m = 0;
    for (size_t i = 0; i < msg.len && i < ERR_MSG_MAX; i++) {
        unsigned char c = (unsigned char) msg.ptr[i];
        const char* e = html ? (c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : nullptr)
                             : (c == '"' ? "\\\"" : c == '\\' ? "\\\\" : nullptr);
        if (e) {
            memcpy(out + m, e, strlen(e));
            m += strlen(e);
        } else if (c < 0x20 || c == 0x7f) { /* controls: never raw, in either */
            static const char hex[] = "0123456789abcdef";
            memcpy(out + m, html ? "&#x" : "\\u00", html ? 3 : 4);
            m += html ? 3 : 4;
            out[m++] = hex[c >> 4];
            out[m++] = hex[c & 15];
            if (html) out[m++] = ';';
        } else {
            out[m++] = (char) c;
        }
    }
    return m;
}

void ht_response__on_done(ht_response_t* res, ht_done_fn fn, void* ud, uint32_t tag) {
    res->done_fn = fn;
    res->done_ud = ud;
    res->done_tag = tag;
    if (fn)
        res->flags |= HT_RESF_ON_DONE;
    else
        res->flags &= (uint8_t) ~HT_RESF_ON_DONE;
}

void ht_response__finish(ht_response_t* res) {
    /* A handle (or the response it took over) completes on its own. */
    if (res->d != nullptr || res->state == HT_RES_DEFERRED || res->state == HT_RES_GONE) return;
    ht_response__finish_(res); /* the server's own call after the handler finds it DONE */
    if (res->flags & HT_RESF_ON_DONE) {
        res->flags &= (uint8_t) ~HT_RESF_ON_DONE;
        res->done_fn(res->done_ud, res->done_tag, res->status);
    }
}

ht_result_t ht_response__error_json(ht_response_t* res, uint16_t status, ht_alloc_t* a) {
    /* {"error":"Not Found","status":404}: reason phrases are plain ASCII
     * words (HT_STATUSES), nothing to escape. */
    char body[160 + ERR_MSG_MAX * 6];
    const char* reason = ht_status__reason(status);
    size_t rl = strlen(reason);
    if (rl > 80) rl = 80;
    size_t m = 0;
#define PUT(s, l) (memcpy(body + m, (s), (l)), m += (l))
    PUT("{\"error\":\"", 10);
    PUT(reason, rl);
    PUT("\",\"status\":", 11);
    m += put_u64(body + m, status);
    if (res->flags & HT_RESF_ERR_MSG) {
        PUT(",\"message\":\"", 12);
        m += put_err_msg(res->err_msg, body + m, false);
        PUT("\"", 1);
    }
    PUT("}\n", 2);
#undef PUT
    return helper(res, status, CT_LINE("application/json"), HT_SLICE_NULL, body, m, a);
}

ht_result_t ht_response__error_msg(ht_response_t* res, uint16_t status, ht_slice_t msg, ht_alloc_t* a) {
    uint8_t had = res->flags & HT_RESF_ERR_MSG;
    res->err_msg = msg;
    res->flags |= HT_RESF_ERR_MSG;
    ht_result_t r = ht_response__error(res, status, a);
    res->flags = (uint8_t) ((res->flags & ~HT_RESF_ERR_MSG) | had);
    return r;
}

ht_result_t ht_response__error(ht_response_t* res, uint16_t status, ht_alloc_t* a) {
    if (res->err_fn && status >= 400 && !(res->flags & HT_RESF_IN_ERROR)) {
        res->flags |= HT_RESF_IN_ERROR;
        ht_result_t r = res->err_fn(res, status, res->err_ud, a);
        res->flags &= (uint8_t) ~HT_RESF_IN_ERROR;
        return r;
    }
    /* "<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1>\n" */
    char page[256 + ERR_MSG_MAX * 6];
    const char* reason = ht_status__reason(status);
    size_t rl = strlen(reason);
    if (rl > 80) rl = 80;
    char line[96];
    size_t n = put_u64(line, status);
    if (rl) { line[n++] = ' '; memcpy(line + n, reason, rl); n += rl; }
    size_t m = 0;
#define PUT(s, l) (memcpy(page + m, (s), (l)), m += (l))
    PUT("<!doctype html><title>", 22);
    PUT(line, n);
    PUT("</title><h1>", 12);
    PUT(line, n);
    PUT("</h1>\n", 6);
    if (res->flags & HT_RESF_ERR_MSG) {
        PUT("<p>", 3);
        m += put_err_msg(res->err_msg, page + m, true);
        PUT("</p>\n", 5);
    }
#undef PUT
    return helper(res, status, CT_LINE("text/html; charset=utf-8"), HT_SLICE_NULL, page, m, a);
}

void ht_response__finish_(ht_response_t* res) {
    if (res->state == HT_RES_HEAD) {
        /* Status and headers but no body: an empty body. */
        if (add_body(res, nullptr, 0, nullptr, false) == 0) goto done;
    }
    if (res->state != HT_RES_DONE) {
        rollback(res);
        res->body_bytes = 0;
        res->state = HT_RES_NONE;
        res->flags &= (uint8_t) ~HT_RESF_HEAD_ONLY;
        if (ht_response__status(res, 500) < 0 || add_body(res, nullptr, 0, nullptr, false) < 0) {
            /* Cannot happen: the server keeps room for this before a handler. */
            rollback(res);
        }
    }
done:
    ht_out__seal_(res->out);
}
