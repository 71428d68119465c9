// Sessions a request asked for that the route table does not have yet, looked up in the store
// on demand. With a store that others write (the platform puts a thread's mapping into
// DynamoDB and sends the person to the preview at once), the item is usually there before the
// feed's next whole-table scan: rather than a 404 until then, the request waits a moment while
// the feed reads that one item. One lookup per session at a time across every worker (single
// flight); a session found missing is answered 404 at once for negative_ttl (a flood of made-up
// ids costs one read per id per negative_ttl, at most max_pending at a time).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/stat.h"
#include "registry/records.h"

namespace sg::registry {

class SessionLookup {
 public:
  struct Limits {
    std::chrono::milliseconds timeout{2000};       // a request waits this long at most
    std::chrono::milliseconds negative_ttl{2000};  // "not there" is remembered this long
    size_t max_pending = 1000;                     // ids being looked up at once
    bool operator==(const Limits&) const = default;
  };
  // Starts a lookup of `id` (never blocks: the feed's thread does the read). False when it
  // cannot be started now (the feed is not connected).
  using Fetch = std::function<bool(const std::string& id)>;
  // A lookup ended: found, its waiters look at the route table again (the route is there by
  // now, or arrives with its own change); else they answer 404 now.
  using Ended = std::function<void(const std::string& id, bool found)>;

  SessionLookup(Limits l, Fetch fetch, Ended ended)
      : lim_(l), fetch_(std::move(fetch)), ended_(std::move(ended)) {}

  enum class Ask : uint8_t { kWait, kMissing, kFull };
  // From any worker: kWait = a lookup is under way (this call may have started it); wait for
  // the route or for missing(). kMissing: found missing a moment ago, or the lookup could not
  // start. kFull: max_pending lookups already under way.
  Ask ask(const std::string& id, Millis now);
  // When the read is done, after the change a found session makes has been applied. kFailed
  // (the read failed) is not remembered, but its waiters answer now.
  enum class Result : uint8_t { kFound, kMissing, kFailed };
  void done(const std::string& id, Result r, Millis now);

  Limits limits() const {
    std::lock_guard lock(mu_);
    return lim_;
  }
  std::vector<Stat> stats() const;

 private:
  static constexpr size_t kMaxRemembered = 100'000;  // missing ids kept (then forgotten at once)

  mutable std::mutex mu_;
  Limits lim_;
  Fetch fetch_;
  Ended ended_;
  std::unordered_map<std::string, Millis> pending_;  // id -> started at
  std::unordered_map<std::string, Millis> missing_until_;
  std::atomic<uint64_t> found_{0}, not_found_{0}, failed_{0}, cached_{0}, refused_{0};
};

}  // namespace sg::registry
