#include "registry/registry.h"

#include <algorithm>

namespace sg::registry {

Registry::Registry(Store& store, Sink sink, Dispatch dispatch)
    : store_(store), sink_(std::move(sink)), dispatch_(std::move(dispatch)) {
  store_.on_change([this](const Change& c) {
    if (!dispatch_) {
      apply(c);
      return;
    }
    dispatch_([this, c] { apply(c); });
  });
}

std::vector<RoutePtr> Registry::load(StoreError& error) {
  std::vector<Container> containers;
  std::vector<Session> sessions;
  uint64_t version = 0;
  error = store_.load_all(containers, sessions, version);
  if (error) return {};
  containers_.clear();
  sessions_.clear();
  expiring_.clear();
  by_container_.clear();
  deleted_containers_.clear();
  for (auto& c : containers) containers_[c.id] = std::move(c);
  std::vector<RoutePtr> out;
  out.reserve(sessions.size());
  sessions_.reserve(sessions.size());
  for (auto& s : sessions) {
    sessions_[s.id] = life_of(s);
    track_expiry(s.id, sessions_[s.id]);
    by_container_[s.container_id].insert(s.id);
    Sink saved = std::move(sink_);
    sink_ = nullptr;
    rebuild(s.id);
    sink_ = std::move(saved);
    out.push_back(sessions_[s.id].route);
  }
  return out;
}

RoutePtr Registry::route(const std::string& session_id) const {
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : it->second.route;
}

void Registry::rebuild(const std::string& session_id) {
  auto s = sessions_.find(session_id);
  RoutePtr next;
  if (s != sessions_.end()) {
    auto r = std::make_shared<Route>();
    r->session_id = session_id;
    r->container_id = s->second.container_id;
    r->access = s->second.access;
    r->link_epoch = static_cast<uint32_t>(s->second.link_epoch);
    const RoutePtr& before = s->second.route;
    r->traffic = before ? before->traffic : std::make_shared<RouteTraffic>();
    auto c = containers_.find(s->second.container_id);
    if (c == containers_.end()) {
      r->container_deleted = deleted_containers_.contains(s->second.container_id);
    } else {
      r->has_container = true;
      r->status = c->second.status;
      r->address = c->second.address;
      r->address_text = c->second.address_text;
      r->generation = static_cast<uint32_t>(c->second.generation);
      r->lease_deadline = c->second.heartbeat_at + c->second.lease_ttl;
    }
    next = std::move(r);
    s->second.route = next;
  }
  if (sink_) sink_(session_id, next);
}

void Registry::forget_container_sessions(
    std::unordered_map<std::string, std::unordered_set<std::string>>::iterator it) {
  deleted_containers_.erase(it->first);
  by_container_.erase(it);
}

bool Registry::is_newer(const Change& c) const {
  const bool container =
      c.kind == Change::Kind::kContainerPut || c.kind == Change::Kind::kContainerDeleted;
  if (container) {
    auto it = containers_.find(c.id);
    if (it != containers_.end()) return c.version > it->second.version;
  } else {
    auto it = sessions_.find(c.id);
    if (it != sessions_.end()) return c.version > it->second.version;
  }
  if (tombstones_.empty()) return true;
  auto t = tombstones_.find((container ? "c" : "s") + c.id);
  return t == tombstones_.end() || c.version > t->second;
}

void Registry::prune_tombstones(uint64_t through) {
  while (!tombstone_order_.empty() && tombstone_order_.front().first <= through) {
    auto t = tombstones_.find(tombstone_order_.front().second);
    if (t != tombstones_.end() && t->second <= through) tombstones_.erase(t);
    tombstone_order_.pop_front();
  }
}

void Registry::apply_feed(const Change& c) {
  apply(c);
  prune_tombstones(c.version);
}

void Registry::apply(const Change& c, bool force) {
  if (!force && !is_newer(c)) return;
  const bool deletion =
      c.kind == Change::Kind::kContainerDeleted || c.kind == Change::Kind::kSessionDeleted;
  if (deletion && tombstones_enabled_) {
    std::string key = (c.kind == Change::Kind::kContainerDeleted ? "c" : "s") + c.id;
    tombstones_[key] = c.version;
    tombstone_order_.emplace_back(c.version, std::move(key));
  }
  switch (c.kind) {
    case Change::Kind::kContainerPut: {
      containers_[c.id] = *c.container;
      deleted_containers_.erase(c.id);
      auto it = by_container_.find(c.id);
      if (it != by_container_.end()) {
        for (const auto& sid : it->second) rebuild(sid);
      }
      break;
    }
    case Change::Kind::kContainerDeleted: {
      containers_.erase(c.id);
      auto it = by_container_.find(c.id);
      if (it != by_container_.end()) {
        deleted_containers_.insert(c.id);
        for (const auto& sid : it->second) rebuild(sid);
      }
      break;
    }
    case Change::Kind::kSessionPut: {
      const Session& s = *c.session;
      auto old = sessions_.find(s.id);
      if (old != sessions_.end() && old->second.container_id != s.container_id) {
        auto set = by_container_.find(old->second.container_id);
        if (set != by_container_.end()) {
          set->second.erase(s.id);
          if (set->second.empty()) forget_container_sessions(set);
        }
      }
      sessions_[s.id] = life_of(s);
      track_expiry(s.id, sessions_[s.id]);
      by_container_[s.container_id].insert(s.id);
      rebuild(s.id);
      break;
    }
    case Change::Kind::kSessionDeleted: {
      auto old = sessions_.find(c.id);
      if (old != sessions_.end()) {
        auto set = by_container_.find(old->second.container_id);
        if (set != by_container_.end()) {
          set->second.erase(c.id);
          if (set->second.empty()) forget_container_sessions(set);
        }
        sessions_.erase(old);
      }
      expiring_.erase(c.id);
      pending_activity_.erase(c.id);
      rebuild(c.id);
      break;
    }
  }
}

std::vector<std::pair<std::string, std::string>> Registry::sleepy(Millis now, Millis after,
                                                                  Millis floor) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [container_id, ids] : by_container_) {
    auto c = containers_.find(container_id);
    if (c == containers_.end() || c->second.status != ContainerStatus::kReady || ids.empty()) {
      continue;
    }
    bool idle = true;
    for (const auto& id : ids) {
      auto s = sessions_.find(id);
      if (s == sessions_.end()) continue;
      const Millis limit = s->second.sleep_after != 0 ? s->second.sleep_after : after;
      if (limit <= 0 || std::max(s->second.last_active_at, floor) + limit > now) {
        idle = false;
        break;
      }
    }
    if (idle) out.emplace_back(container_id, *ids.begin());
  }
  return out;
}

