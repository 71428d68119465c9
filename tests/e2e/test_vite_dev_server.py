"""End to end with a real Vite dev server behind sessiongate, in both session modes:
  - subdomain mode: <id>.preview.example.com
  - path mode: edit.acme.example.com/session/<id>/ with Vite's base set to that prefix, and
    session affinity (cookie / Referer) for requests outside the prefix.
A small crawler plays the browser: it loads the page, follows every script, stylesheet and
module import the way a browser would (with Referer and the cookie jar), then opens the
hot-reload WebSocket (subprotocol vite-hmr, ?token=) and checks that a CSS edit arrives as an
in-place update and a JS edit without an HMR boundary as a full reload. Headless Chromium
(playwright-core) then checks that a CSS edit applies in the page without a navigation.
A static-upstream run (no registry) checks the data plane alone, and an https run checks the
page and its wss:// hot reload with TLS terminated by sessiongate."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from urllib.parse import urljoin

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from certs import TestCA, tls_listener  # noqa: E402
from harness import (SESSION_RULES, Proxy, Reader, connect, free_port, upstream_rule, wait_until,  # noqa: E402
                     wait_port, ws_connect, ws_frame, ws_read_frame)

VITE = os.path.join(HERE, "node_modules", ".bin", "vite")
SESSION = "thread-e2e"



def spki_hash(cert):
    """base64(sha256(SubjectPublicKeyInfo)) of a PEM certificate, as Chromium pins keys."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub, check=True,
                         capture_output=True).stdout
    import base64
    import hashlib
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


PATH_RULES = SESSION_RULES.replace("action: {type: session, from: path}",
                                   "action: {type: session, from: path, host_header: upstream}")
PATH_RULES = PATH_RULES.replace("action: {type: session, from: host}",
                                "action: {type: session, from: host, host_header: upstream}")


class Browser:
    """Just enough of a browser: cookie jar, Referer, module graph crawl."""

    def __init__(self, port, host):
        self.port, self.host = port, host
        self.cookies = {}
        self.log = []  # (path, status, referer)

    def get(self, path, referer=None):
        hs = {"Host": self.host, "Accept": "*/*", "Connection": "close"}
        if referer:
            hs["Referer"] = f"http://{self.host}{referer}"
        if self.cookies:
            hs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        with connect(self.port) as s:
            s.sendall((f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs.items()) + "\r\n").encode())
            status, headers, body = Reader(s).response()
        if "set-cookie" in headers:
            k, v = headers["set-cookie"].split(";")[0].split("=", 1)
            self.cookies[k] = v
        self.log.append((path, status, referer))
        return status, headers, body

    def load(self, page):
        status, _, html = self.get(page)
        assert status == 200, (page, status)
        queue = [(u, page) for u in re.findall(rb'(?:src|href)="([^":]+)"', html)]
        seen = {page}
        while queue:
            url, referer = queue.pop(0)
            url = urljoin(referer, url.decode())  # relative URLs resolve like in a browser
            if url in seen:
                continue
            seen.add(url)
            status, headers, body = self.get(url, referer)
            if "javascript" in headers.get("content-type", ""):
                for dep in re.findall(rb'(?:import|from)\s*\(?\s*"(\.{0,2}/[^"]+)"', body):
                    queue.append((dep, url))
        return seen


