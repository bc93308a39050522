/* check_access_log: ht/log.h and ht/metrics.h from the server's side
 * (issue 19 items 5 and 6). The log:
 * every response is logged, the handler's, a deferred one when it ends, a
 * deferred one the server answers itself at its deadline (504), and the
 * server's own early answers (400); lines are written at the latest when
 * the acceptor is finalized; a config without a log logs nothing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"

static ht_timer_t g_timer;
static ht_response_t* g_later;

static void on_timer(ht_loop_t* loop, ht_timer_t* t) {
    (void) loop, (void) t;
    (void) ht_response__text(g_later, 201, "later\n", &S.count.base);
    ht_response__release(g_later);
    g_later = nullptr;
}

static void on_cancel(ht_response_t* res, ht_result_t why, void* ud) {
    (void) why, (void) ud;
    ht_response__release(res);
}

static void handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) cfg;
    ht_slice_t p = ht_request__path(req);
    if (ht_slice__eq(p, ht_slice__from_cstr("/later"))) { /* completed 20 ms later */
        g_later = ht_response__defer(res);
        ck_assert_ptr_nonnull(g_later);
        ht_loop__timer_start(ht_response__loop(g_later), &g_timer, 20, on_timer);
        return;
    }
    if (ht_slice__eq(p, ht_slice__from_cstr("/never"))) { /* the server answers at the deadline */
        ht_response_t* d = ht_response__defer(res);
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(ht_response__timeout(d, 50, 504), 0);
        ht_response__on_cancel(d, on_cancel, nullptr);
        return;
    }
    (void) ht_response__text(res, 200, "now\n", a);
}

static char g_path[64];

static void one(const char* raw, int want) {
    int fd = client();
    send_str(fd, raw);
    rd_t r;
    rd_init(&r, fd);
    resp_t p;
    ck_assert(read_resp(&r, &p, false));
    ck_assert_int_eq(p.status, want);
    resp_free(&p);
    rd_free(&r);
    close(fd);
}

