/* ht/fs.h — serving files from a docroot (ht_file_t, the platform's file
 * handle type, is ht/net.h's).
 *
 * This module decides everything about a static-file response except the
 * bytes on the wire: where a request path leads (safely), which status,
 * which headers, which byte range of which open file. The server then
 * sends the head and the range zero-copy: ht_response__serve_file
 * (ht/response.h) does the whole request, as `ht` and mounts use it.
 * Nothing here touches a socket, so all of it is testable without a
 * server, and a handler can use the pieces directly.
 *
 * Layers, each usable alone:
 *   - MIME types: a gperf table built from runtime/src/files/mime.list, plus
 *     caller-added extensions (ht_fs_mime_t);
 *   - ETags, conditional requests, Range, Accept-Encoding: pure functions
 *     over slices (HTTP-dates are ht/http.h's);
 *   - path resolution beneath a root directory fd (ht_fs__resolve);
 *   - directory listings (ht_fs__listing);
 *   - ht_fs__plan: all of the above for one GET/HEAD request.
 *
 * Threads. An ht_fs_root_t and an ht_fs_mime_t are read-only once set up
 * and may be shared by every worker. Everything else works on caller memory
 * and is reentrant. Nothing allocates except ht_fs__mime_add and
 * ht_fs__listing, which take an allocator.
 *
 * Path safety (ht_fs__resolve), in order:
 *   1. the raw path must start with '/', contain no '\' (raw or %5C: a
 *      Windows separator has no business in a URL path) and be shorter than
 *      HT_FS_PATH_MAX;
 *   2. percent-decoding refuses bad escapes, %00 and %2F (ht_uri__decode
 *      with HT_URI_DECODE_NO_SLASH); the decoded path is never decoded
 *      again, so "%252e" stays the name "%2e";
 *   3. dot segments are removed strictly: climbing above the root is refused
 *      (ht_uri__remove_dot_segments, HT_URI_DOTS_STRICT); empty segments
 *      ("//") are dropped;
 *   4. a segment starting with '.' is refused unless HT_FS_DOTFILES
 *      ("/.git/config", "/.env"), except ".well-known" (RFC 8615: ACME
 *      challenges, security.txt live there). It applies to the names in
 *      the request; a symlink inside the root whose target is a dotfile is
 *      the tree owner's explicit choice and is followed;
 *   5. the file is opened relative to the root fd, never by an absolute
 *      name: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the
 *      kernel has it, else a walk that opens one component at a time with
 *      O_NOFOLLOW and resolves symlinks itself, within the root. Either way a
 *      symlink is followed only while it stays beneath the root (absolute
 *      targets and ".." above the root are refused), unless
 *      HT_FS_FOLLOW_OUTSIDE;
 *   6. only regular files and directories are served (no FIFOs, devices,
 *      sockets); files are opened O_NONBLOCK so a FIFO cannot stall a loop.
 * The caller never builds a file name from the request by itself.
 */
#ifndef HT_FS_H
#define HT_FS_H

#include <ht/alloc.h>
#include <ht/bytes.h>
#include <ht/http.h>
#include <ht/net.h> /* ht_file_t */

HT_EXTERN_C_BEGIN

/* Closes f if valid (errors are ignored: there is nothing to retry). */
void ht_fs__close(ht_file_t f);

/* What the server needs of a file's metadata, platform-neutral. */
typedef struct ht_fs_stat {
    uint64_t size;
    int64_t  mtime_sec;  /* Unix time */
    uint32_t mtime_nsec;
    bool     is_dir;     /* else a regular file (nothing else is resolved) */
    uint64_t dev, ino;   /* identity, for the ETag */
} ht_fs_stat_t;

/* fstat(2) into *st: 0, a negated errno, or -EPERM for anything but a
 * regular file or a directory (*st is filled all the same). */
ht_result_t ht_fs__stat(ht_file_t f, ht_fs_stat_t* st);

/* ======================= MIME types ======================= */

/* The built-in Content-Type value for a file extension (without the dot,
 * ASCII case-insensitive: "html", "HTML", "Js"), charset included for text
 * types ("text/html; charset=utf-8"); HT_SLICE_NULL if not in the table.
 * The slice points to static storage. */
