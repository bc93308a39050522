"""Hostile scenarios, clients that push too much: connection floods past
the cap, descriptor exhaustion, resets mid request and mid response,
pipelined floods never read, header and body bombs. Run by hostile.py; the
harness is hostile_harness.py."""
import os
import socket
import tempfile
import time

from hostile_harness import (REQ, SCALE, Reader, Server, connect, get, log, percentile, raise_nofile,
                             rst_close, wait_until)


def conn_flood():
    """Far more connections than the cap: the connections already open keep
    being served, the server holds no more than the cap and does not spin on
    the pending ones, and they are served once room frees up."""
    cap, backlog = 32, 64
    flood = int(400 * SCALE)
    raise_nofile()
    srv = Server("-w", 1, "-c", cap, "-b", backlog)
    try:
        fd0 = srv.baseline()
        held = [connect(srv.port) for _ in range(cap)]
        rds = [Reader(s) for s in held]
        for s, r in zip(held, rds):
            s.sendall(REQ)
            assert r.response()[0] == 200
        # the flood: non-blocking connects, each sends a request once its
        # handshake completes (the kernel's backlog, not the server, holds them)
        fl = []
        for _ in range(flood):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", srv.port))
            fl.append(s)
        sent = set()

        def send_ready():
            for i, s in enumerate(fl):
                if i in sent:
                    continue
                try:
                    s.send(REQ)
                    sent.add(i)
                except (BlockingIOError, OSError):
                    pass
        time.sleep(0.3)
        send_ready()
        c0, w0 = srv.cpu_s(), time.monotonic()
        lat = []
        for rnd in range(5):
            for s, r in zip(held, rds):
                t = time.monotonic()
                s.sendall(REQ)
                assert r.response()[0] == 200, "held connection not served at the cap"
                lat.append(time.monotonic() - t)
            assert srv.fds() <= fd0 + cap, "server holds %d connections, cap %d" % (
                srv.fds() - fd0, cap)
            time.sleep(0.2)
        cpu = (srv.cpu_s() - c0) / (time.monotonic() - w0)
        # nothing of the flood was answered while at the cap
        for s in fl:
            try:
                assert not s.recv(1, socket.MSG_DONTWAIT), "a flood connection was served at the cap"
            except (BlockingIOError, OSError):
                pass
        log("conn_flood: %d held + %d flooding (%d handshakes done); held p99 %.1f ms; "
            "server CPU %.1f%% at the cap" % (cap, flood, len(sent), percentile(lat, 0.99) * 1e3,
                                               cpu * 100))
        assert cpu < 0.25, "server CPU %.0f%% while at the cap" % (cpu * 100)
        for s in held:
            s.close()
        # room again: the pending ones are accepted and served
        served = 0
        t_end = time.monotonic() + 8
        pending = set(range(flood))
        peak, failed = 0, []
        while pending and time.monotonic() < t_end:
            send_ready()
            for i in list(pending):
                if i not in sent:
                    continue
                try:
                    d = fl[i].recv(4096, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                except OSError as e:
                    d = str(e).encode()
                pending.discard(i)
                if d.startswith(b"HTTP/1.1 200"):
                    served += 1
                    fl[i].close()  # make room for the next
                else:
                    failed.append(d[:40])
            peak = max(peak, srv.fds() - fd0)
            time.sleep(0.02)
        log("conn_flood: after the held ones left, %d of %d flood connections served, %d closed"
            " unanswered, %d still waiting (never sent: %d); peak server connections %d (cap %d)"
            % (served, flood, len(failed), len(pending), flood - len(sent), peak, cap))
        if failed:
            log("conn_flood: unanswered, e.g. %r" % sorted(set(failed))[:3])
        # io_uring's multishot accept may pass the cap by what it already
        # took from the backlog when the cap was hit (see ht/config.h): one
        # burst of the kernel's, which empties the backlog while clients'
        # handshakes refill it. Idle, the peak is at most cap + backlog (96
        # here); under CI's parallel load one burst took 107 (139 held). The
        # bound checked is two backlogs: a server that kept accepting at the
        # cap would hold all 400.
        assert peak <= cap + 2 * backlog, "server held %d connections, cap %d + 2 x backlog %d" % (
            peak, cap, backlog)
        assert not failed, "%d flood connections dropped unanswered" % len(failed)
        assert served == flood, "only %d of %d flood connections served" % (served, flood)
        for s in fl:
            s.close()
        st, _, _ = get(srv.port)
        assert st == 200
    except BaseException:
        srv.kill()
        raise
    srv.stop()


def fd_exhaustion():
    """The server runs out of descriptors (RLIMIT_NOFILE 64): it does not
    spin retrying accept, serves the connections it has, and picks up the
    waiting ones as descriptors free up."""
    nofile = 64
    srv = Server("-w", 1, nofile=nofile)
    try:
        fd0 = srv.baseline()
        room = nofile - fd0
        n = room + 40
        cl = []
        for _ in range(n):
            s = connect(srv.port)
            s.setblocking(False)
            s.send(REQ)
            cl.append(s)
        answered = set()

        def poll():
            for i, s in enumerate(cl):
                if i in answered or s is None:
                    continue
                try:
                    d = s.recv(4096)
                except BlockingIOError:
                    continue
                assert d.startswith(b"HTTP/1.1 200"), "client %d got %r" % (i, d[:40])
                answered.add(i)
        wait_until(lambda: (poll(), len(answered) >= room - 2)[1], 5)
        time.sleep(0.3)
        poll()
        first = len(answered)
        assert srv.fds() == nofile, "server at %d fds, limit %d" % (srv.fds(), nofile)
        c0, w0 = srv.cpu_s(), time.monotonic()
        time.sleep(2.0)
        cpu = (srv.cpu_s() - c0) / (time.monotonic() - w0)
        poll()
        log("fd_exhaustion: limit %d, baseline %d fds: %d of %d clients served, server CPU %.1f%%"
            " over 2 s at the limit" % (nofile, fd0, len(answered), n, cpu * 100))
        assert first == len(answered) and first <= room, "more served (%d) than fds allow (%d)" % (
            len(answered), room)
        assert first >= room - 4, "only %d served with room for %d" % (first, room)
        assert cpu < 0.10, "server CPU %.0f%% at the fd limit: a busy loop" % (cpu * 100)
        # an existing connection is still served
        i = min(answered)
        cl[i].setblocking(True)
        cl[i].settimeout(5)
        cl[i].sendall(REQ)
        assert Reader(cl[i]).response()[0] == 200, "an accepted connection stopped being served"
        # free descriptors: the waiting clients are served
        for i in sorted(answered):
            cl[i].close()
            cl[i] = None
        ok = wait_until(lambda: (poll(), len(answered) == n)[1], 5)
        log("fd_exhaustion: after closing %d, served %d of %d" % (first, len(answered), n))
        assert ok, "%d clients never served after fds freed up" % (n - len(answered))
        for s in cl:
            if s:
                s.close()
        assert wait_until(lambda: srv.fds() == fd0, 5), "fds %d, baseline %d" % (srv.fds(), fd0)
        assert get(srv.port)[0] == 200
    except BaseException:
        srv.kill()
        raise
    srv.stop()


def resets():
    """Clients reset (SO_LINGER 0) mid request head, mid body and mid
    response (a file and a large memory body): the server keeps serving
    and its descriptor count returns to the baseline."""
    tmp = tempfile.mkdtemp(prefix="hostile_")
    with open(os.path.join(tmp, "big"), "wb") as f:
        f.write(os.urandom(1 << 20) * 8)
    rounds = int(60 * SCALE) or 1
    srv = Server("-w", 2, "-d", tmp)
    try:
        fd0 = srv.baseline()
        kinds = {"head": 0, "body": 0, "file": 0, "echo": 0}
        for r in range(rounds):
            batch = []
            s = connect(srv.port)
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nX-Par")
            batch.append(s)
            kinds["head"] += 1
            s = connect(srv.port)
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + b"x" * 40000)
            batch.append(s)
            kinds["body"] += 1
            s = connect(srv.port)
            s.sendall(b"GET /f/big HTTP/1.1\r\nHost: t\r\n\r\n")
            s.recv(65536)
            batch.append(s)
            kinds["file"] += 1
            s = connect(srv.port)
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 900000\r\n\r\n" + b"y" * 900000)
            s.recv(1000)
            batch.append(s)
            kinds["echo"] += 1
            if r % 2:
                time.sleep(0.01)  # let the server get into the middle of it
            for s in batch:
                rst_close(s)
            if r % 10 == 0:
                st, _, _ = get(srv.port)
                assert st == 200, "status %d after resets" % st
        ok = wait_until(lambda: srv.fds() == fd0, 5)
        log("resets: %s resets; server fds %d, baseline %d" % (kinds, srv.fds(), fd0))
        assert ok, "fd leak: %d fds, baseline %d" % (srv.fds(), fd0)
        st, body, dt = get(srv.port, "/f/big", timeout=10)
        assert st == 200 and len(body) == 8 << 20
    except BaseException:
        srv.kill()
        raise
    finally:
        os.unlink(os.path.join(tmp, "big"))
        os.rmdir(tmp)
    srv.stop()


