/* ht — a static file server: thread-per-core workers (ht_workers_t), each
 * with its own loop and acceptor on one shared listening socket; every
 * request is ht_response__serve_file's (ht/response.h: path safety, index,
 * listing, precompressed sidecars, conditionals, ranges, bodies zero-copy), through a
 * per-worker cache of open files. This file is the command line around it:
 * flags, workers, the access log.
 *
 *   ht                         serve . on :3000 with 4 workers
 *   ht -p 9090 -d ./public -w 8
 *   ht --precompress ./public  write .br/.zst/.gz sidecars, then exit
 */
#include <ht/ht.h>
#include <ht/fs.h>

#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#if defined(HT_OS_POSIX)
#  include <netdb.h>
#  include <signal.h>
#  include <sys/socket.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "header_flags.h"
#include "lifecycle.h"
#include "listener.h"
#include "pages.h"
#include "precompress.h"
#if defined(HT_OS_WINDOWS)
#  include "service.h"
#endif

typedef struct app {
    ht_fs_root_t root;
    bool         cache;      /* per-worker open-file cache (--no-cache: off) */
    const char*  health;     /* --health PATH, or nullptr */
    size_t       health_len;
    const ht_server_t* server;
    const ht_headers_t* headers; /* -H, --cache-control, --cors; nullptr: none */
    char         spa[HT_FS_INDEX_MAX + 2]; /* --spa: "/" FILE, or "" */
    ht_page_t    not_found;                /* --404: the page, or no data */
} app_t;

/* Set by the first SIGTERM when --drain-grace is given: the health path
 * answers 503 while everything else is still served. */
static atomic_bool draining;
/* Workers whose loop is ready, those that could not start, those done:
 * main prints "serving" once every worker is ready, exits 1 if any failed,
 * and waits for takeover requests until all are done. */
static atomic_uint workers_ready, workers_failed, workers_done;

/* ---- Access log: the library's (ht/log.h), every response, the server's
 * own answers too; SIGUSR1 reopens the file (logrotate) ---- */

static ht_access_log_t* access_log;

/* ---- Metrics: ht/metrics.h, served on a listener of their own ---- */

static ht_metrics_t* metrics;

static void metrics_worker(ht_workers_t* w, uint32_t id, ht_alloc_t* a, void* ud) {
    const ht_server_t* msrv = ud;
    ht_loop_t* loop = nullptr;
    if (ht_loop__init(&loop, a) != 0) {
        fprintf(stderr, "ht: metrics: no event loop\n");
        return;
    }
    ht_acceptor_t acc = {0};
    if (ht_server__serve(&acc, msrv, loop, a, ht_metrics__handler) == 0) {
        ht_workers__ready(w, id, (ht_worker_stop_fn) ht_loop__wake, loop);
        ht_loop__run(loop);
        ht_workers__ready(w, id, nullptr, nullptr);
        ht_server__serve_finalize(&acc);
    }
    ht_loop__free(loop, a);
}

/* "ADDR:PORT" or "[V6]:PORT" into host (NUL-terminated, brackets kept
 * for ht_server__listen) and port. */
static bool split_host_port(const char* s, char* host, size_t cap, uint16_t* port) {
    const char* colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t) (colon - s) >= cap) return false;
    char* end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end || colon[1] == '\0' || p > 65535) return false;
    memcpy(host, s, (size_t) (colon - s));
    host[colon - s] = '\0';
    *port = (uint16_t) p;
    return true;
}

#if defined(HT_OS_POSIX)
static void on_reopen_signal(int signo) {
    (void) signo;
    int saved = errno;
    if (access_log) (void) ht_access_log__reopen(access_log); /* open, dup2, close */
    errno = saved;
}
#endif

/* ---- Requests: all of it is ht_response__serve_file ---- */

/* Per worker (thread): the open-file cache, created on the worker's first
 * request with the worker's allocator and freed by worker_main when its
 * loop is done. */
static _Thread_local ht_fs_cache_t cache;
static _Thread_local bool cache_ok;

