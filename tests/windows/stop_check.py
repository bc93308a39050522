#!/usr/bin/env python3
"""Every way Windows (or Wine) asks ht.exe to stop must drain it like SIGTERM
on Linux: a 10 MiB download, read slowly, that is under way when the
request comes still arrives whole, ht.exe exits 0, and its port then
refuses connections. The ways, under Wine:

  sigterm   the Unix SIGTERM to the process (what `kill`, docker and
            supervisors send; Wine itself would end the process at once)
  taskkill  `wine taskkill /im ht.exe` without /F: WM_CLOSE to its windows
  close     CTRL_CLOSE_EVENT (the console closing), from win_stop.exe
  shutdown  CTRL_SHUTDOWN_EVENT (the system shutting down), from win_stop.exe
  service   SERVICE_CONTROL_STOP to `ht.exe --service` (sc create; started and
            stopped by win_stop.exe, which reports the service's states)

Also: CTRL_LOGOFF_EVENT leaves ht.exe serving (only services get it, for
any user's log-off), and a second SIGTERM during the drain ends ht.exe at
once (exit 143), as on Linux.

Needs a prefix with a display driver Wine can run headless (tests/windows/
run.sh sets HKCU\\Software\\Wine\\Drivers Graphics=null): taskkill only
reaches windows. Servers bind 127.0.0.1 on a port they pick (-p 0) and are
stopped by PID.

usage: stop_check.py WINE HT_EXE WIN_STOP_EXE
"""
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

