#!/usr/bin/env bash
# Deferred responses under load (issue 13's goals 3-5; BENCHMARKS.md,
# "Deferred responses and streams"). Builds nothing:
#
#   bench/defer/run.sh BUILD_DIR
#
# BUILD_DIR holds defer_server (bench/defer/defer_server of a
# -DHT_BUILD_BENCH=ON build, or the top of a standalone build of
# bench/defer, see its CMakeLists.txt). Each round runs every test below
# on a fresh server (defer_server -c, pinned to CPU $SERVER_CPU; the
# Python client on $CLIENT_CPU), in turn; the table gives each figure per
# round and the median.
#
#   sse       $STREAMS concurrent GET /sse (one event a second, heartbeat
#             15 s), held $HOLD s: server VmRSS idle, with the streams, per
#             stream; goal <= 40 MiB with 10,000
#   upload    POST /upload of $UPLOAD bytes, Content-Length, then (fresh
#             server) chunked: growth of the server's VmRSS peak; goal <= 2 MiB
#   slow      $SLOW concurrent GET /slow?ms=$SLOW_MS, and GET / meanwhile:
#             the last completion (goal < 1.5 s) and the GET / latency
#             (median of the probes, goal < 10 ms)
#
# Environment (defaults): R=3 STREAMS=10000 HOLD=3 UPLOAD=1073741824
# SLOW=1000 SLOW_MS=500 SERVER_CPU=1 CLIENT_CPU=0 TESTS=sse,upload,slow
# The shell's open-file limit is raised to what it allows (STREAMS needs
# STREAMS + a few in each process).
set -uo pipefail

[[ $# -eq 1 ]] || { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
B=$1
R=${R:-3} STREAMS=${STREAMS:-10000} HOLD=${HOLD:-3} UPLOAD=${UPLOAD:-1073741824}
SLOW=${SLOW:-1000} SLOW_MS=${SLOW_MS:-500} SERVER_CPU=${SERVER_CPU:-1} CLIENT_CPU=${CLIENT_CPU:-0}
TESTS=${TESTS:-sse,upload,slow}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRV=
for f in "$B/bench/defer/defer_server" "$B/defer_server"; do [[ -x $f ]] && SRV=$f && break; done
[[ -n $SRV ]] || { echo "run.sh: no defer_server in $B" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2> /dev/null
if (( $(ulimit -n) < STREAMS + 64 )); then
  echo "run.sh: open-file limit $(ulimit -n) is below STREAMS=$STREAMS + 64" >&2
  exit 2
fi
PIN_S=() PIN_C=()
if command -v taskset > /dev/null && (( $(nproc) > 1 )); then
  PIN_S=(taskset -c "$SERVER_CPU") PIN_C=(taskset -c "$CLIENT_CPU")
fi
T=$(mktemp -d /tmp/defer-run.XXXXXX)
PID=
stop() {
  [[ -n $PID ]] || return 0
  kill -INT "$PID" 2> /dev/null
  for _ in $(seq 100); do kill -0 "$PID" 2> /dev/null || break; sleep 0.1; done
  kill -KILL "$PID" 2> /dev/null
  wait "$PID" 2> /dev/null
  PID=
}
trap 'stop; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

start() {
  "${PIN_S[@]}" "$SRV" -c 0 > "$T/port" 2> "$T/server.err" &
  PID=$!
  PORT=
  for _ in $(seq 100); do
    PORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$T/port" 2> /dev/null)
    [[ -n $PORT ]] && return 0
    sleep 0.05
  done
  echo "run.sh: defer_server did not start" >&2
  cat "$T/server.err" >&2
  exit 1
}
client() { "${PIN_C[@]}" python3 "$HERE/defer_client.py" "$@"; }
# field KEY LINE -> the value of KEY=... in LINE
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<< "$2"; }

declare -A V # V[figure,round]
for r in $(seq "$R"); do
  for t in ${TESTS//,/ }; do
    case $t in
      sse)
        start
        l=$(client sse "$PORT" "$PID" --streams "$STREAMS" --hold "$HOLD") || echo "run.sh: sse round $r failed: $l" >&2
        stop
        V[sse_idle,$r]=$(python3 -c "print(f'{$(field rss_idle_kb "$l")/1024:.2f}')")
        V[sse_rss,$r]=$(python3 -c "print(f'{$(field rss_streams_kb "$l")/1024:.2f}')")
        V[sse_hwm,$r]=$(python3 -c "print(f'{$(field hwm_streams_kb "$l")/1024:.2f}')")
        V[sse_per,$r]=$(field per_stream_b "$l")
        V[sse_alloc,$r]=$(python3 -c "print(f'{$(field alloc_live_b "$l")/$STREAMS:.0f}')")
        V[sse_n,$r]=$(field streams "$l") ;;
      upload)
        for fr in length chunked; do
          start
          l=$(client upload "$PORT" "$PID" --bytes "$UPLOAD" --framing $fr) || echo "run.sh: upload $fr round $r failed: $l" >&2
          stop
          V[up_$fr,$r]=$(python3 -c "print(f'{$(field growth_kb "$l")/1024:.2f}')")
          V[up_${fr}_ok,$r]=$(field ok "$l")
          V[up_${fr}_gbs,$r]=$(python3 -c "print(f'{$UPLOAD/$(field secs "$l")/1e9:.2f}')")
        done ;;
      slow)
        start
        l=$(client slow "$PORT" --conns "$SLOW" --ms "$SLOW_MS") || echo "run.sh: slow round $r failed: $l" >&2
        stop
        V[slow_max,$r]=$(field max_ms "$l")
        V[slow_probe,$r]=$(field probe_median_ms "$l")
        V[slow_probe_max,$r]=$(field probe_max_ms "$l")
        V[slow_ok,$r]=$(field ok "$l") ;;
    esac
  done
