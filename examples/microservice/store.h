/* store.h — where notes live, as the API and the feed see it.
 *
 * Two implementations, one per file: store_mem.c (in memory, shared by every
 * worker under a mutex: the default, so trying the service needs nothing)
 * and store_pg.c (PostgreSQL through libpq's non-blocking API: one
 * connection per worker for queries, and one LISTEN connection for the
 * whole service, pg_listen.h). Each worker has its own store_t and calls it
 * only from its own loop's thread. Changes reach the feeds through an
 * ev_hub_t (events.h), not through the store.
 *
 * An operation is a store_req_t that the caller owns and fills, then hands
 * to store_submit. The store answers exactly once through req->done, on the
 * worker's loop: later (PostgreSQL), or before store_submit returns (memory,
 * or a database that is down): the caller must not touch req after
 * submitting it unless it knows better. A caller whose client went away calls
 * store_abandon instead of waiting: done is then never called, and the store
 * forgets req at once (a statement already sent is cancelled on the server
 * when it is the one running, see store_pg.c).
 *
 * Notes go out as JSON the store renders: {"id": 1, "text": "...",
 * "created_at": "2024-05-01T12:00:00.123456+00:00"}; the API and the feed
 * pass it through unchanged.
 */
#ifndef SVC_STORE_H
#define SVC_STORE_H

#include "events.h"

#include <ht/ht.h>

#include <stddef.h>
#include <stdint.h>

typedef enum store_op {
    STORE_PING,   /* is the database there? */
    STORE_GET,    /* id -> the note, or no row */
    STORE_LIST,   /* notes with id > after, in id order, at most limit */
    STORE_CREATE, /* text -> the new note */
    STORE_UPDATE, /* id, text -> the note, or no row */
    STORE_DELETE, /* id -> one row (the id) if it was there */
} store_op_t;

typedef enum store_status {
    STORE_OK,    /* rows hold the answer (none: not found) */
    STORE_DOWN,  /* the database is not reachable now (the API says 503) */
    STORE_BUSY,  /* too many operations queued (503) */
    STORE_ERROR, /* the database refused it (500) */
} store_status_t;

/* One row of an answer, valid during the done call only. */
typedef struct store_row {
    uint64_t    id;
    const char* json; /* the note (not NUL-terminated), or nullptr (DELETE) */
    size_t      len;
} store_row_t;

/* The most rows an answer has (a LIST asks for at most this many). */
#define STORE_MAX_ROWS 128
/* The longest text a note may have, in bytes. */
#define STORE_MAX_TEXT 4096

typedef struct store_req store_req_t;
typedef void (*store_done_fn)(store_req_t* req, store_status_t st, const store_row_t* rows, uint32_t n);

struct store_req {
    store_op_t    op;
    uint64_t      id;       /* GET, UPDATE, DELETE: the note; LIST: after */
    uint32_t      limit;    /* LIST: 1 .. STORE_MAX_ROWS */
    uint32_t      delay_ms; /* GET: a server-side sleep first (tests, MICROSERVICE_TEST_SLOW) */
    const char*   text;     /* CREATE, UPDATE: the caller's, valid until done or abandon */
    size_t        text_len;
    store_done_fn done;
    void*         priv;     /* the store's while submitted */
};

typedef struct store store_t;
typedef struct store_ops {
    void (*submit)(store_t* s, store_req_t* req);
    void (*abandon)(store_t* s, store_req_t* req);
    /* Whether changes are being heard now (a feed subscriber can be
     * served); they reach the feeds through the ev_hub_t (events.h). */
    bool (*events_up)(const store_t* s);
    /* Ends everything, on the loop's thread after the server has stopped:
     * may run the loop until the store's own waits have returned. Frees s. */
    void (*close)(store_t* s);
} store_ops_t;

struct store {
    const store_ops_t* ops;
};

static inline void store_submit(store_t* s, store_req_t* req) { s->ops->submit(s, req); }
static inline void store_abandon(store_t* s, store_req_t* req) { s->ops->abandon(s, req); }
static inline bool store_events_up(const store_t* s) { return s->ops->events_up(s); }
static inline void store_close(store_t* s) { s->ops->close(s); }

/* ---- The in-memory store (store_mem.c): one mem_db_t for the process, one
 * store_t per worker on it. Each change is published to hub by the writer,
 * under the notes' mutex, so that every feed hears changes in the order they
 * were made. */
typedef struct mem_db mem_db_t;
mem_db_t* mem_db_new(ev_hub_t* hub);
void      mem_db_free(mem_db_t* db);
store_t*  store_mem_new(mem_db_t* db);

/* ---- PostgreSQL (store_pg.c, built when libpq is found: SVC_WITH_PG):
 * connects in the background (the service starts without its database and
 * reconnects with backoff). listen: the service's LISTEN connection, which
 * this worker's store attaches to (pg_listen.h). nullptr: out of memory. */
typedef struct pg_listen pg_listen_t;
store_t* store_pg_new(const char* conninfo, pg_listen_t* listen, ht_loop_t* loop, uint32_t worker);

#endif /* SVC_STORE_H */
