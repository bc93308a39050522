/* pages.h — `ht --404 FILE`: a page of the operator's answering 404s
 * instead of the library's one-line page, through the response's error
 * hook (ht_response__on_error), so every 404 gets it: missing files,
 * directories without index or listing, the SPA fallback's asset paths. */
#ifndef HT_PAGES_H
#define HT_PAGES_H

#include <ht/response.h>

/* Largest page: it is held in memory and copied into each 404. */
#define HT_PAGE_MAX (1u << 20)

typedef struct ht_page {
    char*      data; /* the file's bytes (malloc'd, owned; ht_page__free) */
    size_t     len;
    ht_slice_t type; /* Content-Type from the name's extension (static storage) */
} ht_page_t;

/* Reads path (any file, as given on the command line) into p. 0, -EFBIG
 * (over HT_PAGE_MAX), -ENOMEM, or the errno of opening or reading it. */
int ht_page__load(ht_page_t* p, const char* path);
void ht_page__free(ht_page_t* p);

/* An ht_error_page_fn with ud = the ht_page_t: the page with status 404;
 * other statuses get the built-in page. */
ht_result_t ht_page__not_found(ht_response_t* res, uint16_t status, void* ud, ht_alloc_t* a);

#endif /* HT_PAGES_H */
