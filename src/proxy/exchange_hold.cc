// The hold phase's wait: a request for a container that sleeps (or is stopped, or not
// registered yet) waits here while the control plane asks the platform to start it, and goes
// on the moment the session's route says ready. Bounded by wake.hold_timeout and the caps of
// the WakeGate; a failed wake, a deleted session and the drain's end each end the wait with
// their own answer.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/exchange.h"
#include "proxy/worker.h"

namespace sg::proxy {

using registry::RouteState;

size_t Exchange::held_bytes() const {
  size_t n = req_->target.size() + down_->body().size();
  for (const auto& h : req_->headers) n += h.name.size() + h.value.size() + 4;
  return n;
}

boost::asio::awaitable<Exchange::Plan> Exchange::hold_for_wake(UpstreamTarget& t) {
  WakeGate& gate = *rt_->wake;
  const std::string session = route_->session_id;
  const size_t bytes = held_bytes();
  switch (gate.enter(session, bytes)) {
    case WakeGate::Entry::kHeld:
      break;
    case WakeGate::Entry::kSessionFull:
      answer(ReplyKind::kHoldFull, "this preview already has wake.max_held_per_session waiting");
      co_return Plan::kReply;
    case WakeGate::Entry::kFull:
      answer(ReplyKind::kHoldFull, "wake.max_held requests (or max_held_bytes) already waiting");
      co_return Plan::kReply;
  }
  observe::WorkerMetrics& m = w_.metrics();
  m.held_requests.add();
  m.holds_total.add();
  if (registry::wakeable(registry::state_of(*route_, now_ms_))) {
    gate.ask(session, route_->container_id, std::string(down_->record().request_id.id()));
  }
  HeldRequest held(w_.io());
  w_.holds().add(session, &held);
  const WakeGate::Limits lim = gate.limits();
  // A browser navigation gets the live starting page early; everything else (its
  // subresources, API calls, WebSocket upgrades, the page's own long poll) waits it out.
  const bool navigation =
      !wait_poll_ && down_->wants_html() && req_->method_id == http::Method::kGet && !req_->upgrade;
  const bool page_early = navigation && lim.navigation_hold < lim.hold_timeout;
  const auto deadline =
      std::chrono::steady_clock::now() + (page_early ? lim.navigation_hold : lim.hold_timeout);
  Plan plan = Plan::kReply;
  for (;;) {
    boost::system::error_code ec;
    held.timer.expires_at(deadline);
    co_await held.timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (held.signal == HeldRequest::Signal::kCut) {
      answer(ReplyKind::kShuttingDown);
      break;
    }
    if (held.signal == HeldRequest::Signal::kFailed) {
      answer(ReplyKind::kWakeFailed, held.failure);
      break;
    }
    route_ = w_.routes().find_shared(session);
    if (!route_) {
      unknown_session(session);
      break;
    }
    now_ms_ = registry::now_ms();
    const RouteState state = registry::state_of(*route_, now_ms_);
    const bool waits = registry::wakeable(state) || state == RouteState::kStarting;
    if (!waits) {
      plan = after_hold(t, state);
      break;
    }
    if (!ec) {  // the timer ran out
      if (!page_early) m.hold_timeouts.add();
      starting(state);
      break;
    }
  }
  w_.holds().remove(session, &held);
  m.held_requests.sub();
  gate.leave(session, bytes);
  if (plan == Plan::kForward) {
    held_session_ = session;
  } else if (held.released) {
    w_.holds().release_next(session);  // it will not use the container: the next one may
  }
  co_return plan;
}

void Exchange::release_next_held() {
  w_.holds().release_next(held_session_);
  held_session_.clear();
}

// The route changed to something that no longer waits: ready (forward, after access is checked
// again — the route may carry a new link epoch), or failed / lease expired (its page).
Exchange::Plan Exchange::after_hold(UpstreamTarget& t, RouteState state) {
  if (state != RouteState::kReady) {
    unavailable(state);
    return Plan::kReply;
  }
  if (wait_poll_) {
    wait_state("ready");
    return Plan::kReply;
  }
  if (authorize() == Step::kReply) return Plan::kReply;
  return pick_upstream(*action_, t) == Step::kContinue ? Plan::kForward : Plan::kReply;
}

}  // namespace sg::proxy
