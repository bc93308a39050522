/* http/date.c — HTTP-dates (RFC 9110 §5.6.7): IMF-fixdate out, the three
 * formats a recipient must accept in. Pure arithmetic on Unix time (no
 * gmtime_r, no locale, no time zone), shared by the server's Date header,
 * the files module's Last-Modified and conditionals, and listings. */
#include "http/date.h"

#include <string.h>

/* ---- Calendar (Howard Hinnant's days_from_civil / civil_from_days) ---- */

int64_t ht_http_days_from_civil_(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3u : 9u)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
}

void ht_http_civil_from_days_(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
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

int64_t ht_http_civil_from_time_(int64_t t, int64_t* y, unsigned* m, unsigned* d, unsigned* secs) {
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400); /* floor */
    *secs = (unsigned) (t - days * 86400);
    ht_http_civil_from_days_(days, y, m, d);
    return days;
}

static void put2(char* p, unsigned v) { p[0] = (char) ('0' + v / 10); p[1] = (char) ('0' + v % 10); }

size_t ht_http__format_date(char* out, int64_t t) {
    if (t < MIN_T) t = MIN_T;
    if (t > MAX_T) t = MAX_T;
    int64_t y;
    unsigned mo, d, secs;
    int64_t days = ht_http_civil_from_time_(t, &y, &mo, &d, &secs);
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
    return HT_HTTP_DATE_LEN;
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
    *out = ht_http_days_from_civil_(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

bool ht_http__parse_date(ht_slice_t str, int64_t* out) {
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
