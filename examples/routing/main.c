/* routing — the route compiler's example. routes.ht declares the service;
 * htgen turns it into routing_routes.h (one typed parameter struct and one
 * prototype per handler: routing_NAME, with the context first) and
 * routing__dispatch, the server callback that matches method + path and
 * calls the handlers below. 404, 405 + Allow, OPTIONS, HEAD, the
 * trailing-slash 308, 400 for bad escapes and the per-route body limit (413)
 * are the dispatcher's; the handlers only see requests that are theirs, with
 * parameters decoded and converted.
 *
 *   routing [-p PORT] [-b ADDR] [-r DIR]
 *     -p PORT  port (default 8080; 0 picks one)
 *     -b ADDR  address to bind (default: every interface)
 *     -r DIR   the directory of routes.ht, where the mount directories are
 *              looked up (default: routing_MOUNT_BASE, the path from the
 *              build directory to it)
 * Prints "listening on ADDR:PORT" once ready; SIGINT/SIGTERM stop it.
 */
#include "routing_routes.h"

#include <ht/ht.h>
#include <ht/uri.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sends b as the body with a Content-Type (the builders need a C string;
 * decoded parameters may hold any byte but NUL, so bytes it is). */
static void send_bytes(ht_response_t* res, uint16_t status, const char* type, ht_bytes_t* b,
                       ht_alloc_t* a) {
    ht_response__bytes(res, status, ht_slice__from_cstr(type), b->data, b->len, a);
    ht_bytes__free(b);
}

void routing_home(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                  ht_alloc_t* a, const routing_home_params_t* p) {
    (void) app, (void) req, (void) p;
    ht_response__html(res, 200,
                      "<!doctype html><title>routing</title>\n"
                      "<h1>hachettp routing example</h1>\n<ul>\n"
                      "<li><a href=\"/hello/world\">/hello/world</a>\n"
                      "<li><a href=\"/api/status\">/api/status</a>\n"
                      "<li><a href=\"/search?q=route+compiler&amp;tag=c\">/search</a>\n"
                      "<li><a href=\"/users/42\">/users/42</a>\n"
                      "<li><a href=\"/slow/500\">/slow/500</a>\n"
                      "<li><a href=\"/events\">/events</a>\n"
                      "<li><a href=\"/static/\">/static/</a>\n</ul>\n",
                      a);
}

void routing_hello(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                   ht_alloc_t* a, const routing_hello_params_t* p) {
    (void) app, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "hello, %.*s\n", HT_SLICE_FMT(p->name));
    send_bytes(res, 200, "text/plain; charset=utf-8", &b, a);
}

/* The handlers' context (`context struct routing_app` in routes.ht): what
 * main puts in ht_config_t.user_data reaches every handler as its first
 * parameter, no globals. One loop here, so one thread touches it; a server
 * with several workers shares it between their threads. */
struct routing_app {
    uint64_t requests_seen;
};

void routing_status_json(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                         ht_alloc_t* a, const routing_status_json_params_t* p) {
    (void) req, (void) p;
    char json[96];
    snprintf(json, sizeof json, "{\"status\":\"ok\",\"status_requests\":%" PRIu64 "}\n",
             ++app->requests_seen);
    ht_response__json(res, 200, json, a);
}

/* Appends s percent-decoded (form rules); decoding only shrinks, so s.len
 * bytes suffice. */
static ht_result_t push_decoded(ht_bytes_t* b, ht_slice_t s) {
    if (s.len == 0) return 0;
    char* out = ht_bytes__extend(b, s.len);
    if (!out) return -ENOMEM;
    ht_io_t n = ht_uri__decode(s, out, s.len, HT_URI_DECODE_PLUS);
    if (n < 0) return (ht_result_t) n;
    ht_bytes__truncate(b, b->len - s.len + (size_t) n);
    return 0;
}

/* One "key=value" line per query pair, both decoded (form rules: '+' is a
 * space); a pair without '=' is printed as the bare key; a bad escape: 400. */
