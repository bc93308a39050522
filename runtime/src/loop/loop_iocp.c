/* loop_iocp.c — the proactor on Windows: I/O completion ports.
 *
 * One completion port per loop; every socket an operation uses is
 * associated with it once (accepted sockets right after AcceptEx, others on
 * first use). Each ht_op_t carries its own OVERLAPPED (op->ovl_, see
 * ht/loop.h), so a completion packet leads straight back to its op and
 * nothing is allocated per operation, except an accept's small context
 * (the next connection's socket and AcceptEx's address buffer), taken when a
 * persistent accept starts and returned when it ends.
 *
 *   accept    AcceptEx on the shared listening socket, one connection in
 *             flight per accept op, then SO_UPDATE_ACCEPT_CONTEXT (so that
 *             getpeername and shutdown work), non-blocking mode and the
 *             association with this loop's port. The listening socket is
 *             associated with NO port: a handle belongs to at most one
 *             completion port, and every worker's loop accepts on it
 *             (Windows has no SO_REUSEPORT; duplicating the handle per loop
 *             does not help either: a duplicate is the same file object,
 *             and under Wine every connection then went to the last loop
 *             that associated one). So AcceptEx signals an event instead,
 *             and a thread-pool wait registered on it
 *             (RegisterWaitForSingleObject, run in the wait thread) posts
 *             the op's OVERLAPPED to the loop's port: one extra hop per
 *             connection, and the kernel spreads connections over the
 *             loops' pending AcceptEx calls. (NtAssociateWaitCompletionPacket,
 *             Windows 8+, would save the hop; Wine 8 does not have it.)
 *   recv      a zero-byte WSARecv: it completes when data (or EOF) is
 *             there, and only then is a pooled buffer taken and filled by a
 *             non-blocking recv(). An idle connection holds no buffer, as on
 *             Linux.
 *   recv_into an overlapped WSARecv into the caller's memory.
 *   send      overlapped WSASend of up to 64 iovecs at a time (WSABUF has
 *             another layout than ht_iov_t; Winsock copies the array).
 *   sendfile  TransmitFile from the op's offset (the OVERLAPPED carries it),
 *             at most 2^31 - 2 bytes a call, with the response head in
 *             the same call (TRANSMIT_FILE_BUFFERS) when there is one.
 *   cancel    CancelIoEx on the op's own OVERLAPPED; the packet then
 *             arrives with ERROR_OPERATION_ABORTED.
 *   wake      PostQueuedCompletionStatus with a key no socket uses.
 *   poll      -ENOTSUP, deliberately: a completion port has no readiness
 *             wait. Emulating one takes either a zero-byte WSARecv on the
 *             caller's socket (which ties it to this port for good, a
 *             handle joins one port only, and has no send-side twin) or a
 *             WSAPoll thread. A client library runs its I/O on a thread of
 *             its own and hands results over with ht_loop__post.
 *             ht_loop__forget: nothing is kept, nothing to do.
 *
 * AcceptEx and TransmitFile are extension functions: loaded once per
 * process through WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER). Completion
 * packets are fetched in batches with GetQueuedCompletionStatusEx.
 */
#include "loop/internal.h"

#include <winsock2.h>
#include <mswsock.h>
#include <ws2tcpip.h>
#include <windows.h>

#include "base/win32.h"

#define WAKE_KEY ((ULONG_PTR) 1)
#define SOCK_KEY ((ULONG_PTR) 0)
#define ACCEPT_KEY ((ULONG_PTR) 2) /* posted by the accept event's wait callback */
/* Largest TransmitFile count (the API's limit is 2^31 - 2 bytes). */
#define TF_MAX 0x7FFFFFFEu
#define SEND_WSABUFS 64

enum { /* op->flags_ */
    F_IN_FLIGHT = 1u << 0, /* an overlapped call is outstanding on op->ovl_ */
    F_ZERO_READ = 1u << 1, /* recv: the zero-byte probe is what is in flight */
};

