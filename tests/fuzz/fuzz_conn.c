/* fuzz_conn: a whole connection of the real server (ht_server__serve on an
 * ht_loop, epoll or io_uring as built) driven with an arbitrary byte stream,
 * every response parsed back strictly.
 *
 * Set up once: one loop, one acceptor with an echo handler and small limits
 * (so 413/414/431, send-buffer flushes and out-of-line bodies are reached),
 * listening on an abstract AF_UNIX socket handed to the server with
 * ht_server__adopt (the accept path is the real one). Per input: a fresh client connection,
 * accepted by the loop; the stream written in up to 5 pieces (4 offsets
 * from the input's first 8 bytes), the loop pumped after each until the
 * server has read it all (SIOCOUTQ == 0) and gone quiet, so each piece is
 * its own receive; then SHUT_WR, everything read back until EOF, close,
 * and the loop pumped until the server has let the connection go. All in
 * this thread: the loop is pumped one non-blocking iteration at a time.
 *
 * Invariants (abort on violation):
 *   - responses: "HTTP/1.1 DDD reason" CRLF, token ":" value CRLF fields
 *     (no CTL in a value), CRLF; final responses carry one Date and exactly
 *     one Content-Length (or Transfer-Encoding: chunked, parsed as such),
 *     except 204/304; 100 Continue has neither; the body is all there; a
 *     HEAD response has none; nothing follows a Connection: close response;
 *   - the server's own error responses (no X-Echo-Method) are >= 400 and
 *     close the connection;
 *   - echo responses: "METHOD SP TARGET LF BODY" with the method of
 *     X-Echo-Method, a target without SP/CTL, a body of X-Echo-Body bytes
 *     within max_body;
 *   - a handler call may fail only with -ENOBUFS, and only when the head
 *     would not fit in an EMPTY send buffer by the builder's measure
 *     (ht/response.h): behind pipelined responses the same head must still
 *     succeed (regression seed regress-pipelined-500); each failure is
 *     answered by an empty 500, one per failure;
 *   - echo responses + empty 500s == requests the acceptor counted, error responses ==
 *     errors it counted (at most one), no timeouts, and after the client's
 *     EOF the server closes within a bounded number of loop iterations and
 *     frees the connection (open == 0) and its socket (as many fds open as
 *     before the input): nothing carries over to the next input. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ht/server.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_conn: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define HDR 8            /* 4 little-endian 16-bit split offsets */
#define MAX_BODY 8192u
#define OUT_CAP (4u << 20)

static const ht_config_t cfg_ = {
    .max_request_line = 1024,
    .max_head = 4096,
    .max_headers = 24,
    .max_body = MAX_BODY,
    .max_trailer = 512,
    /* Nothing may time out within an input: a timeout would be noise. */
    .header_timeout_ms = 60000,
    .body_timeout_ms = 60000,
    .idle_timeout_ms = 60000,
    .send_timeout_ms = 60000,
    .linger_timeout_ms = 60000,
    .max_keepalive_requests = 12,
    .send_buffer_size = 1024, /* the minimum: bodies go out of line, batches flush */
    .send_buffer_cache = 4,
};

static ht_alloc_t* alloc_;
static ht_loop_t* loop_;
static ht_server_t server_ = { .config = &cfg_ };
static ht_acceptor_t acc_;
static struct sockaddr_un addr_;
static socklen_t addr_len_;
static bool verbose_;

/* ---- the handler: echo ---- */

static char echo_[1024 + 1 + MAX_BODY + 64];
static uint64_t enobufs_;

