#!/bin/sh
# Builds the property test's route sets (run by CMake at build time):
#   gen_sets.sh HTGEN RE2C PROPGEN OUTDIR NSETS NCHUNKS
# For each seed: propgen writes a random routes file; while htgen rejects it,
# the first line it reports is dropped (conflicts are expected: that is
# htgen's job); same when re2c -Wunreachable-rules -Werror rejects the DFA
# (the last route is dropped). The accepted sets' matchers and glue are
# concatenated into NCHUNKS C files (chunk_K.c), with sets.c listing them.
set -eu
HTGEN=$1 RE2C=$2 PROPGEN=$3 OUT=$4 N=$5 CHUNKS=$6
mkdir -p "$OUT/work"
W=$OUT/work
k=0
while [ "$k" -lt "$CHUNKS" ]; do : > "$W/chunk_$k.c.tmp"; k=$((k + 1)); done
printf '#include "prop.h"\n' > "$W/sets.c.tmp"
s=0
while [ "$s" -lt "$N" ]; do
  P=p$s
  "$PROPGEN" "$s" > "$W/$P.ht"
  tries=0
  while :; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then echo "gen_sets: $P does not converge" >&2; exit 1; fi
    if "$HTGEN" "$W/$P.ht" -o "$W" 2> "$W/$P.err"; then
      if "$RE2C" -W -Wno-nondeterministic-tags -Wno-sentinel-in-midrule -Wunreachable-rules -Werror --no-generation-date \
           -o "$W/${P}_routes.c" "$W/${P}_routes.re" 2> "$W/$P.re2c.err"; then
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
printf 'const prop_set_t* const prop_sets[] = {\n' >> "$W/sets.c.tmp"
s=0
while [ "$s" -lt "$N" ]; do printf '    &p%s_set,\n' "$s" >> "$W/sets.c.tmp"; s=$((s + 1)); done
printf '};\nconst int prop_nsets = %s;\n' "$N" >> "$W/sets.c.tmp"
k=0
while [ "$k" -lt "$CHUNKS" ]; do mv "$W/chunk_$k.c.tmp" "$OUT/chunk_$k.c"; k=$((k + 1)); done
mv "$W/sets.c.tmp" "$OUT/sets.c"