ht_slice_t ht_fs__mime_builtin(ht_slice_t ext);

/* The extension of the last segment of path: what follows its last '.', or
 * empty when there is none, when the dot starts the name (".profile") or
 * ends it ("a."). Points into path. */
ht_slice_t ht_fs__extension(ht_slice_t path);

/* Whether a Content-Type value is worth compressing (text, JSON, XML, SVG,
 * JavaScript, WebAssembly, TTF/OTF fonts, icons), for --precompress. */
bool ht_fs__mime_compressible(ht_slice_t content_type);

/* Extensions added by the caller at run time (the route DSL's `mime EXT
 * TYPE`, a config file). Caller storage; ht_fs__mime_init allocates nothing,
 * ht_fs__mime_add copies ext and type into memory from the table's
 * allocator, ht_fs__mime_free returns it. Read-only lookups may run on many
 * threads once the table is no longer being added to. */
typedef struct ht_fs_mime_entry_ {
    char*    ext;  /* lowercased, NUL-terminated */
    char*    type; /* NUL-terminated */
    uint32_t ext_len, type_len;
} ht_fs_mime_entry_;

typedef struct ht_fs_mime {
    ht_fs_mime_entry_* entries_; /* private */
    uint32_t           len_, cap_;
    ht_alloc_t*        alloc_;
} ht_fs_mime_t;

void ht_fs__mime_init(ht_fs_mime_t* m, ht_alloc_t* a);
/* Maps ext (no dot; 1..32 bytes of ALPHA / DIGIT / '-' / '_' / '+'; stored
 * lowercased) to type, a complete Content-Type value used as given (add
 * "; charset=utf-8" yourself for text). Replaces an earlier mapping of the
 * same ext and overrides the built-in one. 0, -EINVAL (bad ext, empty type,
 * or a type that is not a valid header value: CR, LF, NUL, other controls),
 * or -ENOMEM. */
ht_result_t ht_fs__mime_add(ht_fs_mime_t* m, ht_slice_t ext, ht_slice_t type);
void ht_fs__mime_free(ht_fs_mime_t* m);

/* The Content-Type for a path: m's mapping of its extension (m may be
 * nullptr), else the built-in one, else "application/octet-stream". The
 * slice points into m or static storage. */
ht_slice_t ht_fs__mime_lookup(const ht_fs_mime_t* m, ht_slice_t path);

/* ======================= Validators ======================= */

/* HTTP-dates (Last-Modified, If-Modified-Since, ...) are ht_http__format_date
 * and ht_http__parse_date (ht/http.h). */

/* Longest ETag ht_fs__etag writes, quotes included. */
#define HT_FS_ETAG_MAX 64

/* The strong ETag of a file version, into out[0, HT_FS_ETAG_MAX]
 * (NUL-terminated); returns its length. It is
 *     '"' hex(ino) '-' hex(size) '-' hex(mtime_sec) '.' hex(mtime_nsec) '"'
 * Why strong: a file rewritten in place changes mtime (nanoseconds), and
 * one replaced by rename changes inode, so two versions share an ETag only
 * if both were written within the file system's timestamp granularity with
 * equal sizes and inode — the same trade nginx and Apache make. The device
 * is left out so that replicas serving the same tree agree more often. */
size_t ht_fs__etag(char* out, const ht_fs_stat_t* st);

/* Whether an If-Match / If-None-Match value (a comma list of entity-tags,
 * or "*") matches etag (an ht_fs__etag string). weak: the weak comparison
 * (If-None-Match: W/"x" matches "x"); else strong (a W/ tag never
 * matches). "*" matches any etag. A malformed list matches nothing. */
bool ht_fs__etag_list_match(ht_slice_t list, ht_slice_t etag, bool weak);

/* The request headers ht_fs__plan and the helpers below read.
 * HT_SLICE_NULL (ptr == nullptr) when the header is absent. Only the first
 * field of each name is used; a server that joins repeated list headers
 * with ", " may pass the joined value. */