static void echo_handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    ht_slice_t m = ht_request__method_slice(req), t = ht_request__target(req), b = ht_request__body(req);
    if (m.len + t.len + b.len + 2 > sizeof echo_) FAIL("request larger than the limits allow");
    size_t n = 0;
    memcpy(echo_ + n, m.ptr, m.len), n += m.len;
    echo_[n++] = ' ';
    memcpy(echo_ + n, t.ptr, t.len), n += t.len;
    echo_[n++] = '\n';
    if (b.len) memcpy(echo_ + n, b.ptr, b.len), n += b.len;
    char blen[24];
    snprintf(blen, sizeof blen, "%zu", b.len);
    ht_result_t r = ht_response__status(res, 200);
    if (r == 0) r = ht_response__header(res, HT_SLICE("X-Echo-Method"), m);
    if (r == 0) r = ht_response__header_cstr(res, "X-Echo-Body", blen);
    if (r == 0) r = ht_response__body(res, echo_, n, a);
    /* A head that does not fit in an empty send buffer: the server answers
     * an empty 500 instead (ht/response.h). Counted, so the parser can tell
     * these from anything else. The builder's measure: status line 17, each
     * field name + value + 4, and 101 bytes kept for Content-Length, Date,
     * Connection and the blank line; the body goes out of line when it does
     * not fit. Anything that fits an empty buffer must not fail, whatever
     * earlier pipelined responses hold. */
    size_t head = 17 + (13 + m.len + 4) + (11 + strlen(blen) + 4) + 101;
    if (r == -ENOBUFS && head <= cfg->send_buffer_size)
        FAIL("a %zu-byte head failed with -ENOBUFS though an empty %u-byte send buffer holds it (pipelining "
             "changed a response)", head, cfg->send_buffer_size);
    if (r == -ENOBUFS) enobufs_++;
    else if (r != 0) FAIL("echo response could not be built: %d (method %zu, target %zu, body %zu bytes)", r, m.len,
                          t.len, b.len);
}

/* ---- driving the loop from this thread ---- */

static ht_op_t pump_a_, pump_b_;
static void pump_b_cb(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    (void) op, (void) res;
    ht_loop__stop(loop);
}
static void pump_a_cb(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    (void) op, (void) res;
    ht_loop__defer(loop, &pump_b_, 0, pump_b_cb); /* runs after this iteration's poll */
}
/* Exactly one loop iteration with a non-blocking poll: A runs before the
 * poll and defers B, which runs on the next pass (after the poll) and stops. */
static void pump_(void) {
    ht_loop__defer(loop_, &pump_a_, 0, pump_a_cb);
    if (ht_loop__run(loop_) < 0) FAIL("ht_loop__run failed");
}

static void init_(void) {
    if (loop_) return;
    verbose_ = getenv("HT_CONN_VERBOSE") != nullptr;
    alloc_ = ht_alloc__init();
    ht_loop_options_t lo = { .entries = 64, .buf_size = 4096, .buf_count = 64 };
    if (!alloc_ || ht_loop__init_with(&loop_, alloc_, &lo) < 0) FAIL("loop init");
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) FAIL("socket: %s", strerror(errno));
    memset(&addr_, 0, sizeof addr_);
    addr_.sun_family = AF_UNIX;
    /* Abstract namespace: nothing on disk, gone with the process. */
    int l = snprintf(addr_.sun_path + 1, sizeof addr_.sun_path - 1, "hachettp-fuzz-conn-%d", (int) getpid());
    addr_len_ = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + (size_t) l);
    if (bind(lfd, (struct sockaddr*) &addr_, addr_len_) != 0 || listen(lfd, 16) != 0)
        FAIL("bind/listen: %s", strerror(errno));
    if (ht_server__adopt(&server_, lfd) < 0 || ht_server__port(&server_) != 0) FAIL("adopt");
    if (ht_server__serve(&acc_, &server_, loop_, alloc_, echo_handler) < 0) FAIL("serve");
}

/* ---- the client side ---- */

typedef struct out {
    char* p;
    size_t n, cap;
    bool eof, reset;
} out_t;

static void read_all_(int fd, out_t* o) {
    while (!o->eof) {
        if (o->cap - o->n < 65536) {
            if (o->cap >= OUT_CAP) FAIL("more than %u bytes of responses", OUT_CAP);
            o->cap = o->cap ? o->cap * 2 : 65536;
            o->p = realloc(o->p, o->cap);
            if (!o->p) abort();
        }
        ssize_t r = recv(fd, o->p + o->n, o->cap - o->n, 0);
        if (r > 0) { o->n += (size_t) r; continue; }
        if (r == 0) { o->eof = true; break; }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        if (errno == ECONNRESET) { o->eof = o->reset = true; break; }
        FAIL("client recv: %s", strerror(errno));
    }
}

/* Open descriptors below 128 (the harness and the loop hold a few). */
static int count_fds_(void) {
    int n = 0;
    for (int fd = 0; fd < 128; fd++)
        if (fcntl(fd, F_GETFD) >= 0) n++;
    return n;
}

static int outq_(int fd) {
    int q = 0;
    if (ioctl(fd, SIOCOUTQ, &q) != 0) return 0; /* e.g. after the peer closed */
    return q;
}

/* Pumps until the server has read everything sent so far and stopped
 * producing output (or stopped reading: lingering, closed, waiting). */
