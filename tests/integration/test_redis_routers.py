"""Several routers on one Redis registry, all real: redis-server, the sessiongate binary (three
instances), upstream servers on loopback. Changes written through one router reach the
others; a Redis outage leaves known routes serving; a router that missed changes
resynchronises. Propagation times are printed, never asserted."""
import os
import signal
import statistics
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (SESSION_RULES, Proxy, RedisServer, Upstream, get, keepalive_server,  # noqa: E402
                     pct, redis_store)


def app_named(name):
    def app(method, target, headers, body, conn):
        return 200, name.encode(), None
    return app


def host(sid):
    return f"{sid}.preview.example.com"


def wait_for(pred, timeout=10.0, step=0.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        if step:
            time.sleep(step)
    return pred()


def status(proxy, sid):
    return get(proxy.port, "/", host(sid))[0]


def metric(proxy, name):
    st, text = proxy.admin("GET", "/metrics")
    if isinstance(text, bytes):
        text = text.decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


class ThreeRouters(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = RedisServer(persist=True)
        cls.up = Upstream(keepalive_server(app_named("one")))
        cls.up2 = Upstream(keepalive_server(app_named("two")))
        cls.routers = [Proxy(SESSION_RULES, extra=redis_store(cls.redis) + "sessions: {activity_interval: 200ms}\n")
                       for _ in range(3)]
        cls.a, cls.b, cls.c = cls.routers

    @classmethod
    def tearDownClass(cls):
        for r in cls.routers:
            r.stop()
        cls.redis.kill(signal.SIGTERM)
        cls.up.close()
        cls.up2.close()

    def test_1_write_through_a_route_through_b_and_c_delete_through_b(self):
        self.a.register("c1", self.up.port)
        t0 = time.monotonic()
        self.a.session("shared", "c1")
        for r in (self.b, self.c):
            self.assertTrue(wait_for(lambda: status(r, "shared") == 200), r.stderr())
        print(f"\ncreate via A -> routed by B and C after {1000 * (time.monotonic() - t0):.1f} ms")
        self.assertEqual(get(self.c.port, "/", host("shared"))[2], b"one")
        t0 = time.monotonic()
        self.assertEqual(self.b.admin("DELETE", "/v1/sessions/shared")[0], 204)
        for r in (self.a, self.c):
            self.assertTrue(wait_for(lambda: status(r, "shared") == 404))
        print(f"delete via B -> 404 on A and C after {1000 * (time.monotonic() - t0):.1f} ms")
        # Re-pointing and container changes travel the same way.
        self.a.register("c2", self.up2.port)
        self.c.session("moving", "c1")
        self.assertTrue(wait_for(lambda: get(self.a.port, "/", host("moving"))[2] == b"one"))
        self.b.session("moving", "c2")
        self.assertTrue(wait_for(lambda: get(self.a.port, "/", host("moving"))[2] == b"two"))
        self.assertTrue(wait_for(lambda: get(self.c.port, "/", host("moving"))[2] == b"two"))
        self.assertEqual(self.c.admin("DELETE", "/v1/containers/c2")[0], 204)
        self.assertTrue(wait_for(lambda: status(self.a, "moving") == 503))  # container gone

    def test_2_propagation_latency_over_1000_changes(self):
        self.a.register("c1", self.up.port)
        created, deleted = [], []
        for i in range(500):
            sid = f"p{i}"
            t0 = time.monotonic()
            self.a.session(sid, "c1")
            self.assertTrue(wait_for(lambda: status(self.b, sid) == 200, timeout=5))
            created.append(time.monotonic() - t0)
        for i in range(500):
            sid = f"p{i}"
            t0 = time.monotonic()
            self.assertEqual(self.a.admin("DELETE", f"/v1/sessions/{sid}")[0], 204)
            self.assertTrue(wait_for(lambda: status(self.b, sid) == 404, timeout=5))
            deleted.append(time.monotonic() - t0)
        both = created + deleted
        print(f"\npropagation A -> B over {len(both)} changes (write sent -> B routes it), ms: "
              f"median {1000 * statistics.median(both):.2f}, p99 {1000 * pct(both, 99):.2f}, "
              f"max {1000 * max(both):.2f}; creates median {1000 * statistics.median(created):.2f}, "
              f"deletes median {1000 * statistics.median(deleted):.2f}")
        self.assertEqual(metric(self.b, "sessiongate_store_feed_connected"), 1)

    def test_3_one_sweeper_deletes_an_idle_session(self):
        self.a.register("c1", self.up.port)
        self.a.session("idle", "c1", idle_ttl="2s")
        self.assertTrue(wait_for(lambda: status(self.c, "idle") == 200))
        for r in self.routers:  # polled through the admin API: a request would be activity
            self.assertTrue(wait_for(lambda: r.admin("GET", "/v1/routes/idle")[1]["state"] == "unknown_session",
                                     timeout=10, step=0.1))
        removed = lambda: [r.stderr().count("session idle expired (idle)") for r in self.routers]
        self.assertTrue(wait_for(lambda: sum(removed()) >= 1, timeout=10, step=0.05))
        self.assertEqual(sum(removed()), 1, removed())

    def test_4_activity_on_one_router_keeps_a_session_alive_on_all(self):
        self.a.register("c1", self.up.port)
        self.a.session("busy", "c1", idle_ttl="3s")
        # The session reaches C through the change feed; only then does its traffic count.
        self.assertTrue(wait_for(lambda: status(self.c, "busy") == 200))
        end = time.monotonic() + 6
        while time.monotonic() < end:  # traffic only through C, for twice the idle ttl
            self.assertEqual(status(self.c, "busy"), 200)
            time.sleep(0.2)
        for r in self.routers:
            self.assertEqual(status(r, "busy"), 200)


class RedisOutage(unittest.TestCase):
    def test_restart_while_traffic_flows(self):
        with RedisServer(persist=True) as redis:
            up = Upstream(keepalive_server(app_named("one")))
            routers = [Proxy(SESSION_RULES, extra=redis_store(redis)) for _ in range(2)]
            a, b = routers
            try:
                a.register("c1", up.port)
                for i in range(10):
                    a.session(f"k{i}", "c1")
                self.assertTrue(wait_for(lambda: status(b, "k9") == 200))
                results = []
                stop = threading.Event()

                def traffic():
                    n = 0
                    while not stop.is_set():
                        r = routers[n % 2]
                        t0 = time.monotonic()
                        st = status(r, f"k{n % 10}")
                        results.append((st, time.monotonic() - t0))
                        n += 1

                t = threading.Thread(target=traffic)
                t.start()
                time.sleep(0.5)
                redis.kill(signal.SIGKILL)
                self.assertTrue(wait_for(lambda: metric(a, "sessiongate_store_feed_connected") == 0))
                st, ready = a.admin("GET", "/readyz", token="")
                self.assertEqual((st, ready["status"], ready["store"], ready["routes_current"]),
                                 (200, "ready", "unreachable", False), ready)
                self.assertIn("serving the routes known then", ready["detail"])
                t0 = time.monotonic()
                st, body = a.admin("PUT", "/v1/sessions/during", {"container_id": "c1"})
                took = time.monotonic() - t0
                self.assertEqual(st, 503, body)
                self.assertEqual(body["error"], "store_unavailable")
                self.assertIn("redis unavailable", body["message"])
                print(f"\nadmin write while Redis is down: 503 in {1000 * took:.1f} ms: {body['message']}")
                time.sleep(1.0)
                redis.start()
                for r in routers:
                    self.assertTrue(wait_for(lambda: metric(r, "sessiongate_store_feed_connected") == 1,
                                             timeout=15, step=0.05), r.stderr())
                time.sleep(0.5)
                stop.set()
                t.join()
                bad = [s for s, _ in results if s != 200]
                worst = max(d for _, d in results)
                print(f"requests during the outage and restart: {len(results)}, "
                      f"non-200: {len(bad)}, slowest {1000 * worst:.1f} ms")
                self.assertEqual(bad, [])
                # After the restart: a change reaches every router, a deletion is honoured by all.
                a.session("after", "c1")
                b.admin("DELETE", "/v1/sessions/k3")
                for r in routers:
                    self.assertTrue(wait_for(lambda: status(r, "after") == 200))
                    self.assertTrue(wait_for(lambda: status(r, "k3") == 404))
                self.assertIn("resync (reconnect)", a.stderr())
            finally:
                for r in routers:
                    r.stop()
                up.close()

    def test_start_without_redis_is_not_ready_until_it_answers(self):
        redis = RedisServer()
        redis.kill()
        up = Upstream(keepalive_server(app_named("one")))
        p = Proxy(SESSION_RULES, extra=redis_store(redis))
        try:
            st, ready = p.admin("GET", "/readyz", token="")
            self.assertEqual((st, ready["status"]), (503, "not_ready"), ready)
            self.assertIn("not loaded", p.stderr())
            redis.start()
            self.assertTrue(wait_for(lambda: p.admin("GET", "/readyz", token="")[0] == 200,
                                     timeout=15, step=0.05))
            p.register("c1", up.port)
            p.session("s", "c1")
            self.assertEqual(status(p, "s"), 200)
        finally:
            p.stop()
            redis.kill()
            up.close()


class MissedChanges(unittest.TestCase):
    def test_slow_consumer_disconnected_by_redis_resynchronises(self):
        # Redis drops a subscriber whose output buffer passes 64 KiB: B is stopped (SIGSTOP)
        # while A writes, so it misses those messages entirely and must resync.
        with RedisServer() as redis:
            up = Upstream(keepalive_server(app_named("one")))
            up2 = Upstream(keepalive_server(app_named("two")))
            a = Proxy(SESSION_RULES, extra=redis_store(redis))
            b = Proxy(SESSION_RULES, extra=redis_store(redis))
            try:
                redis.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 64kb 64kb 0")
                a.register("c1", up.port)
                for i in range(20):
                    a.session(f"old{i}", "c1")
                # Containers that change while B is away: one moves, one is deleted.
                a.register("moving", up.port)
                a.session("on-moving", "moving")
                a.register("doomed", up.port)
                a.session("on-doomed", "doomed")
                self.assertTrue(wait_for(lambda: status(b, "old19") == 200))
                self.assertTrue(wait_for(lambda: status(b, "on-doomed") == 200))
                self.assertEqual(get(b.port, "/", host("on-moving"))[2], b"one")
                feed_ids = redis.client_ids("sessiongate-feed", b.proc.pid)
                self.assertEqual(len(feed_ids), 1)
                b.proc.send_signal(signal.SIGSTOP)
                try:
                    pad = {f"pad{j}": "x" * 1000 for j in range(16)}  # ~16 KiB per message
                    for i in range(600):
                        a.session(f"new{i}", "c1", labels=pad)
                    for i in range(20):
                        a.admin("DELETE", f"/v1/sessions/old{i}")
                    a.register("moving", up2.port)
                    self.assertEqual(a.admin("DELETE", "/v1/containers/doomed")[0], 204)
                    self.assertTrue(wait_for(
                        lambda: feed_ids[0] not in redis.client_ids("sessiongate-feed", b.proc.pid), timeout=5))
                finally:
                    b.proc.send_signal(signal.SIGCONT)
                # Bytes buffered before Redis cut the connection may be applied first, and each
                # worker applies the resync on its own loop: wait until every expectation holds
                # at once (convergence), then check them one by one for the messages.
                def converged():
                    return (status(b, "new599") == 200 and status(b, "new0") == 200
                            and all(status(b, f"old{i}") == 404 for i in (0, 7, 19))
                            and status(b, "on-doomed") == 503
                            and get(b.port, "/", host("on-moving"))[2] == b"two")
                self.assertTrue(wait_for(converged, timeout=15, step=0.05), b.stderr())
                self.assertEqual(status(b, "new599"), 200)
                self.assertEqual(status(b, "new0"), 200)
                for i in (0, 7, 19):
                    self.assertEqual(status(b, f"old{i}"), 404)
                # The resync repaired the containers too: the moved one at its new address,
                # the deleted one gone (its session waits for a container again).
                self.assertEqual(get(b.port, "/", host("on-moving"))[2], b"two")
                self.assertEqual(status(b, "on-doomed"), 503)
                self.assertIn("resync (reconnect)", b.stderr())
                self.assertGreaterEqual(metric(b, "sessiongate_store_resyncs_total"), 2)
            finally:
                a.stop()
                b.stop()
                up.close()
                up2.close()

    def test_killed_subscription_reconnects_and_catches_up(self):
        with RedisServer() as redis:
            up = Upstream(keepalive_server(app_named("one")))
            a = Proxy(SESSION_RULES, extra=redis_store(redis))
            b = Proxy(SESSION_RULES, extra=redis_store(redis))
            try:
                a.register("c1", up.port)
                a.session("before", "c1")
                self.assertTrue(wait_for(lambda: status(b, "before") == 200))
                for cid in redis.client_ids("sessiongate-feed", b.proc.pid):
                    redis.cmd("CLIENT", "KILL", "ID", cid)
                a.session("while", "c1")  # may land while B is reconnecting
                a.admin("DELETE", "/v1/sessions/before")
                self.assertTrue(wait_for(lambda: status(b, "while") == 200, timeout=10))
                self.assertTrue(wait_for(lambda: status(b, "before") == 404, timeout=10))
            finally:
                a.stop()
                b.stop()
                up.close()


class RedisConfig(unittest.TestCase):
    def test_acl_user_and_prefix(self):
        with RedisServer() as redis:
            redis.cmd("ACL", "SETUSER", "router", "on", ">s3cret", "~tenant1:*", "&tenant1:*", "+@all", "-@dangerous")
            up = Upstream(keepalive_server(app_named("one")))
            os.environ["SG_TEST_REDIS_PASSWORD"] = "s3cret"
            p = Proxy(SESSION_RULES, extra=redis_store(
                redis, prefix="tenant1:", extra=", username: router, password_env: SG_TEST_REDIS_PASSWORD"))
            try:
                p.register("c1", up.port)
                p.session("s", "c1")
                self.assertEqual(status(p, "s"), 200)
                self.assertEqual(redis.cmd("HGET", "tenant1:s:s", "container_id"), "c1")
            finally:
                p.stop()
                up.close()

    def test_wrong_password_is_reported(self):
        with RedisServer() as redis:
            redis.cmd("ACL", "SETUSER", "router", "on", ">right", "~*", "&*", "+@all")
            p = Proxy(SESSION_RULES, extra=redis_store(redis, extra=", username: router, password: wrong"))
            try:
                st, body = p.admin("PUT", "/v1/containers/c1", {"address": "127.0.0.1:9", "status": "ready"})
                self.assertEqual(st, 503)
                self.assertIn("AUTH failed", body["message"])
            finally:
                p.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