void routing_search(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                    ht_alloc_t* a, const routing_search_params_t* p) {
    (void) app, (void) p;
    ht_slice_t query = ht_request__query(req);
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_uri_query_iter_t it;
    ht_slice_t k, v;
    ht_uri__query_iter(&it, query);
    while (ht_uri__query_next(&it, &k, &v)) {
        if (push_decoded(&b, k) != 0) goto bad;
        if (v.ptr && (ht_bytes__push_byte(&b, '=') != 0 || push_decoded(&b, v) != 0)) goto bad;
        ht_bytes__push_byte(&b, '\n');
    }
    send_bytes(res, 200, "text/plain; charset=utf-8", &b, a);
    return;
bad:
    ht_bytes__free(&b);
    ht_response__error(res, 400, a);
}

void routing_user(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                  ht_alloc_t* a, const routing_user_params_t* p) {
    (void) app;
    char json[128];
    if (ht_request__method(req) == HT_METHOD_PUT)
        snprintf(json, sizeof json, "{\"id\":%" PRIu64 ",\"updated\":true,\"bytes\":%zu}\n", p->id,
                 ht_request__body(req).len);
    else
        snprintf(json, sizeof json, "{\"id\":%" PRIu64 ",\"name\":\"user%" PRIu64 "\"}\n", p->id,
                 p->id);
    ht_response__json(res, 200, json, a);
}

void routing_user_delete(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                         ht_alloc_t* a, const routing_user_delete_params_t* p) {
    (void) app, (void) req;
    char text[64];
    snprintf(text, sizeof text, "deleted %" PRIu64 "\n", p->id);
    ht_response__text(res, 200, text, a);
}

void routing_user_new(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                      ht_alloc_t* a, const routing_user_new_params_t* p) {
    (void) app, (void) req, (void) p;
    ht_response__html(res, 200, "<!doctype html><form method=post action=/echo>"
                                "<input name=name><button>create</button></form>\n", a);
}

void routing_user_by_name(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                          ht_alloc_t* a, const routing_user_by_name_params_t* p) {
    (void) app, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "user named %.*s\n", HT_SLICE_FMT(p->name));
    send_bytes(res, 200, "text/plain; charset=utf-8", &b, a);
}

void routing_tag(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                 ht_alloc_t* a, const routing_tag_params_t* p) {
    (void) app, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "tag %.*s\n", HT_SLICE_FMT(p->tag));
    send_bytes(res, 200, "text/plain; charset=utf-8", &b, a);
}

void routing_file_get(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                      ht_alloc_t* a, const routing_file_get_params_t* p) {
    (void) app, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "file [%.*s]\n", HT_SLICE_FMT(p->path));
    send_bytes(res, 200, "text/plain; charset=utf-8", &b, a);
}

/* The body back, with the request's Content-Type (the route's `body 1K`
 * limit was enforced before this runs). */
void routing_echo(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                  ht_alloc_t* a, const routing_echo_params_t* p) {
    (void) app, (void) p;
    ht_slice_t type = ht_request__header(req, HT_HEADER_CONTENT_TYPE);
    if (!type.ptr || !ht_response__valid_header_value(type)) type = HT_SLICE("application/octet-stream");
    ht_slice_t body = ht_request__body(req);
    ht_response__bytes(res, 200, type, body.ptr, body.len, a);
}

void routing_docs(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                  ht_alloc_t* a, const routing_docs_params_t* p) {
    (void) app, (void) req, (void) p;
    ht_response__html(res, 200, "<!doctype html><p>docs: see <a href=\"/static/docs/\">files</a>\n", a);
}

/* ---- Answering later (<ht/response.h>): the handler defers, returns, and
 * the response is completed on the same loop when its work is done. Each
 * deferred request has a `later_t`; whatever cuts the handle off (the
 * route's deadline, the client leaving, a body over its limit, the end of
 * a shutdown's drain) runs later_cut_off, which gives everything back. */
