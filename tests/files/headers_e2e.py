#!/usr/bin/env python3
"""Header rules and CORS on files and assets, end to end over sockets.
Usage: headers_e2e.py HT_BIN HDR_SERVER_BIN SITE_DIR

1. ht with -H, --cache-control and --cors: the headers on 200, 206, 304
   and HEAD, a rule replacing the server's own field (no duplicate), Vary
   merged with the gzip sidecar's, CORS on a 404, the preflight, a
   disallowed origin, '*'; and bad flags: a message and exit 2.
2. hdr_server (tests/files/headers/routes.ht): cache=, header=, cors= on a
   mount and an embed, the same checks through the generated dispatch
   (which answers OPTIONS itself unless it is a preflight for them), and a
   mount and an embed without options that send none of it.
Servers listen on 127.0.0.1 port 0 and are stopped by PID (SIGTERM, exit 0)."""
import gzip
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HT, HDR, SITE = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def request(port, method, target, headers=None):
    """(status, [(lower name, value)...], body) of one request on its own connection."""
    hs = {"Host": "127.0.0.1"}
    hs.update(headers or {})
    raw = ("%s %s HTTP/1.1\r\n" % (method, target)).encode() + \
        b"".join(("%s: %s\r\n" % kv).encode("latin-1") for kv in hs.items()) + b"Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw)
        data = b""
        deadline = time.time() + 10
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = []
    for l in lines[1:]:
        k, v = l.split(":", 1)
        fields.append((k.strip().lower(), v.strip()))
    return int(lines[0].split(" ")[1]), fields, body


def one(fields, name):
    """The value of a field that must appear at most once (None if absent)."""
    vs = [v for k, v in fields if k == name]
    if len(vs) > 1:
        fail("%s sent %d times: %r" % (name, len(vs), vs))
    return vs[0] if vs else None


def expect(what, got, want):
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))


def no_cors(what, fields):
    ac = [k for k, _ in fields if k.startswith("access-control-")]
    if ac:
        fail("%s: CORS fields sent: %r" % (what, ac))


def start(argv, ready):
    err = tempfile.TemporaryFile()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
    deadline = time.time() + 20
    port = None
    if ready == "stdout":
        line = p.stdout.readline().decode()
        if line.startswith("listening on "):
            port = int(line.split()[-1])
    else:
        while time.time() < deadline and port is None and p.poll() is None:
            err.seek(0)
            for l in err.read().decode().splitlines():
                if "ht: serving" in l:
                    port = int(l.split("http://")[1].split(":")[1].split("/")[0])
            time.sleep(0.02)
    if port is None:
        p.kill()
        err.seek(0)
        sys.exit("server did not start: %r" % err.read()[-500:])
    return p, port


def stop(p, what):
    p.send_signal(signal.SIGTERM)
    try:
        st = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("%s did not stop" % what)
        return
    expect("%s exit status" % what, st, 0)


