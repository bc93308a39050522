#!/usr/bin/env bash
# Where a server's resident memory goes: /proc/PID/smaps summed by kind of
# mapping, idle and with N keep-alive connections open (issue 18, "Memory").
#
#   bench/mem.sh BUILD_DIR [SERVER...]
#
# BUILD_DIR is a CMake build with -DHT_BUILD_BENCH=ON (floor, conns, lobind;
# its examples give hello and ht; its backend is read from its CMakeCache).
# SERVER: floor, hello, ht (default: all three). Each is started pinned to
# CPU $SERVER_CPU on 127.0.0.1 (hello, which listens on 8080, through
# bench/lobind; ht with -b, -p 0 and -w $WORKERS, its port read from its
# log, no shim), its smaps read right after start-up ("idle", before any
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
# (1: also print every mapping with Rss > 0), R=1 (R rounds, the servers
# interleaved; each cell is the median, and VmHWM's readings follow: a
# server's RSS moves by ~100 kB from one start to the next, as ASLR moves
# the 64 KiB windows the kernel maps around each touched page of libc).
# ASLR=0 starts every server under `setarch -R`: the same layout each start,
# so the same pages are mapped and the readings repeat to the page; the
# difference between two servers is then what their own code and data add.
set -uo pipefail
NCONNS=${NCONNS:-1000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
WORKERS=${WORKERS:-1}
VERBOSE=${VERBOSE:-0}
R=${R:-1}
ASLR=${ASLR:-1}
NORAND=()
((ASLR)) || NORAND=(setarch "$(uname -m)" -R)

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
  # Emptied here, not by the redirections below: those happen in the
  # background child, after the readers below may already have looked.
  : >"$T/port"; : >"$T/log"
  case $s in
    floor) taskset -c "$SERVER_CPU" "${NORAND[@]}" "$FLOOR" -p 0 >"$T/port" 2>"$T/log" & ;;
    hello) LD_PRELOAD=$LOBIND LOBIND_PORT=0 LOBIND_PORT_FILE=$T/port \
             taskset -c "$SERVER_CPU" "${NORAND[@]}" "$B/examples/hello/hello" >"$T/log" 2>&1 & ;;
    # ht binds where it is told and says where: no shim in its address
    # space (lobind's code and the libc it uses cost ht ~100 kB of RSS).
    ht) taskset -c "$SERVER_CPU" "${NORAND[@]}" "$B/examples/ht/ht" -b 127.0.0.1 -p 0 -d "$T/www" -w "$WORKERS" \
          >"$T/log" 2>&1 & ;;
    *) die "unknown server $s" ;;
  esac
  SPID=$!
  for ((i = 0; i < 100; i++)); do
    if [[ $s == ht ]]; then PORT=$(sed -n 's|.* on http://127\.0\.0\.1:\([0-9]*\)/ .*|\1|p' "$T/log" | head -n1)
    else PORT=$(head -n1 "$T/port" 2>/dev/null); fi
    [[ -n $PORT ]] && ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q . && return 0
    sleep 0.05
  done
  die "$s did not come up: $(tail -n 5 "$T/log")"
}

# One reading of server $1: idle, then with $NCONNS connections. 1 (and
# nothing recorded) when conns could not get them all served.
measure() {
  local s=$1 k v i idle=() full=()
  start "$s"
  sleep 0.3
  ((VERBOSE)) && echo "== $s-$backend idle" >&2
  while read -r k v; do idle+=("$k $v"); done < <(breakdown "$SPID")
  : >"$T/conns.out" # else the wait below may read the last round's "ready"
  taskset -c "$CLIENT_CPU" "$CONNS" -p "$PORT" -n "$NCONNS" -r /hello.txt -t 30 >"$T/conns.out" 2>&1 &
  CPID=$!
  for ((i = 0; i < 300; i++)); do grep -q '^ready' "$T/conns.out" 2>/dev/null && break; sleep 0.1; done
  local ok=1 why=
  grep -q "^ready $NCONNS\$" "$T/conns.out" || ok=0
  ((ok)) || why="$(tr '\n' ' ' <"$T/conns.out"); server $(kill -0 "$SPID" 2>/dev/null && echo alive || echo gone) on $PORT: $(tail -n 3 "$T/log" | tr '\n' ' ')"
  if ((ok)); then
    sleep 0.3
    ((VERBOSE)) && echo "== $s-$backend with $NCONNS conns" >&2
    while read -r k v; do full+=("$k $v"); done < <(breakdown "$SPID")
  fi
  # The server first: the side that closes first keeps the TIME_WAIT, and
  # on the client's side each would hold an ephemeral port for a minute
  # (a few rounds of 1,000 would run the range dry).
  kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
  kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; CPID=
  if ((!ok)); then
    echo "mem.sh: $s: conns did not get $NCONNS connections served ($why): again" >&2
    return 1
  fi
  for i in "${idle[@]}"; do IDLE[$s.${i% *}]+="${i#* } "; done
  for i in "${full[@]}"; do FULL[$s.${i% *}]+="${i#* } "; done
}

# Each cell gathers R readings (rounds interleave the servers); the table
# shows their median. On this shared VM a round's 1,000 connections now
# and then stall (another tenant's load): such a reading is taken again.
declare -A IDLE=() FULL=()
for ((round = 0; round < R; round++)); do
  for s in "${SERVERS[@]}"; do
    tries=0
    until measure "$s"; do
      ((++tries < 3)) || die "$s: conns failed 3 times"
    done
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

printf '%-9s' "kB"
for s in "${SERVERS[@]}"; do printf ' %12s %12s' "$s-idle" "$s-$NCONNS"; done
printf '   (%s%s)\n' "$backend" "$( ((R > 1)) && echo ", median of $R")"
for k in text file-ro heap stack io_uring anon other VmHWM; do
  printf '%-9s' "$k"
  for s in "${SERVERS[@]}"; do printf ' %12s %12s' "$(median "${IDLE[$s.$k]}")" "$(median "${FULL[$s.$k]}")"; done
  printf '\n'
done
if ((R > 1)); then # the spread: the kernel maps 64 KiB around each touched
  # page of a file, and where those windows fall moves with ASLR every start
  printf '%-9s' "VmHWM all"
  for s in "${SERVERS[@]}"; do printf ' [%s] [%s]' "${IDLE[$s.VmHWM]% }" "${FULL[$s.VmHWM]% }"; done
  printf '\n'
fi
