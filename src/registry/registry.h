// The control plane's view of the registry: it writes through the Store, mirrors what the
// store holds, derives routes and hands every route change to a sink (which publishes it to
// the workers). It also merges activity reports and sweeps expired sessions.
// Single-threaded: used only from the control-plane thread. Store calls may run elsewhere (the
// StorePool): the store's change announcements then reach the registry through `dispatch`,
// which runs them on the control-plane thread in the order they were made.
#pragma once

#include <algorithm>
#include <deque>
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
  StoreError error;
};

struct ResyncResult {
  size_t containers_changed = 0;
  size_t sessions_changed = 0;  // put or deleted
  bool reset = false;           // the snapshot replaced a store history that restarted
};

class Registry {
 public:
  using Sink = std::function<void(const std::string& session_id, RoutePtr route)>;

  using Dispatch = std::function<void(std::function<void()>)>;

  // Without `dispatch`, announcements are applied on the writing thread (single-threaded use).
  Registry(Store& store, Sink sink, Dispatch dispatch = nullptr);

  // Loads the whole store; returns every route (for the workers' initial tables).
  std::vector<RoutePtr> load(StoreError& error);

  // For a store shared with other routers (changes also arrive from a feed, possibly after
  // this router's own writes were applied): remember deletions until the feed has passed
  // them, so a late older change cannot resurrect a deleted record.
  void track_tombstones() { tombstones_enabled_ = true; }
  // A change from the shared store's feed (in version order).
  void apply_feed(const Change& c);
  // Brings the mirror to a snapshot: every record newer in the snapshot is applied, records
  // the snapshot no longer holds are deleted, and only what differs reaches the sink.
  ResyncResult apply_snapshot(const Snapshot& s);

  Store& store() { return store_; }

  // What the mirror knows of one session, for the dashboard (read on this thread only).
  struct SessionView {
    const std::string& id;
    const RoutePtr& route;
    Millis last_active_at;  // the newest of the store's and the activity not yet written
    Millis expires_at;
    Millis idle_ttl;
  };
  template <class F>
  void for_each_session(F&& f) const {
    for (const auto& [id, life] : sessions_) {
      Millis active = life.last_active_at;
      if (auto p = pending_activity_.find(id); p != pending_activity_.end()) {
        active = std::max(active, p->second);
      }
      f(SessionView{id, life.route, active, life.expires_at, life.idle_ttl});
    }
  }
  const std::unordered_map<std::string, Container>& containers() const { return containers_; }
  size_t sessions_on(const std::string& container_id) const {
    auto it = by_container_.find(container_id);
    return it == by_container_.end() ? 0 : it->second.size();
  }
  RoutePtr route(const std::string& session_id) const;
  size_t route_count() const { return sessions_.size(); }

  // Activity seen by the data plane; written to the store in one batch by flush_activity().
  void record_activity(const std::string& session_id, Millis at);
  StoreError flush_activity();  // take_activity + the store call + restore on failure
  // The activity not yet written, for a store call made elsewhere; give it back if that fails.
  std::vector<std::pair<std::string, Millis>> take_activity();
  void restore_activity(const std::vector<std::pair<std::string, Millis>>& batch);

  // Deletes sessions past their idle_ttl or expires_at (through the store, so the deletion
  // is durable and announced like any other): due + the store call + finish_sweep.
  SweepResult sweep(Millis now);
  // The sessions due by the mirror's record (the store decides by its own).
  std::vector<std::string> due(Millis now) const;
  // What the store decided for them.
  SweepResult finish_sweep(const std::vector<Expiry>& results, StoreError error);

  // Containers that may sleep: ready, and every session on them without activity for its own
  // sleep_after, or `after` (the router's default; 0 = never) when it has none (activity
  // older than `floor` counts as at `floor`: this router's start). Each as (container id, one
  // of its sessions).
  std::vector<std::pair<std::string, std::string>> sleepy(Millis now, Millis after,
                                                          Millis floor) const;

 private:
  // `force`: apply even when not newer (a reset snapshot's deletions).
  void apply(const Change& c, bool force = false);
  // False when the mirror already holds this change or a newer one (or a newer deletion).
  bool is_newer(const Change& c) const;
  void prune_tombstones(uint64_t through);
  void rebuild(const std::string& session_id);

  // What the control plane keeps per session: only what routes, expiry and versions need
  // (labels and timestamps stay in the store), plus the route the workers hold.
  struct SessionLife {
    std::string container_id;
    RoutePtr route;
    uint64_t link_epoch = 0;
    Millis idle_ttl = 0;
    Millis expires_at = 0;
    Millis last_active_at = 0;
    Millis sleep_after = 0;  // 0: the router's default, -1: never
    uint64_t version = 0;
    RouteAccess access = RouteAccess::kDefault;
  };
  static SessionLife life_of(const Session& s) {
    SessionLife l;
    l.container_id = s.container_id;
    l.link_epoch = s.link_epoch;
    l.idle_ttl = s.idle_ttl;
    l.expires_at = s.expires_at;
    l.last_active_at = s.last_active_at;
    l.sleep_after = s.sleep_after;
    l.version = s.version;
    l.access = s.access == "link"     ? RouteAccess::kLink
               : s.access == "public" ? RouteAccess::kPublic
                                      : RouteAccess::kDefault;
    return l;
  }

  Store& store_;
  Sink sink_;
  Dispatch dispatch_;
  std::unordered_map<std::string, Container> containers_;
  std::unordered_map<std::string, SessionLife> sessions_;
  // Sessions that can expire at all (idle_ttl or expires_at set): the only ones a sweep visits,
  // so a large registry of long-lived sessions costs nothing per sweep.
  std::unordered_set<std::string> expiring_;
  void track_expiry(const std::string& id, const SessionLife& life);
  std::unordered_map<std::string, std::unordered_set<std::string>> by_container_;
  // Containers deleted while sessions still name them (bounded by those sessions): their
  // routes say so until the container registers again or the sessions move or end.
  std::unordered_set<std::string> deleted_containers_;
  // Drops a container's (now empty) set of sessions, and what is remembered about it.
  void forget_container_sessions(
      std::unordered_map<std::string, std::unordered_set<std::string>>::iterator it);
  std::unordered_map<std::string, Millis> pending_activity_;
  bool tombstones_enabled_ = false;
  // Key: 'c' or 's' + id -> version of the deletion; the deque holds them in version order.
  std::unordered_map<std::string, uint64_t> tombstones_;
  std::deque<std::pair<uint64_t, std::string>> tombstone_order_;
};

}  // namespace sg::registry
