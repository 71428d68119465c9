#!/usr/bin/env python3
"""HTTP/2 to clients side by side: sessiongate, nginx, HAProxy, Caddy and h2o each terminating
TLS 1.3 with ALPN h2 in front of the same HTTP/1.1 nginx upstream, everything pinned to one
core, one worker each, upstream keep-alive pools large enough for every stream in flight (so
the rows measure the h2 side, not pool churn). Reports, as ratios to nginx:

  - requests per proxy-core-second: h2load, 10 connections x 100 concurrent streams, for a
    fixed duration (-D), the upstream's 2-byte answer;
  - RSS per idle h2 connection: 1,000 connections, each after one request.

Part of `make bench` (bench/run.py); alone: python3 bench/http2.py [--duration 8] [--out DIR].
Loopback only; every load run is bounded by its duration."""
import argparse, os, re, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "peers"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-h2 (hpack)
import bench as pb  # noqa: E402
import h2client  # noqa: E402
from tls import BYTES, RATE, make_cert, publish, ratio_rows  # noqa: E402

BIN = os.environ.get("SESSIONGATE_BIN", os.path.join(HERE, "..", "build", "release", "sessiongate"))
PORTS = {"nginx": 18451, "haproxy": 18452, "caddy": 18453, "h2o": 18454, "sessiongate": 18455}
CPU = {0}
POOL = 1024  # idle upstream connections each proxy may keep


def configs(d, cert, key, both):
    run = pb.RUN
    nginx = os.path.join(d, "nginx.conf")
    open(nginx, "w").write(f"""user root; worker_processes 1; worker_rlimit_nofile 20000;
pid {d}/nginx.pid; error_log {d}/nginx-error.log warn;
events {{ worker_connections 10000; }}
http {{
  access_log off; keepalive_timeout 300s; keepalive_requests 10000000;
  client_body_temp_path {run}/tmp-px/body; proxy_temp_path {run}/tmp-px/proxy;
  fastcgi_temp_path {run}/tmp-px/f; uwsgi_temp_path {run}/tmp-px/u; scgi_temp_path {run}/tmp-px/s;
  upstream up {{ server 127.0.0.1:18080; keepalive {POOL}; keepalive_requests 10000000; }}
  server {{
    listen 127.0.0.1:{PORTS['nginx']} ssl http2 reuseport backlog=4096;
    http2_max_concurrent_streams 128; http2_max_requests 10000000;
    ssl_certificate {cert}; ssl_certificate_key {key};
    ssl_protocols TLSv1.3; ssl_ecdh_curve X25519;
    ssl_session_tickets on; ssl_session_cache off;
    location / {{ proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
""")
    haproxy = os.path.join(d, "haproxy.cfg")
    open(haproxy, "w").write(f"""global
  nbthread 1
  maxconn 9000
  ssl-default-bind-options ssl-min-ver TLSv1.3
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:{PORTS['haproxy']} ssl crt {both} curves X25519 alpn h2,http/1.1
  maxconn 9000
  default_backend be
backend be
  server up 127.0.0.1:18080 pool-max-conn {POOL}
""")
    caddy = os.path.join(d, "Caddyfile")
    open(caddy, "w").write(f"""{{
  admin off
  auto_https off
}}
https://:{PORTS['caddy']} {{
  bind 127.0.0.1
  tls {cert} {key} {{
    protocols tls1.3
    curves x25519
  }}
  reverse_proxy 127.0.0.1:18080 {{
    transport http {{
      keepalive_idle_conns {POOL}
      keepalive_idle_conns_per_host {POOL}
    }}
  }}
}}
""")
    h2o = os.path.join(d, "h2o.conf")
    open(h2o, "w").write(f"""num-threads: 1
user: root
pid-file: {d}/h2o.pid
error-log: {d}/h2o-error.log
max-connections: 20000
listen:
  host: 127.0.0.1
  port: {PORTS['h2o']}
  ssl:
    certificate-file: {cert}
    key-file: {key}
    ocsp-update-interval: 0
hosts:
  default:
    paths:
      /:
        proxy.reverse.url: http://127.0.0.1:18080/
        proxy.timeout.keepalive: 300000
""")
    sg = os.path.join(d, "sessiongate.yaml")
    open(sg, "w").write(f"""workers: 1
listeners:
  - address: 127.0.0.1:{PORTS['sessiongate']}
    tls:
      certificates: [{{cert: {cert}, key: {key}}}]
      min_version: "1.3"
limits: {{max_connections: 20000, per_client_connections: 0, upstream_idle_per_host: {POOL}}}
store: {{path: {d}/sg.db}}
security: {{upstream_allow_cidrs: ["127.0.0.0/8"]}}
rules:
  - {{priority: 1, action: {{type: upstream, address: 127.0.0.1:18080}}}}
""")
    return {
        "nginx": dict(port=PORTS["nginx"], cmd=["nginx", "-p", run + "/", "-c", nginx, "-g", "daemon off;"]),
        "haproxy": dict(port=PORTS["haproxy"], cmd=["haproxy", "-db", "-f", haproxy]),
        "caddy": dict(port=PORTS["caddy"], cmd=["caddy", "run", "--adapter", "caddyfile", "--config", caddy],
                      env={"GOMAXPROCS": "1", "XDG_DATA_HOME": run + "/caddy-data",
                           "XDG_CONFIG_HOME": run + "/caddy-cfg"}),
        "h2o": dict(port=PORTS["h2o"], cmd=["h2o", "-c", h2o]),
        "sessiongate": dict(port=PORTS["sessiongate"], cmd=[BIN, "serve", "--config", sg]),
    }


