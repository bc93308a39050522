/* files/listing.c — generated directory listings (HTML5), and the escaping
 * helpers they and redirects need. */
#include "files.h"
#include "http/date.h"

#include <stdlib.h>
#include <string.h>

/* ---- Escaping ---- */

static bool unreserved(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

ht_result_t ht_fs_push_pct_(ht_bytes_t* out, ht_slice_t s, const char* keep_extra) {
    static const char hex[] = "0123456789ABCDEF";
    if (ht_bytes__reserve(out, s.len) != 0) return -ENOMEM;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char) s.ptr[i];
        if (unreserved(c) || (c && strchr(keep_extra, c))) {
            if (ht_bytes__push_byte(out, (char) c) != 0) return -ENOMEM;
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            if (ht_bytes__push(out, e, 3) != 0) return -ENOMEM;
        }
    }
    return 0;
}

/* Length of the well-formed UTF-8 sequence at p[0, n) (RFC 3629 table),
 * or 0 if it is not one. */
static size_t utf8_len(const unsigned char* p, size_t n) {
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F;           /* no surrogates */
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;           /* no overlongs */
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;           /* <= U+10FFFF */
    else return 0;
    if (n < len || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return len;
}

ht_result_t ht_fs_push_html_(ht_bytes_t* out, ht_slice_t s) {
    const unsigned char* p = (const unsigned char*) s.ptr;
    size_t n = s.len, i = 0;
    while (i < n) {
        size_t run = i; /* copy plain bytes in runs */
        for (;;) {
            if (run == n) break;
            unsigned char c = p[run];
            if (c < 0x20 || c == 0x7f || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'')
                break;
            if (c < 0x80) { run++; continue; }
            size_t l = utf8_len(p + run, n - run);
            if (l == 0 || (c == 0xC2 && p[run + 1] < 0xA0)) break; /* invalid, or a C1 control */
            run += l;
        }
        if (run > i && ht_bytes__push(out, p + i, run - i) != 0) return -ENOMEM;
        if (run == n) break;
        unsigned char c = p[run];
        const char* rep;
        size_t skip = 1;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:
            rep = "\xEF\xBF\xBD"; /* U+FFFD */
            if (c == 0xC2 && utf8_len(p + run, n - run) == 2) skip = 2; /* a whole C1 control */
        }
        if (ht_bytes__push_cstr(out, rep) != 0) return -ENOMEM;
        i = run + skip;
    }
    return 0;
}

/* ---- Reading the directory ---- */

typedef struct item {
    const char* name;
    uint32_t    name_off, name_len;
    bool        dir;
    uint64_t    size;
    int64_t     mtime;
} item_t;

typedef struct items {
    item_t*     v;
    size_t      len, cap;
    ht_bytes_t  names; /* every name, back to back */
    ht_alloc_t* a;
} items_t;

/* ht_fs_dir_fn: one listed entry. */
static ht_result_t add_item(void* ud, const char* name, size_t len, bool dir, const ht_fs_stat_t* st) {
    items_t* it = ud;
    if (it->len == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 32;
        void* p = ht_alloc__realloc(it->a, it->v, it->cap * sizeof(item_t), cap * sizeof(item_t));
        if (!p) return -ENOMEM;
        it->v = p;
        it->cap = cap;
    }
    uint32_t off = (uint32_t) it->names.len;
    if (ht_bytes__push(&it->names, name, len) != 0) return -ENOMEM;
    it->v[it->len++] = (item_t){ .name_off = off, .name_len = (uint32_t) len, .dir = dir,
                                 .size = st->size, .mtime = st->mtime_sec };
    return 0;
}

