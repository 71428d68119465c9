"""Answers the router makes itself: redirect and fixed actions, custom page templates, session
ids the router refuses, and the Secure flag only behind a trusted TLS proxy."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BIN, SESSION_RULES, Proxy, Reader, Upstream, connect, get,  # noqa: E402
                     keepalive_server, wait_until)

RULES = SESSION_RULES + """  - priority: 30
    match: {host: "old.example.com"}
    action: {type: redirect, status: 308, location: "https://new.example.com{path}?{query}&from={host}&k={x}"}
  - priority: 31
    match: {host: "moved.example.com"}
    action: {type: redirect, location: "/elsewhere"}
  - priority: 32
    match: {host: "robots.example.com"}
    action: {type: fixed, status: 200, body: "User-agent: *\\nDisallow: /\\n", content_type: "text/plain"}
  - priority: 33
    match: {host: "gone.example.com"}
    action: {type: fixed, status: 410, page: gone}
"""

TEMPLATE = ("<!doctype html><title>{{title}}</title><h1 id=custom>{{status}} {{title}}</h1>"
            "<p>{{message}}</p><code>{{session}}</code><i>{{detail}}</i>{{refresh_meta}}")


def raw(port, data):
    with connect(port) as s:
        s.sendall(data)
        r = Reader(s)
        return r.response("HEAD" if data.startswith(b"HEAD") else "GET")


class LocalAnswers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sg-local-")
        for name in ("unknown_session", "gone", "starting"):
            with open(os.path.join(cls.dir, name + ".html"), "w") as f:
                f.write(TEMPLATE.replace("custom", "custom-" + name))
        pages = ", ".join(f"{n}: {os.path.join(cls.dir, n + '.html')}"
                          for n in ("unknown_session", "gone", "starting"))
        cls.p = Proxy(RULES, extra=f"pages: {{{pages}}}\n"
                                   'security: {upstream_allow_cidrs: ["127.0.0.0/8"]}',
                      directory=cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def test_redirect_fills_path_query_and_host(self):
        status, headers, body = get(self.p.port, "/a/b?x=1", "old.example.com",
                                    {"Accept": "application/json"})
        self.assertEqual(status, 308)
        self.assertEqual(headers["location"],
                         "https://new.example.com/a/b?x=1&from=old.example.com&k={x}")
        self.assertEqual(json.loads(body)["error"], "redirect")

    def test_redirect_defaults_to_302_and_keeps_the_connection(self):
        with connect(self.p.port) as s:
            r = Reader(s)
            for _ in range(2):
                s.sendall(b"GET /x HTTP/1.1\r\nHost: moved.example.com\r\n\r\n")
                status, headers, _ = r.response()
                self.assertEqual((status, headers["location"]), (302, "/elsewhere"))
                self.assertNotIn("connection", headers)

    def test_fixed_body_with_its_content_type_and_head_without_body(self):
        with connect(self.p.port) as s:
            r = Reader(s)
            s.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: robots.example.com\r\n\r\n"
                      b"HEAD /robots.txt HTTP/1.1\r\nHost: robots.example.com\r\n\r\n")
            status, headers, body = r.response()
            self.assertEqual((status, body), (200, b"User-agent: *\nDisallow: /\n"))
            self.assertEqual(headers["content-type"], "text/plain")
            status, headers, body = r.response("HEAD")
            self.assertEqual((status, headers["content-length"], body), (200, "26", b""))
            s.sendall(b"GET / HTTP/1.1\r\nHost: robots.example.com\r\nConnection: close\r\n\r\n")
            status, headers, _ = r.response()
            self.assertEqual(headers.get("connection"), "close")
            self.assertEqual(s.recv(1), b"")

    def test_fixed_body_with_an_unread_request_body_closes(self):
        # Skipping an unread body is how request smuggling starts: the router closes instead.
        status, headers, _ = raw(self.p.port, b"POST / HTTP/1.1\r\nHost: robots.example.com\r\n"
                                              b"Content-Length: 5\r\n\r\nhello")
        self.assertEqual((status, headers.get("connection")), (200, "close"))

    def test_custom_templates_for_browsers_built_in_json_for_programs(self):
        status, headers, body = get(self.p.port, "/", "nosuch.preview.example.com",
                                    {"Accept": "text/html"})
        self.assertEqual(status, 404)
        self.assertIn(b"<h1 id=custom-unknown_session>404 Preview not found</h1>", body)
        self.assertIn(b"<code>nosuch</code>", body)
        status, headers, body = get(self.p.port, "/", "nosuch.preview.example.com",
                                    {"Accept": "application/json"})
        self.assertEqual(json.loads(body)["error"], "unknown_session")
        status, _, body = get(self.p.port, "/", "gone.example.com", {"Accept": "text/html"})
        self.assertEqual(status, 410)
        self.assertIn(b"id=custom-gone>410 Gone<", body)

    def test_starting_template_gets_its_refresh(self):
        self.p.session("waiting", "not-registered-yet")
        status, headers, body = get(self.p.port, "/", "waiting.preview.example.com",
                                    {"Accept": "text/html"})
        self.assertEqual(status, 503)
        self.assertEqual(headers["retry-after"], "2")
        self.assertIn(b"id=custom-starting>", body)
        self.assertIn(b'<meta http-equiv="refresh" content="2">', body)
        self.assertIn(b"<code>waiting</code>", body)

    def test_invalid_session_id_in_host_is_400(self):
        long_label = "a" * 129
        status, _, body = get(self.p.port, "/", f"{long_label}.preview.example.com",
                              {"Accept": "application/json"})
        self.assertEqual(status, 400)
        doc = json.loads(body)
        self.assertEqual((doc["error"], doc.get("detail")),
                         ("bad_session_path", "invalid session id in host"))
        # Two labels before the suffix match no rule at all (one label, then the suffix).
        self.assertEqual(get(self.p.port, "/", "a.b.preview.example.com")[0], 404)

    def test_invalid_session_id_in_path_is_400(self):
        for path, detail in (("/session/bad.id/", "invalid session id"),
                             ("/session/", "missing session id"),
                             ("/session/%2e%2e/", "encoded or ambiguous path")):
            status, _, body = get(self.p.port, path, "edit.acme.example.com",
                                  {"Accept": "application/json"})
            self.assertEqual(status, 400, path)
            self.assertEqual(json.loads(body).get("detail"), detail, path)


class SecureCookieNeedsATrustedProxy(unittest.TestCase):
    """A preview link's cookie is `Secure` only when a trusted proxy says the client used TLS;
    any client can send `X-Forwarded-Proto: https`."""

    KEY = "k1-secret-0123456789abcdefghijklmnopqrstuvwxyz"

    def cookie_after_link(self, trusted):
        sec = (f'security: {{upstream_allow_cidrs: ["127.0.0.0/8"], access_default: link, '
               f'trusted_proxies: ["{trusted}"], link_keys: [{{id: k1, secret: {self.KEY}, sign: true}}]}}')
        with Upstream(keepalive_server(lambda m, t, h, b, c: (200, b"ok", None))) as up, \
                Proxy(SESSION_RULES, extra=sec) as p:
            p.register("c", up.port)
            p.session("priv", "c")
            st, body = p.admin("POST", "/v1/sessions/priv/links", {"ttl": "1h"})
            self.assertEqual(st, 201)
            status, headers, _ = get(p.port, f"/?sg_token={body['token']}", "priv.preview.example.com",
                                     {"X-Forwarded-Proto": "https"})
            self.assertEqual(status, 302)
            return headers["set-cookie"]

    def test_untrusted_client_claiming_https_gets_no_secure_flag(self):
        cookie = self.cookie_after_link("10.0.0.0/8")
        self.assertTrue(cookie.startswith("sg_access_priv="))
        self.assertNotIn("Secure", cookie)

    def test_trusted_proxy_saying_https_gets_the_secure_flag(self):
        self.assertTrue(self.cookie_after_link("127.0.0.0/8").endswith("; Secure"))


class PagesOfContainersThatAreNotRunning(unittest.TestCase):
    """Regressions: a deleted container left its sessions on the starting page, reloading
    forever; the unavailable page showed a raw state code; `container list` said `ready` for a
    container whose lease had run out."""

    @classmethod
    def setUpClass(cls):
        cls.up = Upstream(keepalive_server(lambda *a: (200, b"up", None)))
        cls.p = Proxy(SESSION_RULES)

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.up.close()

    def page(self, sid, accept):
        return get(self.p.port, "/", f"{sid}.preview.example.com", {"Accept": accept})

    def test_a_deleted_container_gets_the_unavailable_page_with_the_reason(self):
        self.p.register("del-c", self.up.port)
        self.p.session("del-s", "del-c")
        self.assertEqual(self.page("del-s", "*/*")[2], b"up")
        self.assertEqual(self.p.admin("DELETE", "/v1/containers/del-c")[0], 204)
        status, headers, body = self.page("del-s", "application/json")
        doc = json.loads(body)
        self.assertEqual((status, doc["error"], doc["state"]), (503, "unavailable", "container_deleted"))
        self.assertIn("(del-c) was deleted", doc["detail"])
        self.assertEqual((headers["retry-after"], doc["retry_after_ms"]), ("2", 2000))
        status, headers, body = self.page("del-s", "text/html")
        self.assertNotIn(b'http-equiv="refresh"', body, "no reloading for good")
        self.assertIn(b'<a href="">Try again</a>', body)
        self.assertIn(b"<p>Its container (del-c) was deleted", body)
        self.assertNotIn(b"<code>container_deleted</code>", body)
        self.assertEqual(self.p.admin("GET", "/v1/routes/del-s")[1]["state"], "container_deleted")
        # Registered again: served again.
        self.p.register("del-c", self.up.port)
        self.assertEqual(self.page("del-s", "*/*")[2], b"up")
        # A session whose container never registered still gets the starting page.
        self.p.session("new-s", "never-registered")
        status, _, body = self.page("new-s", "application/json")
        self.assertEqual((status, json.loads(body)["error"]), (503, "starting"))

    def test_a_container_past_its_lease_is_listed_as_lease_expired(self):
        self.p.register("lapsed-c", self.up.port, lease="1s")
        self.p.session("lapsed-s", "lapsed-c")
        c = self.p.admin("GET", "/v1/containers/lapsed-c")[1]
        self.assertEqual((c["status"], c["state"]), ("ready", "ready"))
        self.assertTrue(wait_until(lambda: self.p.admin("GET", "/v1/containers/lapsed-c")[1]["state"]
                                   == "lease_expired", timeout=5))
        self.assertEqual(self.p.admin("GET", "/v1/containers/lapsed-c")[1]["status"], "ready")
        env = dict(os.environ, SESSIONGATE_ADMIN=f"http://127.0.0.1:{self.p.admin_port}",
                   SESSIONGATE_TOKEN=Proxy.TOKEN)
        out = subprocess.run([BIN, "container", "list"], env=env, capture_output=True, text=True,
                             timeout=20).stdout
        row = next(line for line in out.splitlines() if line.startswith("lapsed-c "))
        self.assertIn(" lease_expired ", row)
        status, headers, body = self.page("lapsed-s", "application/json")
        self.assertEqual((status, json.loads(body)["state"]), (503, "lease_expired"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
