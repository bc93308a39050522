#!/usr/bin/env bash
# Large files: server CPU per GB and GB/s for a 10 MiB file, hachettp's ht
# binaries (any number: old and new builds, both backends) against nginx,
# interleaved, on this machine.
#
#   bench/bigfile/run.sh [NAME=]HT_BINARY... [nginx]
#
# Each round starts every server afresh, pinned to SERVER_CPU, in an order
# that rotates from round to round, and for each: WARM unmeasured responses,
# then the measured run, with the client pinned to CLIENT_CPU:
#   CLIENT=bigget  N responses of GET /big.bin over C keep-alive connections
#                  (bench/bigfile/bigget, reads up to 1 MiB per call; BIGGET=
#                  path, default the first build/*/bench/bigfile/bigget)
#   CLIENT=wrk     wrk -tWRK_T -cC for DUR seconds (what bench/run.sh's
#                  file10m runs; wrk reads 8 KiB per call and is the limit on
#                  2 cores; CLIENT_CPU may then be a list, e.g. 4-7 with WRK_T=4)
# Per run it reads utime+stime (/proc/PID/stat) of every server process (and
# thread) and of the client, before and after: server and client CPU seconds
# per GB (10^9 bytes) and GB/s. Prints every run, then the medians per
# server and their ratios to nginx (or to the first server without nginx):
# "GB/core·s" is GB per second of server CPU, the issue's "GB per server core".
#
# Environment (defaults): R=5 N=300 C=8 WARM=30 DUR=4 CLIENT=bigget WRK_T=1
# SERVER_CPU=1 CLIENT_CPU=0 DISCARD=0 (1: bigget -d, MSG_TRUNC, no copy)
# OUT=FILE (also keep the per-run lines). SYSCALLS=1: perf stat counts the
# server's system calls during each measured run (tracepoints: sendfile,
# those that failed, poll, epoll_wait, io_uring_enter, sendto, writev,
# setsockopt, recvfrom, read, rt_sigprocmask, rt_sigtimedwait), printed per
# response after each run; the tracing costs CPU, so such runs' CPU figures
# are not comparable to others.
# ht runs as
# `ht -b 127.0.0.1 -p PORT -d DOCROOT -w 1`; nginx as bench/run.sh runs it
# (sendfile, tcp_nopush, tcp_nodelay, access_log off, one worker).
set -uo pipefail

