"""PROXY protocol v1 and v2 on a listener that expects it (as AWS NLB and HAProxy send it):
the address it carries is the peer, for forwarding headers, logs and limits; a connection
without a valid header is closed with a log line and nothing is forwarded. On a listener that
does not expect it, a PROXY line is just a malformed request."""
import json
import os
import socket
import ssl
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from certs import TestCA, tls_listener  # noqa: E402
from harness import (SESSION_RULES, ProxyTest, Proxy, Reader, Upstream, free_port,  # noqa: E402
                     keepalive_server, wait_until)

HOST = "t.preview.example.com"
REQUEST = f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def echo(method, target, headers, body, conn):
    return 200, json.dumps({k: v for k, v in headers if k.startswith("x-forwarded")}).encode(), None


def v2(cmd, fam, body):
    return SIG + bytes([0x20 | cmd, fam]) + struct.pack(">H", len(body)) + body


def v2_tcp4(src, dst="10.0.0.5", sport=51234, dport=443, tlvs=b""):
    return v2(1, 0x11, socket.inet_aton(src) + socket.inet_aton(dst) +
              struct.pack(">HH", sport, dport) + tlvs)


def v2_tcp6(src, dst="2001:db8::5"):
    return v2(1, 0x21, socket.inet_pton(socket.AF_INET6, src) +
              socket.inet_pton(socket.AF_INET6, dst) + struct.pack(">HH", 1, 443))


