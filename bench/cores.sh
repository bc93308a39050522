#!/usr/bin/env bash
# Multi-core run (issue 18): bench/run.sh once per worker count N, servers
# pinned to CPUs 0..N-1 and wrk to the CPUs after them, then the 10 MiB file
# on one worker; prints one table per N, the 1 -> N scaling and the ratios
# the issue's goals name.
#
#   bench/cores.sh BUILD_DIR [BUILD_DIR...]      (as bench/run.sh: both backends)
#
# Environment (defaults): NS="1 4 8" (worker counts; each needs N server CPUs
# plus at least one client CPU), CLIENT_N (client CPUs per run: all the CPUs
# after the server's, at most 8 = wrk threads), R=3 DUR=5 WARM=1 NCONNS=1000,
# SERVERS=ht-iouring,ht-epoll,nginx,lighttpd,h2o (the floor and hello-* are
# added at N=1: both are single-threaded),
# BIG=1 (also the 10 MiB test at N=1 against nginx; 0: skip it),
# OUTDIR (default a new temp dir; raw results and each run's table are kept).
# CLIENT_CPUS=LIST (with WRK_T) puts wrk there instead, even on server CPUs:
# for trying the script on a small machine (NS="1 2" CLIENT_CPUS=1 on 2 CPUs).
# Each run's table and log go to OUTDIR/N.table and OUTDIR/N.log.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS=${NS:-1 4 8}
R=${R:-3} DUR=${DUR:-5} WARM=${WARM:-1} NCONNS=${NCONNS:-1000}
SERVERS=${SERVERS:-ht-iouring,ht-epoll,nginx,lighttpd,h2o}
BIG=${BIG:-1}
OUTDIR=${OUTDIR:-$(mktemp -d "${TMPDIR:-/tmp}/ht-cores.XXXXXX")}
mkdir -p "$OUTDIR"
ncpu=$(nproc)
[[ $# -ge 1 ]] || { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

run_one() { # N TESTS SERVERS TAG
  local n=$1 tests=$2 servers=$3 tag=$4 cn wt cli
  shift 4
  local srv="0"
  ((n > 1)) && srv="0-$((n - 1))"
  if [[ -n ${CLIENT_CPUS:-} ]]; then # explicit (a test on a small machine may share CPUs)
    cli=$CLIENT_CPUS
    wt=${WRK_T:-1}
  else
    cn=${CLIENT_N:-$((ncpu - n))}
    ((cn > 8)) && cn=8
    if ((cn < 1 || n + cn > ncpu)); then
      echo "skip N=$n: needs $n server CPUs and at least one client CPU ($ncpu CPUs here)" >&2
      return 1
    fi
    wt=$cn cli=$n
    ((cn > 1)) && cli="$n-$((n + cn - 1))"
  fi
  echo "== $tag: $n worker(s) on CPU $srv, wrk -t$wt on CPU $cli" >&2
  R=$R DUR=$DUR WARM=$WARM NCONNS=$NCONNS WORKERS=$n SERVER_CPU=$srv CLIENT_CPU=$cli \
    WRK_T=$wt TESTS=$tests SERVERS=$servers OUT="$OUTDIR/$tag.res" \
    "$HERE/run.sh" "$@" >"$OUTDIR/$tag.table" 2>"$OUTDIR/$tag.log"
  local rc=$?
  cat "$OUTDIR/$tag.table"
  return $rc
}

ran=()
for n in $NS; do
  servers=$SERVERS
  ((n == 1)) && [[ $servers != *hello* ]] && servers="floor,$servers,hello-iouring,hello-epoll"
  run_one "$n" small,pipe "$servers" "$n" "$@" && ran+=("$n")
done
if ((BIG)); then
  run_one 1 file10m ht-iouring,ht-epoll,nginx big "$@"
fi

# Medians per (N, server, metric) from the raw results, then the goals' ratios.
echo
echo "Summary (medians of $R rounds; raw results in $OUTDIR):"
order="floor ${SERVERS//,/ } hello-iouring hello-epoll"
for n in "${ran[@]}"; do sed "s/^/$n /" "$OUTDIR/$n.res"; done | awk -v ns="${ran[*]}" -v order="$order" -v nconns="$NCONNS" '
function median(key,   n, i, j, v, t) {
  n = cnt[key]; if (n == 0) return ""
  for (i = 1; i <= n; i++) v[i] = val[key, i]
  for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
  return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function r(a, b) { return (a == "" || b == "" || b == 0) ? "–" : sprintf("%.2f", a / b) }
$3 !~ /\.err$/ && $4 != "nan" { k = $1 SUBSEP $2 SUBSEP $3; val[k, ++cnt[k]] = $4 + 0 }
END {
  split(ns, N, " "); no = split(order, srv, " ")
  printf "| N | server | small req/s | pipelined req/s | RSS %s conns MiB | small vs lighttpd | pipelined vs lighttpd | small scaling 1->N |\n", nconns
  print "|--:|---|--:|--:|--:|--:|--:|--:|"
  for (i = 1; i in N; i++) for (o = 1; o <= no; o++) {
    s = srv[o]; n = N[i]; sm = median(n SUBSEP s SUBSEP "small.rate"); if (sm == "") continue
    pp = median(n SUBSEP s SUBSEP "pipe.rate"); rss = median(n SUBSEP s SUBSEP "rss.1k")
    l1 = median(n SUBSEP "lighttpd" SUBSEP "small.rate"); l2 = median(n SUBSEP "lighttpd" SUBSEP "pipe.rate")
    b = median(N[1] SUBSEP s SUBSEP "small.rate")
    printf "| %s | %s | %.0f | %s | %s | %s | %s | %s |\n", n, s, sm, pp == "" ? "–" : sprintf("%.0f", pp),
      rss == "" ? "–" : sprintf("%.2f", rss / 1024), r(sm, l1), r(pp, l2), N[1] == 1 ? r(sm, b) : "–"
  }
}'
if ((BIG)) && [[ -f $OUTDIR/big.res ]]; then
  awk '
  function median(key,   n, i, j, v, t) {
    n = cnt[key]; if (n == 0) return ""
    for (i = 1; i <= n; i++) v[i] = val[key, i]
    for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  $2 ~ /^file10m\.(rate|core)$/ { k = $1 SUBSEP $2; val[k, ++cnt[k]] = $3 + 0; srv[$1] = 1 }
  END {
    print ""
    print "| 10 MiB, 1 worker | GB/s | GB/core·s | GB/s vs nginx | GB/core·s vs nginx |"
    print "|---|--:|--:|--:|--:|"
    g = median("nginx" SUBSEP "file10m.rate"); c = median("nginx" SUBSEP "file10m.core")
    for (s in srv) {
      a = median(s SUBSEP "file10m.rate"); b = median(s SUBSEP "file10m.core")
      printf "| %s | %.2f | %.2f | %s | %s |\n", s, a, b, (g > 0 ? sprintf("%.2f", a / g) : "–"), (c > 0 ? sprintf("%.2f", b / c) : "–")
    }
  }' "$OUTDIR/big.res"
fi
