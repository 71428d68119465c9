"""Metrics after a scripted set of requests, access-log lines parsed back as JSON, health
endpoints, and log reopening on SIGUSR1."""
import json
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import (SESSION_RULES, Proxy, Reader, Upstream, connect, keepalive_server,  # noqa: E402
                     wait_until, ws_connect, ws_echo_handler, ws_frame, ws_read_frame)


def get(port, path, host, headers=None):
    return harness.get(port, path, host, dict({"User-Agent": "obs-test/1"}, **(headers or {})))


def metrics(p):
    return p.metrics()


class Observability(unittest.TestCase):
    def test_metrics_and_access_log_after_scripted_requests(self):
        with Upstream(keepalive_server(lambda m, t, h, b, c: (200, b"ok", None))) as up, \
                Upstream(ws_echo_handler) as wsup:
            d = __import__("tempfile").mkdtemp(prefix="sg-obs-")
            log_path = os.path.join(d, "access.log")
            p = Proxy(SESSION_RULES, extra=f"access_log: {{path: {log_path}}}", directory=d)
            try:
                p.register("c", up.port)
                p.register("w", wsup.port)
                p.session("t", "c")
                p.session("ws", "w")
                p.session("later", "nothing-yet")
                for _ in range(3):
                    self.assertEqual(get(p.port, "/a?secret=1", "t.preview.example.com")[0], 200)
                self.assertEqual(get(p.port, "/", "nobody.preview.example.com")[0], 404)
                self.assertEqual(get(p.port, "/", "later.preview.example.com")[0], 503)
                self.assertEqual(get(p.port, "/", "other.example.org")[0], 404)
                self.assertEqual(get(p.port, "/session/x/%2e%2e/", "edit.a.example.com")[0], 400)
                with connect(p.port) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n")
                    Reader(s).response()
                s, r, st, _, _ = ws_connect(p.port, host="ws.preview.example.com")
                self.assertEqual(st, 101)
                s.sendall(ws_frame(1, b"hi"))
                ws_read_frame(r)
                values, text = metrics(p)
                self.assertEqual(values['sessiongate_tunnels_active'], 1)
                s.close()
                routed = 'sessiongate_requests_total{outcome="routed"}'
                self.assertTrue(wait_until(lambda: metrics(p)[0].get(routed) == 4
                                           and metrics(p)[0]['sessiongate_tunnels_active'] == 0))
                values, text = metrics(p)
                req = lambda o: values[f'sessiongate_requests_total{{outcome="{o}"}}']
                self.assertEqual(req("routed"), 4)  # 3 requests + 1 tunnel
                self.assertEqual(req("unknown_session"), 1)
                self.assertEqual(req("starting"), 1)
                self.assertEqual(req("no_rule"), 1)
                self.assertEqual(req("bad_request"), 2)
                self.assertEqual(values['sessiongate_responses_total{class="2xx"}'], 3)
                self.assertEqual(values['sessiongate_responses_total{class="4xx"}'], 4)
                self.assertEqual(values['sessiongate_responses_total{class="5xx"}'], 1)
                self.assertEqual(values['sessiongate_request_duration_seconds_count'], 8)
                self.assertEqual(values['sessiongate_tunnels_total'], 1)
                self.assertEqual(values['sessiongate_tunnels_active'], 0)
                self.assertEqual(values['sessiongate_route_table_sessions'], 3)
                self.assertEqual(values['sessiongate_container_registrations_total'], 2)
                self.assertEqual(values['sessiongate_store_up'], 1)
                self.assertGreaterEqual(values['sessiongate_upstream_connect_seconds_count'], 2)
                self.assertIn("# TYPE sessiongate_requests_total counter", text)
                print("\nmetrics excerpt:\n" + "\n".join(l for l in text.splitlines()
                                                        if l.startswith("sessiongate_requests_total")))
            finally:
                self.assertEqual(p.stop(), 0)
            lines = [json.loads(l) for l in open(log_path)]
            self.assertEqual(len(lines), 9)
            routed = [l for l in lines if l["outcome"] == "routed" and not l["tunnel"]]
            self.assertEqual(len(routed), 3)
            first = routed[0]
            self.assertEqual((first["session"], first["container"], first["status"], first["method"],
                              first["path"], first["client"], first["user_agent"]),
                             ("t", "c", 200, "GET", "/a", "127.0.0.1", "obs-test/1"))
            self.assertNotIn("secret", json.dumps(first))  # the query string is never logged
            self.assertEqual(first["generation"], 1)
            self.assertIsNotNone(first["upstream_first_byte_ms"])
            self.assertRegex(first["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            tunnel = [l for l in lines if l["tunnel"]][0]
            self.assertEqual((tunnel["status"], tunnel["session"], tunnel["path"]), (101, "ws", "/ws"))
            self.assertGreater(tunnel["bytes_out"], 0)
            bad = [l for l in lines if l["outcome"] == "bad_request"]
            self.assertEqual({l["status"] for l in bad}, {400})

    def test_log_fields_and_reopen(self):
        with Upstream(keepalive_server(lambda m, t, h, b, c: (200, b"ok", None))) as up:
            d = __import__("tempfile").mkdtemp(prefix="sg-obs-")
            log_path = os.path.join(d, "access.log")
            p = Proxy(SESSION_RULES, extra=f"access_log: {{path: {log_path}, fields: [status, session]}}",
                      directory=d)
            p.register("c", up.port)
            p.session("t", "c")
            get(p.port, "/", "t.preview.example.com")
            lines = lambda path: open(path).read().count("\n") if os.path.exists(path) else 0
            self.assertTrue(wait_until(lambda: lines(log_path) == 1))  # written, then rotated
            os.rename(log_path, log_path + ".1")
            p.proc.send_signal(signal.SIGUSR1)
            self.assertTrue(wait_until(lambda: os.path.exists(log_path)))  # reopened
            get(p.port, "/", "t.preview.example.com")
            self.assertEqual(p.stop(), 0)
            self.assertEqual([json.loads(l) for l in open(log_path + ".1")], [{"status": 200, "session": "t"}])
            self.assertEqual([json.loads(l) for l in open(log_path)], [{"status": 200, "session": "t"}])

    def test_health_endpoints(self):
        with Proxy(SESSION_RULES) as p:
            self.assertEqual(p.admin("GET", "/healthz", token=""), (200, {"status": "ok"}))
            st, body = p.admin("GET", "/readyz", token="")
            self.assertEqual((st, body["status"], body["store"]), (200, "ready", "ok"))
            self.assertEqual(p.admin("GET", "/metrics", token="")[0], 401)


if __name__ == "__main__":
    unittest.main(verbosity=2)