R=${R:-5} N=${N:-300} C=${C:-8} WARM=${WARM:-30} DUR=${DUR:-4} CLIENT=${CLIENT:-bigget} SYSCALLS=${SYSCALLS:-0}
WRK_T=${WRK_T:-1}
SERVER_CPU=${SERVER_CPU:-1} CLIENT_CPU=${CLIENT_CPU:-0} DISCARD=${DISCARD:-0} OUT=${OUT:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib.sh" # stop_pid, cpu_ticks, nginx_conf
CLK_TCK=$(getconf CLK_TCK)

say() { printf '%s\n' "$*" >&2; }
die() { say "bigfile/run.sh: $*"; exit 2; }
[[ $# -ge 1 ]] || { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
for v in R N C WARM DUR WRK_T; do [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive number"; done
[[ $CLIENT == bigget || $CLIENT == wrk ]] || die "CLIENT is bigget or wrk"
if [[ -z ${BIGGET:-} ]]; then
  for BIGGET in "$ROOT"/build/*/bench/bigfile/bigget; do [[ -x $BIGGET ]] && break; done
fi
[[ -x $BIGGET ]] || die "no bigget (build with -DHT_BUILD_BENCH=ON, target bigget, or set BIGGET)"
[[ $CLIENT == wrk ]] && { command -v wrk >/dev/null || die "needs wrk"; }
((SYSCALLS)) && { command -v perf >/dev/null || die "SYSCALLS=1 needs perf"; }
SC=(sendfile64 poll epoll_wait io_uring_enter sendto writev setsockopt recvfrom read rt_sigprocmask rt_sigtimedwait)

declare -A BIN=()
NAMES=()
for a in "$@"; do
  if [[ $a == nginx ]]; then
    command -v nginx >/dev/null || die "nginx is not installed (make bench-deps)"
    name=nginx
  else
    name=${a%%=*} bin=${a#*=}
    [[ $a == *=* ]] || name=$(basename "$(dirname "$(dirname "$(dirname "$a")")")")/ht
    [[ $name != nginx ]] || die "nginx names the peer, not a binary"
    [[ -x $bin ]] || die "$bin is not executable"
    BIN[$name]=$bin
  fi
  NAMES+=("$name")
done

T=$(mktemp -d "${TMPDIR:-/tmp}/ht-bigfile.XXXXXX") || die "mktemp"
chmod 755 "$T"
SPID=
cleanup() {
  [[ -n $SPID ]] && stop_server
  rm -rf "$T"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM
mkdir -p "$T/www"
head -c $((10 * 1024 * 1024)) /dev/urandom >"$T/www/big.bin"
chmod -R a+rX "$T/www"

PIDS=() # the server's processes
start_server() { # NAME PORT
  local i
  if [[ $1 == nginx ]]; then
    nginx_conf "$T/nginx" "$2" 1 "$T/www"
    taskset -c "$SERVER_CPU" setsid nginx -p "$T/nginx" -e "$T/nginx/error.log" -c "$T/nginx/nginx.conf" \
      >"$T/server.log" 2>&1 &
  else
    taskset -c "$SERVER_CPU" setsid "${BIN[$1]}" -b 127.0.0.1 -p "$2" -d "$T/www" -w 1 >"$T/server.log" 2>&1 &
  fi
  SPID=$!
  for ((i = 0; i < 100; i++)); do
    if curl -sI -o /dev/null --max-time 1 "http://127.0.0.1:$2/big.bin"; then
      mapfile -t PIDS < <(echo "$SPID"; ps -o pid= --ppid "$SPID" 2>/dev/null | tr -d ' ') # nginx: + worker
      return 0
    fi
    sleep 0.05
  done
  say "$1 did not come up on 127.0.0.1:$2: $(tail -n 3 "$T/server.log")"
  stop_server
  return 1
}

stop_server() {
  local p
  stop_pid "$SPID"
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  SPID=''
  PIDS=()
}

RES=$T/results
: >"$RES"
say "servers: ${NAMES[*]}; client $CLIENT (c=$C, $([[ $CLIENT == wrk ]] && echo "${DUR}s" || echo "N=$N")); R=$R"
say "server CPU $SERVER_CPU, client CPU $CLIENT_CPU; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < R; r++)); do
  for ((i = 0; i < ${#NAMES[@]}; i++)); do
    s=${NAMES[(i + r) % ${#NAMES[@]}]}
    port=$("$BIGGET" -F) || die "no free port"
    start_server "$s" "$port" || continue
    taskset -c "$CLIENT_CPU" "$BIGGET" -p "$port" -c "$C" -n "$WARM" >/dev/null || say "$s: warm-up failed"
    if ((SYSCALLS)); then
      ev=()
      for c in "${SC[@]}"; do ev+=(-e "syscalls:sys_enter_$c"); done
      ev+=(-e syscalls:sys_exit_sendfile64 --filter 'ret < 0')
      perf stat -x, "${ev[@]}" -p "$(IFS=,; echo "${PIDS[*]}")" -o "$T/perf.out" &
      PERF=$!
      sleep 0.3
    fi
    s0=$(cpu_ticks "${PIDS[@]}")
    if [[ $CLIENT == wrk ]]; then
      taskset -c "$CLIENT_CPU" wrk -t"$WRK_T" -c"$C" -d"${DUR}s" -s "$ROOT/bench/stats.lua" \
        "http://127.0.0.1:$port/big.bin" >"$T/client.out" 2>&1 &
      cp=$!
      # wrk's own CPU: read just before it exits (it is reaped by wait).
      sleep "$(awk -v d="$DUR" 'BEGIN{print d - 0.1}')"
      c0=0 c1=$(cpu_ticks "$cp")
      wait "$cp"
      rc=$?
      line=$(grep '^WRKSTAT ' "$T/client.out")
      bytes=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$line")
      secs=$(sed -n 's/.* duration_us=\([0-9]*\).*/\1/p' <<<"$line" | awk '{print $1 / 1e6}')
    else
      flag=()
      ((DISCARD)) && flag=(-d)
      # The client's CPU: bash's time (user and system, the client reaped).
      out=$(
        TIMEFORMAT='TIME %U %S'
        { time taskset -c "$CLIENT_CPU" "$BIGGET" -p "$port" -c "$C" -n "$N" "${flag[@]}"; } 2>&1
      )
      rc=$?
      c0=0 c1=$(awk -v k="$CLK_TCK" '/^TIME/ {printf "%d", ($2 + $3) * k}' <<<"$out")
      bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$out")
      secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
    fi
    s1=$(cpu_ticks "${PIDS[@]}")
    if ((SYSCALLS)); then
      kill -INT "$PERF"
      wait "$PERF"
      nresp=$N
      [[ $CLIENT == wrk ]] && nresp=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$line")
      awk -F, -v n="$s" -v r="${nresp:-0}" '$3 ~ /^syscalls:/ && r > 0 {
        sub(/^syscalls:sys_/, "", $3); sub(/^enter_/, "", $3); if ($3 == "exit_sendfile64") $3 = "sendfile64<0"
        if ($1 + 0 > 0) line = line sprintf(" %s=%.1f", $3, $1 / r) }
        END { printf "  %s syscalls per response:%s\n", n, line }' "$T/perf.out" >&2
    fi
    stop_server
    if [[ $rc != 0 || -z $bytes || -z $secs ]]; then
      say "$s: the client failed (rc $rc): $(tail -n 2 "$T/client.out" 2>/dev/null) ${out:-}"
      continue
    fi
    awk -v n="$s" -v b="$bytes" -v t="$secs" -v sv=$((s1 - s0)) -v cl=$((c1 - c0)) -v k="$CLK_TCK" \
      -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
      printf "%s %.3f %.4f %.4f %.2f %.2f %s\n", n, b / t / 1e9, sv / k / (b / 1e9), cl / k / (b / 1e9),
             sv / k, cl / k, l }' | tee -a "$RES" >&2
  done
done
[[ -n $OUT ]] && cp "$RES" "$OUT"
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per server; ratios to nginx (else to the first server).
awk -v order="${NAMES[*]}" -v r="$R" '
function median(str,   a, m, i, j, t) {
  m = split(str, a, " ")
  for (i = 2; i <= m; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
{ g[$1] = g[$1] " " $2; s[$1] = s[$1] " " $3; c[$1] = c[$1] " " $4; n[$1]++ }
END {
  k = split(order, name, " "); ref = ("nginx" in n) ? "nginx" : name[1]
  rg = median(g[ref]); rs = median(s[ref])
  printf "\n| server | runs | GB/s | server CPU s/GB | GB/core·s | client CPU s/GB | GB/s vs %s | GB/core·s vs %s |\n", ref, ref
  print "|---|--:|--:|--:|--:|--:|--:|--:|"
  for (i = 1; i <= k; i++) {
    x = name[i]; if (!(x in n)) continue
    mg = median(g[x]); ms = median(s[x]); mc = median(c[x])
    printf "| %s | %d | %.2f | %.3f | %.2f | %.3f | %.2f | %.2f |\n", x, n[x], mg, ms, 1 / ms, mc, mg / rg, rs / ms
  }
}' "$RES"
