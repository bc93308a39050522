/* base/result.c — error strings and statuses, derived from HT_ERRORS. */
#include <ht/types.h>

#include <string.h>

static const struct {
    uint16_t    status;
    const char* msg;
} errors[HT_E__COUNT] = {
#define HT_X_(name, status, msg) [name##__IDX_] = { status, msg },
    HT_ERRORS(HT_X_)
#undef HT_X_
};

static int32_t error_index(ht_result_t r) {
    int32_t i = HT_E__BASE - r;
    return (r <= HT_E__BASE && i < HT_E__COUNT) ? i : -1;
}

const char* ht_result__str(ht_result_t r) {
    if (r >= 0) return "success";
    int32_t i = error_index(r);
    if (i >= 0) return errors[i].msg;
    if (r > -4096) return strerror(-r); /* glibc: static strings for known codes */
    return "unknown error";
}

uint16_t ht_result__status(ht_result_t r) {
    int32_t i = error_index(r);
    return i >= 0 ? errors[i].status : 500;
}
