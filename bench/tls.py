#!/usr/bin/env python3
"""TLS termination side by side: sessiongate, nginx, HAProxy and Caddy each terminating TLS 1.3
(TLS_AES_128_GCM_SHA256, X25519, one ECDSA P-256 certificate) in front of the same nginx
upstream, everything pinned to one core, one worker each. Reports, as ratios to nginx:

  - keep-alive requests per proxy-core-second (wrk over https, 50 connections);
  - full handshakes per proxy-core-second (openssl s_time -new, each with one GET: a TLS 1.3
    ticket arrives after the handshake, so a client must read to resume at all);
  - resumed handshakes per proxy-core-second (openssl s_time -reuse, each with one GET; the
    share sessiongate counted as resumed is printed beside it);
  - RSS per idle TLS keep-alive connection and per idle wss tunnel (1,000 of each).

Part of `make bench` (bench/run.py); alone: python3 bench/tls.py [--duration 5] [--out DIR].
Loopback only; every load loop is bounded by its duration."""
import argparse, os, re, ssl, socket, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers")
sys.path.insert(0, PEERS)
import bench as pb  # noqa: E402  (the peers' process helpers)

BIN = os.environ.get("SESSIONGATE_BIN", os.path.join(HERE, "..", "build", "release", "sessiongate"))
PORTS = {"nginx": 18441, "haproxy": 18442, "caddy": 18443, "sessiongate": 18444}
CPU = {0}


def make_cert(d):
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "7", "-subj", "/CN=bench.test",
                    "-addext", "subjectAltName=DNS:bench.test"], check=True, capture_output=True)
    both = os.path.join(d, "both.pem")
    with open(both, "w") as f:
        f.write(open(cert).read() + open(key).read())
    return cert, key, both


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
  map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
  upstream up {{ server 127.0.0.1:18080; keepalive 128; keepalive_requests 10000000; }}
  upstream wsup {{ server 127.0.0.1:18090; }}
  server {{
    listen 127.0.0.1:{PORTS['nginx']} ssl reuseport backlog=4096;
    ssl_certificate {cert}; ssl_certificate_key {key};
    ssl_protocols TLSv1.3; ssl_ecdh_curve X25519;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
    ssl_session_tickets on; ssl_session_cache off;
    location / {{ proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }}
    location /ws/ {{ proxy_pass http://wsup; proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 3600s; }}
  }}
}}
""")
    haproxy = os.path.join(d, "haproxy.cfg")
    open(haproxy, "w").write(f"""global
  nbthread 1
  maxconn 9000
  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256
  ssl-default-bind-options ssl-min-ver TLSv1.3
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout tunnel 3600s
  timeout http-keep-alive 300s
  option http-keep-alive
  http-reuse safe
frontend fe
  bind 127.0.0.1:{PORTS['haproxy']} ssl crt {both} curves X25519 alpn http/1.1
  maxconn 9000
  use_backend ws if {{ path_beg /ws/ }}
  default_backend be
backend be
  server up 127.0.0.1:18080