static_assert(sizeof(((ht_op_t*) 0)->ovl_) >= sizeof(OVERLAPPED), "ht_op_t.ovl_ holds an OVERLAPPED");

/* The address buffer AcceptEx wants: local and remote, each the largest
 * sockaddr plus 16 bytes. */
#define ACCEPT_ADDR (sizeof(struct sockaddr_storage) + 16)

typedef struct accept_ctx {
    SOCKET   listen; /* the shared listening socket */
    SOCKET   sock;   /* the connection being accepted */
    int      family;
    HANDLE   event;  /* AcceptEx's completion event (auto-reset) */
    HANDLE   wait;   /* the thread-pool wait on it */
    HANDLE   iocp;   /* where the wait callback posts */
    ht_op_t* op;
    struct accept_ctx* prev; /* the backend's list of live contexts */
    struct accept_ctx* next;
    char     addrs[2 * ACCEPT_ADDR];
} accept_ctx_t;

struct ht_backend {
    HANDLE     iocp;
    accept_ctx_t* accepts; /* live accept contexts (see ht_backend__free) */
    uint32_t   nentries;
    uint64_t   waits, send_resumes;
    OVERLAPPED_ENTRY entries[];
};

const char* ht_loop__backend(void) { return "iocp"; }

static OVERLAPPED* ovl_of(ht_op_t* op);
static void ctx_free(ht_loop_t* loop, accept_ctx_t* ctx);

/* ------------------------------------------------ extension functions --- */

static LPFN_ACCEPTEX p_AcceptEx;
static LPFN_TRANSMITFILE p_TransmitFile;
static INIT_ONCE ext_once = INIT_ONCE_STATIC_INIT;
static int ext_err;

static BOOL CALLBACK ext_load(PINIT_ONCE once, PVOID param, PVOID* ctx) {
    (void) once, (void) param, (void) ctx;
    SOCKET s = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED);
    if (s == INVALID_SOCKET) {
        ext_err = WSAGetLastError();
        return TRUE;
    }
    GUID ga = WSAID_ACCEPTEX, gt = WSAID_TRANSMITFILE;
    DWORD n = 0;
    if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &ga, sizeof ga, &p_AcceptEx, sizeof p_AcceptEx,
                 &n, nullptr, nullptr) != 0 ||
        WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &gt, sizeof gt, &p_TransmitFile,
                 sizeof p_TransmitFile, &n, nullptr, nullptr) != 0)
        ext_err = WSAGetLastError();
    closesocket(s);
    return TRUE;
}

/* ------------------------------------------------------- init / free --- */

static size_t be_size(uint32_t n) { return sizeof(ht_backend_t) + sizeof(OVERLAPPED_ENTRY) * n; }

ht_result_t ht_backend__init(ht_loop_t* loop) {
    ht_result_t r = ht_win32__wsa_init();
    if (r) return r;
    InitOnceExecuteOnce(&ext_once, ext_load, nullptr, nullptr);
    if (ext_err) return ht_win32__wsa_err(ext_err);
    uint32_t n = loop->entries;
    ht_backend_t* be = ht_alloc__calloc(loop->alloc, 1, be_size(n));
    if (!be) return -ENOMEM;
    be->nentries = n;
    /* One thread (the loop's) ever waits on this port. */
    be->iocp = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
    if (!be->iocp) {
        r = ht_win32__err(GetLastError());
        ht_alloc__free(loop->alloc, be, be_size(n));
        return r;
    }
    loop->wake_fd = -1; /* the port itself is the wake channel */
    loop->be = be;
    return 0;
}

