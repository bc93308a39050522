/* header_flags.h — ht's -H, --cache-control and --cors: header rules and
 * CORS (ht/headers.h) for the docroot, each flag checked as it is parsed. */
#ifndef HT_EXAMPLE_HEADER_FLAGS_H
#define HT_EXAMPLE_HEADER_FLAGS_H

#include <ht/ht.h>

/* Each adds to the set, or prints why not ("ht: bad -H ...") and returns
 * false (ht then exits 2). Strings are copied (program lifetime). */
bool header_flags__header(const char* arg);        /* -H 'Name: value' */
bool header_flags__cache_control(const char* arg); /* --cache-control 'GLOB=VALUE' */
bool header_flags__cors(const char* arg);          /* --cors '*' | ORIGIN[,ORIGIN...] */
/* The set, --cache-control rules first (first match per name wins), then
 * -H; nullptr when no flag was given (no cost per request). Checked as a
 * whole (an Access-Control-* -H beside --cors): false after printing why. */
bool header_flags__finish(const ht_headers_t** out);

#endif /* HT_EXAMPLE_HEADER_FLAGS_H */
