#!/usr/bin/env python3
"""examples/microservice on PostgreSQL, end to end, faults included.

Usage: microservice_pg_e2e.py BINARY HAS_PG

Starts a PostgreSQL server from Debian's binaries (/usr/lib/postgresql/N/bin,
the newest N): initdb in a temporary directory as an unprivileged user
(`nobody` through runuser when the test runs as root), pg_ctl start with a
Unix socket in that directory and no TCP listener; pg_ctl stop at the end
and on failure (and the postmaster's PID killed if that fails). Then:

1. the database down at start: the service starts anyway; note routes and
   the feed answer 503 with a JSON error, /api/health 503 "down"; the
   database starts and the service reconnects by itself;
2. the whole API over HTTP (create, get, list and its pages, update,
   delete, the 400s, 404, 405) and the schema it created;
3. the feed: two subscribers, one on a second instance (2 workers) sharing
   the database, see creations, updates and deletions made through either
   instance; Last-Event-ID resumes with the notes after it, then live events;
4. a query slower than its route's deadline (MICROSERVICE_TEST_SLOW=1, GET
   /api/notes/{id}?delay_ms=N: pg_sleep on the server): 504 at the 2 s
   deadline, and the statement is cancelled on the server
   (pg_stat_activity shows nothing left running, the server log the cancel);
5. a subscriber that stops reading is dropped (its stream ends), while
   another one, reading, gets every event in time;
6. the database stopped (pg_ctl stop -m fast) and started again under a
   bounded load of writers: requests in flight get 503, none takes longer
   than its deadline, the feed's streams end, the service comes back, and
   every note that was answered 201 is listed afterwards;
7. SIGTERM stops both instances with status 0 (ASan's leak check runs then).

Exit status 77 (ctest: skipped) when PostgreSQL's binaries are not
installed or the binary was built without libpq (HAS_PG is 0).
"""
import glob
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc_client import Sse, call, jcall, list_all  # noqa: E402

BIN, HAS_PG = sys.argv[1], sys.argv[2] not in ("0", "OFF", "")
DEADLINE = 2.0  # routes.ht: timeout 2s
failures = []
T0 = time.monotonic()


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what + "  [%.1f s]" % (time.monotonic() - T0), flush=True)
    if not cond:
        failures.append(what)


def wait_until(cond, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


class Postgres:
    """A throwaway cluster on a Unix socket in its own directory."""

    def __init__(self, bindir, tmp):
        self.bin = bindir
        self.dir = os.path.join(tmp, "pg")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        os.makedirs(self.dir)
        self.as_user = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            nobody = pwd.getpwnam("nobody")
            os.chown(tmp, nobody.pw_uid, nobody.pw_gid)
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
            self.as_user = ["runuser", "-u", "nobody", "--"]
        self.conninfo = "host=%s dbname=postgres user=postgres connect_timeout=5" % self.dir

    def run(self, *argv, timeout=60):
        return subprocess.run(self.as_user + [os.path.join(self.bin, argv[0]), *argv[1:]],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)

    def initdb(self):
        r = self.run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                     "--no-locale", "--no-sync")
        if r.returncode != 0:
            sys.exit("initdb failed:\n" + r.stdout.decode())

    def start(self):
        opts = "-k %s -c listen_addresses='' -c fsync=off -c max_connections=40" % self.dir
        r = self.run("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t", "30", "start")
        if r.returncode != 0:
            sys.exit("pg_ctl start failed:\n" + r.stdout.decode() + open(self.log).read()[-2000:])

    def pid(self):
        try:
            return int(open(os.path.join(self.data, "postmaster.pid")).readline())
        except (OSError, ValueError):
            return None

    def stop(self, mode="fast"):
        pid = self.pid()
        if pid is None:
            return
        r = self.run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop", timeout=40)
        if r.returncode != 0 and self.pid():  # by its PID, then
            try:
                os.kill(pid, signal.SIGQUIT)
                wait_until(lambda: not os.path.exists("/proc/%d" % pid), 5)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def sql(self, query):
        r = self.run("psql", "-h", self.dir, "-U", "postgres", "-d", "postgres", "-XAtc", query, timeout=20)
        return r.stdout.decode().strip() if r.returncode == 0 else None


