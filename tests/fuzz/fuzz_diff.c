/* fuzz_diff: differential check of our request framing against llhttp in
 * strict mode (Debian node-llhttp's C sources, compiled into this target only
 * with LLHTTP_STRICT_MODE=1; never copied into the tree).
 *
 * Both parsers read the same pipelined stream. For each, we record where
 * every complete request ends and how the stream stops: incomplete (wants
 * more bytes), an error, or a deliberate stop (Connection: close, an upgrade
 * or CONNECT after which the bytes are not HTTP). Then:
 *   - where both completed request k, the ends must be equal: a different end
 *     is a framing disagreement, the request-smuggling class; always a crash;
 *   - otherwise a difference in how far they got, or in the stop kind, is an
 *     accept/reject disagreement, classified by (which side rejected, our
 *     HT_E_* code, llhttp's HPE_* code). Classes documented in README.md as
 *     deliberate are counted; any other class crashes the target.
 * HT_DIFF_SURVEY=1 in the environment turns the crash for undocumented
 * classes into a tally (with one example input each) printed at exit: how
 * the classes were found. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"
#include "llhttp.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define MAXREQ 16
#define FAIL(...) do { fprintf(stderr, "fuzz_diff: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

enum stop { S_MORE, S_ERROR, S_CLOSE, S_UPGRADE };
static const char* const stop_names[] = { "more", "error", "close", "upgrade" };

typedef struct {
    size_t ends[MAXREQ];
    bool chunked[MAXREQ]; /* ours only: request k had a chunked body */
    int n;
    enum stop stop;
    int code; /* HT_E_* or HPE_* for S_ERROR */
} run_t;

/* ---- ours: head parser, then Content-Length or the chunked decoder ---- */
static void run_ours(const char* s, size_t n, run_t* o) {
    ht_header_t h[64];
    size_t off = 0;
    o->n = 0;
    for (;;) {
        if (o->n == MAXREQ) { o->stop = S_MORE; return; }
        ht_request_head_t hd = { .headers = h, .max_headers = 64 };
        o->chunked[o->n] = false;
        ht_parser_t p = { 0 };
        ht_io_t r = ht_parse__request(&p, s + off, n - off, nullptr, &hd);
        if (r == -EAGAIN) { o->stop = S_MORE; return; }
        if (r < 0) { o->stop = S_ERROR; o->code = (int) r; return; }
        off += (size_t) r;
        bool upgrade = (hd.flags & HT_HEAD_UPGRADE) || hd.method_id == HT_METHOD_CONNECT;
        if (hd.method_id == HT_METHOD_CONNECT) {
            /* RFC 9110 §9.3.6: no content; what follows is the tunnel */
            o->ends[o->n++] = off;
            o->stop = S_UPGRADE;
            return;
        }
        if (hd.flags & HT_HEAD_CHUNKED) {
            size_t len = n - off;
            char* b = malloc(len ? len : 1);
            memcpy(b, s + off, len);
            ht_chunked_t d = { 0 };
            size_t out = len;
            ht_io_t c = ht_chunked__decode(&d, b, &out, UINT64_MAX, UINT32_MAX);
            free(b);
            if (c == -EAGAIN) { o->stop = S_MORE; return; }
            if (c < 0) { o->stop = S_ERROR; o->code = (int) c; return; }
            off = n - (size_t) c;
            o->chunked[o->n] = true;
        } else if (hd.flags & HT_HEAD_CONTENT_LENGTH) {
            if (hd.content_length > n - off) { o->stop = S_MORE; return; }
            off += (size_t) hd.content_length;
        }
        o->ends[o->n++] = off;
        if (upgrade) { o->stop = S_UPGRADE; return; }
        if (!(hd.flags & HT_HEAD_KEEP_ALIVE)) { o->stop = S_CLOSE; return; }
    }
}

/* ---- llhttp: pause at each message end to learn where it is ---- */
static int ll_complete(llhttp_t* p) { return HPE_PAUSED; }

static void run_ll(const char* s, size_t n, run_t* o) {
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_message_complete = ll_complete;
    llhttp_t p;
    llhttp_init(&p, HTTP_REQUEST, &st);
    size_t pos = 0;
    o->n = 0;
    for (;;) {
        if (o->n == MAXREQ) { o->stop = S_MORE; return; }
        llhttp_errno_t e = llhttp_execute(&p, s + pos, n - pos);
        if (e == HPE_PAUSED) {
            const char* at = llhttp_get_error_pos(&p);
            pos = (size_t) (at - s);
            o->ends[o->n++] = pos;
            bool upgrade = p.upgrade;
            bool keep = llhttp_should_keep_alive(&p);
            llhttp_resume(&p);
            if (upgrade) { o->stop = S_UPGRADE; return; }
            if (!keep) { o->stop = S_CLOSE; return; }
            continue;
        }
        if (e == HPE_PAUSED_UPGRADE) {
            /* upgrade after the head: the message ended there */
            o->stop = S_UPGRADE;
            return;
        }
        if (e == HPE_OK) { o->stop = S_MORE; return; }
        o->stop = S_ERROR;
        o->code = (int) e;
        return;
    }
}

