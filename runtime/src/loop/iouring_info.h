/* loop/iouring_info.h — the io_uring backend's ht_backend_info_t.features
 * bits: which kernel features it ended up using (loop_iouring_setup.c sets them,
 * tests and benchmarks read them). Kept out of internal.h, which is every
 * backend's contract. */
#ifndef HT_LOOP_IOURING_INFO_H
#define HT_LOOP_IOURING_INFO_H

enum {
    HT_BE_DEFER_TASKRUN = 1u << 0,
    HT_BE_COOP_TASKRUN = 1u << 1,
    HT_BE_NO_SQARRAY = 1u << 2,
    HT_BE_REG_RING = 1u << 3,
    HT_BE_PBUF_RING = 1u << 4,
    HT_BE_MULTISHOT_ACCEPT = 1u << 5,
    HT_BE_EXT_ARG = 1u << 6,
    HT_BE_SINGLE_MMAP = 1u << 7,
    HT_BE_RESIZE_RINGS = 1u << 8, /* rings start small and grow (6.13, DEFER_TASKRUN) */
};

#endif /* HT_LOOP_IOURING_INFO_H */
