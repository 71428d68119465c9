"""The dashboard on the admin listener, over plain HTTP: the login form and its cookie, CSRF
rules for the API calls the page makes, the snapshot (per-session traffic, recent errors,
health, search and paging), the event stream, and a registry of 100,000 sessions."""
import json
import os
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SESSION_RULES, Proxy, Reader, Upstream, connect, get, keepalive_server, wait_until  # noqa: E402

LINK_KEYS = 'security: {upstream_allow_cidrs: ["127.0.0.0/8"], link_keys: [{id: k1, secret: "' + "l" * 32 + '", sign: true}]}'


def admin_http(p, method, path, headers=None, body=b""):
    """One request to the admin listener: (status, headers (lowercase names), body)."""
    with connect(p.admin_port) as s:
        hs = {"Host": f"127.0.0.1:{p.admin_port}", "Connection": "close"}
        hs.update(headers or {})
        if body or method in ("POST", "PUT"):
            hs["Content-Length"] = str(len(body))
        s.sendall((f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs.items())
                   + "\r\n").encode() + body)
        status, rheaders, rbody = Reader(s).response(method)
    return status, rheaders, rbody


def login(p, token=Proxy.TOKEN, headers=None):
    hs = {"Content-Type": "application/x-www-form-urlencoded"}
    hs.update(headers or {})
    return admin_http(p, "POST", "/dashboard/login", hs, b"token=" + token.encode())


def cookie_of(headers):
    value = headers["set-cookie"]
    return value.split(";", 1)[0]


def snapshot(p, cookie, query=""):
    st, _, body = admin_http(p, "GET", "/dashboard/snapshot" + (f"?{query}" if query else ""),
                             {"Cookie": cookie})
    assert st == 200, (st, body)
    return json.loads(body)


def open_events(p, cookie, query=""):
    """The event stream: a socket and a reader positioned after the response head."""
    s = connect(p.admin_port)
    s.sendall(f"GET /dashboard/events{'?' + query if query else ''} HTTP/1.1\r\nHost: a\r\nCookie: {cookie}\r\n\r\n".encode())
    f = s.makefile("rb")
    status = f.readline()
    head = {}
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, v = line.decode().split(":", 1)
        head[k.strip().lower()] = v.strip()
    return s, f, status, head


def close_events(s, f):
    f.close()  # the file holds the socket open too
    s.close()


def next_event(f):
    """(event name, data) of the next event; comments are skipped."""
    name, data = "message", []
    while True:
        line = f.readline()
        if not line:
            raise EOFError("the stream ended")
        line = line.decode().rstrip("\n")
        if line == "":
            if data:
                return name, "\n".join(data)
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)


class DashboardLoginAndApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        def app(method, target, headers, body, conn):
            if target.startswith("/boom"):
                return 503, b"down", {}
            if target.startswith("/gone"):
                return 404, b"no such file", {}
            return 200, b"x" * 1000, {}
        cls.up = Upstream(keepalive_server(app))
        cls.p = Proxy(SESSION_RULES, extra=LINK_KEYS)
        cls.p.register("c1", cls.up.port)
        cls.p.session("s1", "c1")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.up.close()

    def test_root_redirects_and_the_dashboard_asks_for_a_login(self):
        st, h, _ = admin_http(self.p, "GET", "/")
        self.assertEqual((st, h["location"]), (302, "/dashboard"))
        st, h, body = admin_http(self.p, "GET", "/dashboard")
        self.assertEqual(st, 200)
        self.assertIn(b'<form method="post" action="/dashboard/login">', body)
        self.assertIn(b'<label for="token">', body)
        self.assertIn("frame-ancestors 'none'", h["content-security-policy"])
        self.assertEqual(h["x-frame-options"], "DENY")
        for path in ("/dashboard/app.js", "/dashboard/app.css"):
            st, h, body = admin_http(self.p, "GET", path)
            self.assertEqual(st, 200, path)
            self.assertGreater(len(body), 1000)
        st, _, _ = admin_http(self.p, "GET", "/dashboard/nothing")
        self.assertEqual(st, 404)
        st, h, _ = admin_http(self.p, "DELETE", "/dashboard")
        self.assertEqual((st, h.get("allow")), (405, "GET"))

    def test_login_sets_an_httponly_strict_cookie_and_never_puts_the_token_in_a_url(self):
        st, h, body = login(self.p)
        self.assertEqual((st, h["location"]), (303, "/dashboard"))
        parts = [x.strip() for x in h["set-cookie"].split(";")]
        self.assertTrue(parts[0].startswith("sg_dashboard="))
        self.assertNotIn(Proxy.TOKEN, h["set-cookie"])
        self.assertEqual(len(parts[0].split("=", 1)[1]), 64)
        for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(attr, parts)
        st, _, body = admin_http(self.p, "GET", "/dashboard", {"Cookie": cookie_of(h)})
        self.assertEqual(st, 200)
        self.assertIn(b'src="/dashboard/app.js"', body)
        self.assertNotIn(Proxy.TOKEN.encode(), body)

    def test_bad_logins_get_a_precise_answer(self):
        st, h, body = login(self.p, "wrong-token")
        self.assertEqual(st, 401)
        self.assertIn(b"not the admin token of this router", body)
        self.assertNotIn("set-cookie", h)
        st, _, body = admin_http(self.p, "POST", "/dashboard/login",
                                 {"Content-Type": "application/x-www-form-urlencoded"}, b"")
        self.assertEqual(st, 400)
        self.assertIn(b"Enter the admin token", body)
        st, _, body = admin_http(self.p, "POST", "/dashboard/login",
                                 {"Content-Type": "application/json"}, b'{"token":"x"}')
        self.assertEqual(st, 415)
        # Login CSRF: a form on another site posting the token it knows.
        st, h, body = login(self.p, headers={"Origin": "https://evil.example"})
        self.assertEqual(st, 403)
        self.assertIn(b"another site", body)
        self.assertNotIn("set-cookie", h)
        st, h, _ = admin_http(self.p, "GET", "/dashboard/login")
        self.assertEqual((st, h.get("allow")), (405, "POST"))

    def test_api_calls_with_the_cookie_need_the_dashboard_header(self):
        _, h, _ = login(self.p)
        cookie = cookie_of(h)
        st, _, body = admin_http(self.p, "GET", "/v1/sessions", {"Cookie": cookie})
        self.assertEqual(st, 401)
        self.assertIn(b"X-Sessiongate-Dashboard", body)
        st, _, body = admin_http(self.p, "GET", "/v1/sessions",
                                 {"Cookie": cookie, "X-Sessiongate-Dashboard": "1"})
        self.assertEqual(st, 200, body)
        self.assertIn(b'"s1"', body)
        # An unknown login id is nobody, header or not.
        st, _, _ = admin_http(self.p, "GET", "/v1/sessions",
                              {"Cookie": "sg_dashboard=" + "0" * 64, "X-Sessiongate-Dashboard": "1"})
        self.assertEqual(st, 401)
        st, _, _ = admin_http(self.p, "GET", "/dashboard/snapshot", {"Cookie": "sg_dashboard=nope"})
        self.assertEqual(st, 401)
        # The page's actions: mint a link, revoke links, drain a container (expire is below).
        hs = {"Cookie": cookie, "X-Sessiongate-Dashboard": "1", "Content-Type": "application/json"}
        st, _, body = admin_http(self.p, "POST", "/v1/sessions/s1/links", hs, b"{}")
        self.assertEqual(st, 201, body)
        self.assertTrue(json.loads(body)["query"].startswith("sg_token="))
        st, _, body = admin_http(self.p, "POST", "/v1/sessions/s1/revoke-links", hs)
        self.assertEqual(st, 200, body)

    def test_logout_ends_the_login_and_its_event_streams(self):
        _, h, _ = login(self.p)
        cookie = cookie_of(h)
        s, f, status, head = open_events(self.p, cookie)
        try:
            self.assertIn(b"200", status)
            self.assertEqual(head["content-type"], "text/event-stream")
            name, data = next_event(f)
            self.assertEqual(name, "message")
            self.assertIn("sessions", json.loads(data))
            st, h2, _ = admin_http(self.p, "POST", "/dashboard/logout", {"Cookie": cookie})
            self.assertEqual(st, 303)
            self.assertIn("Max-Age=0", h2["set-cookie"])
            deadline = time.time() + 10
            while time.time() < deadline:
                name, _ = next_event(f)
                if name == "logout":
                    break
            self.assertEqual(name, "logout")
            self.assertEqual(f.read(), b"", "the stream ends after telling the page")
        finally:
            close_events(s, f)
        st, _, _ = admin_http(self.p, "GET", "/dashboard/snapshot", {"Cookie": cookie})
        self.assertEqual(st, 401)

    def test_snapshot_counts_traffic_and_errors_per_session(self):
        self.p.register("c2", self.up.port)
        self.p.session("busy", "c2")
        for _ in range(5):
            st, _, _ = get(self.p.port, "/", "busy.preview.example.com")
            self.assertEqual(st, 200)
        for _ in range(2):
            st, _, _ = get(self.p.port, "/boom", "busy.preview.example.com")
            self.assertEqual(st, 503)
        st, _, _ = get(self.p.port, "/gone", "busy.preview.example.com")
        self.assertEqual(st, 404)  # an answer, not an error of the session
        st, h, _ = get(self.p.port, "/x", "nosuch.preview.example.com")
        self.assertEqual(st, 404)
        rid = h["x-request-id"]
        _, lh, _ = login(self.p)
        cookie = cookie_of(lh)
        snap = snapshot(self.p, cookie, "q=busy")
        self.assertEqual(snap["sessions"]["matched"], 1)
        row = snap["sessions"]["rows"][0]
        self.assertEqual((row["id"], row["state"], row["container"]), ("busy", "ready", "c2"))
        self.assertEqual((row["requests"], row["errors"], row["requests_total"]), (8, 2, 8))
        self.assertGreaterEqual(row["bytes"], 5000)
        self.assertEqual(row["tunnels"], 0)
        self.assertIsNotNone(row["idle_ms"])
        self.assertGreater(row["lease_left_ms"], 0)
        # Workers publish their recent errors when a snapshot asks: the next one has them.
        self.assertTrue(wait_until(
            lambda: any(e["request_id"] == rid for e in snapshot(self.p, cookie)["errors"]), timeout=10))
        errors = snapshot(self.p, cookie)["errors"]
        unknown = [e for e in errors if e["request_id"] == rid]
        self.assertEqual(len(unknown), 1, errors)
        self.assertEqual((unknown[0]["status"], unknown[0]["outcome"]), (404, "unknown_session"))
        self.assertEqual(sum(1 for e in errors if e["session"] == "busy" and e["status"] == 503), 2)
        h = snap["health"]
        self.assertEqual(h["workers"], 1)
        self.assertTrue(h["ready"])
        self.assertEqual(h["store"]["type"], "sqlite")
        self.assertEqual(h["config_generation"], 1)
        self.assertGreaterEqual(h["routes"], 2)
        # Search by container id, filter by state, page.
        self.assertEqual([r["id"] for r in snapshot(self.p, cookie, "q=c2")["sessions"]["rows"]], ["busy"])
        self.assertEqual(snapshot(self.p, cookie, "state=starting")["sessions"]["matched"], 0)
        self.assertEqual(snapshot(self.p, cookie, "sort=requests")["sessions"]["rows"][0]["id"], "busy")
        cont = snapshot(self.p, cookie, "cq=c2")["containers"]
        self.assertEqual([(c["id"], c["sessions"]) for c in cont["rows"]], [("c2", 1)])

    def test_bad_queries_are_refused_with_the_parameter_named(self):
        _, lh, _ = login(self.p)
        cookie = cookie_of(lh)
        for query, words in (("size=0", b"size must be"), ("size=201", b"size must be"),
                             ("page=-1", b"page must be"), ("state=bogus", b"state must be"),
                             ("sort=x", b"sort must be"), ("colour=red", b"unknown parameter 'colour'"),
                             ("q=%zz", b"percent-encoding"), ("q=" + "a" * 300, b"256 characters")):
            for path in ("/dashboard/snapshot", "/dashboard/events"):
                st, _, body = admin_http(self.p, "GET", f"{path}?{query}", {"Cookie": cookie})
                self.assertEqual(st, 400, (path, query, body))
                self.assertIn(words, body, (path, query))

    def test_the_event_stream_shows_a_new_session_without_a_reload(self):
        _, lh, _ = login(self.p)
        s, f, status, _ = open_events(self.p, cookie_of(lh), "q=fresh")
        try:
            _, data = next_event(f)
            self.assertEqual(json.loads(data)["sessions"]["matched"], 0)
            self.p.session("fresh-1", "c1")
            seen = False
            deadline = time.time() + 10
            while not seen and time.time() < deadline:
                _, data = next_event(f)
                seen = [r["id"] for r in json.loads(data)["sessions"]["rows"]] == ["fresh-1"]
            self.assertTrue(seen)
        finally:
            close_events(s, f)

    def test_expire_from_the_dashboard_deletes_the_session(self):
        self.p.session("doomed", "c1")
        _, lh, _ = login(self.p)
        hs = {"Cookie": cookie_of(lh), "X-Sessiongate-Dashboard": "1"}
        st, _, _ = admin_http(self.p, "DELETE", "/v1/sessions/doomed", hs)
        self.assertEqual(st, 204)
        st, _ = self.p.admin("GET", "/v1/sessions/doomed")
        self.assertEqual(st, 404)


