#!/usr/bin/env python3
"""One set of HTTP integration cases for every backend: epoll, io_uring, and
IOCP under Wine (tests/windows/run.sh).

usage: http_cases.py --ht 'CMD' [--routing 'CMD' --routing-dir DIR] [--windows [--wine WINE]]

CMD is the program, possibly behind a runner ("wine /path/ht.exe"); it is
split on spaces. The servers bind 127.0.0.1 on a port they pick and print;
they are stopped by PID. Raw sockets throughout (pipelining needs them).
--windows: the server is the Windows build; with --wine, the tree's real
8.3 short names are asked of Windows (cmd /c dir /x) and probed too.
Every server must exit 0 within 10 s of SIGINT (graceful shutdown); ht
also while a response is in flight (it must arrive whole).
Prints one line per case; exits non-zero on the first failure.
"""
import argparse
import gzip
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SENTINEL = b"SENTINEL-SECRET"


# ---------------------------------------------------------------- client ---

class Conn:
    def __init__(self, port, timeout=20):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def response(self, head_only=False):
        """(status, {lowercase name: value}, body) of the next response."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        hs = {}
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            hs[k.strip().lower()] = v.strip()
        n = 0 if head_only or status in (204, 304) else int(hs.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hs, body

    def closed(self):
        """Whether the server closes the connection (EOF) within the timeout."""
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    return True
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.s.close()


def get(target, extra=""):
    return ("GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n" % (target, extra)).encode("latin-1")


def one(port, target, extra="", head=False):
    c = Conn(port)
    c.send(get(target, extra).replace(b"GET", b"HEAD", 1) if head else get(target, extra))
    r = c.response(head_only=head)
    c.close()
    return r


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# --------------------------------------------------------------- servers ---

def start(cmd, pattern, stream):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE if stream == "out" else subprocess.DEVNULL,
                         stderr=subprocess.PIPE if stream == "err" else None)
    f = p.stdout if stream == "out" else p.stderr
    deadline = time.monotonic() + 60  # wine's first start in a fresh prefix
    while time.monotonic() < deadline:
        line = f.readline().decode(errors="replace")
        if not line:
            break
        m = re.search(pattern, line)
        if m:
            return p, int(m.group(1))
    p.kill()
    raise AssertionError("server did not report its port: %r" % cmd)


def stop(p):
    """SIGINT (Wine turns it into CTRL_C_EVENT for the console handler):
    the server must shut down gracefully, exit status 0, within 10 s."""
    p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise AssertionError("no graceful exit within 10 s of SIGINT")
    check(rc == 0, "exit status %d after SIGINT" % rc)


def short_names(runner, root):
    """The 8.3 aliases Windows made for the tree's names, from `cmd /c dir
    /x /a` run through runner (e.g. "wine"), each with its directory."""
    out = []
    for sub in ("", "dir"):
        path = os.path.join(root, sub) if sub else root
        # Wine maps / to drive Z:; cmd wants backslashes (a '/' is a switch).
        r = subprocess.run(runner.split() + ["cmd", "/c", "dir", "/x", "/a", "Z:" + path.replace("/", "\\")],
                           capture_output=True, timeout=60)
        for line in r.stdout.decode(errors="replace").splitlines():
            tok = line.split()
            # date time [AM|PM] <DIR>|size SHORT LONG: a short name only where it differs
            if len(tok) >= 5 and "~" in tok[-2] and not tok[-1].startswith("~"):
                out.append((sub + "/" if sub else "") + tok[-2])
    return out


# ------------------------------------------------------------ the tree ---

def make_tree(tmp):
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "dir"))
    os.makedirs(os.path.join(root, ".git"))
    with open(os.path.join(tmp, "secret.txt"), "wb") as f:
        f.write(SENTINEL + b"\n")
    with open(os.path.join(root, ".git", "config"), "wb") as f:
        f.write(SENTINEL + b" git\n")
    files = {
        "index.html": b"<!DOCTYPE html><p>home</p>\n",
        "a.txt": b"A" * 100 + b"\n",
        "b.txt": b"B" * 2000 + b"\n",
        "dir/c.txt": b"see\n",
        # A name POSIX serves but Windows cannot open (Wine shows the Unix
        # tree's '"' as is): a Windows listing must leave it out.
        "dir/q\"uo'te.txt": b"quote\n",
        "longfilename-document.txt": b"long name\n",
        "big.bin": os.urandom(5 * 1024 * 1024 + 7),
        "style.css": b"body { color: #123456; }\n" * 200,
    }
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    gz = gzip.compress(files["style.css"], 9, mtime=0)
    with open(os.path.join(root, "style.css.gz"), "wb") as f:
        f.write(gz)
    t = time.time()
    os.utime(os.path.join(root, "style.css"), (t - 10, t - 10))
    files["style.css.gz"] = gz
    try:
        os.symlink("../secret.txt", os.path.join(root, "escape.txt"))
        os.symlink(tmp, os.path.join(root, "escdir"))
    except OSError:
        pass
    return root, files


# ----------------------------------------------------------------- cases ---

def ht_cases(port, files, windows, aliases):
    cases = []

    def case(fn):
        cases.append(fn)
        return fn

    @case
    def index_and_keepalive():
        c = Conn(port)
        for name in ("index.html", "a.txt", "b.txt"):
            c.send(get("/" + ("" if name == "index.html" else name)))
            st, hs, body = c.response()
            check(st == 200 and body == files[name], "GET %s: %d" % (name, st))
            check(hs.get("connection") != "close", "keep-alive")
        c.close()

    @case
    def pipelining():
        c = Conn(port)
        names = ["a.txt", "b.txt", "dir/c.txt", "index.html"] * 4
        c.send(b"".join(get("/" + n) for n in names))
        for n in names:
            st, _, body = c.response()
            check(st == 200 and body == files[n], "pipelined %s" % n)
        c.close()

    @case
    def head():
        st, hs, body = one(port, "/b.txt", head=True)
        check(st == 200 and hs["content-length"] == str(len(files["b.txt"])) and body == b"", "HEAD")

    @case
    def big_file_identical():
        st, hs, body = one(port, "/big.bin")
        check(st == 200 and hashlib.sha256(body).digest() == hashlib.sha256(files["big.bin"]).digest(),
              "big file: %d, %d bytes" % (st, len(body)))

    @case
    def big_file_twice_on_one_connection():
        c = Conn(port)
        c.send(get("/big.bin") + get("/a.txt") + get("/big.bin"))
        for n in ("big.bin", "a.txt", "big.bin"):
            st, _, body = c.response()
            check(st == 200 and body == files[n], "pipelined %s" % n)
        c.close()

    @case
    def big_files_in_parallel():
        # 8 clients at once, each the whole 5 MiB twice and a range on one
        # connection: the per-worker cache hands every response its own
        # handle to the same file (zero-copy sends overlap).
        import threading
        errors = []
        big = files["big.bin"]

        def client():
            try:
                c = Conn(port)
                c.send(get("/big.bin") + get("/big.bin", "Range: bytes=1000000-1999999\r\n") + get("/big.bin"))
                for want in (big, big[1000000:2000000], big):
                    st, _, body = c.response()
                    if st not in (200, 206) or body != want:
                        errors.append("status %d, %d bytes" % (st, len(body)))
                c.close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        ts = [threading.Thread(target=client) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        check(not errors, "parallel big files: %s" % errors[:3])

    @case
    def ranges():
        big = files["big.bin"]
        st, hs, body = one(port, "/big.bin", "Range: bytes=100-199\r\n")
        check(st == 206 and body == big[100:200] and hs["content-range"] == "bytes 100-199/%d" % len(big),
              "range 100-199")
        st, _, body = one(port, "/big.bin", "Range: bytes=-10\r\n")
        check(st == 206 and body == big[-10:], "suffix range")
        st, _, body = one(port, "/big.bin", "Range: bytes=5000000-\r\n")
        check(st == 206 and body == big[5000000:], "open range (zero-copy tail)")
        st, hs, _ = one(port, "/big.bin", "Range: bytes=99999999-\r\n")
        check(st == 416 and hs["content-range"] == "bytes */%d" % len(big), "416")

    @case
    def gzip_sidecar():
        st, hs, body = one(port, "/style.css", "Accept-Encoding: gzip\r\n")
        check(st == 200 and hs.get("content-encoding") == "gzip" and body == files["style.css.gz"],
              "gzip sidecar")
        check(gzip.decompress(body) == files["style.css"], "sidecar decodes to the file")
        st, hs, body = one(port, "/style.css")
        check(st == 200 and "content-encoding" not in hs and body == files["style.css"]
              and hs.get("vary") == "Accept-Encoding", "identity with Vary")

    @case
    def conditional():
        _, hs, _ = one(port, "/a.txt")
        st, _, body = one(port, "/a.txt", "If-None-Match: %s\r\n" % hs["etag"])
        check(st == 304 and body == b"", "304")

    @case
    def directories():
        st, hs, _ = one(port, "/dir")
        check(st == 301 and hs["location"] == "/dir/", "redirect to the slash")
        st, _, body = one(port, "/dir/")
        check(st == 200 and b"c.txt" in body, "listing")
        # Every link a listing shows must serve (no 404s): on Windows the
        # name with '"' is left out, elsewhere it is listed like any other.
        links = [h for h in re.findall(rb'href="([^"]*)"', body) if h != b"../"]
        check(b"c.txt" in links, "listing links: %r" % links)
        quoted = b"q%22uo%27te.txt"
        check((quoted not in links) if windows else (quoted in links),
              "q\"uo'te.txt %s the listing: %r" % ("in" if windows else "not in", links))
        for h in links:
            st, _, _ = one(port, "/dir/" + h.decode())
            check(st == 200, "listed /dir/%s answers %d" % (h.decode(), st))

    @case
    def limits():
        c = Conn(port)
        c.send(("GET / HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n" % ("x" * 20000)).encode())
        st, hs, _ = c.response()
        check(st == 431 and hs.get("connection") == "close", "431 for a 20 KB head: %d" % st)
        c.close()
        c = Conn(port)
        c.send(("GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % ("a" * 9000)).encode())
        st, _, _ = c.response()
        check(st == 414, "414 for a 9 KB target: %d" % st)
        c.close()
        c = Conn(port)
        c.send(b"POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello" + get("/a.txt"))
        st, hs, _ = c.response()
        check(st == 405 and hs.get("allow") == "GET, HEAD", "405 for POST")
        st, _, body = c.response()
        check(st == 200 and body == files["a.txt"], "the connection goes on after a body")
        c.close()
        c = Conn(port)
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
        st, _, _ = c.response()
        check(st == 400 and c.closed(), "CL + TE: 400 and close")
        c.close()

    @case
    def traversal():
        attacks = {
            "/../secret.txt": (400,),
            "/%2e%2e/secret.txt": (400,),
            "/dir/../../secret.txt": (400,),
            "/..%2fsecret.txt": (400,),
            "/..%5csecret.txt": (400,),
            "/..\\secret.txt": (400,),
            "/dir\\..\\..\\secret.txt": (400,),
            "/dir/..%5c..%5csecret.txt": (400,),
            "/C:/Windows/win.ini": (404,),
            "/c:%5cwindows%5cwin.ini": (400,),
            "/C%3a/secret.txt": (404,),
            "/Z:/etc/passwd": (404,),
            "/index.html::$DATA": (404,),
            "/index.html:$DATA": (404,),
            "/a.txt:stream": (404,),
            "/.git/config": (403,),
            "/GIT~1/config": (404,),
            "/LONGFI~1.TXT": (404,),
            "/INDEX.HTML": (404,),
            "/a.txt.": (404,),
            "/a.txt%20": (404,),
            "/CON": (404,),
            "/nul.txt": (404,),
            "/\\\\?\\C:\\Windows\\win.ini": (400,),
            "/%5c%5c.%5cpipe%5cx": (400,),
            "//./pipe/x": (404,),
            "/dir::$INDEX_ALLOCATION/c.txt": (404,),
            "/a.txt::$INDEX_ALLOCATION": (404,),
            "/a.txt%00.html": (400,),
            "/COM1": (404,),
            "/dir/NUL": (404,),
            "/PRN.txt": (404,),
            "/escape.txt": (403,),
            "/escdir/secret.txt": (403,),
        }
        for target, want in attacks.items():
            st, _, body = one(port, target)
            check(SENTINEL not in body, "%s leaked the secret" % target)
            check(st in want, "%s: %d, want %s" % (target, st, want))

    @case
    def short_names():
        # The docroot's real 8.3 aliases as Windows (Wine) made them (none on
        # Linux): never another way in, whether to a file, a dotfile's
        # directory (.git) or the index.
        check(not windows or len(aliases) >= 3, "8.3 aliases found: %r" % aliases)
        for alias in aliases:
            for target in ("/" + alias, "/" + alias + "/config"):
                st, _, body = one(port, target)
                check(st == 404 and SENTINEL not in body, "8.3 alias %s: %d" % (target, st))

    return cases


def graceful_shutdown(p, port, files):
    """SIGINT while a 5 MiB response is on its way (the client reads slowly)
    and another connection idles: the response arrives whole, the idle
    connection is closed, the server exits 0."""
    c = Conn(port)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.send(get("/big.bin"))
    c._fill()
    idle = Conn(port)
    idle.send(get("/a.txt"))
    idle.response()
    p.send_signal(signal.SIGINT)
    time.sleep(0.3)
    st, _, body = c.response()
    check(st == 200 and body == files["big.bin"], "in-flight response cut by shutdown")
    check(idle.closed(), "idle connection left open by shutdown")
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError("no exit within 10 s of SIGINT")
    check(rc == 0, "exit status %d after SIGINT" % rc)


def routing_cases(port):
    cases = []

    def case(fn):
        cases.append(fn)
        return fn

    @case
    def routes():
        st, _, body = one(port, "/hello/w%C3%B6rld")
        check(st == 200 and "wörld".encode() in body, "typed route + decoding")
        st, _, _ = one(port, "/users/18446744073709551616x")
        check(st == 200, "fallback route")
        st, _, _ = one(port, "/nope")
        check(st == 404, "404")

    @case
    def bodies():
        c = Conn(port)
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world")
        st, _, body = c.response()
        check(st == 200 and b"hello world" in body, "echo")
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6\r\n chunk\r\n0\r\n\r\n")
        st, _, body = c.response()
        check(st == 200 and b"hello chunk" in body, "chunked echo")
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n" + b"x" * 2000)
        st, _, _ = c.response()
        check(st == 413, "413 over the route's 1K")
        c.close()

    @case
    def typed_query():
        st, _, body = one(port, "/search?q=a+b&tag=x&tag=y")
        check(st == 200 and body == b"q=a b\npage=1\ntag=x\ntag=y\n", "typed query: %d %r" % (st, body))
        st, _, body = one(port, "/search?q=a&page=two")
        check(st == 400 and b"query parameter 'page': not a u64" in body, "400 names the parameter")
        st, _, body = one(port, "/files/css/a%20b.css")
        check(st == 200 and body == b"file [css/a b.css]\n", "{file:path...}")
        st, _, _ = one(port, "/files/css/..%2f..%2fsecret")
        check(st == 400, "{file:path...} refuses %2F")

    @case
    def group_hooks():
        # before hook: 401 + WWW-Authenticate without the token; after hook:
        # the statuses counted per route, the 401 included
        st, hs, _ = one(port, "/admin/stats")
        check(st == 401 and hs.get("www-authenticate") == 'Bearer realm="routing"', "401: %d %r" % (st, hs))
        st, _, body = one(port, "/admin/stats", "Authorization: Bearer tour-token\r\n")
        check(st == 200 and body == b'{"GET /admin/stats":{"4xx":1}}\n', "with the token: %d %r" % (st, body))
        st, _, body = one(port, "/admin/stats", "Authorization: Bearer tour-token\r\n")
        check(st == 200 and body == b'{"GET /admin/stats":{"2xx":1,"4xx":1}}\n', "after hook: %r" % body)

    @case
    def host_block():
        c = Conn(port)
        c.send(b"GET /v1/ping HTTP/1.1\r\nHost: API.localhost:8080\r\n\r\n"
               b"GET /v1/ping HTTP/1.1\r\nHost: t\r\n\r\n"
               b"GET /hello/h HTTP/1.1\r\nHost: api.localhost\r\n\r\n")
        got = [c.response() for _ in range(3)]
        c.close()
        check(got[0][0] == 200 and got[0][2] == b'{"pong":true}\n', "the host's route: %r" % (got[0],))
        check(got[1][0] == 404, "no such route for another host: %d" % got[1][0])
        check(got[2][0] == 200 and got[2][2] == b"hello, h\n", "the routes outside for the host")

    @case
    def mount():
        st, _, body = one(port, "/static/")
        check(st == 200 and b"<" in body, "mounted docroot")
        st, _, body = one(port, "/static/..%5c..%5cCMakeLists.txt")
        check(st == 400, "mount traversal")

    return cases


def run(name, cases):
    for fn in cases:
        t = time.monotonic()
        fn()
        print("ok   %s/%s (%.2f s)" % (name, fn.__name__, time.monotonic() - t), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ht", required=True)
    ap.add_argument("--routing")
    ap.add_argument("--routing-dir")
    ap.add_argument("--windows", action="store_true")
    ap.add_argument("--wine", help="the Wine command, to ask Windows for 8.3 names")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ht_cases_")
    t0 = time.monotonic()
    try:
        root, files = make_tree(tmp)
        aliases = short_names(args.wine, root) if args.wine else []
        if aliases:
            print("8.3 aliases: %s" % " ".join(aliases))
        p, port = start(args.ht.split() + ["-p", "0", "-b", "127.0.0.1", "-d", root, "-w", "2"],
                        r"http://127\.0\.0\.1:(\d+)/", "err")
        try:
            run("ht", ht_cases(port, files, args.windows, aliases))
            t = time.monotonic()
            graceful_shutdown(p, port, files)
            print("ok   ht/graceful_shutdown (%.2f s)" % (time.monotonic() - t), flush=True)
        finally:
            if p.poll() is None:
                stop(p)
        if args.routing:
            cmd = args.routing.split() + ["-p", "0", "-b", "127.0.0.1"]
            if args.routing_dir:
                cmd += ["-r", args.routing_dir]
            p, port = start(cmd, r"listening on 127\.0\.0\.1:(\d+)", "out")
            try:
                run("routing", routing_cases(port))
            finally:
                stop(p)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("all cases passed in %.1f s" % (time.monotonic() - t0))


if __name__ == "__main__":
    main()
