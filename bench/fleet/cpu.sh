#!/bin/bash
# bench/fleet/cpu.sh HT_BIN [HT_ARGS...]: the server's CPU time (user +
# system, from /proc/PID/stat) per request, in microseconds, for `ht -w 1`
# serving a 2.7 KB file under `wrk -t1 -c32 -d${DUR:-4}s` on 127.0.0.1.
# Steadier than requests/s on a busy shared machine (BENCHMARKS.md "Access
# logs"): alternate configurations over a few rounds and compare medians.
#   bench/fleet/cpu.sh build/examples/ht/ht --access-log /tmp/a.log --log-format json
set -u
bin=$1; shift
t=$(mktemp -d /tmp/htcpu.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
mkdir "$t/d"
python3 -c 'import sys; sys.stdout.write(("0123456789abcdefghijklmnopqrstuvwxyz" * 80)[:2699] + "\n")' > "$t/d/f.txt"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" -w 1 -b 127.0.0.1 -p "$port" -d "$t/d" "$@" > /dev/null 2> "$t/err" &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/f.txt" && break; sleep 0.1; done
t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
n=$(wrk -t1 -c32 -d"${DUR:-4}s" "http://127.0.0.1:$port/f.txt" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
python3 -c "print('%.2f' % (($t1 - $t0) / $(getconf CLK_TCK) * 1e6 / $n))"
kill "$pid"; wait "$pid" 2>/dev/null; pid=