class DashboardLimits(unittest.TestCase):
    def test_wrong_tokens_are_throttled_after_ten_a_minute(self):
        with Proxy(SESSION_RULES) as p:
            for _ in range(10):
                st, _, _ = login(p, "guess")
                self.assertEqual(st, 401)
            st, h, body = login(p, "guess")
            self.assertEqual(st, 429)
            self.assertEqual(h["retry-after"], "60")
            st, _, _ = login(p)  # the right token waits too: a guesser cannot tell
            self.assertEqual(st, 429)
            # The bearer API is not affected.
            st, _ = p.admin("GET", "/v1/sessions")
            self.assertEqual(st, 200)

    def test_at_most_sixteen_event_streams(self):
        with Proxy(SESSION_RULES) as p:
            _, lh, _ = login(p)
            cookie = cookie_of(lh)
            streams = [open_events(p, cookie) for _ in range(16)]
            try:
                for _, _, status, _ in streams:
                    self.assertIn(b"200", status)
                st, h, body = admin_http(p, "GET", "/dashboard/events", {"Cookie": cookie})
                self.assertEqual(st, 503)
                self.assertIn(b"close one", body)
            finally:
                for s, f, *_ in streams:
                    close_events(s, f)
            # Closed streams give their places back (noticed at their next writes).
            def reopened():
                s, f, status, _ = open_events(p, cookie)
                close_events(s, f)
                return b" 200 " in status
            self.assertTrue(wait_until(reopened, timeout=20, step=0.5))

    def test_a_stopping_router_ends_its_event_streams(self):
        p = Proxy(SESSION_RULES)
        try:
            _, lh, _ = login(p)
            s, f, _, _ = open_events(p, cookie_of(lh))
            next_event(f)
            p.proc.terminate()
            s.settimeout(20)
            with self.assertRaises(EOFError):
                for _ in range(100):
                    next_event(f)
            self.assertEqual(p.proc.wait(20), 0)
        finally:
            p.stop()