backend ws
  server wsup 127.0.0.1:18090
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
  handle /ws/* {{
    reverse_proxy 127.0.0.1:18090
  }}
  handle {{
    reverse_proxy 127.0.0.1:18080
  }}
}}
""")
    sg = os.path.join(d, "sessiongate.yaml")
    open(sg, "w").write(f"""workers: 1
listeners:
  - address: 127.0.0.1:{PORTS['sessiongate']}
    tls:
      certificates: [{{cert: {cert}, key: {key}}}]
      min_version: "1.3"
      ciphersuites: TLS_AES_128_GCM_SHA256
limits: {{max_connections: 20000, per_client_connections: 0}}
store: {{path: {d}/sg.db}}
security: {{upstream_allow_cidrs: ["127.0.0.0/8"]}}
admin: {{address: 127.0.0.1:18445, token: bench-token-0123456789}}
rules:
  - {{priority: 1, match: {{path: "/ws/*"}}, action: {{type: upstream, address: 127.0.0.1:18090}}}}
  - {{priority: 2, action: {{type: upstream, address: 127.0.0.1:18080}}}}
""")
    return {
        "nginx": dict(port=PORTS["nginx"], cmd=["nginx", "-p", run + "/", "-c", nginx, "-g", "daemon off;"]),
        "haproxy": dict(port=PORTS["haproxy"], cmd=["haproxy", "-db", "-f", haproxy]),
        "caddy": dict(port=PORTS["caddy"], cmd=["caddy", "run", "--adapter", "caddyfile", "--config", caddy],
                      env={"GOMAXPROCS": "1", "XDG_DATA_HOME": run + "/caddy-data",
                           "XDG_CONFIG_HOME": run + "/caddy-cfg"}),
        "sessiongate": dict(port=PORTS["sessiongate"], cmd=[BIN, "serve", "--config", sg]),
    }


def measured(px, fn):
    """(result of fn(), proxy CPU seconds it cost)."""
    pids = px.pids()
    c0 = pb.cpu_secs(pids)
    r = fn()
    return r, pb.cpu_secs(pids) - c0


def keepalive(port, secs):
    def go():
        out = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", "-c50", f"-d{secs}s",
                              f"https://127.0.0.1:{port}/"], capture_output=True, text=True).stdout
        m = re.search(r"Requests/sec:\s*([\d.]+)", out)
        n = re.search(r"(\d+) requests in", out)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
        return int(n.group(1)) if n else 0, float(m.group(1)) if m else 0.0, errors.group(0) if errors else ""
    return go


def handshakes(port, secs, reuse):
    def go():
        out = subprocess.run(["taskset", "-c", "0", "openssl", "s_time", "-connect", f"127.0.0.1:{port}",
                              "-reuse" if reuse else "-new", "-www", "/", "-time", str(secs)],
                             capture_output=True, text=True).stdout
        m = re.findall(r"(\d+) connections in ([\d.]+)s", out)
        return int(m[-1][0]) if m else 0
    return go


def resumed_share():
    req = (b"GET /metrics HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer bench-token-0123456789\r\n"
           b"Connection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", 18445), timeout=5) as s:
        s.sendall(req)
        text = b""
        while chunk := s.recv(65536):
            text += chunk
    get = lambda name: float(re.search(rf"^{name} (\S+)$".encode(), text, re.M).group(1))  # noqa: E731
    return "%d of %d" % (get("sessiongate_tls_resumed_total"), get("sessiongate_tls_handshakes_total"))


def idle_rss(px, port, n, ws):
    """Bytes of proxy RSS per idle TLS connection (after one request) or wss tunnel."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    time.sleep(0.5)
    r0 = pb.rss_kb(px.pids())
    held = []
    for i in range(n):
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="bench.test")
        if ws:
            s.sendall(b"GET /ws/x HTTP/1.1\r\nHost: bench.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        else:
            s.sendall(b"GET / HTTP/1.1\r\nHost: bench.test\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        if not ws:  # read the body too (the upstream's small page)
            m = re.search(rb"content-length: (\d+)", data, re.I)
            body = data.split(b"\r\n\r\n", 1)[1]
            while m and len(body) < int(m.group(1)):
                body += s.recv(65536)
        held.append(s)
    time.sleep(2.0)
    r1 = pb.rss_kb(px.pids())
    for s in held:
        s.close()
    return round((r1 - r0) * 1024 / n)


def rates(d, t, row, secs, rep):
    px = pb.Server(t, d).start()
    try:
        pb.set_affinity(px.pids(), CPU)
        (n, rps, err), cpu = measured(px, keepalive(px.port, secs))
        row["ka"].append(n / cpu if cpu > 0 else 0)
        full, cpu = measured(px, handshakes(px.port, secs, False))
        row["full"].append(full / cpu if cpu > 0 else 0)
        res, cpu = measured(px, handshakes(px.port, secs, True))
        row["resumed"].append(res / cpu if cpu > 0 else 0)
        if t == "sessiongate":
            print("sessiongate resumed/completed handshakes since it started: " + resumed_share(), flush=True)
    finally:
        px.stop()
    print(f"{t:12s} rep {rep}: keep-alive {row['ka'][-1]:,.0f} req/core-s ({rps:,.0f} req/s{' ' + err if err else ''}), "
          f"full {row['full'][-1]:,.0f}/core-s, resumed {row['resumed'][-1]:,.0f}/core-s", flush=True)


RATE, BYTES = "{:,.0f}", "{:,.0f} B"


def ratio_rows(rows, targets, columns, ref="nginx"):
    """Markdown table rows: each target, then per (key, format) column the median of its runs
    and the ratio to `ref`'s median ("-" where a target has none)."""
    med = lambda xs: statistics.median(xs) if xs else 0  # noqa: E731
    base = rows.get(ref)

    def cell(r, k, fmt):
        if not r[k]:
            return "-"
        ratio = f" ({med(r[k]) / med(base[k]):.2f}×)" if base and med(base[k]) else ""
        return fmt.format(med(r[k])) + ratio
    return ["| " + " | ".join([t] + [cell(rows[t], k, f) for k, f in columns]) + " |" for t in targets]


def publish(text, out, name):
    """Prints a result and, with --out, writes it to OUT/name."""
    print(text)
    if out:
        os.makedirs(out, exist_ok=True)
        open(os.path.join(out, name), "w").write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--conns", type=int, default=1000, help="idle connections for the memory rows")
    ap.add_argument("--targets", default="nginx,haproxy,caddy,sessiongate")
    ap.add_argument("--no-rates", action="store_true", help="memory rows only")
    ap.add_argument("--no-memory", action="store_true", help="rate rows only")
    ap.add_argument("--out")
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="sg-tls-bench-")
    cert, key, both = make_cert(d)
    defs = configs(d, cert, key, both)
    targets = a.targets.split(",")
    rows = {t: {"ka": [], "full": [], "resumed": [], "idle": [], "wss": []} for t in targets}
    base = [pb.Server("upstream", pb.server_defs()["upstream"]).start(),
            pb.Server("wsup", pb.server_defs()["wsup"]).start()]
    pb.set_affinity([p for s in base for p in s.pids()], CPU)
    try:
        for rep in range(a.reps):  # interleaved: every target once per repetition
            for t in targets:
                if not a.no_rates:
                    rates(defs[t], t, rows[t], a.duration, rep)
                if rep == 0 and not a.no_memory:
                    # Each on a fresh process: memory one phase freed would hide the next's.
                    for key, ws in (("idle", False), ("wss", True)):
                        px = pb.Server(t, defs[t]).start()
                        try:
                            pb.set_affinity(px.pids(), CPU)
                            subprocess.run(["taskset", "-c", "0", "wrk", "-t1", "-c20", "-d1s",
                                            f"https://127.0.0.1:{px.port}/"], capture_output=True)
                            rows[t][key].append(idle_rss(px, px.port, a.conns, ws=ws))
                        finally:
                            px.stop()
    finally:
        for s in base:
            s.stop()
    lines = ["| proxy | keep-alive req per core-s | full handshakes per core-s | resumed per core-s | "
             "RSS per idle TLS conn | RSS per idle wss tunnel |", "|---|---|---|---|---|---|"]
    lines += ratio_rows(rows, targets, [("ka", RATE), ("full", RATE), ("resumed", RATE),
                                        ("idle", BYTES), ("wss", BYTES)])
    publish("TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, ECDSA P-256; one core for everything; medians of "
            f"{a.reps} interleaved runs of {a.duration} s; ratios to nginx (higher is better for rates, "
            "lower for RSS).\n\n" + "\n".join(lines) + "\n", a.out, "tls.md")


if __name__ == "__main__":
    main()
