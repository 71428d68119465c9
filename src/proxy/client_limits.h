// Per-client-address limits shared by all workers: open connections, and a request rate as a
// token bucket. Striped locks keep workers from contending unless they serve the same client.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sg::proxy {

class ClientLimits {
 public:
  // 0 disables a limit. `rate` is requests per second, `burst` the bucket size.
  ClientLimits(size_t max_connections, double rate, double burst) {
    set(max_connections, rate, burst);
  }
  // A reload's new limits: connections already counted stay counted (and are released as
  // they close); buckets refill at the new rate up to the new size.
  void set(size_t max_connections, double rate, double burst) {
    max_conns_.store(max_connections, std::memory_order_relaxed);
    rate_.store(rate, std::memory_order_relaxed);
    burst_.store(burst > 0 ? burst : rate, std::memory_order_relaxed);
  }

  bool enabled() const { return max_conns() > 0 || rate() > 0; }
  // False when the client already holds max_connections.
  bool open_connection(std::string_view client);
  void close_connection(std::string_view client);
  // False when the client's bucket is empty.
  bool take_request(std::string_view client, int64_t now_ns);
  // Clients with state held (connections or a bucket), for tests.
  size_t tracked();

 private:
  struct Entry {
    uint32_t conns = 0;
    double tokens = 0;
    int64_t last_ns = 0;
    bool fresh = true;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> map;
    uint32_t ops = 0;
  };
  Shard& shard(std::string_view client);
  void maybe_evict(Shard& s, int64_t now_ns);

  size_t max_conns() const { return max_conns_.load(std::memory_order_relaxed); }
  double rate() const { return rate_.load(std::memory_order_relaxed); }

  std::atomic<size_t> max_conns_{0};
  std::atomic<double> rate_{0};
  std::atomic<double> burst_{0};
  std::array<Shard, 64> shards_;
};

}  // namespace sg::proxy
