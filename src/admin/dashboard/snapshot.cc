#include "admin/dashboard/snapshot.h"

#include <algorithm>
#include <charconv>

#include "admin/api_support.h"
#include "common/order_page.h"

namespace sg::admin {

namespace json = boost::json;
using registry::Millis;

namespace {

constexpr size_t kErrorsShown = 20;

bool read_count(std::string_view v, size_t lo, size_t hi, size_t& out) {
  size_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi) return false;
  out = n;
  return true;
}

bool known_state(std::string_view s) {
  using registry::RouteState;
  for (RouteState st : {RouteState::kReady, RouteState::kNoContainer, RouteState::kStarting,
                        RouteState::kStopped, RouteState::kFailed, RouteState::kLeaseExpired,
                        RouteState::kSleeping, RouteState::kContainerDeleted}) {
    if (registry::to_string(st) == s) return true;
  }
  return false;
}

struct Row {
  const std::string* id;
  const registry::Route* route;
  Millis last_active_at;
  Millis expires_at;
  uint64_t requests;  // for sort=requests
};

json::object session_row(const Row& r, const DashboardInputs& in) {
  json::object o;
  o["id"] = *r.id;
  const registry::Route* route = r.route;
  if (!route) {
    o["state"] = "unknown";
    return o;
  }
  o["state"] = registry::to_string(registry::state_of(*route, in.now));
  o["container"] = route->container_id;
  if (route->has_container) {
    o["address"] = route->address_text;
    o["generation"] = route->generation;
    o["lease_left_ms"] = std::max<Millis>(0, route->lease_deadline - in.now);
  } else {
    o["address"] = nullptr;
    o["generation"] = nullptr;
    o["lease_left_ms"] = nullptr;
  }
  if (r.last_active_at > 0) {
    o["idle_ms"] = std::max<Millis>(0, in.now - r.last_active_at);
  } else {
    o["idle_ms"] = nullptr;
  }
  if (r.expires_at > 0) {
    o["expires_in_ms"] = r.expires_at - in.now;
  } else {
    o["expires_in_ms"] = nullptr;
  }
  const TrafficTotals total = totals_of(*route);
  const TrafficTotals recent = in.window.recent(*r.id, total, in.now);
  o["tunnels"] = route->traffic ? route->traffic->tunnels.load(std::memory_order_relaxed) : 0;
  o["requests"] = recent.requests;
  o["errors"] = recent.errors;
  o["bytes"] = recent.bytes;
  o["requests_total"] = total.requests;
  o["access"] = route->access == registry::RouteAccess::kLink     ? "link"
                : route->access == registry::RouteAccess::kPublic ? "public"
                                                                  : "default";
  return o;
}

json::object sessions_part(const DashboardInputs& in, const DashboardQuery& q) {
  std::vector<Row> rows;
  json::object by_state;
  size_t total = 0;
  in.registry.for_each_session([&](const registry::Registry::SessionView& s) {
    ++total;
    const registry::Route* route = s.route.get();
    const std::string_view state =
        route ? registry::to_string(registry::state_of(*route, in.now)) : "unknown";
    auto& count = by_state[state];
    count = (count.is_int64() ? count.as_int64() : 0) + 1;
    if (!q.state.empty() && state != q.state) return;
    if (!q.q.empty() && s.id.find(q.q) == std::string::npos &&
        (!route || route->container_id.find(q.q) == std::string::npos)) {
      return;
    }
    rows.push_back(
        {&s.id, route, s.last_active_at, s.expires_at, route ? totals_of(*route).requests : 0});
  });
  const size_t first = std::min(rows.size(), q.page * q.size);
  const size_t last = std::min(rows.size(), first + q.size);
  auto order = [&](const Row& a, const Row& b) {
    if (q.sort == "active" && a.last_active_at != b.last_active_at) {
      return a.last_active_at > b.last_active_at;
    }
    if (q.sort == "requests" && a.requests != b.requests) return a.requests > b.requests;
    return *a.id < *b.id;
  };
  order_page(rows, first, last, order);
  json::array page;
  for (size_t i = first; i < last; ++i) page.push_back(session_row(rows[i], in));
  return {{"total", total},
          {"matched", rows.size()},
          {"page", q.page},
          {"size", q.size},
          {"rows", std::move(page)},
          {"by_state", std::move(by_state)},
          {"window_ms", in.window.span()}};
}

json::object containers_part(const DashboardInputs& in, const DashboardQuery& q) {
  std::vector<const registry::Container*> rows;
  const auto& all = in.registry.containers();
  for (const auto& [id, c] : all) {
    if (!q.cq.empty() && id.find(q.cq) == std::string::npos &&
        c.address_text.find(q.cq) == std::string::npos) {
      continue;
    }
    rows.push_back(&c);
  }
  const size_t first = std::min(rows.size(), q.cpage * q.size);
  const size_t last = std::min(rows.size(), first + q.size);
  order_page(rows, first, last, [](const auto* a, const auto* b) { return a->id < b->id; });
  json::array page;
  for (size_t i = first; i < last; ++i) {
    json::object o = container_json(*rows[i]);
    o["lease_left_ms"] = std::max<Millis>(0, rows[i]->heartbeat_at + rows[i]->lease_ttl - in.now);
    o["sessions"] = in.registry.sessions_on(rows[i]->id);
    page.push_back(std::move(o));
  }
  return {{"total", all.size()},
          {"matched", rows.size()},
          {"page", q.cpage},
          {"size", q.size},
          {"rows", std::move(page)}};
}

json::array errors_part(const DashboardInputs& in) {
  std::vector<const observe::RecentError*> sorted;
  for (const auto& e : in.errors) sorted.push_back(&e);
  const size_t n = std::min(sorted.size(), kErrorsShown);
  std::partial_sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(n), sorted.end(),
                    [](const auto* a, const auto* b) { return a->time_ms > b->time_ms; });
  json::array out;
  for (size_t i = 0; i < n; ++i) {
    const observe::RecentError& e = *sorted[i];
    const auto text = [](const std::string& s) -> json::value {
      if (s.empty()) return nullptr;
      return json::string(s);
    };
    out.push_back(json::object{{"time_ms", e.time_ms},
                               {"status", e.status},
                               {"outcome", e.outcome},
                               {"protocol", e.protocol},
                               {"method", text(e.method)},
                               {"path", text(e.path)},
                               {"session", text(e.session)},
                               {"container", text(e.container)},
                               {"request_id", text(e.request_id)},
                               {"client", text(e.client)}});
  }
  return out;
}

}  // namespace