static int by_kind_then_name(const void* x, const void* y) {
    const item_t* a = x;
    const item_t* b = y;
    if (a->dir != b->dir) return a->dir ? -1 : 1;
    int c = memcmp(a->name, b->name, a->name_len < b->name_len ? a->name_len : b->name_len);
    if (c) return c;
    return (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

/* "YYYY-MM-DD HH:MM" UTC */
static ht_result_t push_when(ht_bytes_t* out, int64_t t) {
    int64_t y;
    unsigned m, d, secs;
    ht_http_civil_from_time_(t, &y, &m, &d, &secs);
    return ht_bytes__pushf(out, "%04lld-%02u-%02u %02u:%02u", (long long) y, m, d,
                           (unsigned) (secs / 3600), (unsigned) (secs / 60 % 60));
}

static const char head1[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Index of ";
static const char head2[] =
    "</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em}"
    "table{border-collapse:collapse}th,td{padding:.2em 1em;text-align:left}"
    "td.s{text-align:right}</style>\n</head>\n<body>\n<h1>Index of ";
static const char head3[] =
    "</h1>\n<table>\n<thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead>\n<tbody>\n";
static const char tail[] = "</tbody>\n</table>\n</body>\n</html>\n";

static ht_result_t render(ht_bytes_t* out, ht_slice_t mount, ht_slice_t path, items_t* it) {
    ht_result_t r = 0;
#define TRY(x) do { if ((r = (x)) != 0) return r; } while (0)
    TRY(ht_bytes__push_cstr(out, head1));
    TRY(ht_fs_push_html_(out, mount));
    TRY(ht_fs_push_html_(out, path));
    TRY(ht_bytes__push_cstr(out, head2));
    TRY(ht_fs_push_html_(out, mount));
    TRY(ht_fs_push_html_(out, path));
    TRY(ht_bytes__push_cstr(out, head3));
    /* "../" everywhere but the site's root: a mount's root has a parent. */
    if (mount.len != 0 || !(path.len == 1 && path.ptr[0] == '/'))
        TRY(ht_bytes__push_cstr(out, "<tr><td><a href=\"../\">../</a></td><td class=\"s\">-</td><td></td></tr>\n"));
    for (size_t i = 0; i < it->len; i++) {
        const item_t* e = &it->v[i];
        ht_slice_t name = ht_slice__from(e->name, e->name_len);
        TRY(ht_bytes__push_cstr(out, "<tr><td><a href=\""));
        /* Only unreserved bytes stay: "a:b" must not read as a scheme. */
        TRY(ht_fs_push_pct_(out, name, ""));
        if (e->dir) TRY(ht_bytes__push_byte(out, '/'));
        TRY(ht_bytes__push_cstr(out, "\">"));
        TRY(ht_fs_push_html_(out, name));
        if (e->dir) TRY(ht_bytes__push_byte(out, '/'));
        TRY(ht_bytes__push_cstr(out, "</a></td><td class=\"s\">"));
        if (e->dir) TRY(ht_bytes__push_byte(out, '-'));
        else TRY(ht_bytes__push_u64(out, e->size));
        TRY(ht_bytes__push_cstr(out, "</td><td>"));
        TRY(push_when(out, e->mtime));
        TRY(ht_bytes__push_cstr(out, "</td></tr>\n"));
    }
    TRY(ht_bytes__push_cstr(out, tail));
#undef TRY
    return 0;
}

ht_result_t ht_fs__listing(const ht_fs_root_t* root, ht_file_t dir, ht_slice_t path, ht_slice_t mount,
                           ht_bytes_t* out, ht_alloc_t* a) {
    items_t it = { .a = a };
    ht_bytes__init(&it.names, a);
    size_t start = out->len;
    ht_result_t r = ht_fs_read_dir_(root, dir, path, add_item, &it, a);
    if (r == 0) {
        for (size_t i = 0; i < it.len; i++) it.v[i].name = it.names.data + it.v[i].name_off;
        if (it.len) qsort(it.v, it.len, sizeof(item_t), by_kind_then_name);
        r = render(out, mount, path, &it);
        if (r != 0) ht_bytes__truncate(out, start);
    }
    ht_bytes__free(&it.names);
    ht_alloc__free(a, it.v, it.cap * sizeof(item_t));
    return r;
}
