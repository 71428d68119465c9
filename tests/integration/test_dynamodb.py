"""The DynamoDB store against real parts: dynalite (from the committed npm lock file) as the
DynamoDB-compatible server, the tables created and the items written with the AWS CLI exactly
as an operator and the platform's containers do, the real binary, upstreams on loopback.
sessiongate reaches dynalite through a loopback relay that can answer with DynamoDB's
throttling error (dynalite never throttles). Propagation times are printed, never asserted."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from certs import TestCA  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402
from harness import SESSION_RULES, Proxy, Upstream, free_port, get, keepalive_server, wait_port  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DYNALITE = os.path.join(ROOT, "tests", "e2e", "node_modules", ".bin", "dynalite")
AWS = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else shutil.which("aws")
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
           AWS_DEFAULT_REGION="us-west-2", AWS_EC2_METADATA_DISABLED="true")
# The routers started here find their credentials in the environment, as on a laptop.
os.environ.update({k: ENV[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                        "AWS_EC2_METADATA_DISABLED")})


def app_named(name):
    def app(method, target, headers, body, conn):
        return 200, name.encode(), None
    return app


class Dynalite:
    """On disk, so that a restart (even after SIGKILL) finds the tables and items again."""
    def __init__(self):
        self.port = free_port()
        self.path = tempfile.mkdtemp(prefix="sg-dynalite-")
        self.start()

    def start(self):
        self.proc = subprocess.Popen([DYNALITE, "--port", str(self.port), "--host", "127.0.0.1",
                                      "--path", self.path, "--createTableMs", "0"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def aws(self, *args):
        out = subprocess.run([AWS, "--endpoint-url", f"http://127.0.0.1:{self.port}", "dynamodb",
                              *args], env=ENV, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)}: {out.stderr}")
        return out.stdout

    def stop(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def remove(self):
        self.stop()
        shutil.rmtree(self.path, ignore_errors=True)


def host(sid):
    return f"{sid}.preview.example.com"


def wait_for(pred, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


class SeedTables(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = Dynalite()
        for table, key in (("webordinary-thread-mappings", "threadId"),
                           ("webordinary-containers", "containerId")):
            cls.db.aws("create-table", "--table-name", table,
                       "--attribute-definitions", f"AttributeName={key},AttributeType=S",
                       "--key-schema", f"AttributeName={key},KeyType=HASH",
                       "--billing-mode", "PAY_PER_REQUEST")
            cls.db.aws("wait", "table-exists", "--table-name", table)
        cls.one = Upstream(keepalive_server(app_named("one")))
        cls.two = Upstream(keepalive_server(app_named("two")))
        cls.relay = FaultProxy(cls.db.port)
        store = (f"\nstore: {{type: dynamodb, region: us-west-2, endpoint: \"http://127.0.0.1:{cls.relay.port}\", "
                 "tables: {sessions: webordinary-thread-mappings, containers: webordinary-containers}, "
                 "revalidate_interval: 200ms, scan_interval: 2s, lookup_negative_ttl: 3s}\n"
                 "sessions: {activity_interval: 200ms}\n")
        cls.proxy = Proxy(SESSION_RULES, extra=store, directory=tempfile.mkdtemp(prefix="sg-ddb-"))
        # A second router on the same tables that never scans them after its start: whatever
        # it routes that it did not know then came through an on-demand lookup.
        cls.looker = Proxy(SESSION_RULES, extra=store.replace("scan_interval: 2s", "scan_interval: 1h"),
                           directory=tempfile.mkdtemp(prefix="sg-ddb-"))

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.looker.stop()
        cls.relay.close()
        cls.db.remove()
        cls.one.close()
        cls.two.close()

    def put_container(self, cid, ip, status=None, port=None):
        item = f'{{"containerId": {{"S": "{cid}"}}, "containerIp": {{"S": "{ip}"}}'
        if status:
            item += f', "status": {{"S": "{status}"}}'
        if port:
            item += f', "port": {{"N": "{port}"}}'
        self.db.aws("put-item", "--table-name", "webordinary-containers", "--item", item + "}")

    def map_thread(self, tid, cid):
        self.db.aws("put-item", "--table-name", "webordinary-thread-mappings", "--item",
                    f'{{"threadId": {{"S": "{tid}"}}, "containerId": {{"S": "{cid}"}}}}')

    def test_1_items_written_like_the_seed_route_and_changes_arrive(self):
        self.put_container("c1", "127.0.0.1", "ready", self.one.port)
        t0 = time.monotonic()
        self.map_thread("t1", "c1")
        self.assertTrue(wait_for(lambda: get(self.proxy.port, "/", host("t1"))[0] == 200),
                        self.proxy.stderr())
        print(f"\noutside write -> routed after {1000 * (time.monotonic() - t0):.0f} ms")
        self.assertEqual(get(self.proxy.port, "/", host("t1"))[2], b"one")
        # The container moves (a new IP:port written by the container itself).
        t0 = time.monotonic()
        self.put_container("c1", f"127.0.0.1:{self.two.port}", "ready")
        self.assertTrue(wait_for(lambda: get(self.proxy.port, "/", host("t1"))[2] == b"two"),
                        self.proxy.stderr())
        print(f"changed address -> followed after {1000 * (time.monotonic() - t0):.0f} ms")
        # A tool deletes the mapping: the friendly unknown-session page.
        t0 = time.monotonic()
        self.db.aws("delete-item", "--table-name", "webordinary-thread-mappings", "--key",
                    '{"threadId": {"S": "t1"}}')
        self.assertTrue(wait_for(lambda: get(self.proxy.port, "/", host("t1"))[0] == 404),
                        self.proxy.stderr())
        print(f"deleted mapping -> 404 after {1000 * (time.monotonic() - t0):.0f} ms")

    def test_2_starting_and_missing_containers_get_their_pages(self):
        self.put_container("c2", "127.0.0.1", "starting", self.one.port)
        self.map_thread("t2", "c2")
        self.map_thread("t3", "nowhere")
        self.assertTrue(wait_for(lambda: get(self.proxy.port, "/", host("t2"))[0] == 503))
        self.assertIn(b"starting", get(self.proxy.port, "/", host("t2"))[2].lower())
        self.assertTrue(wait_for(lambda: get(self.proxy.port, "/", host("t3"))[0] in (502, 503)))

    def test_3_admin_writes_are_items_the_seed_can_read(self):
        self.proxy.register("c4", self.one.port)
        self.proxy.session("t4", "c4")
        out = self.db.aws("get-item", "--table-name", "webordinary-containers", "--key",
                          '{"containerId": {"S": "c4"}}')
        self.assertIn('"containerIp"', out)
        self.assertIn('"127.0.0.1"', out)
        self.assertIn(f'"{self.one.port}"', out)
        self.assertIn('"ready"', out)
        self.assertEqual(get(self.proxy.port, "/", host("t4"))[2], b"one")

    def metric(self, name, proxy=None):
        return (proxy or self.proxy).metrics()[0].get("sessiongate_" + name, 0)

    def routes_current(self):
        return self.proxy.admin("GET", "/readyz", token="")[1].get("routes_current")

    def test_4_metrics_count_the_calls(self):
        calls = self.metric("dynamodb_calls_total")
        self.assertGreater(calls, 0)
        self.assertGreater(self.metric("dynamodb_scans_total"), 0)
        self.assertGreater(self.metric("dynamodb_outside_changes_total"), 0)
        self.assertTrue(wait_for(lambda: self.metric("dynamodb_calls_total") > calls))
        values, text = self.proxy.metrics()
        self.assertGreater(values['sessiongate_dynamodb_requests_total{action="Scan"}'], 0)
        self.assertGreater(values['sessiongate_dynamodb_requests_total{action="UpdateItem"}'], 0)
        self.assertEqual(text.count("# TYPE sessiongate_dynamodb_requests_total counter"), 1)

    def test_5_a_new_mapping_routes_on_the_first_request(self):
        # The platform writes the mapping and sends the person to the preview at once: the
        # first request waits for a read of that item instead of a 404 until the next scan.
        self.put_container("c5", "127.0.0.1", "ready", self.one.port)
        found = self.metric('store_lookups_total{result="found"}', self.looker)
        resyncs = self.metric("store_resyncs_total", self.looker)
        self.map_thread("t5", "c5")
        t0 = time.monotonic()
        st, _, body = get(self.looker.port, "/", host("t5"))
        print(f"\nfirst request for a new mapping answered {st} in {1000 * (time.monotonic() - t0):.0f} ms")
        self.assertEqual((st, body), (200, b"one"), self.looker.stderr())
        # Read on demand — unless, on a loaded machine, the feed reconnected meanwhile and its
        # snapshot brought the mapping first (then no read was needed).
        looked = self.metric('store_lookups_total{result="found"}', self.looker) == found + 1
        self.assertTrue(looked or self.metric("store_resyncs_total", self.looker) > resyncs,
                        self.looker.stderr())

    def test_6_missing_sessions_are_remembered_a_moment(self):
        def lookups(result):
            return self.metric(f'store_lookups_total{{result="{result}"}}', self.looker)
        missing, cached = lookups("missing"), lookups("cached")
        self.assertEqual(get(self.looker.port, "/", host("t6"))[0], 404)
        self.assertEqual(lookups("missing"), missing + 1)
        # Within lookup_negative_ttl: answered from memory, no read.
        self.put_container("c6", "127.0.0.1", "ready", self.one.port)
        self.map_thread("t6", "c6")
        self.assertEqual(get(self.looker.port, "/", host("t6"))[0], 404)
        self.assertEqual(lookups("missing"), missing + 1)
        self.assertEqual(lookups("cached"), cached + 1)
        # Once that has passed it is routed (looked up again, or taken from the snapshot of a
        # feed that reconnected meanwhile on a loaded machine).
        self.assertTrue(wait_for(lambda: get(self.looker.port, "/", host("t6"))[0] == 200),
                        self.looker.stderr())

    def test_6b_the_scan_finds_mappings_nobody_asked_for(self):
        before = self.metric("route_table_sessions")
        self.map_thread("t6s", "c5")
        self.assertTrue(wait_for(lambda: self.metric("route_table_sessions") > before),
                        self.proxy.stderr())

    def test_7_throttling_is_retried_then_served_stale(self):
        self.proxy.register("c7", self.one.port)
        self.proxy.session("t7", "c7")
        # Every third request throttled: the retries absorb it; writes and outside changes work.
        throttled, retries = self.metric("dynamodb_throttled_total"), self.metric("dynamodb_retries_total")
        self.relay.throttle(3)
        st, body = self.proxy.admin("PUT", "/v1/sessions/t7b", {"container_id": "c7"})
        self.assertEqual(st, 201, body)
        self.map_thread("t7c", "c7")
        self.assertTrue(wait_for(lambda: get(self.proxy.port, "/", host("t7c"))[0] == 200),
                        self.proxy.stderr())
        self.assertGreater(self.relay.throttled, 0)
        self.assertGreater(self.metric("dynamodb_throttled_total"), throttled)
        self.assertGreater(self.metric("dynamodb_retries_total"), retries)
        # Everything throttled: known routes keep serving, /readyz says they may be stale,
        # writes fail fast.
        failures = self.metric("dynamodb_failures_total")
        self.relay.throttle(1)
        self.assertTrue(wait_for(lambda: self.routes_current() is False), self.proxy.stderr())
        st, ready = self.proxy.admin("GET", "/readyz", token="")
        self.assertEqual((st, ready["store"]), (200, "unreachable"), ready)
        self.assertIn("ProvisionedThroughputExceeded", ready["detail"])
        self.assertEqual(get(self.proxy.port, "/", host("t7"))[2], b"one")
        st, body = self.proxy.admin("PUT", "/v1/sessions/t7d", {"container_id": "c7"})
        self.assertEqual(st, 503, body)
        self.assertIn("store_unavailable", str(body))
        self.assertGreater(self.metric("dynamodb_failures_total"), failures)
        # Throttling ends: the router converges by itself and writes work again.
        t0 = time.monotonic()
        self.relay.throttle(0)
        self.assertTrue(wait_for(self.routes_current), self.proxy.stderr())
        print(f"\nthrottling ended -> routes current after {1000 * (time.monotonic() - t0):.0f} ms")
        self.map_thread("t7e", "c7")
        self.assertTrue(wait_for(lambda: get(self.proxy.port, "/", host("t7e"))[0] == 200))
        self.assertTrue(wait_for(lambda: self.proxy.admin(
            "PUT", "/v1/sessions/t7d", {"container_id": "c7"})[0] == 201))

    def test_9_outage_keeps_known_routes_and_fails_writes_fast(self):
        self.proxy.register("c9", self.one.port)
        self.proxy.session("t9", "c9")
        logged = len(self.proxy.stderr())
        self.db.stop()  # SIGKILL; the items stay on disk for the restart below
        self.assertTrue(wait_for(lambda: not self.proxy.admin("GET", "/readyz", token="")[1]
                                 .get("routes_current", True)), self.proxy.stderr())
        st, ready = self.proxy.admin("GET", "/readyz", token="")
        self.assertEqual((st, ready["status"], ready["store"]), (200, "ready", "unreachable"), ready)
        self.assertIn("serving the routes known then", ready["detail"])
        self.assertEqual(get(self.proxy.port, "/", host("t9"))[2], b"one")  # served from memory
        t0 = time.monotonic()
        st, body = self.proxy.admin("PUT", "/v1/sessions/t10", {"container_id": "c9"})
        self.assertEqual(st, 503, body)
        self.assertIn("store_unavailable", str(body))
        print(f"\nadmin write during the outage answered 503 in {1000 * (time.monotonic() - t0):.0f} ms")
        # Through the outage nothing claims the store answers again (the log said so when one
        # kind of periodic work failed and another worked).
        self.assertTrue(wait_for(lambda: "activity not saved" in self.proxy.stderr()[logged:]),
                        self.proxy.stderr())
        time.sleep(1.0)  # five lifecycle rounds, most with nothing to write
        self.assertNotIn("answers again", self.proxy.stderr()[logged:])
        # dynalite comes back: the router reconnects by itself, takes a fresh snapshot (items
        # written while it was away included) and accepts writes again.
        t0 = time.monotonic()
        self.db.start()
        self.map_thread("t11", "c9")
        self.assertTrue(wait_for(self.routes_current), self.proxy.stderr())
        print(f"dynalite restarted -> routes current after {1000 * (time.monotonic() - t0):.0f} ms")
        self.assertTrue(wait_for(lambda: get(self.proxy.port, "/", host("t11"))[0] == 200))
        self.assertEqual(get(self.proxy.port, "/", host("t9"))[2], b"one")
        self.assertTrue(wait_for(lambda: self.proxy.admin(
            "PUT", "/v1/sessions/t10", {"container_id": "c9"})[0] == 201))
        self.assertEqual(get(self.proxy.port, "/", host("t10"))[2], b"one")


TLS_DYNALITE = """
const fs = require("fs");
const [port, key, cert] = process.argv.slice(1);
require("dynalite")({ssl: true, key: fs.readFileSync(key), cert: fs.readFileSync(cert),
                     createTableMs: 0}).listen(Number(port), "127.0.0.1");
