/* hdr_server: serves tests/files/headers/routes.ht (mounts and embeds with
 * header options) for headers_e2e.py. hdr_server BASE: the mounts' base
 * directory. Listens on 127.0.0.1, port 0, prints "listening on PORT";
 * SIGTERM stops it. */
#include "hdr_routes.h"

#include <ht/ht.h>

#include <stdio.h>

int main(int argc, char** argv) {
    ht_config_t cfg = { 0 };
    ht_server_t server = { .config = &cfg };
    if (ht_server__listen(&server, "127.0.0.1", 0, 64) != 0) return 1;
    ht_alloc_t* a = ht_alloc__init();
    if (hdr__mounts_open(argc > 1 ? argv[1] : nullptr, a) != 0) return 1;
    ht_loop_t* loop = nullptr;
    if (ht_loop__init(&loop, a) != 0) return 1;
    ht_signal__install_default(&server);
    ht_acceptor_t acc = { 0 };
    if (ht_server__serve(&acc, &server, loop, a, hdr__dispatch) != 0) return 1;
    printf("listening on %u\n", (unsigned) ht_server__port(&server));
    fflush(stdout);
    ht_loop__run(loop);
    ht_server__serve_finalize(&acc);
    ht_loop__free(loop, a);
    hdr__mounts_close();
    ht_server__close(&server);
    ht_alloc__finalize(a);
    return 0;
}
