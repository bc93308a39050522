#!/bin/sh
# Builds the property test's route sets (run by CMake at build time):
#   gen_sets.sh HTGEN RE2C PROPGEN OUTDIR NSETS NCHUNKS [NBIG BIGROUTES]
# For each seed: propgen writes a random routes file; while htgen rejects it,
# the first line it reports is dropped (conflicts are expected: that is
# htgen's job); same when re2c -Wunreachable-rules -Werror rejects the DFA
# (the last route is dropped). The accepted sets' matchers and glue are
# concatenated into NCHUNKS C files (chunk_K.c), with sets.c listing them.
# The small sets go through every layout of the matcher (htgen's
# --code-weight/--chunk-weight): the default (all code), all tables, many
# small functions, and code then tables; every other default one is plain
# (propgen --plain: no predicates), which htgen writes as a hot
# PREFIX__match and PREFIX__long.
# NBIG sets of BIGROUTES routes each (propgen --big: small sets side by side
# under namespaces) follow, one C file each (big_K.c); htgen reports all of
# a big set's conflicts in one run, and all of them are dropped at once.
set -eu
HTGEN=$1 RE2C=$2 PROPGEN=$3 OUT=$4 N=$5 CHUNKS=$6 NBIG=${7:-0} BIGN=${8:-10000}
mkdir -p "$OUT/work"
W=$OUT/work
RE2C_FLAGS="-W -Wno-nondeterministic-tags -Wno-sentinel-in-midrule -Wunreachable-rules -Werror --no-generation-date"
k=0
while [ "$k" -lt "$CHUNKS" ]; do : > "$W/chunk_$k.c.tmp"; k=$((k + 1)); done
printf '#include "prop.h"\n' > "$W/sets.c.tmp"
s=0
while [ "$s" -lt "$N" ]; do
  P=p$s
  case $((s % 4)) in
  0) LAYOUT= ;;
  1) LAYOUT="--code-weight -1" ;;
  2) LAYOUT="--chunk-weight 20" ;;
  *) LAYOUT="--chunk-weight 60 --code-weight 150" ;;
  esac
  if [ $((s % 8)) -eq 4 ]; then "$PROPGEN" --plain "$s"; else "$PROPGEN" "$s"; fi > "$W/$P.ht"
  tries=0
  while :; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then echo "gen_sets: $P does not converge" >&2; exit 1; fi
    # shellcheck disable=SC2086 # LAYOUT and RE2C_FLAGS are lists of flags
    if "$HTGEN" "$W/$P.ht" -o "$W" $LAYOUT 2> "$W/$P.err"; then
      if "$RE2C" $RE2C_FLAGS -o "$W/${P}_routes.c" "$W/${P}_routes.re" 2> "$W/$P.re2c.err"; then
        break
      fi
      last=$(grep -n -- '->' "$W/$P.ht" | tail -n 1 | cut -d: -f1)
    else
      last=$(sed -n 's/^[^:]*\.ht:\([0-9][0-9]*\):[0-9]*: error:.*/\1/p' "$W/$P.err" | head -n 1)
    fi
    if [ -z "$last" ]; then cat "$W/$P.err" >&2; exit 1; fi
    sed -i "${last}d" "$W/$P.ht"
  done
  "$PROPGEN" --glue "$P" "$W/$P.ht" > "$W/${P}_glue.c"
  c=$((s % CHUNKS))
  cat "$W/${P}_routes.c" "$W/${P}_glue.c" >> "$W/chunk_$c.c.tmp"
  printf 'extern const prop_set_t %s_set;\n' "$P" >> "$W/sets.c.tmp"
  s=$((s + 1))
done
b=0
while [ "$b" -lt "$NBIG" ]; do
  P=b$b
  case $((b % 2)) in
  0) LAYOUT= ;;
  *) LAYOUT="--chunk-weight 200 --code-weight 20000" ;;
  esac
  "$PROPGEN" --big "$b" "$BIGN" | sed "s/^prefix p$b\$/prefix $P/" > "$W/$P.ht"
  tries=0
  # shellcheck disable=SC2086
  until "$HTGEN" "$W/$P.ht" -o "$W" $LAYOUT 2> "$W/$P.err"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 20 ]; then echo "gen_sets: $P does not converge" >&2; exit 1; fi
    lines=$(sed -n 's/^[^:]*\.ht:\([0-9][0-9]*\):[0-9]*: error:.*/\1d;/p' "$W/$P.err" | sort -u | tr -d '\n')
    if [ -z "$lines" ]; then cat "$W/$P.err" >&2; exit 1; fi
    sed -i "$lines" "$W/$P.ht"
  done
  # shellcheck disable=SC2086
  "$RE2C" $RE2C_FLAGS -o "$W/${P}_routes.c" "$W/${P}_routes.re"
  "$PROPGEN" --glue "$P" "$W/$P.ht" > "$W/${P}_glue.c"
  cat "$W/${P}_routes.c" "$W/${P}_glue.c" > "$W/big_$b.c.tmp"
  printf 'extern const prop_set_t %s_set;\n' "$P" >> "$W/sets.c.tmp"
  b=$((b + 1))
done
printf 'const prop_set_t* const prop_sets[] = {\n' >> "$W/sets.c.tmp"
s=0
while [ "$s" -lt "$N" ]; do printf '    &p%s_set,\n' "$s" >> "$W/sets.c.tmp"; s=$((s + 1)); done
b=0
while [ "$b" -lt "$NBIG" ]; do printf '    &b%s_set,\n' "$b" >> "$W/sets.c.tmp"; b=$((b + 1)); done
printf '};\nconst int prop_nsets = %s;\n' "$((N + NBIG))" >> "$W/sets.c.tmp"
k=0
while [ "$k" -lt "$CHUNKS" ]; do mv "$W/chunk_$k.c.tmp" "$OUT/chunk_$k.c"; k=$((k + 1)); done
b=0
while [ "$b" -lt "$NBIG" ]; do mv "$W/big_$b.c.tmp" "$OUT/big_$b.c"; b=$((b + 1)); done
mv "$W/sets.c.tmp" "$OUT/sets.c"
