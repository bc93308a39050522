/* loop/clock.h — internal: the loop's cached clocks, read without a call.
 *
 * The server reads them on every request (a connection's deadline, the Date
 * line, the file cache's age); ht_loop__now_ms and ht_loop__wall_s are calls
 * into loop.c, ~4 instructions each with the call. struct ht_loop
 * (loop/internal.h) begins with this struct, so the runtime's own modules
 * read it through the opaque pointer; applications keep the public calls.
 * Both values change only in ht_loop__update_time, after a kernel wait.
 */
#ifndef HT_LOOP_CLOCK_H
#define HT_LOOP_CLOCK_H

#include <ht/loop.h>

typedef struct ht_loop_clock {
    uint64_t now_ms; /* ht_loop__now_ms */
    int64_t  wall_s; /* ht_loop__wall_s */
} ht_loop_clock_t;

HT_INLINE uint64_t ht_loop__now_ms_(const ht_loop_t* loop) {
    return ((const ht_loop_clock_t*) (const void*) loop)->now_ms;
}

HT_INLINE int64_t ht_loop__wall_s_(const ht_loop_t* loop) {
    return ((const ht_loop_clock_t*) (const void*) loop)->wall_s;
}

#endif /* HT_LOOP_CLOCK_H */
