"""A loopback HTTP relay in front of a real server that can inject the answers a cloud service
gives under load: every request passes through unchanged until a test tells it to throttle
(all requests, or every n-th), when it answers the way DynamoDB does,
400 ProvisionedThroughputExceededException. When the server behind it is down, it closes
the connection without an answer, as a dead endpoint would."""
import http.client
import http.server
import socket
import threading

THROTTLE_BODY = (b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",'
                 b'"message":"The level of configured provisioned throughput for the table was exceeded."}')


class FaultProxy:
    def __init__(self, backend_port):
        self.backend_port = backend_port
        self.throttle_every = 0  # 0: pass everything; 1: throttle all; n: every n-th request
        self.requests = 0
        self.throttled = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if outer._should_throttle():
                    self._answer(400, {"Content-Type": "application/x-amz-json-1.0"},
                                 THROTTLE_BODY)
                    return
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", outer.backend_port, timeout=10)
                    conn.request("POST", self.path, body, dict(self.headers.items()))
                    resp = conn.getresponse()
                    data = resp.read()
                    headers = {k: v for k, v in resp.getheaders()
                               if k.lower() not in ("content-length", "connection",
                                                    "transfer-encoding")}
                    conn.close()
                except OSError:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._answer(resp.status, headers, data)

            def _answer(self, status, headers, data):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _should_throttle(self):
        with self._lock:
            self.requests += 1
            n = self.throttle_every
            hit = n > 0 and self.requests % n == 0
            if hit:
                self.throttled += 1
            return hit

    def throttle(self, every):
        with self._lock:
            self.throttle_every = every
            self.requests = 0

    def close(self):
        self.server.shutdown()
        self.server.server_close()