static void on_request(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res,
                       ht_alloc_t* a) {
    const app_t* app = cfg->user_data;
    if (app->health) {
        /* --health: 200 while serving, 503 once shutdown (or the drain
         * grace before it) has begun, so a load balancer moves away. */
        ht_slice_t path = ht_request__path(req);
        if (path.len == app->health_len && memcmp(path.ptr, app->health, path.len) == 0) {
            bool down = atomic_load(&draining) || ht_server__shutting_down(app->server);
            (void) ht_response__text(res, down ? 503 : 200, down ? "draining\n" : "ok\n", a);
            return;
        }
    }
    if (!cache_ok && app->cache) cache_ok = ht_fs__cache_init(&cache, 1024, 1000, 0, a) == 0;
    ht_serve_file_options_t opt = { .cache = cache_ok ? &cache : nullptr, .headers = app->headers,
                                    .spa = ht_slice__from_cstr(app->spa) };
    if (app->not_found.data) ht_response__on_error(res, ht_page__not_found, (void*) &app->not_found);
    /* A failed builder call turns the response into a 500 (server's rule). */
    (void) ht_response__serve_file(res, req, &app->root, &opt, a);
}

/* ---- Workers ---- */

static void on_signal(ht_server_t* server, int signo) {
    (void) server, (void) signo;
    static const char msg[] = "ht: shutting down (again to force)\n";
    (void) !write(2, msg, sizeof msg - 1);
}


static void worker_main(ht_workers_t* w, uint32_t id, ht_alloc_t* a, void* ud) {
    const ht_server_t* server = ud;
    ht_loop_t* loop = nullptr;
    ht_result_t r = ht_loop__init(&loop, a);
    if (r != 0) {
        fprintf(stderr, "ht: worker %u: event loop: %s\n", id, ht_result__str(r));
        atomic_fetch_add(&workers_failed, 1);
        ht_server__shutdown((ht_server_t*) server); /* one down: all down */
        return;
    }
    ht_acceptor_t acc = {0};
    r = ht_server__serve(&acc, server, loop, a, on_request);
    if (r != 0) {
        fprintf(stderr, "ht: worker %u: serve: %s\n", id, ht_result__str(r));
        atomic_fetch_add(&workers_failed, 1);
        ht_loop__free(loop, a);
        ht_server__shutdown((ht_server_t*) server);
        return;
    }
    ht_workers__ready(w, id, (ht_worker_stop_fn) ht_loop__wake, loop);
    atomic_fetch_add(&workers_ready, 1);
    ht_loop__run(loop);
    ht_workers__ready(w, id, nullptr, nullptr); /* before the loop goes away */
    ht_server__serve_finalize(&acc);
    if (cache_ok) ht_fs__cache_free(&cache);
    cache_ok = false;
    ht_loop__free(loop, a);
    atomic_fetch_add(&workers_done, 1);
}

/* Whether something already listens on host:port. The server's socket
 * uses SO_REUSEPORT (workers share it), which would also let a second ht
 * share a port another server holds; a plain bind without it tells. */
static bool port_busy(const char* host, uint16_t port) {
#if !defined(HT_OS_POSIX)
    /* Windows: no SO_REUSEPORT, and the socket is SO_EXCLUSIVEADDRUSE, so
     * listen itself reports a port in use. */
    (void) host;
    (void) port;
    return false;
#else
    if (port == 0) return false;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned) port);
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                              .ai_socktype = SOCK_STREAM }, *res = nullptr;
    char lit[64];
    if (host && host[0] == '[') { /* "[::1]" */
        snprintf(lit, sizeof lit, "%.*s", (int) strcspn(host + 1, "]"), host + 1);
        host = lit;
    }
    if (getaddrinfo(host, service, &hints, &res) != 0) return false; /* listen reports it */
    bool busy = false;
    for (struct addrinfo* ai = res; ai && !busy; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (s < 0) continue;
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EADDRINUSE) busy = true;
        close(s);
    }
    freeaddrinfo(res);
    return busy;
