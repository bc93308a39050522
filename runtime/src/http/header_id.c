/* http/header_id.c — ht_header__id(): header name -> ht_header_id_t through the
 * gperf perfect hash generated at build time from HT_HEADERS (see
 * cmake/HtHeaderGperf.cmake and runtime/src/http/CMakeLists.txt).
 *
 * gperf gives the hash and the tables (%global-table); the final comparison is
 * ours: gperf's case-insensitive compare goes a byte at a time through a
 * table, this one a word at a time. */
#include <ht/http.h>

#include <string.h>

#include "header_id_gperf.c" /* generated into the build tree, DO NOT EDIT */

HT_INLINE uint64_t load8(const char* p) { uint64_t v; memcpy(&v, p, 8); return v; }
HT_INLINE uint64_t load4(const char* p) { uint32_t v; memcpy(&v, p, 4); return v; }
HT_INLINE uint64_t load2(const char* p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Input word a against known word k: equal, or differing only in the 0x20 bit
 * of bytes where k is a letter. Known names hold only letters, digits and '-'
 * (check_header_id asserts it), and among those only letters have the 0x40
 * bit, so "the 0x20 bit may differ where k has 0x40" is exactly ASCII case
 * folding. */
HT_INLINE bool word_eq_nocase(uint64_t a, uint64_t k) {
    const uint64_t c20 = 0x2020202020202020ull, c40 = 0x4040404040404040ull;
    uint64_t d = a ^ k;
    return (d & ~c20) == 0 && (((d & c20) << 1) & ~k & c40) == 0;
}

/* n >= 2 (gperf's MIN_WORD_LENGTH); the last word may overlap the one before. */
HT_INLINE bool eq_nocase(const char* a, const char* k, size_t n) {
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8)
            if (!word_eq_nocase(load8(a + i), load8(k + i))) return false;
        return i == n || word_eq_nocase(load8(a + n - 8), load8(k + n - 8));
    }
    if (n >= 4)
        return word_eq_nocase(load4(a), load4(k)) && word_eq_nocase(load4(a + n - 4), load4(k + n - 4));
    return word_eq_nocase(load2(a), load2(k)) && word_eq_nocase(load2(a + n - 2), load2(k + n - 2));
}

static_assert(MIN_WORD_LENGTH >= 2, "eq_nocase needs 2 bytes");

ht_header_id_t ht_header__id(const char* name, size_t len) {
    if (len < MIN_WORD_LENGTH || len > MAX_WORD_LENGTH || name == nullptr)
        return HT_HEADER__UNKNOWN;
    unsigned key = ht_header_gperf_hash_(name, len);
    if (key > MAX_HASH_VALUE || lengthtable[key] != len) return HT_HEADER__UNKNOWN;
    const struct ht_header_gperf_entry_* e = &wordlist[key];
    return eq_nocase(name, e->name, len) ? e->id : HT_HEADER__UNKNOWN;
}
