/* server/proxy.c — ht/proxy.h: address literals and trust lists, the PROXY
 * protocol header (v1 text, v2 binary; haproxy.org/download/2.6/doc/
 * proxy-protocol.txt), and the per-request client address (PROXY header,
 * Forwarded, X-Forwarded-For). Only connections of a server configured for
 * them come here; nothing is on the path of one that is not. */
#include <string.h>

#include <ht/proxy.h>

#include "server/conn.h"
#include "server/sock.h"

/* ---- Address literals ---- */

static int hexv(uint8_t c) {
    if ((unsigned) (c - '0') < 10u) return c - '0';
    c |= 0x20;
    if ((unsigned) (c - 'a') < 6u) return c - 'a' + 10;
    return -1;
}

/* Dotted quad, each part 0..255 without leading zeros. */
static bool parse_v4(const char* p, size_t n, uint8_t out[4]) {
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || p[i] != '.') return false;
            i++;
        }
        size_t s = i;
        unsigned v = 0;
        while (i < n && (unsigned) (p[i] - '0') < 10u && i - s < 3) v = v * 10 + (unsigned) (p[i++] - '0');
        if (i == s || v > 255 || (i - s > 1 && p[s] == '0')) return false;
        out[part] = (uint8_t) v;
    }
    return i == n;
}

/* RFC 4291 §2.2 text forms: 8 groups, one "::", an IPv4 tail. */
static bool parse_v6(const char* p, size_t n, uint8_t out[16]) {
    uint8_t b[16] = { 0 };
    size_t i = 0;
    int k = 0, gap = -1; /* k: bytes written; gap: where "::" was */
    if (n >= 2 && p[0] == ':' && p[1] == ':') {
        gap = 0;
        i = 2;
        if (i == n) goto done;
    } else if (n >= 1 && p[0] == ':') {
        return false;
    }
    for (;;) {
        /* a group, or an IPv4 tail */
        size_t s = i;
        unsigned v = 0;
        while (i < n && hexv((uint8_t) p[i]) >= 0 && i - s < 4) v = (v << 4) | (unsigned) hexv((uint8_t) p[i++]);
        if (i < n && p[i] == '.') {
            if (k > 12) return false;
            if (!parse_v4(p + s, n - s, b + k)) return false;
            k += 4;
            break;
        }
        if (i == s || k > 14) return false;
        b[k++] = (uint8_t) (v >> 8);
        b[k++] = (uint8_t) v;
        if (i == n) break;
        if (p[i] != ':') return false;
        i++;
        if (i < n && p[i] == ':') {
            if (gap >= 0) return false;
            gap = k;
            i++;
            if (i == n) break;
        } else if (i == n) {
            return false; /* a trailing single ':' */
        }
    }
done:
    if (gap >= 0) {
        if (k == 16) return false; /* "::" must stand for at least one group */
        int tail = k - gap;
        memmove(b + 16 - tail, b + gap, (size_t) tail);
        memset(b + gap, 0, (size_t) (16 - tail - gap));
    } else if (k != 16) {
        return false;
    }
    memcpy(out, b, 16);
    return true;
}

ht_result_t ht_addr__parse(ht_slice_t text, ht_addr_t* out) {
    *out = (ht_addr_t){ .family = HT_ADDR_NONE };
    if (text.len == 0 || text.len > 45) return -EINVAL;
    if (parse_v4(text.ptr, text.len, out->addr)) {
        out->family = HT_ADDR_IPV4;
        return 0;
    }
    uint8_t b[16];
    if (!parse_v6(text.ptr, text.len, b)) {
        memset(out->addr, 0, sizeof out->addr);
        return -EINVAL;
    }
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(b, mapped, 12) == 0) {
        out->family = HT_ADDR_IPV4;
        memcpy(out->addr, b + 12, 4);
    } else {
        out->family = HT_ADDR_IPV6;
        memcpy(out->addr, b, 16);
    }
    return 0;
}

/* ---- Trust lists ---- */

