/* loop.c — the backend-independent half of the proactor (see internal.h). */
#include "loop/internal.h"

#include "base/sys.h"

/* ---------------------------------------------------------------- time --- */

/* The wall clock is read again only once the monotonic clock says its
 * second may have ended (one clock read per loop iteration instead of two:
 * ~15 instructions, twice a request on io_uring). A wall clock stepped in
 * between shows in Date within a second, as it would have. */
__attribute__((noinline, cold)) static void wall_sync(ht_loop_t* loop) {
    int64_t w = ht_sys__wall_ms();
    int64_t s = w / 1000, frac = w % 1000;
    if (frac < 0) s--, frac += 1000;
    loop->clock.wall_s = s;
    loop->wall_next_ms = loop->clock.now_ms + (uint64_t) (1000 - frac);
}

void ht_loop__update_time(ht_loop_t* loop) {
    loop->clock.now_ms = ht_sys__loop_mono_ms();
    if (HT_UNLIKELY(loop->clock.now_ms >= loop->wall_next_ms)) wall_sync(loop);
}

uint64_t ht_loop__now_ms(const ht_loop_t* loop) { return loop->clock.now_ms; }
int64_t ht_loop__wall_s(const ht_loop_t* loop) { return loop->clock.wall_s; }

/* ---------------------------------------------------------------- pool --- */

static void pool_free(ht_loop_t* loop) {
    ht_sys__unmap(loop->pool_mem, loop->pool_len);
    ht_alloc__free(loop->alloc, loop->bufs, sizeof(ht_buf_t) * loop->buf_count);
    ht_alloc__free(loop->alloc, loop->free_ids, sizeof(uint32_t) * loop->buf_count);
    ht_alloc__free(loop->alloc, loop->held, loop->buf_count);
    loop->pool_mem = nullptr;
    loop->bufs = nullptr;
    loop->free_ids = nullptr;
    loop->held = nullptr;
}

static ht_result_t pool_init(ht_loop_t* loop) {
    size_t n = loop->buf_count;
    loop->pool_len = n * loop->buf_size;
    /* Pages are backed on first write, so a buffer nobody used costs no RSS. */
    void* mem = ht_sys__map(loop->pool_len);
    if (!mem) return -ENOMEM;
    loop->pool_mem = mem;
    loop->bufs = ht_alloc__alloc(loop->alloc, sizeof(ht_buf_t) * n);
    loop->free_ids = ht_alloc__alloc(loop->alloc, sizeof(uint32_t) * n);
    loop->held = ht_alloc__calloc(loop->alloc, n, 1);
    if (!loop->bufs || !loop->free_ids || !loop->held) {
        pool_free(loop);
        return -ENOMEM;
    }
    /* Every buffer is "fresh" (ht_pool__pop sets it up on first use). */
    loop->free_n = 0;
    loop->fresh = 0;
    return 0;
}

ht_buf_t* ht_loop__buf_acquire(ht_loop_t* loop) {
    uint32_t id = ht_pool__pop(loop);
    return id == UINT32_MAX ? nullptr : &loop->bufs[id];
}

void ht_loop__buf_release(ht_loop_t* loop, ht_buf_t* buf) {
    if (buf) ht_pool__push(loop, buf->id);
}

/* ---------------------------------------------------------- init / free --- */

ht_result_t ht_loop__init(ht_loop_t** out, ht_alloc_t* a) {
    return ht_loop__init_with(out, a, nullptr);
}

ht_result_t ht_loop__init_with(ht_loop_t** out, ht_alloc_t* a, const ht_loop_options_t* opt) {
    *out = nullptr;
    ht_loop_t* loop = ht_alloc__calloc(a, 1, sizeof *loop);
    if (!loop) return -ENOMEM;
    loop->alloc = a;
    loop->wake_fd = -1;
    loop->entries = opt && opt->entries ? opt->entries : 256;
    loop->buf_size = opt && opt->buf_size ? opt->buf_size : 16 * 1024;
    loop->buf_count = opt && opt->buf_count ? opt->buf_count : 1024;
    if (loop->buf_count > 65536) loop->buf_count = 65536; /* io_uring buffer ids are 16-bit */
    if (loop->entries > 32768) loop->entries = 32768;
    ht_result_t r = pool_init(loop);
    if (r == 0) {
        r = ht_backend__init(loop);
        if (r != 0) pool_free(loop);
    }
    if (r != 0) {
        ht_alloc__free(a, loop, sizeof *loop);
        return r;
    }
    ht_loop__update_time(loop);
    *out = loop;
    return 0;
}

