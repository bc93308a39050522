/* json.c — request bodies in, notes and errors out (json.h), with jansson. */
#include "json.h"

#include "store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char* json_error(const char* msg) {
    json_t* o = json_pack("{s:s}", "error", msg);
    if (o == nullptr) return nullptr;
    char* s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static bool blank(const char* s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return false;
    return true;
}

char* json_note_text(const char* body, size_t body_len, size_t* len, char** err) {
    *err = nullptr;
    json_error_t e;
    /* JSON_REJECT_DUPLICATES: {"text": "a", "text": "b"} is ambiguous. */
    json_t* root = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &e);
    if (root == nullptr) {
        char msg[256];
        snprintf(msg, sizeof msg, "malformed JSON: %s", e.text);
        *err = json_error(msg);
        return nullptr;
    }
    const char* why = nullptr;
    json_t* text = json_is_object(root) ? json_object_get(root, "text") : nullptr;
    if (!json_is_object(root)) why = "the body must be a JSON object: {\"text\": \"...\"}";
    else if (text == nullptr) why = "missing field: text";
    else if (!json_is_string(text)) why = "text must be a string";
    else if (json_string_length(text) > STORE_MAX_TEXT) why = "text is longer than 4096 bytes";
    else if (blank(json_string_value(text), json_string_length(text))) why = "text is empty";
    if (why) {
        json_decref(root);
        *err = json_error(why);
        return nullptr;
    }
    /* Without JSON_ALLOW_NUL jansson refuses \u0000, so strlen is the length. */
    *len = json_string_length(text);
    char* out = strdup(json_string_value(text));
    json_decref(root);
    return out;
}

char* json_note(uint64_t id, const char* text, size_t len, const char* created_at, size_t* out_len) {
    json_t* o = json_object();
    if (o == nullptr) return nullptr;
    /* Insertion order is kept (jansson >= 2.8): id, text, created_at. */
    if (json_object_set_new(o, "id", json_integer((json_int_t) id)) != 0 ||
        json_object_set_new(o, "text", json_stringn(text, len)) != 0 ||
        json_object_set_new(o, "created_at", json_string(created_at)) != 0) {
        json_decref(o);
        return nullptr;
    }
    char* s = json_dumps(o, 0); /* ", " and ": " as jsonb prints them, one line */
    json_decref(o);
    if (s) *out_len = strlen(s);
    return s;
}