def check_file(port, prefix, want, cors_origin, vary_origin, gz_vary):
    """want: {field: value} the rules add to 200/206/304/HEAD of /app.css;
    cors_origin: the allowed origin (or '*'); vary_origin: a list (Vary:
    Origin expected); gz_vary: /big.txt has a gzip variant."""
    origin = "https://a.example" if cors_origin != "*" else "https://any.example"
    want_acao = origin if cors_origin != "*" else "*"
    st, f, body = request(port, "GET", prefix + "/app.css", {"Origin": origin})
    expect(prefix + " 200", st, 200)
    expect(prefix + " body", body, b"body { color: teal }\n")
    etag = one(f, "etag")
    for k, v in want.items():
        expect("%s 200 %s" % (prefix, k), one(f, k), v)
    expect(prefix + " 200 allow-origin", one(f, "access-control-allow-origin"), want_acao)
    expect(prefix + " 200 vary", one(f, "vary"), "Origin" if vary_origin else None)
    st, f, body = request(port, "GET", prefix + "/app.css", {"Origin": origin, "Range": "bytes=0-3"})
    expect(prefix + " 206", (st, body), (206, b"body"))
    for k, v in want.items():
        expect("%s 206 %s" % (prefix, k), one(f, k), v)
    expect(prefix + " 206 allow-origin", one(f, "access-control-allow-origin"), want_acao)
    st, f, _ = request(port, "GET", prefix + "/app.css", {"Origin": origin, "If-None-Match": etag})
    expect(prefix + " 304", st, 304)
    for k, v in want.items():
        expect("%s 304 %s" % (prefix, k), one(f, k), v)
    expect(prefix + " 304 allow-origin", one(f, "access-control-allow-origin"), want_acao)
    st, f, body = request(port, "HEAD", prefix + "/app.css")
    expect(prefix + " HEAD", (st, body), (200, b""))
    for k, v in want.items():
        expect("%s HEAD %s" % (prefix, k), one(f, k), v)
    # The gzip variant: one Vary, both reasons.
    st, f, body = request(port, "GET", prefix + "/big.txt", {"Origin": origin, "Accept-Encoding": "gzip"})
    expect(prefix + " gz 200", st, 200)
    if gz_vary:
        expect(prefix + " gz encoding", one(f, "content-encoding"), "gzip")
        expect(prefix + " gz vary", one(f, "vary"), "Accept-Encoding, Origin" if vary_origin else "Accept-Encoding")
    # A 404 from the root carries CORS (a script may read it), not the rules.
    st, f, _ = request(port, "GET", prefix + "/nope.css", {"Origin": origin})
    expect(prefix + " 404", st, 404)
    expect(prefix + " 404 allow-origin", one(f, "access-control-allow-origin"), want_acao)
    for k in want:
        expect("%s 404 %s" % (prefix, k), one(f, k), None)
    # Preflight from the allowed origin.
    st, f, body = request(port, "OPTIONS", prefix + "/app.css",
                          {"Origin": origin, "Access-Control-Request-Method": "GET",
                           "Access-Control-Request-Headers": "range"})
    expect(prefix + " preflight", (st, body), (204, b""))
    expect(prefix + " preflight allow-origin", one(f, "access-control-allow-origin"), want_acao)
    expect(prefix + " preflight methods", one(f, "access-control-allow-methods"), "GET, HEAD")
    if "range" not in (one(f, "access-control-allow-headers") or "").lower():
        fail(prefix + " preflight allow-headers: %r" % one(f, "access-control-allow-headers"))
    expect(prefix + " preflight max-age", one(f, "access-control-max-age"), "86400")
    expect(prefix + " preflight vary", one(f, "vary"), "Origin" if vary_origin else None)
    if cors_origin == "*":
        return
    # A disallowed origin: no CORS fields at all, not an error; Vary still says Origin.
    st, f, body = request(port, "GET", prefix + "/app.css", {"Origin": "https://evil.example"})
    expect(prefix + " evil 200", (st, body), (200, b"body { color: teal }\n"))
    no_cors(prefix + " evil 200", f)
    expect(prefix + " evil vary", one(f, "vary"), "Origin")
    for k, v in want.items():
        expect("%s evil %s" % (prefix, k), one(f, k), v)
    st, f, _ = request(port, "OPTIONS", prefix + "/app.css",
                       {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    no_cors(prefix + " evil preflight", f)
    if st not in (204, 405):
        fail(prefix + " evil preflight status %d" % st)
    # The origin is compared case-insensitively and echoed as sent.
    st, f, _ = request(port, "GET", prefix + "/app.css", {"Origin": "http://LOCALHOST:8080"})
    expect(prefix + " case origin", one(f, "access-control-allow-origin"), "http://LOCALHOST:8080")


def test_ht(root):
    p, port = start([HT, "-p", "0", "-b", "127.0.0.1", "-w", "1", "-d", root,
                     "-H", "X-Frame-Options: DENY", "--header", "Cache-Control:  no-cache ",
                     "--cache-control", "*.css=public, max-age=31536000, immutable",
                     "--cache-control", "/sub/**=max-age=60",
                     "--cors", "https://a.example, http://localhost:8080"], "stderr")
    try:
        check_file(port, "", {"cache-control": "public, max-age=31536000, immutable", "x-frame-options": "DENY"},
                   "https://a.example", True, True)
        # -H applies where no --cache-control glob matches; ** crosses '/'.
        st, f, _ = request(port, "GET", "/big.txt")
        expect("ht -H cache-control", one(f, "cache-control"), "no-cache")
        st, f, _ = request(port, "GET", "/sub/x.js")
        expect("ht /sub/** cache-control", one(f, "cache-control"), "max-age=60")
        # A listing's own no-cache is replaced by the rule, not duplicated
        # ("/sub/**" matches the directory "/sub/" too).
        st, f, _ = request(port, "GET", "/sub/")
        expect("ht listing", (st, one(f, "cache-control")), (200, "max-age=60"))
        # No Origin: no CORS field, but Vary: Origin (the answer depends on it).
        st, f, _ = request(port, "GET", "/app.css")
        no_cors("ht no origin", f)
        expect("ht no origin vary", one(f, "vary"), "Origin")
    finally:
        stop(p, "ht")
    p, port = start([HT, "-p", "0", "-b", "127.0.0.1", "-w", "1", "-d", root, "--cors", "*"], "stderr")
    try:
        check_file(port, "", {}, "*", False, True)
    finally:
        stop(p, "ht --cors '*'")
    # Bad flags: one line saying why, exit 2, nothing served.
    for argv, words in [(["-H", "X Bad: 1"], "token"), (["-H", "NoColon"], "Name: value"),
                        (["-H", "X-A: a\rb"], "control"), (["-H", "Content-Length: 5"], "server sets"),
                        (["--cache-control", "*.css"], "GLOB=VALUE"), (["--cache-control", "[a=b"], "glob"),
                        (["--cache-control", "a/*.css=x"], "start it with '/'"),
                        (["--cors", "https://a.example/"], "origin"), (["--cors", "*,https://a.example"], "alone"),
                        (["--cors", "*", "-H", "Access-Control-Allow-Origin: *"], "--cors sets"),
                        (["-H"], "needs a value")]:
        r = subprocess.run([HT, "-p", "0", "-d", root] + argv, capture_output=True, timeout=20)
        msg = r.stderr.decode()
        if r.returncode != 2 or words not in msg or "ht -h" not in msg:
            fail("ht %r: exit %d, %r" % (argv, r.returncode, msg))
    r = subprocess.run([HT, "-h"], capture_output=True, timeout=20)
    for flag in ("--header", "--cache-control", "--cors"):
        if flag not in r.stdout.decode():
            fail("ht -h does not mention " + flag)


def test_routes(base):
    p, port = start([HDR, base], "stdout")
    try:
        check_file(port, "/m", {"cache-control": "public, max-age=31536000, immutable", "x-frame-options": "DENY",
                                "content-security-policy": "default-src 'self'"},
                   "https://a.example", True, True)
        check_file(port, "/e", {"cache-control": "no-cache", "strict-transport-security": "max-age=63072000"},
                   "*", False, True)
        # The index of a directory of the embed: its rules too.
        st, f, _ = request(port, "GET", "/e/")
        expect("/e/ index", (st, one(f, "cache-control")), (200, "no-cache"))
        # Without options: nothing added, and OPTIONS is dispatch's 204 + Allow.
        for prefix in ("/plain", "/eplain"):
            st, f, _ = request(port, "GET", prefix + "/app.css", {"Origin": "https://a.example"})
            expect(prefix + " 200", st, 200)
            no_cors(prefix, f)
            expect(prefix + " cache-control", one(f, "cache-control"), None)
            expect(prefix + " vary", one(f, "vary"), None)
            st, f, _ = request(port, "OPTIONS", prefix + "/app.css",
                               {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"})
            expect(prefix + " OPTIONS", (st, one(f, "allow")), (204, "GET, HEAD, OPTIONS"))
            no_cors(prefix + " OPTIONS", f)
        # A plain OPTIONS (no preflight) on a cors mount: dispatch's answer.
        st, f, _ = request(port, "OPTIONS", "/m/app.css")
        expect("/m plain OPTIONS", (st, one(f, "allow")), (204, "GET, HEAD, OPTIONS"))
    finally:
        stop(p, "hdr_server")


def main():
    tmp = tempfile.mkdtemp(prefix="headers_e2e.")
    try:
        # The mounts' tree, with a gzip sidecar beside big.txt (mounts serve it;
        # embeds have their own variant, compiled in).
        root = os.path.join(tmp, "site")
        shutil.copytree(SITE, root)
        with open(os.path.join(root, "big.txt"), "rb") as f, gzip.open(os.path.join(root, "big.txt.gz"), "wb") as g:
            g.write(f.read())
        test_ht(root)
        test_routes(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("headers_e2e: ok")
    return 0


sys.exit(main())