typedef struct ht_fs_request {
    ht_method_t method;
    ht_slice_t  path;              /* raw, still percent-encoded, no query */
    ht_slice_t  query;             /* raw query (no '?'), kept on redirects */
    ht_slice_t  if_match;
    ht_slice_t  if_none_match;
    ht_slice_t  if_modified_since;
    ht_slice_t  if_unmodified_since;
    ht_slice_t  if_range;
    ht_slice_t  range;
    ht_slice_t  accept_encoding;
} ht_fs_request_t;

/* RFC 9110 §13.2.2 preconditions for a GET/HEAD of a file whose strong
 * validators are etag and mtime (seconds): 0 (proceed), 304 or 412.
 *   1. If-Match present: 412 unless it matches (strong comparison);
 *   2. else If-Unmodified-Since (a valid date): 412 if mtime is later;
 *   3. If-None-Match present: 304 if it matches (weak comparison);
 *   4. else If-Modified-Since (a valid date): 304 unless mtime is later.
 * Invalid dates are ignored, as the RFC asks. */
uint16_t ht_fs__preconditions(const ht_fs_request_t* req, ht_slice_t etag, int64_t mtime);

typedef enum ht_fs_range_kind {
    HT_FS_RANGE_NONE = 0,   /* no Range, or one to ignore (malformed, other unit,
                             * more than one satisfiable range): 200, whole file */
    HT_FS_RANGE_ONE,        /* one satisfiable range: 206 + Content-Range */
    HT_FS_RANGE_UNSATISFIABLE, /* 416 + "Content-Range: bytes * /size" */
} ht_fs_range_kind_t;

/* Parses a Range value (RFC 9110 §14.1.2) against a representation of size
 * bytes. For HT_FS_RANGE_ONE, *off and *len get the clamped range (len >=
 * 1). Forms: "bytes=a-b", "bytes=a-", "bytes=-n"; the unit is
 * case-insensitive; OWS around commas; empty list elements are skipped.
 * A range with b < a, a non-digit, an overflowing number, another unit or
 * more than 100 elements makes the whole header ignored (NONE). Several
 * ranges: each unsatisfiable one is dropped; if more than one remains the
 * answer is NONE (the whole file, which the RFC allows instead of
 * multipart/byteranges); none remaining is UNSATISFIABLE. An empty file
 * satisfies no range (UNSATISFIABLE), except that a suffix range there is
 * ignored (NONE), as it cannot be expressed in a Content-Range. */
ht_fs_range_kind_t ht_fs__range(ht_slice_t range, uint64_t size, uint64_t* off, uint64_t* len);

/* Whether Range may be honoured given If-Range (RFC 9110 §13.1.5): true if
 * if_range is absent, an entity-tag strongly equal to etag, or an
 * HTTP-date equal to mtime. A weak tag, another tag, another date or a
 * malformed value: false (serve the whole file). */
bool ht_fs__if_range(ht_slice_t if_range, ht_slice_t etag, int64_t mtime);

/* The q-value (0..1000, thousandths) an Accept-Encoding value gives coding
 * (ASCII case-insensitive; "x-gzip" counts as "gzip"): its own entry if
 * listed, else "*"'s, else -1 (not mentioned). An absent header
 * (ae.ptr == nullptr) gives -1 too. Elements with a malformed q are
 * skipped. */
int32_t ht_fs__accept_q(ht_slice_t ae, ht_slice_t coding);

/* Whether the client accepts a gzip response: ht_fs__accept_q(ae, "gzip")
 * > 0. An absent header means no (RFC 9110 would allow any coding, but a
 * client that says nothing may not decode it). */
bool ht_fs__accepts_gzip(ht_slice_t ae);

/* The content codings served from precompressed variants (sidecar files
 * beside the original, or an embedded asset's extra copies): enum id,
 * Content-Encoding token, sidecar suffix. The order is the server's
 * preference when the client's q-values tie: the smaller encoding first. */
#define HT_FS_ENCODINGS(X)   \
    X(BR, "br", ".br")       \
    X(ZSTD, "zstd", ".zst")  \
    X(GZIP, "gzip", ".gz")

