#!/usr/bin/env python3
"""End-to-end test of typed query parameters and {name:path...}: the
generated app__dispatch of tests/codegen/golden_query/routes.ht, served by
query_server over real sockets on this build's backend.
Usage: query_e2e.py QUERY_SERVER_BINARY

Each check sends raw bytes on one keep-alive connection and compares status,
Content-Type and body bytes; then a few hundred random query strings for
/search are compared with a reference decoder written here (form rules: '+'
is a space, %XX, %00 and bad escapes refused). At the end SIGTERM must stop
the server with status 0 (under ASan that includes the leak check)."""
import random
import socket
import subprocess
import sys

BIN = sys.argv[1]
failures = []


def start():
    p = subprocess.Popen([BIN, "0"], stdout=subprocess.PIPE, stderr=sys.stderr)
    line = p.stdout.readline().decode()
    if not line.startswith("listening on 127.0.0.1:"):
        p.kill()
        sys.exit("server did not start: %r" % line)
    return p, int(line.rsplit(":", 1)[1])


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def get(self, target):
        """(status, content-type, body) of GET target (bytes or str)."""
        if isinstance(target, str):
            target = target.encode("latin-1")
        self.s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise IOError("connection closed inside a head")
            self.buf += chunk
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        hs = {}
        for l in lines[1:]:
            k, v = l.split(":", 1)
            hs[k.strip().lower()] = v.strip()
        n = int(hs.get("content-length", "0"))
        while len(rest) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise IOError("connection closed inside a body")
            rest += chunk
        self.buf = rest[n:]
        return status, hs.get("content-type", ""), rest[:n]


def check(c, target, status, body=None, contains=None, ctype=None):
    got = c.get(target)
    ok = got[0] == status and (body is None or got[2] == body) and \
        (contains is None or contains in got[2]) and (ctype is None or got[1].startswith(ctype))
    if not ok:
        failures.append("%r: got %r, want %d %r %r %r" % (target, got, status, body, contains, ctype))


def refused(c, target, name, why):
    check(c, target, 400, contains=("query parameter '%s': %s" % (name, why)).encode(), ctype="text/html")