WINE, HT, WIN_STOP = sys.argv[1], sys.argv[2], sys.argv[3]
SIZE = 10 * 1024 * 1024


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Server:
    """wine ht.exe on 127.0.0.1, -p 0; stderr lines collected by a thread."""

    def __init__(self, root):
        self.p = subprocess.Popen([WINE, HT, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "2"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        m = self.wait_for(r"http://127\.0\.0\.1:(\d+)/", 60)  # a fresh prefix starts slowly
        check(m, "ht.exe did not report its port: %r" % self.lines)
        self.port = int(m.group(1))

    def _read(self):
        for raw in self.p.stderr:
            with self.cv:
                self.lines.append(raw.decode(errors="replace"))
                self.cv.notify_all()
        with self.cv:
            self.lines.append(None)  # EOF
            self.cv.notify_all()

    def wait_for(self, pattern, timeout):
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for ln in self.lines:
                    m = ln and re.search(pattern, ln)
                    if m:
                        return m
                left = end - time.monotonic()
                if left <= 0 or (self.lines and self.lines[-1] is None):
                    return None
                self.cv.wait(left)

    def finish(self, timeout=15):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError("ht.exe still running %d s after the stop request" % timeout)


def slow_download(port):
    """Starts GET /big.bin with a small receive buffer; returns the socket
    and what arrived so far (the head and the first bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
    return s, s.recv(65536)


def read_rest(s, got):
    """Reads to EOF, slowly (64 KiB per 2 ms: the response is still being
    sent well after the stop request); returns the body."""
    buf = bytearray(got)
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        buf += d
        time.sleep(0.002)
    s.close()
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), "status: %r" % head[:40])
    return body


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return False
    except ConnectionRefusedError:
        return True


def stop_by(how, srv):
    if how == "sigterm":
        srv.p.send_signal(signal.SIGTERM)
    elif how == "taskkill":
        r = subprocess.run([WINE, "taskkill", "/im", "ht.exe"], capture_output=True, timeout=60)
        check(r.returncode == 0, "taskkill: %r" % r.stdout)
    else:
        r = subprocess.run([WINE, WIN_STOP, how, "ht.exe"], capture_output=True, timeout=60)
        check(r.returncode == 0, "win_stop %s: %r %r" % (how, r.stdout, r.stderr))


def drains(root, want, how):
    srv = Server(root)
    s, got = slow_download(srv.port)
    stop_by(how, srv)
    # The stop was taken while the response was on its way...
    check(srv.wait_for(r"shutting down", 10), "%s: no shutdown began: %r" % (how, srv.lines))
    body = read_rest(s, got)
    # ...and did not cut it.
    check(len(body) == SIZE and hashlib.sha256(body).digest() == want,
          "%s: download cut at %d of %d bytes" % (how, len(body), SIZE))
    rc = srv.finish()
    check(rc == 0, "%s: exit status %d" % (how, rc))
    check(refused(srv.port), "%s: port %d still accepts after exit" % (how, srv.port))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def winpath(path):
    return "Z:" + path.replace("/", "\\")  # Wine's drive for /


def service(root, want):
    """ht.exe as a service: no console, no stderr; the test picks the port."""
    name = "ht_stop_%d" % os.getpid()
    port = free_port()
    binpath = "%s --service %s -p %d -b 127.0.0.1 -d %s -w 2" % (winpath(os.path.abspath(HT)), name, port,
                                                                 winpath(root))
    r = subprocess.run([WINE, "sc", "create", name, "binpath=", binpath], capture_output=True, timeout=60)
    check(r.returncode == 0, "sc create: %r %r" % (r.stdout, r.stderr))
    ctl = subprocess.Popen([WINE, WIN_STOP, "service", name], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        line = ctl.stdout.readline()
        check(line.strip() == b"running", "service did not start: %r" % line)
        s, got = slow_download(port)
        ctl.stdin.write(b"stop\n")
        ctl.stdin.flush()
        # Reported while the response is on its way (this side is not reading).
        line = ctl.stdout.readline()
        check(line.strip() == b"stop state 3", "stop not pending: %r" % line)
        body = read_rest(s, got)
        check(len(body) == SIZE and hashlib.sha256(body).digest() == want,
              "service: download cut at %d of %d bytes" % (len(body), SIZE))
        line = ctl.stdout.readline()
        check(line.strip() == b"stopped exit 0", "service: %r" % line)
        check(ctl.wait(timeout=30) == 0, "win_stop service: exit %r" % ctl.returncode)
        check(refused(port), "service: port %d still accepts after the stop" % port)
    finally:
        if ctl.poll() is None:
            ctl.kill()
        subprocess.run([WINE, "sc", "delete", name], capture_output=True, timeout=60)


def logoff_then_force(root):
    srv = Server(root)
    stop_by("logoff", srv)
    time.sleep(0.3)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    check(s.recv(4096).startswith(b"HTTP/1.1 200"), "not serving after CTRL_LOGOFF_EVENT")
    s.close()
    check(srv.p.poll() is None, "ht.exe ended on CTRL_LOGOFF_EVENT")
    s, got = slow_download(srv.port)
    srv.p.send_signal(signal.SIGTERM)
    check(srv.wait_for(r"shutting down", 10), "no shutdown on SIGTERM: %r" % srv.lines)
    # Standard signals do not queue: a second SIGTERM that arrives while
    # Wine's console thread still handles the first can merge with it, so
    # it is sent again (each a second apart) until ht.exe is gone.
    for _ in range(10):
        srv.p.send_signal(signal.SIGTERM)
        try:
            srv.p.wait(timeout=1)
            break
        except subprocess.TimeoutExpired:
            pass
    rc = srv.finish(10)
    body = read_rest(s, got)
    check(rc == 128 + 15, "exit status %d after a second SIGTERM (want 143)" % rc)
    check(len(body) < SIZE, "the second SIGTERM did not cut the download")


def main():
    tmp = tempfile.mkdtemp(prefix="ht_stop_")
    try:
        data = os.urandom(SIZE)
        with open(os.path.join(tmp, "big.bin"), "wb") as f:
            f.write(data)
        with open(os.path.join(tmp, "a.txt"), "wb") as f:
            f.write(b"a\n")
        want = hashlib.sha256(data).digest()
        for how in ("sigterm", "taskkill", "close", "shutdown"):
            t = time.monotonic()
            drains(tmp, want, how)
            print("ok   stop/%s drains (%.2f s)" % (how, time.monotonic() - t), flush=True)
        t = time.monotonic()
        service(tmp, want)
        print("ok   stop/service drains (%.2f s)" % (time.monotonic() - t), flush=True)
        t = time.monotonic()
        logoff_then_force(tmp)
        print("ok   stop/logoff ignored, second SIGTERM forces (%.2f s)" % (time.monotonic() - t), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
