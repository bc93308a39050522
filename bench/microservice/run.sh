#!/usr/bin/env bash
# examples/microservice on PostgreSQL, side by side in one run with
# - its ceiling: pgbench running the same indexed lookup (lookup.sql, -M
#   prepared) with as many connections as the service has query connections
#   (one per worker), and
# - its peer: the same endpoints in Node.js with node-postgres (server.js;
#   npm `pg` installed by this script into its temp dir, or taken from
#   NODE_PG_DIR, a directory holding node_modules/pg).
#
#   bench/microservice/run.sh MICROSERVICE_BINARY
#
# Build the binary with
#   cmake -S . -B /tmp/msb -DCMAKE_BUILD_TYPE=Release -DHT_BUILD_TESTS=OFF
#   cmake --build /tmp/msb -j2 --target microservice     (-> /tmp/msb/examples/microservice/microservice)
#
# The database: a private PostgreSQL cluster from Debian's binaries
# (/usr/lib/postgresql/N/bin, the newest N), initdb'd in this script's temp
# dir as `nobody` (as tests/microservice/microservice_pg_e2e.py does),
# started with pg_ctl on a Unix socket in that dir (no TCP), fsync=off,
# stopped at the end and on failure. The service creates the schema; NOTES
# notes are then inserted and the table analysed.
#
# Variants (VARIANTS, comma list), each started fresh for each test and
# stopped after it, so that only one thing talks to the database at a time:
#   svc1   the service, -w 1 (1 query connection + 1 LISTEN connection)
#   svc2   the service, -w 2 (both workers on SERVER_CPU: 2 query connections)
#   node   server.js, one Node.js process, a pg.Pool of NODE_POOL connections
#   node10 the same with a pool of 10 (node-postgres's default pool size)
#   pgb1   pgbench -c 1 -j 1 -M prepared -f lookup.sql (the ceiling of svc1)
#   pgb2   pgbench -c 2 -j 1 ...                    (the ceiling of svc2)
#   pgbp1, pgbp2  the same, pipelined as the service pipelines: each
#          transaction is PIPE (16) lookups between \startpipeline and
#          \endpipeline, one round trip for all; counted per lookup (req/s,
#          CPU per lookup; the latencies are the transaction's). A stricter
#          ceiling than the goal's: what one connection can carry at most.
# Tests (TESTS, comma list; HTTP variants only, pgbench runs `lookup`):
#   lookup GET /api/notes/{random id in 1..NOTES}
#   insert POST /api/notes {"text":"..."}
#   list   GET /api/notes?limit=20&after={random id in 0..1000}
#   health GET /api/health (SELECT 1)
# The servers run pinned to SERVER_CPU (taskset); wrk (-t1 -cC, --latency
# through api.lua) and pgbench on CLIENT_CPU; PostgreSQL is not pinned (it
# runs where the scheduler puts it, on either CPU). R rounds; in each, every
# (variant, test) pair runs once, the variant order rotated per round.
# Each run: WARM unmeasured seconds, then DUR measured seconds. Per run:
#   req/s and p50/p99 latency (wrk; pgbench: tps and the p99 of its
#     per-transaction log),
#   server CPU (utime+stime from /proc/PID/stat, all threads) per request,
#   PostgreSQL CPU: the postmaster's utime+stime+cutime+cstime (backends that
#     exited, such as pgbench's, are in its cutime/cstime) plus every live
#     child's utime+stime, before and after; as µs per request and as a
#     share of one core over the run,
#   the 1-minute load average at the start of the run,
#   the server's peak RSS (VmHWM) when it is stopped.
# The table gives the medians over the rounds.
#
# Environment (defaults): R=3 DUR=10 WARM=2 C=64 NOTES=10000 NODE_POOL=1 PIPE=16
# SERVER_CPU=1 CLIENT_CPU=0 VARIANTS=svc1,svc2,node,node10,pgb1,pgb2 (add pgbp1,pgbp2)
# TESTS=lookup,insert,list OUT=FILE (also save the raw results) KEEP=1 (keep
# the temp dir) NODE_PG_DIR=DIR (use DIR/node_modules/pg, install nothing;
# bench/microservice/node_modules is git-ignored for that).
# PERF=DIR: profile every measured HTTP run with `perf record -a -g` (the
# whole machine: server, PostgreSQL, wrk and whatever else runs) and write
# DIR/VARIANT.TEST.{comm,server}.txt (CPU by command; the server's by library,
# then by symbol, as shares of the server's own samples).
# The profiler perturbs the figures: use it for where the time goes only.
set -uo pipefail

