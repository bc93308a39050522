#!/usr/bin/env bash
# percore.sh KIND BINARY [KIND BINARY ...]
# Server CPU per small request, A/B style: every server is started once,
# pinned to CPU $SERVER_CPU, and stays up (idle ones wait in the kernel and
# cost nothing); then for N rounds wrk (-t1 -c$C, pinned to $CLIENT_CPU)
# loads each in turn for $DUR seconds, the order rotating every round, and
# each run's server CPU comes from /proc/PID/schedstat (nanoseconds, not
# clock ticks). On a shared machine the CPU a request costs moves with what
# else runs (the client's share of its core sets the batching, neighbours
# evict caches): bench/run.sh's 3-5 s runs, minutes apart, spread 1.4-1.5x
# on the 2-core VM. Here the servers of one round run seconds apart, and
# the figure that matters is each round's ratio, CPU per request of the
# first server over this one's (= this one's requests per core relative to
# the first's), median over the rounds, with its quartiles.
#
#   KIND floor  bench/floor/floor
#   KIND hello  examples/hello/hello, with LD_PRELOAD=$LOBIND (bench/lobind;
#               unset: compiled into a temp dir)
#   KIND ht     examples/ht/ht -w 1 on a temp docroot holding hello.txt
#   KIND h2o    h2o (BINARY: its path, e.g. $(command -v h2o)), one thread,
#               the same docroot (the peer of ht's goal)
#   KIND lighttpd  lighttpd (BINARY: its path), one process, the same
#               docroot and bench/run.sh's configuration (goal 1's peer)
#   A KIND may carry a label: hello:old BINARY.
#
# Environment (defaults): N=20 DUR=1 C=64 REQ=/hello.txt SERVER_CPU=1
# CLIENT_CPU=0 WARM=1 (seconds of wrk per server before the rounds)
# OUT=FILE (also save the raw runs: "round server-index requests cpu-ns").
# Needs wrk, taskset, python3.
set -uo pipefail
N=${N:-20} DUR=${DUR:-1} C=${C:-64} REQ=${REQ:-/hello.txt} WARM=${WARM:-1}
SERVER_CPU=${SERVER_CPU:-1} CLIENT_CPU=${CLIENT_CPU:-0}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(($# >= 2 && $# % 2 == 0)) || { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
for tool in wrk taskset python3; do
  command -v "$tool" > /dev/null || { echo "percore.sh: needs $tool" >&2; exit 2; }
done
T=$(mktemp -d /tmp/percore.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -KILL "$p" 2> /dev/null
    wait "$p" 2> /dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z ${LOBIND:-} ]]; then
  cc -O2 -shared -fPIC -o "$T/lobind.so" "$HERE/lobind/lobind.c" -ldl || exit 2
  LOBIND=$T/lobind.so
fi
chmod 755 "$T" # h2o drops to nobody and must read the docroot
mkdir "$T/www"
printf 'hello from hachettp\n' > "$T/www/hello.txt"
chmod -R a+rX "$T/www"

LABELS=() PORTS=()
start() { # LABEL KIND BIN INDEX
  local label=$1 kind=$2 bin=$3 i=$4 port=''
  case $kind in
    floor) taskset -c "$SERVER_CPU" "$bin" -p 0 > "$T/port.$i" 2> "$T/log.$i" & ;;
    hello)
      LD_PRELOAD=$LOBIND LOBIND_PORT=0 LOBIND_PORT_FILE=$T/port.$i \
        taskset -c "$SERVER_CPU" "$bin" > "$T/log.$i" 2>&1 &
      ;;
    ht)
      LD_PRELOAD=$LOBIND LOBIND_PORT=0 LOBIND_PORT_FILE=$T/port.$i \
        taskset -c "$SERVER_CPU" "$bin" -w 1 -b 127.0.0.1 -p 0 -d "$T/www" > "$T/log.$i" 2>&1 &
      ;;
    h2o)
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
      printf 'listen:\n  host: 127.0.0.1\n  port: %s\nnum-threads: 1\nerror-log: %s\n' \
        "$port" "$T/log.$i" > "$T/h2o.$i.conf"
      printf 'hosts:\n  default:\n    paths:\n      /:\n        file.dir: %s\n' "$T/www" >> "$T/h2o.$i.conf"
      echo "$port" > "$T/port.$i"
      port=''
      taskset -c "$SERVER_CPU" "$bin" -c "$T/h2o.$i.conf" > /dev/null 2>&1 &
      ;;
    lighttpd)
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
      # bench/run.sh's configuration, one process (goal 1's peer)
      cat > "$T/lighttpd.$i.conf" <<EOF
