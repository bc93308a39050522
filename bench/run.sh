#!/usr/bin/env bash
# Server benchmark: hachettp (both backends) side by side with a no-parse
# floor server, nginx, lighttpd and h2o, on this machine, in one run.
#
#   bench/run.sh BUILD_DIR [BUILD_DIR...]        (`make bench` passes both backends)
#
# Each BUILD_DIR is a CMake build of this repository with -DHT_BUILD_BENCH=ON;
# its backend (iouring/epoll) is read from its CMakeCache. The floor server,
# the connection holder and the loopback shim come from the first one that
# has them; hachettp's programs from each one where they exist:
#   hello-<backend>  examples/hello/hello  (small response, pipelined)
#   ht-<backend>     examples/ht/ht (or bin/ht, runtime/ht)  (static files)
# Override a binary with HACHETTP_HELLO_IOURING, HACHETTP_HELLO_EPOLL,
# HACHETTP_HT_IOURING, HACHETTP_HT_EPOLL (paths). Missing ones are skipped.
#
# hello is the README's program verbatim and listens on :8080, all
# addresses. Benchmarks listen on 127.0.0.1 only, on ports they choose, so
# hachettp programs run with bench/lobind (LD_PRELOAD), which rewrites their
# bind() to 127.0.0.1 and a kernel-chosen port; every server's listening
# sockets are then checked with ss(8) and a server on any other address is
# stopped and skipped.
#
# Method (see BENCHMARKS.md): every server pinned to CPU(s) $SERVER_CPU, wrk
# ($WRK_T threads) and the connection holder to CPU(s) $CLIENT_CPU. R rounds; each round
# starts every server fresh, reads its idle peak RSS (before any request),
# then its peak RSS with $NCONNS keep-alive connections open (each served one
# request), then runs
# every test on every server in turn (server order rotates each round), then
# reads the peak RSS after all that load. Per run: req/s (or GB/s) from wrk,
# and server CPU (utime+stime of its processes from /proc/PID/stat) to give
# requests (or bytes) per server-core-second. The table shows per-server
# medians over the rounds, each with its ratios to the floor and to h2o.
# Memory and CPU count every process that holds the listening socket
# (nginx: master + worker; h2o: not its perl crash-handler helper).
#
# Tests (TESTS, comma list):
#   small    GET /hello.txt, c=$C_SMALL: hello/floor answer from code, the
#            others serve the same 20-byte static file
#   pipe     the same with $DEPTH-deep pipelining (bench/pipeline.lua)
#   file10m  GET /big.bin (10 MiB) at c=$C_FILE: file servers only
#
# Environment (defaults): R=5 DUR=5 (seconds per run) WARM=1 (unmeasured
# seconds before each run) NCONNS=1000 C_SMALL=64 C_FILE=8 DEPTH=16
# SERVER_CPU=1 CLIENT_CPU=0 WRK_T=1 TESTS=small,pipe,file10m WORKERS=1
# CLIENT_CPU may be a taskset(1) CPU list (e.g. 4-7) with WRK_T wrk threads
# (at most C_FILE), so on a many-core host the client is not the bottleneck.
# WORKERS=N runs the multi-worker servers with N workers (nginx
# worker_processes, lighttpd server.max-worker, h2o num-threads, ht -w), with
# SERVER_CPU a list of N CPUs (e.g. 0-3); hello (single-threaded, the
# README's program) runs only when WORKERS=1; the floor is single-threaded
# whatever WORKERS says. bench/cores.sh drives this for N = 1, 4, 8.
# SERVERS=floor,hello-iouring,hello-epoll,ht-iouring,ht-epoll,nginx,lighttpd,h2o
# OUT=FILE (also save the raw per-run results) KEEP=1 (keep the temp dir).
# Ctrl-C stops everything it started (by PID) and removes the temp dir.
set -uo pipefail

