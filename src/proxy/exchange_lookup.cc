// The resolve phase's wait for a session the route table does not have yet: with a store
// that others write (DynamoDB), the feed reads that one item at once, and the request goes
// on the moment its route arrives, or gets the unknown-session page when the item is not
// there, the read fails or lookup_timeout passes. The single flight and the negative cache
// are the SessionLookup's, shared by every worker.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/exchange.h"
#include "proxy/worker.h"
#include "registry/session_lookup.h"

namespace sg::proxy {

Exchange::Step Exchange::no_route(std::string_view id) {
  if (rt_->lookup == nullptr) return unknown_session(id);
  lookup_id_.assign(id);
  if (rt_->lookup->ask(lookup_id_, registry::now_ms()) != registry::SessionLookup::Ask::kWait) {
    return unknown_session(id);
  }
  return Step::kLookup;
}

boost::asio::awaitable<Exchange::Plan> Exchange::wait_for_lookup(UpstreamTarget& t) {
  const std::string session = std::move(lookup_id_);
  HeldRequest waiting(w_.io());
  w_.lookups().add(session, &waiting);
  const auto deadline = std::chrono::steady_clock::now() + rt_->lookup->limits().timeout;
  Plan plan = Plan::kReply;
  for (;;) {
    // Checked before the first wait too: the route may have arrived since resolve looked.
    route_ = w_.routes().find_shared(session);
    if (route_) {
      plan = Plan::kForward;
      break;
    }
    boost::system::error_code ec;
    waiting.timer.expires_at(deadline);
    co_await waiting.timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (waiting.signal == HeldRequest::Signal::kCut) {
      answer(ReplyKind::kShuttingDown);
      break;
    }
    if (waiting.signal == HeldRequest::Signal::kFailed || !ec) {  // missing, or the timeout
      route_ = w_.routes().find_shared(session);
      if (route_) {
        plan = Plan::kForward;
      } else {
        unknown_session(session);
      }
      break;
    }
  }
  w_.lookups().remove(session, &waiting);
  if (plan == Plan::kForward) plan = after_resolve(*action_, t);
  co_return plan;
}

}  // namespace sg::proxy
