/* codegen/embed.h — `embed PREFIX DIR` lines: the tree read at build time and
 * emitted as PREFIX_embed.c (asset tables, <ht/response.h>'s ht_asset_t) +
 * PREFIX_embed.bin (every file's bytes, raw and gzip, pulled into the object
 * by an assembler .incbin, so a large tree costs the compiler nothing).
 *
 * htgen calls these; the rest of htgen only knows that a route of kind
 * DSL_R_EMBED is dispatched to PREFIX__embed_serve(i, ...), i counting the
 * embed lines in file order from 0.
 */
#ifndef HT_CODEGEN_EMBED_H
#define HT_CODEGEN_EMBED_H

#include "dsl.h"

/* How many embed lines f has. */
int embed__count(const dsl_file_t* f);

/* Reads every embed tree of f (DIR relative to routes_dir) and renders
 * PREFIX_embed.c into c and PREFIX_embed.bin into bin. deps gets each file
 * and directory read (absolute paths, space-separated, depfile-escaped),
 * so that adding, changing or removing a file under DIR reruns htgen.
 * banner: the DO-NOT-EDIT line(s) for the C file. Returns false with a
 * message on stderr (unreadable file, out of memory, zlib failure). */
bool embed__generate(const dsl_file_t* f, const char* routes_dir, const char* P, const char* banner,
                     dsl_buf_t* c, dsl_buf_t* bin, dsl_buf_t* deps);

/* The declarations PREFIX_routes.h gets when the file has embed lines. */
void embed__emit_header(const dsl_file_t* f, const char* P, const char* U, dsl_buf_t* b);

/* Appends a depfile-escaped path (spaces, '#', '$') to deps. */
void embed__dep(dsl_buf_t* deps, const char* path);

#endif /* HT_CODEGEN_EMBED_H */
