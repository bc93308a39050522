/* files/httpfile.c — HTTP semantics for files as pure functions: ETags,
 * preconditions (RFC 9110 §13), Range (§14), Accept-Encoding (§12.5.3). */
#include "files.h"

#include <string.h>

/* ---- ETags ---- */

static size_t put_hex(char* p, uint64_t v) {
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    for (size_t i = 0; i < n; i++) p[i] = tmp[n - 1 - i];
    return n;
}

size_t ht_fs__etag(char* out, const ht_fs_stat_t* st) {
    size_t n = 0;
    out[n++] = '"';
    n += put_hex(out + n, st->ino);
    out[n++] = '-';
    n += put_hex(out + n, st->size);
    out[n++] = '-';
    n += put_hex(out + n, (uint64_t) st->mtime_sec);
    out[n++] = '.';
    n += put_hex(out + n, st->mtime_nsec);
    out[n++] = '"';
    out[n] = '\0';
    return n; /* at most 1 + 16 + 1 + 16 + 1 + 16 + 1 + 8 + 1 = 61 */
}

static bool etagc(unsigned char c) { /* RFC 9110 etagc: %x21 / %x23-7E / obs-text */
    return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* Next entity-tag of a list at *s: *tag gets it with quotes, *weak its W/.
 * Returns false at the end; *bad on a malformed element. */
static bool next_etag(ht_slice_t* s, ht_slice_t* tag, bool* weak, bool* bad) {
    for (;;) {
        ht_slice_t t = ht_slice__trim_ows(*s);
        if (t.len == 0) return false;
        if (t.ptr[0] == ',') { /* empty element */
            *s = ht_slice__sub(t, 1, t.len - 1);
            continue;
        }
        *weak = false;
        if (t.len >= 2 && t.ptr[0] == 'W' && t.ptr[1] == '/') {
            *weak = true;
            t = ht_slice__sub(t, 2, t.len - 2);
        }
        if (t.len < 2 || t.ptr[0] != '"') break;
        size_t i = 1;
        while (i < t.len && etagc((unsigned char) t.ptr[i])) i++;
        if (i >= t.len || t.ptr[i] != '"') break;
        *tag = ht_slice__sub(t, 0, i + 1);
        ht_slice_t rest = ht_slice__trim_ows(ht_slice__sub(t, i + 1, t.len - i - 1));
        if (rest.len && rest.ptr[0] != ',') break;
        *s = rest;
        return true;
    }
    *bad = true;
    return false;
}

bool ht_fs__etag_list_match(ht_slice_t list, ht_slice_t etag, bool weak) {
    ht_slice_t t = ht_slice__trim_ows(list);
    if (t.len == 1 && t.ptr[0] == '*') return true;
    /* The list is the tag itself: a browser revalidating what it has. A
     * well-formed strong tag (etag carries no W/), so it matches either way
     * and needs no scan (~300 instructions of a 304 for a 29-byte tag). */
    if (ht_slice__eq(t, etag)) return true;
    /* Validate the whole list first: a malformed one matches nothing. */
    bool bad = false, w, hit = false;
    ht_slice_t tag, s = t;
    while (next_etag(&s, &tag, &w, &bad))
        if ((weak || !w) && ht_slice__eq(tag, etag)) hit = true;
    return hit && !bad;
}

uint16_t ht_fs__preconditions(const ht_fs_request_t* req, ht_slice_t etag, int64_t mtime) {
    int64_t t;
    if (req->if_match.ptr) {
        if (!ht_fs__etag_list_match(req->if_match, etag, false)) return 412;
    } else if (req->if_unmodified_since.ptr && ht_http__parse_date(req->if_unmodified_since, &t)) {
        if (mtime > t) return 412;
    }
    if (req->if_none_match.ptr) {
        if (ht_fs__etag_list_match(req->if_none_match, etag, true))
            return (req->method == HT_METHOD_GET || req->method == HT_METHOD_HEAD) ? 304 : 412;
    } else if ((req->method == HT_METHOD_GET || req->method == HT_METHOD_HEAD) &&
               req->if_modified_since.ptr && ht_http__parse_date(req->if_modified_since, &t)) {
        if (mtime <= t) return 304;
    }
    return 0;
}

/* ---- Range ---- */

/* 1*DIGIT at the start of *s (advanced past it); false if none or overflow. */
static bool take_u64(ht_slice_t* s, uint64_t* v) {
    size_t i = 0;
    uint64_t r = 0;
    while (i < s->len && s->ptr[i] >= '0' && s->ptr[i] <= '9') {
        unsigned dg = (unsigned) (s->ptr[i] - '0');
        if (r > (UINT64_MAX - dg) / 10) return false;
        r = r * 10 + dg;
        i++;
    }
    if (i == 0) return false;
    *v = r;
    *s = ht_slice__sub(*s, i, s->len - i);
    return true;
}

ht_fs_range_kind_t ht_fs__range(ht_slice_t range, uint64_t size, uint64_t* off, uint64_t* len) {
    if (!range.ptr) return HT_FS_RANGE_NONE;
    ht_slice_t s = ht_slice__trim_ows(range);
    if (!ht_slice__starts_with_nocase(s, HT_SLICE("bytes="))) return HT_FS_RANGE_NONE;
    s = ht_slice__sub(s, 6, s.len - 6);
    unsigned elements = 0, satisfiable = 0;
    bool suffix_on_empty = false;
    uint64_t o = 0, l = 0;
    ht_slice_t item;
    while (s.len) {
        ht_slice__split(&s, ',', &item);
        item = ht_slice__trim_ows(item);
        if (item.len == 0) continue;
        if (++elements > 100) return HT_FS_RANGE_NONE;
        uint64_t a, b;
        if (item.ptr[0] == '-') { /* suffix-range */
            item = ht_slice__sub(item, 1, item.len - 1);
            if (!take_u64(&item, &a) || item.len) return HT_FS_RANGE_NONE;
            if (a == 0) continue;            /* unsatisfiable */
            if (size == 0) { suffix_on_empty = true; continue; }
            if (a > size) a = size;
            o = size - a, l = a;
            satisfiable++;
            continue;
        }
        if (!take_u64(&item, &a) || item.len == 0 || item.ptr[0] != '-') return HT_FS_RANGE_NONE;
        item = ht_slice__sub(item, 1, item.len - 1);
        bool open = item.len == 0;
        if (!open && (!take_u64(&item, &b) || item.len || b < a)) return HT_FS_RANGE_NONE;
        if (a >= size) continue;             /* unsatisfiable */
        if (open || b >= size) b = size - 1;
        o = a, l = b - a + 1;
        satisfiable++;
    }
    if (elements == 0) return HT_FS_RANGE_NONE; /* "bytes=" is malformed */
    if (satisfiable == 1) {
        *off = o, *len = l;
        return HT_FS_RANGE_ONE;
    }
    if (satisfiable > 1 || suffix_on_empty) return HT_FS_RANGE_NONE;
    return HT_FS_RANGE_UNSATISFIABLE;
}

bool ht_fs__if_range(ht_slice_t if_range, ht_slice_t etag, int64_t mtime) {
    if (!if_range.ptr) return true;
    ht_slice_t v = ht_slice__trim_ows(if_range);
    if (v.len && (v.ptr[0] == '"' || v.ptr[0] == 'W'))
        return v.ptr[0] == '"' && ht_slice__eq(v, etag); /* strong comparison only */
    int64_t t;
    return ht_http__parse_date(v, &t) && t == mtime;
}

/* ---- Accept-Encoding ---- */

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), as thousandths. */
static int32_t parse_q(ht_slice_t v) {
    if (v.len == 0 || v.len > 5 || (v.ptr[0] != '0' && v.ptr[0] != '1')) return -1;
    int32_t q = (v.ptr[0] - '0') * 1000;
    if (v.len == 1) return q;
    if (v.ptr[1] != '.') return -1;
    int32_t scale = 100;
    for (size_t i = 2; i < v.len; i++, scale /= 10) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9') return -1;
        q += (v.ptr[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* One Accept-Encoding element: its coding name and q (thousandths); false
 * when the list is used up. Empty elements are skipped, and so are ones
 * with a malformed q (name.len == 0 never comes back). */
static bool next_coding(ht_slice_t* s, ht_slice_t* name_out, int32_t* q_out) {
    while (s->len) {
        ht_slice_t item;
        ht_slice__split(s, ',', &item);
        ht_slice_t name, params = item;
        ht_slice__split(&params, ';', &name);
        name = ht_slice__trim_ows(name);
        if (name.len == 0) continue;
        int32_t q = 1000;
        bool bad = false;
        ht_slice_t p;
        while (params.len) { /* each ";param" */
            ht_slice__split(&params, ';', &p);
            p = ht_slice__trim_ows(p);
            if (p.len >= 2 && (p.ptr[0] == 'q' || p.ptr[0] == 'Q') && p.ptr[1] == '=') {
                q = parse_q(ht_slice__trim_ows(ht_slice__sub(p, 2, p.len - 2)));
                if (q < 0) bad = true;
            }
        }
        if (bad) continue;
        *name_out = name;
        *q_out = q;
        return true;
    }
    return false;
}

int32_t ht_fs__accept_q(ht_slice_t ae, ht_slice_t coding) {
    if (!ae.ptr) return -1;
    bool is_gzip = ht_slice__eq_nocase(coding, HT_SLICE("gzip"));
    int32_t own = -1, star = -1, q;
    ht_slice_t s = ae, name;
    while (next_coding(&s, &name, &q)) {
        if (ht_slice__eq(name, HT_SLICE("*"))) {
            if (star < 0) star = q;
        } else if (ht_slice__eq_nocase(name, coding) ||
                   (is_gzip && ht_slice__eq_nocase(name, HT_SLICE("x-gzip")))) {
            if (own < 0) own = q;
        }
    }
    return own >= 0 ? own : star;
}

bool ht_fs__accepts_gzip(ht_slice_t ae) {
    return ht_fs__accept_q(ae, HT_SLICE("gzip")) > 0;
}

#define TOKEN_(id, token, suffix) [HT_FS_ENC_##id] = { .ptr = (token), .len = sizeof(token) - 1 },
static const ht_slice_t enc_token_[HT_FS_ENC_CODINGS] = { HT_FS_ENCODINGS(TOKEN_) };
#undef TOKEN_
#define SUFFIX_(id, token, suffix) [HT_FS_ENC_##id] = { .ptr = (suffix), .len = sizeof(suffix) - 1 },
static const ht_slice_t enc_suffix_[HT_FS_ENC_CODINGS] = { HT_FS_ENCODINGS(SUFFIX_) };
#undef SUFFIX_

ht_slice_t ht_fs__encoding_token(ht_fs_encoding_t e) {
    return (unsigned) e < HT_FS_ENC_CODINGS ? enc_token_[e] : HT_SLICE("");
}

ht_slice_t ht_fs__encoding_suffix(ht_fs_encoding_t e) {
    return (unsigned) e < HT_FS_ENC_CODINGS ? enc_suffix_[e] : HT_SLICE("");
}

/* A present value's q-values, parsed (a miss of the memo below). */
__attribute__((noinline)) static void accept_parse_list(ht_slice_t ae, ht_fs_accept_t* out) {
    /* -1: not listed. The first entry for a name counts, as in accept_q. */
    int32_t own[HT_FS_ENC_CODINGS + 1], star = -1, q;
    for (unsigned e = 0; e <= HT_FS_ENC_CODINGS; e++) own[e] = -1;
    ht_slice_t s = ae, name;
    while (next_coding(&s, &name, &q)) {
        if (ht_slice__eq(name, HT_SLICE("*"))) {
            if (star < 0) star = q;
            continue;
        }
        unsigned e = HT_FS_ENC_CODINGS;
        if (!ht_slice__eq_nocase(name, HT_SLICE("identity"))) {
            for (e = 0; e < HT_FS_ENC_CODINGS; e++)
                if (ht_slice__eq_nocase(name, enc_token_[e])) break;
            if (e == HT_FS_ENC_CODINGS) {
                if (!ht_slice__eq_nocase(name, HT_SLICE("x-gzip"))) continue; /* unknown coding */
                e = HT_FS_ENC_GZIP;
            }
        }
        if (own[e] < 0) own[e] = q;
    }
    for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++)
        out->q[e] = (uint16_t) (own[e] >= 0 ? own[e] : star >= 0 ? star : 0);
    int32_t id = own[HT_FS_ENC_CODINGS];
    out->q[HT_FS_ENC_IDENTITY] = (uint16_t) (id >= 0 ? id : star >= 0 ? star : 1);
}

/* The values this thread parsed last, and their q-values. A client sends
 * the same Accept-Encoding on every request, and few values cover most
 * clients (browsers: "gzip, deflate, br, zstd" and its prefixes), while
 * parsing one costs ~1,300 instructions (splits, trims, a case-blind
 * compare per known coding): a browser's small-file request ~4,900 in all
 * (callgrind, BENCHMARKS.md). A hit is a length check and a memcmp. */
enum { AE_MEMO = 4, AE_MEMO_MAX = 64 };
typedef struct ae_memo {
    uint8_t        len[AE_MEMO]; /* 0: empty (an empty value is not kept) */
    uint8_t        next;         /* the entry a miss replaces */
    char           text[AE_MEMO][AE_MEMO_MAX];
    ht_fs_accept_t acc[AE_MEMO];
} ae_memo_t;
static _Thread_local ae_memo_t ae_memo_;

/* Out of line, so that an absent field does not pay its frame. */
__attribute__((noinline)) static void accept_parse_memo(ht_slice_t ae, ht_fs_accept_t* out) {
    ae_memo_t* m = &ae_memo_;
    if (ae.len == 0 || ae.len > AE_MEMO_MAX) {
        accept_parse_list(ae, out);
        return;
    }
    for (unsigned i = 0; i < AE_MEMO; i++)
        if (m->len[i] == ae.len && memcmp(m->text[i], ae.ptr, ae.len) == 0) {
            *out = m->acc[i];
            return;
        }
    accept_parse_list(ae, out);
    unsigned i = m->next;
    m->next = (uint8_t) ((i + 1) % AE_MEMO);
    m->len[i] = (uint8_t) ae.len;
    memcpy(m->text[i], ae.ptr, ae.len);
    m->acc[i] = *out;
}

void ht_fs__accept_parse(ht_slice_t ae, ht_fs_accept_t* out) {
    if (ae.ptr) {
        accept_parse_memo(ae, out);
        return;
    }
    /* Absent (every request of a client that never compresses): identity only. */
    *out = (ht_fs_accept_t){ .q = { [HT_FS_ENC_IDENTITY] = 1 } };
}

ht_fs_encoding_t ht_fs__choose_encoding(const ht_fs_accept_t* acc, uint32_t available) {
    unsigned best = HT_FS_ENC_NONE;
    for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) /* strict '>': ties keep the earlier */
        if ((available >> e & 1u) && acc->q[e] > 0 && (best == HT_FS_ENC_NONE || acc->q[e] > acc->q[best]))
            best = e;
    uint16_t id = acc->q[HT_FS_ENC_IDENTITY];
    if (best == HT_FS_ENC_NONE) return id > 0 ? HT_FS_ENC_IDENTITY : HT_FS_ENC_NONE;
    return id > acc->q[best] ? HT_FS_ENC_IDENTITY : (ht_fs_encoding_t) best;
}