void Registry::record_activity(const std::string& session_id, Millis at) {
  auto s = sessions_.find(session_id);
  if (s == sessions_.end()) return;
  if (at > s->second.last_active_at) {
    s->second.last_active_at = at;
    auto& p = pending_activity_[session_id];
    p = std::max(p, at);
  }
}

StoreError Registry::flush_activity() {
  auto batch = take_activity();
  if (batch.empty()) return {};
  StoreError err = store_.touch_sessions(batch);
  if (err) restore_activity(batch);
  return err;
}

std::vector<std::pair<std::string, Millis>> Registry::take_activity() {
  std::vector<std::pair<std::string, Millis>> batch(pending_activity_.begin(),
                                                    pending_activity_.end());
  pending_activity_.clear();
  return batch;
}

void Registry::restore_activity(const std::vector<std::pair<std::string, Millis>>& batch) {
  for (const auto& [id, at] : batch) {
    Millis& m = pending_activity_[id];
    m = std::max(m, at);
  }
}

void Registry::track_expiry(const std::string& id, const SessionLife& life) {
  if (life.idle_ttl > 0 || life.expires_at > 0) {
    expiring_.insert(id);
  } else {
    expiring_.erase(id);
  }
}

ResyncResult Registry::apply_snapshot(const Snapshot& snap) {
  ResyncResult out;
  if (snap.reset) {
    // The store's versions restarted: ours are from another history and would make every
    // record of the new one look old. Forget them (and the deletions they guard); below,
    // every record of the snapshot is then newer and everything else is gone.
    for (auto& [id, c] : containers_) c.version = 0;
    for (auto& [id, s] : sessions_) s.version = 0;
    tombstones_.clear();
    tombstone_order_.clear();
    out.reset = true;
  }
  std::unordered_set<std::string_view> present;
  present.reserve(snap.containers.size());
  for (const auto& c : snap.containers) {
    present.insert(c.id);
    Change ch{Change::Kind::kContainerPut, c.id, c, std::nullopt, c.version};
    if (is_newer(ch)) {
      apply(ch);
      ++out.containers_changed;
    }
  }
  std::vector<std::string> gone;
  for (const auto& [id, c] : containers_) {
    if (!present.contains(id) && c.version <= snap.version) gone.push_back(id);
  }
  // After a reset the deletion's version (the new history's) may be no higher than ours.
  for (auto& id : gone) {
    apply(
        {Change::Kind::kContainerDeleted, std::move(id), std::nullopt, std::nullopt, snap.version},
        snap.reset);
    ++out.containers_changed;
  }
  present.clear();
  present.reserve(snap.sessions.size());
  for (const auto& s : snap.sessions) {
    present.insert(s.id);
    Change ch{Change::Kind::kSessionPut, s.id, std::nullopt, s, s.version};
    if (is_newer(ch)) {
      apply(ch);
      ++out.sessions_changed;
    } else if (auto it = sessions_.find(s.id); it != sessions_.end()) {
      // Activity other routers reported is not a change; take it here.
      it->second.last_active_at = std::max(it->second.last_active_at, s.last_active_at);
    }
  }
  gone.clear();
  for (const auto& [id, life] : sessions_) {
    if (!present.contains(id) && life.version <= snap.version) gone.push_back(id);
  }
  for (auto& id : gone) {
    apply({Change::Kind::kSessionDeleted, std::move(id), std::nullopt, std::nullopt, snap.version},
          snap.reset);
    ++out.sessions_changed;
  }
  prune_tombstones(snap.version);
  return out;
}