def h2load(port, secs, conns=10, streams=100):
    out = subprocess.run(["taskset", "-c", "0", "h2load", "-D", str(secs), "-c", str(conns),
                          "-m", str(streams), "--warm-up-time=1", f"https://127.0.0.1:{port}/"],
                         capture_output=True, text=True, timeout=secs + 60).stdout
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed", out)
    proto = re.search(r"Application protocol: (\S+)", out)
    return (int(done.group(2)) if done else 0, int(done.group(3)) if done else -1,
            proto.group(1) if proto else "?")


def throughput(px, secs):
    pids = px.pids()
    c0 = pb.cpu_secs(pids)
    ok, failed, proto = h2load(px.port, secs)
    cpu = pb.cpu_secs(pids) - c0
    return ok / cpu if cpu > 0 else 0, ok, failed, proto


def idle_rss(px, n):
    """Bytes of proxy RSS per idle h2 connection (TLS, ALPN h2, after one request)."""
    time.sleep(0.5)
    r0 = pb.rss_kb(px.pids())
    held = []
    for i in range(n):
        c = h2client.RawConn(px.port, tls=True)
        c.send(h2client.frame(h2client.HEADERS, h2client.END_HEADERS | h2client.END_STREAM, 1,
                              h2client.header_block(h2client.request_headers("/", authority="bench.test"))))
        c.frames(lambda f: f[0] == h2client.DATA and f[1] & h2client.END_STREAM, timeout=10)
        held.append(c)
    time.sleep(2.0)
    r1 = pb.rss_kb(px.pids())
    for c in held:
        c.close()
    return round((r1 - r0) * 1024 / n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--conns", type=int, default=1000, help="idle connections for the memory row")
    ap.add_argument("--targets", default="nginx,haproxy,caddy,h2o,sessiongate")
    ap.add_argument("--out")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="sg-h2-bench-")
    cert, key, both = make_cert(d)
    defs = configs(d, cert, key, both)
    targets = a.targets.split(",")
    rows = {t: {"rps": [], "idle": []} for t in targets}
    base = [pb.Server("upstream", pb.server_defs()["upstream"]).start()]
    pb.set_affinity([p for s in base for p in s.pids()], CPU)
    try:
        for rep in range(a.reps):  # interleaved: every target once per repetition
            for t in targets:
                px = pb.Server(t, defs[t]).start()
                try:
                    pb.set_affinity(px.pids(), CPU)
                    per_core, ok, failed, proto = throughput(px, a.duration)
                    rows[t]["rps"].append(per_core)
                    print(f"{t:12s} rep {rep}: {per_core:,.0f} req/core-s ({ok:,} ok, {failed} failed, "
                          f"{proto})", flush=True)
                finally:
                    px.stop()
                if rep == 0:
                    px = pb.Server(t, defs[t]).start()  # fresh: the load's buffers would hide it
                    try:
                        pb.set_affinity(px.pids(), CPU)
                        rows[t]["idle"].append(idle_rss(px, a.conns))
                    finally:
                        px.stop()
    finally:
        for s in base:
            s.stop()
    lines = ["| proxy | h2 requests per proxy-core-s | RSS per idle h2 connection |", "|---|---|---|"]
    lines += ratio_rows(rows, targets, [("rps", RATE), ("idle", BYTES)])
    publish("HTTP/2 over TLS 1.3 (ALPN h2) to an HTTP/1.1 upstream; h2load 10 connections × 100 "
            f"streams; one core for everything; medians of {a.reps} interleaved runs of {a.duration} s; "
            "ratios to nginx (higher is better for requests, lower for RSS).\n\n" + "\n".join(lines) + "\n",
            a.out, "h2.md")


if __name__ == "__main__":
    main()
