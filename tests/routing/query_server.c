/* query_server — serves tests/codegen/golden_query/routes.ht (typed query
 * parameters, {name:path...}) for query_e2e.py. Each handler answers its
 * params struct as text, one "name=value" per line, so the client sees
 * what the generated dispatch decoded. Usage: query_server PORT (0: any);
 * binds 127.0.0.1, prints "listening on 127.0.0.1:PORT", stops on SIGTERM. */
#include "app_routes.h"

#include <ht/ht.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static void send_(ht_response_t* res, ht_bytes_t* b, ht_alloc_t* a) {
    (void) ht_response__bytes(res, 200, HT_SLICE("text/plain; charset=utf-8"), b->data, b->len, a);
    ht_bytes__free(b);
}

void app_search(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const app_search_params_t* p) {
    (void) ctx, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "q=%.*s\npage=%" PRIu64 "\ntags=%zu\n", HT_SLICE_FMT(p->q), p->page, p->tag_count);
    for (size_t i = 0; i < p->tag_count; i++) ht_bytes__pushf(&b, "tag=%.*s\n", HT_SLICE_FMT(p->tag[i]));
    send_(res, &b, a);
}

void app_num(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const app_num_params_t* p) {
    (void) ctx, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "n=%" PRId64 "\n", p->n);
    if (p->has_h) ht_bytes__pushf(&b, "h=%" PRIx64 "\n", p->h);
    if (p->has_id) ht_bytes__pushf(&b, "id=%.*s\n", HT_SLICE_FMT(p->id));
    ht_bytes__pushf(&b, "s=%.*s\n", HT_SLICE_FMT(p->s));
    send_(res, &b, a);
}

void app_strict_one(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                    const app_strict_one_params_t* p) {
    (void) ctx, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "x=%" PRIu64 "\n", p->x);
    send_(res, &b, a);
}

void app_bare(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const app_bare_params_t* p) {
    (void) ctx, (void) req, (void) p;
    (void) ht_response__text(res, 200, "bare\n", a);
}

void app_api_find(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                  const app_api_find_params_t* p) {
    (void) ctx, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "q=%.*s\nlimit=%" PRIu64 "\n", HT_SLICE_FMT(p->q), p->limit);
    send_(res, &b, a);
}

void app_raw_file(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                  const app_raw_file_params_t* p) {
    (void) ctx, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "file=%.*s\n", HT_SLICE_FMT(p->file));
    send_(res, &b, a);
}

void app_rest(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const app_rest_params_t* p) {
    (void) ctx, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "rest=%.*s\n", HT_SLICE_FMT(p->rest));
    send_(res, &b, a);
}

void app_plain(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const app_plain_params_t* p) {
    (void) ctx;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    /* a route without query parameters: the query is the handler's own */
    ht_slice_t q = ht_request__query(req);
    ht_bytes__pushf(&b, "id=%" PRIu64 "\nquery=%.*s\n", p->id, HT_SLICE_FMT(q));
    send_(res, &b, a);
}

void app_posts(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a, const app_posts_params_t* p) {
    (void) ctx, (void) req;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__pushf(&b, "id=%" PRIu64 "\nsort=%.*s\n", p->id, HT_SLICE_FMT(p->sort));
    if (p->has_id2) ht_bytes__pushf(&b, "id2=%" PRIu64 "\n", p->id2);
    send_(res, &b, a);
}

int main(int argc, char** argv) {
    long port = argc > 1 ? strtol(argv[1], nullptr, 10) : 0;
    ht_alloc_t* a = ht_alloc__init();
    ht_config_t cfg = { 0 };
    ht_server_t server = { .config = &cfg };
    ht_result_t r = ht_server__listen(&server, "127.0.0.1", (uint16_t) port, 128);
    ht_loop_t* loop = nullptr;
    if (r == 0) r = ht_loop__init(&loop, a);
    if (r != 0) {
        fprintf(stderr, "query_server: %s\n", ht_result__str(r));
        return 1;
    }
    ht_signal__install_default(&server);
    ht_acceptor_t acc = { 0 };
    if ((r = ht_server__serve(&acc, &server, loop, a, app__dispatch)) != 0) {
        fprintf(stderr, "query_server: serve: %s\n", ht_result__str(r));
        return 1;
    }
    printf("listening on 127.0.0.1:%u\n", (unsigned) ht_server__port(&server));
    fflush(stdout);
    ht_loop__run(loop);
    ht_server__serve_finalize(&acc);
    ht_loop__free(loop, a);
    ht_server__close(&server);
    ht_alloc__finalize(a);
    return 0;
}
