#include "app/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "net/address.h"
#include "observe/access_log.h"
#include "routing/pattern.h"

namespace sg::app {

namespace {

using routing::ActionType;

bool parse_uint(std::string_view s, uint64_t& out) {
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

  void duration(const YAML::Node& parent, const char* key, std::string_view where, Millis& out) {
    const YAML::Node n = parent[key];
    if (!n) return;
    std::string s;
    if (!scalar(n, key, s)) return;
    Millis v{};
    if (!parse_duration(s, v) || v.count() <= 0) {
      error(n, std::string(where) + "." + key + ": invalid duration '" + s +
                   "' (use a positive number with ms, s, m or h, e.g. 10s)");
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

 private:
  std::vector<ConfigError>& errors_;
};

void read_listeners(Reader& r, const YAML::Node& n, Config& cfg) {
  if (!n.IsSequence() || n.size() == 0) {
    r.error(n, "listeners must be a non-empty list");
    return;
  }
  for (const auto& item : n) {
    if (!r.mapping(item, "listener", {"address"})) continue;
    std::string addr;
    if (!item["address"]) {
      r.error(item, "listener needs an address (e.g. 127.0.0.1:8080)");
      continue;
    }
    if (!r.scalar(item["address"], "address", addr)) continue;
    ListenerConfig l;
    if (!net::parse_endpoint(addr, l.endpoint)) {
      r.error(item["address"], "listener address '" + addr +
                                   "' is not IP:PORT (an IP literal; names are not resolved)");
      continue;
    }
    l.text = addr;
    cfg.listeners.push_back(l);
  }
}

void read_host_header(Reader& r, const YAML::Node& n, routing::Action& a) {
  if (!n["host_header"]) return;
  std::string h;
  if (!r.scalar(n["host_header"], "host_header", h)) return;
  if (h == "keep") {
    a.host_header = routing::HostHeader::kKeep;
  } else if (h == "upstream") {
    a.host_header = routing::HostHeader::kUpstream;
  } else {
    r.error(n["host_header"], "host_header must be 'keep' or 'upstream', not '" + h + "'");
  }
}

void read_cidrs(Reader& r, const YAML::Node& list, std::string_view what,
                std::vector<net::Cidr>& out) {
  if (!list.IsSequence()) {
    r.error(list, std::string(what) + " must be a list of CIDRs (e.g. 10.0.0.0/8 or fd00::/8)");
    return;
  }
  for (const auto& item : list) {
    std::string text;
    net::Cidr c;
    if (!r.scalar(item, "cidr", text)) continue;
    if (!net::parse_cidr(text, c)) {
      r.error(item, "'" + text + "' is not a CIDR (e.g. 10.0.0.0/8 or fd00::/8)");
      continue;
    }
    out.push_back(c);
  }
}

void read_action(Reader& r, const YAML::Node& n, routing::Rule& rule) {
  if (!n) return;
  if (!n.IsMap()) {
    r.error(n, "action must be a mapping");
    return;
  }
  std::string type;
  if (!n["type"] || !r.scalar(n["type"], "type", type)) {
    r.error(n, "action needs a type: upstream, fixed or redirect");
    return;
  }
  auto& a = rule.action;
  if (type == "upstream") {
    a.type = ActionType::kUpstream;
    if (!r.mapping(n, "upstream action", {"type", "address", "host_header"})) return;
    std::string addr;
    if (!n["address"]) {
      r.error(n, "upstream action needs an address (IP:PORT)");
    } else if (r.scalar(n["address"], "address", addr)) {
      if (!net::parse_endpoint(addr, a.address)) {
        r.error(n["address"], "upstream address '" + addr + "' is not IP:PORT");
      }
      a.address_text = addr;
    }
    read_host_header(r, n, a);
  } else if (type == "fixed") {
    a.type = ActionType::kFixed;
    if (!r.mapping(n, "fixed action", {"type", "status", "page", "body", "content_type"})) return;
    std::string s;
    uint64_t status = 0;
    if (!n["status"] || !r.scalar(n["status"], "status", s) || !parse_uint(s, status) ||
        status < 200 || status > 599) {
      r.error(n["status"] ? n["status"] : n, "fixed action needs a status between 200 and 599");
    }
    a.status = static_cast<int>(status);
    if (n["page"]) r.scalar(n["page"], "page", a.page);
    if (n["body"]) r.scalar(n["body"], "body", a.body);
    a.content_type = "text/plain; charset=utf-8";
    if (n["content_type"]) r.scalar(n["content_type"], "content_type", a.content_type);
    if (!a.page.empty() && !a.body.empty()) {
      r.error(n, "fixed action takes either page or body, not both");
    }
  } else if (type == "redirect") {
    a.type = ActionType::kRedirect;
    if (!r.mapping(n, "redirect action", {"type", "status", "location"})) return;
    a.status = 302;
    if (n["status"]) {
      std::string s;
      uint64_t status = 0;
      if (!r.scalar(n["status"], "status", s) || !parse_uint(s, status) ||
          (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)) {
        r.error(n["status"], "redirect status must be 301, 302, 303, 307 or 308");
      }
      a.status = static_cast<int>(status);
    }
    if (!n["location"] || !r.scalar(n["location"], "location", a.location) || a.location.empty()) {
      r.error(n, "redirect action needs a location");
    }
    for (char c : a.location) {
      if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
        r.error(n["location"], "redirect location contains a space or control character");
        break;
      }
    }
  } else if (type == "session") {
    a.type = ActionType::kSession;
    if (!r.mapping(n, "session action",
                   {"type", "from", "strip_prefix", "affinity", "host_header"})) {
      return;
    }
    std::string from = "path";
    if (n["from"]) r.scalar(n["from"], "from", from);
    if (from == "path") {
      a.from = routing::SessionFrom::kPath;
    } else if (from == "host") {
      a.from = routing::SessionFrom::kHost;
    } else {
      r.error(n["from"], "from must be 'path' or 'host', not '" + from + "'");
    }
    for (const char* key : {"strip_prefix", "affinity"}) {
      if (!n[key]) continue;
      std::string v;
      r.scalar(n[key], key, v);
      if (v != "true" && v != "false") {
        r.error(n[key], std::string(key) + " must be true or false");
        continue;
      }
      (std::string_view(key) == "strip_prefix" ? a.strip_prefix : a.affinity) = v == "true";
    }
    read_host_header(r, n, a);
  } else {
    r.error(n["type"],
            "unknown action type '" + type + "' (known: upstream, fixed, redirect, session)");
  }
}

void read_rules(Reader& r, const YAML::Node& n, Config& cfg,
                const std::unordered_map<std::string, std::string>& pages) {
  if (!n.IsSequence()) {
    r.error(n, "rules must be a list");
    return;
  }
  std::set<int> priorities;
  size_t index = 0;
  for (const auto& item : n) {
    routing::Rule rule;
    rule.name = "rules[" + std::to_string(index++) + "]";
    if (!r.mapping(item, "rule", {"priority", "name", "match", "action"})) continue;
    std::string s;
    uint64_t prio = 0;
    if (!item["priority"]) {
      r.error(item, rule.name + " needs a priority (lower numbers are evaluated first)");
    } else if (!r.scalar(item["priority"], "priority", s) || !parse_uint(s, prio) ||
               prio > 1000000) {
      r.error(item["priority"], "priority must be a whole number from 0 to 1000000");
    } else if (!priorities.insert(static_cast<int>(prio)).second) {
      r.error(item["priority"], "priority " + s + " is used by two rules");
    }
    rule.priority = static_cast<int>(prio);
    if (item["name"]) r.scalar(item["name"], "name", rule.name);
    if (const YAML::Node m = item["match"]) {
      if (r.mapping(m, "match", {"host", "path"})) {
        if (m["host"] && r.scalar(m["host"], "host", rule.host)) {
          if (const char* why = routing::check_host_pattern(rule.host)) r.error(m["host"], why);
        }
        if (m["path"] && r.scalar(m["path"], "path", rule.path)) {
          if (const char* why = routing::check_path_pattern(rule.path)) r.error(m["path"], why);
        }
      }
    }
    if (!item["action"]) {
      r.error(item, rule.name + " needs an action");
    } else {
      read_action(r, item["action"], rule);
    }
    auto& a = rule.action;
    if (a.type == ActionType::kSession && a.from == routing::SessionFrom::kPath) {
      // The id is the path segment that the final '*' stands for: "/session/*".
      const std::string& p = rule.path;
      if (p.size() < 3 || p.back() != '*' || p[p.size() - 2] != '/' ||
          p.find_first_of("*?") != p.size() - 1) {
        r.error(item["match"] ? item["match"] : item,
                rule.name +
                    ": a session rule with from: path needs a path like \"/session/*\" "
                    "(a literal prefix ending in \"/*\")");
      }
      a.prefix = p.substr(0, p.size() - 1);
    }
    if (a.type == ActionType::kSession && a.from == routing::SessionFrom::kHost &&
        rule.host.substr(0, 2) != "*.") {
      r.error(item["match"] ? item["match"] : item,
              rule.name +
                  ": a session rule with from: host needs a host like "
                  "\"*.preview.example.com\" (the id is the first label)");
    }
    if (a.type == ActionType::kFixed && !a.page.empty() && a.page != "edit-help" &&
        !pages.count(a.page)) {
      r.error(item["action"]["page"], rule.name + ": unknown page '" + a.page +
                                          "' (define it under pages:, or use edit-help)");
    }
    cfg.rules.push_back(std::move(rule));
  }
}

void read_sections(Reader& r, const YAML::Node& root, Config& cfg) {
  if (const YAML::Node a = root["admin"]) {
    if (r.mapping(a, "admin", {"address", "token", "token_env"})) {
      std::string addr;
      if (!a["address"] || !r.scalar(a["address"], "address", addr) ||
          !net::parse_endpoint(addr, cfg.admin.endpoint)) {
        r.error(a["address"] ? a["address"] : a, "admin.address must be IP:PORT");
      }
      cfg.admin.address_text = addr;
      cfg.admin.enabled = true;
      if (a["token"] && a["token_env"]) r.error(a, "admin takes token or token_env, not both");
      if (a["token"]) r.scalar(a["token"], "token", cfg.admin.token);
      if (a["token_env"]) {
        std::string var;
        if (r.scalar(a["token_env"], "token_env", var)) {
          const char* v = std::getenv(var.c_str());
          if (!v || !*v) {
            r.error(a["token_env"], "admin.token_env: environment variable " + var + " is not set");
          } else {
            cfg.admin.token = v;
          }
        }
      }
      if (!a["token"] && !a["token_env"]) {
        r.error(a, "admin needs a token (or token_env): the admin API is never open");
      } else if (!cfg.admin.token.empty() && cfg.admin.token.size() < 8) {
        r.error(a["token"] ? a["token"] : a["token_env"],
                "admin token must be at least 8 characters");
      }
    }
  }
  if (const YAML::Node al = root["access_log"]) {
    if (r.mapping(al, "access_log", {"path", "fields"})) {
      cfg.access_log.enabled = true;
      if (al["path"]) r.scalar(al["path"], "path", cfg.access_log.path);
      if (const YAML::Node fields = al["fields"]) {
        if (!fields.IsSequence() || fields.size() == 0) {
          r.error(fields, "access_log.fields must be a non-empty list of field names");
        } else {
          cfg.access_log.fields = 0;
          for (const auto& f : fields) {
            std::string name;
            observe::AccessField field;
            if (!r.scalar(f, "field", name)) continue;
            if (!observe::parse_access_field(name, field)) {
              r.error(f, "unknown access_log field '" + name + "'");
              continue;
            }
            cfg.access_log.fields |= 1u << static_cast<unsigned>(field);
          }
        }
      }
    }
  }
  if (const YAML::Node st = root["store"]) {
    if (r.mapping(st, "store",
                  {"type", "path", "synchronous", "url", "prefix", "username", "password",
                   "password_env", "connect_timeout", "command_timeout", "check_interval"})) {
      if (st["type"] && r.scalar(st["type"], "type", cfg.store.type) &&
          cfg.store.type != "sqlite" && cfg.store.type != "redis") {
        r.error(st["type"],
                "store.type '" + cfg.store.type + "' is not available (known: sqlite, redis)");
      }
      const bool redis = cfg.store.type == "redis";
      for (const char* k : {"path", "synchronous"}) {
        if (st[k] && redis) r.error(st[k], std::string("store.") + k + " applies to type sqlite");
      }
      for (const char* k : {"url", "prefix", "username", "password", "password_env",
                            "connect_timeout", "command_timeout", "check_interval"}) {
        if (st[k] && !redis) r.error(st[k], std::string("store.") + k + " applies to type redis");
      }
      if (st["path"]) r.scalar(st["path"], "path", cfg.store.path);
      if (st["synchronous"]) {
        std::string v;
        r.scalar(st["synchronous"], "synchronous", v);
        if (v == "full") {
          cfg.store.synchronous_full = true;
        } else if (v == "normal") {
          cfg.store.synchronous_full = false;
        } else {
          r.error(st["synchronous"], "store.synchronous must be full or normal");
        }
      }
      if (redis) {
        registry::RedisEndpoint& ep = cfg.store.redis;
        std::string why;
        if (st["url"]) r.scalar(st["url"], "url", cfg.store.url);
        if (!registry::parse_redis_url(cfg.store.url, ep, why)) {
          r.error(st["url"] ? st["url"] : st, "store.url: " + why);
        }
        if (st["prefix"] && r.scalar(st["prefix"], "prefix", cfg.store.prefix)) {
          const auto& pf = cfg.store.prefix;
          const bool ok =
              !pf.empty() && pf.size() <= 64 &&
              std::all_of(pf.begin(), pf.end(), [](char ch) { return ch > ' ' && ch < 127; });
          if (!ok)
            r.error(st["prefix"], "store.prefix must be 1-64 printable characters, no spaces");
        }
        if (st["username"]) r.scalar(st["username"], "username", ep.username);
        if (st["password"] && st["password_env"]) {
          r.error(st["password_env"], "store: set password or password_env, not both");
        }
        if (st["password"]) r.scalar(st["password"], "password", ep.password);
        if (st["password_env"]) {
          std::string name;
          if (r.scalar(st["password_env"], "password_env", name)) {
            const char* v = std::getenv(name.c_str());
            if (v == nullptr || *v == '\0') {
              r.error(st["password_env"],
                      "store.password_env: environment variable " + name + " is not set");
            } else {
              ep.password = v;
            }
          }
        }
        if (!ep.username.empty() && ep.password.empty()) {
          r.error(st["username"] ? st["username"] : st,
                  "store: a Redis ACL user needs a password (password, password_env or the url)");
        }
        Millis connect{ep.connect_timeout_ms}, command{ep.command_timeout_ms};
        r.duration(st, "connect_timeout", "store", connect);
        r.duration(st, "command_timeout", "store", command);
        r.duration(st, "check_interval", "store", cfg.store.check_interval);
        ep.connect_timeout_ms = connect.count();
        ep.command_timeout_ms = command.count();
      }
    }
  }
  if (const YAML::Node sec = root["security"]) {
    if (r.mapping(sec, "security",
                  {"upstream_allow_cidrs", "access_default", "link_keys", "token_param",
                   "trusted_proxies"})) {
      if (const YAML::Node d = sec["access_default"]) {
        std::string v;
        r.scalar(d, "access_default", v);
        if (v != "public" && v != "link") r.error(d, "access_default must be public or link");
        cfg.security.default_link = v == "link";
      }
      if (const YAML::Node tp = sec["token_param"]) {
        r.scalar(tp, "token_param", cfg.security.token_param);
        bool ok = !cfg.security.token_param.empty() && cfg.security.token_param.size() <= 32;
        for (char c : cfg.security.token_param) {
          ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
        }
        if (!ok) r.error(tp, "token_param must be 1-32 letters, digits or '_'");
      }
      if (const YAML::Node list = sec["trusted_proxies"]) {
        read_cidrs(r, list, "security.trusted_proxies", cfg.security.trusted_proxies);
      }
      if (const YAML::Node keys = sec["link_keys"]) {
        int signing = 0;
        if (!keys.IsSequence()) {
          r.error(keys, "security.link_keys must be a list of {id, secret | secret_env, sign}");
        } else {
          for (const auto& k : keys) {
            if (!r.mapping(k, "link key", {"id", "secret", "secret_env", "sign"})) continue;
            access::LinkKey key;
            if (!k["id"] || !r.scalar(k["id"], "id", key.id) || key.id.empty() ||
                key.id.size() > 32 ||
                key.id.find_first_not_of(
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                    std::string::npos) {
              r.error(k["id"] ? k["id"] : k, "link key id must be 1-32 of A-Z a-z 0-9 _ -");
            }
            if (k["secret"]) r.scalar(k["secret"], "secret", key.secret);
            if (k["secret_env"]) {
              std::string var;
              r.scalar(k["secret_env"], "secret_env", var);
              const char* v = std::getenv(var.c_str());
              if (!v) r.error(k["secret_env"], "environment variable " + var + " is not set");
              if (v) key.secret = v;
            }
            if (key.secret.size() < 32) {
              r.error(k, "link key '" + key.id + "' needs a secret of at least 32 characters");
            }
            if (k["sign"]) {
              std::string v;
              r.scalar(k["sign"], "sign", v);
              key.sign = v == "true";
              if (v != "true" && v != "false") r.error(k["sign"], "sign must be true or false");
            }
            signing += key.sign;
            cfg.security.link_keys.push_back(key);
          }
          if (signing != 1) r.error(keys, "exactly one link key must have sign: true");
        }
      }
      if (cfg.security.default_link && cfg.security.link_keys.empty()) {
        r.error(sec, "access_default: link needs link_keys to sign and verify preview links");
      }
      if (const YAML::Node list = sec["upstream_allow_cidrs"]) {
        read_cidrs(r, list, "security.upstream_allow_cidrs", cfg.security.upstream_allow_cidrs);
      }
    }
  }
  if (const YAML::Node se = root["sessions"]) {
    if (r.mapping(se, "sessions",
                  {"cookie_name", "activity_interval", "sweep_interval", "default_lease",
                   "starting_retry_after"})) {
      if (se["cookie_name"]) {
        std::string v;
        r.scalar(se["cookie_name"], "cookie_name", v);
        bool ok = !v.empty() && v.size() <= 64;
        for (char c : v)
          ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
        if (!ok) r.error(se["cookie_name"], "cookie_name must be 1-64 letters, digits, '-' or '_'");
        cfg.sessions.cookie_name = v;
      }
      r.duration(se, "activity_interval", "sessions", cfg.sessions.activity_interval);
      r.duration(se, "sweep_interval", "sessions", cfg.sweep_interval);
      r.duration(se, "default_lease", "sessions", cfg.default_lease);
      Millis retry{cfg.sessions.starting_retry_after * 1000};
      r.duration(se, "starting_retry_after", "sessions", retry);
      cfg.sessions.starting_retry_after =
          static_cast<int>(std::max<int64_t>(1, retry.count() / 1000));
    }
  }
  if (const YAML::Node pg = root["pages"]) {
    if (!pg.IsMap()) {
      r.error(pg, "pages must map page names to HTML template files");
    } else {
      for (auto it = pg.begin(); it != pg.end(); ++it) {
        std::string name = it->first.Scalar();
        std::string file;
        if (!r.scalar(it->second, name, file)) continue;
        // Relative paths are relative to the configuration file.
        std::filesystem::path path(file);
        if (path.is_relative()) path = std::filesystem::path(cfg.path).parent_path() / path;
        std::ifstream in(path);
        if (!in) {
          r.error(it->second, "pages." + name + ": cannot read " + path.string());
          continue;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        cfg.pages[name] = ss.str();
      }
    }
  }
}

}  // namespace

bool parse_duration(std::string_view s, Millis& out) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  uint64_t v = 0;
  if (i == 0 || i > 12 || !parse_uint(s.substr(0, i), v)) return false;
  std::string_view unit = s.substr(i);
  if (unit == "ms") {
    out = Millis(v);
  } else if (unit == "s") {
    out = Millis(v * 1000);
  } else if (unit == "m") {
    out = Millis(v * 60'000);
  } else if (unit == "h") {
    out = Millis(v * 3'600'000);
  } else {
    return false;
  }
  return true;
}

bool parse_size(std::string_view s, size_t& out) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  uint64_t v = 0;
  if (i == 0 || i > 15 || !parse_uint(s.substr(0, i), v)) return false;
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
  if (!r.mapping(root, "the configuration",
                 {"workers", "listeners", "limits", "timeouts", "rules", "admin", "store",
                  "security", "sessions", "pages", "access_log"})) {
    return false;
  }
  if (const YAML::Node w = root["workers"]) {
    std::string s;
    uint64_t v = 0;
    if (!r.scalar(w, "workers", s) || !parse_uint(s, v) || v > 256) {
      r.error(w, "workers must be a whole number from 0 (one per core) to 256");
    }
    cfg.workers = static_cast<int>(v);
  }
  if (!root["listeners"]) {
    r.error(root, "listeners is required (e.g. listeners: [{address: 127.0.0.1:8080}])");
  } else {
    read_listeners(r, root["listeners"], cfg);
  }
  if (const YAML::Node l = root["limits"]) {
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
  if (const YAML::Node t = root["timeouts"]) {
    if (r.mapping(t, "timeouts",
                  {"request_head", "keepalive_idle", "upstream_connect", "upstream_head",
                   "body_idle", "tunnel_idle", "upstream_keepalive_idle", "shutdown_drain"})) {
      auto& to = cfg.timeouts;
      r.duration(t, "request_head", "timeouts", to.request_head);
      r.duration(t, "keepalive_idle", "timeouts", to.keepalive_idle);
      r.duration(t, "upstream_connect", "timeouts", to.upstream_connect);
      r.duration(t, "upstream_head", "timeouts", to.upstream_head);
      r.duration(t, "body_idle", "timeouts", to.body_idle);
      r.duration(t, "tunnel_idle", "timeouts", to.tunnel_idle);
      r.duration(t, "upstream_keepalive_idle", "timeouts", to.upstream_keepalive_idle);
      r.duration(t, "shutdown_drain", "timeouts", to.shutdown_drain);
    }
  }
  read_sections(r, root, cfg);
  if (const YAML::Node rules = root["rules"]) read_rules(r, rules, cfg, cfg.pages);
  return errors.empty();
}
}  // namespace

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
