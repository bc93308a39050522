#!/usr/bin/env python3
"""hachettp from another project's point of view (issue 6).

Usage: downstream.py SOURCE_DIR WORK_DIR IO_URING(ON|OFF)

1. Builds SOURCE_DIR in Release for the given backend (WORK_DIR/build, kept
   between runs so a rerun is incremental) and installs it into a fresh
   temporary prefix: `cmake --install build --prefix P`.
2. Checks the installed tree: library, headers, <ht/config_build.h> naming
   the backend, htgen/ht --version and --help, hachettp.pc.
3. Builds three projects copied OUTSIDE the source tree (a temporary
   directory), each against the prefix only:
     - cmake_app: find_package(hachettp 0.1) + hachettp_add_routes with a
       mount and an embed (and find_package(hachettp 0.2) must fail);
     - the README's hello world with `cc main.c $(pkg-config --cflags --libs
       hachettp)` (verbatim; then, to run it, with the port made 0);
     - byhand: htgen -> re2c -> gperf -> cc, no build system.
4. Runs each on 127.0.0.1 (the program picks its port and prints it),
   checks answers over a socket, and stops it by PID with SIGTERM (exit 0).
5. cmake_app again after adding, changing and removing files under its
   embedded DIR (Makefiles, and Ninja when installed): each rebuild serves
   the new tree, and a build with nothing changed does not rerun htgen.
"""
import gzip
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRC, WORK, URING = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3].upper()
HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND = "io_uring" if URING in ("ON", "1", "TRUE", "YES") else "epoll"
failures = []
# The projects are plain builds: nothing of the calling (sanitizer) build.
ENV = {k: v for k, v in os.environ.items()
       if not k.startswith(("CFLAGS", "LDFLAGS", "CMAKE_", "ASAN", "UBSAN", "LSAN", "MAKEFLAGS"))}


def run(cmd, cwd=None, env=None, shell=False, expect_fail=False):
    r = subprocess.run(cmd, cwd=cwd, env=env or ENV, shell=shell, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=900)
    out = r.stdout.decode(errors="replace")
    if (r.returncode != 0) != expect_fail:
        sys.exit("FAILED (%s): %s\n%s" % ("succeeded" if expect_fail else "exit %d" % r.returncode,
                                          cmd if isinstance(cmd, str) else " ".join(cmd), out[-6000:]))
    return out


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def start(argv, cwd):
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=sys.stderr, env=ENV)
    line = p.stdout.readline().decode()
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        p.wait()
        sys.exit("%s did not start: %r" % (argv[0], line))
    return p, int(m.group(1)), line


def stop(p, name):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = "timeout"
    check(rc == 0, "%s stops on SIGTERM with status 0 (got %s)" % (name, rc))


