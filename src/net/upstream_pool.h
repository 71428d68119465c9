// Per-worker pool of idle keep-alive connections to upstreams. Single-threaded: each worker
// owns one and touches it only from its own event loop.
//
// Idle connections hold no pending operation: a readiness wait would cost an epoll_ctl per
// request (measured: 2.0 epoll_ctl per request with it, see docs/performance.md). Instead a
// connection the upstream closed is caught where it matters: a non-idempotent request peeks
// the socket (MSG_PEEK) before using it, an idempotent one that fails before any response byte
// is retried once on a fresh connection, and a sweep closes connections idle too long.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>
#include "net/stream.h"

namespace sg::net {

struct PoolKey {
  boost::asio::ip::tcp::endpoint endpoint;
  uint64_t generation = 0;  // a re-registered container never gets its old connections
  bool operator==(const PoolKey&) const = default;
};

struct PoolKeyHash {
  size_t operator()(const PoolKey& k) const;
};

class UpstreamPool {
 public:
  using Clock = std::chrono::steady_clock;
  UpstreamPool(boost::asio::any_io_executor ex, size_t max_idle_per_key,
               Clock::duration idle_timeout);
  ~UpstreamPool();

  // An idle connection for `key`, most recently used first, or nullopt.
  std::optional<Stream> take(const PoolKey& key);
  // Returns a connection after a complete exchange. Closes it when the pool is full.
  void put(const PoolKey& key, Stream stream);

  size_t idle_count() const { return total_; }
  void close_all();

 private:
  struct Entry {
    Stream stream;  // held by value: a put or take allocates nothing
    Clock::time_point since;
  };
  void sweep();

  boost::asio::any_io_executor ex_;
  size_t max_idle_;
  Clock::duration idle_timeout_;
  std::unordered_map<PoolKey, std::vector<Entry>, PoolKeyHash> idle_;
  size_t total_ = 0;
  boost::asio::steady_timer sweeper_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sg::net
