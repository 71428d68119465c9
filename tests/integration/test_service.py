"""What an operator installs and runs: --version and sessiongate_build_info, process_* metrics,
systemd readiness notifications, shell completions, and the Debian package (built with CPack,
installed with dpkg, its unit verified by systemd-analyze, the installed binary started on the
installed example configuration)."""
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Proxy, connect, get, wait_until

BUILD = os.path.dirname(os.path.abspath(BIN))


class BuildInfoAndProcessMetrics(unittest.TestCase):
    def test_version_names_the_commit_and_build_type_as_the_metric_does(self):
        out = subprocess.run([BIN, "--version"], capture_output=True, text=True, check=True).stdout
        m = re.fullmatch(r"sessiongate (\d+\.\d+\.\d+) \(commit ([0-9a-f]{12}(?:-dirty)?|unknown), (\w+)\)\n", out)
        self.assertIsNotNone(m, out)
        with Proxy("  - priority: 1\n    action: {type: fixed, status: 200, body: ok}\n") as p:
            values, text = p.metrics()
            self.assertIn(f'sessiongate_build_info{{version="{m.group(1)}",commit="{m.group(2)}",'
                          f'build_type="{m.group(3)}"}} 1', text)
            self.assertGreater(values["process_resident_memory_bytes"], 1 << 20)
            self.assertGreater(values["process_open_fds"], 3)
            self.assertGreaterEqual(values["process_max_fds"], values["process_open_fds"])
            self.assertLess(abs(values["process_start_time_seconds"] - time.time()), 120)
            self.assertGreaterEqual(values["process_cpu_seconds_total"], 0)
            self.assertGreater(values["process_virtual_memory_bytes"],
                               values["process_resident_memory_bytes"])


class RepeatedStopSignals(unittest.TestCase):
    def test_sigterm_while_exiting_is_still_a_clean_exit(self):
        # Regression: a second SIGTERM (a supervisor or test harness stopping a router that is
        # already draining) that landed while the process unwound after the drain found the
        # default disposition restored and ended it "killed by SIGTERM" instead of exit 0.
        for _ in range(5):
            p = Proxy("  - priority: 1\n    action: {type: fixed, status: 200, body: ok}\n")
            self.assertEqual(get(p.port, "/", "a.test")[0], 200)
            p.proc.send_signal(signal.SIGTERM)
            end = time.monotonic() + 20
            while p.proc.poll() is None and time.monotonic() < end:
                try:
                    p.proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    break
                time.sleep(0.0005)
            self.assertEqual(p.stop(), 0, p.stderr())


class RegressionDemoCtrlCStopsEverythingAndExitsZero(unittest.TestCase):
    """`make run`'s Ctrl-C used to end with status 1 and, one time in two, leave the demo page
    server running (PPID 1): the script's background jobs ignore SIGINT, and its exit trap
    stopped at the first failing command before it reached the orchestrator."""

    def test_ctrl_c_after_a_wake(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        for port in (8080, 9901, 9902):  # the demo's fixed addresses (examples/sessiongate.yaml)
            with socket.socket() as s:
                self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0,
                                    f"127.0.0.1:{port} is in use: stop the running demo first")
        with tempfile.TemporaryFile() as out:
            # A session of its own, as a terminal gives `make run`: Ctrl-C is SIGINT to the group.
            demo = subprocess.Popen([os.path.join(root, "scripts", "run-demo")], stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env=dict(os.environ, SESSIONGATE_BIN=os.path.abspath(BIN)))
            try:
                def text():
                    out.seek(0)
                    return out.read().decode(errors="replace")
                wait_until(lambda: "sessiongate is running" in text() or demo.poll() is not None,
                           timeout=30)
                self.assertIn("sessiongate is running", text())
                # The first request wakes the demo container: a page server the orchestrator starts.
                try:
                    st, _, body = get(8080, "/session/demo/", "127.0.0.1:8080")
                except OSError as e:
                    self.fail(f"{e}: {text()}")
                self.assertEqual(st, 200, body[:200])
                log = open(os.path.join(root, "var", "orchestrator.log")).read()
                port = int(re.findall(r'"event": "ready", "container": "demo-container", '
                                      r'"port": (\d+)', log)[-1])
                os.killpg(demo.pid, signal.SIGINT)
                self.assertEqual(demo.wait(30), 0, text())
            finally:
                if demo.poll() is None:
                    os.killpg(demo.pid, signal.SIGKILL)
            # Nothing the demo started is left: not sessiongate, the orchestrator, nor the page
            # server (in a session of its own, so not reached by the group's signal).
            for p in (8080, 9901, 9902, port):
                with socket.socket() as s:
                    self.assertNotEqual(s.connect_ex(("127.0.0.1", p)), 0, f"port {p} still open")
            left = subprocess.run(["pgrep", "-f", "orchestrator --listen 127.0.0.1:9902|"
                                   f"http.server {port}"], capture_output=True, text=True).stdout
            self.assertEqual(left, "")


