/* routing — the route compiler's example. routes.ht declares the service;
 * htgen turns it into routing_routes.h (one typed parameter struct and one
 * prototype per handler: routing_NAME, with the context first) and
 * routing__dispatch, the server callback that matches method + path and
 * calls the handlers below. 404, 405 + Allow, OPTIONS, HEAD, the
 * trailing-slash 308, 400 for bad escapes and the per-route body limit (413)
 * are the dispatcher's; the handlers only see requests that are theirs, with
 * path and query parameters decoded and converted (a bad query parameter is
 * a 400 that names it). The /admin group's hooks run around its routes;
 * the api.localhost host block's routes answer only that Host.
 *
 *   routing [-p PORT] [-b ADDR] [-r DIR] [-u UPLOAD_DIR] [-t TOKEN]
 *     -p PORT  port (default 8080; 0 picks one)
 *     -b ADDR  address to bind (default: every interface)
 *     -r DIR   the directory of routes.ht, where the mount directories are
 *              looked up (default: routing_MOUNT_BASE, the path from the
 *              build directory to it)
 *     -u DIR   where PUT /upload/{name} writes its files (without it: 404)
 *     -t TOKEN the bearer token of the /admin group (default: ROUTING_DEMO_TOKEN)
 * Prints "listening on ADDR:PORT" once ready; SIGINT/SIGTERM stop it.
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* openat, O_DIRECTORY: -std=c2x is strict C */
#endif
#include "routing_routes.h"

#include <ht/ht.h>
#include <ht/uri.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

/* Sends b as the body with a Content-Type (the builders need a C string;
 * decoded parameters may hold any byte but NUL, so bytes it is). */
static void send_bytes(ht_response_t* res, uint16_t status, const char* type, ht_bytes_t* b,
                       ht_alloc_t* a) {
    ht_response__bytes(res, status, ht_slice__from_cstr(type), b->data, b->len, a);
    ht_bytes__free(b);
}

/* The links come from the URL builders htgen writes beside the matcher
 * (routing__url_<handler>, routing_routes.h): typed arguments, percent-
 * encoded, checked against each parameter's language, so a link cannot
 * drift from routes.ht (a wrong argument type is a compile error). */
void routing_home(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                  ht_alloc_t* a, const routing_home_params_t* p) {
    (void) app, (void) req, (void) p;
    char hello[64], user[64], tag[64], file[64], slow[64], events[64], stat[64], search[64], statics[64];
    /* /search's query too: q is required, page (nullptr) keeps its default */
    const ht_slice_t tags[] = { HT_SLICE("c") }; /* "?q=route+compiler&tag=c" */
    if (routing__url_hello(hello, sizeof hello, HT_SLICE("wörld")) < 0 || /* "/hello/w%C3%B6rld" */
        routing__url_user(user, sizeof user, 42) < 0 || routing__url_tag(tag, sizeof tag, HT_SLICE("c-lang")) < 0 ||
        routing__url_file_get(file, sizeof file, HT_SLICE("css/site.css")) < 0 ||
        routing__url_slow(slow, sizeof slow, 500) < 0 || routing__url_events(events, sizeof events) < 0 ||
        routing__url_status_json(stat, sizeof stat) < 0 ||
        routing__url_search(search, sizeof search, HT_SLICE("route compiler"), nullptr, tags, 1) < 0 ||
        routing__url_mount_1(statics, sizeof statics, HT_SLICE("")) < 0) {
        (void) ht_response__error(res, 500, a);
        return;
    }
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b,
                    "<!doctype html><title>routing</title>\n"
                    "<h1>hachettp routing example</h1>\n<ul>\n");
    const char* const links[] = { hello, stat, user, tag, file, slow, events, statics, search };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        /* a URL may hold '&' (a query's, or a path's sub-delim): &amp; in HTML */
        ht_bytes__push_cstr(&b, "<li><a href=\"");
        for (int twice = 0; twice < 2; twice++) {
            for (const char* c = links[i]; *c; c++)
                if (*c == '&') ht_bytes__push_cstr(&b, "&amp;");
                else ht_bytes__push_byte(&b, *c);
            ht_bytes__push_cstr(&b, twice ? "</a>\n" : "\">");
        }
    }
    ht_bytes__pushf(&b, "</ul>\n");
    send_bytes(res, 200, "text/html; charset=utf-8", &b, a);
}

