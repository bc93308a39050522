/* ht/response.h — what a handler writes.
 *
 * The server hands the handler one ht_response_t per request; the response
 * is complete when the handler returns (nothing may be added later), unless
 * the handler defers it (see "Answering later" below). The head
 * is written straight into the connection's send buffer as the builder calls
 * are made, so the order is fixed:
 *
 *     ht_response__status(res, 200);                 // once, first
 *     ht_response__header(res, name, value);         // any number
 *     ht_response__body(res, data, len, a);          // at most once, last
 *
 * or one of the one-call helpers (text/html/json/bytes/error), which may
 * follow status/header calls (their status must then be the same). A call
 * out of this order returns HT_E_RESPONSE_STATE and changes nothing.
 *
 * The server writes these headers itself, and a handler may not set them
 * (HT_E_RESERVED_HEADER): Content-Length (always the body's exact length;
 * none for 1xx/204), Transfer-Encoding, Date (a per-loop cache refreshed once
 * a second), Connection (close or keep-alive, from the request and server
 * state). Names must be tokens (HT_E_BAD_HEADER_NAME); values may not contain
 * CR, LF, NUL or other controls but HTAB (HT_E_BAD_HEADER_VALUE) — no header
 * injection. A rejected call leaves the response as it was.
 *
 * HEAD requests: the handler builds the same response as for GET; the server
 * sends the head with the real Content-Length and no body.
 *
 * If the handler returns without a status, or a call failed for lack of room
 * or memory, the server replaces whatever was written with an empty 500: a
 * response with a header silently missing never goes out. Later calls then
 * fail. Lack of room (-ENOBUFS) means the head does not fit in an EMPTY send
 * buffer (ht_config_t.send_buffer_size; the builder counts 101 bytes for the
 * fields it adds and the blank line), and only that: pipelining never changes
 * a response. Pipelined responses share one buffer per batch; a response that
 * does not fit behind the earlier ones gets, for that batch only, a larger
 * buffer holding them and it (under twice send_buffer_size, freed once sent),
 * so a request gets the same answer alone or pipelined. -ENOMEM: that buffer
 * or an out-of-line body could not be allocated.
 *
 * Bodies: ht_response__body copies the bytes. Small ones go into the send
 * buffer next to the head (one send); larger ones, and any that do not fit
 * behind earlier pipelined responses, are copied into memory from the
 * allocator `a` the handler was given, freed by the server once sent (with a
 * nullptr `a`, a body that an empty buffer would hold inline still goes
 * inline; a larger one is -EINVAL).
 * ht_response__body_ref sends the caller's bytes without copying: they must
 * stay valid and unchanged until the server has sent them, which is after the
 * handler returns (static data, or data that outlives the connection).
 */
#ifndef HT_RESPONSE_H
#define HT_RESPONSE_H

#include <ht/alloc.h>
#include <ht/fs.h>
#include <ht/headers.h>
#include <ht/http.h>
#include <ht/loop.h>
#include <ht/request.h>
#include <string.h>

HT_EXTERN_C_BEGIN

typedef struct ht_response ht_response_t;

/* Starts the response with a status (100..999, not 1xx: interim responses
 * are the server's business). Any status code is allowed; the reason phrase
 * comes from HT_STATUSES ("" if unknown). */
ht_result_t ht_response__status(ht_response_t* res, uint16_t status);
/* The status set so far (0 if none). */
uint16_t ht_response__get_status(const ht_response_t* res);
/* The body bytes this response puts on the wire, once its body is set (for
 * an access log): the Content-Length, or 0 for HEAD, 204 and 304; 0 before
 * the body call. */
uint64_t ht_response__body_bytes(const ht_response_t* res);
/* Adds a header field (validated, see above). */
ht_result_t ht_response__header(ht_response_t* res, ht_slice_t name, ht_slice_t value);
ht_result_t ht_response__header_cstr(ht_response_t* res, const char* name, const char* value);
/* Ends the head and adds the body (copied; len may be 0). */
ht_result_t ht_response__body(ht_response_t* res, const void* data, size_t len, ht_alloc_t* a);
/* Ends the head and adds a borrowed body (not copied; see lifetime above). */
ht_result_t ht_response__body_ref(ht_response_t* res, const void* data, size_t len);