static size_t slurp(char* buf, size_t cap) {
    FILE* f = fopen(g_path, "r");
    if (!f) return buf[0] = '\0', 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

START_TEST(every_response_logged) {
    strcpy(g_path, "/tmp/ht_alog_XXXXXX");
    int tfd = mkstemp(g_path);
    ck_assert_int_ge(tfd, 0);
    close(tfd);
    ht_access_log_t* log = nullptr;
    ck_assert_int_eq(ht_access_log__open(&log, g_path, HT_LOG_JSON), 0);
    ht_config_t cfg = { .access_log = log };
    start_cfg(&cfg);
    one("GET /now HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 200);
    one("GET /later?x=1 HTTP/1.1\r\nHost: t\r\nUser-Agent: ua\r\nConnection: close\r\n\r\n", 201);
    one("GET /never HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 504);
    one("\x01\x02 nonsense\r\n\r\n", 400);
    stop(); /* finalize writes out what is buffered */
    char text[8192];
    slurp(text, sizeof text);
    static const char* const want[] = {
        "\"target\":\"/now\",\"proto\":\"HTTP/1.1\",\"status\":200,\"bytes\":4,",
        "\"target\":\"/later?x=1\",\"proto\":\"HTTP/1.1\",\"status\":201,\"bytes\":6,",
        "\"target\":\"/never\",\"proto\":\"HTTP/1.1\",\"status\":504,",
        "\"method\":null,\"target\":null,\"proto\":null,\"status\":400,",
    };
    char* line = text;
    for (size_t i = 0; i < HT_ARRAY_LEN(want); i++) {
        char* end = strchr(line, '\n');
        ck_assert_msg(end != nullptr, "line %zu missing: %s", i, text);
        *end = '\0';
        ck_assert_msg(strstr(line, want[i]) != nullptr, "line %zu: %s", i, line);
        ck_assert_msg(strstr(line, "\"client\":\"127.0.0.1\"") != nullptr, "%s", line);
        line = end + 1;
    }
    ck_assert_str_eq(line, "");
    /* The deferred one was timed from its dispatch (20 ms timer). */
    slurp(text, sizeof text);
    ck_assert_msg(strstr(text, "\"user_agent\":\"ua\"") != nullptr, "%s", text);
    const char* d = strstr(strstr(text, "/later"), "\"duration_us\":");
    ck_assert_int_ge(atoi(d + 14), 15000);
    ht_access_log__close(log);
    unlink(g_path);
}
END_TEST

/* The same responses counted (ht/metrics.h), with and without a log. */
START_TEST(metrics_count_every_response) {
    ht_metrics_t* m = nullptr;
    ck_assert_int_eq(ht_metrics__create(&m), 0);
    ht_config_t cfg = { .metrics = m };
    start_cfg(&cfg);
    static char text[65536];
    /* Serving and not yet handed a connection: in the scrape, at zero. */
    ck_assert_uint_lt(ht_metrics__render(m, text, sizeof text), sizeof text);
    ck_assert_msg(strstr(text, "ht_open_connections{worker=\"0\"} 0\n"), "%s", text);
    ck_assert_msg(strstr(text, "ht_accepted_total{worker=\"0\"} 0\n"), "%s", text);
    one("GET /now HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 200);
    one("GET /later HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 201);
    one("POST /never HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 504);
    one("\x01\x02 nonsense\r\n\r\n", 400);
    stop();
    size_t n = ht_metrics__render(m, text, sizeof text);
    ck_assert_uint_lt(n, sizeof text);
    ck_assert_uint_eq(strlen(text), n);
    ck_assert_msg(strstr(text, "ht_requests_total{worker=\"0\",code=\"2xx\",method=\"GET\"} 2\n"), "%s", text);
    ck_assert_msg(strstr(text, "ht_requests_total{worker=\"0\",code=\"5xx\",method=\"POST\"} 1\n"), "%s", text);
    ck_assert_msg(strstr(text, "ht_requests_total{worker=\"0\",code=\"4xx\",method=\"none\"} 1\n"), "%s", text);
    ck_assert_msg(strstr(text, "ht_request_duration_seconds_count{worker=\"0\"} 4\n"), "%s", text);
    ck_assert_msg(strstr(text, "ht_deferred_total{worker=\"0\"} 2\n"), "%s", text);
    ck_assert_msg(strstr(text, "ht_cut_off_total{worker=\"0\"} 1\n"), "%s", text);
    /* The deferred 201 took its 20 ms: at most 2 responses under 10 ms. */
    ck_assert_msg(strstr(text, "ht_request_duration_seconds_bucket{worker=\"0\",le=\"0.01\"} 2\n") ||
                  strstr(text, "ht_request_duration_seconds_bucket{worker=\"0\",le=\"0.01\"} 1\n"), "%s", text);
    /* Too small a buffer: the length needed, nothing past cap. */
    char small[16];
    ck_assert_uint_eq(ht_metrics__render(m, small, sizeof small), n);
    ht_metrics__free(m);
}
END_TEST

START_TEST(formats_and_reopen) {
    ht_log_format_t f;
    ck_assert_int_eq(ht_log_format__parse("clf", &f), 0);
    ck_assert_int_eq(f, HT_LOG_COMMON);
    ck_assert_int_eq(ht_log_format__parse("combined", &f), 0);
    ck_assert_int_eq(f, HT_LOG_COMBINED);
    ck_assert_int_eq(ht_log_format__parse("json", &f), 0);
    ck_assert_int_eq(f, HT_LOG_JSON);
    ck_assert_int_eq(ht_log_format__parse("xml", &f), -EINVAL);
    ht_access_log_t* log = nullptr;
    ck_assert_int_lt(ht_access_log__open(&log, "/nonexistent-dir/x.log", HT_LOG_COMMON), 0);
    ck_assert_ptr_null(log);
    ck_assert_int_eq(ht_access_log__open(&log, "-", HT_LOG_COMMON), 0);
    ck_assert_int_eq(ht_access_log__reopen(log), 0); /* stdout: nothing to do */
    ht_access_log__close(log);
}
END_TEST

int main(void) {
    Suite* s = suite_create("access_log");
    TCase* tc = tcase_create("access_log");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_response_logged);
    tcase_add_test(tc, formats_and_reopen);
    tcase_add_test(tc, metrics_count_every_response);
    suite_add_tcase(s, tc);
    SRunner* sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
