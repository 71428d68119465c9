"""Edges of talking to the upstream: response heads split over reads or too large, a client
that leaves while the upstream is still answering or after asking for 100-continue, and
writes that the client's socket cannot take at once."""
import hashlib
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (ConnReader, Proxy, Reader, Upstream, connect, free_port,  # noqa: E402
                     keepalive_server, recv_until_close, request, respond, upstream_rule)


class ResponseHeads(unittest.TestCase):
    def test_head_split_over_many_reads_with_an_interim_response(self):
        pieces = [b"HTTP/1.1 103 Early", b" Hints\r\nLink: </a.css>; rel=preload\r\n", b"\r\n",
                  b"HTTP/1.1 200 OK\r\nContent-", b"Length: 5\r\nX-Split: ", b"yes\r\n", b"\r",
                  b"\nhel", b"lo"]

        def split(conn, server):
            r = ConnReader(conn, server)
            r.request()
            for p in pieces:
                conn.sendall(p)
                time.sleep(0.02)  # separate segments, so the proxy's reads end mid-head
            r.request()
        with Upstream(split) as up, Proxy(upstream_rule(up.port)) as p:
            with connect(p.port) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
                r = Reader(s)
                status, headers = r.head()
                self.assertEqual((status, dict(headers)["link"]), (103, "</a.css>; rel=preload"))
                status, headers, body = r.response()
                self.assertEqual((status, headers["x-split"], body), (200, "yes", b"hello"))

    def test_head_too_large_is_502_and_the_connection_discarded(self):
        def huge(conn, server):
            r = ConnReader(conn, server)
            r.request()
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for i in range(200):
                conn.sendall(f"X-Filler-{i}: {'v' * 400}\r\n".encode())
            conn.sendall(b"Content-Length: 2\r\n\r\nok")
            r.request()
        with Upstream(huge) as up, Proxy(upstream_rule(up.port)) as p:
            status, _, body = request(p.port, headers={"Accept": "application/json"})
            self.assertEqual(status, 502)
            self.assertIn(b'"error":"upstream_invalid"', body)
            request(p.port)
            self.assertEqual(up.connections, 2)


class FailureAnswers(unittest.TestCase):
    def test_regression_an_upstream_failure_says_connection_close(self):
        # The router closed the connection after a 502 without saying so, so a keep-alive
        # client could pipeline a request into a connection about to close.
        with Proxy(upstream_rule(free_port())) as p:
            with connect(p.port) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
                status, headers, _ = Reader(s).response()
                self.assertEqual((status, headers.get("connection")), (502, "close"))
                self.assertEqual(recv_until_close(s), b"")

    def test_regression_head_gets_no_body_on_an_error_page(self):
        with Proxy(upstream_rule(free_port())) as p:
            with connect(p.port) as s:
                s.sendall(b"HEAD / HTTP/1.1\r\nHost: app.test\r\n\r\n")
                data = recv_until_close(s)
            head, _, body = data.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 502"), data)
            self.assertIn(b"Content-Length: ", head)
            self.assertEqual(body, b"")

    def test_regression_upstream_closing_before_the_first_chunk_is_502_not_400(self):
        def cut(conn, server):
            r = ConnReader(conn, server)
            r.request()
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        with Upstream(cut) as up, Proxy(upstream_rule(up.port)) as p:
            with connect(p.port) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\nAccept: application/json\r\n\r\n")
                data = recv_until_close(s)
            # The head goes out with the first body bytes, so nothing has reached the client:
            # a 502 explains what happened (it used to be a 400, as if the client erred).
            self.assertTrue(data.startswith(b"HTTP/1.1 502"), data)
            self.assertIn(b'"error":"upstream_unavailable"', data)


