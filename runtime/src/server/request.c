/* server/request.c — header lookups over the parsed request; the peer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "server/conn.h"

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

static void addr_from(const struct sockaddr_storage* ss, ht_addr_t* out) {
    *out = (ht_addr_t){ .family = HT_ADDR_NONE };
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in* in = (const struct sockaddr_in*) ss;
        out->family = HT_ADDR_IPV4;
        out->port = ntohs(in->sin_port);
        memcpy(out->addr, &in->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6* in6 = (const struct sockaddr_in6*) ss;
        out->port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            out->family = HT_ADDR_IPV4; /* a dual-stack socket's IPv4 client */
            memcpy(out->addr, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            out->family = HT_ADDR_IPV6;
            memcpy(out->addr, &in6->sin6_addr, 16);
        }
    }
}

ht_result_t ht_request__peer(const ht_request_t* r, ht_addr_t* out) {
    ht_conn_t* c = r->conn_;
    *out = (ht_addr_t){ .family = HT_ADDR_NONE };
    if (c == nullptr) return -ENOTCONN;
    if (!c->peer_known && c->peer_err == 0) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (getpeername(c->fd, (struct sockaddr*) &ss, &len) != 0) {
            c->peer_err = (int16_t) -errno;
            return c->peer_err;
        }
        addr_from(&ss, &c->peer);
        c->peer_known = true;
    }
    if (c->peer_err) return c->peer_err;
    *out = c->peer;
    return 0;
}

size_t ht_addr__format(const ht_addr_t* a, char* out) {
    int af = a->family == HT_ADDR_IPV4 ? AF_INET : a->family == HT_ADDR_IPV6 ? AF_INET6 : 0;
    if (af == 0 || inet_ntop(af, a->addr, out, HT_ADDR_STRLEN) == nullptr) {
        out[0] = '-';
        out[1] = '\0';
        return 1;
    }
    return strlen(out);
}
