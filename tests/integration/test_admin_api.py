"""The admin API and the CLI against the real binary: auth, validation with field-level
messages, every endpoint, and the admin API never reachable through the proxy listener."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SESSION_RULES, Proxy, Reader, connect  # noqa: E402


class AdminApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Proxy(SESSION_RULES, extra='security: {upstream_allow_cidrs: ["127.0.0.0/8", "10.0.0.0/8"]}')

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def test_auth(self):
        self.assertEqual(self.p.admin("GET", "/v1/containers", token="")[0], 401)
        self.assertEqual(self.p.admin("GET", "/v1/containers", token="wrong")[0], 401)
        self.assertEqual(self.p.admin("GET", "/v1/containers", token=Proxy.TOKEN + "x")[0], 401)
        self.assertEqual(self.p.admin("GET", "/v1/containers")[0], 200)
        # health endpoints are for load balancers: no token needed
        self.assertEqual(self.p.admin("GET", "/healthz", token="")[0], 200)
        self.assertEqual(self.p.admin("GET", "/readyz", token="")[0], 200)

    def test_container_validation(self):
        cases = [
            ("bad.id", {"address": "10.0.0.1:80"}, "id"),
            ("c", {}, "address"),
            ("c", {"address": "localhost:80"}, "address"),
            ("c", {"address": "10.0.0.1"}, "address"),
            ("c", {"address": "10.0.0.1:0"}, "address"),
            ("c", {"address": "10.0.0.1:99999"}, "address"),
            ("c", {"address": "192.168.1.5:80"}, "address"),   # outside the allow-list
            ("c", {"address": "[::ffff:192.168.1.5]:80"}, "address"),
            ("c", {"address": "10.0.0.1:80", "status": "running"}, "status"),
            ("c", {"address": "10.0.0.1:80", "lease_ttl": "forever"}, "lease_ttl"),
            ("c", {"address": "10.0.0.1:80", "lease_ttl": "100ms"}, "lease_ttl"),
            ("c", {"address": "10.0.0.1:80", "colour": "blue"}, "colour"),
        ]
        for cid, body, field in cases:
            st, res = self.p.admin("PUT", f"/v1/containers/{cid}", body)
            self.assertEqual(st, 400, (body, res))
            self.assertEqual(res["field"], field, res)
            self.assertTrue(res["message"], res)
        st, res = self.p.admin("PUT", "/v1/containers/c", b"{not json")
        self.assertEqual((st, res["error"]), (400, "invalid_json"))
        st, res = self.p.admin("PUT", "/v1/containers/c", b"[1,2]")
        self.assertEqual(st, 400)
        self.assertEqual(self.p.admin("GET", "/v1/containers/c")[0], 404)  # nothing half-written

    def test_session_validation(self):
        cases = [
            ({}, "container_id"),
            ({"container_id": "bad id"}, "container_id"),
            ({"container_id": "c", "idle_ttl": "soon"}, "idle_ttl"),
            ({"container_id": "c", "labels": ["a"]}, "labels"),
            ({"container_id": "c", "labels": {"k": 1}}, "labels"),
            ({"container_id": "c", "expires_at": "tomorrow"}, "expires_at"),
            ({"container_id": "c", "expires_at": 1, "expires_in": "1h"}, "expires_at"),
        ]
        for body, field in cases:
            st, res = self.p.admin("PUT", "/v1/sessions/s-valid", body)
            self.assertEqual((st, res["field"]), (400, field), (body, res))
        self.assertEqual(self.p.admin("GET", "/v1/sessions?limit=0")[0], 400)
        self.assertEqual(self.p.admin("GET", "/v1/sessions?label=novalue")[0], 400)
        self.assertEqual(self.p.admin("GET", "/v1/sessions?bogus=1")[0], 400)
        self.assertEqual(self.p.admin("GET", "/v1/sessions?label=%zz")[0], 400)

    def test_crud_and_routes(self):
        st, c = self.p.admin("PUT", "/v1/containers/crud-c", {"address": "10.1.2.3:4321", "lease_ttl": "45s"})
        self.assertEqual((st, c["generation"], c["lease_ttl_ms"], c["status"]), (201, 1, 45000, "ready"))
        st, c = self.p.admin("PUT", "/v1/containers/crud-c", {"address": "10.1.2.3:4321"})
        self.assertEqual((st, c["generation"]), (200, 2))
        st, s = self.p.admin("PUT", "/v1/sessions/crud-s", {"container_id": "crud-c", "labels": {"tenant": "acme"},
                                                           "idle_ttl": "30m"})
        self.assertEqual((st, s["idle_ttl_ms"], s["labels"]), (201, 1800000, {"tenant": "acme"}))
        st, r = self.p.admin("GET", "/v1/routes/crud-s")
        self.assertEqual((r["state"], r["address"], r["generation"]), ("ready", "10.1.2.3:4321", 2))
        self.assertIn("forwarded to 10.1.2.3:4321", r["reason"])
        st, r = self.p.admin("GET", "/v1/routes/nobody")
        self.assertEqual(r["state"], "unknown_session")
        self.assertEqual(self.p.admin("DELETE", "/v1/containers/crud-c")[0], 204)
        self.assertEqual(self.p.admin("GET", "/v1/routes/crud-s")[1]["state"], "container_deleted")
        self.assertEqual(self.p.admin("DELETE", "/v1/sessions/crud-s")[0], 204)
        self.assertEqual(self.p.admin("DELETE", "/v1/sessions/crud-s")[0], 404)
        self.assertEqual(self.p.admin("POST", "/v1/containers/nope/heartbeat")[0], 404)
        self.assertEqual(self.p.admin("PATCH", "/v1/sessions/x")[0], 405)
        self.assertEqual(self.p.admin("GET", "/v2/anything")[0], 404)

    def test_regression_address_messages_say_what_is_wrong(self):
        # {"address": 80} used to answer "address is required"; port 0 "is not IP:PORT".
        for body, says in (({"address": 80}, "address must be a string \"IP:PORT\""),
                           ({"address": 80}, "not a number"),
                           ({}, "address is required"),
                           ({"address": "10.0.0.1:0"}, "port 0 is not allowed"),
                           ({"address": "10.0.0.1"}, "no port"),
                           ({"address": "localhost:80"}, "'localhost' is not an IP address"),
                           ({"address": "::1:80"}, "goes in brackets")):
            st, res = self.p.admin("PUT", "/v1/containers/msg", body)
            self.assertEqual((st, res["field"]), (400, "address"), res)
            self.assertIn(says, res["message"])

    def test_regression_the_api_takes_the_configuration_file_duration_grammar(self):
        st, c = self.p.admin("PUT", "/v1/containers/dur", {"address": "10.0.0.1:80", "lease_ttl": "1.5s"})
        self.assertEqual((st, c["lease_ttl_ms"]), (201, 1500), c)
        st, s = self.p.admin("PUT", "/v1/sessions/dur", {"container_id": "dur", "idle_ttl": "1d"})
        self.assertEqual((st, s["idle_ttl_ms"]), (201, 86400000), s)
        st, res = self.p.admin("PUT", "/v1/sessions/dur", {"container_id": "dur", "idle_ttl": "1.5ms"})
        self.assertEqual((st, res["field"]), (400, "idle_ttl"), res)

    def test_regression_201_says_created_and_204_has_no_length_or_type(self):
        def raw(method, path, body=b""):
            with connect(self.p.admin_port) as s:
                s.sendall(f"{method} {path} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {Proxy.TOKEN}\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                          "Connection: close\r\n\r\n".encode() + body)
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            return lines[0], [h.split(":", 1)[0].lower() for h in lines[1:]], rest
        self.p.admin("DELETE", "/v1/containers/status-c")
        line, _, _ = raw("PUT", "/v1/containers/status-c", b'{"address": "10.0.0.1:80"}')
        self.assertEqual(line, "HTTP/1.1 201 Created")
        line, _, _ = raw("PUT", "/v1/containers/status-c", b'{"address": "10.0.0.1:80"}')
        self.assertEqual(line, "HTTP/1.1 200 OK")
        line, names, rest = raw("DELETE", "/v1/containers/status-c")
        self.assertEqual(line, "HTTP/1.1 204 No Content")
        self.assertNotIn("content-length", names)
        self.assertNotIn("content-type", names)
        self.assertEqual(rest, b"")

    def test_regression_durations_that_overflow_are_refused_not_wrapped(self):
        # "213503982335d" used to wrap around to about 9.6 hours.
        for field, value in (("idle_ttl", "213503982335d"), ("idle_ttl", "999999999999h"),
                             ("idle_ttl", "3651d"), ("expires_in", "9223372036854775807ms"),
                             ("expires_in", "106751991167301d")):
            st, body = self.p.admin("PUT", "/v1/sessions/w", {"container_id": "c1", field: value})
            self.assertEqual((st, body.get("field")), (400, field), (field, value, body))
            self.assertIn("3650d", body["message"])
        st, body = self.p.admin("PUT", "/v1/sessions/w", {"container_id": "c1", "idle_ttl": "3650d"})
        self.assertIn(st, (200, 201), body)
        self.assertEqual(body["idle_ttl_ms"], 3650 * 86400000)

    def test_regression_non_ascii_query_keys_keep_json_valid(self):
        # Found by fuzz_admin_api: an unknown query key with invalid UTF-8 was echoed raw.
        st, res = self.p.admin("GET", "/v1/sessions?%ff%fe=1")
        self.assertEqual(st, 400)
        self.assertIsInstance(res, dict)
        self.assertEqual(res["field"], "??")

    def test_oversized_and_chunked_bodies(self):
        st, res = self.p.admin("PUT", "/v1/sessions/big", b"{" + b" " * (2 << 20) + b"}")
        self.assertEqual(st, 413)
        raw = (f"PUT /v1/sessions/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {Proxy.TOKEN}\r\n"
               "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n").encode()
        self.assertEqual(self.p.admin("PUT", "/", raw=raw)[0], 411)

    def test_admin_not_reachable_through_proxy_listener(self):
        for host in ("127.0.0.1", f"127.0.0.1:{self.p.admin_port}", "admin", "edit.a.example.com"):
            with connect(self.p.port) as s:
                s.sendall(f"GET /v1/containers HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {Proxy.TOKEN}\r\n"
                          f"Connection: close\r\n\r\n".encode())
                status, _, body = Reader(s).response()
                self.assertNotEqual(status, 200, host)
                self.assertNotIn(b"containers", body)


TOKEN_KEYS = 'token_keys: [{id: k1, secret: "' + "s" * 32 + '", sign: true}]'


class ScopedTokens(unittest.TestCase):
    """A token minted for one container may register, heartbeat and show it (and, minted with
    sessions, create and update sessions that point at it) — nothing else."""

    @classmethod
    def setUpClass(cls):
        cls.p = Proxy(SESSION_RULES, admin_extra=TOKEN_KEYS,
                      extra='security: {upstream_allow_cidrs: ["127.0.0.0/8", "10.0.0.0/8"]}')
        cls.p.register("other-c", 9)
        cls.p.session("other-s", "other-c")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def mint(self, cid, **body):
        st, res = self.p.admin("POST", f"/v1/containers/{cid}/tokens", body)
        self.assertEqual(st, 201, res)
        self.assertEqual(res["container_id"], cid)
        return res["token"]

    def test_what_a_container_token_may_do(self):
        tok = self.mint("mine-c")
        st, c = self.p.admin("PUT", "/v1/containers/mine-c", {"address": "10.0.0.5:4321", "status": "starting"},
                             token=tok)
        self.assertEqual((st, c["status"]), (201, "starting"))
        self.assertEqual(self.p.admin("POST", "/v1/containers/mine-c/heartbeat", token=tok)[0], 200)
        self.assertEqual(self.p.admin("GET", "/v1/containers/mine-c", token=tok)[0], 200)
        self.assertEqual(self.p.admin("PUT", "/v1/containers/mine-c", {"address": "10.0.0.5:4321"},
                                      token=tok)[0], 200)

    def test_every_forbidden_action_is_403_and_changes_nothing(self):
        tok = self.mint("mine2-c")
        sess = self.mint("mine2-c", sessions=True)
        self.p.admin("PUT", "/v1/containers/mine2-c", {"address": "10.0.0.6:80"}, token=tok)
        before = self.p.admin("GET", "/v1/containers/other-c")[1]
        forbidden = [
            (tok, "GET", "/v1/containers", None),
            (tok, "PUT", "/v1/containers/other-c", {"address": "10.0.0.7:80"}),
            (tok, "POST", "/v1/containers/other-c/heartbeat", None),
            (tok, "GET", "/v1/containers/other-c", None),
            (tok, "DELETE", "/v1/containers/other-c", None),
            (tok, "DELETE", "/v1/containers/mine2-c", None),
            (tok, "POST", "/v1/containers/mine2-c/tokens", {}),
            (tok, "POST", "/v1/containers/other-c/tokens", {}),
            (tok, "PUT", "/v1/sessions/new-s", {"container_id": "mine2-c"}),  # minted without sessions
            (tok, "GET", "/v1/sessions/other-s", None),
            (tok, "GET", "/v1/sessions", None),
            (tok, "GET", "/v1/routes/other-s", None),
            (tok, "POST", "/v1/config/reload", None),
            (tok, "GET", "/metrics", None),
            (sess, "PUT", "/v1/sessions/other-s", {"container_id": "mine2-c"}),  # re-point another's
            (sess, "PUT", "/v1/sessions/x-s", {"container_id": "other-c"}),  # at another container
            (sess, "PUT", "/v1/sessions/x-s", {}),
            (sess, "GET", "/v1/sessions/other-s", None),
            (sess, "DELETE", "/v1/sessions/other-s", None),
            (sess, "GET", "/v1/sessions", None),
            (sess, "POST", "/v1/sessions/other-s/links", {}),
            (sess, "POST", "/v1/sessions/other-s/revoke-links", None),
            (sess, "PUT", "/v1/containers/other-c", {"address": "10.0.0.7:80"}),
        ]
        for token, method, path, body in forbidden:
            st, res = self.p.admin(method, path, body, token=token)
            self.assertEqual((st, res["error"]), (403, "forbidden_scope"), (method, path, res))
            self.assertIn("container 'mine2-c'", res["message"])
        self.assertEqual(self.p.admin("GET", "/v1/containers/other-c")[1], before)
        self.assertEqual(self.p.admin("GET", "/v1/sessions/other-s")[1]["container_id"], "other-c")
        self.assertEqual(self.p.admin("GET", "/v1/sessions/x-s")[0], 404)
        self.assertEqual(self.p.admin("GET", "/v1/sessions/new-s")[0], 404)
        # What the sessions token may do: its own sessions.
        st, s = self.p.admin("PUT", "/v1/sessions/mine2-s", {"container_id": "mine2-c"}, token=sess)
        self.assertEqual((st, s["container_id"]), (201, "mine2-c"))
        self.assertEqual(self.p.admin("GET", "/v1/sessions/mine2-s", token=sess)[0], 200)
        values = self.p.metrics()[0]
        self.assertGreaterEqual(values['sessiongate_admin_scoped_calls_total{result="forbidden"}'], len(forbidden))

    def test_refused_tokens_say_why(self):
        tok = self.mint("mine3-c")
        for bad, why in ((tok[:-2] + ("AA" if not tok.endswith("AA") else "BB"), "bad_signature"),
                         (tok.replace(".k1.", ".k9."), "unknown_key"),
                         ("v1.c:mine3-c.1.0.x.k1.y", "bad_signature"),
                         ("not-a-token", "admin token or scoped token")):
            st, res = self.p.admin("GET", "/v1/containers/mine3-c", token=bad)
            self.assertEqual(st, 401, (bad, res))
            self.assertIn(why, res["message"])
        for body, field in (({"ttl": "10s"}, "ttl"), ({"ttl": "31d"}, "ttl"), ({"sessions": "yes"}, "sessions"),
                            ({"scope": "all"}, "scope")):
            st, res = self.p.admin("POST", "/v1/containers/mine3-c/tokens", body)
            self.assertEqual((st, res.get("field")), (400, field), res)

    def test_without_token_keys_nothing_is_minted_and_only_the_admin_token_is_taken(self):
        tok = self.mint("mine4-c")
        with Proxy(SESSION_RULES) as plain:
            st, res = plain.admin("POST", "/v1/containers/c/tokens", {})
            self.assertEqual((st, res["error"]), (409, "no_signing_key"))
            self.assertEqual(plain.admin("GET", "/v1/containers/mine4-c", token=tok)[0], 401)


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Proxy(SESSION_RULES)
        cls.env = dict(os.environ, SESSIONGATE_ADMIN=f"http://127.0.0.1:{cls.p.admin_port}",
                       SESSIONGATE_TOKEN=Proxy.TOKEN)

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def sg(self, *args, env=None):
        r = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=20, env=env or self.env)
        return r.returncode, r.stdout, r.stderr

    def test_container_and_session_commands(self):
        code, out, err = self.sg("container", "register", "cli-c", "--address", "127.0.0.1:5173", "--lease", "30s")
        self.assertEqual(code, 0, err)
        self.assertIn("cli-c", out)
        self.assertIn("127.0.0.1:5173", out)
        code, out, err = self.sg("container", "heartbeat", "cli-c")
        self.assertEqual(code, 0, err)
        self.assertIn("lease renewed", out)
        code, out, _ = self.sg("container", "list")
        self.assertRegex(out, r"ID\s+ADDRESS\s+STATE")
        code, out, err = self.sg("session", "create", "cli-s", "--container", "cli-c", "--idle-ttl", "30m",
                                 "--label", "tenant=acme", "--label", "env=dev")
        self.assertEqual(code, 0, err)
        self.assertIn("env=dev,tenant=acme", out)
        code, out, _ = self.sg("session", "show", "cli-s")
        self.assertIn("route: ready", out)
        code, out, _ = self.sg("session", "list", "--label", "tenant=acme", "--json")
        self.assertEqual(code, 0)
        self.assertEqual([s["id"] for s in json.loads(out)["sessions"]], ["cli-s"])
        code, out, _ = self.sg("container", "show", "cli-c", "--json")
        self.assertEqual(json.loads(out)["address"], "127.0.0.1:5173")
        # Regression: `session show --json` printed two documents; it prints one.
        code, out, err = self.sg("session", "show", "cli-s", "--json")
        self.assertEqual(code, 0, err)
        doc = json.loads(out)
        self.assertEqual((doc["session"]["id"], doc["route"]["state"]), ("cli-s", "ready"))
        code, out, _ = self.sg("session", "route", "cli-s")
        self.assertEqual(code, 0)
        self.assertIn("ready — requests are forwarded to 127.0.0.1:5173", out)
        code, out, err = self.sg("session", "create", "cli-s", "--container", "cli-c", "--access", "public", "--json")
        self.assertEqual((code, json.loads(out)["access"]), (0, "public"), err)
        self.assertEqual(self.sg("session", "delete", "cli-s")[0], 0)
        self.assertEqual(self.sg("container", "delete", "cli-c")[0], 0)

    def test_links_and_tokens(self):
        with Proxy(SESSION_RULES, admin_extra=TOKEN_KEYS,
                   extra='security: {upstream_allow_cidrs: ["127.0.0.0/8"], link_keys: [{id: l1, secret: "'
                         + "l" * 32 + '", sign: true}]}') as p:
            env = dict(self.env, SESSIONGATE_ADMIN=f"http://127.0.0.1:{p.admin_port}")
            p.register("lk-c", 9)
            p.session("lk-s", "lk-c", access="link")
            code, out, err = self.sg("session", "link", "lk-s", "--ttl", "2h", env=env)
            self.assertEqual(code, 0, err)
            self.assertRegex(out, r"query: \?sg_token=v1\.lk-s\.")
            code, out, err = self.sg("session", "link", "lk-s", "--json", env=env)
            self.assertTrue(json.loads(out)["token"].startswith("v1.lk-s."), err)
            code, out, err = self.sg("session", "revoke-links", "lk-s", env=env)
            self.assertEqual(code, 0, err)
            self.assertIn("link epoch 1", out)
            code, out, err = self.sg("container", "token", "lk-c", "--sessions", "--ttl", "1h", env=env)
            self.assertEqual(code, 0, err)
            tok = out.strip()
            self.assertTrue(tok.startswith("v1.c:lk-c."), out)
            # The token works for its container, through the same CLI.
            code, _, err = self.sg("container", "heartbeat", "lk-c", env=dict(env, SESSIONGATE_TOKEN=tok))
            self.assertEqual(code, 0, err)
            code, _, err = self.sg("container", "list", env=dict(env, SESSIONGATE_TOKEN=tok))
            self.assertEqual(code, 4)
            self.assertIn("403", err)
            self.assertEqual(self.sg("session", "link", "nope", env=env)[0], 3)

    def test_exit_codes(self):
        code, _, err = self.sg("session", "show", "missing")
        self.assertEqual(code, 3)
        self.assertIn("404", err)
        code, _, err = self.sg("container", "register", "x", "--address", "example.com:80")
        self.assertEqual(code, 4)
        self.assertIn("address:", err)
        code, _, err = self.sg("container", "list", env=dict(self.env, SESSIONGATE_TOKEN="nope"))
        self.assertEqual(code, 4)
        self.assertIn("401", err)
        code, _, err = self.sg("container", "list", "--admin", "http://127.0.0.1:1")
        self.assertEqual(code, 1)
        self.assertIn("cannot reach the admin API", err)
        # Regression: a malformed --admin exited 1 (a runtime failure); it is a bad argument.
        for bad in ("https://example.com", "notaurl", "http://localhost:9901"):
            code, _, err = self.sg("container", "list", "--admin", bad)
            self.assertEqual(code, 2, (bad, err))
            self.assertIn("admin URL", err)
        # Regression: `container bogus` said "A subcommand is required".
        code, _, err = self.sg("container", "bogus")
        self.assertEqual(code, 2)
        self.assertIn("unknown subcommand of container 'bogus' (known: register,", err)
        code, _, err = self.sg("bogus")
        self.assertEqual(code, 2)
        self.assertIn("unknown command 'bogus'", err)
        # Regression: --limit 0 listed everything; the API's range applies.
        for limit in ("0", "1001", "-1"):
            code, _, err = self.sg("session", "list", "--limit", limit)
            self.assertEqual(code, 2, (limit, err))
        code, _, err = self.sg("session", "create", "s", "--container", "c", "--access", "open")
        self.assertEqual(code, 2)
        code, _, err = self.sg("session", "create", "s")
        self.assertEqual(code, 2)
        self.assertIn("--container", err)
        code, _, err = self.sg("session", "create", "s", "--container", "c", "--label", "nokey")
        self.assertEqual(code, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
