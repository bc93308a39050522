/* check_proxy: ht/proxy.h — address literals and trust lists, the PROXY
 * header parser (v1, v2, TLVs, malformed, every split), and on the wire:
 * the header's address as ht_request__peer, a malformed or late header
 * closed without an answer, an untrusted sender refused, Forwarded and
 * X-Forwarded-For through ht_request__client. Every wait is bounded. */
#include <check.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"

/* Answers "peer ADDR:PORT socket ADDR client ADDR:PORT". */
static void handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) cfg;
    ht_addr_t p, s, c;
    char ps[HT_ADDR_STRLEN], ss[HT_ADDR_STRLEN], cs[HT_ADDR_STRLEN];
    ck_assert_int_eq(ht_request__peer(req, &p), 0);
    ck_assert_int_eq(ht_request__socket_peer(req, &s), 0);
    ck_assert_int_eq(ht_request__client(req, &c), 0);
    ht_addr__format(&p, ps);
    ht_addr__format(&s, ss);
    ht_addr__format(&c, cs);
    char body[256];
    int n = snprintf(body, sizeof body, "peer %s:%u socket %s client %s:%u", ps, (unsigned) p.port, ss, cs,
                     (unsigned) c.port);
    ht_response__bytes(res, 200, HT_SLICE("text/plain"), body, (size_t) n, a);
}

static void setup(void) { alarm(60); }
static void teardown(void) { alarm(0); }

static const char* fmt(const ht_addr_t* a) {
    static char b[HT_ADDR_STRLEN];
    ht_addr__format(a, b);
    return b;
}

START_TEST(addresses_and_trust_lists) {
    ht_addr_t a;
    static const struct { const char* in; const char* out; int fam; } ok[] = {
        { "192.0.2.1", "192.0.2.1", HT_ADDR_IPV4 },   { "0.0.0.0", "0.0.0.0", HT_ADDR_IPV4 },
        { "::1", "::1", HT_ADDR_IPV6 },               { "::", "::", HT_ADDR_IPV6 },
        { "2001:db8::1", "2001:db8::1", HT_ADDR_IPV6 }, { "2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1", HT_ADDR_IPV6 },
        { "fe80::", "fe80::", HT_ADDR_IPV6 },         { "::ffff:10.1.2.3", "10.1.2.3", HT_ADDR_IPV4 },
        { "64:ff9b::192.0.2.33", "64:ff9b::c000:221", HT_ADDR_IPV6 },
        { "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", HT_ADDR_IPV6 },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(ok); i++) {
        ck_assert_msg(ht_addr__parse(ht_slice__from_cstr(ok[i].in), &a) == 0, "%s", ok[i].in);
        ck_assert_int_eq(a.family, ok[i].fam);
        ck_assert_str_eq(fmt(&a), ok[i].out);
    }
    static const char* const bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d",
                                       ":::", "1::2::3", ":1::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::",
                                       "12345::", "::1.2.3", "[::1]", "fe80::1%eth0", "1:2:3:4:5:6:7::8:9",
                                       "1:", "::g" };
    for (size_t i = 0; i < HT_ARRAY_LEN(bad); i++)
        ck_assert_msg(ht_addr__parse(ht_slice__from_cstr(bad[i]), &a) == -EINVAL, "%s", bad[i]);

    ht_cidr_t c[8];
    uint32_t n = 0;
    ck_assert_int_eq(ht_trust__parse("10.0.0.0/8, 127.0.0.1 ,2001:db8::/32,unix,::ffff:172.16.0.0/108", c, 8, &n), 0);
    ck_assert_uint_eq(n, 5);
    ht_trust_t t = { c, n };
    static const struct { const char* a; bool in; } m[] = {
        { "10.200.3.4", true }, { "11.0.0.1", false }, { "127.0.0.1", true }, { "127.0.0.2", false },
        { "2001:db8:ffff::1", true }, { "2001:db9::1", false }, { "172.16.9.9", true }, { "172.32.0.1", false },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(m); i++) {
        ck_assert_int_eq(ht_addr__parse(ht_slice__from_cstr(m[i].a), &a), 0);
        ck_assert_msg(ht_trust__contains(&t, &a) == m[i].in, "%s", m[i].a);
    }
    a = (ht_addr_t){ .family = HT_ADDR_NONE };
    ck_assert(ht_trust__contains(&t, &a)); /* "unix" */
    ht_trust_t t2 = { c, 1 };
    ck_assert(!ht_trust__contains(&t2, &a));
    ck_assert(!ht_trust__contains(nullptr, &a));
    static const char* const badl[] = { "", "10.0.0.0/33", "10.0.0.1/8", "::/129", "10.0.0.0/", "x", "1.2.3.4,",
                                        "1.2.3.4,,5.6.7.8", "10.0.0.0/8x", "::ffff:1.2.3.4/95" };
    for (size_t i = 0; i < HT_ARRAY_LEN(badl); i++)
        ck_assert_msg(ht_trust__parse(badl[i], c, 8, &n) == -EINVAL, "%s", badl[i]);
    ck_assert_int_eq(ht_trust__parse("1.1.1.1,2.2.2.2,3.3.3.3", c, 2, &n), -E2BIG);
    ck_assert_int_eq(ht_trust__parse("0.0.0.0/0,::/0", c, 8, &n), 0);
    ck_assert_int_eq(ht_addr__parse(HT_SLICE("8.8.8.8"), &a), 0);
    ht_trust_t all = { c, n };
    ck_assert(ht_trust__contains(&all, &a));
}
END_TEST