typedef enum ht_fs_encoding {
#define HT_FS_ENC_ENUM_(id, token, suffix) HT_FS_ENC_##id,
    HT_FS_ENCODINGS(HT_FS_ENC_ENUM_)
#undef HT_FS_ENC_ENUM_
    HT_FS_ENC_CODINGS,                        /* how many codings there are */
    HT_FS_ENC_IDENTITY = HT_FS_ENC_CODINGS,   /* the file as it is */
    HT_FS_ENC_NONE,                           /* nothing acceptable (406) */
} ht_fs_encoding_t;

/* The Content-Encoding token ("br") and sidecar suffix (".br") of a coding
 * (static storage); empty for IDENTITY and NONE. */
ht_slice_t ht_fs__encoding_token(ht_fs_encoding_t e);
ht_slice_t ht_fs__encoding_suffix(ht_fs_encoding_t e);

/* What an Accept-Encoding value allows (RFC 9110 §12.5.3), per coding and
 * for identity, as q-values in thousandths:
 *   - a coding: its own entry's q (gzip: also "x-gzip"), else "*"'s, else 0;
 *     an absent header gives 0 to every coding (a client that says nothing
 *     may not decode one);
 *   - identity: its own entry's q, else "*"'s, else 1 — acceptable, but
 *     below any coding the client lists (RFC 9110: identity is acceptable
 *     unless "identity;q=0" or "*;q=0" without an identity entry excludes it).
 * An empty value (the field present, no elements) leaves identity only. */
typedef struct ht_fs_accept {
    uint16_t q[HT_FS_ENC_CODINGS + 1]; /* by ht_fs_encoding_t, IDENTITY last */
} ht_fs_accept_t;

void ht_fs__accept_parse(ht_slice_t ae, ht_fs_accept_t* out);

/* The representation to send, given what the client allows and which
 * codings are available (bit 1u << e for each ht_fs_encoding_t e < CODINGS):
 * the available coding with the highest q > 0, ties going to the earlier
 * one in HT_FS_ENCODINGS; identity instead when its q is higher still;
 * identity when no available coding is acceptable and identity is; else
 * HT_FS_ENC_NONE (the client refuses every representation: 406). */
ht_fs_encoding_t ht_fs__choose_encoding(const ht_fs_accept_t* acc, uint32_t available);

/* ======================= Resolution ======================= */

/* Decoded paths, appended index names and sidecar suffixes included, are refused at
 * this length and over (414 from ht_fs__plan). */
#define HT_FS_PATH_MAX 2048
/* Longest index file name. */
#define HT_FS_INDEX_MAX 255

enum ht_fs_root_flags {
    HT_FS_FOLLOW_OUTSIDE = 1u << 0, /* follow symlinks wherever they lead */
    HT_FS_DOTFILES       = 1u << 1, /* serve names starting with '.' (and list them) */
    HT_FS_NO_INDEX       = 1u << 2, /* no index file lookup in directories */
    HT_FS_NO_LIST        = 1u << 3, /* no generated directory listings */
    HT_FS_NO_GZIP        = 1u << 4, /* never look for or serve precompressed sidecars
                                     * (.br, .zst, .gz: HT_FS_ENCODINGS) */
    HT_FS_NO_OPENAT2     = 1u << 5, /* use the component walk even where openat2
                                     * works (tests; kernels with broken filters) */
};

/* A docroot: its directory fd and the serving policy. Caller storage, set up
 * by ht_fs__root_open; read-only afterwards (shareable across threads). */
typedef struct ht_fs_root {
    ht_file_t           dir;   /* O_DIRECTORY fd of the docroot, owned */
    uint32_t            flags; /* ht_fs_root_flags */
    const ht_fs_mime_t* mime;  /* extra types (nullable, borrowed: must outlive the root) */
    char                index[HT_FS_INDEX_MAX + 1]; /* index file name, "index.html" */
    uint16_t            index_len;
} ht_fs_root_t;

