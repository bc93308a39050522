#!/bin/sh
# tests/files/ht_listen.sh HT_BIN UNITS_DIR: ht on sockets made elsewhere
# (issue 19 item 2), for real: started by systemd-socket-activate (LISTEN_FDS),
# on a Unix socket (a stale socket file from a killed ht is replaced, the file
# is removed at exit), on a host name; and the shipped systemd units pass
# `systemd-analyze verify`. Every wait is bounded; servers are stopped by PID.
# Exit 77 (skipped) without systemd-socket-activate or curl.
set -u
ht=$1
units=$2
command -v systemd-socket-activate >/dev/null 2>&1 || { echo "no systemd-socket-activate (Debian: systemd)"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "no curl"; exit 77; }
t=$(mktemp -d /tmp/ht_listen.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$t"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$t"/*.err; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
mkdir "$t/root"
echo "hello from the root" > "$t/root/a.txt"

# Waits (at most 10 s) until file $1 contains $2.
wait_for() {
  i=0
  while ! grep -q "$2" "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 200 ] && return 1; sleep 0.05
  done
}
# Stops $pid with SIGTERM; its exit status must be 0 (within 10 s).
stop() {
  kill -TERM "$pid"
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 200 ] && fail "pid $pid did not stop"; sleep 0.05
  done
  wait "$pid"; st=$?
  pid=
  [ $st -eq 0 ] || fail "exit status $st after SIGTERM"
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# 1. Socket activation: systemd-socket-activate binds, execs ht with LISTEN_FDS.
port=$(free_port)
systemd-socket-activate -l "127.0.0.1:$port" "$ht" -d "$t/root" -w 2 2>"$t/act.err" &
pid=$!
# The socket is bound before ht runs: the first connection makes
# systemd-socket-activate exec ht, which answers the request that waited in
# the accept queue meanwhile.
wait_for "$t/act.err" "Listening on" || fail "systemd-socket-activate did not listen"
body=$(curl -sS --max-time 10 "http://127.0.0.1:$port/a.txt") || fail "curl (activation)"
[ "$body" = "hello from the root" ] || fail "activation body: $body"
wait_for "$t/act.err" "ht: serving" || fail "activated ht did not say it serves"
grep -q "socket activation" "$t/act.err" || fail "not served from the passed socket"
body=$(curl -sS --max-time 5 "http://127.0.0.1:$port/a.txt") || fail "curl (activation, again)"
stop

# Several sockets: ht refuses them clearly rather than serving one.
p2=$(free_port)
timeout 10 systemd-socket-activate -l "127.0.0.1:$port" -l "127.0.0.1:$p2" "$ht" -d "$t/root" \
  2>"$t/two.err" & tp=$!
sleep 0.3
curl -s --max-time 2 "http://127.0.0.1:$port/" >/dev/null 2>&1
wait $tp; st=$?
[ $st -ne 0 ] || fail "two passed sockets: exit 0"
grep -q "ht serves one socket" "$t/two.err" || fail "two passed sockets: no message"

# 2. A Unix socket; a killed ht leaves a stale file the next one replaces.
sock="$t/ht.sock"
"$ht" -b "unix:$sock" -d "$t/root" -w 1 2>"$t/unix1.err" &
pid=$!
wait_for "$t/unix1.err" "ht: serving .* on unix:$sock" || fail "unix ht did not serve"
body=$(curl -sS --max-time 5 --unix-socket "$sock" http://x/a.txt) || fail "curl (unix)"
[ "$body" = "hello from the root" ] || fail "unix body: $body"
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
[ -S "$sock" ] || fail "no stale socket file after kill -9"
# On io_uring the kernel tears a dead process's ring down asynchronously,
# and a pending accept keeps the listening socket open until it has: the
# file is stale only once a connect is refused (bounded wait).
i=0
until python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$sock" 2>/dev/null; [ $? -ne 0 ]; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "the killed ht's socket still accepts after 5 s"; sleep 0.05
done
"$ht" -b "unix:$sock" -d "$t/root" -w 1 2>"$t/unix2.err" &
pid=$!
wait_for "$t/unix2.err" "ht: serving" || fail "ht did not replace the stale socket"
body=$(curl -sS --max-time 5 --unix-socket "$sock" http://x/a.txt) || fail "curl (unix, again)"
# A second ht must not take a live socket over.
"$ht" -b "unix:$sock" -d "$t/root" -w 1 2>"$t/unix3.err" & p3=$!
i=0; while kill -0 $p3 2>/dev/null; do i=$((i + 1)); [ $i -gt 200 ] && { kill -9 $p3; fail "second ht kept running"; }; sleep 0.05; done
wait $p3 && fail "second ht on a live socket exited 0"
grep -q "Address already in use" "$t/unix3.err" || fail "second ht: $(cat "$t/unix3.err")"
curl -sS --max-time 5 --unix-socket "$sock" http://x/a.txt >/dev/null || fail "live socket was taken"
# A takeover (SIGUSR2) keeps the file: the old process must not remove what
# the new one serves; the new one removes it when it stops.
kill -USR2 "$pid"
wait_for "$t/unix2.err" "handed over to pid" || fail "no takeover"
new=$(sed -n 's/.*handed over to pid \([0-9]*\).*/\1/p' "$t/unix2.err" | head -n 1)
wait "$pid"; st=$?
[ $st -eq 0 ] || fail "old ht exited $st after the takeover"
pid=$new
[ -S "$sock" ] || fail "the old ht removed the socket file the new one serves"
curl -sS --max-time 5 --unix-socket "$sock" http://x/a.txt >/dev/null || fail "curl after the takeover"
kill -TERM "$pid"
i=0; while kill -0 "$pid" 2>/dev/null; do i=$((i + 1)); [ $i -gt 200 ] && fail "new ht did not stop"; sleep 0.05; done
pid=
[ -e "$sock" ] && fail "socket file left after a clean exit"

# 3. A host name.
"$ht" -b localhost -p 0 -d "$t/root" -w 1 2>"$t/name.err" &
pid=$!
wait_for "$t/name.err" "ht: serving .* on http://localhost:" || fail "ht -b localhost did not serve"
port=$(sed -n 's/.*http:\/\/localhost:\([0-9]*\)\/.*/\1/p' "$t/name.err" | head -n 1)
body=$(curl -sS --max-time 5 "http://localhost:$port/a.txt") || fail "curl (localhost)"
[ "$body" = "hello from the root" ] || fail "name body: $body"
stop
"$ht" -b no-such-host.invalid -p 0 -d "$t/root" 2>"$t/bad.err" && fail "unresolvable name: exit 0"
grep -q "no such host" "$t/bad.err" || fail "unresolvable name: $(cat "$t/bad.err")"

# 3b. The "serving" line says what was bound: without -b the dual-stack
# [::] (bracketed, "IPv4 and IPv6"), or 0.0.0.0 on a host without IPv6; an
# IPv6 literal in brackets. -w past the cores is said, not silently taken.
cores=$(nproc)
"$ht" -p 0 -d "$t/root" -w $((cores + 1)) 2>"$t/any.err" &
pid=$!
wait_for "$t/any.err" "ht: serving" || fail "ht without -b did not serve"
grep -Eq "on http://\[::\]:[0-9]+/ \(every address, IPv4 and IPv6\)|on http://0\.0\.0\.0:[0-9]+/ \(every IPv4 address\)" \
  "$t/any.err" || fail "serving line without -b: $(cat "$t/any.err")"
grep -q "workers share cores" "$t/any.err" || fail "no warning for -w $((cores + 1)) on $cores core(s)"
stop
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  "$ht" -b ::1 -p 0 -d "$t/root" -w 1 2>"$t/v6.err" &
  pid=$!
  wait_for "$t/v6.err" "ht: serving" || fail "ht -b ::1 did not serve"
  grep -Eq "on http://\[::1\]:[0-9]+/ with " "$t/v6.err" || fail "serving line for ::1: $(cat "$t/v6.err")"
  grep -q "share cores" "$t/v6.err" && fail "warned for -w 1"
  stop
fi

# 4. The shipped units, with ExecStart pointing at this ht (verify checks it).
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir "$t/units"
  sed "s#/usr/local/bin/ht#$ht#" "$units/ht.service" > "$t/units/ht.service"
  cp "$units/ht.socket" "$t/units/ht.socket"
  (cd "$t/units" && systemd-analyze verify ./ht.socket ./ht.service) >"$t/verify.err" 2>&1 ||
    fail "systemd-analyze verify"
  [ -s "$t/verify.err" ] && fail "systemd-analyze verify warned"
  echo "systemd-analyze verify: ok"
fi
echo "ht_listen: ok"