class Service:
    def __init__(self, conninfo, workers):
        env = dict(os.environ, MICROSERVICE_TEST_SLOW="1")
        self.p = subprocess.Popen([BIN, "-p", "0", "-b", "127.0.0.1", "-w", str(workers), "--db", conninfo],
                                  stdout=subprocess.PIPE, stderr=sys.stderr, env=env)
        line = self.p.stdout.readline().decode()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.p.kill()
            self.p.wait()
            sys.exit("microservice did not start: %r" % line)
        self.port = int(m.group(1))

    def stop(self):
        if self.p.poll() is not None:
            return self.p.returncode
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return "timeout"


def down_at_start(pg, svc):
    port = svc.port
    s, _, b = jcall(port, "GET", "/api/health")
    check(s == 503 and b == {"status": "degraded", "db": "down"}, "database down at start: health 503, db down")
    for method, path, body in (("GET", "/api/notes", None), ("POST", "/api/notes", {"text": "x"}),
                               ("GET", "/api/notes/1", None), ("PUT", "/api/notes/1", {"text": "x"}),
                               ("DELETE", "/api/notes/1", None), ("GET", "/api/notes/events", None)):
        t = time.monotonic()
        s, h, b = jcall(port, method, path, body)
        check(s == 503 and isinstance(b, dict) and "error" in b and h.get("content-type") == "application/json"
              and time.monotonic() - t < 1, "database down: %s %s answers 503 + a JSON error at once" % (method, path))
    pg.start()
    ok = wait_until(lambda: jcall(port, "GET", "/api/health")[0] == 200, 10)
    check(ok, "the database started: the service reconnected by itself (health 200)")
    # The LISTEN connection comes back on its own schedule: the feed too.
    check(wait_until(lambda: feed_up(port), 10, 0.2), "the feed is available again")


def feed_up(port):
    f = Sse(port, timeout=2)
    st = f.status
    f.close()
    return st == 200