/* Opens path (a directory) as a docroot. index: the index file name
 * (nullptr: "index.html"); one segment, no '/', not "." or "..". mime may
 * be nullptr. 0, -EINVAL (bad index), -ENOTDIR, or the open(2) errno.
 * Windows: the file names Windows would reinterpret (':' streams and
 * drives, 8.3 short names, trailing dots, DOS devices) are refused, links
 * are never followed, and HT_FS_FOLLOW_OUTSIDE is refused with -ENOTSUP
 * (files/resolve_win32.c says why). */
ht_result_t ht_fs__root_open(ht_fs_root_t* root, const char* path, uint32_t flags,
                             const char* index, const ht_fs_mime_t* mime);
void ht_fs__root_close(ht_fs_root_t* root);

typedef enum ht_fs_status {
    HT_FS_FILE = 1,     /* a regular file, opened */
    HT_FS_DIR,          /* a directory named with a trailing '/', opened */
    HT_FS_REDIRECT,     /* a directory named without the '/': redirect to path + "/" */
    HT_FS_NOT_FOUND,    /* no such file, or "file/" (404) */
    HT_FS_FORBIDDEN,    /* exists, but refused: symlink escape, dotfile, special
                         * file, permission denied, symlink loop (403) */
    HT_FS_BAD_PATH,     /* a malformed or hostile path: bad escape, %00, %2F,
                         * '\', climbing above the root, no leading '/' (400) */
    HT_FS_TOO_LONG,     /* path at or over HT_FS_PATH_MAX (414) */
    HT_FS_ERROR,        /* an unexpected errno, in entry->err (500; EMFILE/ENFILE: 503) */
} ht_fs_status_t;

typedef struct ht_fs_entry {
    ht_file_t    fd;    /* HT_FS_FILE / HT_FS_DIR: open O_RDONLY|O_CLOEXEC, owned by
                         * the caller (ht_fs__close); else HT_FILE_INVALID */
    ht_fs_stat_t st;    /* HT_FS_FILE / HT_FS_DIR / HT_FS_REDIRECT */
    /* The decoded, normalised path ("/a/b.txt", "/dir/"), starting with '/',
     * empty segments dropped; set for every status but BAD_PATH/TOO_LONG.
     * Points into the caller's buffer. */
    ht_slice_t   path;
    ht_result_t  err;   /* HT_FS_ERROR: the negated errno */
} ht_fs_entry_t;

/* Resolves a raw request path beneath root (see the top of this header).
 * buf: caller memory of HT_FS_PATH_MAX bytes, where the decoded path is
 * built (entry->path points into it). Dotfiles and symlink policy follow
 * root->flags; index lookup is not done here (see ht_fs__plan). */
ht_fs_status_t ht_fs__resolve(const ht_fs_root_t* root, ht_slice_t raw_path, char* buf,
                              ht_fs_entry_t* entry);

/* Opens a decoded, normalised path (as in ht_fs_entry_t.path: starting with
 * '/', no dot or empty segments) beneath root with the same rules; for
 * callers that derive names themselves (index files, sidecars, listings). */
ht_fs_status_t ht_fs__open(const ht_fs_root_t* root, ht_slice_t path, ht_fs_entry_t* entry);

/* Appends to out the absolute path reference a redirect to path (decoded)
 * should carry: path percent-encoded (every byte but unreserved ones, '/'
 * and ! $ & ' ( ) * + , = : @ becomes %XX, so '?', '#', '%', spaces,
 * controls and non-ASCII are encoded), then '?' and query (raw, as
 * received) if query is not empty. Leading slashes are collapsed to one:
 * "//host/x" would be a network-path reference, an open redirect.
 * 0 or -ENOMEM (out keeps what it had). */
ht_result_t ht_fs__push_location(ht_bytes_t* out, ht_slice_t path, ht_slice_t query);

/* ======================= Listings ======================= */

