#include "net/upstream_pool.h"

#include "net/watchdog.h"

#include <functional>

namespace sg::net {

size_t PoolKeyHash::operator()(const PoolKey& k) const {
  size_t h = std::hash<unsigned short>()(k.endpoint.port());
  if (k.endpoint.address().is_v4()) {
    h ^= std::hash<uint32_t>()(k.endpoint.address().to_v4().to_uint()) * 31;
  } else {
    for (auto b : k.endpoint.address().to_v6().to_bytes()) h = h * 131 + b;
  }
  return h ^ (std::hash<uint64_t>()(k.generation) << 1);
}

UpstreamPool::UpstreamPool(boost::asio::any_io_executor ex, size_t max_idle_per_key,
                           Clock::duration idle_timeout)
    : ex_(ex), max_idle_(max_idle_per_key), idle_timeout_(idle_timeout), sweeper_(ex) {}

UpstreamPool::~UpstreamPool() {
  *alive_ = false;
  close_all();
}

std::optional<Stream> UpstreamPool::take(const PoolKey& key) {
  auto it = idle_.find(key);
  if (it == idle_.end() || it->second.empty()) return std::nullopt;
  std::optional<Stream> s(std::move(it->second.back().stream));
  it->second.pop_back();
  --total_;
  return s;
}

void UpstreamPool::put(const PoolKey& key, Stream stream) {
  auto& list = idle_[key];
  if (list.size() >= max_idle_) {
    stream.close();
    return;
  }
  // Idle age only matters at the sweep's one-second granularity: the coarse clock will do.
  list.push_back(Entry{std::move(stream), coarse_now()});
  ++total_;
  if (total_ == 1) sweep();
}

void UpstreamPool::sweep() {
  sweeper_.expires_after(std::chrono::seconds(1));
  sweeper_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive || ec) return;
    const auto cutoff = Clock::now() - idle_timeout_;
    for (auto it = idle_.begin(); it != idle_.end();) {
      auto& list = it->second;
      size_t keep = 0;
      for (size_t i = 0; i < list.size(); ++i) {
        if (list[i].since < cutoff) {
          list[i].stream.close();
          --total_;
        } else {
          if (keep != i) list[keep] = std::move(list[i]);
          ++keep;
        }
      }
      list.erase(list.begin() + static_cast<std::ptrdiff_t>(keep), list.end());
      it = list.empty() ? idle_.erase(it) : std::next(it);
    }
    if (total_ > 0) sweep();
  });
}

void UpstreamPool::close_all() {
  for (auto& [key, list] : idle_) {
    for (auto& e : list) e.stream.close();
  }
  idle_.clear();
  total_ = 0;
  sweeper_.cancel();
}

}  // namespace sg::net