R=${R:-3}
DUR=${DUR:-10}
WARM=${WARM:-2}
C=${C:-64}
NOTES=${NOTES:-10000}
NODE_POOL=${NODE_POOL:-1}
PIPE=${PIPE:-16}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
VARIANTS=${VARIANTS:-svc1,svc2,node,node10,pgb1,pgb2}
TESTS=${TESTS:-lookup,insert,list}
OUT=${OUT:-}
KEEP=${KEEP:-0}
NODE_PG_DIR=${NODE_PG_DIR:-}
PERF=${PERF:-}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh" # stop_pid, cpu_ticks
CLK_TCK=$(getconf CLK_TCK)

say() { printf '%s\n' "$*" >&2; }
die() { say "run.sh: $*"; exit 2; }

[[ $# -eq 1 && $1 != -h && $1 != --help ]] || {
  sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
SVC=$(realpath "$1") || die "no binary $1"
[[ -x $SVC ]] || die "$SVC is not executable"
for v in R DUR WARM C NOTES NODE_POOL SERVER_CPU CLIENT_CPU; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, got '${!v}'"
done
for tool in wrk taskset runuser curl node npm awk; do
  command -v "$tool" >/dev/null || die "needs $tool"
done
if [[ -n $PERF ]]; then
  command -v perf >/dev/null || die "PERF needs perf (linux-perf)"
  mkdir -p "$PERF" && PERF=$(realpath "$PERF") || die "PERF: cannot make $PERF"
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x $PGBIN/initdb && -x $PGBIN/pgbench ]] || die "needs PostgreSQL's server and pgbench (apt-get install postgresql postgresql-contrib)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major == 20)) || say "WARNING: node $(node -v), not Node.js 20"

T=$(mktemp -d "${TMPDIR:-/tmp}/ht-msbench.XXXXXX") || die "mktemp"
chmod 755 "$T"
PG=$T/pg
SRV_PID=
RES=$T/results

pg_ctl() { runuser -u nobody -- "$PGBIN/pg_ctl" -D "$PG/data" "$@"; }

