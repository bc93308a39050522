/* check_parse: the request-head parser (http/parse.h), rule by rule.
 *
 * Every table entry is run four ways, and all must agree on the result:
 * one call over the whole input; split in two at every offset (the first
 * part, then the whole, with the same parser); grown one byte per call (the
 * parser must say it has examined every byte so far, i.e. it never needs to
 * look at them again while incomplete); and each of those with the input
 * copied to end exactly at a PROT_NONE page, so a read past buf+len faults.
 * Built as check_parse (the library's build, plus a scalar twin compared on
 * random inputs), check_parse_scalar (-DHT_PARSE_SCALAR) and, where the CPU has
 * AVX2, check_parse_avx2 (-DHT_PARSE_USE_AVX2).
 *
 * This file has the "fields" TCase (valid requests, every field of the
 * result); check_parse_tables.c the "tables" one (parse_harness.h). */
#include "parse_harness.h"

/* ---- valid requests: results and every field of out ---- */

START_TEST(minimal_fields) {
    parsed_t o;
    char* b;
    ck_assert_int_eq(PARSE1("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &o, &b), 27);
    ck_assert(slice_is(o.h.method, "GET"));
    ck_assert_uint_eq(o.h.method_id, HT_METHOD_GET);
    ck_assert(slice_is(o.h.target, "/"));
    ck_assert_uint_eq(o.h.version_minor, 1);
    ck_assert(slice_is(o.h.host, "x"));
    ck_assert_uint_eq(o.h.num_headers, 1);
    ck_assert(slice_is(o.hdr[0].name, "Host"));
    ck_assert(slice_is(o.hdr[0].value, "x"));
    ck_assert_int_eq(o.hdr[0].id, HT_HEADER_HOST);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE);
    ck_assert_uint_eq(o.h.content_length, 0);
    ck_assert_ptr_eq(o.h.method.ptr, b); /* zero-copy */
    free(b);
}
END_TEST

START_TEST(browser_fields) {
    parsed_t o;
    char* b;
    ck_assert_int_eq(parse1(BROWSER, sizeof BROWSER - 1, &o, &b), (ht_io_t) sizeof BROWSER - 1);
    ck_assert_uint_eq(o.h.num_headers, 9);
    ck_assert(slice_is(o.h.target, "/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg"));
    ck_assert(slice_is(o.h.host, "www.kittyhell.com"));
    ck_assert_int_eq(o.hdr[1].id, HT_HEADER_USER_AGENT);
    ck_assert(slice_is(o.hdr[6].name, "Keep-Alive"));
    ck_assert_int_eq(o.hdr[6].id, HT_HEADER_KEEP_ALIVE);
    ck_assert(slice_is(o.hdr[6].value, "115"));
    ck_assert_int_eq(o.hdr[8].id, HT_HEADER_COOKIE);
    ck_assert_uint_eq(o.hdr[8].value.len, 231);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE);
    free(b);
}
END_TEST

