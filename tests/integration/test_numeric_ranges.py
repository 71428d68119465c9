"""Every number of the configuration, the admin API and the CLI is range-checked: boundaries
pass, one past them, negatives, fractions, overflow and unknown units are refused with a message
naming the field and the allowed range (regression: "213503982335d" wrapped to 9.6 h)."""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SESSION_RULES, Proxy  # noqa: E402

HUGE = "99999999999999999999"
BAD_NUMBERS = ["-1", "1.5", HUGE, "12abc", "0x10"]
# (section, key, minimum, maximum) of every size/count of the configuration.
SIZES = [
    ("limits", "request_line", 256, 1 << 20), ("limits", "header_bytes", 1024, 1 << 20),
    ("limits", "header_fields", 4, 10000), ("limits", "body_bytes", 0, 1 << 50),
    ("limits", "chunk_extension_bytes", 0, 1 << 16), ("limits", "max_connections", 1, 1 << 22),
    ("limits", "upstream_idle_per_host", 0, 1 << 16), ("limits", "buffer_bytes", 1024, 1 << 24),
    ("limits", "per_client_connections", 0, 1 << 22), ("limits", "per_client_rate", 0, 1 << 22),
    ("limits", "per_client_burst", 0, 1 << 22),
    ("store", "concurrency", 1, 64), ("store", "queue_limit", 0, 100000),
]
# (section, key, maximum) of every duration; the minimum is 1ms.
DURATIONS = [
    ("timeouts", k, "8760h") for k in ("request_head", "proxy_header", "tls_handshake",
                                         "keepalive_idle", "upstream_connect", "upstream_head",
                                         "body_idle", "tunnel_idle", "upstream_keepalive_idle",
                                         "shutdown_drain")
] + [("sessions", k, "8760h") for k in ("activity_interval", "sweep_interval", "default_lease")]
REDIS_DURATIONS = [("connect_timeout", "1m"), ("command_timeout", "1m"), ("check_interval", "1h")]


