#!/usr/bin/env python3
"""Clients of the deferred-response benchmarks (bench/defer/run.sh,
BENCHMARKS.md "Deferred responses and streams"). The server is
bench/defer/defer_server (or, for `ka`, any HTTP/1.1 server on 127.0.0.1).

  defer_client.py ka PORT PATH N
      N sequential keep-alive GETs of PATH on one connection (each response
      read whole before the next request): the load of insn.sh.
  defer_client.py sse PORT PID [--streams 10000] [--hold 3]
      opens that many connections, sends GET /sse on each, reads each head;
      prints the server's VmRSS / VmHWM (kB) idle (before any connection)
      and with every stream open, after --hold seconds (each stream has had
      its events by then), and per stream. Needs `ulimit -n` above the count.
  defer_client.py upload PORT PID [--bytes 1073741824] [--framing length|chunked]
      POST /upload of that many zero bytes, Content-Length or chunked, while
      sampling the server's VmRSS every 50 ms; checks the 201's count; prints
      RSS before, the peak during, and the growth (run it on a fresh server:
      then VmHWM's rise is exact).
  defer_client.py slow PORT [--conns 1000] [--ms 500] [--probes 7]
      that many concurrent GET /slow?ms=MS, one connection each; while they
      wait, GET / on another connection --probes times (the first right behind
      the burst of requests, the rest spread over the wait); prints the slowest
      /slow completion (from the moment all were sent) and the probes'
      latencies.
Every subcommand prints one line "key=value ..." last, for run.sh.
"""
import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import time

HELLO = b"hello from hachettp\n"


def status_kb(pid):
    """VmRSS and VmHWM of a process, in kB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out["VmRSS"], out["VmHWM"]


def read_response(sock, buf):
    """Reads one Content-Length response from sock; buf holds bytes already
    received. Returns (status, body, rest)."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("EOF in head")
        buf += d
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    n = 0
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(buf) < n:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("EOF in body")
        buf += d
    return status, buf[:n], buf[n:]


