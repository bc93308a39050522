/* A service built without CMake from htgen's output (tests/install). Prints
 * "listening on 127.0.0.1:PORT" once ready; SIGTERM stops it. */
#include "svc_routes.h"

#include <ht/ht.h>

#include <inttypes.h>
#include <stdio.h>

/* The handlers' context (`context struct svc_state` in routes.ht), from
 * ht_config_t.user_data. */
struct svc_state {
    const char* pong;
};

void svc_ping(struct svc_state* st, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
              const svc_ping_params_t* p) {
    (void) req, (void) p;
    ht_response__text(res, 200, st->pong, a);
}

void svc_sum(struct svc_state* st, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
             const svc_sum_params_t* p) {
    (void) st, (void) req;
    char out[64];
    snprintf(out, sizeof out, "%" PRIu64 "\n", p->a + p->b);
    ht_response__text(res, 200, out, a);
}

int main(void) {
    struct svc_state st = { .pong = "pong\n" };
    ht_config_t cfg = { .user_data = &st, .body_policy = svc__body_policy };
    ht_server_t server = { .config = &cfg };
    if (ht_server__listen(&server, "127.0.0.1", 0, 64) != 0) return 1;
    ht_alloc_t* a = ht_alloc__init();
    ht_loop_t* loop = nullptr;
    if (ht_loop__init(&loop, a) != 0) return 1;
    ht_signal__install_default(&server);
    ht_acceptor_t acc = { 0 };
    if (ht_server__serve(&acc, &server, loop, a, svc__dispatch) != 0) return 1;
    printf("listening on 127.0.0.1:%u\n", (unsigned) ht_server__port(&server));
    fflush(stdout);
    ht_loop__run(loop);
    ht_server__serve_finalize(&acc);
    ht_loop__free(loop, a);
    ht_server__close(&server);
    ht_alloc__finalize(a);
    return 0;
}
