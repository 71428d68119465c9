// The control plane's view of the registry: it writes through the Store, mirrors what the
// store holds, derives routes and hands every route change to a sink (which publishes it to
// the workers). It also merges activity reports and sweeps expired sessions.
// Single-threaded: used only from the control-plane thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "registry/route.h"
#include "registry/store.h"

namespace sg::registry {

struct SweepResult {
  std::vector<std::string> idle;     // removed after idle_ttl without activity
  std::vector<std::string> expired;  // removed at expires_at
};

class Registry {
 public:
  using Sink = std::function<void(const std::string& session_id, RoutePtr route)>;

  Registry(Store& store, Sink sink);

  // Loads the whole store; returns every route (for the workers' initial tables).
  std::vector<RoutePtr> load();

  Store& store() { return store_; }
  RoutePtr route(const std::string& session_id) const;
  size_t route_count() const { return routes_.size(); }

  // Activity seen by the data plane; written to the store in one batch by flush_activity().
  void record_activity(const std::string& session_id, Millis at);
  StoreError flush_activity();

  // Deletes sessions past their idle_ttl or expires_at (through the store, so the deletion
  // is durable and announced like any other).
  SweepResult sweep(Millis now);

 private:
  void apply(const Change& c);
  void rebuild(const std::string& session_id);

  struct SessionLife {
    std::string container_id;
    std::string access;
    uint64_t link_epoch = 0;
    Millis idle_ttl = 0;
    Millis expires_at = 0;
    Millis last_active_at = 0;
  };

  Store& store_;
  Sink sink_;
  std::unordered_map<std::string, Container> containers_;
  std::unordered_map<std::string, SessionLife> sessions_;
  // Sessions that can expire at all (idle_ttl or expires_at set): the only ones a sweep visits,
  // so a large registry of long-lived sessions costs nothing per sweep.
  std::unordered_set<std::string> expiring_;
  void track_expiry(const std::string& id, const SessionLife& life);
  std::unordered_map<std::string, std::unordered_set<std::string>> by_container_;
  std::unordered_map<std::string, RoutePtr> routes_;
  std::unordered_map<std::string, Millis> pending_activity_;
};

}  // namespace sg::registry