void ht_loop__free(ht_loop_t* loop, ht_alloc_t* a) {
    if (!loop) return;
    /* Posts still queued are dropped (ht/loop.h): the nodes are the callers'.
     * A post still waking this loop finishes first (a few instructions). */
    while (atomic_load_explicit(&loop->posting, memory_order_acquire) != 0) ht_sys__yield();
    ht_backend__flush(loop);
    ht_backend__free(loop);
    pool_free(loop);
    ht_alloc__free(a, loop, sizeof *loop);
}

/* -------------------------------------------------------------- timers --- */

static bool timer_less(const ht_timer_t* a, const ht_timer_t* b) {
    return a->deadline_ < b->deadline_ || (a->deadline_ == b->deadline_ && a->seq_ < b->seq_);
}

/* Swaps a node with its direct child c, relinking neighbours (links only;
 * the timers themselves stay where the caller put them). */
static void heap_swap(ht_loop_t* loop, ht_timer_t* p, ht_timer_t* c) {
    ht_timer_t* pp = p->parent_;
    ht_timer_t* pl = p->left_;
    ht_timer_t* pr = p->right_;
    ht_timer_t* cl = c->left_;
    ht_timer_t* cr = c->right_;
    c->parent_ = pp;
    if (pl == c) {
        c->left_ = p;
        c->right_ = pr;
        if (pr) pr->parent_ = c;
    } else {
        c->right_ = p;
        c->left_ = pl;
        if (pl) pl->parent_ = c;
    }
    p->parent_ = c;
    p->left_ = cl;
    p->right_ = cr;
    if (cl) cl->parent_ = p;
    if (cr) cr->parent_ = p;
    if (!pp) loop->heap_min = c;
    else if (pp->left_ == p) pp->left_ = c;
    else pp->right_ = c;
}

/* The link that holds (or will hold) node number n (1-based, breadth-first):
 * the bits of n below its top bit spell the path, 0 = left, 1 = right. */
static ht_timer_t** heap_slot(ht_loop_t* loop, uint32_t n, ht_timer_t** parent) {
    uint32_t path = 0, depth = 0;
    for (; n >= 2; n >>= 1, depth++) path = (path << 1) | (n & 1);
    ht_timer_t** slot = &loop->heap_min;
    *parent = nullptr;
    for (; depth > 0; depth--, path >>= 1) {
        *parent = *slot;
        slot = (path & 1) ? &(*slot)->right_ : &(*slot)->left_;
    }
    return slot;
}

static void heap_insert(ht_loop_t* loop, ht_timer_t* t) {
    ht_timer_t* parent;
    t->left_ = t->right_ = nullptr;
    ht_timer_t** slot = heap_slot(loop, loop->heap_n + 1, &parent);
    t->parent_ = parent;
    *slot = t;
    loop->heap_n++;
    while (t->parent_ && timer_less(t, t->parent_)) heap_swap(loop, t->parent_, t);
}

static void heap_remove(ht_loop_t* loop, ht_timer_t* t) {
    ht_timer_t* parent;
    ht_timer_t** slot = heap_slot(loop, loop->heap_n, &parent);
    ht_timer_t* last = *slot;
    *slot = nullptr;
    loop->heap_n--;
    if (last == t) return;
    /* last takes t's place, then moves down or up to where it belongs. */
    last->left_ = t->left_;
    last->right_ = t->right_;
    last->parent_ = t->parent_;
    if (last->left_) last->left_->parent_ = last;
    if (last->right_) last->right_->parent_ = last;
    if (!t->parent_) loop->heap_min = last;
    else if (t->parent_->left_ == t) t->parent_->left_ = last;
    else t->parent_->right_ = last;
    for (;;) {
        ht_timer_t* m = last;
        if (last->left_ && timer_less(last->left_, m)) m = last->left_;
        if (last->right_ && timer_less(last->right_, m)) m = last->right_;
        if (m == last) break;
        heap_swap(loop, last, m);
    }
    while (last->parent_ && timer_less(last, last->parent_)) heap_swap(loop, last->parent_, last);
}

