/* The handlers' context of tests/codegen/dispatch/routes.ht (`context
 * dsp_ctx_t "dsp_ctx.h"`): what each handler saw, for check_dispatch. */
#ifndef DSP_CTX_H
#define DSP_CTX_H

#include <ht/slice.h>

#include <stdbool.h>
#include <stdint.h>

typedef struct dsp_ctx {
    int calls;
    const char* last; /* the handler's name */
    uint64_t id;
    ht_slice_t name;
    bool pending; /* ht_request__body_pending when it ran */
} dsp_ctx_t;

#endif
