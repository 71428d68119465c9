"""Path mode's per-session service worker through the real binary: the router serves the
worker's scripts itself, routes by the worker's header before the Referer and the cookie (and
never forwards it), inserts the register tag into the session's pages (any framing, HTTP/1.0
and HTTP/2 clients), leaves everything else untouched, and tells a worker its session is gone.
What a browser does with the scripts is tests/e2e/test_session_worker.py."""
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import h2client as h2c  # noqa: E402
from harness import (Proxy, Reader, Upstream, connect, free_port, get,  # noqa: E402
                     keepalive_server, recv_until_close)

HOST = "edit.acme.example.com"
RULES = """  - priority: 5
    match: {host: "edit.*.example.com", path: "/session/*"}
    action: {type: session, from: path, service_worker: true}
  - priority: 6
    match: {host: "plain.example.com", path: "/session/*"}
    action: {type: session, from: path}
  - priority: 90
    match: {host: "edit.*.example.com"}
    action: {type: fixed, status: 404, page: edit-help}
"""
PAGE = b"<!doctype html><html lang=en><head><title>x</title></head><body>page</body></html>"
NAV = {"Sec-Fetch-Dest": "document", "Accept": "text/html"}


def tag(sid):
    return f'<script src="/session/{sid}/__sessiongate/register.js"></script>'.encode()


def injected(sid, page=PAGE):
    return page.replace(b"<head>", b"<head>" + tag(sid), 1)


class Server:
    """An upstream named `name` that records what it was asked and answers by path."""

    def __init__(self, name):
        self.name = name
        self.seen = []
        self.lock = threading.Lock()
        self.up = Upstream(keepalive_server(self.app))
        self.port = self.up.port

    def app(self, method, target, headers, body, conn):
        h = dict(headers)
        with self.lock:
            self.seen.append((method, target, h))
        path = target.split("?")[0]
        if path.endswith("/chunked"):
            half = len(PAGE) // 2
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked"
                         b"\r\n\r\n" + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (
                             half, PAGE[:half], len(PAGE) - half, PAGE[half:]))
            return None
        if path.endswith("/gz"):
            return 200, b"\x1f\x8bnot really gzip", {"Content-Type": "text/html",
                                                    "Content-Encoding": "gzip"}
        if path.endswith(".json"):
            return 200, b'{"a":"<head>"}', {"Content-Type": "application/json"}
        if path.endswith("/missing"):
            return 404, PAGE, {"Content-Type": "text/html"}
        if path.endswith("/") or path.endswith(".html"):
            return 200, PAGE, {"Content-Type": "text/html; charset=utf-8"}
        return 200, f"{self.name} {target}".encode(), {"Content-Type": "text/plain"}

    def last(self):
        with self.lock:
            return self.seen[-1]

    def count(self):
        with self.lock:
            return len(self.seen)