/* A 0 ms timer ("on the next pass") skips the heap: a heap insert and
 * removal cost ~170 instructions, a FIFO append and unlink a dozen, and
 * next-turn timers are what deferred work starts with. */
static void due_unlink(ht_loop_t* loop, ht_timer_t* t) {
    if (t->left_) t->left_->right_ = t->right_; else loop->due_head = t->right_;
    if (t->right_) t->right_->left_ = t->left_; else loop->due_tail = t->left_;
}

static void timer_unlink(ht_loop_t* loop, ht_timer_t* t) {
    if (t->active_ == 2) due_unlink(loop, t);
    else heap_remove(loop, t);
}

void ht_loop__timer_start(ht_loop_t* loop, ht_timer_t* t, uint64_t ms, ht_timer_fn cb) {
    if (t->active_) {
        timer_unlink(loop, t);
        loop->timers--;
    }
    t->cb = cb;
    t->deadline_ = ms > UINT64_MAX - loop->clock.now_ms ? UINT64_MAX : loop->clock.now_ms + ms;
    t->seq_ = loop->timer_seq++;
    if (ms == 0) {
        t->active_ = 2;
        t->right_ = nullptr;
        t->left_ = loop->due_tail;
        if (loop->due_tail) loop->due_tail->right_ = t; else loop->due_head = t;
        loop->due_tail = t;
    } else {
        t->active_ = 1;
        heap_insert(loop, t);
    }
    loop->timers++;
}

void ht_loop__timer_stop(ht_loop_t* loop, ht_timer_t* t) {
    if (!t->active_) return;
    timer_unlink(loop, t);
    t->active_ = 0;
    loop->timers--;
}

static void run_timers(ht_loop_t* loop) {
    /* Timers started by these callbacks wait for the next pass, so a timer
     * re-armed with 0 ms cannot starve the loop. */
    /* Most passes have nothing due: one test each. */
    if (loop->due_head == nullptr && (loop->heap_min == nullptr || loop->heap_min->deadline_ > loop->clock.now_ms))
        return;
    uint64_t seq_limit = loop->timer_seq;
    for (;;) {
        /* The earlier by (deadline, seq) of the heap's minimum and the
         * FIFO's head: the order a single heap would give. */
        ht_timer_t* h = loop->heap_min;
        ht_timer_t* f = loop->due_head;
        if (h && (h->deadline_ > loop->clock.now_ms || h->seq_ >= seq_limit)) h = nullptr;
        if (f && f->seq_ >= seq_limit) f = nullptr;
        if (h == nullptr && f == nullptr) break;
        ht_timer_t* t;
        if (f == nullptr || (h != nullptr && timer_less(h, f))) {
            t = h;
            heap_remove(loop, t);
        } else {
            t = f;
            due_unlink(loop, t);
        }
        t->active_ = 0;
        loop->timers--;
        t->cb(loop, t);
    }
}

/* ---------------------------------------------------------- deferred --- */

static void defer_push(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    op->state_ = HT_OP_QUEUED;
    op->done_ = (uint64_t) res;
    op->next_ = nullptr;
    if (loop->defer_tail) loop->defer_tail->next_ = op;
    else loop->defer_head = op;
    loop->defer_tail = op;
}

void ht_loop__complete_later(ht_loop_t* loop, ht_op_t* op, ht_io_t res) { defer_push(loop, op, res); }

void ht_loop__defer(ht_loop_t* loop, ht_op_t* op, ht_io_t res, ht_op_fn cb) {
    op->cb = cb;
    op->kind_ = HT_OP_DEFER;
    loop->active++;
    defer_push(loop, op, res);
}

static void run_deferred(ht_loop_t* loop) {
    /* Only what was queued before this pass: callbacks that defer again run
     * on the next iteration, after I/O has been polled. */
    ht_op_t* op = loop->defer_head;
    loop->defer_head = loop->defer_tail = nullptr;
    while (op) {
        ht_op_t* next = op->next_;
        ht_loop__complete(loop, op, (ht_io_t) op->done_);
        op = next;
    }
}

/* ------------------------------------------------------------- wakers --- */

