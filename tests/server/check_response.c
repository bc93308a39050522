/* check_response: the response builder and request accessors without a
 * server: responses are built into a send buffer and compared byte for byte. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <ht/ht.h>
#include "server/conn.h"

static ht_alloc_t* A;
static ht_out_t* OUT;
static char DATE[48];

static void setup(void) {
    A = ht_alloc__init();
    OUT = calloc(1, sizeof(ht_out_t) + 4096);
    OUT->cap = 4096;
    OUT->file = -1;
    ht_date_line_(DATE, 784111777);
}
static void teardown(void) {
    ht_out__reset_(OUT);
    free(OUT);
    ht_alloc__finalize(A);
}

/* Everything the buffer would send, concatenated. */
static char* sent(size_t* n) {
    ht_out__seal_(OUT);
    size_t total = 0;
    for (uint32_t i = 0; i < OUT->iovcnt; i++) total += OUT->iov[i].len;
    char* s = malloc(total + 1);
    size_t k = 0;
    for (uint32_t i = 0; i < OUT->iovcnt; i++) {
        memcpy(s + k, OUT->iov[i].base, OUT->iov[i].len);
        k += OUT->iov[i].len;
    }
    s[k] = 0;
    if (n) *n = k;
    ck_assert_uint_eq(k, OUT->total);
    return s;
}

#define EXPECT_SENT(lit)                              \
    do {                                              \
        size_t n_;                                    \
        char* s_ = sent(&n_);                         \
        ck_assert_str_eq(s_, lit);                    \
        ck_assert_uint_eq(n_, sizeof(lit) - 1);       \
        free(s_);                                     \
    } while (0)

#define D "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"

START_TEST(date_format) {
    char b[40];
    ck_assert_uint_eq(ht_http__format_date(b, 784111777), 29);
    ck_assert_str_eq(b, "Sun, 06 Nov 1994 08:49:37 GMT");
    ht_http__format_date(b, 0);
    ck_assert_str_eq(b, "Thu, 01 Jan 1970 00:00:00 GMT");
    ht_http__format_date(b, 1709210096); /* leap day 2024 */
    ck_assert_str_eq(b, "Thu, 29 Feb 2024 12:34:56 GMT");
    ck_assert_str_eq(DATE, D);
    ck_assert_uint_eq(strlen(DATE), HT_DATE_LINE_LEN);
}
END_TEST

START_TEST(text_response) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__text(&res, 200, "hello from hachettp\n", A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\n" D
                "\r\nhello from hachettp\n");
}
END_TEST

START_TEST(headers_and_close) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, HT_RESF_CLOSE);
    ck_assert_int_eq(ht_response__status(&res, 404), 0);
    ck_assert_uint_eq(ht_response__get_status(&res), 404);
    ck_assert_int_eq(ht_response__header_cstr(&res, "X-A", "  b c\t"), 0);
    ck_assert_int_eq(ht_response__header(&res, HT_SLICE("Cache-Control"), HT_SLICE("no-store")), 0);
    ck_assert_int_eq(ht_response__body(&res, "nope", 4, A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 404 Not Found\r\nX-A: b c\r\nCache-Control: no-store\r\nContent-Length: 4\r\n" D
                "Connection: close\r\n\r\nnope");
}
END_TEST

START_TEST(http10_keep_alive_and_json) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, HT_RESF_KEEP_ALIVE);
    ck_assert_int_eq(ht_response__json(&res, 201, "{}", A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n" D
                "Connection: keep-alive\r\n\r\n{}");
}
END_TEST

START_TEST(head_has_length_no_body) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, HT_RESF_HEAD_ONLY);
    ck_assert_int_eq(ht_response__html(&res, 200, "<p>hi</p>", A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 9\r\n" D "\r\n");
}
END_TEST

START_TEST(no_length_for_204) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 204), 0);
    ht_response__finish_(&res); /* no body call: an empty body */
    EXPECT_SENT("HTTP/1.1 204 No Content\r\n" D "\r\n");
}
END_TEST