typedef struct later {
    ht_response_t* res; /* the deferred handle: ours until released */
    ht_alloc_t* a;
    ht_timer_t t;
    uint64_t ms;         /* slow: how long */
    uint64_t n;          /* events: sent so far */
    uint64_t bytes, sum; /* upload: received so far */
    char name[96];       /* upload: the slug, copied (the request dies with the handler) */
} later_t;

/* Defers res; nullptr (answered 503) when that is not possible. */
static later_t* later_new(ht_response_t* res, ht_alloc_t* a) {
    ht_response_t* later = ht_response__defer(res);
    if (!later) {
        ht_response__error(res, 503, a);
        return nullptr;
    }
    later_t* l = ht_alloc__calloc(a, 1, sizeof *l);
    if (!l) {
        ht_response__error(later, 503, a);
        ht_response__release(later);
        return nullptr;
    }
    *l = (later_t){ .res = later, .a = a, .t = { .data = l } };
    return l;
}

/* The end of a deferred response: what was built is sent, the handle and
 * the state go back. */
static void later_end(later_t* l) {
    ht_loop__timer_stop(ht_response__loop(l->res), &l->t);
    ht_response__release(l->res);
    ht_alloc__free(l->a, l, sizeof *l);
}

static void later_cut_off(ht_response_t* res, ht_result_t why, void* ud) {
    (void) res, (void) why; /* the server has answered (503/504/413) or the client is gone */
    later_end(ud);
}

static void slow_done(ht_loop_t* loop, ht_timer_t* t) {
    (void) loop;
    later_t* l = t->data;
    char text[64];
    snprintf(text, sizeof text, "slept %" PRIu64 " ms\n", l->ms);
    ht_response__text(l->res, 200, text, l->a);
    later_end(l);
}

/* Answers after {ms} milliseconds, from a timer. The route's `timeout 15s`
 * is the deadline: past it the server answers 503 and cuts the handle off. */
void routing_slow(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                  ht_alloc_t* a, const routing_slow_params_t* p) {
    (void) app, (void) req;
    later_t* l = later_new(res, a);
    if (!l) return;
    l->ms = p->ms < 60000 ? p->ms : 60000; /* the deadline comes first anyway */
    ht_response__on_cancel(l->res, later_cut_off, l);
    ht_loop__timer_start(ht_response__loop(l->res), &l->t, l->ms, slow_done);
}

enum { EVENTS_TOTAL = 10, EVENTS_EVERY_MS = 1000 };

static void events_tick(ht_loop_t* loop, ht_timer_t* t) {
    later_t* l = t->data;
    if (l->n == EVENTS_TOTAL) {
        later_end(l); /* ends the stream */
        return;
    }
    char data[32], id[24];
    snprintf(data, sizeof data, "tick %" PRIu64, l->n + 1);
    snprintf(id, sizeof id, "%" PRIu64, l->n + 1);
    ht_result_t r = ht_response__sse_event(l->res, "tick", id, ht_slice__from_cstr(data));
    if (r != 0 && r != -EAGAIN) { /* -EAGAIN: a slow reader, this tick is dropped */
        later_end(l);
        return;
    }
    l->n++;
    ht_loop__timer_start(loop, t, EVENTS_EVERY_MS, events_tick);
}

/* Server-Sent Events: a `tick` a second, ten of them, then the stream ends;
 * a comment line every 15 s without one keeps proxies from closing it. */
void routing_events(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                    ht_alloc_t* a, const routing_events_params_t* p) {
    (void) app, (void) req, (void) p;
    later_t* l = later_new(res, a);
    if (!l) return;
    ht_response__on_cancel(l->res, later_cut_off, l);
    if (ht_response__sse_begin(l->res, 15000) != 0) {
        later_end(l);
        return;
    }
    ht_loop__timer_start(ht_response__loop(l->res), &l->t, 0, events_tick);
}

static void upload_answer(ht_response_t* res, const char* name, uint64_t bytes, uint64_t sum,
                          ht_alloc_t* a) {
    char json[192];
    snprintf(json, sizeof json, "{\"name\":\"%s\",\"bytes\":%" PRIu64 ",\"sum\":%" PRIu64 "}\n", name,
             bytes, sum);
    ht_response__json(res, 201, json, a);
}

