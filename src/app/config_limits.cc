// limits and timeouts of the data plane.
#include "app/config_reader.h"

namespace sg::app {

void read_limits(Reader& r, const YAML::Node& l, Config& cfg) {
  if (r.mapping(
          l, "limits",
          {"request_line", "header_bytes", "header_fields", "body_bytes", "chunk_extension_bytes",
           "max_connections", "upstream_idle_per_host", "buffer_bytes", "per_client_connections",
           "per_client_rate", "per_client_burst"})) {
    auto& lim = cfg.limits;
    r.size(l, "request_line", "limits", lim.request_line, 256, 1 << 20);
    r.size(l, "header_bytes", "limits", lim.header_bytes, 1024, 1 << 20);
    r.size(l, "header_fields", "limits", lim.header_fields, 4, 10000);
    r.size(l, "body_bytes", "limits", lim.body_bytes, 0, size_t{1} << 50);
    r.size(l, "chunk_extension_bytes", "limits", lim.chunk_extension_bytes, 0, 1 << 16);
    r.size(l, "max_connections", "limits", lim.max_connections, 1, 1 << 22);
    r.size(l, "upstream_idle_per_host", "limits", lim.upstream_idle_per_host, 0, 1 << 16);
    r.size(l, "buffer_bytes", "limits", lim.buffer_bytes, 1024, 1 << 24);
    r.size(l, "per_client_connections", "limits", lim.per_client_connections, 0, 1 << 22);
    r.size(l, "per_client_rate", "limits", lim.per_client_rate, 0, 1 << 22);
    r.size(l, "per_client_burst", "limits", lim.per_client_burst, 0, 1 << 22);
  }
}

void read_timeouts(Reader& r, const YAML::Node& t, Config& cfg) {
  if (r.mapping(t, "timeouts",
                {"request_head", "proxy_header", "tls_handshake", "keepalive_idle",
                 "upstream_connect", "upstream_head", "body_idle", "tunnel_idle",
                 "upstream_keepalive_idle", "shutdown_drain", "drain_announce"})) {
    auto& to = cfg.timeouts;
    r.duration(t, "request_head", "timeouts", to.request_head);
    r.duration(t, "proxy_header", "timeouts", to.proxy_header);
    r.duration(t, "tls_handshake", "timeouts", to.tls_handshake);
    r.duration(t, "keepalive_idle", "timeouts", to.keepalive_idle);
    r.duration(t, "upstream_connect", "timeouts", to.upstream_connect);
    r.duration(t, "upstream_head", "timeouts", to.upstream_head);
    r.duration(t, "body_idle", "timeouts", to.body_idle);
    r.duration(t, "tunnel_idle", "timeouts", to.tunnel_idle);
    r.duration(t, "upstream_keepalive_idle", "timeouts", to.upstream_keepalive_idle);
    r.duration(t, "shutdown_drain", "timeouts", to.shutdown_drain);
    r.duration(t, "drain_announce", "timeouts", to.drain_announce);
  }
}

// http2: the limits of HTTP/2 connections (see http/h2_session.h for what each bounds).
void read_http2(Reader& r, const YAML::Node& h, Config& cfg) {
  if (!r.mapping(
          h, "http2",
          {"max_concurrent_streams", "stream_window", "connection_window", "header_table_size",
           "reset_burst", "reset_rate", "control_burst", "control_rate", "max_continuations"})) {
    return;
  }
  auto& s = cfg.http2;
  const auto u32 = [&](const char* key, uint32_t& v, size_t lo, size_t hi) {
    size_t x = v;
    r.size(h, key, "http2", x, lo, hi);
    v = static_cast<uint32_t>(x);
  };
  u32("max_concurrent_streams", s.max_concurrent_streams, 1, 10000);
  // RFC 9113 section 6.5.2: a window is at most 2^31-1; below 16 KiB every DATA frame waits
  // for a WINDOW_UPDATE.
  u32("stream_window", s.stream_window, 16384, (size_t{1} << 31) - 1);
  u32("connection_window", s.connection_window, 65535, (size_t{1} << 31) - 1);
  u32("header_table_size", s.header_table_size, 0, 1 << 16);
  u32("reset_burst", s.reset_burst, 1, 1 << 20);
  u32("reset_rate", s.reset_rate, 1, 1 << 20);
  u32("control_burst", s.control_burst, 1, 1 << 20);
  u32("control_rate", s.control_rate, 1, 1 << 20);
  u32("max_continuations", s.max_continuations, 1, 1024);
}

}  // namespace sg::app
