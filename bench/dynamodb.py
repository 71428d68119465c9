#!/usr/bin/env python3
"""DynamoDB store benchmark, all on loopback, against dynalite (the DynamoDB-compatible server
the tests use), with items written the way a platform writes them (botocore, as vendored by
Debian's awscli).

(1) Data-plane throughput: the same 10,000 sessions in a SQLite-backed and in a
    DynamoDB-backed router, side by side in one run of the peers' harness (wrk, c=50,
    everything on one core, repetitions interleaved), as ratios to the upstream alone. Routes
    are in memory in both, so the two rows should match. The DynamoDB router revalidates what
    is in use every second as in production; its whole-table scan is set to 10 minutes so that
    dynalite's scan (a Node.js process sharing the machine) does not land inside a timed run.
(2) DynamoDB calls per second at 1,000 and 10,000 active sessions, by operation, at the
    default intervals (revalidate_interval 1 s, scan_interval 30 s, sessions.activity_interval
    5 s): every active session gets a request about every 2 s for a 30 s window, and the
    router's own sessiongate_dynamodb_requests_total counters give the rates.
(3) Outside writes: a new mapping and at once its first request (answered after an on-demand
    lookup of that item); a session in use whose container item is rewritten with a new
    address (as a container re-registering does), and a mapping deleted by a tool, each at a
    random moment of the feed's cycle; from the write's answer until the router routes
    accordingly; p50 / p99 over N changes each.

    /usr/bin/python3 bench/dynamodb.py [--reps 3] [--duration 8] [--changes 100] [--out DIR]
"""
import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.append("/usr/lib/python3/dist-packages")  # Debian's awscli (and its botocore)
from harness import Upstream, free_port, keepalive_server, pct, wait_port  # noqa: E402

BIN = os.environ.get("SESSIONGATE_BIN", os.path.join(ROOT, "build", "release", "sessiongate"))
DYNALITE = os.path.join(ROOT, "tests", "e2e", "node_modules", ".bin", "dynalite")
PEERS = os.path.join(HERE, "peers", "bench.py")
SESSIONS_T, CONTAINERS_T = "bench-thread-mappings", "bench-containers"
TOKEN = "bench-admin-token-0123456789"
UPSTREAM = 18080  # the peers' nginx upstream
ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-west-2",
       "AWS_EC2_METADATA_DISABLED": "true"}


def ddb_client(port):
    import awscli.botocore.session as bs
    return bs.get_session().create_client(
        "dynamodb", region_name="us-west-2", endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="bench", aws_secret_access_key="bench")