/* Ends the head and sends len bytes of file f from offset off as the body,
 * zero-copy (ht_loop__sendfile) after the head. own: the server closes f
 * once it is sent, or when the connection fails, or at once for HEAD; even
 * when this call fails, so an owned f never leaks. Not owned: f must stay
 * open until the server has sent it (e.g. a per-loop file cache that keeps
 * its descriptors for the loop's lifetime). A file body ends the batch:
 * pipelined requests after it are answered once it is sent. If the file is
 * shorter than off + len the connection is dropped (the head promised len). */
ht_result_t ht_response__file(ht_response_t* res, ht_file_t f, uint64_t off, uint64_t len, bool own);

/* One-call responses: status (unless already set to the same), a
 * Content-Type, and a copied body. */
ht_result_t ht_response__bytes(ht_response_t* res, uint16_t status, ht_slice_t content_type,
                               const void* data, size_t len, ht_alloc_t* a);
/* The same with the body's length given: text/plain; charset=utf-8,
 * text/html; charset=utf-8, application/json. */
ht_result_t ht_response__text_n(ht_response_t* res, uint16_t status, const char* text, size_t len, ht_alloc_t* a);
ht_result_t ht_response__html_n(ht_response_t* res, uint16_t status, const char* html, size_t len, ht_alloc_t* a);
ht_result_t ht_response__json_n(ht_response_t* res, uint16_t status, const char* json, size_t len, ht_alloc_t* a);
/* A NUL-terminated body (nullptr: empty). Inline, so that a literal's
 * length is the compiler's to count, not strlen's at run time. */
HT_INLINE ht_result_t ht_response__text(ht_response_t* res, uint16_t status, const char* text, ht_alloc_t* a) {
    return ht_response__text_n(res, status, text, text ? strlen(text) : 0, a);
}
HT_INLINE ht_result_t ht_response__html(ht_response_t* res, uint16_t status, const char* html, ht_alloc_t* a) {
    return ht_response__html_n(res, status, html, html ? strlen(html) : 0, a);
}
HT_INLINE ht_result_t ht_response__json(ht_response_t* res, uint16_t status, const char* json, ht_alloc_t* a) {
    return ht_response__json_n(res, status, json, json ? strlen(json) : 0, a);
}
/* A small HTML error page naming the status ("404 Not Found"), or, for a
 * status >= 400 on a response with an error hook (below), the hook's answer. */
ht_result_t ht_response__error(ht_response_t* res, uint16_t status, ht_alloc_t* a);
/* The same error as JSON, for APIs: {"error":"Not Found","status":404}
 * (application/json). */
ht_result_t ht_response__error_json(ht_response_t* res, uint16_t status, ht_alloc_t* a);
/* ht_response__error with a one-line message that says what was wrong
 * (the route compiler's "query parameter 'page': not a u64"): the HTML page
 * shows it in a <p>, ht_response__error_json adds "message":"..." (both
 * escaped; at most 256 bytes are kept), and an error hook that answers with
 * ht_response__error_json (`errors PREFIX json`) carries it too. */
ht_result_t ht_response__error_msg(ht_response_t* res, uint16_t status, ht_slice_t msg, ht_alloc_t* a);

/* ---- Error pages ----
 *
 * Every error the library answers for a request it handed to a handler
 * goes through ht_response__error: a file server's 404, a mount's 405, a
 * deferred response's deadline (503/504). A hook chooses those answers for
 * one response: ht_response__error(res, status >= 400) then calls fn
 * instead of writing the HTML page. fn gets the response as it is (the
 * status may be set already, with headers such as a 405's Allow, which
 * stay) and answers with a one-call builder for that status
 * (ht_response__json, __html, __bytes: they accept a status already set
 * to the same) or ht_response__error_json; within fn, ht_response__error
 * writes the built-in page, so fn may fall back to it. Statuses below 400
 * (a redirect's small body) are never passed to fn.
 *
 * Scope and lifetime: the hook belongs to this response (a server starts
 * each request without one) and carries over to its ht_response__defer
 * handle; ud is the hook's, borrowed: it must outlive both. fn nullptr
 * removes the hook. */
typedef ht_result_t (*ht_error_page_fn)(ht_response_t* res, uint16_t status, void* ud, ht_alloc_t* a);
void ht_response__on_error(ht_response_t* res, ht_error_page_fn fn, void* ud);