START_TEST(status_only_gets_length_zero) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 302), 0);
    ck_assert_int_eq(ht_response__header_cstr(&res, "Location", "/x"), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n" D "\r\n");
}
END_TEST

START_TEST(unknown_status_and_error_page) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__error(&res, 404, A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 66\r\n" D
                "\r\n<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1>\n");
    ht_out__reset_(OUT);
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 299), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 299 \r\nContent-Length: 0\r\n" D "\r\n");
}
END_TEST

START_TEST(header_validation) {
    ck_assert(ht_response__valid_header_name(HT_SLICE("X-Ok_1.~!")));
    ck_assert(!ht_response__valid_header_name(HT_SLICE("")));
    ck_assert(!ht_response__valid_header_name(HT_SLICE("Bad Name")));
    ck_assert(!ht_response__valid_header_name(HT_SLICE("Bad:")));
    ck_assert(!ht_response__valid_header_name(HT_SLICE("X\r\nY")));
    ck_assert(ht_response__valid_header_value(HT_SLICE("a\tb c \x80\xff")));
    ck_assert(ht_response__valid_header_value(HT_SLICE("")));
    ck_assert(!ht_response__valid_header_value(HT_SLICE("a\r\nSet-Cookie: x")));
    ck_assert(!ht_response__valid_header_value(HT_SLICE("a\nb")));
    ck_assert(!ht_response__valid_header_value(HT_SLICE("a\rb")));
    ck_assert(!ht_response__valid_header_value(ht_slice__from("a\0b", 3)));
    ck_assert(!ht_response__valid_header_value(HT_SLICE("a\x7f")));

    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__header_cstr(&res, "X", "y"), HT_E_RESPONSE_STATE); /* before status */
    ck_assert_int_eq(ht_response__status(&res, 200), 0);
    ck_assert_int_eq(ht_response__status(&res, 200), HT_E_RESPONSE_STATE);
    ck_assert_int_eq(ht_response__header_cstr(&res, "X", "a\r\nInjected: 1"), HT_E_BAD_HEADER_VALUE);
    ck_assert_int_eq(ht_response__header_cstr(&res, "X\r\nInjected", "1"), HT_E_BAD_HEADER_NAME);
    ck_assert_int_eq(ht_response__header_cstr(&res, "content-length", "5"), HT_E_RESERVED_HEADER);
    ck_assert_int_eq(ht_response__header_cstr(&res, "Transfer-Encoding", "chunked"), HT_E_RESERVED_HEADER);
    ck_assert_int_eq(ht_response__header_cstr(&res, "DATE", "x"), HT_E_RESERVED_HEADER);
    ck_assert_int_eq(ht_response__header_cstr(&res, "Connection", "close"), HT_E_RESERVED_HEADER);
    ck_assert_int_eq(ht_response__header_cstr(&res, "X-Fine", "1"), 0);
    ck_assert_int_eq(ht_response__text(&res, 201, "x", A), HT_E_RESPONSE_STATE); /* other status */
    ck_assert_int_eq(ht_response__text(&res, 200, "abc", A), 0);
    ck_assert_int_eq(ht_response__header_cstr(&res, "X-Late", "1"), HT_E_RESPONSE_STATE);
    ck_assert_int_eq(ht_response__body(&res, "x", 1, A), HT_E_RESPONSE_STATE);
    ht_response__finish_(&res);
    /* Rejected calls left nothing behind. */
    EXPECT_SENT("HTTP/1.1 200 OK\r\nX-Fine: 1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n" D
                "\r\nabc");
    ck_assert_str_eq(ht_result__str(HT_E_RESERVED_HEADER), "header is written by the server, not the handler");
}
END_TEST

START_TEST(nothing_built_is_500) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n" D "\r\n");
}
END_TEST

START_TEST(head_too_large_is_500) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 200), 0);
    char big[1500];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ck_assert_int_eq(ht_response__header_cstr(&res, "A", big), 0);
    ck_assert_int_eq(ht_response__header_cstr(&res, "B", big), 0);
    ck_assert_int_eq(ht_response__header_cstr(&res, "C", big), -ENOBUFS);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n" D "\r\n");
}
END_TEST

