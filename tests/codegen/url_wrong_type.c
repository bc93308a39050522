/* url_wrong_type.c: a URL builder called with an argument of the wrong type
 * does not compile (tests/codegen/CMakeLists.txt, codegen_url_types): a slice
 * for a u64 parameter, a number for a slug, a slice for an optional u64
 * query parameter (a const uint64_t*). With -DHT_URL_TYPES_OK the same calls
 * with the right types compile (the test's control). */
#include "u_routes.h"
#include "uq_routes.h"

ht_io_t url_wrong_type(char* buf, size_t cap);
ht_io_t url_wrong_type(char* buf, size_t cap) {
    const ht_slice_t none = { nullptr, 0 };
#ifdef HT_URL_TYPES_OK
    const uint64_t page = 2;
    return u__url_by_u64(buf, cap, 42) + u__url_by_slug(buf, cap, ht_slice__from_cstr("a")) +
           uq__url_search(buf, cap, ht_slice__from_cstr("q"), &page, none, nullptr, 0);
#else
    return u__url_by_u64(buf, cap, ht_slice__from_cstr("42")) + u__url_by_slug(buf, cap, 7) +
           uq__url_search(buf, cap, ht_slice__from_cstr("q"), ht_slice__from_cstr("2"), none, nullptr, 0);
#endif
}