class ProxyProtocol(ProxyTest, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sg-pp-")
        cls.ca = TestCA(cls.dir)
        cls.pair = cls.ca.leaf("pp", ["*.preview.example.com"])
        cls.up = Upstream(keepalive_server(echo))
        cls.plain_port = free_port()
        cls.tls_port = free_port()
        cls.p = Proxy(SESSION_RULES, directory=cls.dir, listener="proxy_protocol: true",
                      more_listeners=(f"  - {{address: 127.0.0.1:{cls.plain_port}}}\n"
                                      f"  - {{address: 127.0.0.1:{cls.tls_port}, proxy_protocol: true, "
                                      f"{tls_listener([cls.pair])}}}\n"),
                      extra=("timeouts: {proxy_header: 500ms}\n"
                             "limits: {per_client_rate: 3, per_client_burst: 3}\n"
                             f"access_log: {{path: {os.path.join(cls.dir, 'access.log')}}}"))
        cls.serve_session()

    def send(self, data, port=None):
        with socket.create_connection(("127.0.0.1", port or self.p.port), timeout=5) as s:
            s.sendall(data)
            return Reader(s).response()

    def closed_without_answer(self, data, port=None):
        with socket.create_connection(("127.0.0.1", port or self.p.port), timeout=5) as s:
            s.sendall(data)
            try:
                return s.recv(1000) == b""
            except ConnectionResetError:
                return True

    def seen_for(self, header):
        status, _, body = self.send(header + REQUEST)
        self.assertEqual(status, 200, body)
        return json.loads(body)["x-forwarded-for"]

    def test_v1_and_v2_set_the_peer(self):
        self.assertEqual(self.seen_for(b"PROXY TCP4 203.0.113.9 10.0.0.5 51234 443\r\n"), "203.0.113.9")
        self.assertEqual(self.seen_for(b"PROXY TCP6 2001:db8::9 2001:db8::5 1 443\r\n"), "2001:db8::9")
        self.assertEqual(self.seen_for(v2_tcp4("198.51.100.7")), "198.51.100.7")
        self.assertEqual(self.seen_for(v2_tcp4("198.51.100.8", tlvs=b"\xea\x00\x05vpce1\x04\x00\x00")),
                         "198.51.100.8")  # AWS VPC endpoint TLV, skipped
        self.assertEqual(self.seen_for(v2_tcp6("2001:db8::77")), "2001:db8::77")
        # LOCAL (the balancer's own health check) and UNKNOWN: the connection's own peer
        self.assertEqual(self.seen_for(v2(0, 0x00, b"")), "127.0.0.1")
        self.assertEqual(self.seen_for(b"PROXY UNKNOWN\r\n"), "127.0.0.1")
        access_log = os.path.join(self.dir, "access.log")
        self.assertTrue(wait_until(lambda: "198.51.100.7" in open(access_log).read()))

    def test_a_header_split_across_packets(self):
        with socket.create_connection(("127.0.0.1", self.p.port), timeout=5) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            header = v2_tcp4("192.0.2.44")
            for i in range(0, len(header), 5):
                s.sendall(header[i:i + 5])
                time.sleep(0.01)
            s.sendall(REQUEST)
            status, _, body = Reader(s).response()
        self.assertEqual(json.loads(body)["x-forwarded-for"], "192.0.2.44")

    def test_bad_headers_are_closed_logged_and_never_forwarded(self):
        before = self.up.connections
        key = 'sessiongate_handshake_failures_total{reason="proxy_header"}'
        count = self.p.metrics()[0][key]
        bad = [
            (REQUEST, "no PROXY protocol header"),
            (b"PROXY TCP4 203.0.113.9 10.0.0.5 51234\r\n" + REQUEST, "PROXY v1 port"),
            (b"PROXY TCP4 2001:db8::1 10.0.0.5 1 2\r\n" + REQUEST, "PROXY v1 address not of its family"),
            (b"PROXY TCP4 " + b"1" * 120 + b"\r\n", "PROXY v1 line longer than 107 bytes"),
            (v2(1, 0x12, b"\x00" * 12) + REQUEST, "PROXY v2 family not TCP"),  # UDP
            (v2(1, 0x11, b"\x00" * 6) + REQUEST, "PROXY v2 length shorter than its addresses"),
            (v2(1, 0x11, b"\x00" * 12 + b"\xea\x00\x09ab") + REQUEST, "PROXY v2 TLV runs past the header"),
            (SIG + bytes([0x21, 0x11]) + struct.pack(">H", 4000), "PROXY v2 header too long"),
        ]
        for data, why in bad:
            with self.subTest(why=why):
                self.assertTrue(self.closed_without_answer(data))
                self.assertTrue(wait_until(lambda: why in self.p.stderr()), why)
        self.assertEqual(self.p.metrics()[0][key], count + len(bad))
        self.assertEqual(self.up.connections, before)  # nothing reached the upstream

    def test_truncated_header_times_out(self):
        key = 'sessiongate_handshake_failures_total{reason="timeout"}'
        count = self.p.metrics()[0][key]
        started = time.monotonic()
        self.assertTrue(self.closed_without_answer(b"PROXY TCP4 203.0.113.9 10.0"))
        self.assertLess(time.monotonic() - started, 4)  # proxy_header: 500ms
        self.assertTrue(wait_until(lambda: self.p.metrics()[0][key] == count + 1))
        self.assertIn("no PROXY header in time", self.p.stderr())

    def test_on_a_listener_that_does_not_expect_it_it_is_a_bad_request(self):
        status, _, _ = self.send(b"PROXY TCP4 203.0.113.9 10.0.0.5 51234 443\r\n" + REQUEST,
                                 port=self.plain_port)
        self.assertEqual(status, 400)
        status, _, _ = self.send(v2_tcp4("203.0.113.9") + REQUEST, port=self.plain_port)
        self.assertEqual(status, 400)

    def test_the_header_then_tls(self):
        ctx = ssl.create_default_context(cafile=self.ca.cert)
        raw = socket.create_connection(("127.0.0.1", self.tls_port), timeout=5)
        raw.sendall(v2_tcp4("198.51.100.99"))
        with ctx.wrap_socket(raw, server_hostname=HOST) as s:
            s.sendall(REQUEST)
            status, _, body = Reader(s).response()
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["x-forwarded-for"], "198.51.100.99")

    def test_limits_count_the_address_in_the_header(self):
        statuses = [self.send(v2_tcp4(f"192.0.2.{i}") + REQUEST)[0] for i in range(100, 106)]
        self.assertEqual(statuses, [200] * 6)  # six clients, three tokens each
        statuses = [self.send(v2_tcp4("192.0.2.200") + REQUEST)[0] for _ in range(6)]
        self.assertIn(429, statuses)


if __name__ == "__main__":
    unittest.main()
