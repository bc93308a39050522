/* api.c — the JSON API's handlers (routes.ht): HTTP in, a store operation,
 * HTTP out.
 *
 *   GET    /api/health             200 {"status":"ok","db":"up"}
 *                                  503 {"status":"degraded","db":"down"}
 *   GET    /api/notes?limit=N&after=ID
 *                                  200 {"notes":[...],"next":ID|null}: the notes with
 *                                  an id above ID (default 0), N of them (1..100,
 *                                  default 20); next: the `after` of the next page
 *   POST   /api/notes              {"text":"..."} -> 201 + Location + the note
 *   GET    /api/notes/{id}         200 the note, or 404
 *   PUT    /api/notes/{id}         {"text":"..."} -> 200 the note, or 404
 *   DELETE /api/notes/{id}         204, or 404
 *   GET    /api/notes/events       Server-Sent Events (feed.h)
 * Errors are {"error":"..."}: 400 (bad JSON, a missing or non-string text,
 * text over 4 KiB, a bad limit/after), 404, 503 (the database is down or
 * too busy), 500. When a route's deadline passes first (routes.ht), the
 * server answers 504 itself.
 *
 * Each store call is a call_t that owns the deferred response until the
 * store answers (call_done) or the response is cut off (call_cut_off: the
 * client left, or the deadline passed; the operation is abandoned, so the
 * store never answers into freed memory). Exactly one of them frees it.
 */
#include "svc_routes.h"

#include "app.h"
#include "json.h"

#include <ht/uri.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LIST_DEFAULT = 20, LIST_MAX = 100, MAX_DELAY_MS = 60000 };

static void send_json(ht_response_t* res, uint16_t status, const char* json, size_t len, ht_alloc_t* a) {
    ht_response__bytes(res, status, HT_SLICE("application/json"), json, len, a);
}

static void send_error(ht_response_t* res, uint16_t status, const char* msg, ht_alloc_t* a) {
    char* json = json_error(msg);
    if (json) send_json(res, status, json, strlen(json), a);
    else ht_response__error(res, 500, a);
    free(json);
}

typedef struct call {
    store_req_t    req;   /* first: the store hands it back */
    ht_response_t* res;   /* the deferred response, ours until released */
    ht_alloc_t*    a;
    store_t*       store;
    char*          text;  /* CREATE, UPDATE: the note's text (req.text) */
    uint32_t       limit; /* LIST: the page size asked for (req.limit is one more) */
} call_t;

static void call_free(call_t* c) {
    free(c->text);
    free(c);
}

static void answer_list(call_t* c, const store_row_t* rows, uint32_t n) {
    ht_bytes_t b;
    ht_bytes__init(&b, c->a);
    uint32_t shown = n > c->limit ? c->limit : n;
    ht_bytes__push_cstr(&b, "{\"notes\":[");
    for (uint32_t i = 0; i < shown; i++) {
        if (i) ht_bytes__push_byte(&b, ',');
        ht_bytes__push(&b, rows[i].json, rows[i].len);
    }
    /* One more row than asked for: there is a next page. */
    if (n > c->limit) ht_bytes__pushf(&b, "],\"next\":%" PRIu64 "}", rows[shown - 1].id);
    else ht_bytes__push_cstr(&b, "],\"next\":null}");
    send_json(c->res, 200, b.data, b.len, c->a);
    ht_bytes__free(&b);
}

static void answer(call_t* c, const store_row_t* rows, uint32_t n) {
    ht_response_t* res = c->res;
    switch (c->req.op) {
    case STORE_PING:
        ht_response__json(res, 200, "{\"status\":\"ok\",\"db\":\"up\"}", c->a);
        return;
    case STORE_LIST: answer_list(c, rows, n); return;
    case STORE_CREATE: {
        if (n == 0) break;
        char loc[48];
        snprintf(loc, sizeof loc, "/api/notes/%" PRIu64, rows[0].id);
        ht_response__status(res, 201);
        ht_response__header_cstr(res, "Location", loc);
        send_json(res, 201, rows[0].json, rows[0].len, c->a);
        return;
    }
    case STORE_GET:
    case STORE_UPDATE:
        if (n == 0) send_error(res, 404, "no such note", c->a);
        else send_json(res, 200, rows[0].json, rows[0].len, c->a);
        return;
    case STORE_DELETE:
        if (n == 0) {
            send_error(res, 404, "no such note", c->a);
        } else {
            ht_response__status(res, 204);
            ht_response__body(res, nullptr, 0, c->a);
        }
        return;
    }
    send_error(res, 500, "the store gave no answer", c->a);
}

static void call_done(store_req_t* req, store_status_t st, const store_row_t* rows, uint32_t n) {
    call_t* c = (call_t*) req;
    switch (st) {
    case STORE_OK: answer(c, rows, n); break;
    case STORE_DOWN:
        if (c->req.op == STORE_PING)
            ht_response__json(c->res, 503, "{\"status\":\"degraded\",\"db\":\"down\"}", c->a);
        else
            send_error(c->res, 503, "the database is not available", c->a);
        break;
    case STORE_BUSY: send_error(c->res, 503, "too busy, try again", c->a); break;
    case STORE_ERROR: send_error(c->res, 500, "database error", c->a); break;
    }
    ht_response__release(c->res);
    call_free(c);
}

