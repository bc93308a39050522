/* json.h — the JSON the API reads and the JSON it makes, with jansson.
 *
 * Request bodies are parsed by a maintained library (jansson, Debian's
 * libjansson-dev) rather than by hand: malformed input, duplicate keys,
 * invalid UTF-8 and \u0000 are refused by it, and the message it gives goes
 * back to the client. Everything returned is malloc'd; the caller frees it.
 */
#ifndef SVC_JSON_H
#define SVC_JSON_H

#include <stddef.h>
#include <stdint.h>

/* A note body, {"text": "..."} (other members are ignored): the text (NUL
 * terminated, *len bytes, 1 .. STORE_MAX_TEXT of UTF-8, not only white
 * space), or nullptr with *err set to a JSON error body for a 400
 * ({"error": "..."}), or to nullptr when out of memory. */
char* json_note_text(const char* body, size_t body_len, size_t* len, char** err);

/* {"error": msg}, msg escaped; nullptr when out of memory. */
char* json_error(const char* msg);

/* A note as the stores render it: {"id": 1, "text": "...", "created_at":
 * "..."} (the separators PostgreSQL's jsonb prints), *out_len bytes. */
char* json_note(uint64_t id, const char* text, size_t len, const char* created_at, size_t* out_len);

#endif /* SVC_JSON_H */
