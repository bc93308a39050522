"""Hostile scenarios, slow clients: slowloris (heads and bodies trickled a
byte a second) and slow readers (a big file read at a trickle). Run by
hostile.py; the harness is hostile_harness.py."""
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time

from hostile_harness import (CLI, SCALE, SERVER, Server, connect, get, log, percentile, raise_nofile,
                             wait_until)


def slowloris():
    """Thousands of connections trickle one byte per second: three in four
    into a request head, one in four into a body (R-U-Dead-Yet). A normal
    client keeps a p99 latency under 50 ms meanwhile; the header timeout
    (counted from the first byte, not reset by more) closes every head
    trickler, while body tricklers live on (the body timeout is the longest
    gap between reads, 10 s) without disturbing anyone."""
    limit = raise_nofile()
    n = int(min(2000 * SCALE, limit - 200))
    assert n >= 500, "RLIMIT_NOFILE %d leaves too few descriptors" % limit
    header_to = 4.0
    srv = Server("-w", 1, "-H", int(header_to * 1000))
    try:
        fd0 = srv.baseline()
        rss0 = srv.rss_kib()
        head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 64
        body_head = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"
        nb = n // 4  # connections 0 .. nb-1 trickle a body
        socks, opened, closed = [], [], {}
        sel = selectors.DefaultSelector()
        t_open = time.monotonic()
        for i in range(n):
            s = connect(srv.port)
            s.setblocking(False)
            s.send(body_head + b"b" if i < nb else head[:1])
            socks.append(s)
            opened.append(time.monotonic())
            sel.register(s, selectors.EVENT_READ, i)
        t_opened = time.monotonic() - t_open
        assert wait_until(lambda: srv.fds() >= fd0 + n, 5), \
            "server holds %d of %d connections" % (srv.fds() - fd0, n)
        log("slowloris: %d connections opened in %.2f s; server fds %d -> %d" %
            (n, t_opened, fd0, srv.fds()))
        # The probe runs in its own process so that this one's trickling
        # (n sends a second) does not sit between it and the server.
        probe = subprocess.Popen([sys.executable, CLI, SERVER, "_probe", str(srv.port),
                                  "200", "0.012"], stdout=subprocess.PIPE)
        pos = [1] * n
        t_end = time.monotonic() + header_to + 3.0
        tick = 0
        while time.monotonic() < t_end:
            # one byte per connection per second, spread over 20 ticks
            now = time.monotonic()
            for i in range(tick % 20, n, 20):
                if i in closed or pos[i] >= len(head):
                    continue
                try:
                    socks[i].send(b"b" if i < nb else head[pos[i]:pos[i] + 1])
                    pos[i] += 1
                except OSError:
                    pass  # closed by the server: seen below
            for key, _ in sel.select(0.05):
                i = key.data
                try:
                    d = socks[i].recv(4096)
                except OSError:
                    d = b""
                if not d or d.startswith(b"HTTP/1.1 408"):
                    closed[i] = time.monotonic() - opened[i]
                    sel.unregister(socks[i])
                elif i not in closed:
                    raise AssertionError("trickler %d got %r" % (i, d[:40]))
            tick += 1
            if tick == 40:  # 2 s in: every trickler holds its partial request
                rss1 = srv.rss_kib()
        out, _ = probe.communicate(timeout=30)
        assert probe.returncode == 0, "latency probe failed"
        lat = [float(x) for x in out.split()]
        p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
        log("slowloris: probe %d requests during the attack: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
            % (len(lat), p50 * 1e3, p99 * 1e3, max(lat) * 1e3))
        body_closed = [i for i in closed if i < nb]
        assert not body_closed, "%d body tricklers closed while still sending" % len(body_closed)
        assert len(closed) == n - nb, "%d of %d head tricklers still open after %.1f s" % (
            n - nb - len(closed), n - nb, header_to + 3)
        early = [t for t in closed.values() if t < header_to - 0.3]
        log("slowloris: all %d head tricklers closed by the header timeout (%.1f s), after "
            "%.2f .. %.2f s; all %d body tricklers still open after %.1f s" %
            (n - nb, header_to, min(closed.values()), max(closed.values()), nb, header_to + 3))
        assert not early, "%d tricklers closed before the header timeout" % len(early)
        per_conn = (rss1 - rss0) / n
        log("slowloris: server RSS %d KiB idle, %d KiB with %d tricklers (%.1f KiB each)" %
            (rss0, rss1, n, per_conn))
        # a partial request holds a buffer of its own, touched only where
        # bytes arrived (plus the connection struct, and ASan's redzones)
        assert per_conn < 16, "%.1f KiB per trickling connection" % per_conn
        assert p99 < 0.050, "p99 latency %.1f ms under slowloris" % (p99 * 1e3)
        for s in socks:
            s.close()
        assert wait_until(lambda: srv.fds() == fd0, 5), "fds %d, baseline %d" % (srv.fds(), fd0)
    except BaseException:
        srv.kill()
        raise
    srv.stop()


def slow_readers():
    """Clients that request a big file and read it at a trickle are dropped
    by the send timeout: the server's descriptors (socket and file) return
    to the baseline within timeout + slack while the clients still sit
    there, and other clients are served meanwhile."""
    tmp = tempfile.mkdtemp(prefix="hostile_")
    size = 64 << 20
    with open(os.path.join(tmp, "big"), "wb") as f:
        f.truncate(size)  # sparse: sendfile reads zeros
    send_to = 1.0
    k = int(16 * SCALE) or 1
    srv = Server("-w", 1, "-s", int(send_to * 1000), "-d", tmp)
    try:
        fd0 = srv.baseline()
        cl = []
        for _ in range(k):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(5)
            s.connect(("127.0.0.1", srv.port))
            s.sendall(b"GET /f/big HTTP/1.1\r\nHost: t\r\n\r\n")
            cl.append(s)
        t0 = time.monotonic()
        got = [0] * k
        dropped_at = None
        while time.monotonic() - t0 < send_to + 4:
            for i, s in enumerate(cl):  # a trickle: 512 bytes per client per 100 ms
                try:
                    got[i] += len(s.recv(512, socket.MSG_DONTWAIT))
                except (BlockingIOError, OSError):
                    pass
            if srv.fds() == fd0:
                dropped_at = time.monotonic() - t0
                break
            time.sleep(0.1)
        st, body, dt = get(srv.port)
        assert st == 200 and dt < 1.0, "normal client: %d in %.3f s" % (st, dt)
        assert dropped_at is not None, "server still holds %d fds (baseline %d) after %.1f s" % (
            srv.fds(), fd0, send_to + 4)
        # What each client can still read is bounded by the socket buffers,
        # then the connection ends (FIN or reset), far short of the file.
        total = []
        for i, s in enumerate(cl):
            s.settimeout(5)
            n = got[i]
            try:
                while True:
                    d = s.recv(1 << 20)
                    if not d:
                        break
                    n += len(d)
            except ConnectionResetError:
                pass
            total.append(n)
            s.close()
        log("slow_readers: %d clients of a %d MiB file dropped %.2f s after the request "
            "(send timeout %.1f s); they got %d .. %d bytes" %
            (k, size >> 20, dropped_at, send_to, min(total), max(total)))
        assert dropped_at >= send_to * 0.8, "dropped before the send timeout"
        assert max(total) < size // 2, "a slow reader got %d of %d bytes" % (max(total), size)
    except BaseException:
        srv.kill()
        raise
    finally:
        os.unlink(os.path.join(tmp, "big"))
        os.rmdir(tmp)
    srv.stop()
