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
  the JSON API (create, list, get, delete, 404, 405);
- SIGTERM stops it with status 0.
"""
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

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
    for m in re.finditer(r'\{ "([^"]+)", "[^"]*", "(\\"[^"]+\\")", [^,]+, \d+, (nullptr|"(\\"[^"]+\\")")', text):
        tags[m.group(1)] = (m.group(2).replace('\\"', '"'), (m.group(4) or "").replace('\\"', '"') or None)
    return tags


def start(tmp):
    bindir, rundir = os.path.join(tmp, "bin"), os.path.join(tmp, "run")
    os.makedirs(bindir)
    os.makedirs(rundir)
    exe = os.path.join(bindir, "microservice")
    shutil.copy2(BIN, exe)
    argv = [exe, "-p", "0", "-b", "127.0.0.1"]
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
        etag, gz_etag = tags.get(path, (None, None))
        check(h.get("etag") == etag, "GET %s: ETag %s is the build-time one" % (path, h.get("etag")))
        s, h2, b2 = get(port, "GET", path, {"Accept-Encoding": "gzip, deflate"})
        if gz_etag:
            check(s == 200 and h2.get("content-encoding") == "gzip" and gzip.decompress(b2) == want
                  and h2.get("etag") == gz_etag and h2.get("vary") == "Accept-Encoding",
                  "GET %s gzip: %d bytes that decompress to the file, ETag %s, Vary" % (path, len(b2), gz_etag))
        else:
            check(s == 200 and b2 == want and "content-encoding" not in h2,
                  "GET %s gzip: no variant (small or not compressible), the raw bytes" % path)
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
    s, h, b = get(port, "GET", "/api/health")
    check(s == 200 and json.loads(b) == {"status": "ok", "notes": 0}, "GET /api/health")
    s, h, b = get(port, "POST", "/api/notes", body=b'first "note"\n')
    check(s == 201 and h.get("location") == "/api/notes/1" and json.loads(b) == {"id": 1, "text": 'first "note"'},
          "POST /api/notes: 201, Location, the note as JSON (quotes escaped)")
    s, h, b = get(port, "POST", "/api/notes", body=b"second")
    check(s == 201 and json.loads(b)["id"] == 2, "POST /api/notes: a second note")
    s, h, b = get(port, "POST", "/api/notes", body=b"   ")
    check(s == 400, "POST /api/notes with blank text: 400")
    s, h, b = get(port, "GET", "/api/notes")
    check(s == 200 and json.loads(b) == {"notes": [{"id": 1, "text": 'first "note"'}, {"id": 2, "text": "second"}]}
          and h.get("content-type") == "application/json", "GET /api/notes lists both")
    s, h, b = get(port, "DELETE", "/api/notes/1")
    check(s == 204, "DELETE /api/notes/1: 204")
    s, h, b = get(port, "GET", "/api/notes/1")
    check(s == 404, "GET /api/notes/1 after delete: 404")
    s, h, b = get(port, "GET", "/api/notes/2")
    check(s == 200 and json.loads(b)["text"] == "second", "GET /api/notes/2")
    s, h, b = get(port, "PUT", "/api/health")
    check(s == 405 and "GET" in h.get("allow", ""), "PUT /api/health: 405 + Allow")


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
