#!/usr/bin/env python3
"""Syscalls per proxied request: strace -c -f attached to each proxy while reqs.py sends
exactly N keep-alive requests over C connections. Usage: syscalls.py [--n 20000] [--c 50]"""
import argparse, os, signal, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench

ap = argparse.ArgumentParser()
ap.add_argument("--targets", default="nginx,haproxy,caddy")
ap.add_argument("--n", type=int, default=20000)
ap.add_argument("--c", type=int, default=50)
ap.add_argument("--out", default=os.path.join(bench.HERE, "results", "syscalls"))
ap.add_argument("--extra", action="append", default=[])
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True); os.makedirs(bench.RUN, exist_ok=True)
defs = bench.server_defs()
for e in a.extra:
    name, port, cmd = e.split("=", 2)
    defs[name] = dict(port=int(port), cmd=__import__("shlex").split(cmd))
up = bench.Server("upstream", defs["upstream"]).start()
try:
    for t in a.targets.split(","):
        px = bench.Server(t, defs[t]).start()
        try:
            subprocess.run([sys.executable, os.path.join(bench.HERE, "reqs.py"), "--port", str(px.port),
                            "--n", "2000", "--c", str(a.c)], check=True, stdout=subprocess.DEVNULL)
            pids = [p for p in px.pids() if p != px.proc.pid] or [px.proc.pid]  # nginx: the worker
            if t != "nginx":
                pids = [px.proc.pid]
            f = os.path.join(a.out, "strace-%s-c%d.txt" % (t, a.c))
            st = subprocess.Popen(["strace", "-c", "-f", "-o", f] + sum([["-p", str(p)] for p in pids], []),
                                  stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            subprocess.run([sys.executable, os.path.join(bench.HERE, "reqs.py"), "--port", str(px.port),
                            "--n", str(a.n), "--c", str(a.c)], check=True)
            st.send_signal(signal.SIGINT); st.wait(30)
            calls = {}
            for line in open(f):
                p = line.split()
                if len(p) >= 5 and p[3].isdigit():
                    calls[p[-1]] = int(p[3])
            tot = calls.pop("total", sum(calls.values()))
            top = ", ".join("%s %.2f" % (k, v / a.n) for k, v in sorted(calls.items(), key=lambda kv: -kv[1])[:8])
            print("%-8s c=%d syscalls/request %.2f  [%s]" % (t, a.c, tot / a.n, top), flush=True)
        finally:
            px.stop()
finally:
    up.stop()
