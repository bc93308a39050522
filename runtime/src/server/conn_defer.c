/* server/conn_defer.c — a connection's side of a deferred response.
 *
 * defer.c and defer_stream.c have the handle's side (what the application
 * calls); this file is what the connection does meanwhile. While HT_CF_DEFER is set the
 * requests behind the deferred one wait in the receive buffer, unparsed;
 * the connection keeps a receive running so that a client that leaves is
 * noticed (and, for a streamed body, to read it). The response's bytes
 * collect in dout and move to out, the buffer on the wire, whenever no
 * send is in flight. Once the response has ended (HT_CF_DEFER_END) and
 * dout is empty, the connection resumes. The wire itself (receiving,
 * sending, closing, the timeout lists) is conn.c's.
 */
#include "server/observe.h"
#include "server/conn.h"

static void body_pump(ht_conn_t* c);

static void defer_resume(ht_conn_t* c) {
    c->flags &= (uint16_t) ~(HT_CF_DEFER | HT_CF_DEFER_END | HT_CF_DEFER_OUT | HT_CF_INTERIM | HT_CF_EXPECT);
    if (c->dout) {
        ht_out__put_(c->acc, c->dout);
        c->dout = nullptr;
    }
    /* A body left unread cannot be skipped reliably: close after. */
    if ((c->rflags & HT_RESF_CLOSE) || HT_RS_BODY_UNREAD(c->rstate)) {
        c->flags |= HT_CF_CLOSE;
        c->rstate = HT_RS_DONE;
    }
    if (c->flags & HT_CF_BUSY) return; /* conn_process goes on by itself */
    ht_conn__process_(c);
    ht_conn__next_(c);
}

/* Not sending, not dead: sends out, else dout, else resumes if done. */
static void defer_flush(ht_conn_t* c) {
    if (c->out && ht_out__pending_(c->out)) {
        ht_conn__send_start_(c);
        return;
    }
    ht_out_t* d = c->dout;
    /* A head still being built stays until its response is complete (or
     * streams): only an interim 100 Continue goes out ahead of it. */
    if (d && ht_out__pending_(d) &&
        (c->defer == nullptr || !ht_defer__building_(c->defer) || (c->flags & HT_CF_INTERIM))) {
        if (c->out) ht_out__put_(c->acc, c->out);
        c->out = d;
        c->dout = nullptr;
        if (!(c->flags & HT_CF_INTERIM)) c->flags |= HT_CF_DEFER_OUT;
        c->flags &= (uint16_t) ~HT_CF_INTERIM;
        ht_conn__send_start_(c);
        return;
    }
    if (c->flags & HT_CF_DEFER_END) defer_resume(c);
}

void ht_conn__defer_flush_(ht_conn_t* c) {
    /* Inside conn_process, or with a send in flight, conn_next or on_send
     * comes back to it. */
    if (c->flags & (HT_CF_DEAD | HT_CF_SEND | HT_CF_BUSY)) return;
    defer_flush(c);
}

void ht_conn__defer_wait_(ht_conn_t* c) {
    if (!(c->flags & HT_CF_SEND)) {
        defer_flush(c);
        if ((c->flags & HT_CF_DEAD) || !(c->flags & HT_CF_DEFER)) return;
    }
    bool sending = (c->flags & HT_CF_SEND) != 0;
    if (c->flags & HT_CF_EOF) {
        /* The client has left (or half-closed: taken as left, as Go does).
         * A response that has ended is still sent. */
        if (c->defer || !(c->flags & HT_CF_DEFER_END)) ht_conn__close_(c);
        else if (!sending) ht_conn__close_(c);
        return;
    }
    if (!(c->flags & HT_CF_RECV)) {
        if (c->in && c->in_off == c->in_len) ht_conn__in_release_(c);
        bool body = HT_RS_BODY_UNREAD(c->rstate);
        if (c->in == nullptr) {
            ht_conn__recv_start_(c);
        } else if (!sending && !body) {
            /* Requests queued behind the deferred one: bounded by the
             * buffer; when it is full the connection stops reading. */
            if (c->in_buf) (void) ht_conn__in_unpool_(c);
            if (c->in_len == c->in_cap) ht_conn__in_compact_(c);
            if (c->in_len < c->in_cap) ht_conn__recv_start_(c);
        }
        if (c->flags & HT_CF_DEAD) return;
    }
    if (!sending) {
        /* Most deferred responses end long before an idle or header
         * timeout: the connection stays on that list (one move fewer per
         * response) and goes to HT_TC_DEFER only if that timeout comes
         * (ht_conn__timeout_). */
        uint8_t w = ht_conn__tc_waiting_(c);
        if (w != HT_TC_DEFER || (c->tclass != HT_TC_IDLE && c->tclass != HT_TC_HEADER)) ht_conn__tl_enter_(c, w);
    }
}

