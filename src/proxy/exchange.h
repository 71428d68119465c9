// One request's life, as named phases in the order they run:
//
//   admit -> match -> resolve -> authorize -> hold -> pick_upstream     (exchange.cc)
//   -> send -> read_response_head                               (exchange_upstream.cc)
//   -> relay | tunnel                                              (exchange_relay.cc)
//   -> record                                          (the codec, when the exchange ends)
//
// Each planning phase either continues or ends the exchange with a Reply (reply.h); the
// upstream phases end it with an Error that becomes one. `hold` is where a request may wait
// for its route to become usable: with wake-on-request configured, a request for a sleeping,
// stopped or unregistered container is held (exchange_hold.cc) while the platform starts it.
// The exchange talks to the client only through its Downstream, so any codec can drive it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "access/decide.h"
#include "common/buffer.h"
#include "http/html_inject.h"
#include "http/message.h"
#include "net/stream.h"
#include "net/upstream_pool.h"
#include "proxy/downstream.h"
#include "proxy/reply.h"
#include "proxy/route_subscribers.h"
#include "registry/route.h"
#include "routing/rule.h"

namespace sg::proxy {

class Worker;
struct Runtime;
struct Limits;
struct Timeouts;

// Where and how one request is forwarded.
struct UpstreamTarget {
  boost::asio::ip::tcp::endpoint address;
  std::string_view address_text;
  uint64_t generation = 0;
  routing::HostHeader host_header = routing::HostHeader::kKeep;
  std::string_view target;      // request-target to send
  std::string_view set_cookie;  // a Set-Cookie header line to add to the response, or empty
  bool from_registry = false;   // a container address: subject to the SSRF policy
};

class Exchange {
 public:
  explicit Exchange(Worker& w);

  // Runs the phases for the request `down` carries. True when the exchange completed cleanly
  // (the codec may then keep the connection for another request).
  boost::asio::awaitable<bool> run(Downstream& down);

  // The route this request resolved to (for the access log), if any.
  const registry::Route* route() const { return route_.get(); }
  // The client this request came from (admit() decides it; see client_address.h).
  std::string_view client_ip() const { return client_ip_; }
  registry::RoutePtr take_route() { return std::move(route_); }
  // The configuration the current request runs under (a tunnel keeps it for its life).
  const std::shared_ptr<const Runtime>& runtime() const { return pin_; }
  void reset();

  // What planning chose: forward to `t`, answer with reply(), or wait: for an unknown
  // session's lookup (wait_for_lookup), or for a wake (hold_for_wake).
  enum class Plan : uint8_t { kForward, kReply, kHold, kLookup };
  // The planning phases alone, without I/O or suspension. run() is plan_for, hold_for_wake
  // when it says so, then forward or the reply.
  Plan plan_for(Downstream& down, UpstreamTarget& t) {
    down_ = &down;
    req_ = &down.request();
    return plan(t);
  }
  // The hold phase of a plan that said kHold: asks for a wake, waits until the container is
  // ready (kForward, `t` set) or the wait ends otherwise (kReply). Never kHold.
  boost::asio::awaitable<Plan> hold_for_wake(UpstreamTarget& t);
  // A plan that said kLookup: waits until the session's route arrives (then plans the rest:
  // kForward, kReply or kHold) or the lookup ends without it (the unknown-session page).
  boost::asio::awaitable<Plan> wait_for_lookup(UpstreamTarget& t);
  // After the exchange of a request that was held: the next one held for its session may go
  // (see Holds::kReleaseAtOnce). Called by the codec once forward() returns.
  void end_hold() {
    if (!held_session_.empty()) release_next_held();
  }
  const Reply* reply() const { return reply_ ? &*reply_ : nullptr; }
  // The upstream phases for a plan that chose to forward (see plan_for). True when the
  // exchange completed cleanly.
  boost::asio::awaitable<bool> forward(const UpstreamTarget& t);

 private:
  Plan plan(UpstreamTarget& t);
  enum class Step : uint8_t { kContinue, kReply, kHold, kLookup };

