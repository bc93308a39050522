#!/usr/bin/env bash
# insn.sh KIND BINARY PATH [N1] [N2]
# User-space instructions per request of a hachettp server process, under
# callgrind: one keep-alive connection, PATH requested N1 times in one run
# and N2 times in another (each response read whole before the next
# request: bench/defer/defer_client.py ka), then
#     (Ir(N2) - Ir(N1)) / (N2 - N1)
# so start-up and the connection cancel out (the count is dumped after the
# last response; shutdown is not run). Defaults N1=1000,
# N2=3000 (the method of BENCHMARKS.md, "Small-file instructions per
# request"). Every thread of the process is counted; the kernel is not.
#
#   KIND defer  BINARY is bench/defer/defer_server (prints its port)
#   KIND hello  BINARY is examples/hello/hello (binds :8080): run with
#               LD_PRELOAD=$LOBIND (bench/lobind: 127.0.0.1, a free port);
#               LOBIND unset: lobind.c is compiled into a temp dir
#   KIND floor  BINARY is bench/floor/floor (no parsing: the per-core goals'
#               reference; PATH is ignored by it)
#   KIND ht     BINARY is examples/ht/ht: -w 1 -b 127.0.0.1 -d $HT_DIR
#               (HT_DIR unset: a temp dir with f.txt, 2,700 bytes: PATH /f.txt)
#               and $HT_ARGS (e.g. HT_ARGS="--access-log /tmp/a.log")
#
# KA_HEADERS="Name: value|Name: value" adds fields to every request
# (bench/defer/defer_client.py ka), e.g. a browser's.
# R=3 (runs of each N, alternated; the median difference is printed, with
# every run's on stderr). KEEP=DIR keeps each run's callgrind file there
# (KIND.N.RUN) for callgrind_annotate's per-function diffs. Needs valgrind (callgrind_control), python3.
# Both backends run under valgrind 3.19.
set -uo pipefail
KIND=$1 BIN=$2 REQ=$3
N1=${4:-1000} N2=${5:-3000} R=${R:-3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T=$(mktemp -d /tmp/insn.XXXXXX)
PID=
cleanup() { [[ -n $PID ]] && kill -KILL "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $KIND == hello && -z ${LOBIND:-} ]]; then
  cc -O2 -shared -fPIC -o "$T/lobind.so" "$HERE/../lobind/lobind.c" -ldl || exit 2
  LOBIND=$T/lobind.so
fi
if [[ $KIND == ht && -z ${HT_DIR:-} ]]; then
  mkdir "$T/docroot"
  python3 -c 'import sys; sys.stdout.write(("0123456789abcdefghijklmnopqrstuvwxyz" * 80)[:2699] + "\n")' \
    > "$T/docroot/f.txt"
  HT_DIR=$T/docroot
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ir N -> total Ir of a server run that answered N requests
ir() {
  local n=$1 port= out=$T/cg.$1 log=$T/log
  rm -f "$out" "$T/port"
  case $KIND in
    defer)
      valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" 0 > "$T/port" 2> "$log" &
      PID=$! ;;
    hello)
      LD_PRELOAD=$LOBIND LOBIND_PORT=0 LOBIND_PORT_FILE=$T/port \
        valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" > /dev/null 2> "$log" &
      PID=$! ;;
    ht)
      port=$(free_port)
      # shellcheck disable=SC2086 # HT_ARGS: more ht flags, split on spaces
      valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" -w 1 -b 127.0.0.1 -p "$port" \
        -d "$HT_DIR" ${HT_ARGS:-} > /dev/null 2> "$log" &
      PID=$! ;;
    floor)
      valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" -p 0 > "$T/port" 2> "$log" &
      PID=$! ;;
    *) echo "insn.sh: KIND is defer, hello, floor or ht" >&2; exit 2 ;;
  esac
  for _ in $(seq 300); do
    case $KIND in
      defer) port=$(sed -n 's/^port \([0-9]*\)/\1/p' "$T/port" 2>/dev/null) ;;
      hello | floor) port=$(head -n 1 "$T/port" 2>/dev/null) ;;
    esac
    [[ -n $port ]] && python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1)" \
      2> /dev/null && break
    sleep 0.1
  done
  python3 "$HERE/defer_client.py" ka "$port" "$REQ" "$n" > /dev/null || { echo "insn.sh: client failed" >&2; exit 1; }
  # The count so far, dumped on request (callgrind_control -d, through
  # vgdb), then the process is killed: shutdown is not counted. A SIGINT
  # would not do under valgrind 3.19 with io_uring: it runs a handler only
  # while the process is in a syscall it knows may block, and
  # io_uring_enter is not one (the signal stays pending for ever).
  callgrind_control -d "$PID" > /dev/null 2>&1 || { echo "insn.sh: callgrind_control failed" >&2; exit 1; }
  kill -KILL "$PID"
  wait "$PID" 2> /dev/null
  PID=
  out=$out.1
  [[ -n ${KEEP:-} ]] && cp "$out" "$KEEP/$KIND.$n.$RUN"
  sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$out" | head -n 1
}

diffs=()
for r in $(seq "$R"); do
  RUN=$r
  a=$(ir "$N1") b=$(ir "$N2")
  d=$(python3 -c "print(f'{($b - $a) / ($N2 - $N1):.1f}')")
  echo "insn.sh: $KIND $REQ run $r: Ir($N1)=$a Ir($N2)=$b -> $d per request" >&2
  diffs+=("$d")
done
python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "${diffs[@]}"
