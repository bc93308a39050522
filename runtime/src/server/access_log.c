/* server/access_log.c — ht/log.h: per-acceptor buffers, no locks. Each
 * acceptor formats its lines into its own buffer (acc->log_) and writes it
 * out with one write(2) when the next line would not fit, at most once a
 * second otherwise (ht_alog__tick_, from the acceptor's timer), and at
 * finalize. The descriptor is shared and never changes: reopening swaps the
 * file under it with dup2. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ht/log.h>
#include <ht/proxy.h>
#include <ht/request.h>

#include "server/access_log.h"

#ifndef O_CLOEXEC
#  define O_CLOEXEC 0
#endif

#define ALOG_BUF   (32u * 1024u)
#define ALOG_LINE  8192u   /* longest line; longer fields are cut */
#define ALOG_FIELD 2048u   /* longest target, referer or user agent kept */
#define ALOG_PATH  1024u

struct ht_access_log {
    int             fd;
    bool            own;     /* opened here (not stdout) */
    ht_log_format_t format;
    char            path[ALOG_PATH];
};

typedef struct alog_buf {
    uint32_t len;
    uint64_t flushed_ms;     /* loop time of the last write */
    int64_t  date_s;         /* the second date[] is for */
    char     date[32];       /* CLF "07/Dec/2026:08:10:35 +0000" or ISO "2026-12-07T08:10:35Z" */
    /* The last address formatted, per role (client, proxy): a connection's
     * requests, or a proxy's, repeat it; formatting costs ~1,800
     * instructions (inet_ntop's printf), a compare ~20. */
    struct { ht_addr_t a; bool ok; char s[HT_ADDR_STRLEN]; } addr[2];
    char     data[ALOG_BUF];
} alog_buf_t;

/* A deferred request's fields, copied (ht_alog__stash_). */
typedef struct alog_stash {
    uint64_t t0;
    ht_addr_t client;        /* ht_request__client's, at dispatch */
    uint32_t size;
    uint16_t len[4];         /* method, target, referer, user agent */
    bool     has[4];         /* referer / user agent present */
    uint8_t  minor;
    char     data[];
} alog_stash_t;

ht_result_t ht_log_format__parse(const char* name, ht_log_format_t* out) {
    if (strcmp(name, "clf") == 0 || strcmp(name, "common") == 0) *out = HT_LOG_COMMON;
    else if (strcmp(name, "combined") == 0) *out = HT_LOG_COMBINED;
    else if (strcmp(name, "json") == 0) *out = HT_LOG_JSON;
    else return -EINVAL;
    return 0;
}

ht_result_t ht_access_log__open(ht_access_log_t** out, const char* path, ht_log_format_t format) {
    *out = nullptr;
    if (strlen(path) >= ALOG_PATH || (unsigned) format > HT_LOG_JSON) return -EINVAL;
    ht_access_log_t* log = calloc(1, sizeof *log);
    if (log == nullptr) return -ENOMEM;
    log->format = format;
    if (strcmp(path, "-") == 0) {
        log->fd = 1;
    } else {
        log->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (log->fd < 0) {
            int e = errno;
            free(log);
            return -e;
        }
        log->own = true;
        memcpy(log->path, path, strlen(path) + 1); /* fits: checked above */
    }
    *out = log;
    return 0;
}

