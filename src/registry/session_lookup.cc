#include "registry/session_lookup.h"

namespace sg::registry {

SessionLookup::Ask SessionLookup::ask(const std::string& id, Millis now) {
  {
    std::lock_guard lock(mu_);
    if (auto it = missing_until_.find(id); it != missing_until_.end()) {
      if (now < it->second) {
        cached_.fetch_add(1, std::memory_order_relaxed);
        return Ask::kMissing;
      }
      missing_until_.erase(it);
    }
    if (auto it = pending_.find(id); it != pending_.end()) {
      // A lookup whose answer never came (the feed was cut meanwhile) must not hold the id
      // forever: after twice the timeout it may start again.
      if (now - it->second < 2 * lim_.timeout.count()) return Ask::kWait;
      pending_.erase(it);
    }
    if (pending_.size() >= lim_.max_pending) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return Ask::kFull;
    }
    pending_.emplace(id, now);
  }
  if (fetch_(id)) return Ask::kWait;
  failed_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  pending_.erase(id);
  return Ask::kMissing;
}

void SessionLookup::done(const std::string& id, Result r, Millis now) {
  {
    std::lock_guard lock(mu_);
    pending_.erase(id);
    if (r == Result::kMissing) {
      if (missing_until_.size() >= kMaxRemembered) missing_until_.clear();
      missing_until_[id] = now + lim_.negative_ttl.count();
    }
  }
  std::atomic<uint64_t>& n = r == Result::kFound     ? found_
                             : r == Result::kMissing ? not_found_
                                                     : failed_;
  n.fetch_add(1, std::memory_order_relaxed);
  ended_(id, r == Result::kFound);
}

std::vector<Stat> SessionLookup::stats() const {
  auto v = [](const std::atomic<uint64_t>& a) {
    return static_cast<double>(a.load(std::memory_order_relaxed));
  };
  const char* help =
      "Unknown sessions looked up in the store on demand, by result (cached: found missing a "
      "moment ago, answered 404 without a read; failed: the read failed or the feed is down; "
      "refused: lookup_max_pending already under way).";
  return {
      {"store_lookups_total", help, true, v(found_), "result=\"found\""},
      {"store_lookups_total", help, true, v(not_found_), "result=\"missing\""},
      {"store_lookups_total", help, true, v(failed_), "result=\"failed\""},
      {"store_lookups_total", help, true, v(cached_), "result=\"cached\""},
      {"store_lookups_total", help, true, v(refused_), "result=\"refused\""},
  };
}

}  // namespace sg::registry
