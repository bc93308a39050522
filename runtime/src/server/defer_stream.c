/* server/defer_stream.c — a deferred handle's streamed response body:
 * ht_response__stream and __write (Content-Length, chunked, or until the
 * close; backpressure through on_ready), and Server-Sent Events on top.
 *
 * The handle's life (deferring, deadlines, release) is defer.c's; defer.h
 * has the state both share. A stream's bytes go to the connection's dout
 * buffer; a write is refused (-EAGAIN, ready later) once one buffer's worth
 * is queued behind a send in flight.
 */
#include <string.h>

#include "server/defer.h"

/* Bytes a send buffer holds for the wire, inline or not. */
static uint64_t out_queued(const ht_out_t* o) { return o->total + (o->len - o->sealed); }

/* ---- Streamed bodies ---- */

ht_result_t ht_response__stream(ht_response_t* res, uint64_t length) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr) return HT_E_RESPONSE_STATE;
    if (res->state == HT_RES_NONE) {
        ht_result_t r = ht_response__status(res, 200);
        if (r < 0) return r;
    }
    if (res->state != HT_RES_HEAD) return ht_response__state_err_(res);
    ht_conn_t* c = d->conn;
    uint16_t st = res->status;
    bool no_body = (res->flags & HT_RESF_HEAD_ONLY) || st == 204 || st == 304;
    if (length != HT_LENGTH_UNKNOWN) {
        d->mode = no_body ? HT_SM_NOBODY : HT_SM_LENGTH;
        d->left = length;
        if (!(st == 204 || st == 304)) {
            char digits[24];
            size_t k = sizeof digits;
            uint64_t v = length;
            do { digits[--k] = (char) ('0' + v % 10); v /= 10; } while (v);
            ht_result_t r = ht_response__header_own_(res, HT_SLICE("Content-Length"),
                                                      (ht_slice_t){ digits + k, sizeof digits - k });
            if (r < 0) return r;
        }
    } else if (no_body) {
        d->mode = HT_SM_NOBODY;
        if (!(st == 204 || st == 304) && !(res->flags & HT_RESF_HTTP10)) {
            ht_result_t r = ht_response__header_own_(res, HT_SLICE("Transfer-Encoding"), HT_SLICE("chunked"));
            if (r < 0) return r;
        }
    } else if (res->flags & HT_RESF_HTTP10) {
        /* HTTP/1.0 has no chunked coding: the body ends with the connection. */
        d->mode = HT_SM_CLOSE;
        res->flags |= HT_RESF_CLOSE;
        res->flags &= (uint8_t) ~HT_RESF_KEEP_ALIVE;
        c->rflags |= HT_RESF_CLOSE;
    } else {
        d->mode = HT_SM_CHUNKED;
        ht_result_t r = ht_response__header_own_(res, HT_SLICE("Transfer-Encoding"), HT_SLICE("chunked"));
        if (r < 0) return r;
    }
    ht_result_t r = ht_response__end_head_stream_(res);
    if (r < 0) return r;
    res->state = HT_RES_STREAM;
    if (!(d->dflags & HT_DF_DRAIN)) ht_defer__deadline_stop_(d);
    ht_conn__defer_flush_(c);
    return 0;
}

