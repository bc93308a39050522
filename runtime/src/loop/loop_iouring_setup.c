/* loop_iouring_setup.c — the io_uring backend's ring: created, probed,
 * mapped and freed (ht_backend__init/free), and what it ended up using
 * (ht_backend__info). Ops and completions are in loop_iouring.c; the kernel
 * ABI and struct ht_backend in loop/iouring_abi.h.
 *
 * What the kernel offers is used, with a fallback each (older kernels reject
 * setup flags they do not know: they are dropped one at a time on EINVAL):
 *   - SINGLE_ISSUER + DEFER_TASKRUN (6.1): completions are produced only
 *     inside our enter call, in one batch, no IPIs; else COOP_TASKRUN
 *     (5.19), else plain. NO_SQARRAY (6.6) drops the SQ indirection array.
 *   - Registered ring fd (5.18): enter skips the fd table lookup.
 *   - Provided-buffer ring (5.19), registered here (how it is used: see
 *     loop_iouring.c); without it a recv takes its buffer at submit.
 *   - Ring resizing (IORING_REGISTER_RESIZE_RINGS, 6.13; DEFER_TASKRUN
 *     rings only): the rings are shrunk to one page each before they are
 *     mapped, and grown when an accepted connection leaves more ops in
 *     flight than half the CQ, or a batch fills the SQ (the SQ is flushed
 *     first; a burst that overflows the CQ, such as a multishot accept's,
 *     is kept by the kernel, IORING_FEAT_NODROP, until the next enter).
 *     Not a check per loop iteration: that cost hello 10 instructions per
 *     keep-alive request (+0.5%); these cost none. Never beyond the fixed
 *     sizes used without it (options.entries SQEs, 8x as many CQEs), never
 *     shrunk again.
 *   - Every opcode we issue must exist (5.6, probed): else io_uring is
 *     reported unavailable, as on a kernel without it.
 *
 * Tests force the fallbacks with the environment variable
 * HT_LOOP__TEST_DISABLE (read once per ht_loop__init, meant for tests only),
 * a comma-separated list of: defer, coop, sqarray, submitall, regring, pbuf,
 * multishot, extarg, singlemmap, resize, or "all"; "uring" makes
 * io_uring_setup look unavailable (ENOSYS), "probe" makes the opcode probe fail (a kernel too
 * old for the opcodes we use: reported as unavailable too), "growmap" makes
 * the mapping of grown rings fail (ENOMEM).
 */
#include "loop/internal.h"
#include "loop/iouring_abi.h"
#include "loop/iouring_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

const char* ht_loop__backend(void) { return "io_uring"; }

static int sys_setup(uint32_t entries, uring_params_t* p) {
    return (int) syscall(__NR_io_uring_setup, entries, p);
}
static int sys_register(int fd, unsigned op, void* arg, unsigned n) {
    return (int) syscall(__NR_io_uring_register, fd, op, arg, n);
}

void ht_backend__info(const ht_loop_t* loop, ht_backend_info_t* out) {
    const ht_backend_t* be = loop->be;
    uint32_t f = 0;
    if (be->setup_flags & SETUP_DEFER_TASKRUN) f |= HT_BE_DEFER_TASKRUN;
    if (be->setup_flags & SETUP_COOP_TASKRUN) f |= HT_BE_COOP_TASKRUN;
    if (be->setup_flags & SETUP_NO_SQARRAY) f |= HT_BE_NO_SQARRAY;
    if (be->enter_flags & ENTER_REGISTERED_RING) f |= HT_BE_REG_RING;
    if (be->pbuf) f |= HT_BE_PBUF_RING;
    if (be->multishot_accept) f |= HT_BE_MULTISHOT_ACCEPT;
    if (be->ext_arg) f |= HT_BE_EXT_ARG;
    if (be->single_mmap) f |= HT_BE_SINGLE_MMAP;
    if (be->resizable) f |= HT_BE_RESIZE_RINGS;
    *out = (ht_backend_info_t) { .features = f, .waits = be->waits,
                                 .send_resumes = be->send_resumes,
                                 .nobufs_retries = be->nobufs_retries,
                                 .sq_entries = be->sq_entries,
                                 .cq_entries = be->cq_entries,
                                 .ring_resizes = be->resizes };
}

