#!/bin/sh
# Soak, both backends, Release: builds tests/hostile/hostile_server for
# io_uring and epoll (build/soak-<backend>) and runs soak.py against each
# with 4 workers. Not in CI. SECONDS_PER_BACKEND (default 180) and extra
# soak.py flags (--procs, --conns, ...) pass through:
#
#   bench/soak/run.sh                      3 minutes per backend
#   SOAK_SECONDS=600 bench/soak/run.sh --procs 4
#
# Exit status: non-zero if either run fails (unexpected errors, RSS growth
# after warm-up, descriptors not back to baseline).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SECS=${SOAK_SECONDS:-180}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
fail=0
for backend in iouring epoll; do
    uring=ON; [ $backend = epoll ] && uring=OFF
    cmake -S . -B "$BUILD/soak-$backend" -DCMAKE_BUILD_TYPE=Release -DHT_IO_URING=$uring \
          -DHT_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build "$BUILD/soak-$backend" -j "$JOBS" --target hostile_server >/dev/null
    echo "== $backend ($(uname -r), $(nproc) cores), $SECS s"
    python3 bench/soak/soak.py "$BUILD/soak-$backend/tests/hostile/hostile_server" \
            --seconds "$SECS" --workers 4 "$@" || fail=1
done
exit $fail
