/* microservice — a JSON API and its web UI in one binary.
 *
 * routes.ht declares the API routes and `embed / ./ui`: htgen compiles the
 * UI (index.html, app.js, style.css) into the program, each file with a
 * build-time ETag and, where it pays, a gzip variant, served by
 * svc__dispatch from memory. Copy the binary anywhere and run it: it needs
 * no file at run time.
 *
 *   microservice [-p PORT] [-b ADDR]
 *     -p PORT  port (default 8080; 0 picks one)
 *     -b ADDR  address to bind (default: every interface)
 * Prints "listening on ADDR:PORT" once ready; SIGINT/SIGTERM stop it.
 *
 * The API keeps notes in memory (one loop, one thread: no locking):
 *   GET    /api/health          {"status":"ok","notes":N}
 *   GET    /api/notes           {"notes":[{"id":1,"text":"..."},...]}
 *   POST   /api/notes           body = the text (1..200 bytes) -> 201 + Location
 *   GET    /api/notes/{id}      the note, or 404
 *   DELETE /api/notes/{id}      204, or 404
 */
#include "svc_routes.h"

#include <ht/ht.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NOTES 256
#define MAX_TEXT 200

typedef struct note {
    uint64_t id; /* 0: free slot */
    size_t len;
    char text[MAX_TEXT];
} note_t;

static note_t notes[MAX_NOTES];
static uint64_t next_id = 1;

/* JSON string contents: quotes, backslashes and controls escaped; other
 * bytes as they are (the text came in as UTF-8, or is shown as such). */
static void push_json_str(ht_bytes_t* b, const char* s, size_t n) {
    ht_bytes__push_byte(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '"' || c == '\\') {
            ht_bytes__push_byte(b, '\\');
            ht_bytes__push_byte(b, (char) c);
        } else if (c < 0x20 || c == 0x7f) {
            ht_bytes__pushf(b, "\\u%04x", c);
        } else {
            ht_bytes__push_byte(b, (char) c);
        }
    }
    ht_bytes__push_byte(b, '"');
}

static void push_note(ht_bytes_t* b, const note_t* n) {
    ht_bytes__pushf(b, "{\"id\":%" PRIu64 ",\"text\":", n->id);
    push_json_str(b, n->text, n->len);
    ht_bytes__push_byte(b, '}');
}

static void send_json(ht_response_t* res, uint16_t status, ht_bytes_t* b, ht_alloc_t* a) {
    ht_response__bytes(res, status, HT_SLICE("application/json"), b->data, b->len, a);
    ht_bytes__free(b);
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static note_t* find(uint64_t id) {
    for (int i = 0; i < MAX_NOTES; i++)
        if (notes[i].id == id && id != 0) return &notes[i];
    return nullptr;
}

static size_t count(void) {
    size_t n = 0;
    for (int i = 0; i < MAX_NOTES; i++) n += notes[i].id != 0;
    return n;
}

void svc_health(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                const svc_health_params_t* p) {
    (void) ctx, (void) req, (void) p;
    char json[64];
    snprintf(json, sizeof json, "{\"status\":\"ok\",\"notes\":%zu}", count());
    ht_response__json(res, 200, json, a);
}

void svc_notes_list(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                    const svc_notes_list_params_t* p) {
    (void) ctx, (void) req, (void) p;
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    ht_bytes__push(&b, "{\"notes\":[", 10);
    bool first = true;
    for (int i = 0; i < MAX_NOTES; i++) { /* slots are taken in id order */
        if (!notes[i].id) continue;
        if (!first) ht_bytes__push_byte(&b, ',');
        push_note(&b, &notes[i]);
        first = false;
    }
    ht_bytes__push(&b, "]}", 2);
    send_json(res, 200, &b, a);
}

void svc_notes_add(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                   const svc_notes_add_params_t* p) {
    (void) ctx, (void) p;
    ht_slice_t text = ht_request__body(req); /* without surrounding white space */
    while (text.len && is_space(text.ptr[0])) text = ht_slice__sub(text, 1, text.len - 1);
    while (text.len && is_space(text.ptr[text.len - 1])) text.len--;
    if (text.len == 0 || text.len > MAX_TEXT) {
        ht_response__json(res, 400, "{\"error\":\"a note is 1 to 200 bytes of text\"}", a);
        return;
    }
    /* The lowest free slot after the last used one keeps the list in id order. */
    int slot = -1;
    for (int i = MAX_NOTES - 1; i >= 0 && !notes[i].id; i--) slot = i;
    if (slot < 0) {
        ht_response__json(res, 507, "{\"error\":\"full\"}", a);
        return;
    }
    note_t* n = &notes[slot];
    n->id = next_id++;
    n->len = text.len;
    memcpy(n->text, text.ptr, text.len);
    char loc[64];
    snprintf(loc, sizeof loc, "/api/notes/%" PRIu64, n->id);
    ht_response__status(res, 201);
    ht_response__header_cstr(res, "Location", loc);
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    push_note(&b, n);
    send_json(res, 201, &b, a);
}

void svc_notes_get(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                   const svc_notes_get_params_t* p) {
    (void) ctx, (void) req;
    note_t* n = find(p->id);
    if (!n) {
        ht_response__json(res, 404, "{\"error\":\"no such note\"}", a);
        return;
    }
    ht_bytes_t b;
    ht_bytes__init(&b, a);
    push_note(&b, n);
    send_json(res, 200, &b, a);
}

void svc_notes_delete(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
                      const svc_notes_delete_params_t* p) {
    (void) ctx, (void) req;
    note_t* n = find(p->id);
    if (!n) {
        ht_response__json(res, 404, "{\"error\":\"no such note\"}", a);
        return;
    }
    *n = (note_t){ 0 };
    ht_response__status(res, 204);
    ht_response__body(res, nullptr, 0, a);
}

int main(int argc, char** argv) {
    long port = 8080;
    const char* bind = nullptr;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            char* end;
            port = strtol(argv[++i], &end, 10);
            if (*end || port < 0 || port > 65535) {
                fprintf(stderr, "microservice: bad port '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "-b") == 0 && i + 1 < argc) {
            bind = argv[++i];
        } else {
            fprintf(stderr, "usage: microservice [-p PORT] [-b ADDR]\n");
            return 2;
        }
    }
    ht_config_t cfg = { 0 };
    ht_server_t server = { .config = &cfg };
    ht_result_t r = ht_server__listen(&server, bind, (uint16_t) port, 128);
    if (r != 0) {
        fprintf(stderr, "microservice: listen: %s\n", ht_result__str(r));
        return 1;
    }
    ht_alloc_t* a = ht_alloc__init();
    ht_loop_t* loop = nullptr;
    if ((r = ht_loop__init(&loop, a)) != 0) {
        fprintf(stderr, "microservice: loop: %s\n", ht_result__str(r));
        return 1;
    }
    ht_signal__install_default(&server);
    ht_acceptor_t acc = { 0 };
    if ((r = ht_server__serve(&acc, &server, loop, a, svc__dispatch)) != 0) {
        fprintf(stderr, "microservice: serve: %s\n", ht_result__str(r));
        return 1;
    }
    printf("listening on %s:%u\n", bind ? bind : "*", (unsigned) ht_server__port(&server));
    fflush(stdout);
    ht_loop__run(loop);
    ht_server__serve_finalize(&acc);
    ht_loop__free(loop, a);
    ht_server__close(&server);
    ht_alloc__finalize(a);
    return 0;
}