static void call_cut_off(ht_response_t* res, ht_result_t why, void* ud) {
    (void) why;
    call_t* c = ud;
    store_abandon(c->store, &c->req);
    ht_response__release(res);
    call_free(c);
}

/* Defers res and hands req to this worker's store; text (malloc'd or
 * nullptr) goes with it. */
static void call_start(ht_response_t* res, ht_alloc_t* a, store_req_t req, char* text, uint32_t limit) {
    ht_response_t* later = ht_response__defer(res);
    call_t* c = later ? malloc(sizeof *c) : nullptr;
    if (c == nullptr) {
        free(text);
        send_error(later ? later : res, 503, "out of memory", a);
        if (later) ht_response__release(later);
        return;
    }
    *c = (call_t){ .req = req, .res = later, .a = a, .store = svc_worker()->store, .text = text,
                   .limit = limit };
    c->req.text = text;
    c->req.text_len = text ? strlen(text) : 0;
    c->req.done = call_done;
    ht_response__on_cancel(later, call_cut_off, c);
    store_submit(c->store, &c->req); /* may answer at once: c is not ours after this */
}

/* The note's text from a JSON body, or nullptr after answering 400. */
static char* body_text(const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    ht_slice_t body = ht_request__body(req);
    size_t len;
    char* err;
    char* text = json_note_text(body.ptr ? body.ptr : "", body.len, &len, &err);
    if (text == nullptr) {
        if (err) send_json(res, 400, err, strlen(err), a);
        else ht_response__error(res, 500, a);
        free(err);
    }
    return text;
}

/* A query parameter as a u64: 0 (absent: *out untouched), 1 (set), -1 (bad). */
static int query_u64(const ht_request_t* req, const char* key, uint64_t* out) {
    ht_slice_t v;
    if (!ht_uri__query_find(ht_request__query(req), ht_slice__from_cstr(key), &v)) return 0;
    return ht_bytes__parse_u64(v, out) == 0 ? 1 : -1;
}

void svc_health(struct svc_app* app, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                const svc_health_params_t* p) {
    (void) app, (void) req, (void) p;
    call_start(res, a, (store_req_t){ .op = STORE_PING }, nullptr, 0);
}

void svc_notes_list(struct svc_app* app, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                    const svc_notes_list_params_t* p) {
    (void) app, (void) p;
    uint64_t limit = LIST_DEFAULT, after = 0;
    if (query_u64(req, "limit", &limit) < 0 || limit < 1 || limit > LIST_MAX) {
        send_error(res, 400, "limit must be a number from 1 to 100", a);
        return;
    }
    if (query_u64(req, "after", &after) < 0) {
        send_error(res, 400, "after must be a note id", a);
        return;
    }
    store_req_t r = { .op = STORE_LIST, .id = after, .limit = (uint32_t) limit + 1 };
    call_start(res, a, r, nullptr, (uint32_t) limit);
}

void svc_notes_add(struct svc_app* app, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                   const svc_notes_add_params_t* p) {
    (void) app, (void) p;
    char* text = body_text(req, res, a);
    if (text) call_start(res, a, (store_req_t){ .op = STORE_CREATE }, text, 0);
}

void svc_notes_get(struct svc_app* app, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                   const svc_notes_get_params_t* p) {
    uint64_t delay = 0;
    if (app->test_slow && (query_u64(req, "delay_ms", &delay) < 0 || delay > MAX_DELAY_MS)) {
        send_error(res, 400, "delay_ms must be a number from 0 to 60000", a);
        return;
    }
    call_start(res, a, (store_req_t){ .op = STORE_GET, .id = p->id, .delay_ms = (uint32_t) delay },
               nullptr, 0);
}

void svc_notes_update(struct svc_app* app, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                      const svc_notes_update_params_t* p) {
    (void) app;
    char* text = body_text(req, res, a);
    if (text) call_start(res, a, (store_req_t){ .op = STORE_UPDATE, .id = p->id }, text, 0);
}

void svc_notes_delete(struct svc_app* app, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                      const svc_notes_delete_params_t* p) {
    (void) app, (void) req;
    call_start(res, a, (store_req_t){ .op = STORE_DELETE, .id = p->id }, nullptr, 0);
}

void svc_notes_events(struct svc_app* app, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                      const svc_notes_events_params_t* p) {
    (void) app, (void) p;
    if (ht_request__method(req) == HT_METHOD_HEAD) { /* a stream's head, without the stream */
        ht_response__bytes(res, 200, HT_SLICE("text/event-stream"), "", 0, a);
        return;
    }
    /* EventSource sends Last-Event-ID when it reconnects by itself; a page
     * that opens a new one passes ?after= instead. */
    uint64_t after = 0;
    ht_slice_t last = ht_request__header_by_name(req, HT_SLICE("Last-Event-ID"));
    bool resume = last.len > 0 ? ht_bytes__parse_u64(last, &after) == 0 : query_u64(req, "after", &after) > 0;
    feed_subscribe(svc_worker()->feed, res, a, resume, after);
}