std::vector<std::string> Registry::due(Millis now) const {
  std::vector<std::string> out;
  for (const auto& id : expiring_) {
    const SessionLife& life = sessions_.at(id);
    if ((life.expires_at > 0 && now >= life.expires_at) ||
        (life.idle_ttl > 0 && now - life.last_active_at >= life.idle_ttl)) {
      out.push_back(id);
    }
  }
  return out;
}

SweepResult Registry::sweep(Millis now) {
  std::vector<std::string> ids = due(now);
  if (ids.empty()) return {};
  // The store decides by its own record (other routers may have seen activity we did not),
  // deletes atomically, and announces each deletion, which updates our maps.
  std::vector<Expiry> results;
  StoreError error = store_.expire_sessions(ids, now, results);
  return finish_sweep(results, std::move(error));
}

SweepResult Registry::finish_sweep(const std::vector<Expiry>& results, StoreError error) {
  SweepResult out;
  out.error = std::move(error);
  for (const auto& r : results) {
    switch (r.outcome) {
      case Expiry::Outcome::kIdle:
        out.idle.push_back(r.id);
        break;
      case Expiry::Outcome::kExpired:
        out.expired.push_back(r.id);
        break;
      case Expiry::Outcome::kLive:
        if (auto it = sessions_.find(r.id); it != sessions_.end()) {
          it->second.last_active_at = std::max(it->second.last_active_at, r.last_active_at);
        }
        break;
      case Expiry::Outcome::kGone:  // deleted elsewhere; the change feed brings the deletion
        break;
    }
  }
  return out;
}

}  // namespace sg::registry
