#include "admin/dashboard/traffic_window.h"

namespace sg::admin {

namespace {
bool below(const TrafficTotals& a, const TrafficTotals& b) {
  return a.requests < b.requests || a.errors < b.errors || a.bytes < b.bytes;
}
}  // namespace

void TrafficWindow::sample(const std::string& session, const TrafficTotals& now, Millis at) {
  auto it = samples_.find(session);
  if (it == samples_.end()) {
    if (now == TrafficTotals{}) return;  // no traffic yet: nothing to remember
    it = samples_.emplace(session, Series{}).first;
  }
  Series& s = it->second;
  s.round = round_;
  // Totals that went down belong to a new session of the same id: its history starts now.
  if (!s.samples.empty() && below(now, s.samples.back().totals)) s.samples.clear();
  s.samples.push_back({at, now});
  // Keep the newest sample at least a window old, and everything after it.
  while (s.samples.size() >= 2 && s.samples[1].at <= at - span_) s.samples.pop_front();
}

void TrafficWindow::end_round() {
  std::erase_if(samples_, [&](const auto& kv) { return kv.second.round != round_; });
  ++round_;
}

TrafficTotals TrafficWindow::recent(const std::string& session, const TrafficTotals& now,
                                    Millis at) const {
  auto it = samples_.find(session);
  if (it == samples_.end()) return now;
  const Sample* base = nullptr;
  for (const Sample& s : it->second.samples) {
    if (s.at > at - span_) break;
    base = &s;
  }
  if (!base || below(now, base->totals)) return now;
  return {now.requests - base->totals.requests, now.errors - base->totals.errors,
          now.bytes - base->totals.bytes};
}

}  // namespace sg::admin