  // ---- planning (exchange.cc) ----
  Step admit();
  Step match(routing::RuleMatch& m);
  Step resolve(const routing::Action& a, const routing::RuleMatch& m, UpstreamTarget& t);
  // A path-mode session worker's script (or the 404 for another name in its directory).
  Step worker_file(const routing::Action& a, std::string_view id, std::string_view rest);
  Step authorize();
  Step hold();
  Step pick_upstream(const routing::Action& a, UpstreamTarget& t);
  Step answer(ReplyKind k, std::string_view detail = {});
  Step unknown_session(std::string_view id);
  // The client's X-Request-Id (empty: none), quoted to the platform and on the starting page.
  // After a hold: the route as it is now decides (exchange_hold.cc).
  Plan after_hold(UpstreamTarget& t, registry::RouteState state);
  // After resolve found the route (at once or after a lookup): authorize, hold, pick.
  Plan after_resolve(const routing::Action& a, UpstreamTarget& t);
  // No route for `id`: a lookup when the store offers one (kLookup), else the 404 page.
  Step no_route(std::string_view id);
  // The starting page (live when wake is on) or, for the page's own long poll, the state.
  Step starting(registry::RouteState state);
  // The unavailable page for a route whose container is not running: why, in words, and the
  // state's code (JSON `state`).
  Step unavailable(registry::RouteState state);
  // The poll's answer: the state and, while still waiting, what is happening in words.
  Step wait_state(std::string_view state, std::string_view prose = {});
  size_t held_bytes() const;
  ReplyInput reply_input(std::string_view detail) const;
  bool request_is_https() const;
  Step to_https();

  // ---- upstream (exchange_upstream.cc) ----
  enum class SendResult : uint8_t { kOk, kUpstreamFailed, kClientFailed, kBodyTooLarge, kBadBody };
  enum class HeadResult : uint8_t { kOk, kBrokenBeforeAnyByte, kFailed };
  void prepare_head(const UpstreamTarget& t);
  std::optional<Error> refuse_switch() const;
  boost::asio::awaitable<bool> connect(const boost::asio::ip::tcp::endpoint& ep, bool check_policy);
  bool take_pooled(const net::PoolKey& key);
  void drop_upstream();
  boost::asio::awaitable<bool> prevalidate_chunked();
  boost::asio::awaitable<SendResult> send_body();
  boost::asio::awaitable<bool> send_upstream(std::string_view a, std::string_view b = {},
                                             std::string_view c = {});
  std::optional<HeadResult> take_response_head(std::chrono::steady_clock::time_point sent_at);
  HeadResult response_read_failed(bool any_byte);
  boost::asio::awaitable<HeadResult> read_response_head(
      std::chrono::steady_clock::time_point sent_at);
  boost::asio::awaitable<bool> fail(const Error& e);

  // ---- response (exchange_relay.cc) ----
  boost::asio::awaitable<bool> relay();
  boost::asio::awaitable<bool> relay_length(uint64_t remaining);
  boost::asio::awaitable<bool> relay_chunked();
  boost::asio::awaitable<bool> relay_until_close();
  boost::asio::awaitable<bool> read_upstream_body();
  boost::asio::awaitable<bool> write(std::string_view data, bool last);
  boost::asio::awaitable<void> tunnel();
  // The response is a page that gets the session worker's tag (inject_tag_ set by resolve).
  bool start_injection();
  void pool_or_drop(bool complete);

  // Picks up the worker's configuration as it is now: each request is planned and forwarded
  // by the rules, limits and timeouts in force when its head arrived (a reload in between
  // changes the next request, never one in flight).
  void adopt_runtime();

  Worker& w_;
  std::shared_ptr<const Runtime> pin_;  // keeps this request's configuration alive
  const Runtime* rt_ = nullptr;
  const Limits* lim_ = nullptr;
  const Timeouts* to_ = nullptr;
  Downstream* down_ = nullptr;
  const http::RequestHead* req_ = nullptr;

  std::string_view client_ip_;  // the peer's text, or client_buf_
  std::string client_buf_;
  registry::RoutePtr route_;                 // held while a session request is in flight
  const routing::Action* action_ = nullptr;  // the matched rule's, for a held request
  bool wait_poll_ = false;    // X-Sessiongate-Wait: the starting page asks how far the wake is
  std::string held_session_;  // set while a released held request is forwarded
  std::string lookup_id_;     // the unknown session a kLookup plan waits for
  void release_next_held();
  std::optional<Reply> reply_;
  access::Decision access_;
  registry::Millis now_ms_ = 0;  // wall clock, read once by authorize()
  std::string target_buf_;
  std::string cookie_buf_;
  // A navigation of a session with the service worker: the tag its page gets, and what places
  // it once the response turns out to be an HTML page.
  std::string inject_tag_;
  std::optional<http::HtmlInjector> injector_;
  std::string injected_;         // what the injector releases, until it has been written
  std::string_view set_cookie_;  // every extra response line (a Set-Cookie, X-Request-Id)
  std::string response_extra_;

  std::optional<net::Stream> upstream_;
  net::PoolKey pool_key_;
  Buffer up_;
  http::ResponseHead res_;
  std::string upstream_head_;
  size_t upstream_head_len_ = 0;
  size_t head_limit_ = 0;
  std::string expected_accept_;
  TunnelInfo tunnel_;          // filled for an upgrade request, handed to its tunnel
  bool upstream_eof_ = false;  // the last upstream read ended in a clean EOF
  Error err_;
  Error body_error_;
};

}  // namespace sg::proxy