def check(text):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("listeners:\n  - {address: 127.0.0.1:18080}\n" + text +
                "\nrules:\n  - {name: r, priority: 1, match: {host: a.test}, action: {type: fixed, status: 200}}\n")
    try:
        p = subprocess.run([BIN, "config", "check", f.name], capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr
    finally:
        os.unlink(f.name)


class ConfigRanges(unittest.TestCase):
    def test_every_size_and_count(self):
        for section, key, lo, hi in SIZES:
            pre = "store: {type: redis, " if section == "store" else section + ": {"
            for ok in (lo, hi):
                rc, out = check(f"{pre}{key}: {ok}}}")
                self.assertEqual(rc, 0, f"{section}.{key}: {ok}: {out}")
            for bad in [str(hi + 1)] + ([str(lo - 1)] if lo > 0 else []) + BAD_NUMBERS:
                rc, out = check(f"{pre}{key}: \"{bad}\"}}")
                self.assertNotEqual(rc, 0, f"{section}.{key}: {bad} accepted")
                self.assertIn(f"{section}.{key}: invalid value '{bad}' (expected {lo}..{hi})", out)

    def test_every_duration(self):
        table = [(s, k, mx, s + ": {") for s, k, mx in DURATIONS]
        table += [("store", k, mx, "store: {type: redis, ") for k, mx in REDIS_DURATIONS]
        for section, key, mx, pre in table:
            for ok in ("1ms", mx):
                rc, out = check(f"{pre}{key}: {ok}}}")
                self.assertEqual(rc, 0, f"{section}.{key}: {ok}: {out}")
            over = str(int(mx[:-1]) + 1) + mx[-1]
            for bad in (over, "0s", "-1s", "1.5ms", "10", "5w", "999999999999h", HUGE + "ms"):
                rc, out = check(f"{pre}{key}: \"{bad}\"}}")
                self.assertNotEqual(rc, 0, f"{section}.{key}: {bad} accepted")
                self.assertIn(f"{section}.{key}: invalid duration '{bad}': ", out)
                self.assertIn(f"(expected 1ms..{canonical(mx)}:", out)


def canonical(duration):
    """The router's own text for a duration: its largest exact unit."""
    units = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
    n = int(duration.rstrip("msdh"))
    ms = n * units[duration[len(str(n)):]]
    for name in ("d", "h", "m", "s"):
        if ms and ms % units[name] == 0:
            return f"{ms // units[name]}{name}"
    return f"{ms}ms"


class ApiRanges(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Proxy(SESSION_RULES, extra="security: {link_keys: [{id: k1, secret: "
                      "k1-secret-0123456789abcdefghijklmnopqrstuvwxyz, sign: true}], "
                      "upstream_allow_cidrs: [127.0.0.0/8]}\n")
        cls.p.register("c1", 9)
        cls.p.session("s1", "c1")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def refused(self, method, path, body, field):
        st, out = self.p.admin(method, path, body)
        self.assertEqual(st, 400, (path, body, out))
        self.assertEqual(out.get("field"), field, out)
        return out["message"]

    def test_every_duration_field(self):
        # (path, field, other fields, accepted, refused, the range the message names)
        table = [
            ("/v1/sessions/s2", "idle_ttl", {"container_id": "c1"}, [0, "1s", "1.5s", "3650d", 1000],
             ["999ms", "3651d", "213503982335d", "999999999999h", "-1s", "1.5ms", "5x", -5, 1.5],
             "0 (never) or a duration from 1s to 3650d"),
            ("/v1/sessions/s2", "expires_in", {"container_id": "c1"}, ["1s", "1.5s", "3650d"],
             ["0", "999ms", "3651d", "213503982335d", "-1s", "1.5ms", -1], "from 1s to 3650d"),
            ("/v1/containers/c9", "lease_ttl", {"address": "127.0.0.1:9"}, ["1s", "24h"],
             ["999ms", "25h", "213503982335d", "-1s", 0, 1.5], "from 1s to 24h"),
            ("/v1/sessions/s1/links", "ttl", {}, ["1s", "30d"],
             ["999ms", "31d", "213503982335d", "-1s", 1.5], "from 1s to 30d"),
        ]
        for path, field, base, good, bad, words in table:
            method = "POST" if path.endswith("links") else "PUT"
            for v in good:
                st, out = self.p.admin(method, path, dict(base, **{field: v}))
                self.assertIn(st, (200, 201), (path, field, v, out))
            for v in bad:
                msg = self.refused(method, path, dict(base, **{field: v}), field)
                self.assertIn(words, msg, (field, v))

    def test_expires_at_and_list_limit(self):
        for v in (-1, 1.5, "soon", 2 ** 70):
            self.refused("PUT", "/v1/sessions/s3", {"container_id": "c1", "expires_at": v}, "expires_at")
        for v in ("0", "1001", "-1", "1.5", HUGE):
            st, out = self.p.admin("GET", f"/v1/sessions?limit={v}")
            self.assertEqual((st, out.get("field")), (400, "limit"), (v, out))
            self.assertIn("1 to 1000", out["message"])
        self.assertEqual(self.p.admin("GET", "/v1/sessions?limit=1000")[0], 200)

    def test_cli_numbers_are_checked_with_the_same_ranges(self):
        env = dict(os.environ, SESSIONGATE_TOKEN=Proxy.TOKEN)
        admin = f"http://127.0.0.1:{self.p.admin_port}"
        for args, words in (
                (["session", "create", "s4", "--container", "c1", "--idle-ttl", "213503982335d"],
                 "idle_ttl"),
                (["session", "create", "s4", "--container", "c1", "--expires-in", "-1s"],
                 "expires_in"),
                (["container", "register", "c4", "--address", "127.0.0.1:9", "--lease", "25h"],
                 "lease_ttl"),
                (["session", "list", "--limit", "1001"], "limit"),
                (["session", "list", "--limit", HUGE], "limit")):
            p = subprocess.run([BIN, *args, "--admin", admin], capture_output=True, text=True, env=env)
            self.assertNotEqual(p.returncode, 0, (args, p.stdout))
            self.assertIn(words, p.stdout + p.stderr, args)


if __name__ == "__main__":
    unittest.main(verbosity=2)
