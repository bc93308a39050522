/* check_header_id: the gperf-generated header-name table (ht_header__id). */
#include <check.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <ht/http.h>

#include "http/guard.h"

static const struct { const char* name; ht_header_id_t id; } known[] = {
#define HT_X_(id, name) { name, HT_HEADER_##id },
    HT_HEADERS(HT_X_)
#undef HT_X_
};

START_TEST(every_known_name_any_case) {
    ck_assert_uint_eq(HT_ARRAY_LEN(known), HT_HEADER__COUNT - 1);
    for (size_t i = 0; i < HT_ARRAY_LEN(known); i++) {
        const char* n = known[i].name;
        size_t      l = strlen(n);
        char        low[64], up[64], alt[64];
        ck_assert_uint_lt(l, sizeof low);
        for (size_t j = 0; j < l; j++) {
            low[j] = (char) tolower((unsigned char) n[j]);
            up[j]  = (char) toupper((unsigned char) n[j]);
            alt[j] = (char) (j % 2 ? toupper((unsigned char) n[j]) : tolower((unsigned char) n[j]));
        }
        ck_assert_int_eq(ht_header__id(n, l), known[i].id);
        ck_assert_int_eq(ht_header__id(low, l), known[i].id);
        ck_assert_int_eq(ht_header__id(up, l), known[i].id);
        ck_assert_int_eq(ht_header__id(alt, l), known[i].id);
        ck_assert_str_eq(ht_header__name(known[i].id), n);
        /* prefixes and extensions of a known name are unknown */
        ck_assert_int_ne(ht_header__id(n, l - 1), known[i].id);
        char longer[80];
        memcpy(longer, n, l);
        longer[l] = 'x';
        ck_assert_int_eq(ht_header__id(longer, l + 1), HT_HEADER__UNKNOWN);
        /* a one-byte change of a letter is unknown (no fuzzy matching) */
        memcpy(longer, n, l);
        longer[l - 1] = longer[l - 1] == 'q' ? 'z' : 'q';
        ck_assert_int_eq(ht_header__id(longer, l), HT_HEADER__UNKNOWN);
    }
}
END_TEST

START_TEST(known_names_charset) {
    /* header_id.c folds case a word at a time, which is exact only when the
     * known names hold letters, digits and '-'; a new entry must keep that. */
    for (size_t i = 0; i < HT_ARRAY_LEN(known); i++)
        for (const char* c = known[i].name; *c; c++)
            ck_assert_msg(isalnum((unsigned char) *c) || *c == '-', "%s", known[i].name);
}
END_TEST

START_TEST(unknown_names) {
    static const char* const unknown[] = {
        "X-Unknown", "Hos", "Hostt", "Conten", "Content-Lengthx", "Content_Length", "Acept",
        "Sec-Fetch-Foo", "Cookie2", "X-Forwarded-Fo", "Transfer-Encodin", "Teh", "TE ",
        "H\xc3\xb6st", "\xff\xff\xff\xff", "Host\0", "-", "Via-",
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(unknown); i++) {
        size_t l = strlen(unknown[i]);
        if (!strcmp(unknown[i], "Host\0")) l = 5; /* an embedded NUL is part of the name */
        ck_assert_msg(ht_header__id(unknown[i], l) == HT_HEADER__UNKNOWN, "%s", unknown[i]);
    }
    ck_assert_int_eq(ht_header__id("", 0), HT_HEADER__UNKNOWN);
    ck_assert_int_eq(ht_header__id(nullptr, 0), HT_HEADER__UNKNOWN);
    /* the length is honoured: "Hostname" cut at 4 is Host */
    ck_assert_int_eq(ht_header__id("Hostname", 4), HT_HEADER_HOST);
    ck_assert_str_eq(ht_header__name(HT_HEADER__UNKNOWN), "");
    ck_assert_str_eq(ht_header__name(HT_HEADER__COUNT), "");
}
END_TEST

START_TEST(every_length_every_byte) {
    /* Brute force over short names: the only hits are the known names. */
    char n[3];
    for (int a = 0; a < 256; a++) {
        n[0] = (char) a;
        ht_header_id_t id = ht_header__id(n, 1);
        ck_assert_int_eq(id, HT_HEADER__UNKNOWN);
        for (int b = 0; b < 256; b++) {
            n[1] = (char) b;
            id = ht_header__id(n, 2);
            bool te = (a | 0x20) == 't' && (b | 0x20) == 'e';
            ck_assert_int_eq(id, te ? HT_HEADER_TE : HT_HEADER__UNKNOWN);
        }
    }
}
END_TEST

START_TEST(no_over_read) {
    /* names and every prefix of them, ending at an unreadable page */
    guard_t g = guard__open(64);
    for (size_t i = 0; i < HT_ARRAY_LEN(known); i++) {
        size_t l = strlen(known[i].name);
        for (size_t k = 0; k <= l; k++) {
            const char* at = guard__place(&g, known[i].name, k);
            ht_header_id_t id = ht_header__id(at, k);
            CHECK_MSG(k == l ? id == known[i].id : id != known[i].id, "%s/%zu", known[i].name, k);
        }
    }
    guard__close(&g);
}
END_TEST

int main(void) {
    Suite* s  = suite_create("header_id");
    TCase* tc = tcase_create("gperf");
    tcase_add_test(tc, every_known_name_any_case);
    tcase_add_test(tc, known_names_charset);
    tcase_add_test(tc, unknown_names);
    tcase_add_test(tc, every_length_every_byte);
    tcase_add_test(tc, no_over_read);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
