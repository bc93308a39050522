#!/usr/bin/env python3
"""Hostile clients against hostile_server, a real server process.

usage: hostile.py HOSTILE_SERVER SCENARIO
       (scenarios: see SCENARIOS at the bottom; "all" runs every one)

Each scenario starts its own server on 127.0.0.1 (the kernel picks the
port), attacks it, asserts figures read from /proc/PID of the server (CPU
time, VmRSS, open descriptors) and from the clients (status codes,
latencies), and stops it with SIGTERM: it must exit 0 (no sanitizer report,
no leak) within 10 s. Every loop is bounded in count and time. Counts scale
with HOSTILE_SCALE (default 1.0) and the descriptor limit; the figures are
printed so a CI log shows what was measured.

The scenarios are in hostile_slow.py (slowloris, slow readers) and
hostile_flood.py (connection floods, descriptor exhaustion, resets,
pipelined floods, bombs); the server process, clients and checks they share
in hostile_harness.py. Standard library only.
"""
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
# (the modules below are next to this file: sys.path[0] when run as a script)
from hostile_flood import bombs, conn_flood, fd_exhaustion, pipeline_flood, resets  # noqa: E402
from hostile_harness import latency_probe, log  # noqa: E402
from hostile_slow import slow_readers, slowloris  # noqa: E402


SCENARIOS = {f.__name__: f for f in
             (slowloris, slow_readers, conn_flood, fd_exhaustion, resets, pipeline_flood, bombs)}


def main():
    if len(sys.argv) >= 3 and sys.argv[2] == "_probe":
        lat = latency_probe(int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
        print(" ".join("%.6f" % x for x in lat))
        return 0
    if len(sys.argv) != 3 or (sys.argv[2] not in SCENARIOS and sys.argv[2] != "all"):
        print(__doc__)
        return 2
    names = list(SCENARIOS) if sys.argv[2] == "all" else [sys.argv[2]]
    for name in names:
        t0 = time.monotonic()
        SCENARIOS[name]()
        log("%s: passed in %.1f s" % (name, time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
