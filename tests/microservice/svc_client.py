"""The microservice's API from Python, for its end-to-end tests: requests,
JSON, and a Server-Sent Events reader. Every call has a timeout."""
import http.client
import json
import socket
import time


def call(port, method, path, body=None, headers=None, timeout=10):
    """One request on a fresh connection: (status, headers, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def jcall(port, method, path, body=None, headers=None, timeout=10):
    """call() with the body parsed as JSON (None when it is not JSON)."""
    s, h, b = call(port, method, path, body, headers, timeout)
    try:
        return s, h, json.loads(b) if b else None
    except ValueError:
        return s, h, None


def list_all(port, page=100, max_pages=1000):
    """Every note, following the keyset pagination."""
    notes, after = [], 0
    for _ in range(max_pages):
        s, _, b = jcall(port, "GET", "/api/notes?limit=%d&after=%d" % (page, after))
        if s != 200:
            raise RuntimeError("list: %d %r" % (s, b))
        notes += b["notes"]
        if b["next"] is None:
            return notes
        after = b["next"]
    raise RuntimeError("list: too many pages")


class Sse:
    """A GET /api/notes/events subscription; events() reads what arrives."""

    def __init__(self, port, headers=None, path="/api/notes/events", timeout=10):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.c.request("GET", path, headers=headers or {})
        self.r = self.c.getresponse()
        self.status = self.r.status
        self.headers = {k.lower(): v for k, v in self.r.getheaders()}
        self.ended = False
        self.body = b"" if self.status == 200 else self.r.read()

    def next(self, timeout):
        """The next event as {"event", "id", "data"}, or None when the stream
        ended (self.ended) or nothing came within timeout seconds."""
        end = time.monotonic() + timeout
        fields, data = {}, []
        while not self.ended:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.c.sock.settimeout(left)
            try:
                line = self.r.readline()
            except (socket.timeout, TimeoutError):
                return None
            except (http.client.HTTPException, OSError):
                line = b""
            if not line:
                self.ended = True
                return None
            line = line.decode().rstrip("\r\n")
            if line == "":
                if data:
                    return {"event": fields.get("event", "message"), "id": fields.get("id"),
                            "data": "\n".join(data)}
                fields = {}
                continue
            if line.startswith(":"):
                continue
            k, _, v = line.partition(":")
            v = v[1:] if v.startswith(" ") else v
            if k == "data":
                data.append(v)
            else:
                fields[k] = v
        return None

    def collect(self, want, timeout):
        """Events until want(events) is true or timeout seconds have passed."""
        events, end = [], time.monotonic() + timeout
        while not want(events):
            left = end - time.monotonic()
            if left <= 0:
                break
            e = self.next(left)
            if e is None:
                if self.ended:
                    break
                continue
            events.append(e)
        return events

    def close(self):
        self.c.close()
