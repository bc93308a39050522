/* base/uri.c — request-target parsing, percent-decoding, dot segments, query
 * iteration. Byte classes come from one table so that every check is a load
 * and a mask; tests/base/check_uri.c re-derives each class from RFC 3986. */
#include <ht/uri.h>

enum {
    C_PATH   = 1 << 0, /* pchar without '%', plus '/': unreserved sub-delims : @ / */
    C_QUERY  = 1 << 1, /* C_PATH plus '?' */
    C_REG    = 1 << 2, /* reg-name without '%': unreserved sub-delims */
    C_SCHEME = 1 << 3, /* ALPHA DIGIT + - . */
    C_UNWISE = 1 << 4, /* " < > \ ^ ` { | } and >= 0x80: HT_URI_LENIENT only */
    C_IPLIT  = 1 << 5, /* inside [ ]: unreserved sub-delims ':' */
    C_HEX    = 1 << 6, /* HEXDIG */
};

/* Generated from the sets above (RFC 3986 §2-3); rows of 16 bytes. */
static const uint8_t cls[256] = {
      0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0x00 */
      0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 0x10 */
      0, 39, 16,  0, 39,  0, 39, 39, 39, 39, 39, 47, 39, 47, 47,  3, /* 0x20 */
    111,111,111,111,111,111,111,111,111,111, 35, 39, 16, 39, 16,  2, /* 0x30 */
      3,111,111,111,111,111,111, 47, 47, 47, 47, 47, 47, 47, 47, 47, /* 0x40 */
     47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47,  0, 16,  0, 16, 39, /* 0x50 */
     16,111,111,111,111,111,111, 47, 47, 47, 47, 47, 47, 47, 47, 47, /* 0x60 */
     47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 47, 16, 16, 16, 39,  0, /* 0x70 */
     16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* 0x80 */
     16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* 0x90 */
     16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* 0xa0 */
     16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* 0xb0 */
     16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* 0xc0 */
     16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* 0xd0 */
     16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* 0xe0 */
     16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, /* 0xf0 */
};

static inline bool is(unsigned char c, unsigned mask) { return (cls[c] & mask) != 0; }

static inline unsigned hexval(unsigned char c) {
    return c <= '9' ? (unsigned) c - '0' : ((unsigned) c | 0x20) - 'a' + 10;
}

/* Scans p[i, n) while bytes are in mask (or are valid escapes); stops at the
 * first other byte. Returns the stop index, or a negative error for a bad
 * escape. */
static ht_io_t scan(const char* p, size_t i, size_t n, unsigned mask) {
    while (i < n) {
        unsigned char c = (unsigned char) p[i];
        if (is(c, mask)) {
            i++;
        } else if (c == '%') {
            if (n - i < 3 || !is((unsigned char) p[i + 1], C_HEX) ||
                !is((unsigned char) p[i + 2], C_HEX))
                return HT_E_BAD_ESCAPE;
            i += 3;
        } else {
            break;
        }
    }
    return (ht_io_t) i;
}

/* path-abempty / absolute-path, then an optional "?" query, to the end. */
static ht_result_t parse_path_query(ht_uri_t* u, const char* p, size_t i, size_t n,
                                    uint32_t flags) {
    unsigned extra = (flags & HT_URI_LENIENT) ? C_UNWISE : 0;
    ht_io_t e = scan(p, i, n, C_PATH | extra);
    if (e < 0) return (ht_result_t) e;
    u->path = ht_slice__from(p + i, (size_t) e - i);
    i = (size_t) e;
    if (i < n && p[i] == '?') {
        e = scan(p, ++i, n, C_QUERY | extra);
        if (e < 0) return (ht_result_t) e;
        u->has_query = true;
        u->query = ht_slice__from(p + i, (size_t) e - i);
        i = (size_t) e;
    }
    return i == n ? 0 : HT_E_BAD_URI; /* '#', CTL, SP, ... */
}

/* authority = host [ ":" port ], userinfo refused. p[0, n) is exactly the
 * authority. */
static ht_result_t parse_authority(ht_uri_t* u, const char* p, size_t n, bool need_port) {
    size_t i;
    if (n && p[0] == '[') {
        i = 1;
        while (i < n && is((unsigned char) p[i], C_IPLIT)) i++;
        if (i == 1 || i == n || p[i] != ']') return HT_E_BAD_URI;
        i++;
    } else {
        ht_io_t e = scan(p, 0, n, C_REG);
        if (e < 0) return (ht_result_t) e;
        i = (size_t) e;
        if (i == 0) return HT_E_BAD_URI; /* empty host (RFC 9110 §4.2.1) */
    }
    u->host = ht_slice__from(p, i);
    if (i == n) return need_port ? HT_E_BAD_URI : 0;
    if (p[i] != ':') return HT_E_BAD_URI; /* '@' (userinfo) lands here too */
    i++;
    if (i == n) return need_port ? HT_E_BAD_URI : 0; /* "host:" = no port */
    uint32_t port = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned) (unsigned char) p[i] - '0';
        if (d > 9) return HT_E_BAD_URI;
        port = port * 10 + d;
        if (port > 65535) return HT_E_BAD_URI;
    }
    if (port == 0) return HT_E_BAD_URI;
    u->port = (uint16_t) port;
    return 0;
}

