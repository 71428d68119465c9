"""Malformed requests: each gets the right status, the connection closes, and not one byte
reaches the upstream."""
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, __import__("os").path.dirname(__file__))
from harness import (ConnReader, Proxy, Reader, Upstream, connect, keepalive_server,  # noqa: E402
                     recv_until_close, respond, upstream_rule)

H = "Host: app.test\r\n"

# (name, raw request, expected status)
CASES = [
    # request smuggling classics
    ("cl_and_te", "POST / HTTP/1.1\r\n" + H + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_and_cl", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400),
    ("cl_cl_different", "POST / HTTP/1.1\r\n" + H + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    ("cl_comma_list", "POST / HTTP/1.1\r\n" + H + "Content-Length: 3, 4\r\n\r\nabcd", 400),
    ("cl_negative", "POST / HTTP/1.1\r\n" + H + "Content-Length: -1\r\n\r\n", 400),
    ("cl_plus", "POST / HTTP/1.1\r\n" + H + "Content-Length: +4\r\n\r\nabcd", 400),
    ("cl_hex", "POST / HTTP/1.1\r\n" + H + "Content-Length: 0x4\r\n\r\nabcd", 400),
    ("cl_space_inside", "POST / HTTP/1.1\r\n" + H + "Content-Length: 1 0\r\n\r\n", 400),
    ("cl_overflow", "POST / HTTP/1.1\r\n" + H + "Content-Length: 18446744073709551617\r\n\r\n", 400),
    ("te_xchunked", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
    ("te_chunked_x", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n", 400),
    ("te_quoted", "POST / HTTP/1.1\r\n" + H + 'Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n', 400),
    ("te_vertical_tab", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n", 400),
    ("te_tab_in_value", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chun\tked\r\n\r\n0\r\n\r\n", 400),
    ("te_tab_before_colon", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_space_before_colon", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_comma_empty", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n", 400),
    ("te_chunked_twice", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_two_headers", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400),
    ("te_not_final", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
    ("te_gzip_then_chunked", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    ("te_in_http10", "POST / HTTP/1.0\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_obs_fold", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
    # chunk framing
    ("chunk_size_not_hex", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_size_0x", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_size_negative", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_size_overflow", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_bare_lf_size", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400),
    ("chunk_bare_lf_data", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", 400),
    ("chunk_data_too_long", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n", 400),
    ("chunk_ext_too_long", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5;" + "e" * 2000 + "\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_last_bare_lf", "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n0\r\n\n", 400),
    # header syntax
    ("space_in_name", "GET / HTTP/1.1\r\n" + H + "Bad Name: x\r\n\r\n", 400),
    ("underscore_in_name", "GET / HTTP/1.1\r\n" + H + "X_Forwarded_For: 1.2.3.4\r\n\r\n", 400),
    ("empty_name", "GET / HTTP/1.1\r\n" + H + ": x\r\n\r\n", 400),
    ("nul_in_value", "GET / HTTP/1.1\r\n" + H + "X-A: a\x00b\r\n\r\n", 400),
    ("bare_cr_in_value", "GET / HTTP/1.1\r\n" + H + "X-A: a\rb\r\n\r\n", 400),
    ("bare_lf_header_end", "GET / HTTP/1.1\r\n" + H + "X-A: a\n\r\n", 400),
    ("bare_lf_request_line", "GET / HTTP/1.1\n" + H + "\r\n", 400),
    ("obs_fold", "GET / HTTP/1.1\r\n" + H + "X-A: a\r\n b\r\n\r\n", 400),
    ("del_in_value", "GET / HTTP/1.1\r\n" + H + "X-A: a\x7fb\r\n\r\n", 400),
    # Host
    ("missing_host", "GET / HTTP/1.1\r\n\r\n", 400),
    ("duplicate_host", "GET / HTTP/1.1\r\n" + H + "Host: other.test\r\n\r\n", 400),
    ("host_with_space", "GET / HTTP/1.1\r\nHost: app test\r\n\r\n", 400),
    ("host_with_userinfo", "GET / HTTP/1.1\r\nHost: user@app.test\r\n\r\n", 400),
    ("host_empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
    ("host_bad_port", "GET / HTTP/1.1\r\nHost: app.test:80a\r\n\r\n", 400),
    # request line and version
    ("http09", "GET /\r\n\r\n", 400),
    ("http2_version", "GET / HTTP/2.0\r\n" + H + "\r\n", 505),
    ("http3_version", "GET / HTTP/3\r\n" + H + "\r\n", 400),
    ("lowercase_http", "GET / http/1.1\r\n" + H + "\r\n", 400),
    ("version_junk", "GET / HTTP/1.1x\r\n" + H + "\r\n", 400),
    ("double_space", "GET  / HTTP/1.1\r\n" + H + "\r\n", 400),
    ("tab_separator", "GET\t/ HTTP/1.1\r\n" + H + "\r\n", 400),
    ("method_with_paren", "GE(T / HTTP/1.1\r\n" + H + "\r\n", 400),
    ("target_not_origin", "GET app HTTP/1.1\r\n" + H + "\r\n", 400),
    ("target_with_fragment", "GET /a#b HTTP/1.1\r\n" + H + "\r\n", 400),
    ("target_control_char", "GET /a\x01b HTTP/1.1\r\n" + H + "\r\n", 400),
    ("connect_method", "CONNECT app.test:443 HTTP/1.1\r\n" + H + "\r\n", 501),
    ("tls_client_hello", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400),
    ("expect_unknown", "GET / HTTP/1.1\r\n" + H + "Expect: 200-ok\r\n\r\n", 417),
    ("connection_quoted", "GET / HTTP/1.1\r\n" + H + 'Connection: "close"\r\n\r\n', 400),
    # limits
    ("request_line_too_long", "GET /" + "a" * 9000 + " HTTP/1.1\r\n" + H + "\r\n", 414),
    ("header_block_too_large", "GET / HTTP/1.1\r\n" + H + "".join(f"X-{i}: {'v' * 1000}\r\n" for i in range(40)) + "\r\n", 431),
    ("too_many_fields", "GET / HTTP/1.1\r\n" + H + "".join(f"X-{i}: v\r\n" for i in range(120)) + "\r\n", 431),
]


class MalformedRequests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream(keepalive_server(lambda m, t, h, b, c: (200, b"fine", None)))
        cls.proxy = Proxy(upstream_rule(cls.upstream.port), extra="timeouts: {request_head: 3s}")

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.upstream.close()

    def send(self, raw):
        s = connect(self.proxy.port, timeout=5)
        try:
            s.sendall(raw)
        except OSError:
            pass
        data = b""
        closed = False
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                closed = isinstance(sys.exc_info()[1], ConnectionResetError)
                break
            if not chunk:
                closed = True
                break
            data += chunk
        s.close()
        return data, closed

    def test_table(self):
        self.assertGreaterEqual(len(CASES), 40)
        results = []
        for name, raw, status in CASES:
            with self.subTest(name=name):
                before = self.upstream.nbytes
                data, closed = self.send(raw.encode("latin-1"))
                got = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None
                forwarded = self.upstream.nbytes - before
                results.append((name, status, got, closed, forwarded))
                self.assertEqual(got, status, f"{name}: {data[:200]!r}")
                self.assertTrue(closed, f"{name}: connection left open")
                self.assertEqual(forwarded, 0, f"{name}: bytes reached the upstream")
        ok = sum(1 for n, s, g, c, f in results if s == g and c and f == 0)
        print(f"\nmalformed-request table: {ok}/{len(results)} rejected with the expected status, "
              f"closed, 0 bytes forwarded")
        for n, s, g, c, f in results:
            print(f"  {n:26s} expect {s} got {g} closed={c} forwarded={f}")

    def test_pipelined_garbage_after_valid_request(self):
        before = len(self.upstream.received)
        s = connect(self.proxy.port)
        s.sendall(b"GET /first HTTP/1.1\r\nHost: app.test\r\n\r\nGARBAGE\x00\x01 / HTTP/1.1\r\n\r\n")
        r = Reader(s)
        status, _, body = r.response()
        self.assertEqual((status, body), (200, b"fine"))
        status, headers, _ = r.response()
        self.assertEqual(status, 400)
        self.assertEqual(headers.get("connection"), "close")
        self.assertEqual(s.recv(10), b"")
        forwarded = bytes(self.upstream.received[before:])
        self.assertEqual(forwarded.count(b"HTTP/1.1\r\n"), 1)
        self.assertNotIn(b"GARBAGE", forwarded)
        s.close()

    def test_bad_chunk_after_valid_chunks_never_completes_upstream(self):
        # Request smuggling guard: the first chunks are forwarded before the bad one arrives.
        # The upstream must then see its connection end mid-body, never a terminated body
        # (which would turn whatever follows into a request of its own).
        events = []
        got_abc = threading.Event()
        ended = threading.Event()

        def handler(conn, server):
            r = ConnReader(conn, server)
            r.line()  # request line
            while r.line():
                pass
            try:
                while True:
                    size = int(r.line(), 16)
                    if size == 0:
                        r.line()
                        events.append("complete")
                        respond(conn, 200, b"completed")
                        return
                    data = r.exactly(size)
                    r.exactly(2)
                    events.append(data)
                    got_abc.set()
            except (EOFError, OSError):
                events.append("aborted")
            finally:
                ended.set()
        with Upstream(handler) as up, Proxy(upstream_rule(up.port)) as p:
            s = connect(p.port)
            s.sendall(b"POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"3\r\nabc\r\n")
            self.assertTrue(got_abc.wait(10), "the first chunk was not forwarded")
            s.sendall(b"XYZ\r\n0\r\n\r\n")
            data = recv_until_close(s)
            s.close()
            self.assertTrue(ended.wait(10), "the upstream connection was left open")
            self.assertEqual(events, [b"abc", "aborted"])
            self.assertTrue(data.startswith(b"HTTP/1.1 400"), data)

    def test_error_pages_html_and_json(self):
        s = connect(self.proxy.port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a b\r\nAccept: text/html\r\n\r\n")
        status, headers, body = Reader(s).response()
        self.assertEqual(status, 400)
        self.assertIn("text/html", headers["content-type"])
        self.assertIn(b"<h1>Bad request</h1>", body)
        s = connect(self.proxy.port)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a b\r\nAccept: application/json\r\n\r\n")
        status, headers, body = Reader(s).response()
        self.assertEqual(headers["content-type"], "application/json")
        self.assertIn(b'"error":"bad_request"', body)
        self.assertIn(b'"detail":"invalid Host header"', body)


if __name__ == "__main__":
    unittest.main(verbosity=1)
