"""The store is the source of truth, whatever happens to it: after Redis restarts empty, is
flushed, is restored from an older AOF, or is killed with -9 (AOF, fsync always), every router
serves exactly what the store holds, deletes and re-points take effect everywhere, and a router
started afterwards agrees with the old ones. All real: redis-server, the binary, upstreams."""
import os
import signal
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import SESSION_RULES, Proxy, RedisServer, Upstream, get, keepalive_server, redis_store  # noqa: E402
from test_redis_routers import app_named, host, metric, status, wait_for  # noqa: E402

SOAK = os.environ.get("SG_SOAK") == "1"


class StoreReset(unittest.TestCase):
    """The store is the source of truth: after Redis restarts empty or is flushed, every router
    serves exactly what it holds, whatever the version counter did."""

    def routes_agree(self, routers, sid, want):
        return all(status(r, sid) == want for r in routers)

    def check_converged(self, redis, a, b, up2):
        for r in (a, b):
            self.assertTrue(wait_for(lambda: "store reset detected" in r.stderr(), timeout=15,
                                     step=0.05), r.stderr()[-1500:])
            self.assertGreaterEqual(metric(r, "sessiongate_store_resets_total"), 1)
        # No ghost: the session the store lost is unknown everywhere.
        self.assertTrue(wait_for(lambda: self.routes_agree((a, b), "s5", 404), timeout=10))
        # A container heartbeating into the emptied store is told to register again.
        st, body = a.admin("POST", "/v1/containers/c1/heartbeat")
        self.assertEqual((st, body["error"]), (404, "unknown_container"))
        # Writes of the new history take effect everywhere, and a new router agrees.
        a.register("c2", up2.port)
        a.session("s6", "c2")
        self.assertTrue(wait_for(lambda: all(get(r.port, "/", host("s6"))[2] == b"two"
                                             for r in (a, b)), timeout=10))
        a.session("s7", "c2")
        self.assertEqual(b.admin("DELETE", "/v1/sessions/s7")[0], 204)
        self.assertTrue(wait_for(lambda: self.routes_agree((a, b), "s7", 404), timeout=10))
        c = Proxy(SESSION_RULES, extra=redis_store(redis))
        try:
            self.assertEqual(get(c.port, "/", host("s6"))[2], b"two")
            self.assertEqual(status(c, "s5"), 404)
        finally:
            c.stop()

    def run_reset(self, reset):
        with RedisServer() as redis:
            up, up2 = Upstream(keepalive_server(app_named("one"))), Upstream(keepalive_server(app_named("two")))
            a = Proxy(SESSION_RULES, extra=redis_store(redis))
            b = Proxy(SESSION_RULES, extra=redis_store(redis))
            try:
                a.register("c1", up.port)
                for i in range(8):  # the old history reaches a version the new one will not
                    a.session(f"s{i}", "c1")
                self.assertTrue(wait_for(lambda: self.routes_agree((a, b), "s5", 200)))
                reset(redis)
                self.check_converged(redis, a, b, up2)
            finally:
                a.stop()
                b.stop()
                up.close()
                up2.close()

    def test_regression_an_empty_restart_leaves_no_ghost_routes(self):
        def restart_empty(redis):
            redis.kill(signal.SIGKILL)
            redis.start()
        self.run_reset(restart_empty)

    def test_regression_a_flushall_while_routers_run_leaves_no_ghost_routes(self):
        self.run_reset(lambda redis: redis.cmd("FLUSHALL"))

    def test_regression_a_restore_from_an_older_aof_is_followed(self):
        # Same epoch, lower version: the routers must take the older state as it is, even
        # where their own records are newer.
        import shutil
        with RedisServer(persist=True) as redis:
            up = Upstream(keepalive_server(app_named("one")))
            a = Proxy(SESSION_RULES, extra=redis_store(redis))
            b = Proxy(SESSION_RULES, extra=redis_store(redis))
            try:
                a.register("c1", up.port)
                for i in range(4):
                    a.session(f"s{i}", "c1")
                self.assertTrue(wait_for(lambda: status(b, "s3") == 200))
                backup = os.path.join(redis.dir, "backup")
                shutil.copytree(os.path.join(redis.dir, "appendonlydir"), backup)
                for i in range(4, 12):
                    a.session(f"s{i}", "c1")
                self.assertEqual(a.admin("DELETE", "/v1/sessions/s3")[0], 204)
                self.assertTrue(wait_for(lambda: status(b, "s11") == 200 and status(b, "s3") == 404))
                redis.kill(signal.SIGKILL)
                shutil.rmtree(os.path.join(redis.dir, "appendonlydir"))
                shutil.copytree(backup, os.path.join(redis.dir, "appendonlydir"))
                redis.start()
                for r in (a, b):
                    self.assertTrue(wait_for(lambda: "store reset detected" in r.stderr(), timeout=15,
                                             step=0.05), r.stderr()[-1500:])
                    self.assertTrue(wait_for(lambda: status(r, "s3") == 200 and status(r, "s11") == 404,
                                             timeout=10))
                st, routes = b.admin("GET", "/v1/sessions?limit=100")
                self.assertEqual(sorted(x["id"] for x in routes["sessions"]), ["s0", "s1", "s2", "s3"])
            finally:
                a.stop()
                b.stop()
                up.close()


