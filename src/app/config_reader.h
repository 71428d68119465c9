// What every section reader of the configuration shares: errors with their file position,
// mappings with known keys, scalars, durations and sizes. Each section has its own reader
// (app/config_<section>.cc); config.cc lists them in the order they are read.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"
#include "common/duration.h"

namespace sg::app {

inline bool parse_uint(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

class Reader {
 public:
  explicit Reader(std::vector<ConfigError>& errors) : errors_(errors) {}

  void error(const YAML::Node& at, std::string message) {
    const YAML::Mark m = at.Mark();
    errors_.push_back(
        {m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, std::move(message)});
  }

  // Reports keys outside `allowed`; returns false when `node` is not a mapping.
  bool mapping(const YAML::Node& node, std::string_view where,
               std::initializer_list<std::string_view> allowed) {
    if (!node.IsMap()) {
      error(node, std::string(where) + " must be a mapping");
      return false;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string known;
        for (auto a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
        error(it->first,
              "unknown key '" + key + "' in " + std::string(where) + " (known: " + known + ")");
      }
    }
    return true;
  }

  bool scalar(const YAML::Node& n, std::string_view what, std::string& out) {
    if (!n.IsScalar()) {
      error(n, std::string(what) + " must be a scalar value");
      return false;
    }
    out = n.Scalar();
    return true;
  }

  // A duration from 1 ms to `max` (a year unless said otherwise: far beyond any timeout, and
  // far from where a deadline in nanoseconds overflows).
  void duration(const YAML::Node& parent, const char* key, std::string_view where, Millis& out,
                Millis max = Millis(365LL * 86'400'000)) {
    const YAML::Node n = parent[key];
    if (!n) return;
    std::string s;
    if (!scalar(n, key, s)) return;
    Millis v{};
    std::string why = "out of range";
    int64_t ms = 0;
    if (parse_duration_ms(s, ms, &why)) v = Millis(ms);
    if (ms <= 0 || v > max) {
      error(n, std::string(where) + "." + key + ": invalid duration '" + s + "': " + why +
                   " (expected 1ms.." + format_duration(max) +
                   ": a number with ms, s, m, h or d, e.g. 10s or 1.5s)");
      return;
    }
    out = v;
  }

  void size(const YAML::Node& parent, const char* key, std::string_view where, size_t& out,
            size_t min, size_t max) {
    const YAML::Node n = parent[key];
    if (!n) return;
    std::string s;
    if (!scalar(n, key, s)) return;
    size_t v = 0;
    if (!parse_size(s, v) || v < min || v > max) {
      error(n, std::string(where) + "." + key + ": invalid value '" + s + "' (expected " +
                   std::to_string(min) + ".." + std::to_string(max) + ")");
      return;
    }
    out = v;
  }

  void flag(const YAML::Node& parent, const char* key, std::string_view where, bool& out) {
    const YAML::Node n = parent[key];
    if (!n) return;
    std::string s;
    if (!scalar(n, key, s)) return;
    if (s != "true" && s != "false") {
      error(n, std::string(where) + "." + key + " must be true or false, not '" + s + "'");
      return;
    }
    out = s == "true";
  }

 private:
  std::vector<ConfigError>& errors_;
};

// Section readers, each given the section's node.
void read_listeners(Reader& r, const YAML::Node& n, Config& cfg);
void read_limits(Reader& r, const YAML::Node& n, Config& cfg);
void read_timeouts(Reader& r, const YAML::Node& n, Config& cfg);
void read_http2(Reader& r, const YAML::Node& n, Config& cfg);
void read_admin(Reader& r, const YAML::Node& n, Config& cfg);
void read_access_log(Reader& r, const YAML::Node& n, Config& cfg);
void read_store(Reader& r, const YAML::Node& n, Config& cfg);
void read_security(Reader& r, const YAML::Node& n, Config& cfg);
// A list of HMAC keys ({id, secret | secret_env, sign}, exactly one signing): preview links'
// security.link_keys, scoped admin tokens' admin.token_keys.
void read_signing_keys(Reader& r, const YAML::Node& keys, std::string_view where,
                       std::string_view what, std::vector<access::LinkKey>& out);
void read_sessions(Reader& r, const YAML::Node& n, Config& cfg);
void read_pages(Reader& r, const YAML::Node& n, Config& cfg);
void read_rules(Reader& r, const YAML::Node& n, Config& cfg);
void read_wake(Reader& r, const YAML::Node& n, Config& cfg);

// A list of CIDRs (security lists).
void read_cidrs(Reader& r, const YAML::Node& list, std::string_view what,
                std::vector<net::Cidr>& out);

}  // namespace sg::app