/* --------------------------------------------------------- init / free --- */

static bool disabled(const char* list, const char* what) {
    if (!list) return false;
    /* "all": every optional feature, not the ones that fake failures */
    if (strstr(list, "all") && strcmp(what, "uring") != 0 && strcmp(what, "probe") != 0 &&
        strcmp(what, "growmap") != 0)
        return true;
    size_t n = strlen(what);
    for (const char* p = list; (p = strstr(p, what)); p += n) {
        bool start_ok = p == list || p[-1] == ',';
        bool end_ok = p[n] == '\0' || p[n] == ',';
        if (start_ok && end_ok) return true;
    }
    return false;
}

static void unmap_rings(ht_backend_t* be) {
    if (be->sqes) munmap(be->sqes, be->sqes_len);
    if (be->cq_map && be->cq_map != be->sq_map) munmap(be->cq_map, be->cq_map_len);
    if (be->sq_map) munmap(be->sq_map, be->sq_map_len);
    be->sqes = nullptr;
    be->cq_map = be->sq_map = nullptr;
}

/* No MAP_POPULATE: ring pages count towards RSS only once touched. */
static ht_result_t map_rings(ht_backend_t* be, const uring_params_t* p, bool single_mmap) {
    size_t sq_len = p->sq_off.array + (size_t) p->sq_entries * sizeof(uint32_t);
    if (be->setup_flags & SETUP_NO_SQARRAY) sq_len = p->sq_off.flags + sizeof(uint32_t);
    size_t cq_len = p->cq_off.cqes + (size_t) p->cq_entries * sizeof(uring_cqe_t);
    if (single_mmap) {
        if (cq_len > sq_len) sq_len = cq_len;
        cq_len = sq_len;
    }
    void* sq = mmap(nullptr, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, be->ring_fd,
                    OFF_SQ_RING);
    if (sq == MAP_FAILED) return -errno;
    be->sq_map = sq;
    be->sq_map_len = sq_len;
    if (single_mmap) {
        be->cq_map = sq;
    } else {
        void* cq = mmap(nullptr, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED,
                        be->ring_fd, OFF_CQ_RING);
        if (cq == MAP_FAILED) return -errno;
        be->cq_map = cq;
    }
    be->cq_map_len = cq_len;
    be->sqes_len = (size_t) p->sq_entries * sizeof(uring_sqe_t);
    void* sqes = mmap(nullptr, be->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED,
                      be->ring_fd, OFF_SQES);
    if (sqes == MAP_FAILED) return -errno;
    be->sqes = sqes;

    char* s = sq;
    char* c = be->cq_map;
    be->sq_head = (uint32_t*) (s + p->sq_off.head);
    be->sq_tail = (uint32_t*) (s + p->sq_off.tail);
    be->sq_mask = *(uint32_t*) (s + p->sq_off.ring_mask);
    be->sq_entries = *(uint32_t*) (s + p->sq_off.ring_entries);
    be->sq_local_tail = *be->sq_tail;
    if (!(be->setup_flags & SETUP_NO_SQARRAY)) {
        /* Identity mapping, written once: SQE slot i is always array[i]. */
        uint32_t* array = (uint32_t*) (s + p->sq_off.array);
        for (uint32_t i = 0; i < be->sq_entries; i++) array[i] = i;
    }
    be->cq_head = (uint32_t*) (c + p->cq_off.head);
    be->cq_tail = (uint32_t*) (c + p->cq_off.tail);
    be->cq_mask = *(uint32_t*) (c + p->cq_off.ring_mask);
    be->cq_entries = *(uint32_t*) (c + p->cq_off.ring_entries);
    be->cqes = (uring_cqe_t*) (c + p->cq_off.cqes);
    be->sq_flags = (uint32_t*) (s + p->sq_off.flags);
    return 0;
}

