// Rule matching and session-id extraction on hostile hosts, paths, cookies and Referers:
// no crash, and any id found is a valid id that lies inside the input it came from.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "registry/records.h"
#include "routing/pattern.h"
#include "routing/rule.h"
#include "routing/session_id.h"

namespace {

const sg::routing::RuleTable& table() {
  static const sg::routing::RuleTable t = [] {
    std::vector<sg::routing::Rule> rules(3);
    rules[0].priority = 5;
    rules[0].host = "edit.*.example.com";
    rules[0].path = "/session/*";
    rules[0].action.type = sg::routing::ActionType::kSession;
    rules[0].action.prefix = "/session/";
    rules[1].priority = 10;
    rules[1].host = "*.preview.example.com";
    rules[1].action.type = sg::routing::ActionType::kSession;
    rules[1].action.from = sg::routing::SessionFrom::kHost;
    rules[2].priority = 90;
    rules[2].host = "edit.*.example.com";
    rules[2].action.type = sg::routing::ActionType::kFixed;
    return sg::routing::RuleTable(rules);
  }();
  return t;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Fields separated by NUL: host, path, cookie, referer, host pattern, path pattern.
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view f[6];
  for (int i = 0; i < 6; ++i) {
    size_t z = in.find('\0');
    f[i] = in.substr(0, z);
    in = z == std::string_view::npos ? std::string_view() : in.substr(z + 1);
  }
  auto m = table().match(f[0], f[1], f[2], f[3], "sg_session");
  if (m.by_affinity) {
    if (!sg::registry::valid_id(m.affinity_id)) std::abort();
    if (!inside(m.affinity_id, f[2]) && !inside(m.affinity_id, f[3])) std::abort();
  }
  std::string_view id, rest;
  if (sg::routing::id_from_path(f[1], "/session/", id, rest) == sg::routing::IdResult::kFound) {
    if (!sg::registry::valid_id(id) || !inside(id, f[1]) || !inside(rest, f[1])) std::abort();
  }
  if (sg::routing::id_from_host(f[0], id) == sg::routing::IdResult::kFound &&
      (!sg::registry::valid_id(id) || !inside(id, f[0]))) {
    std::abort();
  }
  if (sg::routing::id_from_referer(f[3], "/session/", id) == sg::routing::IdResult::kFound &&
      !sg::registry::valid_id(id)) {
    std::abort();
  }
  (void)sg::routing::ambiguous_path(f[1]);
  if (!sg::routing::check_host_pattern(f[4])) (void)sg::routing::match_host(f[4], f[0]);
  if (!sg::routing::check_path_pattern(f[5])) (void)sg::routing::match_path(f[5], f[1]);
  return 0;
}
