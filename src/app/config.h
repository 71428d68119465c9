// The YAML configuration, validated on load. Every problem is reported with its file position.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "proxy/settings.h"
#include "routing/rule.h"

namespace sg::app {

using proxy::Millis;

struct ListenerConfig {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string text;
};

using proxy::Limits;
using proxy::Timeouts;

struct Config {
  std::string path;
  int workers = 0;  // 0 = one per core
  std::vector<ListenerConfig> listeners;
  Limits limits;
  Timeouts timeouts;
  std::vector<routing::Rule> rules;
};

struct ConfigError {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  std::string message;
};

// Parses and validates. On failure `errors` holds every problem found, in file order.
bool load_config(const std::string& path, Config& out, std::vector<ConfigError>& errors);
bool parse_config(const std::string& text, const std::string& name, Config& out,
                  std::vector<ConfigError>& errors);

// "10s", "250ms", "5m", "1h" -> milliseconds. False on junk.
bool parse_duration(std::string_view s, Millis& out);
// "32768", "32KiB", "1MiB" -> bytes.
bool parse_size(std::string_view s, size_t& out);
// "127.0.0.1:8080" or "[::1]:8080" (IP literals only; names are never resolved).
bool parse_endpoint(std::string_view s, boost::asio::ip::tcp::endpoint& out);

}  // namespace sg::app
