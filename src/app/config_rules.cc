// rules: match (host, path), priority and action of every routing rule.
#include "app/config_reader.h"

#include <set>

#include "net/address.h"
#include "routing/pattern.h"

namespace sg::app {

namespace {

using routing::ActionType;

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

void read_upstream_action(Reader& r, const YAML::Node& n, routing::Action& a) {
  a.type = ActionType::kUpstream;
  if (!r.mapping(n, "upstream action", {"type", "address", "host_header"})) return;
  std::string addr;
  if (!n["address"]) {
    r.error(n, "upstream action needs an address (IP:PORT)");
  } else if (r.scalar(n["address"], "address", addr)) {
    if (std::string why = net::endpoint_problem(addr, a.address); !why.empty()) {
      r.error(n["address"], "upstream address '" + addr + "': " + why);
    }
    a.address_text = addr;
  }
  read_host_header(r, n, a);
}

void read_fixed_action(Reader& r, const YAML::Node& n, routing::Action& a) {
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
}

void read_redirect_action(Reader& r, const YAML::Node& n, routing::Action& a) {
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
}

void read_session_action(Reader& r, const YAML::Node& n, routing::Action& a) {
  a.type = ActionType::kSession;
  if (!r.mapping(n, "session action",
                 {"type", "from", "strip_prefix", "affinity", "service_worker", "host_header"})) {
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
  const std::pair<const char*, bool*> flags[] = {{"strip_prefix", &a.strip_prefix},
                                                 {"affinity", &a.affinity},
                                                 {"service_worker", &a.service_worker}};
  for (const auto& [key, flag] : flags) {
    if (!n[key]) continue;
    std::string v;
    r.scalar(n[key], key, v);
    if (v != "true" && v != "false") {
      r.error(n[key], std::string(key) + " must be true or false");
      continue;
    }
    *flag = v == "true";
  }
  // The worker names the session of requests outside the prefix: it needs path mode and the
  // affinity that routes them.
  if (a.service_worker && a.from != routing::SessionFrom::kPath) {
    r.error(n["service_worker"],
            "service_worker needs from: path (subdomain mode has no need of it)");
  } else if (a.service_worker && !a.affinity) {
    r.error(n["service_worker"],
            "service_worker needs affinity: true (it routes requests outside the prefix)");
  }
  read_host_header(r, n, a);
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
  if (type == "upstream") {
    read_upstream_action(r, n, rule.action);
  } else if (type == "fixed") {
    read_fixed_action(r, n, rule.action);
  } else if (type == "redirect") {
    read_redirect_action(r, n, rule.action);
  } else if (type == "session") {
    read_session_action(r, n, rule.action);
  } else {
    r.error(n["type"],
            "unknown action type '" + type + "' (known: upstream, fixed, redirect, session)");
  }
}

}  // namespace

void read_rules(Reader& r, const YAML::Node& n, Config& cfg) {
  const auto& pages = cfg.pages;
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

}  // namespace sg::app
