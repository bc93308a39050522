#!/bin/sh
# compile_time.sh HTGEN RE2C CC GITHUB.routes INCLUDE_DIR WORKDIR [CFLAGS]
# Times htgen + re2c + cc -c for a ~1,000-route routes.ht (the GitHub API set
# repeated under /v1 ... /v5: 1,015 routes): wall and user+sys CPU per step
# (the build machine is shared: CPU time is the steadier figure). CFLAGS
# defaults to -O3 -fno-if-conversion, what a gcc Release build gives the
# generated file (CMAKE_C_FLAGS_RELEASE plus HT_ROUTES_OPT).
set -eu
HTGEN=$1 RE2C=$2 CC=$3 SRC=$4 INC=$5 W=$6
CFLAGS=${7:--O3 -DNDEBUG -fno-if-conversion}
mkdir -p "$W"
{
  echo "prefix big"
  for v in 1 2 3 4 5; do
    awk -v v="$v" '{ printf "%s /v%s%s -> h%s_%d\n", $1, v, $2, v, NR }' "$SRC"
  done
} > "$W/big.ht"
echo "routes: $(grep -c -- '->' "$W/big.ht"), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
step() { # name cmd... : prints "name wall s (user+sys s)"
  name=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$W/.time" "$@"
  awk -v n="$name" '{ printf "%s %.2f s (cpu %.2f s)\n", n, $1, $2 + $3 }' "$W/.time"
  cat "$W/.time" >> "$W/.times"
}
: > "$W/.times"
step htgen "$HTGEN" "$W/big.ht" -o "$W"
step re2c "$RE2C" -W -Wno-nondeterministic-tags -Wno-sentinel-in-midrule -Wunreachable-rules -Werror --no-generation-date \
  -o "$W/big_routes.c" "$W/big_routes.re"
step "cc $CFLAGS" "$CC" -std=c2x $CFLAGS -I"$INC" -I"$W" -c "$W/big_routes.c" -o "$W/big_routes.o"
awk '{ w += $1; c += $2 + $3 } END { printf "total %.2f s (cpu %.2f s)\n", w, c }' "$W/.times"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
ls -l "$W/big_routes.c" "$W/big_routes.o" | awk '{ print $5, $9 }'
