"""Path mode with several sessions open in one browser, one https origin, tabs of one headless
Chromium context: three real Astro 5 dev servers (base '/session/<id>/', which Astro keeps for
pages but not for /@vite/client, /src/... and the CSS it fetches after an edit) and three real
Vite dev servers that ignore the prefix (base '/', strip_prefix), one per session. With the
session worker each tab hot-reloads its own page from its own server; the control runs (rules
without it: Referer and cookie only) show the bug it fixes. A further scenario drives SSE, a
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
ASTRO = os.path.join(HERE, "node_modules", ".bin", "astro")
ORIGIN = "https://edit.acme.example.com"
ASTRO_ORIGIN = "https://astro.acme.example.com"
ORIGINAL = "rgb(10, 20, 30)"
BIG = 100 << 20


def rule(priority, host, worker, strip):
    return (f"  - priority: {priority}\n"
            f"    match: {{host: \"{host}\", path: \"/session/*\"}}\n"
            "    action: {type: session, from: path, host_header: upstream"
            f"{', strip_prefix: true' if strip else ''}"
            f"{', service_worker: true' if worker else ''}}}\n")


HOSTS = ["edit.acme.example.com", "edit.plain.example.com", "astro.acme.example.com",
         "astro.plain.example.com"]
RULES = (rule(5, HOSTS[0], True, True) + rule(6, HOSTS[1], False, True) +
         rule(7, HOSTS[2], True, False) + rule(8, HOSTS[3], False, False))
VITE_STYLE = {"file": "style.css", "text": "#title { color: %s; }\n"}


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
        for tool in (VITE, ASTRO):
            if not os.path.exists(tool):
                raise RuntimeError(f"{tool} is missing: run scripts/install-deps (npm ci in tests/e2e)")
        cls.dir = tempfile.mkdtemp(prefix="sg-sw-")
        cls.sites, cls.servers = {}, []
        ca = TestCA(cls.dir)
        cert, key = ca.leaf("edit", HOSTS)
        cls.spki = spki_hash(cert)
        cls.proxy = Proxy(RULES, listener=tls_listener([(cert, key)]), directory=cls.dir)
        ports = {}
        for sid, letter in (("t1", "A"), ("t2", "B"), ("t3", "C")):
            site = cls.copy_site("site", sid)
            with open(os.path.join(site, "message.js"), "w") as f:
                f.write(f"export const message = 'hello from vite {letter}';\n")
            ports[sid] = cls.start_server(sid, [VITE, site], {})
        for sid, letter in (("a1", "A"), ("a2", "B"), ("a3", "C")):
            site = cls.copy_site("astro-site", sid)
            # Astro resolves its packages from the project: the site's node_modules is ours.
            os.symlink(os.path.join(HERE, "node_modules"), os.path.join(site, "node_modules"))
            with open(os.path.join(site, "src", "marker.js"), "w") as f:
                f.write(f"export const marker = '{letter}';\n")
            ports[sid] = cls.start_server(sid, [ASTRO, "dev", "--root", site],
                                          {"SG_BASE": f"/session/{sid}/",
                                           "ASTRO_TELEMETRY_DISABLED": "1",
                                           "ASTRO_DISABLE_UPDATE_CHECK": "true"})
        for sid, port in ports.items():
            wait_port(port, 60)
            cls.proxy.register(f"dev-{sid}", port)
            cls.proxy.session(sid, f"dev-{sid}")
        cls.apps = [start_app("upstream D"), start_app("upstream E", own_worker=True)]
        for sid, srv in zip(("t4", "t5"), cls.apps):
            cls.proxy.register(f"app-{sid}", srv.server_address[1])
            cls.proxy.session(sid, f"app-{sid}")

    @classmethod
    def copy_site(cls, name, sid):
        site = os.path.join(cls.dir, sid)
        shutil.copytree(os.path.join(HERE, name), site)
        cls.sites[sid] = site
        return site

    @classmethod
    def start_server(cls, sid, command, env):
        port = free_port()
        log = open(os.path.join(cls.dir, f"dev-{sid}.log"), "w+")
        cls.servers.append(subprocess.Popen(
            command + ["--port", str(port), "--host", "127.0.0.1"] +
            (["--strictPort", "--clearScreen", "false"] if command[0] == VITE else []),
            stdout=log, stderr=log, cwd=HERE, env=dict(os.environ, **env),
            start_new_session=True))
        return port

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        for v in cls.servers:
            os.killpg(v.pid, 15)
            v.wait(10)
        for a in cls.apps:
            a.shutdown()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        for sid, site in self.sites.items():
            style = self.astro_style() if sid.startswith("a") else VITE_STYLE
            with open(os.path.join(site, style["file"]), "w") as f:
                f.write(style["text"].replace("%s", ORIGINAL))

    @staticmethod
    def astro_style():
        """The page itself with its <style> coloured %s: an edit of the page's CSS."""
        with open(os.path.join(HERE, "astro-site", "src", "pages", "index.astro")) as f:
            page = f.read()
        return {"file": "src/pages/index.astro", "text": page.replace(ORIGINAL, "%s")}

    def browse(self, scenario, origin=ORIGIN, ids=("t1", "t2", "t3"), style=VITE_STYLE):
        cfg = {"origin": origin, "port": self.proxy.port, "spki": self.spki, "scenario": scenario,
               "ids": list(ids), "sites": self.sites, "style": style,
               "admin": f"http://127.0.0.1:{self.proxy.admin_port}", "token": Proxy.TOKEN}
        out = subprocess.run(["node", os.path.join(HERE, "browser_session_worker.mjs"),
                              json.dumps(cfg)], cwd=HERE, capture_output=True, text=True,
                             timeout=240)
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"\n[{scenario}] {json.dumps(result)[:1500]}")
        self.assertNotIn("error", result)
        return result

    def check_each_tab_hot_reloads_its_own_page(self, r, kind, ids):
        first, second, third = ids
        e = r["first_edit"]
        self.assertTrue(e["updated"], e)
        self.assertEqual(e["first"]["title"], f"hello from {kind} A", "scripts from its own server")
        self.assertEqual(e["second"]["title"], f"hello from {kind} B")
        self.assertEqual(e["second"]["color"], ORIGINAL, "the other tab untouched by the edit")
        for tab, sid in (("first", first), ("second", second)):
            self.assertEqual(e[tab]["marker"], "kept", f"{sid} was reloaded")
            self.assertTrue(e[tab]["worker"].endswith(f"/session/{sid}/__sessiongate/sw.js"), e)
        e = r["second_edit"]
        self.assertTrue(e["updated"], e)
        self.assertEqual(e["first"]["color"], "rgb(1, 100, 1)", "the first keeps its own style")
        self.assertEqual(r["first_reload"]["title"], f"hello from {kind} A")
        self.assertEqual(r["first_reload"]["color"], "rgb(1, 100, 1)", "its page from its server")
        self.assertEqual(r["third"]["title"], f"hello from {kind} C")
        e = r["after_third"]
        self.assertTrue(e["updated"], e)
        self.assertEqual(e["second"]["color"], "rgb(2, 100, 2)")
        self.assertEqual(r["failed"], [])

    def check_control(self, r):
        # The same tabs on a rule without the worker: the first tab's CSS update is fetched at
        # the root with a Referer outside the prefix, so the cookie (naming the second, opened
        # last) decides and the first tab never shows its edit. This is what the worker fixes,
        # and proves the runs above would see it broken.
        e = r["first_edit"]
        self.assertFalse(e["updated"], e)
        self.assertIsNone(e["first"]["worker"])
        self.assertEqual(e["second"]["color"], ORIGINAL)

    def test_astro_each_tab_hot_reloads_its_own_page(self):
        ids = ("a1", "a2", "a3")
        r = self.browse("hmr", origin=ASTRO_ORIGIN, ids=ids, style=self.astro_style())
        self.check_each_tab_hot_reloads_its_own_page(r, "astro", ids)

    def test_astro_control_without_the_worker(self):
        r = self.browse("control", origin="https://astro.plain.example.com", ids=("a1", "a2", "a3"),
                        style=self.astro_style())
        self.check_control(r)

    def test_vite_each_tab_hot_reloads_its_own_page(self):
        r = self.browse("hmr")
        self.check_each_tab_hot_reloads_its_own_page(r, "vite", ("t1", "t2", "t3"))

    def test_vite_control_without_the_worker(self):
        self.check_control(self.browse("control", origin="https://edit.plain.example.com"))

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