/* ---- classes ----
 * A disagreement is classified at the first request where the two differ:
 *   R_OURS:   we reject (or stop, or wait) at a request llhttp completes; code
 *             is our HT_E_* (or -1 wait, -2 close, -3 upgrade);
 *   R_LL:     llhttp rejects/stops at a request we complete; code is HPE_*
 *             (or -1 wait, -2 close, -3 upgrade);
 *   R_STOP:   both complete the same requests and stop differently.
 * Deliberate classes are listed here and explained, with the RFC, in
 * tests/fuzz/README.md ("Differential check"). */
enum side { R_OURS, R_LL, R_STOP };
static const char* const side_names[] = { "ours rejects", "llhttp rejects", "stop" };

typedef struct {
    enum side side;
    int code;
} doc_t;

static const doc_t documented[] = {
    /* we are stricter, per RFC 9112 / 9110 (README.md D1-D9) */
    { R_OURS, HT_E_MISSING_HOST },             /* D1 */
    { R_OURS, HT_E_DUP_HOST },                 /* D1 */
    { R_OURS, HT_E_BARE_LF },                  /* D2 */
    { R_OURS, HT_E_BARE_CR },                  /* D2 */
    { R_OURS, HT_E_OBS_FOLD },                 /* D3 */
    { R_OURS, HT_E_BAD_TARGET },               /* D4 */
    { R_OURS, HT_E_BAD_HEADER_NAME },          /* D5 */
    { R_OURS, HT_E_BAD_HEADER_VALUE },         /* D5: Connection is a token list */
    { R_OURS, HT_E_BAD_TRANSFER_ENCODING },    /* D6 */
    { R_OURS, HT_E_UNKNOWN_TRANSFER_CODING },  /* D6 */
    { R_OURS, HT_E_EXPECTATION_FAILED },       /* D7 */
    { R_OURS, HT_E_VERSION },                  /* D8 */
    { R_OURS, HT_E_BAD_HOST },                 /* D1: Host = uri-host [":" port] (RFC 9112 §3.2) */
    { R_OURS, HT_E_BAD_VERSION },              /* D4: one SP before the version */
    { R_OURS, HT_E_TOO_MANY_HEADERS },         /* D10: limits */
    { R_OURS, HT_E_HEADERS_TOO_LARGE },        /* D10 */
    { R_OURS, HT_E_URI_TOO_LONG },             /* D10 */
    { R_OURS, HT_E_BAD_CHUNK },                /* D17: chunk-ext grammar */
    /* llhttp refuses what we leave to a later layer or accept (D11-D14) */
    { R_LL, HPE_INVALID_METHOD },              /* D11: methods are any token */
    { R_LL, HPE_INVALID_URL },                 /* D12: target grammar is ht/uri.h's */
    { R_LL, HPE_INVALID_CONTENT_LENGTH },      /* D13: OWS around the value */
    { R_LL, HPE_INVALID_CHUNK_SIZE },          /* D14: BWS after the size */
    { R_LL, HPE_STRICT },                      /* D14: BWS after an extension */
    { R_LL, HPE_INVALID_VERSION },             /* D8: HTTP/1.x, x > 1, is 1.1 for us (RFC 9110 §2.5) */
    { R_LL, HPE_INVALID_TRANSFER_ENCODING },   /* D16: trailers are discarded */
    { R_LL, HPE_UNEXPECTED_CONTENT_LENGTH },   /* D16 */
    /* persistence, not framing: Connection "keep-alive, close" closes (D15) */
    { R_STOP, S_CLOSE * 4 + S_ERROR },
    { R_OURS, -2 },                            /* D15: we close where llhttp keeps alive */
};

typedef struct { char key[96]; unsigned long count; char example[600]; } tally_t;
static tally_t tally[256];
static int ntally;
static bool survey;

static void print_tally(void) {
    for (int i = 0; i < ntally; i++)
        fprintf(stderr, "diff class %-70s %8lu  e.g. %s\n", tally[i].key, tally[i].count,
                tally[i].example);
}

