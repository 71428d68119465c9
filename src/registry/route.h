// A route: what a request for a session reaches. Built by the control plane from a session and
// its container, published to every worker, and read there without locks.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "registry/records.h"

namespace sg::registry {

// A session's access mode as the data plane needs it (one byte instead of the stored string).
enum class RouteAccess : uint8_t { kDefault, kPublic, kLink };

// A session's traffic since this router started, counted by the workers (relaxed atomics:
// totals, not a sequence) and carried from each route to the next one of the same session.
struct RouteTraffic {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> errors{0};  // answered 5xx (the router's own 502/504 included)
  std::atomic<uint64_t> bytes{0};   // to the client
  std::atomic<int64_t> tunnels{0};  // open now
};

struct Route {
  std::string session_id;
  std::string container_id;
  // The small fields sit together: one padded word instead of two.
  bool has_container = false;
  // No container, because it was deleted while this router ran (not one that never
  // registered): nothing is starting, so requests get the unavailable page, not the
  // starting page reloading forever.
  bool container_deleted = false;
  ContainerStatus status = ContainerStatus::kStarting;
  RouteAccess access = RouteAccess::kDefault;
  boost::asio::ip::tcp::endpoint address;
  std::string address_text;
  // 32-bit copies of the stored 64-bit counters (4 billion re-registrations or revocations
  // per session are not a concern); they keep a route in a smaller allocation size class.
  uint32_t generation = 0;
  uint32_t link_epoch = 0;
  Millis lease_deadline = 0;  // the container counts as alive only before this
  // When a worker last reported activity for this session: the only mutable field, so the
  // per-request throttle is one relaxed load instead of a hash lookup.
  mutable std::atomic<int64_t> activity_reported{0};
  std::shared_ptr<RouteTraffic> traffic;  // never null in a route the registry built
};
using RoutePtr = std::shared_ptr<const Route>;

// A tunnel opened (+1) or closed (-1) on a session's route.
inline void count_tunnel(const Route* r, int64_t delta) {
  if (r && r->traffic) r->traffic->tunnels.fetch_add(delta, std::memory_order_relaxed);
}

// What a request finds at a route right now.
enum class RouteState : uint8_t {
  kReady,        // forward
  kNoContainer,  // the session's container has not registered yet: starting page
  kStarting,     // registered, not ready yet: starting page
  kStopped,      // stopped or failed: unavailable page
  kFailed,
  kLeaseExpired,  // missed heartbeats: unavailable page, data kept
  kSleeping,      // stopped on purpose while idle: a request wakes it (or gets the starting page)
  kContainerDeleted,  // its container was deleted: unavailable page (or woken, with wake)
};
// A request may wake the container and wait for it: it sleeps, stopped, or never registered.
inline bool wakeable(RouteState s) {
  return s == RouteState::kSleeping || s == RouteState::kStopped || s == RouteState::kNoContainer ||
         s == RouteState::kContainerDeleted;
}
RouteState state_of(const Route& r, Millis now);
std::string_view to_string(RouteState s);

// Per-worker session -> route map. Single-threaded: owned by one worker.
class RouteTable {
 public:
  const Route* find(std::string_view session_id) const {
    auto it = map_.find(session_id);
    return it == map_.end() ? nullptr : it->second.get();
  }
  RoutePtr find_shared(std::string_view session_id) const {
    auto it = map_.find(session_id);
    return it == map_.end() ? nullptr : it->second;
  }
  // Installs `r` (or removes the session when `r` is null); returns the previous route.
  RoutePtr set(std::string_view session_id, RoutePtr r);
  void replace_all(const std::vector<RoutePtr>& routes);
  size_t size() const { return map_.size(); }

 private:
  // Keys view the session id inside the route they map to.
  std::unordered_map<std::string_view, RoutePtr> map_;
};

}  // namespace sg::registry