/* ---- Completion ----
 *
 * A callback run once per request when its response is complete, with the
 * final status; what the generated dispatch uses for `after` hooks
 * (dsl/SPEC.md, Groups). A response answered within the handler completes
 * at ht_response__finish, which the code that set the callback calls when
 * the handler returns (so that requests without one pay nothing). A
 * deferred one completes on its own: when its handle's response is
 * complete; with the status of the server's answer in its place when it is
 * cut off and the server answers (503/504 when its deadline passed, 408 for
 * a stalled streamed body, ...); with 0 when nothing more can be sent (the
 * client went away, a shutdown cut it off; a streamed response cut off
 * after its head went out: that head's status).
 *
 * It runs on the connection's loop, after the response's bytes were
 * queued: it can no longer change them, and neither the request nor the
 * response may be touched (they may be gone). Set it from the handler,
 * before any defer (it carries over to the handle); fn nullptr removes it;
 * one per response. ud and tag are the callback's. A response built outside
 * a server never calls it for a deferred response. */
typedef void (*ht_done_fn)(void* ud, uint32_t tag, uint16_t status);
void ht_response__on_done(ht_response_t* res, ht_done_fn fn, void* ud, uint32_t tag);
/* Completes what the handler answered, now, as the server does when the
 * handler returns (an empty body after a head alone; a 500 if nothing valid
 * was built), then runs the completion callback. Nothing for a deferred
 * response (its handle completes it). Builder calls on res fail afterwards. */
void ht_response__finish(ht_response_t* res);

/* ---- Answering later ----
 *
 * A handler that waits on something (a database, an upstream, a timer)
 * must not block its loop. It defers instead: ht_response__defer returns a
 * handle, the handler returns, and the application completes the response
 * later on the connection's loop with the ordinary builder calls on that
 * handle, then gives it back with ht_response__release. Nothing is sent for
 * this request until then, and pipelined requests behind it wait (RFC 9112
 * §9.3.2: responses go out in request order); their bytes stay in the
 * connection's receive buffer, which bounds that queue (the connection
 * stops reading when it is full).
 *
 *     static void h(..., const ht_request_t* req, ht_response_t* res, ...) {
 *         ht_response_t* later = ht_response__defer(res);
 *         if (later == nullptr) { ht_response__error(res, 503, a); return; }
 *         start_query(later, ...);          // answers from a callback
 *     }
 *     ... later, on the same loop:
 *         ht_response__json(later, 200, body, a);
 *         ht_response__release(later);
 *
 * Lifetime. The handle (one allocation from the acceptor's allocator) is
 * the application's until ht_response__release, exactly once; every call on
 * it before then is safe, whatever happened to the connection. The request
 * is not: copy what you need from it before the handler returns.
 *
 * Deadline. A deferred response must be started (its status set) within its
 * timeout: ht_response__timeout, else the config's defer_timeout_ms. When it
 * passes, the server answers itself (503, or the status given, e.g. 504 for
 * a route that waits on an upstream) and the handle is cut off. A response
 * that has started streaming is no longer under this deadline (a stalled
 * reader is under the send timeout).
 *
 * Cut off. When the deadline passes, the client goes away (a reset, or the
 * end of its input: like Go's net/http, a client that half-closes is taken
 * to have left), a streamed request body fails, or a shutdown's drain time
 * runs out, the handle is cut off: the cancel callback, if set, runs once
 * with the reason (HT_E_TIMEOUT, HT_E_CLOSED, HT_E_BODY_TOO_LARGE,
 * HT_E_SHUTDOWN, ...),
 * and from then on builder calls return HT_E_GONE and do nothing.
 * Completing twice returns HT_E_RESPONSE_STATE, as on any finished response.
 *
 * Other threads. Only ht_response__post is thread-safe: it hands a
 * callback to the connection's loop (through ht_loop__post and the loop's
 * waker), which runs it with the handle; the builder calls go there. The
 * requests that never defer pay no lock or atomic for this.
 */

/* Callbacks on a deferred response: the handle, a reason or 0, the user
 * pointer given with the callback. */
typedef void (*ht_response_fn)(ht_response_t* res, ht_result_t why, void* ud);

/* Keeps the response for later (inside the handler, before or after status
 * and header calls, not after its body). Returns the handle, or nullptr
 * when the response cannot be deferred (out of memory; a response built
 * outside a server). After this, builder calls on res return
 * HT_E_RESPONSE_STATE: use the handle. */
ht_response_t* ht_response__defer(ht_response_t* res);
/* Sets the deadline to start this response, in ms from now (or from the
 * defer, when called before it), and the status the server answers with
 * when it passes (0: 503). The generated dispatch calls it for routes with
 * `timeout`. */
