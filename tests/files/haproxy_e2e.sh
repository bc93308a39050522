#!/bin/bash
# tests/files/haproxy_e2e.sh HT_BIN: ht behind the real load balancer (issue
# 19, "Proved with the real load balancer"). Debian's HAProxy, with a
# generated config, in front of three ht instances on loopback: HAProxy
# connects from 127.0.0.3 with send-proxy-v2 (ht --proxy-protocol
# 127.0.0.3), HTTP health checks on `ht --health`, JSON access logs. A client
# on 127.0.0.2 is logged by every instance as the client, with 127.0.0.3 as
# the proxy. Under a wrk load through HAProxy:
#   - a rolling restart, three times over: one instance at a time gets
#     SIGTERM (--drain-grace: health 503, HAProxy takes it out, then it
#     stops), a new one takes its place on the same port and comes back UP;
#   - one instance's binary is replaced in place (mv over it, SIGUSR2: the
#     new binary takes over the listening socket, the old drains).
# wrk must see 0 socket errors and 0 non-2xx responses, and every request
# it made is in the instances' logs. Every wait is bounded; processes are
# stopped by PID. Exit 77 (skipped) without haproxy, wrk, curl or python3.
set -u
ht_src=$1
for c in haproxy wrk curl python3; do
  command -v $c >/dev/null 2>&1 || { echo "no $c (Debian: haproxy wrk curl python3)"; exit 77; }
