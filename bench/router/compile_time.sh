#!/bin/sh
# compile_time.sh HTGEN RE2C CC GITHUB.routes INCLUDE_DIR WORKDIR
# Times htgen + re2c + cc -O2 -c for a ~1,000-route routes.ht (the GitHub
# API set repeated under /v1 ... /v5: 1,015 routes).
set -eu
HTGEN=$1 RE2C=$2 CC=$3 SRC=$4 INC=$5 W=$6
mkdir -p "$W"
{
  echo "prefix big"
  for v in 1 2 3 4 5; do
    awk -v v="$v" '{ printf "%s /v%s%s -> h%s_%d\n", $1, v, $2, v, NR }' "$SRC"
  done
} > "$W/big.ht"
echo "routes: $(grep -c -- '->' "$W/big.ht")"
start=$(date +%s.%N)
"$HTGEN" "$W/big.ht" -o "$W"
t1=$(date +%s.%N)
"$RE2C" -W -Wno-nondeterministic-tags -Wunreachable-rules -Werror --no-generation-date -o "$W/big_routes.c" "$W/big_routes.re"
t2=$(date +%s.%N)
"$CC" -std=c2x -O2 -I"$INC" -I"$W" -c "$W/big_routes.c" -o "$W/big_routes.o"
t3=$(date +%s.%N)
echo "htgen $(echo "$t1 - $start" | bc) s, re2c $(echo "$t2 - $t1" | bc) s, cc -O2 $(echo "$t3 - $t2" | bc) s, total $(echo "$t3 - $start" | bc) s"
ls -l "$W/big_routes.c" "$W/big_routes.o" | awk '{ print $5, $9 }'
