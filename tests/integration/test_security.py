"""SSRF guard (registration table + a canary that must never be connected to), WebSocket
handshake validation on the upstream side, per-client limits."""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SESSION_RULES, ConnReader, Proxy, Reader, Upstream, connect,  # noqa: E402
                     keepalive_server, request, wait_until, ws_accept, ws_connect,
                     ws_echo_handler)

DENIED = [
    ("127.0.0.1:80", "loopback"),
    ("127.9.9.9:80", "loopback"),
    ("[::1]:80", "loopback"),
    ("[::ffff:127.0.0.1]:80", "loopback"),
    ("169.254.169.254:80", "link-local"),
    ("[::ffff:169.254.169.254]:80", "link-local"),
    ("[fe80::1]:80", "link-local"),
    ("0.0.0.0:80", "unspecified"),
    ("[::]:80", "unspecified"),
    ("0.1.2.3:80", "this network"),
    ("224.0.0.1:80", "multicast"),
    ("[ff02::1]:80", "multicast"),
    ("255.255.255.255:80", "broadcast"),
    ("[::ffff:224.0.0.1]:80", "multicast"),
    ("192.168.1.10:80", "outside"),
    ("metadata.google.internal:80", "not an IP address (host names are not resolved"),
    ("[fe80::1%eth0]:80", "zone ids are not supported"),
]


class Ssrf(unittest.TestCase):
    def test_registration_table(self):
        with Proxy(SESSION_RULES, extra='security: {upstream_allow_cidrs: ["10.0.0.0/8", "fd00::/8"]}') as p:
            rows = []
            for addr, why in DENIED:
                st, body = p.admin("PUT", "/v1/containers/x", {"address": addr})
                rows.append((addr, st, body.get("message", "")))
                self.assertEqual(st, 400, (addr, body))
                self.assertEqual(body["field"], "address")
                self.assertIn(why, body["message"], addr)
            for addr in ("10.1.2.3:4321", "[fd00::5]:5173"):
                self.assertIn(p.admin("PUT", "/v1/containers/ok", {"address": addr})[0], (200, 201), addr)
            # the router's own listeners, even where loopback is allowed
        with Proxy(SESSION_RULES) as p:  # harness default: 127.0.0.0/8 allowed
            for port in (p.port, p.admin_port):
                st, body = p.admin("PUT", "/v1/containers/self", {"address": f"127.0.0.1:{port}"})
                self.assertEqual(st, 400)
                self.assertIn("own listeners", body["message"])
        print("\nSSRF registration table:")
        for addr, st, msg in rows:
            print(f"  {addr:30s} {st}  {msg}")

    def test_canary_on_denied_address_never_connected(self):
        canary = socket.socket()
        canary.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        canary.bind(("127.0.0.2", 0))
        canary.listen(16)
        canary.settimeout(0.5)
        port = canary.getsockname()[1]
        d = __import__("tempfile").mkdtemp(prefix="sg-ssrf-")
        # Registered while loopback was allowed...
        p = Proxy(SESSION_RULES, directory=d)
        p.register("canary", port, host="127.0.0.2")
        p.session("t", "canary")
        p.stop()
        # ...then the router restarts with a policy that denies it: the route is loaded, but
        # the connect-time check refuses before any packet is sent.
        p2 = Proxy(SESSION_RULES, extra='security: {upstream_allow_cidrs: ["127.0.0.1/32"]}', directory=d)
        try:
            for _ in range(3):
                status, _, body = request(p2.port, host="t.preview.example.com", headers={"Accept": "application/json"})
                self.assertEqual(status, 502)
                self.assertIn(b"upstream_forbidden", body)
            with self.assertRaises(socket.timeout):
                canary.accept()
        finally:
            p2.stop()
            canary.close()


    def test_defaults_refuse_loopback_and_metadata_but_admit_their_neighbours(self):
        # No security section at all: the defaults a new user runs with (the harness
        # otherwise allows 127.0.0.0/8 for its loopback upstreams).
        with Proxy(SESSION_RULES, extra="security: {}") as p:
            for addr in ("127.0.0.1:4321", "[::1]:4321", "169.254.169.254:80",
                         "169.254.0.1:80", "[::ffff:169.254.169.254]:80"):
                st, body = p.admin("PUT", "/v1/containers/x", {"address": addr})
                self.assertEqual((st, body["field"]), (400, "address"), addr)
                self.assertEqual(p.admin("GET", "/v1/containers/x")[0], 404, addr)
            # Just outside the denied ranges: accepted (the decision follows the range).
            for addr in ("169.253.255.255:80", "169.255.0.0:80", "126.255.255.255:80",
                         "128.0.0.1:80"):
                st, body = p.admin("PUT", "/v1/containers/ok", {"address": addr})
                self.assertIn(st, (200, 201), (addr, body))

    def test_defaults_refuse_a_loopback_route_at_connect_time(self):
        canary = socket.socket()
        canary.bind(("127.0.0.1", 0))
        canary.listen(16)
        canary.settimeout(0.5)
        port = canary.getsockname()[1]
        d = __import__("tempfile").mkdtemp(prefix="sg-ssrf-")
        p = Proxy(SESSION_RULES, directory=d)  # registered while loopback was allowed
        p.register("c", port)
        p.session("t", "c")
        p.stop()
        p2 = Proxy(SESSION_RULES, extra="security: {}", directory=d)
        try:
            values_before = p2.metrics()[0]
            status, _, body = request(p2.port, host="t.preview.example.com",
                                      headers={"Accept": "application/json"})
            self.assertEqual(status, 502)
            self.assertEqual(__import__("json").loads(body)["error"], "upstream_forbidden")
            with self.assertRaises(socket.timeout):
                canary.accept()
            key = 'sessiongate_requests_total{outcome="upstream_refused"}'
            self.assertEqual(p2.metrics()[0].get(key, 0) - values_before.get(key, 0), 1)
        finally:
            p2.stop()
            canary.close()


