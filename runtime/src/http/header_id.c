/* http/header_id.c — ht_header__id(): header name -> ht_header_id_t through the
 * gperf perfect hash generated at build time from HT_HEADERS (see
 * cmake/HtHeaderGperf.cmake and runtime/src/http/CMakeLists.txt); the lookup
 * itself is in header_id.h, shared with the parser. */
#define HT_HEADER_GPERF_LOOKUP ht_header_gperf_lookup_api_
#include "http/header_id.h"

ht_header_id_t ht_header__id(const char* name, size_t len) {
    if (name == nullptr) return HT_HEADER__UNKNOWN;
    return ht_header__id_inline(name, len);
}