cleanup() {
  trap - EXIT INT TERM
  [[ -n $SRV_PID ]] && stop_pid "$SRV_PID" 50
  if [[ -f $PG/data/postmaster.pid ]]; then
    local pm
    pm=$(head -n 1 "$PG/data/postmaster.pid")
    pg_ctl -m fast -w -t 30 stop >/dev/null 2>&1 || { [[ -n $pm ]] && kill -QUIT "$pm" 2>/dev/null; }
  fi
  if [[ $KEEP == 1 ]]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# ---- node-postgres -----------------------------------------------------------------
if [[ -z $NODE_PG_DIR ]]; then
  NODE_PG_DIR=$T/node
  mkdir -p "$NODE_PG_DIR"
  say "installing npm pg into $NODE_PG_DIR"
  (cd "$NODE_PG_DIR" && npm install --no-audit --no-fund --silent pg@8 >/dev/null) || die "npm install pg failed"
fi
[[ -f $NODE_PG_DIR/node_modules/pg/package.json ]] || die "no node_modules/pg in $NODE_PG_DIR"
PG_VERSION=$(node -p "require('$NODE_PG_DIR/node_modules/pg/package.json').version")

# ---- PostgreSQL ----------------------------------------------------------------------
mkdir -p "$PG"
chown nobody: "$T" "$PG"
runuser -u nobody -- "$PGBIN/initdb" -D "$PG/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
  >"$T/initdb.log" 2>&1 || { cat "$T/initdb.log" >&2; die "initdb failed"; }
pg_ctl -l "$PG/log" -o "-k $PG -c listen_addresses='' -c fsync=off -c max_connections=40" -w -t 30 start \
  >/dev/null 2>&1 || { tail -n 20 "$PG/log" >&2; die "pg_ctl start failed"; }
PM=$(head -n 1 "$PG/data/postmaster.pid")
CONNINFO="host=$PG dbname=postgres user=postgres"
psql() { "$PGBIN/psql" -h "$PG" -U postgres -d postgres -XAtq "$@"; }

# ---- servers -----------------------------------------------------------------------------
PORT=
start_server() { # VARIANT -> SRV_PID, PORT
  local v=$1 i log=$T/$1.log
  : >"$log"
  case $v in
    svc1 | svc2)
      taskset -c "$SERVER_CPU" "$SVC" -p 0 -b 127.0.0.1 -w "${v#svc}" --db "$CONNINFO" >"$log" 2>&1 &
      ;;
    node | node10)
      local pool=$NODE_POOL
      [[ $v == node10 ]] && pool=10
      NODE_PATH=$NODE_PG_DIR/node_modules taskset -c "$SERVER_CPU" node "$HERE/server.js" 0 "$PG" "$pool" \
        >"$log" 2>&1 &
      ;;
  esac
  SRV_PID=$!
  PORT=
  for ((i = 0; i < 100; i++)); do
    PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
    [[ -n $PORT ]] && break
    sleep 0.05
  done
  # The service says "listening" before its workers have connected: wait for health.
  for ((i = 0; i < 100; i++)); do
    [[ -n $PORT && $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/health") == 200 ]] && return 0
    sleep 0.05
  done
  say "$v did not come up:"
  tail -n 20 "$log" >&2
  stop_pid "$SRV_PID" 50
  SRV_PID=
  return 1
}

stop_server() {
  [[ -n $SRV_PID ]] && stop_pid "$SRV_PID" 50
  SRV_PID=
}

child_ms() { # -> CHILD_MS: CPU of this shell's reaped children (wrk, pgbench), ms
  # bash's `times` (second line), run in this shell: a subshell would see its own.
  times >"$T/times"
  local u s
  read -r u s < <(tail -n 1 "$T/times")
  CHILD_MS=$(awk -v u="$u" -v s="$s" 'function ms(x, m) { m = x; sub(/m.*/, "", m); sub(/^[0-9]*m/, "", x)
    sub(/s$/, "", x); return (m * 60 + x) * 1000 } BEGIN { printf "%.0f", ms(u) + ms(s) }')
}

pg_ticks() { # PostgreSQL: postmaster's own and reaped children's, plus live children's
  local s f sum kids
  s=$(<"/proc/$PM/stat")
  read -ra f <<<"${s##*) }"
  sum=$((f[11] + f[12] + f[13] + f[14]))
  kids=$(ps -o pid= --ppid "$PM" | tr '\n' ' ')
  # shellcheck disable=SC2086
  echo $((sum + $(cpu_ticks $kids)))
}

pg_settle() { # until the postmaster has only its own helpers (no client backend) left, up to 3 s
  local i
  for ((i = 0; i < 30; i++)); do
    ps -o args= --ppid "$PM" | grep -q 'postgres: postgres postgres' || return 0
    sleep 0.1
  done
}

hwm_kb() { awk '$1 == "VmHWM:" {print $2}' "/proc/$1/status" 2>/dev/null; }

record() { echo "$1 $2 $3 $4" >>"$RES"; } # VARIANT TEST METRIC VALUE

# ---- set-up and sanity ---------------------------------------------------------------------
start_server svc1 || die "the service did not start on the database"
psql -c "INSERT INTO notes (text) SELECT 'seed note ' || g || ', a line of text to look up' FROM generate_series(1, $NOTES) g" \
  >/dev/null || die "seeding failed"
psql -c "VACUUM ANALYZE notes" >/dev/null
first=$(psql -c "SELECT min(id) FROM notes")
[[ $first == 1 ]] || die "the seeded ids start at $first, not 1"
svc_note=$(curl -s "http://127.0.0.1:$PORT/api/notes/1")
stop_server
start_server node || die "the Node.js peer did not start"
node_note=$(curl -s "http://127.0.0.1:$PORT/api/notes/1")
stop_server
[[ -n $svc_note && $svc_note == "$node_note" ]] ||
  die "GET /api/notes/1 differs: service '$svc_note', node '$node_note'"
say "GET /api/notes/1, both: $svc_note"

check_http() { # VARIANT: every test's request once, the status the test expects
  local base=http://127.0.0.1:$PORT got
  got=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/notes/$NOTES")$(curl -s -o /dev/null -w ' %{http_code}' \
    -H 'Content-Type: application/json' -d '{"text":"check"}' "$base/api/notes")$(curl -s -o /dev/null \
    -w ' %{http_code}' "$base/api/notes?limit=20&after=5")$(curl -s -o /dev/null -w ' %{http_code}' "$base/api/health")
  [[ $got == "200 201 200 200" ]] || { say "$1: lookup/insert/list/health answered $got"; return 1; }
}

# ---- runs ------------------------------------------------------------------------------------
run_http() { # VARIANT TEST
  local v=$1 t=$2 out=$T/wrk.out args
  case $t in
    lookup) args=(lookup "$NOTES") ;;
    insert) args=(insert) ;;
    list) args=(list 20) ;;
    health) args=(health) ;;
  esac
  start_server "$v" || { record "$v" "$t" err 1; return; }
  check_http "$v" || { record "$v" "$t" err 1; stop_server; return; }
  local url=http://127.0.0.1:$PORT
  local wrk=(taskset -c "$CLIENT_CPU" wrk -t1 -c"$C" --timeout 5s --latency -s "$HERE/api.lua")
  ((WARM > 0)) && timeout $((WARM + 20)) "${wrk[@]}" -d"${WARM}s" "$url" -- "${args[@]}" >/dev/null 2>&1
  local load s0 s1 p0 p1 c0 c1 rc
  load=$(cut -d' ' -f1 /proc/loadavg)
  child_ms
  s0=$(cpu_ticks "$SRV_PID") p0=$(pg_ticks) c0=$CHILD_MS
  local perf_pid=
  if [[ -n $PERF ]]; then
    perf record -q -a -g -o "$T/perf.data" -- sleep "$DUR" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  timeout $((DUR + 20)) "${wrk[@]}" -d"${DUR}s" "$url" -- "${args[@]}" >"$out" 2>&1
  rc=$?
  child_ms
  s1=$(cpu_ticks "$SRV_PID") p1=$(pg_ticks) c1=$CHILD_MS
  record "$v" - rss "$(hwm_kb "$SRV_PID")"
  local scomm
  scomm=$(cat "/proc/$SRV_PID/comm" 2>/dev/null)
  stop_server
  if [[ -n $perf_pid ]]; then
    wait "$perf_pid"
    perf report -i "$T/perf.data" --stdio --no-children --sort comm -g none 2>/dev/null |
      grep -v '^$' >"$PERF/$v.$t.comm.txt"
    { perf report -i "$T/perf.data" --stdio --no-children --comm "$scomm" --percentage relative --sort dso -g none
      perf report -i "$T/perf.data" --stdio --no-children --comm "$scomm" --percentage relative --sort dso,sym -g none
    } 2>/dev/null | grep -v '^$' | grep -v '^#' | head -n 80 >"$PERF/$v.$t.server.txt"
  fi
  local line
  line=$(grep '^WRKSTAT ' "$out")
  if [[ $rc != 0 || -z $line ]]; then
    say "  $v $t: wrk failed (rc $rc): $(tail -n 3 "$out" | tr '\n' ' ')"
    record "$v" "$t" err 1
    return
  fi
  f() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
  local n d errs
  n=$(f requests) d=$(f duration_us)
  errs=$(($(f connect) + $(f read) + $(f write) + $(f status) + $(f timeout)))
  emit "$v" "$t" "$n" "$d" "$((s1 - s0))" "$((p1 - p0))" "$(f p50_us)" "$(f p99_us)" "$errs" "$load" "$((c1 - c0))"
}