/* ------------------------------------------------------------ resizing --- */

/* Asks the kernel for rings of sq and cq entries; *p gets their offsets.
 * The SQEs the kernel has not consumed and the CQEs we have not reaped are
 * copied over (-EOVERFLOW if they do not fit); completions in the overflow
 * list stay there until the next enter flushes them. */
static ht_result_t resize(ht_backend_t* be, uint32_t sq, uint32_t cq, uring_params_t* p) {
    memset(p, 0, sizeof *p);
    p->sq_entries = sq;
    p->cq_entries = cq;
    p->flags = SETUP_CQSIZE;
    return sys_register(be->ring_fd, REGISTER_RESIZE_RINGS, p, 1) < 0 ? -errno : 0;
}

static void set_grow_at(ht_backend_t* be) {
    be->grow_at = be->resizable && be->cq_entries < be->cq_max ? be->cq_entries / 2 : UINT32_MAX;
    be->sq_full = false;
}

/* The ring can no longer be reached: a resize succeeded but its rings could
 * not be mapped. The old mappings stay (the batch being dispatched reads its
 * CQEs from them; SQEs written there are never seen), and the next enter
 * fails: ht_backend__poll returns err, and ht_loop__run with it. */
static void disable_ring(ht_backend_t* be, ht_result_t err) {
    be->enter_fd = -1;
    be->enter_flags = 0;
    be->dead = err;
    be->resizable = false;
}

void ht_iouring__grow(ht_loop_t* loop) {
    ht_backend_t* be = loop->be;
    /* The callers flushed: an SQE left would be copied to the new ring, but
     * a SENDMSG's msghdr slot could then be written over before submit. */
    if (!be->resizable || be->sq_local_tail != __atomic_load_n(be->sq_head, __ATOMIC_ACQUIRE)) {
        set_grow_at(be);
        return;
    }
    uint32_t sq = be->sq_entries, cq = be->cq_entries;
    if (be->sq_full && sq < be->sq_max) sq *= 2;
    /* Room for a completion from every op in flight, twice over; a CQ that
     * overflowed (a multishot accept's burst is one op) doubles at least. */
    uint64_t want = 2ull * loop->active;
    if ((__atomic_load_n(be->sq_flags, __ATOMIC_RELAXED) & SQ_CQ_OVERFLOW) && want < 2ull * cq)
        want = 2ull * cq;
    while (cq < want && cq < be->cq_max) cq *= 2;
    if (cq < sq) cq = sq;
    uring_params_t p;
    if ((sq == be->sq_entries && cq == be->cq_entries) || resize(be, sq, cq, &p) < 0) {
        if (sq != be->sq_entries || cq != be->cq_entries) {
            /* ENOMEM, or a kernel that refuses it now: these sizes for good */
            be->resizable = false;
        }
        set_grow_at(be);
        return;
    }
    /* The old mappings still show the old pages, which no longer are the
     * ring: map the new ones, then drop the old (the kernel copied the CQEs
     * not yet reaped, and the heads and tails, to the same indices). */
    void* old_sq = be->sq_map;
    void* old_cq = be->cq_map;
    void* old_sqes = be->sqes;
    size_t old_sq_len = be->sq_map_len, old_cq_len = be->cq_map_len, old_sqes_len = be->sqes_len;
    ht_backend_t keep = *be;
    be->sqes = nullptr;
    be->sq_map = be->cq_map = nullptr;
    ht_result_t r = be->test_map_fails ? -ENOMEM : map_rings(be, &p, be->single_mmap);
    if (r < 0) {
        unmap_rings(be); /* what map_rings got of the new ones */
        *be = keep;
        disable_ring(be, r);
        set_grow_at(be);
        return;
    }
    munmap(old_sqes, old_sqes_len);
    if (old_cq != old_sq) munmap(old_cq, old_cq_len);
    munmap(old_sq, old_sq_len);
    be->resizes++;
    set_grow_at(be);
}

