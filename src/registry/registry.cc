#include "registry/registry.h"

namespace sg::registry {

Registry::Registry(Store& store, Sink sink) : store_(store), sink_(std::move(sink)) {
  store_.on_change([this](const Change& c) { apply(c); });
}

std::vector<RoutePtr> Registry::load() {
  std::vector<Container> containers;
  std::vector<Session> sessions;
  store_.load_all(containers, sessions);
  containers_.clear();
  sessions_.clear();
  expiring_.clear();
  by_container_.clear();
  routes_.clear();
  for (auto& c : containers) containers_[c.id] = std::move(c);
  std::vector<RoutePtr> out;
  out.reserve(sessions.size());
  for (auto& s : sessions) {
    sessions_[s.id] = {s.container_id, s.access,     s.link_epoch,
                       s.idle_ttl,     s.expires_at, s.last_active_at};
    track_expiry(s.id, sessions_[s.id]);
    by_container_[s.container_id].insert(s.id);
    Sink saved = std::move(sink_);
    sink_ = nullptr;
    rebuild(s.id);
    sink_ = std::move(saved);
    out.push_back(routes_[s.id]);
  }
  return out;
}

RoutePtr Registry::route(const std::string& session_id) const {
  auto it = routes_.find(session_id);
  return it == routes_.end() ? nullptr : it->second;
}

void Registry::rebuild(const std::string& session_id) {
  auto s = sessions_.find(session_id);
  RoutePtr next;
  if (s != sessions_.end()) {
    auto r = std::make_shared<Route>();
    r->session_id = session_id;
    r->container_id = s->second.container_id;
    r->access = s->second.access == "link"     ? RouteAccess::kLink
                : s->second.access == "public" ? RouteAccess::kPublic
                                               : RouteAccess::kDefault;
    r->link_epoch = static_cast<uint32_t>(s->second.link_epoch);
    auto c = containers_.find(s->second.container_id);
    if (c != containers_.end()) {
      r->has_container = true;
      r->status = c->second.status;
      r->address = c->second.address;
      r->address_text = c->second.address_text;
      r->generation = static_cast<uint32_t>(c->second.generation);
      r->lease_deadline = c->second.heartbeat_at + c->second.lease_ttl;
    }
    next = std::move(r);
    routes_[session_id] = next;
  } else {
    routes_.erase(session_id);
  }
  if (sink_) sink_(session_id, next);
}

void Registry::apply(const Change& c) {
  switch (c.kind) {
    case Change::Kind::kContainerPut: {
      containers_[c.id] = *c.container;
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
          if (set->second.empty()) by_container_.erase(set);
        }
      }
      sessions_[s.id] = {s.container_id, s.access,     s.link_epoch,
                         s.idle_ttl,     s.expires_at, s.last_active_at};
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
          if (set->second.empty()) by_container_.erase(set);
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
  if (pending_activity_.empty()) return {};
  std::vector<std::pair<std::string, Millis>> batch(pending_activity_.begin(),
                                                    pending_activity_.end());
  StoreError err = store_.touch_sessions(batch);
  if (!err) pending_activity_.clear();
  return err;
}

void Registry::track_expiry(const std::string& id, const SessionLife& life) {
  if (life.idle_ttl > 0 || life.expires_at > 0) {
    expiring_.insert(id);
  } else {
    expiring_.erase(id);
  }
}

SweepResult Registry::sweep(Millis now) {
  SweepResult out;
  for (const auto& id : expiring_) {
    const SessionLife& life = sessions_.at(id);
    if (life.expires_at > 0 && now >= life.expires_at) {
      out.expired.push_back(id);
    } else if (life.idle_ttl > 0 && now - life.last_active_at >= life.idle_ttl) {
      out.idle.push_back(id);
    }
  }
  for (const auto* list : {&out.expired, &out.idle}) {
    for (const auto& id : *list) {
      bool found = false;
      store_.delete_session(id, found);  // announces the deletion, which updates our maps
    }
  }
  return out;
}

}  // namespace sg::registry