/* v2 header: PROXY command, family fam, the address block and TLVs. */
static size_t v2(char* out, uint8_t cmd, uint8_t fam, const void* addrs, size_t alen, const void* tlv, size_t tlen) {
    static const char sig[12] = { '\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n' };
    memcpy(out, sig, 12);
    out[12] = (char) (0x20 | cmd);
    out[13] = (char) fam;
    size_t l = alen + tlen;
    out[14] = (char) (l >> 8);
    out[15] = (char) l;
    if (alen) memcpy(out + 16, addrs, alen);
    if (tlen) memcpy(out + 16 + alen, tlv, tlen);
    return 16 + l;
}

static const uint8_t a4[12] = { 203, 0, 113, 7, 192, 0, 2, 1, 0x12, 0x67, 0x1f, 0x90 }; /* :4711 -> :8080 */

/* Every prefix is -EAGAIN or (for a bad header) the same error. */
static ht_io_t parse_split(const char* buf, size_t len, ht_proxy_header_t* h) {
    ht_io_t whole = ht_proxy__parse(buf, len, h);
    for (size_t k = 0; k < len; k++) {
        ht_proxy_header_t x;
        ht_io_t r = ht_proxy__parse(buf, k, &x);
        if (whole > 0) ck_assert_msg(r == -EAGAIN || (r > 0 && r == whole), "prefix %zu: %lld", k, (long long) r);
        else ck_assert_msg(r == -EAGAIN || r == whole, "prefix %zu: %lld", k, (long long) r);
    }
    return whole;
}