static void settle_(int fd, out_t* o) {
    int idle = 0;
    for (int i = 0; i < 4096 && !o->eof; i++) {
        size_t before = o->n;
        int q0 = outq_(fd);
        pump_();
        read_all_(fd, o);
        int q1 = outq_(fd);
        if (o->n != before || q1 != q0) idle = 0;
        else idle++;
        if (idle >= (q1 == 0 ? 3 : 16)) return;
    }
}

static void send_piece_(int fd, const uint8_t* p, size_t n, out_t* o) {
    for (int spins = 0; n > 0; spins++) {
        if (spins > 100000) FAIL("server stopped reading for good (%zu bytes left)", n);
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) { p += w, n -= (size_t) w; continue; }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) { pump_(); read_all_(fd, o); continue; }
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) return; /* the server closed: fine */
        FAIL("client send: %s", strerror(errno));
    }
    settle_(fd, o);
}

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

typedef struct tally {
    uint64_t echoes, fallbacks, errors, continues;
} tally_t;

/* Finds CRLF from at; a bare CR or LF before it is a failure. */
static size_t line_end_(const char* s, size_t n, size_t at, const char* what) {
    for (size_t i = at; i < n; i++) {
        if (s[i] == '\n') FAIL("bare LF in %s at %zu", what, i);
        if (s[i] == '\r') {
            if (i + 1 >= n) FAIL("%s truncated at %zu", what, i);
            if (s[i + 1] != '\n') FAIL("bare CR in %s at %zu", what, i);
            return i;
        }
    }
    FAIL("%s truncated (no CRLF after %zu)", what, at);
}

static size_t chunked_body_(const char* s, size_t n, size_t at) {
    for (;;) {
        size_t e = line_end_(s, n, at, "chunk size line");
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
                size_t te = line_end_(s, n, at, "trailer");
                bool last = te == at;
                at = te + 2;
                if (last) return at;
            }
        }
        if (n - at < sz + 2) FAIL("chunk data truncated at %zu", at);
        at += sz;
        if (s[at] != '\r' || s[at + 1] != '\n') FAIL("chunk data not followed by CRLF at %zu", at);
        at += 2;
    }
}

static void parse_responses_(const char* s, size_t n, tally_t* t) {
    size_t at = 0;
    bool closed = false;
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
        int ncl = 0, ndate = 0, nte = 0;
        uint64_t cl = 0, echo_body = UINT64_MAX;
        bool close = false, chunked = false;
        const char* em = nullptr;
        size_t eml = 0;
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
            } else if (ieq_(name, nl, "X-Echo-Body")) {
                if (!parse_u64_(val, vl, &echo_body)) FAIL("bad X-Echo-Body at %zu", at);
            }
            at = le + 2;
        }
        if (status < 200) {
            if (status != 100 || ncl || nte || ndate || close) FAIL("unexpected interim response at %zu", start);
            t->continues++;
            continue;
        }
        if (ndate != 1) FAIL("%d Date fields at %zu", ndate, start);
        /* Methods are case-sensitive (RFC 9110 §9.1): "hEAD" is no HEAD. */
        bool no_body = status == 204 || status == 304 || (em && eml == 4 && !memcmp(em, "HEAD", 4));
        size_t body_at = at;
        if (status == 204 || status == 304) {
            if (ncl || nte) FAIL("framing fields on a %d at %zu", status, start);
        } else if (chunked) {
            if (ncl || nte != 1) FAIL("Transfer-Encoding with Content-Length, or twice, at %zu", start);
            if (!no_body) at = chunked_body_(s, n, at);
        } else {
            if (ncl != 1) FAIL("%d Content-Length fields at %zu", ncl, start);
            if (!no_body) {
                if (n - at < cl) FAIL("body truncated: %zu of %llu bytes at %zu", n - at, (unsigned long long) cl, at);
                at += cl;
            }
        }
        if (em) {
            t->echoes++;
            if (status != 200) FAIL("echo response with status %d", status);
            if (!no_body) {
                if (chunked) FAIL("echo body chunked");
                const char* b = s + body_at;
                if (cl < eml + 2 || memcmp(b, em, eml) || b[eml] != ' ') FAIL("echo body does not start with the method at %zu", body_at);
                size_t i = eml + 1;
                while (i < cl && b[i] != '\n') {
                    if ((uint8_t) b[i] <= 0x20 || b[i] == 0x7f) FAIL("SP/CTL 0x%02x in an echoed target at %zu", (uint8_t) b[i], body_at + i);
                    i++;
                }
                if (i == eml + 1 || i == cl) FAIL("echoed target empty or unterminated at %zu", body_at);
                if (echo_body != cl - i - 1) FAIL("echo body %llu bytes, X-Echo-Body says %llu", (unsigned long long) (cl - i - 1), (unsigned long long) echo_body);
            }
            if (echo_body > MAX_BODY) FAIL("body of %llu bytes beyond max_body", (unsigned long long) echo_body);
        } else if (status == 500 && ncl == 1 && cl == 0) {
            t->fallbacks++; /* the handler's response did not fit */
        } else {
            t->errors++;
            if (status < 400) FAIL("server response %d without the handler at %zu", status, start);
            if (!close) FAIL("error response %d does not close at %zu", status, start);
        }
        if (close) closed = true;
    }
}

