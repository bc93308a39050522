#!/usr/bin/env python3
"""End-to-end test of examples/routing: the generated routing__dispatch over
real sockets. Usage: routing_e2e.py ROUTING_BINARY PUBLIC_DIR

The server is started from its own directory without -r, so the mount is
found through ROUTING_MOUNT_BASE (the build-time relative path), on port 0
bound to 127.0.0.1; it prints the port. Each check sends raw bytes and
compares status, headers and body bytes. At the end SIGTERM must stop the
server with status 0 (under ASan that includes the leak check)."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

BIN, PUBLIC = sys.argv[1], sys.argv[2]
failures = []


def start(extra=(), cwd=None):
    p = subprocess.Popen([BIN, "-p", "0", "-b", "127.0.0.1"] + list(extra),
                         cwd=cwd or os.path.dirname(BIN), stdout=subprocess.PIPE, stderr=sys.stderr)
    line = p.stdout.readline().decode()
    if not line.startswith("listening on 127.0.0.1:"):
        p.kill()
        sys.exit("server did not start: %r" % line)
    return p, int(line.rsplit(":", 1)[1])


def recv_response(s, head_only=False, buf=b""):
    """Reads one response from s (buf: bytes already read): (status,
    {lower name: value}, body, what follows it)."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise IOError("connection closed inside a head: %r" % buf)
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = 0 if head_only or status in (204, 304) else int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise IOError("connection closed inside a body")
        rest += chunk
    return status, headers, rest[:n], rest[n:]


def request(port, method, target, headers=None, body=b""):
    hs = {"Host": "127.0.0.1"}
    hs.update(headers or {})
    if body or method in ("POST", "PUT"):
        hs["Content-Length"] = str(len(body))
    raw = ("%s %s HTTP/1.1\r\n" % (method, target)).encode() + \
        b"".join(("%s: %s\r\n" % kv).encode("latin-1") for kv in hs.items()) + b"\r\n" + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        status, h, b, extra = recv_response(s, head_only=(method == "HEAD"))
        if method == "HEAD":
            # Nothing may follow a HEAD response's head: probe with a short wait.
            s.settimeout(0.2)
            try:
                extra += s.recv(65536)
            except socket.timeout:
                pass
            if extra:
                fail("%s %s: bytes after a HEAD response: %r" % (method, target, extra[:60]))
        return status, h, b


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def check(method, target, want_status, want_body=None, want_headers=None, headers=None,
          body=b"", contains=None):
    status, h, b = request(PORT, method, target, headers, body)
    where = "%s %s" % (method, target)
    if status != want_status:
        fail("%s: status %d, want %d (body %r)" % (where, status, want_status, b[:80]))
    if want_body is not None and b != want_body:
        fail("%s: body %r, want %r" % (where, b[:120], want_body[:120]))
    if contains is not None and contains not in b:
        fail("%s: body lacks %r" % (where, contains))
    for k, v in (want_headers or {}).items():
        got = h.get(k.lower())
        if v is None:
            if got is not None:
                fail("%s: unexpected %s: %r" % (where, k, got))
        elif got != v:
            fail("%s: %s is %r, want %r" % (where, k, got, v))
    return status, h, b


def file_bytes(rel):
    with open(os.path.join(PUBLIC, rel), "rb") as f:
        return f.read()