def cmd_ka(a):
    s = socket.create_connection(("127.0.0.1", a.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # KA_HEADERS: more fields, "Name: value" lines separated by "|" (a
    # browser's, to count what real requests cost; insn.sh passes it on).
    extra = "".join(f + "\r\n" for f in os.environ.get("KA_HEADERS", "").split("|") if f)
    req = f"GET {a.path} HTTP/1.1\r\nHost: bench\r\n{extra}\r\n".encode()
    want = int(os.environ.get("KA_STATUS", "200"))  # 304 for a revalidation (If-None-Match)
    buf = b""
    bad = 0
    for _ in range(a.n):
        s.sendall(req)
        st, body, buf = read_response(s, buf)
        bad += st != want
    s.close()
    print(f"requests={a.n} not{want}={bad}")
    return 1 if bad else 0


async def open_sse(port, sem, heads_ok):
    async with sem:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET /sse HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
        head = await r.readuntil(b"\r\n\r\n")
        if head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head:
            heads_ok.append(1)
    return r, w


async def drain(r, counter):
    try:
        while True:
            d = await r.read(4096)
            if not d:
                return
            counter[0] += d.count(b"data: tick")
    except (ConnectionError, asyncio.CancelledError):
        return


async def get_stats(port):
    """defer_server's /stats (the allocator's live bytes with -c, else -1)."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"GET /stats HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    body = (await r.read()).partition(b"\r\n\r\n")[2]
    w.close()
    try:
        return json.loads(body)
    except ValueError:
        return {}


async def sse_main(a):
    rss0, hwm0 = status_kb(a.pid)
    sem = asyncio.Semaphore(256)  # connects in flight: stay under the listen backlog
    heads = []
    t0 = time.monotonic()
    conns = await asyncio.gather(*(open_sse(a.port, sem, heads) for _ in range(a.streams)))
    t_open = time.monotonic() - t0
    events = [0]
    readers = [asyncio.ensure_future(drain(r, events)) for r, _ in conns]
    await asyncio.sleep(a.hold)
    rss1, hwm1 = status_kb(a.pid)
    live = await get_stats(a.port)
    for t in readers:
        t.cancel()
    for _, w in conns:
        w.close()
    await asyncio.sleep(0.5)
    per = (rss1 - rss0) / max(1, len(heads))
    print(f"streams: {len(heads)} of {a.streams} open in {t_open:.1f} s, {events[0]} events "
          f"read in {a.hold} s; RSS idle {rss0} kB (HWM {hwm0}), with streams {rss1} kB "
          f"(HWM {hwm1}), {per * 1024:.0f} B per stream; allocator: {live.get('live_bytes', -1)} B live",
          file=sys.stderr)
    print(f"streams={len(heads)} rss_idle_kb={rss0} rss_streams_kb={rss1} hwm_streams_kb={hwm1} "
          f"per_stream_b={per * 1024:.0f} events={events[0]} alloc_live_b={live.get('live_bytes', -1)}")
    return 0 if len(heads) == a.streams else 1


def cmd_sse(a):
    return asyncio.run(sse_main(a))


def cmd_upload(a):
    s = socket.create_connection(("127.0.0.1", a.port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rss0, hwm0 = status_kb(a.pid)
    peak = [rss0]
    if a.framing == "length":
        head = f"POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Length: {a.bytes}\r\n\r\n"
    else:
        head = "POST /upload HTTP/1.1\r\nHost: bench\r\nTransfer-Encoding: chunked\r\n\r\n"
    s.sendall(head.encode())
    piece = bytes(1 << 20)
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    left = a.bytes
    t0 = time.monotonic()
    next_sample = t0
    while left:
        n = min(left, len(piece))
        if a.framing == "length":
            s.sendall(piece if n == len(piece) else piece[:n])
        elif n == len(piece):
            s.sendall(chunk)
        else:
            s.sendall(f"{n:x}\r\n".encode() + piece[:n] + b"\r\n")
        left -= n
        now = time.monotonic()
        if now >= next_sample:
            peak[0] = max(peak[0], status_kb(a.pid)[0])
            next_sample = now + 0.05
    if a.framing == "chunked":
        s.sendall(b"0\r\n\r\n")
    st, body, _ = read_response(s, b"")
    secs = time.monotonic() - t0
    rss1, hwm1 = status_kb(a.pid)
    peak[0] = max(peak[0], rss1)
    s.close()
    ok = st == 201 and int(body) == a.bytes
    # On a fresh server VmHWM == VmRSS before the upload, so the HWM's rise
    # is the peak growth; the samples cover a server that had run before.
    grow = max(peak[0] - rss0, hwm1 - max(hwm0, rss0))
    print(f"upload {a.framing}: {a.bytes} B in {secs:.2f} s ({a.bytes / secs / 1e9:.2f} GB/s), "
          f"status {st}, count {body.strip().decode()}; RSS before {rss0} kB, peak sampled "
          f"{peak[0]} kB, HWM {hwm0} -> {hwm1} kB", file=sys.stderr)
    print(f"framing={a.framing} ok={int(ok)} rss_before_kb={rss0} rss_peak_kb={peak[0]} "
          f"hwm_before_kb={hwm0} hwm_after_kb={hwm1} growth_kb={grow} secs={secs:.2f}")
    return 0 if ok else 1


async def one_slow(port, ms, sem, opened, sent, done):
    async with sem:
        r, w = await asyncio.open_connection("127.0.0.1", port)
    opened[0] += 1
    await sent.wait()  # every connection is open: send all at once
    w.write(f"GET /slow?ms={ms} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    head = await r.readuntil(b"\r\n\r\n")
    n = 0
    for l in head.split(b"\r\n"):
        k, _, v = l.partition(b":")
        if k.lower() == b"content-length":
            n = int(v)
    body = await r.readexactly(n)
    done.append((time.monotonic(), head.startswith(b"HTTP/1.1 200") and body == HELLO))
    w.close()


async def slow_main(a):
    sem = asyncio.Semaphore(256)
    sent = asyncio.Event()
    done = []
    opened = [0]
    tasks = [asyncio.ensure_future(one_slow(a.port, a.ms, sem, opened, sent, done))
             for _ in range(a.conns)]
    pr, pw = await asyncio.open_connection("127.0.0.1", a.port)
    pw.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while opened[0] < a.conns:  # every /slow connection open, waiting on `sent`
        if any(t.done() for t in tasks):
            await asyncio.gather(*tasks)  # a connect failed: raise it
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    t0 = time.monotonic()
    sent.set()
    await asyncio.sleep(0)  # let every task write its request
    t_sent = time.monotonic() - t0
    lat = []
    for i in range(a.probes):  # the first at once, behind the burst; then spread out
        if i:
            await asyncio.sleep(a.ms / 1000 / (a.probes + 2))
        t1 = time.perf_counter()
        pw.write(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
        await pr.readuntil(b"\r\n\r\n")
        await pr.readexactly(len(HELLO))
        lat.append((time.perf_counter() - t1) * 1000)
    await asyncio.gather(*tasks)
    pw.close()
    ok = sum(1 for _, good in done if good)
    worst = max(t for t, _ in done) - t0
    print(f"slow: {ok} of {a.conns} GET /slow?ms={a.ms} answered 200, all sent in "
          f"{t_sent * 1000:.0f} ms, last completed {worst * 1000:.0f} ms after the first send; "
          f"GET / meanwhile (ms): {' '.join(f'{x:.2f}' for x in lat)}", file=sys.stderr)
    print(f"ok={ok} conns={a.conns} max_ms={worst * 1000:.0f} probe_median_ms={statistics.median(lat):.2f} "
          f"probe_max_ms={max(lat):.2f}")
    return 0 if ok == a.conns else 1


def cmd_slow(a):
    return asyncio.run(slow_main(a))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("ka")
    k.add_argument("port", type=int)
    k.add_argument("path")
    k.add_argument("n", type=int)
    s = sub.add_parser("sse")
    s.add_argument("port", type=int)
    s.add_argument("pid", type=int)
    s.add_argument("--streams", type=int, default=10000)
    s.add_argument("--hold", type=float, default=3.0)
    u = sub.add_parser("upload")
    u.add_argument("port", type=int)
    u.add_argument("pid", type=int)
    u.add_argument("--bytes", type=int, default=1 << 30)
    u.add_argument("--framing", choices=("length", "chunked"), default="length")
    w = sub.add_parser("slow")
    w.add_argument("port", type=int)
    w.add_argument("--conns", type=int, default=1000)
    w.add_argument("--ms", type=int, default=500)
    w.add_argument("--probes", type=int, default=7)
    a = p.parse_args()
    return {"ka": cmd_ka, "sse": cmd_sse, "upload": cmd_upload, "slow": cmd_slow}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