class RedisKilled(unittest.TestCase):
    def test_redis_kill_9_with_aof_loses_no_acknowledged_write_and_routers_follow(self):
        # Two routers write concurrently while redis-server is killed with SIGKILL and
        # restarted on the same AOF: every write acknowledged before the kill is in the store
        # afterwards, and both routers serve exactly the store's sessions.
        import time
        cycles = 20 if SOAK else 3
        with RedisServer(persist=True) as redis, Upstream(keepalive_server(app_named("one"))) as up:
            a = Proxy(SESSION_RULES, extra=redis_store(redis))
            b = Proxy(SESSION_RULES, extra=redis_store(redis))
            try:
                a.register("c1", up.port)
                acknowledged, refused = set(), [0]
                lock = threading.Lock()
                for cycle in range(cycles):
                    stop = threading.Event()

                    def writer(router, name):
                        i = 0
                        while not stop.is_set():
                            sid = f"{name}{cycle}x{i}"
                            i += 1
                            st, _ = router.admin("PUT", f"/v1/sessions/{sid}", {"container_id": "c1"})
                            with lock:
                                if st in (200, 201):
                                    acknowledged.add(sid)
                                else:
                                    refused[0] += 1
                    ts = [threading.Thread(target=writer, args=(r, n)) for r, n in ((a, "a"), (b, "b"))]
                    for t in ts:
                        t.start()
                    time.sleep(0.3)
                    redis.kill(signal.SIGKILL)
                    time.sleep(0.2)
                    redis.start()
                    time.sleep(0.3)
                    stop.set()
                    for t in ts:
                        t.join()
                stored = set()
                after = ""
                while True:
                    got = []  # the store may still be in its reconnection backoff
                    self.assertTrue(wait_for(lambda: got.append(a.admin(
                        "GET", f"/v1/sessions?limit=1000&after={after}")) or got[-1][0] == 200,
                        timeout=10, step=0.1), got[-1:])
                    page = got[-1][1]
                    stored |= {s["id"] for s in page["sessions"]}
                    if not page["next"]:
                        break
                    after = page["next"]
                self.assertEqual(acknowledged - stored, set(), "acknowledged writes lost")
                sample = sorted(stored)[:: max(1, len(stored) // 50)]
                for r in (a, b):
                    self.assertTrue(wait_for(lambda: all(status(r, sid) == 200 for sid in sample),
                                             timeout=15), r.stderr()[-1500:])
                print(f"\nredis kill -9 x{cycles}: {len(acknowledged)} acknowledged writes, "
                      f"{refused[0]} refused while it was down, 0 lost; both routers serve them")
            finally:
                a.stop()
                b.stop()

    def test_redis_flapping_under_load_never_fails_a_known_route(self):
        # Redis killed and restarted (same AOF) every 0.5-1.5 s while clients browse known
        # sessions: every request is served from the routes the router holds (serve stale).
        import random
        import time
        seconds = 60 if SOAK else 6
        rng = random.Random(3)
        with RedisServer(persist=True) as redis, Upstream(keepalive_server(app_named("one"))) as up:
            a = Proxy(SESSION_RULES, extra=redis_store(redis))
            try:
                a.register("c1", up.port)
                for i in range(20):
                    a.session(f"f{i}", "c1")
                stop = threading.Event()
                counts = {"ok": 0, "failed": 0}

                def browse():
                    i = 0
                    while not stop.is_set():
                        st = status(a, f"f{i % 20}")
                        counts["ok" if st == 200 else "failed"] += 1
                        i += 1
                ts = [threading.Thread(target=browse) for _ in range(2)]
                for t in ts:
                    t.start()
                flaps = 0
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    time.sleep(rng.uniform(0.5, 1.5))
                    redis.kill(signal.SIGKILL)
                    time.sleep(rng.uniform(0.1, 0.5))
                    redis.start()
                    flaps += 1
                stop.set()
                for t in ts:
                    t.join()
                self.assertEqual(counts["failed"], 0, counts)
                self.assertTrue(wait_for(lambda: a.admin("GET", "/readyz", token="")[1].get("routes_current"),
                                         timeout=15, step=0.1))
                print(f"\nredis flapping {seconds} s: {flaps} kill -9 + restarts, "
                      f"{counts['ok']} requests served, {counts['failed']} failed")
            finally:
                a.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
