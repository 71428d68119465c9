#include "routing/rule.h"

#include <algorithm>

#include "routing/pattern.h"

namespace sg::routing {

RuleTable::RuleTable(std::vector<Rule> rules) : rules_(std::move(rules)) {
  std::stable_sort(rules_.begin(), rules_.end(),
                   [](const Rule& a, const Rule& b) { return a.priority < b.priority; });
}

const Rule* RuleTable::match(std::string_view host, std::string_view path) const {
  for (const auto& r : rules_) {
    if (match_host(r.host, host) && match_path(r.path, path)) return &r;
  }
  return nullptr;
}

}  // namespace sg::routing
