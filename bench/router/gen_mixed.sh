#!/bin/sh
# gen_mixed.sh N [PREFIX [requests]]: a routes.ht of N routes that uses the
# whole DSL, as a service that grew would (issue 16), on stdout; with
# "requests", one request per route instead ("METHOD PATH", in route order:
# request i goes to route i), for bench_mixed. The routes:
#   40% literal, 15% {name}, 15% {id:u64}, 10% regex, 10% rest,
#   10% affixed (a literal prefix/suffix around a parameter),
# in 50 groups (/api/v1/users, /api/v2/orders, ...) that share their first
# segments, each group split into resources of 20 routes that share theirs
# (route i: group i % 50, resource i / 1000 ... ). Literal, typed, regex and
# affixed segments meet at the same depth after the same prefix, so the
# automaton has real subset states. No two routes conflict and none is
# shadowed: htgen accepts every N (checked by compile_time.sh). Deterministic.
set -eu
N=${1:?usage: gen_mixed.sh N [PREFIX [requests]]}
P=${2:-mixed}
Q=${3:-}
awk -v n="$N" -v p="$P" -v q="$Q" 'BEGIN {
  split("users orders items carts posts teams repos files hooks keys " \
        "plans tasks notes jobs logs tags pages sites zones apps " \
        "boards cards docs feeds forms", res, " ")
  if (q == "") print "prefix " p
  for (i = 0; i < n; i++) {
    g = i % 50                     # group: /api/v1/users ... /api/v2/apps
    j = int(i / 50)                # index within the group
    slot = j % 20                  # the kind, 20 slots: 8 / 3 / 3 / 2 / 2 / 2
    sr = int(j / 20)              # resource within the group
    b = "/api/v" (g % 2 + 1) "/" res[int(g / 2) + 1] "/r" sr
    m = "GET"
    if (slot == 1 || slot == 12) m = "POST"
    else if (slot == 3) m = "PUT|PATCH"
    else if (slot == 5) m = "DELETE"
    if (slot < 8)       path = b "/op" slot (slot % 2 ? "/detail" : "")        # literal
    else if (slot == 8)  path = b "/{name}"                                    # {name}
    else if (slot == 9)  path = b "/{name}/edit"
    else if (slot == 10) path = b "/tags/{tag}"
    else if (slot == 11) path = b "/{id:u64}"                                  # u64
    else if (slot == 12) path = b "/{id:u64}/comments"
    else if (slot == 13) path = b "/{id:u64}/comments/{cid:u64}"
    else if (slot == 14) path = b "/v/{ver:/v[0-9]+(\\.[0-9]+)?/}"             # regex
    else if (slot == 15) path = b "/{day:/[0-9]{4}-[0-9]{2}-[0-9]{2}/}/log"
    else if (slot == 16) path = b "/files/{path...}"                           # rest
    else if (slot == 17) path = b "/raw-{path...}"
    else if (slot == 18) path = b "/img-{id:u64}.png"                          # affixed
    else                 path = b "/{name}.json"
    if (q == "") {
      printf "%-5s %s -> h%d\n", m, path, i
      continue
    }
    # a request for this route: its parameters given values no other
    # route of the resource takes
    if (slot < 8)        req = path
    else if (slot == 8)  req = b "/x" i
    else if (slot == 9)  req = b "/x" i "/edit"
    else if (slot == 10) req = b "/tags/t" i
    else if (slot == 11) req = b "/" i + 1
    else if (slot == 12) req = b "/" i + 1 "/comments"
    else if (slot == 13) req = b "/" i + 1 "/comments/" i
    else if (slot == 14) req = b "/v/v2.1"
    else if (slot == 15) req = b "/2024-01-" sprintf("%02d", i % 28 + 1) "/log"
    else if (slot == 16) req = b "/files/docs/" i ".txt"
    else if (slot == 17) req = b "/raw-a/" i
    else if (slot == 18) req = b "/img-" i ".png"
    else                 req = b "/x" i ".json"
    sub(/\|.*/, "", m)
    print m " " req
  }
}'
