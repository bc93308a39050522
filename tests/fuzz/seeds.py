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
# fuzz_conn: every request of the parser and server tests, whole (8 zero bytes:
# no split points) and once split in the middle of its head.
reqs = parse + [s for s in literals(os.path.join(root, 'tests/server/check_server.c')) if b'HTTP/1.' in s]
def split(r):
    c = min(len(r) // 2, 0xffff)
    return bytes([c & 0xff, c >> 8]) + b'\0' * 6 + r
n += write('fuzz_conn', [b'\0' * 8 + r for r in reqs] + [split(r) for r in reqs[::4]])
print(n, 'seeds')
