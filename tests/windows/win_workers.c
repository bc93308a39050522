/* tests/windows/win_workers.c — N workers, each with its own loop and
 * acceptor on the one listening socket (IOCP: a duplicate per loop), answer
 * with the id of the worker that accepted the connection; tests/windows/
 * run.sh connects many times and requires that every worker took some.
 * Also exercises the shutdown from the console control handler's thread
 * (SIGINT under Wine) and reports each worker's pinned CPU.
 *
 *   win_workers N   prints "port P" once listening, serves until SIGINT. */
#include <ht/ht.h>

#include <stdio.h>
#include <stdlib.h>

static _Thread_local uint32_t worker_id;

static void on_request(const ht_config_t* cfg, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a) {
    (void) cfg, (void) req;
    char body[16];
    int n = snprintf(body, sizeof body, "%u\n", (unsigned) worker_id);
    ht_response__text(res, 200, body, a);
    (void) n;
}

static void worker_main(ht_workers_t* w, uint32_t id, ht_alloc_t* a, void* ud) {
    const ht_server_t* server = ud;
    worker_id = id;
    ht_loop_t* loop = nullptr;
    if (ht_loop__init(&loop, a) != 0) abort();
    ht_acceptor_t acc = { 0 };
    ht_result_t r = ht_server__serve(&acc, server, loop, a, on_request);
    if (r != 0) {
        fprintf(stderr, "worker %u: serve: %s\n", (unsigned) id, ht_result__str(r));
        abort();
    }
    ht_workers__ready(w, id, (ht_worker_stop_fn) ht_loop__wake, loop);
    ht_loop__run(loop);
    ht_workers__ready(w, id, nullptr, nullptr);
    ht_server__serve_finalize(&acc);
    ht_loop__free(loop, a);
}

int main(int argc, char** argv) {
    uint32_t n = argc > 1 ? (uint32_t) atoi(argv[1]) : 2;
    ht_config_t cfg = { 0 };
    ht_server_t server = { .config = &cfg };
    if (ht_server__listen(&server, "127.0.0.1", 0, 128) != 0) return 1;
    ht_alloc_t* a = ht_alloc__init();
    ht_workers_t* pool = nullptr;
    if (ht_workers__init(&pool, n, a) != 0) return 1;
    ht_signal__install_default(&server);
    printf("port %u\n", (unsigned) ht_server__port(&server));
    fflush(stdout);
    ht_result_t r = ht_workers__start(pool, worker_main, &server);
    if (r == 0) r = ht_workers__join(pool);
    /* SetThreadAffinityMask: every worker ran on the CPU it was given. */
    for (uint32_t i = 0; i < n; i++) printf("worker %u cpu %d\n", (unsigned) i, (int) ht_workers__cpu(pool, i));
    ht_workers__free(pool);
    ht_server__close(&server);
    ht_alloc__finalize(a);
    printf("exit %d\n", (int) r);
    return r == 0 ? 0 : 1;
}
