#!/usr/bin/env bash
# Where a server's resident memory goes: /proc/PID/smaps summed by kind of
# mapping, idle and with N keep-alive connections open (issue 18, "Memory").
#
#   bench/mem.sh BUILD_DIR [SERVER...]
#
# BUILD_DIR is a CMake build with -DHT_BUILD_BENCH=ON (floor, conns, lobind;
# its examples give hello and ht; its backend is read from its CMakeCache).
# SERVER: floor, hello, ht (default: all three). Each is started pinned to
# CPU $SERVER_CPU on 127.0.0.1 (hello through bench/lobind, ht with -w
# $WORKERS), its smaps read right after start-up ("idle", before any
# request), then bench/conns opens $NCONNS connections, each served
# `GET /hello.txt` once, and smaps is read again ("N conns") while they are
# held. Rows (kB of Rss; the last column is VmHWM, the figure bench/run.sh
# and BENCHMARKS.md call RSS):
#   text      executable file mappings (the program, libc, ld.so: pages of
#             the page cache, shared with every process that maps them;
#             the kernel's fault-around maps 64 KiB around each touched page)
#   file-ro   the rest of those files (rodata, relro, data)
#   heap      [heap] (malloc's main arena)
#   stack     [stack] (the main thread)
#   io_uring  the rings and SQE arrays of io_uring instances
#   anon      other anonymous mappings: worker thread stacks (8 MiB
#             reservations, a few pages touched), malloc's per-thread arenas,
#             large malloc'd blocks and buffer pools (mmap'd)
#   other     vdso, vvar, ...
# Environment: NCONNS=1000 SERVER_CPU=1 CLIENT_CPU=0 WORKERS=1 VERBOSE=0
# (1: also print every mapping with Rss > 0).
set -uo pipefail
NCONNS=${NCONNS:-1000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
WORKERS=${WORKERS:-1}
VERBOSE=${VERBOSE:-0}

die() { printf 'mem.sh: %s\n' "$*" >&2; exit 2; }
[[ $# -ge 1 && -d $1 ]] || die "usage: bench/mem.sh BUILD_DIR [floor|hello|ht ...]"
B=$(cd "$1" && pwd)
shift
SERVERS=("$@")
((${#SERVERS[@]})) || SERVERS=(floor hello ht)
FLOOR=$B/bench/floor/floor CONNS=$B/bench/conns/conns LOBIND=$B/bench/lobind/liblobind.so
for f in "$FLOOR" "$CONNS" "$LOBIND"; do [[ -e $f ]] || die "no $f (build with -DHT_BUILD_BENCH=ON)"; done
backend=iouring
grep -q '^HT_IO_URING:BOOL=OFF' "$B/CMakeCache.txt" 2>/dev/null && backend=epoll

T=$(mktemp -d "${TMPDIR:-/tmp}/ht-mem.XXXXXX") || die mktemp
mkdir -p "$T/www"
printf 'hello from hachettp\n' >"$T/www/hello.txt"
SPID='' CPID=''
cleanup() {
  [[ -n $CPID ]] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
  [[ -n $SPID ]] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# smaps of PID -> "kind kB" lines, then "hwm kB"
breakdown() {
  awk '
    /^[0-9a-f]+-[0-9a-f]+ / {
      perm = $2; name = ""; for (i = 6; i <= NF; i++) name = name (i > 6 ? " " : "") $i
      if (name ~ /io_uring/) kind = "io_uring"
      else if (name == "[heap]") kind = "heap"
      else if (name == "[stack]") kind = "stack"
      else if (name ~ /^\[/) kind = "other"
      else if (name == "") kind = "anon"
      else if (perm ~ /x/) kind = "text"
      else kind = "file-ro"
      next
    }
    /^Rss:/ { sum[kind] += $2; if (verbose && $2 > 0) printf "    %6d kB  %s %s\n", $2, perm, name > "/dev/stderr" }
    END { n = split("text file-ro heap stack io_uring anon other", k, " ")
          for (i = 1; i <= n; i++) printf "%s %d\n", k[i], sum[k[i]] }
  ' verbose="$VERBOSE" "/proc/$1/smaps"
  awk '$1 == "VmHWM:" {print "VmHWM", $2}' "/proc/$1/status"
}

start() { # NAME -> SPID, PORT
  local s=$1 i
  : >"$T/port"
  case $s in
    floor) taskset -c "$SERVER_CPU" "$FLOOR" -p 0 >"$T/port" 2>"$T/log" & ;;
    hello) LD_PRELOAD=$LOBIND LOBIND_PORT=0 LOBIND_PORT_FILE=$T/port \
             taskset -c "$SERVER_CPU" "$B/examples/hello/hello" >"$T/log" 2>&1 & ;;
    ht) LD_PRELOAD=$LOBIND LOBIND_PORT=0 LOBIND_PORT_FILE=$T/port \
          taskset -c "$SERVER_CPU" "$B/examples/ht/ht" -b 127.0.0.1 -p 0 -d "$T/www" -w "$WORKERS" \
          >"$T/log" 2>&1 & ;;
    *) die "unknown server $s" ;;
  esac
  SPID=$!
  for ((i = 0; i < 100; i++)); do
    PORT=$(head -n1 "$T/port" 2>/dev/null)
    [[ -n $PORT ]] && ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q . && return 0
    sleep 0.05
  done
  die "$s did not come up: $(tail -n 5 "$T/log")"
}

declare -A IDLE=() FULL=()
for s in "${SERVERS[@]}"; do
  start "$s"
  sleep 0.3
  ((VERBOSE)) && echo "== $s-$backend idle" >&2
  while read -r k v; do IDLE[$s.$k]=$v; done < <(breakdown "$SPID")
  taskset -c "$CLIENT_CPU" "$CONNS" -p "$PORT" -n "$NCONNS" -r /hello.txt -t 30 >"$T/conns.out" 2>&1 &
  CPID=$!
  for ((i = 0; i < 300; i++)); do grep -q '^ready' "$T/conns.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ready' "$T/conns.out" || die "$s: conns never got ready: $(cat "$T/conns.out")"
  sleep 0.3
  ((VERBOSE)) && echo "== $s-$backend with $NCONNS conns" >&2
  while read -r k v; do FULL[$s.$k]=$v; done < <(breakdown "$SPID")
  kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; CPID=
  kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
done

printf '%-9s' "kB"
for s in "${SERVERS[@]}"; do printf ' %12s %12s' "$s-idle" "$s-$NCONNS"; done
printf '   (%s)\n' "$backend"
for k in text file-ro heap stack io_uring anon other VmHWM; do
  printf '%-9s' "$k"
  for s in "${SERVERS[@]}"; do printf ' %12s %12s' "${IDLE[$s.$k]}" "${FULL[$s.$k]}"; done
  printf '\n'
done