START_TEST(pipelined_responses_and_large_body) {
    /* Two responses in one buffer, the second with a body too large to
     * inline: it goes out of line (copied from A) and is freed on reset. */
    ht_alloc_counting_t cnt;
    ht_alloc__counting_init(&cnt, A);
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__text(&res, 200, "a", A), 0);
    ht_response__finish_(&res);
    size_t n = 10000;
    char* body = malloc(n);
    for (size_t i = 0; i < n; i++) body[i] = (char) ('a' + i % 26);
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__bytes(&res, 200, HT_SLICE("x/y"), body, n, &cnt.base), 0);
    ht_response__finish_(&res);
    ck_assert_uint_eq(cnt.allocs, 1);
    memset(body, 0, n); /* it was copied */
    size_t len;
    char* s = sent(&len);
    const char* h2 = "HTTP/1.1 200 OK\r\nContent-Type: x/y\r\nContent-Length: 10000\r\n" D "\r\n";
    const char* h1 = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\n" D "\r\na";
    ck_assert_uint_eq(len, strlen(h1) + strlen(h2) + n);
    ck_assert(memcmp(s, h1, strlen(h1)) == 0);
    ck_assert(memcmp(s + strlen(h1), h2, strlen(h2)) == 0);
    for (size_t i = 0; i < n; i++) ck_assert_int_eq(s[strlen(h1) + strlen(h2) + i], 'a' + i % 26);
    free(s);
    free(body);
    ht_out__reset_(OUT);
    ck_assert_uint_eq(cnt.frees, 1);
    ck_assert_uint_eq(cnt.live_bytes, 0);
}
END_TEST

START_TEST(body_ref_not_copied) {
    static const char big[3000] = { [0] = 'S', [2999] = 'E' };
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 200), 0);
    ck_assert_int_eq(ht_response__body_ref(&res, big, sizeof big), 0);
    ht_response__finish_(&res);
    ht_out__seal_(OUT);
    ck_assert_uint_eq(OUT->iovcnt, 2);
    ck_assert_ptr_eq(OUT->iov[1].base, big);
    ck_assert_uint_eq(OUT->iov[1].len, sizeof big);
}
END_TEST

START_TEST(file_body_head_closes_owned_fd) {
    int f = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(f, 0);
    ht_response_t res;
    ht_response__begin_(&res, OUT, DATE, HT_RESF_HEAD_ONLY);
    ck_assert_int_eq(ht_response__status(&res, 200), 0);
    ck_assert_int_eq(ht_response__file(&res, f, 0, 1234, true), 0);
    ht_response__finish_(&res);
    ck_assert_int_eq(fcntl(f, F_GETFD), -1); /* closed: HEAD sends no body */
    EXPECT_SENT("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n" D "\r\n");
    ht_out__reset_(OUT);
    /* GET: queued after the head; reset (a failed connection) closes it */
    f = open("/dev/null", O_RDONLY);
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 200), 0);
    ck_assert_int_eq(ht_response__file(&res, f, 5, 10, true), 0);
    ht_response__finish_(&res);
    ck_assert_int_eq(OUT->file_state, HT_OUT_FILE_PENDING);
    ck_assert_int_eq(OUT->file, f);
    ck_assert_uint_eq(OUT->file_off, 5);
    ck_assert_uint_eq(OUT->file_len, 10);
    ht_out__reset_(OUT);
    ck_assert_int_eq(fcntl(f, F_GETFD), -1);
    /* out of order: refused, and an owned fd is still closed */
    f = open("/dev/null", O_RDONLY);
    ht_response__begin_(&res, OUT, DATE, 0);
    ck_assert_int_eq(ht_response__file(&res, f, 0, 1, true), HT_E_RESPONSE_STATE);
    ck_assert_int_eq(fcntl(f, F_GETFD), -1);
}
END_TEST

START_TEST(continue_line) {
    ck_assert(ht_out__continue_(OUT));
    EXPECT_SENT("HTTP/1.1 100 Continue\r\n\r\n");
}
END_TEST