def get(port, path, headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    h = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, h, body


def check_embedded(port, prefix, rel, disk, name):
    """The bytes of an embedded file, its gzip variant, 304 and Range."""
    want = open(disk, "rb").read()
    s, h, b = get(port, prefix + rel)
    check(s == 200 and b == want, "%s: GET %s%s is the file byte for byte (%d bytes)" % (name, prefix, rel, len(want)))
    etag = h.get("etag", "")
    check(etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/"),
          "%s: strong ETag %s" % (name, etag))
    s, h2, b = get(port, prefix + rel, {"Accept-Encoding": "gzip"})
    if len(want) > 1024:
        check(s == 200 and h2.get("content-encoding") == "gzip" and gzip.decompress(b) == want
              and len(b) < len(want) and h2.get("vary") == "Accept-Encoding",
              "%s: gzip variant (%d bytes) decompresses to the file, with Vary" % (name, len(b)))
        check(h2.get("etag") != etag, "%s: the gzip variant has its own ETag" % name)
    s, h3, b = get(port, prefix + rel, {"If-None-Match": etag})
    check(s == 304 and b == b"" and h3.get("etag") == etag, "%s: If-None-Match -> 304" % name)
    s, h4, b = get(port, prefix + rel, {"Range": "bytes=5-14"})
    check(s == 206 and b == want[5:15] and h4.get("content-range") == "bytes 5-14/%d" % len(want),
          "%s: Range bytes=5-14 -> 206 with those bytes" % name)
    return etag


def main():
    os.makedirs(WORK, exist_ok=True)
    build = os.path.join(WORK, "build-" + BACKEND)
    t0 = time.time()
    run(["cmake", "-S", SRC, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DHT_IO_URING=" + URING,
         "-DHT_BUILD_TESTS=OFF", "-DHT_BUILD_EXAMPLES=ON", "-DHT_SANITIZE=OFF"])
    run(["cmake", "--build", build, "-j2", "--target", "hachettp", "htgen", "ht"])
    tmp = tempfile.mkdtemp(prefix="ht-downstream-")
    try:
        prefix = os.path.join(tmp, "prefix")
        run(["cmake", "--install", build, "--prefix", prefix])
        print("built and installed in %.1f s" % (time.time() - t0))
        installed(prefix)
        projects = os.path.join(tmp, "projects")  # outside the source tree
        cmake_app(prefix, projects)
        pkgconfig_hello(prefix, projects)
        byhand(prefix, projects)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        sys.exit("%d check(s) failed" % len(failures))
    print("all downstream checks passed (%s, %.1f s)" % (BACKEND, time.time() - t0))


def installed(prefix):
    lib = [d for d in ("lib", "lib64") if os.path.exists(os.path.join(prefix, d, "libhachettp.a"))]
    check(len(lib) == 1, "libhachettp.a installed")
    libdir = os.path.join(prefix, lib[0] if lib else "lib")
    check(os.path.exists(os.path.join(prefix, "include/ht/ht.h")), "<ht/ht.h> installed")
    undef = run(["nm", "-u", os.path.join(libdir, "libhachettp.a")])
    zsyms = sorted(set(re.findall(r"\b(deflate\w*|inflate\w*|crc32|adler32|gz\w+)\b", undef)))
    check(not zsyms, "libhachettp.a needs no zlib (undefined: %s)" % (", ".join(zsyms) or "none of zlib's"))
    cfg = open(os.path.join(prefix, "include/ht/config_build.h")).read()
    check("#define HT_BACKEND_NAME \"%s\"" % BACKEND in cfg and
          "#define HT_BACKEND_%s 1" % ("IOURING" if BACKEND == "io_uring" else "EPOLL") in cfg,
          "<ht/config_build.h> names the %s backend" % BACKEND)
    for f in ("hachettpConfig.cmake", "hachettpConfigVersion.cmake", "hachettpTargets.cmake",
              "HachettpRoutes.cmake", "FindRe2c.cmake", "FindGperf.cmake"):
        check(os.path.exists(os.path.join(libdir, "cmake/hachettp", f)), "cmake/hachettp/" + f)
    version = re.search(r'HT_VERSION_STRING "([^"]+)"', open(os.path.join(prefix, "include/ht/types.h")).read()).group(1)
    htgen, ht = os.path.join(prefix, "bin/htgen"), os.path.join(prefix, "bin/ht")
    check(run([htgen, "--version"]).strip() == "htgen " + version, "htgen --version: htgen " + version)
    check(version in run([ht, "--version"]), "ht --version names " + version)
    hh = run([htgen, "--help"])
    for flag in ("-o OUTDIR", "--check", "--list", "--prefix", "--mount-base", "--depfile", "--help", "--version"):
        check(flag in hh, "htgen --help documents " + flag)
    th = run([ht, "--help"])
    for flag in ("--port", "--bind", "--dir", "--workers", "--index", "--no-index", "--no-list", "--no-gzip",
                 "--dotfiles", "--follow-symlinks", "--access-log", "--no-cache", "--precompress", "--version",
                 "--help"):
        check(flag in th, "ht --help documents " + flag)
    for f in ("share/man/man1/ht.1", "share/man/man1/htgen.1", "share/doc/hachettp/LICENSE",
              "share/doc/hachettp/README.md", "share/doc/hachettp/SPEC.md"):
        check(os.path.exists(os.path.join(prefix, f)), f + " installed")
    lic = os.path.join(prefix, "share/doc/hachettp/LICENSE")
    check(os.path.exists(lic) and open(lic).read().startswith("MIT License"), "the installed LICENSE is MIT")
    env = dict(ENV, PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"))
    check(run(["pkg-config", "--modversion", "hachettp"], env=env).strip() == version,
          "pkg-config --modversion hachettp: " + version)
    check(run(["pkg-config", "--variable=backend", "hachettp"], env=env).strip() == BACKEND,
          "pkg-config --variable=backend hachettp: " + BACKEND)


def cmake_app(prefix, projects):
    src = os.path.join(projects, "cmake_app")
    shutil.copytree(os.path.join(HERE, "cmake_app"), src)
    b = os.path.join(src, "build")
    run(["cmake", "-S", src, "-B", b, "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_PREFIX_PATH=" + prefix])
    run(["cmake", "--build", b])
    # The version file: 0.1 (and 0.1.0) is compatible, 0.2 and 1.0 are not.
    for want, ok in (("0.1.0", True), ("0.2", False), ("1.0", False)):
        vp = os.path.join(projects, "version-" + want)
        os.makedirs(vp)
        with open(os.path.join(vp, "CMakeLists.txt"), "w") as f:
            f.write("cmake_minimum_required(VERSION 3.20)\nproject(v C)\nfind_package(hachettp %s REQUIRED)\n" % want)
        run(["cmake", "-S", vp, "-B", os.path.join(vp, "b"), "-DCMAKE_PREFIX_PATH=" + prefix], expect_fail=not ok)
        check(True, "find_package(hachettp %s) %s" % (want, "found" if ok else "refused"))

    p, port, line = start([os.path.join(b, "app")], cwd=b)
    try:
        check(line.split()[-1] == BACKEND, "cmake_app links the %s library" % BACKEND)
        s, h, body = get(port, "/api/hello/world")
        check(s == 200 and body == ('{"hello":"world","backend":"%s"}' % BACKEND).encode()
              and h.get("content-type") == "application/json", "cmake_app: GET /api/hello/world (JSON)")
        s, h, body = get(port, "/static/a.txt")
        check(s == 200 and body == b"mounted file\n", "cmake_app: mount /static serves a.txt from disk")
        s, h, body = get(port, "/static/docs/")
        check(s == 200 and b"readme.txt" in body, "cmake_app: mount listing (list=on)")
        check_embedded(port, "/ui", "/index.html", os.path.join(src, "ui/index.html"), "cmake_app embed")
        s, h, body = get(port, "/ui/")
        check(s == 200 and body == open(os.path.join(src, "ui/index.html"), "rb").read(),
              "cmake_app: /ui/ serves the embedded index")
        s, h, body = get(port, "/ui/css/app.css")
        check(s == 200 and h.get("content-type", "").startswith("text/css"), "cmake_app: embedded CSS typed text/css")
        s, h, body = get(port, "/ui/css")
        check(s == 301 and h.get("location") == "/ui/css/", "cmake_app: embedded directory without '/' -> 301")
        s, h, body = get(port, "/ui/nope.js")
        check(s == 404, "cmake_app: a name not embedded -> 404")
        s, h, body = get(port, "/ui/index.html", method="HEAD")
        check(s == 200 and body == b"" and int(h.get("content-length", "0")) == os.path.getsize(
            os.path.join(src, "ui/index.html")), "cmake_app: HEAD of an embedded file")
    finally:
        stop(p, "cmake_app")
    rebuilds(src, b, "Unix Makefiles")
    if shutil.which("ninja"):
        nb = os.path.join(src, "build-ninja")
        run(["cmake", "-S", src, "-B", nb, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
             "-DCMAKE_PREFIX_PATH=" + prefix])
        run(["cmake", "--build", nb])
        rebuilds(src, nb, "Ninja")


def rebuilds(src, b, gen):
    """Adding, changing and removing a file under the embedded DIR rebuilds;
    a build with nothing changed does not rerun htgen."""
    def build_and_get(paths):
        out = run(["cmake", "--build", b])
        p, port, _ = start([os.path.join(b, "app")], cwd=b)
        try:
            return out, [get(port, x) for x in paths]
        finally:
            stop(p, "cmake_app (%s rebuild)" % gen)
    out = run(["cmake", "--build", b])
    check("htgen" not in out, "%s: a build with nothing changed does not rerun htgen" % gen)
    added, css = os.path.join(src, "ui/added.txt"), os.path.join(src, "ui/css/app.css")
    with open(added, "w") as f:
        f.write("added after the first build\n")
    out, [(s, h, body)] = build_and_get(["/ui/added.txt"])
    check(s == 200 and body == b"added after the first build\n", "%s: a file added under DIR is served after a rebuild" % gen)
    old_css = open(css, "rb").read()
    _, [(s0, h0, _)] = build_and_get(["/ui/css/app.css"])
    with open(css, "ab") as f:
        f.write(b"p { margin: 0; }\n")
    os.remove(added)
    out, [(s1, h1, b1), (s2, _, _)] = build_and_get(["/ui/css/app.css", "/ui/added.txt"])
    check(s1 == 200 and b1 == old_css + b"p { margin: 0; }\n" and h1.get("etag") != h0.get("etag"),
          "%s: a changed file is served with its new bytes and a new ETag" % gen)
    check(s2 == 404, "%s: a removed file is gone after a rebuild" % gen)
    out = run(["cmake", "--build", b])
    check("htgen" not in out, "%s: and the next build is a no-op again" % gen)
    with open(css, "wb") as f:
        f.write(old_css)


def readme_hello():
    text = open(os.path.join(SRC, "README.md")).read()
    m = re.search(r"## Hello world\n.*?```c\n(.*?)```", text, re.S)
    if not m:
        sys.exit("README.md: no hello world C block")
    return m.group(1)


def pkgconfig_hello(prefix, projects):
    d = os.path.join(projects, "pkgconfig_hello")
    os.makedirs(d)
    libdir = [x for x in ("lib", "lib64") if os.path.isdir(os.path.join(prefix, x, "pkgconfig"))][0]
    env = dict(ENV, PKG_CONFIG_PATH=os.path.join(prefix, libdir, "pkgconfig"))
    code = readme_hello()
    with open(os.path.join(d, "main.c"), "w") as f:
        f.write(code)
    # The README's command, verbatim.
    run("cc main.c $(pkg-config --cflags --libs hachettp) -o my_app", cwd=d, env=env, shell=True)
    check(os.path.exists(os.path.join(d, "my_app")), "README hello: cc main.c $(pkg-config --cflags --libs hachettp)")
    # To run it in a test: the same program on 127.0.0.1 and a free port, printed.
    listen = "ht_server__listen(&server, nullptr, 8080, 64)"
    check(listen in code, "README hello listens with " + listen)
    code = "#include <stdio.h>\n" + code.replace(
        listen + " != 0) return 1;",
        'ht_server__listen(&server, "127.0.0.1", 0, 64) != 0) return 1;\n'
        'printf("listening on 127.0.0.1:%u\\n", (unsigned) ht_server__port(&server)); fflush(stdout);')
    with open(os.path.join(d, "run.c"), "w") as f:
        f.write(code)
    run("cc -std=c2x -Wall -Werror run.c $(pkg-config --cflags --libs hachettp) -o run_app", cwd=d, env=env, shell=True)
    p, port, _ = start([os.path.join(d, "run_app")], cwd=d)
    try:
        s, h, body = get(port, "/")
        check(s == 200 and body == b"hello from hachettp\n", "README hello (pkg-config build) answers over a socket")
    finally:
        stop(p, "README hello")


def byhand(prefix, projects):
    d = os.path.join(projects, "byhand")
    shutil.copytree(os.path.join(HERE, "byhand"), d)
    libdir = [x for x in ("lib", "lib64") if os.path.isdir(os.path.join(prefix, x, "pkgconfig"))][0]
    env = dict(ENV, PKG_CONFIG_PATH=os.path.join(prefix, libdir, "pkgconfig"),
               PATH=os.path.join(prefix, "bin") + os.pathsep + ENV.get("PATH", ""))
    os.makedirs(os.path.join(d, "gen"))
    script = (
        "set -e\n"
        "htgen routes.ht -o gen --depfile gen/svc.d\n"
        "re2c -W -Wno-nondeterministic-tags -Wno-sentinel-in-midrule -Wunreachable-rules -Werror --no-generation-date "
        "-o gen/svc_routes.c gen/svc_routes.re\n"
        "gperf --output-file=gen/svc_mime.c gen/svc_mime.gperf\n"
        "cc -std=c2x -O2 -Igen -DSVC_EMBED_BLOB='\"gen/svc_embed.bin\"' main.c gen/svc_routes.c "
        "gen/svc_dispatch.c gen/svc_mime.c gen/svc_embed.c $(pkg-config --cflags --libs hachettp) -o svc\n")
    run(script, cwd=d, env=env, shell=True)
    dep = open(os.path.join(d, "gen/svc.d")).read()
    check(dep.startswith("gen/svc_routes.h:") and os.path.realpath(os.path.join(d, "assets/hello.note")) in dep
          and os.path.realpath(os.path.join(d, "assets")) in dep,
          "htgen --depfile names routes.ht, the embedded files and their directory")
    tables = open(os.path.join(d, "gen/svc_embed.c")).read()
    check('"/.env"' not in tables and '"/.well-known/security.txt"' in tables and '"/index.html"' in tables,
          "htgen embeds index.html and .well-known/, leaves the dotfile .env out")
    p, port, _ = start([os.path.join(d, "svc")], cwd="/")
    try:
        s, h, body = get(port, "/ping")
        check(s == 200 and body == b"pong\n", "byhand: GET /ping")
        s, h, body = get(port, "/sum/40/2")
        check(s == 200 and body == b"42\n", "byhand: GET /sum/40/2 (typed parameters)")
        s, h, body = get(port, "/sum/1/x")
        check(s == 404, "byhand: /sum/1/x does not match u64 -> 404")
        check_embedded(port, "", "/data.json", os.path.join(d, "assets/data.json"), "byhand embed")
        s, h, body = get(port, "/")
        check(s == 200 and body == open(os.path.join(d, "assets/index.html"), "rb").read(),
              "byhand: / serves the embedded index.html (cwd is /)")
        s, h, body = get(port, "/.env")
        check(s == 404, "byhand: a dotfile under the embedded DIR is not embedded (404)")
        s, h, body = get(port, "/.well-known/security.txt")
        check(s == 200 and body.startswith(b"Contact:"), "byhand: .well-known is embedded")
        s, h, body = get(port, "/hello.note")
        check(s == 200 and h.get("content-type") == "text/x-note", "byhand: the mime line types hello.note")
        s, h, body = get(port, "/ping", method="DELETE")
        check(s == 405 and "GET" in h.get("allow", ""), "byhand: DELETE /ping -> 405 + Allow")
    finally:
        stop(p, "byhand")


main()
