// A worker's deadline lists (parked connections by kind, open tunnels) under one timer: the
// timer is set for the earliest front, and moving it earlier is rare because entries join at
// the back of lists that each hold one timeout.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "proxy/deadline_list.h"

namespace sg::proxy {

class Deadlines {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kLists = 4;  // the three Parking kinds, then tunnels
  static constexpr size_t kTunnels = 3;

  explicit Deadlines(boost::asio::io_context& io) : timer_(io) {}

  DeadlineList& list(size_t k) { return lists_[k]; }
  // Puts `h` at the back of list `k`, due at `when`, and makes sure the timer is set for it.
  void push(size_t k, DeadlineHook& h, Clock::time_point when) {
    lists_[k].push_back(h, when);
    arm(when);
  }
  void cancel() { timer_.cancel(); }

 private:
  void arm(Clock::time_point when);
  void expire();

  std::array<DeadlineList, kLists> lists_;
  boost::asio::steady_timer timer_;
  Clock::time_point timer_at_{};
  bool armed_ = false;
  unsigned epoch_ = 0;
};

}  // namespace sg::proxy
