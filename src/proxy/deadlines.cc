#include "proxy/deadlines.h"

namespace sg::proxy {

void Deadlines::arm(Clock::time_point when) {
  if (armed_ && when >= timer_at_) return;
  armed_ = true;
  timer_at_ = when;
  const unsigned epoch = ++epoch_;
  timer_.expires_at(when);
  timer_.async_wait([this, epoch](const boost::system::error_code&) {
    if (epoch != epoch_) return;  // replaced by an earlier deadline
    armed_ = false;
    expire();
  });
}

void Deadlines::expire() {
  const auto now = Clock::now();
  auto next = Clock::time_point::max();
  for (DeadlineList& list : lists_) {
    while (!list.empty() && list.front().deadline <= now) {
      DeadlineHook& h = list.front();
      DeadlineList::remove(h);
      h.expire(&h);
    }
    if (!list.empty()) next = std::min(next, list.front().deadline);
  }
  if (next != Clock::time_point::max()) arm(next);
}

}  // namespace sg::proxy
