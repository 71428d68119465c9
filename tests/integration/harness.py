"""Test harness: starts the real sessiongate binary and real upstream servers on loopback.

Only the standard library is used, so the tests run on a bare Debian python3.
"""
import base64
import hashlib
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

BIN = os.environ.get("SESSIONGATE_BIN", os.path.join(os.path.dirname(__file__), "../../build/release/sessiongate"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout=10.0, step=0.02):
    """Polls pred() until it is true or `timeout` passes; returns its last value. Tests wait
    on the condition they need, never for a fixed time."""
    end = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() > end:
            return value
        time.sleep(step)


def pct(values, p):
    """The p-th percentile (nearest rank) of `values`."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"port {port} did not open")



SESSION_RULES = """  - priority: 5
    match: {host: "edit.*.example.com", path: "/session/*"}
    action: {type: session, from: path}
  - priority: 10
    match: {host: "*.preview.example.com"}
    action: {type: session, from: host}
  - priority: 20
    match: {host: "strip.example.com", path: "/s/*"}
    action: {type: session, from: path, strip_prefix: true, host_header: upstream}
  - priority: 90
    match: {host: "edit.*.example.com"}
    action: {type: fixed, status: 404, page: edit-help}
"""

class Proxy:
    """The real binary with a generated config. `rules` is YAML text for the rules key."""

    TOKEN = "test-admin-token-0123456789"

    def __init__(self, rules, extra="", workers=1, admin=True, directory=None, start=True,
                 rlimit_nofile=None, listener="", more_listeners="", admin_extra=""):
        """`listener`: more keys of the main listener, as inline YAML (`tls: {...}`);
        `more_listeners`: further list items, as YAML lines (`  - {address: ...}`)."""
        self.rules, self.extra, self.workers, self.has_admin = rules, extra, workers, admin
        self.listener, self.more_listeners = listener, more_listeners
        self.admin_extra = admin_extra  # more keys of `admin`, as inline YAML
        self.rlimit_nofile = rlimit_nofile  # soft = hard file-descriptor limit for the router
        self.port = free_port()
        self.admin_port = free_port() if admin else None
        self.dir = directory or tempfile.mkdtemp(prefix="sg-test-")
        self.config = os.path.join(self.dir, "config.yaml")
        self.db = os.path.join(self.dir, "sessiongate.db")
        self._write_config()
        self.log = open(os.path.join(self.dir, "stderr.log"), "a+")
        self.proc = None
        self._started_once = False
        if start:
            self.start()

    def _write_config(self):
        extra = self.extra
        if self.has_admin:
            more = f", {self.admin_extra}" if self.admin_extra else ""
            extra += f"\nadmin: {{address: 127.0.0.1:{self.admin_port}, token: {self.TOKEN}{more}}}\n"
        if "security:" not in extra:
            extra += '\nsecurity: {upstream_allow_cidrs: ["127.0.0.0/8"]}\n'
        if "store:" not in extra:
            extra += f"\nstore: {{path: {self.db}}}\n"
        with open(self.config, "w") as f:
            main = f"address: 127.0.0.1:{self.port}" + (f", {self.listener}" if self.listener else "")
            f.write(f"workers: {self.workers}\nlisteners:\n  - {{{main}}}\n{self.more_listeners}\n"
                    f"{extra}\nrules:\n{self.rules}\n")

    def start(self):
        # free_port() only proposes a port; another process may take it before the router
        # binds. On the first start the router then moves to other ports; a restart keeps
        # its ports (tests hold them), so a collision there is an error.
        for _ in range(10):
            self.log.seek(0, os.SEEK_END)
            offset = self.log.tell()
            limit = self.rlimit_nofile
            preexec = None if limit is None else (
                lambda: __import__("resource").setrlimit(__import__("resource").RLIMIT_NOFILE, (limit, limit)))
            self.proc = subprocess.Popen([BIN, "serve", "--config", self.config], stdout=self.log,
                                         stderr=self.log, preexec_fn=preexec)
            state = self._wait_serving(offset)
            if state == "serving":
                self._started_once = True
                return
            self.log.seek(offset)
            output = self.log.read()
            if state == "in use" and not self._started_once:
                self.port = free_port()
                self.admin_port = free_port() if self.has_admin else None
                self._write_config()
                continue
            self.proc.kill()
            raise RuntimeError("proxy did not start: " + output)
        raise RuntimeError("proxy did not start: no free port found")

    def _wait_serving(self, offset, timeout=10.0):
        """'serving' once this run logged that it listens, 'in use' if it exited on a port
        another process holds, 'failed' otherwise."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.log.flush()
            self.log.seek(offset)
            text = self.log.read()
            if re.search(rf"serving on https?://127\.0\.0\.1:{self.port} ", text):
                if self.admin_port:
                    wait_port(self.admin_port)
                return "serving"
            if self.proc.poll() is not None:
                return "in use" if "Address already in use" in text else "failed"
            time.sleep(0.01)
        return "failed"

    def admin(self, method, path, body=None, token=None, raw=None):
        """One admin API call; returns (status, parsed JSON or None)."""
        import json as _json
        with connect(self.admin_port) as s:
            data = b"" if body is None else (body if isinstance(body, bytes) else _json.dumps(body).encode())
            tok = self.TOKEN if token is None else token
            head = f"{method} {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n"
            if tok:
                head += f"Authorization: Bearer {tok}\r\n"
            if data or method in ("PUT", "POST"):
                head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            s.sendall(raw if raw is not None else head.encode() + b"\r\n" + data)
            status, headers, rbody = Reader(s).response()
            try:
                return status, (_json.loads(rbody) if rbody else None)
            except ValueError:
                return status, rbody

    def register(self, cid, port, status="ready", lease="1h", host="127.0.0.1"):
        st, body = self.admin("PUT", f"/v1/containers/{cid}",
                              {"address": f"{host}:{port}", "status": status, "lease_ttl": lease})
        assert st in (200, 201), (st, body)
        return body

    def session(self, sid, cid, **fields):
        st, body = self.admin("PUT", f"/v1/sessions/{sid}", dict(container_id=cid, **fields))
        assert st in (200, 201), (st, body)
        return body

    def rss_kib(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def metrics(self):
        """(name -> value, text) from the admin /metrics endpoint."""
        with connect(self.admin_port) as s:
            s.sendall(f"GET /metrics HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {Proxy.TOKEN}\r\n"
                      "Connection: close\r\n\r\n".encode())
            status, headers, body = Reader(s).response()
        assert status == 200, status
        values = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values, body.decode()

    def wait_metric(self, name, value, timeout=5.0):
        """Polls until metric `name` equals `value`; returns the last value seen."""
        deadline = time.time() + timeout
        while True:
            got = self.metrics()[0].get(name)
            if got == value or time.time() > deadline:
                return got
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.seek(0)
        return self.proc.returncode

    def stderr(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


def upstream_rule(port, priority=10, host=None, path=None, extra=""):
    match = ""
    if host or path:
        parts = []
        if host:
            parts.append(f'host: "{host}"')
        if path:
            parts.append(f'path: "{path}"')
        match = "    match: {" + ", ".join(parts) + "}\n"
    return (f"  - priority: {priority}\n{match}"
            f"    action: {{type: upstream, address: 127.0.0.1:{port}{extra}}}\n")


# ---- raw client helpers -------------------------------------------------------------------

def connect(port, timeout=10.0, source=None):
    """A client connection; `source` picks the loopback address it comes from (127.0.0.2...)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_until_close(s, limit=1 << 26):
    data = b""
    while len(data) < limit:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


class LineReader:
    """Buffered reads off a socket: lines (CRLF) and exact byte counts."""

    buf = b""

    def _fill(self):
        raise NotImplementedError

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exactly(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


class Reader(LineReader):
    """Reads HTTP/1.1 responses off a socket, one at a time (keep-alive aware)."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def head(self):
        status_line = self.line()
        parts = status_line.split(b" ", 2)
        status = int(parts[1])
        headers = []
        while True:
            line = self.line()
            if not line:
                break
            k, v = line.split(b":", 1)
            headers.append((k.decode().lower(), v.strip().decode()))
        return status, headers

    def response(self, method="GET"):
        status, headers = self.head()
        while 100 <= status < 200 and status != 101:
            status, headers = self.head()
        h = dict(headers)
        body = b""
        if method == "HEAD" or status in (204, 304) or status == 101:
            pass
        elif h.get("transfer-encoding") == "chunked":
            while True:
                size = int(self.line().split(b";")[0], 16)
                if size == 0:
                    while self.line():
                        pass
                    break
                body += self.exactly(size)
                assert self.exactly(2) == b"\r\n"
        elif "content-length" in h:
            body = self.exactly(int(h["content-length"]))
        else:
            try:
                while True:
                    self._fill()
            except EOFError:
                pass
            body, self.buf = self.buf, b""
        return status, h, body


def get(port, path, host, headers=None, source=None):
    """One GET on a fresh connection: (status, headers, body)."""
    with connect(port, source=source) as s:
        hs = {"Host": host, "Connection": "close"}
        hs.update(headers or {})
        s.sendall((f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs.items()) + "\r\n").encode())
        return Reader(s).response()


def request(port, method="GET", path="/", headers=None, body=b"", host="app.test"):
    with connect(port) as s:
        hs = {"Host": host, "Connection": "close"}
        hs.update(headers or {})
        if body:
            hs.setdefault("Content-Length", str(len(body)))
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs.items()) + "\r\n"
        s.sendall(head.encode() + body)
        return Reader(s).response(method)


class ProxyTest:
    """A test class holding `cls.p` (a Proxy) and `cls.up` (an Upstream), both closed at the
    end; `serve_session` points session `t` at the upstream through container `c`."""

    @classmethod
    def serve_session(cls, sid="t", cid="c"):
        cls.p.register(cid, cls.up.port)
        cls.p.session(sid, cid)

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.up.close()


# ---- upstream servers -----------------------------------------------------------------------

class Upstream:
    """A threaded TCP server; `handler(conn, server)` serves one accepted connection."""

    def __init__(self, handler, port=None):
        self.handler = handler
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port or 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(512)
        self.received = bytearray()  # the first 4 MiB, for inspection
        self.nbytes = 0
        self.connections = 0
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            self.handler(conn, self)
        except (OSError, EOFError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def record(self, data):
        with self.lock:
            self.nbytes += len(data)
            if len(self.received) < (4 << 20):
                self.received += data

    def close(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class ConnReader(LineReader):
    """Request reader for upstream handlers."""

    def __init__(self, conn, server=None):
        self.c = conn
        self.server = server
        self.buf = b""

    def _fill(self):
        chunk = self.c.recv(1 << 20)
        if not chunk:
            raise EOFError
        if self.server is not None:
            self.server.record(chunk)
        self.buf += chunk

    def discard(self, n):
        """Reads and drops n body bytes without keeping them (for huge bodies)."""
        take = min(n, len(self.buf))
        self.buf = self.buf[take:]
        n -= take
        view = bytearray(1 << 20)
        while n > 0:
            got = self.c.recv_into(view, min(n, len(view)))
            if not got:
                raise EOFError
            if self.server is not None:
                with self.server.lock:
                    self.server.nbytes += got
            n -= got

    def request(self, read_body=True):
        line = self.line()
        method, target, version = line.decode().split(" ")
        headers = []
        while True:
            l = self.line()
            if not l:
                break
            k, v = l.split(b":", 1)
            headers.append((k.decode().lower(), v.strip().decode()))
        h = dict(headers)
        body = b""
        if read_body:
            if h.get("transfer-encoding") == "chunked":
                while True:
                    size = int(self.line(), 16)
                    if size == 0:
                        self.line()
                        break
                    body += self.exactly(size)
                    self.exactly(2)
            elif "content-length" in h:
                n = int(h["content-length"])
                if n > (16 << 20):
                    self.discard(n)  # huge bodies are counted, not kept
                else:
                    body = self.exactly(n)
        return method, target, headers, body


def respond(conn, status=200, body=b"ok", headers=None, reason="OK"):
    hs = {"Content-Length": str(len(body)), "Content-Type": "text/plain"}
    hs.update(headers or {})
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs.items()) + "\r\n"
    conn.sendall(head.encode() + body)


def keepalive_server(app):
    """An upstream handler serving requests in a loop: app(method, target, headers, body, conn)
    returns (status, body, headers) or None when it answered by itself."""

    def handler(conn, server):
        r = ConnReader(conn, server)
        while True:
            method, target, headers, body = r.request()
            out = app(method, target, headers, body, conn)
            if out is not None:
                status, rbody, rheaders = out
                if method == "HEAD":
                    hs = {"Content-Length": str(len(rbody))}
                    hs.update(rheaders or {})
                    conn.sendall((f"HTTP/1.1 {status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs.items()) + "\r\n").encode())
                else:
                    respond(conn, status, rbody, rheaders)
            if dict(headers).get("connection") == "close":
                return

    return handler


# ---- WebSocket (RFC 6455) ---------------------------------------------------------------------

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ws_accept(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def ws_frame(opcode, payload, fin=True, mask=True):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws_read_frame(reader):
    """reader: an object with exactly(n). Returns (fin, opcode, payload)."""
    b0, b1 = reader.exactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", reader.exactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", reader.exactly(8))[0]
    key = reader.exactly(4) if b1 & 0x80 else None
    payload = reader.exactly(n)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bool(b0 & 0x80), b0 & 0x0F, payload


def ws_echo_handler(conn, server):
    """Upgrades, then echoes every frame back unmasked (fragments kept as fragments)."""
    r = ConnReader(conn, server)
    method, target, headers, _ = r.request(read_body=False)
    h = dict(headers)
    if h.get("upgrade", "").lower() != "websocket":
        respond(conn, 400, b"not a websocket request")
        return
    extra = ""
    if "sec-websocket-protocol" in h:
        extra = f"Sec-WebSocket-Protocol: {h['sec-websocket-protocol'].split(',')[0].strip()}\r\n"
    conn.sendall((f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Accept: {ws_accept(h['sec-websocket-key'])}\r\n{extra}"
                  f"X-Target: {target}\r\n\r\n").encode())
    ws_echo_frames(conn, r)


def ws_echo_frames(conn, r):
    """Echoes every frame read from `r` back unmasked until (and including) a close."""
    while True:
        fin, op, payload = ws_read_frame(r)
        if op == 8:
            conn.sendall(ws_frame(8, payload, mask=False))
            return
        conn.sendall(ws_frame(op, payload, fin=fin, mask=False))


def ws_upgrade(conn, server):
    """Upstream side: reads an upgrade request and answers 101. Returns the ConnReader."""
    r = ConnReader(conn, server)
    _, _, headers, _ = r.request(read_body=False)
    key = dict(headers)["sec-websocket-key"]
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Accept: {ws_accept(key)}\r\n\r\n").encode())
    return r


HALF_FRAME = ws_frame(2, b"x" * 100, mask=False)[:50]  # a binary frame cut in the middle


def ws_half_frame_handler(opened, sent=None):
    """An upstream that upgrades, waits for `opened` (so the bytes go through the tunnel, not
    with the 101), sends HALF_FRAME, sets `sent`, and then only reads until closed."""

    def handler(conn, server):
        r = ws_upgrade(conn, server)
        opened.wait(10)
        conn.sendall(HALF_FRAME)
        if sent is not None:
            sent.set()
        try:
            while r.exactly(1):
                pass
        except (OSError, EOFError, ValueError):
            pass

    return handler


def ws_connect(port, path="/ws", host="app.test", protocol=None):
    s = connect(port)
    key = base64.b64encode(os.urandom(16)).decode()
    extra = f"Sec-WebSocket-Protocol: {protocol}\r\n" if protocol else ""
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
               f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n{extra}\r\n").encode())
    r = Reader(s)
    status, headers = r.head()
    return s, r, status, dict(headers), key


def resp_encode(args):
    parts = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


def resp_command(sock_file, *args):
    """Sends one Redis command (RESP) and returns the decoded reply (errors as RuntimeError)."""
    sock_file.write(resp_encode(args))
    sock_file.flush()
    return resp_read(sock_file)


def resp_read(f):
    line = f.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [resp_read(f) for _ in range(n)]
    raise RuntimeError(f"bad RESP line {line!r}")


class RedisServer:
    """A real redis-server on a free loopback port, in its own directory. `persist` turns on
    the append-only file with fsync on every write (what the deployment guide recommends)."""

    def __init__(self, persist=False, extra=()):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="sg-redis-")
        self.persist = persist
        self.extra = list(extra)
        self.proc = None
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        # A proposed port may be taken by the time redis-server binds: on the first start it
        # moves to another one. The server must also be ours (its dir), not another test's.
        for _ in range(10):
            args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                    "--save", "", "--loglevel", "warning"]
            args += ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else ["--appendonly", "no"]
            log = open(os.path.join(self.dir, "redis.log"), "a")
            self.proc = subprocess.Popen(args + self.extra, stdout=log, stderr=log)
            log.close()  # the child holds its own copy
            end = time.time() + 10
            while time.time() < end and self.proc.poll() is None:
                try:
                    if self.cmd("CONFIG", "GET", "dir") == ["dir", self.dir]:
                        self.started = True
                        return
                except (OSError, RuntimeError):
                    pass
                time.sleep(0.02)
            self.proc.kill()
            self.proc.wait()
            if getattr(self, "started", False):
                break  # a restart keeps its port: tests and routers hold it
            self.port = free_port()
        raise RuntimeError("redis-server did not start")

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def cmd(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            f = s.makefile("rwb")
            return resp_command(f, *args)

    def pipeline(self, commands):
        """Many commands on one connection, replies read after all are sent."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            f = s.makefile("rwb")
            out = []
            for c in commands:
                f.write(resp_encode(c))
            f.flush()
            for _ in commands:
                out.append(resp_read(f))
            return out

    def client_ids(self, name_prefix, pid):
        """CLIENT LIST ids of connections named `name_prefix-<pid>`."""
        ids = []
        for line in self.cmd("CLIENT", "LIST").splitlines():
            fields = dict(kv.split("=", 1) for kv in line.split(" ") if "=" in kv)
            if fields.get("name") == f"{name_prefix}-{pid}":
                ids.append(fields["id"])
        return ids

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.kill(signal.SIGTERM)


def redis_store(redis, prefix="sg:", extra=""):
    return f"\nstore: {{type: redis, url: \"{redis.url}\", prefix: \"{prefix}\", check_interval: 200ms{extra}}}\n"
