"""HTTP/1.1 proxying through the real binary: keep-alive, pipelining, bodies both ways,
framing conversions, forwarding headers, upstream pool, failures mapped to 502/504."""
import hashlib
import os
import random
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (ConnReader, Proxy, Reader, Upstream, connect, keepalive_server,  # noqa: E402
                     recv_until_close, request, respond, upstream_rule)


def app(method, target, headers, body, conn):
    h = dict(headers)
    if target == "/hello":
        return 200, b"hello", None
    if target == "/echo":
        return 200, body, {"X-Body-Length": str(len(body))}
    if target == "/head":
        # The upstream request head as received, for header canonicalisation checks.
        return 200, "\n".join(f"{k}: {v}" for k, v in headers).encode(), None
    if target == "/chunked":
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n")
        return None
    if target == "/empty204":
        conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        return None
    if target == "/notmod":
        conn.sendall(b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n")
        return None
    if target == "/hop":
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: X-Private\r\nX-Private: secret\r\n"
                     b"Keep-Alive: timeout=5\r\nX-Public: yes\r\nContent-Length: 2\r\n\r\nok")
        return None
    if target == "/early-hints":
        conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                     b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        return None
    if target == "/echo-discard":
        # ConnReader.request() returned, so every announced byte arrived.
        return 200, h["content-length"].encode(), None
    if target.startswith("/big/"):
        n = int(target.split("/")[2])
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n".encode())
        block = b"x" * (1 << 20)
        while n > 0:
            k = min(n, len(block))
            conn.sendall(block[:k])
            n -= k
        return None
    if target == "/sha256":
        return 200, hashlib.sha256(body).hexdigest().encode(), None
    if target.startswith("/pattern/"):
        # PATTERN in irregular writes (a byte, odd sizes, megabytes), so the proxy's reads end
        # at every kind of boundary while its buffer grows.
        framing = target.split("/")[2]
        head = {"length": f"Content-Length: {len(PATTERN)}\r\n",
                "chunked": "Transfer-Encoding: chunked\r\n", "close": "Connection: close\r\n"}
        conn.sendall(f"HTTP/1.1 200 OK\r\n{head[framing]}\r\n".encode())
        for piece in pieces(PATTERN):
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if framing == "chunked" else piece)
        if framing == "chunked":
            conn.sendall(b"0\r\n\r\n")
        if framing == "close":
            conn.shutdown(socket.SHUT_WR)
        return None
    return 404, b"unknown", None


PATTERN = random.Random(7).randbytes(6 << 20)


def pieces(data):
    sizes, i, k = [1, 4093, 70001, 16384, 65536, 1 << 20, 3], 0, 0
    while i < len(data):
        yield data[i:i + sizes[k % len(sizes)]]
        i += sizes[k % len(sizes)]
        k += 1


