"""Hostile slow clients (slowhttptest: slowloris, slow body, slow read) must not stop a
well-behaved client from being served, and memory stays bounded. The default run is shortened
(300 connections, 8 s per mode); SG_SLOW_FULL=1 runs 500 connections for 60 s per mode."""
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Proxy, Reader, Upstream, connect, keepalive_server, upstream_rule  # noqa: E402

FULL = os.environ.get("SG_SLOW_FULL") == "1"
CONNS = 500 if FULL else 300
SECONDS = 60 if FULL else 8
BODY = b"x" * 65536

MODES = {
    "slowloris": ["-H", "-i", "1", "-x", "24"],
    "slow_body": ["-B", "-i", "1", "-x", "24", "-s", "65536", "-t", "POST"],
    "slow_read": ["-X", "-k", "2", "-n", "2", "-w", "16", "-y", "32", "-z", "16"],
}


def app(method, target, headers, body, conn):
    return 200, BODY if target == "/big" else b"ok", None


class SlowClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tool = shutil.which("slowhttptest")
        if not cls.tool:
            raise RuntimeError("slowhttptest is missing: run scripts/install-deps")

    def run_mode(self, name, args):
        with Upstream(keepalive_server(app)) as up, \
                Proxy(upstream_rule(up.port),
                      extra="timeouts: {request_head: 5s, body_idle: 5s}\nlimits: {per_client_connections: 4000}",
                      workers=2) as p:
            rss_before = p.rss_kib()
            path = "/big" if name == "slow_read" else "/"
            cmd = [self.tool, *args, "-c", str(CONNS), "-r", str(max(100, CONNS // 2)), "-l", str(SECONDS),
                   "-u", f"http://127.0.0.1:{p.port}{path}", "-p", "3"]
            tool = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            output = []
            reader = threading.Thread(target=lambda: output.append(tool.stdout.read()))
            reader.start()
            latencies, failures = [], 0
            # The attack is under way once most of its connections are open at the proxy.
            active = "sessiongate_connections_active"
            ramp_end = time.time() + SECONDS / 2
            peak_active = 0
            while time.time() < ramp_end and peak_active < CONNS // 2:
                peak_active = max(peak_active, p.metrics()[0].get(active, 0))
                time.sleep(0.05)
            self.assertGreaterEqual(peak_active, CONNS // 2, f"{name}: the attack never connected")
            end = time.time() + SECONDS - 2
            peak_rss = rss_before
            while time.time() < end:
                t0 = time.time()
                try:
                    with connect(p.port, timeout=5) as s:
                        s.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
                        status, _, body = Reader(s).response()
                    if status != 200:
                        failures += 1
                    latencies.append(time.time() - t0)
                except OSError:
                    failures += 1
                peak_rss = max(peak_rss, p.rss_kib())
                time.sleep(0.1)
            self.assertEqual(tool.wait(SECONDS + 30), 0, f"{name}: slowhttptest failed")
            reader.join()
            report = re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", output[0]).decode(errors="replace")
            connected = [int(n) for n in re.findall(r"connected:\s+(\d+)", report)]
            # "Hit test time limit", or "No open connections left" when the router's head
            # timeout cut every slowloris connection off first; anything else is the tool failing.
            self.assertRegex(report, r"Exit status: (Hit test time limit|No open connections left)")
            self.assertGreaterEqual(max(connected, default=0), CONNS // 2,
                                    f"{name}: slowhttptest held too few connections")
            latencies.sort()
            p50 = latencies[len(latencies) // 2] * 1000
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
            print(f"\n{name}: {CONNS} attacking connections for {SECONDS}s; well-behaved client "
                  f"{len(latencies)} requests, {failures} failed, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                  f"max {latencies[-1] * 1000:.1f} ms; attack connections at the proxy >= {peak_active:.0f}, "
                  f"held by the tool at most {max(connected)}; proxy RSS {rss_before} -> peak {peak_rss} KiB")
            self.assertEqual(failures, 0)
            self.assertGreater(len(latencies), 10)
            self.assertLess(peak_rss - rss_before, 128 * 1024, "memory grew without bound")

    def test_slowloris(self):
        self.run_mode("slowloris", MODES["slowloris"])

    def test_slow_body(self):
        self.run_mode("slow_body", MODES["slow_body"])

    def test_slow_read(self):
        self.run_mode("slow_read", MODES["slow_read"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
