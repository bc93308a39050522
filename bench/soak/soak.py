#!/usr/bin/env python3
"""Soak: a bounded run of millions of requests against hostile_server with 4
workers (tests/hostile/hostile_server.c), mixing keep-alive, pipelining,
bodies, errors and file ranges. Not part of CI (minutes).

usage: soak.py HOSTILE_SERVER [--seconds 180] [--procs 2] [--conns 4]
                              [--workers 4] [--warmup 0.2]

Client processes (--procs, each driving --conns connections in turn) pick a
random action per step:
  pipelined batch of 32 GET /      keep-alive GET /        POST /echo with a
  0-64 KiB body (checked)          GET /f/data with a random Range (206,
  bytes checked) or a whole file    404 and a handler's 503
  a malformed request (400, the server closes)             a 1 GB
  Content-Length (413, closes)      Connection: close (200, then EOF)
Every status and body is checked against what the action expects; anything
else counts as an unexpected error. Meanwhile the server's VmRSS is sampled
every second and its /proc/PID/fd count is compared before and after.

Exit 0 only if: zero unexpected errors, RSS after warm-up (the first
--warmup of the run) stays within 10% + 4 MiB of the warm-up value, and the
descriptor count returns to its baseline.
"""
import argparse
import multiprocessing as mp
import os
import random
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "hostile"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import hostile_harness as harness  # noqa: E402  (Server, Reader, /proc readers)

HELLO = b"hello from hachettp\n"
GET = b"GET / HTTP/1.1\r\nHost: soak\r\n\r\n"


