#!/usr/bin/env python3
"""sessiongate vs nginx, HAProxy and Caddy, side by side on this machine (`make bench`).

sessiongate routes through a *session rule* with 100,000 sessions registered: the rule takes
the session id from the first host label, and wrk's Host is 127.0.0.1, so every request looks
up session "127" among 100,000 in the route table (the other 99,999 are there to make the
table realistic). The peers are plain keep-alive reverse proxies (bench/peers/, measured the
same way). Everything runs on loopback; every load run is bounded by time or count.

Scenarios: (1) wrk c=50, everything on one core, req/s + proxy CPU us/request; (2) wrk c=1
latency; (3) callgrind instructions per request; (4) syscalls per request (strace -c);
(5) resident memory per idle keep-alive connection and per idle WebSocket tunnel;
(6) a 1 MiB response and a 100 MiB upload; (7) route-table lookup/update at 1,000,000
sessions (Google Benchmark). Output: bench/results/<stamp>/summary.md, and the README's
benchmark section is regenerated from it.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.path.join(HERE, "peers")
BIN = os.path.join(ROOT, "build", "release", "sessiongate")
ROUTE_BENCH = os.path.join(ROOT, "build", "release", "route_table_bench")
RUN = os.environ.get("PEERS_RUN", "/tmp/peers-run")
sys.path.insert(0, PEERS)
import bench  # noqa: E402  (the peers harness)

SESSIONS = 100_000
ADMIN_PORT = 18185
TOKEN = "bench-admin-token-0123456789"


def sh(cmd, out=None, **kw):
    print("$ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if out:
        with open(out, "w") as f:
            f.write(r.stdout)
    if r.returncode != 0:
        print(r.stdout[-3000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return r.stdout


def write_config(path, db, admin):
    with open(path, "w") as f:
        f.write(f"""workers: 1
listeners:
  - address: 127.0.0.1:18084
store: {{path: {db}, synchronous: normal}}
security: {{upstream_allow_cidrs: ["127.0.0.0/8"]}}
limits: {{max_connections: 20000, per_client_connections: 0}}
{f'admin: {{address: 127.0.0.1:{ADMIN_PORT}, token: {TOKEN}}}' if admin else ''}
rules:
  - priority: 1
    match: {{path: "/ws/*"}}
    action: {{type: upstream, address: 127.0.0.1:18090}}
  - priority: 2
    match: {{host: "*.0.0.1"}}
    action: {{type: session, from: host}}