def api(pg, port):
    cols = pg.sql("SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position)"
                  " FROM information_schema.columns WHERE table_name = 'notes'")
    check(cols == "id:bigint,text:text,created_at:timestamp with time zone",
          "the service created the schema: %s" % cols)
    s, h, b = jcall(port, "POST", "/api/notes", {"text": 'first "note"\nwith two lines'})
    check(s == 201 and h.get("location") == "/api/notes/%d" % b["id"] and b["text"] == 'first "note"\nwith two lines'
          and b["created_at"].endswith("+00:00"), "POST /api/notes: 201, Location, the note as JSON")
    first = b["id"]
    check(pg.sql("SELECT text FROM notes WHERE id = %d" % first) == 'first "note"\nwith two lines',
          "the note is in the table, text as sent (not the raw body)")
    s, h, b = jcall(port, "GET", "/api/notes/%d" % first)
    check(s == 200 and b["id"] == first and b["text"].startswith("first"), "GET /api/notes/{id}: 200")
    s, h, b = jcall(port, "GET", "/api/notes/%d" % (first + 1000))
    check(s == 404 and b == {"error": "no such note"}, "GET /api/notes/{absent}: 404")
    ids = [first]
    for i in range(24):
        s, h, b = jcall(port, "POST", "/api/notes", {"text": "note %d" % i})
        ids.append(b["id"] if s == 201 else None)
    check(None not in ids, "24 more notes: 201 each")
    pages, after = [], 0
    for _ in range(5):
        s, h, b = jcall(port, "GET", "/api/notes?limit=10&after=%d" % after)
        if s != 200:
            break
        pages.append([n["id"] for n in b["notes"]])
        if b["next"] is None:
            break
        after = b["next"]
    check([len(p) for p in pages] == [10, 10, 5] and sum(pages, []) == ids,
          "GET /api/notes?limit=10&after=...: 3 pages in id order (%s)" % [len(p) for p in pages])
    s, h, b = jcall(port, "GET", "/api/notes")
    check(s == 200 and len(b["notes"]) == 20 and b["next"] == ids[19], "GET /api/notes: 20 by default, next")
    for q in ("limit=0", "limit=101", "limit=ten", "after=x"):
        s, h, b = jcall(port, "GET", "/api/notes?" + q)
        check(s == 400 and "error" in b, "GET /api/notes?%s: 400" % q)
    for body, what in ((b'{"text": ', "malformed JSON"), (b'{"title": "x"}', "no text"),
                       (b'{"text": null}', "text null"), (json.dumps({"text": "y" * 4097}).encode(), "text over 4 KiB")):
        for method, path in (("POST", "/api/notes"), ("PUT", "/api/notes/%d" % first)):
            s, h, b = jcall(port, method, path, body)
            check(s == 400 and isinstance(b, dict) and "error" in b, "%s with %s: 400 + JSON error" % (method, what))
    s, h, b = jcall(port, "PUT", "/api/notes/%d" % first, {"text": "first, edited"})
    check(s == 200 and b["id"] == first and b["text"] == "first, edited", "PUT /api/notes/{id}: 200, the new text")
    s, h, b = jcall(port, "PUT", "/api/notes/%d" % (first + 1000), {"text": "x"})
    check(s == 404, "PUT /api/notes/{absent}: 404")
    s, h, b = call(port, "DELETE", "/api/notes/%d" % ids[-1])
    check(s == 204 and b == b"", "DELETE /api/notes/{id}: 204")
    s, h, b = jcall(port, "DELETE", "/api/notes/%d" % ids[-1])
    check(s == 404, "DELETE it again: 404")
    s, h, b = call(port, "POST", "/api/health")
    check(s == 405, "POST /api/health: 405")
    s, h, b = call(port, "POST", "/api/notes", json.dumps({"text": "z" * 40000}))
    check(s == 413, "a 40 KB body: 413 before reading")


def unique(pairs):
    """First occurrences, in order: the feed is at least once (feed.h)."""
    seen, out = set(), []
    for p in pairs:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def feed(pg, port, port2):
    a = Sse(port)
    # Four on the second instance, so that both of its workers (one of them
    # drives the LISTEN connection, the other hears it through the hub) have
    # some: each must see every change.
    bs = [Sse(port2) for _ in range(4)]
    check(a.status == 200 and all(b.status == 200 for b in bs), "subscribers on each instance (1 and 4)")
    s, h, n = jcall(port, "POST", "/api/notes", {"text": "made on instance 1"})
    nid = n["id"]
    jcall(port2, "PUT", "/api/notes/%d" % nid, {"text": "edited on instance 2"})
    jcall(port, "DELETE", "/api/notes/%d" % nid)
    s2, h2, n2 = jcall(port2, "POST", "/api/notes", {"text": "made on instance 2"})
    want = [("created", nid), ("updated", nid), ("deleted", nid), ("created", n2["id"])]
    mine = {nid, n2["id"]}  # NOTIFY may still bring changes from before the subscription
    for sub, name in [(a, "instance 1")] + [(b, "instance 2 (%d)" % i) for i, b in enumerate(bs)]:
        ev = sub.collect(lambda e: len([x for x in e if json.loads(x["data"])["id"] in mine]) >= 4, 10)
        ev = [e for e in ev if json.loads(e["data"])["id"] in mine]
        got = [(e["event"], json.loads(e["data"])["id"]) for e in ev]
        check(got == want, "the subscriber on %s saw both instances' changes: %s" % (name, got))
        check(len(ev) == 4 and json.loads(ev[1]["data"])["text"] == "edited on instance 2"
              and ev[0]["id"] == str(nid), "events carry the note (and created ones its id)")
        sub.close()
    # Resume: three notes made while away, then a live one.
    s, h, last = jcall(port, "POST", "/api/notes", {"text": "seen"})
    away = [jcall(port, "POST", "/api/notes", {"text": "away %d" % i})[2]["id"] for i in range(3)]
    r = Sse(port2, {"Last-Event-ID": str(last["id"])})
    first3 = r.collect(lambda e: len(e) >= 3, 10)
    live = jcall(port, "POST", "/api/notes", {"text": "live"})[2]["id"]
    rest = r.collect(lambda e: live in [int(x["id"]) for x in e if x["event"] == "created"], 10)
    check([int(e["id"]) for e in first3] == away, "Last-Event-ID: %d resumes with %s first (got %s)"
          % (last["id"], away, [e["id"] for e in first3]))
    got = unique([int(e["id"]) for e in first3 + rest if e["event"] == "created" and int(e["id"]) > last["id"]])
    check(got == away + [live], "then the live %d (got %s)" % (live, got))
    r.close()