class SessionWorker(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a, cls.b = Server("A"), Server("B")
        cls.h2c_port = free_port()
        cls.p = Proxy(RULES, more_listeners=f"  - {{address: 127.0.0.1:{cls.h2c_port}, h2c: true}}\n",
                      extra='security: {upstream_allow_cidrs: ["127.0.0.0/8"], link_keys: '
                            '[{id: k1, secret: k1-secret-0123456789abcdefghijklmnopqrstuvwxyz, '
                            'sign: true}]}\n')
        cls.p.register("ca", cls.a.port)
        cls.p.register("cb", cls.b.port)
        cls.p.session("t1", "ca")
        cls.p.session("t2", "cb")
        cls.p.session("priv", "cb", access="link")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.a.up.close()
        cls.b.up.close()

    def test_the_router_serves_the_workers_scripts_itself(self):
        before = self.a.count() + self.b.count()
        for sid in ("t1", "no-such-session"):
            for name, marker in (("sw.js", b"X-Sessiongate-Session"), ("register.js", b"__sessiongate/sw.js")):
                st, h, body = get(self.p.port, f"/session/{sid}/__sessiongate/{name}", HOST)
                self.assertEqual(st, 200, body)
                self.assertEqual(h["content-type"], "text/javascript; charset=utf-8")
                self.assertEqual(h["cache-control"], "no-cache")
                self.assertEqual(h["service-worker-allowed"], f"/session/{sid}/")
                self.assertEqual(h["x-content-type-options"], "nosniff")
                self.assertIn(marker, body)
        st, h, body = get(self.p.port, "/session/t1/__sessiongate/other.js", HOST,
                          {"Accept": "application/json"})
        self.assertEqual((st, b"worker_file_missing" in body), (404, True), body)
        with connect(self.p.port) as s:
            s.sendall(f"POST /session/t1/__sessiongate/sw.js HTTP/1.1\r\nHost: {HOST}\r\n"
                      "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
            self.assertEqual(Reader(s).response("POST")[0], 404)
        self.assertEqual(self.a.count() + self.b.count(), before, "nothing reached a container")
        # Without service_worker the directory is the dev server's like any other.
        st, _, body = get(self.p.port, "/session/t1/__sessiongate/sw.js", "plain.example.com")
        self.assertEqual((st, body), (200, b"A /session/t1/__sessiongate/sw.js"))

    def test_the_workers_header_routes_before_referer_and_cookie_and_is_stripped(self):
        hs = {"X-Sessiongate-Session": "t2", "Referer": f"http://{HOST}/session/t1/",
              "Cookie": "sg_session=t1", "Accept-Encoding": "gzip"}
        st, _, body = get(self.p.port, "/src/styles.css?direct", HOST, hs)
        self.assertEqual((st, body), (200, b"B /src/styles.css?direct"))
        _, target, h = self.b.last()
        self.assertNotIn("x-sessiongate-session", h)
        self.assertEqual(h.get("accept-encoding"), "gzip", "only pages are asked uncompressed")
        # An invalid id is no name: the Referer decides, then the cookie.
        st, _, body = get(self.p.port, "/src/a.js", HOST, dict(hs, **{"X-Sessiongate-Session": "t 2"}))
        self.assertEqual(body, b"A /src/a.js")
        st, _, body = get(self.p.port, "/src/a.js", HOST, {"X-Sessiongate-Session": "t2",
                                                             "Cookie": "sg_session=t1"})
        self.assertEqual(body, b"B /src/a.js")
        # On a rule without the worker the header means nothing (and is still not forwarded).
        st, _, body = get(self.p.port, "/src/a.js", "plain.example.com",
                          {"X-Sessiongate-Session": "t2", "Cookie": "sg_session=t1"})
        self.assertEqual(body, b"A /src/a.js")
        self.assertNotIn("x-sessiongate-session", self.a.last()[2])
        # Under the prefix the path decides.
        st, _, body = get(self.p.port, "/session/t1/x.js", HOST, {"X-Sessiongate-Session": "t2"})
        self.assertEqual(body, b"A /session/t1/x.js")

    def test_the_header_grants_nothing(self):
        before = self.b.count()
        st, _, body = get(self.p.port, "/src/a.js", HOST,
                          {"X-Sessiongate-Session": "priv", "Accept": "application/json"})
        self.assertEqual(st, 403, body)
        st, _, body = get(self.p.port, "/src/a.js", HOST,
                          {"X-Sessiongate-Session": "gone", "Accept": "application/json"})
        self.assertEqual(st, 404, body)
        self.assertEqual(self.b.count(), before)

    def test_pages_get_the_tag_after_head_in_any_framing(self):
        st, h, body = get(self.p.port, "/session/t1/", HOST, dict(NAV, **{"Accept-Encoding": "gzip"}))
        self.assertEqual((st, body), (200, injected("t1")))
        self.assertEqual(h.get("transfer-encoding"), "chunked")
        self.assertNotIn("content-length", h)
        self.assertNotIn("accept-encoding", self.a.last()[2], "a page is asked uncompressed")
        st, h, body = get(self.p.port, "/session/t2/chunked", HOST, NAV)
        self.assertEqual((st, body), (200, injected("t2")))
        # A browser without Sec-Fetch-Dest: a GET that prefers HTML.
        st, _, body = get(self.p.port, "/session/t1/index.html", HOST, {"Accept": "text/html"})
        self.assertEqual(body, injected("t1"))
        # HTTP/1.0: the grown body ends with the connection.
        with connect(self.p.port) as s:
            s.sendall(f"GET /session/t1/ HTTP/1.0\r\nHost: {HOST}\r\nSec-Fetch-Dest: document\r\n"
                      "\r\n".encode())
            raw = recv_until_close(s)
        head, _, body = raw.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.0 200"), head)
        self.assertNotIn(b"content-length", head.lower())
        self.assertEqual(body, injected("t1"))

    def test_everything_else_passes_untouched(self):
        cases = [
            ("/session/t1/", {"Sec-Fetch-Dest": "script", "Accept": "text/html"}, PAGE),
            ("/session/t1/", {"Accept": "application/json"}, PAGE),
            ("/session/t1/data.json", NAV, b'{"a":"<head>"}'),
            ("/session/t1/missing", NAV, PAGE),
        ]
        for path, hs, want in cases:
            st, h, body = get(self.p.port, path, HOST, hs)
            self.assertEqual(body, want, (path, hs))
            self.assertEqual(h.get("content-length"), str(len(want)), (path, hs))
        st, h, body = get(self.p.port, "/session/t1/", "plain.example.com", NAV)
        self.assertEqual(body, PAGE, "a rule without the worker")
        self.assertEqual(self.a.last()[2].get("accept-encoding"), None)
        skipped = self.p.metrics()[0]["sessiongate_session_worker_tags_skipped_total"]
        st, h, body = get(self.p.port, "/session/t1/gz", HOST, dict(NAV, **{"Accept-Encoding": "gzip"}))
        self.assertEqual((h.get("content-encoding"), body), ("gzip", b"\x1f\x8bnot really gzip"))
        self.assertNotIn("accept-encoding", self.a.last()[2])
        self.assertEqual(
            self.p.wait_metric("sessiongate_session_worker_tags_skipped_total", skipped + 1),
            skipped + 1)

    def test_an_unknown_session_tells_its_worker_and_page_to_let_go(self):
        st, h, body = get(self.p.port, "/src/a.js", HOST,
                          {"X-Sessiongate-Session": "gone", "Accept": "text/html"})
        self.assertEqual((st, h.get("x-sessiongate-error")), (404, "unknown_session"))
        self.assertIn(b"__sessiongate/sw.js'", body)
        self.assertIn(b"unregister()", body)

    def test_http2_pages_get_the_tag_too(self):
        c = h2c.Client(self.h2c_port, host=HOST)
        self.addCleanup(c.close)
        r = c.get("/session/t1/", headers=[("sec-fetch-dest", "document"), ("accept", "text/html")])
        self.assertEqual((r.status, r.body), (200, injected("t1")))
        self.assertIsNone(r.header("content-length"))
        r = c.get("/src/x.css", headers=[("x-sessiongate-session", "t2")])
        self.assertEqual(r.body, b"B /src/x.css")
        self.assertNotIn("x-sessiongate-session", self.b.last()[2])


if __name__ == "__main__":
    unittest.main()