class UpstreamHandshake(unittest.TestCase):
    def test_101_with_wrong_accept_is_502_and_discarded(self):
        def bad_accept(conn, server):
            r = ConnReader(conn, server)
            method, target, headers, _ = r.request(read_body=False)
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: d3JvbmcgYWNjZXB0IGtleQ==\r\n\r\n")
            time.sleep(1)

        def missing_accept(conn, server):
            r = ConnReader(conn, server)
            r.request(read_body=False)
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            time.sleep(1)

        for handler in (bad_accept, missing_accept):
            with Upstream(handler) as up, Proxy(SESSION_RULES) as p:
                p.register("c", up.port)
                p.session("t", "c")
                s, r, status, headers, _ = ws_connect(p.port, host="t.preview.example.com")
                self.assertEqual(status, 502, handler.__name__)
                s.close()

    def test_valid_handshake_passes(self):
        with Upstream(ws_echo_handler) as up, Proxy(SESSION_RULES) as p:
            p.register("c", up.port)
            p.session("t", "c")
            s, r, status, headers, key = ws_connect(p.port, host="t.preview.example.com")
            self.assertEqual(status, 101)
            self.assertEqual(headers["sec-websocket-accept"], ws_accept(key))
            s.close()


class ClientLimits(unittest.TestCase):
    def test_per_client_connection_limit(self):
        with Upstream(keepalive_server(lambda m, t, h, b, c: (200, b"ok", None))) as up, \
                Proxy(SESSION_RULES, extra="limits: {per_client_connections: 3}") as p:
            p.register("c", up.port)
            p.session("t", "c")
            held = [connect(p.port) for _ in range(3)]
            self.assertEqual(p.wait_metric("sessiongate_connections_active", 3), 3)
            status, headers, body = request(p.port, host="t.preview.example.com")
            self.assertEqual(status, 429)
            for h in held:
                h.close()
            self.assertEqual(p.wait_metric("sessiongate_connections_active", 0), 0)
            self.assertEqual(request(p.port, host="t.preview.example.com")[0], 200)

    def test_request_rate_limit(self):
        with Upstream(keepalive_server(lambda m, t, h, b, c: (200, b"ok", None))) as up, \
                Proxy(SESSION_RULES, extra="limits: {per_client_rate: 5, per_client_burst: 5}") as p:
            p.register("c", up.port)
            p.session("t", "c")
            s = connect(p.port)
            r = Reader(s)
            statuses = []
            for _ in range(12):
                s.sendall(b"GET / HTTP/1.1\r\nHost: t.preview.example.com\r\nAccept: text/html\r\n\r\n")
                status, headers, body = r.response()
                statuses.append(status)
                if status == 429:
                    self.assertEqual(headers.get("retry-after"), "1")
                    self.assertIn(b"Too many requests", body)
            self.assertEqual(statuses[:5], [200] * 5)
            self.assertIn(429, statuses)
            # The bucket refills (5 per second): a refused request takes no token, so polling
            # gets through as soon as one is back.
            def refilled():
                s.sendall(b"GET / HTTP/1.1\r\nHost: t.preview.example.com\r\n\r\n")
                return r.response()[0] == 200
            self.assertTrue(wait_until(refilled, timeout=10, step=0.05))
            s.close()
            # the admin API is separate and keeps answering
            self.assertEqual(p.admin("GET", "/healthz")[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
