#!/usr/bin/env python3
"""Wake-on-request benchmark, all on loopback.

(1) Release latency: N requests (1,000 by default) are held for one sleeping session; then the
    container is registered `ready` through the admin API, and each held request's first
    response byte is timed from the moment that registration was sent. It reports p50, p99
    and the last. The upstream is nginx, so the time is the router's: the admin write, the
    route push to the workers, N timers, N upstream connects and forwards.
(2) Memory per held request: the router's RSS with N requests held, minus its RSS before,
    divided by N. This includes each client connection and its buffered head.
(3) Wake storm: S sleeping sessions (2,000 by default) are hit at once. The platform answers
    each call after 10 ms, and the report gives how many calls ran at once at most (the router
    caps them at 32), the calls per second, and that every session got exactly one call.

No peer proxy wakes containers, so there is no side-by-side ratio.

    /usr/bin/python3 bench/wake.py [--held 1000] [--sessions 2000] [--out DIR]
"""
import argparse
import http.server
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("SESSIONGATE_BIN", os.path.join(ROOT, "build", "release", "sessiongate"))
from harness import SESSION_RULES, Proxy, connect, free_port, pct, wait_port, wait_until  # noqa: E402


class Platform:
    """Accepts every call (202) after `delay` seconds; counts calls and the most at once."""

    def __init__(self, delay=0.0):
        self.delay, self.calls, self.now, self.peak = delay, [], 0, 0
        self.lock = threading.Lock()
        me = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with me.lock:
                    me.now += 1
                    me.peak = max(me.peak, me.now)
                    me.calls.append((time.monotonic(), body["session"]))
                time.sleep(me.delay)
                with me.lock:
                    me.now -= 1
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        http.server.ThreadingHTTPServer.request_queue_size = 1024
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def start_nginx(work):
    port = free_port()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx.err warn;\n"
                "worker_rlimit_nofile 20000; events { worker_connections 10000; }\n"
                f"http {{ access_log off; client_body_temp_path {work}/b; proxy_temp_path {work}/p;\n"
                f"fastcgi_temp_path {work}/f; uwsgi_temp_path {work}/u; scgi_temp_path {work}/s;\n"
                f"server {{ listen 127.0.0.1:{port} backlog=4096; location / {{ return 200 \"ok\"; }} }} }}\n")
    proc = subprocess.Popen(["nginx", "-p", work, "-c", conf, "-g", "daemon off;"])
    wait_port(port)
    return proc, port


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def release_latency(held, work):
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    platform = Platform()
    nginx, up_port = start_nginx(work)
    p = Proxy(SESSION_RULES, extra=(
        f"wake:\n  webhook: {{url: \"http://127.0.0.1:{platform.port}/h\"}}\n  hold_timeout: 60s\n"
        f"  max_held_per_session: {held}\nlimits: {{per_client_connections: 0}}\n"))
    try:
        p.register("c", up_port, status="sleeping")
        p.session("s", "c")
        base = rss_kib(p.proc.pid)
        sel = selectors.DefaultSelector()
        socks = []
        for _ in range(held):
            s = connect(p.port)
            s.sendall(b"GET / HTTP/1.1\r\nHost: s.preview.example.com\r\n\r\n")
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            socks.append(s)
        if not wait_until(lambda: p.metrics()[0].get("sessiongate_held_requests") == held, 60):
            raise SystemExit("the requests were not all held")
        per_held = (rss_kib(p.proc.pid) - base) * 1024 / held
        first = {}
        t0 = time.monotonic()
        with connect(p.admin_port) as a:
            body = json.dumps({"address": f"127.0.0.1:{up_port}", "status": "ready", "lease_ttl": "1h"}).encode()
            a.sendall(f"PUT /v1/containers/c HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {Proxy.TOKEN}\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                      .encode() + body)
            a.setblocking(False)
            sel.register(a, selectors.EVENT_READ)
            acked = None
            end = time.monotonic() + 30
            while len(first) < held and time.monotonic() < end:
                for key, _ in sel.select(1):
                    if key.fileobj is a:
                        acked = time.monotonic() - t0
                        sel.unregister(a)
                        continue
                    now = time.monotonic()
                    if key.fileobj not in first:
                        first[key.fileobj] = now - t0
                        sel.unregister(key.fileobj)
        ms = [v * 1000 for v in first.values()]
        for s in socks:
            s.close()
        return {"held": held, "answered": len(ms), "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99),
                "max_ms": max(ms), "min_ms": min(ms), "ack_ms": (acked or 0) * 1000, "bytes_per_held": per_held, "calls": len(platform.calls)}
    finally:
        p.stop()
        nginx.terminate()
        nginx.wait()
        platform.server.shutdown()


def storm(sessions, work):
    platform = Platform(delay=0.01)
    p = Proxy(SESSION_RULES, extra=(
        f"wake:\n  webhook: {{url: \"http://127.0.0.1:{platform.port}/h\", timeout: 30s}}\n"
        "  hold_timeout: 60s\n  retries: 0\nlimits: {per_client_connections: 0}\n"
        "store: {path: " + os.path.join(work, "storm.db") + ", synchronous: normal}\n"))
    try:
        for i in range(sessions):
            p.session(f"z{i}", f"zc{i}")  # containers never registered: each request wakes one
        socks = []
        t0 = time.monotonic()
        for i in range(sessions):
            s = connect(p.port)
            s.sendall(f"GET / HTTP/1.1\r\nHost: z{i}.preview.example.com\r\n\r\n".encode())
            socks.append(s)
        if not wait_until(lambda: len(platform.calls) >= sessions, 120):
            raise SystemExit(f"only {len(platform.calls)} of {sessions} calls made")
        took = platform.calls[-1][0] - t0
        distinct = len({s for _, s in platform.calls})
        for s in socks:
            s.close()
        return {"sessions": sessions, "calls": len(platform.calls), "distinct": distinct,
                "peak_at_once": platform.peak, "calls_per_s": len(platform.calls) / took}
    finally:
        p.stop()
        platform.server.shutdown()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--held", type=int, default=1000)
    ap.add_argument("--sessions", type=int, default=2000)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sg-wake-bench-")
    try:
        r = release_latency(a.held, work)
        s = storm(a.sessions, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = (f"Wake on request (one worker; `python3 bench/wake.py --held {a.held} --sessions {a.sessions}`)\n\n"
            "| measure | value |\n|---|---|\n"
            f"| held requests released by one `ready` registration | {r['answered']:,} of {r['held']:,}"
            f" ({r['calls']} wake call) |\n"
            f"| registration sent → its admin answer (durable in SQLite, synchronous=full) | {r['ack_ms']:.1f} ms |\n"
            f"| registration sent → first response byte, first / p50 / p99 / last | {r['min_ms']:.1f} / "
            f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f} / {r['max_ms']:.1f} ms |\n"
            f"| memory per held request (connection + head) | {r['bytes_per_held']:,.0f} B |\n"
            f"| wake storm: sessions hit at once / platform calls / distinct sessions | {s['sessions']:,} /"
            f" {s['calls']:,} / {s['distinct']:,} |\n"
            f"| wake storm: most calls at once (cap 32), calls per second (10 ms each) | {s['peak_at_once']}"
            f" / {s['calls_per_s']:,.0f} |\n")
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, time.strftime("%Y-%m-%d-%H%M%S") + "-wake.md")
    with open(path, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
