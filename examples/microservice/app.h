/* app.h — the service's state: what is shared, and what is one worker's.
 *
 * struct svc_app is the handlers' context (`context struct svc_app` in
 * routes.ht: ht_config_t.user_data, passed to every handler by
 * svc__dispatch). It is shared by every worker and read-only once they run.
 *
 * Per-worker state (its loop, store and feed) cannot go through user_data:
 * the server's config, and so user_data, is one for all acceptors. Handlers
 * run on their worker's thread (ht/server.h), so worker_main records its
 * svc_worker_t in a thread-local pointer and svc_worker() returns it: no
 * lookup, no lock, and nothing of one worker is ever touched by another
 * (the in-memory store, shared on purpose, has its own mutex).
 */
#ifndef SVC_APP_H
#define SVC_APP_H

#include "feed.h"
#include "store.h"

struct svc_app {
    const char*        conninfo;  /* --db or DATABASE_URL; nullptr: in memory */
    bool               test_slow; /* MICROSERVICE_TEST_SLOW=1 (tests only): GET
                                   * /api/notes/{id}?delay_ms=N sleeps N ms on the
                                   * database server first */
    const ht_server_t* server;
    mem_db_t*          mem;       /* in memory: the notes, for every worker */
    ev_hub_t*          events;    /* changes, to every worker's feed */
    pg_listen_t*       listen;    /* with PostgreSQL: the LISTEN connection */
};

typedef struct svc_worker {
    struct svc_app* app;
    uint32_t        id;
    ht_loop_t*      loop;
    store_t*        store;
    feed_t*         feed;
    ht_waker_t      waker;   /* learns of shutdown: ends the feed's streams */
    bool            closing;
} svc_worker_t;

/* The worker running on the calling thread (nullptr outside workers). */
svc_worker_t* svc_worker(void);

#endif /* SVC_APP_H */
