/* http/chunked.c — in-place, incremental chunked body decoder (see parse.h).
 *
 * A byte-driven state machine for the framing lines (chunk-size, extensions,
 * the CRLF after data, trailer fields) and memmove for the data, so input may
 * arrive split anywhere, down to one byte per call. Grammar (RFC 9112 §7.1):
 *   chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk = 1*"0" [ chunk-ext ] CRLF
 *   chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-val = token / quoted-string
 *   trailer-section = *( field-line CRLF ), then CRLF
 * Framing errors are HT_E_BAD_CHUNK (LF without CR, missing CRLF after data,
 * bad extension syntax); trailer lines fail like header lines do
 * (HT_E_BAD_HEADER_NAME, HT_E_BAD_HEADER_VALUE, HT_E_OBS_FOLD, ...).
 */
#include "http/parse.h"

#include <string.h>

/* A chunk-size line (size and extensions) longer than this is refused: the
 * extensions are ignored, so a long one is only a way to waste our time. */
#define HT_CHUNK_LINE_MAX 4096u

enum {
    S_SIZE_FIRST = 0, /* first hex digit (zeroed state) */
    S_SIZE,           /* more hex digits */
    S_SIZE_BWS,       /* whitespace after the size: only more of it or ";" may follow */
    S_EXT_BWS,        /* BWS before ";" or CR */
    S_EXT_NAME_BWS,   /* after ";": BWS before the name */
    S_EXT_NAME,
    S_EXT_NAME_END,   /* BWS after the name: "=", ";" or CR */
    S_EXT_VAL_BWS,    /* after "=": BWS before the value */
    S_EXT_TOKEN,
    S_EXT_QUOTED,
    S_EXT_QUOTED_ESC,
    S_SIZE_LF,        /* CR seen, LF expected */
    S_DATA,
    S_DATA_CR,
    S_DATA_LF,
    S_TRAILER_START,  /* start of a trailer line or of the final CRLF */
    S_TRAILER_NAME,
    S_TRAILER_NAME_WS,/* whitespace after a name: only an error remains */
    S_TRAILER_VALUE,
    S_TRAILER_LF,
    S_FINAL_LF,
    S_DONE,
};

HT_INLINE int hexval(uint8_t c) {
    if ((unsigned) (c - '0') < 10u) return c - '0';
    c |= 0x20;
    if ((unsigned) (c - 'a') < 6u) return c - 'a' + 10;
    return -1;
}