static ht_result_t stream_put(ht_defer_t* d, const void* data, size_t len) {
    ht_conn_t* c = d->conn;
    if (d->mode == HT_SM_NOBODY) return 0;
    if (d->mode == HT_SM_LENGTH && len > d->left) return -EINVAL;
    char hdr[20];
    size_t hn = 0;
    if (d->mode == HT_SM_CHUNKED) {
        char hex[16];
        int k = 0;
        size_t v = len;
        do { hex[k++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
        while (k) hdr[hn++] = hex[--k];
        hdr[hn++] = '\r';
        hdr[hn++] = '\n';
    }
    size_t tail = d->mode == HT_SM_CHUNKED ? 2 : 0;
    ht_out_t* o = c->dout;
    if (o) {
        /* Queued behind a send in flight: one buffer's worth, no more. */
        size_t room = o->cap - o->len;
        bool fits = room >= hn + len + tail;
        if (out_queued(o) >= o->unit ||
            (!fits && (room < hn + tail || o->iovcnt + 3 > HT_OUT_IOV || o->nexts + 1 > HT_OUT_EXT))) {
            d->dflags |= HT_DF_WANT_READY;
            return -EAGAIN;
        }
    } else if ((o = c->dout = ht_out__get_(c->acc)) == nullptr) {
        return -ENOMEM;
    }
    if (o->cap - o->len >= hn + len + tail) {
        memcpy(o->data + o->len, hdr, hn);
        memcpy(o->data + o->len + hn, data, len);
        memcpy(o->data + o->len + hn + len, "\r\n", tail);
        o->len += (uint32_t) (hn + len + tail);
    } else {
        /* Larger than the buffer's room: a copy of its own, one iovec. */
        void* m = ht_alloc__alloc(c->acc->alloc_, len);
        if (m == nullptr) return -ENOMEM;
        memcpy(m, data, len);
        memcpy(o->data + o->len, hdr, hn);
        o->len += (uint32_t) hn;
        ht_out__seal_(o);
        o->ext[o->nexts].p = m;
        o->ext[o->nexts].n = len;
        o->ext[o->nexts].a = c->acc->alloc_;
        o->nexts++;
        o->iov[o->iovcnt].base = m;
        o->iov[o->iovcnt].len = len;
        o->iovcnt++;
        o->total += len;
        memcpy(o->data + o->len, "\r\n", tail);
        o->len += (uint32_t) tail;
    }
    if (d->mode == HT_SM_LENGTH) d->left -= len;
    ht_conn__defer_flush_(c);
    return 0;
}

ht_result_t ht_response__write(ht_response_t* res, const void* data, size_t len) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr || res->state != HT_RES_STREAM) {
        return d && res->state == HT_RES_GONE ? HT_E_GONE : HT_E_RESPONSE_STATE;
    }
    if (len == 0) return 0;
    if (data == nullptr) return -EINVAL;
    return stream_put(d, data, len);
}

void ht_response__on_ready(ht_response_t* res, ht_response_fn fn, void* ud) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr) return;
    d->ready_fn = fn;
    d->ready_ud = ud;
}

/* After a send: room again for a refused writer. (conn_defer.c) */
void ht_defer__sent_(ht_defer_t* d) {
    if (!(d->dflags & HT_DF_WANT_READY) || d->conn == nullptr) return;
    ht_conn_t* c = d->conn;
    if (c->dout && out_queued(c->dout) >= c->dout->unit) return;
    d->dflags &= (uint8_t) ~HT_DF_WANT_READY;
    if (d->ready_fn) d->ready_fn(&d->res, 0, d->ready_ud);
}

ht_result_t ht_defer__stream_end_(ht_defer_t* d) {
    ht_conn_t* c = d->conn;
    if (d->mode == HT_SM_CHUNKED) {
        if (c->dout == nullptr) c->dout = ht_out__get_(c->acc);
        ht_out_t* o = c->dout;
        if (o && o->cap - o->len >= 5) {
            memcpy(o->data + o->len, "0\r\n\r\n", 5);
            o->len += 5;
        } else {
            c->rflags |= HT_RESF_CLOSE; /* no terminator: the close ends it */
        }
    } else if (d->mode == HT_SM_CLOSE || (d->mode == HT_SM_LENGTH && d->left > 0)) {
        /* The close ends the body; short of a promised length it is an
         * error the client sees as a truncated body. */
        c->rflags |= HT_RESF_CLOSE;
    }
    d->res.state = HT_RES_DONE;
    ht_defer__detach_(d);
    return 0;
}

/* ---- Server-Sent Events ---- */

static void on_beat(ht_loop_t* loop, ht_timer_t* t);

ht_result_t ht_response__sse_begin(ht_response_t* res, uint32_t heartbeat_ms) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr) return HT_E_RESPONSE_STATE;
    ht_result_t r;
    if (res->state == HT_RES_NONE && (r = ht_response__status(res, 200)) < 0) return r;
    if (res->state != HT_RES_HEAD) return ht_response__state_err_(res);
    if ((r = ht_response__header_own_(res, HT_SLICE("Content-Type"), HT_SLICE("text/event-stream"))) < 0 ||
        (r = ht_response__header_own_(res, HT_SLICE("Cache-Control"), HT_SLICE("no-cache"))) < 0)
        return r;
    if ((r = ht_response__stream(res, HT_LENGTH_UNKNOWN)) < 0) return r;
    d->beat_ms = heartbeat_ms;
    if (heartbeat_ms) ht_loop__timer_start(d->loop, &d->beat, heartbeat_ms, on_beat);
    return 0;
}