run_pgbench() { # VARIANT (pgb1, pgb2, pgbp1, pgbp2)
  local v=$1 c=${1##*[a-z]} dir=$T/pgblog script=$HERE/lookup.sql per=1
  rm -rf "$dir"
  mkdir -p "$dir"
  if [[ $v == pgbp* ]]; then # lookup.sql PIPE times in one pipeline
    script=$T/lookup_pipe.sql per=$PIPE
    { echo '\startpipeline'; for ((i = 0; i < PIPE; i++)); do cat "$HERE/lookup.sql"; done; echo '\endpipeline'; } >"$script"
  fi
  local pgb=(taskset -c "$CLIENT_CPU" "$PGBIN/pgbench" -h "$PG" -U postgres -n -M prepared -c "$c" -j 1
    -D n="$NOTES" -f "$script" postgres)
  ((WARM > 0)) && "${pgb[@]}" -T "$WARM" >/dev/null 2>&1
  local load p0 p1 c0 c1 rc
  # pgbench's backends exit with it: their CPU is in the postmaster's cutime
  # once it has reaped them. Give it that time before each reading.
  pg_settle
  load=$(cut -d' ' -f1 /proc/loadavg)
  child_ms
  p0=$(pg_ticks) c0=$CHILD_MS
  (cd "$dir" && "${pgb[@]}" -T "$DUR" -l --log-prefix="$dir/tx" >"$T/pgb.out" 2>&1)
  rc=$?
  pg_settle
  child_ms
  p1=$(pg_ticks) c1=$CHILD_MS
  local tps n fails p50 p99
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$T/pgb.out" | head -n 1)
  n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$T/pgb.out")
  fails=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$T/pgb.out")
  if [[ $rc != 0 || -z $tps || -z $n ]]; then
    say "  $v: pgbench failed (rc $rc): $(tail -n 3 "$T/pgb.out" | tr '\n' ' ')"
    record "$v" lookup err 1
    return
  fi
  # Per-transaction log: field 3 is the latency in µs.
  read -r p50 p99 < <(cat "$dir"/tx* | awk '{print $3}' | sort -n |
    awk '{a[NR] = $1} END {print a[int(NR * 0.50) + 1], a[int(NR * 0.99) + 1]}')
  # Duration for the per-request figures: n / tps (pgbench's own clock).
  local d
  d=$(awk -v n="$n" -v t="$tps" 'BEGIN {printf "%d", n / t * 1e6}')
  emit "$v" lookup "$((n * per))" "$d" 0 "$((p1 - p0))" "$p50" "$p99" "${fails:-0}" "$load" "$((c1 - c0))"
}

emit() { # VARIANT TEST REQUESTS DURATION_US SRV_TICKS PG_TICKS P50 P99 ERRORS LOAD CLIENT_MS
  local v=$1 t=$2 n=$3 d=$4 st=$5 pt=$6 cms=${11}
  record "$v" "$t" rate "$(awk -v n="$n" -v d="$d" 'BEGIN {printf "%.0f", n * 1e6 / d}')"
  record "$v" "$t" p50 "$7"
  record "$v" "$t" p99 "$8"
  record "$v" "$t" load "${10}"
  ((${9} > 0)) && record "$v" "$t" err "$9"
  if [[ $v != pgb* ]]; then
    record "$v" "$t" srv_us "$(awk -v c="$st" -v k="$CLK_TCK" -v n="$n" 'BEGIN {printf "%.1f", c / k * 1e6 / n}')"
    record "$v" "$t" srv_share "$(awk -v c="$st" -v k="$CLK_TCK" -v d="$d" 'BEGIN {printf "%.2f", c / k * 1e6 / d}')"
  fi
  record "$v" "$t" cli_us "$(awk -v c="$cms" -v n="$n" 'BEGIN {printf "%.1f", c * 1e3 / n}')"
  record "$v" "$t" pg_us "$(awk -v c="$pt" -v k="$CLK_TCK" -v n="$n" 'BEGIN {printf "%.1f", c / k * 1e6 / n}')"
  record "$v" "$t" pg_share "$(awk -v c="$pt" -v k="$CLK_TCK" -v d="$d" 'BEGIN {printf "%.2f", c / k * 1e6 / d}')"
  say "  $v $t: $(awk -v v="$v" -v t="$t" '$1 == v && $2 == t {m[$3] = $4; if ($3 == "rate") delete m["err"]} END {
    printf "%s req/s p99 %s us, server %s us/req (%s cores), pg %s us/req (%s cores), load %s%s",
      m["rate"], m["p99"], m["srv_us"] == "" ? "-" : m["srv_us"], m["srv_share"] == "" ? "-" : m["srv_share"],
      m["pg_us"], m["pg_share"], m["load"], m["err"] == "" ? "" : ", ERRORS " m["err"] }' "$RES")"
}

