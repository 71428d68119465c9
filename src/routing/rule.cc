#include "routing/rule.h"

#include <algorithm>

#include "registry/records.h"
#include "routing/pattern.h"
#include "routing/session_id.h"

namespace sg::routing {

RuleTable::RuleTable(std::vector<Rule> rules) : rules_(std::move(rules)) {
  std::stable_sort(rules_.begin(), rules_.end(),
                   [](const Rule& a, const Rule& b) { return a.priority < b.priority; });
  for (Rule& r : rules_) r.host_pattern = HostPattern(r.host);
}

const Rule* RuleTable::match(std::string_view host, std::string_view path) const {
  const std::string_view bare = bare_host(host);
  for (const auto& r : rules_) {
    if (r.host_pattern.matches(bare) && match_path(r.path, path)) return &r;
  }
  return nullptr;
}

RuleMatch RuleTable::match(std::string_view host, std::string_view path,
                           std::string_view cookie_header, std::string_view referer,
                           std::string_view cookie_name, std::string_view session_header) const {
  const std::string_view no_port = host_without_port(host);
  const std::string_view bare = without_fqdn_dot(no_port);
  for (const auto& r : rules_) {
    if (!r.host_pattern.matches(bare)) continue;
    if (match_path(r.path, path)) return {&r, false, {}, no_port};
    const Action& a = r.action;
    if (a.type != ActionType::kSession || a.from != SessionFrom::kPath || !a.affinity) continue;
    // The worker's header names the page's own session whatever the request (a module fetched
    // by another module, a fetch() with no Referer); the Referer names the tab's own session
    // for what the document itself loads; both win over the (per-origin) cookie.
    if (a.service_worker && !session_header.empty() && registry::valid_id(session_header)) {
      return {&r, true, session_header, no_port};
    }
    std::string_view id;
    if (!referer.empty() && id_from_referer(referer, a.prefix, id) == IdResult::kFound) {
      return {&r, true, id, no_port};
    }
    if (!cookie_header.empty()) {
      id = cookie_value(cookie_header, cookie_name);
      if (!id.empty() && registry::valid_id(id)) return {&r, true, id, no_port};
    }
  }
  return {};
}

std::string_view RuleTable::session_of(std::string_view host, std::string_view path,
                                       std::string_view cookie_header, std::string_view referer,
                                       std::string_view cookie_name,
                                       std::string_view session_header) const {
  const RuleMatch m = match(host, path, cookie_header, referer, cookie_name, session_header);
  if (m.rule == nullptr || m.rule->action.type != ActionType::kSession) return {};
  if (m.by_affinity) return m.affinity_id;
  std::string_view id, rest;
  if (m.rule->action.from == SessionFrom::kHost) {
    return id_from_host(m.host_no_port, id) == IdResult::kFound ? id : std::string_view();
  }
  if (ambiguous_path(path)) return {};
  return id_from_path(path, m.rule->action.prefix, id, rest) == IdResult::kFound
             ? id
             : std::string_view();
}

}  // namespace sg::routing
