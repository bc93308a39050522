/* check_response: the response builder (ht_response__serve_file included)
 * and request accessors without a server: responses are built into a send
 * buffer and compared byte for byte. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "out_fixture.h"

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
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__text(&res, 200, "hello from hachettp\n", A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\n" D
                "\r\nhello from hachettp\n");
}
END_TEST

START_TEST(headers_and_close) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, HT_RESF_CLOSE);
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
    ht_response__begin_(&res, OUT, nullptr, DATE, HT_RESF_KEEP_ALIVE);
    ck_assert_int_eq(ht_response__json(&res, 201, "{}", A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n" D
                "Connection: keep-alive\r\n\r\n{}");
}
END_TEST

START_TEST(head_has_length_no_body) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, HT_RESF_HEAD_ONLY);
    ck_assert_int_eq(ht_response__html(&res, 200, "<p>hi</p>", A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 9\r\n" D "\r\n");
}
END_TEST

START_TEST(no_length_for_204) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 204), 0);
    ht_response__finish_(&res); /* no body call: an empty body */
    EXPECT_SENT("HTTP/1.1 204 No Content\r\n" D "\r\n");
}
END_TEST

START_TEST(status_only_gets_length_zero) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 302), 0);
    ck_assert_int_eq(ht_response__header_cstr(&res, "Location", "/x"), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n" D "\r\n");
}
END_TEST

START_TEST(unknown_status_and_error_page) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__error(&res, 404, A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 66\r\n" D
                "\r\n<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1>\n");
    ht_out__reset_(OUT);
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 299), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 299 \r\nContent-Length: 0\r\n" D "\r\n");
}
END_TEST

/* ht_response__error_msg: the message in the HTML page and in the JSON
 * error (an error hook answering with ht_response__error_json), escaped for
 * each; a plain ht_response__error afterwards has none. */
static ht_result_t json_hook_(ht_response_t* res, uint16_t status, void* ud, ht_alloc_t* a) {
    (void) ud;
    return ht_response__error_json(res, status, a);
}

START_TEST(error_with_message) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__error_msg(&res, 400, HT_SLICE("bad <x> & \"y\"\n"), A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 400 Bad Request\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 107\r\n" D
                "\r\n<!doctype html><title>400 Bad Request</title><h1>400 Bad Request</h1>\n"
                "<p>bad &lt;x&gt; &amp; \"y\"&#x0a;</p>\n");
    ht_out__reset_(OUT);
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ht_response__on_error(&res, json_hook_, nullptr);
    ck_assert_int_eq(ht_response__error_msg(&res, 400, HT_SLICE("q 'a': \"b\\c\"\t"), A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 71\r\n" D
                "\r\n{\"error\":\"Bad Request\",\"status\":400,\"message\":\"q 'a': \\\"b\\\\c\\\"\\u0009\"}\n");
    ht_out__reset_(OUT);
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__error_json(&res, 404, A), 0); /* no message: as before */
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 35\r\n" D
                "\r\n{\"error\":\"Not Found\",\"status\":404}\n");
}
END_TEST

START_TEST(header_validation) {
    ck_assert(ht_response__valid_header_name(HT_SLICE("X-Ok_1.~!")));
    ck_assert(!ht_response__valid_header_name(HT_SLICE("")));
    ck_assert(!ht_response__valid_header_name(HT_SLICE("Bad Name")));
    ck_assert(!ht_response__valid_header_name(HT_SLICE("Bad:")));
    ck_assert(!ht_response__valid_header_name(HT_SLICE("X\r\nY")));
    /* Every byte against RFC 9110's tchar, written out here (the builder
     * uses the parser's table: a name it accepts is one the parser takes). */
    for (int b = 0; b < 256; b++) {
        char name[2] = { 'X', (char) b };
        bool tchar = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ||
                     (b != 0 && strchr("!#$%&'*+-.^_`|~", b) != nullptr);
        ck_assert_msg(ht_response__valid_header_name(ht_slice__from(name, 2)) == tchar, "byte 0x%02x", b);
    }
    ck_assert(ht_response__valid_header_value(HT_SLICE("a\tb c \x80\xff")));
    ck_assert(ht_response__valid_header_value(HT_SLICE("")));
    ck_assert(!ht_response__valid_header_value(HT_SLICE("a\r\nSet-Cookie: x")));
    ck_assert(!ht_response__valid_header_value(HT_SLICE("a\nb")));
    ck_assert(!ht_response__valid_header_value(HT_SLICE("a\rb")));
    ck_assert(!ht_response__valid_header_value(ht_slice__from("a\0b", 3)));
    ck_assert(!ht_response__valid_header_value(HT_SLICE("a\x7f")));

    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
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
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n" D "\r\n");
}
END_TEST

