// The shared store for several router instances: the registry lives in Redis, every write is
// one Lua script (atomic, versioned, published on `<prefix>changes`), and reads page through
// sorted-set indexes. Calls block the calling thread (never a data-plane thread) for at most
// the configured timeouts; while Redis is unreachable, calls fail fast between reconnection
// attempts (backoff 100 ms doubling to 5 s) instead of each waiting out a timeout.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "registry/redis_connection.h"
#include "registry/store.h"

namespace sg::registry {

class RedisStore final : public Store {
 public:
  RedisStore(RedisEndpoint endpoint, std::string prefix);

  StoreError put_container(Container& c) override;
  StoreError heartbeat(const std::string& id, Millis now, Container& out, bool& found) override;
  StoreError delete_container(const std::string& id, bool& found) override;
  StoreError get_container(const std::string& id, std::optional<Container>& out) override;
  StoreError list_containers(std::vector<Container>& out) override;

  StoreError put_session(Session& s) override;
  StoreError delete_session(const std::string& id, bool& found) override;
  StoreError get_session(const std::string& id, std::optional<Session>& out) override;
  StoreError list_sessions(const SessionQuery& q, std::vector<Session>& out) override;
  StoreError touch_sessions(const std::vector<std::pair<std::string, Millis>>& seen) override;
  StoreError expire_sessions(const std::vector<std::string>& ids, Millis now,
                             std::vector<Expiry>& out) override;

  StoreError load_all(std::vector<Container>& containers, std::vector<Session>& sessions,
                      uint64_t& version) override;
  bool ping() override;

  const std::string& prefix() const { return prefix_; }

  // The paged whole-registry read, on any connection (the change feed uses its own).
  static StoreError load_from(RedisConnection& conn, const std::string& prefix,
                              std::vector<Container>& containers, std::vector<Session>& sessions,
                              uint64_t& version, std::string* epoch = nullptr);
  // The store's change version (0 before the first write) and, when asked, its epoch.
  static StoreError read_version(RedisConnection& conn, const std::string& prefix,
                                 uint64_t& version, std::string* epoch = nullptr);

 private:
  StoreError delete_record(const char* script, const std::string& id, bool& found);
  static StoreError read_index(RedisConnection& conn, const std::string& prefix, char kind,
                               std::vector<Container>* containers, std::vector<Session>* sessions);
  // A usable connection, or an error (fast while backing off).
  StoreError ready();
  // Runs a write script; on success `reply` holds its result. NOSCRIPT falls back to EVAL.
  StoreError run(const char* script, std::vector<std::string_view> args, Reply& reply);
  // Announces the change message a write script returned; fills the written record.
  StoreError announce_message(const redisReply* r, Change* out);
  StoreError io_error(const std::string& what);
  StoreError fetch_sessions(const std::vector<std::string>& ids, std::vector<Session>& out);

  RedisConnection conn_;
  std::string prefix_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
};

}  // namespace sg::registry
