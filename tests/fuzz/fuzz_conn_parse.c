/* fuzz_conn_parse.c — the strict reading of what fuzz_conn's client got
 * back: every response's status line, fields, framing and body, the echo
 * and SSE bodies against what the handler sent, the server's own answers
 * against the deadlines and body errors the handler saw (the invariants are
 * listed in fuzz_conn.c). Aborts on the first violation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ht/server.h>

#include "fuzz_conn.h"

/* ---- strict response parsing ---- */

static bool tchar_(uint8_t c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool ieq_(const char* a, size_t n, const char* lit) { return strlen(lit) == n && !strncasecmp(a, lit, n); }

static bool parse_u64_(const char* p, size_t n, uint64_t* v) {
    if (n == 0 || n > 19) return false;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        *v = *v * 10 + (uint64_t) (p[i] - '0');
    }
    return true;
}

/* Finds CRLF from at; a bare CR or LF before it is a failure. */
/* (With cut: the bytes running out is no failure but *cut = true, SIZE_MAX.) */
static size_t line_end_cut_(const char* s, size_t n, size_t at, const char* what, bool* cut) {
    for (size_t i = at; i < n; i++) {
        if (s[i] == '\n') FAIL("bare LF in %s at %zu", what, i);
        if (s[i] == '\r') {
            if (i + 1 >= n) break;
            if (s[i + 1] != '\n') FAIL("bare CR in %s at %zu", what, i);
            return i;
        }
    }
    if (cut) {
        *cut = true;
        return SIZE_MAX;
    }
    FAIL("%s truncated (no CRLF after %zu)", what, at);
}
static size_t line_end_(const char* s, size_t n, size_t at, const char* what) {
    return line_end_cut_(s, n, at, what, nullptr);
}

/* A chunked body from at: returns its end; the payload is appended to dec.
 * cut: a body the bytes end in is allowed (*cut = true, returns n). */
static size_t chunked_body_(const char* s, size_t n, size_t at, out_t* dec, bool* cut) {
    for (;;) {
        size_t e = line_end_cut_(s, n, at, "chunk size line", cut);
        if (e == SIZE_MAX) return n;
        uint64_t sz = 0;
        size_t i = at;
        if (i == e) FAIL("empty chunk size at %zu", at);
        for (; i < e && sz < (1ull << 40); i++) {
            char c = s[i];
            int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
            if (d < 0) FAIL("bad chunk size at %zu", i);
            sz = sz * 16 + (uint64_t) d;
        }
        at = e + 2;
        if (sz == 0) {
            for (;;) { /* trailer fields, then CRLF */
                size_t te = line_end_cut_(s, n, at, "trailer", cut);
                if (te == SIZE_MAX) return n;
                bool last = te == at;
                at = te + 2;
                if (last) return at;
            }
        }
        if (n - at < sz + 2) {
            if (cut) {
                *cut = true;
                return n;
            }
            FAIL("chunk data truncated at %zu", at);
        }
        if (dec) {
            if (dec->cap - dec->n < sz) {
                dec->cap = dec->n + sz + 4096;
                dec->p = realloc(dec->p, dec->cap);
                if (!dec->p) abort();
            }
            memcpy(dec->p + dec->n, s + at, sz);
            dec->n += sz;
        }
        at += sz;
        if (s[at] != '\r' || s[at + 1] != '\n') FAIL("chunk data not followed by CRLF at %zu", at);
        at += 2;
    }
}

/* "METHOD SP TARGET LF BODY": the method of X-Echo-Method, a target without
 * SP/CTL, a body of X-Echo-Body bytes. */
static void check_echo_(const char* b, size_t bl, const char* em, size_t eml, uint64_t echo_body, size_t at) {
    if (bl < eml + 2 || memcmp(b, em, eml) || b[eml] != ' ')
        FAIL("echo body does not start with the method at %zu", at);
    size_t i = eml + 1;
    while (i < bl && b[i] != '\n') {
        if ((uint8_t) b[i] <= 0x20 || b[i] == 0x7f)
            FAIL("SP/CTL 0x%02x in an echoed target at %zu", (uint8_t) b[i], at + i);
        i++;
    }
    if (i == eml + 1 || i == bl) FAIL("echoed target empty or unterminated at %zu", at);
    if (echo_body != bl - i - 1)
        FAIL("echo body %llu bytes, X-Echo-Body says %llu", (unsigned long long) (bl - i - 1),
             (unsigned long long) echo_body);
}

/* An SSE echo: heartbeats (":"), comments (": c") and exactly one event
 * "event: echo", "id: 1", "data: METHOD SP TARGET", each block ending in a
 * blank line. */
