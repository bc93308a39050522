/* The handlers' context of the downstream app (routes.ht: context app_state_t
 * "state.h"): included by the generated app_routes.h, found because
 * hachettp_add_routes puts the directory of routes.ht on the include path. */
#ifndef APP_STATE_H
#define APP_STATE_H

typedef struct app_state {
    const char* backend;
} app_state_t;

#endif
