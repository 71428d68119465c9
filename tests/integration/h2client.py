"""A small HTTP/2 client for the tests: the `h2` library (Debian's python3-h2) for well-formed
traffic, and raw frames for what a well-behaved library refuses to send (floods, malformed
header blocks). Plain h2c with prior knowledge or TLS with ALPN h2; loopback only."""
import socket
import ssl
import struct
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack

# Frame types and flags (RFC 9113 section 6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, END_HEADERS = 0x1, 0x4
PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, REFUSED_STREAM, CANCEL = 1, 2, 3, 7, 8
ENHANCE_YOUR_CALM = 11
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def open_socket(port, tls=False, server_name="app.test", timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        s = ctx.wrap_socket(s, server_hostname=server_name)
        assert s.selected_alpn_protocol() == "h2", s.selected_alpn_protocol()
    return s


class Response:
    def __init__(self):
        self.status = None
        self.headers = []
        self.body = b""
        self.ended = False
        self.reset = None  # error code of a RST_STREAM
        self.informational = []

    def header(self, name):
        for k, v in self.headers:
            if k == name:
                return v
        return None


class Client:
    """One connection driven by h2. `window`: the initial stream window we advertise."""

    def __init__(self, port, tls=False, host="app.test", window=None, validate=True, timeout=10.0):
        self.host = host
        self.sock = open_socket(port, tls, timeout=timeout)
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                        validate_outbound_headers=validate,
                                        normalize_outbound_headers=validate,
                                        validate_inbound_headers=False)
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.auto_window = window is None
        self.flush()
        self.responses = {}
        self.goaway = None  # error code
        self.closed = False
        self.remote_settings = {}

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, path="/", method="GET", headers=None, body=None, end=True, authority=None):
        sid = self.conn.get_next_available_stream_id()
        hs = [(":method", method), (":scheme", "https"), (":authority", authority or self.host),
              (":path", path)]
        hs += list(headers or [])
        self.conn.send_headers(sid, hs, end_stream=end and body is None)
        if body is not None:
            self.conn.send_data(sid, body, end_stream=end)
        self.flush()
        self.responses[sid] = Response()
        return sid

    def send_data(self, sid, data, end=False):
        self.conn.send_data(sid, data, end_stream=end)
        self.flush()

    def pump(self, timeout=5.0):
        """Reads once (up to `timeout`) and handles the events. False when the peer closed."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return True
        except (ConnectionResetError, ssl.SSLError, OSError):
            data = b""
        if not data:
            self.closed = True
            return False
        for ev in self.conn.receive_data(data):
            self.handle(ev)
        self.flush()
        return True

    def handle(self, ev):
        if isinstance(ev, h2.events.ResponseReceived):
            r = self.responses.setdefault(ev.stream_id, Response())
            r.headers = list(ev.headers)
            r.status = int(dict(ev.headers)[":status"])
        elif isinstance(ev, h2.events.InformationalResponseReceived):
            self.responses.setdefault(ev.stream_id, Response()).informational.append(
                int(dict(ev.headers)[":status"]))
        elif isinstance(ev, h2.events.DataReceived):
            self.responses.setdefault(ev.stream_id, Response()).body += ev.data
            if self.auto_window:
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            self.responses.setdefault(ev.stream_id, Response()).ended = True
        elif isinstance(ev, h2.events.StreamReset):
            self.responses.setdefault(ev.stream_id, Response()).reset = ev.error_code
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev.error_code
        elif isinstance(ev, h2.events.RemoteSettingsChanged):
            for k, v in ev.changed_settings.items():
                self.remote_settings[int(k)] = v.new_value

    def wait(self, cond, timeout=10.0):
        end = time.monotonic() + timeout
        while not cond():
            left = end - time.monotonic()
            if left <= 0 or self.closed:
                return cond()
            self.pump(min(left, 0.5))
        return True

    def response(self, sid, timeout=10.0):
        r = self.responses[sid]
        self.wait(lambda: r.ended or r.reset is not None, timeout)
        return r

    def get(self, path="/", **kw):
        return self.response(self.request(path, **kw))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- raw frames ---------------------------------------------------------------------------

def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def settings_frame(values=None, ack=False):
    payload = b"".join(struct.pack(">HI", k, v) for k, v in (values or {}).items())
    return frame(SETTINGS, 1 if ack else 0, 0, payload)


def header_block(headers, encoder=None):
    """HPACK without indexing, no Huffman: what the bytes say is exactly what was sent."""
    enc = encoder or hpack.Encoder()
    enc.huffman = False
    return enc.encode(headers)


def request_headers(path="/", method="GET", authority="app.test", extra=()):
    return [(":method", method), (":scheme", "http"), (":authority", authority),
            (":path", path)] + list(extra)


class RawConn:
    """Frames written as given; frames read back and parsed (headers decoded with HPACK)."""

    def __init__(self, port, tls=False, settings=None, timeout=10.0):
        self.sock = open_socket(port, tls, timeout=timeout)
        self.sock.sendall(PREFACE + settings_frame(settings or {}))
        self.buf = b""
        self.decoder = hpack.Decoder()
        self.encoder = hpack.Encoder()
        self.closed = False

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            self.closed = True
            return False

    def read_frame(self, timeout=5.0):
        """(type, flags, stream, payload), or None on timeout / close."""
        end = time.monotonic() + timeout
        while len(self.buf) < 9 or len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return None
            except OSError:
                data = b""
            if not data:
                self.closed = True
                return None
            self.buf += data
        n = int.from_bytes(self.buf[:3], "big")
        ftype, flags, sid = self.buf[3], self.buf[4], struct.unpack(">I", self.buf[5:9])[0] & 0x7FFFFFFF
        payload = self.buf[9:9 + n]
        self.buf = self.buf[9 + n:]
        if ftype == SETTINGS and not flags & 1:
            self.send(settings_frame(ack=True))
        return ftype, flags, sid, payload

    def frames(self, until, timeout=5.0):
        """Frames until `until(frame)` is true (included) or the time is up."""
        out = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            f = self.read_frame(max(0.01, end - time.monotonic()))
            if f is None:
                if self.closed:
                    break
                continue
            out.append(f)
            if until(f):
                break
        return out

    def headers_of(self, payload, flags):
        if flags & 0x8:  # PADDED
            pad = payload[0]
            payload = payload[1:len(payload) - pad]
        if flags & 0x20:  # PRIORITY
            payload = payload[5:]
        return self.decoder.decode(payload)

    def outcome(self, sid, timeout=5.0):
        """What came back on stream `sid`: ("status", code), ("rst", code) or ("goaway", code)."""
        for ftype, flags, fsid, payload in self.frames(
                lambda f: (f[2] == sid and f[0] in (HEADERS, RST_STREAM)) or f[0] == GOAWAY, timeout):
            if ftype == HEADERS and fsid == sid:
                return ("status", int(dict(self.headers_of(payload, flags))[":status"]))
            if ftype == RST_STREAM and fsid == sid:
                return ("rst", struct.unpack(">I", payload)[0])
            if ftype == GOAWAY:
                return ("goaway", struct.unpack(">I", payload[4:8])[0])
        return ("nothing", None)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def goaway_code(payload):
    return struct.unpack(">I", payload[4:8])[0]
