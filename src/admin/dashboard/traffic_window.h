// Per-session traffic over the last minutes, from the totals the workers count on each route
// (registry::RouteTraffic). The control plane samples the totals now and then; a window's
// figure is the total now minus the newest sample at least a window old. Only sessions that
// have had traffic hold samples.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

namespace sg::admin {

struct TrafficTotals {
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t bytes = 0;
  bool operator==(const TrafficTotals&) const = default;
};

class TrafficWindow {
 public:
  using Millis = int64_t;
  explicit TrafficWindow(Millis span = 5 * 60 * 1000) : span_(span) {}

  // One sampling round: call sample() for every session, then end_round() (which forgets
  // sessions that were not sampled: they are gone).
  void sample(const std::string& session, const TrafficTotals& now, Millis at);
  void end_round();
  // The traffic of the last `span` (or since the router started, when that is shorter).
  TrafficTotals recent(const std::string& session, const TrafficTotals& now, Millis at) const;
  Millis span() const { return span_; }
  size_t tracked() const { return samples_.size(); }

 private:
  struct Sample {
    Millis at;
    TrafficTotals totals;
  };
  struct Series {
    std::deque<Sample> samples;
    uint64_t round = 0;
  };
  Millis span_;
  uint64_t round_ = 1;
  std::unordered_map<std::string, Series> samples_;
};

}  // namespace sg::admin
