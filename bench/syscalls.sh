#!/usr/bin/env bash
# syscalls.sh KIND BINARY [KIND BINARY ...]
# System calls (and io_uring SQEs) per request of a server under wrk: the
# kernel side of the per-core goals (BENCHMARKS.md, Server, issue 18).
# Each server is started pinned to CPU $SERVER_CPU, perf stat counts the
# tracepoints below for its PID while wrk (-t1 -c$C, pinned to $CLIENT_CPU)
# runs GET $REQ for $DUR seconds, and every count is divided by the
# requests wrk completed. The server's utime+stime over the same window
# (/proc/PID/stat) gives its CPU microseconds per request. R rounds, the
# servers in the order given each round (interleave old and new binaries
# by listing them alternately); the median per server is printed last.
#
#   KIND floor  bench/floor/floor
#   KIND hello  examples/hello/hello, with LD_PRELOAD=$LOBIND (bench/lobind;
#               unset: compiled into a temp dir)
#   KIND ht     examples/ht/ht -w 1 on a temp docroot; REQ=/hello.txt there
#   A KIND may carry a label: hello:old BINARY.
#
# Environment (defaults): R=3 DUR=3 C=64 REQ=/hello.txt SERVER_CPU=1
# CLIENT_CPU=0. Needs perf (tracepoints: root, or perf_event_paranoid <= -1),
# wrk, taskset, python3.
#
# Counted: every syscall (raw_syscalls:sys_enter), the ones a request
# path makes (epoll_wait/epoll_pwait, recvfrom, read, sendmsg, sendto,
# write, writev, epoll_ctl, io_uring_enter), io_uring SQEs submitted
# (io_uring:io_uring_submit_req), CQEs posted (io_uring_complete),
# operations that found no data and armed a poll (io_uring_poll_arm), and
# ones punted to io-wq threads (io_uring_queue_async_work).
set -uo pipefail
R=${R:-3} DUR=${DUR:-3} C=${C:-64} REQ=${REQ:-/hello.txt}
SERVER_CPU=${SERVER_CPU:-1} CLIENT_CPU=${CLIENT_CPU:-0}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLK_TCK=$(getconf CLK_TCK)
(($# >= 2 && $# % 2 == 0)) || { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
for tool in perf wrk taskset python3; do
  command -v "$tool" > /dev/null || { echo "syscalls.sh: needs $tool" >&2; exit 2; }
done
T=$(mktemp -d /tmp/syscalls.XXXXXX)
PID=
cleanup() { [[ -n $PID ]] && kill -KILL "$PID" 2> /dev/null; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z ${LOBIND:-} ]]; then
  cc -O2 -shared -fPIC -o "$T/lobind.so" "$HERE/lobind/lobind.c" -ldl || exit 2
  LOBIND=$T/lobind.so
fi
mkdir "$T/www"
printf 'hello from hachettp\n' > "$T/www/hello.txt"

EVENTS=(raw_syscalls:sys_enter syscalls:sys_enter_epoll_wait syscalls:sys_enter_epoll_pwait
  syscalls:sys_enter_recvfrom syscalls:sys_enter_read syscalls:sys_enter_sendmsg
  syscalls:sys_enter_sendto syscalls:sys_enter_write syscalls:sys_enter_writev
  syscalls:sys_enter_epoll_ctl syscalls:sys_enter_io_uring_enter io_uring:io_uring_submit_req
  io_uring:io_uring_complete io_uring:io_uring_poll_arm io_uring:io_uring_queue_async_work)
short() { local e=${1#*:}; e=${e#sys_enter_}; e=${e#io_uring_}; [[ $1 == raw_* ]] && e=all; echo "$e"; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run LABEL KIND BIN -> one line "LABEL reqs cpu_us/req name=per_req ..."
run() {
  local label=$1 kind=$2 bin=$3 port='' i
  rm -f "$T/port"
  case $kind in
    floor) taskset -c "$SERVER_CPU" "$bin" -p 0 > "$T/port" 2> "$T/log" & PID=$! ;;
    hello)
      LD_PRELOAD=$LOBIND LOBIND_PORT=0 LOBIND_PORT_FILE=$T/port \
        taskset -c "$SERVER_CPU" "$bin" > "$T/log" 2>&1 &
      PID=$! ;;
    ht)
      LD_PRELOAD=$LOBIND LOBIND_PORT=0 LOBIND_PORT_FILE=$T/port \
        taskset -c "$SERVER_CPU" "$bin" -w 1 -b 127.0.0.1 -p 0 -d "$T/www" > "$T/log" 2>&1 &
      PID=$! ;;
    *) echo "syscalls.sh: KIND is floor, hello or ht" >&2; exit 2 ;;
  esac
  for i in $(seq 100); do
    port=$(head -n 1 "$T/port" 2> /dev/null)
    [[ -n $port ]] && python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" \
      2> /dev/null && break
    port=
    sleep 0.1
  done
  [[ -n $port ]] || { echo "syscalls.sh: $label did not come up" >&2; cat "$T/log" >&2; exit 1; }
  # Warm up (connections, buffers, the ring), unmeasured.
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$C" -d1s "http://127.0.0.1:$port$REQ" > /dev/null
  local ev
  ev=$(IFS=,; echo "${EVENTS[*]}")
  perf stat -x, -e "$ev" -p "$PID" -o "$T/perf" &
  local ppid=$!
  sleep 0.3
  local t0 t1
  t0=$(cpu_ticks "$PID")
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$C" -d"${DUR}s" "http://127.0.0.1:$port$REQ" > "$T/wrk"
  t1=$(cpu_ticks "$PID")
  kill -INT "$ppid"
  wait "$ppid" 2> /dev/null
  kill -KILL "$PID"
  wait "$PID" 2> /dev/null
  PID=
  local reqs
  reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$T/wrk")
  if [[ -z $reqs || $reqs -eq 0 ]] || grep -q Non-2xx "$T/wrk"; then
    echo "syscalls.sh: no requests, or failed ones, for $label" >&2
    cat "$T/wrk" >&2
    exit 1
  fi
  local cpu line
  cpu=$(python3 -c "print(f'{($t1 - $t0) * 1e6 / $CLK_TCK / $reqs:.2f}')")
  line="$label $reqs $cpu"
  local e n
  for e in "${EVENTS[@]}"; do
    n=$(awk -F, -v e="$e" '$3 == e {print $1}' "$T/perf")
    [[ $n =~ ^[0-9]+$ ]] || n=0
    line+=" $(short "$e")=$(python3 -c "print(f'{$n / $reqs:.3f}')")"
  done
  echo "$line"
}

