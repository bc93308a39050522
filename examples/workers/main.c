/* The README's multi-worker program: one worker per loop, all sharing the
 * listening socket; SIGINT/SIGTERM shut down gracefully (a second one forces). */
#include <ht/ht.h>
#include <unistd.h>

static void on_request(const ht_config_t* cfg, const ht_request_t* req,
                       ht_response_t* res, ht_alloc_t* a) {
    (void) cfg; (void) req;
    ht_response__text(res, 200, "hello from hachettp\n", a);
}

/* Signal context: async-signal-safe calls only. Shutdown has already begun. */
static void on_signal(ht_server_t* server, int signo) {
    (void) server; (void) signo;
    static const char msg[] = "shutting down (again to force)\n";
    (void) !write(2, msg, sizeof msg - 1);
}

static void worker_main(ht_workers_t* w, uint32_t id, ht_alloc_t* a, void* ud) {
    const ht_server_t* server = ud;
    ht_loop_t* loop = nullptr;
    ht_loop__init(&loop, a);
    ht_acceptor_t acc = {0};
    ht_server__serve(&acc, server, loop, a, on_request);
    ht_workers__ready(w, id, (ht_worker_stop_fn) ht_loop__wake, loop);
    ht_loop__run(loop);
    ht_server__serve_finalize(&acc);
    ht_loop__free(loop, a);
}

int main(void) {
    ht_config_t cfg = {0};
    ht_server_t server = {.config = &cfg, .signal_handler = on_signal};
    ht_server__listen(&server, nullptr, 8080, 1024);
    ht_alloc_t* a = ht_alloc__init();
    ht_workers_t* workers;
    ht_workers__init(&workers, 4, a); // 4 worker threads
    ht_workers__start(workers, worker_main, &server);
    ht_signal__install_default(&server);
    ht_workers__join(workers);
    ht_workers__free(workers);
    ht_alloc__finalize(a);
    ht_server__close(&server);
}
