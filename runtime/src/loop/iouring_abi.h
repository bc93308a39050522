/* loop/iouring_abi.h — what the io_uring backend's two files share.
 *
 * loop_iouring_setup.c creates the ring (setup flags and their fallbacks,
 * the opcode probe, the mmap of the rings, the provided-buffer ring's
 * registration, ht_backend__init/free/info); loop_iouring.c submits ops and
 * dispatches their completions (the per-request path). This header holds
 * what both need: the kernel ABI and struct ht_backend.
 *
 * No liburing: the ABI structs and constants below are our own copies of
 * <linux/io_uring.h> (only the parts used), so the build does not depend on
 * the installed kernel headers being new enough.
 *
 * Private to the io_uring backend; include after loop/internal.h.
 */
#ifndef HT_LOOP_IOURING_ABI_H
#define HT_LOOP_IOURING_ABI_H

#include "loop/internal.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>

/* ------------------------------------------------- the kernel ABI (ours) --- */

#ifndef __NR_io_uring_setup
#  define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#  define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#  define __NR_io_uring_register 427
#endif

typedef struct {
    uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1;
    uint64_t user_addr;
} uring_sq_offsets_t;

typedef struct {
    uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1;
    uint64_t user_addr;
} uring_cq_offsets_t;

typedef struct {
    uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd;
    uint32_t resv[3];
    uring_sq_offsets_t sq_off;
    uring_cq_offsets_t cq_off;
} uring_params_t;
static_assert(sizeof(uring_params_t) == 120, "io_uring_params ABI");

typedef struct {
    uint8_t  opcode;
    uint8_t  flags;      /* IOSQE_* */
    uint16_t ioprio;     /* accept: IORING_ACCEPT_MULTISHOT */
    int32_t  fd;
    uint64_t off;        /* also addr2 */
    uint64_t addr;
    uint32_t len;
    uint32_t op_flags;   /* msg_flags, accept_flags, poll32_events, timeout_flags */
    uint64_t user_data;
    uint16_t buf_group;
    uint16_t personality;
    int32_t  splice_fd_in;
    uint64_t addr3;
    uint64_t pad2;
} uring_sqe_t;
static_assert(sizeof(uring_sqe_t) == 64, "io_uring_sqe ABI");

typedef struct {
    uint64_t user_data;
    int32_t  res;
    uint32_t flags;
} uring_cqe_t;

typedef struct { /* io_uring_buf: one provided-buffer ring entry */
    uint64_t addr;
    uint32_t len;
    uint16_t bid;
    uint16_t resv; /* entry 0's resv is the ring tail */
} uring_buf_t;

typedef struct {
    uint64_t ring_addr;
    uint32_t ring_entries;
    uint16_t bgid;
    uint16_t flags;
    uint64_t resv[3];
} uring_buf_reg_t;

typedef struct {
    uint32_t offset;
    uint32_t resv;
    uint64_t data;
} uring_rsrc_update_t;

typedef struct {
    uint8_t  last_op;
    uint8_t  ops_len;
    uint16_t resv;
    uint32_t resv2[3];
    struct {
        uint8_t  op;
        uint8_t  resv;
        uint16_t flags; /* PROBE_OP_SUPPORTED */
        uint32_t resv2;
    } ops[64];
} uring_probe_t;

typedef struct {
    uint64_t sigmask;
    uint32_t sigmask_sz;
    uint32_t pad;
    uint64_t ts;
} uring_getevents_arg_t;

typedef struct {
    int64_t tv_sec;
    long long tv_nsec;
} uring_timespec_t;

enum {
    SETUP_CQSIZE = 1u << 3,
    SETUP_SUBMIT_ALL = 1u << 7,
    SETUP_COOP_TASKRUN = 1u << 8,
    SETUP_SINGLE_ISSUER = 1u << 12,
    SETUP_DEFER_TASKRUN = 1u << 13,
    SETUP_NO_SQARRAY = 1u << 16,
};
enum { FEAT_SINGLE_MMAP = 1u << 0, FEAT_NODROP = 1u << 1, FEAT_EXT_ARG = 1u << 8 };
enum {
    ENTER_GETEVENTS = 1u << 0,
    ENTER_EXT_ARG = 1u << 3,
    ENTER_REGISTERED_RING = 1u << 4,
};
enum {
    OP_POLL_ADD = 6,
    OP_SENDMSG = 9,
    OP_TIMEOUT = 11,
    OP_ACCEPT = 13,
    OP_ASYNC_CANCEL = 14,
    OP_CLOSE = 19,
    OP_READ = 22,
    OP_SEND = 26,
    OP_RECV = 27,
};
enum { SQE_BUFFER_SELECT = 1u << 5 };
enum { CQE_F_BUFFER = 1u << 0, CQE_F_MORE = 1u << 1, CQE_BUFFER_SHIFT = 16 };
enum { ACCEPT_MULTISHOT = 1u << 0 };
enum { REGISTER_PROBE = 8, REGISTER_RING_FDS = 20, REGISTER_PBUF_RING = 22,
       REGISTER_RESIZE_RINGS = 33 };