START_TEST(head_too_large_is_500) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
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

/* The status and a block of serialized fields at once (a cached file's
 * head): the same bytes as ht_response__status + one header_own_ per
 * field, for 200 and any other status; the state rules of status. */
START_TEST(status_and_serialized_fields) {
    ht_slice_t lines = HT_SLICE("Content-Type: text/plain\r\nETag: \"1\"\r\n");
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__status_fields_own_(&res, 200, lines), 0);
    ck_assert_uint_eq(ht_response__get_status(&res), 200);
    ck_assert_int_eq(ht_response__header_own_(&res, HT_SLICE("X"), HT_SLICE("y")), 0);
    ck_assert_int_eq(ht_response__body(&res, "hi", 2, A), 0);
    ht_response__finish_(&res);
    ht_response__begin_(&res, OUT, nullptr, DATE, HT_RESF_CLOSE);
    ck_assert_int_eq(ht_response__status_fields_own_(&res, 206, lines), 0);
    ck_assert_int_eq(ht_response__status_fields_own_(&res, 200, lines), HT_E_RESPONSE_STATE);
    ck_assert_int_eq(ht_response__body(&res, "h", 1, A), 0);
    ht_response__finish_(&res);
    EXPECT_SENT("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"1\"\r\nX: y\r\nContent-Length: 2\r\n" D
                "\r\nhi"
                "HTTP/1.1 206 Partial Content\r\nContent-Type: text/plain\r\nETag: \"1\"\r\nContent-Length: 1\r\n" D
                "Connection: close\r\n\r\nh");
    /* Fields that do not fit (a fixed buffer here: no growth) fail the
     * response, which then becomes a 500. */
    ht_out__reset_(OUT);
    char big[4096];
    memset(big, 'v', sizeof big);
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__status_fields_own_(&res, 200, ht_slice__from(big, 4090)), -ENOBUFS);
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
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__text(&res, 200, "a", A), 0);
    ht_response__finish_(&res);
    size_t n = 10000;
    char* body = malloc(n);
    for (size_t i = 0; i < n; i++) body[i] = (char) ('a' + i % 26);
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
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
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
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
    ht_response__begin_(&res, OUT, nullptr, DATE, HT_RESF_HEAD_ONLY);
    ck_assert_int_eq(ht_response__status(&res, 200), 0);
    ck_assert_int_eq(ht_response__file(&res, f, 0, 1234, true), 0);
    ht_response__finish_(&res);
    ck_assert_int_eq(fcntl(f, F_GETFD), -1); /* closed: HEAD sends no body */
    EXPECT_SENT("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n" D "\r\n");
    ht_out__reset_(OUT);
    /* GET: queued after the head; reset (a failed connection) closes it */
    f = open("/dev/null", O_RDONLY);
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
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
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
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

START_TEST(body_bytes_for_the_log) {
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_uint_eq(ht_response__body_bytes(&res), 0);
    ck_assert_int_eq(ht_response__text(&res, 200, "hello", A), 0);
    ck_assert_uint_eq(ht_response__body_bytes(&res), 5);
    ht_response__finish_(&res);
    ht_response__begin_(&res, OUT, nullptr, DATE, HT_RESF_HEAD_ONLY); /* HEAD: nothing on the wire */
    ck_assert_int_eq(ht_response__text(&res, 200, "hello", A), 0);
    ck_assert_uint_eq(ht_response__body_bytes(&res), 0);
    ht_response__finish_(&res);
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 304), 0);
    ck_assert_int_eq(ht_response__body(&res, "xyz", 3, A), 0);
    ck_assert_uint_eq(ht_response__body_bytes(&res), 0);
    ht_response__finish_(&res);
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__error(&res, 404, A), 0);
    size_t page = strlen("<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1>\n");
    ck_assert_uint_eq(ht_response__body_bytes(&res), page);
    ht_response__finish_(&res);
    ht_out__reset_(OUT);
    int f = open("/dev/null", O_RDONLY);
    ht_response__begin_(&res, OUT, nullptr, DATE, 0);
    ck_assert_int_eq(ht_response__status(&res, 200), 0);
    ck_assert_int_eq(ht_response__file(&res, f, 0, 70000, true), 0);
    ck_assert_uint_eq(ht_response__body_bytes(&res), 70000);
    ht_response__finish_(&res);
}
END_TEST

