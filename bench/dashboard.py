#!/usr/bin/env python3
"""Dashboard cost at a large registry, all on loopback.

A router with N sessions (100,000 by default, written straight into its SQLite file before it
starts) answers GET /dashboard/snapshot: the time of one snapshot (first page, a search that
matches 10 sessions, a deep page, sort by activity) and the control plane's CPU time per
snapshot (from /proc, over R snapshots). The event stream sends one such snapshot a second
per open window. No peer has a dashboard of this kind, so there is no side-by-side ratio.

    /usr/bin/python3 bench/dashboard.py [--sessions 100000] [--reps 20]
"""
import argparse
import os
import sqlite3
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("SESSIONGATE_BIN", os.path.join(ROOT, "build", "release", "sessiongate"))
from harness import SESSION_RULES, Proxy, Reader, connect  # noqa: E402


def call(p, method, path, headers, body=b""):
    with connect(p.admin_port) as s:
        hs = {"Host": "a", "Connection": "close", **headers}
        if body:
            hs["Content-Length"] = str(len(body))
        s.sendall((f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs.items())
                   + "\r\n").encode() + body)
        return Reader(s).response(method)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=100000)
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    p = Proxy(SESSION_RULES, workers=1)
    try:
        p.register("bulk-c", 9)
        p.stop()
        db = sqlite3.connect(p.db)
        now = int(time.time() * 1000)
        (version,) = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        db.executemany("INSERT INTO sessions (id, container_id, labels, idle_ttl, expires_at, last_active_at, "
                       "created_at, updated_at, version) VALUES (?,?,?,?,?,?,?,?,?)",
                       ((f"bulk-{i:06d}", "bulk-c", "{}", 0, 0, 0, now, now, version + 1 + i)
                        for i in range(args.sessions)))
        db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (version + args.sessions + 1,))
        db.commit()
        db.close()
        p.start()
        st, h, _ = call(p, "POST", "/dashboard/login", {"Content-Type": "application/x-www-form-urlencoded"},
                        b"token=" + Proxy.TOKEN.encode())
        assert st == 303, st
        cookie = {"Cookie": h["set-cookie"].split(";", 1)[0]}
        print(f"| snapshot at {args.sessions:,} sessions | median ms | max ms | router CPU ms per snapshot | bytes |")
        print("|---|---|---|---|---|")
        for name, query in (("first page", ""), ("search (10 match)", "q=bulk-04242"),
                            ("page 1,000", "page=1000"), ("sort=active", "sort=active")):
            times = []
            cpu0 = cpu_seconds(p.proc.pid)
            for _ in range(args.reps):
                t0 = time.perf_counter()
                st, _, body = call(p, "GET", "/dashboard/snapshot?" + query, cookie)
                times.append((time.perf_counter() - t0) * 1000)
                assert st == 200, (st, body[:200])
            cpu = (cpu_seconds(p.proc.pid) - cpu0) * 1000 / args.reps
            print(f"| {name} | {statistics.median(times):.1f} | {max(times):.1f} | {cpu:.1f} | {len(body):,} |")
    finally:
        p.stop()


if __name__ == "__main__":
    main()
