"""HTTP/2 to clients (RFC 9113) with real clients: curl --http2, nghttp, h2load, Python's h2
library, and raw frames for what no well-behaved client sends. Upstreams stay HTTP/1.1.
Everything runs on loopback."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import h2client as h2c  # noqa: E402
from certs import TestCA, tls_listener  # noqa: E402
from harness import (SESSION_RULES, Proxy, ProxyTest, Upstream, free_port, keepalive_server,  # noqa: E402
                     respond, ConnReader, wait_until, ws_accept, ws_echo_frames, ws_frame,
                     HALF_FRAME, ws_half_frame_handler)

HOST = "t.preview.example.com"


class Recorder:
    """An echo upstream that counts what reached it."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()

    def __call__(self, method, target, headers, body, conn):
        with self.lock:
            self.requests.append((method, target, headers, body))
        if target == "/truncated":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..")
            raise EOFError  # the container dies mid-body
        if target == "/hop":
            return 200, b"hop", {"Connection": "x-private", "Keep-Alive": "timeout=5",
                                 "X-Private": "1", "Proxy-Authenticate": "Basic", "X-Kept": "yes"}
        if target.startswith("/big"):
            return 200, b"x" * int(target.split("=")[1]), None
        seen = {k: v for k, v in headers}
        return 200, json.dumps({"method": method, "target": target, "headers": seen,
                                "body": body.decode(errors="replace")}).encode(), None

    def count(self):
        with self.lock:
            return len(self.requests)


