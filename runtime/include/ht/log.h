/* ht/log.h — access logs, kept by the server itself.
 *
 * Set a log in the config (`cfg.access_log = log`) and every response an
 * acceptor sends is logged: the handler's, a deferred one when it ends, and
 * those the server answers itself (400, 408, 413, 414, 431, 5xx, a deferred
 * response's 503/504). A request that could not be parsed is logged with
 * "-" for its method and target. Formats:
 *
 *   HT_LOG_COMMON    127.0.0.1 - - [07/Dec/2026:08:10:35 +0000] "GET /a HTTP/1.1" 200 11
 *   HT_LOG_COMBINED  the same + "referer" "user-agent"
 *   HT_LOG_JSON      {"time":"2026-12-07T08:10:35Z","client":"127.0.0.1","proxy":null,
 *                     "method":"GET","target":"/a","proto":"HTTP/1.1","status":200,
 *                     "bytes":11,"duration_us":14,"worker":0,"referer":null,"user_agent":"curl/7.88"}
 *
 * bytes: the body bytes of the response ("-" in CLF for none); client: the
 * request's client address (ht_request__peer); proxy: the address of the
 * proxy it came through, null when it came directly; worker: the acceptor's
 * slot in its server; duration_us: from the request's dispatch to its
 * response's end (0 for the server's own early answers). Bytes a client
 * sent are escaped: \xHH in CLF/Combined (", \, controls, non-ASCII),
 * \u00HH in JSON, so a line cannot be forged and every JSON line parses.
 *
 * Cost: nothing when no log is set (one pointer test per response). With a
 * log, each acceptor formats into its own buffer, without locks, and
 * write(2)s it when it would overflow (32 KiB), at most once a second
 * otherwise (the acceptor's timer), and when the acceptor is finalized.
 * Lines are whole in each write (O_APPEND): several workers may share a file.
 *
 * Lifetime: open before the acceptors serve; close after every acceptor
 * using it has been finalized.
 */
#ifndef HT_LOG_H
#define HT_LOG_H

#include <ht/types.h>

HT_EXTERN_C_BEGIN

typedef enum ht_log_format {
    HT_LOG_COMMON = 0,
    HT_LOG_COMBINED,
    HT_LOG_JSON,
} ht_log_format_t;

typedef struct ht_access_log ht_access_log_t;

/* Opens (appends to, creating with mode 0644) the file at path, or uses
 * standard output for "-". 0, -ENOMEM, or open(2)'s -errno. */
ht_result_t ht_access_log__open(ht_access_log_t** out, const char* path, ht_log_format_t format);

/* Reopens the file at the same path (logrotate moved it away): the new file
 * replaces the old one under the same descriptor (dup2), so workers writing
 * concurrently write to one or the other, whole lines. Async-signal-safe
 * (call it from a SIGUSR1 handler). A no-op for standard output. 0 or
 * -errno (the old file stays in use). */
ht_result_t ht_access_log__reopen(ht_access_log_t* log);

/* Closes the file and frees the log. */
void ht_access_log__close(ht_access_log_t* log);

/* "clf" / "common", "combined", "json" -> 0 and *out; -EINVAL otherwise. */
ht_result_t ht_log_format__parse(const char* name, ht_log_format_t* out);

HT_EXTERN_C_END

#endif /* HT_LOG_H */
