// What the dashboard shows, as one JSON document: router health, one page of sessions and
// one of containers (searched, filtered and paged here, so a registry of 100,000 sessions
// sends the browser 50 rows), and the recent errors.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "admin/dashboard/traffic_window.h"
#include "observe/recent_errors.h"
#include "registry/registry.h"

namespace sg::admin {

struct DashboardQuery {
  std::string q;            // sessions whose id or container id contains this
  std::string state;        // "" or a route state ("ready", "starting", ...)
  std::string sort = "id";  // id | active (most recent first) | requests (busiest first)
  size_t page = 0;
  size_t size = 50;  // 1..200
  std::string cq;    // containers whose id or address contains this
  size_t cpage = 0;
};

// Reads q, state, sort, page, size, cq, cpage; anything else, or a bad value, is an error
// (the message names the parameter).
bool parse_dashboard_query(std::string_view query, DashboardQuery& out, std::string& error);

struct DashboardInputs {
  const registry::Registry& registry;
  const TrafficWindow& window;
  boost::json::object health;
  std::vector<observe::RecentError> errors;  // any order; the newest 20 are shown
  registry::Millis now = 0;
};

boost::json::object build_snapshot(const DashboardInputs& in, const DashboardQuery& q);

// Totals of one route's traffic counters.
TrafficTotals totals_of(const registry::Route& r);

}  // namespace sg::admin