void routing_hello(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                   ht_alloc_t* a, const routing_hello_params_t* p) {
    (void) app, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "hello, %.*s\n", HT_SLICE_FMT(p->name));
    send_bytes(res, 200, "text/plain; charset=utf-8", &b, a);
}

/* The /admin group's token when -t gives none: a demo, not a secret. */
#define ROUTING_DEMO_TOKEN "tour-token"

/* The handlers' context (`context struct routing_app` in routes.ht): what
 * main puts in ht_config_t.user_data reaches every handler as its first
 * parameter, no globals. One loop here, so one thread touches it; a server
 * with several workers shares it between their threads. */
struct routing_app {
    uint64_t requests_seen;
    int      upload_dir; /* -u DIR, opened; -1: uploads answer 404 */
    const char* token;   /* -t TOKEN: what the /admin group's before hook wants */
    /* the /admin group's after hook: final statuses per route, by class
       (0: the client left before an answer, 1..5: 1xx..5xx) */
    uint64_t statuses[ROUTING_ROUTE__COUNT][6];
};

void routing_status_json(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                         ht_alloc_t* a, const routing_status_json_params_t* p) {
    (void) req, (void) p;
    char json[96];
    snprintf(json, sizeof json, "{\"status\":\"ok\",\"status_requests\":%" PRIu64 "}\n",
             ++app->requests_seen);
    ht_response__json(res, 200, json, a);
}

/* `?q:str ?page:u64=1 ?tag:slug*`: dispatch parsed and checked the query
 * (percent-decoded, '+' a space) into p before this runs; a missing q or a
 * page that is no u64 was answered 400 with the parameter's name, and the
 * handler never saw it. One "key=value" line each. */
void routing_search(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                    ht_alloc_t* a, const routing_search_params_t* p) {
    (void) app, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "q=%.*s\npage=%" PRIu64 "\n", HT_SLICE_FMT(p->q), p->page);
    for (size_t i = 0; i < p->tag_count; i++) ht_bytes__pushf(&b, "tag=%.*s\n", HT_SLICE_FMT(p->tag[i]));
    send_bytes(res, 200, "text/plain; charset=utf-8", &b, a);
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

/* {file:path...}: the decoded rest, which the matcher already refused (400)
 * when it holds an empty, "." or ".." segment, '\\', %2F, %5C or %00, so it
 * can be joined to a directory as it is. (A plain {path...} hands over
 * whatever the path decodes to, "%2E%2E/" included.) */
void routing_file_get(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                      ht_alloc_t* a, const routing_file_get_params_t* p) {
    (void) app, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "file [%.*s]\n", HT_SLICE_FMT(p->file));
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

/* ---- The /admin group (routes.ht): hooks around its routes. ---- */

/* Compares in time independent of where the strings differ. */
static bool same_secret(ht_slice_t got, const char* want) {
    size_t n = strlen(want);
    unsigned diff = got.len != n;
    for (size_t i = 0; i < got.len; i++) diff |= (unsigned char) got.ptr[i] ^ (unsigned char) want[i % (n ? n : 1)];
    return diff == 0;
}

/* before=require_token: true lets the route's handler run; false means this
 * hook answered (401 and the scheme the client must use). */
bool routing_require_token(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                           ht_alloc_t* a) {
    ht_slice_t auth = ht_request__header(req, HT_HEADER_AUTHORIZATION);
    if (auth.len > 7 && ht_slice__starts_with_nocase(auth, HT_SLICE("Bearer ")) &&
        same_secret(ht_slice__sub(auth, 7, auth.len - 7), app->token))
        return true;
    static const char msg[] = "a bearer token is needed (Authorization: Bearer TOKEN)\n";
    ht_response__status(res, 401); /* the long way: a header of our own */
    ht_response__header_cstr(res, "Content-Type", "text/plain; charset=utf-8");
    ht_response__header_cstr(res, "WWW-Authenticate", "Bearer realm=\"routing\"");
    ht_response__body(res, msg, sizeof msg - 1, a);
    return false;
}