def fixed(c):
    # values decoded into the struct, defaults, repeats
    check(c, "/search?q=hello+world&page=3&tag=a&tag=b-c", 200, b"q=hello world\npage=3\ntags=2\ntag=a\ntag=b-c\n")
    check(c, "/search?q=x", 200, b"q=x\npage=1\ntags=0\n")
    check(c, "/search?q=%41%2bb%20c&zzz=1&&", 200, b"q=A+b c\npage=1\ntags=0\n")  # unknown ignored
    check(c, "/search?%71=named&page=007", 200, b"q=named\npage=7\ntags=0\n")  # a name decoded too
    check(c, "/search?q", 200, b"q=\npage=1\ntags=0\n")  # no '=': an empty value
    check(c, "/search?q=x&page=18446744073709551615", 200, b"q=x\npage=18446744073709551615\ntags=0\n")
    check(c, "/search?q=x" + "&tag=t" * 16, 200, b"q=x\npage=1\ntags=16\n" + b"tag=t\n" * 16)
    # 400 naming the parameter; the handler is not called
    refused(c, "/search", "q", "missing")
    refused(c, "/search?page=2", "q", "missing")
    refused(c, "/search?q=x&page=abc", "page", "not a u64")
    refused(c, "/search?q=x&page=", "page", "not a u64")
    refused(c, "/search?q=x&page=-1", "page", "not a u64")
    refused(c, "/search?q=x&page=18446744073709551616", "page", "not a u64")
    refused(c, "/search?q=x&page=1&page=2", "page", "given more than once")
    refused(c, "/search?q=x" + "&tag=t" * 17, "tag", "more than 16 values")
    refused(c, "/search?q=x&tag=a%20b", "tag", "not a slug")
    refused(c, "/search?q=x&tag=", "tag", "not a slug")
    refused(c, "/search?q=%zz", "q", "bad percent-escape")
    refused(c, "/search?q=%00", "q", "bad percent-escape")
    refused(c, "/search?q=%4", "q", "bad percent-escape")
    # the other types, optional parameters (has_NAME), a quoted str default
    check(c, "/num", 200, b"n=-5\ns=a b\n")
    check(c, "/num?n=-9223372036854775808&h=fF&id=0123abcd-0000-4000-8000-00000000000f&s=%7E",
          200, b"n=-9223372036854775808\nh=ff\nid=0123abcd-0000-4000-8000-00000000000f\ns=~\n")
    check(c, "/num?n=9223372036854775807", 200, b"n=9223372036854775807\ns=a b\n")
    refused(c, "/num?n=9223372036854775808", "n", "not an i64")
    refused(c, "/num?h=", "h", "not a hex")
    refused(c, "/num?h=12345678901234567", "h", "not a hex")
    refused(c, "/num?id=0123abcd-0000-4000-8000-00000000000", "id", "not a uuid")
    # strict: an undeclared parameter is 400; without it, ignored
    check(c, "/strict?x=4", 200, b"x=4\n")
    refused(c, "/strict?x=4&y=1", "y", "not a parameter of this route")
    check(c, "/bare", 200, b"bare\n")
    check(c, "/bare?", 200, b"bare\n")
    refused(c, "/bare?a<b>=1", "a&lt;b&gt;", "not a parameter of this route")  # as sent, escaped in HTML
    check(c, "/strict?%78=1", 200, b"x=1\n")  # the name decoded: x
    refused(c, "/strict?x=1&x%3D=2", "x%3D", "not a parameter of this route")  # named as sent
    # under `errors /api json`: a JSON body with the message
    check(c, "/api/find?q=1&limit=ten", 400,
          b'{"error":"Bad Request","status":400,"message":"query parameter \'limit\': not a u64"}\n',
          ctype="application/json")
    check(c, "/api/find?limit=3", 400,
          b'{"error":"Bad Request","status":400,"message":"query parameter \'q\': missing"}\n',
          ctype="application/json")
    check(c, "/api/find?q=%22quoted%22", 200, b'q="quoted"\nlimit=10\n')
    # path and query parameters in one struct (the path's decoded by the matcher)
    check(c, "/users/12/posts", 200, b"id=12\nsort=new\n")
    check(c, "/users/12/posts?sort=old&id2=0", 200, b"id=12\nsort=old\nid2=0\n")
    refused(c, "/users/12/posts?id2=x", "id2", "not a u64")
    # a route without query parameters: the query untouched, its handler's own
    check(c, "/plain/7?page=x&q", 200, b"id=7\nquery=page=x&q\n")
    # {file:path...}: normal names accepted (decoded), anything that could
    # climb out of or hide in a directory refused with 400
    check(c, "/raw/a/b.txt", 200, b"file=a/b.txt\n")
    check(c, "/raw/docs/read%20me.md", 200, b"file=docs/read me.md\n")
    check(c, "/raw/.well-known/x", 200, b"file=.well-known/x\n")
    check(c, "/raw/...", 200, b"file=...\n")
    check(c, "/raw/a..b", 200, b"file=a..b\n")
    check(c, "/raw/", 200, b"file=\n")
    for bad in ("/raw/%2E%2E/etc/passwd", "/raw/%2e%2e", "/raw/a/.%2E/b", "/raw/%2E", "/raw/../x", "/raw/a/..",
                "/raw/./a", "/raw/a/.", "/raw/..%2Fx", "/raw/a%2Fb", "/raw/a%2fb", "/raw/a%5Cb", "/raw/a%5cb",
                "/raw/a\\b", "/raw/a%00b", "/raw/a//b", "/raw//a", "/raw/a/", "/raw/a%zz"):
        check(c, bad, 400)
    # the plain rest parameter's hazard, as documented: no such checks
    check(c, "/r/%2E%2E%2Fetc", 200, b"rest=../etc\n")
    check(c, "/r/a%2Fb/c", 200, b"rest=a/b/c\n")
    check(c, "/r/a/b/c", 200, b"rest=a/b/c\n")


