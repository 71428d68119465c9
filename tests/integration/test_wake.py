"""Wake on request and sleep, against the real binary: a platform (a real HTTP server on
loopback that verifies the signed webhook and registers containers through the admin API, as
an orchestrator does) or a local command starts containers; requests for a sleeping session
are held and then served; failures, caps, timeouts, a deleted session and the drain each get
their documented answer; idle containers are stopped exactly once, and an open WebSocket keeps
one awake. Two routers on one Redis store wake a session once."""
import hashlib
import hmac
import http.server
import json
import os
import signal
import stat
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SESSION_RULES, Proxy, RedisServer, Upstream, connect, get, keepalive_server,  # noqa: E402
                     redis_store, wait_until, ws_connect, ws_echo_handler)

SECRET = "wake-secret-0123456789abcdef"
os.environ["SG_TEST_WAKE_SECRET"] = SECRET


def host(sid):
    return f"{sid}.preview.example.com"


class Platform:
    """The orchestrator's side of the webhook. `mode` decides each answer: "register" (202,
    then registers the container ready after `delay`), "accept" (202, registers nothing),
    "fail" (500), "slow" (never answers in time), "reject" (401). Every call is recorded
    with whether its signature verified."""

    def __init__(self, mode="register", delay=0.3, secret=SECRET):
        self.mode, self.delay, self.secret = mode, delay, secret
        self.calls = []
        self.lock = threading.Lock()
        self.proxy = None
        self.upstream_port = None
        platform = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ts = self.headers.get("X-Sessiongate-Timestamp", "")
                want = "sha256=" + hmac.new(platform.secret.encode(), ts.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
                call = json.loads(body)
                call["signed"] = hmac.compare_digest(want, self.headers.get("X-Sessiongate-Signature", ""))
                call["path"] = self.path
                with platform.lock:
                    platform.calls.append(call)
                mode = platform.mode
                if mode == "slow":
                    time.sleep(3)
                if mode == "reject" or not call["signed"]:
                    self.send_response(401)
                elif mode == "fail":
                    self.send_response(500)
                else:
                    self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if mode == "register" and call["action"] == "start" and call["signed"]:
                    threading.Timer(platform.delay, platform.register, (call["container"],)).start()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def register(self, cid):
        for p in self.proxy if isinstance(self.proxy, list) else [self.proxy]:
            p.register(cid, self.upstream_port)
            return

    def starts(self):
        with self.lock:
            return [c for c in self.calls if c["action"] == "start"]

    def stops(self):
        with self.lock:
            return [c for c in self.calls if c["action"] == "stop"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wake_config(platform_port, extra_wake="", sessions="", hold="5s"):
    return (f"wake:\n  webhook: {{url: \"http://127.0.0.1:{platform_port}/hooks/sessiongate\", "
            f"secret_env: SG_TEST_WAKE_SECRET, timeout: 1s}}\n"
            f"  hold_timeout: {hold}\n  retry_backoff: 50ms\n{extra_wake}"
            f"sessions: {{activity_interval: 100ms, sweep_interval: 100ms{sessions}}}\n")


def app(method, target, headers, body, conn):
    return 200, b"preview " + target.encode(), None


class WakeCase(unittest.TestCase):
    MODE = "register"
    EXTRA_WAKE = ""
    SESSIONS = ""
    WORKERS = 1
    HOLD = "5s"

    def setUp(self):
        self.platform = Platform(self.MODE)
        self.up = Upstream(keepalive_server(app))
        self.platform.upstream_port = self.up.port
        self.p = Proxy(SESSION_RULES, workers=self.WORKERS,
                       extra=wake_config(self.platform.port, self.EXTRA_WAKE, self.SESSIONS, self.HOLD))
        self.platform.proxy = self.p

    def tearDown(self):
        self.p.stop()
        self.up.close()
        self.platform.close()

    def sleeping(self, sid="t1", cid="c1"):
        self.p.register(cid, self.up.port, status="sleeping")
        self.p.session(sid, cid)

    def metric(self, name):
        return self.p.metrics()[0].get(name)


class HeldUntilReady(WakeCase):
    WORKERS = 2
    # Far beyond the client's 10 s read timeout: a request that is not released by the route
    # change (but by its hold_timeout) fails the test instead of passing late.
    HOLD = "60s"

    def test_a_request_for_a_sleeping_session_is_held_then_served(self):
        self.sleeping()
        began = time.monotonic()
        status, headers, body = get(self.p.port, "/page", host("t1"),
                                    headers={"X-Request-Id": "req-42"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body, b"preview /page")
        self.assertGreaterEqual(time.monotonic() - began, 0.25)  # it waited for the platform
        starts = self.platform.starts()
        self.assertEqual(len(starts), 1)
        call = starts[0]
        self.assertTrue(call["signed"], "the body's HMAC must verify with the shared secret")
        self.assertEqual((call["session"], call["container"], call["reason"], call["request_id"]),
                         ("t1", "c1", "request", headers["x-request-id"]))
        self.assertEqual(call["path"], "/hooks/sessiongate")
        self.assertEqual(self.p.wait_metric('sessiongate_wakes_total{result="started"}', 1), 1)
        self.assertEqual(self.metric("sessiongate_wake_seconds_count"), 1)
        self.assertEqual(self.metric("sessiongate_held_requests"), 0)
        self.assertNotIn("lease not taken", self.p.stderr())

    def test_100_concurrent_first_requests_make_one_wake_call(self):
        self.sleeping("t2", "c2")
        results = []
        lock = threading.Lock()

        def one(i):
            st, _, body = get(self.p.port, f"/m{i}", host("t2"))
            with lock:
                results.append((st, body))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(len(results), 100)
        self.assertEqual(sorted(st for st, _ in results), [200] * 100)
        self.assertEqual(len(self.platform.starts()), 1, self.platform.calls)
        self.assertEqual(self.metric("sessiongate_holds_total"), 100)

    def test_an_unregistered_container_is_woken_too(self):
        self.p.session("t3", "c3")  # names a container that never registered
        status, _, body = get(self.p.port, "/", host("t3"))
        self.assertEqual(status, 200, body)
        self.assertEqual([c["container"] for c in self.platform.starts()], ["c3"])

    def test_a_ready_session_never_calls_the_platform(self):
        self.p.register("c4", self.up.port)
        self.p.session("t4", "c4")
        self.assertEqual(get(self.p.port, "/", host("t4"))[0], 200)
        self.assertEqual(self.platform.calls, [])

    def test_an_h2_stream_is_held_and_served(self):
        import subprocess
        self.p.stop()
        self.p.listener = "h2c: true"
        self.p._write_config()
        self.p.start()
        self.sleeping("t5", "c5")
        out = subprocess.run(["curl", "-s", "--http2-prior-knowledge", "-o", "-", "-w", " %{http_version} %{http_code}",
                              "-H", f"Host: {host('t5')}", f"http://127.0.0.1:{self.p.port}/h2"],
                             capture_output=True, timeout=20, text=True).stdout
        self.assertEqual(out, "preview /h2 2 200")
        self.assertEqual(len(self.platform.starts()), 1)


class PlatformFails(WakeCase):
    MODE = "fail"
    EXTRA_WAKE = "  retries: 2\n"

    def test_a_failing_platform_is_retried_then_the_page_says_so(self):
        self.sleeping()
        status, headers, body = get(self.p.port, "/", host("t1"), headers={"Accept": "text/html"})
        self.assertEqual(status, 503)
        self.assertIn(b"could not be started", body)
        self.assertIn(b"error", body)  # the failure's class
        self.assertEqual(len(self.platform.starts()), 3, "one call and two retries")
        self.assertEqual(self.metric('sessiongate_wakes_total{result="failed"}'), 1)
        st, _, jbody = get(self.p.port, "/", host("t1"), headers={"Accept": "application/json"})
        self.assertEqual(st, 503)
        self.assertEqual(json.loads(jbody)["error"], "wake_failed")


class PlatformRejectsTheSignature(WakeCase):
    def setUp(self):
        super().setUp()
        self.platform.secret = "another-secret-entirely-000"

    def test_a_wrong_signature_is_refused_and_not_retried(self):
        self.sleeping()
        status, _, body = get(self.p.port, "/", host("t1"), headers={"Accept": "text/html"})
        self.assertEqual(status, 503)
        self.assertIn(b"rejected", body)
        self.assertEqual(len(self.platform.starts()), 1, "a 4xx is the platform saying no")
        self.assertFalse(self.platform.starts()[0]["signed"])


class PlatformSlow(WakeCase):
    MODE = "slow"
    EXTRA_WAKE = "  retries: 0\n"

    def test_a_platform_that_does_not_answer_in_time_is_a_timeout(self):
        self.sleeping()
        began = time.monotonic()
        status, _, body = get(self.p.port, "/", host("t1"), headers={"Accept": "text/html"})
        self.assertEqual(status, 503)
        self.assertIn(b"timeout", body)
        self.assertLess(time.monotonic() - began, 3, "bounded by wake.webhook.timeout (1s)")


class PlatformDown(WakeCase):
    EXTRA_WAKE = "  retries: 1\n  breaker_failures: 3\n  breaker_cooldown: 1h\n"

    def setUp(self):
        super().setUp()
        self.platform.close()  # nothing listens on its port any more

    def tearDown(self):
        self.p.stop()
        self.up.close()

    def test_connection_refused_then_the_circuit_opens(self):
        for i in (1, 2):
            self.sleeping(f"t{i}", f"c{i}")
        status, _, body = get(self.p.port, "/", host("t1"), headers={"Accept": "text/html"})
        self.assertEqual(status, 503)
        self.assertIn(b"refused", body)
        # t1 made 2 failed calls; t2's first fails too: three in a row open the circuit.
        status, _, body = get(self.p.port, "/", host("t2"), headers={"Accept": "text/html"})
        self.assertEqual(status, 503)
        self.assertIn(b"circuit_open", body)
        self.assertEqual(self.metric("sessiongate_wake_circuit_open"), 1)
        self.assertEqual(self.metric('sessiongate_wakes_total{result="circuit_open"}'), 1)


class HoldBounds(WakeCase):
    MODE = "accept"  # the platform says yes but the container never registers
    EXTRA_WAKE = "  max_held_per_session: 2\n"

    def test_past_hold_timeout_browsers_get_the_starting_page_and_others_503(self):
        self.p.stop()
        self.p.extra = self.p.extra.replace("hold_timeout: 5s", "hold_timeout: 1s")
        self.p._write_config()
        self.p.start()
        self.sleeping()
        st, headers, body = get(self.p.port, "/", host("t1"), headers={"Accept": "text/html"})
        self.assertEqual(st, 503)
        self.assertIn(b"starting", body)
        self.assertIn("retry-after", headers)
        self.assertIn(b"X-Sessiongate-Wait", body, "the page waits on the router")
        self.assertIn(b"<noscript><meta http-equiv=\"refresh\"", body, "and reloads without JS")
        self.assertIn(b'<p id="sg-what">Waking the preview', body, "what happens, in words")
        self.assertNotIn(b"<code>waking", body, "no internal codes as prose")
        st, headers, body = get(self.p.port, "/api", host("t1"),
                                headers={"Accept": "application/json", "X-Request-Id": "r-7"})
        self.assertEqual(st, 503)
        j = json.loads(body)
        # A client's own id is not taken (only a trusted proxy's): the page names the router's.
        self.assertEqual((j["error"], j["state"], j["request_id"]),
                         ("starting", "waking", headers["x-request-id"]))
        self.assertNotEqual(j["request_id"], "r-7")
        self.assertEqual(j["retry_after_ms"], int(headers["retry-after"]) * 1000)
        self.assertEqual(self.metric("sessiongate_hold_timeouts_total"), 2)

    def test_a_navigation_gets_the_live_page_early_and_its_poll_says_ready(self):
        self.p.stop()
        self.p.extra = self.p.extra.replace("hold_timeout: 5s", "hold_timeout: 5s\n  navigation_hold: 300ms")
        self.p._write_config()
        self.p.start()
        self.sleeping()
        began = time.monotonic()
        st, _, body = get(self.p.port, "/", host("t1"), headers={"Accept": "text/html"})
        self.assertEqual(st, 503)
        self.assertLess(time.monotonic() - began, 2)
        self.assertIn(b"Waking the preview", body)
        self.assertEqual(self.metric("sessiongate_hold_timeouts_total"), 0)
        polled = []
        t = threading.Thread(target=lambda: polled.append(
            get(self.p.port, "/", host("t1"), headers={"X-Sessiongate-Wait": "1"})))
        t.start()
        self.assertTrue(wait_until(lambda: self.metric("sessiongate_held_requests") == 1))
        self.p.register("c1", self.up.port)  # what the woken container does
        t.join(5)
        st, headers, body = polled[0]
        self.assertEqual((st, json.loads(body)), (200, {"state": "ready"}))
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertEqual(self.up.connections, 0, "the poll never reaches the container")
        st, _, body = get(self.p.port, "/", host("t1"), headers={"X-Sessiongate-Wait": "1"})
        self.assertEqual(json.loads(body), {"state": "ready"})

    def test_over_the_per_session_cap_answers_at_once(self):
        self.sleeping()
        held = []
        for _ in range(2):
            s = connect(self.p.port)
            s.sendall(f"GET / HTTP/1.1\r\nHost: {host('t1')}\r\n\r\n".encode())
            held.append(s)
        self.assertTrue(wait_until(lambda: self.metric("sessiongate_held_requests") == 2))
        began = time.monotonic()
        st, _, body = get(self.p.port, "/", host("t1"))
        self.assertEqual(st, 503)
        self.assertEqual(json.loads(body)["error"], "hold_full")
        self.assertLess(time.monotonic() - began, 1)
        for s in held:
            s.close()

    def test_a_session_deleted_while_held_gets_404(self):
        self.sleeping()
        out = []
        t = threading.Thread(target=lambda: out.append(get(self.p.port, "/", host("t1"))))
        t.start()
        self.assertTrue(wait_until(lambda: self.metric("sessiongate_held_requests") == 1))
        self.assertEqual(self.p.admin("DELETE", "/v1/sessions/t1")[0], 204)
        t.join(5)
        self.assertEqual(out[0][0], 404)

    def test_the_drain_answers_held_requests_with_503_shutting_down(self):
        self.p.stop()
        self.p.extra += "timeouts: {shutdown_drain: 1s}\n"
        self.p._write_config()
        self.p.start()
        self.sleeping()
        out = []
        t = threading.Thread(target=lambda: out.append(get(self.p.port, "/", host("t1"))))
        t.start()
        self.assertTrue(wait_until(lambda: self.metric("sessiongate_held_requests") == 1))
        self.p.proc.send_signal(signal.SIGTERM)
        t.join(10)
        self.assertEqual(out[0][0], 503)
        self.assertEqual(json.loads(out[0][2])["error"], "shutting_down")
        self.assertEqual(self.p.proc.wait(10), 0)


class Sleep(WakeCase):
    SESSIONS = ", sleep_after: 1s"

    def test_an_idle_container_is_stopped_once_and_woken_by_the_next_request(self):
        self.p.register("c1", self.up.port)
        self.p.session("t1", "c1")
        self.assertEqual(get(self.p.port, "/", host("t1"))[0], 200)
        self.assertTrue(wait_until(lambda: self.platform.stops(), timeout=10))
        self.assertTrue(wait_until(
            lambda: self.p.admin("GET", "/v1/containers/c1")[1]["status"] == "sleeping"))
        time.sleep(1.5)  # several sweeps: a sleeping container is not stopped again
        self.assertEqual(len(self.platform.stops()), 1)
        stop = self.platform.stops()[0]
        self.assertEqual((stop["session"], stop["container"], stop["reason"]), ("t1", "c1", "idle"))
        self.assertEqual(self.metric("sessiongate_sleeps_total"), 1)
        status, _, body = get(self.p.port, "/back", host("t1"))
        self.assertEqual((status, body), (200, b"preview /back"))
        self.assertEqual(len(self.platform.starts()), 1)

    def test_an_open_websocket_keeps_its_container_awake(self):
        ws_up = Upstream(ws_echo_handler)
        try:
            self.p.register("c2", ws_up.port)
            self.p.session("t2", "c2")
            s, _, status, _, _ = ws_connect(self.p.port, host=host("t2"))
            self.assertEqual(status, 101)
            self.p.session("t3", "c3", sleep_after="never")
            self.p.register("c3", self.up.port)
            time.sleep(3)  # three times sleep_after
            self.assertEqual(self.platform.stops(), [], "neither the open tunnel's nor the warm one's")
            s.close()
            self.assertTrue(wait_until(lambda: self.platform.stops(), timeout=10))
        finally:
            ws_up.close()


class SleepPerSession(WakeCase):
    SESSIONS = ""  # the router's default: never

    def test_a_session_sets_its_own_sleep_after_or_never(self):
        self.p.register("c1", self.up.port)
        self.p.register("c2", self.up.port)
        st, body = self.p.admin("PUT", "/v1/sessions/quick", {"container_id": "c1", "sleep_after": "1s"})
        self.assertEqual((st, body["sleep_after_ms"]), (201, 1000))
        st, body = self.p.admin("PUT", "/v1/sessions/warm", {"container_id": "c2", "sleep_after": "never"})
        self.assertEqual((st, body["sleep_after_ms"]), (201, -1))
        st, body = self.p.admin("PUT", "/v1/sessions/bad", {"container_id": "c2", "sleep_after": "10ms"})
        self.assertEqual(st, 400)
        self.assertIn("sleep_after must be", json.dumps(body))
        self.assertTrue(wait_until(lambda: self.platform.stops(), timeout=10))
        time.sleep(1.5)
        self.assertEqual([c["container"] for c in self.platform.stops()], ["c1"],
                         "only the session that asked for it sleeps")


class CommandHook(unittest.TestCase):
    def test_a_local_command_starts_the_container(self):
        d = tempfile.mkdtemp(prefix="sg-wake-cmd-")
        log = os.path.join(d, "calls")
        script = os.path.join(d, "start")
        with open(script, "w") as f:
            f.write(f"#!/bin/sh\necho \"$1 $2 $3 $SESSIONGATE_ACTION\" >> {log}\n"
                    "[ \"$2\" = broken ] && exit 3\nexit 0\n")
        os.chmod(script, stat.S_IRWXU)
        up = Upstream(keepalive_server(app))
        p = Proxy(SESSION_RULES, extra=(f"wake:\n  command: [{script}, \"{{action}}\", \"{{session}}\", "
                                        "\"{container}\"]\n  retries: 0\n  hold_timeout: 5s\n"))
        try:
            p.register("c1", up.port, status="sleeping")
            p.session("t1", "c1")
            out = []
            t = threading.Thread(target=lambda: out.append(get(p.port, "/", host("t1"))))
            t.start()
            self.assertTrue(wait_until(lambda: os.path.exists(log)))
            p.register("c1", up.port)  # what the started container does
            t.join(10)
            self.assertEqual(out[0][0], 200)
            with open(log) as f:
                self.assertEqual(f.read(), "start t1 c1 start\n")
            p.session("broken", "c9")
            st, _, body = get(p.port, "/", host("broken"), headers={"Accept": "text/html"})
            self.assertEqual(st, 503)
            self.assertIn(b"command_failed", body)
            self.assertIn("exited with status 3", p.stderr())
        finally:
            p.stop()
            up.close()


class RegressionAFinishedWakeGivesItsLeaseBack(unittest.TestCase):
    """A wake kept its store lease ("wake/<session>") for hold_timeout after the container was
    up: a router started again on the same store within it (`make run` twice in a row) saw
    another owner's lease, waited for a wake nobody ran, and answered after hold_timeout."""

    def test_a_router_started_again_wakes_at_once(self):
        platform = Platform("register", delay=0.1)
        up = Upstream(keepalive_server(app))
        platform.upstream_port = up.port
        cfg = wake_config(platform.port, hold="60s")  # far beyond the client's 10 s timeout
        a = Proxy(SESSION_RULES, extra=cfg)
        b = None
        try:
            platform.proxy = a
            a.register("c1", up.port, status="sleeping")
            a.session("t1", "c1")
            self.assertEqual(get(a.port, "/first", host("t1"))[0], 200)
            a.register("c1", up.port, status="sleeping")  # it went to sleep again
            a.stop()
            b = Proxy(SESSION_RULES, extra=cfg, directory=a.dir)
            platform.proxy = b
            status, _, body = get(b.port, "/second", host("t1"))
            self.assertEqual((status, body), (200, b"preview /second"))
            self.assertEqual(len(platform.starts()), 2, platform.calls)
            self.assertEqual(b.metrics()[0].get('sessiongate_wakes_total{result="elsewhere"}', 0), 0)
        finally:
            if b:
                b.stop()
            a.stop()
            up.close()
            platform.close()


class TwoRoutersOnRedis(unittest.TestCase):
    def test_concurrent_first_requests_through_both_routers_make_one_wake(self):
        redis = RedisServer()
        platform = Platform("register", delay=0.5)
        up = Upstream(keepalive_server(app))
        platform.upstream_port = up.port
        cfg = wake_config(platform.port) + redis_store(redis, prefix="wake2:")
        a = Proxy(SESSION_RULES, extra=cfg)
        b = Proxy(SESSION_RULES, extra=cfg)
        platform.proxy = a
        try:
            a.register("c1", up.port, status="sleeping")
            a.session("t1", "c1")
            self.assertTrue(wait_until(lambda: b.admin("GET", "/v1/sessions/t1")[0] == 200))
            results = []
            lock = threading.Lock()

            def one(proxy, i):
                st = get(proxy.port, f"/{i}", host("t1"))[0]
                with lock:
                    results.append(st)

            threads = [threading.Thread(target=one, args=(a if i % 2 else b, i)) for i in range(40)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            self.assertEqual(results, [200] * 40)
            self.assertEqual(len(platform.starts()), 1, platform.calls)
            elsewhere = sum(p.metrics()[0].get('sessiongate_wakes_total{result="elsewhere"}', 0)
                            for p in (a, b))
            self.assertEqual(elsewhere, 1, "the router without the lease waited for the other's wake")
        finally:
            a.stop()
            b.stop()
            up.close()
            platform.close()
            redis.kill()


if __name__ == "__main__":
    unittest.main()