ht_result_t ht_response__timeout(ht_response_t* res, uint32_t ms, uint16_t status);
/* The callback run once when the handle is cut off (see above). */
void ht_response__on_cancel(ht_response_t* res, ht_response_fn fn, void* ud);
/* Whether the handle is cut off (calls would return HT_E_GONE). */
bool ht_response__gone(const ht_response_t* res);
/* The loop the response belongs to (for timers and ht_loop__poll). */
ht_loop_t* ht_response__loop(const ht_response_t* res);
/* Gives the handle back, exactly once; the deferred counterpart of a
 * handler returning: what was built is finished as it would be then (a
 * head without a body gets an empty body; nothing valid: 500; a stream is
 * ended). Returns 0, or HT_E_GONE if the handle had been cut off (then
 * nothing was sent from it). */
ht_result_t ht_response__release(ht_response_t* res);
/* Thread-safe: runs fn(res, 0 or HT_E_GONE, ud) on the response's loop.
 * The caller must not touch res until fn runs; at most one post per
 * handle is pending at a time (-EBUSY otherwise). */
ht_result_t ht_response__post(ht_response_t* res, ht_response_fn fn, void* ud);

/* ---- Streamed bodies ----
 *
 * A deferred response can send its body in pieces. ht_response__stream
 * ends the head: with Content-Length when length is known, else with
 * Transfer-Encoding: chunked to HTTP/1.1 clients and a close-delimited body
 * (Connection: close) to HTTP/1.0 ones. ht_response__write queues a piece
 * (copied) and sends it as soon as the socket takes it; the bytes queued
 * and not yet sent are bounded: a write is refused with -EAGAIN (nothing
 * queued) while a send buffer's worth (send_buffer_size) is waiting, and the
 * ready callback runs once there is room again. So a producer goes only as
 * fast as the client reads, and a client that stops reading is dropped at
 * the send timeout. HEAD, 204 and 304 responses send the head only; writes
 * to them are accepted and dropped. Release ends the body (the last chunk);
 * a known length not reached by then drops the connection after the bytes
 * sent (the head promised more). */
#define HT_LENGTH_UNKNOWN UINT64_MAX
ht_result_t ht_response__stream(ht_response_t* res, uint64_t length);
/* Queues len bytes of the body (0 bytes: nothing, returns 0). -EAGAIN: full,
 * wait for the ready callback; -EINVAL: past a known length. */
ht_result_t ht_response__write(ht_response_t* res, const void* data, size_t len);
/* The callback run (once per refusal) when a refused write would now be
 * accepted. */
void ht_response__on_ready(ht_response_t* res, ht_response_fn fn, void* ud);

/* Server-Sent Events (text/event-stream) on a stream: status 200 unless set,
 * Content-Type, Cache-Control: no-cache, and every heartbeat_ms without an
 * event a comment line (":\n\n") so that proxies keep the connection (0:
 * none). Each event is one write, sent at once. */
ht_result_t ht_response__sse_begin(ht_response_t* res, uint32_t heartbeat_ms);
/* One event: optional `event:` and `id:` fields (no CR or LF in either), then
 * data split at its line breaks into `data:` lines. -EAGAIN as a write. */
ht_result_t ht_response__sse_event(ht_response_t* res, const char* event, const char* id, ht_slice_t data);
/* A comment line (": text"), e.g. a heartbeat of your own. */
ht_result_t ht_response__sse_comment(ht_response_t* res, const char* text);

/* ---- Streamed request bodies ----
 *
 * When the config's body_policy hook (ht/config.h) chose to stream a
 * request's body, the handler runs as soon as the head has arrived, before
 * any body byte is read (ht_request__body_pending is true). It may answer
 * at once (401, 413, 415: the body is not read and the connection closes
 * after the response), or defer and ask for the body: only then is "100
 * Continue" sent to a client that waits for it. The body then arrives in
 * order, Content-Length and chunked alike, one call per received piece
 * (last is set on the final call, possibly with no bytes); each piece is
 * valid during its call only. The policy's limit holds: past it the server
 * answers 413 and closes, and the cancel callback is told
 * (HT_E_BODY_TOO_LARGE) so the application can drop what it kept, as it is
 * when the client goes away mid-body (HT_E_CLOSED). */
typedef void (*ht_body_fn)(ht_response_t* res, ht_slice_t piece, bool last, void* ud);
/* -ENODATA: no body is pending (ht_request__body_pending was false);
 * -EALREADY: asked already. While the body is read the response's
 * deadline waits (the body timeout paces a slow client); it runs again,
 * whole, from the last piece. */