class ViteBase:
    MODE = None
    TLS = False  # the proxy listens with TLS (https + wss to the browser)

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(VITE):
            raise RuntimeError(f"{VITE} is missing: run scripts/install-deps (npm ci in tests/e2e)")
        cls.site = tempfile.mkdtemp(prefix="sg-vite-")
        shutil.copytree(os.path.join(HERE, "site"), cls.site, dirs_exist_ok=True)
        cls.vite_port = free_port()
        cls.log = open(os.path.join(cls.site, "vite.log"), "w+")
        args = [VITE, cls.site, "--port", str(cls.vite_port), "--strictPort", "--host", "127.0.0.1",
                "--clearScreen", "false"]
        if cls.MODE == "path":
            args += ["--base", f"/session/{SESSION}/"]
        cls.vite = subprocess.Popen(args, stdout=cls.log, stderr=cls.log, cwd=HERE, start_new_session=True)
        wait_port(cls.vite_port, 30)
        listener = ""
        cls.spki = None
        if cls.TLS:
            ca = TestCA(cls.site)
            cert, key = ca.leaf("preview", ["*.preview.example.com"])
            listener = tls_listener([(cert, key)])
            cls.spki = spki_hash(cert)
        if cls.MODE == "static":
            cls.proxy = Proxy(upstream_rule(cls.vite_port, extra=", host_header: upstream"))
            cls.host, cls.page = "preview.test", "/"
        else:
            cls.access_log = os.path.join(cls.site, "access.log")
            cls.proxy = Proxy(PATH_RULES, listener=listener,
                              extra=f"access_log: {{path: {cls.access_log}}}\n")
            cls.proxy.register("vite-1", cls.vite_port)
            cls.proxy.session(SESSION, "vite-1")
            if cls.MODE == "path":
                cls.host, cls.page = "edit.acme.example.com", f"/session/{SESSION}/"
            else:
                cls.host, cls.page = f"{SESSION}.preview.example.com", "/"

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        os.killpg(cls.vite.pid, 15)
        cls.vite.wait(10)
        shutil.rmtree(cls.site, ignore_errors=True)

    def test_page_modules_and_hot_reload(self):
        b = Browser(self.proxy.port, self.host)
        b.load(self.page)
        failed = [(p, s) for p, s, _ in b.log if s != 200]
        self.assertEqual(failed, [], "requests the page made that did not succeed")
        prefix = self.page if self.MODE == "path" else "/"
        outside = [p for p, _, _ in b.log if not p.startswith(prefix)]
        # A browser also asks for /favicon.ico at the root: affinity must take it to the session.
        if self.MODE == "path":
            status, headers, body = b.get("/favicon.ico")
            self.assertIn("vary", headers, "the root-level request did not reach the dev server")
            outside.append("/favicon.ico")
        print(f"\n[{self.MODE}] the page made {len(b.log)} requests through sessiongate, all reached "
              f"Vite; {len(outside)} outside the session prefix (routed by affinity): {outside}")
        self.assertTrue(any("@vite/client" in p for p, _, _ in b.log))
        client = b.get(prefix + "@vite/client")[2]
        token = re.search(rb'const wsToken = "([^"]+)"', client).group(1).decode()

        s, r, status, headers, _ = ws_connect(self.proxy.port, path=f"{prefix}?token={token}",
                                              host=self.host, protocol="vite-hmr")
        self.assertEqual(status, 101, headers)
        self.assertEqual(headers.get("sec-websocket-protocol"), "vite-hmr")
        s.settimeout(15)
        self.assertEqual(json.loads(ws_read_frame(r)[2])["type"], "connected")
        time.sleep(0.5)  # let the watcher settle before the edit
        # A CSS edit is hot module replacement: an in-place "update" of the stylesheet module.
        self.edit("style.css", f"#title {{ color: rgb(1, 2, {len(self.MODE)}); }}\n")
        update = self.next_hmr_message(r)
        print(f"[{self.MODE}] CSS edit through sessiongate: {json.dumps(update)[:160]}")
        self.assertEqual(update["type"], "update", update)
        self.assertTrue(any(u["path"].endswith("style.css") for u in update["updates"]), update)
        # A module with no HMR boundary above it (main.js accepts nothing) reloads the page.
        self.edit("message.js", f"export const message = 'edited through the proxy ({self.MODE})';\n")
        reload = self.next_hmr_message(r)
        print(f"[{self.MODE}] JS edit through sessiongate: {json.dumps(reload)[:160]}")
        self.assertEqual(reload["type"], "full-reload", reload)
        self.assertIn(f"({self.MODE})".encode(), b.get(prefix + "message.js")[2])
        s.sendall(ws_frame(8, b"\x03\xe8"))
        s.close()

    def test_browser_applies_a_css_edit_in_place(self):
        # Headless Chromium through sessiongate: the new style must apply without a navigation
        # (the page keeps its JavaScript state), over the proxied HMR WebSocket.
        url = f"{'https' if self.TLS else 'http'}://{self.host}{self.page}"
        args = ["node", os.path.join(HERE, "browser_hmr.mjs"), url, self.site, str(self.proxy.port)]
        if self.spki:
            args.append(self.spki)
        out = subprocess.run(args, cwd=HERE, capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"\n[{self.MODE}] browser: {json.dumps(result)[:300]}")
        self.assertNotIn("error", result)
        self.assertEqual(result["before"], "rgb(10, 20, 30)")
        self.assertEqual(result["after"], "rgb(200, 30, 40)")
        self.assertEqual(result["marker"], "kept", "the page was reloaded")
        self.assertEqual(result["navigations"], 1, "the page navigated again")
        self.assertEqual(result["failed"], [])
        if self.TLS:
            self.assertTrue(result["hmr"].startswith("wss://"), result)
            # HTTP/2 (ALPN h2) for the document and every module; the HMR WebSocket is an
            # RFC 8441 stream on that connection, a tunnel the router logged as h2.
            self.assertEqual(result["document_protocol"], "h2", result)
            self.assertEqual(result["module_protocols"], ["h2"], result)
            def tunnels():  # logged when they end (the browser has closed)
                with open(self.access_log) as f:
                    return [t for t in (json.loads(l) for l in f if l.strip()) if t["tunnel"]]
            self.assertTrue(wait_until(tunnels, timeout=10), "no tunnel was logged")
            tunnels = tunnels()
            self.assertEqual({l["protocol"] for l in tunnels}, {"h2"}, tunnels)

    def edit(self, name, text):
        with open(os.path.join(self.site, name), "w") as f:
            f.write(text)

    def next_hmr_message(self, r, timeout=15):
        """The next update or reload message on the HMR socket (others are skipped)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            fin, op, payload = ws_read_frame(r)
            if op == 1:
                msg = json.loads(payload)
                if msg["type"] in ("update", "full-reload"):
                    return msg
        self.fail("no hot-reload message after the edit")


class ViteStaticUpstream(ViteBase, unittest.TestCase):
    MODE = "static"


class ViteSubdomainMode(ViteBase, unittest.TestCase):
    MODE = "subdomain"


class VitePathMode(ViteBase, unittest.TestCase):
    MODE = "path"


class ViteOverHttps(ViteBase, unittest.TestCase):
    """https:// page and wss:// hot reload, TLS terminated by sessiongate, in Chromium trusting
    only the test certificate's key (the browser test; the socket-level one is plain HTTP)."""
    MODE = "subdomain"
    TLS = True
    test_page_modules_and_hot_reload = None


if __name__ == "__main__":
    unittest.main(verbosity=2)