""")


def prepare_registry(work, binary=BIN, name="bench"):
    """A registry with 100,000 sessions, written through the admin API like any client would,
    by `binary` (each build gets its own: builds may differ in their schema)."""
    db = os.path.join(work, name + "-registry.db")
    prep = os.path.join(work, name + "-prep.yaml")
    write_config(prep, db, admin=True)
    proc = subprocess.Popen([binary, "serve", "--config", prep], stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", ADMIN_PORT), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        s = socket.create_connection(("127.0.0.1", ADMIN_PORT))
        buf = b""

        def call(method, path, body):
            nonlocal buf
            data = json.dumps(body).encode()
            s.sendall(f"{method} {path} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {TOKEN}\r\n"
                      f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head, buf = buf.split(b"\r\n\r\n", 1)
            n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
            while len(buf) < n:
                buf += s.recv(65536)
            buf = buf[n:]
            assert head.split(b" ")[1] in (b"200", b"201"), head

        call("PUT", "/v1/containers/bench-upstream", {"address": "127.0.0.1:18080", "lease_ttl": "24h"})
        t0 = time.time()
        call("PUT", "/v1/sessions/127", {"container_id": "bench-upstream"})
        for i in range(SESSIONS - 1):
            call("PUT", f"/v1/sessions/s-{i:06d}", {"container_id": "bench-upstream"})
        print(f"registered {SESSIONS} sessions in {time.time() - t0:.1f}s", flush=True)
        s.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    cfg = os.path.join(work, name + ".yaml")
    write_config(cfg, db, admin=False)
    return cfg


def large_bodies(extra, reps, out):
    """1 MiB responses (wrk, c=1) and a 100 MiB upload (curl) per target, everything on CPU0
    like scenario 1 (unpinned, the ranking followed the scheduler from run to run), repetitions
    interleaved across targets; the proxy's own CPU per transfer and its peak RSS."""
    os.makedirs(os.path.join(RUN, "www"), exist_ok=True)
    with open(os.path.join(RUN, "www", "1m.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    up_file = os.path.join(RUN, "www", "100m.bin")
    if not os.path.exists(up_file) or os.path.getsize(up_file) != 100 << 20:
        with open(up_file, "wb") as f:
            for _ in range(100):
                f.write(os.urandom(1 << 20))
    pin = ["taskset", "-c", "0"]
    defs = bench.server_defs()
    name, port, cmd = extra.split("=", 2)
    defs[name] = dict(port=int(port), cmd=__import__("shlex").split(cmd))
    targets = ["direct", "nginx", "haproxy", "caddy", name]
    for d in defs.values():
        d["cmd"] = pin + d["cmd"]
    servers = {"upstream": bench.Server("upstream", defs["upstream"])}
    res = {t: dict(rps=[], rcpu=[], up=[], ucpu=[]) for t in targets}
    try:
        servers["upstream"].start()
        for t in targets[1:]:
            servers[t] = bench.Server(t, defs[t]).start()
        for rep in range(reps):
            for t in targets:
                port = 18080 if t == "direct" else defs[t]["port"]
                pids = servers[t].pids() if t != "direct" else []
                c0 = bench.cpu_secs(pids)
                w = subprocess.run(pin + ["wrk", "-t1", "-c1", "-d3s", f"http://127.0.0.1:{port}/1m"],
                                   capture_output=True, text=True).stdout
                c1 = bench.cpu_secs(pids)
                done = int(re.search(r"(\d+) requests in", w).group(1))
                res[t]["rps"].append(float(re.search(r"Requests/sec:\s+([\d.]+)", w).group(1)))
                res[t]["rcpu"].append((c1 - c0) * 1e6 / max(done, 1))
                r = subprocess.run(pin + ["curl", "-s", "-o", "/dev/null", "-w", "%{time_total} %{http_code}",
                                          "--data-binary", "@" + up_file, "-H", "Expect:",
                                          f"http://127.0.0.1:{port}/upload"], capture_output=True, text=True)
                c2 = bench.cpu_secs(pids)
                secs, code = r.stdout.split()
                assert code == "200", (t, r.stdout)
                res[t]["up"].append(100 / float(secs))
                res[t]["ucpu"].append((c2 - c1) * 1e3)
                print(f"bodies rep={rep} {t:8s} 1 MiB responses {res[t]['rps'][-1]:.0f}/s "
                      f"({res[t]['rcpu'][-1]:.0f} us CPU each); 100 MiB upload "
                      f"{res[t]['up'][-1]:.0f} MiB/s ({res[t]['ucpu'][-1]:.0f} ms CPU)", flush=True)
        hwm = {t: bench.rss_kb(servers[t].pids(), "VmHWM") for t in targets[1:]}
    finally:
        for srv in servers.values():
            srv.stop()

    def cell(xs, fmt="{:,.0f}"):
        xs = sorted(xs)
        return f"{fmt.format(statistics.median(xs))} ({fmt.format(xs[0])}–{fmt.format(xs[-1])})"

    with open(out, "w") as f:
        f.write(f"Everything on CPU0, {reps} repetitions interleaved; median (min–max). The upload "
                "sink reads the whole body before it answers. Proxy CPU is its user + system time "
                "(1 tick = 10 ms: the upload figure is coarse).\n\n")
        f.write("| target | 1 MiB responses/s (c=1) | proxy CPU µs per 1 MiB response "
                "| 100 MiB upload MiB/s | proxy CPU ms per 100 MiB upload | proxy peak RSS |\n")
        f.write("|---|---|---|---|---|---|\n")
        for t in targets:
            r = res[t]
            if t == "direct":
                f.write(f"| {t} | {cell(r['rps'])} | – | {cell(r['up'])} | – | – |\n")
            else:
                f.write(f"| {t} | {cell(r['rps'])} | {cell(r['rcpu'])} | {cell(r['up'])} "
                        f"| {cell(r['ucpu'])} | {hwm[t] / 1024:.1f} MiB |\n")
    return open(out).read()


def update_readme(summary_path):
    """Rewrites the README's benchmark block from a summary (headings demoted to fit)."""
    summary = open(summary_path).read().replace("%%", "%")
    body = summary.replace("# sessiongate benchmark", "#### Run", 1).replace("\n## ", "\n#### ")
    body = body.replace("\n### ", "\n##### ")
    readme = os.path.join(ROOT, "README.md")
    text = open(readme).read()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start not in text or end not in text:
        return
    rel = os.path.relpath(summary_path, ROOT)
    block = f"{start}\nGenerated by `make bench` from [{rel}]({rel}).\n\n{body.strip()}\n{end}"
    text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    with open(readme, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="3 reps x 5 s, fewer callgrind requests")
    ap.add_argument("--skip", default="", help="comma list of: throughput,mem,callgrind,syscalls,bodies,routes,tls,"
                    "http2,pageload,wake,dynamodb")
    ap.add_argument("--readme-from", help="only rewrite the README block from this summary.md")
    ap.add_argument("--baseline", help="another sessiongate binary (e.g. the previous commit's) run "
                    "beside this one in the throughput scenario, same registry, repetitions interleaved")
    a = ap.parse_args()
    if a.readme_from:
        update_readme(os.path.abspath(a.readme_from))
        return
    if a.quick:
        a.reps, a.duration = 3, 5
    skip = set(filter(None, a.skip.split(",")))
    for tool in ("nginx", "haproxy", "caddy", "h2o", "h2load", "wrk", "valgrind", "strace", "curl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: run scripts/install-deps --bench")
    stamp = time.strftime("%Y-%m-%d-%H%M%S")
    out = os.path.join(HERE, "results", stamp)
    os.makedirs(out, exist_ok=True)
    os.makedirs(os.path.join(RUN, "tmp-up"), exist_ok=True)
    os.makedirs(os.path.join(RUN, "tmp-px"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="sg-bench-")
    cfg = prepare_registry(work)
    extra = f"sessiongate=18084={BIN} serve --config {cfg}"
    py = sys.executable
    sections = []
    if "throughput" not in skip:
        targets = "direct,nginx,haproxy,caddy,sessiongate"
        extras = ["--extra", extra]
        if a.baseline:
            # The same registry written by the baseline itself, on its own port: the two builds
            # differ only in their code.
            base_cfg = prepare_registry(work, os.path.abspath(a.baseline), "baseline")
            with open(base_cfg) as f:
                text_cfg = f.read()
            with open(base_cfg, "w") as g:
                g.write(text_cfg.replace("127.0.0.1:18084", "127.0.0.1:18086"))
            targets += ",sg-baseline"
            extras += ["--extra", f"sg-baseline=18086={os.path.abspath(a.baseline)} serve --config {base_cfg}"]
        text = sh([py, os.path.join(PEERS, "bench.py"), "throughput", "--targets", targets,
                   "--layouts", "onecore", "--conns", "50,1",
                   "--reps", str(a.reps), "--duration", str(a.duration), *extras,
                   "--out", os.path.join(out, "throughput")], out=os.path.join(out, "throughput.txt"))
        sections.append(("Throughput and latency (everything on one core)", text[text.find("### "):]))
    if "mem" not in skip:
        text = sh([py, os.path.join(PEERS, "bench.py"), "mem", "--targets", "nginx,haproxy,caddy,sessiongate",
                   "--n", "1000", "--reps", "2", "--extra", extra, "--out", os.path.join(out, "mem")],
                  out=os.path.join(out, "mem.txt"))
        sections.append(("Memory per idle connection (1,000 connections)", text[text.find("|"):] if "|" in text else text))
    if "callgrind" not in skip:
        env = dict(os.environ, OUT=os.path.join(out, "callgrind"), N50="5000" if a.quick else "20000",
                   N1="2000" if a.quick else "5000")
        text = sh(["bash", os.path.join(PEERS, "callgrind.sh"), "nginx", "haproxy", extra],
                  out=os.path.join(out, "callgrind.txt"), env=env)
        csv = open(os.path.join(out, "callgrind", "callgrind.csv")).read()
        sections.append(("Instructions per proxied request (callgrind, user space)", "```\n" + csv + "```"))
    if "syscalls" not in skip:
        text = sh([py, os.path.join(PEERS, "syscalls.py"), "--targets", "nginx,haproxy,caddy,sessiongate",
                   "--extra", extra, "--c", "50", "--out", os.path.join(out, "syscalls")],
                  out=os.path.join(out, "syscalls.txt"))
        lines = [l for l in text.splitlines() if "syscalls/request" in l]
        sections.append(("Syscalls per request (strace -c, keep-alive, c=50)", "```\n" + "\n".join(lines) + "\n```"))
    if "bodies" not in skip:
        sections.append(("Large bodies", large_bodies(extra, a.reps, os.path.join(out, "bodies.md"))))
    if "tls" not in skip:
        text = sh([py, os.path.join(HERE, "tls.py"), "--reps", str(a.reps), "--duration",
                   str(a.duration), "--out", out], out=os.path.join(out, "tls.txt"))
        sections.append(("TLS termination (one core)", text[text.find("TLS 1.3,"):]))
    if "http2" not in skip:
        text = sh([py, os.path.join(HERE, "http2.py"), "--reps", str(min(a.reps, 3)), "--duration",
                   str(a.duration), "--out", out], out=os.path.join(out, "http2.txt"))
        sections.append(("HTTP/2 to clients (one core)", text[text.find("HTTP/2 over"):]))
    if "pageload" not in skip:
        text = sh([py, os.path.join(HERE, "pageload.py"), "--reps", str(a.reps), "--out", out],
                  out=os.path.join(out, "pageload.txt"))
        sections.append(("Preview page load (Chromium, 40 ms RTT)", text[text.find("A Vite"):]))
    if "wake" not in skip:
        text = sh([py, os.path.join(HERE, "wake.py"), "--out", out], out=os.path.join(out, "wake.txt"))
        sections.append(("Wake on request (one worker)", text[text.find("| measure"):]))
    if "dynamodb" not in skip:
        text = sh([py, os.path.join(HERE, "dynamodb.py"), "--reps", str(min(a.reps, 3)), "--duration",
                   str(a.duration), "--out", out], out=os.path.join(out, "dynamodb.txt"))
        at = text.find("sessions in dynalite")
        sections.append(("DynamoDB store (dynalite on loopback)", text[text.rfind("\n", 0, at) + 1:]))
    if "routes" not in skip:
        text = sh([ROUTE_BENCH, "--benchmark_min_time=1"], out=os.path.join(out, "route_table.txt"))
        sections.append(("Route table at 1,000,000 sessions (Google Benchmark)",
                         "```\n" + text[text.find("Benchmark"):] + "```"))
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    header = (f"# sessiongate benchmark, {stamp}\n\nMachine: {os.cpu_count()} vCPU "
              f"{cpu.group(1) if cpu else platform.processor()}, kernel {platform.release()}; "
              f"loopback only. sessiongate routes through a session rule with {SESSIONS:,} sessions "
              f"registered; peers are keep-alive reverse proxies; one worker each.\n"
              f"Reproduce: `make bench` (this run: `python3 bench/run.py "
              f"{'--quick' if a.quick else ''} {('--skip ' + a.skip) if a.skip else ''}`).\n")
    summary = header + "".join(f"\n## {t}\n\n{body.strip()}\n" for t, body in sections)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(summary)
    print(summary)
    update_readme(os.path.join(out, "summary.md"))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
