/* server/conn.h — internal: connections, send buffers and the response
 * builder's state, shared by conn.c, response.c and the tests. */
#ifndef HT_SERVER_CONN_H
#define HT_SERVER_CONN_H

#include <ht/server.h>

#include "http/parse.h"

/* Timeout classes: each has one duration, so appending at the tail keeps
 * every list sorted by deadline and one sweep of the heads is enough. */
enum ht_tclass {
    HT_TC_HEADER = 0, /* waiting for (the rest of) a request head */
    HT_TC_BODY,       /* waiting for body bytes */
    HT_TC_IDLE,       /* keep-alive, nothing buffered */
    HT_TC_SEND,       /* a send is in flight */
    HT_TC_LINGER,     /* write side shut, draining input before close */
    HT_TC_STARVED,    /* waiting for a pooled receive buffer */
    HT_TC_DEAD,       /* closing, waiting for its operations to return (no timeout) */
    HT_TC_NONE = 0xff,
};
static_assert(HT_TC_STARVED + 1 == HT_ACCEPTOR_CLASSES_, "one list per class");

#define HT_OUT_IOV 16
#define HT_OUT_EXT 8

/* A send buffer: the response bytes of one read batch, plus the iovec that
 * sends them and the out-of-line bodies to free once sent. Lives in the
 * acceptor's freelist while unused. A buffer grown by ht_conn__out_grow_
 * (size under twice unit) is freed, not cached, when the connection lets it
 * go; until then each batch starts with cap = unit again (on_send), so what
 * fits never depends on an earlier batch. */
typedef struct ht_out {
    struct ht_out* next;     /* freelist */
    uint32_t       cap;      /* bytes of data[] this batch may use: unit, or for the
                              * batch that grew it, that response's start + unit */
    uint32_t       size;     /* bytes of data[] allocated */
    uint32_t       unit;     /* send_buffer_size */
    uint32_t       len;      /* bytes written */
    uint32_t       sealed;   /* data[0, sealed) is covered by iov[] */
    uint32_t       iovcnt;
    uint32_t       nexts;
    uint64_t       total;    /* bytes to send */
    uint64_t       file_off; /* file body after iov[] (see ht_response__file) */
    uint64_t       file_len;
    ht_file_t      file;     /* HT_FILE_INVALID: none */
    uint8_t        file_own;
    uint8_t        file_state; /* HT_OUT_FILE_* */
    ht_iov_t       iov[HT_OUT_IOV];
    struct { void* p; size_t n; ht_alloc_t* a; } ext[HT_OUT_EXT];
    char           data[];
} ht_out_t;

struct ht_conn;

struct ht_response {
    ht_out_t*   out;
    struct ht_conn* conn;    /* owner of out, which may grow (ht_conn__out_grow_);
                              * nullptr: a fixed buffer (unit tests) */
    const char* date;        /* the acceptor's cached "Date: ...\r\n" line */
    uint64_t    body_bytes;  /* ht_response__body_bytes */
    uint32_t    start;       /* rollback point */
    uint32_t    start_iov;
    uint32_t    start_ext;
    uint16_t    status;
    uint8_t     state;       /* HT_RES_* */
    uint8_t     flags;       /* HT_RESF_* */
};

enum { HT_RES_NONE = 0, HT_RES_HEAD, HT_RES_DONE, HT_RES_FAILED };
enum {
    HT_RESF_HEAD_ONLY  = 1u << 0, /* HEAD request: no body bytes */
    HT_RESF_CLOSE      = 1u << 1, /* Connection: close */
    HT_RESF_KEEP_ALIVE = 1u << 2, /* HTTP/1.0 keep-alive: say so */
};

enum { HT_OUT_FILE_NONE = 0, HT_OUT_FILE_PENDING, HT_OUT_FILE_SENDING };

/* Response builder internals (response.c). conn: the connection that owns
 * out (its buffer may grow), or nullptr for a fixed buffer. */
void ht_response__begin_(ht_response_t* res, ht_out_t* out, struct ht_conn* conn, const char* date_line,
                         uint8_t flags);
/* Completes the response: a 500 if nothing valid was built. */
void ht_response__finish_(ht_response_t* res);
/* Appends a bare interim "100 Continue". False if there is no room. */
bool ht_out__continue_(ht_out_t* out);
/* Covers data[sealed, len) with an iovec entry. */
void ht_out__seal_(ht_out_t* out);
/* Frees the out-of-line bodies and empties the buffer. */
void ht_out__reset_(ht_out_t* out);
/* Makes room for need more bytes of the response res is building, which
 * does not fit behind the earlier (pipelined) responses in c->out: when it
 * would fit in an empty send buffer (its bytes so far plus need <=
 * send_buffer_size), the batch may use res->start + send_buffer_size bytes:
 * in place if c->out is that large already, else c->out and res->out become
 * a new buffer holding everything so far (iovecs rebased, bodies and file
 * carried over) and the old one goes back to the cache. Returns 0, -ENOBUFS
 * (too large even for an empty buffer) or -ENOMEM. (conn.c) */
ht_result_t ht_conn__out_grow_(struct ht_conn* c, ht_response_t* res, size_t need);
/* ht_response__header for a field the library built itself (a name from
 * its own table, a value it formatted or the MIME table's): no checks, no
 * id lookup, no trimming; they cost ~400 instructions per field, most of
 * a small file's header time. Never for a caller's or a client's bytes. */
ht_result_t ht_response__header_own_(ht_response_t* res, ht_slice_t name, ht_slice_t value);
/* Refreshes the acceptor-style date line "Date: ...\r\n" (37 bytes + NUL). */
void ht_date_line_(char* out, int64_t t);
#define HT_DATE_LINE_LEN 37

/* A connection; from the acceptor's freelist. */
typedef struct ht_conn {
    ht_acceptor_t*  acc;
    struct ht_conn* tprev;   /* class list; tnext doubles as freelist link */
    struct ht_conn* tnext;
    uint64_t        deadline;
    ht_op_t         rop;     /* recv side */
    ht_op_t         sop;     /* send side */
    char*           in;      /* received bytes: a pooled buffer's data or our own */
    ht_buf_t*       in_buf;  /* the pooled buffer, or nullptr if `in` is allocated */
    size_t          in_cap;
    size_t          in_len;
    size_t          in_off;  /* start of the current request */
    ht_out_t*       out;
    ht_parser_t     parser;
    ht_chunked_t    chunked;
    uint64_t        body_need;   /* Content-Length of the current body */
    uint64_t        body_len;    /* chunked: payload bytes decoded so far */
    uint64_t        drained;     /* linger: bytes discarded */
    uint32_t        head_len;    /* current request's head, once parsed */
    uint32_t        requests;
    ht_socket_t     fd;
    uint16_t        flags;       /* HT_CF_* */
    uint8_t         tclass;
    uint8_t         rstate;      /* HT_RS_* */
    ht_addr_t       peer;        /* ht_request__peer's answer, once asked */
    int16_t         peer_err;    /* 0 (not asked yet, or known) or getpeername's -errno */
    bool            peer_known;
} ht_conn_t;

#endif /* HT_SERVER_CONN_H */