enum { SQ_CQ_OVERFLOW = 1u << 1 }; /* *sq_flags: completions wait in the overflow list */
enum { PROBE_OP_SUPPORTED = 1u << 0 };
#define OFF_SQ_RING 0ull
#define OFF_CQ_RING 0x8000000ull
#define OFF_SQES    0x10000000ull

/* user_data values that are not ops (ops are at least 8-byte aligned). */
enum { UD_IGNORE = 1, UD_WAKE = 2, UD_TIMEOUT = 3 };

enum { RING_START = 16, RING_MAX = 64 }; /* provided buffers kept in the kernel's ring */
/* Where the kernel can resize rings (6.13, DEFER_TASKRUN only), they start
 * at one page each (64 SQEs; a 128-CQE ring with its header) and grow with
 * the ops in flight up to the sizes used without resizing (options.entries
 * SQEs, 8x that many CQEs). */
enum { SQ_START = 64, CQ_START = 128 };
enum { BGID = 0 };

/* ---------------------------------------------------------- the state --- */

struct ht_backend {
    int32_t  ring_fd;
    int32_t  enter_fd;      /* ring_fd, or its registered index */
    uint32_t enter_flags;   /* ENTER_REGISTERED_RING when registered */
    uint32_t setup_flags;
    uint32_t features;

    uint32_t* sq_head;
    uint32_t* sq_tail;
    uint32_t  sq_mask, sq_entries;
    uint32_t  sq_local_tail; /* published to *sq_tail before each enter */
    uring_sqe_t* sqes;
    struct msghdr* msgs;     /* one per SQE slot, for SENDMSG: sq_max of them */

    uint32_t* cq_head;
    uint32_t* cq_tail;
    uint32_t  cq_mask, cq_entries;
    uring_cqe_t* cqes;
    uint32_t* sq_flags;      /* the kernel's: SQ_CQ_OVERFLOW */

    /* Growth (IORING_REGISTER_RESIZE_RINGS): when an accepted connection
     * leaves more than grow_at ops in flight, or a batch fills the SQ
     * (sq_full). Without resizing, or at the largest sizes, grow_at is
     * UINT32_MAX. dead: the error that made the ring unreachable (see
     * ht_iouring__grow), returned by the next poll. */
    ht_loop_t* loop;
    uint32_t grow_at;
    uint32_t sq_max, cq_max;
    bool     resizable;
    bool     sq_full;
    uint32_t resizes;
    ht_result_t dead;
    bool test_map_fails;     /* HT_LOOP__TEST_DISABLE=growmap */

    void*  sq_map;
    size_t sq_map_len;
    void*  cq_map; /* == sq_map with IORING_FEAT_SINGLE_MMAP */
    size_t cq_map_len;
    size_t sqes_len;

    /* provided-buffer ring */
    bool         pbuf;
    uring_buf_t* br;
    size_t       br_len;
    uint32_t     br_mask;
    uint16_t     br_tail;    /* local tail */
    uint32_t     br_in;      /* buffers the kernel holds in the ring */
    uint32_t     br_target;  /* buffers to keep in the ring; grows to br_max */
    uint32_t     br_max;

    bool multishot_accept;
    bool ext_arg;
    bool single_mmap;
    uint64_t waits, send_resumes, nobufs_retries;

    uint64_t wake_val;
    /* IORING_OP_TIMEOUT fallback: armed count and earliest armed deadline */
    uint32_t timeouts_armed;
    uint64_t timeout_deadline;
    uring_timespec_t timeout_ts;
};

/* Grows the rings for the load seen (see grow_at above); the caller has
 * flushed the SQ (nothing is done otherwise). Safe in the middle of
 * dispatching a batch: the kernel copies the CQEs not yet reaped into the
 * new CQ at the same indices, and the new rings are mapped in place of the
 * old. If the kernel refuses, the rings keep their size; if the new ones
 * cannot be mapped, be->dead is set. loop_iouring_setup.c. */
void ht_iouring__grow(ht_loop_t* loop);

/* Queues the read of loop->wake_fd that reports a wake (UD_WAKE); false if
 * the SQ is full and cannot be flushed. loop_iouring.c; init arms the first. */
bool ht_iouring__wake_arm(ht_loop_t* loop);

#endif /* HT_LOOP_IOURING_ABI_H */
