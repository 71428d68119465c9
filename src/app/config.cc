#include "app/config.h"

#include "app/config_reader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/duration.h"
#include "net/address.h"
#include "observe/access_log.h"
#include "routing/pattern.h"

namespace sg::app {

namespace {

// Every section after `workers`, in the order they are read (pages before rules: a fixed
// action may name a page).
struct Section {
  const char* key;
  void (*read)(Reader& r, const YAML::Node& n, Config& cfg);
};
constexpr Section kSections[] = {
    {"listeners", &read_listeners}, {"limits", &read_limits},     {"timeouts", &read_timeouts},
    {"http2", &read_http2},         {"admin", &read_admin},       {"access_log", &read_access_log},
    {"store", &read_store},         {"security", &read_security}, {"sessions", &read_sessions},
    {"pages", &read_pages},         {"rules", &read_rules},       {"wake", &read_wake},
};

void report_duplicate_keys(Reader& r, const YAML::Node& node, int depth = 0) {
  if (depth > 64) return;  // deeper than any section; yaml-cpp itself limits nesting
  if (node.IsSequence()) {
    for (const auto& item : node) report_duplicate_keys(r, item, depth + 1);
    return;
  }
  if (!node.IsMap()) return;
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar() && !seen.insert(it->first.Scalar()).second) {
      const YAML::Mark first = node[it->first.Scalar()].Mark();
      r.error(it->first, "duplicate key '" + it->first.Scalar() + "'" +
                             (first.is_null() ? std::string()
                                              : " (first given on line " +
                                                    std::to_string(first.line + 1) + ")") +
                             ": each key is given once");
    }
    report_duplicate_keys(r, it->second, depth + 1);
  }
}

}  // namespace

bool parse_duration(std::string_view s, Millis& out) {
  int64_t ms = 0;
  if (!parse_duration_ms(s, ms)) return false;
  out = Millis(ms);
  return true;
}

std::string format_duration(Millis d) {
  return format_duration_ms(d.count());
}

bool parse_size(std::string_view s, size_t& out) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  uint64_t v = 0;
  if (i == 0 || !parse_uint(s.substr(0, i), v)) return false;  // from_chars refuses overflow
  std::string_view unit = s.substr(i);
  uint64_t mult = 1;
  if (unit == "KiB") {
    mult = 1024;
  } else if (unit == "MiB") {
    mult = 1024 * 1024;
  } else if (unit == "GiB") {
    mult = uint64_t{1} << 30;
  } else if (!unit.empty()) {
    return false;
  }
  if (v > UINT64_MAX / mult) return false;
  out = static_cast<size_t>(v * mult);
  return true;
}

namespace {
bool parse_config_unguarded(const std::string& text, const std::string& name, Config& cfg,
                            std::vector<ConfigError>& errors);
}

bool parse_config(const std::string& text, const std::string& name, Config& cfg,
                  std::vector<ConfigError>& errors) {
  // yaml-cpp reports some structural problems by throwing; they become ordinary errors here.
  try {
    return parse_config_unguarded(text, name, cfg, errors);
  } catch (const YAML::Exception& e) {
    errors.push_back({e.mark.is_null() ? 0 : e.mark.line + 1,
                      e.mark.is_null() ? 0 : e.mark.column + 1, "YAML: " + e.msg});
    return false;
  }
}

namespace {
bool parse_config_unguarded(const std::string& text, const std::string& name, Config& cfg,
                            std::vector<ConfigError>& errors) {
  {
    Config fresh;  // (not `cfg = Config{}`: GCC 12 reports a false maybe-uninitialized)
    std::swap(cfg, fresh);
  }
  cfg.path = name;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    errors.push_back({e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg});
    return false;
  }
  Reader r(errors);
  if (!root || root.IsNull()) {
    errors.push_back({1, 1, "the configuration is empty"});
    return false;
  }
  // yaml-cpp keeps every pair of a mapping but finds only the first: a repeated key would be
  // silently ignored.
  report_duplicate_keys(r, root);
  if (!errors.empty()) return false;
  if (!r.mapping(root, "the configuration",
                 {"workers", "listeners", "limits", "timeouts", "http2", "rules", "admin", "store",
                  "security", "sessions", "pages", "access_log", "upgrade_socket", "wake"})) {
    return false;
  }
  static_assert(std::size(kSections) == 12, "a new section is added here and to the known keys");
  if (const YAML::Node w = root["workers"]) {
    std::string s;
    uint64_t v = 0;
    if (!r.scalar(w, "workers", s) || !parse_uint(s, v) || v > 256) {
      r.error(w, "workers must be a whole number from 0 (one per core) to 256");
    }
    cfg.workers = static_cast<int>(v);
  }
  if (const YAML::Node u = root["upgrade_socket"]) {
    if (r.scalar(u, "upgrade_socket", cfg.upgrade_socket) &&
        (cfg.upgrade_socket.empty() || cfg.upgrade_socket[0] != '/' ||
         cfg.upgrade_socket.size() > 100)) {
      r.error(u, "upgrade_socket must be an absolute path of at most 100 bytes (a Unix socket)");
    }
  }
  if (!root["listeners"]) {
    r.error(root, "listeners is required (e.g. listeners: [{address: 127.0.0.1:8080}])");
  }
  for (const Section& s : kSections) {
    if (const YAML::Node n = root[s.key]) s.read(r, n, cfg);
  }
  if (cfg.admin.enabled) {
    for (const auto& l : cfg.listeners) {
      if (!net::endpoints_overlap(l.endpoint, cfg.admin.endpoint)) continue;
      r.error(root["admin"]["address"], "admin.address '" + cfg.admin.address_text +
                                            "' is also the proxy listener '" + l.text +
                                            "': give the admin API its own address");
      break;
    }
  }
  if (cfg.wake.sleep_after.count() > 0 && !cfg.wake.enabled) {
    r.error(root["sessions"]["sleep_after"],
            "sessions.sleep_after needs wake (a webhook or command that stops and starts "
            "containers)");
  }
  return errors.empty();
}
}  // namespace

std::string format_config_errors(const std::string& path, const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += path;
    if (e.line > 0) out += ":" + std::to_string(e.line) + ":" + std::to_string(e.column);
    out += ": error: " + e.message + "\n";
  }
  return out;
}

bool load_config(const std::string& path, Config& out, std::vector<ConfigError>& errors) {
  std::ifstream in(path);
  if (!in) {
    errors.push_back({0, 0, "cannot open " + path});
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path, out, errors);
}

}  // namespace sg::app