"""


class HttpsEndpoint(unittest.TestCase):
    """dynalite over TLS with a certificate from a test CA: sessiongate trusts it through
    store.ca_file, and without it refuses the endpoint (it never falls back to no checks)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sg-ddb-tls-")
        cls.ca = TestCA(cls.dir)
        cert, key = cls.ca.leaf("dynalite", ["localhost"])
        cls.port = free_port()
        cls.proc = subprocess.Popen(["node", "-e", TLS_DYNALITE, str(cls.port), key, cert],
                                    cwd=os.path.join(ROOT, "tests", "e2e"),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(cls.port)
        for table, key_attr in (("webordinary-thread-mappings", "threadId"),
                                ("webordinary-containers", "containerId")):
            cls.aws("create-table", "--table-name", table,
                    "--attribute-definitions", f"AttributeName={key_attr},AttributeType=S",
                    "--key-schema", f"AttributeName={key_attr},KeyType=HASH",
                    "--billing-mode", "PAY_PER_REQUEST")
        cls.up = Upstream(keepalive_server(app_named("tls-one")))

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGKILL)
        cls.proc.wait()
        cls.up.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def aws(cls, *args):
        out = subprocess.run([AWS, "--endpoint-url", f"https://localhost:{cls.port}", "--ca-bundle",
                              cls.ca.cert, "dynamodb", *args], env=ENV, capture_output=True,
                             text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)}: {out.stderr}")
        return out.stdout

    def router(self, ca_file):
        ca = f", ca_file: {ca_file}" if ca_file else ""
        store = (f"\nstore: {{type: dynamodb, region: us-west-2, endpoint: \"https://localhost:{self.port}\"{ca}, "
                 "tables: {sessions: webordinary-thread-mappings, containers: webordinary-containers}, "
                 "revalidate_interval: 200ms}\n")
        return Proxy(SESSION_RULES, extra=store, directory=tempfile.mkdtemp(prefix="sg-ddb-tls-"))

    def test_trusted_through_ca_file(self):
        proxy = self.router(self.ca.cert)
        try:
            self.assertTrue(wait_for(lambda: proxy.admin("GET", "/readyz", token="")[1]
                                     .get("routes_current")), proxy.stderr())
            proxy.register("ct", self.up.port)
            proxy.session("tt", "ct")
            self.assertIn('"tt"', self.aws("get-item", "--table-name", "webordinary-thread-mappings",
                                           "--key", '{"threadId": {"S": "tt"}}'))
            self.aws("put-item", "--table-name", "webordinary-thread-mappings", "--item",
                     '{"threadId": {"S": "tt2"}, "containerId": {"S": "ct"}}')
            self.assertEqual(get(proxy.port, "/", host("tt2"))[2], b"tls-one")
        finally:
            proxy.stop()

    def test_an_untrusted_certificate_is_refused(self):
        proxy = self.router(None)
        try:
            self.assertTrue(wait_for(lambda: "certificate" in proxy.admin(
                "GET", "/readyz", token="")[1].get("detail", "")), proxy.stderr())
            st, ready = proxy.admin("GET", "/readyz", token="")
            self.assertFalse(ready["routes_current"], ready)
            st, body = proxy.admin("PUT", "/v1/containers/cx", {"address": f"127.0.0.1:{self.up.port}"})
            self.assertEqual(st, 503, body)
        finally:
            proxy.stop()


if __name__ == "__main__":
    unittest.main()
