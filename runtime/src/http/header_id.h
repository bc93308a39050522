/* http/header_id.h — internal: the header-name lookup as an inline function,
 * for the parser's hot loop. ht_header__id() (header_id.c) is the same code
 * behind a call.
 *
 * Includes the gperf output generated from HT_HEADERS (build tree, DO NOT
 * EDIT); its tables are static, so each including file gets its own copy.
 * gperf also emits an extern lookup function we do not use: the includer
 * names it through HT_HEADER_GPERF_LOOKUP so two files never clash. */
#ifndef HT_HTTP_HEADER_ID_H
#define HT_HTTP_HEADER_ID_H

#include <ht/http.h>
#include <string.h>

#ifndef HT_HEADER_GPERF_LOOKUP
#  error "define HT_HEADER_GPERF_LOOKUP (a name unique to this file) before including"
#endif
#define ht_header_gperf_lookup_ HT_HEADER_GPERF_LOOKUP
#include "header_id_gperf.c" /* NOLINT(bugprone-suspicious-include): gperf output, one TU */
#undef ht_header_gperf_lookup_

HT_INLINE uint64_t ht_hid_load8_(const char* p) { uint64_t v; memcpy(&v, p, 8); return v; }
HT_INLINE uint64_t ht_hid_load4_(const char* p) { uint32_t v; memcpy(&v, p, 4); return v; }
HT_INLINE uint64_t ht_hid_load2_(const char* p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Input word a against known word k: equal, or differing only in the 0x20 bit
 * of bytes where k is a letter. Known names hold only letters, digits and '-'
 * (check_header_id asserts it), and among those only letters have the 0x40
 * bit, so "the 0x20 bit may differ where k has 0x40" is exactly ASCII case
 * folding: set that bit on both sides and compare (five operations, no
 * branch). gperf's own compare goes a byte at a time through a table. */
HT_INLINE bool ht_hid_word_eq_(uint64_t a, uint64_t k) {
    const uint64_t fold = (k >> 1) & 0x2020202020202020ull; /* 0x20 where k has 0x40 */
    return (a | fold) == (k | fold);
}

/* The same where a is known to hold only tchars (the parser's field names):
 * every byte of a known name has the 0x20 bit once folded, and the only
 * other bytes that equal it with 0x20 set are CTLs (0x10-0x19 for a digit,
 * CR for '-'), which a token does not hold. Three operations. */
HT_INLINE bool ht_hid_token_word_eq_(uint64_t a, uint64_t k) {
    const uint64_t c20 = 0x2020202020202020ull;
    return (a | c20) == (k | c20);
}

/* n >= 2 (gperf's MIN_WORD_LENGTH); the last word may overlap the one before.
 * token: a holds only tchars (ht_hid_token_word_eq_). */
HT_INLINE bool ht_hid_eq_mode_(const char* a, const char* k, size_t n, bool token) {
#define HT_HID_EQ_(x, y) (token ? ht_hid_token_word_eq_((x), (y)) : ht_hid_word_eq_((x), (y)))
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8)
            if (!HT_HID_EQ_(ht_hid_load8_(a + i), ht_hid_load8_(k + i))) return false;
        return i == n || HT_HID_EQ_(ht_hid_load8_(a + n - 8), ht_hid_load8_(k + n - 8));
    }
    if (n >= 4)
        return HT_HID_EQ_(ht_hid_load4_(a), ht_hid_load4_(k)) &&
               HT_HID_EQ_(ht_hid_load4_(a + n - 4), ht_hid_load4_(k + n - 4));
    return HT_HID_EQ_(ht_hid_load2_(a), ht_hid_load2_(k)) &&
           HT_HID_EQ_(ht_hid_load2_(a + n - 2), ht_hid_load2_(k + n - 2));
#undef HT_HID_EQ_
}
HT_INLINE bool ht_hid_eq_(const char* a, const char* k, size_t n) {
    return ht_hid_eq_mode_(a, k, n, false);
}
static_assert(MIN_WORD_LENGTH >= 2, "ht_hid_eq_ needs 2 bytes");

HT_INLINE ht_header_id_t ht_header__id_mode_(const char* name, size_t len, bool token) {
    if (len < MIN_WORD_LENGTH || len > MAX_WORD_LENGTH) return HT_HEADER__UNKNOWN;
    unsigned key = ht_header_gperf_hash_(name, len);
    if (key > MAX_HASH_VALUE || lengthtable[key] != len) return HT_HEADER__UNKNOWN;
    const struct ht_header_gperf_entry_* e = &wordlist[key];
    return ht_hid_eq_mode_(name, e->name, len, token) ? e->id : HT_HEADER__UNKNOWN;
}

/* The id of name[0, len) (ASCII case-insensitive), or HT_HEADER__UNKNOWN. */
HT_INLINE ht_header_id_t ht_header__id_inline(const char* name, size_t len) {
    return ht_header__id_mode_(name, len, false);
}

/* The same for a name known to hold only tchars (the parser's). */
HT_INLINE ht_header_id_t ht_header__id_token_inline(const char* name, size_t len) {
    return ht_header__id_mode_(name, len, true);
}

#endif /* HT_HTTP_HEADER_ID_H */