void ht_backend__free(ht_loop_t* loop) {
    ht_backend_t* be = loop->be;
    if (!be) return;
    /* Accepts abandoned by a loop freed with them pending: the listening
     * socket lives on, and an AcceptEx still queued on it would write into
     * the op's OVERLAPPED whenever a client came. Stop the wait, cancel the
     * call and wait for it to be over (GetOverlappedResult returns at once
     * if it already is). */
    while (be->accepts) {
        accept_ctx_t* ctx = be->accepts;
        if (ctx->wait) (void) UnregisterWaitEx(ctx->wait, INVALID_HANDLE_VALUE);
        ctx->wait = nullptr;
        if (ctx->op->flags_ & F_IN_FLIGHT) {
            DWORD n;
            (void) CancelIoEx((HANDLE) ctx->listen, ovl_of(ctx->op));
            (void) GetOverlappedResult((HANDLE) ctx->listen, ovl_of(ctx->op), &n, TRUE);
        }
        ctx->op->u_.b.p = nullptr;
        ctx_free(loop, ctx);
    }
    CloseHandle(be->iocp);
    ht_alloc__free(loop->alloc, be, be_size(be->nentries));
    loop->be = nullptr;
}

void ht_backend__wake(ht_loop_t* loop) {
    (void) PostQueuedCompletionStatus(loop->be->iocp, 0, WAKE_KEY, nullptr);
}

void ht_backend__flush(ht_loop_t* loop) { (void) loop; }

void ht_backend__info(const ht_loop_t* loop, ht_backend_info_t* out) {
    *out = (ht_backend_info_t){ .waits = loop->be->waits, .send_resumes = loop->be->send_resumes };
}

void ht_backend__close(ht_loop_t* loop, ht_socket_t fd) {
    (void) loop;
    closesocket((SOCKET) fd);
}

void ht_backend__forget(ht_loop_t* loop, ht_socket_t fd) { (void) loop, (void) fd; }

/* ------------------------------------------------------------ helpers --- */

static OVERLAPPED* ovl_of(ht_op_t* op) { return (OVERLAPPED*) (void*) op->ovl_; }

static ht_op_t* op_of(OVERLAPPED* o) {
    return (ht_op_t*) (void*) ((char*) o - offsetof(ht_op_t, ovl_));
}

static void ovl_reset(ht_op_t* op, uint64_t offset) {
    OVERLAPPED* o = ovl_of(op);
    memset(o, 0, sizeof *o);
    o->Offset = (DWORD) offset;
    o->OffsetHigh = (DWORD) (offset >> 32);
}

/* Associates s with the loop's port; a socket associated already (a second
 * op on it) is fine. */
static ht_result_t associate(ht_loop_t* loop, SOCKET s) {
    if (CreateIoCompletionPort((HANDLE) s, loop->be->iocp, SOCK_KEY, 0)) return 0;
    DWORD e = GetLastError();
    return e == ERROR_INVALID_PARAMETER ? 0 : ht_win32__err(e);
}

/* After an overlapped call: 0 if a completion packet will come, else the
 * error (then none will). */
static ht_result_t started(ht_op_t* op, int rc) {
    if (rc == 0) {
        op->flags_ |= F_IN_FLIGHT;
        return 0;
    }
    int e = WSAGetLastError();
    if (e == WSA_IO_PENDING) {
        op->flags_ |= F_IN_FLIGHT;
        return 0;
    }
    return ht_win32__wsa_err(e);
}

/* ------------------------------------------------------------- accept --- */

/* The listening socket's address family (for the accepted socket). */
static ht_result_t listen_family(SOCKET l, int* family) {
    WSAPROTOCOL_INFOW info;
    int len = sizeof info;
    if (getsockopt(l, SOL_SOCKET, SO_PROTOCOL_INFOW, (char*) &info, &len) != 0)
        return ht_win32__wsa_err(WSAGetLastError());
    *family = info.iAddressFamily;
    return 0;
}

/* Thread-pool wait thread: AcceptEx completed (the event is set); hand the
 * op to its loop. Exactly one packet per AcceptEx call. */