static bool prefix_eq(const uint8_t* a, const uint8_t* b, unsigned bits) {
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, full) != 0) return false;
    if (rest == 0) return true;
    uint8_t m = (uint8_t) (0xff00u >> rest);
    return ((a[full] ^ b[full]) & m) == 0;
}

ht_result_t ht_trust__parse(const char* list, ht_cidr_t* out, uint32_t cap, uint32_t* count) {
    uint32_t n = 0;
    *count = 0;
    const char* p = list;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        const char* e = p;
        while (*e && *e != ',') e++;
        const char* t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t')) t--;
        if (t == p) { /* an empty entry */
            *count = n;
            return -EINVAL;
        }
        if (n == cap) return -E2BIG;
        ht_cidr_t c = { .net = { .family = HT_ADDR_NONE }, .bits = 0 };
        size_t len = (size_t) (t - p);
        if (!(len == 4 && memcmp(p, "unix", 4) == 0)) {
            const char* slash = memchr(p, '/', len);
            size_t alen = slash ? (size_t) (slash - p) : len;
            if (ht_addr__parse(ht_slice__from(p, alen), &c.net) != 0) {
                *count = n;
                return -EINVAL;
            }
            unsigned max = c.net.family == HT_ADDR_IPV4 ? 32 : 128, bits = max;
            if (slash) {
                const char* d = slash + 1;
                bits = 0;
                if (d == t || t - d > 3) { *count = n; return -EINVAL; }
                for (; d < t; d++) {
                    if ((unsigned) (*d - '0') > 9u) { *count = n; return -EINVAL; }
                    bits = bits * 10 + (unsigned) (*d - '0');
                }
                /* "::ffff:10.0.0.0/104" is the IPv4 network /8 */
                if (c.net.family == HT_ADDR_IPV4 && memchr(p, ':', alen)) {
                    if (bits < 96) { *count = n; return -EINVAL; }
                    bits -= 96;
                }
            }
            if (bits > max) { *count = n; return -EINVAL; }
            uint8_t masked[16];
            memcpy(masked, c.net.addr, 16);
            for (unsigned i = bits; i < max; i++) masked[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
            if (memcmp(masked, c.net.addr, max / 8) != 0) { *count = n; return -EINVAL; } /* host bits set */
            c.bits = (uint8_t) bits;
        }
        out[n++] = c;
        if (*e == '\0') break;
        p = e + 1;
    }
    *count = n;
    return 0;
}

bool ht_trust__contains(const ht_trust_t* t, const ht_addr_t* a) {
    if (t == nullptr) return false;
    for (uint32_t i = 0; i < t->count; i++) {
        const ht_cidr_t* c = &t->cidrs[i];
        if (c->net.family != a->family) continue;
        if (a->family == HT_ADDR_NONE || prefix_eq(c->net.addr, a->addr, c->bits)) return true;
    }
    return false;
}

/* ---- The PROXY header ---- */

static const char v2_sig[12] = { '\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n' };

/* A decimal port, 0..65535, no leading zeros. */
static bool parse_port(const char* p, size_t n, uint16_t* out) {
    if (n == 0 || n > 5 || (n > 1 && p[0] == '0')) return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned) (p[i] - '0') > 9u) return false;
        v = v * 10 + (unsigned) (p[i] - '0');
    }
    if (v > 65535) return false;
    *out = (uint16_t) v;
    return true;
}

/* v1: "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN ...\r\n",
 * at most 107 bytes. */
