/* microservice — a JSON API over notes, a live feed of their changes, and
 * the web UI, in one binary.
 *
 *   microservice [-p PORT] [-b ADDR] [-w N] [--db CONNINFO]
 *     -p PORT         port (default 8080; 0 picks one)
 *     -b ADDR         address to bind (default: every interface)
 *     -w N            worker threads, one loop each, pinned to a core each
 *                     (default 1; 0: one per core)
 *     --db CONNINFO   keep the notes in PostgreSQL: a libpq conninfo string
 *                     ("host=/run/postgresql dbname=notes") or a URI
 *                     (postgresql://user@host/db); DATABASE_URL works too.
 *                     Without it the notes are kept in memory.
 * Prints "listening on ADDR:PORT" once ready; SIGINT/SIGTERM stop it (in-flight
 * requests finish, feed streams end).
 *
 * The pieces: routes.ht (the routes; htgen compiles them and the UI in
 * ./ui), api.c (the handlers), json.c (bodies in, JSON out), store.h (where
 * notes live: store_mem.c, store_pg.c over pg_conn.c), feed.c (Server-Sent
 * Events; changes reach it through events.c, from the in-memory store or
 * pg_listen.c). Thread-per-core as examples/workers: each worker has its
 * own loop, acceptor, store (with PostgreSQL: its own query connection) and
 * feed; app.h says how handlers find theirs.
 */
#include "svc_routes.h"

#include "app.h"
#ifdef SVC_WITH_PG
#include "pg_listen.h"
#endif

#include <ht/ht.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Thread_local svc_worker_t* self;

svc_worker_t* svc_worker(void) { return self; }

/* Signal context: async-signal-safe calls only. Shutdown has begun. */
static void on_signal(ht_server_t* server, int signo) {
    (void) server, (void) signo;
    static const char msg[] = "microservice: shutting down (again to force)\n";
    (void) !write(2, msg, sizeof msg - 1);
}

/* Shutdown wakes every loop serving the server: the feed's streams end now
 * rather than at the end of the drain time. */
static void on_wake(ht_loop_t* loop, ht_waker_t* wk) {
    (void) loop;
    svc_worker_t* w = wk->data;
    if (!w->closing && ht_server__shutting_down(w->app->server)) {
        w->closing = true;
        feed_close(w->feed);
    }
}

static store_t* store_new(struct svc_app* app, ht_loop_t* loop, uint32_t id) {
#ifdef SVC_WITH_PG
    if (app->conninfo) return store_pg_new(app->conninfo, app->listen, loop, id);
#else
    (void) loop, (void) id;
#endif
    return store_mem_new(app->mem);
}

static void worker_main(ht_workers_t* pool, uint32_t id, ht_alloc_t* a, void* ud) {
    struct svc_app* app = ud;
    ht_loop_t* loop = nullptr;
    ht_result_t r = ht_loop__init(&loop, a);
    if (r != 0) {
        fprintf(stderr, "microservice: worker %u: loop: %s\n", (unsigned) id, ht_result__str(r));
        ht_server__shutdown((ht_server_t*) app->server);
        return;
    }
    svc_worker_t w = { .app = app, .id = id, .loop = loop, .waker = { .data = &w } };
    w.store = store_new(app, loop, id);
    w.feed = w.store ? feed_new(w.store, app->events, loop) : nullptr;
    ht_acceptor_t acc = { 0 };
    if (w.feed == nullptr) {
        r = -ENOMEM;
    } else {
        self = &w;
        ht_loop__waker_add(loop, &w.waker, on_wake);
        r = ht_server__serve(&acc, app->server, loop, a, svc__dispatch);
    }
    if (r != 0) {
        fprintf(stderr, "microservice: worker %u: serve: %s\n", (unsigned) id, ht_result__str(r));
        ht_server__shutdown((ht_server_t*) app->server);
    } else {
        ht_workers__ready(pool, id, (ht_worker_stop_fn) ht_loop__wake, loop);
        ht_loop__run(loop); /* until the server has shut down and drained */
        ht_workers__ready(pool, id, nullptr, nullptr);
    }
    /* Every connection is closed now, and with them the feed's streams. */
    if (w.feed) feed_close(w.feed);
    ht_server__serve_finalize(&acc);
    ht_loop__waker_remove(loop, &w.waker);
    if (w.store) store_close(w.store); /* may run the loop until its waits are back */
    feed_free(w.feed);
    self = nullptr;
    ht_loop__free(loop, a);
}

