/* pages.c — see pages.h. */
#include "pages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int ht_page__load(ht_page_t* p, const char* path) {
    *p = (ht_page_t){ .type = ht_fs__mime_lookup(nullptr, ht_slice__from_cstr(path)) };
    FILE* f = fopen(path, "rb");
    if (!f) return -errno;
    p->data = malloc(HT_PAGE_MAX + 1);
    if (!p->data) {
        fclose(f);
        return -ENOMEM;
    }
    p->len = fread(p->data, 1, HT_PAGE_MAX + 1, f);
    int err = ferror(f) ? -EIO : p->len > HT_PAGE_MAX ? -EFBIG : 0;
    fclose(f);
    if (err) ht_page__free(p);
    return err;
}

void ht_page__free(ht_page_t* p) {
    free(p->data);
    p->data = nullptr;
    p->len = 0;
}

ht_result_t ht_page__not_found(ht_response_t* res, uint16_t status, void* ud, ht_alloc_t* a) {
    const ht_page_t* p = ud;
    if (status != 404) return ht_response__error(res, status, a); /* the built-in page (hook is off inside) */
    return ht_response__bytes(res, 404, p->type, p->data, p->len, a);
}
