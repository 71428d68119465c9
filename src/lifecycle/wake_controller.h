// Wakes sleeping containers on request and puts idle ones to sleep, on the control plane's
// loop. A wake happens once per session at a time: in this process by the flight table (every
// worker's held requests for a session ask; the first asks the platform), across routers by a
// short store lease (the router that does not get it waits for the route change the other's
// wake brings). Calls to the platform are retried with doubling backoff, capped in number at
// once, and stopped by a circuit breaker when the platform keeps failing; a wake that cannot
// succeed ends its held requests with the wake_failed page.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "lifecycle/circuit_breaker.h"
#include "lifecycle/hook.h"
#include "lifecycle/wake_settings.h"
#include "observe/metrics.h"
#include "registry/route.h"

namespace sg::lifecycle {

class WakeController {
 public:
  using Done = std::function<void(std::string error)>;
  struct Deps {
    // Takes the store lease `name` for `ttl`; done(acquired, error) runs on the loop.
    std::function<void(std::string name, Millis ttl, std::function<void(bool, std::string)>)> lease;
    // Ends a lease this router took, once what it guarded is over (unset: leases run out).
    std::function<void(std::string name)> release;
    // Records the container as sleeping in the store; done(error) runs on the loop.
    std::function<void(std::string container, Done)> mark_sleeping;
    // Ends the session's held requests (on every worker) with the wake_failed page.
    std::function<void(const std::string& session, const std::string& reason)> fail_held;
    std::function<void(const std::string&)> log;
  };
  // At most this many platform calls run at once; the rest queue (a storm of wakes reaches the
  // platform at a bounded rate).
  static constexpr size_t kMaxCallsAtOnce = 32;

  WakeController(boost::asio::io_context& io, Deps deps, observe::ControlMetrics& metrics);
  ~WakeController();
  // The settings in force (at start and after each reload); a hook change applies to calls
  // made from then on.
  void configure(const WakeSettings& s);
  bool enabled() const { return hook_ != nullptr; }

  // A held request's session needs its container started.
  void wake(const std::string& session, const std::string& container, std::string request_id);
  // Every route change of the registry: a route that became ready ends its session's wake.
  void route_changed(const std::string& session, const registry::Route* route);
  // An idle container (all its sessions idle for sessions.sleep_after): stop it.
  void sleep(const std::string& session, const std::string& container);
  size_t wakes_in_flight() const { return flights_.size(); }

 private:
  struct Flight {
    uint64_t id = 0;
    std::string container;
    std::string request_id;
    std::chrono::steady_clock::time_point started;
    int attempt = 0;
    bool leased = false;  // this router holds "wake/<session>": released when the flight ends
    std::unique_ptr<boost::asio::steady_timer> timer;  // retry backoff, then end of the flight
  };
  void attempt(const std::string& session, uint64_t id);
  void called(const std::string& session, uint64_t id, const HookResult& r);
  void end_flight(const std::string& session, const std::string& failure);
  // Forgets the flight, and gives its lease back: a router that starts later (or another one)
  // must not wait out hold_timeout for a wake that is over.
  void drop_flight(std::unordered_map<std::string, Flight>::iterator it);
  Flight* flight(const std::string& session, uint64_t id);
  void expire_flight_later(const std::string& session, Flight& f);
  // The platform call queue: `call` runs now, or when a running call finishes.
  void enqueue(HookCall c, std::function<void(HookResult)> done);
  void run_next();
  void sleep_called(const std::string& container, const HookResult& r);
  std::string hook_name() const;

  boost::asio::io_context& io_;
  Deps deps_;
  observe::ControlMetrics& metrics_;
  WakeSettings settings_;
  std::unique_ptr<Hook> hook_;
  CircuitBreaker breaker_{5, Millis(30000)};
  std::unordered_map<std::string, Flight> flights_;
  uint64_t next_id_ = 1;
  size_t calls_running_ = 0;
  std::deque<std::pair<HookCall, std::function<void(HookResult)>>> queued_;
  std::unordered_set<std::string> stopping_;  // containers whose stop call is in progress
  // Containers whose stop failed, and when to try again (a failing platform is not asked
  // every sweep).
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> stop_retry_at_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// A random id for a platform call made without a request id: 16 hex digits.
std::string new_call_id();

}  // namespace sg::lifecycle
