#include "observe/recent_errors.h"

namespace sg::observe {

namespace {
void put(std::string& to, std::string_view from) {
  to.assign(from.substr(0, RecentErrors::kMaxField));
}
}  // namespace

void RecentErrors::add(int64_t time_ms, int status, std::string_view outcome,
                       std::string_view protocol, std::string_view method, std::string_view path,
                       std::string_view session, std::string_view container,
                       std::string_view request_id, std::string_view client) {
  RecentError& e = ring_[next_];
  e.time_ms = time_ms;
  e.status = status;
  e.outcome = outcome;
  e.protocol = protocol;
  put(e.method, method);
  put(e.path, path);
  put(e.session, session);
  put(e.container, container);
  put(e.request_id, request_id);
  put(e.client, client);
  next_ = (next_ + 1) % kSize;
  if (count_ < kSize) ++count_;
  ++added_;
}

void RecentErrors::publish() {
  if (added_ == published_at_) return;
  published_at_ = added_;
  std::lock_guard lock(mutex_);
  published_.clear();
  for (size_t i = 0; i < count_; ++i) {
    published_.push_back(ring_[(next_ + kSize - count_ + i) % kSize]);
  }
}

void RecentErrors::copy_to(std::vector<RecentError>& out) const {
  std::lock_guard lock(mutex_);
  out.insert(out.end(), published_.begin(), published_.end());
}

}  // namespace sg::observe