START_TEST(peer_without_a_connection) {
    ht_request_t r = { .method_id_ = HT_METHOD_GET };
    ht_addr_t a = { .family = HT_ADDR_IPV4, .port = 1 };
    ck_assert_int_eq(ht_request__peer(&r, &a), -ENOTCONN);
    ck_assert_uint_eq(a.family, HT_ADDR_NONE);
    char s[HT_ADDR_STRLEN];
    ck_assert_uint_eq(ht_addr__format(&a, s), 1);
    ck_assert_str_eq(s, "-");
    a = (ht_addr_t){ .family = HT_ADDR_IPV4, .port = 80, .addr = { 192, 0, 2, 33 } };
    ck_assert_uint_eq(ht_addr__format(&a, s), 10);
    ck_assert_str_eq(s, "192.0.2.33");
    a = (ht_addr_t){ .family = HT_ADDR_IPV6, .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
    ht_addr__format(&a, s);
    ck_assert_str_eq(s, "2001:db8::1");
    memset(a.addr, 0xff, 16);
    ck_assert_uint_eq(ht_addr__format(&a, s), 39); /* the longest form fits */
}
END_TEST

/* ---- ht_response__serve_file, without a server ---- */

static char DOC[64];

static void doc_put(const char* rel, const char* data, size_t n) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", DOC, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, n), (ssize_t) n);
    close(fd);
}
static void doc_mkdir(const char* rel) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", DOC, rel);
    ck_assert_int_eq(mkdir(p, 0755), 0);
}
static void doc_setup(void) {
    setup();
    strcpy(DOC, "/tmp/ht_serve_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(DOC));
    doc_put("a.txt", "hello\n", 6);
    doc_mkdir("sub");
    doc_put("sub/index.html", "<p>i</p>", 8);
    doc_mkdir("list");
    doc_put("list/x.txt", "x", 1);
    char* big = malloc(100000);
    for (int i = 0; i < 100000; i++) big[i] = (char) ('a' + i % 26);
    doc_put("big.txt", big, 100000);
    free(big);
}
static void doc_teardown(void) {
    static const char* const rels[] = { "a.txt", "sub/index.html", "sub", "list/x.txt", "list", "big.txt", "" };
    for (size_t i = 0; i < HT_ARRAY_LEN(rels); i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", DOC, rels[i]);
        (void) remove(p);
    }
    teardown();
}

typedef struct served {
    char*    text;    /* head + copied body */
    uint16_t status;
    uint64_t body_bytes;
    ht_result_t r;
} served_t;

/* Serves one request (method, raw path, query, n header fields) into a
 * fresh send buffer. */
static served_t serve_n(ht_method_t m, const char* path, const char* query, ht_header_t* h, uint16_t n,
                        const ht_fs_root_t* root, const ht_serve_file_options_t* opt) {
    ht_out__reset_(OUT);
    ht_request_t rq = { .method_id_ = (uint8_t) m, .path_ = ht_slice__from_cstr(path),
                        .query_ = ht_slice__from_cstr(query ? query : ""), .headers_ = h,
                        .num_headers_ = n };
    ht_response_t res;
    ht_response__begin_(&res, OUT, nullptr, DATE, m == HT_METHOD_HEAD ? HT_RESF_HEAD_ONLY : 0);
    served_t s = { .r = ht_response__serve_file(&res, &rq, root, opt, A) };
    s.status = ht_response__get_status(&res);
    s.body_bytes = ht_response__body_bytes(&res);
    ht_response__finish_(&res);
    s.text = sent(nullptr);
    return s;
}

/* ... with one optional header field. */
static served_t serve(ht_method_t m, const char* path, const char* query, ht_header_t* h,
                      const ht_fs_root_t* root, const ht_serve_file_options_t* opt) {
    return serve_n(m, path, query, h, h ? 1 : 0, root, opt);
}

START_TEST(serve_file_mounted) {
    ht_fs_root_t root;
    ck_assert_int_eq(ht_fs__root_open(&root, DOC, 0, nullptr, nullptr), 0);
    ht_serve_file_options_t opt = { .mount = HT_SLICE("/static") };
    served_t s = serve(HT_METHOD_GET, "/static/a.txt", nullptr, nullptr, &root, &opt);
    ck_assert_int_eq(s.r, 0);
    ck_assert_uint_eq(s.status, 200);
    ck_assert_uint_eq(s.body_bytes, 6);
    ck_assert_ptr_nonnull(strstr(s.text, "Content-Type: text/plain; charset=utf-8\r\n"));
    ck_assert_ptr_nonnull(strstr(s.text, "\r\n\r\nhello\n"));
    free(s.text);
    /* The bare prefix: to its '/' form, query kept. */
    s = serve(HT_METHOD_GET, "/static", "x=1", nullptr, &root, &opt);
    ck_assert_uint_eq(s.status, 301);
    ck_assert_ptr_nonnull(strstr(s.text, "\r\nLocation: /static/?x=1\r\n"));
    free(s.text);
    /* A directory below it: the plan's Location, with the prefix. */
    s = serve(HT_METHOD_GET, "/static/sub", "q", nullptr, &root, &opt);
    ck_assert_uint_eq(s.status, 301);
    ck_assert_ptr_nonnull(strstr(s.text, "\r\nLocation: /static/sub/?q\r\n"));
    free(s.text);
    s = serve(HT_METHOD_GET, "/static/sub/", nullptr, nullptr, &root, &opt);
    ck_assert_uint_eq(s.status, 200);
    ck_assert_ptr_nonnull(strstr(s.text, "\r\n\r\n<p>i</p>"));
    free(s.text);
    s = serve(HT_METHOD_GET, "/static/list/", nullptr, nullptr, &root, &opt);
    ck_assert_uint_eq(s.status, 200);
    ck_assert_ptr_nonnull(strstr(s.text, "<a href=\"x.txt\">x.txt</a>"));
    ck_assert_uint_gt(s.body_bytes, 100);
    free(s.text);
    /* Outside the prefix, or the prefix as part of a longer segment: 404. */
    static const char* const outside[] = { "/a.txt", "/staticx/a.txt", "/stati", "/", "/Static/a.txt" };
    for (size_t i = 0; i < HT_ARRAY_LEN(outside); i++) {
        s = serve(HT_METHOD_GET, outside[i], nullptr, nullptr, &root, &opt);
        ck_assert_msg(s.status == 404, "%s: %u", outside[i], s.status);
        free(s.text);
    }
    /* No climbing out of the mount either. */
    s = serve(HT_METHOD_GET, "/static/../static/a.txt", nullptr, nullptr, &root, &opt);
    ck_assert_uint_eq(s.status, 400);
    free(s.text);
    /* Other methods: 405 + Allow, on the bare prefix too. */
    s = serve(HT_METHOD_POST, "/static", nullptr, nullptr, &root, &opt);
    ck_assert_uint_eq(s.status, 405);
    ck_assert_ptr_nonnull(strstr(s.text, "\r\nAllow: GET, HEAD\r\n"));
    free(s.text);
    /* "/static/" and "" / "/" (the whole URL space) as mounts. */
    opt.mount = HT_SLICE("/static/");
    s = serve(HT_METHOD_HEAD, "/static/a.txt", nullptr, nullptr, &root, &opt);
    ck_assert_uint_eq(s.status, 200);
    ck_assert_uint_eq(s.body_bytes, 0);
    ck_assert_ptr_nonnull(strstr(s.text, "\r\nContent-Length: 6\r\n"));
    ck_assert_ptr_null(strstr(s.text, "hello"));
    free(s.text);
    opt.mount = HT_SLICE("/");
    s = serve(HT_METHOD_GET, "/sub", nullptr, nullptr, &root, &opt);
    ck_assert_ptr_nonnull(strstr(s.text, "\r\nLocation: /sub/\r\n"));
    free(s.text);
    s = serve(HT_METHOD_GET, "/a.txt", nullptr, nullptr, &root, nullptr);
    ck_assert_uint_eq(s.status, 200);
    free(s.text);
    ht_fs__root_close(&root);
}
END_TEST

/* Through a cache: small files from memory, large ones zero-copy from a dup
 * of the cached fd (never the cache's own), HEAD without any fd. */
START_TEST(serve_file_cached) {
    ht_fs_root_t root;
    ck_assert_int_eq(ht_fs__root_open(&root, DOC, 0, nullptr, nullptr), 0);
    ht_fs_cache_t cache;
    ck_assert_int_eq(ht_fs__cache_init(&cache, 16, 60000, 0, A), 0);
    ht_serve_file_options_t opt = { .cache = &cache };
    for (int i = 0; i < 3; i++) {
        served_t s = serve(HT_METHOD_GET, "/a.txt", nullptr, nullptr, &root, &opt);
        ck_assert_uint_eq(s.status, 200);
        ck_assert_ptr_nonnull(strstr(s.text, "\r\n\r\nhello\n"));
        free(s.text);
    }
    ck_assert_uint_eq(cache.hits, 2);
    served_t s = serve(HT_METHOD_GET, "/big.txt", nullptr, nullptr, &root, &opt);
    ck_assert_uint_eq(s.status, 200);
    ck_assert_uint_eq(s.body_bytes, 100000);
    free(s.text);
    s = serve(HT_METHOD_GET, "/big.txt", nullptr, nullptr, &root, &opt); /* a hit */
    ck_assert_uint_eq(cache.hits, 3);
    ck_assert_int_eq(OUT->file_state, HT_OUT_FILE_PENDING);
    ck_assert_uint_eq(OUT->file_len, 100000);
    ck_assert(OUT->file_own);
    int sent_fd = OUT->file;
    char c[4];
    ck_assert_int_eq(pread(sent_fd, c, 4, 26), 4);
    ck_assert(memcmp(c, "abcd", 4) == 0);
    free(s.text);
    ht_out__reset_(OUT); /* closes the response's fd, not the cache's */
    ck_assert_int_eq(fcntl(sent_fd, F_GETFD), -1);
    ht_fs_request_t q = { .method = HT_METHOD_GET, .path = HT_SLICE("/big.txt") };
    ht_fs_plan_t plan;
    struct timespec ts; /* serve_file's clock without a loop */
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    uint64_t hits = cache.hits;
    ht_fs__plan_cached(&cache, &root, &q, (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &plan);
    ck_assert_uint_eq(cache.hits, hits + 1); /* the same entry, its fd still open */
    ck_assert(plan.fd_borrowed);
    ck_assert_int_ne(plan.fd, sent_fd);
    ck_assert_int_eq(pread(plan.fd, c, 4, 0), 4);
    ht_fs__plan_release(&plan);
    /* A cached file's head is the uncached one, byte for byte, on the miss
     * that fills the entry and on hits (one copied block: plan.c's head),
     * and so are the answers to requests that are not plain. */
    ht_fs_cache_t fresh;
    ck_assert_int_eq(ht_fs__cache_init(&fresh, 16, 60000, 0, A), 0);
    ht_serve_file_options_t cached = { .cache = &fresh };
    served_t u = serve(HT_METHOD_GET, "/a.txt", nullptr, nullptr, &root, nullptr);
    ck_assert_ptr_nonnull(strstr(u.text, "\r\nETag: \""));
    ck_assert_ptr_nonnull(strstr(u.text, "\r\nAccept-Ranges: bytes\r\nContent-Length: 6\r\n"));
    char etag[80];
    const char* tag = strstr(u.text, "ETag: ") + 6;
    ck_assert_uint_lt(strcspn(tag, "\r"), sizeof etag);
    snprintf(etag, sizeof etag, "%.*s", (int) strcspn(tag, "\r"), tag);
    ht_header_t inm = { HT_SLICE("If-None-Match"), ht_slice__from_cstr(etag), HT_HEADER_IF_NONE_MATCH };
    ht_header_t rng = { HT_SLICE("Range"), HT_SLICE("bytes=1-2"), HT_HEADER_RANGE };
    ht_header_t* variants[] = { nullptr, &inm, &rng };
    for (size_t v = 0; v < HT_ARRAY_LEN(variants); v++)
        for (int m = 0; m < 2; m++) {
            ht_method_t meth = m ? HT_METHOD_HEAD : HT_METHOD_GET;
            served_t want = serve(meth, "/a.txt", nullptr, variants[v], &root, nullptr);
            for (int i = 0; i < 2; i++) { /* the miss (first GET), then hits */
                served_t got = serve(meth, "/a.txt", nullptr, variants[v], &root, &cached);
                ck_assert_str_eq(got.text, want.text);
                ck_assert_uint_eq(got.status, want.status);
                free(got.text);
            }
            free(want.text);
        }
    ck_assert_uint_eq(fresh.misses, 1);
    /* Among several fields, each the plan reads is found, and of a repeated
     * one the first counts (as ht_request__header's). */
    ht_header_t host = { HT_SLICE("Host"), HT_SLICE("x"), HT_HEADER_HOST };
    ht_header_t ae = { HT_SLICE("Accept-Encoding"), HT_SLICE("gzip"), HT_HEADER_ACCEPT_ENCODING };
    ht_header_t inm_no = { HT_SLICE("If-None-Match"), HT_SLICE("\"other\""), HT_HEADER_IF_NONE_MATCH };
    ht_header_t several[][4] = { { host, rng, ae, inm_no }, { inm, host, inm_no, ae }, { host, inm_no, inm, rng } };
    uint16_t want_status[] = { 206, 304, 206 };
    for (size_t v = 0; v < HT_ARRAY_LEN(several); v++)
        for (int through = 0; through < 2; through++) {
            served_t got = serve_n(HT_METHOD_GET, "/a.txt", nullptr, several[v], 4, &root, through ? &cached : nullptr);
            ck_assert_msg(got.status == want_status[v], "%zu: %u", v, got.status);
            if (got.status == 206) ck_assert_ptr_nonnull(strstr(got.text, "\r\nContent-Range: bytes 1-2/6\r\n"));
            free(got.text);
        }
    free(u.text);
    ht_fs__cache_free(&fresh);
    ht_header_t range = { HT_SLICE("Range"), HT_SLICE("bytes=99990-"), HT_HEADER_RANGE };
    s = serve(HT_METHOD_GET, "/big.txt", nullptr, &range, &root, &opt);
    ck_assert_uint_eq(s.status, 206);
    ck_assert_ptr_nonnull(strstr(s.text, "\r\nContent-Range: bytes 99990-99999/100000\r\n"));
    ck_assert_ptr_nonnull(strstr(s.text, "\r\n\r\nuvwxyzabcd")); /* small: copied (99990 % 26 = 20: u) */
    free(s.text);
    int fds_before = open("/dev/null", O_RDONLY);
    close(fds_before);
    s = serve(HT_METHOD_HEAD, "/big.txt", nullptr, nullptr, &root, &opt);
    ck_assert_uint_eq(s.status, 200);
    ck_assert_int_eq(OUT->file_state, HT_OUT_FILE_NONE);
    ck_assert_ptr_nonnull(strstr(s.text, "\r\nContent-Length: 100000\r\n"));
    free(s.text);
    int fds_after = open("/dev/null", O_RDONLY); /* no descriptor left behind */
    ck_assert_int_eq(fds_after, fds_before);
    close(fds_after);
    ht_fs__cache_free(&cache);
    ht_fs__root_close(&root);
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
    tcase_add_test(t, error_with_message);
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
    tcase_add_test(t, status_and_serialized_fields);
    tcase_add_test(t, pipelined_responses_and_large_body);
    tcase_add_test(t, body_ref_not_copied);
    tcase_add_test(t, continue_line);
    tcase_add_test(t, file_body_head_closes_owned_fd);
    tcase_add_test(t, request_accessors);
    tcase_add_test(t, config_defaults);
    tcase_add_test(t, body_bytes_for_the_log);
    tcase_add_test(t, peer_without_a_connection);
    suite_add_tcase(s, t);
    TCase* f = tcase_create("serve_file");
    tcase_add_checked_fixture(f, doc_setup, doc_teardown);
    tcase_add_test(f, serve_file_mounted);
    tcase_add_test(f, serve_file_cached);
    suite_add_tcase(s, f);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
