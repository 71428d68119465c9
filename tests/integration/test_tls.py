"""TLS termination with real clients: curl (https, SNI, ALPN), openssl s_client (versions,
resumption, SNI), Python's ssl for what the tools cannot do (a ClientHello byte by byte, wss).
Certificates come from a CA this test makes; nothing leaves loopback."""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from certs import TestCA, tls_listener  # noqa: E402
from harness import (SESSION_RULES, ProxyTest, Proxy, Upstream, free_port, keepalive_server,  # noqa: E402
                     wait_until, ws_echo_handler, ws_frame)

HOST = "t.preview.example.com"


def echo(method, target, headers, body, conn):
    seen = {k: v for k, v in headers if k.startswith("x-forwarded") or k == "forwarded"}
    return 200, json.dumps({"target": target, "seen": seen}).encode(), None


def curl(port, url_host, path="/", *args, ca=None):
    """(exit code, stdout, stderr) of curl over https://url_host:port/ resolved to loopback."""
    cmd = ["curl", "-sS", "--max-time", "10", "--resolve", f"{url_host}:{port}:127.0.0.1"]
    cmd += ["--cacert", ca] if ca else ["-k"]
    cmd += [*args, f"https://{url_host}:{port}{path}"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout, r.stderr


def s_client(port, *args, send=b"", wait=0.3):
    """openssl s_client's output for one connection; `send` is written after the handshake."""
    p = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(wait)  # TLS 1.3 tickets arrive after the handshake
        out, _ = p.communicate(send, timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out.decode(errors="replace")


def subject_cn(output):
    m = re.search(r"subject=.*?CN ?= ?([^\s,/]+)", output)
    return m.group(1) if m else None


class Tls(ProxyTest, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sg-tls-")
        cls.ca = TestCA(cls.dir)
        cls.preview = cls.ca.leaf("preview", ["preview.example.com", "*.preview.example.com"])
        cls.edit = cls.ca.leaf("edit", ["edit.acme.example.com"])
        cls.up = Upstream(keepalive_server(echo))
        cls.redirect_port = free_port()
        cls.p = Proxy(SESSION_RULES, workers=2, directory=cls.dir,
                      listener=tls_listener([cls.preview, cls.edit], "hsts: 1h, check_interval: 200ms"),
                      more_listeners=f"  - {{address: 127.0.0.1:{cls.redirect_port}, "
                                     "redirect_to_https: true}\n",
                      extra="timeouts: {tls_handshake: 1s}")
        cls.serve_session()

    def test_https_with_sni_alpn_h2_and_the_scheme_passed_on(self):
        code, out, err = curl(self.p.port, HOST, "/a?b=1", "-v", ca=self.ca.cert)
        self.assertEqual(code, 0, err)
        self.assertIn("ALPN: server accepted h2", err)  # h2 first; http/1.1 for clients without it
        self.assertIn("subjectAltName: host \"t.preview.example.com\" matched cert's \"*.preview.example.com\"", err)
        self.assertIn("strict-transport-security: max-age=3600", err.lower())
        body = json.loads(out)
        self.assertEqual(body["target"], "/a?b=1")
        self.assertEqual(body["seen"]["x-forwarded-proto"], "https")
        self.assertIn("proto=https", body["seen"]["forwarded"])

    def test_sni_picks_the_certificate_and_the_first_is_the_default(self):
        cases = [("edit.acme.example.com", "edit.acme.example.com"),
                 ("t.preview.example.com", "preview.example.com"),
                 ("preview.example.com", "preview.example.com"),
                 ("EDIT.acme.example.com", "edit.acme.example.com"),  # names are case-blind
                 ("a.b.preview.example.com", "preview.example.com"),  # wildcard is one label
                 ("unknown.example.org", "preview.example.com")]
        for sni, cn in cases:
            with self.subTest(sni=sni):
                self.assertEqual(subject_cn(s_client(self.p.port, "-servername", sni)), cn)
        self.assertEqual(subject_cn(s_client(self.p.port, "-noservername")), "preview.example.com")

    def test_only_tls_1_2_and_1_3(self):
        self.assertIn("Protocol  : TLSv1.3", s_client(self.p.port, "-tls1_3"))
        out = s_client(self.p.port, "-tls1_2")
        self.assertIn("Protocol  : TLSv1.2", out)
        self.assertIn("ECDHE-ECDSA-AES128-GCM-SHA256", out)
        for old in ("-tls1_1", "-tls1"):
            out = s_client(self.p.port, old, "-cipher", "DEFAULT@SECLEVEL=0")
            self.assertRegex(out, r"alert protocol version|no protocols available")
            self.assertIn("Cipher is (NONE)", out)
        # and the server is fine afterwards
        self.assertEqual(curl(self.p.port, HOST)[0], 0)

    def test_resumption_across_workers_from_a_ticket(self):
        sess = os.path.join(self.dir, "session.pem")
        first = s_client(self.p.port, "-servername", HOST, "-sess_out", sess, wait=0.5)
        self.assertIn("New, TLSv1.3", first)
        before = self.p.metrics()[0].get("sessiongate_tls_resumed_total", 0)
        reused = 0
        for _ in range(6):  # two workers: SO_REUSEPORT spreads these over both
            out = s_client(self.p.port, "-servername", HOST, "-sess_in", sess, "-ign_eof",
                           send=f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            reused += "Reused, TLSv1.3" in out
            self.assertIn("HTTP/1.1 200 OK", out)
        self.assertEqual(reused, 6)
        self.assertGreaterEqual(self.p.metrics()[0]["sessiongate_tls_resumed_total"] - before, 6)

    def test_plain_http_on_the_tls_port_gets_a_clear_400(self):
        with socket.create_connection(("127.0.0.1", self.p.port), timeout=5) as s:
            s.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 400 Bad Request\r\n"), data)
        self.assertIn(b"plain_http_on_tls", data)
        self.assertIn(b"the plain HTTP request was sent to the HTTPS port", data)
        # Counted once the connection is closed, which the client may see first.
        self.assertTrue(wait_until(lambda: self.p.metrics()[0][
            'sessiongate_handshake_failures_total{reason="plain_http"}'] >= 1))

    def test_the_plain_listener_redirects_to_https(self):
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-D", "-", "-H", f"Host: {HOST}:{self.redirect_port}",
                            f"http://127.0.0.1:{self.redirect_port}/p/q?x=1&y=2"],
                           capture_output=True, text=True, timeout=20)
        self.assertIn("HTTP/1.1 308 Permanent Redirect", r.stdout)
        self.assertIn(f"Location: https://{HOST}/p/q?x=1&y=2", r.stdout)
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: [::1]:8080",
                            f"http://127.0.0.1:{self.redirect_port}/"], capture_output=True, text=True)
        self.assertEqual(r.stdout, "308")

    def test_garbage_instead_of_a_client_hello_is_closed_and_counted(self):
        key = 'sessiongate_handshake_failures_total{reason="tls"}'
        before = self.p.metrics()[0][key]
        with socket.create_connection(("127.0.0.1", self.p.port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01\x00\x05hello" + os.urandom(200))
            self.assertIn(s.recv(4096)[:1], (b"", b"\x15"))  # nothing, or an alert record
        self.assertTrue(wait_until(lambda: self.p.metrics()[0][key] > before))
        with socket.create_connection(("127.0.0.1", self.p.port), timeout=5) as s:
            s.sendall(b"\x00\x01\x02\x03" * 64)
            self.assertIn(s.recv(4096)[:1], (b"", b"\x15"))
        self.assertEqual(curl(self.p.port, HOST)[0], 0)

    def test_a_client_hello_split_byte_by_byte_completes(self):
        ctx = ssl.create_default_context(cafile=self.ca.cert)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_hostname=HOST)
        with socket.create_connection(("127.0.0.1", self.p.port), timeout=5) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    # One segment per byte (TCP_NODELAY), paced lightly: the whole hello
                    # must still arrive well inside this proxy's tls_handshake of 1 s on a
                    # loaded machine (a 1 ms pause per byte did not, once in a full run).
                    for b in outgoing.read():
                        s.sendall(bytes([b]))
                        time.sleep(0.0002)
                    incoming.write(s.recv(65536))
            s.sendall(outgoing.read())
            tls.write(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            s.sendall(outgoing.read())
            data = b""
            while b"}" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                incoming.write(chunk)
                try:
                    data += tls.read(65536)
                except ssl.SSLWantReadError:
                    pass
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK"), data)

    def test_a_handshake_that_never_finishes_times_out(self):
        key = 'sessiongate_handshake_failures_total{reason="timeout"}'
        before = self.p.metrics()[0][key]
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.p.port), timeout=10) as silent, \
                socket.create_connection(("127.0.0.1", self.p.port), timeout=10) as partial:
            partial.sendall(b"\x16\x03\x01\x02\x00\x01")  # a ClientHello that stops
            self.assertEqual(silent.recv(100), b"")
            self.assertEqual(partial.recv(100), b"")
        self.assertLess(time.monotonic() - started, 8)  # tls_handshake: 1s, not forever
        self.assertTrue(wait_until(lambda: self.p.metrics()[0][key] >= before + 2))

    def test_renegotiation_is_refused(self):
        out = s_client(self.p.port, "-tls1_2", "-servername", HOST, send=b"R\n", wait=0.5)
        self.assertIn("RENEGOTIATING", out)
        self.assertRegex(out, r"no renegotiation|alert|errno")
        self.assertEqual(curl(self.p.port, HOST)[0], 0)

    def test_a_good_client_is_served_while_1000_handshakes_hang(self):
        hung = []
        try:
            for _ in range(1000):  # from another address: per-client limits count handshakes
                s = socket.create_connection(("127.0.0.1", self.p.port), timeout=10,
                                             source_address=("127.0.0.2", 0))
                s.sendall(b"\x16\x03\x01")  # never more
                hung.append(s)
            started = time.monotonic()
            code, out, err = curl(self.p.port, HOST, ca=self.ca.cert)
            self.assertEqual(code, 0, err)
            self.assertLess(time.monotonic() - started, 5)
        finally:
            for s in hung:
                s.close()


