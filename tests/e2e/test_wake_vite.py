"""Wake on request end to end: the reference orchestrator (scripts/orchestrator) starts a real
Vite dev server when sessiongate's signed webhook asks, registers it through the admin API once
it answers, and stops it on request. A first request to a sleeping session is held and then
served the real page; concurrent first requests wake it once; headless Chromium sees the live
starting page turn into the preview by itself, and an open page recovers after its container
slept and woke again. With SG_SCREENSHOTS=1 the starting page's screenshot is saved to docs/."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import SESSION_RULES, Proxy, free_port, get, wait_port  # noqa: E402

VITE = os.path.join(HERE, "node_modules", ".bin", "vite")
SECRET = "e2e-wake-secret-0123456789"
os.environ["SG_WAKE_SECRET"] = SECRET


class WakeVite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(VITE):
            raise RuntimeError(f"{VITE} is missing: run scripts/install-deps (npm ci in tests/e2e)")
        cls.site = tempfile.mkdtemp(prefix="sg-wake-vite-")
        shutil.copytree(os.path.join(HERE, "site"), cls.site, dirs_exist_ok=True)
        cls.orch_port = free_port()
        # Vite answers only its own host name: the router sends the container's address.
        rules = SESSION_RULES.replace("action: {type: session, from: host}",
                                      "action: {type: session, from: host, host_header: upstream}")
        cls.proxy = Proxy(rules, extra=(
            f"wake:\n  webhook: {{url: \"http://127.0.0.1:{cls.orch_port}/hooks\", "
            "secret_env: SG_WAKE_SECRET, timeout: 2s}\n  hold_timeout: 30s\n"
            "  navigation_hold: 200ms\n"))
        env = dict(os.environ, SESSIONGATE_ADMIN=f"http://127.0.0.1:{cls.proxy.admin_port}",
                   SESSIONGATE_TOKEN=Proxy.TOKEN)
        cls.env = env
        cls.orch_log = open(os.path.join(cls.site, "orchestrator.log"), "w+")
        command = (f"{VITE} {cls.site} --port {{port}} --strictPort --host 127.0.0.1 "
                   "--clearScreen false")
        cls.orch = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "scripts", "orchestrator"), "--listen",
             f"127.0.0.1:{cls.orch_port}", "--command", command], cwd=HERE, env=env,
            stdout=cls.orch_log, stderr=cls.orch_log, start_new_session=True)
        wait_port(cls.orch_port)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.orch.terminate()
        cls.orch.wait(20)
        shutil.rmtree(cls.site, ignore_errors=True)

    def events(self, kind, container):
        self.orch_log.flush()
        with open(self.orch_log.name) as f:
            lines = [json.loads(l) for l in f if l.startswith("{")]
        return [e for e in lines if e.get("event") == kind and e.get("container") == container]

    def starts(self, container):
        return [e for e in self.events("call", container) if e["action"] == "start"]

    def test_a_sleeping_session_is_woken_and_serves_the_real_page(self):
        self.proxy.session("first", "vite-first")  # its container has never run
        status, _, body = get(self.proxy.port, "/", "first.preview.example.com")
        self.assertEqual(status, 200, body)
        self.assertIn(b"/@vite/client", body)
        self.assertEqual(len(self.starts("vite-first")), 1)
        self.assertEqual(len(self.events("ready", "vite-first")), 1)

    def test_concurrent_first_requests_wake_once(self):
        self.proxy.session("many", "vite-many")
        results = []

        def one():
            results.append(get(self.proxy.port, "/main.js", "many.preview.example.com")[0])

        threads = [threading.Thread(target=one) for _ in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(results, [200] * 30)
        self.assertEqual(len(self.starts("vite-many")), 1)

    def test_chromium_sees_the_starting_page_switch_and_recovers_after_sleep(self):
        self.proxy.session("e2e", "vite-browser")
        # SG_SCREENSHOTS=1 refreshes the screenshot the docs show.
        shot = os.path.join(ROOT if os.environ.get("SG_SCREENSHOTS") else self.site,
                            "docs" if os.environ.get("SG_SCREENSHOTS") else "", "starting-page.png")
        out = subprocess.run(
            ["node", os.path.join(HERE, "browser_wake.mjs"), "http://e2e.preview.example.com/",
             str(self.proxy.port), f"http://127.0.0.1:{self.orch_port}/hooks",
             f"http://127.0.0.1:{self.proxy.admin_port}", "vite-browser", shot],
            cwd=HERE, capture_output=True, text=True, timeout=150, env=self.env)
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"\nbrowser: {json.dumps(result)}")
        self.assertNotIn("error", result)
        self.assertEqual(result["first_status"], 503)
        self.assertEqual(result["first_title"], "Your preview is starting")
        # The orchestrator registers the container `starting` at once, ready once Vite answers.
        self.assertIn(result["first_text"], ("Waking the preview: the platform is starting its container.",
                                             "The container is up; waiting for its dev server to answer."))
        self.assertEqual((result["stop_status"], result["mark_status"]), (200, 200))
        self.assertTrue(result["recovered"])
        self.assertEqual(len(self.starts("vite-browser")), 2, "woken, slept, woken again")


if __name__ == "__main__":
    unittest.main()