static void usage(FILE* f) {
    fprintf(f, "usage: microservice [options]\n"
               "A JSON API over examples/microservice/routes.ht (see its README section).\n"
               "\n"
               "  -p, --port PORT      port to listen on (default 8080; 0 picks a free one)\n"
               "  -b, --bind ADDR      address to bind (default: all)\n"
               "  -w, --workers N      worker threads (default 1; 0: one per core; at most 256)\n"
               "      --db CONNINFO    PostgreSQL store (default: $DATABASE_URL, else in memory)\n"
               "  -h, --help           this help\n");
}

int main(int argc, char** argv) {
    static const struct option opts[] = {
        { "port", required_argument, nullptr, 'p' }, { "bind", required_argument, nullptr, 'b' },
        { "workers", required_argument, nullptr, 'w' }, { "db", required_argument, nullptr, 'D' },
        { "help", no_argument, nullptr, 'h' },       { nullptr, 0, nullptr, 0 },
    };
    long port = 8080, workers = 1;
    const char* bind = nullptr;
    const char* db = nullptr;
    opterr = 0; /* our own one-line messages */
    int c;
    while ((c = getopt_long(argc, argv, ":p:b:w:h", opts, nullptr)) != -1) {
        char* end;
        switch (c) {
        case 'p':
            port = strtol(optarg, &end, 10);
            if (!*optarg || *end || port < 0 || port > 65535) {
                fprintf(stderr, "microservice: bad port '%s' (want 0..65535)\n", optarg);
                return 2;
            }
            break;
        case 'w':
            workers = strtol(optarg, &end, 10);
            if (!*optarg || *end || workers < 0 || workers > 256) {
                fprintf(stderr, "microservice: bad worker count '%s' (want 0..256)\n", optarg);
                return 2;
            }
            break;
        case 'b': bind = optarg; break;
        case 'D': db = optarg; break;
        case 'h': usage(stdout); return 0;
        case ':':
            fprintf(stderr, "microservice: option '%s' needs a value (microservice -h for help)\n",
                    argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "microservice: unknown option '%s' (microservice -h for help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "microservice: unexpected argument '%s' (microservice -h for help)\n", argv[optind]);
        return 2;
    }
    if (db == nullptr && getenv("DATABASE_URL") && *getenv("DATABASE_URL")) db = getenv("DATABASE_URL");
#ifndef SVC_WITH_PG
    if (db) {
        fprintf(stderr, "microservice: built without PostgreSQL support (libpq-dev was not found)\n");
        return 2;
    }
#endif
    const char* slow = getenv("MICROSERVICE_TEST_SLOW");
    struct svc_app app = { .conninfo = db, .test_slow = slow && strcmp(slow, "1") == 0 };
    if ((app.events = ev_hub_new()) == nullptr) return 1;
#ifdef SVC_WITH_PG
    if (db && (app.listen = pg_listen_new(db, app.events)) == nullptr) return 1;
#endif
    if (db == nullptr && (app.mem = mem_db_new(app.events)) == nullptr) return 1;

    /* user_data: the handlers' context. body_policy: each route's `body`
     * limit applies before the body is read (413). */
    ht_config_t cfg = { .user_data = &app, .body_policy = svc__body_policy };
    ht_server_t server = { .config = &cfg, .signal_handler = on_signal };
    ht_result_t r = ht_server__listen(&server, bind, (uint16_t) port, 1024);
    if (r != 0) {
        fprintf(stderr, "microservice: listen: %s\n", ht_result__str(r));
        return 1;
    }
    app.server = &server;
    ht_alloc_t* a = ht_alloc__init();
    ht_workers_t* pool = nullptr;
    if ((r = ht_workers__init(&pool, (uint32_t) workers, a)) != 0 ||
        (r = ht_workers__start(pool, worker_main, &app)) != 0) {
        fprintf(stderr, "microservice: workers: %s\n", ht_result__str(r));
        return 1;
    }
    ht_signal__install_default(&server);
    printf("listening on %s:%u (%u worker%s, notes in %s)\n", bind ? bind : "*",
           (unsigned) ht_server__port(&server), (unsigned) ht_workers__count(pool),
           ht_workers__count(pool) == 1 ? "" : "s", db ? "PostgreSQL" : "memory");
    fflush(stdout);
    r = ht_workers__join(pool);
    ht_workers__free(pool);
    ht_alloc__finalize(a);
    ht_server__close(&server);
    mem_db_free(app.mem);
#ifdef SVC_WITH_PG
    pg_listen_free(app.listen);
#endif
    ev_hub_free(app.events);
    return r == 0 ? 0 : 1;
}
