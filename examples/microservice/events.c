/* events.c — note changes handed to every worker (events.h). */
#include "events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ev_item {
    ev_item_t* next;
    uint64_t   id;
    size_t     len;
    char       op[8];
    char       json[]; /* len bytes, NUL-terminated */
};

struct ev_hub {
    pthread_mutex_t mu;
    ev_sub_t*       subs;
};

ev_hub_t* ev_hub_new(void) {
    ev_hub_t* hub = calloc(1, sizeof *hub);
    if (hub) pthread_mutex_init(&hub->mu, nullptr);
    return hub;
}

void ev_hub_free(ev_hub_t* hub) {
    if (hub == nullptr) return;
    pthread_mutex_destroy(&hub->mu);
    free(hub);
}

static void drop(ev_item_t* e) {
    while (e) {
        ev_item_t* next = e->next;
        free(e);
        e = next;
    }
}

/* The member's loop's thread: what was queued goes to its feed. */
static void on_wake(ht_loop_t* loop, ht_waker_t* w) {
    (void) loop;
    ev_sub_t* sub = w->data;
    pthread_mutex_lock(&sub->hub->mu);
    ev_item_t* e = sub->head;
    bool reset = sub->reset;
    sub->head = sub->tail = nullptr;
    sub->reset = false;
    pthread_mutex_unlock(&sub->hub->mu);
    if (reset) sub->on_reset(sub->ud);
    while (e) {
        ev_item_t* next = e->next;
        sub->on_change(sub->ud, e->op, e->id, e->json, e->len);
        free(e);
        e = next;
    }
}

void ev_hub_join(ev_hub_t* hub, ev_sub_t* sub, ht_loop_t* loop, ev_change_fn on_change,
                 ev_reset_fn on_reset, void* ud) {
    *sub = (ev_sub_t){ .hub = hub, .loop = loop, .on_change = on_change, .on_reset = on_reset,
                       .ud = ud, .waker = { .data = sub } };
    ht_loop__waker_add(loop, &sub->waker, on_wake);
    pthread_mutex_lock(&hub->mu);
    sub->next = hub->subs;
    hub->subs = sub;
    pthread_mutex_unlock(&hub->mu);
}

void ev_hub_leave(ev_sub_t* sub) {
    ev_hub_t* hub = sub->hub;
    ht_loop__waker_remove(sub->loop, &sub->waker);
    pthread_mutex_lock(&hub->mu);
    for (ev_sub_t** p = &hub->subs; *p; p = &(*p)->next) {
        if (*p == sub) {
            *p = sub->next;
            break;
        }
    }
    ev_item_t* e = sub->head;
    sub->head = sub->tail = nullptr;
    pthread_mutex_unlock(&hub->mu);
    drop(e);
}

void ev_hub_want(ev_sub_t* sub, bool want) {
    pthread_mutex_lock(&sub->hub->mu);
    sub->want = want;
    pthread_mutex_unlock(&sub->hub->mu);
}

/* Under hub->mu. A member with something queued has a wake on its way:
 * its waker takes the whole queue. */
static bool idle(const ev_sub_t* sub) { return sub->head == nullptr && !sub->reset; }

/* Under hub->mu: the queue is dropped and a reset is due (events.h). */
static void reset_locked(ev_sub_t* sub) {
    bool wake = idle(sub);
    drop(sub->head);
    sub->head = sub->tail = nullptr;
    sub->reset = true;
    if (wake) ht_loop__wake(sub->loop);
}

void ev_hub_publish(ev_hub_t* hub, const char* op, uint64_t id, const char* json, size_t len) {
    pthread_mutex_lock(&hub->mu);
    for (ev_sub_t* sub = hub->subs; sub; sub = sub->next) {
        if (!sub->want) continue;
        ev_item_t* e = malloc(sizeof *e + len + 1);
        if (e == nullptr) {
            reset_locked(sub);
            continue;
        }
        *e = (ev_item_t){ .id = id, .len = len };
        strncpy(e->op, op, sizeof e->op - 1);
        memcpy(e->json, json, len);
        e->json[len] = 0;
        bool wake = idle(sub);
        if (sub->tail) sub->tail->next = e;
        else sub->head = e;
        sub->tail = e;
        if (wake) ht_loop__wake(sub->loop);
    }
    pthread_mutex_unlock(&hub->mu);
}

void ev_hub_reset(ev_hub_t* hub) {
    pthread_mutex_lock(&hub->mu);
    for (ev_sub_t* sub = hub->subs; sub; sub = sub->next)
        if (sub->want) reset_locked(sub);
    pthread_mutex_unlock(&hub->mu);
}
