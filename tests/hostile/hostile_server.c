/* hostile_server: the server the hostile-client tests (hostile.py) and the
 * soak (bench/soak) attack. A real process, so that its CPU time, resident
 * memory and open descriptors can be read from /proc/PID while clients
 * misbehave. Every limit the tests lean on is a flag; the rest is the
 * library's defaults.
 *
 *   hostile_server [-w WORKERS] [-c MAX_CONN per acceptor] [-b BACKLOG]
 *                  [-H HEADER_TIMEOUT_MS] [-s SEND_TIMEOUT_MS]
 *                  [-B MAX_BODY] [-d DOCROOT]
 *
 * Routes: /echo (the request body back), /f/... (ht_response__serve_file
 * from DOCROOT: files, ranges, conditionals), /err (a 503 the handler
 * chooses), anything else a short text. Prints "port N" on stdout once it
 * listens on 127.0.0.1 (port picked by the kernel); SIGINT/SIGTERM shut it
 * down gracefully and it exits 0 once every worker has returned.
 */
#include <ht/ht.h>
#include <ht/fs.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ht_fs_root_t g_root;
static bool         g_have_root;

static void on_request(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res,
                       ht_alloc_t* a) {
    (void) cfg;
    ht_slice_t path = ht_request__path(req);
    if (ht_slice__eq(path, HT_SLICE("/echo"))) {
        ht_slice_t b = ht_request__body(req);
        ht_response__bytes(res, 200, HT_SLICE("application/octet-stream"), b.ptr, b.len, a);
    } else if (g_have_root && ht_slice__starts_with(path, HT_SLICE("/f/"))) {
        ht_serve_file_options_t opt = { .mount = HT_SLICE("/f") };
        ht_response__serve_file(res, req, &g_root, &opt, a);
    } else if (ht_slice__eq(path, HT_SLICE("/err"))) {
        ht_response__text(res, 503, "try later\n", a);
    } else {
        ht_response__text(res, 200, "hello from hachettp\n", a);
    }
}

static void worker_main(ht_workers_t* w, uint32_t id, ht_alloc_t* a, void* ud) {
    const ht_server_t* server = ud;
    ht_loop_t* loop = nullptr;
    if (ht_loop__init(&loop, a) != 0) {
        fprintf(stderr, "hostile_server: worker %u: no loop\n", id);
        ht_server__shutdown((ht_server_t*) server);
        return;
    }
    ht_acceptor_t acc = {0};
    if (ht_server__serve(&acc, server, loop, a, on_request) != 0) {
        fprintf(stderr, "hostile_server: worker %u: serve failed\n", id);
        ht_loop__free(loop, a);
        ht_server__shutdown((ht_server_t*) server);
        return;
    }
    ht_workers__ready(w, id, (ht_worker_stop_fn) ht_loop__wake, loop);
    ht_loop__run(loop);
    ht_workers__ready(w, id, nullptr, nullptr);
    ht_server__serve_finalize(&acc);
    ht_loop__free(loop, a);
}

static uint32_t num(const char* s) {
    char* end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v > 0xFFFFFFFFul) {
        fprintf(stderr, "hostile_server: bad number '%s'\n", s);
        exit(2);
    }
    return (uint32_t) v;
}

int main(int argc, char** argv) {
    ht_config_t cfg = {0};
    uint32_t workers = 1, backlog = 4096;
    const char* docroot = nullptr;
    int c;
    while ((c = getopt(argc, argv, "w:c:b:H:s:B:d:")) != -1) {
        switch (c) {
        case 'w': workers = num(optarg); break;
        case 'c': cfg.max_connections = num(optarg); break;
        case 'b': backlog = num(optarg); break;
        case 'H': cfg.header_timeout_ms = num(optarg); break;
        case 's': cfg.send_timeout_ms = num(optarg); break;
        case 'B': cfg.max_body = num(optarg); break;
        case 'd': docroot = optarg; break;
        default: return 2;
        }
    }
    if (docroot) {
        if (ht_fs__root_open(&g_root, docroot, 0, nullptr, nullptr) != 0) {
            fprintf(stderr, "hostile_server: docroot %s\n", docroot);
            return 1;
        }
        g_have_root = true;
    }
    ht_server_t server = { .config = &cfg };
    if (ht_server__listen(&server, "127.0.0.1", 0, (int32_t) backlog) != 0) return 1;
    ht_alloc_t* a = ht_alloc__init();
    ht_workers_t* pool = nullptr;
    if (!a || ht_workers__init(&pool, workers, a) != 0) return 1;
    ht_signal__install_default(&server);
    ht_result_t r = ht_workers__start(pool, worker_main, &server);
    if (r == 0) {
        printf("port %u\n", (unsigned) ht_server__port(&server));
        fflush(stdout);
        r = ht_workers__join(pool);
    }
    ht_workers__free(pool);
    ht_alloc__finalize(a);
    ht_server__close(&server);
    if (g_have_root) ht_fs__root_close(&g_root);
    return r == 0 ? 0 : 1;
}