/* Appends to out an HTML5 page listing directory dir (an open directory fd,
 * not consumed) whose decoded path under the root is path (ends with '/'),
 * titled "Index of " mount + path (mount: the URL prefix the root is served
 * under, e.g. "/static", or empty): a parent link unless both are the site's
 * root (empty mount, path "/"), then subdirectories, then files, each group sorted
 * bytewise by name; a file's size in bytes and each entry's mtime as
 * "YYYY-MM-DD HH:MM" (UTC). Links are percent-encoded relative references
 * (every byte but unreserved ones is encoded, so "a:b" cannot become a
 * scheme); names are HTML-escaped (& < > " '), with controls and invalid
 * UTF-8 shown as U+FFFD. Names starting with '.' (but ".well-known") are
 * left out unless root->flags has HT_FS_DOTFILES; symlinks are listed (as what they point
 * to) only if they resolve beneath the root under root's policy; special
 * files are left out. Temporary memory comes from a and is returned before
 * this returns. 0, -ENOMEM (out keeps what it had), or a negated errno from
 * reading the directory. */
ht_result_t ht_fs__listing(const ht_fs_root_t* root, ht_file_t dir, ht_slice_t path, ht_slice_t mount,
                           ht_bytes_t* out, ht_alloc_t* a);

/* ======================= One request ======================= */

/* What to send. Headers other than Content-Length, Date and Connection (the
 * server's) are all listed; a server adds them in order. */
typedef enum ht_fs_body {
    HT_FS_BODY_NONE = 0, /* status + headers only (304, 405, 416, errors: a
                          * server may add a small error page for >= 400) */
    HT_FS_BODY_FILE,     /* bytes [offset, offset + length) of fd (for HEAD:
                          * Content-Length = length, no body) */
    HT_FS_BODY_LISTING,  /* a listing of the directory fd (ht_fs__listing with
                          * plan.path); Content-Type already listed */
} ht_fs_body_t;

#define HT_FS_PLAN_HEADERS 8

typedef struct ht_fs_plan {
    uint16_t     status;
    uint8_t      body;       /* ht_fs_body_t */
    uint8_t      n_headers;
    ht_header_t  headers[HT_FS_PLAN_HEADERS]; /* name, value (value into text[]) */
    ht_file_t    fd;         /* FILE / LISTING: owned by the plan (see release),
                              * unless fd_borrowed (from an ht_fs_cache_t) */
    bool         fd_borrowed;
    /* FILE from a cache that holds the contents: the whole file's bytes
     * (data[offset, offset + length) is the body), valid as long as fd is;
     * nullptr otherwise. */
    const char*  data;
    uint64_t     offset, length;
    ht_fs_stat_t st;         /* of the file sent (the sidecar when encoded) */
    ht_slice_t   path;       /* decoded path of what is served (into path_buf) */
    ht_fs_status_t resolved; /* how the request path resolved */
    uint8_t      encoding;   /* ht_fs_encoding_t of fd: IDENTITY, or the coding of
                              * the sidecar it is (NONE only with status 406) */
    /* private storage */
    char         path_buf[HT_FS_PATH_MAX];
    char         text[3 * HT_FS_PATH_MAX + 256];
    uint32_t     text_len;
    /* From a cache whose entry answers a plain 200 (no precondition, no
     * Range), or a 304 to If-None-Match alone: headers[] already
     * serialized, "Name: value\r\n" each, in order (the server copies it
     * whole); empty otherwise. The runtime's. */
    ht_slice_t   fields_;
} ht_fs_plan_t;

/* Decides the response to one request for root (see the semantics):
 *   - methods other than GET/HEAD: 405 + "Allow: GET, HEAD";
 *   - resolution outcomes: 400 / 403 / 404 / 414 / 500 (503 for EMFILE);
 *     a directory without its '/': 301 + Location (path + "/" + query);
 *   - a directory: its index file (unless HT_FS_NO_INDEX), else a listing
 *     (unless HT_FS_NO_LIST), else 404;
 *   - a file: a sidecar instead (NAME.br, NAME.zst, NAME.gz: HT_FS_ENCODINGS)
 *     when it is a regular file not older than NAME and ht_fs__choose_encoding
 *     picks its coding over the others present and identity (unless
 *     HT_FS_NO_GZIP); then Content-Encoding, the original's Content-Type and
 *     the sidecar's own ETag; Vary: Accept-Encoding whenever a sidecar exists
 *     (every variant). 406 (+ Vary) when the client refuses identity and
 *     every sidecar present;
 *   - preconditions (304 / 412), then Range with If-Range (GET only) for
 *     206 / 416;
 *   - 200 / 206 carry Content-Type, ETag, Last-Modified, Accept-Ranges:
 *     bytes (+ Content-Range, Content-Encoding, Vary); 304 carries ETag,
 *     Last-Modified and Vary.
 * The plan must be released with ht_fs__plan_release (closes fd). No
 * allocation; p is large (~8.5 KiB): keep one per loop or on the stack. */
