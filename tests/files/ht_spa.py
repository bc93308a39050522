#!/usr/bin/env python3
"""ht --spa and --404 end to end (issue 15, items 4 and 5): a single-page
app's routes get index.html, asset paths and non-HTML clients a real 404
(the --404 page), and without --spa the same paths are plain 404s.
usage: ht_spa.py HT"""
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HT = sys.argv[1]
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def start(root, *flags):
    p = subprocess.Popen([HT, "-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "1", *flags],
                         stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    if "127.0.0.1:" not in line:
        p.kill()
        p.wait()
        sys.exit("ht did not start: %r" % line)
    return p, int(line.split("127.0.0.1:")[1].split()[0].split("/")[0])


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def get(port, path, headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    h = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, h, body


def main():
    tmp = tempfile.mkdtemp(prefix="ht_spa_")
    try:
        root = os.path.join(tmp, "root")
        os.makedirs(os.path.join(root, "assets"))
        index = b"<!doctype html><title>app</title><div id=app></div>\n"
        page = b"<!doctype html><title>lost</title><p>custom 404</p>\n"
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write(index)
        with open(os.path.join(root, "assets", "app.js"), "wb") as f:
            f.write(b"console.log('app');\n")
        with open(os.path.join(tmp, "404.html"), "wb") as f:
            f.write(page)
        html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

        # Bad flags are refused at start, not at the first request.
        r = subprocess.run([HT, "-p", "0", "-d", root, "--spa", "missing.html"], capture_output=True, text=True,
                           timeout=10)
        check(r.returncode == 2 and "--spa missing.html" in r.stderr, "--spa naming no file: exit 2, says why")
        r = subprocess.run([HT, "-p", "0", "-d", root, "--404", os.path.join(tmp, "nope.html")],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 2 and "--404" in r.stderr, "--404 naming no file: exit 2, says why")

        p, port = start(root, "--spa", "index.html", "--404", os.path.join(tmp, "404.html"))
        try:
            s, h, b = get(port, "/settings/profile", html)
            check(s == 200 and b == index and h.get("content-type") == "text/html; charset=utf-8"
                  and "Accept" in h.get("vary", ""), "--spa: a route gets index.html (200, Vary: Accept)")
            etag = h.get("etag")
            s, h, b = get(port, "/settings/profile")
            check(s == 200 and b == index, "--spa: no Accept header accepts anything: index.html")
            s, h, b = get(port, "/settings/profile", dict(html, **{"If-None-Match": etag or "x"}))
            check(s == 304 and etag, "--spa: index.html's ETag revalidates a route (304)")
            s, h, b = get(port, "/settings/profile", method="HEAD")
            check(s == 200 and b == b"" and h.get("content-length") == str(len(index)), "--spa: HEAD")
            s, h, b = get(port, "/api/users", {"Accept": "application/json"})
            check(s == 404 and b == page and "Accept" in h.get("vary", ""),
                  "--spa: a client that does not accept HTML gets the 404 (the --404 page)")
            s, h, b = get(port, "/x", {"Accept": "text/html;q=0, */*"})
            check(s == 404, "--spa: text/html;q=0 refuses HTML: 404")
            s, h, b = get(port, "/assets/missing.js", html)
            check(s == 404 and b == page and h.get("content-type") == "text/html; charset=utf-8",
                  "--spa: an asset-looking path still gets 404, with the --404 page")
            s, h, b = get(port, "/assets/app.js", html)
            check(s == 200 and b == b"console.log('app');\n", "--spa: real files are served as they are")
            s, h, b = get(port, "/settings/profile", html, method="POST")
            check(s == 405 and h.get("allow") == "GET, HEAD" and b != page, "--spa: POST is still 405")
        finally:
            stop(p)

        p, port = start(root)
        try:
            s, h, b = get(port, "/settings/profile", html)
            check(s == 404 and b"404 Not Found" in b and "vary" not in h,
                  "without --spa the same route is the built-in 404 page")
        finally:
            stop(p)
        p, port = start(root, "--404", os.path.join(tmp, "404.html"))
        try:
            s, h, b = get(port, "/nope.txt", method="HEAD")
            check(s == 404 and b == b"" and h.get("content-length") == str(len(page)), "--404: HEAD of a 404")
            s, h, b = get(port, "/dir/../../etc/passwd")
            check(s == 400 and b != page, "--404: other errors keep the built-in page (400)")
        finally:
            stop(p)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % failures)
    sys.exit(1 if failures else 0)


main()