START_TEST(header_parser) {
    ht_proxy_header_t h;
    const char* l1 = "PROXY TCP4 203.0.113.7 192.0.2.1 4711 8080\r\nGET";
    ck_assert_int_eq(parse_split(l1, strlen(l1), &h), (ht_io_t) strlen(l1) - 3);
    ck_assert_uint_eq(h.version, 1);
    ck_assert(!h.local);
    ck_assert_str_eq(fmt(&h.src), "203.0.113.7");
    ck_assert_uint_eq(h.src.port, 4711);
    ck_assert_uint_eq(h.dst.port, 8080);
    const char* l6 = "PROXY TCP6 2001:db8::7 2001:db8::1 65535 443\r\n";
    ck_assert_int_eq(parse_split(l6, strlen(l6), &h), (ht_io_t) strlen(l6));
    ck_assert_str_eq(fmt(&h.src), "2001:db8::7");
    ck_assert_uint_eq(h.src.port, 65535);
    const char* lu = "PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 65535 65535\r\n";
    ck_assert_int_eq(parse_split(lu, strlen(lu), &h), (ht_io_t) strlen(lu));
    ck_assert(h.local);
    ck_assert_int_eq(parse_split("PROXY UNKNOWN\r\n", 15, &h), 15);
    static const char* const bad1[] = {
        "PROXY TCP4 203.0.113.7 192.0.2.1 4711 8080\n",   /* LF without CR */
        "PROXY TCP4 203.0.113.7 192.0.2.1 4711\r\n",      /* a field missing */
        "PROXY TCP4 2001:db8::7 192.0.2.1 4711 80\r\n",   /* family mismatch */
        "PROXY TCP6 203.0.113.7 192.0.2.1 4711 80\r\n",
        "PROXY TCP4 203.0.113.7 192.0.2.1 04711 80\r\n",  /* leading zero */
        "PROXY TCP4 203.0.113.7 192.0.2.1 65536 80\r\n",
        "PROXY TCP4  203.0.113.7 192.0.2.1 1 80\r\n",     /* two spaces */
        "PROXY UDP4 203.0.113.7 192.0.2.1 1 80\r\n",
        "PROXY tcp4 203.0.113.7 192.0.2.1 1 80\r\n",
        "PROXY TCP4 203.0.113.7 192.0.2.1 1 80 x\r\n",
        "PROXY\r\n", "proxy TCP4", "GET / HTTP/1.1\r\n", "\x16\x03\x01", "PROXY TCP4 1.2.3.4\x01",
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(bad1); i++)
        ck_assert_msg(parse_split(bad1[i], strlen(bad1[i]), &h) == HT_E_BAD_PROXY, "%s", bad1[i]);
    /* No LF in the longest v1 line: bad, not waiting forever. */
    char longl[200] = "PROXY UNKNOWN ";
    memset(longl + 14, 'x', 120);
    ck_assert_int_eq(ht_proxy__parse(longl, 134, &h), HT_E_BAD_PROXY);

    char b[600];
    static const uint8_t tlv[] = { 0x01, 0x00, 0x02, 'h', '2', 0x04, 0x00, 0x00, 0xee, 0x00, 0x01, 0x7f };
    size_t n = v2(b, 1, 0x11, a4, sizeof a4, tlv, sizeof tlv);
    memcpy(b + n, "GET", 3);
    ck_assert_int_eq(parse_split(b, n + 3, &h), (ht_io_t) n);
    ck_assert_uint_eq(h.version, 2);
    ck_assert_str_eq(fmt(&h.src), "203.0.113.7");
    ck_assert_uint_eq(h.src.port, 4711);
    ck_assert_str_eq(fmt(&h.dst), "192.0.2.1");
    uint8_t a6[36] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7, [16] = 0x20, [17] = 0x01, [18] = 0x0d, [19] = 0xb8,
                       [31] = 1, [32] = 0x01, [33] = 0xbb, [34] = 0, [35] = 80 };
    n = v2(b, 1, 0x21, a6, sizeof a6, nullptr, 0);
    ck_assert_int_eq(parse_split(b, n, &h), (ht_io_t) n);
    ck_assert_str_eq(fmt(&h.src), "2001:db8::7");
    ck_assert_uint_eq(h.src.port, 443);
    n = v2(b, 0, 0x11, a4, sizeof a4, nullptr, 0); /* LOCAL */
    ck_assert_int_eq(parse_split(b, n, &h), (ht_io_t) n);
    ck_assert(h.local);
    n = v2(b, 0, 0x00, nullptr, 0, nullptr, 0); /* LOCAL, UNSPEC */
    ck_assert_int_eq(parse_split(b, n, &h), 16);
    ck_assert(h.local);
    uint8_t un[216] = { 0 };
    n = v2(b, 1, 0x31, un, sizeof un, nullptr, 0); /* a Unix-socket client */
    ck_assert_int_eq(parse_split(b, n, &h), (ht_io_t) n);
    ck_assert(h.local);
    /* malformed v2 */
    n = v2(b, 1, 0x11, a4, 8, nullptr, 0); /* address block too short */
    ck_assert_int_eq(parse_split(b, n, &h), HT_E_BAD_PROXY);
    static const uint8_t badtlv[] = { 0x01, 0x00, 0x09, 'x' };
    n = v2(b, 1, 0x11, a4, sizeof a4, badtlv, sizeof badtlv); /* TLV past the end */
    ck_assert_int_eq(parse_split(b, n, &h), HT_E_BAD_PROXY);
    n = v2(b, 1, 0x11, a4, sizeof a4, badtlv, 2); /* TLV header cut */
    ck_assert_int_eq(parse_split(b, n, &h), HT_E_BAD_PROXY);
    n = v2(b, 2, 0x11, a4, sizeof a4, nullptr, 0); /* command 2 */
    ck_assert_int_eq(parse_split(b, n, &h), HT_E_BAD_PROXY);
    n = v2(b, 1, 0x41, a4, sizeof a4, nullptr, 0); /* family 4 */
    ck_assert_int_eq(parse_split(b, n, &h), HT_E_BAD_PROXY);
    n = v2(b, 1, 0x11, a4, sizeof a4, nullptr, 0);
    b[12] = 0x11; /* version 1 in a v2 signature */
    ck_assert_int_eq(parse_split(b, n, &h), HT_E_BAD_PROXY);
    n = v2(b, 1, 0x11, a4, sizeof a4, nullptr, 0);
    b[14] = 0x7f; /* longer than HT_PROXY_MAX_HEADER: at once, not waiting */
    ck_assert_int_eq(ht_proxy__parse(b, 16, &h), HT_E_BAD_PROXY);
    b[3] = 'X'; /* a broken signature */
    ck_assert_int_eq(ht_proxy__parse(b, 4, &h), HT_E_BAD_PROXY);
}
END_TEST

