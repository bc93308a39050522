#!/bin/sh
# compile_time.sh HTGEN RE2C CC GITHUB.routes INCLUDE_DIR WORKDIR [CFLAGS] [TABLE]
# Times htgen + re2c + cc -c for one routes.ht: wall and user+sys CPU per
# step (the build machine is shared: CPU time is the steadier figure).
# TABLE:
#   github    (default) the GitHub API set repeated under /v1 ... /v5: 1,015
#             routes, literal segments and {name} parameters only;
#   mixed:N   N routes from gen_mixed.sh (beside this script): 40% literal,
#             15% {name}, 15% {id:u64}, 10% regex, 10% rest, 10% affixed, in
#             50 groups sharing prefixes (issue 16).
# CFLAGS defaults to -O3 -DNDEBUG -fno-if-conversion, what a gcc Release
# build gives the generated file (CMAKE_C_FLAGS_RELEASE plus HT_ROUTES_OPT).
# The last line sums it up for scripts:
#   summary TABLE ROUTES htgen-cpu re2c-cpu cc-cpu total-cpu total-wall C-bytes
set -eu
HTGEN=$1 RE2C=$2 CC=$3 SRC=$4 INC=$5 W=$6
CFLAGS=${7:--O3 -DNDEBUG -fno-if-conversion}
TABLE=${8:-github}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$W"
case $TABLE in
github)
  {
    echo "prefix big"
    for v in 1 2 3 4 5; do
      awk -v v="$v" '{ printf "%s /v%s%s -> h%s_%d\n", $1, v, $2, v, NR }' "$SRC"
    done
  } > "$W/big.ht" ;;
mixed:*)
  sh "$here/gen_mixed.sh" "${TABLE#mixed:}" big > "$W/big.ht" ;;
*)
  echo "compile_time.sh: unknown table '$TABLE' (github, mixed:N)" >&2
  exit 2 ;;
esac
routes=$(grep -c -- '->' "$W/big.ht")
echo "table $TABLE: $routes routes, cc $CFLAGS, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
step() { # name cmd... : prints "name wall s (user+sys s)"
  name=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$W/.time" "$@"
  awk -v n="$name" '{ printf "%s %.2f s (cpu %.2f s)\n", n, $1, $2 + $3 }' "$W/.time"
  cat "$W/.time" >> "$W/.times"
}
: > "$W/.times"
rm -f "$W"/big_*
step htgen "$HTGEN" "$W/big.ht" -o "$W"
step re2c "$RE2C" -W -Wno-nondeterministic-tags -Wno-sentinel-in-midrule -Wunreachable-rules -Werror --no-generation-date \
  -o "$W/big_routes.c" "$W/big_routes.re"
# shellcheck disable=SC2086 # CFLAGS is a list of flags
step cc "$CC" -std=c2x $CFLAGS -I"$INC" -I"$W" -c "$W/big_routes.c" -o "$W/big_routes.o"
awk '{ w += $1; c += $2 + $3 } END { printf "total %.2f s (cpu %.2f s)\n", w, c }' "$W/.times"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
ls -l "$W/big_routes.c" "$W/big_routes.o" | awk '{ print $5, $9 }'
bytes=$(wc -c < "$W/big_routes.c")
awk -v t="$TABLE" -v n="$routes" -v b="$bytes" '
  { c[NR] = $2 + $3; w += $1; tc += $2 + $3 }
  END { printf "summary %s %d %.2f %.2f %.2f %.2f %.2f %d\n", t, n, c[1], c[2], c[3], tc, w, b }' "$W/.times"
