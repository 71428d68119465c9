"""The command line: version, help, config check with file positions, serve refusing bad
configs and busy ports with a clear message."""
import os
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def run(*args, text=None):
    path = None
    if text is not None:
        fd, path = tempfile.mkstemp(suffix=".yaml")
        os.write(fd, text.encode())
        os.close(fd)
        args = [a if a != "{}" else path for a in args]
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr, path


class Cli(unittest.TestCase):
    def test_version_and_help(self):
        code, out, err, _ = run("--version")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^sessiongate \d+\.\d+\.\d+")
        code, out, err, _ = run("--help")
        self.assertEqual(code, 0)
        self.assertIn("serve", out)
        self.assertIn("config", out)
        code, out, err, _ = run()
        self.assertNotEqual(code, 0)
        code, out, err, _ = run("frobnicate")
        self.assertEqual(code, 2)
        self.assertIn("unknown command 'frobnicate' (known: serve, config,", err)

    def test_examples_are_valid(self):
        # The examples read secrets from the environment, as a deployment would.
        os.environ.update(SESSIONGATE_TOKEN="example-token-123", SESSIONGATE_REDIS_PASSWORD="example",
                          SESSIONGATE_LINK_KEY="x" * 40, SG_WAKE_SECRET="example-wake-secret-123")
        for name in os.listdir(EXAMPLES):
            if name.endswith(".yaml"):
                # The edge example names certificate files this machine does not have.
                files = ["--syntax-only"] if name == "edge.yaml" else []
                code, out, err, _ = run("config", "check", *files, os.path.join(EXAMPLES, name))
                self.assertEqual(code, 0, name + err)
                self.assertIn(": ok", out)

    def test_check_reports_every_error_with_position(self):
        code, out, err, path = run("config", "check", "{}", text=(
            "listeners:\n"
            "  - address: 127.0.0.1:8080\n"
            "timeouts:\n"
            "  request_head: ten seconds\n"
            "rules:\n"
            "  - priority: 5\n"
            "    match: {host: 'edit.*.example.com', paht: '/session/*'}\n"
            "    action: {type: upstream, address: localhost:9000}\n"))
        self.assertEqual(code, 2)
        self.assertIn(f"{path}:4:17: error: timeouts.request_head: invalid duration 'ten seconds'", err)
        self.assertIn(f"{path}:7:41: error: unknown key 'paht' in match", err)
        self.assertIn(f"{path}:8:39: error: upstream address 'localhost:9000': 'localhost' is not an IP address", err)

    def test_check_yaml_syntax_error(self):
        code, out, err, path = run("config", "check", "{}", text="listeners: [\n  {address: 1\n")
        self.assertEqual(code, 2)
        self.assertRegex(err, rf"{path}:\d+:\d+: error: YAML syntax")

    def test_check_missing_file(self):
        code, out, err, _ = run("config", "check", "/nonexistent/sg.yaml")
        self.assertEqual(code, 2)
        self.assertIn("cannot open /nonexistent/sg.yaml", err)

    def test_serve_refuses_bad_config_and_busy_port(self):
        code, out, err, _ = run("serve", "--config", "{}", text="listeners: 5\n")
        self.assertEqual(code, 2)
        self.assertIn("listeners must be a non-empty list", err)
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            code, out, err, _ = run("serve", "--config", "{}", text=f"listeners:\n  - address: 127.0.0.1:{port}\n")
            self.assertEqual(code, 1)
            self.assertIn(f"cannot listen on 127.0.0.1:{port}", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