ht_result_t ht_response__read_body(ht_response_t* res, ht_body_fn fn, void* ud);
/* Pauses (or resumes) the pieces, for a consumer that cannot take more
 * now (a database still writing the last one): none is delivered while
 * paused and the connection stops reading once it holds one receive
 * buffer, so the client is held back by TCP. No timeout runs while paused
 * but the handle's own. -ENODATA when no body is being read. */
ht_result_t ht_response__pause_body(ht_response_t* res, bool paused);

/* ---- Static files ----
 *
 * ht_response__serve_file answers a request from a docroot: everything
 * ht/fs.h decides (path safety, index file, listing, .br/.zst/.gz sidecars and Vary,
 * ETag/Last-Modified, conditionals, Range, 405 + Allow, redirects of
 * directories to their '/' form) turned into this response, the body
 * zero-copy. The `ht` program is a command line around it; a route's
 * handler (a route compiler's `mount`) calls it the same way.
 *
 * What is served and how is the root's policy, fixed when it is opened
 * (ht_fs__root_open): index file name or none (HT_FS_NO_INDEX), listings
 * (HT_FS_NO_LIST), precompressed sidecars (HT_FS_NO_GZIP), dotfiles
 * (HT_FS_DOTFILES), symlinks out of the root (HT_FS_FOLLOW_OUTSIDE), extra
 * MIME types. It lives in the root rather than in each call because the
 * per-loop cache keys its entries by root: one policy per root keeps a
 * cached answer right for every call. Two policies over one directory are
 * two roots. The options below are about the call; extra headers
 * (Cache-Control, HSTS, CSP, CORS) are its `headers`, since a builder call
 * before or after this one is out of order. */
typedef struct ht_serve_file_options {
    /* The calling loop's open-file cache (ht_fs__cache_init on that loop's
     * thread), or nullptr to resolve every request. Cached files: no path
     * resolution, no open/fstat, small files' bytes from memory. */
    ht_fs_cache_t* cache;
    /* The URL prefix the root is mounted at ("/static"; empty or "/": the
     * root is the whole URL space), compared byte for byte with the raw
     * request path. The path must be the prefix followed by '/' or nothing:
     * what follows it is resolved beneath the root ("/static/a.css" ->
     * "/a.css"); the bare prefix redirects (301) to prefix + "/"; any other
     * path is a 404. Location headers carry the prefix. */
    ht_slice_t     mount;
    /* Extra header rules and CORS (ht/headers.h), checked with
     * ht_headers__check, borrowed; nullptr: none (and no cost). Rules
     * apply to 200/206/304 answers (HEAD too) and replace the server's
     * field of the same name; CORS goes on every answer from the root;
     * a CORS preflight (OPTIONS) from an allowed origin is answered 204. */
    const ht_headers_t* headers;
    /* Single-page applications (`ht --spa`, `serve -s`): a path beneath the
     * root, raw like a request's ("/index.html"), that answers a GET/HEAD
     * the root has no file for (404) when the request's last path segment
     * has no extension and its Accept allows text/html (an absent Accept
     * does): the client-side router's URLs get the app, with that file's
     * status, validators and conditionals. Asset-looking paths ("/app.js",
     * "/logo.png") still get their 404. Such answers, and the 404s of
     * extension-less paths, say Vary: Accept. Empty: no fallback. */
    ht_slice_t     spa;
} ht_serve_file_options_t;

/* Serves req (GET/HEAD; other methods get 405 + Allow) from root. opt may be
 * nullptr (no cache, mounted at "/"). Must be the first builder call: it
 * sets the status, headers and body. File bodies up to 16 KiB are copied
 * (one write with the head, coalesced with pipelined responses), larger
 * ones are sent with ht_response__file from a descriptor the response owns
 * (a dup(2) of a cached one, which the cache may close mid-send). Error
 * statuses get ht_response__error's small page. Temporary memory (a
 * listing, a long Location) comes from a. Returns 0, or the first builder
 * error (the server then answers 500, see the top of this header). */
ht_result_t ht_response__serve_file(ht_response_t* res, const ht_request_t* req,
                                    const ht_fs_root_t* root, const ht_serve_file_options_t* opt,
                                    ht_alloc_t* a);