done
t=$(mktemp -d /tmp/ht_haproxy.XXXXXX)
declare -a pid port gen
hap=
wrkpid=
cleanup() {
  for p in "${pid[@]}" $hap $wrkpid; do kill -9 "$p" 2>/dev/null; done
  # A takeover's old process, if one is still draining.
  for f in "$t"/*.err; do
    [ -f "$f" ] || continue
    for p in $(sed -n 's/.*handed over to pid \([0-9]*\).*/\1/p' "$f"); do kill -9 "$p" 2>/dev/null; done
  done
  rm -rf "$t"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$t"/*.err "$t"/wrk.out; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
  exit 1
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
mkdir "$t/root" "$t/bin"
echo "small file" > "$t/root/small.txt"
cp "$ht_src" "$t/bin/ht"

# Waits (at most 10 s) until file $1 contains $2.
wait_grep() {
  local i=0
  while ! grep -q "$2" "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 200 ] && return 1; sleep 0.05
  done
}
# Waits (at most 15 s) until process $1 is gone.
wait_gone() {
  local i=0
  while kill -0 "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 300 ] && return 1; sleep 0.05
  done
}
# Starts instance $1 on port ${port[$1]}.
start() {
  local i=$1
  gen[$i]=$(( ${gen[$i]:-0} + 1 ))
  local err="$t/ht$i.${gen[$i]}.err"
  "$t/bin/ht" -p "${port[$i]}" -b 127.0.0.1 -d "$t/root" -w 1 --health /healthz --drain-grace 2 \
    --proxy-protocol 127.0.0.3 --access-log "$t/ht$i.log" --log-format json 2>"$err" &
  pid[$i]=$!
  wait_grep "$err" "ht: serving" || fail "instance $i did not start"
}
# HAProxy's view of server s$1 (UP, DOWN, ...), from its stats page.
status() {
  curl -s "http://127.0.0.1:$sport/stats;csv" | awk -F, -v s="s$1" '$1 == "be" && $2 == s { print $18 }'
}
# Waits (at most 10 s) until s$1 is $2 ("UP" or "DOWN", prefix match).
wait_status() {
  local i=0
  while ! status "$1" | grep -q "^$2"; do
    i=$((i + 1)); [ $i -gt 200 ] && fail "s$1 not $2 (is: $(status "$1"))"; sleep 0.05
  done
}

for i in 0 1 2; do port[$i]=$(free_port); done
fport=$(free_port)
sport=$(free_port)
for i in 0 1 2; do start $i; done

cat > "$t/haproxy.cfg" <<EOF
global
  maxconn 2000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response
  default-server inter 200ms fastinter 200ms downinter 200ms fall 2 rise 2 check send-proxy-v2 check-send-proxy
frontend fe
  bind 127.0.0.1:$fport
  default_backend be
backend be
  balance roundrobin
  source 127.0.0.3
  option httpchk
  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host ht
  http-check expect status 200
  server s0 127.0.0.1:${port[0]}
  server s1 127.0.0.1:${port[1]}
  server s2 127.0.0.1:${port[2]}
listen stats
  bind 127.0.0.1:$sport
  stats enable
  stats uri /stats
EOF
haproxy -c -f "$t/haproxy.cfg" >"$t/haproxy-check.err" 2>&1 || fail "haproxy -c: $(cat "$t/haproxy-check.err")"
haproxy -db -f "$t/haproxy.cfg" 2>"$t/haproxy.err" &
hap=$!
for i in 0 1 2; do wait_status $i UP; done
[ "$(curl -s "http://127.0.0.1:$fport/small.txt")" = "small file" ] || fail "no answer through haproxy"
# From 127.0.0.2, round robin: two requests for each instance.
for k in 1 2 3 4 5 6; do
  [ "$(curl -s --interface 127.0.0.2 "http://127.0.0.1:$fport/small.txt?from2")" = "small file" ] ||
    fail "no answer for 127.0.0.2"
done

# The load: long enough for every step below, ended with SIGINT (wrk then
# prints its summary) once they are done.
wrk -t2 -c8 -d120s "http://127.0.0.1:$fport/small.txt" >"$t/wrk.out" 2>&1 &
wrkpid=$!
sleep 1

for round in 1 2 3; do
  for i in 0 1 2; do
    old=${pid[$i]}
    kill -TERM "$old"
    wait_status $i DOWN            # health 503 during the grace
    wait_gone "$old" || fail "instance $i (pid $old) did not stop"
    wait "$old"; st=$?
    [ $st -eq 0 ] || fail "instance $i exit status $st"
    start $i
    wait_status $i UP
  done
  echo "rolling restart $round: done"
done

# The binary replaced in place (item 3): a new file at the same path, then
# SIGUSR2. The new process inherits the listening socket; the old drains.
cp "$ht_src" "$t/bin/ht.new" && mv -f "$t/bin/ht.new" "$t/bin/ht"
for i in 0 1 2; do
  old=${pid[$i]}
  err="$t/ht$i.${gen[$i]}.err"
  kill -USR2 "$old"
  wait_grep "$err" "handed over to pid" || fail "instance $i: no takeover"
  pid[$i]=$(sed -n 's/.*handed over to pid \([0-9]*\).*/\1/p' "$err" | tail -1)
  wait_gone "$old" || fail "instance $i: old pid $old did not stop"
  [ "$(status $i | cut -c1-2)" = "UP" ] || fail "s$i not UP after the takeover"
done
echo "in-place binary takeover: done"

sleep 1
kill -INT "$wrkpid"
i=0
while kill -0 "$wrkpid" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 200 ] && fail "wrk did not stop"; sleep 0.05
done
wrkpid=
cat "$t/wrk.out"
grep -q "requests in" "$t/wrk.out" || fail "no wrk summary"
grep -q "Socket errors" "$t/wrk.out" && fail "wrk saw socket errors"
grep -q "Non-2xx" "$t/wrk.out" && fail "wrk saw non-2xx responses"
n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$t/wrk.out")
[ "${n:-0}" -gt 100 ] || fail "only ${n:-0} requests"

# Stop: the instances (the takeover's are not this shell's children) and HAProxy.
for i in 0 1 2; do kill -TERM "${pid[$i]}"; done
for i in 0 1 2; do wait_gone "${pid[$i]}" || fail "instance $i did not stop"; done
pid=()
kill -TERM "$hap"
wait_gone "$hap" || fail "haproxy did not stop"
hap=
# The logs (each instance wrote out its lines when it stopped): every
# instance saw 127.0.0.2 as the client through 127.0.0.3; every request for
# the file came through the proxy; none of wrk's requests is missing.
for i in 0 1 2; do
  grep -q '"client":"127.0.0.2","proxy":"127.0.0.3","method":"GET","target":"/small.txt?from2"' "$t/ht$i.log" ||
    fail "instance $i: no line with client 127.0.0.2 via 127.0.0.3"
done
direct=$(cat "$t"/ht?.log | grep '"target":"/small.txt' | grep -vc '"proxy":"127.0.0.3"')
[ "$direct" -eq 0 ] || fail "$direct requests logged without the proxy"
logged=$(cat "$t"/ht?.log | grep -c '"target":"/small.txt"')
[ "$logged" -ge "$n" ] || fail "$logged requests logged, wrk made $n"
echo "haproxy_e2e: 3 rolling restarts + 3 in-place takeovers under load, $n requests (logged: $logged), 0 errors"
