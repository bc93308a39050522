#!/bin/sh
# tests/fuzz/run.sh SECONDS [TARGET...]: build the libFuzzer targets with
# clang + ASan/UBSan in their own build dir and run each for SECONDS (default
# 30), starting from the committed seeds. Fails (exit 1) on any crash, leak,
# timeout or invariant violation; reproducers are left as crash-*/leak-*/
# timeout-* files under $FUZZ_BUILD/artifacts/.
#   FUZZ_BUILD   build dir (default build/fuzz)
#   FUZZ_JOBS    build parallelism (default 2)
#   FUZZ_ARGS    extra libFuzzer flags (e.g. -jobs=2)
#   FUZZ_CMAKE   extra CMake flags (e.g. -DHT_IO_URING=OFF: fuzz_conn over epoll)
#   FUZZ_FRESH   1: empty the scratch corpus first, so a seeded run starts
#                from the committed seeds alone (make fuzz-smoke); otherwise
#                a campaign goes on from what earlier runs learned
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-30}
[ $# -gt 0 ] && shift
build=${FUZZ_BUILD:-$root/build/fuzz}
targets=${*:-"fuzz_parse fuzz_chunked fuzz_uri fuzz_dsl fuzz_diff fuzz_match fuzz_conn fuzz_proxy"}

CC=${CC:-clang} cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER="${CC:-clang}" \
  -DHT_FUZZ=ON -DHT_SANITIZE=ON -DHT_WERROR=ON -DHT_BUILD_TESTS=OFF -DHT_BUILD_EXAMPLES=OFF ${FUZZ_CMAKE:-} >/dev/null
cmake --build "$build" -j "${FUZZ_JOBS:-2}" --target $targets

mkdir -p "$build/artifacts"
status=0
passed=0
failed=0
for t in $targets; do
  # The committed seeds stay read-only; what a run learns goes to a scratch corpus.
  work="$build/corpus/$t"
  [ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$work"
  mkdir -p "$work"
  dict=
  [ -f "$here/$t.dict" ] && dict="-dict=$here/$t.dict"
  echo "== $t for ${secs}s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" $dict ${FUZZ_ARGS:-} \
       "$work" "$here/corpus/$t" 2>"$build/$t.log"; then
    echo "!! $t failed; see $build/$t.log and $build/artifacts/"
    tail -n 40 "$build/$t.log"
    status=1
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
  grep -m1 -E '^#[0-9]+[[:space:]]+DONE' "$build/$t.log" || true
  grep -m2 -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$build/$t.log" || true
done
echo "fuzz: $passed passed, $failed failed"
exit $status
