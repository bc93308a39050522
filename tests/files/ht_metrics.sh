#!/bin/bash
# tests/files/ht_metrics.sh HT_BIN: `ht --metrics ADDR:PORT` (issue 19 item
# 6): /metrics on its own listener, in the Prometheus text format that
# `promtool check metrics` (Debian prometheus) accepts, with the responses
# counted by status class and method (the server's own 400 as method
# "none"), per worker, body bytes, the duration histogram and the gauges.
# Bounded waits; ht stopped by PID. 77 without promtool or curl.
set -u
ht=$1
for c in promtool curl python3; do
  command -v $c >/dev/null 2>&1 || { echo "no $c (Debian: prometheus curl python3)"; exit 77; }
done
t=$(mktemp -d /tmp/ht_metrics.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$t/err" "$t/m.txt" 2>/dev/null | tail -40; exit 1; }
mkdir "$t/root"
echo "small file" > "$t/root/small.txt"
"$ht" -p 0 -b 127.0.0.1 -d "$t/root" -w 2 --metrics 127.0.0.1:0 2>"$t/err" &
pid=$!
i=0
while ! grep -q "ht: serving" "$t/err" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 200 ] && fail "ht did not start"; sleep 0.05
done
port=$(sed -n 's/.*serving .* on http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$t/err")
mport=$(sed -n 's/.*metrics on http:\/\/127.0.0.1:\([0-9]*\)\/metrics.*/\1/p' "$t/err")
[ -n "$port" ] && [ -n "$mport" ] || fail "no ports"
for k in 1 2 3 4 5; do curl -s -o /dev/null "http://127.0.0.1:$port/small.txt"; done
curl -s -o /dev/null "http://127.0.0.1:$port/nope"
curl -s -o /dev/null -I "http://127.0.0.1:$port/small.txt"
python3 -c "import socket; s = socket.create_connection(('127.0.0.1', $port)); s.sendall(b'\x01 nonsense\r\n\r\n'); s.recv(100)"
sleep 0.3 # the gauges are refreshed by each worker's timer too
curl -s "http://127.0.0.1:$mport/metrics" > "$t/m.txt" || fail "no scrape"
promtool check metrics < "$t/m.txt" > "$t/promtool.out" 2>&1 || { cat "$t/promtool.out"; fail "promtool"; }
# Sums over the workers.
sum() { awk -v pat="$1" 'index($0, pat) == 1 { s += $NF } END { print s + 0 }' "$t/m.txt"; }
[ "$(sum 'ht_requests_total{worker=')" -eq 8 ] || fail "requests_total: $(sum 'ht_requests_total{worker=')"
[ "$(grep -c 'code="2xx",method="GET"' "$t/m.txt")" -ge 1 ] || fail "no 2xx GET"
[ "$(awk '/code="2xx",method="GET"/ { s += $NF } END { print s }' "$t/m.txt")" -eq 5 ] || fail "2xx GET != 5"
[ "$(awk '/code="2xx",method="HEAD"/ { s += $NF } END { print s }' "$t/m.txt")" -eq 1 ] || fail "2xx HEAD != 1"
[ "$(awk '/code="4xx",method="GET"/ { s += $NF } END { print s }' "$t/m.txt")" -eq 1 ] || fail "404 not counted"
[ "$(awk '/code="4xx",method="none"/ { s += $NF } END { print s }' "$t/m.txt")" -eq 1 ] || fail "400 not counted"
[ "$(sum 'ht_request_duration_seconds_count{')" -eq 8 ] || fail "histogram count"
[ "$(sum 'ht_response_body_bytes_total{')" -ge 55 ] || fail "bytes"
# Both workers are in the scrape, whichever the kernel gave the connections to.
for w in 0 1; do
  grep -q "^ht_open_connections{worker=\"$w\"} " "$t/m.txt" || fail "no open-connections gauge for worker $w"
done
[ "$(sum 'ht_accepted_total{')" -eq 8 ] || fail "accepted_total: $(sum 'ht_accepted_total{')"
grep -q '^ht_deferred_in_flight{worker=' "$t/m.txt" || fail "no deferred gauge"
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 200 ] && fail "ht did not stop"; sleep 0.05
done
wait "$pid"; st=$?
pid=
[ $st -eq 0 ] || fail "exit status $st"
echo "ht_metrics: ok ($(wc -l < "$t/m.txt") lines, promtool clean)"