class HandshakesCountAsConnections(unittest.TestCase):
    def test_per_client_connection_limit_counts_handshakes(self):
        d = tempfile.mkdtemp(prefix="sg-tls-limit-")
        ca = TestCA(d)
        pair = ca.leaf("l", ["limit.example.com"])
        with Proxy(SESSION_RULES, directory=d, listener=tls_listener([pair]),
                   extra="limits: {per_client_connections: 5}") as p:
            hung = [socket.create_connection(("127.0.0.1", p.port), timeout=5,
                                             source_address=("127.0.0.2", 0)) for _ in range(5)]
            for s in hung:
                s.sendall(b"\x16\x03\x01")
            self.assertTrue(wait_until(lambda: p.metrics()[0]["sessiongate_connections_active"] == 5))
            with socket.create_connection(("127.0.0.1", p.port), timeout=5,
                                          source_address=("127.0.0.2", 0)) as sixth:
                sixth.sendall(b"\x16\x03\x01")
                try:
                    self.assertEqual(sixth.recv(100), b"")  # closed before any handshake
                except ConnectionResetError:
                    pass
            self.assertEqual(p.metrics()[0]["sessiongate_connections_rejected_total"], 1)
            # another client is not affected
            code, _, err = curl(p.port, "limit.example.com", "/", "-o", "/dev/null", ca=ca.cert)
            self.assertEqual(code, 0, err)
            for s in hung:
                s.close()


