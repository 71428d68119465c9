// One timer per connection enforces whichever deadline the connection is in (head read,
// upstream connect, body idle, tunnel idle...). Moving the deadline later costs nothing; the
// timer only re-arms when it fires early. On expiry it cancels the watched streams, so the
// pending operation completes with operation_aborted and `expired()` tells why.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <ctime>
#include <memory>

#include "net/stream.h"

namespace sg::net {

// The monotonic clock at tick resolution (1-4 ms), on the same time base as steady_clock.
// Deadlines here are hundreds of milliseconds or more, and a coarse read costs a fraction of
// a precise one; only arming uses it (expiry is checked against the precise clock).
inline std::chrono::steady_clock::time_point coarse_now() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Watchdog(const boost::asio::any_io_executor& ex) : state_(std::make_shared<State>(ex)) {}
  ~Watchdog() {
    state_->alive = false;
    state_->timer.cancel();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void watch(Stream* a, Stream* b = nullptr) {
    state_->a = a;
    state_->b = b;
  }

  void arm(Clock::duration d) { arm_at(coarse_now() + d); }
  void arm_at(Clock::time_point when) {
    State& s = *state_;
    s.expired = false;
    s.deadline = when;
    if (!s.waiting || when < s.timer.expiry()) start(state_);
  }
  void disarm() { state_->deadline = Clock::time_point::max(); }
  // Expires now, whatever the deadline: the watched streams are cancelled at once.
  void expire_now() { fire(*state_); }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    explicit State(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    Clock::time_point deadline = Clock::time_point::max();
    Stream* a = nullptr;
    Stream* b = nullptr;
    bool waiting = false;
    bool expired = false;
    bool alive = true;
    unsigned epoch = 0;  // identifies the current wait; stale completions are ignored
  };

  static void start(const std::shared_ptr<State>& s) {
    s->waiting = true;
    unsigned epoch = ++s->epoch;
    s->timer.expires_at(s->deadline);
    s->timer.async_wait([s, epoch](const boost::system::error_code&) {
      if (!s->alive || epoch != s->epoch) return;
      s->waiting = false;
      if (s->deadline == Clock::time_point::max()) return;
      if (Clock::now() < s->deadline) {
        start(s);
        return;
      }
      fire(*s);
    });
  }
  static void fire(State& s) {
    s.expired = true;
    s.deadline = Clock::time_point::max();
    if (s.a) s.a->cancel();
    if (s.b) s.b->cancel();
  }

  std::shared_ptr<State> state_;
};

}  // namespace sg::net
