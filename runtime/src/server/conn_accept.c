/* server/conn_accept.c — what the acceptor does to a connection.
 *
 * It starts one on an accepted socket (its struct from the acceptor's free
 * list, the PROXY protocol's admission, TCP_NODELAY, the header deadline,
 * the first receive), starts a starved one receiving again, and ends one
 * whose deadline its sweep found passed: 408 for a request cut short, a
 * deferred response's own deadline, or a plain close. The wire itself is
 * conn.c's. Once per connection or per timeout, never per request.
 */
#include <string.h>

#include "server/conn.h"
#include "server/sock.h"

/* ---- Starting ---- */

static ht_conn_t* conn_get(ht_acceptor_t* acc) {
    ht_conn_t* c = acc->free_conns_;
    if (c) {
        acc->free_conns_ = c->tnext;
    } else {
        c = ht_alloc__alloc(acc->alloc_, sizeof *c);
        if (c == nullptr) return nullptr;
        acc->stats_.conn_structs++;
    }
    memset(c, 0, sizeof *c);
    c->acc = acc;
    c->tclass = HT_TC_NONE;
    c->rop.data = c;
    c->sop.data = c;
    return c;
}

bool ht_conn__start_(ht_acceptor_t* acc, ht_socket_t fd) {
    ht_conn_t* c = conn_get(acc);
    if (c == nullptr) return false;
    c->fd = fd;
    if (HT_UNLIKELY(acc->cfg_.proxy_protocol != nullptr)) {
        /* PROXY protocol (proxy.c): only from a trusted sender (else the
         * acceptor closes it unread), and its header comes first. */
        if (!ht_proxy__admit_(acc, fd, &c->sock_peer)) {
            c->tnext = acc->free_conns_;
            acc->free_conns_ = c;
            return false;
        }
        c->rstate = HT_RS_PROXY;
        c->proxied = true;
    }
    /* Responses are already coalesced into one send per batch; what
     * Nagle would hold back is a head's tail or a file body sent after
     * a head (ht_response__file), which then waits ~40 ms for the
     * client's delayed ACK. One syscall per connection, none per request. */
    ht_sock__nodelay(fd);
    acc->stats_.open++;
    acc->stats_.accepted++;
    ht_conn__tl_set_(c, HT_TC_HEADER);
    ht_conn__recv_start_(c);
    return true;
}

void ht_conn__retry_(ht_conn_t* c) {
    ht_conn__tl_set_(c, ht_conn__tc_waiting_(c));
    ht_conn__recv_start_(c);
}

/* ---- Timeouts (the acceptor's sweep found c's deadline passed) ---- */

void ht_conn__timeout_(ht_conn_t* c, uint8_t cls) {
    ht_acceptor_t* acc = c->acc;
    if ((c->flags & HT_CF_DEFER) && (cls == HT_TC_IDLE || cls == HT_TC_HEADER)) {
        ht_conn__tl_set_(c, HT_TC_DEFER); /* its own deadline governs (ht_conn__defer_wait_) */
        return;
    }
    acc->stats_.timeouts++;
    ht_conn__tl_unlink_(c);
    switch (cls) {
    case HT_TC_HEADER:
        /* A PROXY header still incomplete gets no 408: only a close. */
        if (c->in && c->in_len > c->in_off && !(c->flags & HT_CF_SEND) && c->rstate != HT_RS_PROXY) {
            ht_conn__fail_(c, HT_E_TIMEOUT, false);
            ht_conn__next_(c);
        } else {
            ht_conn__close_(c);
        }
        break;
    case HT_TC_BODY:
        if (c->flags & HT_CF_DEFER) {
            /* A streamed body stalled: the handle learns why. */
            if (c->defer) ht_defer__cut_(c->defer, HT_E_TIMEOUT);
            ht_conn__defer_fail_(c, 408, true);
        } else if (!(c->flags & HT_CF_SEND)) {
            ht_conn__fail_(c, HT_E_TIMEOUT, c->json_err);
            ht_conn__next_(c);
        } else {
            ht_conn__close_(c);
        }
        break;
    default: /* idle, send, linger, starved */
        ht_conn__close_(c);
        break;
    }
}