out=$T/all
for r in $(seq "$R"); do
  args=("$@")
  for ((i = 0; i < ${#args[@]}; i += 2)); do
    spec=${args[i]} bin=${args[i + 1]}
    kind=${spec%%:*}
    line=$(run "$spec" "$kind" "$bin") || exit 1
    echo "round $r: $line" >&2
    echo "$line" >> "$out"
  done
done
# Medians per label, fields in the order of the first line; "x first" is
# the median over rounds of the first server's CPU per request divided by
# this one's (its requests per core relative to the first's, measured
# minutes apart at most: steadier on a shared machine than a ratio of
# medians).
python3 - "$out" <<'EOF'
import statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    f = line.split()
    label = f[0]
    if label not in rows:
        rows[label] = []
        order.append(label)
    rows[label].append(f[1:])
names = ["reqs", "cpu_us", "x first"] + [kv.split("=")[0] for kv in rows[order[0]][0][2:]]
print("median of %d rounds, per request" % len(rows[order[0]]))
print(" ".join(["server".ljust(14)] + [n.rjust(9) for n in names]))
first = [float(r[1]) for r in rows[order[0]]]
for label in order:
    cols = list(zip(*rows[label]))
    ratio = statistics.median(a / float(b) for a, b in zip(first, cols[1]))
    vals = [statistics.median(float(x) for x in cols[0]), statistics.median(float(x) for x in cols[1]), ratio]
    for c in cols[2:]:
        vals.append(statistics.median(float(x.split("=")[1]) for x in c))
    cells = [f"{vals[0]:9.0f}", f"{vals[1]:9.2f}"] + [f"{v:9.3f}" for v in vals[2:]]
    print(" ".join([label.ljust(14)] + cells))
EOF
