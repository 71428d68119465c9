"""Session routing through the real binary: path and subdomain modes, affinity, one page per
route state, lifecycle (lease loss, expiry, re-pointing with open WebSockets), persistence."""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SESSION_RULES, get, ConnReader, Proxy, Upstream,  # noqa: E402
                     keepalive_server, recv_until_close, ws_connect, ws_echo_handler,
                     ws_frame, ws_read_frame)


def named_app(name):
    def app(method, target, headers, body, conn):
        h = dict(headers)
        return 200, f"{name} {target} host={h.get('host')} cookie={h.get('cookie', '')}".encode(), None
    return app



class SessionRouting(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = Upstream(keepalive_server(named_app("A")))
        cls.b = Upstream(keepalive_server(named_app("B")))
        cls.p = Proxy(SESSION_RULES, extra="sessions: {activity_interval: 200ms}")
        cls.p.register("ca", cls.a.port)
        cls.p.register("cb", cls.b.port)
        cls.p.session("thread-a", "ca")
        cls.p.session("thread-b", "cb")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.a.close()
        cls.b.close()

    def test_path_mode_keeps_prefix_and_sets_affinity_cookie(self):
        status, headers, body = get(self.p.port, "/session/thread-a/index.html?x=1", "edit.acme.example.com")
        self.assertEqual(status, 200)
        self.assertTrue(body.startswith(b"A /session/thread-a/index.html?x=1 host=edit.acme.example.com"), body)
        self.assertEqual(headers["set-cookie"], "sg_session=thread-a; Path=/; HttpOnly; SameSite=Lax")

    def test_subdomain_mode(self):
        status, headers, body = get(self.p.port, "/src/main.js", "thread-b.preview.example.com")
        self.assertEqual(status, 200)
        self.assertTrue(body.startswith(b"B /src/main.js"), body)
        self.assertNotIn("set-cookie", headers)

    def test_strip_prefix_and_host_rewrite(self):
        status, _, body = get(self.p.port, "/s/thread-a/app.js?v=2", "strip.example.com")
        self.assertEqual(status, 200)
        self.assertTrue(body.startswith(f"A /app.js?v=2 host=127.0.0.1:{self.a.port}".encode()), body)
        status, _, body = get(self.p.port, "/s/thread-a", "strip.example.com")
        self.assertTrue(body.startswith(b"A / "), body)

    def test_affinity_by_cookie_and_referer(self):
        host = "edit.acme.example.com"
        # root-level dev-server URLs outside the prefix
        status, _, body = get(self.p.port, "/@vite/client", host, {"Cookie": "a=1; sg_session=thread-b"})
        self.assertEqual(status, 200)
        self.assertTrue(body.startswith(b"B /@vite/client"), body)
        self.assertIn(b"cookie=a=1; sg_session=thread-b", body)
        status, _, body = get(self.p.port, "/node_modules/.vite/deps/x.js", host,
                              {"Referer": f"http://{host}/session/thread-a/page", "Cookie": "sg_session=thread-b"})
        self.assertTrue(body.startswith(b"A /node_modules"), body)  # Referer wins: it is the tab's own
        status, headers, body = get(self.p.port, "/@vite/client", host, {"Accept": "text/html"})
        self.assertEqual(status, 404)  # no affinity: the edit-help page
        self.assertIn(b"editor address", body)
        status, _, body = get(self.p.port, "/@vite/client", host, {"Cookie": "sg_session=../../x"})
        self.assertEqual(status, 404)

    def test_ambiguous_paths_rejected_before_routing(self):
        before = self.a.nbytes
        for path in ["/session/thread-a/%2e%2e/x", "/session/thread-a/..%2Fx", "/session/thread-a%2fx/",
                     "/session/thread-a/a\\b", "/session//thread-a/", "/session/thread-a//x",
                     "/session/thread-a/./x", "/session/thread-a/../thread-b/", "/session/thread-a/%5c",
                     "/session/thread-a/x/..", "/session/%74hread-a/"]:
            status, _, body = get(self.p.port, path, "edit.acme.example.com")
            self.assertEqual(status, 400, path)
        for path in ["/session/bad.id/", "/session/" + "x" * 129 + "/"]:
            self.assertEqual(get(self.p.port, path, "edit.acme.example.com")[0], 400, path)
        self.assertEqual(self.a.nbytes, before)

    def test_unknown_session_pages(self):
        status, headers, body = get(self.p.port, "/session/nobody/", "edit.acme.example.com", {"Accept": "text/html"})
        self.assertEqual(status, 404)
        self.assertIn("text/html", headers["content-type"])
        self.assertIn(b"Preview not found", body)
        self.assertIn(b"nobody", body)
        status, headers, body = get(self.p.port, "/", "nobody.preview.example.com", {"Accept": "application/json"})
        self.assertEqual(status, 404)
        self.assertIn(b'"error":"unknown_session"', body)

    def test_no_rule_is_404(self):
        status, _, body = get(self.p.port, "/", "elsewhere.example.org")
        self.assertEqual(status, 404)
        self.assertIn(b'"error":"no_rule"', body)


class RouteStates(unittest.TestCase):
    def test_every_state_has_its_page_and_starting_turns_into_the_preview(self):
        with Upstream(keepalive_server(named_app("S"))) as up, \
                Proxy(SESSION_RULES, extra="sessions: {starting_retry_after: 3s}") as p:
            url = ("/", "t1.preview.example.com")
            html = {"Accept": "text/html"}
            # session before its container exists: starting
            p.session("t1", "c1")
            status, headers, body = get(p.port, *url, html)
            self.assertEqual(status, 503)
            self.assertEqual(headers["retry-after"], "3")
            self.assertIn(b'<meta http-equiv="refresh" content="3">', body)
            self.assertIn(b"is starting", body)
            # registered but starting
            p.register("c1", up.port, status="starting")
            self.assertEqual(get(p.port, *url, html)[0], 503)
            # ready: the same URL (what the refreshing page loads) is now the preview
            p.register("c1", up.port, status="ready")
            status, _, body = get(p.port, *url, html)
            self.assertEqual((status, body[:3]), (200, b"S /"))
            for st in ("stopped", "failed"):
                p.register("c1", up.port, status=st)
                status, headers, body = get(p.port, *url, {"Accept": "application/json"})
                self.assertEqual(status, 503, st)
                self.assertIn(b'"error":"unavailable"', body)
                self.assertIn(f'"state":"{st}"'.encode(), body)
                self.assertEqual(headers["retry-after"], "2")  # it may be back: ask again
            # draining containers still serve the sessions routed to them
            p.register("c1", up.port, status="draining")
            self.assertEqual(get(p.port, *url)[0], 200)
            # refused and timeout
            with socket.socket() as tmp:
                tmp.bind(("127.0.0.1", 0))
                dead = tmp.getsockname()[1]
            p.register("c1", dead)
            status, _, body = get(p.port, *url, {"Accept": "application/json"})
            self.assertEqual(status, 502)
            self.assertIn(b'"session":"t1"', body)

    def test_upstream_timeout_is_504(self):
        def hang(conn, server):
            ConnReader(conn, server).request()
            time.sleep(3)
        with Upstream(hang) as up, Proxy(SESSION_RULES, extra="timeouts: {upstream_head: 300ms}") as p:
            p.register("c", up.port)
            p.session("t", "c")
            self.assertEqual(get(p.port, "/", "t.preview.example.com")[0], 504)

    def test_lease_loss_and_recovery(self):
        with Upstream(keepalive_server(named_app("L"))) as up, Proxy(SESSION_RULES) as p:
            p.register("c", up.port, lease="1s")
            p.session("t", "c")
            self.assertEqual(get(p.port, "/", "t.preview.example.com")[0], 200)
            time.sleep(1.3)
            status, _, body = get(p.port, "/", "t.preview.example.com", {"Accept": "application/json"})
            self.assertEqual(status, 503)
            self.assertIn(b"lease_expired", body)
            st, route = p.admin("GET", "/v1/routes/t")
            self.assertEqual(route["state"], "lease_expired")
            st, c = p.admin("GET", "/v1/containers/c")  # data kept
            self.assertEqual((st, c["address"]), (200, f"127.0.0.1:{up.port}"))
            st, c = p.admin("POST", "/v1/containers/c/heartbeat")
            self.assertEqual(st, 200)
            self.assertEqual(get(p.port, "/", "t.preview.example.com")[0], 200)

    def test_reregistration_bumps_generation_and_drops_pooled_connections(self):
        with Upstream(keepalive_server(named_app("G"))) as up, Proxy(SESSION_RULES) as p:
            g1 = p.register("c", up.port)["generation"]
            p.session("t", "c")
            for _ in range(3):
                get(p.port, "/", "t.preview.example.com")
            self.assertEqual(up.connections, 1)
            g2 = p.register("c", up.port)["generation"]
            self.assertEqual(g2, g1 + 1)
            get(p.port, "/", "t.preview.example.com")
            self.assertEqual(up.connections, 2)


class Lifecycle(unittest.TestCase):
    EXTRA = "sessions: {activity_interval: 100ms, sweep_interval: 100ms}"

    def test_idle_expiry_and_activity(self):
        with Upstream(keepalive_server(named_app("E"))) as up, Proxy(SESSION_RULES, extra=self.EXTRA) as p:
            p.register("c", up.port)
            p.session("idle", "c", idle_ttl="1s")
            p.session("busy", "c", idle_ttl="1s")
            p.session("fixed", "c", expires_in="1s")
            t0 = time.time()
            while time.time() - t0 < 2.0:
                self.assertEqual(get(p.port, "/", "busy.preview.example.com")[0], 200)
                time.sleep(0.1)
            self.assertEqual(p.admin("GET", "/v1/sessions/idle")[0], 404)
            self.assertEqual(p.admin("GET", "/v1/sessions/fixed")[0], 404)
            self.assertEqual(p.admin("GET", "/v1/sessions/busy")[0], 200)
            self.assertEqual(get(p.port, "/", "idle.preview.example.com")[0], 404)
            self.assertIn("session idle expired (idle)", p.stderr())
            self.assertIn("session fixed expired (expires_at)", p.stderr())

    def test_open_websocket_counts_as_activity(self):
        with Upstream(ws_echo_handler) as up, Proxy(SESSION_RULES, extra=self.EXTRA) as p:
            p.register("c", up.port)
            p.session("ws", "c", idle_ttl="1s")
            s, r, status, _, _ = ws_connect(p.port, host="ws.preview.example.com")
            self.assertEqual(status, 101)
            time.sleep(2.0)  # no bytes move, the tunnel is simply open
            self.assertEqual(p.admin("GET", "/v1/sessions/ws")[0], 200)
            s.sendall(ws_frame(1, b"still here"))
            self.assertEqual(ws_read_frame(r)[2], b"still here")
            s.close()
            time.sleep(1.6)
            self.assertEqual(p.admin("GET", "/v1/sessions/ws")[0], 404)

    def test_repointing_or_deleting_closes_only_that_sessions_tunnels(self):
        with Upstream(ws_echo_handler) as up1, Upstream(ws_echo_handler) as up2, \
                Proxy(SESSION_RULES) as p:
            p.register("c1", up1.port)
            p.register("c2", up2.port)
            p.session("moving", "c1")
            p.session("steady", "c1")
            moving, mr, st1, _, _ = ws_connect(p.port, host="moving.preview.example.com")
            steady, sr, st2, _, _ = ws_connect(p.port, host="steady.preview.example.com")
            self.assertEqual((st1, st2), (101, 101))
            p.session("moving", "c2")  # re-point
            moving.settimeout(5)
            self.assertEqual(recv_until_close(moving), b"")
            steady.sendall(ws_frame(1, b"untouched"))
            self.assertEqual(ws_read_frame(sr)[2], b"untouched")
            # the re-pointed session now reaches the new container
            m2, r2, st, h, _ = ws_connect(p.port, host="moving.preview.example.com")
            self.assertEqual(st, 101)
            self.assertEqual(up2.connections, 1)
            # deleting closes its tunnel
            self.assertEqual(p.admin("DELETE", "/v1/sessions/moving")[0], 204)
            m2.settimeout(5)
            self.assertEqual(recv_until_close(m2), b"")
            steady.sendall(ws_frame(1, b"still untouched"))
            self.assertEqual(ws_read_frame(sr)[2], b"still untouched")
            steady.close()

    def test_regression_tunnel_closed_by_route_change_is_counted_once(self):
        # The worker counted the close and the tunnel counted it again.
        with Upstream(ws_echo_handler) as up, Proxy(SESSION_RULES) as p:
            p.register("c1", up.port)
            p.register("c2", up.port)
            p.session("moving", "c1")
            s, r, st, _, _ = ws_connect(p.port, host="moving.preview.example.com")
            self.assertEqual(st, 101)
            p.session("moving", "c2")
            s.settimeout(5)
            self.assertEqual(recv_until_close(s), b"")
            self.assertEqual(p.wait_metric("sessiongate_tunnels_active", 0), 0)
            self.assertEqual(p.metrics()[0]["sessiongate_tunnels_closed_by_route_change_total"], 1)


class Persistence(unittest.TestCase):
    def test_restart_serves_the_same_routes(self):
        with Upstream(keepalive_server(named_app("P"))) as up:
            p = Proxy(SESSION_RULES)
            p.register("c", up.port)
            for i in range(20):
                p.session(f"t{i}", "c", labels={"tenant": "acme" if i % 2 else "globex"})
            self.assertEqual(p.stop(), 0)
            p.start()
            for i in range(20):
                self.assertEqual(get(p.port, "/", f"t{i}.preview.example.com")[0], 200)
            st, page = p.admin("GET", "/v1/sessions?label=tenant=acme&limit=5")
            self.assertEqual((st, len(page["sessions"])), (200, 5))
            st, page2 = p.admin("GET", f"/v1/sessions?label=tenant=acme&limit=5&after={page['next']}")
            self.assertEqual(len(page2["sessions"]), 5)
            self.assertTrue(all(s["labels"]["tenant"] == "acme" for s in page["sessions"] + page2["sessions"]))
            self.assertIsNone(p.admin("GET", f"/v1/sessions?label=tenant=acme&after={page2['sessions'][-1]['id']}")[1]["next"])
            p.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