class ClientLeaves(unittest.TestCase):
    def test_client_gone_mid_response_frees_the_upstream_connection(self):
        upstream_closed = threading.Event()
        head_sent = threading.Event()

        def endless(conn, server):
            r = ConnReader(conn, server)
            _, target, _, _ = r.request()
            if target == "/next":
                respond(conn, 200, b"next")
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
            head_sent.set()
            block = b"x" * 65536
            try:
                for _ in range(1 << 14):  # bounded: 1 GiB at most
                    conn.sendall(block)
            except OSError:
                upstream_closed.set()
        with Upstream(endless) as up, Proxy(upstream_rule(up.port)) as p:
            s = connect(p.port)
            s.sendall(b"GET /endless HTTP/1.1\r\nHost: app.test\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200"))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # reset: the proxy's next write fails
            self.assertTrue(upstream_closed.wait(20), "the upstream connection was kept open")
            self.assertEqual(p.wait_metric("sessiongate_connections_active", 0), 0)
            self.assertEqual(request(p.port, path="/next")[2], b"next")
            self.assertEqual(up.connections, 2)  # the half-sent connection was not pooled

    def test_client_gone_after_100_continue_aborts_the_upstream_request(self):
        events = []
        done = threading.Event()

        def handler(conn, server):
            r = ConnReader(conn, server)
            try:
                _, target, _, body = r.request()
                events.append(("complete", target, body))
                respond(conn, 200, b"ok")
                r.request()
            except EOFError:
                events.append("aborted")
            finally:
                done.set()
        with Upstream(handler) as up, Proxy(upstream_rule(up.port)) as p:
            s = connect(p.port)
            s.sendall(b"POST /upload HTTP/1.1\r\nHost: app.test\r\nExpect: 100-continue\r\n"
                      b"Content-Length: 5\r\n\r\n")
            self.assertEqual(s.recv(100), b"HTTP/1.1 100 Continue\r\n\r\n")
            s.close()
            self.assertTrue(done.wait(10), "the upstream connection was left open")
            self.assertEqual(events, ["aborted"])
            self.assertEqual(p.wait_metric("sessiongate_connections_active", 0), 0)


class SlowClientWrites(unittest.TestCase):
    def test_responses_larger_than_the_socket_takes_arrive_whole(self):
        # A small receive buffer and a client that reads late: the proxy's direct write
        # cannot finish at once and continues when the socket drains, in every framing.
        data = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB

        def app(method, target, headers, body, conn):
            if target == "/chunked":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                for i in range(0, len(data), 100000):
                    part = data[i:i + 100000]
                    conn.sendall(b"%x\r\n%s\r\n" % (len(part), part))
                conn.sendall(b"0\r\n\r\n")
                return None
            return 200, data, None
        with Upstream(keepalive_server(app)) as up, Proxy(upstream_rule(up.port)) as p:
            for path in ("/length", "/chunked"):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.connect(("127.0.0.1", p.port))
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n".encode())
                time.sleep(0.3)  # let the proxy meet a full socket before anything is read
                raw = recv_until_close(s)
                s.close()
                head, _, body = raw.partition(b"\r\n\r\n")
                if path == "/chunked":
                    out, rest = b"", body
                    while True:
                        size_line, _, rest = rest.partition(b"\r\n")
                        n = int(size_line, 16)
                        if n == 0:
                            break
                        out, rest = out + rest[:n], rest[n + 2:]
                    body = out
                self.assertTrue(head.startswith(b"HTTP/1.1 200"), path)
                self.assertEqual(hashlib.sha256(body).digest(), hashlib.sha256(data).digest(), path)

    def test_upload_to_an_upstream_that_reads_late_arrives_whole(self):
        data = os.urandom(8 << 20)  # more than loopback's socket buffers hold
        got = {}

        def late_reader(conn, server):
            time.sleep(0.3)  # the proxy meets a full socket first
            r = ConnReader(conn, server)
            _, _, _, body = r.request()
            got["sha"] = hashlib.sha256(body).hexdigest()
            respond(conn, 200, b"ok", {"Connection": "close"})
        with Upstream(late_reader) as up, Proxy(upstream_rule(up.port)) as p:
            status, _, _ = request(p.port, method="POST", body=data)
            self.assertEqual(status, 200)
            self.assertEqual(got["sha"], hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    unittest.main(verbosity=2)