IFS=, read -ra VLIST <<<"$VARIANTS"
IFS=, read -ra TLIST <<<"$TESTS"
for v in "${VLIST[@]}"; do
  case $v in svc1 | svc2 | node | node10 | pgb1 | pgb2 | pgbp1 | pgbp2) ;; *) die "unknown variant '$v'" ;; esac
done
for t in "${TLIST[@]}"; do
  case $t in lookup | insert | list | health) ;; *) die "unknown test '$t'" ;; esac
done
: >"$RES"
nruns=0
for v in "${VLIST[@]}"; do if [[ $v == pgb* ]]; then ((nruns++)); else ((nruns += ${#TLIST[@]})); fi; done
say "variants: ${VLIST[*]}; tests: ${TLIST[*]}; R=$R DUR=${DUR}s WARM=${WARM}s C=$C NOTES=$NOTES NODE_POOL=$NODE_POOL"
say "about $((R * nruns * (DUR + WARM + 2) / 60 + 1)) min; server CPU $SERVER_CPU, client CPU $CLIENT_CPU, PostgreSQL unpinned"
say "load: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%F %T UTC')"
for ((r = 0; r < R; r++)); do
  order=()
  for ((i = 0; i < ${#VLIST[@]}; i++)); do order+=("${VLIST[(i + r) % ${#VLIST[@]}]}"); done
  say "round $((r + 1))/$R: ${order[*]}"
  for t in "${TLIST[@]}"; do
    for v in "${order[@]}"; do
      if [[ $v == pgb* ]]; then
        [[ $t == lookup ]] && run_pgbench "$v"
      else
        run_http "$v" "$t"
      fi
    done
  done
done
[[ -n $OUT ]] && cp "$RES" "$OUT"
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%F %T UTC')"

# ---- the table ---------------------------------------------------------------------------------
echo
echo "Machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) CPUs, Linux $(uname -r);" \
  "PostgreSQL $("$PGBIN/postgres" -V | awk '{print $3}'), node $(node -v), pg $PG_VERSION, wrk $(wrk -v 2>&1 | awk 'NR==1{print $2}')."
echo "Medians of $R rounds, ${DUR}s runs, wrk -t1 -c$C on CPU $CLIENT_CPU, servers on CPU $SERVER_CPU, PostgreSQL unpinned."
echo "srv us/req: server CPU per request; pg us/req, pg cores: PostgreSQL's CPU per request and over the run; RSS: server peak."
echo
awk -v vorder="${VLIST[*]}" -v torder="${TLIST[*]}" -v pipe="$PIPE" '
function median(key,   n, i, j, v, tmp) {
  n = cnt[key]; if (n == 0) return ""
  for (i = 1; i <= n; i++) v[i] = val[key, i]
  for (i = 2; i <= n; i++) { tmp = v[i]; for (j = i - 1; j >= 1 && v[j] > tmp; j--) v[j + 1] = v[j]; v[j + 1] = tmp }
  return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function show(x, f) { return x == "" ? "–" : sprintf(f, x) }
function ms(x) { return x == "" ? "–" : sprintf("%.2f", x / 1000) }
$3 == "err" { err[$1, $2] += $4; next }
{ key = $1 SUBSEP $2 SUBSEP $3; val[key, ++cnt[key]] = $4 + 0 }
END {
  print "| variant | test | req/s | p50 ms | p99 ms | srv us/req | srv req/core·s | srv cores | pg us/req | pg cores | client us/req | all us/req | load | RSS MiB |"
  print "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  nv = split(vorder, V, " "); nt = split(torder, TT, " ")
  for (i = 1; i <= nv; i++) for (j = 1; j <= nt; j++) {
    v = V[i]; t = TT[j]
    if (v ~ /^pgb/ && t != "lookup") continue
    k = v SUBSEP t SUBSEP
    su = median(k "srv_us")
    cu = median(k "cli_us"); pu = median(k "pg_us")
    printf "| %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", v, ((v, t) in err ? " !" : ""), t,
      show(median(k "rate"), "%.0f"), ms(median(k "p50")), ms(median(k "p99")),
      show(su, "%.1f"), (su == "" || su == 0) ? "–" : sprintf("%.0f", 1e6 / su), show(median(k "srv_share"), "%.2f"),
      show(pu, "%.1f"), show(median(k "pg_share"), "%.2f"), show(cu, "%.1f"),
      (cu == "" || pu == "") ? "–" : sprintf("%.1f", cu + pu + su), show(median(k "load"), "%.2f"),
      (median(v SUBSEP "-" SUBSEP "rss") == "" ? "–" : sprintf("%.1f", median(v SUBSEP "-" SUBSEP "rss") / 1024))
  }
  # The goals, on the medians.
  print ""
  for (w = 1; w <= 2; w++) {
    s = median("svc" w SUBSEP "lookup" SUBSEP "rate"); p = median("pgb" w SUBSEP "lookup" SUBSEP "rate")
    if (s != "" && p != "") printf "svc%d lookup / pgbench -c %d: %.2fx (goal >= 0.8x)\n", w, w, s / p
    p = median("pgbp" w SUBSEP "lookup" SUBSEP "rate")
    if (s != "" && p != "") printf "svc%d lookup / pgbench -c %d pipelined (%d per round trip): %.2fx\n", w, w, pipe, s / p
  }
  for (j = 1; j <= nt; j++) {
    t = TT[j]
    s = median("svc1" SUBSEP t SUBSEP "srv_us"); n = median("node" SUBSEP t SUBSEP "srv_us")
    sr = median("svc1" SUBSEP t SUBSEP "rate"); nr = median("node" SUBSEP t SUBSEP "rate")
    s9 = median("svc1" SUBSEP t SUBSEP "p99"); n9 = median("node" SUBSEP t SUBSEP "p99")
    if (s != "" && n != "" && s > 0)
      printf "svc1 / node, %s: req per core-second %.2fx, req/s %.2fx (goal >= 3x); p99 %.2f vs %.2f ms\n",
        t, n / s, sr / nr, s9 / 1000, n9 / 1000
  }
  for (k2 in err) { split(k2, e, SUBSEP); printf "! %s %s: %d errors or failed runs\n", e[1], e[2], err[k2] }
}' "$RES"
