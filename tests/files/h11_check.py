#!/usr/bin/env python3
"""Every ht response through h11, a strict HTTP/1.1 implementation.

usage: h11_check.py HT_BINARY
Exits 77 (skipped) when h11 is not installed (Debian: python3-h11).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

try:
    import h11
except ImportError:
    print("h11 not installed (apt install python3-h11): skipped")
    sys.exit(77)

HT = sys.argv[1]


def exchange(port, requests, timeout=10):
    """Sends requests (h11.Request, body bytes) on one keep-alive connection;
    returns [(h11.Response, body bytes)]. h11 raises on any protocol error."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    conn = h11.Connection(our_role=h11.CLIENT)
    out = []
    for i, (req, body) in enumerate(requests):
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        sock.sendall(conn.send(req))
        if body:
            sock.sendall(conn.send(h11.Data(data=body)))
        sock.sendall(conn.send(h11.EndOfMessage()))
        resp, data = None, b""
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                chunk = sock.recv(1 << 20)
                conn.receive_data(chunk)
                continue
            if isinstance(ev, h11.Response):
                resp = ev
            elif isinstance(ev, h11.Data):
                data += ev.data
            elif isinstance(ev, h11.EndOfMessage):
                break
            elif isinstance(ev, h11.ConnectionClosed):
                raise AssertionError("closed before the end of the response")
        out.append((resp, data))
        if conn.their_state is not h11.DONE:  # server closes: stop here
            break
    sock.close()
    return out


def req(method, target, *headers):
    hs = [("Host", "t")] + list(headers)
    if method not in ("GET", "HEAD"):
        hs.append(("Content-Length", "0"))
    return (h11.Request(method=method, target=target, headers=hs), b"")


def hdr(resp, name):
    name = name.lower().encode()
    vals = [v.decode() for k, v in resp.headers if k == name]
    return vals[0] if vals else None


def main():
    tmp = tempfile.mkdtemp(prefix="ht_h11_")
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "dir"))
    with open(os.path.join(tmp, "secret.txt"), "w") as f:
        f.write("SENTINEL-SECRET\n")
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<!DOCTYPE html><p>home</p>\n")
    big = os.urandom(3 * 1024 * 1024 + 7)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(big)
    with open(os.path.join(root, "app.js"), "w") as f:
        f.write("console.log('x');\n" * 100)
    with open(os.path.join(root, "dir", "a <b> & 'c'.txt"), "w") as f:
        f.write("odd name\n")
    os.symlink("../secret.txt", os.path.join(root, "escape"))
    subprocess.run([HT, "--precompress", root], check=True, capture_output=True)

    proc = subprocess.Popen([HT, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "2"],
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        port = int(line.split("127.0.0.1:")[1].split("/")[0])

        # One keep-alive connection through the usual cases.
        rs = exchange(port, [
            req("GET", "/"),
            req("HEAD", "/big.bin"),
            req("GET", "/big.bin"),
            req("GET", "/big.bin", ("Range", "bytes=100-199")),
            req("GET", "/big.bin", ("Range", "bytes=999999999-")),
            req("GET", "/app.js", ("Accept-Encoding", "gzip")),
            req("GET", "/app.js", ("Accept-Encoding", "gzip;q=0")),
            req("GET", "/dir"),
            req("GET", "/dir/"),
            req("GET", "/nope"),
            req("GET", "/escape"),
            req("POST", "/"),
        ])
        codes = [r.status_code for r, _ in rs]
        assert codes == [200, 200, 200, 206, 416, 200, 200, 301, 200, 404, 403, 405], codes
        (r0, b0), (rh, bh), (rb, bb), (rr, br), (r416, _), (rg, bg), (ri, bi), (r301, _), \
            (rl, bl), _, _, (r405, _) = rs
        assert b0 == b"<!DOCTYPE html><p>home</p>\n"
        assert hdr(rh, "Content-Length") == str(len(big)) and bh == b""
        assert bb == big
        assert br == big[100:200] and hdr(rr, "Content-Range") == "bytes 100-199/%d" % len(big)
        assert hdr(r416, "Content-Range") == "bytes */%d" % len(big)
        assert hdr(rg, "Content-Encoding") == "gzip" and hdr(rg, "Vary") == "Accept-Encoding"
        import gzip
        assert gzip.decompress(bg) == bi
        assert hdr(ri, "Content-Encoding") is None and hdr(ri, "Vary") == "Accept-Encoding"
        assert hdr(rg, "Content-Type") == hdr(ri, "Content-Type") == "text/javascript; charset=utf-8"
        assert hdr(r301, "Location") == "/dir/"
        assert b'href="a%20%3Cb%3E%20%26%20%27c%27.txt"' in bl, bl
        assert b"a &lt;b&gt; &amp; &#39;c&#39;.txt" in bl, bl
        assert hdr(r405, "Allow") == "GET, HEAD"

        # Conditionals, each validated too.
        etag, lm = hdr(r0, "ETag"), hdr(r0, "Last-Modified")
        rs = exchange(port, [
            req("GET", "/", ("If-None-Match", etag)),
            req("GET", "/", ("If-Modified-Since", lm)),
            req("GET", "/", ("If-Match", '"nope"')),
            req("GET", "/big.bin", ("Range", "bytes=0-0"), ("If-Range", '"old"')),
        ])
        assert [r.status_code for r, _ in rs] == [304, 304, 412, 200], [r.status_code for r, _ in rs]
        assert hdr(rs[0][0], "ETag") == etag

        # Hostile targets, one connection each (errors may close it).
        for target in ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/..%5csecret.txt",
                       "/%252e%252e/secret.txt", "/%c0%ae%c0%ae/secret.txt", "/index.html%00"]:
            (r, body), = exchange(port, [req("GET", target)])
            assert r.status_code in (400, 403, 404), (target, r.status_code)
            assert b"SENTINEL" not in body
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
        shutil.rmtree(tmp)
    assert rc == 0, rc
    print("h11: every response valid")


if __name__ == "__main__":
    main()
