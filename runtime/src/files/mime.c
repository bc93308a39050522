/* files/mime.c — Content-Type by file extension: the gperf table generated
 * from mime.list at build time, plus caller-added extensions. */
#include "files.h"

#include <string.h>

#include "mime_gperf.c" /* generated into the build tree, DO NOT EDIT */

ht_slice_t ht_fs__mime_builtin(ht_slice_t ext) {
    if (ext.len < MIN_WORD_LENGTH || ext.len > MAX_WORD_LENGTH) return HT_SLICE_NULL;
    /* gperf's lookup compares case-insensitively and by length (%compare-lengths). */
    const struct ht_mime_gperf_entry_* e = ht_mime_gperf_lookup_(ext.ptr, ext.len);
    return e ? ht_slice__from(e->type, e->type_len) : HT_SLICE_NULL;
}

ht_slice_t ht_fs__extension(ht_slice_t path) {
    size_t i = path.len;
    while (i > 0 && path.ptr[i - 1] != '/') i--; /* start of the last segment */
    ht_slice_t name = ht_slice__sub(path, i, path.len - i);
    for (size_t j = name.len; j > 1; j--) /* j > 1: a dot at 0 starts a dotfile name */
        if (name.ptr[j - 1] == '.') return ht_slice__sub(name, j, name.len - j);
    return ht_slice__from(name.ptr + name.len, 0);
}

/* type/subtype without parameters, lowercased comparison done by the caller. */
static ht_slice_t essence(ht_slice_t t) {
    size_t semi = ht_slice__find_byte(t, ';');
    if (semi != SIZE_MAX) t.len = semi;
    return ht_slice__trim_ows(t);
}

bool ht_fs__mime_compressible(ht_slice_t content_type) {
    ht_slice_t t = essence(content_type);
    if (ht_slice__starts_with_nocase(t, HT_SLICE("text/"))) return true;
    if (ht_slice__ends_with(t, HT_SLICE("+json")) || ht_slice__ends_with(t, HT_SLICE("+xml")))
        return true;
    static const ht_slice_t yes[] = {
        HT_SLICE("application/json"),        HT_SLICE("application/javascript"),
        HT_SLICE("application/xml"),         HT_SLICE("application/wasm"),
        HT_SLICE("application/yaml"),        HT_SLICE("application/toml"),
        HT_SLICE("application/rtf"),         HT_SLICE("application/vnd.ms-fontobject"),
        HT_SLICE("font/ttf"),                HT_SLICE("font/otf"),
        HT_SLICE("image/x-icon"),            HT_SLICE("image/bmp"),
        HT_SLICE("application/x-tar"),
    };
    for (size_t i = 0; i < HT_ARRAY_LEN(yes); i++)
        if (ht_slice__eq_nocase(t, yes[i])) return true;
    return false;
}

void ht_fs__mime_init(ht_fs_mime_t* m, ht_alloc_t* a) {
    *m = (ht_fs_mime_t){ .alloc_ = a };
}

void ht_fs__mime_free(ht_fs_mime_t* m) {
    for (uint32_t i = 0; i < m->len_; i++) {
        ht_alloc__free(m->alloc_, m->entries_[i].ext, m->entries_[i].ext_len + 1);
        ht_alloc__free(m->alloc_, m->entries_[i].type, m->entries_[i].type_len + 1);
    }
    ht_alloc__free(m->alloc_, m->entries_, (size_t) m->cap_ * sizeof(*m->entries_));
    *m = (ht_fs_mime_t){ .alloc_ = m->alloc_ };
}

static bool ext_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '+';
}

static char* dup_bytes(ht_alloc_t* a, ht_slice_t s, bool lower) {
    char* p = ht_alloc__alloc(a, s.len + 1);
    if (!p) return nullptr;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (lower && c >= 'A' && c <= 'Z') c = (char) (c + 32);
        p[i] = c;
    }
    p[s.len] = '\0';
    return p;
}

ht_result_t ht_fs__mime_add(ht_fs_mime_t* m, ht_slice_t ext, ht_slice_t type) {
    if (ext.len == 0 || ext.len > 32 || type.len == 0 || type.len > 1024) return -EINVAL;
    for (size_t i = 0; i < ext.len; i++)
        if (!ext_byte((unsigned char) ext.ptr[i])) return -EINVAL;
    for (size_t i = 0; i < type.len; i++) {
        unsigned char c = (unsigned char) type.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return -EINVAL;
    }
    char* t = dup_bytes(m->alloc_, type, false);
    if (!t) return -ENOMEM;
    for (uint32_t i = 0; i < m->len_; i++) {
        if (ht_slice__eq_nocase(ht_slice__from(m->entries_[i].ext, m->entries_[i].ext_len), ext)) {
            ht_alloc__free(m->alloc_, m->entries_[i].type, m->entries_[i].type_len + 1);
            m->entries_[i].type = t;
            m->entries_[i].type_len = (uint32_t) type.len;
            return 0;
        }
    }
    char* e = dup_bytes(m->alloc_, ext, true);
    if (!e) {
        ht_alloc__free(m->alloc_, t, type.len + 1);
        return -ENOMEM;
    }
    if (m->len_ == m->cap_) {
        uint32_t cap = m->cap_ ? m->cap_ * 2 : 8;
        void* p = ht_alloc__realloc(m->alloc_, m->entries_, (size_t) m->cap_ * sizeof(*m->entries_),
                                    (size_t) cap * sizeof(*m->entries_));
        if (!p) {
            ht_alloc__free(m->alloc_, t, type.len + 1);
            ht_alloc__free(m->alloc_, e, ext.len + 1);
            return -ENOMEM;
        }
        m->entries_ = p;
        m->cap_ = cap;
    }
    m->entries_[m->len_++] = (ht_fs_mime_entry_){
        .ext = e, .type = t, .ext_len = (uint32_t) ext.len, .type_len = (uint32_t) type.len };
    return 0;
}

ht_slice_t ht_fs__mime_lookup(const ht_fs_mime_t* m, ht_slice_t path) {
    ht_slice_t ext = ht_fs__extension(path);
    if (ext.len) {
        if (m) /* few entries: a linear scan beats hashing */
            for (uint32_t i = 0; i < m->len_; i++)
                if (ht_slice__eq_nocase(ht_slice__from(m->entries_[i].ext, m->entries_[i].ext_len), ext))
                    return ht_slice__from(m->entries_[i].type, m->entries_[i].type_len);
        ht_slice_t t = ht_fs__mime_builtin(ext);
        if (t.ptr) return t;
    }
    return HT_SLICE("application/octet-stream");
}
