"""kill -9 of the router while admin writes stream in (two writers at once), on the embedded
SQLite store: every write acknowledged before the kill is there after the restart, and the
restarted router routes it. 50 cycles in make test, 1,000 in make soak."""
import os
import random
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import SESSION_RULES, Proxy  # noqa: E402

CYCLES = 1000 if os.environ.get("SG_SOAK") == "1" else 50


class Kill9(unittest.TestCase):
    def test_kill_9_during_concurrent_writes_loses_no_acknowledged_write(self):
        rng = random.Random(7)
        p = Proxy(SESSION_RULES)
        acknowledged = []
        lock = threading.Lock()
        counter = [0]
        t0 = time.monotonic()
        try:
            for cycle in range(CYCLES):
                stop, killed, enough = threading.Event(), threading.Event(), threading.Event()
                target = len(acknowledged) + rng.randint(4, 30)
                problems = []

                def writer():
                    while not stop.is_set():
                        with lock:
                            sid = f"k{counter[0]}"
                            counter[0] += 1
                        try:
                            st, body = p.admin("PUT", f"/v1/sessions/{sid}", {"container_id": "c"})
                        except (OSError, EOFError, ValueError) as e:
                            if not killed.is_set():
                                problems.append(f"{sid}: {e!r} before the kill")
                            return
                        if st == 201:
                            with lock:
                                acknowledged.append(sid)
                                if len(acknowledged) >= target:
                                    enough.set()
                        elif not killed.is_set():
                            problems.append(f"{sid}: {st} {body}")
                            return

                ts = [threading.Thread(target=writer) for _ in range(2)]
                for t in ts:
                    t.start()
                self.assertTrue(enough.wait(30), f"cycle {cycle}: writes were not acknowledged")
                killed.set()
                p.proc.kill()  # SIGKILL, while both writers keep writing
                p.proc.wait()
                stop.set()
                for t in ts:
                    t.join()
                self.assertEqual(problems, [], f"cycle {cycle}")
                p.start()
                # The writes acknowledged last, just before the kill, are stored.
                missing = [sid for sid in acknowledged[-40:]
                           if p.admin("GET", f"/v1/sessions/{sid}")[0] != 200]
                self.assertEqual(missing, [], f"cycle {cycle}: acknowledged writes lost")
            # And every acknowledged write of every cycle, at the end.
            stored, after = set(), ""
            while True:
                st, page = p.admin("GET", f"/v1/sessions?limit=1000&after={after}")
                self.assertEqual(st, 200, page)
                stored |= {s["id"] for s in page["sessions"]}
                if not page["next"]:
                    break
                after = page["next"]
            self.assertEqual(set(acknowledged) - stored, set(), "acknowledged writes lost")
            st, routes = p.admin("GET", "/v1/routes/" + acknowledged[-1])
            self.assertEqual(st, 200, routes)
            print(f"\nkill -9 loop: {CYCLES} kills during 2 concurrent writers, "
                  f"{len(acknowledged)} acknowledged writes, 0 lost, "
                  f"{time.monotonic() - t0:.1f} s")
        finally:
            p.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