START_TEST(request_accessors) {
    ht_header_t hs[3] = {
        { HT_SLICE("Host"), HT_SLICE("h"), HT_HEADER_HOST },
        { HT_SLICE("X-Thing"), HT_SLICE("1"), HT_HEADER__UNKNOWN },
        { HT_SLICE("cookie"), HT_SLICE("c=2"), HT_HEADER_COOKIE },
    };
    ht_request_t r = { .headers_ = hs, .num_headers_ = 3, .method_id_ = HT_METHOD_GET };
    ck_assert_int_eq(ht_request__method(&r), HT_METHOD_GET);
    ck_assert(ht_slice__eq(ht_request__header(&r, HT_HEADER_COOKIE), HT_SLICE("c=2")));
    ck_assert_ptr_null(ht_request__header(&r, HT_HEADER_ACCEPT).ptr);
    ck_assert(ht_slice__eq(ht_request__header_by_name(&r, HT_SLICE("x-thing")), HT_SLICE("1")));
    ck_assert(ht_slice__eq(ht_request__header_by_name(&r, HT_SLICE("COOKIE")), HT_SLICE("c=2")));
    ck_assert_ptr_null(ht_request__header_by_name(&r, HT_SLICE("x-other")).ptr);
    uint16_t pos = 0;
    int n = 0;
    while (ht_request__header_next(&r, HT_HEADER__UNKNOWN, HT_SLICE_NULL, &pos)) n++;
    ck_assert_int_eq(n, 3);
    pos = 0;
    const ht_header_t* h = ht_request__header_next(&r, HT_HEADER__UNKNOWN, HT_SLICE("X-THING"), &pos);
    ck_assert_ptr_eq(h, &hs[1]);
    ck_assert_ptr_null(ht_request__header_next(&r, HT_HEADER__UNKNOWN, HT_SLICE("X-THING"), &pos));
    ck_assert_ptr_eq(ht_request__header_at(&r, 2), &hs[2]);
    ck_assert_ptr_null(ht_request__header_at(&r, 3));
}
END_TEST

START_TEST(config_defaults) {
    ht_config_t in = { 0 }, c;
    ht_config__resolve(&c, &in);
    ck_assert_uint_eq(c.max_head, HT_CONFIG_DEFAULT_MAX_HEAD);
    ck_assert_uint_eq(c.max_headers, 64);
    ck_assert_uint_eq(c.max_body, 1024 * 1024);
    ck_assert_uint_eq(c.idle_timeout_ms, 60000);
    ck_assert_uint_eq(c.send_buffer_size, 16384);
    in.max_headers = 60000;
    in.send_buffer_size = 10;
    in.header_timeout_ms = 7;
    ht_config__resolve(&c, &in);
    ck_assert_uint_eq(c.max_headers, HT_CONFIG_MAX_HEADERS_LIMIT);
    ck_assert_uint_eq(c.send_buffer_size, HT_CONFIG_MIN_SEND_BUFFER_SIZE);
    ck_assert_uint_eq(c.header_timeout_ms, 7);
}
END_TEST

int main(void) {
    Suite* s = suite_create("response");
    TCase* t = tcase_create("core");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, date_format);
    tcase_add_test(t, text_response);
    tcase_add_test(t, headers_and_close);
    tcase_add_test(t, http10_keep_alive_and_json);
    tcase_add_test(t, head_has_length_no_body);
    tcase_add_test(t, no_length_for_204);
    tcase_add_test(t, status_only_gets_length_zero);
    tcase_add_test(t, unknown_status_and_error_page);
    tcase_add_test(t, header_validation);
    tcase_add_test(t, nothing_built_is_500);
    tcase_add_test(t, head_too_large_is_500);
    tcase_add_test(t, pipelined_responses_and_large_body);
    tcase_add_test(t, body_ref_not_copied);
    tcase_add_test(t, continue_line);
    tcase_add_test(t, file_body_head_closes_owned_fd);
    tcase_add_test(t, request_accessors);
    tcase_add_test(t, config_defaults);
    suite_add_tcase(s, t);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