static void note_class(const char* key, const uint8_t* data, size_t size) {
    for (int i = 0; i < ntally; i++)
        if (strcmp(tally[i].key, key) == 0) { tally[i].count++; return; }
    if (ntally == 256) return;
    tally_t* t = &tally[ntally++];
    snprintf(t->key, sizeof t->key, "%s", key);
    t->count = 1;
    size_t w = 0;
    for (size_t i = 0; i < size && w + 5 < sizeof t->example; i++) {
        uint8_t c = data[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') t->example[w++] = (char) c;
        else w += (size_t) snprintf(t->example + w, sizeof t->example - w, "\\x%02x", c);
    }
    t->example[w] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static bool init;
    if (!init) {
        init = true;
        survey = getenv("HT_DIFF_SURVEY") != nullptr;
        if (survey) atexit(print_tally);
    }
    char* s = malloc(size ? size : 1);
    memcpy(s, data, size);
    run_t a, b;
    run_ours(s, size, &a);
    run_ll(s, size, &b);
    free(s);

    if (getenv("HT_DIFF_VERBOSE")) {
        fprintf(stderr, "ours: %d requests, %s %s; llhttp: %d requests, %s %s\n", a.n,
                stop_names[a.stop], a.stop == S_ERROR ? ht_result__str(a.code) : "", b.n,
                stop_names[b.stop], b.stop == S_ERROR ? llhttp_errno_name((llhttp_errno_t) b.code) : "");
        for (int k = 0; k < a.n || k < b.n; k++)
            fprintf(stderr, "  request %d ends: ours %zu, llhttp %zu\n", k,
                    k < a.n ? a.ends[k] : 0, k < b.n ? b.ends[k] : 0);
    }
    int common = a.n < b.n ? a.n : b.n;
    for (int k = 0; k < common; k++)
        if (a.ends[k] != b.ends[k])
            FAIL("framing: request %d ends at %zu for us, %zu for llhttp", k, a.ends[k], b.ends[k]);
    enum side side;
    int code;
    if (a.n < b.n) {
        side = R_OURS;
        code = a.stop == S_ERROR ? a.code : -1 - (int) a.stop + (a.stop > S_ERROR);
    } else if (a.n > b.n) {
        side = R_LL;
        code = b.stop == S_ERROR ? b.code : -1 - (int) b.stop + (b.stop > S_ERROR);
    } else {
        if (a.stop == b.stop) return 0;
        /* One side still waits for the rest of a line the other has already
         * refused: errors are decided at a line's LF here, at the first bad
         * byte in llhttp. Undecided, not a disagreement. */
        if (a.stop == S_MORE || b.stop == S_MORE) return 0;
        side = R_STOP;
        code = (int) a.stop * 4 + (int) b.stop;
    }
    if (side == R_LL) {
        /* D11: llhttp keeps PRI for the HTTP/2 preface (it refuses other
         * versions, or waits for "SM\r\n\r\n") and RTSP/ICE methods for
         * "RTSP/" or "ICE/"; for us they are tokens like any other method. */
        static const char* const reserved[] = {
            "PRI", "DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE", "TEARDOWN",
            "GET_PARAMETER", "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH", "SOURCE",
        };
        size_t at = b.n ? b.ends[b.n - 1] : 0;
        while (at + 1 < size && data[at] == '\r' && data[at + 1] == '\n') at += 2;
        for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
            size_t l = strlen(reserved[i]);
            if (size - at > l && memcmp(data + at, reserved[i], l) == 0 && data[at + l] == ' ')
                return 0;
        }
    }
    /* We wait for a body llhttp thinks is over, or the reverse: framing. */
    if ((side == R_OURS || side == R_LL) && code == -1)
        FAIL("framing: %s waits for more bytes at a request the other completed",
             side == R_OURS ? "we" : "llhttp");
    static const char* const nonerr[] = { "", "waits", "closes", "upgrades" };
    bool is_stop = code < 0 && code >= -3;
    char key[96];
    if (side == R_OURS)
        snprintf(key, sizeof key, "%s: %s", side_names[side], is_stop ? nonerr[-code] : ht_result__str(code));
    else if (side == R_LL)
        snprintf(key, sizeof key, "%s: %s", side_names[side], is_stop ? nonerr[-code] : llhttp_errno_name((llhttp_errno_t) code));
    else
        snprintf(key, sizeof key, "stop: ours %s / llhttp %s", stop_names[a.stop], stop_names[b.stop]);
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
        if (documented[i].side == side && documented[i].code == code) return 0;
    /* D16: a Connection field in a chunked trailer: llhttp applies it, we
     * discard trailers; it closes where we read on. */
    bool after_chunked = a.n > 0 && a.n <= b.n && a.chunked[a.n - 1];
    if (after_chunked && ((side == R_STOP && b.stop == S_CLOSE) || (side == R_LL && code == -2)))
        return 0;
    if (survey) { note_class(key, data, size); return 0; }
    FAIL("undocumented disagreement (%s)", key);
}
