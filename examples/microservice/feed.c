/* feed.c — one worker's Server-Sent Events subscribers (feed.h).
 *
 * A subscriber (sub_t) owns its deferred response from feed_subscribe until
 * it is dropped (sub_drop: the stream is ended and released, exactly once,
 * whatever the reason: the client left, a slow reader, the events stopped,
 * shutdown). Everything runs on the worker's loop.
 *
 * sub_pump is the one place that moves a subscriber forward: it writes what
 * is queued, asks the store for the next backlog page when the last one has
 * been taken, and ends the catch-up. It runs after each store answer, each
 * event and each "ready" from the stream.
 */
#include "feed.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    SUB_MAX_QUEUED = 64 * 1024, /* bytes of live events waiting past the stream's buffer */
    SUB_MAX_HELD = 1024,        /* live events held during a catch-up */
    PAGE = 100,                 /* backlog notes per query */
    HEARTBEAT_MS = 15000,       /* a comment when nothing else was sent */
};

typedef struct held {
    struct held* next;
    uint64_t     id;
    size_t       len;
    char         op[8];
    char         json[];
} held_t;

typedef struct sub {
    struct sub*    prev;
    struct sub*    next;
    feed_t*        feed;
    ht_response_t* res;         /* the stream, ours until sub_drop */
    store_req_t    req;         /* the backlog page being read */
    bool           querying;    /* req is with the store */
    bool           in_submit;   /* inside store_submit: the answer may come now */
    bool           failed;      /* the backlog could not be read */
    bool           catching_up;
    bool           more;        /* the last page was full */
    uint64_t       after;       /* the backlog sent so far ends at this id */
    char*          out;         /* formatted events the stream has not taken */
    size_t         out_len, out_cap;
    held_t*        held;        /* live events during the catch-up, in order */
    held_t*        held_tail;
    uint32_t       nheld;
} sub_t;

struct feed {
    store_t* store;
    sub_t*   subs;
    bool     closed;
    ev_sub_t events; /* wanting changes while there are subscribers */
};

feed_t* feed_new(store_t* store, ev_hub_t* hub, ht_loop_t* loop) {
    feed_t* f = calloc(1, sizeof *f);
    if (f == nullptr) return nullptr;
    f->store = store;
    ev_hub_join(hub, &f->events, loop, feed_on_event, feed_on_reset, f);
    return f;
}

void feed_free(feed_t* f) {
    if (f == nullptr) return;
    ev_hub_leave(&f->events);
    free(f);
}

/* ---- A subscriber's queue ---- */

static bool out_put(sub_t* s, const char* p, size_t n) {
    if (s->out_len + n > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : 1024;
        while (cap < s->out_len + n) cap *= 2;
        char* m = realloc(s->out, cap);
        if (m == nullptr) return false;
        s->out = m;
        s->out_cap = cap;
    }
    memcpy(s->out + s->out_len, p, n);
    s->out_len += n;
    return true;
}

/* One event, formatted (feed.h). The JSON is one line: PostgreSQL and
 * jansson both escape line breaks inside strings. */
static bool put_event(sub_t* s, const char* op, uint64_t id, const char* json, size_t len) {
    if (memchr(json, '\n', len) || memchr(json, '\r', len)) return true; /* not an event: skip */
    char head[64];
    int n = strcmp(op, "created") == 0
                ? snprintf(head, sizeof head, "id: %" PRIu64 "\nevent: %s\ndata: ", id, op)
                : snprintf(head, sizeof head, "event: %s\ndata: ", op);
    return out_put(s, head, (size_t) n) && out_put(s, json, len) && out_put(s, "\n\n", 2);
}

static void sub_drop(sub_t* s) {
    feed_t* f = s->feed;
    if (s->prev) s->prev->next = s->next;
    else f->subs = s->next;
    if (s->next) s->next->prev = s->prev;
    if (s->querying) store_abandon(f->store, &s->req);
    for (held_t* h = s->held; h;) {
        held_t* next = h->next;
        free(h);
        h = next;
    }
    free(s->out);
    (void) ht_response__release(s->res); /* ends the stream (HT_E_GONE if cut off) */
    free(s);
    if (f->subs == nullptr) ev_hub_want(&f->events, false);
}

static void page_done(store_req_t* req, store_status_t st, const store_row_t* rows, uint32_t n);
static bool sub_pump(sub_t* s);

static void next_page(sub_t* s) {
    s->req = (store_req_t){ .op = STORE_LIST, .id = s->after, .limit = PAGE, .done = page_done };
    s->querying = true;
    s->in_submit = true;
    store_submit(s->feed->store, &s->req);
    s->in_submit = false;
}

