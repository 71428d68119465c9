#!/usr/bin/env python3
"""The preview page-load benchmark: a generated dev-server site of ~300 ES modules (Vite from
the e2e lock file) loaded in headless Chromium over a link with RTT ms of round trip
(bench/latency_relay.py in front of every target, so each pays the same delay), timed to the
page's ready marker. Targets: the dev server directly (HTTP/1.1), through sessiongate over
HTTP/1.1, through sessiongate over h2 (TLS, ALPN), through nginx over h2 (TLS). Cold loads use
a fresh browser context; warm loads repeat in the same one. Reports medians.

Part of `make bench` (bench/run.py); alone: python3 bench/pageload.py [--rtt 40] [--reps 5]
[--out DIR]. Loopback only; the load count is fixed."""
import argparse, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
E2E = os.path.join(ROOT, "tests", "e2e")
VITE = os.path.join(E2E, "node_modules", ".bin", "vite")
BIN = os.environ.get("SESSIONGATE_BIN", os.path.join(ROOT, "build", "release", "sessiongate"))
sys.path.insert(0, HERE)
from tls import make_cert, publish  # noqa: E402

VITE_PORT, SG_PLAIN, SG_TLS, NGINX = 18460, 18461, 18462, 18463
RELAY = {"direct": (18470, VITE_PORT), "sessiongate h1": (18471, SG_PLAIN),
         "sessiongate h2": (18472, SG_TLS), "nginx h2": (18473, NGINX)}


def make_site(d, branches=10, leaves=30):
    """index.html -> main.js -> `branches` modules -> `leaves` modules each (and a CSS file):
    a module graph two imports deep, as an unbundled app's is."""
    os.makedirs(os.path.join(d, "src"), exist_ok=True)
    open(os.path.join(d, "index.html"), "w").write(
        '<!doctype html><html><head><link rel="stylesheet" href="/src/style.css"></head>'
        '<body><p id="out">loading</p><script type="module" src="/src/main.js"></script></body></html>\n')
    open(os.path.join(d, "src", "style.css"), "w").write("#out { font: 16px sans-serif; }\n")
    main = []
    for b in range(branches):
        lines = []
        for l in range(leaves):
            open(os.path.join(d, "src", f"leaf_{b}_{l}.js"), "w").write(
                f"export const v = {b * leaves + l};\n")
            lines.append(f"import {{ v as v{l} }} from './leaf_{b}_{l}.js';")
        lines.append("export const sum = " + " + ".join(f"v{l}" for l in range(leaves)) + ";")
        open(os.path.join(d, "src", f"branch_{b}.js"), "w").write("\n".join(lines) + "\n")
        main.append(f"import {{ sum as s{b} }} from './branch_{b}.js';")
    main.append("const total = " + " + ".join(f"s{b}" for b in range(branches)) + ";")
    main.append("document.getElementById('out').textContent = total >= 0 ? 'ready' : 'wrong';")
    open(os.path.join(d, "src", "main.js"), "w").write("\n".join(main) + "\n")
    # The direct path reaches Vite by a bench host name, which its host check would refuse.
    open(os.path.join(d, "vite.config.js"), "w").write("export default { server: { allowedHosts: true } };\n")
    return 2 + branches * (leaves + 1)


def wait_port(port, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"port {port} did not open")