static ht_result_t parse(ht_uri_t* u, const char* p, size_t n, uint32_t flags) {
    if (n == 0) return HT_E_BAD_URI;
    if (flags & HT_URI_CONNECT) {
        u->form = HT_URI_AUTHORITY;
        return parse_authority(u, p, n, true);
    }
    if (p[0] == '/') {
        u->form = HT_URI_ORIGIN;
        return parse_path_query(u, p, 0, n, flags);
    }
    if (n == 1 && p[0] == '*') {
        u->form = HT_URI_ASTERISK;
        u->path = ht_slice__from(p, 1);
        return 0;
    }
    /* absolute-form: scheme "://" authority path-abempty [ "?" query ] */
    size_t i = 0;
    if (((unsigned) (unsigned char) p[0] | 0x20) - 'a' >= 26u)
        return HT_E_BAD_URI; /* a scheme starts with a letter */
    while (i < n && is((unsigned char) p[i], C_SCHEME)) i++;
    if (n - i < 3 || p[i] != ':' || p[i + 1] != '/' || p[i + 2] != '/') return HT_E_BAD_URI;
    u->form = HT_URI_ABSOLUTE;
    u->scheme = ht_slice__from(p, i);
    i += 3;
    size_t a = i;
    while (i < n && p[i] != '/' && p[i] != '?' && p[i] != '#') i++;
    ht_result_t r = parse_authority(u, p + a, i - a, false);
    if (r) return r;
    return parse_path_query(u, p, i, n, flags);
}

ht_result_t ht_uri__parse(ht_uri_t* u, ht_slice_t target, uint32_t flags) {
    *u = (ht_uri_t){ 0 };
    ht_result_t r = parse(u, target.ptr, target.len, flags);
    if (r) *u = (ht_uri_t){ 0 };
    return r;
}

/* ---- decoding ---- */

ht_io_t ht_uri__decode(ht_slice_t in, char* out, size_t out_cap, uint32_t flags) {
    const unsigned char* p = (const unsigned char*) in.ptr;
    size_t n = in.len, w = 0;
    for (size_t i = 0; i < n; w++) {
        unsigned char c = p[i];
        if (c == '%') {
            if (n - i < 3 || !is(p[i + 1], C_HEX) || !is(p[i + 2], C_HEX)) return HT_E_BAD_ESCAPE;
            c = (unsigned char) (hexval(p[i + 1]) << 4 | hexval(p[i + 2]));
            if (c == 0 || (c == '/' && (flags & HT_URI_DECODE_NO_SLASH))) return HT_E_BAD_ESCAPE;
            i += 3;
        } else {
            if (c == 0) return HT_E_BAD_ESCAPE;
            if (c == '+' && (flags & HT_URI_DECODE_PLUS)) c = ' ';
            i++;
        }
        if (w == out_cap) return -ENOSPC;
        out[w] = (char) c; /* w <= i - 1 < i: in place never overtakes the reader */
    }
    return (ht_io_t) w;
}

/* ---- dot segments (RFC 3986 §5.2.4), in place ----
 * The input buffer is read at r and the output written at w <= r, so both
 * share path[]. Where the RFC replaces an input prefix with "/", the '/' is
 * either already at the new read position or written over a byte that has
 * been consumed. */

static inline bool seg_end(const char* p, size_t i, size_t n) { return i == n || p[i] == '/'; }

ht_io_t ht_uri__remove_dot_segments(char* p, size_t n, uint32_t flags) {
    bool strict = flags & HT_URI_DOTS_STRICT;
    size_t r = 0, w = 0;
    while (r < n) {
        size_t left = n - r;
        const char* s = p + r;
        if (s[0] == '.') {
            /* A: "../" or "./" prefix; D: the input is "." or "..". */
            if (left >= 2 && s[1] == '.' && seg_end(p, r + 2, n)) {
                if (strict) return HT_E_PATH_ESCAPE;
                r += left == 2 ? 2 : 3;
                continue;
            }
            if (seg_end(p, r + 1, n)) {
                r += left == 1 ? 1 : 2;
                continue;
            }
        } else if (s[0] == '/' && left >= 2 && s[1] == '.') {
            /* B: "/./" or "/." at the end -> "/". */
            if (seg_end(p, r + 2, n)) {
                r += 1;
                if (left == 2) p[r] = '/';
                else r += 1;
                continue;
            }
            /* C: "/../" or "/.." at the end -> "/", dropping the last output
             * segment and its '/'. Nothing to drop means climbing above the
             * root. */
            if (left >= 3 && s[2] == '.' && seg_end(p, r + 3, n)) {
                r += 2;
                if (left == 3) p[r] = '/';
                else r += 1;
                if (w == 0 && strict) return HT_E_PATH_ESCAPE;
                while (w > 0 && p[w - 1] != '/') w--;
                if (w > 0) w--;
                continue;
            }
        }
        /* E: move the first segment (with its leading '/', if any). */
        do p[w++] = p[r++];
        while (r < n && p[r] != '/');
    }
    return (ht_io_t) w;
}

/* ---- query ---- */

bool ht_uri__query_next(ht_uri_query_iter_t* it, ht_slice_t* key, ht_slice_t* value) {
    ht_slice_t pair;
    do {
        if (it->rest.len == 0) return false;
        ht_slice__split(&it->rest, '&', &pair);
    } while (pair.len == 0);
    size_t eq = ht_slice__find_byte(pair, '=');
    if (eq == SIZE_MAX) {
        *key = pair;
        *value = HT_SLICE_NULL;
    } else {
        *key = ht_slice__from(pair.ptr, eq);
        *value = ht_slice__from(pair.ptr + eq + 1, pair.len - eq - 1);
    }
    return true;
}

bool ht_uri__query_find(ht_slice_t query, ht_slice_t key, ht_slice_t* value) {
    ht_uri_query_iter_t it;
    ht_slice_t k, v;
    ht_uri__query_iter(&it, query);
    while (ht_uri__query_next(&it, &k, &v)) {
        if (ht_slice__eq(k, key)) {
            *value = v;
            return true;
        }
    }
    return false;
}