def slow_query(pg, port):
    s, h, n = jcall(port, "POST", "/api/notes", {"text": "slow"})
    sleeping = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
    out = {}

    def slow():
        t = time.monotonic()
        out["status"] = call(port, "GET", "/api/notes/%d?delay_ms=6000" % n["id"])[0]
        out["took"] = time.monotonic() - t

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(1.0)
    check(pg.sql(sleeping) == "1", "a slow query (6 s) is running on the server")
    th.join(10)
    check(out.get("status") == 504 and DEADLINE - 0.1 < out.get("took", 0) < DEADLINE + 1.0,
          "a query slower than the deadline: 504 after %.2f s" % out.get("took", -1))
    check(wait_until(lambda: pg.sql(sleeping) == "0", 2, 0.1),
          "the slow statement is no longer running on the server (pg_stat_activity)")
    check("canceling statement due to user request" in open(pg.log, errors="replace").read(),
          "the server log shows it was cancelled (a cancel request)")
    s, h, b = jcall(port, "GET", "/api/notes/%d" % n["id"])
    check(s == 200 and b["text"] == "slow", "the connection serves the next query")


def read_response(c):
    """One response off a raw socket, its body by Content-Length:
    (status, body), or (None, what came) if the peer closed or stalled."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                return None, data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
        while m and len(body) < int(m.group(1)):
            chunk = c.recv(65536)
            if not chunk:
                return None, data
            body += chunk
        return int(head.split(b" ")[1]), body
    except (OSError, ValueError, IndexError):
        return None, data


def grouped_cancel(pg, port):
    """Reads that arrive together share one sync (store_pg.c), and the
    server holds their results until it, so the statement running is not
    always the first unanswered one. A slow read whose client leaves is
    cancelled wherever it is: first, in a group of its own (sent alone
    before the others), or among the reads of one turn. The cancel fails
    the rest of its group on the server, and those are sent again: every
    other read is answered 200, long before the route's deadline."""
    s, h, n = jcall(port, "POST", "/api/notes", {"text": "grouped"})
    req = "GET /api/notes/%d%s HTTP/1.1\r\nHost: x\r\n\r\n"
    log = lambda: open(pg.log, errors="replace").read().count("canceling statement due to user request")
    for where in ("first", "in the middle"):
        cancels = log()
        socks = []
        for _ in range(9):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks.append(c)
        slow = 0 if where == "first" else 4
        if where == "first":
            socks[0].sendall((req % (n["id"], "?delay_ms=6000")).encode())
            time.sleep(0.3)  # on the wire, synced, before the others arrive
        # The rest at once, so that the worker sees them in one turn.
        for i, c in enumerate(socks):
            if i != slow or where != "first":
                c.sendall((req % (n["id"], "?delay_ms=6000" if i == slow else "")).encode())
        time.sleep(0.5)
        socks[slow].close()  # the client of the slow one leaves: cancelled on the server
        t = time.monotonic()
        answers = [read_response(c) for i, c in enumerate(socks) if i != slow]
        took = time.monotonic() - t
        for i, c in enumerate(socks):
            if i != slow:
                c.close()
        ok = [b for st, b in answers if st == 200 and json.loads(b).get("text") == "grouped"]
        check(len(ok) == 8,
              "slow read %s, its client gone: the 8 others 200 (%d, %s), %.2f s after it left"
              % (where, len(ok), [st for st, _ in answers], took))
        check(wait_until(lambda: log() > cancels, 3, 0.1), "and it was cancelled on the server")