def configs(d, cert, key):
    sg = os.path.join(d, "sessiongate.yaml")
    open(sg, "w").write(f"""workers: 1
listeners:
  - address: 127.0.0.1:{SG_PLAIN}
  - address: 127.0.0.1:{SG_TLS}
    tls: {{certificates: [{{cert: {cert}, key: {key}}}]}}
limits: {{per_client_connections: 0}}
store: {{path: {d}/sg.db}}
security: {{upstream_allow_cidrs: ["127.0.0.0/8"]}}
rules:
  - {{priority: 1, action: {{type: upstream, address: 127.0.0.1:{VITE_PORT}, host_header: upstream}}}}
""")
    ngx = os.path.join(d, "nginx.conf")
    open(ngx, "w").write(f"""worker_processes 1; pid {d}/nginx.pid; error_log {d}/nginx-error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d}/b; proxy_temp_path {d}/p; fastcgi_temp_path {d}/f; uwsgi_temp_path {d}/u;
  scgi_temp_path {d}/s;
  upstream vite {{ server 127.0.0.1:{VITE_PORT}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{NGINX} ssl http2;
    ssl_certificate {cert}; ssl_certificate_key {key};
    location / {{ proxy_pass http://vite; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_set_header Host 127.0.0.1:{VITE_PORT}; proxy_buffering off; }}
  }}
}}
""")
    return sg, ngx


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rtt", type=int, default=40, help="round trip in ms")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out")
    a = ap.parse_args()
    if not os.path.exists(VITE):
        raise SystemExit("vite is missing: run scripts/install-deps (npm ci in tests/e2e)")
    d = tempfile.mkdtemp(prefix="sg-pageload-")
    site = os.path.join(d, "site")
    modules = make_site(site)
    cert, key, _ = make_cert(d)
    sg_conf, ngx_conf = configs(d, cert, key)
    log = open(os.path.join(d, "servers.log"), "w")
    procs = []
    try:
        procs.append(subprocess.Popen([VITE, site, "--port", str(VITE_PORT), "--strictPort", "--host",
                                       "127.0.0.1", "--clearScreen", "false"], cwd=E2E, stdout=log,
                                      stderr=log, start_new_session=True))
        procs.append(subprocess.Popen([BIN, "serve", "--config", sg_conf], stdout=log, stderr=log))
        procs.append(subprocess.Popen(["nginx", "-c", ngx_conf], stdout=log, stderr=log))
        procs.append(subprocess.Popen([sys.executable, os.path.join(HERE, "latency_relay.py"),
                                       str(a.rtt / 2)] + [f"{l}:{t}" for l, t in RELAY.values()],
                                      stdout=log, stderr=log))
        for port in [VITE_PORT, SG_PLAIN, SG_TLS, NGINX] + [l for l, _ in RELAY.values()]:
            wait_port(port)
        urls = {name: f"{'https' if 'h2' in name else 'http'}://site.bench.test:{port}/"
                for name, (port, _) in RELAY.items()}
        env = dict(os.environ, PW_FROM=E2E)
        mjs = os.path.join(HERE, "pageload.mjs")
        # One load through every path first: Vite transforms each module on first request.
        subprocess.run(["node", mjs, "1", *urls.values()], env=env, capture_output=True, timeout=600)
        out = subprocess.run(["node", mjs, str(a.reps), *urls.values()], env=env,
                             capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        results = {json.loads(l)["url"]: json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")}
    finally:
        for p in reversed(procs):
            try:
                if p.args[0] == VITE:
                    os.killpg(p.pid, signal.SIGTERM)
                else:
                    p.terminate()
                p.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                p.kill()
    med = statistics.median
    direct = results[urls["direct"]]
    lines = ["| path | protocol | requests | cold load, median | warm load, median |", "|---|---|---|---|---|"]
    for name, url in urls.items():
        r = results[url]
        rc = med(r["cold"]) / med(direct["cold"])
        rw = med(r["warm"]) / med(direct["warm"])
        lines.append(f"| {name} | {r['proto']} | {r['requests']} | {med(r['cold']):,.0f} ms ({rc:.2f}×) | "
                     f"{med(r['warm']):,.0f} ms ({rw:.2f}×) |")
    text = (f"A Vite dev server's page of {modules} files (ES modules two imports deep), headless "
            f"Chromium, {a.rtt} ms round trip (bench/latency_relay.py in front of each path), time "
            f"to the page's ready marker; medians of {a.reps} cold and {a.reps} warm loads; "
            "ratios to loading straight from the dev server (lower is faster).\n\n" + "\n".join(lines) + "\n")
    publish(text, a.out, "pageload.md")
    if a.out:
        open(os.path.join(a.out, "pageload.json"), "w").write(json.dumps(results, indent=1))
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