def curl(port, path, *args, tls=True):
    scheme = "https" if tls else "http"
    cmd = ["curl", "-sS", "-k", "--max-time", "10", "--resolve", f"{HOST}:{port}:127.0.0.1",
           *args, f"{scheme}://{HOST}:{port}{path}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout, r.stderr


class Http2(ProxyTest, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sg-h2-")
        cls.ca = TestCA(cls.dir)
        cert = cls.ca.leaf("preview", ["preview.example.com", "*.preview.example.com"])
        cls.app = Recorder()
        cls.up = Upstream(keepalive_server(cls.app))
        cls.h2c_port = free_port()
        cls.log = os.path.join(cls.dir, "access.log")
        cls.p = Proxy(SESSION_RULES, workers=2, directory=cls.dir,
                      listener=tls_listener([cert]),
                      more_listeners=f"  - {{address: 127.0.0.1:{cls.h2c_port}, h2c: true}}\n",
                      extra=f"access_log: {{path: {cls.log}}}\n"
                            "limits: {header_bytes: 4096, buffer_bytes: 65536}\n")
        cls.serve_session()

    def client(self, **kw):
        c = h2c.Client(self.h2c_port, host=HOST, **kw)
        self.addCleanup(c.close)
        return c

    def raw(self, **kw):
        c = h2c.RawConn(self.h2c_port, **kw)
        self.addCleanup(c.close)
        return c

    def test_tls_negotiates_h2_and_the_request_is_forwarded_as_http11(self):
        code, out, err = curl(self.p.port, "/a?b=1", "--http2", "-v")
        self.assertEqual(code, 0, err)
        self.assertIn("ALPN: server accepted h2", err)
        self.assertIn("< HTTP/2 200", err)
        seen = json.loads(out)
        self.assertEqual(seen["target"], "/a?b=1")
        self.assertEqual(seen["headers"]["host"], f"{HOST}:{self.p.port}")
        self.assertEqual(seen["headers"]["x-forwarded-proto"], "https")

    def test_h2c_with_prior_knowledge_and_http11_on_the_same_listener(self):
        code, out, err = curl(self.h2c_port, "/pk", "--http2-prior-knowledge", "-v", tls=False)
        self.assertEqual(code, 0, err)
        self.assertIn("< HTTP/2 200", err)
        self.assertEqual(json.loads(out)["headers"]["x-forwarded-proto"], "http")
        code, out, err = curl(self.h2c_port, "/one", "-v", tls=False)
        self.assertEqual(code, 0, err)
        self.assertIn("< HTTP/1.1 200", err)

    def test_nghttp_many_streams_on_one_connection(self):
        urls = [f"http://127.0.0.1:{self.h2c_port}/n{i}" for i in range(30)]
        r = subprocess.run(["nghttp", "-n", "-s", "-H", f":authority: {HOST}", *urls],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        # -s prints one line per stream: ... code size request path
        self.assertEqual(len([l for l in r.stdout.splitlines() if " 200 " in l and "/n" in l]), 30,
                         r.stdout)

    def test_h2load_concurrency_all_succeed(self):
        r = subprocess.run(["h2load", "-n", "3000", "-c", "4", "-m", "50", "-H", f":authority: {HOST}",
                            f"http://127.0.0.1:{self.h2c_port}/load"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("3000 succeeded, 0 failed, 0 errored", r.stdout)
        self.assertIn("status codes: 3000 2xx", r.stdout)

    def test_request_body_with_length_and_without(self):
        c = self.client()
        r = c.response(c.request("/len", "POST", [("content-length", "5")], b"hello"))
        self.assertEqual(r.status, 200)
        seen = json.loads(r.body)
        self.assertEqual((seen["body"], seen["headers"].get("content-length")), ("hello", "5"))
        # No content-length: DATA until END_STREAM, carried upstream as a chunked body.
        sid = c.request("/chunked", "POST", end=False)
        c.send_data(sid, b"part one, ")
        c.send_data(sid, b"part two", end=True)
        r = c.response(sid)
        self.assertEqual(r.status, 200)
        seen = json.loads(r.body)
        self.assertEqual(seen["body"], "part one, part two")
        self.assertEqual(seen["headers"].get("transfer-encoding"), "chunked")

    def test_a_large_upload_streams_within_the_window(self):
        c = self.client()
        body = os.urandom(3 << 20)
        sid = c.request("/upload", "POST", [("content-length", str(len(body)))], end=False)
        sent = 0
        deadline = time.monotonic() + 30
        while sent < len(body):
            window = min(c.conn.local_flow_control_window(sid), c.conn.max_outbound_frame_size)
            if window == 0:
                # The router re-opens the window as the upstream reads; it must, in time.
                self.assertLess(time.monotonic(), deadline, f"window never re-opened at {sent}")
                c.pump(1.0)
                continue
            c.send_data(sid, body[sent:sent + window], end=sent + window >= len(body))
            sent += window
        r = c.response(sid, timeout=30)
        self.assertEqual(r.status, 200)
        method, target, headers, got = self.app.requests[-1]
        self.assertEqual(len(got), len(body))

    def test_cookies_are_joined_and_host_must_match_authority(self):
        c = self.client(validate=False)
        r = c.get("/cookies", headers=[("cookie", "a=1"), ("cookie", "b=2")])
        self.assertEqual(json.loads(r.body)["headers"]["cookie"], "a=1; b=2")
        before = self.app.count()
        r = c.get("/mismatch", headers=[("host", "other.example.com")])
        self.assertEqual(r.status, 400)
        self.assertEqual(self.app.count(), before)

    def test_malformed_requests_get_the_right_error_and_reach_nothing(self):
        big = "v" * 5000
        cases = [
            ("uppercase field name", h2c.request_headers("/x", authority=HOST, extra=[("X-Upper", "1")]), ("rst", h2c.PROTOCOL_ERROR)),
            ("connection-specific field", h2c.request_headers("/x", authority=HOST, extra=[("connection", "keep-alive")]), ("rst", h2c.PROTOCOL_ERROR)),
            ("transfer-encoding", h2c.request_headers("/x", authority=HOST, extra=[("transfer-encoding", "chunked")]), ("rst", h2c.PROTOCOL_ERROR)),
            ("te other than trailers", h2c.request_headers("/x", authority=HOST, extra=[("te", "gzip")]), ("rst", h2c.PROTOCOL_ERROR)),
            ("missing :path", [(":method", "GET"), (":scheme", "http"), (":authority", HOST)], ("rst", h2c.PROTOCOL_ERROR)),
            ("empty :path", [(":method", "GET"), (":scheme", "http"), (":authority", HOST), (":path", "")], ("rst", h2c.PROTOCOL_ERROR)),
            ("duplicate :authority", h2c.request_headers("/x", authority=HOST) + [(":authority", HOST)], ("rst", h2c.PROTOCOL_ERROR)),
            ("pseudo-header after a field", [(":method", "GET"), (":scheme", "http"), ("accept", "*/*"), (":authority", HOST), (":path", "/")], ("rst", h2c.PROTOCOL_ERROR)),
            ("unknown pseudo-header", h2c.request_headers("/x", authority=HOST) + [(":foo", "1")], ("rst", h2c.PROTOCOL_ERROR)),
            ("Host differs from :authority", h2c.request_headers("/x", authority=HOST, extra=[("host", "evil.example.com")]), ("status", 400)),
            ("header list over the limit", h2c.request_headers("/x", authority=HOST, extra=[("x-big", big)]), ("status", 431)),
            ("CONNECT as a forward proxy", [(":method", "CONNECT"), (":authority", "example.com:443")], ("status", 501)),
            ("extended CONNECT for another protocol", [(":method", "CONNECT"), (":protocol", "chat"), (":scheme", "http"), (":authority", HOST), (":path", "/")], ("status", 501)),
            ("a target the HTTP/1.1 rules refuse", h2c.request_headers("/a b", authority=HOST), ("rst", h2c.PROTOCOL_ERROR)),
        ]
        for name, headers, expected in cases:
            with self.subTest(name):
                before = self.app.count()
                conn = self.raw()
                conn.send(h2c.frame(h2c.HEADERS, h2c.END_STREAM | h2c.END_HEADERS, 1,
                                    h2c.header_block(headers)))
                self.assertEqual(conn.outcome(1), expected)
                self.assertEqual(self.app.count(), before, "reached the upstream")

    def test_pages_and_upstream_failures_over_h2(self):
        c = h2c.Client(self.h2c_port, host="nope.preview.example.com")
        self.addCleanup(c.close)
        r = c.get("/", headers=[("accept", "text/html")])
        self.assertEqual(r.status, 404)
        self.assertIn(b"<html", r.body.lower())
        self.assertEqual(r.header("content-type"), "text/html; charset=utf-8")
        self.p.register("dead", free_port())
        self.p.session("dead-s", "dead")
        c = h2c.Client(self.h2c_port, host="dead-s.preview.example.com")
        self.addCleanup(c.close)
        r = c.get("/")
        self.assertEqual(r.status, 502)
        self.assertEqual(json.loads(r.body)["error"], "upstream_refused")

    def test_truncated_upstream_response_is_a_reset_not_a_complete_response(self):
        c = self.client()
        r = c.get("/truncated")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"only ten..")
        self.assertFalse(r.ended)
        self.assertEqual(r.reset, h2c.INTERNAL_ERROR)

    def test_hop_by_hop_response_fields_are_not_relayed(self):
        r = self.client().get("/hop")
        names = {k for k, _ in r.headers}
        self.assertEqual(r.body, b"hop")
        self.assertIn("x-kept", names)
        for name in ("connection", "keep-alive", "x-private", "proxy-authenticate"):
            self.assertNotIn(name, names)

    def test_head_and_no_body_responses(self):
        c = self.client()
        r = c.get("/h", method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")
        self.assertTrue(r.ended)
        self.assertIsNotNone(r.header("content-length"))

    def test_access_log_and_metrics_name_the_protocol(self):
        c = self.client()
        self.assertEqual(c.get("/logged-h2").status, 200)

        def logged():
            with open(self.log) as f:
                return [json.loads(l) for l in f if "/logged-h2" in l]
        self.assertTrue(wait_until(lambda: logged(), timeout=5))
        line = logged()[0]
        self.assertEqual(line["protocol"], "h2")
        self.assertEqual(line["status"], 200)
        m, _ = self.p.metrics()
        self.assertGreaterEqual(m['sessiongate_requests_by_protocol_total{protocol="h2"}'], 1)
        self.assertGreaterEqual(m["sessiongate_http2_streams_total"], 1)

    def test_a_reader_that_stops_never_makes_the_router_buffer(self):
        # The client's window is 64 KiB and it never opens it: the router holds its bounded
        # buffer, the upstream's socket fills, and the router's memory stays flat.
        size = 64 << 20
        c = self.client(window=65535)
        rss_before = self.p.rss_kib()
        sid = c.request(f"/big?n={size}")
        c.wait(lambda: len(c.responses[sid].body) >= 65535, timeout=10)
        time.sleep(1.0)
        self.assertEqual(len(c.responses[sid].body), 65535)
        self.assertLess(self.p.rss_kib() - rss_before, 16 * 1024)
        # Another client is served meanwhile.
        self.assertEqual(self.client().get("/meanwhile").status, 200)


class Http2Limits(unittest.TestCase):
    """Abuse resistance: each flood ends its connection with GOAWAY(ENHANCE_YOUR_CALM), is
    counted, and a good client is served meanwhile."""

    @classmethod
    def setUpClass(cls):
        cls.up = Upstream(keepalive_server(Recorder()))
        cls.p = Proxy(f"""  - priority: 10
    action: {{type: upstream, address: 127.0.0.1:{cls.up.port}}}
""", listener="h2c: true",
                      extra="timeouts: {body_idle: 1s, keepalive_idle: 1s}\n"
                            "http2: {reset_burst: 50, reset_rate: 10, control_burst: 200, control_rate: 50, "
                            "max_concurrent_streams: 20}\n")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.up.close()

    def raw(self, **kw):
        c = h2c.RawConn(self.p.port, **kw)
        self.addCleanup(c.close)
        return c

    def good_client_served(self):
        c = h2c.Client(self.p.port)
        self.addCleanup(c.close)
        self.assertEqual(c.get("/good").status, 200)

    def flood_count(self, kind):
        return self.p.metrics()[0].get(f'sessiongate_http2_floods_total{{kind="{kind}"}}', 0)

    def expect_calm(self, conn):
        frames = conn.frames(lambda f: f[0] == h2c.GOAWAY, timeout=5)
        goaways = [f for f in frames if f[0] == h2c.GOAWAY]
        self.assertTrue(goaways, "no GOAWAY")
        self.assertEqual(h2c.goaway_code(goaways[-1][3]), h2c.ENHANCE_YOUR_CALM)

    def test_rapid_reset(self):
        before = self.flood_count("reset")
        conn = self.raw()
        burst = b""
        for i in range(200):
            sid = 2 * i + 1
            burst += h2c.frame(h2c.HEADERS, h2c.END_HEADERS | h2c.END_STREAM, sid,
                               h2c.header_block(h2c.request_headers(f"/r{i}"), conn.encoder))
            burst += h2c.frame(h2c.RST_STREAM, 0, sid, (h2c.CANCEL).to_bytes(4, "big"))
        conn.send(burst)
        self.expect_calm(conn)
        self.assertEqual(self.flood_count("reset"), before + 1)
        self.good_client_served()

    def test_continuation_flood(self):
        before = self.flood_count("continuation")
        conn = self.raw()
        block = h2c.header_block(h2c.request_headers("/c"))
        conn.send(h2c.frame(h2c.HEADERS, h2c.END_STREAM, 1, block[:4]))
        for _ in range(100):
            if not conn.send(h2c.frame(h2c.CONTINUATION, 0, 1, b"")):
                break
        self.expect_calm(conn)
        self.assertEqual(self.flood_count("continuation"), before + 1)
        self.good_client_served()

    def test_ping_and_settings_flood(self):
        before = self.flood_count("control")
        conn = self.raw()
        pings = b"".join(h2c.frame(h2c.PING, 0, 0, i.to_bytes(8, "big")) for i in range(1000))
        conn.send(pings)
        self.expect_calm(conn)
        self.assertEqual(self.flood_count("control"), before + 1)
        self.good_client_served()

    def test_zero_window_stall_resets_the_stream_after_body_idle(self):
        # Window 0: not one DATA byte may be sent. After body_idle (1s) the stream is reset.
        conn = self.raw(settings={0x4: 0})
        conn.send(h2c.frame(h2c.HEADERS, h2c.END_HEADERS | h2c.END_STREAM, 1,
                            h2c.header_block(h2c.request_headers("/big?n=200000"))))
        frames = conn.frames(lambda f: f[0] == h2c.RST_STREAM and f[2] == 1, timeout=6)
        rst = [f for f in frames if f[0] == h2c.RST_STREAM and f[2] == 1]
        self.assertTrue(rst, frames)
        self.assertEqual(int.from_bytes(rst[0][3], "big"), h2c.CANCEL)
        self.good_client_served()

    def test_idle_connection_gets_goaway_and_is_closed(self):
        conn = self.raw()
        frames = conn.frames(lambda f: f[0] == h2c.GOAWAY, timeout=5)
        self.assertTrue([f for f in frames if f[0] == h2c.GOAWAY])
        self.assertEqual(h2c.goaway_code([f for f in frames if f[0] == h2c.GOAWAY][0][3]), 0)
        conn.frames(lambda f: False, timeout=2)
        self.assertTrue(conn.closed)

    def test_streams_over_the_concurrency_limit_are_refused(self):
        conn = self.raw()
        # Open 30 streams that stay open (no END_STREAM): the limit is 20.
        burst = b""
        for i in range(30):
            burst += h2c.frame(h2c.HEADERS, h2c.END_HEADERS, 2 * i + 1,
                               h2c.header_block(h2c.request_headers("/hold", "POST"), conn.encoder))
        conn.send(burst)
        frames = conn.frames(lambda f: False, timeout=1.5)
        refused = [f for f in frames if f[0] == h2c.RST_STREAM and
                   int.from_bytes(f[3], "big") in (h2c.REFUSED_STREAM, h2c.PROTOCOL_ERROR)]
        self.assertGreaterEqual(len(refused), 10)

    def test_not_a_preface_on_an_h2c_listener_is_http11(self):
        # "PRI" decides; anything else is an HTTP/1.1 request, answered as such.
        c = h2c.Client(self.p.port)
        c.close()
        import socket
        s = socket.create_connection(("127.0.0.1", self.p.port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200"))
        s.close()
        # A garbled preface is a connection error, not a hang.
        s = socket.create_connection(("127.0.0.1", self.p.port))
        s.settimeout(5)
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        s.close()
        self.assertFalse(data.startswith(b"HTTP/1.1"))


class Http2Tunnels(ProxyTest, unittest.TestCase):
    """RFC 8441 WebSockets and server-sent events over h2."""

    @classmethod
    def setUpClass(cls):
        cls.sse_go = threading.Event()
        cls.up = Upstream(cls.route)
        cls.p = Proxy(f"""  - priority: 10
    action: {{type: upstream, address: 127.0.0.1:{cls.up.port}}}
""", listener="h2c: true")

    @classmethod
    def route(cls, conn, server):
        r = ConnReader(conn, server)
        method, target, headers, _ = r.request(read_body=False)
        if target.startswith("/ws"):
            key = dict(headers)["sec-websocket-key"]  # the router's: h2 clients send none
            conn.sendall((f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Accept: {ws_accept(key)}\r\n"
                          "\r\n").encode())
            ws_echo_frames(conn, r)
            return
        if target == "/events":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            first = b"data: one\n\n"
            conn.sendall(b"%x\r\n%s\r\n" % (len(first), first))
            cls.sse_go.wait(10)
            second = b"data: two\n\n"
            conn.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(second), second))
            return
        respond(conn, 200, b"plain")

    def test_websocket_over_h2_extended_connect(self):
        c = h2c.Client(self.p.port, validate=False)
        self.addCleanup(c.close)
        self.assertTrue(c.wait(lambda: 8 in c.remote_settings, timeout=5))
        self.assertEqual(c.remote_settings[8], 1)  # SETTINGS_ENABLE_CONNECT_PROTOCOL
        sid = c.request("/ws/hmr", "CONNECT", headers=[(":protocol", "websocket"),
                                                        ("sec-websocket-version", "13")], end=False)
        r = c.responses[sid]
        self.assertTrue(c.wait(lambda: r.status is not None, timeout=5))
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("sec-websocket-accept"))
        c.send_data(sid, ws_frame(1, b"hello over h2"))
        self.assertTrue(c.wait(lambda: len(r.body) >= 2 + len(b"hello over h2"), timeout=5))
        self.assertEqual(r.body, ws_frame(1, b"hello over h2", mask=False))
        # A second stream on the same connection works while the tunnel is open.
        self.assertEqual(c.get("/plain").body, b"plain")
        c.send_data(sid, ws_frame(8, b"\x03\xe8"), end=True)
        self.assertTrue(c.wait(lambda: r.ended, timeout=5))
        m, _ = self.p.metrics()
        self.assertGreaterEqual(m["sessiongate_tunnels_total"], 1)

    def test_server_sent_events_arrive_event_by_event(self):
        c = h2c.Client(self.p.port)
        self.addCleanup(c.close)
        sid = c.request("/events")
        r = c.responses[sid]
        self.assertTrue(c.wait(lambda: b"data: one" in r.body, timeout=5))
        self.assertNotIn(b"two", r.body)
        self.assertFalse(r.ended)
        self.sse_go.set()
        self.assertTrue(c.wait(lambda: r.ended, timeout=5))
        self.assertEqual(r.body, b"data: one\n\ndata: two\n\n")


class Http2SessionTunnels(ProxyTest, unittest.TestCase):
    """A session's RFC 8441 tunnel closes when its route goes away; others stay."""

    @classmethod
    def setUpClass(cls):
        cls.up = Upstream(Http2Tunnels.route)
        cls.p = Proxy(SESSION_RULES, listener="h2c: true")
        cls.p.register("c1", cls.up.port)
        cls.p.session("gone", "c1")
        cls.p.session("stays", "c1")

    def open_ws(self, sid):
        c = h2c.Client(self.p.port, host=f"{sid}.preview.example.com", validate=False)
        self.addCleanup(c.close)
        stream = c.request("/ws/x", "CONNECT", headers=[(":protocol", "websocket"),
                                                         ("sec-websocket-version", "13")], end=False)
        r = c.responses[stream]
        self.assertTrue(c.wait(lambda: r.status is not None, timeout=5))
        self.assertEqual(r.status, 200)
        return c, stream, r

    def test_deleting_the_session_closes_only_its_tunnel(self):
        gone, gone_sid, gone_r = self.open_ws("gone")
        stays, stays_sid, stays_r = self.open_ws("stays")
        before = self.p.metrics()[0]["sessiongate_tunnels_closed_by_route_change_total"]
        self.assertEqual(self.p.admin("DELETE", "/v1/sessions/gone")[0], 204)
        self.assertTrue(gone.wait(lambda: gone_r.reset is not None or gone_r.ended, timeout=5))
        self.assertEqual(self.p.wait_metric("sessiongate_tunnels_closed_by_route_change_total",
                                            before + 1), before + 1)
        stays.send_data(stays_sid, ws_frame(1, b"still here"))
        self.assertTrue(stays.wait(lambda: b"still here" in stays_r.body, timeout=5))
        self.assertIsNone(stays_r.reset)

    def reload_without_host_rule(self):
        parts = SESSION_RULES.split("  - priority: ")  # the rules, without the host-mode one
        self.p.rules = "  - priority: ".join([parts[0]] + [x for x in parts[1:]
                                                            if "from: host" not in x])
        self.assertNotIn("from: host", self.p.rules)
        self.p._write_config()
        self.assertEqual(self.p.admin("POST", "/v1/config/reload")[0], 200)

    def restore_rules(self):
        self.p.rules = SESSION_RULES
        self.p._write_config()
        self.assertEqual(self.p.admin("POST", "/v1/config/reload")[0], 200)

    def test_a_reload_mid_frame_ends_the_stream_without_a_frame_of_ours(self):
        opened = threading.Event()  # set once the client has the 200
        with Upstream(ws_half_frame_handler(opened)) as half:
            self.p.register("half", half.port)
            self.p.session("halfway", "half")
            c, sid, r = self.open_ws("halfway")
            opened.set()
            self.assertTrue(c.wait(lambda: len(r.body) >= 50, timeout=5))
            self.reload_without_host_rule()
            try:
                self.assertTrue(c.wait(lambda: r.ended or r.reset is not None, timeout=5))
                self.assertEqual(r.body, HALF_FRAME)
            finally:
                self.restore_rules()

    def test_a_reload_that_no_longer_routes_the_session_sends_1001_and_ends_the_stream(self):
        c, sid, r = self.open_ws("stays")
        c.send_data(sid, ws_frame(1, b"hello"))
        self.assertTrue(c.wait(lambda: b"hello" in r.body, timeout=5))
        self.reload_without_host_rule()
        try:
            # The close frame after the echo, then END_STREAM (not a reset).
            self.assertTrue(c.wait(lambda: r.ended or r.reset is not None, timeout=5))
            self.assertIsNone(r.reset)
            self.assertTrue(r.body.endswith(b"\x88\x0c\x03\xe9going away"), r.body)
        finally:
            self.restore_rules()


class Http2Settings(unittest.TestCase):
    def test_http2_false_offers_only_http11(self):
        d = tempfile.mkdtemp(prefix="sg-h2off-")
        self.addCleanup(shutil.rmtree, d, True)
        ca = TestCA(d)
        cert = ca.leaf("p", ["preview.example.com", "*.preview.example.com"])
        with Upstream(keepalive_server(Recorder())) as up:
            p = Proxy(f"""  - priority: 10
    action: {{type: upstream, address: 127.0.0.1:{up.port}}}
""", directory=d, listener=tls_listener([cert]) + ", http2: false")
            try:
                code, out, err = curl(p.port, "/", "--http2", "-v")
                self.assertEqual(code, 0, err)
                self.assertIn("ALPN: server accepted http/1.1", err)
            finally:
                p.stop()

    def test_drain_sends_goaway_and_requests_in_flight_finish(self):
        def slow(conn, server):
            r = ConnReader(conn, server)
            r.request()
            time.sleep(1.0)
            respond(conn, 200, b"finished")
        with Upstream(slow) as up:
            p = Proxy(f"""  - priority: 10
    action: {{type: upstream, address: 127.0.0.1:{up.port}}}
""", listener="h2c: true")
            try:
                # Raw frames: the h2 library stops reading at a GOAWAY, which is the point.
                conn = h2c.RawConn(p.port)
                self.addCleanup(conn.close)
                conn.send(h2c.frame(h2c.HEADERS, h2c.END_HEADERS | h2c.END_STREAM, 1,
                                    h2c.header_block(h2c.request_headers("/slow"))))
                time.sleep(0.3)
                p.proc.send_signal(15)  # SIGTERM: drain
                frames = conn.frames(lambda f: f[0] == h2c.DATA and f[1] & h2c.END_STREAM, 10)
                kinds = [f[0] for f in frames if f[0] in (h2c.GOAWAY, h2c.HEADERS, h2c.DATA)]
                self.assertEqual(kinds, [h2c.GOAWAY, h2c.HEADERS, h2c.DATA])
                goaway = [f for f in frames if f[0] == h2c.GOAWAY][0][3]
                self.assertEqual(h2c.goaway_code(goaway), 0)
                self.assertEqual(int.from_bytes(goaway[:4], "big"), 1)  # the last stream taken
                self.assertEqual(frames[-1][3], b"finished")
            finally:
                self.assertEqual(p.stop(), 0)

    def test_config_errors(self):
        d = tempfile.mkdtemp(prefix="sg-h2cfg-")
        self.addCleanup(shutil.rmtree, d, True)
        from harness import BIN
        cases = [
            ("listeners: [{address: 127.0.0.1:1, http2: true}]\n", "http2 is for a TLS listener"),
            ("listeners: [{address: 127.0.0.1:1, h2c: maybe}]\n", "h2c"),
            ("listeners: [{address: 127.0.0.1:1}]\nhttp2: {max_concurrent_streams: 0}\n", "max_concurrent_streams"),
            ("listeners: [{address: 127.0.0.1:1}]\nhttp2: {stream_window: 100}\n", "stream_window"),
            ("listeners: [{address: 127.0.0.1:1}]\nhttp2: {flood: 1}\n", "flood"),
        ]
        for text, message in cases:
            with self.subTest(message):
                path = os.path.join(d, "c.yaml")
                with open(path, "w") as f:
                    f.write(text + "rules:\n  - priority: 1\n    action: {type: fixed, status: 200}\n")
                r = subprocess.run([BIN, "config", "check", path, "--syntax-only"],
                                   capture_output=True, text=True, timeout=10)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(message, r.stderr + r.stdout)


if __name__ == "__main__":
    unittest.main()
