#include "proxy/holds.h"

#include <algorithm>

namespace sg::proxy {

void WakeGate::set_limits(const Limits& l) {
  std::lock_guard lock(mu_);
  lim_ = l;
}

WakeGate::Limits WakeGate::limits() const {
  std::lock_guard lock(mu_);
  return lim_;
}

WakeGate::Entry WakeGate::enter(const std::string& session, size_t bytes) {
  std::lock_guard lock(mu_);
  if (held_ >= lim_.total || bytes_ + bytes > lim_.bytes) return Entry::kFull;
  size_t& mine = per_session_[session];
  if (mine >= lim_.per_session) return Entry::kSessionFull;  // per_session >= 1: mine > 0
  ++mine;
  ++held_;
  bytes_ += bytes;
  return Entry::kHeld;
}

void WakeGate::leave(const std::string& session, size_t bytes) {
  std::lock_guard lock(mu_);
  auto it = per_session_.find(session);
  if (it != per_session_.end() && --it->second == 0) per_session_.erase(it);
  --held_;
  bytes_ -= bytes;
}

size_t WakeGate::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

void Holds::remove(const std::string& session, HeldRequest* h) {
  auto it = map_.find(session);
  if (it == map_.end()) return;
  auto& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), h), list.end());
  if (list.empty()) map_.erase(it);
}

void Holds::notify(const std::string& session, const registry::Route* route) {
  auto it = map_.find(session);
  if (it == map_.end()) return;
  if (!route || registry::state_of(*route, registry::now_ms()) != registry::RouteState::kReady) {
    for (HeldRequest* h : it->second) h->timer.cancel();
    return;
  }
  size_t going = 0;
  for (HeldRequest* h : it->second) {
    if (h->released) ++going;
  }
  for (HeldRequest* h : it->second) {
    if (going >= kReleaseAtOnce) break;
    if (h->released) continue;
    h->released = true;
    h->timer.cancel();
    ++going;
  }
}

void Holds::wake_all(const std::string& session) {
  auto it = map_.find(session);
  if (it == map_.end()) return;
  for (HeldRequest* h : it->second) h->timer.cancel();
}

void Holds::release_next(const std::string& session) {
  auto it = map_.find(session);
  if (it == map_.end()) return;
  for (HeldRequest* h : it->second) {
    if (!h->released) {
      h->released = true;
      h->timer.cancel();
      return;
    }
  }
}

void Holds::fail(const std::string& session, const std::string& reason) {
  auto it = map_.find(session);
  if (it == map_.end()) return;
  for (HeldRequest* h : it->second) {
    h->signal = HeldRequest::Signal::kFailed;
    h->failure = reason;
    h->timer.cancel();
  }
}

void Holds::cut_all() {
  for (auto& [id, list] : map_) {
    for (HeldRequest* h : list) {
      h->signal = HeldRequest::Signal::kCut;
      h->timer.cancel();
    }
  }
}

size_t Holds::size() const {
  size_t n = 0;
  for (const auto& [id, list] : map_) n += list.size();
  return n;
}

}  // namespace sg::proxy
