#!/usr/bin/env python3
"""Shared-registry benchmark: routers on one real redis-server, all on loopback.

Reports (1) propagation latency: a change written through router A until router B routes it,
over N changes (creates and deletes); (2) resynchronisation of a whole registry (100,000
sessions by default): reading it at start, and again after the change feed is cut, with the
requests served during that resync. Writes a Markdown table to bench/results/.

    /usr/bin/python3 bench/registry_sync.py [--sessions 100000] [--changes 1000]
"""
import argparse
import datetime
import os
import re
import statistics
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("SESSIONGATE_BIN", os.path.join(ROOT, "build", "release", "sessiongate"))
from harness import SESSION_RULES, Proxy, RedisServer, Upstream, get, keepalive_server, pct, redis_store  # noqa: E402


def app(method, target, headers, body, conn):
    return 200, b"ok", None


def status(proxy, sid):
    return get(proxy.port, "/", f"{sid}.preview.example.com")[0]


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
    return False


def propagation(redis, up, changes):
    a = Proxy(SESSION_RULES, extra=redis_store(redis, prefix="prop:"))
    b = Proxy(SESSION_RULES, extra=redis_store(redis, prefix="prop:"))
    try:
        a.register("c1", up.port)
        times = []
        for i in range(changes // 2):
            t0 = time.monotonic()
            a.session(f"p{i}", "c1")
            assert wait_for(lambda: status(b, f"p{i}") == 200, 5)
            times.append(time.monotonic() - t0)
        for i in range(changes // 2):
            t0 = time.monotonic()
            a.admin("DELETE", f"/v1/sessions/p{i}")
            assert wait_for(lambda: status(b, f"p{i}") == 404, 5)
            times.append(time.monotonic() - t0)
        return times
    finally:
        a.stop()
        b.stop()


def populate(redis, n, prefix="big:"):
    now = int(time.time() * 1000)
    redis.pipeline([["HSET", f"{prefix}c:c1", "address", "127.0.0.1:1", "status", "ready", "generation", 1,
                     "lease_ttl", 86400000, "heartbeat_at", now, "created_at", now, "updated_at", now,
                     "version", 1],
                    ["ZADD", f"{prefix}containers", 0, "c1"]])
    batch = []
    for i in range(n):
        sid = f"s{i:07d}"
        batch.append(["HSET", f"{prefix}s:{sid}", "container_id", "c1", "labels", '{"tenant":"t%d"}' % (i % 100),
                      "idle_ttl", 0, "expires_at", 0, "last_active_at", now, "created_at", now,
                      "updated_at", now, "version", i + 2, "access", "", "link_epoch", 0, "lidx", ""])
        batch.append(["ZADD", f"{prefix}sessions", 0, sid])
        if len(batch) >= 20000:
            redis.pipeline(batch)
            batch = []
    if batch:
        redis.pipeline(batch)
    redis.cmd("SET", f"{prefix}version", n + 1)


def resync(redis, up, n):
    populate(redis, n)
    redis.cmd("HSET", "big:c:c1", "address", f"127.0.0.1:{up.port}")
    p = Proxy(SESSION_RULES, extra=redis_store(redis, prefix="big:"), workers=2)
    try:
        assert wait_for(lambda: "resync (connect)" in p.stderr(), 60)
        time.sleep(1.0)  # let the control plane finish and hand back transient memory
        log = p.stderr()
        load = re.search(r"registry: (\d+) sessions loaded in (\d+) ms", log)
        rss_mb = p.rss_kib() / 1024
        # Cut the change feed while requests flow; the router reads everything again.
        samples = []
        stop = threading.Event()

        def traffic():
            while not stop.is_set():
                t0 = time.monotonic()
                st = status(p, "s0000042")
                samples.append((t0, time.monotonic() - t0, st))

        t = threading.Thread(target=traffic)
        t.start()
        time.sleep(0.5)
        before = p.stderr().count("resync (reconnect)")
        cut = time.monotonic()
        for cid in redis.client_ids("sessiongate-feed", p.proc.pid):
            redis.cmd("CLIENT", "KILL", "ID", cid)
        assert wait_for(lambda: p.stderr().count("resync (reconnect)") > before, 60)
        done = time.monotonic()
        time.sleep(0.3)
        stop.set()
        t.join()
        line = [l for l in p.stderr().splitlines() if "resync (reconnect)" in l][-1]
        m = re.search(r"read in (\d+) ms, applied in (\d+) ms", line)
        during = [d for t0, d, _ in samples if cut <= t0 <= done]
        bad = [s for _, _, s in samples if s != 200]
        return {
            "load_sessions": int(load.group(1)), "load_ms": int(load.group(2)),
            "read_ms": int(m.group(1)), "apply_ms": int(m.group(2)), "line": line,
            "wall_ms": 1000 * (done - cut), "requests": len(during), "non200": len(bad),
            "p50_ms": 1000 * statistics.median(during) if during else 0,
            "max_ms": 1000 * max(during) if during else 0, "rss_mb": rss_mb,
        }
    finally:
        p.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=100000)
    ap.add_argument("--changes", type=int, default=1000)
    args = ap.parse_args()
    up = Upstream(keepalive_server(app))
    with RedisServer() as redis:
        times = propagation(redis, up, args.changes)
        r = resync(redis, up, args.sessions)
    up.close()
    ms = [1000 * t for t in times]
    rows = [
        ("propagation, write sent via A -> B routes it", f"{len(ms)} changes",
         f"median {statistics.median(ms):.2f} ms, p99 {pct(ms, 99):.2f} ms, max {max(ms):.2f} ms"),
        ("initial load at start (paged read + route build)", f"{r['load_sessions']:,} sessions",
         f"{r['load_ms']} ms"),
        ("resync after the feed is cut: read the store", f"{args.sessions:,} sessions", f"{r['read_ms']} ms"),
        ("resync: compare and apply on the control thread", "0 changed", f"{r['apply_ms']} ms"),
        ("cut -> resync applied (wall)", "", f"{r['wall_ms']:.0f} ms"),
        ("requests served during the resync", f"{r['requests']}",
         f"non-200: {r['non200']}, p50 {r['p50_ms']:.2f} ms, max {r['max_ms']:.2f} ms"),
        ("router RSS with the registry loaded", "", f"{r['rss_mb']:.0f} MB"),
    ]
    out = ["| measurement | size | result |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    table = "\n".join(out)
    print(table)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    path = os.path.join(ROOT, "bench", "results", f"{stamp}-registry-sync.md")
    with open(path, "w") as f:
        f.write(f"# Shared registry (Redis) — {stamp}\n\n`/usr/bin/python3 bench/registry_sync.py "
                f"--sessions {args.sessions} --changes {args.changes}`\n\n{table}\n\nlog: {r['line']}\n")
    print(f"written to {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
