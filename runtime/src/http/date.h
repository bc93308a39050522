/* http/date.h — internal: the proleptic Gregorian calendar behind
 * HTTP-dates (ht/http.h), shared with the files module's listings. */
#ifndef HT_HTTP_DATE_INTERNAL_H
#define HT_HTTP_DATE_INTERNAL_H

#include <ht/http.h>

/* Days since 1970-01-01 for a date (Howard Hinnant's algorithms), and back. */
int64_t ht_http_days_from_civil_(int64_t y, unsigned m, unsigned d);
void ht_http_civil_from_days_(int64_t z, int64_t* y, unsigned* m, unsigned* d);
/* Unix time t as a UTC date and the seconds into that day (0..86399);
 * returns the day number (days since 1970-01-01, floored). */
int64_t ht_http_civil_from_time_(int64_t t, int64_t* y, unsigned* m, unsigned* d, unsigned* secs);

#endif /* HT_HTTP_DATE_INTERNAL_H */