done

row() { # figure label goal
  local vals=() v
  for r in $(seq "$R"); do vals+=("${V[$1,$r]:-nan}"); done
  v=$(python3 -c "import statistics,sys; x=[float(a) for a in sys.argv[1:]]; print(statistics.median(x))" "${vals[@]}")
  printf '| %s | %s | %s | %s |\n' "$2" "${vals[*]}" "$v" "$3"
}
echo
echo "defer_server: $SRV ($(sed -n 's/^HT_IO_URING:BOOL=//p' "$B/CMakeCache.txt" 2> /dev/null | sed 's/ON/io_uring/; s/OFF/epoll/'))"
echo
echo "| figure | per round | median | goal |"
echo "|---|---|---|---|"
case $TESTS in *sse*)
  row sse_n "SSE streams open (of $STREAMS)" "-"
  row sse_idle "RSS idle, MiB" "-"
  row sse_rss "RSS with the streams, MiB" "<= 40"
  row sse_hwm "VmHWM with the streams, MiB" "-"
  row sse_per "RSS per stream, bytes" "<= 4096"
  row sse_alloc "allocator bytes live per stream" "-" ;;
esac
case $TESTS in *upload*)
  row up_length "upload $UPLOAD B, Content-Length: RSS growth, MiB" "<= 2"
  row up_length_gbs "  (GB/s)" "-"
  row up_chunked "upload $UPLOAD B, chunked: RSS growth, MiB" "<= 2"
  row up_chunked_gbs "  (GB/s)" "-" ;;
esac
case $TESTS in *slow*)
  row slow_ok "GET /slow?ms=$SLOW_MS answered 200 (of $SLOW)" "-"
  row slow_max "last of $SLOW /slow completes, ms" "< 1500"
  row slow_probe "GET / meanwhile, median ms" "< 10"
  row slow_probe_max "GET / meanwhile, max ms" "-" ;;
esac