/* after=count_status: the final status of every request to the group's
 * routes, the before hook's 401 included, once the response is complete
 * (0 when the client left first). */
void routing_count_status(struct routing_app* app, routing_route_t route, uint16_t status) {
    unsigned c = status / 100;
    app->statuses[route][c <= 5 ? c : 0]++;
}

/* {"GET /admin/stats":{"2xx":1,"4xx":2},...}: the routes counted so far
 * (this request's own 200 is counted once it has been sent). */
void routing_admin_stats(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                         ht_alloc_t* a, const routing_admin_stats_params_t* p) {
    (void) req, (void) p;
    static const char* const cls[6] = { "gone", "1xx", "2xx", "3xx", "4xx", "5xx" };
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__push_byte(&b, '{');
    bool first = true;
    for (int r = 1; r < ROUTING_ROUTE__COUNT; r++) {
        bool any = false;
        for (int c = 0; c < 6; c++) {
            if (!app->statuses[r][c]) continue;
            if (!any)
                ht_bytes__pushf(&b, "%s\"%s %s\":{", first ? "" : ",", routing__routes[r].methods,
                                routing__routes[r].pattern);
            ht_bytes__pushf(&b, "%s\"%s\":%" PRIu64, any ? "," : "", cls[c], app->statuses[r][c]);
            any = true;
            first = false;
        }
        if (any) ht_bytes__push_byte(&b, '}');
    }
    ht_bytes__pushf(&b, "}\n");
    send_bytes(res, 200, "application/json", &b, a);
}

void routing_admin_reset(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                         ht_alloc_t* a, const routing_admin_reset_params_t* p) {
    (void) req, (void) p;
    memset(app->statuses, 0, sizeof app->statuses);
    ht_response__text(res, 200, "reset\n", a);
}

/* ---- host api.localhost (routes.ht): its own / and /v1/ping; its other
 * paths are the routes outside the block. ---- */
void routing_api_home(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                      ht_alloc_t* a, const routing_api_home_params_t* p) {
    (void) app, (void) req, (void) p;
    ht_response__json(res, 200, "{\"api\":\"routing\",\"ping\":\"/v1/ping\"}\n", a);
}

