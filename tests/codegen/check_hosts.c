/* Host blocks end to end (hosts/routes.ht): the generated dispatch served by
 * a real server on this build's backend. The Host header (any case, a port
 * and a final '.' dropped) selects one host block, exact names before
 * wildcards and the longest wildcard suffix first; a path that no route of
 * that block matches goes to the routes outside blocks; 404, 405 + Allow,
 * OPTIONS and the trailing-slash redirect follow the host's routes. */
#include "hst_routes.h"

#include <check.h>

#include <ht/ht.h>

#include "support/ht_test.h"

#include "server/srv_fixture.h"

/* Every handler answers its name (and api_user its id). */
static void name_(ht_response_t* res, ht_alloc_t* a, const char* name) { (void) ht_response__text(res, 200, name, a); }

void hst_ping(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_ping_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "ping");
}

void hst_ping_post(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_ping_post_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "ping_post");
}

void hst_only(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_only_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "only");
}

void hst_files(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_files_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "files");
}

void hst_api_ping(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_api_ping_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "api_ping");
}

void hst_api_user(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                  const hst_api_user_params_t* p) {
    (void) ctx, (void) req;
    char s[64];
    snprintf(s, sizeof s, "api_user %llu", (unsigned long long) p->id);
    name_(res, a, s);
}

void hst_api_stats(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_api_stats_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "api_stats");
}

void hst_wild_ping(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_wild_ping_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "wild_ping");
}

void hst_wild_put(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_wild_put_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "wild_put");
}

void hst_eu_ping(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_eu_ping_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "eu_ping");
}

void hst_www_home(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_www_home_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "www_home");
}

void hst_api_ping2(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const hst_api_ping2_params_t* p) {
    (void) ctx, (void) req, (void) p;
    name_(res, a, "api_ping2");
}

static void handler(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    hst__dispatch(cfg, req, res, a);
}