static void check_sse_(const char* b, size_t bl, const char* m, size_t ml, size_t at) {
    static const char ev[] = "event: echo\nid: 1\ndata: ";
    int events = 0;
    for (size_t i = 0; i < bl;) {
        const char* e = memmem(b + i, bl - i, "\n\n", 2);
        if (!e) FAIL("SSE block without its blank line at %zu", at + i);
        size_t k = (size_t) (e - (b + i));
        const char* blk = b + i;
        if (k >= 1 && blk[0] == ':') {
            if (memchr(blk, '\n', k) || !(k == 1 || (k == 3 && !memcmp(blk, ": c", 3))))
                FAIL("SSE comment %.*s at %zu", (int) k, blk, at + i);
        } else {
            size_t el = sizeof ev - 1;
            if (k < el + ml + 2 || memcmp(blk, ev, el) || memcmp(blk + el, m, ml) || blk[el + ml] != ' ')
                FAIL("SSE event %.*s at %zu", (int) k, blk, at + i);
            for (size_t j = el + ml + 1; j < k; j++)
                if ((uint8_t) blk[j] <= 0x20 || blk[j] == 0x7f)
                    FAIL("SP/CTL in an SSE event's target at %zu", at + i + j);
            events++;
        }
        i += k + 2;
    }
    if (events != 1) FAIL("%d SSE events at %zu", events, at);
}