class CertificateRotation(unittest.TestCase):
    """New files take effect for new handshakes (SIGHUP, or the periodic check); open
    connections keep theirs; a bad new pair keeps the old one and says why."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sg-rotate-")
        self.ca = TestCA(self.dir)
        self.cert = os.path.join(self.dir, "live.pem")
        self.key = os.path.join(self.dir, "live.key")
        self.install(self.ca.leaf("v1", ["rotate.example.com"]))
        self.up = Upstream(keepalive_server(echo))
        self.p = Proxy(f"""  - priority: 1
    match: {{host: "*"}}
    action: {{type: upstream, address: "127.0.0.1:{self.up.port}"}}""",
                       directory=self.dir,
                       listener=tls_listener([(self.cert, self.key)], "check_interval: 300ms"))

    def tearDown(self):
        self.p.stop()
        self.up.close()

    def install(self, pair):
        shutil.copy(pair[0], self.cert + ".tmp")
        shutil.copy(pair[1], self.key + ".tmp")
        os.replace(self.key + ".tmp", self.key)
        os.replace(self.cert + ".tmp", self.cert)

    def serial(self):
        out = s_client(self.p.port, "-servername", "rotate.example.com", wait=0.1)
        m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
        r = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=m.group(0),
                           capture_output=True, text=True)
        return r.stdout.strip()

    def test_rotation_with_connections_open(self):
        first = self.serial()
        ctx = ssl.create_default_context(cafile=self.ca.cert)
        held = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.p.port), timeout=5),
                               server_hostname="rotate.example.com")
        request = b"GET / HTTP/1.1\r\nHost: rotate.example.com\r\n\r\n"
        held.sendall(request)
        self.assertIn(b"200 OK", held.recv(65536))
        self.install(self.ca.leaf("v2", ["rotate.example.com"]))
        self.p.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: self.serial() != first))
        self.assertTrue(wait_until(lambda: "certificates reloaded (SIGHUP)" in self.p.stderr()
                                   or "certificates reloaded (files changed)" in self.p.stderr()))
        held.sendall(request)  # the open connection is untouched
        self.assertIn(b"200 OK", held.recv(65536))
        held.close()
        # Without a signal: the periodic check finds new files.
        second = self.serial()
        self.install(self.ca.leaf("v3", ["rotate.example.com"]))
        self.assertTrue(wait_until(lambda: self.serial() != second))
        self.assertEqual(self.p.metrics()[0]['sessiongate_tls_reloads_total{result="ok"}'], 2)

    def test_a_bad_new_pair_keeps_the_old_one(self):
        first = self.serial()
        other = self.ca.leaf("other", ["rotate.example.com"])
        shutil.copy(self.ca.leaf("v2", ["rotate.example.com"])[0], self.cert)  # key mismatch
        self.assertTrue(wait_until(lambda: self.p.metrics()[0]['sessiongate_tls_reloads_total{result="failed"}'] >= 1))
        self.assertIn("does not match certificate", self.p.stderr())
        self.assertIn("still serving the previous ones", self.p.stderr())
        self.assertEqual(self.serial(), first)
        self.assertEqual(curl(self.p.port, "rotate.example.com", ca=self.ca.cert)[0], 0)
        with open(self.cert, "w") as f:
            f.write("not a certificate\n")
        self.p.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until(lambda: self.p.metrics()[0]['sessiongate_tls_reloads_total{result="failed"}'] >= 2))
        self.assertEqual(self.serial(), first)
        self.install(other)  # a good pair again: taken
        self.assertTrue(wait_until(lambda: self.serial() != first))


class ConfigCheck(unittest.TestCase):
    """`sessiongate config check` validates the pairs before anything is served."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sg-check-")
        cls.ca = TestCA(cls.dir)
        cls.good = cls.ca.leaf("good", ["a.example.com"])
        cls.other = cls.ca.leaf("other", ["b.example.com"])
        cls.soon = cls.ca.leaf("soon", ["c.example.com"], days=5)

    def check(self, pairs, extra=""):
        path = os.path.join(self.dir, "check.yaml")
        with open(path, "w") as f:
            f.write(f"listeners:\n  - {{address: 127.0.0.1:8443, {tls_listener(pairs, extra)}}}\n"
                    "rules:\n  - {priority: 1, match: {host: '*'}, action: {type: fixed, status: 204}}\n")
        bin_ = os.environ.get("SESSIONGATE_BIN", "build/release/sessiongate")
        r = subprocess.run([bin_, "config", "check", path], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr

    def test_good_mismatched_out_of_order_expiring_and_bad_ciphers(self):
        code, out = self.check([self.good])
        self.assertEqual(code, 0, out)
        self.assertIn(": ok", out)
        code, out = self.check([(self.good[0], self.other[1])])
        self.assertEqual(code, 2)
        self.assertIn("does not match certificate", out)
        reversed_chain = os.path.join(self.dir, "reversed.pem")
        with open(reversed_chain, "w") as f:
            f.write(open(self.ca.cert).read() + open(os.path.join(self.dir, "good.leaf.pem")).read())
        code, out = self.check([(reversed_chain, self.good[1])])
        self.assertEqual(code, 2)
        self.assertRegex(out, r"does not match|chain out of order")
        code, out = self.check([self.soon])
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"warning: certificate .* expires in [45] days")
        code, out = self.check([self.good], "ciphers: NOT-A-CIPHER")
        self.assertEqual(code, 2)
        self.assertIn("tls.ciphers 'NOT-A-CIPHER'", out)
        code, out = self.check([(os.path.join(self.dir, "missing.pem"), self.good[1])])
        self.assertEqual(code, 2)
        self.assertIn("cannot read", out)


