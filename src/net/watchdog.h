// One timer per connection enforces whichever deadline the connection is in (head read,
// upstream connect, body idle, tunnel idle...). Moving the deadline later costs nothing; the
// timer only re-arms when it fires early. On expiry it cancels the watched sockets, so the
// pending operation completes with operation_aborted and `expired()` tells why.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace sg::net {

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

  void watch(boost::asio::ip::tcp::socket* a, boost::asio::ip::tcp::socket* b = nullptr) {
    state_->a = a;
    state_->b = b;
  }

  void arm(Clock::duration d) { arm_at(Clock::now() + d); }
  void arm_at(Clock::time_point when) {
    State& s = *state_;
    s.expired = false;
    s.deadline = when;
    if (!s.waiting || when < s.timer.expiry()) start(state_);
  }
  void disarm() { state_->deadline = Clock::time_point::max(); }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    explicit State(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    Clock::time_point deadline = Clock::time_point::max();
    boost::asio::ip::tcp::socket* a = nullptr;
    boost::asio::ip::tcp::socket* b = nullptr;
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
      s->expired = true;
      s->deadline = Clock::time_point::max();
      boost::system::error_code ignored;
      if (s->a) s->a->cancel(ignored);
      if (s->b) s->b->cancel(ignored);
    });
  }

  std::shared_ptr<State> state_;
};

}  // namespace sg::net
