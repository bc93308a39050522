/* http/parse.c — the strict HTTP/1.1 request-head parser (see parse.h).
 *
 * One pass over the head, a line at a time. The hot loops are the scans of the
 * request-target and of field lines (parse_scan.h, with the other scans):
 * they look for the first byte outside the allowed set 16 bytes at a time
 * (SSE2, always there on x86-64; 32 with -DHT_PARSE_USE_AVX2). A field line is scanned from its start for its first
 * CTL, DEL or obs-text byte (two vector operations a block; HTAB and
 * obs-text are then stepped over); the same first block gives the name's
 * ':', and a name that the header-id lookup knows is valid without a scan of
 * its own. Other names and methods are checked 16 bytes at a time with a
 * nibble table where SSSE3 exists (-march=native builds), else by the Host
 * scan's class (letters, digits, '-', '.'), the rarer tchars a byte at a
 * time. Near the end of the buffer the scans reload the buffer's last full
 * vector (or go a byte at a time for the last few bytes) instead of reading
 * past it, so no byte at or after buf+len is ever touched.
 * -DHT_PARSE_SCALAR (or a non-x86 target) uses plain loops.
 *
 * Incremental calls: while the head is incomplete, a new call first looks for
 * an LF in the bytes it has not seen (memchr); without one nothing else
 * happens. With one, only the lines completed since the last call are checked
 * (no output). When the head is complete, one full pass from the start fills
 * `out`, so the result is that of a single call over the whole head.
 */
/* gcc, AVX-512 targets (-march=native on such a CPU): this file is compiled
 * without AVX-512. With it, gcc builds every vector constant from a general
 * register (mov + vpbroadcastb, ~90 of them) at the entry of each scan, uses
 * EVEX forms and 256-bit stores with vzeroupper on the way out; none of that
 * widens a scan, and bench_parser measured that build 5-10% slower than the
 * same code for x86-64-v3 or with -mno-avx512f (BENCHMARKS.md, "Parser"). It
 * comes first, so that every inline function this file defines or includes
 * has the same target. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__AVX512F__)
#  pragma GCC target("no-avx512f")
#endif

#include "http/parse.h"

#include <string.h>

#define HT_HEADER_GPERF_LOOKUP ht_header_gperf_lookup_parse_
#include "http/header_id.h" /* the inline lookup, with the generated tables */

#include "http/parse_scan.h" /* the byte scans: SIMD blocks, classes, scalar tails */

const uint8_t ht_http__tchar[256] = {
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, /* 00 */
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, /* 10 */
    0,1,0,1,1,1,1,1,0,0,1,1,0,1,1,0, /* 20  !"#$%&'()*+,-./ */
    1,1,1,1,1,1,1,1,1,1,0,0,0,0,0,0, /* 30 0-9 :;<=>? */
    0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, /* 40 @A-O */
    1,1,1,1,1,1,1,1,1,1,1,0,0,0,1,1, /* 50 P-Z [\]^_ */
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, /* 60 `a-o */
    1,1,1,1,1,1,1,1,1,1,1,0,1,0,1,0, /* 70 p-z {|}~ DEL */
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, /* 80 */
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, /* 90 */
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, /* a0 */
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, /* b0 */
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, /* c0 */
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, /* d0 */
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, /* e0 */
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, /* f0 */
};

#define IS_WS(c) ((c) == ' ' || (c) == '\t')