#define V1_MAX ((size_t) 107)
static ht_io_t parse_v1(const char* buf, size_t len, ht_proxy_header_t* out) {
    size_t seen = len, e = 0;
    if (seen > V1_MAX) seen = V1_MAX;
    while (e < seen && buf[e] != '\n') e++;
    if (e == seen) { /* no LF yet */
        /* Printable ASCII and at most CR at the end so far, else bad now. */
        for (size_t i = 0; i < seen; i++) {
            uint8_t c = (uint8_t) buf[i];
            bool last_cr = c == '\r' && i + 1 == seen;
            if ((c < 0x20 || c > 0x7e) && !last_cr) return HT_E_BAD_PROXY;
        }
        return len >= V1_MAX ? HT_E_BAD_PROXY : -EAGAIN;
    }
    const char* lf = buf + e;
    size_t n = (size_t) (lf - buf); /* the line without its LF */
    if (n == 0 || buf[n - 1] != '\r') return HT_E_BAD_PROXY;
    n--;
    for (size_t i = 0; i < n; i++)
        if ((uint8_t) buf[i] < 0x20 || (uint8_t) buf[i] > 0x7e) return HT_E_BAD_PROXY;
    /* Split on single spaces. */
    const char* f[7] = { nullptr };
    size_t fl[7] = { 0 };
    int nf = 0;
    size_t s = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || buf[i] == ' ') {
            if (nf == 7) return HT_E_BAD_PROXY;
            f[nf] = buf + s;
            fl[nf] = i - s;
            nf++;
            s = i + 1;
        }
    }
    if (nf < 2 || fl[0] != 5 || memcmp(f[0], "PROXY", 5) != 0) return HT_E_BAD_PROXY;
    *out = (ht_proxy_header_t){ .version = 1 };
    if (fl[1] == 7 && memcmp(f[1], "UNKNOWN", 7) == 0) {
        out->local = true; /* whatever follows is ignored (the spec says so) */
        return (ht_io_t) (lf - buf + 1);
    }
    bool v4 = fl[1] == 4 && memcmp(f[1], "TCP4", 4) == 0;
    bool v6 = fl[1] == 4 && memcmp(f[1], "TCP6", 4) == 0;
    if ((!v4 && !v6) || nf != 6) return HT_E_BAD_PROXY;
    uint8_t want = v4 ? HT_ADDR_IPV4 : HT_ADDR_IPV6;
    /* TCP6 with an IPv4-mapped address comes out as IPv4: taken as such. */
    if (ht_addr__parse(ht_slice__from(f[2], fl[2]), &out->src) != 0 ||
        ht_addr__parse(ht_slice__from(f[3], fl[3]), &out->dst) != 0 ||
        (v4 && (out->src.family != want || out->dst.family != want)) ||
        (v6 && (memchr(f[2], ':', fl[2]) == nullptr || memchr(f[3], ':', fl[3]) == nullptr)) ||
        !parse_port(f[4], fl[4], &out->src.port) || !parse_port(f[5], fl[5], &out->dst.port))
        return HT_E_BAD_PROXY;
    return (ht_io_t) (lf - buf + 1);
}

HT_INLINE uint16_t be16(const char* p) {
    return (uint16_t) (((unsigned) (uint8_t) p[0] << 8) | (uint8_t) p[1]);
}

static ht_io_t parse_v2(const char* buf, size_t len, ht_proxy_header_t* out) {
    if (len < 16) return -EAGAIN;
    uint8_t vc = (uint8_t) buf[12], fam = (uint8_t) buf[13];
    size_t total = 16 + (size_t) be16(buf + 14);
    if ((vc >> 4) != 2 || (vc & 0x0f) > 1 || total > HT_PROXY_MAX_HEADER) return HT_E_BAD_PROXY;
    /* The address block's minimum size for the family, checked before
     * waiting for it, so a bad length fails at once. */
    size_t need = 0;
    switch (fam) {
    case 0x11: case 0x12: need = 12; break;  /* TCP4, UDP4 */
    case 0x21: case 0x22: need = 36; break;  /* TCP6, UDP6 */
    case 0x31: case 0x32: need = 216; break; /* UNIX stream, dgram */
    case 0x00: need = 0; break;              /* UNSPEC */
    default: return HT_E_BAD_PROXY;
    }
    if (total - 16 < need) return HT_E_BAD_PROXY;
    if (len < total) return -EAGAIN;
    *out = (ht_proxy_header_t){ .version = 2 };
    const char* a = buf + 16;
    bool local = (vc & 0x0f) == 0;
    if (!local && fam == 0x11) {
        out->src.family = out->dst.family = HT_ADDR_IPV4;
        memcpy(out->src.addr, a, 4);
        memcpy(out->dst.addr, a + 4, 4);
        out->src.port = be16(a + 8);
        out->dst.port = be16(a + 10);
    } else if (!local && fam == 0x21) {
        ht_addr_t s = { .family = HT_ADDR_IPV6 }, d = { .family = HT_ADDR_IPV6 };
        memcpy(s.addr, a, 16);
        memcpy(d.addr, a + 16, 16);
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (memcmp(s.addr, mapped, 12) == 0) { /* as a dual-stack socket gives it */
            s.family = HT_ADDR_IPV4;
            memmove(s.addr, s.addr + 12, 4);
            memset(s.addr + 4, 0, 12);
        }
        s.port = be16(a + 32);
        d.port = be16(a + 34);
        out->src = s;
        out->dst = d;
    } else {
        /* LOCAL (the proxy's own connection), UNSPEC, Unix or datagram
         * sources: the socket's address stands. */
        out->local = true;
    }
    /* TLVs after the addresses: type(1) length(2) value; skipped, but a
     * TLV running past the header is malformed. */
    size_t off = 16 + need;
    while (off < total) {
        if (total - off < 3) return HT_E_BAD_PROXY;
        size_t l = be16(buf + off + 1);
        if (total - off - 3 < l) return HT_E_BAD_PROXY;
        off += 3 + l;
    }
    return (ht_io_t) total;
}