/* ---- Embedded assets ----
 *
 * Files compiled into the program (the route compiler's `embed PREFIX DIR`
 * emits these tables; a program may also write its own): bytes in read-only
 * memory, Content-Type and strong ETags fixed at build time, an optional
 * precompressed variant per content coding (HT_FS_ENCODINGS: br, zstd,
 * gzip). Nothing is opened, read or allocated per request
 * (a long Location aside) and bodies are sent from the table's memory
 * without copying (ht_response__body_ref), so the tables must live as long
 * as the program (static storage). */
typedef struct ht_asset_variant {
    const char*    etag; /* strong entity-tag of data (a different representation from
                          * the raw bytes, so a different tag); nullptr: no variant */
    const uint8_t* data; /* the asset's bytes in that coding */
    uint64_t       size;
} ht_asset_variant_t;

typedef struct ht_asset {
    const char*    path;    /* decoded, normalised path beneath the set: "/css/app.css"
                             * (starts with '/', no empty or dot segments) */
    const char*    type;    /* the Content-Type value */
    const char*    etag;    /* strong entity-tag of data, quotes included */
    const uint8_t* data;    /* the file's bytes (size may be 0) */
    uint64_t       size;
    ht_asset_variant_t coded[HT_FS_ENC_CODINGS]; /* by ht_fs_encoding_t (HT_FS_ENC_BR, ...) */
} ht_asset_t;

/* A tree of assets. Directories are implied by the paths: "/css/" exists
 * when some asset's path starts with it, and "/" always does. */
typedef struct ht_asset_set {
    const ht_asset_t* assets; /* sorted bytewise (memcmp order) by path, no duplicates */
    uint32_t          count;
    const char*       index;  /* index file name served for a directory ("index.html"),
                               * or nullptr for none */
    const ht_headers_t* headers; /* extra header rules and CORS (ht/headers.h), as
                               * ht_serve_file_options_t.headers; nullptr: none */
} ht_asset_set_t;

/* The asset at a decoded, normalised path (binary search), or nullptr. */
const ht_asset_t* ht_asset__find(const ht_asset_set_t* set, ht_slice_t path);

/* Serves req (GET/HEAD) from an asset set mounted at `mount` (as
 * ht_serve_file_options_t.mount: "/ui", or empty for the whole URL space),
 * with ht_response__serve_file's rules where they apply:
 *   - the path outside the mount: 404; the bare prefix: 301 to prefix + "/";
 *     other methods: 405 + "Allow: GET, HEAD";
 *   - the raw path is decoded and normalised as ht_fs__resolve does (bad
 *     escapes, %00, %2F, '\', climbing above the root: 400; too long: 414);
 *     names starting with '.' (but ".well-known") are never found (404);
 *   - a directory named without its '/': 301 + Location (mount + path + "/"
 *     + query); with it: its index asset, else 404 (no listings);
 *   - a coded variant when ht_fs__choose_encoding picks it over the others
 *     the asset has and identity, and the request is not a GET with Range
 *     (ranges are served from the raw bytes); then Content-Encoding, and
 *     Vary: Accept-Encoding on every response for an asset that has a
 *     variant (every variant, 304 too); 406 when the client refuses identity
 *     and every variant;
 *   - If-Match / If-None-Match against the chosen variant's ETag (412 /
 *     304; weak comparison for If-None-Match); there is no Last-Modified,
 *     so If-Modified-Since / If-Unmodified-Since are ignored, and an
 *     If-Range date never matches (the whole asset is sent);
 *   - Range (GET, raw variant): 206 + Content-Range, or 416 with
 *     "Content-Range: bytes * /size";
 *   - 200 / 206 carry Content-Type, ETag and Accept-Ranges: bytes;
 *   - set->headers (ht/headers.h), as ht_serve_file_options_t.headers:
 *     rules on 200/206/304, CORS on every answer within the mount, a CORS
 *     preflight (OPTIONS) from an allowed origin answered 204.
 * Must be the first builder call. Returns 0 or the first builder error. */
ht_result_t ht_response__asset(ht_response_t* res, const ht_request_t* req,
                               const ht_asset_set_t* set, ht_slice_t mount, ht_alloc_t* a);

/* Whether a header name is a valid token, and a value is free of CR, LF,
 * NUL and other controls except HTAB (what ht_response__header checks). */
bool ht_response__valid_header_name(ht_slice_t name);
bool ht_response__valid_header_value(ht_slice_t value);

HT_EXTERN_C_END

#endif /* HT_RESPONSE_H */