static ht_cidr_t g_cidrs[4];
static ht_trust_t g_trust;
static void trust(const char* list) {
    uint32_t n;
    ck_assert_int_eq(ht_trust__parse(list, g_cidrs, 4, &n), 0);
    g_trust = (ht_trust_t){ g_cidrs, n };
}

/* Sends bytes, reads one response; its body into body, or "" when the
 * server closed without one. Returns whether a response came. */
static bool exchange(const void* req, size_t len, char* body, size_t cap) {
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    ht_test__write_all(fd, req, len);
    resp_t p;
    bool got = read_resp(&r, &p, false);
    body[0] = '\0';
    if (got) {
        snprintf(body, cap, "%s", p.body);
        resp_free(&p);
    } else {
        ck_assert_uint_eq(r.len, 0); /* not a byte of an answer */
    }
    rd_free(&r);
    close(fd);
    return got;
}

START_TEST(proxy_protocol_on_the_wire) {
    trust("127.0.0.0/8");
    ht_config_t cfg = { .proxy_protocol = &g_trust, .header_timeout_ms = 400 };
    start_cfg(&cfg);
    char body[256];
    const char* v1 = "PROXY TCP4 203.0.113.7 192.0.2.1 4711 8080\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert(exchange(v1, strlen(v1), body, sizeof body));
    ck_assert_str_eq(body, "peer 203.0.113.7:4711 socket 127.0.0.1 client 203.0.113.7:4711");
    /* v2 with TLVs; the request in the same segment; a second request on the connection */
    char b[512];
    static const uint8_t tlv[] = { 0x01, 0x00, 0x02, 'h', '2' };
    size_t n = v2(b, 1, 0x11, a4, sizeof a4, tlv, sizeof tlv);
    const char* req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    memcpy(b + n, req, strlen(req));
    n += strlen(req);
    ck_assert(exchange(b, n, body, sizeof body));
    ck_assert_str_eq(body, "peer 203.0.113.7:4711 socket 127.0.0.1 client 203.0.113.7:4711");
    /* LOCAL: the proxy's own health check keeps the socket's address */
    n = v2(b, 0, 0x00, nullptr, 0, nullptr, 0);
    memcpy(b + n, req, strlen(req));
    ck_assert(exchange(b, n + strlen(req), body, sizeof body));
    ck_assert(strncmp(body, "peer 127.0.0.1:", 15) == 0);
    /* The header split byte by byte */
    int fd = client();
    rd_t r;
    rd_init(&r, fd);
    for (size_t i = 0; i < strlen(v1); i++) {
        ht_test__write_all(fd, v1 + i, 1);
        if (i < 50) ht_test__sleep_ms(1);
    }
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_str_eq(p.body, "peer 203.0.113.7:4711 socket 127.0.0.1 client 203.0.113.7:4711");
    resp_free(&p);
    rd_free(&r);
    close(fd);
    /* Malformed, or a plain request without the header: closed, no answer */
    ck_assert(!exchange(req, strlen(req), body, sizeof body));
    const char* badv1 = "PROXY TCP4 203.0.113.7 192.0.2.1 4711\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert(!exchange(badv1, strlen(badv1), body, sizeof body));
    /* Late: a partial header until the header timeout: a close, no 408 */
    uint64_t t0 = ht_test__mono_ms();
    ck_assert(!exchange("PROXY TCP4 203.", 15, body, sizeof body));
    ck_assert_uint_ge(ht_test__mono_ms() - t0, 300);
    stop();
    ck_assert_uint_eq(S.stats.requests, 4);
    ck_assert_uint_eq(S.stats.errors, 0);
}
END_TEST

START_TEST(untrusted_proxy_is_refused) {
    trust("10.0.0.0/8");
    ht_config_t cfg = { .proxy_protocol = &g_trust };
    start_cfg(&cfg);
    char body[256];
    const char* v1 = "PROXY TCP4 203.0.113.7 192.0.2.1 4711 8080\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    uint64_t t0 = ht_test__mono_ms();
    ck_assert(!exchange(v1, strlen(v1), body, sizeof body));
    ck_assert_uint_lt(ht_test__mono_ms() - t0, 3000);
    stop();
    ck_assert_uint_eq(S.stats.requests, 0);
}
END_TEST

