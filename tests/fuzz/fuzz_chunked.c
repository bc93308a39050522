/* fuzz_chunked: the chunked body decoder alone (fuzz_parse reaches it only
 * behind a valid head). Input: 2 bytes of split offset, 1 byte picking
 * max_body / max_trailer, then the raw body. Invariants: the verdict, payload
 * and leftover bytes are the same all at once, split at the offset and a byte
 * at a time; output never grows; leftover bytes are preserved in place; the
 * payload never exceeds max_body; d.total is the payload length. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

#define FAIL(...) do { fprintf(stderr, "fuzz_chunked: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

typedef struct { ht_io_t r; size_t plen; uint64_t total; } run_t;

/* step 0: one call; otherwise the first piece is `first` bytes, then pieces of `step`. */
static run_t run(const char* in, size_t n, size_t first, size_t step, uint64_t mb, uint32_t mt,
                 char* pay) {
    ht_chunked_t d = { 0 };
    run_t o = { -EAGAIN, 0, 0 };
    size_t off = 0;
    do {
        size_t k = off == 0 && first ? first : step ? step : n;
        if (k > n - off) k = n - off;
        char* b = malloc(k ? k : 1);
        memcpy(b, in + off, k);
        size_t len = k;
        o.r = ht_chunked__decode(&d, b, &len, mb, mt);
        if (len > k) FAIL("output grew");
        memcpy(pay + o.plen, b, len);
        o.plen += len;
        off += k;
        if (o.r >= 0) {
            if ((size_t) o.r > k - len) FAIL("leftover %lld > room", (long long) o.r);
            if (memcmp(b + len, in + off - (size_t) o.r, (size_t) o.r) != 0)
                FAIL("leftover bytes not preserved");
            o.r += (ht_io_t) (n - off);
        }
        free(b);
    } while (o.r == -EAGAIN && off < n);
    o.total = d.total;
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    size_t split = (size_t) data[0] | (size_t) data[1] << 8;
    uint8_t sel = data[2];
    const char* in = (const char*) data + 3;
    size_t n = size - 3;
    uint64_t mb = sel & 1 ? (uint64_t) (sel >> 1 & 15) * 7 : 1u << 20;
    uint32_t mt = sel & 32 ? (uint32_t) (sel >> 6) * 8 : 1024;
    char* p1 = malloc(n + 1);
    char* p2 = malloc(n + 1);
    run_t a = run(in, n, 0, 0, mb, mt, p1);
    if (a.r >= 0 && a.total != a.plen) FAIL("total %llu, payload %zu", (unsigned long long) a.total, a.plen);
    if (a.plen > mb) FAIL("payload %zu beyond max_body %llu", a.plen, (unsigned long long) mb);
    size_t cut = split % (n + 1);
    run_t b = run(in, n, cut, 0, mb, mt, p2);
    if (a.r != b.r) FAIL("one call %lld, split at %zu %lld", (long long) a.r, cut, (long long) b.r);
    if (a.r >= 0 && (a.plen != b.plen || memcmp(p1, p2, a.plen) != 0)) FAIL("split payload differs");
    if (n <= 2048) {
        run_t c = run(in, n, 0, 1, mb, mt, p2);
        if (a.r != c.r) FAIL("one call %lld, bytewise %lld", (long long) a.r, (long long) c.r);
        if (a.r >= 0 && (a.plen != c.plen || memcmp(p1, p2, a.plen) != 0)) FAIL("bytewise payload differs");
    }
    free(p1);
    free(p2);
    return 0;
}
