"""Signed preview links end to end: valid, expired, tampered, wrong session, revoked,
rotated key; header tokens; credentials never reach the container."""
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import SESSION_RULES, Proxy, Upstream, keepalive_server  # noqa: E402

K1 = "k1-secret-0123456789abcdefghijklmnopqrstuvwxyz"
K2 = "k2-secret-zyxwvutsrqponmlkjihgfedcba9876543210"


def security(keys, default="link"):
    ks = ", ".join(f"{{id: {i}, secret: {s}, sign: {str(sign).lower()}}}" for i, s, sign in keys)
    return (f'security: {{upstream_allow_cidrs: ["127.0.0.0/8"], access_default: {default}, '
            f'trusted_proxies: ["127.0.0.0/8"], link_keys: [{ks}]}}')


def echo_app(method, target, headers, body, conn):
    return 200, ("\n".join(f"{k}: {v}" for k, v in headers) + f"\ntarget: {target}").encode(), None


def get(port, path, host, headers=None):
    return harness.get(port, path, host, dict({"Accept": "application/json"}, **(headers or {})))


class PreviewLinks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.up = Upstream(keepalive_server(echo_app))
        cls.dir = tempfile.mkdtemp(prefix="sg-links-")
        cls.p = Proxy(SESSION_RULES, extra=security([("k1", K1, True)]), directory=cls.dir)
        cls.p.register("c", cls.up.port)
        cls.p.session("priv", "c")
        cls.p.session("other", "c")
        cls.p.session("open", "c", access="public")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.up.close()

    def link(self, sid, ttl="1h"):
        st, body = self.p.admin("POST", f"/v1/sessions/{sid}/links", {"ttl": ttl})
        self.assertEqual(st, 201, body)
        return body["token"]

    def visit(self, sid, token, path="/page?x=1"):
        sep = "&" if "?" in path else "?"
        return get(self.p.port, f"{path}{sep}sg_token={token}", f"{sid}.preview.example.com",
                   {"X-Forwarded-Proto": "https"})

    def test_link_flow_and_stripping(self):
        host = "priv.preview.example.com"
        self.assertEqual(get(self.p.port, "/", host)[0], 403)
        token = self.link("priv")
        status, headers, _ = self.visit("priv", token)
        self.assertEqual(status, 302)
        self.assertEqual(headers["location"], "/page?x=1")  # the clean URL
        cookie = headers["set-cookie"]
        self.assertTrue(cookie.startswith(f"sg_access_priv={token}; Path=/; HttpOnly; SameSite=Lax"), cookie)
        self.assertIn("; Secure", cookie)  # X-Forwarded-Proto: https from a trusted proxy
        status, _, body = get(self.p.port, "/page?x=1", host, {"Cookie": f"theme=dark; sg_access_priv={token}"})
        self.assertEqual(status, 200)
        self.assertIn(b"cookie: theme=dark", body)
        self.assertNotIn(token.encode(), body)
        self.assertNotIn(b"sg_access", body)
        # header tokens for programs, stripped too
        for h in ({"X-Sessiongate-Token": token}, {"Authorization": f"Bearer {token}"}):
            status, _, body = get(self.p.port, "/api", host, h)
            self.assertEqual(status, 200, h)
            self.assertNotIn(token.encode(), body)
        # public sessions need nothing
        self.assertEqual(get(self.p.port, "/", "open.preview.example.com")[0], 200)

    def test_rejections(self):
        host = "priv.preview.example.com"
        token = self.link("priv")
        cases = {}
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        cases["tampered"] = self.visit("priv", tampered)
        cases["wrong_session"] = self.visit("other", token)
        cases["garbage"] = self.visit("priv", "not-a-token")
        short = self.link("priv", ttl="1s")
        time.sleep(2.1)
        cases["expired"] = self.visit("priv", short)
        for name, (status, headers, body) in cases.items():
            self.assertEqual(status, 403, name)
            self.assertIn(b'"error":"forbidden"', body, name)
        self.assertIn(b"bad_signature", cases["tampered"][2])
        self.assertIn(b"wrong_session", cases["wrong_session"][2])
        self.assertIn(b"expired", cases["expired"][2])
        self.assertEqual(get(self.p.port, "/", host, {"Cookie": f"sg_access_priv={tampered}"})[0], 403)

    def test_revocation_is_immediate(self):
        host = "other.preview.example.com"
        token = self.link("other")
        self.assertEqual(get(self.p.port, "/", host, {"X-Sessiongate-Token": token})[0], 200)
        st, body = self.p.admin("POST", "/v1/sessions/other/revoke-links")
        self.assertEqual(st, 200)
        status, _, body = get(self.p.port, "/", host, {"X-Sessiongate-Token": token})
        self.assertEqual(status, 403)
        self.assertIn(b"revoked", body)
        self.assertEqual(get(self.p.port, "/", host, {"X-Sessiongate-Token": self.link("other")})[0], 200)
        # re-pointing the session keeps the epoch: revoked links stay revoked
        self.p.session("other", "c")
        self.assertEqual(get(self.p.port, "/", host, {"X-Sessiongate-Token": token})[0], 403)


class KeyRotation(unittest.TestCase):
    def test_rotation(self):
        with Upstream(keepalive_server(echo_app)) as up:
            d = tempfile.mkdtemp(prefix="sg-rot-")
            p = Proxy(SESSION_RULES, extra=security([("k1", K1, True)]), directory=d)
            p.register("c", up.port)
            p.session("t", "c")
            old = p.admin("POST", "/v1/sessions/t/links")[1]["token"]
            p.stop()
            # k2 signs now, k1 still verifies: old links keep working
            p = Proxy(SESSION_RULES, extra=security([("k2", K2, True), ("k1", K1, False)]), directory=d)
            new = p.admin("POST", "/v1/sessions/t/links")[1]["token"]
            self.assertIn(".k2.", new)
            for tok in (old, new):
                self.assertEqual(get(p.port, "/", "t.preview.example.com", {"X-Sessiongate-Token": tok})[0], 200)
            p.stop()
            # k1 retired: its links stop working, k2's keep working
            p = Proxy(SESSION_RULES, extra=security([("k2", K2, True)]), directory=d)
            status, _, body = get(p.port, "/", "t.preview.example.com", {"X-Sessiongate-Token": old})
            self.assertEqual(status, 403)
            self.assertIn(b"unknown_key", body)
            self.assertEqual(get(p.port, "/", "t.preview.example.com", {"X-Sessiongate-Token": new})[0], 200)
            p.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