static void setup_pbuf(ht_loop_t* loop) {
    ht_backend_t* be = loop->be;
    uint32_t max = loop->buf_count < RING_MAX ? loop->buf_count : RING_MAX;
    uint32_t entries = 1;
    while (entries < max) entries <<= 1;
    be->br_len = (size_t) entries * sizeof(uring_buf_t);
    void* mem = mmap(nullptr, be->br_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (mem == MAP_FAILED) return;
    uring_buf_reg_t reg = { .ring_addr = (uint64_t) (uintptr_t) mem, .ring_entries = entries,
                            .bgid = BGID };
    if (sys_register(be->ring_fd, REGISTER_PBUF_RING, &reg, 1) < 0) {
        munmap(mem, be->br_len); /* kernel < 5.19: buffers taken at submit */
        return;
    }
    be->br = mem;
    be->br_mask = entries - 1;
    be->br_max = max;
    be->br_target = max < RING_START ? max : RING_START;
    be->pbuf = true;
}

ht_result_t ht_backend__init(ht_loop_t* loop) {
    const char* dis = getenv("HT_LOOP__TEST_DISABLE");
    ht_backend_t* be = ht_alloc__calloc(loop->alloc, 1, sizeof *be);
    if (!be) return -ENOMEM;
    be->ring_fd = -1;
    be->timeout_deadline = UINT64_MAX;
    be->loop = loop;

    /* Ask for everything, drop features one at a time on EINVAL (older
     * kernels reject flags they do not know). */
    static const uint32_t drop_order[] = {
        SETUP_NO_SQARRAY, SETUP_DEFER_TASKRUN, SETUP_SINGLE_ISSUER,
        SETUP_COOP_TASKRUN, SETUP_SUBMIT_ALL, SETUP_CQSIZE,
    };
    uint32_t want = SETUP_CQSIZE | SETUP_SUBMIT_ALL | SETUP_COOP_TASKRUN | SETUP_SINGLE_ISSUER |
                    SETUP_DEFER_TASKRUN | SETUP_NO_SQARRAY;
    if (disabled(dis, "sqarray")) want &= ~SETUP_NO_SQARRAY;
    if (disabled(dis, "defer")) want &= ~(SETUP_DEFER_TASKRUN | SETUP_SINGLE_ISSUER);
    if (disabled(dis, "coop")) want &= ~SETUP_COOP_TASKRUN;
    if (disabled(dis, "submitall")) want &= ~SETUP_SUBMIT_ALL;
    /* 8x the SQ: room for a burst of completions from many connections; a
     * larger burst is not lost (IORING_FEAT_NODROP), just slower. */
    uint32_t cq_entries = loop->entries * 8 > 65536 ? 65536 : loop->entries * 8;
    uring_params_t p;
    int fd = -1, err = 0;
    for (size_t i = 0;; i++) {
        memset(&p, 0, sizeof p);
        p.flags = want;
        p.cq_entries = cq_entries;
        fd = disabled(dis, "uring") ? (errno = ENOSYS, -1) : sys_setup(loop->entries, &p);
        if (fd >= 0) break;
        err = errno;
        if (err != EINVAL || i == HT_ARRAY_LEN(drop_order)) break;
        want &= ~drop_order[i];
        if (!(want & SETUP_SINGLE_ISSUER)) want &= ~SETUP_DEFER_TASKRUN;
    }
    if (fd >= 0) {
        /* Every opcode we issue must exist (kernel >= 5.6); an older io_uring
         * is as good as none. */
        static const uint8_t needed[] = { OP_POLL_ADD, OP_SENDMSG, OP_TIMEOUT, OP_ACCEPT,
                                          OP_ASYNC_CANCEL, OP_CLOSE, OP_READ, OP_SEND, OP_RECV };
        uring_probe_t probe;
        memset(&probe, 0, sizeof probe);
        bool ok = sys_register(fd, REGISTER_PROBE, &probe, HT_ARRAY_LEN(probe.ops)) == 0 &&
                  !disabled(dis, "probe");
        for (size_t i = 0; ok && i < HT_ARRAY_LEN(needed); i++)
            ok = needed[i] <= probe.last_op && (probe.ops[needed[i]].flags & PROBE_OP_SUPPORTED);
        if (!ok) {
            close(fd);
            fd = -1;
            err = ENOSYS;
        }
    }
    if (fd < 0) {
        ht_alloc__free(loop->alloc, be, sizeof *be);
        if (err == ENOSYS || err == EPERM || err == EACCES || err == EINVAL) {
            fprintf(stderr, "hachettp: io_uring is unavailable here (io_uring_setup: %s); "
                            "rebuild with -DHT_IO_URING=OFF for the epoll backend\n",
                    strerror(err));
            return HT_E_BACKEND_UNAVAILABLE;
        }
        return -err;
    }
    be->ring_fd = be->enter_fd = fd;
    be->setup_flags = want;
    be->features = p.features;
    be->ext_arg = (p.features & FEAT_EXT_ARG) && !disabled(dis, "extarg");
    loop->be = be;

    be->single_mmap = (p.features & FEAT_SINGLE_MMAP) && !disabled(dis, "singlemmap");
    /* The sizes asked for are the largest; where the kernel can resize the
     * rings, shrink them before they are mapped (an idle loop then holds 2
     * pages of them instead of 13) and grow them with the load. */
    be->sq_max = p.sq_entries;
    be->cq_max = p.cq_entries;
    const uring_params_t* mp = &p;
    uring_params_t small;
    uint32_t sq0 = p.sq_entries < SQ_START ? p.sq_entries : SQ_START;
    uint32_t cq0 = p.cq_entries < CQ_START ? p.cq_entries : CQ_START;
    if ((want & SETUP_DEFER_TASKRUN) && !disabled(dis, "resize") &&
        (sq0 < p.sq_entries || cq0 < p.cq_entries) && resize(be, sq0, cq0, &small) == 0) {
        be->resizable = true;
        mp = &small;
    }
    ht_result_t r = map_rings(be, mp, be->single_mmap);
    if (r == 0) {
        /* As many as the largest SQ has slots, not zeroed: a slot is
         * written whole before its SENDMSG, so the 14 kB cost no RSS until
         * sends use them (3.5 kB while the SQ has 64 slots). */
        be->msgs = ht_alloc__alloc(loop->alloc, sizeof(struct msghdr) * be->sq_max);
        if (!be->msgs) r = -ENOMEM;
    }
    set_grow_at(be);
    if (r == 0) {
        loop->wake_fd = eventfd(0, EFD_CLOEXEC); /* blocking: see the top */
        if (loop->wake_fd < 0) r = -errno;
    }
    if (r != 0) {
        ht_backend__free(loop);
        return r;
    }
    if (!disabled(dis, "regring")) {
        uring_rsrc_update_t up = { .offset = UINT32_MAX, .data = (uint64_t) fd };
        if (sys_register(fd, REGISTER_RING_FDS, &up, 1) == 1) {
            be->enter_fd = (int32_t) up.offset;
            be->enter_flags = ENTER_REGISTERED_RING;
        }
    }
    if (!disabled(dis, "pbuf")) setup_pbuf(loop);
    be->multishot_accept = !disabled(dis, "multishot");
    be->test_map_fails = disabled(dis, "growmap");
    ht_iouring__wake_arm(loop);
    return 0;
}

void ht_backend__free(ht_loop_t* loop) {
    ht_backend_t* be = loop->be;
    if (!be) return;
    /* Closing the ring cancels whatever is still in flight. */
    unmap_rings(be);
    if (be->ring_fd >= 0) close(be->ring_fd);
    if (be->br) munmap(be->br, be->br_len);
    if (loop->wake_fd >= 0) close(loop->wake_fd);
    loop->wake_fd = -1;
    ht_alloc__free(loop->alloc, be->msgs, sizeof(struct msghdr) * be->sq_max);
    ht_alloc__free(loop->alloc, be, sizeof *be);
    loop->be = nullptr;
}