HT_INLINE bool is_qdtext(uint8_t c) { /* HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}
HT_INLINE bool is_field_vchar(uint8_t c) { /* HTAB / SP / VCHAR / obs-text */
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

ht_io_t ht_chunked__decode(ht_chunked_t* d, char* buf, size_t* len, uint64_t max_body,
                           uint32_t max_trailer) {
    const size_t n = *len;
    size_t       r = 0; /* read position */
    size_t       w = 0; /* write position (<= r) */
    unsigned     st = d->state;
    ht_result_t  err;

    if (st == S_DONE) { /* everything follows the body */
        *len = 0;
        return (ht_io_t) n;
    }
    while (r < n) {
        if (st == S_DATA) {
            size_t take = n - r;
            if (take > d->remaining) take = (size_t) d->remaining;
            if (w != r) memmove(buf + w, buf + r, take);
            w += take;
            r += take;
            d->remaining -= take;
            d->total += take;
            if (d->remaining == 0) st = S_DATA_CR;
            continue;
        }
        const uint8_t c = (uint8_t) buf[r++];
        if (st < S_SIZE_LF || st == S_SIZE_LF) {
            if (++d->line_bytes > HT_CHUNK_LINE_MAX) { err = HT_E_BAD_CHUNK; goto fail; }
        } else if (st >= S_TRAILER_START && st <= S_TRAILER_LF && (st != S_TRAILER_START || c != '\r')) {
            /* trailer field lines count; the final CRLF does not */
            if (++d->trailer_bytes > max_trailer) { err = HT_E_HEADERS_TOO_LARGE; goto fail; }
        }
        switch (st) {
        case S_SIZE_FIRST:
        case S_SIZE: {
            int h = hexval(c);
            if (h >= 0) {
                if (d->remaining > (UINT64_MAX >> 4)) { err = HT_E_CHUNK_TOO_LARGE; goto fail; }
                d->remaining = (d->remaining << 4) | (uint64_t) h;
                st = S_SIZE;
                break;
            }
            if (st == S_SIZE_FIRST) { err = HT_E_BAD_CHUNK; goto fail; }
            if (c == ' ' || c == '\t') { st = S_SIZE_BWS; break; }
            st = S_EXT_BWS;
            goto ext_bws;
        }
        case S_SIZE_BWS:
            /* chunk-ext = *( BWS ";" ... ): BWS belongs to an extension, so
             * "5 \r\n" is malformed (RFC 9112 §7.1); parsers that allow it
             * disagree with those that do not about where a chunk starts. */
            if (c == ' ' || c == '\t') break;
            if (c == ';') { st = S_EXT_NAME_BWS; break; }
            err = HT_E_BAD_CHUNK;
            goto fail;
        case S_EXT_BWS:
        ext_bws:
            if (c == ' ' || c == '\t') break;
            if (c == ';') { st = S_EXT_NAME_BWS; break; }
            if (c == '\r') { st = S_SIZE_LF; break; }
            err = HT_E_BAD_CHUNK;
            goto fail;
        case S_EXT_NAME_BWS:
            if (c == ' ' || c == '\t') break;
            if (ht_http__tchar[c]) { st = S_EXT_NAME; break; }
            err = HT_E_BAD_CHUNK;
            goto fail;
        case S_EXT_NAME:
            if (ht_http__tchar[c]) break;
            st = S_EXT_NAME_END;
            goto ext_name_end;
        case S_EXT_NAME_END:
        ext_name_end:
            if (c == ' ' || c == '\t') break;
            if (c == '=') { st = S_EXT_VAL_BWS; break; }
            if (c == ';') { st = S_EXT_NAME_BWS; break; }
            if (c == '\r') { st = S_SIZE_LF; break; }
            err = HT_E_BAD_CHUNK;
            goto fail;
        case S_EXT_VAL_BWS:
            if (c == ' ' || c == '\t') break;
            if (c == '"') { st = S_EXT_QUOTED; break; }
            if (ht_http__tchar[c]) { st = S_EXT_TOKEN; break; }
            err = HT_E_BAD_CHUNK;
            goto fail;
        case S_EXT_TOKEN:
            if (ht_http__tchar[c]) break;
            st = S_EXT_BWS;
            goto ext_bws;
        case S_EXT_QUOTED:
            if (c == '"') { st = S_EXT_BWS; break; }
            if (c == '\\') { st = S_EXT_QUOTED_ESC; break; }
            if (is_qdtext(c)) break;
            err = HT_E_BAD_CHUNK;
            goto fail;
        case S_EXT_QUOTED_ESC: /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
            if (is_field_vchar(c)) { st = S_EXT_QUOTED; break; }
            err = HT_E_BAD_CHUNK;
            goto fail;
        case S_SIZE_LF:
            if (c != '\n') { err = HT_E_BAD_CHUNK; goto fail; }
            d->line_bytes = 0;
            if (d->remaining == 0) { st = S_TRAILER_START; break; }
            /* previous chunks are complete here, so total is all of them */
            if (max_body < d->total || d->remaining > max_body - d->total) {
                err = HT_E_BODY_TOO_LARGE;
                goto fail;
            }
            st = S_DATA;
            break;
        case S_DATA_CR:
            if (c != '\r') { err = HT_E_BAD_CHUNK; goto fail; }
            st = S_DATA_LF;
            break;
        case S_DATA_LF:
            if (c != '\n') { err = HT_E_BAD_CHUNK; goto fail; }
            st = S_SIZE_FIRST;
            break;
        case S_TRAILER_START:
            if (c == '\r') { st = S_FINAL_LF; break; }
            if (ht_http__tchar[c]) { st = S_TRAILER_NAME; break; }
            err = c == ' ' || c == '\t' ? HT_E_OBS_FOLD
                : c == '\n'             ? HT_E_BARE_LF
                                        : HT_E_BAD_HEADER_NAME;
            goto fail;
        case S_TRAILER_NAME:
            if (ht_http__tchar[c]) break;
            if (c == ':') { st = S_TRAILER_VALUE; break; }
            if (c == ' ' || c == '\t') { st = S_TRAILER_NAME_WS; break; }
            err = c == '\n' ? HT_E_BARE_LF : HT_E_BAD_HEADER_NAME;
            goto fail;
        case S_TRAILER_NAME_WS:
            if (c == ' ' || c == '\t') break;
            err = c == ':' ? HT_E_SPACE_BEFORE_COLON : HT_E_BAD_HEADER_NAME;
            goto fail;
        case S_TRAILER_VALUE:
            if (is_field_vchar(c)) break;
            if (c == '\r') { st = S_TRAILER_LF; break; }
            err = c == '\n' ? HT_E_BARE_LF : HT_E_BAD_HEADER_VALUE;
            goto fail;
        case S_TRAILER_LF:
            if (c != '\n') { err = HT_E_BARE_CR; goto fail; }
            st = S_TRAILER_START;
            break;
        case S_FINAL_LF:
            if (c != '\n') { err = HT_E_BARE_CR; goto fail; }
            d->state = S_DONE;
            if (w != r) memmove(buf + w, buf + r, n - r);
            *len = w;
            return (ht_io_t) (n - r);
        default:
            err = HT_E_BAD_CHUNK;
            goto fail;
        }
    }
    d->state = (uint8_t) st;
    *len     = w;
    return -EAGAIN;

fail:
    d->state = (uint8_t) st;
    *len     = w;
    return err;
}