class Dynalite:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(["taskset", "-c", "1", DYNALITE, "--port", str(self.port),
                                      "--host", "127.0.0.1", "--createTableMs", "0"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        self.db = ddb_client(self.port)
        for table, key in ((SESSIONS_T, "threadId"), (CONTAINERS_T, "containerId")):
            self.db.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                                 AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                                 KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])

    def container(self, cid, address, port):
        self.db.put_item(TableName=CONTAINERS_T, Item={
            "containerId": {"S": cid}, "containerIp": {"S": address}, "port": {"N": str(port)},
            "status": {"S": "ready"}})

    def map_threads(self, ids, cid, container_of=None):
        items = [{"PutRequest": {"Item": {"threadId": {"S": sid}, "containerId": {
            "S": container_of(n) if container_of else cid}}}} for n, sid in enumerate(ids)]
        for k in range(0, len(items), 25):
            todo = {SESSIONS_T: items[k:k + 25]}
            while todo:
                todo = self.db.batch_write_item(RequestItems=todo).get("UnprocessedItems")

    def stop(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def config(port, store, admin_port=None):
    admin = f"admin: {{address: 127.0.0.1:{admin_port}, token: {TOKEN}}}\n" if admin_port else ""
    return f"""workers: 1
listeners:
  - address: 127.0.0.1:{port}
store: {store}
security: {{upstream_allow_cidrs: ["127.0.0.0/8"]}}
limits: {{max_connections: 20000, per_client_connections: 0}}
{admin}rules:
  - priority: 1
    match: {{host: "*.0.0.1"}}
    action: {{type: session, from: host}}
"""


def dynamo_store(ddb, scan="30s"):
    return (f"{{type: dynamodb, region: us-west-2, endpoint: \"http://127.0.0.1:{ddb.port}\", "
            f"tables: {{sessions: {SESSIONS_T}, containers: {CONTAINERS_T}}}, scan_interval: {scan}}}")


class Router:
    def __init__(self, work, name, store, port=None, admin=True):
        self.port = port or free_port()
        self.admin_port = free_port() if admin else None
        self.cfg = os.path.join(work, name + ".yaml")
        with open(self.cfg, "w") as f:
            f.write(config(self.port, store, self.admin_port))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([BIN, "serve", "--config", self.cfg], env=dict(os.environ, **ENV),
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port, 60)
        if self.admin_port:
            wait_port(self.admin_port, 60)
        return self

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)

    def admin(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=30)
        c.request(method, path, json.dumps(body) if body is not None else None,
                  {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def metrics(self):
        st, text = self.admin("GET", "/metrics")
        values = {}
        for line in text.decode().splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                values[k] = float(v)
        return values


class Client:
    """Keep-alive GETs with a chosen Host, reconnecting when the router closes."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def get(self, host):
        for _ in range(2):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                self.c.request("GET", "/", headers={"Host": host})
                r = self.c.getresponse()
                return r.status, r.read()
            except (OSError, http.client.HTTPException):
                self.c = None
        raise SystemExit(f"router on {self.port} does not answer")


def sqlite_sessions(work, ids, port):
    """A SQLite-backed router with the same sessions, written through its admin API."""
    r = Router(work, "sqlite", f"{{path: {os.path.join(work, 'bench.db')}, synchronous: normal}}", port).start()
    try:
        st, body = r.admin("PUT", "/v1/containers/bench-upstream",
                           {"address": f"127.0.0.1:{UPSTREAM}", "lease_ttl": "24h"})
        assert st in (200, 201), body
        c = http.client.HTTPConnection("127.0.0.1", r.admin_port, timeout=30)
        for sid in ids:
            c.request("PUT", f"/v1/sessions/{sid}", json.dumps({"container_id": "bench-upstream"}),
                      {"Authorization": f"Bearer {TOKEN}"})
            resp = c.getresponse()
            resp.read()
            assert resp.status in (200, 201), resp.status
    finally:
        r.stop()
    return Router(work, "sqlite-run", f"{{path: {os.path.join(work, 'bench.db')}, synchronous: normal}}",
                  port, admin=False)


def throughput(work, ddb, ids, reps, duration, out):
    sq = sqlite_sessions(work, ids, 18084)
    dy = Router(work, "dynamodb-run", dynamo_store(ddb, scan="10m"), 18087, admin=False)
    text = subprocess.run(
        [sys.executable, PEERS, "throughput", "--targets", "direct,sg-sqlite,sg-dynamodb",
         "--layouts", "onecore", "--conns", "50", "--reps", str(reps), "--duration", str(duration),
         "--extra", f"sg-sqlite=18084={BIN} serve --config {sq.cfg}",
         "--extra", f"sg-dynamodb=18087={BIN} serve --config {dy.cfg}",
         "--out", os.path.join(out, "dynamodb-throughput")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ, **ENV)).stdout
    with open(os.path.join(out, "dynamodb-throughput.txt"), "w") as f:
        f.write(text)
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| (sg-sqlite|sg-dynamodb|direct) \| ([\d,]+) .*?\| ([\d.]+) ", line)
        if m:
            rows[m.group(1)] = (int(m.group(2).replace(",", "")), float(m.group(3)))
    if "sg-sqlite" not in rows or "sg-dynamodb" not in rows:
        print(text[-3000:])
        raise SystemExit("throughput run gave no sessiongate rows")
    return rows


def calls_per_second(work, ddb, ids, active, window=30.0, warm=12.0):
    r = Router(work, f"calls-{active}", dynamo_store(ddb)).start()
    try:
        client = Client(r.port)
        stop = threading.Event()
        hosts = [f"{sid}.0.0.1" for sid in ids[:active]]
        period = 2.0

        def traffic():
            while not stop.is_set():
                t0 = time.monotonic()
                for h in hosts:
                    if stop.is_set():
                        return
                    client.get(h)
                left = period - (time.monotonic() - t0)
                if left > 0:
                    stop.wait(left)

        t = threading.Thread(target=traffic, daemon=True)
        t.start()
        time.sleep(warm)  # every session seen and reported once
        m0, t0 = r.metrics(), time.monotonic()
        time.sleep(window)
        m1, t1 = r.metrics(), time.monotonic()
        stop.set()
        t.join(60)
    finally:
        r.stop()
    rates = {}
    for k, v in m1.items():
        m = re.match(r'sessiongate_dynamodb_requests_total\{action="(\w+)"\}', k)
        if m and v - m0.get(k, 0) > 0:
            rates[m.group(1)] = (v - m0.get(k, 0)) / (t1 - t0)
    return rates, m1.get("sessiongate_dynamodb_in_use_sessions", 0)


def propagation(work, ddb, upstream, changes):
    marker = Upstream(keepalive_server(lambda *a: (200, b"moved", None)))
    r = Router(work, "propagation", dynamo_store(ddb)).start()
    ids = [f"prop-{i:04d}" for i in range(changes)]
    stop = threading.Event()
    first = []
    try:
        client = Client(r.port)
        # A new mapping, then at once the person's first request: it waits for the lookup.
        for i, sid in enumerate(ids):
            ddb.container(f"prop-c{i:04d}", "127.0.0.1", upstream)
            ddb.map_threads([sid], f"prop-c{i:04d}")
            t0 = time.monotonic()
            st = client.get(f"{sid}.0.0.1")[0]
            first.append(time.monotonic() - t0)
            if st != 200:
                raise SystemExit(f"first request for {sid}, written a moment before: {st}")

        def keep_in_use():  # every session stays "in use" (revalidated) while others are timed
            c = Client(r.port)
            while not stop.wait(1.0):
                for sid in ids:
                    c.get(f"{sid}.0.0.1")

        threading.Thread(target=keep_in_use, daemon=True).start()
        moved, deleted = [], []
        rnd = random.Random(7)
        for i, sid in enumerate(ids):
            # A random moment in the feed's cycle: each write would otherwise land just after
            # the round that showed the previous one, a whole interval before the next.
            time.sleep(rnd.uniform(0, 1.0))
            ddb.container(f"prop-c{i:04d}", "127.0.0.1", marker.port)
            t0 = time.monotonic()
            while client.get(f"{sid}.0.0.1")[1] != b"moved":
                time.sleep(0.002)
            moved.append(time.monotonic() - t0)
            time.sleep(rnd.uniform(0, 1.0))
            ddb.db.delete_item(TableName=SESSIONS_T, Key={"threadId": {"S": sid}})
            t0 = time.monotonic()
            while client.get(f"{sid}.0.0.1")[0] != 404:
                time.sleep(0.002)
            deleted.append(time.monotonic() - t0)
    finally:
        stop.set()
        r.stop()
        marker.close()
    return first, moved, deleted


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--sessions", type=int, default=10000)
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--out", default=os.path.join(HERE, "results", time.strftime("dynamodb-%Y-%m-%d-%H%M%S")))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sg-bench-ddb-")
    ddb = Dynalite()
    try:
        ids = ["127"] + [f"s-{i:06d}" for i in range(a.sessions - 1)]
        ddb.container("bench-upstream", "127.0.0.1", UPSTREAM)
        ddb.map_threads(ids, "bench-upstream")
        rows = throughput(work, ddb, ids, a.reps, a.duration, a.out)
        # The peers' nginx upstream stopped with the throughput run: one of our own from here.
        base = Upstream(keepalive_server(lambda *x: (200, b"ok", None)))
        ddb.container("bench-upstream", "127.0.0.1", base.port)
        calls = {n: calls_per_second(work, ddb, ids, n) for n in (1000, min(10000, a.sessions))}
        first, moved, deleted = propagation(work, ddb, base.port, a.changes)
        base.close()
    finally:
        ddb.stop()
    lines = [f"{a.sessions:,} sessions in dynalite; one worker; loopback.\n",
             "| measure | SQLite store | DynamoDB store | DynamoDB / SQLite |", "|---|---|---|---|"]
    sq, dy = rows["sg-sqlite"], rows["sg-dynamodb"]
    lines.append(f"| req/s, wrk c=50, one core (median of {a.reps}) | {sq[0]:,} | {dy[0]:,} | {dy[0] / sq[0]:.3f} |")
    lines.append(f"| ratio to the upstream alone | {sq[1]:.3f} | {dy[1]:.3f} | {dy[1] / sq[1]:.3f} |")
    lines.append("\n| active sessions | in use (router's gauge) | DynamoDB calls/s | by operation |")
    lines.append("|---|---|---|---|")
    for n, (rates, in_use) in calls.items():
        by = ", ".join(f"{k} {v:.1f}" for k, v in sorted(rates.items(), key=lambda kv: -kv[1]))
        lines.append(f"| {n:,} | {in_use:.0f} | {sum(rates.values()):.1f} | {by} |")
    lines.append(f"\n| outside write ({a.changes} each, revalidate_interval 1 s) | p50 ms | p99 ms | max ms |")
    lines.append("|---|---|---|---|")
    for name, xs in (("new mapping: its first request, answered (on-demand lookup)", first),
                     ("container address rewritten (session in use)", moved),
                     ("mapping deleted (session in use)", deleted)):
        lines.append(f"| {name} | {1000 * pct(xs, 50):.0f} | {1000 * pct(xs, 99):.0f} | {1000 * max(xs):.0f} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "dynamodb.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
