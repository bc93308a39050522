/* pg_listen.c — the service's one LISTEN connection (pg_listen.h). */
#include "pg_listen.h"

#include "pg_conn.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char LISTEN_SQL[] = "SET client_min_messages = warning; LISTEN notes";

struct pg_listen {
    const char*     conninfo;
    ev_hub_t*       hub;
    pthread_mutex_t mu;     /* driver: who drives the connection */
    ht_loop_t*      driver; /* the first worker's loop, or nullptr */
    atomic_bool     up;     /* LISTEN in effect: written on the driver's thread */
    pg_conn_t       c;      /* on the driver's loop */
};

/* "OP ID JSON" from the trigger. */
static void on_notify(pg_listen_t* l, const char* payload) {
    const char* sp = strchr(payload, ' ');
    if (sp == nullptr) return;
    char op[8];
    size_t n = (size_t) (sp - payload);
    if (n >= sizeof op) return;
    memcpy(op, payload, n);
    op[n] = 0;
    if (strcmp(op, "created") != 0 && strcmp(op, "updated") != 0 && strcmp(op, "deleted") != 0) return;
    char* end;
    uint64_t id = strtoull(sp + 1, &end, 10);
    const char* json = *end == ' ' ? end + 1 : "";
    ev_hub_publish(l->hub, op, id, json, strlen(json));
}

static void l_input(pg_conn_t* c) {
    pg_listen_t* l = c->owner;
    while (!PQisBusy(c->pg)) {
        PGresult* r = PQgetResult(c->pg);
        if (r == nullptr) {
            if (!atomic_load_explicit(&l->up, memory_order_relaxed)) {
                atomic_store(&l->up, true);
                pg_conn_ok(c);
            }
            break;
        }
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            pg_conn_fail(c, "LISTEN failed");
            return;
        }
    }
    PGnotify* n;
    while ((n = PQnotifies(c->pg)) != nullptr) {
        on_notify(l, n->extra);
        PQfreemem(n);
    }
}

static void l_up(pg_conn_t* c) {
    if (PQsendQuery(c->pg, LISTEN_SQL) != 1) {
        pg_conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    pg_conn_flush(c);
}

static void l_down(pg_conn_t* c) {
    pg_listen_t* l = c->owner;
    if (atomic_exchange(&l->up, false)) ev_hub_reset(l->hub);
}

static void l_cancelled(pg_conn_t* c) { (void) c; }

static const pg_conn_ops_t l_ops = { l_up, l_input, l_down, l_cancelled };

pg_listen_t* pg_listen_new(const char* conninfo, ev_hub_t* hub) {
    pg_listen_t* l = calloc(1, sizeof *l);
    if (l == nullptr) return nullptr;
    l->conninfo = conninfo;
    l->hub = hub;
    pthread_mutex_init(&l->mu, nullptr);
    atomic_init(&l->up, false);
    return l;
}

void pg_listen_free(pg_listen_t* l) {
    if (l == nullptr) return;
    pthread_mutex_destroy(&l->mu);
    free(l);
}

void pg_listen_attach(pg_listen_t* l, ht_loop_t* loop) {
    pthread_mutex_lock(&l->mu);
    bool first = l->driver == nullptr;
    if (first) l->driver = loop;
    pthread_mutex_unlock(&l->mu);
    if (!first) return;
    pg_conn_init(&l->c, loop, l->conninfo, "listen", &l_ops, l);
    pg_conn_start(&l->c);
}

void pg_listen_detach(pg_listen_t* l, ht_loop_t* loop) {
    pthread_mutex_lock(&l->mu);
    bool driver = l->driver == loop;
    pthread_mutex_unlock(&l->mu);
    if (driver) pg_conn_close(&l->c); /* down runs if it was up: the hub is reset */
}

bool pg_listen_up(const pg_listen_t* l) { return atomic_load(&l->up); }
