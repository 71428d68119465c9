// The YAML configuration, validated on load. Every problem is reported with its file position.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "access/link_token.h"
#include "lifecycle/wake_settings.h"
#include "net/cidr.h"
#include "net/tls_settings.h"
#include "proxy/settings.h"
#include "proxy/worker.h"
#include "registry/store_config.h"
#include "routing/rule.h"

namespace sg::app {

using proxy::Millis;

struct ListenerConfig {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string text;
  bool proxy_protocol = false;
  bool redirect_to_https = false;
  bool http2 = true;  // TLS: offer h2 in ALPN
  bool h2c = false;   // plain: HTTP/2 with prior knowledge
  std::optional<net::TlsSettings> tls;
};

using proxy::Limits;
using proxy::Timeouts;

struct AdminConfig {
  bool enabled = false;
  boost::asio::ip::tcp::endpoint endpoint;
  std::string address_text;
  std::string token;  // from `token` or the environment variable named by `token_env`
  // Sign and verify scoped tokens (one container each), for agents; empty: none are minted.
  std::vector<access::LinkKey> token_keys;
  bool dashboard = true;  // the web dashboard at /dashboard (with its login cookie)
};

using registry::StoreConfig;

struct SecurityConfig {
  std::vector<net::Cidr> upstream_allow_cidrs;  // empty = any ordinary address
  bool default_link = false;                    // access_default: link
  std::vector<access::LinkKey> link_keys;
  std::string token_param = "sg_token";
  std::vector<net::Cidr> trusted_proxies;  // may set X-Forwarded-Proto
};

struct AccessLogConfig {
  bool enabled = false;
  std::string path = "stdout";
  uint32_t fields = ~0u;  // bit per observe::AccessField
};

struct Config {
  std::string path;
  AccessLogConfig access_log;
  AdminConfig admin;
  StoreConfig store;
  SecurityConfig security;
  proxy::SessionSettings sessions;
  Millis sweep_interval{1000};
  Millis default_lease{30000};
  std::unordered_map<std::string, std::string> pages;  // name -> HTML template text
  int workers = 0;                                     // 0 = one per core
  std::string upgrade_socket;  // Unix socket a new process takes the listeners over from
  std::vector<ListenerConfig> listeners;
  Limits limits;
  Timeouts timeouts;
  http::H2Settings http2;
  std::vector<routing::Rule> rules;
  lifecycle::WakeSettings wake;  // wake: and sessions.sleep_after
};

struct ConfigError {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  std::string message;
};

// "path:line:col: error: message" lines, as `config check` prints them.
std::string format_config_errors(const std::string& path, const std::vector<ConfigError>& errors);

// Parses and validates. On failure `errors` holds every problem found, in file order.
bool load_config(const std::string& path, Config& out, std::vector<ConfigError>& errors);
bool parse_config(const std::string& text, const std::string& name, Config& out,
                  std::vector<ConfigError>& errors);

// The one duration grammar (common/duration.h): "250ms", "1.5s", "5m", "1d". False on junk.
bool parse_duration(std::string_view s, Millis& out);
// The largest exact unit: 365d, 90s, 250ms.
std::string format_duration(Millis d);
// "32768", "32KiB", "1MiB" -> bytes.
bool parse_size(std::string_view s, size_t& out);

}  // namespace sg::app
