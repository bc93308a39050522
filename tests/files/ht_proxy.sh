#!/bin/sh
# tests/files/ht_proxy.sh HT_BIN: ht behind a proxy (issue 19 item 1):
# --proxy-protocol takes the client's address from a PROXY v1/v2 header
# (the access log shows it), refuses a connection without one; and
# --trust-forwarded believes X-Forwarded-For from a trusted peer only.
# Bounded waits; the server is stopped by PID.
set -u
ht=$1
t=$(mktemp -d /tmp/ht_proxy.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$t"/*.log "$t"/*.err; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
mkdir "$t/root"
echo "hello" > "$t/root/a.txt"
start() {
  # The last instance's "serving" line must not be read as this one's: the
  # background shell may not have truncated ht.err yet when the wait begins.
  rm -f "$t/ht.err"
  "$ht" -b 127.0.0.1 -p 0 -d "$t/root" -w 1 --access-log "$@" >"$t/access.log" 2>"$t/ht.err" &
  pid=$!
  i=0
  while ! grep -q "ht: serving" "$t/ht.err" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 200 ] && fail "ht did not start"; sleep 0.05
  done
  port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$t/ht.err" | head -n 1)
}
stop() {
  kill -TERM "$pid"; wait "$pid"; st=$?; pid=
  [ $st -eq 0 ] || fail "exit status $st"
}
# send PORT HEXBYTES: sends them, prints the status line ("" if closed unanswered)
send() {
  python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(bytes.fromhex(sys.argv[2]))
data = b""
try:
    while b"\r\n" not in data:
        b = s.recv(4096)
        if not b: break
        data += b
except (ConnectionResetError, socket.timeout):
    pass
print(data.split(b"\r\n")[0].decode(errors="replace"))
PY
}
hex() { printf "$1" | od -An -v -tx1 | tr -d ' \n'; } # $1: printf format, no %
req=$(hex "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

start --proxy-protocol 127.0.0.0/8
v1=$(hex "PROXY TCP4 203.0.113.7 127.0.0.1 4711 80\r\n")
[ "$(send "$port" "$v1$req")" = "HTTP/1.1 200 OK" ] || fail "v1"
# v2: signature, PROXY/TCP4, 12 bytes of addresses (198.51.100.9:1234 -> 127.0.0.1:80)
v2=0d0a0d0a000d0a515549540a2111000cc6336409""7f000001""04d2""0050
[ "$(send "$port" "$v2$req")" = "HTTP/1.1 200 OK" ] || fail "v2"
[ -z "$(send "$port" "$req")" ] || fail "a request without the header was answered"
stop
grep -q '^203.0.113.7 ' "$t/access.log" || fail "v1 address not logged"
grep -q '^198.51.100.9 ' "$t/access.log" || fail "v2 address not logged"
[ "$(wc -l < "$t/access.log")" -eq 2 ] || fail "unexpected log lines"

# Not a trusted proxy: refused, nothing logged.
start --proxy-protocol 10.0.0.0/8
[ -z "$(send "$port" "$v1$req")" ] || fail "an untrusted proxy was answered"
stop
[ -s "$t/access.log" ] && fail "an untrusted proxy's request was logged"

# X-Forwarded-For from a trusted peer, and not from an untrusted one.
xff=$(hex "GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.20\r\nConnection: close\r\n\r\n")
start --trust-forwarded 127.0.0.1
[ "$(send "$port" "$xff")" = "HTTP/1.1 200 OK" ] || fail "xff"
stop
grep -q '^198.51.100.20 ' "$t/access.log" || fail "X-Forwarded-For not used"
start --trust-forwarded 10.0.0.0/8
[ "$(send "$port" "$xff")" = "HTTP/1.1 200 OK" ] || fail "xff untrusted"
stop
grep -q '^127.0.0.1 ' "$t/access.log" || fail "X-Forwarded-For believed from an untrusted peer"

"$ht" --proxy-protocol 10.0.0.0/33 -d "$t/root" 2>"$t/bad.err" && fail "a bad CIDR was accepted"
grep -q "bad --proxy-protocol" "$t/bad.err" || fail "bad CIDR message"
echo "ht_proxy: ok"