static uint64_t byte_sum(uint64_t sum, ht_slice_t s) {
    for (size_t i = 0; i < s.len; i++) sum += (unsigned char) s.ptr[i];
    return sum;
}

static void upload_piece(ht_response_t* res, ht_slice_t piece, bool last, void* ud) {
    later_t* l = ud;
    l->bytes += piece.len; /* piece is valid during this call only */
    l->sum = byte_sum(l->sum, piece);
    if (!last) return;
    upload_answer(res, l->name, l->bytes, l->sum, l->a);
    later_end(l);
}

/* The body as it arrives (`stream`, up to `body 8G`), counted and summed,
 * never held whole: the handler runs when the head has arrived, defers and
 * asks for the body. Without cfg.body_policy the server reads it whole
 * first, and it is answered the same way from ht_request__body. */
void routing_upload(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                    ht_alloc_t* a, const routing_upload_params_t* p) {
    (void) app;
    char name[96];
    snprintf(name, sizeof name, "%.*s", HT_SLICE_FMT(p->name));
    if (!ht_request__body_pending(req)) {
        ht_slice_t body = ht_request__body(req);
        upload_answer(res, name, body.len, byte_sum(0, body), a);
        return;
    }
    later_t* l = later_new(res, a);
    if (!l) return;
    memcpy(l->name, name, sizeof name);
    ht_response__on_cancel(l->res, later_cut_off, l);
    if (ht_response__read_body(l->res, upload_piece, l) != 0) {
        ht_response__error(l->res, 500, a);
        later_end(l);
    }
}

int main(int argc, char** argv) {
    long port = 8080;
    const char* bind = nullptr;
    const char* base = nullptr;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            char* end;
            port = strtol(argv[++i], &end, 10);
            if (*end || port < 0 || port > 65535) {
                fprintf(stderr, "routing: bad port '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "-b") == 0 && i + 1 < argc) {
            bind = argv[++i];
        } else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
            base = argv[++i];
        } else {
            fprintf(stderr, "usage: routing [-p PORT] [-b ADDR] [-r ROUTES_DIR]\n");
            return 2;
        }
    }
    ht_alloc_t* a = ht_alloc__init();
    ht_result_t r = routing__mounts_open(base, a);
    if (r != 0) {
        fprintf(stderr, "routing: mounts under '%s': %s (see -r)\n", base ? base : "(default)",
                ht_result__str(r));
        return 1;
    }
    /* user_data: the handlers' context. body_policy: each route's `body`
     * limit applies before the body is read (413), whatever max_body is. */
    struct routing_app app = { 0 };
    ht_config_t cfg = {
        .user_data = &app,
        .body_policy = routing__body_policy,
    };
    ht_server_t server = { .config = &cfg };
    r = ht_server__listen(&server, bind, (uint16_t) port, 128);
    if (r != 0) {
        fprintf(stderr, "routing: listen: %s\n", ht_result__str(r));
        return 1;
    }
    ht_loop_t* loop = nullptr;
    if ((r = ht_loop__init(&loop, a)) != 0) {
        fprintf(stderr, "routing: loop: %s\n", ht_result__str(r));
        return 1;
    }
    ht_signal__install_default(&server);
    ht_acceptor_t acc = { 0 };
    if ((r = ht_server__serve(&acc, &server, loop, a, routing__dispatch)) != 0) {
        fprintf(stderr, "routing: serve: %s\n", ht_result__str(r));
        return 1;
    }
    printf("listening on %s:%u\n", bind ? bind : "*", (unsigned) ht_server__port(&server));
    fflush(stdout);
    ht_loop__run(loop);
    ht_server__serve_finalize(&acc);
    ht_loop__free(loop, a);
    ht_server__close(&server);
    routing__mounts_close();
    ht_alloc__finalize(a);
    return 0;
}
