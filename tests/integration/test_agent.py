"""`sessiongate agent` against the real router, with a dev server stand-in it starts itself:
readiness (the container is `ready` only once the dev server answers), the lease kept by
heartbeats, registering again when the router forgets the container, the way out on SIGTERM,
a dev server that ends by itself, and a token for another container. (tests/e2e runs it with
a real Vite dev server.)"""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, SESSION_RULES, Proxy, free_port, get, wait_until  # noqa: E402

TOKEN_KEYS = 'token_keys: [{id: k1, secret: "' + "a" * 32 + '", sign: true}]'

# A dev server that takes `delay` seconds before it listens, then answers every GET.
SLOW_SERVER = """
import http.server, sys, time
time.sleep(float(sys.argv[2]))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"dev server " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


class Agent:
    def __init__(self, proxy, token, *args, command=None):
        self.log = tempfile.TemporaryFile()
        cmd = [BIN, "agent", "--admin", f"http://127.0.0.1:{proxy.admin_port}", *args]
        if command:
            cmd += ["--", *command]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
                                     env=dict(os.environ, SESSIONGATE_TOKEN=token))

    def text(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise


class AgentLifecycle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Proxy(SESSION_RULES, admin_extra=TOKEN_KEYS)

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def mint(self, cid, sessions=False):
        st, res = self.p.admin("POST", f"/v1/containers/{cid}/tokens", {"sessions": sessions, "ttl": "1h"})
        self.assertEqual(st, 201, res)
        return res["token"]

    def container(self, cid):
        st, c = self.p.admin("GET", f"/v1/containers/{cid}")
        return c if st == 200 else None

    def test_ready_only_once_the_dev_server_answers_then_heartbeats_and_stops(self):
        port = free_port()
        agent = Agent(self.p, self.mint("ag1-c", sessions=True), "--container", "ag1-c", "--session", "ag1-s",
                      "--port", str(port), "--lease", "3s",
                      command=[sys.executable, "-c", SLOW_SERVER, str(port), "2"])
        try:
            self.assertTrue(wait_until(lambda: self.container("ag1-c") is not None, timeout=10), agent.text())
            c = self.container("ag1-c")
            self.assertEqual((c["status"], c["address"]), ("starting", f"127.0.0.1:{port}"))
            # The agent registers the container, then points the session: two calls, so the
            # session may come a moment after the container (the test read it too early once).
            self.assertTrue(wait_until(lambda: self.p.admin("GET", "/v1/sessions/ag1-s")[0] == 200,
                                       timeout=10), agent.text())
            self.assertEqual(self.p.admin("GET", "/v1/sessions/ag1-s")[1]["container_id"], "ag1-c")
            # Not ready while the process runs but does not answer yet.
            time.sleep(1)
            self.assertEqual(self.container("ag1-c")["status"], "starting", agent.text())
            self.assertTrue(wait_until(lambda: self.container("ag1-c")["status"] == "ready", timeout=15),
                            agent.text())
            status, _, body = get(self.p.port, "/hello", "ag1-s.preview.example.com")
            self.assertEqual((status, body), (200, b"dev server /hello"))
            # Heartbeats keep a 3 s lease alive well past it.
            first = self.container("ag1-c")["heartbeat_at"]
            self.assertTrue(wait_until(lambda: self.container("ag1-c")["heartbeat_at"] > first, timeout=5))
            time.sleep(3.5)
            self.assertEqual(self.container("ag1-c")["state"], "ready")
            # The router forgets the container (a store reset, an operator's delete): it is back
            # within a heartbeat.
            self.assertEqual(self.p.admin("DELETE", "/v1/containers/ag1-c")[0], 204)
            self.assertTrue(wait_until(lambda: (self.container("ag1-c") or {}).get("status") == "ready",
                                       timeout=5), agent.text())
            self.assertIn("registering again", agent.text())
            self.assertEqual(get(self.p.port, "/again", "ag1-s.preview.example.com")[2], b"dev server /again")
        finally:
            rc = agent.stop()
        self.assertEqual(rc, 0, agent.text())
        self.assertEqual(self.container("ag1-c")["status"], "stopped")
        log = agent.text()
        self.assertLess(log.index("SIGTERM"), log.index("marked stopped"))
        # The dev server it started is gone with it.
        with self.assertRaises(OSError):
            import socket
            socket.create_connection(("127.0.0.1", port), timeout=1).close()

    def test_a_dev_server_that_ends_by_itself_marks_the_container_failed(self):
        agent = Agent(self.p, self.mint("ag2-c"), "--container", "ag2-c", "--port", str(free_port()),
                      "--lease", "3s", command=[sys.executable, "-c", "import time, sys; time.sleep(0.5); sys.exit(3)"])
        self.assertEqual(agent.proc.wait(20), 3, agent.text())
        self.assertEqual(self.container("ag2-c")["status"], "failed")

    def test_a_dev_server_that_never_answers_is_marked_failed_after_ready_timeout(self):
        agent = Agent(self.p, self.mint("ag3-c"), "--container", "ag3-c", "--port", str(free_port()),
                      "--lease", "3s", "--ready-timeout", "1s",
                      command=[sys.executable, "-c", "import time; time.sleep(60)"])
        self.assertEqual(agent.proc.wait(20), 1, agent.text())
        self.assertEqual(self.container("ag3-c")["status"], "failed")
        self.assertIn("did not answer", agent.text())

    def test_a_token_for_another_container_is_refused_and_the_dev_server_stopped(self):
        port = free_port()
        agent = Agent(self.p, self.mint("someone-else"), "--container", "ag4-c", "--port", str(port),
                      command=[sys.executable, "-c", SLOW_SERVER, str(port), "0"])
        self.assertEqual(agent.proc.wait(20), 4, agent.text())
        self.assertIn("403", agent.text())
        self.assertIn("this token is for container 'someone-else'", agent.text())
        self.assertIsNone(self.container("ag4-c"))

    def test_bad_arguments_exit_2(self):
        for args, says in ((["--port", "80"], "--container and --port"),
                           (["--container", "c", "--port", "80", "--lease", "1s"], "at least 3s"),
                           (["--container", "c", "--port", "80", "--address", "localhost:80"], "not an IP"),
                           (["--container", "c", "--port", "80", "--ready-timeout", "soon"], "--ready-timeout")):
            out = subprocess.run([BIN, "agent", *args], capture_output=True, text=True, timeout=10)
            self.assertEqual(out.returncode, 2, (args, out.stderr))
            self.assertIn(says, out.stderr)


if __name__ == "__main__":
    unittest.main()