/* ---- one input ---- */

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    init_();
    if (size < HDR) return 0;
    const uint8_t* stream = data + HDR;
    size_t len = size - HDR;
    size_t cut[6] = { 0 };
    int ncut = 1;
    for (int k = 0; k < 4; k++) {
        size_t c = (size_t) data[2 * k] | (size_t) data[2 * k + 1] << 8;
        if (c > 0 && c < len) cut[ncut++] = c;
    }
    cut[ncut++] = len;
    for (int i = 1; i < ncut; i++) /* sort: insertion */
        for (int j = i; j > 0 && cut[j] < cut[j - 1]; j--) { size_t x = cut[j]; cut[j] = cut[j - 1]; cut[j - 1] = x; }

    ht_acceptor_stats_t s0, s1;
    ht_acceptor__stats(&acc_, &s0);
    uint64_t e0 = enobufs_;
    int fds0 = count_fds_();
    if (s0.open != 0) FAIL("a connection left over from the last input");

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) FAIL("client socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr*) &addr_, addr_len_) != 0) FAIL("connect: %s", strerror(errno));
    for (int i = 0; i < 1000; i++) {
        pump_();
        ht_acceptor__stats(&acc_, &s1);
        if (s1.accepted > s0.accepted) break;
    }
    if (s1.accepted != s0.accepted + 1) FAIL("connection not accepted");

    out_t o = { 0 };
    for (int i = 0; i + 1 < ncut; i++)
        if (cut[i + 1] > cut[i]) send_piece_(fd, stream + cut[i], cut[i + 1] - cut[i], &o);
    if (shutdown(fd, SHUT_WR) != 0 && errno != ENOTCONN) FAIL("shutdown: %s", strerror(errno));

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint32_t i = 0; !o.eof; i++) {
        pump_();
        read_all_(fd, &o);
        if ((i & 255) == 255) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (t1.tv_sec - t0.tv_sec > 5) FAIL("no EOF from the server 5 s after the client's (%zu bytes read)", o.n);
        }
    }
    close(fd);
    for (int i = 0; i < 10000; i++) {
        ht_acceptor__stats(&acc_, &s1);
        if (s1.open == 0) break;
        pump_();
    }
    if (s1.open != 0) FAIL("the server still holds the connection after the client closed");
    if (count_fds_() != fds0) FAIL("%d descriptors open, %d before the input", count_fds_(), fds0);

    if (verbose_) fprintf(stderr, "fuzz_conn: %d pieces, %zu bytes in, %zu out%s:\n%.*s\n", ncut - 1, len, o.n,
                          o.reset ? " (reset)" : "", (int) o.n, o.p ? o.p : "");
    tally_t t = { 0 };
    parse_responses_(o.p, o.n, &t);
    if (t.fallbacks != enobufs_ - e0)
        FAIL("%llu empty 500s, the handler ran out of room %llu times", (unsigned long long) t.fallbacks,
             (unsigned long long) (enobufs_ - e0));
    if (t.echoes + t.fallbacks != s1.requests - s0.requests)
        FAIL("%llu echo responses, the server handled %llu requests", (unsigned long long) t.echoes,
             (unsigned long long) (s1.requests - s0.requests));
    if (t.errors != s1.errors - s0.errors || t.errors > 1)
        FAIL("%llu error responses, the server counted %llu", (unsigned long long) t.errors,
             (unsigned long long) (s1.errors - s0.errors));
    if (s1.timeouts != s0.timeouts) FAIL("a timeout during an input");
    free(o.p);
    return 0;
}
