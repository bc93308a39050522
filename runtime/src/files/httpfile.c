/* files/httpfile.c — HTTP semantics for files as pure functions: HTTP-dates,
 * ETags, preconditions (RFC 9110 §13), Range (§14), Accept-Encoding (§12.5.3). */
#include "files.h"

#include <string.h>

/* ---- Calendar (Howard Hinnant's days_from_civil / civil_from_days) ---- */

int64_t ht_fs_days_from_civil_(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
}

void ht_fs_civil_from_days_(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned) (z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t) yoe + era * 400 + (*m <= 2);
}

static const char wkday[7][4] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" }; /* day 0 = Thu */
static const char* const weekday_long[7] = { "Monday", "Tuesday", "Wednesday", "Thursday",
                                             "Friday", "Saturday", "Sunday" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* 0001-01-01 and 9999-12-31 23:59:59 */
#define MIN_T (-62135596800LL)
#define MAX_T (253402300799LL)

static void put2(char* p, unsigned v) { p[0] = (char) ('0' + v / 10); p[1] = (char) ('0' + v % 10); }

size_t ht_fs__date_format(char* out, int64_t t) {
    if (t < MIN_T) t = MIN_T;
    if (t > MAX_T) t = MAX_T;
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t y;
    unsigned mo, d;
    ht_fs_civil_from_days_(days, &y, &mo, &d);
    int64_t wd = days % 7;
    if (wd < 0) wd += 7;
    memcpy(out, wkday[wd], 3);
    memcpy(out + 3, ", ", 2);
    put2(out + 5, d);
    out[7] = ' ';
    memcpy(out + 8, months[mo - 1], 3);
    out[11] = ' ';
    put2(out + 12, (unsigned) (y / 100));
    put2(out + 14, (unsigned) (y % 100));
    out[16] = ' ';
    put2(out + 17, (unsigned) (secs / 3600));
    out[19] = ':';
    put2(out + 20, (unsigned) (secs / 60 % 60));
    out[22] = ':';
    put2(out + 23, (unsigned) (secs % 60));
    memcpy(out + 25, " GMT", 5); /* with the NUL */
    return HT_FS_DATE_LEN;
}

static bool digits(const char* p, size_t n, unsigned* v) {
    unsigned r = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        r = r * 10 + (unsigned) (p[i] - '0');
    }
    *v = r;
    return true;
}

static int month_of(const char* p) {
    for (int i = 0; i < 12; i++)
        if (memcmp(p, months[i], 3) == 0) return i + 1;
    return 0;
}

static bool short_day(const char* p) {
    for (int i = 0; i < 7; i++)
        if (memcmp(p, wkday[i], 3) == 0) return true;
    return false;
}

/* "HH:MM:SS" */
static bool hms(const char* p, unsigned* h, unsigned* mi, unsigned* s) {
    return p[2] == ':' && p[5] == ':' && digits(p, 2, h) && digits(p + 3, 2, mi) &&
           digits(p + 6, 2, s) && *h < 24 && *mi < 60 && *s <= 60;
}

static bool make_time(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
                      int64_t* out) {
    static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return false;
    if (s == 60) s = 59; /* a leap second: POSIX time has none */
    *out = ht_fs_days_from_civil_(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

bool ht_fs__date_parse(ht_slice_t str, int64_t* out) {
    const char* p = str.ptr;
    size_t n = str.len;
    unsigned y, d, h, mi, s;
    int mo;
    if (!p) return false;
    if (n == 29 && p[3] == ',') { /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        if (!short_day(p) || p[4] != ' ' || !digits(p + 5, 2, &d) || p[7] != ' ' ||
            !(mo = month_of(p + 8)) || p[11] != ' ' || !digits(p + 12, 4, &y) || p[16] != ' ' ||
            !hms(p + 17, &h, &mi, &s) || memcmp(p + 25, " GMT", 4) != 0)
            return false;
        return make_time(y, (unsigned) mo, d, h, mi, s, out);
    }
    if (n == 24 && p[3] == ' ') { /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (!short_day(p) || !(mo = month_of(p + 4)) || p[7] != ' ') return false;
        if (p[8] == ' ') {
            if (!digits(p + 9, 1, &d)) return false;
        } else if (!digits(p + 8, 2, &d)) {
            return false;
        }
        if (p[10] != ' ' || !hms(p + 11, &h, &mi, &s) || p[19] != ' ' || !digits(p + 20, 4, &y))
            return false;
        return make_time(y, (unsigned) mo, d, h, mi, s, out);
    }
    /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
    size_t comma = ht_slice__find_byte(str, ',');
    if (comma == SIZE_MAX || n != comma + 24) return false;
    bool day_ok = false;
    for (int i = 0; i < 7; i++)
        if (strlen(weekday_long[i]) == comma && memcmp(p, weekday_long[i], comma) == 0) day_ok = true;
    p += comma;
    if (!day_ok || p[1] != ' ' || !digits(p + 2, 2, &d) || p[4] != '-' || !(mo = month_of(p + 5)) ||
        p[8] != '-' || !digits(p + 9, 2, &y) || p[11] != ' ' || !hms(p + 12, &h, &mi, &s) ||
        memcmp(p + 20, " GMT", 4) != 0)
        return false;
    y += y < 70 ? 2000 : 1900;
    return make_time(y, (unsigned) mo, d, h, mi, s, out);
}

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
    } else if (req->if_unmodified_since.ptr && ht_fs__date_parse(req->if_unmodified_since, &t)) {
        if (mtime > t) return 412;
    }
    if (req->if_none_match.ptr) {
        if (ht_fs__etag_list_match(req->if_none_match, etag, true))
            return (req->method == HT_METHOD_GET || req->method == HT_METHOD_HEAD) ? 304 : 412;
    } else if ((req->method == HT_METHOD_GET || req->method == HT_METHOD_HEAD) &&
               req->if_modified_since.ptr && ht_fs__date_parse(req->if_modified_since, &t)) {
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
    return ht_fs__date_parse(v, &t) && t == mtime;
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

int32_t ht_fs__accept_q(ht_slice_t ae, ht_slice_t coding) {
    if (!ae.ptr) return -1;
    bool is_gzip = ht_slice__eq_nocase(coding, HT_SLICE("gzip"));
    int32_t own = -1, star = -1;
    ht_slice_t s = ae, item;
    while (s.len) {
        ht_slice__split(&s, ',', &item);
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
