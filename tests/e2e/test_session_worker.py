"""Path mode with several sessions open in one browser: three real Vite dev servers that ignore
the session prefix (base '/', so their modules, CSS updates and HMR sockets live at the root),
one per session, behind one https origin, in tabs of one headless Chromium context. With the
session worker each tab hot-reloads its own page from its own server; the control run (a rule
without it, Referer and cookie only) shows the bug it fixes. A second scenario drives SSE, a
100 MiB download and a POST through a controlled page, an app with its own service worker, and
a session deleted while its worker is installed."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from certs import TestCA, tls_listener  # noqa: E402
from harness import Proxy, free_port, wait_port  # noqa: E402
from test_vite_dev_server import spki_hash  # noqa: E402

VITE = os.path.join(HERE, "node_modules", ".bin", "vite")
ORIGIN = "https://edit.acme.example.com"
ORIGINAL = "rgb(10, 20, 30)"
BIG = 100 << 20


def rule(priority, host, worker):
    return (f"  - priority: {priority}\n"
            f"    match: {{host: \"{host}\", path: \"/session/*\"}}\n"
            "    action: {type: session, from: path, strip_prefix: true, host_header: upstream"
            f"{', service_worker: true' if worker else ''}}}\n")


RULES = rule(5, "edit.acme.example.com", True) + rule(6, "edit.plain.example.com", False)


def app_page(name, own_worker=False):
    script = ("<script>navigator.serviceWorker.register('./app-sw.js',{scope:'./'})</script>"
              if own_worker else "")
    return (f"<!doctype html><html><head><title>{name}</title></head><body>"
            f"<h1 id=\"title\">hello from {name}</h1>{script}</body></html>").encode()


class App(BaseHTTPRequestHandler):
    """A session's own upstream (not a dev server): a page, SSE, a large download, an echo."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body, ctype="text/plain", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        name = self.server.name
        path = self.path.split("?")[0]
        if path == "/":
            self.send(200, app_page(name, self.server.own_worker), "text/html")
        elif path == "/app-sw.js":
            self.send(200, b"self.addEventListener('install',()=>self.skipWaiting());"
                           b"self.addEventListener('activate',e=>e.waitUntil(clients.claim()));",
                      "text/javascript")
        elif path == "/ping":
            self.send(200, f"pong {name}".encode())
        elif path == "/events":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            for i in range(3):
                self.wfile.write(f"data: {name}-{i}\n\n".encode())
                self.wfile.flush()
                threading.Event().wait(0.2)
            self.close_connection = True
        elif path == "/big":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(BIG))
            self.send_header("X-Upstream", name)
            self.end_headers()
            chunk = b"\0" * (1 << 20)
            for _ in range(BIG // len(chunk)):
                self.wfile.write(chunk)
        else:
            self.send(404, b"no such thing")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send(200, f"{self.server.name} got {len(body)}".encode())


def start_app(name, own_worker=False):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), App)
    srv.daemon_threads = True
    srv.name, srv.own_worker = name, own_worker
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


class SessionWorkerBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(VITE):
            raise RuntimeError(f"{VITE} is missing: run scripts/install-deps (npm ci in tests/e2e)")
        cls.dir = tempfile.mkdtemp(prefix="sg-sw-")
        cls.sites, cls.vites, cls.logs = {}, [], []
        ca = TestCA(cls.dir)
        cert, key = ca.leaf("edit", ["edit.acme.example.com", "edit.plain.example.com"])
        cls.spki = spki_hash(cert)
        cls.proxy = Proxy(RULES, listener=tls_listener([(cert, key)]), directory=cls.dir)
        for sid, letter in (("t1", "A"), ("t2", "B"), ("t3", "C")):
            site = os.path.join(cls.dir, sid)
            shutil.copytree(os.path.join(HERE, "site"), site)
            with open(os.path.join(site, "message.js"), "w") as f:
                f.write(f"export const message = 'hello from vite {letter}';\n")
            port = free_port()
            log = open(os.path.join(cls.dir, f"vite-{sid}.log"), "w+")
            cls.logs.append(log)
            cls.vites.append(subprocess.Popen(
                [VITE, site, "--port", str(port), "--strictPort", "--host", "127.0.0.1",
                 "--clearScreen", "false"], stdout=log, stderr=log, cwd=HERE,
                start_new_session=True))
            cls.sites[sid] = site
            wait_port(port, 30)
            cls.proxy.register(f"vite-{sid}", port)
            cls.proxy.session(sid, f"vite-{sid}")
        cls.apps = [start_app("upstream D"), start_app("upstream E", own_worker=True)]
        for sid, srv in zip(("t4", "t5"), cls.apps):
            cls.proxy.register(f"app-{sid}", srv.server_address[1])
            cls.proxy.session(sid, f"app-{sid}")

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        for v in cls.vites:
            os.killpg(v.pid, 15)
            v.wait(10)
        for a in cls.apps:
            a.shutdown()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        for site in self.sites.values():
            with open(os.path.join(site, "style.css"), "w") as f:
                f.write(f"#title {{ color: {ORIGINAL}; }}\n")

    def browse(self, scenario, origin=ORIGIN):
        cfg = {"origin": origin, "port": self.proxy.port, "spki": self.spki, "scenario": scenario,
               "sites": self.sites, "admin": f"http://127.0.0.1:{self.proxy.admin_port}",
               "token": Proxy.TOKEN}
        out = subprocess.run(["node", os.path.join(HERE, "browser_session_worker.mjs"),
                              json.dumps(cfg)], cwd=HERE, capture_output=True, text=True,
                             timeout=240)
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"\n[{scenario}] {json.dumps(result)[:1500]}")
        self.assertNotIn("error", result)
        return result

    def test_each_tab_hot_reloads_its_own_page(self):
        r = self.browse("hmr")
        e = r["t1_edit"]
        self.assertTrue(e["t1_updated"], e)
        self.assertEqual(e["t1"]["title"], "hello from vite A", "t1's scripts from t1's server")
        self.assertEqual(e["t2"]["title"], "hello from vite B")
        self.assertEqual(e["t2"]["color"], ORIGINAL, "t2 untouched by t1's edit")
        for tab in ("t1", "t2"):
            self.assertEqual(e[tab]["marker"], "kept", f"{tab} was reloaded")
            self.assertTrue(e[tab]["worker"].endswith(f"/session/{tab}/__sessiongate/sw.js"), e)
        e = r["t2_edit"]
        self.assertTrue(e["t2_updated"], e)
        self.assertEqual(e["t1"]["color"], "rgb(1, 100, 1)", "t1 keeps its own style")
        self.assertEqual(r["t1_reload"]["title"], "hello from vite A")
        self.assertEqual(r["t1_reload"]["color"], "rgb(1, 100, 1)", "t1's page from t1's server")
        self.assertEqual(r["t3"]["title"], "hello from vite C")
        e = r["t1_after_t3"]
        self.assertTrue(e["t1_updated"], e)
        self.assertEqual(e["t2"]["color"], "rgb(2, 100, 2)")
        self.assertEqual(r["failed"], [])

    def test_control_without_the_worker_the_cookie_sends_t1s_update_to_t2(self):
        # The same tabs on a rule without the worker: t1's CSS update is fetched at the root
        # with a Referer outside the prefix, so the cookie (naming t2, opened last) decides and
        # t1's page never shows its edit. This is what the worker fixes, and proves the test
        # above would see it broken.
        r = self.browse("control", origin="https://edit.plain.example.com")
        e = r["t1_edit"]
        self.assertFalse(e["t1_updated"], e)
        self.assertIsNone(e["t1"]["worker"])
        self.assertEqual(e["t2"]["color"], ORIGINAL)

    def test_streams_uploads_an_apps_own_worker_and_a_deleted_session(self):
        r = self.browse("streams")
        s = r["streams"]
        self.assertEqual(s["events"], ["upstream D-0", "upstream D-1", "upstream D-2"], s)
        self.assertEqual((s["big_from"], s["big_bytes"]), ("upstream D", BIG))
        self.assertEqual(s["post"], f"upstream D got {1 << 20}")
        own = r["own_worker"]
        self.assertEqual(own["title"], "hello from upstream E")
        self.assertTrue((own["worker"] or "").endswith("/session/t5/app-sw.js"), own)
        self.assertEqual(own["ping"], "pong upstream E", "the Referer still routes it")
        self.assertEqual(r["deleted"], 204)
        d = r["after_delete"]
        self.assertTrue(d["worker_before"].endswith("/session/t4/__sessiongate/sw.js"), d)
        self.assertEqual(d["status"], 404)
        self.assertIsNone(d["worker_after"], d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
