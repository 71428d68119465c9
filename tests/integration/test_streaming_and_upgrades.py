"""Server-Sent Events flushed event by event, and WebSocket tunnels (binary, fragmented,
subprotocol, query string), including an upgrade the upstream refuses."""
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (ConnReader, Proxy, Reader, Upstream, connect, recv_until_close,  # noqa: E402
                     respond, upstream_rule, ws_accept, ws_connect, ws_echo_handler, ws_frame,
                     ws_read_frame, ws_upgrade)


class ServerSentEvents(unittest.TestCase):
    def test_each_event_arrives_before_the_next_is_sent(self):
        received = [threading.Event() for _ in range(5)]

        def sse(conn, server):
            ConnReader(conn, server).request()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(5):
                ev = f"id: {i}\ndata: event {i}\n\n".encode()
                conn.sendall(f"{len(ev):x}\r\n".encode() + ev + b"\r\n")
                # The next event is sent only once the client has seen this one through the proxy.
                if not received[i].wait(5):
                    return
            conn.sendall(b"0\r\n\r\n")

        with Upstream(sse) as up, Proxy(upstream_rule(up.port)) as p:
            s = connect(p.port, timeout=5)
            s.sendall(b"GET /events HTTP/1.1\r\nHost: app.test\r\nAccept: text/event-stream\r\n\r\n")
            r = Reader(s)
            status, headers = r.head()
            self.assertEqual(status, 200)
            self.assertIn(("content-type", "text/event-stream"), headers)
            for i in range(5):
                size = int(r.line(), 16)
                data = r.exactly(size)
                r.exactly(2)
                self.assertEqual(data, f"id: {i}\ndata: event {i}\n\n".encode())
                received[i].set()
            self.assertEqual(r.line(), b"0")
            s.close()

    def test_close_delimited_event_stream_is_flushed(self):
        go = threading.Event()

        def sse(conn, server):
            ConnReader(conn, server).request()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\n")
            go.wait(5)
            conn.sendall(b"data: 2\n\n")

        with Upstream(sse) as up, Proxy(upstream_rule(up.port)) as p:
            s = connect(p.port, timeout=5)
            s.sendall(b"GET /events HTTP/1.1\r\nHost: app.test\r\n\r\n")
            r = Reader(s)
            r.head()
            size = int(r.line(), 16)
            self.assertEqual(r.exactly(size), b"data: 1\n\n")
            go.set()
            r.exactly(2)
            size = int(r.line(), 16)
            self.assertEqual(r.exactly(size), b"data: 2\n\n")
            s.close()