class RawSubscriber:
    """A subscription on a plain socket: `reading` drains it on a thread
    (as fast as the kernel delivers), otherwise nothing reads it."""

    def __init__(self, port, reading):
        self.s = socket.socket()
        if not reading:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.s.connect(("127.0.0.1", port))
        self.s.sendall(b"GET /api/notes/events HTTP/1.1\r\nHost: x\r\n\r\n")
        self.data = bytearray()
        self.thread = threading.Thread(target=self.drain, args=(60,)) if reading else None
        if self.thread:
            self.thread.start()

    def drain(self, timeout, until=None):
        self.s.settimeout(0.5)
        end = time.monotonic() + timeout
        while time.monotonic() < end and not self.ended() and (until is None or not until(self)):
            try:
                k = self.s.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                break
            if not k:
                break
            self.data += k

    def events(self):
        return self.data.count(b"\nevent: created\n")

    def ended(self):
        return self.data.endswith(b"\r\n0\r\n\r\n")

    def close(self):
        self.s.shutdown(socket.SHUT_RDWR)
        if self.thread:
            self.thread.join(10)
        self.s.close()


def slow_subscriber(pg, port):
    stuck = RawSubscriber(port, reading=False)
    good = RawSubscriber(port, reading=True)
    time.sleep(0.2)
    # More than the kernel may buffer for the stuck one (tcp_wmem's 4 MiB
    # at most, for the server's socket) plus the stream's and the feed's
    # queues.
    n, text = 1600, "x" * 4000
    t = time.monotonic()
    writer_ok = 0
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(n):
        c.request("POST", "/api/notes", body=json.dumps({"text": "%d %s" % (i, text)}))
        r = c.getresponse()
        r.read()
        writer_ok += r.status == 201
    c.close()
    wrote = time.monotonic() - t
    check(wait_until(lambda: good.events() >= n, 20) and writer_ok == n,
          "a reading subscriber got all %d events (%d) in %.1f s (written in %.1f s), next to one that "
          "stopped reading" % (n, good.events(), time.monotonic() - t, wrote))
    check(not good.ended(), "the reading subscriber's stream goes on")
    good.close()
    # The stuck one was dropped: its stream ended (the last chunk) after
    # what fitted, well short of every event.
    stuck.drain(15, until=lambda sub: sub.ended())
    check(stuck.ended() and 0 < stuck.events() < n,
          "the subscriber that stopped reading was dropped: its stream ended after %d of %d events"
          % (stuck.events(), n))
    stuck.close()