def pipeline_flood():
    """Clients write requests without reading a response: the server stops
    reading them once its responses back up, so its memory stays bounded
    per connection; every request is then answered, in order."""
    conns = int(4 * SCALE) or 1
    cap_bytes = 32 << 20  # per connection, if the server never pushed back
    srv = Server("-w", 1)
    try:
        get(srv.port)
        rss0 = srv.rss_kib()
        cl = []
        for _ in range(conns):
            s = connect(srv.port)
            s.setblocking(False)
            cl.append(s)
        chunk = REQ * 2048
        sent = [0] * conns
        stalled = [0.0] * conns
        t_end = time.monotonic() + 10
        while time.monotonic() < t_end:
            progress = False
            for i, s in enumerate(cl):
                if sent[i] >= cap_bytes or stalled[i] >= 0.5:
                    continue
                try:
                    off = sent[i] % len(chunk)
                    n = s.send(chunk[off:])
                    sent[i] += n
                    stalled[i] = 0.0
                    progress = True
                except BlockingIOError:
                    stalled[i] += 0.01
            if all(x >= cap_bytes or y >= 0.5 for x, y in zip(sent, stalled)):
                break
            if not progress:
                time.sleep(0.01)
        rss1 = srv.rss_kib()
        reqs = [x // len(REQ) for x in sent]
        per_conn = (rss1 - rss0) / conns
        log("pipeline_flood: %d connections wrote %s requests (%.1f MiB each) unread; server RSS"
            " %d -> %d KiB (%.0f KiB per connection)" % (conns, reqs, sent[0] / 2**20, rss0, rss1, per_conn))
        assert max(sent) < cap_bytes, "the server kept reading %d MiB without being read" % (
            max(sent) >> 20)
        assert per_conn < 2048, "server RSS grew %.0f KiB per flooding connection" % per_conn
        # complete the last partial request, then read everything back
        for i, s in enumerate(cl):
            s.setblocking(True)
            s.settimeout(10)
        for i, s in enumerate(cl):
            rest = len(REQ) - sent[i] % len(REQ)
            if rest != len(REQ):
                # write the tail while reading: the server may not read it
                # until some responses are taken off its hands
                tail = REQ[len(REQ) - rest:]
                reqs[i] += 1
            else:
                tail = b""
            # the 100,000th request on a connection is its last (the
            # default max_keepalive_requests): it ends with Connection: close
            want = min(reqs[i], 100000)
            marker = b"HTTP/1.1 200 OK\r\n"
            count, carry = 0, b""
            s.setblocking(False)
            t_end = time.monotonic() + 20
            while count < want and time.monotonic() < t_end:
                if tail:
                    try:
                        tail = tail[s.send(tail):]
                    except BlockingIOError:
                        pass
                try:
                    d = s.recv(1 << 20)
                except BlockingIOError:
                    time.sleep(0.001)
                    continue
                if not d:
                    break
                buf = carry + d
                count += buf.count(marker)
                carry = buf[-(len(marker) - 1):]
            assert count == want, "connection %d: %d responses to %d requests" % (i, count, want)
        log("pipeline_flood: every request answered (%d in all, at most 100,000 per connection)"
            % sum(min(r, 100000) for r in reqs))
        for s in cl:
            s.close()
        assert get(srv.port)[0] == 200
    except BaseException:
        srv.kill()
        raise
    srv.stop()


def _bomb(port, head, body_chunk, limit):
    """Sends head, then body_chunk repeatedly (up to limit bytes) while
    watching for the answer; returns (status, bytes sent)."""
    s = connect(port)
    s.setblocking(False)
    data, sent, resp = head, 0, b""
    t_end = time.monotonic() + 10
    while time.monotonic() < t_end:
        try:
            d = s.recv(4096)
            if not d:
                break
            resp += d
            if b"\r\n\r\n" in resp:
                break
        except BlockingIOError:
            pass
        except OSError:
            break
        if sent < limit:
            try:
                n = s.send(data)
                sent += n
                data = data[n:] or body_chunk
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                pass  # reset after the answer: still read it
        else:
            time.sleep(0.001)
    s.close()
    st = int(resp.split()[1]) if resp.startswith(b"HTTP/1.1 ") else 0
    return st, sent


def bombs():
    """Header and body bombs get 431 and 413 without the server buffering
    them: its RSS stays bounded."""
    srv = Server("-w", 1, "-B", 65536)
    try:
        get(srv.port)
        rss0 = srv.rss_kib()
        bomb = 64 << 20
        cases = [
            ("one endless header", b"GET / HTTP/1.1\r\nHost: t\r\nX-Bomb: ", b"a" * 65536, 431),
            ("many header fields", b"GET / HTTP/1.1\r\nHost: t\r\n", b"X-B: 1\r\n" * 8192, 431),
            ("huge Content-Length", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000000\r\n\r\n",
             b"b" * 65536, 413),
            ("endless chunked body", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
             b"10000\r\n" + b"c" * 65536 + b"\r\n", 413),
            ("endless chunk extension", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1;e=",
             b"e" * 65536, 0),
            ("endless trailer", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n",
             b"X-T: 1\r\n" * 8192, 431),
        ]
        reps = int(8 * SCALE) or 1
        peak = rss0
        for name, head, chunk, want in cases:
            for _ in range(reps):
                st, sent = _bomb(srv.port, head, chunk, bomb)
                peak = max(peak, srv.rss_kib())
                if want:
                    assert st == want, "%s: status %d, want %d" % (name, st, want)
                else:
                    assert 400 <= st < 500, "%s: status %d" % (name, st)
                assert sent < bomb, "%s: the server read all %d MiB" % (name, bomb >> 20)
            log("bombs: %-24s -> %d after the client sent %d KiB" % (name, st, sent >> 10))
        log("bombs: server RSS %d KiB before, peak %d KiB" % (rss0, peak))
        assert peak - rss0 < 16 << 10, "RSS grew %d KiB under bombs" % (peak - rss0)
        assert get(srv.port)[0] == 200
    except BaseException:
        srv.kill()
        raise
    srv.stop()