void ht_loop__wake(void* arg) {
    ht_loop_t* loop = arg;
    /* One backend wake per batch of wakes: later wakers see the flag set and
     * skip the syscall. Lock-free atomics are signal-safe, and so is the hook. */
    if (__atomic_exchange_n(&loop->wake_pending, 1u, __ATOMIC_ACQ_REL)) return;
    ht_backend__wake(loop);
}

/* ------------------------------------------------------------- posts --- */

void ht_loop__post(ht_loop_t* loop, ht_post_t* p, ht_post_fn cb) {
    /* Counted while the loop is touched: once the node is pushed, the loop
     * may run its callback, the application may finish and free the loop,
     * all before this thread's wake below; ht_loop__free waits for the
     * count to drop (libuv's uv_async_send does the same with its busy flag). */
    atomic_fetch_add_explicit(&loop->posting, 1u, memory_order_acquire);
    p->cb = cb;
    /* Treiber push: the release publishes p's fields to the loop's acquire
     * exchange in run_posts. Every poster wakes (coalesced there): skipping
     * the wake when the stack was non-empty would make this post wait on
     * the poster that made it non-empty, which may be descheduled. */
    ht_post_t* head = atomic_load_explicit(&loop->posts, memory_order_relaxed);
    do p->next_ = head;
    while (!atomic_compare_exchange_weak_explicit(&loop->posts, &head, p, memory_order_release,
                                                  memory_order_relaxed));
    ht_loop__wake(loop);
    atomic_fetch_sub_explicit(&loop->posting, 1u, memory_order_release);
}

static void run_posts(ht_loop_t* loop) {
    /* The whole stack at once, reversed into push order: FIFO per poster.
     * Posts made by these callbacks (a node posted again) start a new
     * stack and its wake brings them to the next iteration. */
    ht_post_t* p = atomic_exchange_explicit(&loop->posts, nullptr, memory_order_acquire);
    ht_post_t* fifo = nullptr;
    while (p) {
        ht_post_t* next = p->next_;
        p->next_ = fifo;
        fifo = p;
        p = next;
    }
    while (fifo) {
        ht_post_t* next = fifo->next_; /* before cb: it may post fifo again */
        fifo->cb(loop, fifo);
        fifo = next;
    }
}

void ht_loop__wakers_run(ht_loop_t* loop) {
    /* An exchange, not a store: reading the waker's 1 makes what it wrote
     * before ht_loop__wake visible to the callbacks below, posts included
     * (a poster pushes, then wakes), so a relaxed load finds them: all that
     * a loop nobody posts to pays. */
    (void) __atomic_exchange_n(&loop->wake_pending, 0u, __ATOMIC_ACQ_REL);
    if (atomic_load_explicit(&loop->posts, memory_order_relaxed)) run_posts(loop);
    ht_waker_t* w = loop->wakers;
    while (w) {
        ht_waker_t* next = w->next_; /* the callback may remove itself */
        w->cb(loop, w);
        w = next;
    }
}

void ht_loop__waker_add(ht_loop_t* loop, ht_waker_t* w, ht_waker_fn cb) {
    w->cb = cb;
    w->next_ = loop->wakers;
    loop->wakers = w;
}

void ht_loop__waker_remove(ht_loop_t* loop, ht_waker_t* w) {
    for (ht_waker_t** p = &loop->wakers; *p; p = &(*p)->next_) {
        if (*p == w) {
            *p = w->next_;
            w->next_ = nullptr;
            return;
        }
    }
}

/* ---------------------------------------------------------- operations --- */

static ht_result_t start(ht_loop_t* loop, ht_op_t* op, ht_socket_t fd, uint8_t kind, ht_op_fn cb) {
    op->cb = cb;
    op->buf = nullptr;
    op->fd_ = fd;
    op->kind_ = kind;
    op->state_ = HT_OP_PENDING;
    op->flags_ = 0;
    op->done_ = 0;
    op->next_ = nullptr;
    loop->active++;
    ht_result_t r = ht_backend__start(loop, op);
    if (r != 0) {
        op->state_ = HT_OP_IDLE;
        loop->active--;
    }
    return r;
}

ht_result_t ht_loop__accept(ht_loop_t* loop, ht_op_t* op, ht_socket_t listen_fd, ht_op_fn cb) {
    return start(loop, op, listen_fd, HT_OP_ACCEPT, cb);
}

ht_result_t ht_loop__recv(ht_loop_t* loop, ht_op_t* op, ht_socket_t fd, ht_op_fn cb) {
    return start(loop, op, fd, HT_OP_RECV, cb);
}

