"""Request ids and trace context: every routed request gets an X-Request-Id that the upstream
receives, the client gets back and the access log shows (a trusted proxy's own id is kept, a
client's is not); a valid traceparent passes through and its trace id is logged, an invalid one
is dropped with its tracestate; the access log names the upstream address and the Referer's
path, and every value that does not apply is null."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SESSION_RULES, Proxy, Upstream, connect, get, keepalive_server, wait_until  # noqa: E402

LB, STRANGER = "127.0.0.2", "127.0.0.3"
HOST = "t.preview.example.com"
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def echo(method, target, headers, body, conn):
    seen = {k: v for k, v in headers if k in ("x-request-id", "traceparent", "tracestate")}
    seen["all_ids"] = [v for k, v in headers if k == "x-request-id"]
    # The upstream sets its own id too: the client must see only the router's.
    return 200, json.dumps(seen).encode(), {"X-Request-Id": "from-the-upstream"}


class RequestIds(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream(keepalive_server(echo))
        cls.dir = tempfile.mkdtemp(prefix="sg-ids-")
        cls.log = os.path.join(cls.dir, "access.log")
        cls.p = Proxy(SESSION_RULES, directory=cls.dir, extra=(
            f'security: {{upstream_allow_cidrs: ["127.0.0.0/8"], trusted_proxies: ["{LB}/32"]}}\n'
            f"access_log: {{path: {cls.log}}}\n"))
        cls.p.register("c", cls.up.port)
        cls.p.session("t", "c")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.up.close()

    def ask(self, headers=None, source=STRANGER, host=HOST, path="/"):
        status, rh, body = get(self.p.port, path, host, headers or {}, source=source)
        return status, rh, body

    def logged(self, request_id):
        def find():
            for line in open(self.log):
                doc = json.loads(line)
                if doc["request_id"] == request_id:
                    return doc
            return None
        self.assertTrue(wait_until(lambda: find() is not None), request_id)
        return find()

    def test_one_id_for_upstream_client_and_log(self):
        status, headers, body = self.ask({"X-Request-Id": "client-made-up", "Referer":
                                          "https://app.example.com/page/one?token=secret#x"})
        seen = json.loads(body)
        rid = headers["x-request-id"]
        self.assertRegex(rid, r"^[0-9a-f]{16}$", "an untrusted client's id is replaced")
        self.assertEqual(seen["all_ids"], [rid], "the upstream gets exactly the router's id")
        line = self.logged(rid)
        self.assertEqual((line["upstream"], line["referer"]), (f"127.0.0.1:{self.up.port}", "/page/one"))
        self.assertNotIn("secret", json.dumps(line))
        with connect(self.p.port, source=STRANGER) as sock:  # the upstream's own id is not relayed
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        head = raw.split(b"\r\n\r\n")[0].lower()
        self.assertEqual(head.count(b"x-request-id:"), 1, head)
        self.assertNotIn(b"from-the-upstream", head)
        ids = {self.ask()[1]["x-request-id"] for _ in range(50)}
        self.assertEqual(len(ids), 50, "ids do not repeat")

    def test_a_trusted_proxys_id_is_kept_and_an_invalid_one_replaced(self):
        status, headers, body = self.ask({"X-Request-Id": "lb-req-7:abc"}, source=LB)
        self.assertEqual((headers["x-request-id"], json.loads(body)["all_ids"]), ("lb-req-7:abc", ["lb-req-7:abc"]))
        status, headers, body = self.ask({"X-Request-Id": "has space"}, source=LB)
        self.assertRegex(headers["x-request-id"], r"^[0-9a-f]{16}$")

    def test_traceparent_passes_when_valid_and_is_dropped_when_not(self):
        status, headers, body = self.ask({"traceparent": TRACE, "tracestate": "v=1"})
        seen = json.loads(body)
        self.assertEqual((seen.get("traceparent"), seen.get("tracestate")), (TRACE, "v=1"))
        self.assertEqual(self.logged(headers["x-request-id"])["trace_id"], TRACE[3:35])
        for bad in ("00-" + "0" * 32 + "-00f067aa0ba902b7-01", TRACE.upper(), TRACE[:-1], "garbage",
                    "ff" + TRACE[2:], TRACE + "-extra"):
            status, headers, body = self.ask({"traceparent": bad, "tracestate": "v=1"})
            seen = json.loads(body)
            self.assertNotIn("traceparent", seen, bad)
            self.assertNotIn("tracestate", seen, bad)
            self.assertIsNone(self.logged(headers["x-request-id"])["trace_id"])

    def test_local_answers_carry_the_id_and_empty_values_are_null(self):
        status, headers, body = self.ask(host="nobody.preview.example.com",
                                         headers={"Accept": "application/json"})
        self.assertEqual(status, 404)
        rid = headers["x-request-id"]
        self.assertEqual(json.loads(body)["request_id"], rid)
        line = self.logged(rid)
        self.assertEqual((line["session"], line["container"], line["generation"], line["upstream"],
                          line["referer"], line["trace_id"]), (None, None, None, None, None, None))
        status, headers, _ = self.ask(host="other.example.org")
        line = self.logged(headers["x-request-id"])
        self.assertEqual((status, line["rule"], line["outcome"]), (404, None, "no_rule"))
        self.assertNotIn('""', open(self.log).read(), "no empty strings: null means none")


if __name__ == "__main__":
    unittest.main()