R=${R:-5}
DUR=${DUR:-5}
WARM=${WARM:-1}
NCONNS=${NCONNS:-1000}
C_SMALL=${C_SMALL:-64}
C_FILE=${C_FILE:-8}
DEPTH=${DEPTH:-16}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
WRK_T=${WRK_T:-1}
TESTS=${TESTS:-small,pipe,file10m}
WORKERS=${WORKERS:-1}
SERVERS=${SERVERS:-floor,hello-iouring,hello-epoll,ht-iouring,ht-epoll,nginx,lighttpd,h2o}
OUT=${OUT:-}
KEEP=${KEEP:-0}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh" # running, stop_pid, cpu_ticks, nginx_conf
CLK_TCK=$(getconf CLK_TCK)

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 2; }

usage() {
  sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
case $1 in -h | --help) usage ;; esac
for v in R DUR WARM NCONNS C_SMALL C_FILE DEPTH WRK_T WORKERS; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, got '${!v}'"
done
((R >= 1 && DUR >= 1 && WORKERS >= 1)) || die "R, DUR and WORKERS must be at least 1"
((WRK_T >= 1 && WRK_T <= C_FILE && WRK_T <= C_SMALL)) || die "WRK_T must be 1..min(C_FILE, C_SMALL)"
cpu_list() { # NAME LIST -> the CPUs of a taskset(1) list, one per line
  [[ $2 =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] || die "$1 must be a CPU list, got '$2'"
  local parts p lo hi c
  IFS=, read -ra parts <<<"$2"
  for p in "${parts[@]}"; do
    lo=${p%-*} hi=${p#*-}
    for ((c = lo; c <= hi; c++)); do echo "$c"; done
  done
}
ncpu=$(nproc)
mapfile -t client_cpus < <(cpu_list CLIENT_CPU "$CLIENT_CPU")
mapfile -t server_cpus < <(cpu_list SERVER_CPU "$SERVER_CPU")
((${#client_cpus[@]} && ${#server_cpus[@]})) || die "bad CPU list"
for _c in "${server_cpus[@]}"; do
  ((_c < ncpu)) || die "SERVER_CPU $_c must be below the CPU count ($ncpu)"
done
((${#server_cpus[@]} >= WORKERS)) || say "WARNING: $WORKERS workers on ${#server_cpus[@]} server CPU(s)"
for _c in "${client_cpus[@]}"; do
  ((_c < ncpu)) || die "CLIENT_CPU $_c must be below the CPU count ($ncpu)"
  [[ " ${server_cpus[*]} " != *" $_c "* ]] || say "WARNING: server and client share CPU $_c"
done
for tool in wrk taskset setsid ss curl getconf timeout; do
  command -v "$tool" >/dev/null || die "needs $tool (make bench-deps)"
done

# ---- binaries ---------------------------------------------------------------
FLOOR=${FLOOR:-} CONNS=${CONNS:-} LOBIND=${LOBIND:-}
declare -A BIN=() BUILDTYPE=()
for dir in "$@"; do
  [[ -d $dir ]] || die "no build dir $dir"
  dir=$(cd "$dir" && pwd)
  [[ -z $FLOOR && -x $dir/bench/floor/floor ]] && FLOOR=$dir/bench/floor/floor
  [[ -z $CONNS && -x $dir/bench/conns/conns ]] && CONNS=$dir/bench/conns/conns
  [[ -z $LOBIND && -f $dir/bench/lobind/liblobind.so ]] && LOBIND=$dir/bench/lobind/liblobind.so
  backend=iouring
  grep -q '^HT_IO_URING:BOOL=OFF' "$dir/CMakeCache.txt" 2>/dev/null && backend=epoll
  btype=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$dir/CMakeCache.txt" 2>/dev/null)
  [[ -x $dir/examples/hello/hello ]] && BIN[hello-$backend]=$dir/examples/hello/hello &&
    BUILDTYPE[hello-$backend]=$btype
  for cand in examples/ht/ht bin/ht runtime/ht; do
    if [[ -x $dir/$cand ]]; then
      BIN[ht-$backend]=$dir/$cand BUILDTYPE[ht-$backend]=$btype
      break
    fi
  done
done
[[ -n ${HACHETTP_HELLO_IOURING:-} ]] && BIN[hello-iouring]=$HACHETTP_HELLO_IOURING
[[ -n ${HACHETTP_HELLO_EPOLL:-} ]] && BIN[hello-epoll]=$HACHETTP_HELLO_EPOLL
[[ -n ${HACHETTP_HT_IOURING:-} ]] && BIN[ht-iouring]=$HACHETTP_HT_IOURING
[[ -n ${HACHETTP_HT_EPOLL:-} ]] && BIN[ht-epoll]=$HACHETTP_HT_EPOLL
[[ -x $FLOOR ]] || die "no floor server (build with -DHT_BUILD_BENCH=ON)"
[[ -x $CONNS ]] || die "no conns tool (build with -DHT_BUILD_BENCH=ON)"
[[ -f $LOBIND ]] || die "no liblobind.so (build with -DHT_BUILD_BENCH=ON)"

# Which servers run which tests.
declare -A CAN=()
for s in floor hello-iouring hello-epoll; do CAN[$s]="small pipe"; done
for s in ht-iouring ht-epoll nginx lighttpd h2o; do CAN[$s]="small pipe file10m"; done

LIST=()
IFS=, read -ra want <<<"$SERVERS"
for s in "${want[@]}"; do
  case $s in
    floor) LIST+=(floor) ;;
    hello-* | ht-*)
      if [[ $s == hello-* ]] && ((WORKERS > 1)); then
        say "skip $s: hello is single-threaded (WORKERS=$WORKERS)"
      elif [[ -n ${BIN[$s]:-} ]]; then
        [[ -x ${BIN[$s]} ]] || die "$s: ${BIN[$s]} is not executable"
        LIST+=("$s")
      else
        say "skip $s: no binary in the build dirs (or HACHETTP_* env)"
      fi
      ;;
    nginx | lighttpd | h2o)
      if command -v "$s" >/dev/null; then LIST+=("$s"); else say "skip $s: not installed"; fi
      ;;
    *) die "unknown server '$s'" ;;
  esac
done
((${#LIST[@]} > 0)) || die "no server to run"
IFS=, read -ra TLIST <<<"$TESTS"
for t in "${TLIST[@]}"; do
  case $t in small | pipe | file10m) ;; *) die "unknown test '$t'" ;; esac
done

# Debian's package install may have started the peers system-wide: they would
# share the server core. Say so; this script only stops what it started.
for p in nginx lighttpd h2o; do
  if pgrep -x "$p" >/dev/null; then
    say "WARNING: a $p not started by this script is running (pids $(pgrep -x "$p" | tr '\n' ' '))"
  fi
done

# ---- temp dir, cleanup -------------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/ht-bench.XXXXXX") || die "mktemp"
chmod 755 "$T" # h2o drops to nobody and must read the docroot
declare -A PID=() PORT=() SPIDS=() IDLE=()
CONNS_PID=

stop_server() {
  local s=$1 p i left
  [[ -n ${PID[$s]:-} ]] || return 0
  local kids
  kids=$(ps -o pid= --ppid "${PID[$s]}" 2>/dev/null | tr '\n' ' ')
  stop_pid "${PID[$s]}"
  # Its other processes (nginx's worker, h2o's crash-handler helper) end with
  # it; give them a second, then stop any left, by PID.
  for ((i = 0; i < 10; i++)); do
    left=
    for p in ${SPIDS[$s]:-} $kids; do
      [[ $p != "${PID[$s]}" && -e /proc/$p ]] && left+=" $p"
    done
    [[ -z $left ]] && break
    sleep 0.1
  done
  for p in $left; do kill -KILL "$p" 2>/dev/null; done
  unset "PID[$s]" "PORT[$s]" "SPIDS[$s]"
}

cleanup() {
  trap - EXIT INT TERM
  [[ -n $CONNS_PID ]] && stop_pid "$CONNS_PID"
  local s
  for s in "${!PID[@]}"; do stop_server "$s"; done
  if [[ $KEEP == 1 ]]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# ---- docroot and peer configs ------------------------------------------------
mkdir -p "$T/www"
printf 'hello from hachettp\n' >"$T/www/hello.txt"
head -c $((10 * 1024 * 1024)) /dev/urandom >"$T/www/big.bin"
chmod -R a+rX "$T/www"
BIG_SIZE=$((10 * 1024 * 1024))

conf_nginx() { # PORT -> config path (nginx_conf, bench/lib.sh)
  local d=$T/nginx.$1
  nginx_conf "$d" "$1" "$WORKERS" "$T/www"
  echo "$d"
}

conf_lighttpd() {
  local d=$T/lighttpd.$1
  mkdir -p "$d"
  cat >"$d/lighttpd.conf" <<EOF
server.document-root = "$T/www"
server.bind = "127.0.0.1"
server.port = $1
server.errorlog = "$d/error.log"
server.max-worker = $((WORKERS > 1 ? WORKERS : 0))
server.max-fds = 8192
server.max-connections = 4096
server.listen-backlog = 4096
server.max-keep-alive-requests = 1000000000
server.max-keep-alive-idle = 300
server.network-backend = "sendfile"
mimetype.assign = ( ".txt" => "text/plain", ".bin" => "application/octet-stream" )
EOF
  echo "$d"
}

conf_h2o() {
  local d=$T/h2o.$1
  mkdir -p "$d"
  # No access-log directive: h2o writes none unless told to.
  cat >"$d/h2o.conf" <<EOF
listen:
  host: 127.0.0.1
  port: $1
num-threads: $WORKERS
max-connections: 4096
error-log: $d/error.log
hosts:
  default:
    paths:
      /:
        file.dir: $T/www
EOF
  echo "$d"
}

# ---- starting a server ---------------------------------------------------------
# Listening TCP sockets from /proc, for where ss(8) shows none (a sandbox
# such as gVisor has no sock_diag netlink): "ADDR:PORT PID" lines, from
# /proc/net/tcp{,6} (state 0A) matched by inode to /proc/PID/fd links.
proc_listeners() {
  local -A ino=()
  local f loc st inode ip port a x
  for f in /proc/net/tcp /proc/net/tcp6; do
    [[ -r $f ]] || continue
    while read -r _ loc _ st _ _ _ _ _ inode _; do
      [[ $st == 0A ]] || continue
      ip=${loc%:*} port=$((16#${loc#*:}))
      if ((${#ip} == 8)); then
        a="$((16#${ip:6:2})).$((16#${ip:4:2})).$((16#${ip:2:2})).$((16#${ip:0:2}))"
      elif [[ ${ip:0:24} == 0000000000000000FFFF0000 ]]; then
        x=${ip:24:8}
        a="[::ffff:$((16#${x:6:2})).$((16#${x:4:2})).$((16#${x:2:2})).$((16#${x:0:2}))]"
      else
        a="[$ip]"
      fi
      ino[$inode]="$a:$port"
    done < <(tail -n +2 "$f")
  done
  local path link pid
  while read -r path link; do
    inode=${link#socket:[} inode=${inode%]}
    [[ -n ${ino[$inode]:-} ]] || continue
    pid=${path#/proc/} pid=${pid%%/*}
    echo "${ino[$inode]} $pid"
  done < <(find /proc/[0-9]*/fd -lname 'socket:*' -printf '%p %l\n' 2>/dev/null)
}

# Pids listed by ss as holding the listening socket on PORT (from /proc
# where ss lists none).
listen_pids() {
  local pids
  pids=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -un | tr '\n' ' ')
  [[ -z $pids ]] && pids=$(proc_listeners | awk -v p=":$1" 'substr($1, length($1) - length(p) + 1) == p {print $2}' |
    sort -un | tr '\n' ' ')
  echo "$pids"
}

# Local addresses of PID's listening sockets (ss, else /proc).
listen_addrs() {
  local out
  out=$(ss -Hltnp 2>/dev/null | grep "pid=$1," | awk '{print $4}')
  [[ -z $out ]] && out=$(proc_listeners | awk -v p="$1" '$2 == p {print $1}')
  echo "$out"
}

# Every server runs in a session of its own (setsid, which execs in place, so
# $! is the server's PID): lighttpd signals its whole process group when
# stopped, and a Ctrl-C from the terminal must reach this script and wrk, not
# the servers, which are then stopped by PID.
start_server() { # NAME -> sets PID PORT SPIDS; returns non-zero if it did not come up
  local s=$1 port='' pid d i log=$T/$1.log
  case $s in
    floor)
      taskset -c "${server_cpus[0]}" setsid "$FLOOR" -p 0 >"$T/floor.port" 2>"$log" &
      pid=$!
      ;;
    hello-* | ht-*)
      local args=()
      # ht binds where it is told; lobind still reports the port it got.
      [[ $s == ht-* ]] && args=(-b 127.0.0.1 -p 0 -d "$T/www" -w "$WORKERS")
      : >"$T/$s.port"
      LD_PRELOAD=$LOBIND LOBIND_PORT=0 LOBIND_PORT_FILE=$T/$s.port \
        ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0} \
        taskset -c "$SERVER_CPU" setsid "${BIN[$s]}" "${args[@]}" >"$log" 2>&1 &
      pid=$!
      ;;
    nginx)
      port=$("$CONNS" -F) || return 1
      d=$(conf_nginx "$port")
      taskset -c "$SERVER_CPU" setsid nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" >"$log" 2>&1 &
      pid=$!
      ;;
    lighttpd)
      port=$("$CONNS" -F) || return 1
      d=$(conf_lighttpd "$port")
      taskset -c "$SERVER_CPU" setsid lighttpd -D -f "$d/lighttpd.conf" >"$log" 2>&1 &
      pid=$!
      ;;
    h2o)
      port=$("$CONNS" -F) || return 1
      d=$(conf_h2o "$port")
      taskset -c "$SERVER_CPU" setsid h2o -c "$d/h2o.conf" >"$log" 2>&1 &
      pid=$!
      ;;
  esac
  PID[$s]=$pid
  local pids=
  for ((i = 0; i < 100; i++)); do
    if [[ -z $port ]]; then
      case $s in
        floor) port=$(head -n1 "$T/floor.port" 2>/dev/null) ;;
        *) port=$(head -n1 "$T/$s.port" 2>/dev/null) ;;
      esac
    fi
    if [[ -n $port ]]; then
      pids=$(listen_pids "$port")
      # nginx is up once its worker holds the socket too.
      if [[ " $pids " == *" $pid "* ]] && { [[ $s != nginx ]] || (($(wc -w <<<"$pids") >= 2)); }; then
        break
      fi
      pids=
    fi
    running "$pid" || break
    sleep 0.05
  done
  if [[ -z $pids ]]; then
    say "$s did not come up on 127.0.0.1${port:+:$port}; its output:"
    sed 's/^/    /' "$log" "${d:-/dev/null}/error.log" 2>/dev/null | tail -n 20 >&2
    stop_server "$s"
    return 1
  fi
  # Loopback only: every listening socket of every server process.
  local p bad
  for p in $pids; do
    bad=$(listen_addrs "$p" |
      grep -Ev '^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):[0-9]+$' | tr '\n' ' ')
    if [[ -n $bad ]]; then
      say "$s listens on $bad (not 127.0.0.1 only): stopped, skipped"
      stop_server "$s"
      return 1
    fi
  done
  PORT[$s]=$port SPIDS[$s]=$pids
}

# Sanity: the bytes the tests fetch, before anything is timed. The small file
# first (before the RSS with connections is read), the 10 MiB one after it, so
# a server that buffers the big file does not show that as connection memory.
check_server() {
  local s=$1 base=http://127.0.0.1:${PORT[$1]} got
  got=$(curl -s --max-time 3 "$base/hello.txt") || true
  if [[ $got != "hello from hachettp" ]]; then
    say "$s: GET /hello.txt answered '${got:0:80}', not the expected body"
    return 1
  fi
}

check_big() {
  local s=$1 base=http://127.0.0.1:${PORT[$1]} got
  if [[ " ${CAN[$s]} " == *" file10m "* && ",$TESTS," == *,file10m,* ]]; then
    got=$(curl -s --max-time 10 -o /dev/null -w '%{http_code} %{size_download}' "$base/big.bin")
    if [[ $got != "200 $BIG_SIZE" ]]; then
      say "$s: GET /big.bin gave '$got', expected '200 $BIG_SIZE'"
      return 1
    fi
  fi
}

# ---- measuring -----------------------------------------------------------------
mem_kb() { # FIELD PIDS -> the /proc/PID/status field (kB) summed
  local field=$1 p sum=0 v
  shift
  for p in "$@"; do
    v=$(awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null)
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# The processes holding the listening socket now (a worker may be replaced).
refresh_pids() {
  local pids
  pids=$(listen_pids "${PORT[$1]}")
  [[ -n $pids ]] && SPIDS[$1]=$pids
}

RES=$T/results
record() { echo "$1 $2 $3" >>"$RES"; } # SERVER METRIC VALUE

# With $NCONNS connections open (each served once), the servers' peak RSS.
measure_conns() {
  local s=$1 out=$T/conns.out ready='' i alive idle
  refresh_pids "$s"
  idle=${IDLE[$s]}
  record "$s" rss.idle "$idle"
  : >"$out"
  taskset -c "$CLIENT_CPU" "$CONNS" -p "${PORT[$s]}" -n "$NCONNS" -r /hello.txt -t 60 >"$out" 2>"$T/conns.err" &
  CONNS_PID=$!
  for ((i = 0; i < 600; i++)); do # up to 60 s to open them all
    ready=$(sed -n 's/^ready //p' "$out")
    [[ -n $ready ]] && break
    running "$CONNS_PID" || break
    sleep 0.1
  done
  sleep 0.2 # let the server finish with the last one
  local hwm rss
  # shellcheck disable=SC2086
  hwm=$(mem_kb VmHWM ${SPIDS[$s]}) rss=$(mem_kb VmRSS ${SPIDS[$s]})
  stop_pid "$CONNS_PID"
  CONNS_PID=
  alive=$(sed -n 's/^alive //p' "$out")
  if [[ ${ready:-0} != "$NCONNS" || ${alive%%/*} != "$NCONNS" ]]; then
    say "  $s: conns opened ${ready:-0}, alive ${alive:-?} of $NCONNS: $(head -c 200 "$T/conns.err")"
    record "$s" rss.1k.err 1
  fi
  record "$s" rss.1k "$hwm"
  say "  $s: RSS peak idle ${idle} kB; with ${ready:-0} conns ${hwm} kB peak, ${rss} kB now; alive ${alive:-?}"
}

run_wrk() { # SERVER TEST
  local s=$1 t=$2 url conns script extra=() out=$T/wrk.out
  case $t in
    small) url=/hello.txt conns=$C_SMALL script=$HERE/stats.lua ;;
    pipe) url=/hello.txt conns=$C_SMALL script=$HERE/pipeline.lua extra=(-- "$DEPTH") ;;
    file10m) url=/big.bin conns=$C_FILE script=$HERE/stats.lua ;;
  esac
  url=http://127.0.0.1:${PORT[$s]}$url
  refresh_pids "$s"
  local wrk=(taskset -c "$CLIENT_CPU" wrk -t"$WRK_T" -c"$conns" --timeout 5s -s "$script")
  if ((WARM > 0)); then
    timeout --foreground $((WARM + 20)) "${wrk[@]}" -d"${WARM}s" "$url" "${extra[@]}" >/dev/null 2>&1
  fi
  local t0 t1
  # shellcheck disable=SC2086
  t0=$(cpu_ticks ${SPIDS[$s]})
  timeout --foreground $((DUR + 20)) "${wrk[@]}" -d"${DUR}s" "$url" "${extra[@]}" >"$out" 2>&1
  local rc=$?
  # shellcheck disable=SC2086
  t1=$(cpu_ticks ${SPIDS[$s]})
  local line
  line=$(grep '^WRKSTAT ' "$out")
  if [[ $rc != 0 || -z $line ]]; then
    say "  $s $t: wrk failed (rc $rc): $(tail -n 3 "$out" | tr '\n' ' ')"
    record "$s" "$t.err" 1
    return
  fi
  local requests bytes dur errs
  field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
  requests=$(field requests) bytes=$(field bytes) dur=$(field duration_us)
  errs=$(awk '{s=0; for (i=2;i<=NF;i++) if ($i ~ /^(connect|read|write|status|timeout)=/) {split($i,a,"="); s+=a[2]} print s}' <<<"$line")
  local cpu=$((t1 - t0))
  ((errs > 0)) && record "$s" "$t.err" "$errs"
  if [[ $t == file10m ]]; then
    record "$s" "$t.rate" "$(awk -v b="$bytes" -v d="$dur" 'BEGIN{printf "%.4f", b/d/1000}')"
    record "$s" "$t.core" "$(awk -v b="$bytes" -v c="$cpu" -v k="$CLK_TCK" 'BEGIN{if (c>0) printf "%.4f", b/(c/k)/1e9; else print "nan"}')"
  else
    record "$s" "$t.rate" "$(awk -v n="$requests" -v d="$dur" 'BEGIN{printf "%.0f", n*1e6/d}')"
    record "$s" "$t.core" "$(awk -v n="$requests" -v c="$cpu" -v k="$CLK_TCK" 'BEGIN{if (c>0) printf "%.0f", n/(c/k); else print "nan"}')"
  fi
  say "  $s $t: $(tail -n 2 "$RES" | awk '{printf "%s=%s ", $2, $3}')cpu=$(awk -v c="$cpu" -v k="$CLK_TCK" 'BEGIN{printf "%.2f", c/k}')s errors=$errs"
}

# ---- the run --------------------------------------------------------------------
ntests=0
for s in "${LIST[@]}"; do
  for t in "${TLIST[@]}"; do [[ " ${CAN[$s]} " == *" $t "* ]] && ((ntests++)); done
done
est=$((R * (ntests * (DUR + WARM + 1) + ${#LIST[@]} * 4)))
say "servers: ${LIST[*]}"
say "tests: ${TLIST[*]}; R=$R DUR=${DUR}s WARM=${WARM}s; about $((est / 60 + 1)) min"
say "server CPU $SERVER_CPU ($WORKERS worker(s)), client CPU $CLIENT_CPU; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in "${LIST[@]}"; do
  if [[ -n ${BUILDTYPE[$s]:-} && ${BUILDTYPE[$s]} != Release ]]; then
    say "WARNING: $s is a ${BUILDTYPE[$s]} build: its figures say little"
  fi
done
: >"$RES"

for ((r = 0; r < R; r++)); do
  # Rotate the order each round so no server always goes first or last.
  order=()
  for ((i = 0; i < ${#LIST[@]}; i++)); do order+=("${LIST[(i + r) % ${#LIST[@]}]}"); done
  say "round $((r + 1))/$R: ${order[*]}"
  started=()
  for s in "${order[@]}"; do start_server "$s" && started+=("$s"); done
  sleep 0.5
  up=()
  for s in "${started[@]}"; do
    # Idle: after start-up, before any request.
    refresh_pids "$s"
    # shellcheck disable=SC2086
    IDLE[$s]=$(mem_kb VmHWM ${SPIDS[$s]})
    if check_server "$s"; then up+=("$s"); else stop_server "$s"; fi
  done
  for s in "${up[@]}"; do measure_conns "$s"; done
  ok=()
  for s in "${up[@]}"; do
    if check_big "$s"; then ok+=("$s"); else stop_server "$s"; fi
  done
  up=("${ok[@]}")
  for t in "${TLIST[@]}"; do
    for s in "${up[@]}"; do
      [[ " ${CAN[$s]} " == *" $t "* ]] && run_wrk "$s" "$t"
    done
  done
  for s in "${up[@]}"; do
    refresh_pids "$s"
    # shellcheck disable=SC2086
    record "$s" rss.peak "$(mem_kb VmHWM ${SPIDS[$s]})"
    stop_server "$s"
  done
done
[[ -n $OUT ]] && cp "$RES" "$OUT"

# ---- the table ------------------------------------------------------------------
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
versions="wrk $(wrk -v 2>&1 | awk 'NR==1{print $2}')"
command -v nginx >/dev/null && versions+=", $(nginx -v 2>&1 | sed 's/.*: //')"
command -v lighttpd >/dev/null && versions+=", $(lighttpd -v 2>&1 | awk '{print $1}')"
command -v h2o >/dev/null && versions+=", h2o/$(h2o -v 2>&1 | awk 'NR==1{print $3}')"
echo "Machine: ${cpu_model:-unknown CPU}, $(nproc) CPUs, $(awk '$1 == "MemTotal:" {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r); $versions."
echo "Medians of $R rounds; each cell: value (÷ floor, ÷ h2o). Server on CPU $SERVER_CPU with $WORKERS worker(s) (the floor and hello: one), wrk -t$WRK_T on CPU $CLIENT_CPU, ${DUR}s runs."
echo "req/core·s and GB/core·s: requests (bytes) per second of server CPU (utime+stime). RSS: peak (VmHWM), MiB, summed over the server's processes."
echo
awk -v order="${LIST[*]}" -v tests=",$TESTS," -v nconns="$NCONNS" -v depth="$DEPTH" \
  -v csmall="$C_SMALL" -v cfile="$C_FILE" '
function median(key,   n, i, j, v, tmp) {
  n = cnt[key]; if (n == 0) return ""
  for (i = 1; i <= n; i++) v[i] = val[key, i]
  for (i = 2; i <= n; i++) { tmp = v[i]; for (j = i - 1; j >= 1 && v[j] > tmp; j--) v[j + 1] = v[j]; v[j + 1] = tmp }
  return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function fmt(x, kind) {
  if (x == "") return "–"
  if (kind == "mib") return sprintf("%.2f", x / 1024)
  if (kind == "gb") return sprintf("%.2f", x)
  if (x >= 1e6) return sprintf("%.2fM", x / 1e6)
  if (x >= 1e3) return sprintf("%.1fk", x / 1e3)
  return sprintf("%.0f", x)
}
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "–" : sprintf("%.2f", a / b) }
$2 !~ /\.err$/ && $3 != "nan" { key = $1 SUBSEP $2; val[key, ++cnt[key]] = $3 + 0 }
$2 ~ /\.err$/ { err[$1] = err[$1] " " $2 }
END {
  ncol = 0
  if (index(tests, ",small,")) { m[++ncol] = "small.rate"; h[ncol] = "small req/s (c=" csmall ")"; k[ncol] = "n"
                                 m[++ncol] = "small.core"; h[ncol] = "small req/core·s"; k[ncol] = "n" }
  if (index(tests, ",pipe,"))  { m[++ncol] = "pipe.rate"; h[ncol] = "pipelined x" depth " req/s"; k[ncol] = "n"
                                 m[++ncol] = "pipe.core"; h[ncol] = "pipelined req/core·s"; k[ncol] = "n" }
  if (index(tests, ",file10m,")) { m[++ncol] = "file10m.rate"; h[ncol] = "10 MiB GB/s (c=" cfile ")"; k[ncol] = "gb"
                                   m[++ncol] = "file10m.core"; h[ncol] = "10 MiB GB/core·s"; k[ncol] = "gb" }
  m[++ncol] = "rss.idle"; h[ncol] = "RSS idle MiB"; k[ncol] = "mib"
  m[++ncol] = "rss.1k";   h[ncol] = "RSS " nconns " conns MiB"; k[ncol] = "mib"
  m[++ncol] = "rss.peak"; h[ncol] = "RSS after load MiB"; k[ncol] = "mib"
  line = "| server |"; sep = "|---|"
  for (c = 1; c <= ncol; c++) { line = line " " h[c] " |"; sep = sep "---|" }
  print line; print sep
  ns = split(order, srv, " ")
  for (i = 1; i <= ns; i++) {
    s = srv[i]; line = "| " s (s in err ? " !" : "") " |"
    for (c = 1; c <= ncol; c++) {
      v = median(s SUBSEP m[c]); f = median("floor" SUBSEP m[c]); g = median("h2o" SUBSEP m[c])
      line = line " " fmt(v, k[c]) (v == "" ? "" : " (" ratio(v, f) ", " ratio(v, g) ")") " |"
    }
    print line
  }
  # How noisy it was: max/min over the rounds of each throughput figure.
  printf "\nSpread (max/min over the rounds):"
  for (i = 1; i <= ns; i++) {
    s = srv[i]; line = ""
    for (c = 1; c <= ncol; c++) {
      if (m[c] ~ /^rss/) continue
      key = s SUBSEP m[c]; n = cnt[key]; if (n == 0) continue
      lo = hi = val[key, 1]
      for (j = 2; j <= n; j++) { if (val[key, j] < lo) lo = val[key, j]; if (val[key, j] > hi) hi = val[key, j] }
      line = line sprintf(" %s %.2f", m[c], lo > 0 ? hi / lo : 0)
    }
    printf "%s %s:%s", (i > 1 ? ";" : ""), s, line
  }
  print ""
  for (s in err) printf "\n! %s had errors in:%s (see the run log)\n", s, err[s]
}' "$RES"