ht_io_t ht_proxy__parse(const char* buf, size_t len, ht_proxy_header_t* out) {
    if (len == 0) return -EAGAIN;
    /* Which one: the first bytes decide (v1 "PROXY ", v2's signature);
     * anything else fails on its first byte that matches neither. */
    size_t n = len < 12 ? len : 12;
    if (memcmp(buf, v2_sig, n) == 0) return len < 12 ? -EAGAIN : parse_v2(buf, len, out);
    n = len < 6 ? len : 6;
    if (memcmp(buf, "PROXY ", n) != 0) return HT_E_BAD_PROXY;
    return parse_v1(buf, len, out); /* a prefix of "PROXY " has no LF: -EAGAIN */
}

/* ---- The connection's side (conn.c calls these) ---- */

bool ht_proxy__admit_(ht_acceptor_t* acc, ht_socket_t fd, ht_addr_t* sock_peer) {
    if (ht_sock__peer(fd, sock_peer) != 0) return false;
    return ht_trust__contains(acc->cfg_.proxy_protocol, sock_peer);
}

ht_io_t ht_proxy__consume_(ht_conn_t* c) {
    ht_proxy_header_t h;
    ht_io_t r = ht_proxy__parse(c->in + c->in_off, c->in_len - c->in_off, &h);
    if (r <= 0) return r;
    /* The header's source is the peer from now on (ht_request__peer). */
    c->peer = h.local ? c->sock_peer : h.src;
    c->peer_known = true;
    c->peer_err = 0;
    return r;
}

/* ---- Per request ---- */

ht_result_t ht_request__socket_peer(const ht_request_t* r, ht_addr_t* out) {
    const ht_conn_t* c = r->conn_;
    if (c != nullptr && c->proxied) {
        *out = c->sock_peer;
        return 0;
    }
    return ht_request__peer(r, out);
}

/* One Forwarded for= value or X-Forwarded-For item into an address:
 * "192.0.2.1", "192.0.2.1:80", "[2001:db8::1]", "[2001:db8::1]:80",
 * "2001:db8::1" (quotes already removed). */
static bool node_addr(ht_slice_t v, ht_addr_t* a) {
    if (v.len && v.ptr[0] == '[') {
        size_t e = ht_slice__find_byte(v, ']');
        if (e == SIZE_MAX || ht_addr__parse(ht_slice__sub(v, 1, e - 1), a) != 0) return false;
        ht_slice_t rest = ht_slice__sub(v, e + 1, v.len - e - 1);
        if (rest.len == 0) return true;
        return rest.ptr[0] == ':' && parse_port(rest.ptr + 1, rest.len - 1, &a->port);
    }
    if (ht_addr__parse(v, a) == 0) return true; /* v4, or bare v6 (X-Forwarded-For) */
    size_t col = ht_slice__find_byte(v, ':');
    if (col == SIZE_MAX || ht_slice__find_byte(ht_slice__sub(v, col + 1, v.len - col - 1), ':') != SIZE_MAX)
        return false;
    if (ht_addr__parse(ht_slice__sub(v, 0, col), a) != 0 || a->family != HT_ADDR_IPV4) return false;
    return parse_port(v.ptr + col + 1, v.len - col - 1, &a->port);
}

