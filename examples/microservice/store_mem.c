/* store_mem.c — the notes in memory (store.h): what the service uses
 * without --db, so that trying it needs nothing.
 *
 * One mem_db_t for the process, shared by every worker under one mutex
 * (operations are a binary search or an append, microseconds each, so the
 * lock is never held long). Every operation answers before store_submit
 * returns. A change is published to the ev_hub_t under the same mutex
 * (events.h: each worker's feed hears it on its own thread, in order, as
 * from a LISTEN connection).
 * Notes are kept as the JSON they are served as, rendered once per write.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, gmtime_r: -std=c2x is strict C */
#include "json.h"
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_NOTES = 100000 };

typedef struct mem_note {
    uint64_t id;
    char*    json;
    size_t   len;
    char     created_at[40];
} mem_note_t;

typedef struct store_mem store_mem_t;

struct mem_db {
    pthread_mutex_t mu;
    mem_note_t*     notes; /* by id, ascending */
    size_t          n, cap;
    uint64_t        next_id;
    ev_hub_t*       hub;    /* borrowed: changes go there */
};

struct store_mem {
    store_t   base;
    mem_db_t* db;
};

mem_db_t* mem_db_new(ev_hub_t* hub) {
    mem_db_t* db = calloc(1, sizeof *db);
    if (db == nullptr) return nullptr;
    pthread_mutex_init(&db->mu, nullptr);
    db->hub = hub;
    db->next_id = 1;
    return db;
}

void mem_db_free(mem_db_t* db) {
    if (db == nullptr) return;
    for (size_t i = 0; i < db->n; i++) free(db->notes[i].json);
    free(db->notes);
    pthread_mutex_destroy(&db->mu);
    free(db);
}

/* The index of the first note with an id >= id. */
static size_t lower_bound(const mem_db_t* db, uint64_t id) {
    size_t lo = 0, hi = db->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (db->notes[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static mem_note_t* find(mem_db_t* db, uint64_t id) {
    size_t i = lower_bound(db, id);
    return i < db->n && db->notes[i].id == id ? &db->notes[i] : nullptr;
}

/* Under db->mu, so that changes are heard in the order they were made. */
static void publish(mem_db_t* db, const char* op, uint64_t id, const char* json, size_t len) {
    ev_hub_publish(db->hub, op, id, json, len);
}

static void now_iso(char* out, size_t cap) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%06ld+00:00", ts.tv_nsec / 1000);
}

/* Answers with copies of notes [from, from + count): the lock is released
 * before done runs, and another worker may change the notes meanwhile. */
static void answer_copies(mem_db_t* db, store_req_t* req, size_t from, size_t count) {
    store_row_t rows[STORE_MAX_ROWS];
    if (count > STORE_MAX_ROWS) count = STORE_MAX_ROWS;
    size_t total = 0;
    for (size_t i = 0; i < count; i++) total += db->notes[from + i].len;
    char* buf = malloc(total + 1);
    if (buf == nullptr) {
        pthread_mutex_unlock(&db->mu);
        req->done(req, STORE_BUSY, nullptr, 0);
        return;
    }
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        const mem_note_t* n = &db->notes[from + i];
        memcpy(buf + off, n->json, n->len);
        rows[i] = (store_row_t){ .id = n->id, .json = buf + off, .len = n->len };
        off += n->len;
    }
    pthread_mutex_unlock(&db->mu);
    req->done(req, STORE_OK, rows, (uint32_t) count);
    free(buf);
}

static void mem_create(mem_db_t* db, store_req_t* req) {
    if (db->n == db->cap && db->n < MAX_NOTES) {
        size_t cap = db->cap ? db->cap * 2 : 64;
        mem_note_t* p = realloc(db->notes, cap * sizeof *p);
        if (p) {
            db->notes = p;
            db->cap = cap;
        }
    }
    if (db->n == db->cap) { /* full, or out of memory */
        pthread_mutex_unlock(&db->mu);
        req->done(req, STORE_BUSY, nullptr, 0);
        return;
    }
    mem_note_t* n = &db->notes[db->n];
    *n = (mem_note_t){ .id = db->next_id };
    now_iso(n->created_at, sizeof n->created_at);
    n->json = json_note(n->id, req->text, req->text_len, n->created_at, &n->len);
    if (n->json == nullptr) {
        pthread_mutex_unlock(&db->mu);
        req->done(req, STORE_BUSY, nullptr, 0);
        return;
    }
    db->next_id++;
    db->n++;
    publish(db, "created", n->id, n->json, n->len);
    answer_copies(db, req, db->n - 1, 1);
}

static void mem_submit(store_t* base, store_req_t* req) {
    mem_db_t* db = ((store_mem_t*) base)->db;
    req->priv = nullptr;
    pthread_mutex_lock(&db->mu);
    switch (req->op) {
    case STORE_PING:
        pthread_mutex_unlock(&db->mu);
        req->done(req, STORE_OK, nullptr, 0);
        return;
    case STORE_GET: {
        mem_note_t* n = find(db, req->id);
        answer_copies(db, req, n ? (size_t) (n - db->notes) : 0, n ? 1 : 0);
        return;
    }
    case STORE_LIST: {
        size_t from = req->id == UINT64_MAX ? db->n : lower_bound(db, req->id + 1);
        size_t left = db->n - from;
        answer_copies(db, req, from, left < req->limit ? left : req->limit);
        return;
    }
    case STORE_CREATE: mem_create(db, req); return;
    case STORE_UPDATE: {
        mem_note_t* n = find(db, req->id);
        size_t len = 0;
        char* json = n ? json_note(n->id, req->text, req->text_len, n->created_at, &len) : nullptr;
        if (n && json == nullptr) {
            pthread_mutex_unlock(&db->mu);
            req->done(req, STORE_BUSY, nullptr, 0);
            return;
        }
        if (n) {
            free(n->json);
            n->json = json;
            n->len = len;
            publish(db, "updated", n->id, n->json, n->len);
        }
        answer_copies(db, req, n ? (size_t) (n - db->notes) : 0, n ? 1 : 0);
        return;
    }
    case STORE_DELETE: {
        mem_note_t* n = find(db, req->id);
        if (n == nullptr) {
            pthread_mutex_unlock(&db->mu);
            req->done(req, STORE_OK, nullptr, 0);
            return;
        }
        uint64_t id = n->id;
        free(n->json);
        size_t i = (size_t) (n - db->notes);
        memmove(&db->notes[i], &db->notes[i + 1], (db->n - i - 1) * sizeof *n);
        db->n--;
        char json[48];
        int len = snprintf(json, sizeof json, "{\"id\": %llu}", (unsigned long long) id);
        publish(db, "deleted", id, json, (size_t) len);
        pthread_mutex_unlock(&db->mu);
        store_row_t row = { .id = id };
        req->done(req, STORE_OK, &row, 1);
        return;
    }
    }
    pthread_mutex_unlock(&db->mu);
    req->done(req, STORE_ERROR, nullptr, 0);
}

static void mem_abandon(store_t* s, store_req_t* req) {
    (void) s, (void) req; /* nothing is ever pending */
}

static bool mem_events_up(const store_t* s) {
    (void) s;
    return true;
}

static void mem_close(store_t* s) { free(s); }

static const store_ops_t mem_ops = { mem_submit, mem_abandon, mem_events_up, mem_close };

store_t* store_mem_new(mem_db_t* db) {
    store_mem_t* m = calloc(1, sizeof *m);
    if (m == nullptr) return nullptr;
    m->base.ops = &mem_ops;
    m->db = db;
    return &m->base;
}
