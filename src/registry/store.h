// The registry's storage interface. Implementations: SqliteStore (embedded, default) and, for
// several router instances, a Redis store. Every acknowledged write is durable, and every write
// is announced on the change stream after it is durable.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/stat.h"
#include "registry/records.h"

namespace sg::registry {

struct Change {
  enum class Kind : uint8_t { kContainerPut, kContainerDeleted, kSessionPut, kSessionDeleted };
  Kind kind;
  std::string id;
  std::optional<Container> container;  // for kContainerPut
  std::optional<Session> session;      // for kSessionPut
  uint64_t version = 0;
};

struct StoreError {
  std::string message;  // empty = success
  // The store did not answer in time: a write may or may not have been applied. Every write
  // is idempotent (put the whole record, delete by id), so retrying it is safe.
  bool timed_out = false;
  explicit operator bool() const { return !message.empty(); }
};

struct SessionQuery {
  std::string label_key;  // filter: labels[label_key] == label_value, when key is set
  std::string label_value;
  std::string after;  // paging: ids strictly greater than this
  size_t limit = 100;
};

// The whole registry as read at one time, for a resync.
struct Snapshot {
  std::vector<Container> containers;
  std::vector<Session> sessions;
  uint64_t version = 0;  // read before the records
  std::string epoch;     // the identity of the store's history ("" before it has one)
  std::string reason;    // why it was taken
  int64_t took_ms = 0;
  // The store's history restarted (new epoch, or its version went back): versions are not
  // comparable with what the reader holds, and the snapshot replaces everything.
  bool reset = false;
  std::string previous_epoch;
};

struct Expiry {
  enum class Outcome : uint8_t { kGone, kLive, kIdle, kExpired };
  std::string id;
  Outcome outcome = Outcome::kGone;
  Millis last_active_at = 0;  // for kLive: the store's newest activity
};

class Store {
 public:
  virtual ~Store() = default;

  // Registers (or re-registers) a container: the store assigns generation = previous + 1 and
  // the timestamps; `c` is updated with what was stored.
  virtual StoreError put_container(Container& c) = 0;
  virtual StoreError heartbeat(const std::string& id, Millis now, Container& out, bool& found) = 0;
  virtual StoreError delete_container(const std::string& id, bool& found) = 0;
  virtual StoreError get_container(const std::string& id, std::optional<Container>& out) = 0;
  virtual StoreError list_containers(std::vector<Container>& out) = 0;

  virtual StoreError put_session(Session& s) = 0;
  virtual StoreError delete_session(const std::string& id, bool& found) = 0;
  virtual StoreError get_session(const std::string& id, std::optional<Session>& out) = 0;
  virtual StoreError list_sessions(const SessionQuery& q, std::vector<Session>& out) = 0;
  // Batched activity: raises last_active_at (never lowers it). Not announced as changes.
  virtual StoreError touch_sessions(const std::vector<std::pair<std::string, Millis>>& seen) = 0;

  // Deletes each candidate that is due by the store's own record (expires_at passed, or idle
  // for idle_ttl by the newest activity any router reported), atomically per session, so with
  // several routers sweeping the same store exactly one of them deletes a session.
  virtual StoreError expire_sessions(const std::vector<std::string>& ids, Millis now,
                                     std::vector<Expiry>& out) = 0;

  // A short lease on `name` (a wake or sleep of one session across every router sharing the
  // store): `acquired` when no other owner holds it unexpired; the lease then ends after `ttl`
  // by itself (a router that dies holding it blocks nobody for long). Not announced.
  virtual StoreError acquire_lease(const std::string& name, const std::string& owner, Millis ttl,
                                   Millis now, bool& acquired) = 0;
  // Ends the lease on `name` if `owner` holds it (the work it guarded is done); a lease taken
  // over by another owner is left alone. Not announced.
  virtual StoreError release_lease(const std::string& name, const std::string& owner) = 0;

  // True when the store answers a trivial query now.
  virtual bool ping() = 0;

  // Whole registry, for building a route table at start or after a gap. `version` is the
  // store's change version read before the records (every change it holds is <= version or
  // is seen in the records).
  virtual StoreError load_all(std::vector<Container>& containers, std::vector<Session>& sessions,
                              uint64_t& version) = 0;

  // Numbers only this kind of store has (calls, retries, throttling), read when /metrics is
  // scraped from any thread.
  virtual std::vector<Stat> stats() const { return {}; }

  // Called after each durable write, on the writing thread.
  void on_change(std::function<void(const Change&)> f) { listener_ = std::move(f); }

 protected:
  void announce(const Change& c) {
    if (listener_) listener_(c);
  }

 private:
  std::function<void(const Change&)> listener_;
};

}  // namespace sg::registry