ht_result_t ht_access_log__reopen(ht_access_log_t* log) {
    if (!log->own) return 0;
    int fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    int r = dup2(fd, log->fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

void ht_access_log__close(ht_access_log_t* log) {
    if (log == nullptr) return;
    if (log->own) close(log->fd);
    free(log);
}

uint64_t ht_alog__t0_(const ht_access_log_t* log) {
    return log->format == HT_LOG_JSON ? ht_alog__now_ns_() : 0; /* only JSON has the duration */
}

uint64_t ht_alog__now_ns_(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* ---- Formatting ---- */

typedef struct line {
    char*  p;
    size_t n, cap;
} line_t;

/* Inlined: most calls copy a constant string, which then needs no call. */
HT_INLINE void put(line_t* l, const char* s, size_t n) {
    if (n > l->cap - l->n) n = l->cap - l->n;
    memcpy(l->p + l->n, s, n);
    l->n += n;
}
HT_INLINE void puts_(line_t* l, const char* s) { put(l, s, strlen(s)); }
static void putu(line_t* l, uint64_t v) {
    char b[24];
    size_t i = sizeof b;
    do b[--i] = (char) ('0' + v % 10); while ((v /= 10) != 0);
    put(l, b + i, sizeof b - i);
}

static const char hex[] = "0123456789abcdef";

/* Client bytes, escaped for the format; at most ALOG_FIELD of them. */
static void put_esc(line_t* l, ht_slice_t s, bool json) {
    if (s.len > ALOG_FIELD) s.len = ALOG_FIELD;
    for (size_t i = 0; i < s.len; i++) {
        /* A run of bytes that need no escape, copied at once. */
        size_t j = i;
        while (j < s.len && (unsigned char) s.ptr[j] >= 0x20 && (unsigned char) s.ptr[j] < 0x7f &&
               s.ptr[j] != '"' && s.ptr[j] != '\\')
            j++;
        put(l, s.ptr + i, j - i);
        if (j == s.len) break;
        i = j;
        unsigned char ch = (unsigned char) s.ptr[i];
        if (json && (ch == '"' || ch == '\\')) {
            put(l, (char[]){ '\\', (char) ch }, 2);
        } else if (json) {
            char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };
            put(l, e, 6);
        } else {
            char e[4] = { '\\', 'x', hex[ch >> 4], hex[ch & 15] };
            put(l, e, 4);
        }
    }
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil(int64_t days, int* y, unsigned* m, unsigned* d) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned) (days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int) (yoe + era * 400) + (*m <= 2);
}

static void date_fill(alog_buf_t* b, int64_t t, bool json) {
    static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    unsigned sod = (unsigned) (t - days * 86400);
    int y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    unsigned hh = sod / 3600, mm = sod / 60 % 60, ss = sod % 60;
    char* o = b->date;
#define D2(v) (*o++ = (char) ('0' + (v) / 10 % 10), *o++ = (char) ('0' + (v) % 10))
    unsigned yy = (unsigned) (y < 0 ? 0 : y) % 10000;
    if (json) {
        D2(yy / 100), D2(yy % 100), *o++ = '-', D2(m), *o++ = '-', D2(d), *o++ = 'T';
        D2(hh), *o++ = ':', D2(mm), *o++ = ':', D2(ss), *o++ = 'Z';
    } else {
        D2(d), *o++ = '/', memcpy(o, mon[m - 1], 3), o += 3, *o++ = '/', D2(yy / 100), D2(yy % 100);
        *o++ = ':', D2(hh), *o++ = ':', D2(mm), *o++ = ':', D2(ss);
        memcpy(o, " +0000", 6), o += 6;
    }
#undef D2
    *o = '\0';
    b->date_s = t;
}

/* a as text, through b's one-entry cache for its role. */
static const char* addr_str(alog_buf_t* b, int role, const ht_addr_t* a) {
    if (!b->addr[role].ok || b->addr[role].a.family != a->family ||
        memcmp(b->addr[role].a.addr, a->addr, sizeof a->addr) != 0) {
        ht_addr__format(a, b->addr[role].s);
        b->addr[role].a = *a;
        b->addr[role].ok = true;
    }
    return b->addr[role].s;
}

static void flush(ht_access_log_t* log, alog_buf_t* b, uint64_t now_ms) {
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(log->fd, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* a full disk or a closed pipe: the lines are lost */
        off += (size_t) w;
    }
    b->len = 0;
    b->flushed_ms = now_ms;
}

static alog_buf_t* buf_of(ht_acceptor_t* acc) {
    alog_buf_t* b = acc->log_;
    if (b == nullptr) {
        b = ht_alloc__alloc(acc->alloc_, sizeof *b);
        if (b == nullptr) return nullptr;
        b->len = 0;
        b->date_s = INT64_MIN;
        b->addr[0].ok = b->addr[1].ok = false;
        b->flushed_ms = ht_loop__now_ms_(acc->loop_);
        acc->log_ = b;
    }
    return b;
}

/* The fields of one line. */
typedef struct fields {
    ht_slice_t method, target, referer, agent;
    bool       has_referer, has_agent, parsed;
    uint8_t    minor;
    bool       has_client;
    ht_addr_t  client;
    uint64_t   t0;
} fields_t;

static void write_line(ht_conn_t* c, const fields_t* f, uint16_t status, uint64_t bytes) {
    ht_acceptor_t* acc = c->acc;
    ht_access_log_t* log = acc->cfg_.access_log;
    alog_buf_t* b = buf_of(acc);
    if (b == nullptr) return;
    bool json = log->format == HT_LOG_JSON;
    int64_t now_s = ht_loop__wall_s_(acc->loop_);
    if (now_s != b->date_s) date_fill(b, now_s, json);
    uint64_t now_ms = ht_loop__now_ms_(acc->loop_);
    if (ALOG_BUF - b->len < ALOG_LINE) flush(log, b, now_ms);

    /* client: ht_request__client's (the PROXY header's address, or a
     * trusted Forwarded hop); proxy: the socket's peer when that differs. */
    ht_request_t r = { .conn_ = c };
    ht_addr_t client = f->client, sock;
    if (!f->has_client) (void) ht_request__client(&r, &client);
    (void) ht_request__socket_peer(&r, &sock);
    bool via = sock.family != client.family ||
               memcmp(sock.addr, client.addr, client.family == HT_ADDR_IPV4 ? 4 : sizeof sock.addr) != 0;
    const char* host = addr_str(b, 0, &client);
    const char* proxy = via ? addr_str(b, 1, &sock) : "";
    line_t l = { .p = b->data + b->len, .n = 0, .cap = ALOG_LINE - 1 };
    ht_slice_t dash = { "-", 1 };
    if (json) {
        puts_(&l, "{\"time\":\"");
        puts_(&l, b->date);
        puts_(&l, "\",\"client\":\"");
        puts_(&l, host);
        if (via) {
            puts_(&l, "\",\"proxy\":\"");
            puts_(&l, proxy);
            puts_(&l, "\",\"method\":");
        } else {
            puts_(&l, "\",\"proxy\":null,\"method\":");
        }
        if (f->parsed) {
            puts_(&l, "\"");
            put_esc(&l, f->method, true);
            puts_(&l, "\",\"target\":\"");
            put_esc(&l, f->target, true);
            puts_(&l, f->minor ? "\",\"proto\":\"HTTP/1.1\"" : "\",\"proto\":\"HTTP/1.0\"");
        } else {
            puts_(&l, "null,\"target\":null,\"proto\":null");
        }
        puts_(&l, ",\"status\":");
        putu(&l, status);
        puts_(&l, ",\"bytes\":");
        putu(&l, bytes);
        puts_(&l, ",\"duration_us\":");
        putu(&l, f->t0 ? (ht_alog__now_ns_() - f->t0) / 1000 : 0);
        puts_(&l, ",\"worker\":");
        putu(&l, acc->slot_);
        puts_(&l, ",\"referer\":");
        if (f->has_referer) {
            puts_(&l, "\"");
            put_esc(&l, f->referer, true);
            puts_(&l, "\"");
        } else {
            puts_(&l, "null");
        }
        puts_(&l, ",\"user_agent\":");
        if (f->has_agent) {
            puts_(&l, "\"");
            put_esc(&l, f->agent, true);
            puts_(&l, "\"");
        } else {
            puts_(&l, "null");
        }
        puts_(&l, "}");
    } else {
        puts_(&l, host);
        puts_(&l, " - - [");
        puts_(&l, b->date);
        puts_(&l, "] \"");
        if (f->parsed) {
            put_esc(&l, f->method, false);
            puts_(&l, " ");
            put_esc(&l, f->target, false);
            puts_(&l, f->minor ? " HTTP/1.1\" " : " HTTP/1.0\" ");
        } else {
            puts_(&l, "-\" ");
        }
        putu(&l, status);
        puts_(&l, " ");
        if (bytes) putu(&l, bytes);
        else puts_(&l, "-");
        if (log->format == HT_LOG_COMBINED) {
            puts_(&l, " \"");
            put_esc(&l, f->has_referer ? f->referer : dash, false);
            puts_(&l, "\" \"");
            put_esc(&l, f->has_agent ? f->agent : dash, false);
            puts_(&l, "\"");
        }
    }
    l.p[l.n++] = '\n'; /* cap leaves room for it */
    b->len += (uint32_t) l.n;
    if (now_ms - b->flushed_ms >= 1000) flush(log, b, now_ms);
}

static void fields_of(const ht_request_t* req, fields_t* f, ht_log_format_t format) {
    f->parsed = true;
    f->has_client = true;
    (void) ht_request__client(req, &f->client);
    f->method = ht_request__method_slice(req);
    f->target = ht_request__target(req);
    f->minor = ht_request__version_minor(req);
    if (format == HT_LOG_COMMON) return; /* no referer or user agent in it */
    f->referer = ht_request__header(req, HT_HEADER_REFERER);
    f->agent = ht_request__header(req, HT_HEADER_USER_AGENT);
    f->has_referer = f->referer.ptr != nullptr;
    f->has_agent = f->agent.ptr != nullptr;
}

void ht_alog__record_(ht_conn_t* c, const ht_request_t* req, uint16_t status, uint64_t bytes, uint64_t t0) {
    fields_t f = { .t0 = t0 };
    alog_stash_t* s = c->log_stash_;
    if (req) {
        fields_of(req, &f, c->acc->cfg_.access_log->format);
    } else if (s) {
        const char* p = s->data;
        ht_slice_t* dst[4] = { &f.method, &f.target, &f.referer, &f.agent };
        for (int i = 0; i < 4; i++) {
            *dst[i] = (ht_slice_t){ p, s->len[i] };
            p += s->len[i];
        }
        f.parsed = true;
        f.has_referer = s->has[2];
        f.has_agent = s->has[3];
        f.minor = s->minor;
        f.t0 = s->t0;
        f.client = s->client;
        f.has_client = true;
    }
    write_line(c, &f, status, bytes);
    if (!req) ht_alog__drop_(c);
}

void ht_alog__stash_(ht_conn_t* c, const ht_request_t* req, uint64_t t0) {
    ht_alog__drop_(c);
    fields_t f = { 0 };
    fields_of(req, &f, c->acc->cfg_.access_log->format);
    ht_slice_t v[4] = { f.method, f.target, f.referer, f.agent };
    size_t total = 0;
    for (int i = 0; i < 4; i++) {
        if (v[i].len > ALOG_FIELD) v[i].len = ALOG_FIELD;
        total += v[i].len;
    }
    alog_stash_t* s = ht_alloc__alloc(c->acc->alloc_, sizeof *s + total);
    if (s == nullptr) return; /* logged with "-" then */
    s->t0 = t0;
    s->client = f.client;
    s->size = (uint32_t) (sizeof *s + total);
    s->minor = f.minor;
    s->has[0] = s->has[1] = true;
    s->has[2] = f.has_referer;
    s->has[3] = f.has_agent;
    char* p = s->data;
    for (int i = 0; i < 4; i++) {
        s->len[i] = (uint16_t) v[i].len;
        if (v[i].len) memcpy(p, v[i].ptr, v[i].len);
        p += v[i].len;
    }
    c->log_stash_ = s;
}

void ht_alog__drop_(ht_conn_t* c) {
    alog_stash_t* s = c->log_stash_;
    if (s == nullptr) return;
    c->log_stash_ = nullptr;
    ht_alloc__free(c->acc->alloc_, s, s->size);
}

bool ht_alog__tick_(ht_acceptor_t* acc) {
    alog_buf_t* b = acc->log_;
    if (b == nullptr || b->len == 0) return false;
    uint64_t now_ms = ht_loop__now_ms_(acc->loop_);
    if (now_ms - b->flushed_ms >= 1000) flush(acc->cfg_.access_log, b, now_ms);
    return b->len != 0;
}

void ht_alog__acceptor_done_(ht_acceptor_t* acc) {
    alog_buf_t* b = acc->log_;
    if (b == nullptr) return;
    if (b->len) flush(acc->cfg_.access_log, b, 0);
    ht_alloc__free(acc->alloc_, b, sizeof *b);
    acc->log_ = nullptr;
}
