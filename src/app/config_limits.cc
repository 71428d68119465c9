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
                 "upstream_keepalive_idle", "shutdown_drain"})) {
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
  }
}

}  // namespace sg::app