static ht_slice_t trim_ows(ht_slice_t s) {
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) s = ht_slice__sub(s, 1, s.len - 1);
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t')) s.len--;
    return s;
}

#define MAX_HOPS 64

/* The hops of every field with this id, in order: Forwarded's for= values
 * (an element without for= is a hop we cannot use: invalid), or
 * X-Forwarded-For's items. Returns the count (at most MAX_HOPS: the
 * leftmost beyond that are not looked at). */
static uint32_t collect_hops(const ht_request_t* r, ht_header_id_t id, ht_slice_t* hops) {
    uint32_t n = 0;
    uint16_t pos = 0;
    const ht_header_t* h;
    while ((h = ht_request__header_next(r, id, HT_SLICE_NULL, &pos)) != nullptr) {
        ht_slice_t v = h->value;
        /* Elements are split on ',' outside quotes. */
        size_t s = 0;
        bool q = false;
        for (size_t i = 0; i <= v.len; i++) {
            if (i < v.len && v.ptr[i] == '"') q = !q;
            if (i < v.len && (v.ptr[i] != ',' || q)) continue;
            ht_slice_t el = trim_ows(ht_slice__sub(v, s, i - s));
            s = i + 1;
            if (el.len == 0) continue;
            if (n == MAX_HOPS) return n;
            if (id == HT_HEADER_X_FORWARDED_FOR) {
                hops[n++] = el;
                continue;
            }
            /* forwarded-element = pair *( ";" pair ): find for= */
            ht_slice_t hop = HT_SLICE_NULL;
            size_t ps = 0;
            bool pq = false;
            for (size_t j = 0; j <= el.len; j++) {
                if (j < el.len && el.ptr[j] == '"') pq = !pq;
                if (j < el.len && (el.ptr[j] != ';' || pq)) continue;
                ht_slice_t pair = trim_ows(ht_slice__sub(el, ps, j - ps));
                ps = j + 1;
                if (pair.len > 4 && (pair.ptr[0] | 0x20) == 'f' && (pair.ptr[1] | 0x20) == 'o' &&
                    (pair.ptr[2] | 0x20) == 'r' && pair.ptr[3] == '=') {
                    hop = ht_slice__sub(pair, 4, pair.len - 4);
                    if (hop.len >= 2 && hop.ptr[0] == '"' && hop.ptr[hop.len - 1] == '"')
                        hop = ht_slice__sub(hop, 1, hop.len - 2);
                }
            }
            hops[n++] = hop.ptr ? hop : (ht_slice_t){ el.ptr, 0 }; /* no for=: unusable */
        }
    }
    return n;
}

ht_result_t ht_request__client(const ht_request_t* r, ht_addr_t* out) {
    ht_result_t e = ht_request__peer(r, out);
    if (e != 0) return e;
    const ht_conn_t* c = r->conn_;
    const ht_trust_t* t = c->acc->cfg_.trust_forwarded;
    if (t == nullptr || !ht_trust__contains(t, out)) return 0;
    ht_slice_t hops[MAX_HOPS];
    uint32_t n = collect_hops(r, HT_HEADER_FORWARDED, hops);
    if (n == 0) n = collect_hops(r, HT_HEADER_X_FORWARDED_FOR, hops);
    for (uint32_t i = n; i-- > 0;) {
        ht_addr_t a = { .family = HT_ADDR_NONE };
        if (!node_addr(hops[i], &a)) break; /* unknown, obfuscated: stop at the last trusted */
        *out = a;
        if (!ht_trust__contains(t, &a)) break;
    }
    return 0;
}