# ---- random queries against a reference ----
def ref_decode(raw):
    """Form decoding of raw bytes: None for a bad escape or %00."""
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == ord("+"):
            out.append(32)
        elif c == ord("%"):
            h = raw[i + 1:i + 3]
            if len(h) < 2 or any(chr(x) not in "0123456789abcdefABCDEF" for x in h) or int(h, 16) == 0:
                return None
            out.append(int(h, 16))
            i += 2
        else:
            out.append(c)
        i += 1
    return bytes(out)


def ref_search(query):
    """(status, body or the message) of /search?query."""
    q, page, tags, seen = None, 1, [], set()
    for pair in query.split(b"&"):
        if not pair:
            continue
        k, _, v = pair.partition(b"=")
        k = ref_decode(k) if len(k) <= 64 else None
        if k == b"q" or k == b"page":
            if k in seen:
                return 400, b"query parameter '%s': given more than once" % k
            seen.add(k)
        if k == b"tag" and len(tags) == 16:
            return 400, b"query parameter 'tag': more than 16 values"
        if k not in (b"q", b"page", b"tag"):
            continue
        d = ref_decode(v)
        if d is None:
            return 400, b"query parameter '%s': bad percent-escape" % k
        if k == b"q":
            q = d
        elif k == b"page":
            if not d.isdigit() or int(d) > 2**64 - 1:
                return 400, b"query parameter 'page': not a u64"
            page = int(d)
        else:
            if not d or any(chr(x) not in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
                            for x in d):
                return 400, b"query parameter 'tag': not a slug"
            tags.append(d)
    if q is None:
        return 400, b"query parameter 'q': missing"
    body = b"q=%s\npage=%d\ntags=%d\n" % (q, page, len(tags)) + b"".join(b"tag=%s\n" % t for t in tags)
    return 200, body


RAW = b"abcXYZ019-_.~!$'()*,;:@/?"


def rand_value(rng, bad=0.03):
    out = b""
    for _ in range(rng.randrange(0, 6)):
        r = rng.random()
        if r < bad:
            out += rng.choice([b"%", b"%G1", b"%4", b"%00"])
        elif r < 0.5:
            out += bytes([rng.choice(RAW)])
        elif r < 0.8:
            out += b"%%%02X" % rng.choice([0x20, 0x26, 0x3d, 0x2b, 0x25, 0x41, 0x7a, 0xc3, 0xff, 0x0a,
                                            rng.randrange(256)])
        else:
            out += b"+"
    return out


def rand_query(rng):
    """Mostly valid queries, with each kind of mistake now and then."""
    parts = [b"q=" + rand_value(rng)] if rng.random() < 0.93 else []
    if rng.random() < 0.04:
        parts.append(b"q=" + rand_value(rng))  # twice
    if rng.random() < 0.5:
        parts.append(b"page=" + rng.choice([b"1", b"007", b"%31", b"42", b"18446744073709551615", b"",
                                            b"x", b"18446744073709551616", b"4+"]))
    ntags = rng.choice([0, 0, 1, 2, 3, 5, 16, 17])
    for _ in range(ntags):
        parts.append(b"tag=" + rng.choice([b"a", b"b-c", b"x_y", b"%41", b"Z9", b"%2D", b"%5F"]
                                          if rng.random() < 0.97 else [b"", b"a%20b", b"%zz", b"a+b"]))
    for _ in range(rng.randrange(0, 3)):
        parts.append(rng.choice([b"other=1", b"", b"ta%67=a", b"x=" + rand_value(rng)]))
    rng.shuffle(parts)
    return b"&".join(parts)


def fuzz(c, n=400):
    rng = random.Random(17)
    for _ in range(n):
        query = rand_query(rng)
        want = ref_search(query)
        got = c.get(b"/search?" + query)
        ok = got[0] == want[0] and (got[2] == want[1] if want[0] == 200 else want[1] in got[2])
        if not ok:
            failures.append("/search?%r: got %r, want %r" % (query, got, want))
            if len(failures) > 10:
                return


p, port = start()
try:
    c = Conn(port)
    fixed(c)
    fuzz(c)
finally:
    p.terminate()
    rc = p.wait(timeout=20)
if rc != 0:
    failures.append("server exit status %d after SIGTERM" % rc)
for f in failures:
    print("FAIL:", f)
print("query_e2e: %d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