void parse_responses_(const char* s, size_t n, uint64_t cut_streams, tally_t* t) {
    size_t at = 0;
    int ai = 0; /* answers_ */
    bool closed = false;
    out_t dec = { 0 };
    while (at < n) {
        if (closed) FAIL("%zu bytes after a response that closed the connection (at %zu)", n - at, at);
        size_t start = at;
        if (n - at < 13 || memcmp(s + at, "HTTP/1.1 ", 9)) FAIL("no status line at %zu", at);
        const char* d = s + at + 9;
        if (d[0] < '1' || d[0] > '5' || d[1] < '0' || d[1] > '9' || d[2] < '0' || d[2] > '9')
            FAIL("bad status code at %zu", at);
        int status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
        if (d[3] != ' ') FAIL("no SP after the status code at %zu", at);
        size_t e = line_end_(s, n, at + 13, "status line");
        for (size_t i = at + 13; i < e; i++)
            if ((uint8_t) s[i] < 0x20 && s[i] != '\t') FAIL("CTL in the reason phrase at %zu", i);
        at = e + 2;
        int ncl = 0, ndate = 0, nte = 0, stream = 0;
        uint64_t cl = 0, echo_body = UINT64_MAX;
        bool close = false, chunked = false, dropped = false;
        const char *em = nullptr, *sm = nullptr;
        size_t eml = 0, sml = 0;
        for (int fields = 0;; fields++) {
            if (fields > 64) FAIL("too many fields at %zu", at);
            size_t le = line_end_(s, n, at, "field line");
            if (le == at) { at += 2; break; }
            size_t c = at;
            while (c < le && tchar_((uint8_t) s[c])) c++;
            if (c == at || c == le || s[c] != ':') FAIL("bad field name at %zu", at);
            const char* name = s + at;
            size_t nl = c - at;
            size_t v = c + 1;
            while (v < le && (s[v] == ' ' || s[v] == '\t')) v++;
            size_t ve = le;
            while (ve > v && (s[ve - 1] == ' ' || s[ve - 1] == '\t')) ve--;
            for (size_t i = v; i < ve; i++)
                if (((uint8_t) s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) FAIL("CTL in a field value at %zu", i);
            const char* val = s + v;
            size_t vl = ve - v;
            if (ieq_(name, nl, "Content-Length")) {
                ncl++;
                if (!parse_u64_(val, vl, &cl)) FAIL("bad Content-Length at %zu", at);
            } else if (ieq_(name, nl, "Transfer-Encoding")) {
                nte++;
                if (!ieq_(val, vl, "chunked")) FAIL("Transfer-Encoding other than chunked at %zu", at);
                chunked = true;
            } else if (ieq_(name, nl, "Date")) {
                ndate++;
            } else if (ieq_(name, nl, "Connection")) {
                if (ieq_(val, vl, "close")) close = true;
                else if (!ieq_(val, vl, "keep-alive")) FAIL("Connection: %.*s at %zu", (int) vl, val, at);
            } else if (ieq_(name, nl, "X-Echo-Method")) {
                em = val, eml = vl;
            } else if (ieq_(name, nl, "X-Echo-Sse")) {
                sm = val, sml = vl;
            } else if (ieq_(name, nl, "X-Echo-Stream")) {
                if (ieq_(val, vl, "1.0")) stream = 10;
                else if (ieq_(val, vl, "1.1")) stream = 11;
                else FAIL("X-Echo-Stream: %.*s", (int) vl, val);
            } else if (ieq_(name, nl, "X-Echo-Dropped")) {
                dropped = true;
            } else if (ieq_(name, nl, "X-Echo-Body")) {
                if (!parse_u64_(val, vl, &echo_body)) FAIL("bad X-Echo-Body at %zu", at);
            }
            at = le + 2;
        }
        if (dropped) FAIL("a head cut off by its deadline went out at %zu", start);
        if (status < 200) {
            if (status != 100 || ncl || nte || ndate || close) FAIL("unexpected interim response at %zu", start);
            t->continues++;
            continue;
        }
        if (ndate != 1) FAIL("%d Date fields at %zu", ndate, start);
        if (sm && !stream) FAIL("an SSE response without X-Echo-Stream");
        /* Methods are case-sensitive (RFC 9110 §9.1): "hEAD" is no HEAD. */
        const char* meth = em ? em : sm;
        size_t methl = em ? eml : sml;
        bool no_body = status == 204 || status == 304 || (meth && methl == 4 && !memcmp(meth, "HEAD", 4));
        /* A stream cut off because the client left ends with the bytes. */
        bool cut_ok = stream && cut_streams, cut = false;
        bool in_place = false; /* the server's answer in place of a handle */
        if (!meth && (status == 503 || status == 504)) {
            if (ai == nanswers_ || answers_[ai].status != status)
                FAIL("a %d at %zu, no deadline passed for it (%d of %d)", status, start, ai, nanswers_);
            in_place = true;
        } else if (!meth && status >= 400 && status < 500 && ai < nanswers_ && answers_[ai].status == 0) {
            in_place = true; /* a streamed body failed */
        }
        if (in_place) no_body = no_body || answers_[ai++].head_only;
        const char* body = s + at;
        size_t body_len = 0;
        if (status == 204 || status == 304) {
            if (ncl || nte) FAIL("framing fields on a %d at %zu", status, start);
        } else if (chunked) {
            /* only streams (to HTTP/1.1 clients) are chunked */
            if (ncl || nte != 1) FAIL("Transfer-Encoding with Content-Length, or twice, at %zu", start);
            if (stream != 11) FAIL("a chunked response that is no stream to an HTTP/1.1 request at %zu", start);
            if (!no_body) {
                dec.n = 0;
                at = chunked_body_(s, n, at, &dec, cut_ok ? &cut : nullptr);
                body = dec.p ? dec.p : "";
                body_len = dec.n;
            }
        } else if (ncl == 1) {
            if (!no_body) {
                if (n - at < cl && cut_ok) {
                    cut = true;
                    cl = n - at;
                }
                if (n - at < cl) FAIL("body truncated: %zu of %llu bytes at %zu", n - at, (unsigned long long) cl, at);
                body_len = (size_t) cl;
                at += cl;
            }
        } else if (ncl == 0 && stream && no_body) {
            /* HEAD of a stream to HTTP/1.0 of unknown length: no framing */
        } else if (ncl == 0 && stream == 10 && close) {
            body_len = n - at; /* HTTP/1.0 stream: the body ends with the connection */
            at = n;
            cut = cut_ok; /* the last response either way: the stream cut off is this one */
        } else {
            FAIL("%d Content-Length fields at %zu", ncl, start);
        }
        if (cut) { /* the client left mid-stream: the response ends where the bytes do */
            if (at != n) FAIL("a cut-off stream followed by %zu bytes", n - at);
            t->cut_streams++;
            break;
        }
        if (em) {
            t->echoes++;
            if (stream) t->streams++;
            if (status != 200) FAIL("echo response with status %d", status);
            if (!no_body) check_echo_(body, body_len, em, eml, echo_body, start);
            if (echo_body > MAX_BODY) FAIL("body of %llu bytes beyond max_body", (unsigned long long) echo_body);
        } else if (sm) {
            t->echoes++;
            t->sses++;
            if (status != 200) FAIL("SSE response with status %d", status);
            if (!no_body) check_sse_(body, body_len, sm, sml, start);
        } else if (stream) {
            FAIL("X-Echo-Stream without X-Echo-Method at %zu", start);
        } else if (status == 500 && ncl == 1 && cl == 0) {
            t->fallbacks++; /* the handler's response did not fit */
        } else if (status == 503 || status == 504) {
            /* a deferred response's deadline: the server answers in its
             * place, and keeps the connection when it can */
            if (status == 503) t->deadline_503++;
            else t->deadline_504++;
        } else {
            t->errors++;
            if (status < 400) FAIL("server response %d without the handler at %zu", status, start);
            if (!close) FAIL("error response %d does not close at %zu", status, start);
        }
        if (close) closed = true;
    }
    if (ai != nanswers_) FAIL("%d answers in place of cut-off handles, %d expected", ai, nanswers_);
    free(dec.p);
}