class RegressionASecondRouterOnTheSameAddressDoesNotStart(unittest.TestCase):
    """Every listener socket has SO_REUSEPORT: a second sessiongate on the same address used to
    start silently, and the kernel split new connections between the two."""

    def test_second_serve_exits_with_the_reason(self):
        with Proxy("  - priority: 1\n    action: {type: fixed, status: 200, body: first}\n",
                   admin=False, workers=2) as first:
            second = Proxy("  - priority: 1\n    action: {type: fixed, status: 200, body: second}\n",
                           admin=False, start=False)
            second.port = first.port
            second._write_config()
            out = subprocess.run([BIN, "serve", "--config", second.config], capture_output=True,
                                 text=True, timeout=20)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn(f"cannot listen on 127.0.0.1:{first.port}: Address already in use", out.stderr)
            self.assertIn("another process listens there", out.stderr)
            for _ in range(20):  # every connection still reaches the first
                self.assertEqual(get(first.port, "/", "x")[2], b"first")


class SystemdNotify(unittest.TestCase):
    def test_ready_reloading_and_stopping_reach_the_notify_socket(self):
        d = tempfile.mkdtemp(prefix="sg-notify-")
        path = os.path.join(d, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(10)
        os.environ["NOTIFY_SOCKET"] = path
        try:
            p = Proxy("  - priority: 1\n    action: {type: fixed, status: 200, body: ok}\n")
        finally:
            del os.environ["NOTIFY_SOCKET"]
        try:
            ready = sock.recv(4096).decode()
            self.assertIn("READY=1", ready)
            self.assertIn("STATUS=serving, configuration generation 1", ready)
            p.proc.send_signal(signal.SIGHUP)
            self.assertIn("RELOADING=1", sock.recv(4096).decode())
            again = sock.recv(4096).decode()
            self.assertIn("READY=1", again)
            self.assertIn("configuration generation 2", again)
            p.proc.send_signal(signal.SIGTERM)
            self.assertIn("STOPPING=1", sock.recv(4096).decode())
            self.assertEqual(p.proc.wait(20), 0)
        finally:
            p.stop()
            sock.close()


class Completion(unittest.TestCase):
    def test_bash_completes_commands_and_options_from_the_cli_definition(self):
        script = subprocess.run([BIN, "completion", "bash"], capture_output=True, text=True,
                                check=True).stdout
        d = tempfile.mkdtemp(prefix="sg-compl-")
        f = os.path.join(d, "c.bash")
        with open(f, "w") as out:
            out.write(script)

        def complete(*words):
            line = " ".join(["sessiongate", *words])
            prog = (f"source {f}; COMP_WORDS=({line}); COMP_CWORD={len(words)}; "
                    "_sessiongate; printf '%s\\n' \"${COMPREPLY[@]}\"")
            return subprocess.run(["bash", "-c", prog], capture_output=True, text=True,
                                  check=True).stdout.split()

        self.assertIn("reload", complete("re"))
        self.assertEqual(sorted(complete("")), sorted(set(complete(""))))
        self.assertIn("serve", complete(""))
        self.assertIn("check", complete("config", ""))
        self.assertIn("--syntax-only", complete("config", "check", "--"))
        self.assertIn("--address", complete("container", "register", "x", "--"))
        self.assertNotIn("completion", complete(""))

    def test_zsh_script_parses_and_unknown_shells_are_refused(self):
        script = subprocess.run([BIN, "completion", "zsh"], capture_output=True, text=True,
                                check=True).stdout
        self.assertTrue(script.startswith("#compdef sessiongate\n"))
        self.assertIn("reload", script)
        with tempfile.NamedTemporaryFile("w", suffix=".zsh", delete=False) as f:
            f.write(script)
        self.assertEqual(subprocess.run(["zsh", "-n", f.name]).returncode, 0)
        out = subprocess.run([BIN, "completion", "fish"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 2)
        self.assertIn("fish", out.stderr)


class DebianPackage(unittest.TestCase):
    """Built, installed, verified, started, removed: the machine is left as it was."""

    def setUp(self):
        self.assertEqual(os.geteuid(), 0, "installing the package needs root (as `make test` runs)")

    def test_package_installs_verifies_and_runs(self):
        out = tempfile.mkdtemp(prefix="sg-pkg-")
        r = subprocess.run(["cpack", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B",
                            out], capture_output=True, text=True, cwd=BUILD, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        self.assertEqual(len(debs), 1, os.listdir(out))
        deb = os.path.join(out, debs[0])
        info = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True,
                              text=True, check=True).stdout
        for lib in ("libssl3", "libnghttp2", "libsystemd0", "libsqlite3", "libhiredis",
                    "libyaml-cpp", "adduser"):
            self.assertIn(lib, info)
        contents = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                                  check=True).stdout
        for f in ("./usr/bin/sessiongate", "./usr/share/man/man1/sessiongate.1",
                  "./usr/lib/systemd/system/sessiongate.service", "./etc/sessiongate/sessiongate.yaml",
                  "./usr/share/bash-completion/completions/sessiongate",
                  "./usr/share/zsh/vendor-completions/_sessiongate"):
            self.assertIn(f, contents)
        self.assertEqual(subprocess.run(["dpkg", "-i", deb], capture_output=True).returncode, 0)
        self.addCleanup(self.purge)
        self.check_installed()

    def purge(self):
        r = subprocess.run(["dpkg", "-P", "sessiongate"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists("/usr/bin/sessiongate"))
        self.assertFalse(os.path.exists("/etc/sessiongate/env"))

    def check_installed(self):
        user = pwd.getpwnam("sessiongate")
        self.assertEqual(user.pw_dir, "/var/lib/sessiongate")
        env = os.stat("/etc/sessiongate/env")
        self.assertEqual(stat.S_IMODE(env.st_mode), 0o640)
        token = open("/etc/sessiongate/env").read().strip().split("=", 1)[1]
        self.assertRegex(token, r"^[0-9a-f]{48}$")
        self.assertTrue(os.path.islink(
            "/etc/systemd/system/multi-user.target.wants/sessiongate.service"))  # enabled
        unit = "/usr/lib/systemd/system/sessiongate.service"
        v = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertNotIn("sessiongate.service:", v.stderr)  # no warning about the unit itself
        self.assertEqual(subprocess.run(["/usr/bin/sessiongate", "--version"], capture_output=True,
                                        text=True).stdout,
                         subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout)
        man = subprocess.run(["man", "-l", "-P", "cat", "/usr/share/man/man1/sessiongate.1"],
                             capture_output=True, text=True, env=dict(os.environ, MANWIDTH="100"))
        self.assertEqual(man.returncode, 0, man.stderr)
        self.assertIn("CONFIGURATION", man.stdout)
        self.assertIn("listeners[].address", man.stdout)
        self.assertIn("sessiongate reload", man.stdout)
        # The installed binary, as the unit runs it: its user, its environment, its config.
        as_user = ["setpriv", "--reuid=sessiongate", "--regid=sessiongate", "--init-groups",
                   "env", f"SESSIONGATE_ADMIN_TOKEN={token}"]
        check = subprocess.run(as_user + ["/usr/bin/sessiongate", "config", "check",
                                "/etc/sessiongate/sessiongate.yaml"], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        proc = subprocess.Popen(as_user + ["/usr/bin/sessiongate", "serve", "--config",
                                           "/etc/sessiongate/sessiongate.yaml"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            self.assertTrue(wait_until(lambda: self.answers(8080), timeout=15))
            status, headers, body = get(8080, "/", "edit.acme.example.com",
                                        {"Accept": "text/html"})
            self.assertEqual(status, 404)
            self.assertIn(b"<html", body.lower())
            s = connect(9901)
            s.sendall("GET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode())
            self.assertIn(b"200 OK", s.recv(4096))
            s.close()
            self.assertTrue(os.path.exists("/var/lib/sessiongate/sessiongate.db"))
            self.assertEqual(os.stat("/var/lib/sessiongate/sessiongate.db").st_uid, user.pw_uid)
        finally:
            proc.send_signal(signal.SIGTERM)
            output = proc.communicate(timeout=30)[0]
        self.assertEqual(proc.returncode, 0, output)

    @staticmethod
    def answers(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False


if __name__ == "__main__":
    unittest.main()
