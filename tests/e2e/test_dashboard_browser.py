"""The dashboard in headless Chromium (playwright-core): login, live updates as a session is
created and traffic flows, search, the actions with their confirmations, labels, keyboard and
a narrow window. The screenshot goes to $SG_DASHBOARD_SCREENSHOT (docs/dashboard.png in the
README is made this way) or a temporary file."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import SESSION_RULES, Proxy, Upstream, get, keepalive_server  # noqa: E402

LINKS = 'security: {upstream_allow_cidrs: ["127.0.0.0/8"], link_keys: [{id: k1, secret: "' + "d" * 32 + '", sign: true}]}'


class DashboardInChromium(unittest.TestCase):
    def test_operator_session(self):
        def app(method, target, headers, body, conn):
            if target.startswith("/fail"):
                return 502, b"the dev server crashed", {}
            return 200, b"<p>preview</p>" * 40, {"Content-Type": "text/html"}
        up = Upstream(keepalive_server(app))
        shot = os.environ.get("SG_DASHBOARD_SCREENSHOT") or os.path.join(tempfile.mkdtemp(), "dashboard.png")
        try:
            log = os.path.join(tempfile.mkdtemp(), "access.log")
            with Proxy(SESSION_RULES, extra=LINKS + f"\naccess_log: {{path: {log}}}") as p:
                p.register("c1", up.port)
                p.register("c2", up.port)
                p.register("c3", 9, status="starting")
                for sid, cid in (("docs-site", "c1"), ("shop-redesign", "c2"), ("blog-draft", "c3"),
                                 ("landing-page", "c1")):
                    p.session(sid, cid)
                for _ in range(12):
                    get(p.port, "/", "docs-site.preview.example.com")
                for _ in range(5):
                    get(p.port, "/", "shop-redesign.preview.example.com")
                get(p.port, "/", "unknown-thread.preview.example.com")
                st, _ = p.admin("PUT", "/v1/sessions/live-1", {"container_id": "c1"})
                self.assertEqual(st, 201)
                st, _ = p.admin("DELETE", "/v1/sessions/live-1")
                self.assertEqual(st, 204)
                # The script creates live-1 again (on c1) and sends it three pages and one /fail.
                out = subprocess.run(
                    ["node", os.path.join(HERE, "browser_dashboard.mjs"), f"http://127.0.0.1:{p.admin_port}",
                     Proxy.TOKEN, str(p.port), shot],
                    cwd=HERE, capture_output=True, text=True, timeout=180)
                self.assertEqual(out.returncode, 0, out.stderr[-2000:])
                r = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            up.close()
        self.assertNotIn("error", r, r.get("error"))
        self.assertEqual(r["login_url"], "/dashboard")
        self.assertEqual(r["login_label"], 1)
        self.assertIn("not the admin token", r["wrong_token_alert"])
        self.assertTrue(r["url_after_login"].endswith("/dashboard"), r["url_after_login"])
        self.assertNotIn(Proxy.TOKEN, r["url_after_login"])
        self.assertEqual(r["cookies"], [{"name": "sg_dashboard", "httpOnly": True, "sameSite": "Strict"}])
        self.assertEqual(r["created"], 201)
        self.assertEqual(r["live_state"], "ready")
        self.assertEqual((r["live_requests"], r["live_errors"]), ("4", "1"))
        self.assertTrue(r["error_row"])
        self.assertEqual(r["search_rows"], 1)
        self.assertTrue(r["link_query"].startswith("?sg_token="), r["link_query"])
        self.assertEqual(r["clipboard"], r["link_query"])
        self.assertEqual(r["after_cancel"], "ready")
        self.assertEqual(r["drained"], "draining")
        self.assertEqual(r["expired_status"], 404)
        self.assertEqual(r["unlabelled"], [])
        self.assertEqual(r["low_contrast"], [])
        self.assertTrue(r["tab_reaches_search"])
        self.assertLessEqual(r["narrow_overflow"], 0)
        self.assertEqual(r["navigations"], 0, "everything above happened without a reload")
        self.assertEqual(r["page_errors"], [])
        self.assertGreater(os.path.getsize(shot), 10000)


if __name__ == "__main__":
    unittest.main()
