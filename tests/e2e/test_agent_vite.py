"""The agent as a container entrypoint wrapper around a real Vite dev server: it registers the
container with a scoped token, marks it ready once Vite answers, the session's preview is Vite's
page through the router, and SIGTERM stops Vite and marks the container stopped."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import BIN, SESSION_RULES, Proxy, free_port, get, wait_until  # noqa: E402

VITE = os.path.join(HERE, "node_modules", ".bin", "vite")
# Vite answers only its own host names: the router sends it the container's address as Host.
RULES = SESSION_RULES.replace("action: {type: session, from: host}",
                              "action: {type: session, from: host, host_header: upstream}")
TOKEN_KEYS = 'token_keys: [{id: k1, secret: "' + "v" * 32 + '", sign: true}]'


class AgentWrapsVite(unittest.TestCase):
    def test_register_ready_preview_and_stop(self):
        if not os.path.exists(VITE):
            raise RuntimeError(f"{VITE} is missing: run scripts/install-deps (npm ci in tests/e2e)")
        site = tempfile.mkdtemp(prefix="sg-agent-vite-")
        shutil.copytree(os.path.join(HERE, "site"), site, dirs_exist_ok=True)
        port = free_port()
        with Proxy(RULES, admin_extra=TOKEN_KEYS) as p:
            st, res = p.admin("POST", "/v1/containers/vite-c/tokens", {"sessions": True})
            self.assertEqual(st, 201, res)
            log = tempfile.TemporaryFile()
            agent = subprocess.Popen(
                [BIN, "agent", "--admin", f"http://127.0.0.1:{p.admin_port}", "--container", "vite-c",
                 "--session", "vite-s", "--port", str(port), "--lease", "5s", "--",
                 VITE, site, "--port", str(port), "--strictPort", "--host", "127.0.0.1", "--clearScreen", "false"],
                stdout=log, stderr=subprocess.STDOUT, cwd=HERE, start_new_session=True,
                env=dict(os.environ, SESSIONGATE_TOKEN=res["token"]))

            def text():
                log.seek(0)
                return log.read().decode(errors="replace")

            def status():
                st, c = p.admin("GET", "/v1/containers/vite-c")
                return c["status"] if st == 200 else None

            try:
                self.assertTrue(wait_until(lambda: status() == "ready", timeout=60), text())
                st, headers, body = get(p.port, "/", "vite-s.preview.example.com", {"Accept": "text/html"})
                self.assertEqual(st, 200, body[:300])
                self.assertIn(b"/@vite/client", body, "the page Vite serves, through the router")
                st, _, body = get(p.port, "/main.js", "vite-s.preview.example.com")
                self.assertEqual(st, 200)
                self.assertIn(b"import", body)
            finally:
                agent.send_signal(signal.SIGTERM)
                try:
                    rc = agent.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(agent.pid, signal.SIGKILL)
                    raise
            self.assertEqual(rc, 0, text())
            self.assertEqual(status(), "stopped")
            st, _, body = get(p.port, "/", "vite-s.preview.example.com", {"Accept": "application/json"})
            self.assertEqual(st, 503)
            self.assertIn(b'"state":"stopped"', body)
        shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
