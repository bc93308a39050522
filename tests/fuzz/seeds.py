#!/usr/bin/env python3
"""Regenerates tests/fuzz/corpus/<target>/ from the unit tests' inputs: the C
string literals (adjacent ones joined) of the Check suites and the routes.ht
golden cases. Run from anywhere; rewrites the seed-* files only."""
import hashlib, os, re, glob

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, '..', '..'))
ESC = {'n': b'\n', 'r': b'\r', 't': b'\t', '0': b'\0', '\\': b'\\', '"': b'"', "'": b"'"}

def literals(path):
    src = open(path, encoding='utf-8', errors='replace').read()
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    # runs of adjacent "..." literals
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"(?:\s*"(?:[^"\\\n]|\\.)*")*', src):
        out = b''
        for part in re.findall(r'"((?:[^"\\\n]|\\.)*)"', m.group(0)):
            i = 0
            while i < len(part):
                c = part[i]
                if c == '\\':
                    n = part[i + 1]
                    if n == 'x':
                        h = re.match(r'[0-9a-fA-F]{1,2}', part[i + 2:]).group(0)
                        out += bytes([int(h, 16)]); i += 2 + len(h); continue
                    out += ESC.get(n, n.encode()); i += 2; continue
                out += c.encode('utf-8'); i += 1
        yield out

def write(target, items, prefix=b''):
    d = os.path.join(here, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, 'seed-*')):
        os.remove(f)
    seen = set()
    for it in items:
        data = prefix + it
        if data in seen or len(data) > 4096:
            continue
        seen.add(data)
        name = 'seed-' + hashlib.sha1(data).hexdigest()[:16]
        open(os.path.join(d, name), 'wb').write(data)
    return len(seen)

parse = [s for s in literals(os.path.join(root, 'tests/http/check_parse.c')) if b'HTTP/' in s]
chunk = [s for s in literals(os.path.join(root, 'tests/http/check_chunked.c')) if b'\r\n' in s]
uris = [s for s in literals(os.path.join(root, 'tests/base/check_uri.c')) if s and len(s) < 300]
routes = [open(f, 'rb').read() for f in sorted(glob.glob(os.path.join(root, 'tests/dsl/cases/*.ht')))
          + sorted(glob.glob(os.path.join(root, 'tests/codegen/golden/*.ht')))]
# fuzz_parse / fuzz_chunked: 2 bytes of split offset + 1 limits byte first.
n = write('fuzz_parse', parse, b'\x10\x00\x00')
n += write('fuzz_chunked', chunk, b'\x03\x00\x00')
n += write('fuzz_diff', parse)
n += write('fuzz_uri', uris, b'\x00')
n += write('fuzz_dsl', routes)
# fuzz_match: the codegen tests' paths, each under a few method selectors
# (byte 0: GET, HEAD, POST, PUT, DELETE, OPTIONS; 0xE0 + a custom token).
paths = sorted({s for s in literals(os.path.join(root, 'tests/codegen/check_codegen.c'))
                if s.startswith(b'/') and len(s) < 200})
n += write('fuzz_match', [bytes([m]) + p for p in paths for m in (0, 1, 2, 3, 4, 5)]
           + [b'\xe0BREW ' + p for p in paths[:8]] + [b'\xe0MKCOL ' + p for p in paths[:8]])
# fuzz_conn: every request of the parser and server tests (check_defer's
# and check_defer_stream's too), whole (8 zero bytes: no split points) and
# once split in the middle of its head.
reqs = parse + [s for t in ('check_server.c', 'check_server_conn.c', 'check_server_proc.c', 'check_defer.c',
                            'check_defer_stream.c')
                for s in literals(os.path.join(root, 'tests/server', t)) if b'HTTP/1.' in s]
def split(r, c=None):
    c = min(len(r) // 2 if c is None else c, 0xffff)
    return bytes([c & 0xff, c >> 8]) + b'\0' * 6 + r
# ... and each of the handler's kinds (a target "/_" + a..p picks it, the
# rest of the target its variant; fuzz_conn_handler.c): a GET under
# four variants, HEAD, HTTP/1.0, and pipelined behind and before plain
# requests; the streamed-body kinds (o, p) with Content-Length and chunked
# bodies, 100-continue (the body in a second piece), bodies over the
# policy's limits, and a request behind the body.
H = b' HTTP/1.1\r\nHost: x\r\n'
def whole(r):
    return b'\0' * 8 + r
kinds = []
for k in 'abcdefghijklmnop':
    K = k.encode()
    kinds += [whole(b'GET /_%s%d' % (K, v) + H + b'\r\n') for v in range(4)]
    kinds.append(whole(b'HEAD /_%s' % K + H + b'\r\n'))
    kinds.append(whole(b'GET /_%s10 HTTP/1.0\r\n\r\n' % K))
    kinds.append(whole(b'GET /p/1' + H + b'\r\nGET /_%s2' % K + H + b'\r\nGET /_%s3' % K + H
                       + b'Connection: close\r\n\r\n'))
for k in 'op':
    for v in range(6):
        t = b'/_%s%d' % (k.encode(), v)
        kinds.append(whole(b'POST ' + t + H + b'Content-Length: 5\r\n\r\nhello'))
        kinds.append(whole(b'PUT ' + t + H + b'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;e=1\r\nabc\r\n'
                           b'0\r\n\r\n'))
        kinds.append(whole(b'POST ' + t + H + b'Content-Length: 200\r\n\r\n' + b'a' * 200 + b'GET /p/2' + H + b'\r\n'))
        kinds.append(whole(b'PUT ' + t + H + b'Transfer-Encoding: chunked\r\n\r\n400\r\n' + b'b' * 1024
                           + b'\r\n10\r\n' + b'c' * 16 + b'\r\n0\r\n\r\n'))
        head = b'POST ' + t + H + b'Content-Length: 11\r\nExpect: 100-continue\r\n\r\n'
        kinds.append(split(head + b'hello world', len(head)))
n += write('fuzz_conn', [whole(r) for r in reqs] + [split(r) for r in reqs[::4]] + kinds)
print(n, 'seeds')