class DashboardTurnedOff(unittest.TestCase):
    def test_dashboard_false_serves_no_page_and_takes_no_cookie(self):
        with Proxy(SESSION_RULES, admin_extra="dashboard: false") as p:
            for path in ("/", "/dashboard", "/dashboard/app.js"):
                st, _, _ = admin_http(p, "GET", path)
                self.assertEqual(st, 401, path)  # the API answers: no page, a token is needed
            st, _, _ = login(p)
            self.assertEqual(st, 401)
            st, _ = p.admin("GET", "/v1/sessions")
            self.assertEqual(st, 200)


class DashboardWithManySessions(unittest.TestCase):
    """100,000 sessions: a page is 50 rows, search and paging happen in the router."""

    def test_hundred_thousand_sessions_page_and_search(self):
        p = Proxy(SESSION_RULES, workers=1)
        try:
            p.register("bulk-c", 9)
            p.stop()
            db = sqlite3.connect(p.db)
            now = int(time.time() * 1000)
            (version,) = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            rows = [(f"bulk-{i:06d}", "bulk-c", "{}", 0, 0, 0, now, now, version + 1 + i)
                    for i in range(100000)]
            db.executemany("INSERT INTO sessions (id, container_id, labels, idle_ttl, expires_at, "
                           "last_active_at, created_at, updated_at, version) VALUES (?,?,?,?,?,?,?,?,?)", rows)
            db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (version + 100001,))
            db.commit()
            db.close()
            p.start()
            _, lh, _ = login(p)
            cookie = cookie_of(lh)
            snap = snapshot(p, cookie)
            ss = snap["sessions"]
            self.assertEqual((ss["total"], ss["matched"], len(ss["rows"])), (100000, 100000, 50))
            self.assertEqual(ss["rows"][0]["id"], "bulk-000000")
            page = snapshot(p, cookie, "page=1999")["sessions"]["rows"]
            self.assertEqual((len(page), page[-1]["id"]), (50, "bulk-099999"))
            found = snapshot(p, cookie, "q=bulk-04242")["sessions"]
            self.assertEqual([r["id"] for r in found["rows"]], [f"bulk-04242{i}" for i in range(10)])
            self.assertLess(len(json.dumps(snap)), 64 * 1024, "the page carries one page of rows")
            self.assertEqual(snap["containers"]["rows"][0]["sessions"], 100000)
        finally:
            p.stop()


if __name__ == "__main__":
    unittest.main()