ht_result_t ht_loop__recv_into(ht_loop_t* loop, ht_op_t* op, ht_socket_t fd, char* p, size_t len,
                               ht_op_fn cb) {
    op->u_.b.p = p;
    op->u_.b.len = len;
    return start(loop, op, fd, HT_OP_RECV_INTO, cb);
}

ht_result_t ht_loop__send(ht_loop_t* loop, ht_op_t* op, ht_socket_t fd, ht_iov_t* iov,
                          uint32_t iovcnt, ht_op_fn cb) {
    op->u_.v.iov = iov;
    op->u_.v.iovcnt = iovcnt;
    return start(loop, op, fd, HT_OP_SEND, cb);
}

ht_result_t ht_loop__sendfile(ht_loop_t* loop, ht_op_t* op, ht_socket_t sock, ht_file_t file,
                              uint64_t off, uint64_t len, ht_op_fn cb) {
    op->u_.f.file = file;
    op->u_.f.off = off;
    op->u_.f.len = len;
    op->u_.f.head = nullptr;
    return start(loop, op, sock, HT_OP_SENDFILE, cb);
}

ht_result_t ht_loop__sendfile_head(ht_loop_t* loop, ht_op_t* op, ht_socket_t sock, ht_iov_t* head,
                                   ht_file_t file, uint64_t off, uint64_t len, ht_op_fn cb) {
    op->u_.f.file = file;
    op->u_.f.off = off;
    op->u_.f.len = len;
    op->u_.f.head = head;
    return start(loop, op, sock, HT_OP_SENDFILE, cb);
}

void ht_loop__cancel(ht_loop_t* loop, ht_op_t* op) {
    if (op->state_ == HT_OP_PENDING) ht_backend__cancel(loop, op);
}

ht_result_t ht_loop__poll(ht_loop_t* loop, ht_op_t* op, ht_socket_t fd, uint32_t events, ht_op_fn cb) {
    if (events != HT_POLL_IN && events != HT_POLL_OUT) return -EINVAL;
    op->u_.b.p = nullptr;
    op->u_.b.len = events;
    return start(loop, op, fd, HT_OP_POLL, cb);
}

void ht_loop__forget(ht_loop_t* loop, ht_socket_t fd) { ht_backend__forget(loop, fd); }

void ht_loop__close(ht_loop_t* loop, ht_socket_t fd) { ht_backend__close(loop, fd); }

/* ----------------------------------------------------------------- run --- */

void ht_loop__stop(ht_loop_t* loop) { loop->stop = true; }

ht_result_t ht_loop__run(ht_loop_t* loop) {
    loop->stop = false;
    ht_loop__update_time(loop);
    /* Posts queued before run: now, though the loop may have nothing else
     * to do (their wake alone would be seen only by a poll). */
    if (atomic_load_explicit(&loop->posts, memory_order_relaxed)) run_posts(loop);
    for (;;) {
        run_timers(loop);
        run_deferred(loop);
        if (loop->stop || (loop->active == 0 && loop->timers == 0)) break;
        int64_t timeout = -1;
        if (loop->defer_head || loop->due_head) {
            timeout = 0;
        } else if (loop->heap_min) {
            uint64_t d = loop->heap_min->deadline_;
            uint64_t left = d > loop->clock.now_ms ? d - loop->clock.now_ms : 0;
            timeout = left > INT32_MAX ? INT32_MAX : (int64_t) left; /* re-checked on wake */
        }
        ht_result_t r = ht_backend__poll(loop, timeout);
        if (r < 0) {
            loop->stop = false;
            return r;
        }
        if (loop->stop) break;
    }
    ht_backend__flush(loop);
    loop->stop = false;
    return 0;
}

/* ---- send-side helpers shared by the backends ---- */

void ht_loop__iov_advance(ht_op_t* op, size_t n) {
    ht_iov_t* iov = op->u_.v.iov;
    uint32_t cnt = op->u_.v.iovcnt;
    op->done_ += n;
    while (n && n >= iov->len) n -= iov->len, iov++, cnt--;
    if (n) {
        iov->base = (char*) iov->base + n;
        iov->len -= n;
    }
    op->u_.v.iov = iov;
    op->u_.v.iovcnt = cnt;
}
