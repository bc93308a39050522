#!/usr/bin/env python3
"""examples/microservice end to end: one binary, its UI compiled in.

Usage: microservice_e2e.py BINARY HTGEN ROUTES_HT HIDE_DIR...

- htgen runs twice on ROUTES_HT into two fresh directories: every output
  file must be byte-identical (reproducible ETags and tables);
- the binary is copied into a temporary directory and started from another,
  empty working directory; where the kernel allows it (a private mount
  namespace, `unshare -m`), every HIDE_DIR (the source and build trees) is
  covered by an empty tmpfs first, so the program provably reads no file
  from them;
- over a socket: each UI file byte for byte, its gzip variant decompressed
  to the same bytes, ETags equal to the build-time ones, 304, Range, 416,
  the JSON API on the in-memory store with 2 workers (create, list and
  its pages, get, update, delete, the 400s, 404, 405) and its feed (every
  change seen by a subscriber, Last-Event-ID);
- SIGTERM stops it with status 0.
"""
import gzip
import http.client
import json
import os
import re
import shutil
import socket
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc_client import Sse, call, jcall  # noqa: E402

BIN, HTGEN, ROUTES = sys.argv[1], sys.argv[2], sys.argv[3]
HIDE = sys.argv[4:]
UI = os.path.join(os.path.dirname(os.path.abspath(ROUTES)), "ui")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def get(port, method, path, headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    h = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, h, data


def build_time_etags(tmp):
    """htgen twice: identical outputs; returns {path: (etag, gz_etag)}."""
    outs = []
    for run in ("a", "b"):
        out = os.path.join(tmp, "gen-" + run)
        os.makedirs(out)
        r = subprocess.run([HTGEN, ROUTES, "-o", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            sys.exit("htgen failed: " + r.stdout.decode())
        outs.append(out)
    names = sorted(os.listdir(outs[0]))
    check(names == sorted(os.listdir(outs[1])) and "svc_embed.c" in names and "svc_embed.bin" in names,
          "htgen writes the same files twice, svc_embed.c and svc_embed.bin among them")
    same = all(open(os.path.join(outs[0], n), "rb").read() == open(os.path.join(outs[1], n), "rb").read()
               for n in names)
    check(same, "two htgen runs give byte-identical output (%s)" % ", ".join(names))
    text = open(os.path.join(outs[0], "svc_embed.c")).read()
    check(os.path.abspath(UI) not in text and tmp not in text, "svc_embed.c holds no absolute path")
    tags = {}
    # { "path", "type", "etag", svc_B_(off), size, { br, zstd, gzip } }, each
    # variant { "etag", svc_B_(off), size } or { nullptr, nullptr, 0 }.
    variant = r'\{ (?:nullptr|"(\\"[^"]+\\")")[^}]*\}'
    for m in re.finditer(r'\{ "([^"]+)", "[^"]*", "(\\"[^"]+\\")", [^,]+, \d+, \{ %s, %s, %s \} \}'
                         % (variant, variant, variant), text):
        coded = {}
        for k, name in ((3, "br"), (4, "zstd"), (5, "gzip")):
            if m.group(k):
                coded[name] = m.group(k).replace('\\"', '"')
        tags[m.group(1)] = (m.group(2).replace('\\"', '"'), coded)
    return tags


def start(tmp):
    bindir, rundir = os.path.join(tmp, "bin"), os.path.join(tmp, "run")
    os.makedirs(bindir)
    os.makedirs(rundir)
    exe = os.path.join(bindir, "microservice")
    shutil.copy2(BIN, exe)
    argv = [exe, "-p", "0", "-b", "127.0.0.1", "-w", "2"]
    hidden = False
    if shutil.which("unshare") and subprocess.run(["unshare", "-m", "true"], stderr=subprocess.DEVNULL).returncode == 0:
        # mount(8) over each tree in a private namespace, then exec: the
        # server's pid is the shell's, so SIGTERM reaches it directly.
        # A tree inside another is hidden with it (and would vanish before
        # its own mount).
        dirs = [os.path.realpath(d) for d in HIDE if os.path.isdir(d)]
        dirs = [d for d in dirs if not any(o != d and d.startswith(o + os.sep) for o in dirs)]
        mounts = " && ".join("mount -t tmpfs none '%s'" % d for d in dirs)
        argv = ["unshare", "-m", "sh", "-c", mounts + " && exec \"$0\" \"$@\"", *argv] if mounts else argv
        hidden = bool(mounts)
    p = subprocess.Popen(argv, cwd=rundir, stdout=subprocess.PIPE, stderr=sys.stderr)
    line = p.stdout.readline().decode()
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        p.wait()
        sys.exit("microservice did not start: %r" % line)
    if hidden:
        print("note: source and build trees hidden from the server (tmpfs in a private mount namespace)")
    else:
        print("note: cannot hide the source tree here (no mount namespace); ran a copy from another directory")
    return p, int(m.group(1))


def ui_checks(port, tags):
    files = sorted(f for f in os.listdir(UI) if not f.startswith("."))
    check(sorted(tags) == ["/" + f for f in files], "every UI file is embedded: %s" % ", ".join(files))
    for f in files:
        want = open(os.path.join(UI, f), "rb").read()
        path = "/" + f
        s, h, b = get(port, "GET", path)
        check(s == 200 and b == want, "GET %s: the file byte for byte (%d bytes)" % (path, len(want)))
        etag, coded = tags.get(path, (None, {}))
        gz_etag = coded.get("gzip")
        check(h.get("etag") == etag, "GET %s: ETag %s is the build-time one" % (path, h.get("etag")))
        s, h2, b2 = get(port, "GET", path, {"Accept-Encoding": "gzip, deflate"})
        if gz_etag:
            check(s == 200 and h2.get("content-encoding") == "gzip" and gzip.decompress(b2) == want
                  and h2.get("etag") == gz_etag and h2.get("vary") == "Accept-Encoding",
                  "GET %s gzip: %d bytes that decompress to the file, ETag %s, Vary" % (path, len(b2), gz_etag))
        else:
            check(s == 200 and b2 == want and "content-encoding" not in h2,
                  "GET %s gzip: no variant (small or not compressible), the raw bytes" % path)
        # A browser's header: br where embedded (tie: br > zstd > gzip), else
        # zstd, else gzip; q-values pick among them.
        best = next((c for c in ("br", "zstd", "gzip") if c in coded), None)
        s, h6, b6 = get(port, "GET", path, {"Accept-Encoding": "gzip, deflate, br, zstd"})
        check(s == 200 and h6.get("content-encoding") == best and h6.get("etag") == (coded[best] if best else etag)
              and (best is None or len(b6) < len(want)),
              "GET %s with gzip, deflate, br, zstd: %s, ETag %s" % (path, best or "identity", h6.get("etag")))
        if "zstd" in coded:
            s, h7, b7 = get(port, "GET", path, {"Accept-Encoding": "br;q=0.5, zstd, gzip;q=0.9"})
            unz = subprocess.run(["zstd", "-dc"], input=b7, stdout=subprocess.PIPE).stdout \
                if shutil.which("zstd") else want
            check(s == 200 and h7.get("content-encoding") == "zstd" and h7.get("etag") == coded["zstd"]
                  and unz == want, "GET %s zstd by q-value: the zstd variant, ETag %s" % (path, coded["zstd"]))
        s, h3, b3 = get(port, "GET", path, {"If-None-Match": etag})
        check(s == 304 and b3 == b"" and h3.get("etag") == etag, "GET %s If-None-Match: 304" % path)
        s, h4, b4 = get(port, "GET", path, {"Range": "bytes=10-29", "Accept-Encoding": "gzip"})
        check(s == 206 and b4 == want[10:30] and h4.get("content-range") == "bytes 10-29/%d" % len(want),
              "GET %s Range 10-29: 206, the raw bytes" % path)
        s, h5, _ = get(port, "GET", path, {"Range": "bytes=%d-" % len(want)})
        check(s == 416 and h5.get("content-range") == "bytes */%d" % len(want), "GET %s Range past the end: 416" % path)
    s, h, b = get(port, "GET", "/")
    check(s == 200 and b == open(os.path.join(UI, "index.html"), "rb").read()
          and h.get("content-type") == "text/html; charset=utf-8", "GET /: the embedded index.html")
    s, h, b = get(port, "GET", "/app.js")
    check(h.get("content-type", "").split(";")[0] in ("text/javascript", "application/javascript"),
          "app.js is typed JavaScript (%s)" % h.get("content-type"))
    s, h, b = get(port, "GET", "/missing.css")
    check(s == 404, "GET /missing.css: 404")


def api_checks(port):
    """The JSON API on the in-memory store (microservice_pg_e2e.py runs the
    same API, and its faults, against PostgreSQL)."""
    s, h, b = jcall(port, "GET", "/api/health")
    check(s == 200 and b == {"status": "ok", "db": "up"}, "GET /api/health: ok, db up")
    feed = Sse(port)
    check(feed.status == 200 and feed.headers.get("content-type") == "text/event-stream",
          "GET /api/notes/events: an event stream")
    s, h, b = jcall(port, "POST", "/api/notes", {"text": 'first "note"\n'})
    check(s == 201 and h.get("location") == "/api/notes/1" and b["id"] == 1 and b["text"] == 'first "note"\n'
          and h.get("content-type") == "application/json" and b["created_at"].endswith("+00:00"),
          "POST /api/notes: 201, Location, the note as JSON (quotes and line break round-trip)")
    s, h, b = jcall(port, "POST", "/api/notes", {"text": "second", "extra": [1, 2]})
    check(s == 201 and b["id"] == 2, "POST /api/notes: a second note (other members ignored)")
    for body, what in ((b"   ", "no JSON"), (b'{"text": "a"', "malformed JSON"), (b'["text"]', "not an object"),
                       (b'{"txt": "a"}', "no text"), (b'{"text": 5}', "a number"), (b'{"text": " \\n"}', "blank"),
                       (b'{"text": "a", "text": "b"}', "a duplicate key"), (b'{"text": "a\\u0000"}', "a NUL"),
                       (b'{"text": "\xff"}', "invalid UTF-8"),
                       (('{"text": "%s"}' % ("x" * 4097)).encode(), "4097 bytes of text")):
        s, h, b = jcall(port, "POST", "/api/notes", body)
        check(s == 400 and isinstance(b, dict) and isinstance(b.get("error"), str),
              "POST /api/notes with %s: 400 + a JSON error (%s)" % (what, b and b.get("error")))
    s, h, b = jcall(port, "POST", "/api/notes", {"text": "é" * 2048})
    check(s == 201 and b["text"] == "é" * 2048, "POST /api/notes: 4096 bytes of UTF-8 are accepted")
    # Over the route's `body 32K`, under `errors /api json`: the server's own
    # 413 is JSON too, announced (before reading) or found while reading.
    for head, body, what in ((b"Content-Length: 40000\r\n", b"", "an announced 40 KB body"),
                             (b"Transfer-Encoding: chunked\r\n", b"9c40\r\n" + b"x" * 40000 + b"\r\n0\r\n\r\n",
                              "a chunked 40 KB body")):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(b"POST /api/notes HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" + head +
                      b"\r\n")
            try:
                c.sendall(body)
            except OSError:
                pass  # answered and closed before the body was all read
            got = b""
            while True:
                try:
                    d = c.recv(65536)
                except ConnectionResetError:
                    break
                if not d:
                    break
                got += d
        check(got.startswith(b"HTTP/1.1 413 Content Too Large\r\n") and b"Content-Type: application/json\r\n" in got
              and got.endswith(b'\r\n\r\n{"error":"Content Too Large","status":413}\n'),
              "%s: a JSON 413 (%r)" % (what, got[:200]))
    s, h, b = jcall(port, "DELETE", "/api/notes/3")
    check(s == 204, "DELETE /api/notes/3: 204")
    s, h, b = jcall(port, "GET", "/api/notes")
    check(s == 200 and [n["id"] for n in b["notes"]] == [1, 2] and b["next"] is None,
          "GET /api/notes lists both, no next page")
    s, h, b = jcall(port, "GET", "/api/notes?limit=1")
    s2, h2, b2 = jcall(port, "GET", "/api/notes?limit=1&after=%s" % b["next"])
    check(s == 200 and [n["id"] for n in b["notes"]] == [1] and b["next"] == 1
          and s2 == 200 and [n["id"] for n in b2["notes"]] == [2] and b2["next"] is None,
          "GET /api/notes?limit=1: keyset pages, next = the last id")
    for q in ("limit=0", "limit=101", "limit=x", "after=-1"):
        s, h, b = jcall(port, "GET", "/api/notes?" + q)
        check(s == 400 and "error" in b, "GET /api/notes?%s: 400" % q)
    s, h, b = jcall(port, "PUT", "/api/notes/2", {"text": "second, edited"})
    check(s == 200 and b == {"id": 2, "text": "second, edited", "created_at": b["created_at"]}, "PUT /api/notes/2: 200")
    s, h, b = jcall(port, "PUT", "/api/notes/99", {"text": "x"})
    check(s == 404 and b == {"error": "no such note"}, "PUT /api/notes/99: 404")
    s, h, b = jcall(port, "DELETE", "/api/notes/1")
    check(s == 204, "DELETE /api/notes/1: 204")
    s, h, b = jcall(port, "DELETE", "/api/notes/1")
    check(s == 404, "DELETE /api/notes/1 again: 404")
    s, h, b = jcall(port, "GET", "/api/notes/1")
    check(s == 404, "GET /api/notes/1 after delete: 404")
    s, h, b = jcall(port, "GET", "/api/notes/2")
    check(s == 200 and b["text"] == "second, edited", "GET /api/notes/2")
    s, h, b = jcall(port, "PUT", "/api/health")
    check(s == 405 and "GET" in h.get("allow", ""), "PUT /api/health: 405 + Allow")
    # `errors /api json`: the API's unknown paths and methods answer JSON,
    # not the UI's HTML, while the UI's own 404s stay HTML.
    check(s == 405 and h.get("content-type") == "application/json"
          and b == {"error": "Method Not Allowed", "status": 405}, "PUT /api/health: the 405 is JSON")
    s, h, b = jcall(port, "GET", "/api/nope")
    check(s == 404 and h.get("content-type") == "application/json" and b == {"error": "Not Found", "status": 404},
          "GET /api/nope (reaches the embedded UI's tree): a JSON 404")
    s, h, b = jcall(port, "GET", "/api")
    check(s == 404 and h.get("content-type") == "application/json", "GET /api: a JSON 404")
    s, h, b = call(port, "GET", "/apidocs")
    check(s == 404 and h.get("content-type", "").startswith("text/html"), "GET /apidocs: not under /api, HTML 404")
    s, h, b = call(port, "HEAD", "/api/notes/events")
    check(s == 200 and h.get("content-type") == "text/event-stream" and b == b"",
          "HEAD /api/notes/events: the head, no stream left open")
    # The feed: every change above, whichever of the 2 workers made it.
    want = [("created", 1), ("created", 2), ("created", 3), ("deleted", 3), ("updated", 2), ("deleted", 1)]
    ev = feed.collect(lambda e: len(e) >= len(want), 10)
    got = [(e["event"], json.loads(e["data"])["id"]) for e in ev]
    check(got == want, "the feed saw every change, in order: %s" % got)
    check([e["id"] for e in ev if e["event"] == "created"] == ["1", "2", "3"], "created events carry the note id")
    feed.close()
    resumed = Sse(port, {"Last-Event-ID": "1"})
    ev = resumed.collect(lambda e: len(e) >= 1, 10)
    check([(e["event"], e["id"]) for e in ev] == [("created", "2")], "Last-Event-ID: 1 resumes with note 2")
    resumed.close()


def main():
    tmp = tempfile.mkdtemp(prefix="ht-microservice-")
    try:
        tags = build_time_etags(tmp)
        p, port = start(tmp)
        try:
            ui_checks(port, tags)
            api_checks(port)
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                rc = "timeout"
            check(rc == 0, "SIGTERM stops the server with status 0 (got %s)" % rc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit("%d check(s) failed" % len(failures))


main()
