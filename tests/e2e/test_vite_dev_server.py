"""End to end with a real Vite dev server: the page and its modules load through sessiongate,
and the hot-reload WebSocket (subprotocol vite-hmr, ?token= query) receives an update after a
source file changes."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import Proxy, Reader, connect, free_port, upstream_rule, wait_port, ws_connect, ws_frame, ws_read_frame  # noqa: E402

VITE = os.path.join(HERE, "node_modules", ".bin", "vite")


def get(port, path, host="preview.test"):
    s = connect(port)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n\r\n".encode())
    status, headers, body = Reader(s).response()
    s.close()
    return status, headers, body


class ViteThroughProxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(VITE):
            raise RuntimeError(f"{VITE} is missing: run scripts/install-deps (npm ci in tests/e2e)")
        cls.site = tempfile.mkdtemp(prefix="sg-vite-")
        shutil.copytree(os.path.join(HERE, "site"), cls.site, dirs_exist_ok=True)
        cls.vite_port = free_port()
        cls.log = open(os.path.join(cls.site, "vite.log"), "w+")
        cls.vite = subprocess.Popen(
            [VITE, cls.site, "--port", str(cls.vite_port), "--strictPort", "--host", "127.0.0.1",
             "--clearScreen", "false"],
            stdout=cls.log, stderr=cls.log, cwd=HERE, start_new_session=True)
        wait_port(cls.vite_port, 30)
        cls.proxy = Proxy(upstream_rule(cls.vite_port, extra=", host_header: upstream"))

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        os.killpg(cls.vite.pid, 15)
        cls.vite.wait(10)
        shutil.rmtree(cls.site, ignore_errors=True)

    def test_page_modules_and_hot_reload(self):
        port = self.proxy.port
        status, headers, page = get(port, "/")
        self.assertEqual(status, 200)
        self.assertIn(b'<script type="module" src="/@vite/client"></script>', page)
        requests = ["/@vite/client", "/main.js", "/message.js", "/@vite/env"]
        bodies = {}
        for path in requests:
            status, headers, body = get(port, path)
            self.assertEqual(status, 200, path)
            self.assertIn("javascript", headers.get("content-type", ""), path)
            bodies[path] = body
        token = re.search(rb'const wsToken = "([^"]+)"', bodies["/@vite/client"]).group(1).decode()

        s, r, status, headers, _ = ws_connect(port, path=f"/?token={token}", host="preview.test",
                                              protocol="vite-hmr")
        self.assertEqual(status, 101, headers)
        self.assertEqual(headers.get("sec-websocket-protocol"), "vite-hmr")
        s.settimeout(15)
        fin, op, payload = ws_read_frame(r)
        self.assertEqual(json.loads(payload)["type"], "connected")

        time.sleep(0.5)  # let the watcher settle before the edit
        with open(os.path.join(self.site, "message.js"), "w") as f:
            f.write("export const message = 'edited through the proxy';\n")
        deadline = time.time() + 15
        update = None
        while time.time() < deadline:
            fin, op, payload = ws_read_frame(r)
            if op != 1:
                continue
            msg = json.loads(payload)
            if msg["type"] in ("update", "full-reload"):
                update = msg
                break
        self.assertIsNotNone(update, "no hot-reload message after the edit")
        print(f"\nvite hot reload through sessiongate: {update['type']} {json.dumps(update)[:160]}")
        status, _, body = get(port, "/message.js")
        self.assertIn(b"edited through the proxy", body)
        s.sendall(ws_frame(8, b"\x03\xe8"))
        s.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
