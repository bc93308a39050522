/* feed.h — GET /api/notes/events: note changes as Server-Sent Events.
 *
 * One feed per worker, for the subscribers connected to that worker; it
 * hears every change through the service's ev_hub_t (events.h: from
 * pg_listen.c's LISTEN connection, or the in-memory store's writes), and
 * reads the backlog from the worker's store. Events:
 *
 *   id: 42              (created only: a note id, what Last-Event-ID resumes from)
 *   event: created      (or updated, deleted)
 *   data: {"id": 42, "text": "...", "created_at": "..."}    ({"id": 42} for deleted)
 *
 * Resuming. A subscriber that sends Last-Event-ID: N (EventSource does when
 * it reconnects by itself) or asks for ?after=N first gets every note with an
 * id above N as a created event, in id order, a page at a time as it reads,
 * then the live events, held meanwhile. Delivery is at least once: a note
 * committed while the backlog is read may come in both, and NOTIFY reaches
 * listeners a moment after the writer's commit, so an event for a change
 * made just before subscribing may still arrive live. Clients apply events
 * by note id. Updates and deletions made while a client was away are not
 * replayed: a client that needs them lists again (the UI does). Ids come
 * from a sequence, so two notes committed out of id order can make a
 * resume miss the lower one: the same remedy.
 *
 * Slow readers. Events go out at once (ht_response__write). When the
 * stream's send buffer is full (-EAGAIN) they wait in the subscriber's own
 * queue, at most SUB_MAX_QUEUED bytes (a burst of changes fills the send
 * buffer of a healthy reader too); past that the subscriber is dropped: its
 * stream ends and it is forgotten, and no one else waits for it. A client
 * that was dropped reconnects with Last-Event-ID and catches up.
 *
 * When the changes stop (the LISTEN connection was lost: a reset) every
 * subscriber is ended the same way, so that none waits for events that were
 * missed; new ones are refused (503) until the events flow again.
 */
#ifndef SVC_FEED_H
#define SVC_FEED_H

#include "store.h"

typedef struct feed feed_t;

/* A feed on the worker's store (which it queries for the backlog), hearing
 * changes from hub (joined on loop's thread, which is the feed's). */
feed_t* feed_new(store_t* store, ev_hub_t* hub, ht_loop_t* loop);
/* Frees a feed without subscribers (after feed_close); leaves the hub. */
void feed_free(feed_t* f);

/* The handler's part: answers res (503 when events do not flow, or a
 * stream). resume: send the notes with an id above `after` first. */
void feed_subscribe(feed_t* f, ht_response_t* res, ht_alloc_t* a, bool resume, uint64_t after);

/* From the hub (ev_change_fn, ev_reset_fn; ud is the feed). */
void feed_on_event(void* f, const char* op, uint64_t id, const char* json, size_t len);
void feed_on_reset(void* f);

/* Shutdown: ends every stream, refuses new subscribers. */
void feed_close(feed_t* f);

#endif /* SVC_FEED_H */