void routing_api_ping(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                      ht_alloc_t* a, const routing_api_ping_params_t* p) {
    (void) app, (void) req, (void) p;
    ht_response__json(res, 200, "{\"pong\":true}\n", a);
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
    uint64_t bytes;      /* upload: received so far */
    int fd, dirfd;       /* upload: the file being written, its directory */
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

/* Answers "slept N ms" after N ms (at most 10000) from a loop timer: the
 * worker serves everything else meanwhile. The route's `timeout 15s` is the
 * deadline: past it the server answers 503 and cuts the handle off. */
void routing_slow(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                  ht_alloc_t* a, const routing_slow_params_t* p) {
    (void) app, (void) req;
    if (p->ms > 10000) {
        ht_response__text(res, 400, "at most 10000 ms\n", a);
        return;
    }
    later_t* l = later_new(res, a);
    if (!l) return;
    l->ms = p->ms;
    ht_response__on_cancel(l->res, later_cut_off, l);
    ht_loop__timer_start(ht_response__loop(l->res), &l->t, l->ms, slow_done);
}

enum { EVENTS_TOTAL = 10, EVENTS_EVERY_MS = 100 };

static void events_tick(ht_loop_t* loop, ht_timer_t* t) {
    later_t* l = t->data;
    if (l->n == EVENTS_TOTAL) {
        later_end(l); /* ends the stream */
        return;
    }
    char data[24];
    snprintf(data, sizeof data, "%" PRIu64, l->n + 1);
    /* The id lets a client that reconnects say where it was (Last-Event-ID). */
    ht_result_t r = ht_response__sse_event(l->res, nullptr, data, ht_slice__from_cstr(data));
    if (r == -EAGAIN) { /* a slow reader: this event waits for the next tick */
        ht_loop__timer_start(loop, t, EVENTS_EVERY_MS, events_tick);
        return;
    }
    if (r != 0) {
        later_end(l);
        return;
    }
    l->n++;
    ht_loop__timer_start(loop, t, EVENTS_EVERY_MS, events_tick);
}

/* Server-Sent Events: `data: N` for N = 1..10, one every 100 ms, then the
 * stream ends. A client that sends Last-Event-ID: K resumes after K. */
void routing_events(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                    ht_alloc_t* a, const routing_events_params_t* p) {
    (void) app, (void) p;
    uint64_t from = 0;
    ht_slice_t last = ht_request__header_by_name(req, HT_SLICE("Last-Event-ID"));
    if (last.len && ht_bytes__parse_u64(last, &from) != 0) from = 0;
    later_t* l = later_new(res, a);
    if (!l) return;
    l->n = from < EVENTS_TOTAL ? from : EVENTS_TOTAL;
    ht_response__on_cancel(l->res, later_cut_off, l);
    if (ht_response__sse_begin(l->res, 15000) != 0) {
        later_end(l);
        return;
    }
    ht_loop__timer_start(ht_response__loop(l->res), &l->t, EVENTS_EVERY_MS, events_tick);
}

#ifndef _WIN32
/* An upload cut off (over the limit, the client gone, the deadline): the
 * partial file goes. */
static void upload_cut_off(ht_response_t* res, ht_result_t why, void* ud) {
    (void) res, (void) why;
    later_t* l = ud;
    if (l->fd >= 0) {
        close(l->fd);
        unlinkat(l->dirfd, l->name, 0);
        l->fd = -1;
    }
    later_end(l);
}

static void upload_piece(ht_response_t* res, ht_slice_t piece, bool last, void* ud) {
    later_t* l = ud;
    /* piece is valid during this call only: it goes to the file now. A
     * local disk write does not wait on the network, so the loop takes it. */
    for (size_t off = 0; off < piece.len;) {
        ssize_t k = write(l->fd, piece.ptr + off, piece.len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            close(l->fd);
            unlinkat(l->dirfd, l->name, 0);
            l->fd = -1;
            ht_response__text(res, 507, "cannot write the file\n", l->a);
            later_end(l);
            return;
        }
        off += (size_t) k;
    }
    l->bytes += piece.len;
    if (!last) return;
    close(l->fd);
    l->fd = -1;
    char text[32];
    snprintf(text, sizeof text, "%" PRIu64 "\n", l->bytes);
    ht_response__text(res, 201, text, l->a);
    later_end(l);
}

/* Streams the body (`stream`, up to `body 8G`) into DIR/{name} (routing -u
 * DIR), never holding it whole, and answers 201 with the byte count. The
 * handler runs when the head has arrived: "100 Continue" goes out only
 * once it asks for the body. Without -u: 404. */
void routing_upload(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                    ht_alloc_t* a, const routing_upload_params_t* p) {
    if (app->upload_dir < 0) {
        ht_response__error(res, 404, a);
        return;
    }
    char name[96];
    if (p->name.len >= sizeof name) {
        ht_response__error(res, 414, a);
        return;
    }
    memcpy(name, p->name.ptr, p->name.len);
    name[p->name.len] = 0;
    /* {name:slug} is [A-Za-z0-9_-]+: no '/', no "..", a plain file name. */
    int fd = openat(app->upload_dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ht_response__error(res, 500, a);
        return;
    }
    if (!ht_request__body_pending(req)) { /* an empty body (or no body_policy) */
        ht_slice_t body = ht_request__body(req);
        bool ok = body.len == 0 || write(fd, body.ptr, body.len) == (ssize_t) body.len;
        close(fd);
        char text[32];
        snprintf(text, sizeof text, "%zu\n", body.len);
        ht_response__text(res, ok ? 201 : 507, ok ? text : "cannot write the file\n", a);
        return;
    }
    later_t* l = later_new(res, a);
    if (!l) {
        close(fd);
        unlinkat(app->upload_dir, name, 0);
        return;
    }
    l->fd = fd;
    l->dirfd = app->upload_dir;
    memcpy(l->name, name, sizeof name);
    ht_response__on_cancel(l->res, upload_cut_off, l);
    if (ht_response__read_body(l->res, upload_piece, l) != 0) {
        ht_response__error(l->res, 500, a);
        upload_cut_off(l->res, 0, l);
    }
}
#else
/* -u is POSIX-only in this example (it writes with openat/write). */
void routing_upload(struct routing_app* app, const ht_request_t* req, ht_response_t* res,
                    ht_alloc_t* a, const routing_upload_params_t* p) {
    (void) app, (void) req, (void) p;
    ht_response__error(res, 404, a);
}
#endif

static void usage(FILE* f) {
    fprintf(f, "usage: routing [options]\n"
               "Serves examples/routing/routes.ht (see README.md, Routing).\n"
               "\n"
               "  -p, --port PORT        port to listen on (default 8080; 0 picks a free one)\n"
               "  -b, --bind ADDR        address to bind (default: all)\n"
               "  -r, --routes-dir DIR   where the routes file's mount directories are\n"
               "                         looked up (default: as compiled in)\n"
               "  -u, --upload-dir DIR   where PUT /upload/{name} writes (default: none, 404)\n"
               "  -t, --token TOKEN      the bearer token /admin wants (default: " ROUTING_DEMO_TOKEN ")\n"
               "  -h, --help             this help\n");
}

int main(int argc, char** argv) {
    static const struct option opts[] = {
        { "port", required_argument, nullptr, 'p' },       { "bind", required_argument, nullptr, 'b' },
        { "routes-dir", required_argument, nullptr, 'r' }, { "upload-dir", required_argument, nullptr, 'u' },
        { "token", required_argument, nullptr, 't' },      { "help", no_argument, nullptr, 'h' },
        { nullptr, 0, nullptr, 0 },
    };
    long port = 8080;
    const char* bind = nullptr;
    const char* base = nullptr;
    const char* upload = nullptr;
    const char* token = ROUTING_DEMO_TOKEN;
    opterr = 0; /* our own one-line messages */
    int c;
    while ((c = getopt_long(argc, argv, ":p:b:r:u:t:h", opts, nullptr)) != -1) {
        char* end;
        switch (c) {
        case 'p':
            port = strtol(optarg, &end, 10);
            if (!*optarg || *end || port < 0 || port > 65535) {
                fprintf(stderr, "routing: bad port '%s' (want 0..65535)\n", optarg);
                return 2;
            }
            break;
        case 'b': bind = optarg; break;
        case 'r': base = optarg; break;
        case 'u': upload = optarg; break;
        case 't': token = optarg; break;
        case 'h': usage(stdout); return 0;
        case ':':
            fprintf(stderr, "routing: option '%s' needs a value (routing -h for help)\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "routing: unknown option '%s' (routing -h for help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "routing: unexpected argument '%s' (routing -h for help)\n", argv[optind]);
        return 2;
    }
    if (!*token) {
        fprintf(stderr, "routing: -t needs a token\n");
        return 2;
    }
    /* large (the status counts): static, not on main's stack */
    static struct routing_app app;
    app.upload_dir = -1;
    app.token = token;
    if (upload) {
#ifndef _WIN32
        app.upload_dir = open(upload, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (app.upload_dir < 0) {
            fprintf(stderr, "routing: -u '%s': %s\n", upload, strerror(errno));
            return 1;
        }
#else
        fprintf(stderr, "routing: -u is not supported on Windows by this example\n");
        return 2;
#endif
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
#ifndef _WIN32
    if (app.upload_dir >= 0) close(app.upload_dir);
#endif
    ht_alloc__finalize(a);
    return 0;
}
