"""The admin API's OpenAPI document (/v1/openapi.json) is true: the server has exactly the
routes it lists (every method of every path over the API's vocabulary is tried), every
schema is valid JSON Schema, every example request validates against its schema and is
accepted, and every answer the server gives in a walk through the whole API has a documented
status and validates against the documented schema."""
import itertools
import json
import os
import re
import sys
import unittest

import jsonschema

sys.path.insert(0, os.path.dirname(__file__))
from harness import SESSION_RULES, Proxy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYS = 'token_keys: [{id: k1, secret: "' + "o" * 32 + '", sign: true}]'
LINKS = ('security: {upstream_allow_cidrs: ["127.0.0.0/8"], '
         'link_keys: [{id: l1, secret: "' + "l" * 32 + '", sign: true}]}')
METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH")


class OpenApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Proxy(SESSION_RULES, admin_extra=KEYS, extra=LINKS)
        st, cls.doc = cls.p.admin("GET", "/v1/openapi.json", token="")
        assert st == 200, st

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def resolve(self, schema):
        if "$ref" in schema:
            return self.doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def validator(self, schema):
        # Component references resolve inside this document.
        full = dict(schema, components=self.doc["components"])
        return jsonschema.Draft202012Validator(full)

    def test_served_document_is_the_one_in_the_tree(self):
        with open(os.path.join(ROOT, "src", "admin", "openapi.json")) as f:
            self.assertEqual(self.doc, json.load(f))
        self.assertEqual(self.doc["openapi"], "3.1.0")

    def test_every_schema_is_valid_json_schema_and_every_reference_resolves(self):
        for name, schema in self.doc["components"]["schemas"].items():
            jsonschema.Draft202012Validator.check_schema(schema)
        text = json.dumps(self.doc)
        for ref in set(part.split('"')[0] for part in text.split('"$ref": "')[1:]):
            self.assertIn(ref.rsplit("/", 1)[1], self.doc["components"]["schemas"], ref)

    def concrete(self, template):
        return template.replace("{id}", "zz1").replace("{session}", "zz1")

    def test_the_server_has_exactly_the_documented_routes(self):
        # A template's {parameter} stands for any segment: "config" is a container id, and an
        # invalid one ("openapi.json") is the route's own 400.
        patterns = [(m.upper(), re.compile("^" + re.sub(r"\\\{[a-z]+\\\}", "[^/]+", re.escape(path)) + "$"))
                    for path, item in self.doc["paths"].items()
                    for m in item if m in ("get", "put", "post", "delete", "patch")]

        def is_documented(method, path):
            return any(m == method and rx.match(path) for m, rx in patterns)
        vocabulary = ["v1", "v2", "containers", "sessions", "routes", "config", "reload", "heartbeat",
                      "tokens", "links", "revoke-links", "openapi.json", "metrics", "healthz", "readyz", "zz1"]
        paths = {self.concrete(p) for p in self.doc["paths"]}
        for n in (1, 2, 3, 4):
            for parts in itertools.product(vocabulary, repeat=n):
                if n >= 2 and parts[0] not in ("v1", "v2"):
                    continue  # only /v1 has sub-paths; the rest is tried one level deep
                paths.add("/" + "/".join(parts))
        self.assertGreater(len(paths), 1000)
        for path in sorted(paths):
            for method in METHODS:
                if (method, path) == ("POST", "/v1/config/reload"):
                    continue  # tried below, once (a reload per path would be slow)
                st, res = self.p.admin(method, path, b"" if method in ("PUT", "POST") else None)
                missing = st == 405 or (st == 404 and isinstance(res, dict) and
                                        res.get("message", "").startswith("no such endpoint"))
                if is_documented(method, path):
                    self.assertFalse(missing, f"{method} {path} is documented but the server has none: {st} {res}")
                else:
                    self.assertTrue(missing, f"{method} {path} is served ({st}) but not documented")
        self.assertEqual(self.p.admin("POST", "/v1/config/reload")[0], 200)

    def check(self, method, template, status, body, path=None, payload=None, token=None):
        op = self.doc["paths"][template][method.lower()]
        st, res = self.p.admin(method, path or template, payload, token=token)
        self.assertEqual(st, status, (method, template, res))
        self.assertIn(str(st), op["responses"], f"{method} {template}: {st} is not documented")
        content = op["responses"][str(st)].get("content", {}).get("application/json")
        if content:
            self.validator(content["schema"]).validate(res)
        else:
            self.assertIn(res, (None, b"", ""), (method, template))
        return res

    def test_examples_validate_and_are_accepted_and_every_answer_matches_its_schema(self):
        for template, item in self.doc["paths"].items():
            for method, op in item.items():
                if method == "parameters" or "requestBody" not in op:
                    continue
                example = op["requestBody"]["content"]["application/json"].get("example")
                self.assertIsNotNone(example, f"{method} {template} has no example")
                self.validator(op["requestBody"]["content"]["application/json"]["schema"]).validate(example)
        put_c = self.doc["paths"]["/v1/containers/{id}"]["put"]["requestBody"]["content"]["application/json"]["example"]
        put_s = self.doc["paths"]["/v1/sessions/{id}"]["put"]["requestBody"]["content"]["application/json"]["example"]
        c, s = "/v1/containers/c1", "/v1/sessions/s1"
        self.check("PUT", "/v1/containers/{id}", 201, None, c, put_c)
        self.check("PUT", "/v1/containers/{id}", 200, None, c, put_c)
        self.check("PUT", "/v1/containers/{id}", 400, None, c, {"address": "localhost:80"})
        self.check("GET", "/v1/containers/{id}", 200, None, c)
        self.check("GET", "/v1/containers/{id}", 404, None, "/v1/containers/nope")
        self.check("GET", "/v1/containers", 200, None)
        self.check("POST", "/v1/containers/{id}/heartbeat", 200, None, c + "/heartbeat")
        self.check("POST", "/v1/containers/{id}/heartbeat", 404, None, "/v1/containers/nope/heartbeat")
        tok = self.check("POST", "/v1/containers/{id}/tokens", 201, None, c + "/tokens",
                         self.doc["paths"]["/v1/containers/{id}/tokens"]["post"]["requestBody"]["content"]["application/json"]["example"])
        self.check("POST", "/v1/containers/{id}/tokens", 400, None, c + "/tokens", {"ttl": "1s"})
        self.check("PUT", "/v1/sessions/{id}", 201, None, s, put_s)
        self.check("PUT", "/v1/sessions/{id}", 200, None, s, put_s)
        self.check("PUT", "/v1/sessions/{id}", 400, None, s, {"container_id": "c1", "idle_ttl": "soon"})
        self.check("GET", "/v1/sessions/{id}", 200, None, s)
        self.check("GET", "/v1/sessions/{id}", 200, None, s, token=tok["token"])
        self.check("DELETE", "/v1/containers/{id}", 403, None, c, token=tok["token"])
        self.check("GET", "/v1/sessions", 200, None, "/v1/sessions?label=tenant=acme&limit=10")
        self.check("GET", "/v1/sessions", 400, None, "/v1/sessions?limit=0")
        self.check("GET", "/v1/routes/{session}", 200, None, "/v1/routes/s1")
        self.check("GET", "/v1/routes/{session}", 200, None, "/v1/routes/nobody")
        self.check("POST", "/v1/sessions/{id}/links", 201, None, s + "/links", {"ttl": "1h"})
        self.check("POST", "/v1/sessions/{id}/links", 404, None, "/v1/sessions/nope/links", {})
        self.check("POST", "/v1/sessions/{id}/revoke-links", 200, None, s + "/revoke-links")
        self.check("GET", "/healthz", 200, None, token="")
        self.check("GET", "/readyz", 200, None, token="")
        self.check("GET", "/v1/openapi.json", 200, None, token="")
        self.check("GET", "/v1/containers", 401, None, token="wrong")
        self.check("POST", "/v1/config/reload", 200, None)
        self.check("DELETE", "/v1/sessions/{id}", 204, None, s)
        self.check("DELETE", "/v1/sessions/{id}", 404, None, s)
        self.check("DELETE", "/v1/containers/{id}", 204, None, c)
        self.check("DELETE", "/v1/containers/{id}", 404, None, c)
        st, _ = self.p.admin("GET", "/metrics")
        self.assertEqual(st, 200)


if __name__ == "__main__":
    unittest.main()
