#!/usr/bin/env python3
"""ht_wire.py DOCROOT BINARY OUT [ht flags...]

The raw bytes `ht` answers ~170 kinds of request with, for a diff of two
builds (a change meant to leave the wire alone: BENCHMARKS.md, "Issue 18,
goal 1: fewer instructions per small-file request"). Creates DOCROOT once
(files, sidecars, an index, fixed mtimes) and reuses it, since ETags carry
the inode: compare two binaries on the same DOCROOT. Starts BINARY with one
worker on 127.0.0.1 and the flags given (e.g. -H 'X: 1' --cors '*', --spa
index.html, --no-cache), sends every request on a connection of its own
(GET, HEAD, HTTP/1.0 with and without keep-alive, Accept-Encoding variants,
every precondition, ranges, If-Range, bad paths, a directory with and
without '/', OPTIONS, POST), all of it twice (the second round from the
per-worker cache), then one pipelined batch, and writes each answer to OUT
under its request line with the Date value masked.

    bench/ht_wire.py /tmp/wire OLD/examples/ht/ht old.txt
    bench/ht_wire.py /tmp/wire NEW/examples/ht/ht new.txt && cmp old.txt new.txt
"""
import os
import re
import socket
import subprocess
import sys
import time


def make_root(root):
    def put(rel, data, mtime=1700000000):
        path = os.path.join(root, rel.lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (mtime, mtime))

    put("/hello.txt", b"hello from hachettp\n")
    put("/style.css", b"body{color:red}\n" * 50)
    put("/style.css.gz", b"GZDATA", 1700000100)
    put("/style.css.br", b"BRDATA", 1700000100)
    put("/app.js", b"console.log(1)\n")
    put("/big.bin", bytes(range(256)) * 200)
    put("/empty.txt", b"")
    put("/idx/index.html", b"<p>index</p>\n")
    put("/dir/sub/x.txt", b"x\n")
    put("/noext", b"raw\n")
    put("/odd.weird", b"w\n")
    put("/index.html", b"<!doctype html><p>spa</p>\n")


def req(path, method="GET", ver="1.1", hdrs=()):
    fields = "".join(f"{k}: {v}\r\n" for k, v in hdrs)
    return f"{method} {path} HTTP/{ver}\r\nHost: x\r\n{fields}\r\n".encode()


def requests(root):
    st = os.stat(os.path.join(root, "hello.txt"))
    etag = '"%x-%x-%x.%x"' % (st.st_ino, st.st_size, int(st.st_mtime), st.st_mtime_ns % 10**9)
    lm = "Tue, 14 Nov 2023 22:13:20 GMT"  # hello.txt's mtime
    old = "Sun, 06 Nov 1994 08:49:37 GMT"
    out = []
    for p in ["/hello.txt", "/style.css", "/app.js", "/big.bin", "/empty.txt", "/idx/", "/idx", "/dir/",
              "/nope", "/noext", "/odd.weird", "/../x", "/%2e%2e/x", "/a%00b", "/dir/sub/x.txt", "/deep/route"]:
        out += [req(p), req(p, "HEAD"), req(p, ver="1.0"), req(p, ver="1.0", hdrs=[("Connection", "keep-alive")])]
        for ae in ["gzip, br", "gzip;q=0.5, identity;q=1", "identity;q=0"]:
            out.append(req(p, hdrs=[("Accept-Encoding", ae)]))
        out.append(req(p, hdrs=[("Accept", "text/html")]))
    for hd in [[("If-None-Match", etag)], [("If-None-Match", '"zz"')], [("If-Match", '"zz"')], [("If-Match", etag)],
               [("If-Modified-Since", lm)], [("If-Modified-Since", old)], [("If-Unmodified-Since", old)],
               [("If-Unmodified-Since", "junk")], [("Range", "bytes=1-3")], [("Range", "bytes=-4")],
               [("Range", "bytes=99-")], [("Range", "bytes=1-2,5-6")], [("Range", "bytes=1-3"), ("If-Range", etag)],
               [("Range", "bytes=1-3"), ("If-Range", '"no"')], [("Range", "bytes=1-3"), ("If-Range", lm)],
               [("If-Range", etag)], [("Origin", "https://a.example")]]:
        out += [req("/hello.txt", hdrs=hd), req("/hello.txt", "HEAD", hdrs=hd)]
    out.append(req("/big.bin", hdrs=[("Range", "bytes=100-50000")]))
    out.append(req("/style.css", hdrs=[("Accept-Encoding", "br"), ("Range", "bytes=0-1")]))
    out.append(req("/hello.txt", "OPTIONS", hdrs=[("Origin", "https://a.example"),
                                                  ("Access-Control-Request-Method", "GET")]))
    out.append(req("/hello.txt", "POST", hdrs=[("Content-Length", "0")]))
    out.append(b"GET http://x/hello.txt?a=b HTTP/1.1\r\nHost: x\r\n\r\n")
    out.append(b"GET /idx?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    return out


def exchange(port, data):
    c = socket.create_connection(("127.0.0.1", port), 2)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        try:
            b = c.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        got += b
    c.close()
    return got


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    root, binary, out_path, flags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    if not os.path.isdir(root):
        make_root(root)
    reqs = requests(root)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([binary, "-w", "1", "-b", "127.0.0.1", "-p", str(port), "-d", root] + flags,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    date = re.compile(rb"\r\nDate: [^\r]*\r\n")
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        with open(out_path, "wb") as f:
            for _ in range(2):  # the second round: from the cache
                for r in reqs:
                    f.write(b"=== " + r.split(b"\r\n\r\n")[0].replace(b"\r\n", b" | ") + b"\n")
                    f.write(date.sub(b"\r\nDate: <masked>\r\n", exchange(port, r)) + b"\n")
                batch = b"".join(req(p) for p in ["/hello.txt", "/app.js", "/hello.txt", "/nope", "/style.css"])
                batch += req("/hello.txt", hdrs=[("Connection", "close")])
                f.write(b"=== pipelined\n" + date.sub(b"\r\nDate: <masked>\r\n", exchange(port, batch)) + b"\n")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