#endif
}

/* ---- Flags ---- */

/* --proxy-protocol / --trust-forwarded: a CIDR list (ht/proxy.h). */
typedef struct trust_arg {
    ht_cidr_t  cidrs[64];
    ht_trust_t t;
} trust_arg_t;
static trust_arg_t proxy_trust, forwarded_trust;

static bool parse_trust(trust_arg_t* out, const char* list, const char* flag) {
    uint32_t n = 0;
    ht_result_t r = ht_trust__parse(list, out->cidrs, HT_ARRAY_LEN(out->cidrs), &n);
    if (r != 0) {
        fprintf(stderr, "ht: bad %s '%s': %s\n", flag, list,
                r == -E2BIG ? "more than 64 entries" : "want CIDR[,CIDR...], e.g. 10.0.0.0/8,::1,unix");
        return false;
    }
    out->t = (ht_trust_t){ out->cidrs, n };
    return true;
}

/* --spa FILE must name a file beneath the root, --404 FILE a readable one:
 * said at start rather than found at the first 404. */
static bool fallbacks_open(app_t* app, const char* spa, const char* page_404) {
    if (spa) {
        size_t n = strlen(spa);
        ht_fs_entry_t e;
        if (n == 0 || spa[0] == '/' || n >= sizeof app->spa - 1) {
            fprintf(stderr, "ht: bad --spa '%s' (a file name beneath the root, e.g. index.html)\n", spa);
            return false;
        }
        snprintf(app->spa, sizeof app->spa, "/%s", spa);
        char buf[HT_FS_PATH_MAX];
        ht_fs_status_t st = ht_fs__resolve(&app->root, ht_slice__from_cstr(app->spa), buf, &e);
        if (st == HT_FS_FILE || st == HT_FS_DIR) ht_fs__close(e.fd);
        if (st != HT_FS_FILE) {
            fprintf(stderr, "ht: --spa %s: no such file beneath the root\n", spa);
            return false;
        }
    }
    if (page_404) {
        int r = ht_page__load(&app->not_found, page_404);
        if (r != 0) {
            fprintf(stderr, "ht: --404 %s: %s\n", page_404, r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
            return false;
        }
    }
    return true;
}

static void usage(FILE* f) {
    fprintf(f,
        "usage: ht [options]\n"
        "Serves a directory over HTTP/1.1 (GET/HEAD; index files, listings,\n"
        "br/zstd/gzip sidecars, conditional and range requests).\n"
        "\n"
        "  -p, --port PORT       port to listen on (default 3000; 0 picks a free one)\n"
        "  -b, --bind ADDR       address to bind: an IPv4/IPv6 literal, a host name,\n"
        "                        or unix:PATH, a Unix-domain socket (default: all);\n"
        "                        a socket passed by systemd (LISTEN_FDS) is served\n"
        "                        instead of either\n"
        "  -d, --dir DIR         document root (default .)\n"
        "  -w, --workers N       worker threads, each pinned to a core (default 4,\n"
        "                        capped at the number of cores)\n"
        "  -i, --index FILE      index file name in directories (default index.html)\n"
        "      --no-index        no index file lookup\n"
        "      --no-list         no generated directory listings (directories\n"
        "                        without an index answer 404)\n"
        "      --no-gzip         do not serve precompressed sidecars (.br .zst .gz)\n"
        "      --dotfiles        serve and list names starting with '.'\n"
        "      --follow-symlinks follow symlinks that lead outside the root\n"
        "      --access-log[=FILE|-] log every response, the server's own answers\n"
        "                        too, to FILE (reopened on SIGUSR1) or stdout (-,\n"
        "                        the default); also --access-log FILE\n"
        "      --log-format F    clf (default), combined or json (duration in us,\n"
        "                        bytes, worker, client and proxy address)\n"
        "      --metrics ADDR:PORT serve Prometheus metrics at /metrics on a\n"
        "                        listener of their own (e.g. 127.0.0.1:9100)\n"
        "      --proxy-protocol CIDR[,CIDR...]\n"
        "                        connections come from these proxies only, each\n"
        "                        starting with a PROXY v1/v2 header (HAProxy\n"
        "                        send-proxy): its address is the client's\n"
        "      --trust-forwarded CIDR[,CIDR...]\n"
        "                        believe Forwarded / X-Forwarded-For from these\n"
        "                        peers (\"unix\": a Unix-socket peer)\n"
        "      --health PATH     answer PATH with 200 while serving, 503 once\n"
        "                        shutdown (or --drain-grace) has begun\n"
        "      --drain-grace S   after SIGTERM keep serving for S seconds (health\n"
        "                        503, so a load balancer moves away), then stop\n"
        "                        accepting and finish what is in flight\n"
        "  -H, --header 'NAME: VALUE'\n"
        "                        add this header to every file served (200, 206,\n"
        "                        304, HEAD too); replaces the server's own field of\n"
        "                        that name (e.g. Cache-Control); repeatable\n"
        "      --cache-control 'GLOB=VALUE'\n"
        "                        Cache-Control for the files GLOB matches (its last\n"
        "                        segment, or the whole path if GLOB has a '/'; *, ?,\n"
        "                        ** and {a,b}), e.g. '*.css=public, max-age=31536000,\n"
        "                        immutable'; repeatable, the first match wins, over -H\n"
        "      --cors ORIGINS    answer CORS: * (any origin) or a comma list of\n"
        "                        origins (https://a.example,http://localhost:8080),\n"
        "                        echoed with Vary: Origin; preflights (OPTIONS) get\n"
        "                        204; another origin gets no CORS header; repeatable\n"
        "      --spa FILE        single-page app: a GET for a path with no file and\n"
        "                        no extension, from a client that accepts HTML,\n"
        "                        gets FILE (beneath the root, e.g. index.html)\n"
        "      --404 FILE        answer 404s with FILE's contents (read at start)\n"
        "      --no-cache        no per-worker cache of open files (by default a\n"
        "                        file is re-checked at most once a second)\n"
        "      --service NAME    (Windows) run as the service NAME, registered with\n"
        "                        sc create NAME binPath= \"ht.exe --service NAME ...\";\n"
        "                        its stop drains like SIGTERM\n"
        "      --precompress DIR write missing or outdated .br, .zst and .gz sidecars\n"
        "                        for the compressible files under DIR, then exit\n"
        "                        (no other option but -v)\n"
        "  -v, --verbose         with --precompress: a line for every file\n"
        "  -V, --version         print the version and exit\n"
        "  -h, --help            this help\n"
        "\n"
        "SIGINT/SIGTERM: graceful shutdown (a second one forces it). Windows: so\n"
        "do Ctrl+C, taskkill (no /F), closing the console, shutdown, a service stop.\n"
        "SIGUSR2/SIGHUP: re-execute the ht binary at the same path with the same\n"
        "flags; it takes over the listening socket and this process drains.\n");
}

static bool parse_uint(const char* s, uint64_t max, uint64_t* out) {
    uint64_t v;
    if (ht_bytes__parse_u64(ht_slice__from_cstr(s), &v) != 0 || v > max) return false;
    *out = v;
    return true;
}

/* "--name" (or "-x") of the option getopt_long returned as val. */
static const char* opt_name(const struct option* opts, int val) {
    static char buf[64];
    for (; opts->name; opts++)
        if (opts->val == val) {
            snprintf(buf, sizeof buf, "--%s", opts->name);
            return buf;
        }
    snprintf(buf, sizeof buf, "-%c", val);
    return buf;
}

int main(int argc, char** argv) {
    enum { O_NOINDEX = 256, O_NOLIST, O_NOGZIP, O_DOT, O_FOLLOW, O_LOG, O_PRE, O_NOCACHE, O_HEALTH,
           O_GRACE, O_LOGFMT, O_METRICS, O_SERVICE };
    enum { O_CACHE_CONTROL = 500, O_CORS }; /* header rules (header_flags.h) */
    enum { O_SPA = 420, O_404 }; /* fallbacks and error pages (issue 15) */
    enum { O_PROXY = 400, O_TRUST_FWD }; /* behind a proxy (ht/proxy.h) */
    static const struct option opts[] = {
        { "proxy-protocol", required_argument, nullptr, O_PROXY },
        { "trust-forwarded", required_argument, nullptr, O_TRUST_FWD },
        { "port", required_argument, nullptr, 'p' },   { "bind", required_argument, nullptr, 'b' },
        { "dir", required_argument, nullptr, 'd' },    { "workers", required_argument, nullptr, 'w' },
        { "index", required_argument, nullptr, 'i' },  { "no-index", no_argument, nullptr, O_NOINDEX },
        { "no-list", no_argument, nullptr, O_NOLIST }, { "no-gzip", no_argument, nullptr, O_NOGZIP },
        { "dotfiles", no_argument, nullptr, O_DOT },   { "follow-symlinks", no_argument, nullptr, O_FOLLOW },
        { "access-log", optional_argument, nullptr, O_LOG }, { "log-format", required_argument, nullptr, O_LOGFMT },
        { "metrics", required_argument, nullptr, O_METRICS }, { "precompress", required_argument, nullptr, O_PRE },
        { "no-cache", no_argument, nullptr, O_NOCACHE },
        { "spa", required_argument, nullptr, O_SPA },  { "404", required_argument, nullptr, O_404 },
        { "health", required_argument, nullptr, O_HEALTH }, { "drain-grace", required_argument, nullptr, O_GRACE },
        { "service", required_argument, nullptr, O_SERVICE },
        { "header", required_argument, nullptr, 'H' },
        { "cache-control", required_argument, nullptr, O_CACHE_CONTROL }, { "cors", required_argument, nullptr, O_CORS },
        { "version", no_argument, nullptr, 'V' },      { "help", no_argument, nullptr, 'h' },
        { "verbose", no_argument, nullptr, 'v' },
        { nullptr, 0, nullptr, 0 },
    };
    uint64_t port = 3000, workers = 4;
    const char* dir = ".";
    const char* index = nullptr;
    const char* bind = nullptr;
    const char* precompress = nullptr;
    const char* spa = nullptr;
    const char* page_404 = nullptr;
    uint32_t flags = 0;
    bool use_cache = true, workers_given = false;
    const char* log_path = nullptr;
    const char* metrics_addr = nullptr;
    ht_log_format_t log_format = HT_LOG_COMMON;
    const char* health = nullptr;
    uint64_t drain_grace = 0;
#if defined(HT_OS_WINDOWS)
    const char* service = nullptr; /* --service NAME */
#endif
    bool verbose = false;
    int serve_opt = 0; /* a serving option seen: refused with --precompress */
    opterr = 0; /* our own one-line messages */
    int c;
    while ((c = getopt_long(argc, argv, ":p:b:d:w:i:H:Vhv", opts, nullptr)) != -1) {
        if (c != O_PRE && c != 'v' && c != 'V' && c != 'h' && c != ':' && c != '?' && !serve_opt) serve_opt = c;
        switch (c) {
        case 'p':
            if (!parse_uint(optarg, 65535, &port)) {
                fprintf(stderr, "ht: bad port '%s' (want 0..65535)\n", optarg);
                return 2;
            }
            break;
        case 'w':
            if (!parse_uint(optarg, 4096, &workers) || workers == 0) {
                fprintf(stderr, "ht: bad worker count '%s' (want 1..4096)\n", optarg);
                return 2;
            }
            workers_given = true;
            break;
        case 'b': bind = optarg; break;
        case 'd': dir = optarg; break;
        case 'i': index = optarg; break;
        case O_NOINDEX: flags |= HT_FS_NO_INDEX; break;
        case O_NOLIST: flags |= HT_FS_NO_LIST; break;
        case O_NOGZIP: flags |= HT_FS_NO_GZIP; break;
        case O_DOT: flags |= HT_FS_DOTFILES; break;
        case O_FOLLOW: flags |= HT_FS_FOLLOW_OUTSIDE; break;
        case O_LOG:
            /* --access-log=FILE, --access-log FILE, --access-log - or a bare
             * --access-log (stdout, as before). */
            if (!optarg && optind < argc && (argv[optind][0] != '-' || strcmp(argv[optind], "-") == 0))
                optarg = argv[optind++];
            log_path = optarg ? optarg : "-";
            break;
        case O_METRICS: metrics_addr = optarg; break;
        case O_LOGFMT:
            if (ht_log_format__parse(optarg, &log_format) != 0) {
                fprintf(stderr, "ht: bad log format '%s' (want clf, combined or json)\n", optarg);
                return 2;
            }
            break;
        case O_PRE: precompress = optarg; break;
        case O_NOCACHE: use_cache = false; break;
        case O_SPA: spa = optarg; break;
        case O_404: page_404 = optarg; break;
        case O_HEALTH:
            if (optarg[0] != '/') {
                fprintf(stderr, "ht: bad health path '%s' (want /PATH)\n", optarg);
                return 2;
            }
            health = optarg;
            break;
        case O_GRACE:
            if (!parse_uint(optarg, 3600, &drain_grace)) {
                fprintf(stderr, "ht: bad drain grace '%s' (want 0..3600 seconds)\n", optarg);
                return 2;
            }
#if !defined(HT_OS_POSIX)
            if (drain_grace) {
                fprintf(stderr, "ht: --drain-grace is not supported on this platform\n");
                return 2;
            }
#endif
            break;
        case O_SERVICE:
#if defined(HT_OS_WINDOWS)
            service = optarg;
#else
            fprintf(stderr, "ht: --service is for Windows (a systemd unit: examples/ht/systemd)\n");
            return 2;
#endif
            break;
        case O_PROXY:
            if (!parse_trust(&proxy_trust, optarg, "--proxy-protocol")) return 2;
            break;
        case O_TRUST_FWD:
            if (!parse_trust(&forwarded_trust, optarg, "--trust-forwarded")) return 2;
            break;
        case 'H':
            if (!header_flags__header(optarg)) return 2;
            break;
        case O_CACHE_CONTROL:
            if (!header_flags__cache_control(optarg)) return 2;
            break;
        case O_CORS:
            if (!header_flags__cors(optarg)) return 2;
            break;
        case 'V': printf("ht (hachettp) %s\n", HT_VERSION_STRING); return 0;
        case 'h': usage(stdout); return 0;
        case 'v': verbose = true; break;
        case ':':
            fprintf(stderr, "ht: option '%s' needs a value (ht -h for help)\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "ht: unknown option '%s' (ht -h for help)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ht: unexpected argument '%s' (ht -h for help)\n", argv[optind]);
        return 2;
    }
    const ht_headers_t* headers = nullptr;
    if (!header_flags__finish(&headers)) return 2;

    if (precompress && serve_opt) {
        fprintf(stderr, "ht: --precompress takes no other option but -v (got %s)\n", opt_name(opts, serve_opt));
        return 2;
    }
    if (verbose && !precompress) {
        fprintf(stderr, "ht: -v goes with --precompress (ht -h for help)\n");
        return 2;
    }
    if (precompress) {
        ht_precompress_stats_t st;
        if (ht_precompress__tree(precompress, nullptr, stderr, verbose, &st) != 0) return 1;
        printf("ht: wrote %u sidecar(s) for %llu bytes of originals, %u up to date, %u not worth it, "
               "%u too small, %u failed\n",
               st.written, (unsigned long long) st.bytes_in, st.up_to_date, st.skipped, st.too_small, st.failed);
        for (unsigned e = 0; e < HT_FS_ENC_CODINGS; e++) /* sizes per coding: what each saves */
            if (st.coded_in[e])
                printf("ht:   %-4.*s %llu -> %llu bytes\n", (int) ht_fs__encoding_token((ht_fs_encoding_t) e).len,
                       ht_fs__encoding_token((ht_fs_encoding_t) e).ptr, (unsigned long long) st.coded_in[e],
                       (unsigned long long) st.coded_out[e]);
        return st.failed ? 1 : 0;
    }

    static app_t app;
    app.cache = use_cache;
    app.headers = headers;
    app.health = health;
    app.health_len = health ? strlen(health) : 0;
    ht_result_t r = ht_fs__root_open(&app.root, dir, flags, index, nullptr);
    if (r == -EINVAL) {
        fprintf(stderr, "ht: bad index file name '%s' (one path segment)\n", index);
        return 2;
    }
    if (r != 0) {
        fprintf(stderr, "ht: docroot %s: %s\n", dir, strerror(-r));
        return 1;
    }
    if ((spa || page_404) && !fallbacks_open(&app, spa, page_404)) {
        ht_fs__root_close(&app.root);
        return 2;
    }
    /* The default is capped at the cores this process may use; an explicit
     * -w is taken as asked (ht_workers_t wraps workers around the CPUs). */
    uint32_t cores = ht_thread__cpu_count();
    if (!workers_given && workers > cores) workers = cores;
    if (workers > cores) /* taken as asked, but not one core each as -h says */
        fprintf(stderr, "ht: warning: %llu workers on %u core(s): workers share cores\n",
                (unsigned long long) workers, (unsigned) cores);

    ht_config_t cfg = { .user_data = &app };
    if (log_path) {
        r = ht_access_log__open(&access_log, log_path, log_format);
        if (r != 0) {
            fprintf(stderr, "ht: access log %s: %s\n", log_path, strerror(-r));
            ht_fs__root_close(&app.root);
            return 1;
        }
        cfg.access_log = access_log;
#if defined(HT_OS_POSIX)
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sa.sa_handler = on_reopen_signal;
        (void) sigaction(SIGUSR1, &sa, nullptr);
#endif
    }
    /* --metrics: its own server (SO_REUSEPORT like the main one, so a
     * takeover's new process can bind it too) and its own worker thread. */
    char mhost[128];
    uint16_t mport = 0;
    ht_config_t mcfg = { 0 };
    ht_server_t msrv = { .config = &mcfg };
    if (metrics_addr) {
        if (!split_host_port(metrics_addr, mhost, sizeof mhost, &mport) || ht_metrics__create(&metrics) != 0 ||
            ht_server__listen(&msrv, mhost, mport, 64) != 0) {
            fprintf(stderr, "ht: cannot serve metrics on %s\n", metrics_addr);
            ht_fs__root_close(&app.root);
            return 1;
        }
        mcfg.user_data = metrics;
        cfg.metrics = metrics;
    }
    if (proxy_trust.t.count) cfg.proxy_protocol = &proxy_trust.t;
    if (forwarded_trust.t.count) cfg.trust_forwarded = &forwarded_trust.t;
    ht_server_t server = { .config = &cfg, .signal_handler = on_signal };
    app.server = &server;
#if defined(HT_OS_POSIX)
    /* Started by a takeover (SIGUSR2): the old process's listening socket. */
    int inherit = lifecycle_inherited_fd("HT_INHERIT_FD"), ready_fd = lifecycle_inherited_fd("HT_READY_FD");
    if (inherit >= 0) r = listener_adopt(&server, inherit, bind);
    else
#endif
    r = listener_open(&server, bind, (uint16_t) port, port_busy); /* socket activation, unix:, names */
    if (r != 0) {
        if (r != -ECANCELED) /* else listener_open said why */
            fprintf(stderr, "ht: cannot listen on %s:%llu: %s\n", bind ? bind : "*",
                    (unsigned long long) port, r == -ENXIO ? "no such host" : strerror(-r));
        ht_fs__root_close(&app.root);
        return 1;
    }
    ht_alloc_t* a = ht_alloc__init();
    ht_workers_t* pool = nullptr;
    if (!a || ht_workers__init(&pool, (uint32_t) workers, a) != 0) {
        fprintf(stderr, "ht: out of memory\n");
        return 1;
    }
    /* Signals first: a SIGTERM right after start must still be graceful. */
    ht_signal__install_default(&server);
#if defined(HT_OS_POSIX)
    if (drain_grace > 0 && lifecycle_install_drain(&server, (unsigned) drain_grace, &draining) != 0) {
        fprintf(stderr, "ht: cannot install the SIGTERM handler\n");
        return 1;
    }
    /* SIGUSR2 and SIGHUP: a new ht takes over the socket (no longer kills). */
    if (lifecycle_install_takeover(argv) != 0)
        fprintf(stderr, "ht: takeover unavailable (SIGUSR2/SIGHUP ignored): %s\n", strerror(errno));
#endif
#if defined(HT_OS_WINDOWS)
    /* The SCM's stop reaches the server through its control handler. */
    if (service && (r = service_start(service, &server)) != 0) {
        fprintf(stderr, "ht: cannot run as the service %s: %s\n", service,
                r == -ENOTCONN ? "not started by the service control manager" : strerror(-r));
        return 1;
    }
#endif
    ht_workers_t* mpool = nullptr;
    if (metrics && (ht_workers__init(&mpool, 1, a) != 0 || ht_workers__start(mpool, metrics_worker, &msrv) != 0)) {
        fprintf(stderr, "ht: cannot start the metrics listener\n");
        return 1;
    }
    if (metrics)
        fprintf(stderr, "ht: metrics on http://%s:%u/metrics\n", mhost, (unsigned) ht_server__port(&msrv));
    r = ht_workers__start(pool, worker_main, &server);
    if (r != 0) {
        fprintf(stderr, "ht: cannot start workers: %s\n", ht_result__str(r));
    } else {
        /* "serving" only once every worker's loop is ready (a script or a
         * test reads the port from it); a shutdown signal meanwhile ends
         * the wait, the workers still stop through the server. */
        while (atomic_load(&workers_ready) + atomic_load(&workers_failed) < workers &&
               !ht_server__shutting_down(&server))
            usleep(1000);
        if (atomic_load(&workers_failed) == 0 && atomic_load(&workers_ready) == workers) {
            fprintf(stderr, "ht: serving %s on %s with %u worker(s)\n", dir, listener_where(&server, bind),
                    (unsigned) workers);
#if defined(HT_OS_WINDOWS)
            if (service) service_running();
#endif
#if defined(HT_OS_POSIX)
            if (ready_fd >= 0) (void) !write(ready_fd, "r", 1); /* the old process may go */
#endif
        }
#if defined(HT_OS_POSIX)
        if (ready_fd >= 0) close(ready_fd);
        lifecycle_wait(&server, (uint32_t) workers, &workers_done, &workers_failed);
#endif
        r = ht_workers__join(pool);
        /* Workers that could not start their loop: the server did not serve. */
        if (r == 0 && atomic_load(&workers_failed) > 0) {
            fprintf(stderr, "ht: %u of %u worker(s) could not start: not serving\n",
                    atomic_load(&workers_failed), (unsigned) workers);
            r = -EIO;
        }
    }
    ht_workers__free(pool);
    if (mpool) {
        ht_server__shutdown(&msrv);
        (void) ht_workers__join(mpool);
        ht_workers__free(mpool);
    }
    ht_server__close(&msrv);
    ht_metrics__free(metrics);
    ht_alloc__finalize(a);
    ht_server__close(&server);
    listener_close();
    ht_fs__root_close(&app.root);
    ht_page__free(&app.not_found);
    ht_access_log__close(access_log); /* after every acceptor wrote out its lines */
#if defined(HT_OS_WINDOWS)
    if (service) service_stopped(r == 0 ? 0 : 1); /* last: the SCM may end the process now */
#endif
    return r == 0 ? 0 : 1;
}
