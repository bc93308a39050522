#include <ht/ht.h>
static void on_request(const ht_config_t* cfg, const ht_request_t* req,
ht_response_t* res, ht_alloc_t* a) {
(void) cfg; (void) req;
ht_response__text(res, 200, "hello from hachettp\n", a);
}
int main(void) {
ht_config_t cfg = {0};
ht_server_t server = {.config = &cfg};
if (ht_server__listen(&server, nullptr, 8080, 64) != 0) return 1;
ht_alloc_t* a = ht_alloc__init();
ht_loop_t* loop = nullptr;
ht_loop__init(&loop, a);
ht_signal__install_default(&server);
ht_acceptor_t acc = {0};
ht_server__serve(&acc, &server, loop, a, on_request);
ht_loop__run(loop);
ht_server__serve_finalize(&acc);
ht_loop__free(loop, a);
ht_server__close(&server);
ht_alloc__finalize(a);
}
