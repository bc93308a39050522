/* http/header_id.c — ht_header__id(): header name -> ht_header_id_t through the
 * gperf perfect hash generated at build time from HT_HEADERS (see
 * cmake/HtHeaderGperf.cmake and runtime/src/http/CMakeLists.txt). */
#include <ht/http.h>

#include "header_id_gperf.c" /* generated into the build tree, DO NOT EDIT */

ht_header_id_t ht_header__id(const char* name, size_t len) {
    if (len == 0 || name == nullptr) return HT_HEADER__UNKNOWN;
    const struct ht_header_gperf_entry_* e = ht_header_gperf_lookup_(name, len);
    return e ? e->id : HT_HEADER__UNKNOWN;
}
