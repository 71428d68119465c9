#include "lifecycle/wake_controller.h"

#include <random>

#include "lifecycle/command_hook.h"
#include "lifecycle/webhook.h"

namespace sg::lifecycle {

using Clock = std::chrono::steady_clock;

namespace {
// A container whose stop call failed is asked again after this long at the soonest.
constexpr Millis kStopRetry{30000};
// How long the sleep lease keeps other routers from stopping the same container.
constexpr Millis kSleepLease{60000};
}  // namespace

std::string new_call_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string out(16, '0');
  for (char& c : out) {
    c = kHex[v & 15];
    v >>= 4;
  }
  return out;
}

WakeController::WakeController(boost::asio::io_context& io, Deps deps,
                               observe::ControlMetrics& metrics)
    : io_(io), deps_(std::move(deps)), metrics_(metrics) {}

WakeController::~WakeController() {
  *alive_ = false;
}

void WakeController::configure(const WakeSettings& s) {
  if (hook_ && s == settings_) return;
  settings_ = s;
  breaker_.configure(s.breaker_failures, s.breaker_cooldown);
  hook_.reset();
  if (!s.enabled) return;
  if (s.uses_webhook()) {
    hook_ = std::make_unique<WebhookHook>(io_, s.webhook, s.timeout);
  } else {
    hook_ = std::make_unique<CommandHook>(io_, s.command, s.timeout);
  }
}

std::string WakeController::hook_name() const {
  return hook_ ? hook_->describe() : "the hook (now off)";
}

WakeController::Flight* WakeController::flight(const std::string& session, uint64_t id) {
  auto it = flights_.find(session);
  return it == flights_.end() || it->second.id != id ? nullptr : &it->second;
}

void WakeController::wake(const std::string& session, const std::string& container,
                          std::string request_id) {
  if (!hook_ || flights_.count(session)) return;
  Flight& f = flights_[session];
  f.id = next_id_++;
  f.container = container;
  f.request_id = request_id.empty() ? new_call_id() : std::move(request_id);
  f.started = Clock::now();
  f.timer = std::make_unique<boost::asio::steady_timer>(io_);
  const uint64_t id = f.id;
  deps_.lease("wake/" + session, settings_.hold_timeout,
              [this, alive = alive_, session, id](bool acquired, std::string error) {
                if (!*alive) return;
                Flight* f = flight(session, id);
                if (!f) return;
                if (!error.empty()) {
                  // Without the store no router can coordinate; waking twice beats not waking.
                  deps_.log("wake " + session + ": store lease not taken (" + error +
                            "); asking the platform anyway");
                } else if (!acquired) {
                  // Another router wakes it: its route change ends this flight.
                  metrics_.wakes[observe::ControlMetrics::kWakeElsewhere].add();
                  expire_flight_later(session, *f);
                  return;
                } else {
                  f->leased = true;
                }
                attempt(session, id);
              });
}

void WakeController::attempt(const std::string& session, uint64_t id) {
  Flight* f = flight(session, id);
  if (!f) return;
  if (!breaker_.allow(Clock::now())) {
    metrics_.wakes[observe::ControlMetrics::kWakeCircuitOpen].add();
    metrics_.wake_circuit_open.set(1);
    end_flight(session, "circuit_open");
    return;
  }
  HookCall c{"start", session, f->container, "request", f->request_id};
  enqueue(std::move(c), [this, alive = alive_, session, id](HookResult r) {
    if (*alive) called(session, id, r);
  });
}

void WakeController::called(const std::string& session, uint64_t id, const HookResult& r) {
  Flight* f = flight(session, id);
  if (r.ok) {
    breaker_.succeeded();
    metrics_.wake_circuit_open.set(0);
    metrics_.wakes[observe::ControlMetrics::kWakeStarted].add();
    // The platform is starting it: the flight ends when the route says ready (or times out).
    if (f) expire_flight_later(session, *f);
    return;
  }
  breaker_.failed(Clock::now());
  if (breaker_.open(Clock::now())) metrics_.wake_circuit_open.set(1);
  if (!f) return;
  deps_.log("wake " + session + ": " + hook_name() + " failed (" + r.failure + "): " + r.detail);
  if (r.retryable && f->attempt < settings_.retries) {
    const Millis backoff = settings_.retry_backoff * (1 << f->attempt);
    ++f->attempt;
    f->timer->expires_after(backoff);
    f->timer->async_wait([this, alive = alive_, session, id](const boost::system::error_code& ec) {
      if (!ec && *alive) attempt(session, id);
    });
    return;
  }
  metrics_.wakes[observe::ControlMetrics::kWakeFailed].add();
  end_flight(session, r.failure);
}