START_TEST(forwarded_from_trusted_peers_only) {
    trust("127.0.0.1, 192.0.2.0/24");
    ht_config_t cfg = { .trust_forwarded = &g_trust };
    start_cfg(&cfg);
    char body[256];
    static const struct { const char* fields; const char* client; } cases[] = {
        /* rightmost untrusted hop; 192.0.2.x are trusted proxies */
        { "Forwarded: for=198.51.100.17;proto=http, for=192.0.2.43\r\n", "198.51.100.17:0" },
        { "Forwarded: for=\"[2001:db8:cafe::17]:4711\"\r\n", "2001:db8:cafe::17:4711" },
        { "Forwarded: for=203.0.113.9\r\nForwarded: For=\"198.51.100.17:80\"\r\n", "198.51.100.17:80" },
        { "Forwarded: for=unknown, for=192.0.2.43\r\n", "192.0.2.43:0" },
        { "Forwarded: for=_hidden\r\n", "127.0.0.1" },
        { "Forwarded: by=192.0.2.1\r\n", "127.0.0.1" },
        { "Forwarded: for=192.0.2.60\r\n", "192.0.2.60:0" }, /* every hop trusted: the leftmost */
        { "X-Forwarded-For: 198.51.100.1, 203.0.113.5, 192.0.2.7\r\n", "203.0.113.5:0" },
        { "X-Forwarded-For: 2001:db8::5\r\n", "2001:db8::5:0" },
        { "X-Forwarded-For: garbage\r\n", "127.0.0.1" },
        /* Forwarded wins over X-Forwarded-For */
        { "X-Forwarded-For: 198.51.100.1\r\nForwarded: for=203.0.113.1\r\n", "203.0.113.1:0" },
        { "", "127.0.0.1" },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(cases); i++) {
        char req[512];
        int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: x\r\n%s\r\n", cases[i].fields);
        ck_assert(exchange(req, (size_t) n, body, sizeof body));
        const char* c = strstr(body, "client ");
        ck_assert_ptr_nonnull(c);
        c += 7;
        if (strchr(cases[i].client, ':') == nullptr || strcmp(cases[i].client, "127.0.0.1") == 0)
            ck_assert_msg(strncmp(c, "127.0.0.1:", 10) == 0, "case %zu: %s", i, body);
        else
            ck_assert_msg(strcmp(c, cases[i].client) == 0, "case %zu: %s, want %s", i, c, cases[i].client);
    }
    stop();
    /* Not trusted: the fields are ignored */
    trust("10.0.0.0/8");
    start_cfg(&cfg);
    const char* req = "GET / HTTP/1.1\r\nHost: x\r\nForwarded: for=198.51.100.17\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n";
    ck_assert(exchange(req, strlen(req), body, sizeof body));
    ck_assert(strstr(body, "client 127.0.0.1:") != nullptr);
    stop();
}
END_TEST

/* PROXY and Forwarded together: the trust check applies to the header's
 * address (the hop before the proxy), not to the proxy's. */
START_TEST(proxy_then_forwarded) {
    static ht_cidr_t pc[2];
    uint32_t n;
    ck_assert_int_eq(ht_trust__parse("127.0.0.1", pc, 2, &n), 0);
    static ht_trust_t pt;
    pt = (ht_trust_t){ pc, n };
    trust("203.0.113.0/24");
    ht_config_t cfg = { .proxy_protocol = &pt, .trust_forwarded = &g_trust };
    start_cfg(&cfg);
    char body[256];
    const char* v1 = "PROXY TCP4 203.0.113.7 192.0.2.1 4711 8080\r\nGET / HTTP/1.1\r\nHost: x\r\n"
                     "X-Forwarded-For: 198.51.100.3\r\n\r\n";
    ck_assert(exchange(v1, strlen(v1), body, sizeof body));
    ck_assert_str_eq(body, "peer 203.0.113.7:4711 socket 127.0.0.1 client 198.51.100.3:0");
    stop();
}
END_TEST

int main(void) {
    Suite* s = suite_create("proxy");
    TCase* t = tcase_create("proxy");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, addresses_and_trust_lists);
    tcase_add_test(t, header_parser);
    tcase_add_test(t, proxy_protocol_on_the_wire);
    tcase_add_test(t, untrusted_proxy_is_refused);
    tcase_add_test(t, forwarded_from_trusted_peers_only);
    tcase_add_test(t, proxy_then_forwarded);
    suite_add_tcase(s, t);
    return ht_test__run(s);
}
