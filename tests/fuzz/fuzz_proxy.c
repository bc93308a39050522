/* fuzz_proxy: the PROXY protocol header parser (ht_proxy__parse, v1 text
 * and v2 binary with TLVs) and the address / trust-list parsers of
 * ht/proxy.h. Invariants, any violation aborts:
 *   - the result is -EAGAIN, HT_E_BAD_PROXY or a length in (0, len], at most
 *     HT_PROXY_MAX_HEADER, and parsing exactly that many bytes gives it again;
 *   - split independence: every prefix is -EAGAIN or the whole input's
 *     result (a header is never found shorter, an error never later undone);
 *   - a parsed address formats and parses back to itself;
 *   - a parsed trust list contains each of its networks' addresses. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ht/proxy.h>
#include <ht/types.h>

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define FAIL(...) do { fprintf(stderr, "fuzz_proxy: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static void check_header(const char* buf, size_t len) {
    ht_proxy_header_t h;
    ht_io_t r = ht_proxy__parse(buf, len, &h);
    if (r != -EAGAIN && r != HT_E_BAD_PROXY && !(r > 0 && (size_t) r <= len && r <= HT_PROXY_MAX_HEADER))
        FAIL("result %lld for %zu bytes", (long long) r, len);
    if (r > 0) {
        ht_proxy_header_t h2;
        if (ht_proxy__parse(buf, (size_t) r, &h2) != r) FAIL("the header alone parses differently");
        if (h.version != 1 && h.version != 2) FAIL("version %u", h.version);
        if (!h.local && (h.src.family == HT_ADDR_NONE || h.dst.family == HT_ADDR_NONE)) FAIL("no address");
        char t[HT_ADDR_STRLEN];
        ht_addr__format(&h.src, t);
    }
    /* Prefixes: all of them for short inputs, a sample for long ones. */
    size_t step = len <= 300 ? 1 : len / 97 + 1;
    for (size_t k = 0; k < len; k += step) {
        ht_proxy_header_t x;
        ht_io_t p = ht_proxy__parse(buf, k, &x);
        if (p == -EAGAIN) continue;
        if (p != r) FAIL("prefix %zu: %lld, whole %zu: %lld", k, (long long) p, len, (long long) r);
    }
}

static void check_addr(const char* s, size_t n) {
    ht_addr_t a;
    if (ht_addr__parse(ht_slice__from(s, n), &a) != 0) return;
    char t[HT_ADDR_STRLEN];
    size_t tl = ht_addr__format(&a, t);
    ht_addr_t b;
    if (ht_addr__parse(ht_slice__from(t, tl), &b) != 0) FAIL("'%s' does not parse back", t);
    if (a.family != b.family || memcmp(a.addr, b.addr, 16) != 0) FAIL("'%s' parses back differently", t);
}

static void check_trust(const char* s) {
    ht_cidr_t c[16];
    uint32_t n = 0;
    ht_result_t r = ht_trust__parse(s, c, 16, &n);
    if (r != 0 && r != -EINVAL && r != -E2BIG) FAIL("trust result %d", r);
    if (r != 0) return;
    if (n == 0 || n > 16) FAIL("trust count %u", n);
    ht_trust_t t = { c, n };
    for (uint32_t i = 0; i < n; i++) {
        if (c[i].net.family == HT_ADDR_IPV4 && c[i].bits > 32) FAIL("bits %u", c[i].bits);
        if (c[i].net.family == HT_ADDR_IPV6 && c[i].bits > 128) FAIL("bits %u", c[i].bits);
        if (!ht_trust__contains(&t, &c[i].net)) FAIL("network %u not in its own list", i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    /* Copies: ASan then catches any read past the input. */
    char* buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    check_header(buf, size);
    check_addr(buf, size < 64 ? size : 64);
    char* z = malloc(size + 1);
    memcpy(z, data, size);
    z[size] = '\0';
    if (strlen(z) < 512) check_trust(z);
    free(z);
    free(buf);
    return 0;
}
