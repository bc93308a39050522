/* Downstream app: app__dispatch from routes.ht, served on 127.0.0.1 on a
 * port the kernel picks; prints "listening on 127.0.0.1:PORT BACKEND".
 * Mounts are looked up from the build directory (app_MOUNT_BASE). */
#include "app_routes.h"

#include <ht/config_build.h>
#include <ht/ht.h>

#include <stdio.h>

/* app_state_t (state.h, named by the `context` line) is every handler's
 * first parameter: ht_config_t.user_data. */
void app_hello(app_state_t* st, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
               const app_hello_params_t* p) {
    (void) req;
    char json[256];
    snprintf(json, sizeof json, "{\"hello\":\"%.*s\",\"backend\":\"%s\"}", HT_SLICE_FMT(p->name),
             st->backend);
    ht_response__json(res, 200, json, a);
}

int main(void) {
    ht_alloc_t* a = ht_alloc__init();
    if (app__mounts_open(nullptr, a) != 0) return 1;
    app_state_t st = { .backend = HT_BACKEND_NAME };
    ht_config_t cfg = { .user_data = &st };
    ht_server_t server = { .config = &cfg };
    if (ht_server__listen(&server, "127.0.0.1", 0, 64) != 0) return 1;
    ht_loop_t* loop = nullptr;
    if (ht_loop__init(&loop, a) != 0) return 1;
    ht_signal__install_default(&server);
    ht_acceptor_t acc = { 0 };
    if (ht_server__serve(&acc, &server, loop, a, app__dispatch) != 0) return 1;
    printf("listening on 127.0.0.1:%u %s\n", (unsigned) ht_server__port(&server), HT_BACKEND_NAME);
    fflush(stdout);
    ht_loop__run(loop);
    ht_server__serve_finalize(&acc);
    ht_loop__free(loop, a);
    ht_server__close(&server);
    app__mounts_close();
    ht_alloc__finalize(a);
    return 0;
}