def restart_under_load(pg, port, port2):
    watcher = Sse(port2)
    stop = threading.Event()
    results = []  # (status, id or None, seconds)
    lock = threading.Lock()

    def writer(k, p):
        c = None
        i = 0
        while not stop.is_set():
            i += 1
            t = time.monotonic()
            try:
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", p, timeout=DEADLINE + 5)
                c.request("POST", "/api/notes", body=json.dumps({"text": "load %d.%d" % (k, i)}))
                r = c.getresponse()
                body = r.read()
                st = r.status
                nid = json.loads(body)["id"] if st == 201 else None
            except Exception as e:  # noqa: the connection broke: counted as such
                st, nid = "error: %s" % e, None
                c = None
            with lock:
                results.append((st, nid, time.monotonic() - t))
            if st != 201:
                time.sleep(0.01)

    # Daemons: a failed check above must not leave the process waiting on them.
    threads = [threading.Thread(target=writer, args=(k, port if k % 2 else port2), daemon=True)
               for k in range(6)]
    for th in threads:
        th.start()
    time.sleep(1.0)
    pg.stop("fast")
    stopped = time.monotonic()
    watcher.collect(lambda e: False, 5)
    check(watcher.ended, "the feed's streams end when the database goes away (subscribers reconnect and resume)")
    time.sleep(max(0.0, 1.5 - (time.monotonic() - stopped)))
    pg.start()
    back = wait_until(lambda: jcall(port, "GET", "/api/health")[0] == 200
                      and jcall(port2, "GET", "/api/health")[0] == 200, 10)
    check(back, "both instances are back after the restart")
    check(wait_until(lambda: feed_up(port) and feed_up(port2), 10, 0.2), "and so are their feeds")
    after = Sse(port)
    # Each worker reconnects on its own backoff (up to 2.5 s apart): the one
    # that answers may still say 503, as a client retrying would see.
    posted = []
    wait_until(lambda: posted.append(jcall(port2, "POST", "/api/notes", {"text": "after the restart"}))
               or posted[-1][0] == 201, 10, 0.2)
    s, h, n = posted[-1]
    nid = n["id"] if s == 201 else None
    ev = after.collect(lambda e: any(json.loads(x["data"]).get("id") == nid for x in e), 10) if nid else []
    check(s == 201 and any(json.loads(x["data"]).get("id") == nid for x in ev),
          "a change after the restart reaches a subscriber of the other instance (%s)" % s)
    after.close()
    time.sleep(1.0)
    stop.set()
    for th in threads:
        th.join(30)
    watcher.close()
    statuses = {}
    for st, _, _ in results:
        statuses[st] = statuses.get(st, 0) + 1
    slowest = max(t for _, _, t in results)
    check(statuses.get(201, 0) > 0 and statuses.get(503, 0) > 0 and set(statuses) <= {201, 503, 504},
          "under load, through the restart: only 201 and 503 (%s)" % statuses)
    check(slowest < DEADLINE + 1.0, "no request took longer than its deadline (slowest %.2f s)" % slowest)
    created = {nid for st, nid, _ in results if st == 201}
    listed = {n["id"] for n in list_all(port)}
    check(created <= listed, "every note answered 201 (%d) is listed afterwards (%d missing)"
          % (len(created), len(created - listed)))


def main():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    bindir = bins[-1] if bins else None
    if not HAS_PG or not bindir or not os.path.exists(os.path.join(bindir, "initdb")):
        print("SKIP: %s" % ("the binary was built without libpq" if not HAS_PG
                            else "no PostgreSQL binaries in /usr/lib/postgresql/*/bin"))
        sys.exit(77)
    if os.geteuid() == 0 and not shutil.which("runuser"):
        print("SKIP: running as root without runuser(1)")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="ht-pg-")
    pg = Postgres(bindir, tmp)
    svc = svc2 = None
    try:
        pg.initdb()
        svc = Service(pg.conninfo, 1)
        down_at_start(pg, svc)
        svc2 = Service(pg.conninfo, 2)
        check(wait_until(lambda: feed_up(svc2.port), 10, 0.2), "a second instance (2 workers) on the same database")
        listening = pg.sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%LISTEN notes'")
        check(listening == "2", "one LISTEN connection per instance, not per worker (%s)" % listening)
        api(pg, svc.port)
        feed(pg, svc.port, svc2.port)
        slow_query(pg, svc.port)
        grouped_cancel(pg, svc.port)
        slow_subscriber(pg, svc.port)
        restart_under_load(pg, svc.port, svc2.port)
    finally:
        for s, name in ((svc, "1"), (svc2, "2")):
            if s:
                rc = s.stop()
                check(rc == 0, "SIGTERM stops instance %s with status 0 (got %s)" % (name, rc))
        pg.stop()
        check(pg.pid() is None or not os.path.exists("/proc/%d" % pg.pid()), "PostgreSQL stopped")
        shutil.rmtree(tmp, ignore_errors=True)
    print("%.1f s" % (time.monotonic() - T0))
    if failures:
        sys.exit("%d check(s) failed" % len(failures))


main()