class WebSockets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream(ws_echo_handler)
        cls.proxy = Proxy(upstream_rule(cls.upstream.port), extra="timeouts: {tunnel_idle: 1s}")

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.upstream.close()

    def test_echo_text_binary_fragmented(self):
        s, r, status, headers, key = ws_connect(self.proxy.port, path="/?token=abc123", protocol="vite-hmr")
        self.assertEqual(status, 101)
        self.assertEqual(headers["sec-websocket-accept"], ws_accept(key))
        self.assertEqual(headers["sec-websocket-protocol"], "vite-hmr")
        self.assertEqual(headers["x-target"], "/?token=abc123")
        s.sendall(ws_frame(1, b"hello"))
        self.assertEqual(ws_read_frame(r), (True, 1, b"hello"))
        blob = bytes(range(256)) * 400
        s.sendall(ws_frame(2, blob))
        self.assertEqual(ws_read_frame(r), (True, 2, blob))
        # fragmented message: first frame, continuation, final continuation
        s.sendall(ws_frame(1, b"frag-1 ", fin=False) + ws_frame(0, b"frag-2 ", fin=False) + ws_frame(0, b"end"))
        self.assertEqual(ws_read_frame(r), (False, 1, b"frag-1 "))
        self.assertEqual(ws_read_frame(r), (False, 0, b"frag-2 "))
        self.assertEqual(ws_read_frame(r), (True, 0, b"end"))
        s.sendall(ws_frame(8, b"\x03\xe8bye"))
        self.assertEqual(ws_read_frame(r), (True, 8, b"\x03\xe8bye"))
        s.close()

    def test_tunnel_idle_timeout_closes_both_sides(self):
        s, r, status, _, _ = ws_connect(self.proxy.port)
        self.assertEqual(status, 101)
        t0 = time.time()
        s.settimeout(5)
        self.assertEqual(s.recv(10), b"")
        self.assertLess(time.time() - t0, 4)
        s.close()

    def test_upgrade_refused_is_plain_http(self):
        def refuse(conn, server):
            rd = ConnReader(conn, server)
            while True:
                rd.request()
                respond(conn, 403, b"no upgrade for you")
        with Upstream(refuse) as up, Proxy(upstream_rule(up.port)) as p:
            s, r, status, headers, _ = ws_connect(p.port)
            self.assertEqual(status, 403)
            self.assertEqual(r.exactly(int(headers["content-length"])), b"no upgrade for you")
            s.close()

    def test_101_without_upgrade_request_is_502(self):
        def rogue(conn, server):
            ConnReader(conn, server).request()
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        with Upstream(rogue) as up, Proxy(upstream_rule(up.port)) as p:
            s = connect(p.port)
            s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
            self.assertEqual(Reader(s).response()[0], 502)
            s.close()

    def test_many_tunnels_concurrently(self):
        socks = []
        for i in range(50):
            s, r, status, _, _ = ws_connect(self.proxy.port, path=f"/t{i}")
            self.assertEqual(status, 101)
            socks.append((s, r))
        for i, (s, r) in enumerate(socks):
            s.sendall(ws_frame(1, f"msg {i}".encode()))
        for i, (s, r) in enumerate(socks):
            self.assertEqual(ws_read_frame(r)[2], f"msg {i}".encode())
            s.close()


    def test_bytes_sent_with_the_upgrade_request_reach_the_upstream(self):
        s = connect(self.proxy.port)
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        s.sendall(("GET /early HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\n"
                   "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Key: {key}\r\n\r\n").encode() + ws_frame(1, b"early bird"))
        r = Reader(s)
        self.assertEqual(r.head()[0], 101)
        self.assertEqual(ws_read_frame(r), (True, 1, b"early bird"))
        s.close()

    def test_slow_reader_receives_every_byte_in_order(self):
        # The upstream writes 8 MiB at once; the client reads slowly. The tunnel must hold
        # what the client cannot take yet (and stop reading the upstream meanwhile).
        blob = os.urandom(1 << 20) * 8

        def firehose(conn, server):
            r = ws_upgrade(conn, server)
            conn.sendall(blob)
            conn.shutdown(socket.SHUT_WR)
            r.exactly(1)  # wait for the client's goodbye before closing

        with Upstream(firehose) as up, Proxy(upstream_rule(up.port)) as p:
            s, r, status, _, _ = ws_connect(p.port)
            self.assertEqual(status, 101)
            time.sleep(0.5)  # let the proxy fill every buffer on the way
            got = bytearray()
            while len(got) < len(blob):
                chunk = r.exactly(min(65536, len(blob) - len(got)))
                got += chunk
                if len(got) < (1 << 20):
                    time.sleep(0.01)
            self.assertEqual(bytes(got), blob)
            s.sendall(b"x")
            s.settimeout(5)
            self.assertEqual(s.recv(10), b"")  # upstream closed after its half-close
            s.close()

    def test_half_close_is_passed_on_both_ways(self):
        seen = {}

        def half(conn, server):
            r = ws_upgrade(conn, server)
            seen["client_sent"] = r.buf + recv_until_close(conn)  # the client's FIN arrived as EOF
            conn.sendall(b"still talking after your FIN")
            conn.shutdown(socket.SHUT_WR)

        with Upstream(half) as up, Proxy(upstream_rule(up.port)) as p:
            s, r, status, _, _ = ws_connect(p.port)
            self.assertEqual(status, 101)
            s.sendall(b"last words")
            s.shutdown(socket.SHUT_WR)
            s.settimeout(5)
            self.assertEqual(r.buf + recv_until_close(s), b"still talking after your FIN")
            self.assertEqual(seen["client_sent"], b"last words")
            self.assertEqual(p.wait_metric("sessiongate_tunnels_active", 0), 0)
            s.close()

    def test_a_reset_on_either_side_ends_the_tunnel_on_the_other(self):
        for resetting in ("client", "upstream"):
            ended = threading.Event()
            go = threading.Event()

            def handler(conn, server):
                ws_upgrade(conn, server)
                try:
                    if resetting == "upstream":
                        go.wait(10)  # the test saw the tunnel open
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
                        conn.close()  # RST towards the proxy
                        return
                    recv_until_close(conn)  # the proxy closes once the client reset
                finally:
                    ended.set()
            with Upstream(handler) as up, Proxy(upstream_rule(up.port)) as p:
                s, r, status, _, _ = ws_connect(p.port)
                self.assertEqual(status, 101)
                self.assertEqual(p.wait_metric("sessiongate_tunnels_active", 1), 1)
                go.set()
                if resetting == "client":
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
                    s.close()
                else:
                    s.settimeout(5)
                    self.assertEqual(r.buf + recv_until_close(s), b"", resetting)
                    s.close()
                self.assertTrue(ended.wait(10), resetting)
                self.assertEqual(p.wait_metric("sessiongate_tunnels_active", 0), 0, resetting)


LINGER_RESET = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # SO_LINGER on, 0 s: close sends RST


if __name__ == "__main__":
    unittest.main(verbosity=2)