class ProxyHttp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream(keepalive_server(app))
        cls.proxy = Proxy(upstream_rule(cls.upstream.port), workers=1)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.upstream.close()

    def test_simple_get(self):
        status, headers, body = request(self.proxy.port, path="/hello")
        self.assertEqual((status, body), (200, b"hello"))

    def test_keepalive_and_pool_reuse(self):
        before = self.upstream.connections
        s = connect(self.proxy.port)
        r = Reader(s)
        for _ in range(20):
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: app.test\r\n\r\n")
            status, headers, body = r.response()
            self.assertEqual((status, body), (200, b"hello"))
            self.assertNotIn("connection", headers)
        s.close()
        self.assertLessEqual(self.upstream.connections - before, 1, "upstream connections not reused")

    def test_pipelining(self):
        s = connect(self.proxy.port)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: app.test\r\n\r\n" * 5 +
                  b"POST /echo HTTP/1.1\r\nHost: app.test\r\nContent-Length: 3\r\n\r\nabc" +
                  b"GET /hello HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
        r = Reader(s)
        for _ in range(5):
            self.assertEqual(r.response()[2], b"hello")
        self.assertEqual(r.response()[2], b"abc")
        status, headers, body = r.response()
        self.assertEqual(body, b"hello")
        self.assertEqual(headers.get("connection"), "close")
        self.assertEqual(recv_until_close(s), b"")

    def test_forwarded_headers_are_canonical(self):
        status, _, body = request(self.proxy.port, path="/head", headers={
            "Connection": "close, X-Hop", "X-Hop": "drop me", "Keep-Alive": "timeout=1",
            "X-Forwarded-For": "6.6.6.6", "Forwarded": "for=6.6.6.6", "X-Keep": "kept",
            "Proxy-Connection": "keep-alive", "TE": "trailers"})
        lines = dict(l.split(": ", 1) for l in body.decode().split("\n"))
        self.assertEqual(lines["host"], "app.test")
        self.assertEqual(lines["x-keep"], "kept")
        self.assertEqual(lines["x-forwarded-for"], "127.0.0.1")
        self.assertEqual(lines["x-forwarded-proto"], "http")
        self.assertEqual(lines["x-forwarded-host"], "app.test")
        self.assertEqual(lines["forwarded"], 'for=127.0.0.1;proto=http;host="app.test"')
        for hop in ("x-hop", "keep-alive", "proxy-connection", "te", "connection"):
            self.assertNotIn(hop, lines)

    def test_response_hop_by_hop_removed(self):
        status, headers, body = request(self.proxy.port, path="/hop")
        self.assertEqual(body, b"ok")
        self.assertEqual(headers.get("x-public"), "yes")
        self.assertNotIn("x-private", headers)
        self.assertNotIn("keep-alive", headers)

    def test_chunked_response_rechunked_and_trailers_dropped(self):
        s = connect(self.proxy.port)
        s.sendall(b"GET /chunked HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
        raw = recv_until_close(s)
        self.assertIn(b"Transfer-Encoding: chunked", raw)
        self.assertTrue(raw.endswith(b"0\r\n\r\n"))
        self.assertNotIn(b"X-Trailer", raw)
        self.assertNotIn(b"ext=1", raw)
        status, headers, body = request(self.proxy.port, path="/chunked")
        self.assertEqual(body, b"hello world")

    def test_chunked_request_body(self):
        s = connect(self.proxy.port)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"3;a=b\r\nabc\r\n4\r\ndefg\r\n0\r\nX-T: 1\r\n\r\n")
        status, headers, body = Reader(s).response()
        self.assertEqual((status, body), (200, b"abcdefg"))
        s.close()

    def test_http10_client(self):
        s = connect(self.proxy.port)
        s.sendall(b"GET /chunked HTTP/1.0\r\nHost: app.test\r\n\r\n")
        raw = recv_until_close(s)
        self.assertTrue(raw.startswith(b"HTTP/1.0 200 OK\r\n"), raw)
        self.assertTrue(raw.endswith(b"\r\n\r\nhello world"), raw)

    def test_head_204_304_have_no_body(self):
        s = connect(self.proxy.port)
        r = Reader(s)
        s.sendall(b"HEAD /hello HTTP/1.1\r\nHost: app.test\r\n\r\n")
        status, headers, body = r.response("HEAD")
        self.assertEqual((status, headers.get("content-length"), body), (200, "5", b""))
        s.sendall(b"GET /empty204 HTTP/1.1\r\nHost: app.test\r\n\r\n")
        self.assertEqual(r.response()[0], 204)
        s.sendall(b"GET /notmod HTTP/1.1\r\nHost: app.test\r\n\r\n")
        self.assertEqual(r.response()[0], 304)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: app.test\r\n\r\n")
        self.assertEqual(r.response()[2], b"hello")  # still in step after body-less responses
        s.close()

    def test_interim_103_forwarded(self):
        s = connect(self.proxy.port)
        s.sendall(b"GET /early-hints HTTP/1.1\r\nHost: app.test\r\n\r\n")
        r = Reader(s)
        status, headers = r.head()
        self.assertEqual(status, 103)
        status, headers, body = r.response()
        self.assertRegex(headers.pop("x-request-id"), r"^[0-9a-f]{16}$")
        self.assertEqual((status, headers, body), (200, {"content-length": "2"}, b"ok"))
        s.close()

    def test_expect_100_continue(self):
        s = connect(self.proxy.port)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        r = Reader(s)
        status, _ = r.head()
        self.assertEqual(status, 100)
        s.sendall(b"hello")
        self.assertEqual(r.response()[2], b"hello")
        s.close()

    def test_large_upload_and_download_bounded_memory(self):
        size = 1 << 30
        rss_before = self.proxy.rss_kib()
        # download
        s = connect(self.proxy.port, timeout=60)
        s.sendall(f"GET /big/{size} HTTP/1.1\r\nHost: app.test\r\n\r\n".encode())
        r = Reader(s)
        status, headers = r.head()
        self.assertEqual(int(headers_dict(headers)["content-length"]), size)
        got = len(r.buf)
        r.buf = b""
        buf = bytearray(1 << 20)
        while got < size:
            n = s.recv_into(buf)
            self.assertGreater(n, 0)
            got += n
        self.assertEqual(got, size)
        # upload, on the same connection
        s.sendall(f"POST /echo-discard HTTP/1.1\r\nHost: app.test\r\nContent-Length: {size}\r\n\r\n".encode())
        block = b"y" * (1 << 20)
        for _ in range(size // len(block)):
            s.sendall(block)
        status, _, body = Reader(s).response()
        self.assertEqual((status, body), (200, str(size).encode()))
        s.close()
        peak = self.proxy.rss_kib("VmHWM")
        print(f"\n1 GiB down + 1 GiB up: RSS before {rss_before} KiB, peak {peak} KiB")
        self.assertLess(peak - rss_before, 32 * 1024, "memory grew with body size")


    # Regression for the streaming buffer that grows during a bulk transfer: every byte of a
    # 6 MiB body arrives once and in order, in each framing and both ways.
    def test_bulk_bodies_arrive_byte_exact_in_every_framing(self):
        want = hashlib.sha256(PATTERN).hexdigest()
        for framing in ("length", "chunked"):
            status, _, body = request(self.proxy.port, path=f"/pattern/{framing}")
            self.assertEqual((status, len(body), hashlib.sha256(body).hexdigest()),
                             (200, len(PATTERN), want), framing)
        s = connect(self.proxy.port, timeout=30)
        s.sendall(b"GET /pattern/close HTTP/1.1\r\nHost: app.test\r\n\r\n")
        status, _, body = Reader(s).response()  # re-chunked for the keep-alive client
        s.close()
        self.assertEqual((status, hashlib.sha256(body).hexdigest()), (200, want), "close")
        for chunked in (False, True):
            s = connect(self.proxy.port, timeout=30)
            if chunked:
                s.sendall(b"POST /sha256 HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n")
                for piece in pieces(PATTERN):
                    s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                s.sendall(b"0\r\n\r\n")
            else:
                s.sendall(b"POST /sha256 HTTP/1.1\r\nHost: app.test\r\nContent-Length: %d\r\n\r\n"
                          % len(PATTERN))
                for piece in pieces(PATTERN):
                    s.sendall(piece)
            status, _, body = Reader(s).response()
            s.close()
            self.assertEqual((status, body.decode()), (200, want), f"upload chunked={chunked}")
        # Many small chunks: the reads that fill the buffer end inside chunk-size lines and
        # trailing CRLFs at every offset.
        part = PATTERN[:2 << 20]
        framed = b"".join(b"%x\r\n%s\r\n" % (len(part[i:i + 97]), part[i:i + 97])
                          for i in range(0, len(part), 97))
        s = connect(self.proxy.port, timeout=30)
        s.sendall(b"POST /sha256 HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + framed + b"0\r\n\r\n")
        status, _, body = Reader(s).response()
        s.close()
        self.assertEqual((status, body.decode()), (200, hashlib.sha256(part).hexdigest()), "small chunks")


def headers_dict(headers):
    return dict(headers)


class UpstreamFailures(unittest.TestCase):
    def test_refused_is_502(self):
        port = Upstream(lambda c, s: None).port  # bound then closed below
        with socket.socket() as tmp:
            tmp.bind(("127.0.0.1", 0))
            dead = tmp.getsockname()[1]
        with Proxy(upstream_rule(dead)) as p:
            status, headers, body = request(p.port, headers={"Accept": "text/html"})
            self.assertEqual(status, 502)
            self.assertIn(b"not reachable", body)
            status, headers, body = request(p.port, headers={"Accept": "application/json"})
            self.assertIn(b'"error":"upstream_refused"', body)
        del port

    def test_hanging_upstream_is_504(self):
        def hang(conn, server):
            ConnReader(conn, server).request()
            time.sleep(5)
        with Upstream(hang) as up, Proxy(upstream_rule(up.port), extra="timeouts: {upstream_head: 500ms}") as p:
            t0 = time.time()
            status, _, body = request(p.port)
            self.assertEqual(status, 504)
            self.assertLess(time.time() - t0, 4)

    def test_upstream_closes_mid_response_is_truncated_not_complete(self):
        def truncate(conn, server):
            ConnReader(conn, server).request()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"a" * 10)
            conn.shutdown(socket.SHUT_RDWR)
        def truncate_chunked(conn, server):
            ConnReader(conn, server).request()
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            conn.shutdown(socket.SHUT_RDWR)
        for handler, check in ((truncate, lambda raw: raw.endswith(b"\r\n\r\n" + b"a" * 10)),
                               (truncate_chunked, lambda raw: raw.endswith(b"5\r\nhello\r\n"))):
            with Upstream(handler) as up, Proxy(upstream_rule(up.port)) as p:
                s = connect(p.port)
                s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
                raw = recv_until_close(s)  # returns only because the proxy closed
                self.assertTrue(raw.startswith(b"HTTP/1.1 200 OK"), raw)
                self.assertTrue(check(raw), raw)
                self.assertFalse(raw.endswith(b"0\r\n\r\n"))

    def test_close_delimited_response_rechunked_for_keepalive(self):
        def until_close(conn, server):
            ConnReader(conn, server).request()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstreamed until close")
            conn.shutdown(socket.SHUT_RDWR)
        with Upstream(until_close) as up, Proxy(upstream_rule(up.port)) as p:
            s = connect(p.port)
            r = Reader(s)
            s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
            status, headers, body = r.response()
            self.assertEqual(headers.get("transfer-encoding"), "chunked")
            self.assertEqual(body, b"streamed until close")
            s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")  # client connection survives
            self.assertEqual(r.response()[2], b"streamed until close")
            s.close()

    def test_regression_reset_close_delimited_body_is_not_completed(self):
        # A close-delimited body ended by a reset (not a FIN) must not get a final chunk.
        def reset_mid_body(conn, server):
            ConnReader(conn, server).request()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npartial")
            time.sleep(0.2)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, __import__("struct").pack("ii", 1, 0))
            conn.close()  # RST
        with Upstream(reset_mid_body) as up, Proxy(upstream_rule(up.port)) as p:
            s = connect(p.port)
            s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
            raw = recv_until_close(s)
            self.assertIn(b"partial", raw)
            self.assertFalse(raw.endswith(b"0\r\n\r\n"), raw)

    def test_invalid_upstream_response_is_502_and_connection_discarded(self):
        responses = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 2\r\n\r\nok",
            b"NOT HTTP AT ALL\r\n\r\n",
        ]
        for raw in responses:
            def bad(conn, server, raw=raw):
                r = ConnReader(conn, server)
                while True:
                    r.request()
                    conn.sendall(raw)
            with Upstream(bad) as up, Proxy(upstream_rule(up.port)) as p:
                status, _, _ = request(p.port)
                self.assertEqual(status, 502, raw)
                request(p.port)
                self.assertEqual(up.connections, 2, "a connection that sent junk was reused")

    def test_pooled_connection_closed_by_upstream_is_not_used(self):
        # The upstream closes each connection after answering (keep-alive advertised). Each
        # request waits until that close has happened, so the pooled connection is known dead
        # when the next request comes: it must go on a new connection and succeed.
        closed = threading.Semaphore(0)

        def short_lived(conn, server):
            r = ConnReader(conn, server)
            method, target, headers, body = r.request()
            respond(conn, 200, method.encode())
            conn.shutdown(socket.SHUT_RDWR)
            closed.release()
        with Upstream(short_lived) as up, Proxy(upstream_rule(up.port)) as p:
            for i, method in enumerate(("GET", "POST", "GET", "POST")):
                status, _, body = request(p.port, method=method, body=b"x" if method == "POST" else b"")
                self.assertEqual((status, body), (200, method.encode()))
                self.assertTrue(closed.acquire(timeout=10))
                self.assertEqual(up.connections, i + 1)

    def _dies_on_second_request(self, method, body):
        """An upstream whose first connection answers one request, then reads the next one in
        full and closes without answering: the pooled connection dies under that request
        before any response byte. Returns (client status, requests the upstream received by
        method and target, retries counted)."""
        seen = []
        lock = threading.Lock()

        def handler(conn, server):
            r = ConnReader(conn, server)
            first = server.connections == 1
            while True:
                m, target, headers, b = r.request()
                with lock:
                    seen.append((m, target, b))
                if first and target == "/second":
                    return  # closes the connection: the request got no answer
                respond(conn, 200, b"served " + target.encode())
        with Upstream(handler) as up, Proxy(upstream_rule(up.port)) as p:
            with connect(p.port) as s:
                s.sendall(b"GET /first HTTP/1.1\r\nHost: app.test\r\n\r\n")
                status, _, _ = Reader(s).response()
                self.assertEqual(status, 200)
            head = f"{method} /second HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n"
            if body:
                head += f"Content-Length: {len(body)}\r\n"
            with connect(p.port) as s:
                s.sendall(head.encode() + b"\r\n" + body)
                status, _, rbody = Reader(s).response()
            retries = p.metrics()[0].get("sessiongate_upstream_retries_total")
        with lock:
            return status, rbody, [(m, t) for m, t, _ in seen], retries

    def test_get_on_a_dead_pooled_connection_is_retried_once_and_counted(self):
        status, body, seen, retries = self._dies_on_second_request("GET", b"")
        self.assertEqual((status, body), (200, b"served /second"))
        self.assertEqual(seen, [("GET", "/first"), ("GET", "/second"), ("GET", "/second")])
        self.assertEqual(retries, 1)

    def test_post_on_a_dead_pooled_connection_is_never_sent_twice(self):
        status, _, seen, retries = self._dies_on_second_request("POST", b"pay once")
        self.assertEqual(status, 502)
        self.assertEqual(seen, [("GET", "/first"), ("POST", "/second")])
        self.assertEqual(retries, 0)

    def test_get_with_a_body_on_a_dead_pooled_connection_is_never_sent_twice(self):
        # A body may have effects (and is gone once sent): a GET with one is not replayed.
        status, _, seen, retries = self._dies_on_second_request("GET", b"query body")
        self.assertEqual(status, 502)
        self.assertEqual(seen, [("GET", "/first"), ("GET", "/second")])
        self.assertEqual(retries, 0)

if __name__ == "__main__":
    unittest.main(verbosity=2)