proc, PORT = start()
try:
    TEXT = "text/plain; charset=utf-8"
    HTML = "text/html; charset=utf-8"
    # Method + path dispatch, the three builders.
    _, _, home = check("GET", "/", 200, contains=b"<h1>hachettp routing example</h1>",
                       want_headers={"Content-Type": HTML})
    # The home page's links come from the URL builders (routing__url_*):
    # encoded as routes.ht needs, and each one served by its route.
    links = re.findall(rb'href="([^"]*)"', home)
    want_links = [b"/hello/w%C3%B6rld", b"/api/status", b"/users/42", b"/tags/c-lang", b"/files/css/site.css",
                  b"/slow/500", b"/events", b"/static/", b"/search?q=route+compiler&amp;tag=c"]
    if links != want_links:
        fail("/: links %r, want %r" % (links, want_links))
    check("GET", "/hello/w%C3%B6rld", 200, "hello, wörld\n".encode())
    for link in (b"/users/42", b"/tags/c-lang", b"/files/css/site.css", b"/static/", b"/search?q=route+compiler&tag=c"):
        check("GET", link.decode(), 200)
    _, _, b = check("GET", "/api/status", 200, want_headers={"Content-Type": "application/json"})
    if not b.startswith(b'{"status":"ok","status_requests":'):
        fail("/api/status: %r" % b)
    check("GET", "/hello/world", 200, b"hello, world\n", {"Content-Type": TEXT})
    # Percent-decoding of {name}; a bad escape is 400; %2F stays in the segment.
    check("GET", "/hello/w%20x%C3%A9", 200, "hello, w xé\n".encode())
    check("GET", "/hello/a%2Fb", 200, b"hello, a/b\n")
    check("GET", "/hello/%zz", 400)
    check("GET", "/hello/%4", 400)
    check("GET", "/hello/%00", 400)
    # Typed query parameters (?q:str ?page:u64=1 ?tag:slug*): decoded ('+' a
    # space), the default, repeats, others ignored; 400 names a bad one and
    # the handler never runs. The query is not part of matching.
    check("GET", "/search?q=route+compiler&t=%26&flag&tag=c&tag=d-e", 200,
          b"q=route compiler\npage=1\ntag=c\ntag=d-e\n", {"Content-Type": TEXT})
    check("GET", "/search?page=7&q=%26x", 200, b"q=&x\npage=7\n")
    check("GET", "/search?q=", 200, b"q=\npage=1\n")
    check("GET", "/search", 400, contains=b"query parameter 'q': missing")
    check("GET", "/search?q=a&page=x1", 400, contains=b"query parameter 'page': not a u64")
    check("GET", "/search?q=a&page=18446744073709551616", 400, contains=b"query parameter 'page'")
    check("GET", "/search?q=a&tag=a.b", 400, contains=b"query parameter 'tag': not a slug")
    check("GET", "/search?q=%zz", 400)
    # Typed parameters: u64, its overflow and '%' go to the less specific route.
    check("GET", "/users/42", 200, b'{"id":42,"name":"user42"}\n')
    check("GET", "/users/18446744073709551615", 200,
          b'{"id":18446744073709551615,"name":"user18446744073709551615"}\n')
    check("GET", "/users/18446744073709551616", 200, b"user named 18446744073709551616\n")
    check("GET", "/users/%31", 200, b"user named 1\n")
    check("GET", "/users/new", 200, contains=b"<form")
    check("PUT", "/users/7", 200, b'{"id":7,"updated":true,"bytes":3}\n', body=b"abc")
    check("DELETE", "/users/7", 200, b"deleted 7\n")
    check("DELETE", "/users/x", 405, want_headers={"Allow": "GET, HEAD, OPTIONS"})
    # slug, rest.
    check("GET", "/tags/a-b_C9", 200, b"tag a-b_C9\n")
    check("GET", "/tags/a.b", 404)
    # {file:path...}: decoded, and 400 for what could leave a directory.
    check("GET", "/files/a/b%20c/d", 200, b"file [a/b c/d]\n")
    check("GET", "/files/", 200, b"file []\n")
    for bad in ("/files/a/../b", "/files/%2e%2e/x", "/files/a%2Fb", "/files/a%5Cb", "/files/a//b",
                "/files/./a", "/files/a%00"):
        check("GET", bad, 400)
    # 404, 405 + Allow (built at build time), OPTIONS, HEAD.
    check("GET", "/nope", 404)
    check("GET", "/users/1/2", 404)
    check("DELETE", "/api/status", 405, want_headers={"Allow": "GET, HEAD, OPTIONS"})
    check("POST", "/users/1", 405, want_headers={"Allow": "GET, HEAD, PUT, DELETE, OPTIONS"})
    check("GET", "/echo", 405, want_headers={"Allow": "POST, OPTIONS"})
    check("OPTIONS", "/users/1", 204, b"",
          {"Allow": "GET, HEAD, PUT, DELETE, OPTIONS", "Content-Length": None})
    check("OPTIONS", "*", 204, b"", {"Allow": "GET, HEAD, POST, PUT, DELETE, OPTIONS"})
    check("OPTIONS", "/nope", 404)
    _, hg, bg = check("GET", "/users/123", 200)
    check("HEAD", "/users/123", 200, b"",
          {"Content-Length": str(len(bg)), "Content-Type": "application/json"})
    check("BREW", "/users/1", 405, want_headers={"Allow": "GET, HEAD, PUT, DELETE, OPTIONS"})
    # Trailing slash: 308 to the canonical form, the query kept.
    check("GET", "/docs", 308, want_headers={"Location": "/docs/"})
    check("GET", "/docs?x=1&y", 308, want_headers={"Location": "/docs/?x=1&y"})
    check("GET", "/docs/", 200, contains=b"docs: see")
    check("GET", "/api/status/", 308, want_headers={"Location": "/api/status"})
    # The /admin group: the before hook wants the bearer token (401 with
    # WWW-Authenticate without it, and the handler does not run); the after
    # hook counts each final status per route, the 401s too. The counts are
    # this server's: nothing else requests /admin.
    AUTH = {"Authorization": "Bearer tour-token"}
    check("GET", "/admin/stats", 401, want_headers={"WWW-Authenticate": 'Bearer realm="routing"'},
          contains=b"Authorization: Bearer")
    check("GET", "/admin/stats", 401, headers={"Authorization": "Bearer wrong"})
    check("GET", "/admin/stats", 401, headers={"Authorization": "Basic dG91ci10b2tlbg=="})
    check("GET", "/admin/stats", 200, b'{"GET /admin/stats":{"4xx":3}}\n',
          {"Content-Type": "application/json", "WWW-Authenticate": None}, headers=AUTH)
    check("GET", "/admin/stats", 200, b'{"GET /admin/stats":{"2xx":1,"4xx":3}}\n',
          headers={"Authorization": "bearer tour-token"})
    check("POST", "/admin/stats/reset", 401)
    check("GET", "/admin/stats", 200, b'{"GET /admin/stats":{"2xx":2,"4xx":3},'
          b'"POST /admin/stats/reset":{"4xx":1}}\n', headers=AUTH)
    check("POST", "/admin/stats/reset", 200, b"reset\n", headers=AUTH)
    check("GET", "/admin/stats", 200, b'{"POST /admin/stats/reset":{"2xx":1}}\n', headers=AUTH)
    check("DELETE", "/admin/stats", 405, want_headers={"Allow": "GET, HEAD, OPTIONS"})
    # host api.localhost: its own / and /v1/ping, whatever the case or port;
    # its other paths, and every other Host, get the routes outside.
    for host in ("api.localhost", "API.LocalHost:8080", "api.localhost."):
        check("GET", "/", 200, b'{"api":"routing","ping":"/v1/ping"}\n', headers={"Host": host})
        check("GET", "/v1/ping", 200, b'{"pong":true}\n', {"Content-Type": "application/json"},
              headers={"Host": host})
    check("GET", "/hello/api", 200, b"hello, api\n", headers={"Host": "api.localhost"})
    check("POST", "/v1/ping", 405, want_headers={"Allow": "GET, HEAD, OPTIONS"},
          headers={"Host": "api.localhost"})
    check("GET", "/v1/ping", 404)
    check("GET", "/v1/ping", 404, headers={"Host": "www.api.localhost"})
    check("GET", "/", 200, contains=b"<h1>hachettp routing example</h1>", headers={"Host": "localhost"})
    # Body echo and the route's 1 KiB limit (413 from the dispatcher).
    check("POST", "/echo", 200, b"x" * 1024, {"Content-Type": "text/plain"},
          headers={"Content-Type": "text/plain"}, body=b"x" * 1024)
    check("POST", "/echo", 200, b"", body=b"")
    check("POST", "/echo", 413, body=b"y" * 1025)
    # Chunked: the limit applies to the decoded body.
    for n, want in ((1024, 200), (1025, 413)):
        with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      b"%x\r\n" % 1000 + b"z" * 1000 + b"\r\n" +
                      b"%x\r\n" % (n - 1000) + b"z" * (n - 1000) + b"\r\n0\r\n\r\n")
            st, _, b, _ = recv_response(s)
            if st != want or (want == 200 and b != b"z" * n):
                fail("chunked POST /echo of %d bytes: %d %r" % (n, st, b[:40]))
    # Over the server's max_body (1 MiB): 413 from the server, before the body.
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
        st, _, _, _ = recv_response(s)
        if st != 413:
            fail("POST /echo with Content-Length 2000000: %d, want 413" % st)
    # Absolute-form target: the path is what is matched.
    check("GET", "http://127.0.0.1/hello/abs?x=1", 200, b"hello, abs\n")
    # The mount: file bytes, MIME, index, gzip sidecar, 304, listing, redirect, safety.
    js = file_bytes("app.js")
    _, h, _ = check("GET", "/static/app.js", 200, js)
    if "javascript" not in h.get("content-type", ""):
        fail("/static/app.js: Content-Type %r" % h.get("content-type"))
    etag = h.get("etag")
    if not etag:
        fail("/static/app.js: no ETag")
    else:
        check("GET", "/static/app.js", 304, b"", {"ETag": etag}, headers={"If-None-Match": etag})
    lm = h.get("last-modified")
    if lm:
        check("GET", "/static/app.js", 304, b"", headers={"If-Modified-Since": lm})
    check("GET", "/static/app.js", 200, file_bytes("app.js.gz"), {"Content-Encoding": "gzip"},
          headers={"Accept-Encoding": "gzip"})
    check("GET", "/static/app.js", 206, js[10:20], {"Content-Range": "bytes 10-19/%d" % len(js)},
          headers={"Range": "bytes=10-19"})
    check("GET", "/static/", 200, file_bytes("index.html"))
    check("HEAD", "/static/style.css", 200, b"",
          {"Content-Length": str(len(file_bytes("style.css")))})
    check("GET", "/static/docs/read%20me.txt", 200, file_bytes("docs/read me.txt"))
    check("GET", "/static/docs/caf%C3%A9.md", 200, file_bytes("docs/café.md"))
    check("GET", "/static/docs", 301, want_headers={"Location": "/static/docs/"})
    check("GET", "/static/docs/", 200, contains=b"data.json")
    check("GET", "/static/docs/", 200, contains=b"<h1>Index of /static/docs/</h1>")
    check("GET", "/static", 308, want_headers={"Location": "/static/"})
    check("GET", "/static/missing.txt", 404)
    check("GET", "/static/../CMakeLists.txt", 400)
    check("GET", "/static/%2e%2e/CMakeLists.txt", 400)
    check("POST", "/static/app.js", 405, want_headers={"Allow": "GET, HEAD, OPTIONS"})
    # Keep-alive: three requests in one write, answered in order.
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
        s.sendall(b"GET /hello/a HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /static/docs/data.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        rest = b""
        got = []
        for _ in range(3):
            st, _, b, rest = recv_response(s, buf=rest)
            got.append((st, b))
        want = [(200, b"hello, a\n"), (404, None), (200, file_bytes("docs/data.json"))]
        for (st, b), (wst, wb) in zip(got, want):
            if st != wst or (wb is not None and b != wb):
                fail("pipelined: got %r, want %r" % (got, want))
                break
finally:
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = "timeout"
    if rc != 0:
        fail("server exit status %r after SIGTERM" % rc)



def read_chunked(s, rest):
    """The decoded body of a chunked response whose head was read."""
    body = b""
    while True:
        while b"\r\n" not in rest:
            rest += s.recv(65536)
        line, rest = rest.split(b"\r\n", 1)
        n = int(line, 16)
        while len(rest) < n + 2:
            chunk = s.recv(65536)
            if not chunk:
                raise IOError("connection closed inside a chunk")
            rest += chunk
        if n == 0:
            return body, rest[2:]
        body += rest[:n]
        rest = rest[n + 2:]


# Answering later, streaming, streamed uploads (issue 13): -u DIR.
import tempfile
updir = tempfile.mkdtemp(prefix="ht-up-")
proc, PORT = start(["-u", updir])
try:
    # /slow: answered from a timer; the worker serves others meanwhile.
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as slow:
        t0 = time.monotonic()
        slow.sendall(b"GET /slow/400 HTTP/1.1\r\nHost: x\r\n\r\n")
        t1 = time.monotonic()
        check("GET", "/hello/meanwhile", 200, b"hello, meanwhile\n")
        quick = time.monotonic() - t1
        st, _, b, _ = recv_response(slow)
        took = time.monotonic() - t0
        if st != 200 or b != b"slept 400 ms\n" or not 0.39 <= took < 3:
            fail("/slow/400: %d %r after %.3f s" % (st, b, took))
        if quick > 0.2:
            fail("/hello while /slow/400 waits took %.3f s" % quick)
    check("GET", "/slow/10001", 400)
    # /events: data: 1..10, 100 ms apart, then the stream ends.
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
        t0 = time.monotonic()
        s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        st, h, _, rest = recv_response(s, head_only=True)
        body, _ = read_chunked(s, rest)
        took = time.monotonic() - t0
        want = b"".join(b"id: %d\ndata: %d\n\n" % (i, i) for i in range(1, 11))
        if st != 200 or h.get("content-type") != "text/event-stream" or body != want:
            fail("/events: %d %r %r" % (st, h.get("content-type"), body[:80]))
        if not 0.9 <= took < 5:
            fail("/events took %.3f s, want about 1 s" % took)
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
        s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 8\r\n\r\n")
        st, h, _, rest = recv_response(s, head_only=True)
        body, _ = read_chunked(s, rest)
        if body != b"id: 9\ndata: 9\n\nid: 10\ndata: 10\n\n":
            fail("/events resumed after 8: %r" % body)
    # /upload: streamed to the file, 201 + the byte count; 100-continue first.
    blob = os.urandom(3 << 20)
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
        s.sendall(b"PUT /upload/blob-1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(blob))
        st, _, _, rest = recv_response(s)
        if st != 100:
            fail("/upload: %d before the body, want 100" % st)
        s.sendall(blob)
        st, _, b, _ = recv_response(s, buf=rest)
        if st != 201 or b != b"%d\n" % len(blob):
            fail("/upload: %d %r" % (st, b))
    with open(os.path.join(updir, "blob-1"), "rb") as f:
        if f.read() != blob:
            fail("/upload: the file differs from what was sent")
    # chunked
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
        s.sendall(b"PUT /upload/blob-2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for off in range(0, len(blob), 100000):
            piece = blob[off:off + 100000]
            s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        st, _, b, _ = recv_response(s)
        if st != 201 or b != b"%d\n" % len(blob):
            fail("/upload chunked: %d %r" % (st, b))
    with open(os.path.join(updir, "blob-2"), "rb") as f:
        if f.read() != blob:
            fail("/upload chunked: the file differs")
    # the client leaves mid-upload: the partial file is removed
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
        s.sendall(b"PUT /upload/partial HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                  b"p" * 5000)
        time.sleep(0.2)
    for _ in range(50):
        if not os.path.exists(os.path.join(updir, "partial")):
            break
        time.sleep(0.05)
    else:
        fail("/upload: a cut-off upload left its partial file")
    check("PUT", "/upload/a.b", 404, body=b"x")  # not a slug
finally:
    proc.send_signal(signal.SIGTERM)
    if proc.wait(timeout=20) != 0:
        fail("-u server: exit status %r" % proc.returncode)
# Without -u, uploads answer 404.
proc, PORT = start()
try:
    check("PUT", "/upload/x", 404, body=b"abc")
finally:
    proc.send_signal(signal.SIGTERM)
    if proc.wait(timeout=20) != 0:
        fail("server: exit status %r" % proc.returncode)

# -t: the /admin token given at run time.
proc, PORT = start(["-t", "s3cret"])
try:
    check("GET", "/admin/stats", 401, headers={"Authorization": "Bearer tour-token"})
    check("GET", "/admin/stats", 200, b'{"GET /admin/stats":{"4xx":1}}\n',
          headers={"Authorization": "Bearer s3cret"})
finally:
    proc.send_signal(signal.SIGTERM)
    if proc.wait(timeout=20) != 0:
        fail("-t server: exit status %r" % proc.returncode)

# -r: the routes directory given at run time, from another working directory.
proc, PORT = start(["-r", os.path.join(os.path.dirname(os.path.abspath(PUBLIC)), "routing")], cwd="/")
try:
    check("GET", "/static/docs/data.json", 200, file_bytes("docs/data.json"))
finally:
    proc.send_signal(signal.SIGTERM)
    if proc.wait(timeout=20) != 0:
        fail("-r server: exit status %r" % proc.returncode)
# A base without the mount directories: refused at start, status 1.
r = subprocess.run([BIN, "-p", "0", "-b", "127.0.0.1", "-r", "/nonexistent"],
                   capture_output=True, timeout=20)
if r.returncode != 1 or b"mounts" not in r.stderr:
    fail("-r /nonexistent: status %d, stderr %r" % (r.returncode, r.stderr))

if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("routing_e2e: all checks passed")