static void on_beat(ht_loop_t* loop, ht_timer_t* t) {
    ht_defer_t* d = t->data;
    if (d->conn == nullptr || d->res.state != HT_RES_STREAM) return;
    /* A full queue already tells the proxy the stream is alive; a refused
     * heartbeat is no refused write of the application's (no ready call). */
    uint8_t wanted = d->dflags & HT_DF_WANT_READY;
    (void) stream_put(d, ":\n\n", 3);
    if (!wanted) d->dflags &= (uint8_t) ~HT_DF_WANT_READY;
    if (d->conn) ht_loop__timer_start(loop, &d->beat, d->beat_ms, on_beat);
}

static bool has_line_break(const char* s) { return s && (strchr(s, '\n') || strchr(s, '\r')); }

ht_result_t ht_response__sse_event(ht_response_t* res, const char* event, const char* id, ht_slice_t data) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr || res->state != HT_RES_STREAM) {
        return d && res->state == HT_RES_GONE ? HT_E_GONE : HT_E_RESPONSE_STATE;
    }
    if (has_line_break(event) || has_line_break(id) || (data.len && data.ptr == nullptr)) return -EINVAL;
    /* Size: the fields, then "data: " + "\n" per line. */
    size_t lines = 1;
    for (size_t i = 0; i < data.len; i++) {
        if (data.ptr[i] == '\n' || (data.ptr[i] == '\r' && !(i + 1 < data.len && data.ptr[i + 1] == '\n')))
            lines++;
    }
    size_t need = (event ? strlen(event) + 8 : 0) + (id ? strlen(id) + 5 : 0) + data.len + lines * 7 + 1;
    char stack[1024];
    ht_alloc_t* a = d->pool->alloc;
    char* buf = need <= sizeof stack ? stack : ht_alloc__alloc(a, need);
    if (buf == nullptr) return -ENOMEM;
    size_t n = 0;
#define PUT(p, l) (memcpy(buf + n, (p), (l)), n += (l))
    if (event) { PUT("event: ", 7); PUT(event, strlen(event)); buf[n++] = '\n'; }
    if (id) { PUT("id: ", 4); PUT(id, strlen(id)); buf[n++] = '\n'; }
    size_t s = 0;
    for (size_t i = 0; i <= data.len; i++) {
        bool end = i == data.len || data.ptr[i] == '\n' || data.ptr[i] == '\r';
        if (!end) continue;
        PUT("data: ", 6);
        PUT(data.ptr + s, i - s);
        buf[n++] = '\n';
        if (i < data.len && data.ptr[i] == '\r' && i + 1 < data.len && data.ptr[i + 1] == '\n') i++;
        s = i + 1;
    }
    buf[n++] = '\n';
#undef PUT
    ht_result_t r = stream_put(d, buf, n);
    if (buf != stack) ht_alloc__free(a, buf, need);
    if (r == 0 && d->beat_ms && d->conn) ht_loop__timer_start(d->loop, &d->beat, d->beat_ms, on_beat);
    return r;
}

ht_result_t ht_response__sse_comment(ht_response_t* res, const char* text) {
    ht_defer_t* d = ht_defer__of_(res);
    if (d == nullptr || res->state != HT_RES_STREAM) {
        return d && res->state == HT_RES_GONE ? HT_E_GONE : HT_E_RESPONSE_STATE;
    }
    if (has_line_break(text)) return -EINVAL;
    size_t tl = text ? strlen(text) : 0;
    char stack[512];
    size_t need = tl + 4;
    ht_alloc_t* a = d->pool->alloc;
    char* buf = need <= sizeof stack ? stack : ht_alloc__alloc(a, need);
    if (buf == nullptr) return -ENOMEM;
    size_t n = 0;
    buf[n++] = ':';
    if (tl) { buf[n++] = ' '; memcpy(buf + n, text, tl); n += tl; }
    buf[n++] = '\n';
    buf[n++] = '\n';
    ht_result_t r = stream_put(d, buf, n);
    if (buf != stack) ht_alloc__free(a, buf, need);
    return r;
}
