/* server/request.c — header lookups over the parsed request; the peer. */
#include <string.h>

#include "server/conn.h"
#include "server/sock.h"

ht_slice_t ht_request__header(const ht_request_t* r, ht_header_id_t id) {
    for (uint16_t i = 0; i < r->num_headers_; i++)
        if (r->headers_[i].id == id) return r->headers_[i].value;
    return HT_SLICE_NULL;
}

ht_slice_t ht_request__header_by_name(const ht_request_t* r, ht_slice_t name) {
    ht_header_id_t id = ht_header__id(name.ptr, name.len);
    if (id != HT_HEADER__UNKNOWN) return ht_request__header(r, id);
    for (uint16_t i = 0; i < r->num_headers_; i++)
        if (r->headers_[i].id == HT_HEADER__UNKNOWN && ht_slice__eq_nocase(r->headers_[i].name, name))
            return r->headers_[i].value;
    return HT_SLICE_NULL;
}

const ht_header_t* ht_request__header_next(const ht_request_t* r, ht_header_id_t id,
                                           ht_slice_t name, uint16_t* pos) {
    if (id == HT_HEADER__UNKNOWN && name.len) id = ht_header__id(name.ptr, name.len);
    while (*pos < r->num_headers_) {
        const ht_header_t* h = &r->headers_[(*pos)++];
        if (id != HT_HEADER__UNKNOWN) {
            if (h->id == id) return h;
        } else if (name.len == 0 || ht_slice__eq_nocase(h->name, name)) {
            return h;
        }
    }
    return nullptr;
}

/* ---- The peer (see ht/request.h for why it is asked lazily) ---- */

ht_result_t ht_request__peer(const ht_request_t* r, ht_addr_t* out) {
    ht_conn_t* c = r->conn_;
    *out = (ht_addr_t){ .family = HT_ADDR_NONE };
    if (c == nullptr) return -ENOTCONN;
    if (!c->peer_known && c->peer_err == 0) {
        ht_result_t e = ht_sock__peer(c->fd, &c->peer);
        if (e != 0) {
            c->peer = (ht_addr_t){ .family = HT_ADDR_NONE };
            c->peer_err = (int16_t) e;
            return c->peer_err;
        }
        c->peer_known = true;
    }
    if (c->peer_err) return c->peer_err;
    *out = c->peer;
    return 0;
}
