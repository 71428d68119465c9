// Limits and timeouts of the data plane, with the defaults an internet-facing proxy needs.
#pragma once

#include <chrono>
#include <cstddef>

#include "http/h2_session.h"

namespace sg::proxy {

using Millis = std::chrono::milliseconds;

struct Limits {
  size_t request_line = 8192;   // -> 414
  size_t header_bytes = 32768;  // -> 431
  size_t header_fields = 100;   // -> 431
  size_t body_bytes = 0;        // request body; 0 = unlimited; -> 413
  size_t chunk_extension_bytes = 1024;
  size_t max_connections = 10000;        // per worker; beyond -> 503 and close
  size_t upstream_idle_per_host = 64;    // idle pooled upstream connections, per worker
  size_t buffer_bytes = 65536;           // streaming buffer per direction, at most
  size_t per_client_connections = 1000;  // open connections per client address; 0 = off -> 429
  size_t per_client_rate = 0;            // requests per second per client address; 0 = off
  size_t per_client_burst = 0;           // token-bucket size; 0 = same as the rate
};

struct Timeouts {
  Millis request_head{10000};    // first byte to end of head (slowloris)
  Millis proxy_header{3000};     // accept to a complete PROXY protocol header
  Millis tls_handshake{10000};   // accept (or PROXY header) to a finished TLS handshake
  Millis keepalive_idle{60000};  // between requests on a kept-alive client connection
  Millis upstream_connect{3000};
  Millis upstream_head{30000};            // request sent -> response head received
  Millis body_idle{60000};                // no progress while streaming a body, either direction
  Millis tunnel_idle{3600000};            // no byte either way on an upgraded connection
  Millis upstream_keepalive_idle{30000};  // pooled connection lifetime while idle
  Millis shutdown_drain{10000};           // in-flight requests get this long after SIGTERM
  Millis drain_announce{0};  // after SIGTERM, /readyz fails this long before accepting stops
};

struct Settings {
  Limits limits;
  Timeouts timeouts;
  // HTTP/2 connections; its header limits are limits.header_bytes and limits.header_fields.
  http::H2Settings http2;
};

}  // namespace sg::proxy
