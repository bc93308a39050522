#!/usr/bin/env python3
"""Drives win_workers (tests/windows/win_workers.c): N workers accepting on
one listening socket must each take connections, each pinned to a CPU
(SetThreadAffinityMask); SIGINT must stop them all gracefully (exit 0).

usage: workers_check.py N CMD...   (CMD: e.g. wine build/windows/win_workers.exe)
"""
import collections
import signal
import socket
import subprocess
import sys
import threading

n = int(sys.argv[1])
p = subprocess.Popen(sys.argv[2:] + [str(n)], stdout=subprocess.PIPE)
line = p.stdout.readline().decode()
assert line.startswith("port "), line
port = int(line.split()[1])
seen = collections.Counter()
lock = threading.Lock()


def client(k):
    for _ in range(k):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
        s.close()
        assert data.startswith(b"HTTP/1.1 200"), data[:40]
        with lock:
            seen[int(data.rsplit(b"\r\n\r\n", 1)[1])] += 1


threads = [threading.Thread(target=client, args=(50,)) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
p.send_signal(signal.SIGINT)
out, _ = p.communicate(timeout=20)
print("connections per worker: %s" % dict(sorted(seen.items())))
assert sum(seen.values()) == 400
assert sorted(seen) == list(range(n)), "a worker accepted nothing: %s" % dict(seen)
assert p.returncode == 0 and b"exit 0" in out, (p.returncode, out)
cpus = [int(l.split()[3]) for l in out.decode().splitlines() if l.startswith("worker ")]
print("pinned CPUs: %s" % cpus)
assert len(cpus) == n and all(c >= 0 for c in cpus), "a worker was not pinned: %s" % cpus
print("workers: every one of %d accepted; graceful exit on SIGINT" % n)
