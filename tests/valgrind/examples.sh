#!/bin/sh
# valgrind on the examples' graceful shutdown: each program is started under
#   valgrind --leak-check=full --error-exitcode=1
# in a private network namespace (hello, workers and routing bind the fixed
# port 8080 of the README; the namespace keeps them off the machine's real
# ports), answers a few requests, gets SIGINT or SIGTERM and must exit 0:
# no memory error, no definite/possible leak, and a graceful exit status.
#
#   tests/valgrind/examples.sh BUILD_DIR     (a build without sanitizers)
#
# `make valgrind` runs it on build/release-werror (epoll, -O3 -g, no sanitizers).
# epoll, because valgrind 3.19 runs io_uring_enter as a non-blocking syscall
# and holds signals until it returns: an idle io_uring loop never sees the
# SIGINT (the examples themselves shut down fine; check_server_proc tests that). Needs root or unprivileged user namespaces for `unshare -n`
# (re-executes itself inside); curl for the requests.
set -eu
B=${1:?usage: examples.sh BUILD_DIR}
SRC=$(cd "$(dirname "$0")/../.." && pwd)

if [ -z "${HT_VG_NETNS:-}" ]; then
    if unshare -n true 2>/dev/null; then
        exec env HT_VG_NETNS=1 unshare -n sh "$0" "$@"
    elif unshare -rn true 2>/dev/null; then
        exec env HT_VG_NETNS=1 unshare -rn sh "$0" "$@"
    fi
    echo "valgrind examples: no network namespace (unshare -n): skipped" >&2
    exit 77
fi
ip link set lo up

LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT
fail=0

# run NAME SIGNAL PORT PATHS... -- CMD...
run() {
    name=$1 sig=$2 port=$3
    shift 3
    paths=""
    while [ "$1" != "--" ]; do paths="$paths $1"; shift; done
    shift
    valgrind -q --leak-check=full --error-exitcode=1 --log-file="$LOG/$name.vg" "$@" \
        >"$LOG/$name.out" 2>"$LOG/$name.err" &
    pid=$!
    up=0
    for _ in $(seq 1 100); do   # valgrind starts slowly: up to ~30 s
        if curl -s -o /dev/null --max-time 0.2 "http://127.0.0.1:$port/"; then up=1; break; fi
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    if [ $up = 0 ]; then
        echo "FAIL $name: never answered on port $port"; cat "$LOG/$name.err" "$LOG/$name.vg"
        kill -KILL $pid 2>/dev/null || true
        fail=1
        return
    fi
    n=0
    for p in $paths; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port$p")
        case $code in 2??|3??|404) n=$((n + 1)) ;; *) echo "FAIL $name: $p -> $code"; fail=1 ;; esac
    done
    # a keep-alive connection left open across the signal: shutdown must close it
    curl -s -o /dev/null -o /dev/null --max-time 10 "http://127.0.0.1:$port/" "http://127.0.0.1:$port/"
    kill -"$sig" $pid
    st=0
    wait $pid || st=$?
    # valgrind's own notes ("--PID-- WARNING: unhandled syscall 437", openat2,
    # which valgrind 3.19 answers ENOSYS and ht falls back from) are not
    # errors; its error and leak reports are the "==PID==" lines.
    if [ $st != 0 ] || grep -q '^==' "$LOG/$name.vg"; then
        echo "FAIL $name: exit status $st after SIG$sig"; cat "$LOG/$name.vg" "$LOG/$name.err"
        fail=1
    else
        echo "ok   $name: $n requests, SIG$sig, exit 0, valgrind clean"
    fi
}

run hello INT 8080 / /x -- "$B/examples/hello/hello"
run workers TERM 8080 / /a /b /c -- "$B/examples/workers/workers"
run ht TERM 3000 / /index.html /app.js /style.css /nope /docs/ -- \
    "$B/examples/ht/ht" -p 3000 -w 2 -d "$SRC/examples/public"
run routing INT 8080 / /hello/valgrind /api/status "/search?q=a&tag=b" /users/42 /users/new -- \
    "$B/examples/routing/routing" -p 8080 -r "$SRC/examples/routing"
exit $fail
