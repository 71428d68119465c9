"""The process under fault: descriptor exhaustion (the graceful 503 comes first, a failing
accept() backs off instead of spinning), signals (every one a process manager or a terminal
sends has a defined effect) and the shutdown sequence (announce, drain, 1001 to tunnels)."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import (Proxy, Reader, Upstream, connect, free_port, keepalive_server,  # noqa: E402
                     recv_until_close, request, upstream_rule, wait_until, ws_connect,
                     ws_echo_handler, ws_frame, ws_read_frame)
from test_timeouts_and_shutdown import hello, slow_arrived  # noqa: E402


def lower_fd_limit(pid, spare):
    """Lowers a running process's descriptor limit to what it has open plus `spare`; returns
    the old (soft, hard)."""
    import resource
    open_fds = len(os.listdir(f"/proc/{pid}/fd"))
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (open_fds + spare, hard))
    return soft, hard


def ticks_in_a_second(pid):
    """CPU ticks (10 ms) a process uses during one second: a busy loop burns about 100."""
    stat = lambda: sum(int(x) for x in open(f"/proc/{pid}/stat").read().split()[13:15])  # noqa: E731
    before = stat()
    time.sleep(1)
    return stat() - before


class DescriptorExhaustion(unittest.TestCase):
    def test_regression_a_low_fd_limit_lowers_max_connections_so_the_503_comes_first(self):
        # With 10,000 connections per worker allowed and 200 descriptors, accept() failed with
        # EMFILE long before the graceful 503, and was retried at once (a busy loop).
        with Upstream(keepalive_server(hello)) as up:
            p = Proxy(upstream_rule(up.port), rlimit_nofile=200)
            try:
                # 200 descriptors, a reserve of 64 + 16 per worker, two per connection: 60.
                self.assertIn("max_connections 10000 per worker x 1 workers needs about 20080 "
                              "file descriptors, the limit is 200: lowered to 60 per worker",
                              p.stderr())
                held = [connect(p.port) for _ in range(60)]
                self.assertEqual(p.wait_metric("sessiongate_connections_active", 60), 60)
                for _ in range(5):
                    s = connect(p.port)
                    self.assertTrue(recv_until_close(s).startswith(b"HTTP/1.1 503"))
                    s.close()
                self.assertEqual(p.admin("GET", "/healthz", token="")[0], 200)
                values = p.metrics()[0]
                self.assertEqual(values['sessiongate_accept_errors_total{reason="emfile"}'], 0)
                for h in held:
                    h.close()
                self.assertEqual(p.wait_metric("sessiongate_connections_active", 0), 0)
                self.assertEqual(request(p.port)[0], 200)
            finally:
                p.stop()

    def test_regression_admin_accept_out_of_descriptors_pauses_instead_of_spinning(self):
        # The admin API's acceptor retried a failed accept() at once: with a connection waiting
        # in its backlog and no descriptor free, the control plane's loop spun a whole core.
        import resource
        with Upstream(keepalive_server(hello)) as up:
            p = Proxy(upstream_rule(up.port))
            try:
                soft, hard = lower_fd_limit(p.proc.pid, spare=0)
                # The first two get in on the admin API's two spare descriptors; the third
                # stays in the backlog: accept() has no descriptor and no spare is left.
                waiting = [connect(p.admin_port) for _ in range(3)]
                self.assertTrue(wait_until(lambda: "admin API: accept failed: Too many open files"
                                           in p.stderr()))
                self.assertLess(ticks_in_a_second(p.proc.pid), 50, "the admin acceptor spins on EMFILE")
                resource.prlimit(p.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
                for w in waiting:
                    w.close()
                self.assertTrue(wait_until(lambda: p.admin("GET", "/healthz", token="")[0] == 200,
                                           timeout=10))
            finally:
                p.stop()

    def data_plane_out_of_descriptors(self, while_out):
        """Lowers the limit under the running router (as when other descriptors pile up) until
        accept() fails with EMFILE, runs `while_out(p)`, then frees the descriptors and checks
        the router accepts again."""
        import resource
        with Upstream(keepalive_server(hello)) as up:
            p = Proxy(upstream_rule(up.port))
            try:
                soft, hard = lower_fd_limit(p.proc.pid, spare=20)
                # More than the router can hold: the rest wait in the backlog.
                held = [connect(p.port) for _ in range(40)]
                self.assertTrue(wait_until(lambda: "accept failed: Too many open files" in p.stderr()))
                while_out(p)
                for h in held:
                    h.close()
                resource.prlimit(p.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
                self.assertTrue(wait_until(lambda: request(p.port)[0] == 200, timeout=10))
                return p.metrics()[0], p.stderr()
            finally:
                p.stop()

    def test_regression_accept_out_of_descriptors_pauses_instead_of_spinning(self):
        # The acceptor must back off, count it and say so, then accept again once descriptors
        # are free.
        values, stderr = self.data_plane_out_of_descriptors(
            lambda p: self.assertLess(ticks_in_a_second(p.proc.pid), 50, "the acceptor spins on EMFILE"))
        self.assertGreaterEqual(values['sessiongate_accept_errors_total{reason="emfile"}'], 1)
        # Said once per 10 s, not once per failure.
        self.assertLessEqual(stderr.count("accept failed: Too many open files"), 2)

    def test_regression_health_checks_answer_while_the_data_plane_is_out_of_descriptors(self):
        # The admin API shared the process's last descriptor with the data plane: at the limit
        # /healthz and /metrics could not even be accepted, so the router looked dead to its
        # orchestrator exactly when it needed to be seen. It keeps spares for them.
        def while_out(p):
            self.assertEqual(p.admin("GET", "/healthz", token="")[0], 200)
            values = p.metrics()[0]
            self.assertGreaterEqual(values['sessiongate_accept_errors_total{reason="emfile"}'], 1)
            self.assertEqual(p.admin("GET", "/healthz", token="")[0], 200)
        self.data_plane_out_of_descriptors(while_out)


def slower(method, target, headers, body, conn):
    if target == "/slower":
        slow_arrived.set()
        time.sleep(6.0)
    return 200, b"too late", None


class GracefulShutdown(unittest.TestCase):
    def test_regression_a_request_unanswered_at_the_drain_deadline_gets_a_503(self):
        # Past timeouts.shutdown_drain the connection was closed with no answer at all: the
        # client saw an empty reply and could not tell a shutdown from a crash.
        with Upstream(keepalive_server(slower)) as up:
            p = Proxy(upstream_rule(up.port), extra="timeouts: {shutdown_drain: 1s}")
            busy = connect(p.port, timeout=10)
            slow_arrived.clear()
            busy.sendall(b"GET /slower HTTP/1.1\r\nHost: app.test\r\nAccept: text/html\r\n\r\n")
            self.assertTrue(slow_arrived.wait(10))
            started = time.monotonic()
            p.proc.send_signal(signal.SIGTERM)
            status, headers, body = Reader(busy).response()
            waited = time.monotonic() - started
            self.assertEqual(status, 503)
            self.assertEqual(headers.get("connection"), "close")
            self.assertIn(b"restarting", body.lower())
            self.assertEqual(busy.recv(10), b"")
            self.assertLess(waited, 5.0, "answered at the drain deadline, not when the upstream did")
            self.assertEqual(p.proc.wait(10), 0)
            self.assertIn("unanswered requests get 503 shutting_down", p.stderr())

    def test_regression_an_h2_stream_unanswered_at_the_drain_deadline_gets_a_503(self):
        import subprocess
        with Upstream(keepalive_server(slower)) as up:
            h2c_port = free_port()
            p = Proxy(upstream_rule(up.port), extra="timeouts: {shutdown_drain: 1s}",
                      more_listeners=f"  - {{address: 127.0.0.1:{h2c_port}, h2c: true}}\n")
            slow_arrived.clear()
            curl = subprocess.Popen(["curl", "-sS", "-i", "--max-time", "20", "--http2-prior-knowledge",
                                     "-H", "Host: app.test", f"http://127.0.0.1:{h2c_port}/slower"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.assertTrue(slow_arrived.wait(10))
            p.proc.send_signal(signal.SIGTERM)
            out, err = curl.communicate(timeout=20)
            self.assertTrue(out.startswith("HTTP/2 503"), out + err)
            self.assertIn("shutting_down", out)
            self.assertEqual(p.proc.wait(10), 0)

    def test_sigterm_finishes_in_flight_and_exits_zero(self):
        with Upstream(keepalive_server(hello)) as up:
            p = Proxy(upstream_rule(up.port))
            idle = connect(p.port)
            idle.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
            Reader(idle).response()
            busy = connect(p.port)
            slow_arrived.clear()
            busy.sendall(b"GET /slow HTTP/1.1\r\nHost: app.test\r\n\r\n")
            self.assertTrue(slow_arrived.wait(10))  # in flight at the upstream
            p.proc.send_signal(signal.SIGTERM)
            status, headers, body = Reader(busy).response()
            self.assertEqual((status, body), (200, b"hello"))
            self.assertEqual(headers.get("connection"), "close")
            self.assertEqual(idle.recv(10), b"")  # idle keep-alive connection closed
            self.assertEqual(p.proc.wait(10), 0)
            with self.assertRaises(OSError):
                connect(p.port, timeout=1)
            p.stop()


    def test_regression_sighup_and_sigusr2_are_logged_not_fatal(self):
        # SIGHUP's default action ended the process at once: no log, no drain.
        with Upstream(keepalive_server(hello)) as up:
            p = Proxy(upstream_rule(up.port))
            try:
                for sig, name, said in ((signal.SIGHUP, "SIGHUP", "SIGHUP received: reloading"),
                                        (signal.SIGUSR2, "SIGUSR2", "SIGUSR2 received: ignored")):
                    p.proc.send_signal(sig)
                    self.assertTrue(wait_until(lambda: said in p.stderr()), name)
                    self.assertIsNone(p.proc.poll(), name)
                    self.assertEqual(request(p.port)[0], 200, name)
            finally:
                self.assertEqual(p.stop(), 0)

    def test_sigquit_drains_like_sigterm(self):
        with Upstream(keepalive_server(hello)) as up:
            p = Proxy(upstream_rule(up.port))
            slow_arrived.clear()
            busy = connect(p.port)
            busy.sendall(b"GET /slow HTTP/1.1\r\nHost: app.test\r\n\r\n")
            self.assertTrue(slow_arrived.wait(10))
            p.proc.send_signal(signal.SIGQUIT)
            self.assertEqual(Reader(busy).response()[:3:2], (200, b"hello"))
            self.assertEqual(p.proc.wait(10), 0)
            self.assertIn("SIGQUIT, draining", p.stderr())
            p.stop()

    def test_sigterm_closes_parked_connections_at_once(self):
        with Upstream(keepalive_server(hello)) as up:
            p = Proxy(upstream_rule(up.port))
            fresh = connect(p.port)  # never sent anything
            idle = connect(p.port)
            idle.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
            Reader(idle).response()
            time.sleep(1.3)  # past the hot-read second: parked
            t0 = time.time()
            p.proc.send_signal(signal.SIGTERM)
            for s in (fresh, idle):
                s.settimeout(5)
                self.assertEqual(s.recv(10), b"")
            self.assertEqual(p.proc.wait(10), 0)
            self.assertLess(time.time() - t0, 2.5)
            p.stop()

    def test_sigterm_sends_websockets_1001_once_requests_are_done(self):
        # Issue: shutdown cut WebSockets with no close frame (1006) at the drain deadline, so
        # any open HMR socket made every shutdown take the whole drain time.
        with Upstream(ws_echo_handler) as up:
            p = Proxy(upstream_rule(up.port), extra="timeouts: {shutdown_drain: 20s}")
            ws, r, status, _, _ = ws_connect(p.port)
            self.assertEqual(status, 101)
            ws.sendall(ws_frame(1, b"hi"))
            self.assertEqual(ws_read_frame(r)[2], b"hi")
            t0 = time.monotonic()
            p.proc.send_signal(signal.SIGTERM)
            ws.settimeout(10)
            fin, op, payload = ws_read_frame(r)
            self.assertEqual((op, payload[:2]), (8, (1001).to_bytes(2, "big")))
            ws.sendall(ws_frame(8, payload[:2]))  # the client's answer
            self.assertEqual(p.proc.wait(10), 0)
            self.assertLess(time.monotonic() - t0, 5)  # not the 20 s drain time
            ws.close()
            # The container was told too: its echo of our close, or its own 1001, came back.
            p.stop()

    def test_drain_announce_fails_readyz_first_and_keeps_serving(self):
        with Upstream(keepalive_server(hello)) as up:
            p = Proxy(upstream_rule(up.port), extra="timeouts: {drain_announce: 1500ms}")
            self.assertEqual(p.admin("GET", "/readyz")[0], 200)
            p.proc.send_signal(signal.SIGTERM)
            self.assertTrue(wait_until(lambda: p.admin("GET", "/readyz")[0] == 503))
            st, body = p.admin("GET", "/readyz")
            self.assertIn("draining", body["detail"])
            # Still serving new connections while the load balancer takes it out.
            self.assertEqual(request(p.port)[0], 200)
            self.assertIsNone(p.proc.poll())
            self.assertEqual(p.proc.wait(10), 0)
            self.assertIn("/readyz fails from now; draining in 1500 ms", p.stderr())
            p.stop()

    def test_regression_drain_serves_a_connection_accepted_just_before_it(self):
        # Closing a connection whose request is on its way resets it: a drain gives a
        # connection accepted within the last second that second, and answers it.
        with Upstream(keepalive_server(hello)) as up:
            p = Proxy(upstream_rule(up.port))
            fresh = connect(p.port)
            time.sleep(0.1)  # accepted and parked, nothing sent yet
            p.proc.send_signal(signal.SIGTERM)
            self.assertTrue(wait_until(lambda: "draining" in p.stderr()))
            fresh.sendall(b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n")
            status, headers, body = Reader(fresh).response()
            self.assertEqual((status, body), (200, b"hello"))
            self.assertEqual(dict(headers).get("connection"), "close")
            self.assertEqual(p.proc.wait(10), 0)
            p.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