void ht_fs__plan(const ht_fs_root_t* root, const ht_fs_request_t* req, ht_fs_plan_t* p);
/* Closes the plan's fd if it still owns one. */
void ht_fs__plan_release(ht_fs_plan_t* p);
/* Hands the plan's fd to the caller (who must close it, e.g. a response
 * that sends it asynchronously and closes it when done or reset); the plan
 * no longer owns it, so ht_fs__plan_release leaves it open. A borrowed fd
 * (fd_borrowed) is not the plan's to give: HT_FILE_INVALID then (dup(2) it
 * if it must outlive the cache's next call). */
HT_INLINE ht_file_t ht_fs__plan_take_fd(ht_fs_plan_t* p) {
    if (p->fd_borrowed) return HT_FILE_INVALID;
    ht_file_t f = p->fd;
    p->fd = HT_FILE_INVALID;
    return f;
}

/* ======================= Per-loop cache ======================= */

/* A small cache of resolved files for one loop (not thread-safe: one per
 * worker): for each recently served path (and the client's Accept-Encoding
 * q-values), the open fd, its stat, type and sidecar choice, and, for files up
 * to max_file bytes, their contents. A hit skips path resolution, the
 * sidecar probe, open, fstat and read: the plan is rebuilt from the entry
 * (conditionals and Range are still evaluated per request). An entry is
 * trusted for ttl_ms, then revalidated by a full ht_fs__plan; a file
 * changed in place within that window may be served as the old version
 * (or, for an fd, the new bytes with old validators) — the trade nginx's
 * open_file_cache makes too. Only regular files are cached: listings,
 * redirects and errors always go through ht_fs__plan.
 *
 * Lifetimes: a plan from the cache borrows the entry's fd and data
 * (fd_borrowed, data), and on a hit may borrow its header values from the
 * entry too; all stay valid until the next ht_fs__plan_cached or
 * ht_fs__cache_free on this cache. Memory: the entry table and contents
 * come from the cache's allocator at init and on insert; nothing is
 * allocated on a hit. */
typedef struct ht_fs_cache_entry_ ht_fs_cache_entry_;

typedef struct ht_fs_cache {
    ht_fs_cache_entry_* entries_; /* private */
    uint32_t            n_, ttl_ms_, max_file_, tick_;
    ht_alloc_t*         alloc_;
    uint64_t            hits, misses, evictions; /* counters, readable */
} ht_fs_cache_t;

/* entries: table size (rounded up to a power of two, 4..65536; 0: 256);
 * ttl_ms: 0 = 1000; max_file: largest file whose bytes are kept (0 = 65536,
 * UINT32_MAX: none are). 0 or -ENOMEM. */
ht_result_t ht_fs__cache_init(ht_fs_cache_t* c, uint32_t entries, uint32_t ttl_ms,
                              uint32_t max_file, ht_alloc_t* a);
/* Closes every cached fd and returns the memory. */
void ht_fs__cache_free(ht_fs_cache_t* c);

/* ht_fs__plan through the cache. now_ms: a monotonic clock in milliseconds
 * (the loop's). Same results as ht_fs__plan for the same tree state, within
 * the ttl caveat above. Release the plan with ht_fs__plan_release as usual
 * (it does not close a borrowed fd). */
void ht_fs__plan_cached(ht_fs_cache_t* c, const ht_fs_root_t* root, const ht_fs_request_t* req,
                        int64_t now_ms, ht_fs_plan_t* p);

HT_EXTERN_C_END

#endif /* HT_FS_H */