class TicketKeys(unittest.TestCase):
    """Resumption across routers with a shared key file, not without one; rotated keys keep
    decrypting for one period."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sg-tickets-")
        cls.ca = TestCA(cls.dir)
        cls.pair = cls.ca.leaf("t", ["tickets.example.com"])
        cls.keyfile = os.path.join(cls.dir, "tickets.key")
        with open(cls.keyfile, "wb") as f:
            f.write(os.urandom(160))  # two keys: the first encrypts
        cls.up = Upstream(keepalive_server(echo))
        cls.rule = f"""  - priority: 1
    match: {{host: "*"}}
    action: {{type: upstream, address: "127.0.0.1:{cls.up.port}"}}"""

    @classmethod
    def tearDownClass(cls):
        cls.up.close()

    def proxy(self, extra):
        return Proxy(self.rule, directory=tempfile.mkdtemp(prefix="sg-tickets-p-"),
                     listener=tls_listener([self.pair], extra))

    def resumes(self, issuer, other, sess):
        s_client(issuer.port, "-servername", "tickets.example.com", "-sess_out", sess, "-ign_eof",
                 send=b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        out = s_client(other.port, "-servername", "tickets.example.com", "-sess_in", sess)
        return "Reused, TLSv1.3" in out

    def test_a_shared_key_file_resumes_on_another_router(self):
        sess = os.path.join(self.dir, "shared.pem")
        with self.proxy(f"ticket_key_file: {self.keyfile}") as a, \
                self.proxy(f"ticket_key_file: {self.keyfile}") as b:
            self.assertTrue(self.resumes(a, b, sess))
        with self.proxy("") as a, self.proxy("") as b:
            self.assertFalse(self.resumes(a, b, sess))  # each its own random keys
            self.assertTrue(self.resumes(a, a, sess))

    def test_a_bad_key_file_is_refused_at_start(self):
        bad = os.path.join(self.dir, "short.key")
        with open(bad, "wb") as f:
            f.write(os.urandom(79))
        with self.assertRaises(RuntimeError) as e:
            self.proxy(f"ticket_key_file: {bad}")
        self.assertIn("expected 80 per key", str(e.exception))

    def test_rotated_keys_decrypt_for_one_more_period(self):
        sess = os.path.join(self.dir, "rotating.pem")
        with self.proxy("ticket_rotation: 3s, check_interval: 100ms") as p:
            started = time.monotonic()
            self.assertTrue(self.resumes(p, p, sess))  # fresh ticket, current key
            # One rotation later the ticket's key only decrypts: still resumed.
            time.sleep(max(0, 3.6 - (time.monotonic() - started)))
            out = s_client(p.port, "-servername", "tickets.example.com", "-sess_in", sess)
            self.assertIn("Reused, TLSv1.3", out)
            # Two rotations later it is gone: a full handshake.
            time.sleep(max(0, 6.9 - (time.monotonic() - started)))
            out = s_client(p.port, "-servername", "tickets.example.com", "-sess_in", sess)
            self.assertIn("New, TLSv1.3", out)


class RotationUnderLoad(unittest.TestCase):
    """Certificates replaced and SIGHUP sent while keep-alive clients load the proxy and wss
    tunnels are open: no request fails, no tunnel closes, new handshakes see the new
    certificate. The load is bounded in requests and time."""

    def test_rotation_under_load_drops_nothing(self):
        import base64
        import threading
        from harness import Reader as HReader, ws_read_frame as read_frame
        d = tempfile.mkdtemp(prefix="sg-rotload-")
        ca = TestCA(d)
        cert, key = os.path.join(d, "live.pem"), os.path.join(d, "live.key")
        first = ca.leaf("v1", ["load.example.com"])
        shutil.copy(first[0], cert)
        shutil.copy(first[1], key)
        with Upstream(keepalive_server(echo)) as up, Upstream(ws_echo_handler) as wsup:
            rules = f"""  - priority: 1
    match: {{host: "*", path: "/ws*"}}
    action: {{type: upstream, address: "127.0.0.1:{wsup.port}"}}
  - priority: 2
    match: {{host: "*"}}
    action: {{type: upstream, address: "127.0.0.1:{up.port}"}}"""
            with Proxy(rules, directory=d, workers=2, listener=tls_listener([(cert, key)])) as p:
                ctx = ssl.create_default_context(cafile=ca.cert)

                def open_tls():
                    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", p.port), timeout=10),
                                           server_hostname="load.example.com")
                tunnels = []
                for _ in range(20):
                    s = open_tls()
                    k = base64.b64encode(os.urandom(16)).decode()
                    s.sendall((f"GET /ws HTTP/1.1\r\nHost: load.example.com\r\nConnection: Upgrade\r\n"
                               f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                               f"Sec-WebSocket-Key: {k}\r\n\r\n").encode())
                    r = HReader(s)
                    self.assertEqual(r.head()[0], 101)
                    tunnels.append((s, r))
                results = {"ok": 0, "failed": [], "after_reload": 0}
                stop = [time.monotonic() + 20]  # bounded in time (until 1 s after the reload) ...
                reloaded = threading.Event()
                lock = threading.Lock()

                def load():
                    s = open_tls()
                    r = HReader(s)
                    for _ in range(20000):  # ... and in count
                        if time.monotonic() > stop[0]:
                            break
                        try:
                            s.sendall(b"GET /x HTTP/1.1\r\nHost: load.example.com\r\n\r\n")
                            status = r.response()[0]
                        except OSError as e:
                            status = repr(e)
                        with lock:
                            if status == 200:
                                results["ok"] += 1
                                results["after_reload"] += reloaded.is_set()
                            else:
                                results["failed"].append(status)
                    s.close()
                threads = [threading.Thread(target=load) for _ in range(4)]
                for t in threads:
                    t.start()
                time.sleep(0.3)
                second = ca.leaf("v2", ["load.example.com"])
                shutil.copy(second[1], key + ".tmp")
                shutil.copy(second[0], cert + ".tmp")
                os.replace(key + ".tmp", key)
                os.replace(cert + ".tmp", cert)
                p.proc.send_signal(signal.SIGHUP)
                self.assertTrue(wait_until(lambda: "certificates reloaded" in p.stderr()))
                reloaded.set()
                stop[0] = min(stop[0], time.monotonic() + 1.0)
                for t in threads:
                    t.join(30)
                self.assertEqual(results["failed"], [])
                self.assertGreater(results["ok"], 100)
                self.assertGreater(results["after_reload"], 50)  # the load ran across the reload
                for s, r in tunnels:  # every tunnel still open and echoing
                    s.sendall(ws_frame(1, b"still here"))
                    self.assertEqual(read_frame(r)[2], b"still here")
                    s.close()
                new = s_client(p.port, "-servername", "load.example.com", wait=0.1)
                m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", new, re.S)
                serial = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=m.group(0),
                                        capture_output=True, text=True).stdout
                self.assertEqual(int(serial.strip().split("=")[1], 16), ca.serial)  # v2's


if __name__ == "__main__":
    unittest.main()