TrafficTotals totals_of(const registry::Route& r) {
  if (!r.traffic) return {};
  return {r.traffic->requests.load(std::memory_order_relaxed),
          r.traffic->errors.load(std::memory_order_relaxed),
          r.traffic->bytes.load(std::memory_order_relaxed)};
}

bool parse_dashboard_query(std::string_view query, DashboardQuery& out, std::string& error) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!parse_query(query, params)) {
    error = "the query string is not valid percent-encoding";
    return false;
  }
  for (auto& [k, v] : params) {
    bool ok = true;
    if (k == "q") {
      ok = v.size() <= 256;
      out.q = std::move(v);
    } else if (k == "cq") {
      ok = v.size() <= 256;
      out.cq = std::move(v);
    } else if (k == "state") {
      ok = v.empty() || known_state(v);
      out.state = std::move(v);
    } else if (k == "sort") {
      ok = v == "id" || v == "active" || v == "requests";
      out.sort = std::move(v);
    } else if (k == "page") {
      ok = read_count(v, 0, 1000000, out.page);
    } else if (k == "cpage") {
      ok = read_count(v, 0, 1000000, out.cpage);
    } else if (k == "size") {
      ok = read_count(v, 1, 200, out.size);
    } else {
      error = "unknown parameter '" + k + "' (q, state, sort, page, size, cq, cpage)";
      return false;
    }
    if (!ok) {
      error = k == "state"  ? "state must be a route state (ready, starting, no_container, ...)"
              : k == "sort" ? "sort must be id, active or requests"
              : k == "size" ? "size must be a whole number from 1 to 200"
              : k == "q" || k == "cq" ? k + " is limited to 256 characters"
                                      : k + " must be a whole number from 0 to 1000000";
      return false;
    }
  }
  return true;
}

json::object build_snapshot(const DashboardInputs& in, const DashboardQuery& q) {
  return {{"time_ms", in.now},
          {"health", in.health},
          {"sessions", sessions_part(in, q)},
          {"containers", containers_part(in, q)},
          {"errors", errors_part(in)}};
}

}  // namespace sg::admin
