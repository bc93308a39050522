/* url_wrong_type.c: a URL builder called with an argument of the wrong type
 * does not compile (tests/codegen/CMakeLists.txt, codegen_url_types): a slice
 * for a u64 parameter, a number for a slug. With -DHT_URL_TYPES_OK the same
 * calls with the right types compile (the test's control). */
#include "u_routes.h"

ht_io_t url_wrong_type(char* buf, size_t cap);
ht_io_t url_wrong_type(char* buf, size_t cap) {
#ifdef HT_URL_TYPES_OK
    return u__url_by_u64(buf, cap, 42) + u__url_by_slug(buf, cap, ht_slice__from_cstr("a"));
#else
    return u__url_by_u64(buf, cap, ht_slice__from_cstr("42")) + u__url_by_slug(buf, cap, 7);
#endif
}
