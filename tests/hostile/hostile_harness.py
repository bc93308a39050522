"""The harness of the hostile scenarios (hostile.py runs them): a
hostile_server process started and stopped by PID, with its CPU time, VmRSS
and open descriptors read from /proc/PID; client sockets, a Content-Length
framed response reader and a latency probe; bounded waits. Also imported by
bench/soak/soak.py.

SERVER (the hostile_server binary) is hostile.py's first argument; a caller
that imports this module sets it before starting a Server. Counts in the
scenarios scale with HOSTILE_SCALE (default 1.0).

Standard library only.
"""
import os
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

SERVER = sys.argv[1] if len(sys.argv) > 1 else None
SCALE = float(os.environ.get("HOSTILE_SCALE", "1.0"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
REQ = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"

# hostile.py, the CLI: its "_probe" mode runs latency_probe in a process of
# its own (slowloris).
CLI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile.py")


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------- server ---

class Server:
    """hostile_server PID with the given flags; nofile: its RLIMIT_NOFILE."""

    def __init__(self, *flags, nofile=None):
        self.err = tempfile.TemporaryFile()
        env = dict(os.environ)
        # A small quarantine: ASan keeps freed memory out of reuse for a
        # while (256 MiB by default), which would read as RSS growth.
        env["ASAN_OPTIONS"] = "detect_leaks=1:quarantine_size_mb=8:" + env.get("ASAN_OPTIONS", "")

        def pre():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
            else:  # as many as the hard limit allows, like the clients
                _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

        self.p = subprocess.Popen([SERVER] + [str(f) for f in flags], stdout=subprocess.PIPE,
                                  stderr=self.err, env=env, preexec_fn=pre)
        self.pid = self.p.pid
        sel = selectors.DefaultSelector()
        sel.register(self.p.stdout, selectors.EVENT_READ)
        if not sel.select(10):
            self.kill()
            raise AssertionError("server did not print its port within 10 s")
        line = self.p.stdout.readline().decode()
        sel.close()
        assert line.startswith("port "), "unexpected first line %r" % line
        self.port = int(line.split()[1])

    def baseline(self):
        """The descriptor count once the workers are up: after a request,
        when it has not changed for 300 ms (workers start asynchronously)."""
        assert get(self.port)[0] == 200
        last, t_stable, t_end = -1, time.monotonic(), time.monotonic() + 5
        while time.monotonic() < t_end:
            n = self.fds()
            if n != last:
                last, t_stable = n, time.monotonic()
            elif time.monotonic() - t_stable >= 0.3:
                break
            time.sleep(0.02)
        return last

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def cpu_s(self):
        """utime + stime of the whole process (all threads), seconds."""
        with open("/proc/%d/stat" % self.pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / CLK_TCK

    def rss_kib(self):
        with open("/proc/%d/statm" % self.pid) as f:
            return int(f.read().split()[1]) * PAGE // 1024

    def alive(self):
        return self.p.poll() is None

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def stop(self):
        """SIGTERM: graceful shutdown, exit 0, clean stderr."""
        assert self.alive(), "server died: %s" % self.stderr()
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("server did not exit within 10 s of SIGTERM")
        err = self.stderr()
        assert rc == 0, "server exit status %d, stderr:\n%s" % (rc, err)
        assert "Sanitizer" not in err and "runtime error" not in err, err

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")


def wait_until(pred, timeout, step=0.02):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def raise_nofile():
    """The test process's soft RLIMIT_NOFILE up to the hard limit; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------- client ---

def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def rst_close(s):
    """Close with SO_LINGER 0: the peer gets a reset, not a FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class Reader:
    """Reads Content-Length framed responses off a socket."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("connection closed by the server")
        self.buf += d

    def response(self):
        """(status, headers dict, body) of the next response."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        assert "transfer-encoding" not in hdrs, "unexpected chunked response"
        n = int(hdrs.get("content-length", "0"))
        if status in (100, 204, 304):
            n = 0
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hdrs, body


def get(port, path="/", timeout=5.0):
    """One request on a fresh connection: (status, body, seconds)."""
    t0 = time.monotonic()
    s = connect(port, timeout)
    try:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path.encode())
        st, _, body = Reader(s).response()
    finally:
        s.close()
    return st, body, time.monotonic() - t0


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def latency_probe(port, count, spacing):
    """count requests spaced by `spacing` s, alternately on a fresh
    connection and on one keep-alive connection; every one must be a 200.
    Returns the latencies in seconds."""
    lat = []
    ka = connect(port)
    rd = Reader(ka)
    for i in range(count):
        t0 = time.monotonic()
        if i % 2:
            st, _, _ = get(port)
        else:
            ka.sendall(REQ)
            st, _, _ = rd.response()
        lat.append(time.monotonic() - t0)
        assert st == 200, "probe %d: status %d" % (i, st)
        time.sleep(spacing)
    ka.close()
    return lat
