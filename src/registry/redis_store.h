// The shared store for several router instances: the registry lives in Redis, every write is
// one Lua script (atomic, versioned, published on `<prefix>changes`), and reads page through
// sorted-set indexes. Calls block the calling thread (never a data-plane thread, never the
// control plane's loop: they run on the StorePool) for at most the configured timeouts, each on
// a connection of its own from a small pool, so concurrent calls never wait behind each other's
// timeouts. While Redis is unreachable or stops answering, calls fail fast between attempts
// (backoff 100 ms doubling to 5 s) instead of each waiting out a timeout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "registry/redis_connection.h"
#include "registry/store.h"

namespace sg::registry {

class RedisStore final : public Store {
 public:
  // At most `connections` calls run at once (one connection each); more wait for one.
  RedisStore(RedisEndpoint endpoint, std::string prefix, size_t connections = 4);

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
  StoreError acquire_lease(const std::string& name, const std::string& owner, Millis ttl,
                           Millis now, bool& acquired) override;
  StoreError release_lease(const std::string& name, const std::string& owner) override;
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
  // A pooled connection, returned when the call ends.
  class Lease {
   public:
    Lease(RedisStore& s, std::unique_ptr<RedisConnection> c) : store_(s), conn_(std::move(c)) {}
    ~Lease() { store_.give_back(std::move(conn_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    RedisConnection& operator*() { return *conn_; }
    RedisConnection* operator->() { return conn_.get(); }

   private:
    RedisStore& store_;
    std::unique_ptr<RedisConnection> conn_;
  };
  Lease lease();
  void give_back(std::unique_ptr<RedisConnection> c);

  StoreError delete_record(const char* script, const std::string& id, bool& found);
  static StoreError read_index(RedisConnection& conn, const std::string& prefix, char kind,
                               std::vector<Container>* containers, std::vector<Session>* sessions);
  // A usable connection, or an error (fast while backing off).
  StoreError ready(RedisConnection& c);
  // Runs a write script; on success `reply` holds its result. NOSCRIPT falls back to EVAL.
  StoreError run(RedisConnection& c, const char* script, std::vector<std::string_view> args,
                 Reply& reply);
  // Announces the change message a write script returned; fills the written record.
  StoreError announce_message(const redisReply* r, Change* out);
  // After a failed command on `c`: starts the backoff when it timed out.
  StoreError io_error(const RedisConnection& c, const std::string& what);
  void succeeded();
  StoreError fetch_sessions(RedisConnection& c, const std::vector<std::string>& ids,
                            std::vector<Session>& out);

  RedisEndpoint endpoint_;
  std::string prefix_;
  const size_t max_connections_;
  std::mutex pool_mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
  size_t created_ = 0;
  std::mutex state_mu_;  // the backoff, shared by every connection
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
};

}  // namespace sg::registry