static VOID CALLBACK accept_signalled(PVOID p, BOOLEAN timed_out) {
    (void) timed_out;
    accept_ctx_t* ctx = p;
    (void) PostQueuedCompletionStatus(ctx->iocp, 0, ACCEPT_KEY, (OVERLAPPED*) (void*) ctx->op->ovl_);
}

/* Posts the next AcceptEx. 0, or an error (nothing in flight then). */
static ht_result_t accept_post(ht_op_t* op) {
    accept_ctx_t* ctx = (accept_ctx_t*) (void*) op->u_.b.p;
    ctx->sock = WSASocketW(ctx->family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                           WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (ctx->sock == INVALID_SOCKET) return ht_win32__wsa_err(WSAGetLastError());
    ovl_reset(op, 0);
    ovl_of(op)->hEvent = ctx->event;
    DWORD got = 0;
    BOOL ok = p_AcceptEx(ctx->listen, ctx->sock, ctx->addrs, 0, ACCEPT_ADDR, ACCEPT_ADDR, &got, ovl_of(op));
    ht_result_t r = started(op, ok ? 0 : -1);
    if (r) {
        closesocket(ctx->sock);
        ctx->sock = INVALID_SOCKET;
    }
    return r;
}

static void ctx_free(ht_loop_t* loop, accept_ctx_t* ctx) {
    if (ctx->prev) ctx->prev->next = ctx->next;
    else if (loop->be->accepts == ctx) loop->be->accepts = ctx->next;
    if (ctx->next) ctx->next->prev = ctx->prev;
    /* INVALID_HANDLE_VALUE: waits for a callback that is running. */
    if (ctx->wait) (void) UnregisterWaitEx(ctx->wait, INVALID_HANDLE_VALUE);
    if (ctx->event) CloseHandle(ctx->event);
    if (ctx->sock != INVALID_SOCKET) closesocket(ctx->sock);
    ht_alloc__free(loop->alloc, ctx, sizeof *ctx);
}

static void accept_end(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    ctx_free(loop, (accept_ctx_t*) (void*) op->u_.b.p);
    op->u_.b.p = nullptr;
    ht_loop__complete(loop, op, res);
}

static ht_result_t accept_start(ht_loop_t* loop, ht_op_t* op) {
    int family;
    ht_result_t r = listen_family((SOCKET) op->fd_, &family);
    if (r) return r;
    accept_ctx_t* ctx = ht_alloc__calloc(loop->alloc, 1, sizeof *ctx);
    if (!ctx) return -ENOMEM;
    ctx->listen = (SOCKET) op->fd_;
    ctx->family = family;
    ctx->sock = INVALID_SOCKET;
    ctx->iocp = loop->be->iocp;
    ctx->op = op;
    ctx->event = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    if (!ctx->event || !RegisterWaitForSingleObject(&ctx->wait, ctx->event, accept_signalled, ctx, INFINITE,
                                                    WT_EXECUTEINWAITTHREAD)) {
        r = ht_win32__err(GetLastError());
        ctx->wait = nullptr;
        ctx_free(loop, ctx);
        return r;
    }
    op->u_.b.p = (char*) ctx;
    ctx->next = loop->be->accepts;
    if (ctx->next) ctx->next->prev = ctx;
    loop->be->accepts = ctx;
    r = accept_post(op);
    if (r) {
        ctx_free(loop, ctx);
        op->u_.b.p = nullptr;
    }
    return r;
}

static void accept_done(ht_loop_t* loop, ht_op_t* op, ht_result_t err) {
    accept_ctx_t* ctx = (accept_ctx_t*) (void*) op->u_.b.p;
    if (op->state_ == HT_OP_CANCELLING) {
        /* Accepted as the cancel took effect: nobody asked for it any more. */
        accept_end(loop, op, -ECANCELED);
        return;
    }
    if (err == 0) {
        SOCKET s = ctx->sock;
        ctx->sock = INVALID_SOCKET;
        u_long nb = 1;
        if (setsockopt(s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (const char*) &ctx->listen,
                       sizeof ctx->listen) != 0 ||
            ioctlsocket(s, FIONBIO, &nb) != 0 || associate(loop, s) != 0) {
            closesocket(s); /* that one connection failed; keep accepting */
        } else {
            op->cb(loop, op, (ht_io_t) s);
        }
        /* The callback may have cancelled the accept. */
        if (op->state_ == HT_OP_CANCELLING) {
            accept_end(loop, op, -ECANCELED);
            return;
        }
    } else {
        closesocket(ctx->sock);
        ctx->sock = INVALID_SOCKET;
        if (ht_loop__accept_error_stops((int) -err)) {
            accept_end(loop, op, err);
            return;
        }
        /* ECONNRESET & co.: a client gave up in the backlog. */
    }
    ht_result_t r = accept_post(op);
    if (r) accept_end(loop, op, r);
}

/* ---------------------------------------------------------- receiving --- */

static ht_result_t recv_post(ht_loop_t* loop, ht_op_t* op) {
    WSABUF b;
    if (op->kind_ == HT_OP_RECV) {
        /* The zero-byte probe: no buffer is committed while waiting. */
        b.buf = nullptr;
        b.len = 0;
        op->flags_ |= F_ZERO_READ;
    } else {
        b.buf = op->u_.b.p;
        b.len = op->u_.b.len > UINT32_MAX ? UINT32_MAX : (ULONG) op->u_.b.len;
    }
    ovl_reset(op, 0);
    DWORD flags = 0;
    (void) loop;
    return started(op, WSARecv((SOCKET) op->fd_, &b, 1, nullptr, &flags, ovl_of(op), nullptr));
}

/* The probe completed: data or EOF is there. */
static void recv_pooled(ht_loop_t* loop, ht_op_t* op) {
    uint32_t id = ht_pool__pop(loop);
    if (id == UINT32_MAX) {
        ht_loop__complete(loop, op, -ENOBUFS);
        return;
    }
    ht_buf_t* b = &loop->bufs[id];
    int n = recv((SOCKET) op->fd_, b->data, (int) b->cap, 0);
    if (n > 0) {
        op->buf = b;
        ht_loop__complete(loop, op, n);
        return;
    }
    ht_pool__push(loop, id);
    if (n == 0) {
        ht_loop__complete(loop, op, 0);
        return;
    }
    int e = WSAGetLastError();
    if (e == WSAEWOULDBLOCK) { /* spurious: wait again */
        ht_result_t r = recv_post(loop, op);
        if (r) ht_loop__complete(loop, op, r);
        return;
    }
    ht_loop__complete(loop, op, ht_win32__wsa_err(e));
}

/* ------------------------------------------------------------ sending --- */

static ht_result_t send_post(ht_op_t* op) {
    WSABUF b[SEND_WSABUFS];
    DWORD n = 0;
    ht_iov_t* iov = op->u_.v.iov;
    for (uint32_t i = 0; i < op->u_.v.iovcnt && n < SEND_WSABUFS; i++) {
        if (iov[i].len == 0) continue;
        b[n].buf = iov[i].base;
        b[n].len = iov[i].len > (1u << 30) ? (1u << 30) : (ULONG) iov[i].len;
        n++;
        if (iov[i].len > (1u << 30)) break; /* the rest after this one's remainder */
    }
    ovl_reset(op, 0);
    return started(op, WSASend((SOCKET) op->fd_, b, n, nullptr, 0, ovl_of(op), nullptr));
}

static bool send_left(const ht_op_t* op) {
    for (uint32_t i = 0; i < op->u_.v.iovcnt; i++)
        if (op->u_.v.iov[i].len) return true;
    return false;
}

static ht_result_t sendfile_post(ht_loop_t* loop, ht_op_t* op) {
    DWORD n = op->u_.f.len > TF_MAX ? TF_MAX : (DWORD) op->u_.f.len;
    ovl_reset(op, op->u_.f.off);
    (void) loop;
    /* The response head travels in the same call (ht_loop__sendfile_head);
     * the structure is captured by the call, the bytes stay the caller's. */
    ht_iov_t* h = op->u_.f.head;
    TRANSMIT_FILE_BUFFERS tfb = { 0 };
    if (h && h->len) {
        tfb.Head = h->base;
        tfb.HeadLength = h->len > TF_MAX ? TF_MAX : (DWORD) h->len;
    }
    BOOL ok = p_TransmitFile((SOCKET) op->fd_, n ? (HANDLE) op->u_.f.file : nullptr, n, 0, ovl_of(op),
                             tfb.HeadLength ? &tfb : nullptr, 0);
    return started(op, ok ? 0 : -1);
}

static uint64_t head_left(const ht_op_t* op) { return op->u_.f.head ? op->u_.f.head->len : 0; }

/* ---------------------------------------------------------- contract --- */

ht_result_t ht_backend__start(ht_loop_t* loop, ht_op_t* op) {
    if (op->kind_ == HT_OP_ACCEPT) return accept_start(loop, op);
    if (op->kind_ == HT_OP_POLL) return -ENOTSUP; /* see the top; before associate() */
    ht_result_t r = associate(loop, (SOCKET) op->fd_);
    if (r) return r;
    switch (op->kind_) {
    case HT_OP_RECV:
    case HT_OP_RECV_INTO:
        r = recv_post(loop, op);
        break;
    case HT_OP_SEND:
        r = send_left(op) ? send_post(op) : 0;
        if (r == 0 && !(op->flags_ & F_IN_FLIGHT)) ht_loop__complete_later(loop, op, 0); /* nothing to send */
        break;
    case HT_OP_SENDFILE:
        r = op->u_.f.len || head_left(op) ? sendfile_post(loop, op) : 0;
        if (r == 0 && !(op->flags_ & F_IN_FLIGHT)) ht_loop__complete_later(loop, op, 0);
        break;
    default:
        return -EINVAL;
    }
    /* An I/O error known at once (a reset peer) is the operation's result,
     * as on epoll, which tries sends in the start call too: the callback
     * gets it, from the loop. */
    if (r < 0) ht_loop__complete_later(loop, op, r);
    return 0;
}

void ht_backend__cancel(ht_loop_t* loop, ht_op_t* op) {
    (void) loop;
    op->state_ = HT_OP_CANCELLING;
    /* Not in flight: an accept between two AcceptEx calls (inside its own
     * callback); accept_done sees the state when the callback returns. */
    if (op->flags_ & F_IN_FLIGHT) {
        SOCKET s = op->kind_ == HT_OP_ACCEPT ? ((accept_ctx_t*) (void*) op->u_.b.p)->listen : (SOCKET) op->fd_;
        (void) CancelIoEx((HANDLE) s, ovl_of(op));
    }
}

/* One completion packet for op: err 0 or the negated error, n bytes. */
static void dispatch(ht_loop_t* loop, ht_op_t* op, ht_result_t err, DWORD n) {
    op->flags_ &= (uint16_t) ~F_IN_FLIGHT;
    bool cancelled = op->state_ == HT_OP_CANCELLING;
    if (op->kind_ == HT_OP_ACCEPT) {
        accept_done(loop, op, err);
        return;
    }
    if (cancelled && (err == -ECANCELED || err == 0)) {
        /* A cancel that lost the race against completion still reports the
         * result (loop.h: "with its result if it already completed") —
         * except for the zero-byte probe, which has none yet. */
        if (err == -ECANCELED || (op->flags_ & F_ZERO_READ)) {
            op->flags_ &= (uint16_t) ~F_ZERO_READ;
            ht_loop__complete(loop, op, -ECANCELED);
            return;
        }
    }
    switch (op->kind_) {
    case HT_OP_RECV:
        op->flags_ &= (uint16_t) ~F_ZERO_READ;
        if (err) ht_loop__complete(loop, op, err);
        else recv_pooled(loop, op);
        return;
    case HT_OP_RECV_INTO:
        ht_loop__complete(loop, op, err ? err : (ht_io_t) n);
        return;
    case HT_OP_SEND:
        if (err) {
            ht_loop__complete(loop, op, err);
            return;
        }
        ht_loop__iov_advance(op, n);
        if (send_left(op)) {
            if (cancelled) { /* stopped half way: not a result */
                ht_loop__complete(loop, op, -ECANCELED);
                return;
            }
            loop->be->send_resumes++;
            ht_result_t r = send_post(op);
            if (r) ht_loop__complete(loop, op, r);
            return;
        }
        ht_loop__complete(loop, op, (ht_io_t) op->done_);
        return;
    case HT_OP_SENDFILE:
        if (err) {
            ht_loop__complete(loop, op, err);
            return;
        }
        if (n == 0) { /* the file is shorter than promised */
            ht_loop__complete(loop, op, -EIO);
            return;
        }
        op->done_ += n;
        if (head_left(op)) { /* the head's bytes come first in the count */
            ht_iov_t* h = op->u_.f.head;
            size_t k = n < h->len ? n : h->len;
            h->base = (char*) h->base + k;
            h->len -= k;
            n -= (DWORD) k;
        }
        op->u_.f.off += n;
        op->u_.f.len -= n;
        if ((op->u_.f.len || head_left(op)) && !cancelled) {
            loop->be->send_resumes++;
            ht_result_t r = sendfile_post(loop, op);
            if (r) ht_loop__complete(loop, op, r);
            return;
        }
        ht_loop__complete(loop, op, op->u_.f.len || head_left(op) ? -ECANCELED : (ht_io_t) op->done_);
        return;
    default:
        ht_loop__complete(loop, op, err);
        return;
    }
}

ht_result_t ht_backend__poll(ht_loop_t* loop, int64_t timeout_ms) {
    ht_backend_t* be = loop->be;
    ULONG got = 0;
    DWORD t = timeout_ms < 0 ? INFINITE : timeout_ms > 0x7FFFFFFF ? 0x7FFFFFFF : (DWORD) timeout_ms;
    be->waits++;
    BOOL ok = GetQueuedCompletionStatusEx(be->iocp, be->entries, be->nentries, &got, t, FALSE);
    ht_loop__update_time(loop);
    if (!ok) {
        DWORD e = GetLastError();
        return e == WAIT_TIMEOUT ? 0 : ht_win32__err(e);
    }
    for (ULONG i = 0; i < got; i++) {
        OVERLAPPED_ENTRY* en = &be->entries[i];
        if (en->lpCompletionKey == WAKE_KEY) {
            ht_loop__wakers_run(loop);
            continue;
        }
        ht_op_t* op = op_of(en->lpOverlapped);
        ht_result_t err = 0;
        DWORD n = en->dwNumberOfBytesTransferred;
        if (en->lpOverlapped->Internal != 0) { /* an NTSTATUS other than success */
            DWORD flags = 0;
            SOCKET s = op->kind_ == HT_OP_ACCEPT ? ((accept_ctx_t*) (void*) op->u_.b.p)->listen
                                                 : (SOCKET) op->fd_;
            if (!WSAGetOverlappedResult(s, en->lpOverlapped, &n, FALSE, &flags)) {
                int e = WSAGetLastError();
                err = e == WSA_OPERATION_ABORTED || e == ERROR_OPERATION_ABORTED ? -ECANCELED
                                                                                  : ht_win32__wsa_err(e);
            }
        }
        dispatch(loop, op, err, n);
    }
    return 0;
}