/* method target on a new connection with Host: host (nullptr: none, HTTP/1.0). */
static resp_t ask_(const char* method, const char* target, const char* host) {
    char raw[512];
    if (host)
        snprintf(raw, sizeof raw, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n", method, target, host);
    else
        snprintf(raw, sizeof raw, "%s %s HTTP/1.0\r\n\r\n", method, target);
    int fd = client();
    send_str(fd, raw);
    rd_t r;
    rd_init(&r, fd);
    resp_t out;
    ck_assert_msg(read_resp(&r, &out, strcmp(method, "HEAD") == 0), "no response to %s", raw);
    rd_free(&r);
    close(fd);
    return out;
}

static void expect_(const char* method, const char* target, const char* host, int status, const char* body) {
    resp_t p = ask_(method, target, host);
    ck_assert_msg(p.status == status, "%s %s (Host %s): %d, want %d", method, target, host, p.status, status);
    if (body) ck_assert_msg(strcmp(p.body, body) == 0, "%s %s (Host %s): '%s', want '%s'", method, target, host, p.body, body);
    resp_free(&p);
}

static void expect_header_(const char* method, const char* target, const char* host, int status, const char* line) {
    resp_t p = ask_(method, target, host);
    ck_assert_int_eq(p.status, status);
    ck_assert_msg(strstr(p.head, line) != nullptr, "%s %s (Host %s): no '%s' in\n%s", method, target, host, line, p.head);
    resp_free(&p);
}

/* URL builders write the path alone, a host block's route included (its
   pseudo-segment is the matcher's, never the URL's). */
START_TEST(test_host_urls) {
    char buf[64];
    ck_assert_int_eq(hst__url_api_user(buf, sizeof buf, 7), 11);
    ck_assert_str_eq(buf, "/v1/users/7");
    ck_assert_int_eq(hst__url_ping(buf, sizeof buf), 8);
    ck_assert_str_eq(buf, "/v1/ping");
    ck_assert_int_eq(hst__url_wild_ping(buf, sizeof buf), 8);
    ck_assert_str_eq(buf, "/v1/ping");
    ck_assert_int_eq(hst__url_files(buf, sizeof buf, HT_SLICE("a b/c")), 14);
    ck_assert_str_eq(buf, "/files/a%20b/c");
}
END_TEST

START_TEST(test_host_selects_routes) {
    start();
    expect_("GET", "/v1/ping", "api.example.com", 200, "api_ping");
    expect_("GET", "/v1/ping", "API.Example.com:8080", 200, "api_ping");
    expect_("GET", "/v1/ping", "api.example.com.", 200, "api_ping");
    expect_("GET", "/v2/ping", "api.example.com", 200, "api_ping2"); /* a second block */
    expect_("GET", "/v1/users/42", "api.example.com", 200, "api_user 42");
    expect_("GET", "/admin/stats", "api.example.com", 200, "api_stats"); /* a group inside */
    /* Wildcards: one or more labels, not the suffix itself; the longest suffix first. */
    expect_("GET", "/v1/ping", "x.example.com", 200, "wild_ping");
    expect_("GET", "/v1/ping", "a.b.EXAMPLE.com", 200, "wild_ping");
    expect_("GET", "/v1/ping", "eu.example.com", 200, "wild_ping");
    expect_("GET", "/v1/ping", "x.eu.example.com:443", 200, "eu_ping");
    expect_("GET", "/v1/ping", "example.com", 200, "ping");
    expect_("GET", "/v1/ping", ".example.com", 200, "ping");
    expect_("GET", "/v1/ping", "x..example.com", 200, "ping");
    expect_("PUT", "/v1/ping", "x.example.com", 200, "wild_put");
    /* An exact name beats a wildcard: www has no /v1/ping, the routes outside do. */
    expect_("GET", "/", "www.example.com", 200, "www_home");
    expect_("GET", "/v1/ping", "www.example.com", 200, "ping");
    /* Unknown hosts and no Host: the routes outside blocks, else 404. */
    expect_("GET", "/v1/ping", "other.org", 200, "ping");
    expect_("POST", "/v1/ping", "other.org", 200, "ping_post");
    expect_("GET", "/v1/ping", nullptr, 200, "ping");
    expect_("GET", "/v1/users/42", "other.org", 404, nullptr);
    expect_("GET", "/", "other.org", 404, nullptr);
    expect_("GET", "/nothing", "api.example.com", 404, nullptr);
    /* A host's block falls back to the routes outside for its other paths. */
    expect_("GET", "/only", "api.example.com", 200, "only");
    expect_("GET", "/files/a/b", "x.eu.example.com", 200, "files");
    expect_("GET", "/static/routes.ht", "api.example.com", 503, nullptr); /* the mount, not opened */
    expect_("GET", "/static/routes.ht", nullptr, 503, nullptr);
    stop();
}
END_TEST

START_TEST(test_host_answers) {
    start();
    /* 405 and OPTIONS follow the host's routes for the path. */
    expect_header_("POST", "/v1/ping", "api.example.com", 405, "\r\nAllow: GET, HEAD, OPTIONS\r\n");
    expect_header_("DELETE", "/v1/ping", "x.example.com", 405, "\r\nAllow: GET, HEAD, PUT, OPTIONS\r\n");
    expect_header_("DELETE", "/v1/ping", "other.org", 405, "\r\nAllow: GET, HEAD, POST, OPTIONS\r\n");
    expect_header_("OPTIONS", "/v1/ping", "x.example.com", 204, "\r\nAllow: GET, HEAD, PUT, OPTIONS\r\n");
    expect_header_("OPTIONS", "/v1/ping", "other.org", 204, "\r\nAllow: GET, HEAD, POST, OPTIONS\r\n");
    /* The trailing-slash redirect names the request's path, not the pseudo-segment. */
    expect_header_("GET", "/v1/ping/", "api.example.com", 308, "\r\nLocation: /v1/ping\r\n");
    expect_header_("GET", "/v1/ping/?q=1", "other.org", 308, "\r\nLocation: /v1/ping?q=1\r\n");
    expect_("HEAD", "/v1/ping", "API.EXAMPLE.COM", 200, "");
    /* Routes outside blocks are not reachable with the pseudo-segment spelled out. */
    expect_("GET", "/%20api.example.com/v1/ping", "other.org", 404, nullptr);
    ck_assert_uint_eq(strlen(hst__routes[HST_ROUTE_API_PING].pattern), strlen("/v1/ping"));
    stop();
}
END_TEST

int main(void) {
    Suite* s = suite_create("hosts");
    TCase* tc = tcase_create("dispatch");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_host_selects_routes);
    tcase_add_test(tc, test_host_urls);
    tcase_add_test(tc, test_host_answers);
    suite_add_tcase(s, tc);
    return ht_test__run(s);
}
