#include "registry/route.h"

namespace sg::registry {

RouteState state_of(const Route& r, Millis now) {
  if (!r.has_container) {
    return r.container_deleted ? RouteState::kContainerDeleted : RouteState::kNoContainer;
  }
  switch (r.status) {
    case ContainerStatus::kStarting:
      return RouteState::kStarting;
    case ContainerStatus::kStopped:
      return RouteState::kStopped;
    case ContainerStatus::kFailed:
      return RouteState::kFailed;
    case ContainerStatus::kSleeping:
      return RouteState::kSleeping;
    case ContainerStatus::kReady:
    case ContainerStatus::kDraining:
      return now < r.lease_deadline ? RouteState::kReady : RouteState::kLeaseExpired;
  }
  return RouteState::kFailed;
}

std::string_view to_string(RouteState s) {
  switch (s) {
    case RouteState::kReady:
      return "ready";
    case RouteState::kNoContainer:
      return "no_container";
    case RouteState::kStarting:
      return "starting";
    case RouteState::kStopped:
      return "stopped";
    case RouteState::kFailed:
      return "failed";
    case RouteState::kLeaseExpired:
      return "lease_expired";
    case RouteState::kSleeping:
      return "sleeping";
    case RouteState::kContainerDeleted:
      return "container_deleted";
  }
  return "unknown";
}

RoutePtr RouteTable::set(std::string_view session_id, RoutePtr r) {
  RoutePtr old;
  auto it = map_.find(session_id);
  if (it != map_.end()) {
    old = std::move(it->second);
    map_.erase(it);  // the key views the old route's id: erase before it can dangle
  }
  if (r) {
    std::string_view key = r->session_id;
    map_.emplace(key, std::move(r));
  }
  return old;
}

void RouteTable::replace_all(const std::vector<RoutePtr>& routes) {
  map_.clear();
  map_.reserve(routes.size());
  for (const auto& r : routes) map_.emplace(std::string_view(r->session_id), r);
}

}  // namespace sg::registry
