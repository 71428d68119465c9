// Keeps a failing platform from a wake storm: after `failures` calls in a row have failed, no
// call is made for `cooldown`; then one trial call decides (success closes the circuit, a
// failure opens it for another cooldown). Single-threaded (the control plane's loop).
#pragma once

#include <chrono>

namespace sg::lifecycle {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  CircuitBreaker(int failures, std::chrono::milliseconds cooldown)
      : limit_(failures), cooldown_(cooldown) {}
  void configure(int failures, std::chrono::milliseconds cooldown) {
    limit_ = failures;
    cooldown_ = cooldown;
  }

  // May a call be made now? While half open, only the one trial call.
  bool allow(Clock::time_point now) {
    if (failed_ < limit_) return true;
    if (now < open_until_ || trial_) return false;
    trial_ = true;
    return true;
  }
  void succeeded() {
    failed_ = 0;
    trial_ = false;
  }
  void failed(Clock::time_point now) {
    trial_ = false;
    if (++failed_ >= limit_) open_until_ = now + cooldown_;
  }
  bool open(Clock::time_point now) const {
    return failed_ >= limit_ && (now < open_until_ || trial_);
  }

 private:
  int limit_;
  std::chrono::milliseconds cooldown_;
  int failed_ = 0;
  bool trial_ = false;
  Clock::time_point open_until_{};
};

}  // namespace sg::lifecycle
