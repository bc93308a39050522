/* events.h — note changes handed to every worker, each on its own loop.
 *
 * A change is heard on one thread: the worker whose write changed a note
 * (the in-memory store), or the loop that drives the service's one LISTEN
 * connection (PostgreSQL, pg_listen.h). Every worker's feed must hear it, on
 * that worker's own thread. An ev_hub_t is the process's; each worker's feed
 * joins it with an ev_sub_t. ev_hub_publish copies the change onto the
 * queue of every member that wants changes now (a feed with subscribers:
 * ev_hub_want), under the hub's mutex, and wakes the member's loop
 * (ht_loop__wake) if its queue was empty; the member's waker, on its loop's
 * thread, then hands the queued changes, in order, to its on_change. So a
 * worker without subscribers is not woken at all, and one that is behind is
 * woken once for many changes.
 *
 * A reset says the changes may have stopped or missed some (the LISTEN
 * connection was lost): the feed ends its streams and their clients resume
 * from the last id they saw. Changes still queued for a member when a reset
 * comes are dropped (their streams are about to end; a resume replays
 * creations, and feed.h says clients list again for the rest), so a member
 * has at most one reset pending and it runs before anything published
 * after it.
 *
 * Lifetimes: the hub outlives every member (created before the workers
 * start, freed after they are joined). A member is caller storage, joined
 * and left on its loop's thread; leaving drops what is still queued for it.
 * Publishing and resetting are thread-safe.
 */
#ifndef SVC_EVENTS_H
#define SVC_EVENTS_H

#include <ht/ht.h>

#include <stddef.h>
#include <stdint.h>

/* A change to a note: op is "created", "updated" or "deleted"; json is the
 * note (for "deleted", or when the note was too large for a NOTIFY payload:
 * {"id": N} only), len bytes, valid during the call. */
typedef void (*ev_change_fn)(void* ud, const char* op, uint64_t id, const char* json, size_t len);
/* The changes may have stopped or missed some: start over (see below). */
typedef void (*ev_reset_fn)(void* ud);

typedef struct ev_hub ev_hub_t;
typedef struct ev_item ev_item_t;

typedef struct ev_sub {
    struct ev_sub* next;  /* private: the hub's, under its mutex */
    ev_hub_t*      hub;
    ht_loop_t*     loop;
    ev_change_fn   on_change;
    ev_reset_fn    on_reset;
    void*          ud;
    ev_item_t*     head;  /* queued, under the hub's mutex */
    ev_item_t*     tail;
    bool           reset; /* a reset is due before head (under the mutex) */
    bool           want;  /* changes are queued for it (under the mutex) */
    ht_waker_t     waker;
} ev_sub_t;

ev_hub_t* ev_hub_new(void);
void      ev_hub_free(ev_hub_t* hub); /* no member left */

/* On loop's thread: joins, not wanting changes yet. */
void ev_hub_join(ev_hub_t* hub, ev_sub_t* sub, ht_loop_t* loop, ev_change_fn on_change,
                 ev_reset_fn on_reset, void* ud);
/* On the member's loop's thread: no more deliveries; what is queued is dropped. */
void ev_hub_leave(ev_sub_t* sub);
/* On the member's loop's thread: changes published from now on are (or are
 * no longer) queued for it. A member that starts wanting them does so
 * before it asks whether they flow (pg_listen_up), so that a reset between
 * the two is not missed. */
void ev_hub_want(ev_sub_t* sub, bool want);

/* Any thread. op: "created", "updated" or "deleted"; json: len bytes. A
 * member whose copy cannot be allocated gets a reset instead, so that its
 * subscribers start over rather than miss the change silently. */
void ev_hub_publish(ev_hub_t* hub, const char* op, uint64_t id, const char* json, size_t len);
/* Any thread: every member's on_reset (see above). */
void ev_hub_reset(ev_hub_t* hub);

#endif /* SVC_EVENTS_H */