def client(port, data, seconds, conns, seed, out):
    rnd = random.Random(seed)
    counts = {"requests": 0, "unexpected": 0, "reconnects": 0}
    errors = []
    socks = [None] * conns

    def conn(i):
        if socks[i] is None:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks[i] = (s, harness.Reader(s))
        return socks[i]

    def drop(i):
        if socks[i]:
            socks[i][0].close()
            socks[i] = None
            counts["reconnects"] += 1

    def bad(what):
        counts["unexpected"] += 1
        if len(errors) < 10:
            errors.append(what)

    def expect_eof(i):
        s, rd = socks[i]
        try:
            if rd.buf or s.recv(1):
                bad("data after a closing response")
        except OSError:
            pass
        drop(i)

    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        i = rnd.randrange(conns)
        a = rnd.random()
        try:
            s, rd = conn(i)
            if a < 0.45:  # pipelined batch
                s.sendall(GET * 32)
                for _ in range(32):
                    st, _, body = rd.response()
                    if st != 200 or body != HELLO:
                        bad("pipelined: %d" % st)
                counts["requests"] += 32
            elif a < 0.60:  # keep-alive
                s.sendall(GET)
                st, _, body = rd.response()
                if st != 200 or body != HELLO:
                    bad("keep-alive: %d" % st)
                counts["requests"] += 1
            elif a < 0.72:  # body
                body = rnd.randbytes(rnd.randrange(0, 65536))
                s.sendall(b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: %d\r\n\r\n"
                          % len(body) + body)
                st, _, got = rd.response()
                if st != 200 or got != body:
                    bad("echo: %d, %d of %d bytes" % (st, len(got), len(body)))
                counts["requests"] += 1
            elif a < 0.84:  # file range, sometimes the whole file
                if rnd.random() < 0.2:
                    s.sendall(b"GET /f/data HTTP/1.1\r\nHost: soak\r\n\r\n")
                    st, _, got = rd.response()
                    if st != 200 or got != data:
                        bad("file: %d" % st)
                else:
                    lo = rnd.randrange(len(data))
                    hi = min(len(data) - 1, lo + rnd.randrange(1, 200000))
                    s.sendall(b"GET /f/data HTTP/1.1\r\nHost: soak\r\nRange: bytes=%d-%d\r\n\r\n"
                              % (lo, hi))
                    st, h, got = rd.response()
                    if st != 206 or got != data[lo:hi + 1]:
                        bad("range %d-%d: %d" % (lo, hi, st))
                counts["requests"] += 1
            elif a < 0.92:  # errors that keep the connection
                if rnd.random() < 0.5:
                    s.sendall(b"GET /f/nope HTTP/1.1\r\nHost: soak\r\n\r\n")
                    want = 404
                else:
                    s.sendall(b"GET /err HTTP/1.1\r\nHost: soak\r\n\r\n")
                    want = 503
                st, _, _ = rd.response()
                if st != want:
                    bad("want %d: %d" % (want, st))
                counts["requests"] += 1
            elif a < 0.95:  # malformed: 400, closed
                s.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\nContent-Length: x\r\n\r\n")
                st, _, _ = rd.response()
                if st != 400:
                    bad("malformed: %d" % st)
                counts["requests"] += 1
                expect_eof(i)
            elif a < 0.97:  # body too large: 413, closed
                s.sendall(b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 1000000000\r\n\r\n")
                st, _, _ = rd.response()
                if st != 413:
                    bad("bomb: %d" % st)
                counts["requests"] += 1
                expect_eof(i)
            else:  # Connection: close
                s.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
                st, h, body = rd.response()
                if st != 200 or h.get("connection") != "close":
                    bad("close: %d" % st)
                counts["requests"] += 1
                expect_eof(i)
        except (OSError, EOFError, ValueError) as e:
            bad("%s: %s" % (type(e).__name__, e))
            drop(i)
    for i in range(conns):
        if socks[i]:
            socks[i][0].close()
    counts["errors"] = errors
    out.put(counts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--warmup", type=float, default=0.2)
    args = ap.parse_args()
    harness.SERVER = args.server

    tmp = tempfile.mkdtemp(prefix="soak_")
    data = random.Random(1).randbytes(1 << 20)
    with open(os.path.join(tmp, "data"), "wb") as f:
        f.write(data)
    srv = harness.Server("-w", args.workers, "-d", tmp)
    fd0 = srv.baseline()
    q = mp.Queue()
    procs = [mp.Process(target=client, args=(srv.port, data, args.seconds, args.conns, 1000 + k, q))
             for k in range(args.procs)]
    c0 = srv.cpu_s()
    t0 = time.monotonic()
    for p in procs:
        p.start()
    samples = []
    while time.monotonic() - t0 < args.seconds + 1 and any(p.is_alive() for p in procs):
        samples.append((time.monotonic() - t0, srv.rss_kib(), srv.fds()))
        time.sleep(1)
    results = [q.get(timeout=args.seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    wall = time.monotonic() - t0
    cpu = srv.cpu_s() - c0
    total = sum(r["requests"] for r in results)
    unexpected = sum(r["unexpected"] for r in results)
    reconnects = sum(r["reconnects"] for r in results)
    ok_fds = harness.wait_until(lambda: srv.fds() == fd0, 10)
    fd1 = srv.fds()
    warm = [r for t, r, _ in samples if t >= args.seconds * args.warmup]
    rss_warm, rss_max, rss_end = warm[0], max(warm), warm[-1]
    peak_fds = max(f for _, _, f in samples)
    srv.stop()
    os.unlink(os.path.join(tmp, "data"))
    os.rmdir(tmp)

    print("soak: %d requests in %.0f s (%.0f req/s) by %d client processes x %d connections, "
          "server %d workers" % (total, wall, total / wall, args.procs, args.conns, args.workers))
    print("soak: unexpected errors %d; reconnects after 400/413/close %d" % (unexpected, reconnects))
    for r in results:
        for e in r["errors"]:
            print("  error:", e)
    print("soak: server RSS after warm-up %d KiB, max %d KiB, at the end %d KiB" %
          (rss_warm, rss_max, rss_end))
    print("soak: server fds before %d, peak %d, after %d; server CPU %.1f s (user+sys)" %
          (fd0, peak_fds, fd1, cpu))
    ok = unexpected == 0 and ok_fds and rss_max <= rss_warm * 1.10 + 4096
    print("soak:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