START_TEST(fields_from_line_blocks) {
    /* Lines long enough for the 16- and 32-byte name paths: names, ids and
     * trimmed values as the name scan gives them. */
    parsed_t o;
    char* b;
    ck_assert_int_gt(PARSE1("GET / HTTP/1.1\r\nuSER-aGENT: Mozilla/5.0 (X11)\r\n"
                            "HOST: a.example\r\nIF-MODIFIED-SINCE:\tSun, 06 Nov 1994 \r\n"
                            "upgrade-insecure-requests:1\r\nX-Unknown-But-Long-Name: v \t \r\n"
                            "Accept:\r\nAccept: \t \r\nsec-ch-ua: \"x\"\r\n"
                            "X-Pad: 0123456789abcdef0123456789abcdef\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.num_headers, 9);
    static const struct { const char* name; ht_header_id_t id; const char* value; } want[] = {
        { "uSER-aGENT", HT_HEADER_USER_AGENT, "Mozilla/5.0 (X11)" },
        { "HOST", HT_HEADER_HOST, "a.example" },
        { "IF-MODIFIED-SINCE", HT_HEADER_IF_MODIFIED_SINCE, "Sun, 06 Nov 1994" },
        { "upgrade-insecure-requests", HT_HEADER_UPGRADE_INSECURE_REQUESTS, "1" },
        { "X-Unknown-But-Long-Name", HT_HEADER__UNKNOWN, "v" },
        { "Accept", HT_HEADER_ACCEPT, "" },
        { "Accept", HT_HEADER_ACCEPT, "" },
        { "sec-ch-ua", HT_HEADER__UNKNOWN, "\"x\"" },
        { "X-Pad", HT_HEADER__UNKNOWN, "0123456789abcdef0123456789abcdef" },
    };
    for (unsigned i = 0; i < HT_ARRAY_LEN(want); i++) {
        CHECK_MSG(slice_is(o.hdr[i].name, want[i].name), "field %u: name", i);
        CHECK_MSG(o.hdr[i].id == want[i].id, "field %u: id %d", i, (int) o.hdr[i].id);
        CHECK_MSG(slice_is(o.hdr[i].value, want[i].value), "field %u: value", i);
    }
    ck_assert(slice_is(o.h.host, "a.example"));
    free(b);
}
END_TEST

START_TEST(values_trimmed_and_charset) {
    parsed_t o;
    char* b;
    /* OWS around the value goes, HTAB/SP inside and obs-text stay. */
    ck_assert_int_gt(PARSE1("GET / HTTP/1.1\r\nHost:x\r\nX-A: \t a \t b \t \r\nX-B:\r\n"
                            "X-C: \xc3\xa9t\xe9\xff\r\nX-D:   \r\n"
                            "!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.num_headers, 6);
    ck_assert(slice_is(o.hdr[0].value, "x"));
    ck_assert(slice_is(o.hdr[1].value, "a \t b"));
    ck_assert(slice_is(o.hdr[2].value, ""));
    ck_assert(slice_is(o.hdr[3].value, "\xc3\xa9t\xe9\xff"));
    ck_assert(slice_is(o.hdr[4].value, ""));
    ck_assert(slice_is(o.hdr[5].name, "!#$%&'*+-.^_`|~09azAZ"));
    ck_assert_int_eq(o.hdr[5].id, HT_HEADER__UNKNOWN);
    free(b);
}
END_TEST

START_TEST(methods) {
    static const struct { const char* tok; ht_method_t id; } m[] = {
#define HT_X_(id, tok) { tok, HT_METHOD_##id },
        HT_METHODS(HT_X_)
#undef HT_X_
        { "M-SEARCH", HT_METHOD_OTHER }, { "get", HT_METHOD_OTHER }, { "GETX", HT_METHOD_OTHER },
        { "PRI", HT_METHOD_OTHER },
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(m); i++) {
        char req[128];
        int n = snprintf(req, sizeof req, "%s /x HTTP/1.1\r\nHost: h\r\n\r\n", m[i].tok);
        parsed_t o;
        char* b;
        ck_assert_int_eq(parse1(req, (size_t) n, &o, &b), n);
        ck_assert_uint_eq(o.h.method_id, m[i].id);
        ck_assert(slice_is(o.h.method, m[i].tok));
        free(b);
    }
}
END_TEST

START_TEST(version_and_connection) {
    parsed_t o;
    char* b;
    ck_assert_int_gt(PARSE1("GET / HTTP/1.0\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.version_minor, 0);
    ck_assert_uint_eq(o.h.flags, 0); /* 1.0: close by default */
    ck_assert_uint_eq(o.h.host.len, 0);
    free(b);
    /* A later 1.x is 1.1, keep-alive included (RFC 9110 §2.5). */
    ck_assert_int_gt(PARSE1("GET / HTTP/1.7\r\nHost: a\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.version_minor, 1);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE);
    free(b);
    ck_assert_int_gt(PARSE1("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE);
    free(b);
    ck_assert_int_gt(PARSE1("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags, 0);
    free(b);
    ck_assert_int_gt(PARSE1("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo,, CLOSE\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags, 0);
    free(b);
    ck_assert_int_gt(PARSE1("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE | HT_HEAD_UPGRADE);
    free(b);
    /* An empty Upgrade field is no upgrade either (found by tests/fuzz/fuzz_diff). */
    ck_assert_int_gt(PARSE1("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: \r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags & HT_HEAD_UPGRADE, 0);
    free(b);
    /* Upgrade without the Connection option is not an upgrade. */
    ck_assert_int_gt(PARSE1("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE);
    free(b);
}
END_TEST

START_TEST(framing_fields) {
    parsed_t o;
    char* b;
    ck_assert_int_gt(PARSE1("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", &o, &b), 0);
    ck_assert_int_eq(o.r, 47);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE | HT_HEAD_CONTENT_LENGTH);
    ck_assert_uint_eq(o.h.content_length, 5);
    free(b);
    ck_assert_int_gt(PARSE1("POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 18446744073709551615\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.content_length, UINT64_MAX);
    free(b);
    ck_assert_int_gt(PARSE1("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.content_length, 7);
    free(b);
    ck_assert_int_gt(PARSE1("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  \t5\t \r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.content_length, 5);
    free(b);
    ck_assert_int_gt(PARSE1("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE | HT_HEAD_CONTENT_LENGTH);
    ck_assert_uint_eq(o.h.content_length, 0);
    free(b);
    ck_assert_int_gt(PARSE1("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE | HT_HEAD_CHUNKED);
    free(b);
    ck_assert_int_gt(PARSE1("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\nTransfer-Encoding: , chunked\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE | HT_HEAD_CHUNKED);
    free(b);
    ck_assert_int_gt(PARSE1("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags, HT_HEAD_KEEP_ALIVE | HT_HEAD_EXPECT_CONTINUE);
    free(b);
    ck_assert_int_gt(PARSE1("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &o, &b), 0);
    ck_assert_uint_eq(o.h.flags, 0);
    free(b);
}
END_TEST

START_TEST(known_header_ids_in_requests) {
    /* Every name of HT_HEADERS, in upper case, comes back with its id. */
    static const char* const names[] = {
#define HT_X_(id, name) name,
        HT_HEADERS(HT_X_)
#undef HT_X_
    };
    char req[4096];
    size_t n = (size_t) snprintf(req, sizeof req, "OPTIONS * HTTP/1.0\r\n");
    size_t count = 0;
    for (size_t i = 0; i < HT_ARRAY_LEN(names); i++) {
        const char* nm = names[i];
        /* framing fields would change the verdict; their ids are tested elsewhere */
        if (!strcmp(nm, "Transfer-Encoding") || !strcmp(nm, "Content-Length") ||
            !strcmp(nm, "Expect") || !strcmp(nm, "Host") || !strcmp(nm, "Connection"))
            continue;
        char up[64];
        size_t l = strlen(nm);
        for (size_t j = 0; j <= l; j++) up[j] = (char) (nm[j] >= 'a' && nm[j] <= 'z' ? nm[j] - 32 : nm[j]);
        n += (size_t) snprintf(req + n, sizeof req - n, "%s: v\r\n", up);
        count++;
    }
    n += (size_t) snprintf(req + n, sizeof req - n, "\r\n");
    parsed_t o;
    char* b;
    ck_assert_int_eq(parse1(req, n, &o, &b), (ht_io_t) n);
    ck_assert_uint_eq(o.h.num_headers, count);
    for (unsigned i = 0; i < o.h.num_headers; i++) {
        ht_header_id_t id = o.hdr[i].id;
        ck_assert_int_ne(id, HT_HEADER__UNKNOWN);
        ck_assert_uint_eq(o.hdr[i].name.len, strlen(ht_header__name(id)));
        ck_assert(ht_slice__eq_nocase(o.hdr[i].name, ht_slice__from_cstr(ht_header__name(id))));
    }
    free(b);
}
END_TEST

START_TEST(head_length_and_pipelining) {
    /* The result is the head length; what follows is left alone. */
    parsed_t o;
    char* b;
    ck_assert_int_eq(PARSE1("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n", &o, &b), 28);
    ck_assert(slice_is(o.h.target, "/a"));
    free(b);
    /* leading empty lines are skipped and counted in the head */
    ck_assert_int_eq(PARSE1("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", &o, &b), 31);
    ck_assert(slice_is(o.h.method, "GET"));
    free(b);
}
END_TEST

/* The Host check has a vector path for the usual shapes and a byte loop
 * for the rest: both must agree with the grammar (RFC 9112 §3.2, uri-host
 * [":" port]) for every value, long or short, at every offset. */
static bool host_ref(const char* v, size_t n) {
    size_t i = 0;
    if (n && v[0] == '[') {
        size_t j = 1;
        while (j < n && (isalnum((unsigned char) v[j]) || strchr("-._~!$&'()*+,;=:", v[j]))) j++;
        if (j == n || v[j] != ']' || j == 1) return false;
        i = j + 1;
    } else {
        while (i < n) {
            if (isalnum((unsigned char) v[i]) || strchr("-._~!$&'()*+,;=", v[i])) { i++; continue; }
            if (v[i] == '%' && n - i >= 3 && isxdigit((unsigned char) v[i + 1]) && isxdigit((unsigned char) v[i + 2])) {
                i += 3;
                continue;
            }
            break;
        }
    }
    if (i == n) return true;
    if (v[i++] != ':') return false;
    while (i < n && isdigit((unsigned char) v[i])) i++;
    return i == n;
}

START_TEST(host_values_all_shapes) {
    static const char alpha[] = "aZ09.-:_[]%/@F~";
    uint32_t seed = 12345;
    char host[32], req[96];
    for (int k = 0; k < 20000; k++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 16) % 21;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* mostly name bytes, so the long valid ones are common too */
            host[i] = (seed >> 20) % 4 ? "abcdefghijklmnopqrstuvwxyzABC0123456789.-"[(seed >> 8) % 41]
                                       : alpha[(seed >> 8) % (sizeof alpha - 1)];
        }
        host[n] = 0;
        int len = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host);
        /* OWS is trimmed from values: a host that ends in what the test
         * alphabet has no blank for is what the parser sees */
        pcase_t c = { "host shape", req, (size_t) len, host_ref(host, n) ? OK : HT_E_BAD_HOST, nullptr };
        run_case(&c);
    }
}
END_TEST

int main(void) {
    Suite* s = suite_create("parse-" VARIANT);
    TCase* tc = tcase_create("fields");
    tcase_add_test(tc, minimal_fields);
    tcase_add_test(tc, host_values_all_shapes);
    tcase_add_test(tc, browser_fields);
    tcase_add_test(tc, values_trimmed_and_charset);
    tcase_add_test(tc, fields_from_line_blocks);
    tcase_add_test(tc, methods);
    tcase_add_test(tc, version_and_connection);
    tcase_add_test(tc, framing_fields);
    tcase_add_test(tc, known_header_ids_in_requests);
    tcase_add_test(tc, head_length_and_pipelining);
    suite_add_tcase(s, tc);
    tc = tcase_create("tables");
    parse_add_table_tests(tc);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