void ht_conn__defer_after_send_(ht_conn_t* c) {
    defer_flush(c);
    if ((c->flags & HT_CF_DEAD) || !(c->flags & HT_CF_DEFER)) return;
    if (c->defer) ht_defer__sent_(c->defer); /* room again for a refused writer */
    if ((c->flags & HT_CF_DEAD) || !(c->flags & HT_CF_DEFER)) return;
    if (c->rstate == HT_RS_BODY_STREAM) body_pump(c);
    if ((c->flags & HT_CF_DEAD) || !(c->flags & HT_CF_DEFER)) return;
    ht_conn__next_(c);
}

void ht_conn__defer_fail_(ht_conn_t* c, uint16_t status, bool close) {
    if (c->flags & HT_CF_DEAD) return;
    if (c->defer) ht_defer__cut_(c->defer, HT_E_GONE);
    ht_acceptor_t* acc = c->acc;
    if (c->flags & HT_CF_DEFER_OUT) {
        ht_conn__close_(c); /* part of a response is out: no clean answer left */
        return;
    }
    if (c->dout) ht_out__reset_(c->dout);
    else c->dout = ht_out__get_(acc);
    if (c->dout == nullptr) {
        ht_conn__close_(c);
        return;
    }
    c->dout->cap = c->dout->unit;
    c->flags &= (uint16_t) ~HT_CF_INTERIM;
    uint8_t rf = c->rflags;
    if (close || HT_RS_BODY_UNREAD(c->rstate)) {
        rf |= HT_RESF_CLOSE;
        rf &= (uint8_t) ~HT_RESF_KEEP_ALIVE;
    }
    c->rflags = rf;
    acc->stats_.errors++;
    ht_response_t res;
    ht_response__begin_(&res, c->dout, c, ht_conn__date_(acc), rf);
    (void) ht_response__error(&res, status, acc->alloc_);
    ht_response__finish_(&res);
    if (HT_UNLIKELY(acc->observe_)) ht_obs__end_(c, res.status, res.body_bytes);
    if (c->done_fn_) ht_conn__done_(c, res.status); /* the cut-off handle's: this answer is its */
    c->flags |= HT_CF_DEFER_END;
    ht_conn__defer_flush_(c);
}

void ht_conn__continue_(ht_conn_t* c) {
    if (!(c->flags & HT_CF_EXPECT)) return;
    c->flags &= (uint16_t) ~HT_CF_EXPECT;
    if (c->in && c->in_off < c->in_len) return;  /* the client did not wait */
    if (c->dout && c->dout->len) return;          /* a final response has begun */
    if (c->dout == nullptr && (c->dout = ht_out__get_(c->acc)) == nullptr) return;
    if (!ht_out__continue_(c->dout)) return;
    c->flags |= HT_CF_INTERIM;
    ht_conn__defer_flush_(c);
}

/* Delivers the streamed body bytes in the buffer. Never runs beside a
 * receive into that buffer: while a body is streamed the connection only
 * receives into pooled buffers, once this has consumed the last one. */
static void body_pump(ht_conn_t* c) {
    ht_acceptor_t* acc = c->acc;
    while (c->rstate == HT_RS_BODY_STREAM && !(c->flags & HT_CF_DEAD) && c->in && c->in_off < c->in_len) {
        char* p = c->in + c->in_off;
        size_t raw = c->in_len - c->in_off, n;
        bool last;
        if (!(c->flags & HT_CF_CHUNKED)) {
            n = raw < c->body_need ? raw : (size_t) c->body_need;
            c->in_off += n;
            c->body_need -= n;
            last = c->body_need == 0;
        } else {
            n = raw;
            ht_io_t r = ht_chunked__decode(&c->chunked, p, &n, c->body_limit, acc->cfg_.max_trailer);
            if (r == -EAGAIN) {
                c->in_off = c->in_len; /* all consumed; p[0, n) is payload */
                last = false;
            } else if (r < 0) {
                if (c->defer) ht_defer__cut_(c->defer, (ht_result_t) r);
                ht_conn__defer_fail_(c, ht_result__status((ht_result_t) r), true);
                return;
            } else {
                /* The r bytes after the body were moved behind the payload. */
                c->in_off = (size_t) (p - c->in) + n;
                c->in_len = c->in_off + (size_t) r;
                last = true;
            }
        }
        c->body_len += n;
        if (last) c->rstate = HT_RS_HEAD; /* the request is consumed */
        if (c->defer && (n || last)) ht_defer__body_(c->defer, (ht_slice_t){ p, n }, last);
    }
    if (c->in && c->in_off == c->in_len && !(c->flags & (HT_CF_RECV | HT_CF_DEAD))) ht_conn__in_release_(c);
}

void ht_conn__body_pump_(ht_conn_t* c) {
    body_pump(c);
    if (!(c->flags & HT_CF_DEAD)) ht_conn__next_(c);
}