static void page_done(store_req_t* req, store_status_t st, const store_row_t* rows, uint32_t n) {
    sub_t* s = (sub_t*) ((char*) req - offsetof(sub_t, req));
    s->querying = false;
    if (st != STORE_OK) s->failed = true;
    for (uint32_t i = 0; i < n && !s->failed; i++) {
        if (!put_event(s, "created", rows[i].id, rows[i].json, rows[i].len)) s->failed = true;
        s->after = rows[i].id;
    }
    s->more = n == PAGE;
    if (!s->in_submit) sub_pump(s);
}

/* The backlog is sent: the live events held meanwhile follow, all of them
 * (a note committed during the catch-up may be in both: at least once). */
static bool finish_catch_up(sub_t* s) {
    s->catching_up = false;
    bool ok = true;
    while (s->held) {
        held_t* h = s->held;
        s->held = h->next;
        if (ok) ok = put_event(s, h->op, h->id, h->json, h->len);
        free(h);
    }
    s->held_tail = nullptr;
    s->nheld = 0;
    return ok;
}

/* Moves s forward (see the top). false: s was dropped. */
static bool sub_pump(sub_t* s) {
    for (;;) {
        if (s->failed) {
            sub_drop(s);
            return false;
        }
        if (s->out_len) {
            ht_result_t r = ht_response__write(s->res, s->out, s->out_len);
            if (r == -EAGAIN) return true; /* on_ready comes back here */
            if (r < 0) {
                sub_drop(s);
                return false;
            }
            s->out_len = 0;
        }
        if (!s->catching_up || s->querying) return true;
        if (s->more) next_page(s); /* its answer may already be here: loop */
        else if (!finish_catch_up(s)) s->failed = true;
    }
}

static void on_ready(ht_response_t* res, ht_result_t why, void* ud) {
    (void) res, (void) why;
    sub_pump(ud);
}

static void on_cut_off(ht_response_t* res, ht_result_t why, void* ud) {
    (void) res, (void) why; /* the client left, or shutdown's drain ended it */
    sub_drop(ud);
}

static void answer_503(ht_response_t* res, ht_alloc_t* a) {
    ht_response__json(res, 503, "{\"error\":\"the feed is not available now, try again\"}", a);
}

static void subscribe(feed_t* f, ht_response_t* res, ht_alloc_t* a, bool resume, uint64_t after) {
    if (f->closed || !store_events_up(f->store)) {
        answer_503(res, a);
        return;
    }
    ht_response_t* later = ht_response__defer(res);
    sub_t* s = later ? calloc(1, sizeof *s) : nullptr;
    if (s == nullptr) {
        answer_503(later ? later : res, a);
        if (later) ht_response__release(later);
        return;
    }
    *s = (sub_t){ .feed = f, .res = later, .catching_up = resume, .more = true, .after = after };
    if (ht_response__sse_begin(later, HEARTBEAT_MS) != 0) {
        ht_response__release(later);
        free(s);
        return;
    }
    ht_response__on_cancel(later, on_cut_off, s);
    ht_response__on_ready(later, on_ready, s);
    s->next = f->subs;
    if (f->subs) f->subs->prev = s;
    f->subs = s;
    /* A reconnecting EventSource waits this long (ms): sooner than its
     * default, since the service ends streams when its events stop. */
    if (!out_put(s, "retry: 1000\n\n", 13)) s->failed = true;
    sub_pump(s);
}

void feed_subscribe(feed_t* f, ht_response_t* res, ht_alloc_t* a, bool resume, uint64_t after) {
    /* Hear changes before asking whether they flow (events.h); stop when
     * no subscriber came of it. */
    if (f->subs == nullptr) ev_hub_want(&f->events, true);
    subscribe(f, res, a, resume, after);
    if (f->subs == nullptr) ev_hub_want(&f->events, false);
}

void feed_on_event(void* ud, const char* op, uint64_t id, const char* json, size_t len) {
    feed_t* f = ud;
    for (sub_t* s = f->subs, *next; s; s = next) {
        next = s->next;
        if (s->catching_up) {
            held_t* h = s->nheld < SUB_MAX_HELD ? malloc(sizeof *h + len + 1) : nullptr;
            if (h == nullptr) { /* too far behind */
                sub_drop(s);
                continue;
            }
            *h = (held_t){ .id = id, .len = len };
            snprintf(h->op, sizeof h->op, "%s", op);
            memcpy(h->json, json, len);
            h->json[len] = 0;
            if (s->held_tail) s->held_tail->next = h;
            else s->held = h;
            s->held_tail = h;
            s->nheld++;
            continue;
        }
        /* Waiting for the stream already, and this would pass the cap: the
         * subscriber stopped reading. */
        if (s->out_len + len + 64 > SUB_MAX_QUEUED || !put_event(s, op, id, json, len)) {
            sub_drop(s);
            continue;
        }
        sub_pump(s);
    }
}

void feed_on_reset(void* ud) {
    feed_t* f = ud;
    while (f->subs) sub_drop(f->subs);
}

void feed_close(feed_t* f) {
    f->closed = true;
    feed_on_reset(f);
}
