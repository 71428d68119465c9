#include "proxy/client_limits.h"

#include <algorithm>
#include <functional>

namespace sg::proxy {

namespace {
constexpr int64_t kIdleEvictNs = 120'000'000'000;  // forget a quiet client after 2 minutes
}

ClientLimits::Shard& ClientLimits::shard(std::string_view client) {
  return shards_[std::hash<std::string_view>()(client) % shards_.size()];
}

void ClientLimits::maybe_evict(Shard& s, int64_t now_ns) {
  // Bounded memory: every so often drop clients with no connection and a long quiet time.
  if (++s.ops % 4096 != 0) return;
  std::erase_if(s.map, [&](const auto& kv) {
    return kv.second.conns == 0 && now_ns - kv.second.last_ns > kIdleEvictNs;
  });
}

bool ClientLimits::open_connection(std::string_view client) {
  const size_t max = max_conns();
  if (max == 0) return true;
  Shard& s = shard(client);
  std::lock_guard lock(s.mu);
  Entry& e = s.map[std::string(client)];
  if (e.conns >= max) return false;
  ++e.conns;
  return true;
}

// Only connections open_connection() counted come here, even if a reload turned the limit off
// since: their count is released either way.
void ClientLimits::close_connection(std::string_view client) {
  Shard& s = shard(client);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(std::string(client));
  if (it == s.map.end()) return;
  if (it->second.conns > 0) --it->second.conns;
  if (it->second.conns == 0 && rate() == 0) s.map.erase(it);
}

bool ClientLimits::take_request(std::string_view client, int64_t now_ns) {
  const double rate = this->rate();
  if (rate == 0) return true;
  const double burst = burst_.load(std::memory_order_relaxed);
  Shard& s = shard(client);
  std::lock_guard lock(s.mu);
  maybe_evict(s, now_ns);
  Entry& e = s.map[std::string(client)];
  if (e.fresh) {
    e.fresh = false;
    e.tokens = burst;
  } else {
    e.tokens = std::min(burst, e.tokens + static_cast<double>(now_ns - e.last_ns) * rate / 1e9);
  }
  e.last_ns = now_ns;
  if (e.tokens < 1.0) return false;
  e.tokens -= 1.0;
  return true;
}

size_t ClientLimits::tracked() {
  size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace sg::proxy