server.document-root = "$T/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$T/log.$i"
server.max-fds = 8192
server.max-connections = 4096
server.max-keep-alive-requests = 1000000000
server.max-keep-alive-idle = 300
server.network-backend = "sendfile"
mimetype.assign = ( ".txt" => "text/plain" )
EOF
      echo "$port" > "$T/port.$i"
      port=''
      # its own session: lighttpd signals its process group when stopped
      taskset -c "$SERVER_CPU" setsid "$bin" -D -f "$T/lighttpd.$i.conf" > /dev/null 2>&1 &
      ;;
    *) echo "percore.sh: KIND is floor, hello, ht, h2o or lighttpd" >&2; exit 2 ;;
  esac
  PIDS+=($!)
  for _ in $(seq 100); do
    port=$(head -n 1 "$T/port.$i" 2> /dev/null)
    [[ -n $port ]] && python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" \
      2> /dev/null && break
    port=
    sleep 0.1
  done
  [[ -n $port ]] || { echo "percore.sh: $label did not come up" >&2; cat "$T/log.$i" >&2; exit 1; }
  LABELS+=("$label")
  PORTS+=("$port")
}

args=("$@")
for ((i = 0; i < ${#args[@]}; i += 2)); do
  spec=${args[i]}
  start "$spec" "${spec%%:*}" "${args[i + 1]}" $((i / 2))
done
S=${#LABELS[@]}
for ((i = 0; i < S; i++)); do
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$C" -d"${WARM}s" "http://127.0.0.1:${PORTS[i]}$REQ" > /dev/null
done

cpu_ns() { # PID: every thread's time on a CPU so far
  local f sum=0 t
  for f in /proc/"$1"/task/*/schedstat; do
    read -r t _ < "$f" && sum=$((sum + t))
  done
  echo "$sum"
}

out=$T/all
for ((r = 0; r < N; r++)); do
  for ((j = 0; j < S; j++)); do
    i=$(((r + j) % S))
    pid=${PIDS[i]}
    a=$(cpu_ns "$pid")
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$C" -d"${DUR}s" "http://127.0.0.1:${PORTS[i]}$REQ" > "$T/wrk"
    b=$(cpu_ns "$pid")
    reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$T/wrk")
    if [[ -z $reqs || $reqs -eq 0 ]] || grep -q Non-2xx "$T/wrk"; then
      echo "percore.sh: no requests, or failed ones, for ${LABELS[i]}" >&2
      cat "$T/wrk" >&2
      exit 1
    fi
    echo "$r $i $reqs $((b - a))" >> "$out"
    echo "round $((r + 1)): ${LABELS[i]} $reqs requests, $(((b - a) / reqs)) ns CPU each" >&2
  done
done
[[ -n ${OUT:-} ]] && cp "$out" "$OUT"
python3 - "$out" "$DUR" "${LABELS[@]}" <<'EOF'
import statistics, sys
dur = float(sys.argv[2])
labels = sys.argv[3:]
per = {}  # (round, server) -> (requests, ns per request)
for line in open(sys.argv[1]):
    r, i, reqs, ns = map(int, line.split())
    per[(r, i)] = (reqs, ns / reqs)
rounds = sorted({r for r, _ in per})
def q(xs):
    xs = sorted(xs)
    if len(xs) < 4:
        return xs[0], statistics.median(xs), xs[-1]
    a, m, b = statistics.quantiles(xs, n=4)
    return a, m, b
print(f"{len(rounds)} rounds; per server: median req/s, median CPU us per request, and the")
print("per-round ratio first/this of CPU per request (this one's requests per core relative")
print("to the first's): median [lower quartile, upper quartile]")
for i, name in enumerate(labels):
    rate = statistics.median(per[(r, i)][0] for r in rounds)
    us = statistics.median(per[(r, i)][1] for r in rounds) / 1000
    lo, med, hi = q([per[(r, 0)][1] / per[(r, i)][1] for r in rounds])
    print(f"{name:16s} {rate / dur:9.0f} req/s {us:7.2f} us  x first {med:.3f} [{lo:.3f}, {hi:.3f}]")
EOF
