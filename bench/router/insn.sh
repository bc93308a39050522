#!/bin/sh
# insn.sh BENCH_ROUTER [ITERS] [MATCHERS...]
# Instructions per match under callgrind, for every set and matcher:
#   (Ir(ITERS passes) - Ir(0 passes)) / (ITERS * requests)
# Setup (loading, r3 tree build, correctness checks) cancels out in the
# difference; the harness loop (~15 instructions per match) stays in.
set -eu
B=$1
N=${2:-10}
shift 2 2>/dev/null || shift $#
M=${*:-htgen trie r3 linear}
ir() { # set matcher iters -> total Ir
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$B" "$1" "$2" "$3" 2>&1 |
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
printf '%-8s %8s' set requests
for m in $M; do printf ' %9s' "$m"; done
echo
for s in github gplus parse static; do
  reqs=$(wc -l < "$(dirname "$0")/../../../shared/bench-data/routes/$s.requests" 2>/dev/null || echo 0)
  [ "${HT_BENCH_DATA:-}" ] && reqs=$(wc -l < "$HT_BENCH_DATA/routes/$s.requests")
  printf '%-8s %8s' "$s" "$reqs"
  for m in $M; do
    if ! "$B" "$s" "$m" 0 > /dev/null 2>&1; then printf ' %9s' -; continue; fi
    a=$(ir "$s" "$m" 0)
    b=$(ir "$s" "$m" "$N")
    printf ' %9s' "$(echo "($b - $a) / ($N * $reqs)" | bc)"
  done
  echo
done