// A flight whose call went out (or that another router runs) lasts until its route is ready,
// at most hold_timeout: after that a new request may ask again.
void WakeController::expire_flight_later(const std::string& session, Flight& f) {
  const uint64_t id = f.id;
  f.timer->expires_at(f.started + settings_.hold_timeout);
  f.timer->async_wait([this, alive = alive_, session, id](const boost::system::error_code& ec) {
    if (ec || !*alive || !flight(session, id)) return;
    drop_flight(flights_.find(session));
  });
}

void WakeController::drop_flight(std::unordered_map<std::string, Flight>::iterator it) {
  if (it == flights_.end()) return;
  if (it->second.leased && deps_.release) deps_.release("wake/" + it->first);
  flights_.erase(it);
}

void WakeController::end_flight(const std::string& session, const std::string& failure) {
  drop_flight(flights_.find(session));
  if (!failure.empty()) deps_.fail_held(session, failure);
}

void WakeController::route_changed(const std::string& session, const registry::Route* route) {
  auto it = flights_.find(session);
  if (it == flights_.end()) return;
  if (route == nullptr) {  // deleted: its held requests learn it from their own route table
    drop_flight(it);
    return;
  }
  if (registry::state_of(*route, registry::now_ms()) != registry::RouteState::kReady) return;
  const auto took =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - it->second.started);
  metrics_.wake_seconds.observe_us(static_cast<uint64_t>(took.count()));
  deps_.log("wake " + session + ": container " + route->container_id + " ready after " +
            std::to_string(took.count() / 1000) + " ms");
  drop_flight(it);
}

void WakeController::enqueue(HookCall c, std::function<void(HookResult)> done) {
  queued_.emplace_back(std::move(c), std::move(done));
  run_next();
}

void WakeController::run_next() {
  while (calls_running_ < kMaxCallsAtOnce && !queued_.empty() && hook_) {
    auto [c, done] = std::move(queued_.front());
    queued_.pop_front();
    ++calls_running_;
    hook_->call(c, [this, alive = alive_, done = std::move(done)](HookResult r) {
      if (!*alive) return;
      --calls_running_;
      done(std::move(r));
      run_next();
    });
  }
}

void WakeController::sleep(const std::string& session, const std::string& container) {
  if (!hook_ || stopping_.count(container)) return;
  const auto now = Clock::now();
  if (auto it = stop_retry_at_.find(container); it != stop_retry_at_.end()) {
    if (now < it->second) return;
    stop_retry_at_.erase(it);
  }
  if (breaker_.open(now)) return;
  stopping_.insert(container);
  deps_.lease("sleep/" + container, kSleepLease,
              [this, alive = alive_, session, container](bool acquired, std::string error) {
                if (!*alive) return;
                if (!error.empty()) {
                  deps_.log("sleep " + container + ": store lease not taken (" + error +
                            "); not stopping it now");
                }
                if (!acquired || !error.empty()) {  // another router stops it, or no store
                  stopping_.erase(container);
                  return;
                }
                HookCall c{"stop", session, container, "idle", new_call_id()};
                enqueue(std::move(c), [this, alive, container](HookResult r) {
                  if (*alive) sleep_called(container, r);
                });
              });
}

void WakeController::sleep_called(const std::string& container, const HookResult& r) {
  if (!r.ok) {
    stopping_.erase(container);
    metrics_.sleep_failures.add();
    stop_retry_at_[container] = Clock::now() + kStopRetry;
    deps_.log("sleep " + container + ": " + hook_name() + " failed (" + r.failure +
              "): " + r.detail + "; trying again in 30 s");
    return;
  }
  deps_.mark_sleeping(container, [this, alive = alive_, container](std::string error) {
    if (!*alive) return;
    stopping_.erase(container);
    if (!error.empty()) {
      deps_.log("sleep " + container + ": stopped, but not recorded as sleeping: " + error);
      stop_retry_at_[container] = Clock::now() + kStopRetry;
      return;
    }
    metrics_.sleeps.add();
    deps_.log("container " + container + " put to sleep (idle past sessions.sleep_after)");
  });
}

}  // namespace sg::lifecycle