HT_INLINE uint64_t load64(const char* p) { uint64_t v; memcpy(&v, p, 8); return v; }
HT_INLINE uint32_t load32(const char* p) { uint32_t v; memcpy(&v, p, 4); return v; }
HT_INLINE uint16_t load16(const char* p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* ---- field semantics ---- */

/* Bytes of a reg-name (RFC 3986 §3.2.2: unreserved / sub-delims; '%' is
 * checked apart) and, inside brackets, of an IP-literal (those plus ':'). */
static const uint8_t host_char[256] = {
    ['!'] = 1, ['$'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1,
    [','] = 1, [';'] = 1, ['='] = 1, ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

HT_INLINE bool is_hex(uint8_t c) {
    return (unsigned) (c - '0') < 10u || (unsigned) ((c | 0x20) - 'a') < 6u;
}

/* Host = uri-host [ ":" port ] (RFC 9112 §3.2, RFC 3986 §3.2.2-3): a
 * reg-name (IPv4 addresses are reg-names too) or a bracketed IP-literal,
 * then optionally ':' and digits. Empty is allowed (no authority): `Host:
 * a/b` or `Host: a b` is 400. The usual shapes never get here: the header
 * loop's own scan of a Host value accepts them (walk). */
static bool host_valid(ht_slice_t v) {
    const uint8_t* p = (const uint8_t*) v.ptr;
    const uint8_t* e = p + v.len;
    if (p < e && *p == '[') {
        const uint8_t* q = p + 1;
        while (q < e && (host_char[*q] || *q == ':')) q++;
        if (q == e || *q != ']' || q == p + 1) return false;
        p = q + 1;
    } else {
        while (p < e) {
            if (HT_LIKELY(host_char[*p])) { p++; continue; }
            if (*p == '%' && e - p >= 3 && is_hex(p[1]) && is_hex(p[2])) { p += 3; continue; }
            break;
        }
    }
    if (p == e) return true;
    if (*p++ != ':') return false;
    while (p < e && (unsigned) (*p - '0') < 10u) p++;
    return p == e;
}

/* ASCII case-insensitive p[0, n) == lit, lit in lower case, 2 bytes or more
 * (letters, digits, '-'; the array size checks the length): a word at a time
 * through the header-id compare, which folds case exactly where lit has a
 * letter. `Connection: keep-alive`, in most requests, took ~80 instructions
 * a byte at a time. */
#define EQ_NOCASE(p, n, lit)                                                          \
    ((n) == sizeof(lit) - 1 &&                                                        \
     ht_hid_eq_((p), "" lit, sizeof(lit) - 1 + 0 * sizeof(char[sizeof(lit) >= 3 ? 1 : -1])))

/* Next element of a comma list (RFC 9110 §5.6.1), OWS trimmed; empty ones
 * come back empty. Returns false when *s is exhausted. */
static bool list_next(ht_slice_t* s, ht_slice_t* item) {
    if (s->ptr == nullptr) return false;
    const char* p = s->ptr;
    const char* e = p + s->len;
    const char* c = memchr(p, ',', s->len);
    const char* ie = c ? c : e;
    while (p < ie && IS_WS(*p)) p++;
    const char* t = ie;
    while (t > p && IS_WS(t[-1])) t--;
    *item = ht_slice__from(p, (size_t) (t - p));
    if (c) *s = ht_slice__from(c + 1, (size_t) (e - c - 1));
    else *s = HT_SLICE_NULL;
    return true;
}

/* Content-Length: 1*DIGIT or a list of identical ones (RFC 9110 §8.6). */
static ht_result_t content_length(ht_slice_t v, bool* seen, uint64_t* cl) {
    ht_slice_t item;
    bool any = false;
    while (list_next(&v, &item)) {
        if (item.len == 0) return HT_E_BAD_CONTENT_LENGTH;
        uint64_t n = 0;
        for (size_t i = 0; i < item.len; i++) {
            unsigned d = (unsigned) (uint8_t) item.ptr[i] - '0';
            if (d > 9) return HT_E_BAD_CONTENT_LENGTH;
            if (__builtin_mul_overflow(n, 10u, &n) || __builtin_add_overflow(n, d, &n))
                return HT_E_BAD_CONTENT_LENGTH;
        }
        if (*seen && n != *cl) return HT_E_DUP_CONTENT_LENGTH;
        *seen = true;
        *cl   = n;
        any   = true;
    }
    return any ? 0 : HT_E_BAD_CONTENT_LENGTH;
}

/* One Transfer-Encoding field, continuing the list of the earlier ones;
 * *chunked: chunked already seen (then nothing may follow). */
static ht_result_t transfer_encoding(ht_slice_t v, bool* chunked) {
    ht_slice_t item;
    while (list_next(&v, &item)) {
        if (item.len == 0) continue;
        const char* e = scan_token_scalar(item.ptr, item.ptr + item.len);
        size_t      n = (size_t) (e - item.ptr);
        if (n == 0) return HT_E_BAD_TRANSFER_ENCODING;
        const char* r = e;
        while (r < item.ptr + item.len && IS_WS(*r)) r++;
        bool params = r < item.ptr + item.len;
        if (params && *r != ';') return HT_E_BAD_TRANSFER_ENCODING;
        if (*chunked) return HT_E_BAD_TRANSFER_ENCODING; /* chunked must be final */
        if (!EQ_NOCASE(item.ptr, n, "chunked")) return HT_E_UNKNOWN_TRANSFER_CODING;
        if (params) return HT_E_BAD_TRANSFER_ENCODING;   /* chunked takes none */
        *chunked = true;
    }
    return 0;
}

enum { CONN_CLOSE = 1, CONN_KEEP_ALIVE = 2, CONN_UPGRADE = 4 };

static ht_result_t connection(ht_slice_t v, unsigned* conn) {
    /* the usual single option first, without walking a list */
    if (EQ_NOCASE(v.ptr, v.len, "keep-alive")) { *conn |= CONN_KEEP_ALIVE; return 0; }
    if (EQ_NOCASE(v.ptr, v.len, "close")) { *conn |= CONN_CLOSE; return 0; }
    ht_slice_t item;
    while (list_next(&v, &item)) {
        if (item.len == 0) continue;
        if (scan_token_scalar(item.ptr, item.ptr + item.len) != item.ptr + item.len)
            return HT_E_BAD_HEADER_VALUE;
        if (EQ_NOCASE(item.ptr, item.len, "close")) *conn |= CONN_CLOSE;
        else if (EQ_NOCASE(item.ptr, item.len, "keep-alive")) *conn |= CONN_KEEP_ALIVE;
        else if (EQ_NOCASE(item.ptr, item.len, "upgrade")) *conn |= CONN_UPGRADE;
    }
    return 0;
}

/* What the framing fields said, gathered in field order. */
typedef struct head_sem {
    ht_result_t err; /* the first semantic error */
    unsigned    hosts;
    unsigned    conn;
    bool        other; /* a framing field other than Host: take the long way */
    bool        cl_seen, te_seen, te_chunked, upgrade_field, expect_continue;
    uint64_t    cl;
    /* the Host value, apart: a 16-byte copy of the slice just stored into the
     * header array would be read across two 8-byte stores still in flight,
     * which the CPU cannot forward (a stall of ~10 cycles per request) */
    const char* host_ptr;
    size_t      host_len;
} head_sem_t;

/* Out of line on purpose: rare (Host is handled by the caller), and keeping it
 * out of the field loop measured faster. */
__attribute__((noinline)) static void field_semantics(head_sem_t* st, const ht_header_t* h, unsigned minor) {
    ht_result_t r = 0;
    st->other = true; /* Host is handled inline by the caller */
    switch (h->id) {
    case HT_HEADER_CONTENT_LENGTH:
        r = content_length(h->value, &st->cl_seen, &st->cl);
        break;
    case HT_HEADER_TRANSFER_ENCODING:
        st->te_seen = true;
        if (minor == 0) r = HT_E_BAD_TRANSFER_ENCODING; /* RFC 9112 §6.1: faulty framing */
        else r = transfer_encoding(h->value, &st->te_chunked);
        break;
    case HT_HEADER_CONNECTION:
        r = connection(h->value, &st->conn);
        break;
    case HT_HEADER_UPGRADE:
        /* An empty Upgrade names no protocol (RFC 9110 §7.8: 1#protocol). */
        if (h->value.len) st->upgrade_field = true;
        break;
    case HT_HEADER_EXPECT:
        if (h->value.len == 0) break;
        if (EQ_NOCASE(h->value.ptr, h->value.len, "100-continue")) {
            if (minor == 1) st->expect_continue = true; /* RFC 9110 §10.1.1: 1.0 ignores it */
        } else {
            r = HT_E_EXPECTATION_FAILED;
        }
        break;
    default:
        break;
    }
    if (HT_UNLIKELY(r != 0) && st->err == 0) st->err = r;
}

static_assert(HT_HEADER__COUNT <= 64, "FRAMING_IDS is a 64-bit set");
#define FRAMING_IDS                                                                     \
    ((1ull << HT_HEADER_HOST) | (1ull << HT_HEADER_CONTENT_LENGTH) |                    \
     (1ull << HT_HEADER_TRANSFER_ENCODING) | (1ull << HT_HEADER_CONNECTION) |           \
     (1ull << HT_HEADER_UPGRADE) | (1ull << HT_HEADER_EXPECT))

HT_INLINE uint8_t method_id(const char* p, size_t n) {
#define HT_X_(id, tok) \
    if (n == sizeof(tok) - 1 && memcmp(p, tok, sizeof(tok) - 1) == 0) return HT_METHOD_##id;
    HT_METHODS(HT_X_)
#undef HT_X_
    return HT_METHOD_OTHER;
}

/* ---- the line walk ---- */

/* The limits of the request line, which starts at offset ls and has n bytes
 * so far (through its LF once complete), the head reaching `end`: 0 if none is
 * broken. Which error is decided so that it does not depend on where the input
 * was split (a prefix cannot tell whether the line will also pass
 * max_request_line): empty lines that leave the request line no room in the
 * head are 431; otherwise a request line over either limit is 414. */
static ht_result_t request_line_limits(size_t n, size_t ls, size_t end,
                                       const ht_parse_limits_t* lim) {
    if (ls + 1 >= lim->max_head && end >= lim->max_head) return HT_E_HEADERS_TOO_LARGE;
    if (n > (size_t) lim->max_request_line + 1 || end >= lim->max_head) return HT_E_URI_TOO_LONG;
    return 0;
}

/* Records where an incomplete head stands, after the limits that the bytes
 * already decide: no LF in [ls, len), so the current line ends at or after len. */
static ht_io_t incomplete(ht_parser_t* p, size_t len, size_t ls, uint32_t line,
                          const ht_parse_limits_t* lim) {
    if (line == 0) {
        ht_result_t e = request_line_limits(len - ls, ls, len, lim);
        if (e) return e;
    } else if (len >= lim->max_head) {
        return HT_E_HEADERS_TOO_LARGE;
    }
    p->scanned    = len;
    p->line_start = ls;
    p->line       = line;
    return -EAGAIN;
}

/* Walks the lines from (start, line). fill: fill out and check the framing
 * semantics, from the start of the head; otherwise only check the lines (the
 * resume path). Returns the head length, -EAGAIN (state saved) or an error. */
HT_INLINE ht_io_t walk(ht_parser_t* pst, const char* const buf, const size_t len,
                       const ht_parse_limits_t* lim, ht_request_head_t* out, const bool fill,
                       size_t start, uint32_t line) {
    const char* const end = buf + len;
    const char* s  = buf + start; /* start of the current line */
    const char* ls; /* set on every path below before use */
    const char* q;
    const char* errp;
    ht_result_t err;
    const size_t max_head = lim->max_head;
    const uint32_t max_h  = lim->max_headers < out->max_headers ? lim->max_headers
                                                                : out->max_headers;
    /* a buffer within the head limit cannot break it: skip the per-line test */
    const bool may_overflow = len > max_head;
    unsigned minor;

    if (line == 0) {
        /* Empty lines before the request line are skipped (RFC 9112 §2.2). */
        while (s < end && *s == '\r') {
            if (s + 1 == end) { ls = s; goto incomplete; }
            if (s[1] != '\n') { ls = s; err = HT_E_BARE_CR; errp = s; goto fail; }
            s += 2;
        }
        ls = s;
        /* method SP */
        const char* m = s;
        uint8_t     mid = HT_METHOD_GET;
        if (HT_LIKELY(end - s >= 4 && load32(s) == load32("GET "))) {
            q = s + 3;
        } else {
            /* Bytes that cannot start a request line (a TLS ClientHello's
             * 0x16, binary junk) fail at once instead of waiting for an LF
             * that may never come: the server answers 400 and closes
             * without holding the connection until its header timeout.
             * (Here, off the GET path: it costs GETs nothing.) */
            if (HT_UNLIKELY(s < end && !IS_TCHAR(*s)) && *s != '\n') {
                ht_result_t e = request_line_limits(1, (size_t) (s - buf), (size_t) (s + 1 - buf), lim);
                return e ? e : HT_E_BAD_METHOD;
            }
            q = scan_name(s, end, buf);
            if (q == end) goto incomplete;
            if (HT_UNLIKELY(*q != ' ' || q == s)) { err = HT_E_BAD_METHOD; errp = q; goto line_fail; }
            if (fill) mid = method_id(s, (size_t) (q - s));
        }
        /* request-target SP */
        const char* t = q + 1;
        q = scan_target(t, end, buf);
        if (q == end) goto incomplete;
        if (HT_UNLIKELY(*q != ' ' || q == t)) { err = HT_E_BAD_TARGET; errp = q; goto line_fail; }
        /* HTTP-version CRLF */
        const char* v = q + 1;
        const char* lf;
        if (HT_LIKELY(end - v >= 10 && (load64(v) | load64("\0\0\0\0\0\0\0\1")) == load64("HTTP/1.1") &&
                      load16(v + 8) == load16("\r\n"))) {
            minor = (unsigned) (v[7] - '0'); /* '0' or '1': only bit 0 was masked */
            lf    = v + 9;
        } else {
            static const char proto[] = "HTTP/";
            q = v;
            for (unsigned i = 0; i < 5; i++, q++) {
                if (q == end) goto incomplete;
                if (*q != proto[i]) { err = HT_E_BAD_VERSION; errp = q; goto line_fail; }
            }
            unsigned major;
            if (q == end) goto incomplete;
            if ((unsigned) (*q - '0') > 9) { err = HT_E_BAD_VERSION; errp = q; goto line_fail; }
            major = (unsigned) (*q++ - '0');
            if (q == end) goto incomplete;
            if (*q != '.') { err = HT_E_BAD_VERSION; errp = q; goto line_fail; }
            q++;
            if (q == end) goto incomplete;
            if ((unsigned) (*q - '0') > 9) { err = HT_E_BAD_VERSION; errp = q; goto line_fail; }
            minor = (unsigned) (*q++ - '0');
            if (q == end) goto incomplete;
            if (*q != '\r') { err = HT_E_BAD_VERSION; errp = q; goto line_fail; }
            if (q + 1 == end) goto incomplete;
            if (q[1] != '\n') { err = HT_E_BARE_CR; errp = q; goto fail; }
            lf = q + 1;
            if (major != 1) {
                err = HT_E_VERSION; /* well-formed, not 1.x: 505 */
                errp = q;
                goto fail;
            }
            /* HTTP/1.x, x > 1: a later minor version of what we speak is
             * processed as 1.1 (RFC 9110 §2.5), the response says 1.1. */
            if (minor > 1) minor = 1;
        }
        if (HT_UNLIKELY((size_t) (lf - ls) > (size_t) lim->max_request_line + 1 ||
                        (may_overflow && (size_t) (lf + 1 - buf) > max_head)))
            return request_line_limits((size_t) (lf - ls), (size_t) (ls - buf),
                                       (size_t) (lf - buf), lim);
        if (fill) {
            out->method        = ht_slice__from(m, (size_t) (t - 1 - m));
            out->method_id     = mid;
            out->target        = ht_slice__from(t, (size_t) (v - 1 - t));
            out->version_minor = (uint8_t) minor;
        }
        s    = lf + 1;
        line = 1;
    } else {
        minor = 1; /* unused when !fill */
    }

    /* Host, usually the first field (RFC 9110 §7.2 asks clients to send it
     * first), is found here once, not by the name scan: where it starts. */
    const char* first_host = nullptr;
    if (line == 1 && end - s >= 7 && s[4] == ':' && (load32(s) | 0x20202020u) == load32("host"))
        first_host = s;
    head_sem_t st = { 0 };
    ht_header_t* const hdrs = out->headers; /* a local: the stores into it cannot change it */
    field_k_t fk = FIELD_K_INIT;
#if HT_PARSE_SSE2 && defined(__AVX2__)
    /* opaque, so built once and kept in registers or on the stack (SSE2
     * builds load them from .rodata: one instruction, no need) */
    __asm__("" : "+x"(fk.one), "+x"(fk.sp), "+x"(fk.colon));
#endif
    for (;;) {
        ls = s;
        if (HT_UNLIKELY(s == end)) goto incomplete;
        if (*s == '\r') {
            if (s + 1 == end) goto incomplete;
            if (HT_UNLIKELY(s[1] != '\n')) { err = HT_E_BARE_CR; errp = s; goto fail; }
            break; /* the empty line: end of the head */
        }
        if (HT_UNLIKELY(line > max_h)) { err = HT_E_TOO_MANY_HEADERS; errp = s; goto fail; }
        /* The line's first CTL, scanned from its start (with DEL and obs-text:
         * the two-operation class): a field name and its ':' hold none, so
         * for a well-formed field this is the first such byte of OWS and
         * value (an HTAB or obs-text, stepped over below, or the CR), found
         * without waiting for the name's end. The next line's start then
         * depends on this scan alone, and the name scan and header-id lookup
         * of each line run beside it instead of in one chain.
         *
         * The name: the same first 16 bytes give the first ':' before that
         * CTL, and the header-id lookup of the bytes before it (case-folded
         * and exact: a known name holds only letters, digits and '-') proves
         * a known name valid without a scan of its own. Only an unknown
         * name, one of 32 bytes or more, or a line near the end of the
         * buffer takes the name scan (~35 instructions a line). */
        const char* r;
        ht_header_id_t id = HT_HEADER__UNKNOWN;
        bool looked = false; /* id is the name's: looked up */
        if (HT_UNLIKELY(s == first_host)) {
            r = s;
            q = s + 4;
            id = HT_HEADER_HOST;
            looked = true;
        } else {
#if HT_PARSE_SSE2
            if (HT_LIKELY(end - s >= 16)) {
                __m128i b  = _mm_loadu_si128((const __m128i*) (const void*) s);
                unsigned vm = field_stop16k(b, fk.one, fk.sp);
                /* the ':'s before the first CTL (all of them if none: vm - 1
                 * then has every bit; above the CTL's bit it has only vm's,
                 * which no ':' shares) */
                unsigned cm = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(b, fk.colon)) & (vm - 1);
                if (vm) {
                    r = s + __builtin_ctz(vm);
                } else {
                    r = scan_field(s + 16, end, buf, &fk);
                    if (HT_UNLIKELY(cm == 0) && end - s >= 32) {
                        /* a name of 16 bytes or more (If-Modified-Since,
                         * Upgrade-Insecure-Requests): its ':' in the next block */
                        __m128i b1 = _mm_loadu_si128((const __m128i*) (const void*) (s + 16));
                        cm = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(b1, fk.colon)) << 16;
                        if ((size_t) (r - s) < 32) cm &= (1u << (r - s)) - 1; /* before r */
                    }
                }
                if (cm) {
                    q = s + __builtin_ctz(cm);
                    /* the token compare is exact here: it could only take
                     * a CTL for a digit or '-', and [s, q) holds none */
                    id = ht_header__id_token_inline(s, (size_t) (q - s));
                    looked = true;
                }
            } else
#endif
                r = scan_field(s, end, buf, &fk);
            /* no CTL up to end, so no LF: whatever the line holds, it is
             * incomplete (parse.h: a line's errors wait for its LF) */
            if (HT_UNLIKELY(r == end)) goto incomplete;
        }
        if (id == HT_HEADER__UNKNOWN) {
            /* field-name ":" */
            q = scan_name(s, end, buf);
            if (HT_UNLIKELY(q == end)) goto incomplete;
            if (HT_UNLIKELY(*q != ':' || q == s)) {
                errp = q;
                if (IS_WS(*q)) {
                    if (q == s) { err = HT_E_OBS_FOLD; goto fail; }
                    const char* w = q;
                    while (w < end && IS_WS(*w)) w++;
                    if (w == end) goto incomplete;
                    errp = w;
                    if (*w == ':') { err = HT_E_SPACE_BEFORE_COLON; goto fail; }
                }
                err = HT_E_BAD_HEADER_NAME;
                goto line_fail;
            }
            if (!looked) id = ht_header__id_token_inline(s, (size_t) (q - s));
        }
        /* OWS field-value OWS CRLF */
        const char* v = q + 1; /* <= r < end, or the first Host's s + 5 < end */
        if (HT_LIKELY(*v == ' ')) v++; /* the usual single SP: then still <= r */
        if (HT_UNLIKELY((uint8_t) *v <= ' ') && IS_WS(*v)) /* one test: CR (empty) is rare too */
            do v++; while (v < end && IS_WS(*v));
        const bool is_host = id == HT_HEADER_HOST;
        bool host_ok = false;
        if (is_host) {
            /* Its usual shape (a name or IPv4 address, maybe ":" and a port)
             * is proved valid by the scan that finds the value's end; the
             * rest (an IP-literal, '%', OWS before the CR, a bad byte) takes
             * the general scan below and host_valid's byte loop. Checking
             * the value apart cost ~50 instructions per request. */
            const char* h = scan_hostname(v, end, buf);
            if (h < end && *h == ':') h = scan_digits(h + 1, end, buf);
            host_ok = h < end && *h == '\r';
            if (host_ok) r = h;
        }
        if (!host_ok) {
            /* r: the first CTL from s, after q; before v only if an HTAB of
             * the OWS (or the first Host's placeholder s) */
            if (HT_UNLIKELY(r < v)) {
                r = scan_value(v, end, buf);
                if (r == end) goto incomplete;
            }
        }
        while (HT_UNLIKELY(!(end - r >= 2 && load16(r) == load16("\r\n")))) {
            /* HTAB and obs-text: the rest of the line takes the exact class */
            if (*r == '\t' || (uint8_t) *r >= 0x80) {
                r = scan_value(r + 1, end, buf);
                if (r == end) goto incomplete;
                continue;
            }
            if (*r != '\r') { err = HT_E_BAD_HEADER_VALUE; errp = r; goto line_fail; }
            if (r + 1 == end) goto incomplete;
            err = HT_E_BARE_CR;
            errp = r;
            goto fail;
        }
        if (HT_UNLIKELY(may_overflow && (size_t) (r + 2 - buf) > max_head))
            return HT_E_HEADERS_TOO_LARGE;
        if (fill) {
            const char* ve = r;
            /* [v, r) holds no CTL but HTAB: "<= ' '" is SP or HTAB */
            if (HT_UNLIKELY(ve > v && (uint8_t) ve[-1] <= ' '))
                do ve--; while (ve > v && IS_WS(ve[-1]));
            ht_header_t* h = &hdrs[line - 1];
            const size_t vlen = (size_t) (ve - v);
            h->name  = ht_slice__from(s, (size_t) (q - s));
            h->value = ht_slice__from(v, vlen);
            h->id = id;
            /* a bit test, not a jump table: most fields need nothing */
            if (h->id == HT_HEADER_HOST) { /* the one nearly every request has */
                st.host_ptr = v;
                st.host_len = vlen;
                if (HT_UNLIKELY(++st.hosts > 1) && st.err == 0) st.err = HT_E_DUP_HOST;
                if (HT_UNLIKELY(!host_ok) && !host_valid(ht_slice__from(v, vlen)) && st.err == 0)
                    st.err = HT_E_BAD_HOST;
            } else if (HT_UNLIKELY((FRAMING_IDS >> h->id) & 1)) {
                field_semantics(&st, h, minor);
            }
        }
        s = r + 2;
        line++;
    }

    /* s points at the final CRLF. */
    size_t head_len = (size_t) (s + 2 - buf);
    if (HT_UNLIKELY(may_overflow && head_len > max_head)) return HT_E_HEADERS_TOO_LARGE;
    if (!fill) return (ht_io_t) head_len;

    out->num_headers = (uint16_t) (line - 1);
    out->host        = st.hosts ? ht_slice__from(st.host_ptr, st.host_len) : ht_slice__from(buf, 0);
    pst->scanned     = 0;
    if (HT_LIKELY(!st.other)) { /* Host at most: nothing else to reconcile */
        if (st.err) return st.err;
        if (minor == 1 && st.hosts == 0) return HT_E_MISSING_HOST;
        out->flags          = minor == 1 ? HT_HEAD_KEEP_ALIVE : 0;
        out->content_length = 0;
        return (ht_io_t) head_len;
    }
    if (st.err) return st.err;
    if (st.te_seen && !st.te_chunked) return HT_E_BAD_TRANSFER_ENCODING; /* empty list */
    if (st.te_seen && st.cl_seen) return HT_E_CL_AND_TE;
    if (minor == 1 && st.hosts == 0) return HT_E_MISSING_HOST;
    uint32_t flags = 0;
    if (st.cl_seen) flags |= HT_HEAD_CONTENT_LENGTH;
    if (st.te_seen) flags |= HT_HEAD_CHUNKED; /* and te_chunked: all else failed */
    if (minor == 1 ? !(st.conn & CONN_CLOSE)
                   : (st.conn & (CONN_KEEP_ALIVE | CONN_CLOSE)) == CONN_KEEP_ALIVE)
        flags |= HT_HEAD_KEEP_ALIVE;
    if (st.expect_continue) flags |= HT_HEAD_EXPECT_CONTINUE;
    if ((st.conn & CONN_UPGRADE) && st.upgrade_field) flags |= HT_HEAD_UPGRADE;
    out->flags          = flags;
    out->content_length = st.cl_seen ? st.cl : 0;
    return (ht_io_t) head_len;

line_fail:
    /* errp is the first byte that broke the line's syntax; CR and LF there
     * are line-ending trouble first. */
    if (*errp == '\r') {
        if (errp + 1 == end) goto incomplete;
        if (errp[1] != '\n') err = HT_E_BARE_CR;
    } else if (*errp == '\n') {
        err = HT_E_BARE_LF;
    }
fail: {
    /* A line's error counts once the line is complete and within the limits
     * (parse.h): that keeps the result independent of how input was split. */
    const char* lf = memchr(errp, '\n', (size_t) (end - errp));
    if (lf == nullptr) goto incomplete;
    if (line == 0) {
        ht_result_t e = request_line_limits((size_t) (lf - ls), (size_t) (ls - buf),
                                            (size_t) (lf - buf), lim);
        if (e) return e;
    } else if ((size_t) (lf + 1 - buf) > max_head) {
        return HT_E_HEADERS_TOO_LARGE;
    }
    return err;
}
incomplete:
    return incomplete(pst, len, (size_t) (ls - buf), line, lim);
}

ht_io_t ht_parse__request(ht_parser_t* p, const char* buf, size_t len,
                          const ht_parse_limits_t* limits, ht_request_head_t* out) {
    static const ht_parse_limits_t defaults = HT_PARSE_LIMITS_DEFAULT;
    if (limits == nullptr) limits = &defaults;
    if (HT_LIKELY(p->scanned == 0)) return walk(p, buf, len, limits, out, true, 0, 0);

    /* Resume: nothing to do until a new LF completes a line, except for
     * the request line's first byte (walk refuses a bad one at once). */
    if (len <= p->scanned) return len == p->scanned ? -EAGAIN : HT_E_BAD_REQUEST;
    if (!(p->line == 0 && p->scanned == p->line_start) &&
        memchr(buf + p->scanned, '\n', len - p->scanned) == nullptr)
        return incomplete(p, len, p->line_start, p->line, limits);
    ht_io_t r = walk(p, buf, len, limits, out, false, p->line_start, p->line);
    if (r <= 0) return r;
    return walk(p, buf, len, limits, out, true, 0, 0);
}
