/* pg_listen.h — the service's one LISTEN connection.
 *
 * Changes come from PostgreSQL: the trigger store_pg.c installs sends
 * "OP ID JSON" on channel `notes` in the writer's transaction, so every
 * instance sharing the database hears every committed change. One
 * connection per service instance listens, driven by the loop of the first
 * worker to attach; each notification is published once to the ev_hub_t,
 * which hands it to every worker's feed (events.h). One LISTEN connection
 * per worker made PostgreSQL send every change, and the service parse it,
 * once per worker: with 2 workers an insert cost twice the CPU in both
 * (BENCHMARKS.md, "Microservice on PostgreSQL").
 *
 * While the connection is down (lost, or not yet up) pg_listen_up is false
 * and the feeds refuse subscribers; when an established one is lost the hub
 * gets a reset, so that no subscriber waits for changes that were missed.
 * pg_conn.c reconnects with backoff.
 *
 * Lifetime: pg_listen_new before the workers start, pg_listen_free after
 * they are joined. Each worker calls pg_listen_attach on its loop's thread
 * when it starts and pg_listen_detach when it ends; the driving worker's
 * detach closes the connection, and that worker then runs its loop until
 * idle (as store_pg.c's close does) before freeing it. Workers detach only
 * at shutdown: the others do not need the changes any more then.
 */
#ifndef SVC_PG_LISTEN_H
#define SVC_PG_LISTEN_H

#include "events.h"

#include <ht/ht.h>

typedef struct pg_listen pg_listen_t;

/* conninfo and hub are borrowed and outlive it. nullptr: out of memory. */
pg_listen_t* pg_listen_new(const char* conninfo, ev_hub_t* hub);
void         pg_listen_free(pg_listen_t* l);

/* The first call drives the connection on loop (started now). */
void pg_listen_attach(pg_listen_t* l, ht_loop_t* loop);
/* On loop's thread. The driver's: the connection is closed for good. */
void pg_listen_detach(pg_listen_t* l, ht_loop_t* loop);
/* Any thread: LISTEN is in effect, changes are heard. */
bool pg_listen_up(const pg_listen_t* l);

#endif /* SVC_PG_LISTEN_H */
