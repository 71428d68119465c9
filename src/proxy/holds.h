// Requests held while their session's container wakes (wake-on-request). The exchange's
// `hold` phase decides a request must wait; it then takes a slot at the process-wide gate
// (caps shared by every worker), asks the control plane for a wake, and waits on its worker
// for the session's route to change, the wake to fail, its hold_timeout, or the drain's end.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "registry/route.h"

namespace sg::proxy {

class WakeGate {
 public:
  struct Limits {
    std::chrono::milliseconds hold_timeout{30000};
    std::chrono::milliseconds navigation_hold{2000};
    size_t per_session = 256;
    size_t total = 10000;
    size_t bytes = size_t{64} << 20;
  };
  // Called from any worker thread; must not block (the control plane posts it to its loop).
  using Ask = std::function<void(const std::string& session, const std::string& container,
                                 const std::string& request_id)>;
  WakeGate(Limits l, Ask ask) : lim_(l), ask_(std::move(ask)) {}

  void set_limits(const Limits& l);  // a reload
  Limits limits() const;

  enum class Entry : uint8_t { kHeld, kSessionFull, kFull };
  // Held requests are rare next to forwarded ones, so one lock for all of them is enough.
  Entry enter(const std::string& session, size_t bytes);
  void leave(const std::string& session, size_t bytes);
  void ask(const std::string& session, const std::string& container,
           const std::string& request_id) const {
    ask_(session, container, request_id);
  }
  size_t held() const;

 private:
  mutable std::mutex mu_;
  Limits lim_;
  std::unordered_map<std::string, size_t> per_session_;
  size_t held_ = 0;
  size_t bytes_ = 0;
  Ask ask_;
};

// One held request, on its worker's thread. Its timer is both the hold_timeout and the
// wake-up: anything that concerns it cancels the timer, and the request looks again.
struct HeldRequest {
  explicit HeldRequest(boost::asio::io_context& io) : timer(io) {}
  enum class Signal : uint8_t { kNone, kFailed, kCut };
  boost::asio::steady_timer timer;
  Signal signal = Signal::kNone;
  bool released = false;  // let go to forward now that the route is ready
  std::string failure;    // a failed wake's reason class
};

// A worker's held requests by session.
class Holds {
 public:
  void add(const std::string& session, HeldRequest* h) { map_[session].push_back(h); }
  void remove(const std::string& session, HeldRequest* h);
  // At most this many of a session's held requests go to its container at once when it turns
  // ready; each one that is done lets the next go. The container has no pooled connection
  // yet: released all at once, every request would open its own (a fresh connect costs
  // several times a forward on a pooled one), and the first answer would wait for all of
  // them; released this way, the later ones reuse the connections the first ones return.
  static constexpr size_t kReleaseAtOnce = 32;
  // The session's route changed (null: deleted): ready, its held requests go (kReleaseAtOnce
  // of them now); anything else, each looks at it again.
  void notify(const std::string& session, const registry::Route* route);
  // Every one of the session's held requests looks again (a lookup's waiters: the route
  // arrived).
  void wake_all(const std::string& session);
  // A released request is done with its container: the session's next held request goes.
  void release_next(const std::string& session);
  // The platform could not start the session's container.
  void fail(const std::string& session, const std::string& reason);
  // The drain's time is over: every held request gets the shutting-down page.
  void cut_all();
  size_t size() const;

 private:
  std::unordered_map<std::string, std::vector<HeldRequest*>> map_;
};

}  // namespace sg::proxy
