"""The real client behind trusted proxies: what the upstream sees in X-Forwarded-For, -Proto,
-Host and Forwarded, and which address per-client limits count, for a trusted and an untrusted
peer with forwarding headers absent, genuine and spoofed. Clients come from two loopback
addresses: 127.0.0.2 is the trusted load balancer, 127.0.0.1 anyone else."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import SESSION_RULES, Proxy, ProxyTest, Upstream, get, keepalive_server, wait_until  # noqa: E402

LB = "127.0.0.2"
STRANGER = "127.0.0.1"
HOST = "t.preview.example.com"
FORWARDING = ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded")


def echo_forwarding(method, target, headers, body, conn):
    seen = {k: v for k, v in headers if k in FORWARDING}
    return 200, json.dumps(seen).encode(), None


class BehindTheLB(ProxyTest, unittest.TestCase):
    """A proxy trusting LB, one session `t` on an upstream that echoes forwarding fields."""
    extra = ""

    @classmethod
    def setUpClass(cls):
        cls.up = Upstream(keepalive_server(echo_forwarding))
        cls.dir = tempfile.mkdtemp(prefix="sg-trusted-")
        cls.log_path = os.path.join(cls.dir, "access.log")
        cls.p = Proxy(SESSION_RULES, directory=cls.dir, extra=(
            f'security: {{upstream_allow_cidrs: ["127.0.0.0/8"], trusted_proxies: ["{LB}/32"]}}\n'
            + cls.extra.replace("ACCESS_LOG", cls.log_path)))
        cls.serve_session()


class TrustedProxies(BehindTheLB):
    extra = "access_log: {path: ACCESS_LOG}"

    def seen(self, source, headers):
        status, _, body = get(self.p.port, "/", HOST, headers, source=source)
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def test_the_table(self):
        genuine = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
                   "X-Forwarded-Host": "app.example.com",
                   "Forwarded": "for=203.0.113.9;proto=https"}
        spoofed = {"X-Forwarded-For": "1.2.3.4, 203.0.113.9", "X-Forwarded-Proto": "https",
                   "X-Forwarded-Host": "evil.example", "Forwarded": "for=1.2.3.4"}
        ours_from = lambda peer: {  # noqa: E731 — what the proxy writes itself
            "x-forwarded-for": peer, "x-forwarded-proto": "http", "x-forwarded-host": HOST,
            "forwarded": f'for={peer};proto=http;host="{HOST}"'}
        cases = [
            # (peer, incoming, what the upstream must see)
            (STRANGER, {}, ours_from(STRANGER)),
            (STRANGER, genuine, ours_from(STRANGER)),
            (STRANGER, spoofed, ours_from(STRANGER)),
            (LB, {}, ours_from(LB)),
            (LB, genuine, {
                "x-forwarded-for": f"203.0.113.9, {LB}", "x-forwarded-proto": "https",
                "x-forwarded-host": "app.example.com",
                "forwarded": f'for=203.0.113.9;proto=https, for={LB};proto=http;host="{HOST}"'}),
            (LB, spoofed, {
                "x-forwarded-for": f"1.2.3.4, 203.0.113.9, {LB}", "x-forwarded-proto": "https",
                "x-forwarded-host": "evil.example",
                "forwarded": f'for=1.2.3.4, for={LB};proto=http;host="{HOST}"'}),
        ]
        for peer, incoming, expected in cases:
            with self.subTest(peer=peer, incoming=incoming):
                self.assertEqual(self.seen(peer, incoming), expected)

    def test_the_access_log_names_the_client_behind_the_lb(self):
        self.seen(LB, {"X-Forwarded-For": "1.2.3.4, 198.51.100.77"})
        self.seen(STRANGER, {"X-Forwarded-For": "198.51.100.78"})

        def logged():
            with open(self.log_path) as f:
                return f.read()
        self.assertTrue(wait_until(lambda: "198.51.100.77" in logged()), logged())
        log = logged()
        self.assertNotIn("1.2.3.4", log)
        self.assertNotIn("198.51.100.78", log)  # a stranger's claim is not its address



class RateLimitsBehindTrustedProxies(BehindTheLB):
    """With `per_client_rate: 5`, eight clients behind one LB used to share one bucket."""
    extra = "limits: {per_client_rate: 5, per_client_burst: 5}"

    def statuses(self, source, xffs):
        return [get(self.p.port, "/", HOST, {"X-Forwarded-For": x} if x else {},
                    source=source)[0] for x in xffs]

    def test_rate_limits_count_the_client_not_the_lb(self):
        # Eight different clients behind the LB: eight buckets.
        self.assertEqual(self.statuses(LB, [f"198.51.100.{i}" for i in range(10, 18)]), [200] * 8)
        # One client behind the LB, eight requests: its own bucket runs dry.
        self.assertEqual(self.statuses(LB, ["198.51.100.30"] * 8)[:5], [200] * 5)
        self.assertIn(429, self.statuses(LB, ["198.51.100.30"] * 3))
        # A stranger cannot buy new buckets by inventing addresses.
        got = self.statuses(STRANGER, [f"198.51.100.{i}" for i in range(40, 48)])
        self.assertIn(429, got)


if __name__ == "__main__":
    unittest.main()
