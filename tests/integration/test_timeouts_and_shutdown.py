"""Slow clients are cut off at the head timeout while others are served; idle keep-alive
connections close; connection and body limits hold. (Descriptor exhaustion, signals and the
shutdown sequence are in tests/faults/test_process_faults.py.)"""
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Proxy, Reader, Upstream, connect, keepalive_server,  # noqa: E402
                     recv_until_close, request, upstream_rule)


slow_arrived = threading.Event()


def hello(method, target, headers, body, conn):
    if target == "/slow":
        slow_arrived.set()
        time.sleep(1.0)
    return 200, b"hello", None



class Timeouts(unittest.TestCase):
    def test_slowloris_cut_off_while_others_served(self):
        with Upstream(keepalive_server(hello)) as up, \
                Proxy(upstream_rule(up.port), extra="timeouts: {request_head: 2s}") as p:
            slow = connect(p.port, timeout=10)
            head = b"GET / HTTP/1.1\r\nHost: app.test\r\nX-Slow: " + b"a" * 100
            cut_at = None
            t0 = time.time()
            latencies = []
            for i, byte in enumerate(head):
                try:
                    slow.sendall(bytes([byte]))
                except OSError:
                    cut_at = time.time() - t0
                    break
                # a well-behaved client in between
                t1 = time.time()
                status, _, body = request(p.port)
                latencies.append(time.time() - t1)
                self.assertEqual((status, body), (200, b"hello"))
                slow.settimeout(0.3)
                try:
                    data = slow.recv(4096)
                    if data.startswith(b"HTTP/1.1 408") or data == b"":
                        cut_at = time.time() - t0
                        break
                except socket.timeout:
                    pass
                if time.time() - t0 > 8:
                    break
            self.assertIsNotNone(cut_at, "slow client was never cut off")
            self.assertGreater(cut_at, 1.9)  # never before request_head (2 s) ...
            self.assertLess(cut_at, 7.0)  # ... and cut well before it could finish
            print(f"\nslowloris cut after {cut_at:.2f}s; other clients' max latency "
                  f"{max(latencies) * 1000:.1f} ms over {len(latencies)} requests")

    def test_keepalive_idle_timeout(self):
        with Upstream(keepalive_server(hello)) as up, \
                Proxy(upstream_rule(up.port), extra="timeouts: {keepalive_idle: 500ms}") as p:
            s = connect(p.port)
            s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
            Reader(s).response()
            t0 = time.time()
            s.settimeout(30)
            self.assertEqual(s.recv(10), b"")
            self.assertGreater(time.time() - t0, 0.45)  # not before keepalive_idle

    def test_idle_connection_releases_its_buffer_and_keeps_its_deadline(self):
        # For its first second idle, a keep-alive connection keeps its buffer and a pending
        # read; after that it holds only a readiness wait. Both must serve the next request,
        # and the switch must not restart the idle clock.
        with Upstream(keepalive_server(hello)) as up, \
                Proxy(upstream_rule(up.port), extra="timeouts: {keepalive_idle: 2500ms}") as p:
            s = connect(p.port)
            r = Reader(s)
            for pause in (0, 0.2, 1.5, 0):
                time.sleep(pause)
                s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
                self.assertEqual(r.response()[0], 200)
            t0 = time.time()
            s.settimeout(30)
            self.assertEqual(s.recv(10), b"")
            # The whole keepalive_idle, never less; a clock restarted when the connection
            # parked would close it 1 s (the hot-read second) later than that.
            self.assertGreater(time.time() - t0, 2.45)
            self.assertLess(time.time() - t0, 3.45)

    def test_silent_connection_closed_at_head_timeout_and_counted_until_then(self):
        # A connection that never sends is held without any request state (parked), but it is
        # still an open connection: counted, and closed at request_head.
        with Upstream(keepalive_server(hello)) as up, \
                Proxy(upstream_rule(up.port), extra="timeouts: {request_head: 1s}") as p:
            silent = [connect(p.port) for _ in range(3)]
            self.assertEqual(p.wait_metric("sessiongate_connections_active", 3), 3)
            t0 = time.time()
            for s in silent:
                s.settimeout(5)
                self.assertEqual(s.recv(10), b"")
            self.assertGreater(time.time() - t0, 0.5)  # held until request_head, not dropped
            self.assertEqual(p.wait_metric("sessiongate_connections_active", 0), 0)
            self.assertEqual(request(p.port)[0], 200)

    def test_parked_connections_beyond_the_hot_budget_serve_again(self):
        # More idle keep-alive connections than keep a hot read (64 per worker): all of them
        # park after their first second idle and must each serve a second request.
        n = 150
        with Upstream(keepalive_server(hello)) as up, Proxy(upstream_rule(up.port)) as p:
            conns = []
            for _ in range(n):
                s = connect(p.port)
                s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
                r = Reader(s)
                self.assertEqual(r.response()[0], 200)
                conns.append((s, r))
            time.sleep(1.5)
            for s, _ in conns:
                s.sendall(b"GET /again HTTP/1.1\r\nHost: app.test\r\n\r\n")
            for s, r in conns:
                self.assertEqual(r.response()[:3:2], (200, b"hello"))
            self.assertEqual(p.wait_metric("sessiongate_connections_active", n), n)
            for s, _ in conns:
                s.close()
            self.assertEqual(p.wait_metric("sessiongate_connections_active", 0), 0)

    def test_connection_limit_answers_503(self):
        with Upstream(keepalive_server(hello)) as up, \
                Proxy(upstream_rule(up.port), extra="limits: {max_connections: 5}") as p:
            held = [connect(p.port) for _ in range(5)]
            self.assertEqual(p.wait_metric("sessiongate_connections_active", 5), 5)
            s = connect(p.port)
            data = recv_until_close(s)
            self.assertTrue(data.startswith(b"HTTP/1.1 503"), data)
            for h in held:
                h.close()
            self.assertEqual(p.wait_metric("sessiongate_connections_active", 0), 0)
            self.assertEqual(request(p.port)[0], 200)

    def test_body_limit_413(self):
        with Upstream(keepalive_server(hello)) as up, \
                Proxy(upstream_rule(up.port), extra="limits: {body_bytes: 1KiB}") as p:
            status, _, _ = request(p.port, method="POST", body=b"x" * 2000)
            self.assertEqual(status, 413)
            s = connect(p.port)
            s.sendall(b"POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                      + b"400\r\n" + b"x" * 1024 + b"\r\n" + b"10\r\n" + b"y" * 16 + b"\r\n0\r\n\r\n")
            self.assertEqual(Reader(s).response()[0], 413)
            self.assertEqual(request(p.port, method="POST", body=b"x" * 1000)[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
