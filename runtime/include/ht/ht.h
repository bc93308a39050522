/* ht/ht.h — the umbrella: every public header of libhachettp. */
#ifndef HT_HT_H
#define HT_HT_H

#include <ht/types.h>
#include <ht/alloc.h>
#include <ht/slice.h>
#include <ht/bytes.h>
#include <ht/uri.h>
#include <ht/http.h>
#include <ht/config.h>
#include <ht/net.h>
#include <ht/loop.h>
#include <ht/request.h>
#include <ht/response.h>
#include <ht/server.h>
#include <ht/workers.h>
#include <ht/thread.h>
#include <ht/fs.h>
#include <ht/headers.h>
#include <ht/signal.h>
#include <ht/listen.h>
#include <ht/proxy.h>
#include <ht/log.h>
#include <ht/metrics.h>

#endif /* HT_HT_H */
