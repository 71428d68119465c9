// The planning phases: everything decided from the request and this worker's memory, with no
// I/O and no suspension (the common path costs no coroutine frame).
#include "proxy/exchange.h"

#include "lifecycle/wake_controller.h"
#include "proxy/client_address.h"
#include "proxy/listener.h"
#include "proxy/session_worker.h"
#include "proxy/worker.h"
#include "routing/pattern.h"
#include "routing/session_id.h"

namespace sg::proxy {

using http::Framing;
using Clock = std::chrono::steady_clock;

Exchange::Exchange(Worker& w) : w_(w) {
  adopt_runtime();
}

void Exchange::adopt_runtime() {
  const auto& now = w_.runtime_ptr();
  if (now.get() == rt_) return;
  pin_ = now;
  rt_ = pin_.get();
  lim_ = &rt_->settings.limits;
  to_ = &rt_->settings.timeouts;
  head_limit_ = lim_->request_line + lim_->header_bytes + 8;
}

void Exchange::reset() {
  wait_poll_ = false;
  route_.reset();
  reply_.reset();
  set_cookie_ = {};
  inject_tag_.clear();
  injector_.reset();
}

boost::asio::awaitable<bool> Exchange::run(Downstream& down) {
  down_ = &down;
  req_ = &down.request();
  UpstreamTarget t;
  Plan p = plan(t);
  if (p == Plan::kLookup) p = co_await wait_for_lookup(t);
  if (p == Plan::kHold) p = co_await hold_for_wake(t);
  if (p == Plan::kReply) {
    co_await down.send_reply(*reply_);
    co_return true;
  }
  co_return co_await forward(t);
}

Exchange::Plan Exchange::plan(UpstreamTarget& t) {
  reset();
  adopt_runtime();
  if (admit() == Step::kReply) return Plan::kReply;
  routing::RuleMatch m;
  if (match(m) == Step::kReply) return Plan::kReply;
  const routing::Action& a = m.rule->action;
  if (a.type != routing::ActionType::kSession) {
    return pick_upstream(a, t) == Step::kContinue ? Plan::kForward : Plan::kReply;
  }
  const Step resolved = resolve(a, m, t);
  if (resolved == Step::kReply) return Plan::kReply;
  if (resolved == Step::kLookup) {
    action_ = &a;
    return Plan::kLookup;
  }
  return after_resolve(a, t);
}

Exchange::Plan Exchange::after_resolve(const routing::Action& a, UpstreamTarget& t) {
  if (authorize() == Step::kReply) return Plan::kReply;
  const Step held = hold();
  if (held == Step::kReply) return Plan::kReply;
  if (held == Step::kHold) {
    action_ = &a;
    return Plan::kHold;
  }
  return pick_upstream(a, t) == Step::kContinue ? Plan::kForward : Plan::kReply;
}

ReplyInput Exchange::reply_input(std::string_view detail) const {
  ReplyInput in;
  in.detail = detail;
  in.request_id = down_->record().request_id.id();
  if (route_) in.session = route_->session_id;
  in.html = down_->wants_html();
  in.starting_retry_after = rt_->sessions.starting_retry_after;
  in.templates = &rt_->pages;
  return in;
}

Exchange::Step Exchange::answer(ReplyKind k, std::string_view detail) {
  reply_.emplace(make_reply(k, reply_input(detail)));
  return Step::kReply;
}

Exchange::Step Exchange::unknown_session(std::string_view id) {
  ReplyInput in = reply_input({});
  in.session = id;
  reply_.emplace(make_reply(ReplyKind::kUnknownSession, in));
  return Step::kReply;
}

// Who the client is, then the limits that apply before any routing: its request rate, the
// declared body size.
Exchange::Step Exchange::admit() {
  const Peer& peer = down_->peer();
  // The request's id: a trusted proxy's, or a new one. It is what the upstream, the client,
  // the access log and a wake call all name the request by.
  RequestRecord& rec = down_->record();
  const std::string_view given = (req_->fields & http::bit(http::Field::kXRequestId)) != 0
                                     ? req_->header(http::Field::kXRequestId)
                                     : std::string_view();
  if (peer.trusted && valid_request_id(given)) {
    rec.request_id.assign(given);
  } else {
    w_.request_ids().next(rec.request_id);
  }
  if (peer.trusted) {
    const auto client = client_behind(*req_, peer.address, rt_->trusted_proxies);
    client_buf_ = client.to_string();
    client_ip_ = client_buf_;
  } else {
    client_ip_ = peer.ip;
  }
  if (peer.listener != nullptr && peer.listener->redirect_to_https) return to_https();
  if (rt_->client_limits &&
      !rt_->client_limits->take_request(client_ip_, Clock::now().time_since_epoch().count())) {
    return answer(ReplyKind::kRateLimited);
  }
  if (lim_->body_bytes > 0 && req_->framing == Framing::kLength &&
      req_->content_length > lim_->body_bytes) {
    return answer(ReplyKind::kBodyTooLarge, "request body larger than the configured limit");
  }
  return Step::kContinue;
}

Exchange::Step Exchange::match(routing::RuleMatch& m) {
  m = rt_->rules.match(req_->host, req_->path, req_->header(http::Field::kCookie),
                       req_->header(http::Field::kReferer), rt_->sessions.cookie_name,
                       (req_->fields & http::bit(http::Field::kXSessiongateSession)) != 0
                           ? req_->header(http::Field::kXSessiongateSession)
                           : std::string_view());
  if (m.rule == nullptr) return answer(ReplyKind::kNoRule);
  down_->record().rule = m.rule;
  return Step::kContinue;
}

// The session id (path, host or affinity) and its route in this worker's table.
Exchange::Step Exchange::resolve(const routing::Action& a, const routing::RuleMatch& m,
                                 UpstreamTarget& t) {
  std::string_view id;
  std::string_view rest;
  bool from_prefix = false;
  if (a.from == routing::SessionFrom::kPath) {
    if (routing::ambiguous_path(req_->path)) {
      return answer(ReplyKind::kBadSessionPath, "encoded or ambiguous path");
    }
    if (m.by_affinity) {
      id = m.affinity_id;
    } else {
      routing::IdResult r = routing::id_from_path(req_->path, a.prefix, id, rest);
      if (r != routing::IdResult::kFound) {
        return answer(ReplyKind::kBadSessionPath, r == routing::IdResult::kInvalid
                                                      ? "invalid session id"
                                                      : "missing session id");
      }
      from_prefix = true;
      if (a.service_worker) {
        // The worker's own files, before anything about the session: they are the same for
        // every session, so they tell nobody whether this one exists.
        if (rest.starts_with(session_worker::kDir)) return worker_file(a, id, rest);
        if (session_worker::is_navigation(*req_, down_->wants_html())) {
          inject_tag_ = session_worker::script_tag(a.prefix, id);
        }
      }
    }
  } else {
    routing::IdResult r = routing::id_from_host(m.host_no_port, id);
    if (r != routing::IdResult::kFound) {
      return answer(ReplyKind::kBadSessionPath, r == routing::IdResult::kInvalid
                                                    ? "invalid session id in host"
                                                    : "missing session id in host");
    }
  }
  route_ = w_.routes().find_shared(id);
  t.target = req_->target;
  if (from_prefix && a.strip_prefix) {
    target_buf_.assign(rest.empty() ? std::string_view("/") : rest);
    if (!req_->query.empty()) target_buf_.append("?").append(req_->query);
    t.target = target_buf_;
  }
  // Affinity for the dev server's root-level requests: remember the session per origin.
  if (from_prefix && a.affinity &&
      routing::cookie_value(req_->header(http::Field::kCookie), rt_->sessions.cookie_name) != id) {
    cookie_buf_ = "Set-Cookie: " + rt_->sessions.cookie_name + "=" + std::string(id) +
                  "; Path=/; HttpOnly; SameSite=Lax\r\n";
    t.set_cookie = cookie_buf_;
  }
  return route_ ? Step::kContinue : no_route(id);
}

Exchange::Step Exchange::worker_file(const routing::Action& a, std::string_view id,
                                     std::string_view rest) {
  const std::string_view script = session_worker::file(rest);
  const bool read = req_->method_id == http::Method::kGet || req_->method_id == http::Method::kHead;
  if (script.empty() || !read) return answer(ReplyKind::kWorkerFileMissing);
  target_buf_.assign(a.prefix).append(id).append("/");
  ReplyInput in = reply_input({});
  in.body = script;
  in.worker_scope = target_buf_;
  reply_.emplace(make_reply(ReplyKind::kWorkerScript, in));
  return Step::kReply;
}

// Preview access, before anything about the container: a caller without a link learns
// nothing about it.
Exchange::Step Exchange::authorize() {
  now_ms_ = registry::now_ms();
  const access::Policy policy{&rt_->links, rt_->token_param, rt_->default_link};
  if (!access::needs_link(*route_, policy)) {
    access_.action = access::Action::kAllow;
    access_.strip_token_header = access_.strip_authorization = access_.strip_cookie = false;
    return Step::kContinue;
  }
  access_ = access::decide(*req_, *route_, now_ms_, policy, request_is_https());
  switch (access_.action) {
    case access::Action::kAllow:
      return Step::kContinue;
    case access::Action::kRedirect: {
      ReplyInput in = reply_input({});
      in.location = access_.location;
      in.set_cookie = access_.set_cookie;
      reply_.emplace(make_reply(ReplyKind::kLinkRedirect, in));
      return Step::kReply;
    }
    case access::Action::kForbid:
      return answer(ReplyKind::kForbidden, access_.detail);
  }
  return Step::kReply;
}

// Where a request waits for its route to become usable: a container that can be woken is, when
// wake-on-request is configured (the wait itself is hold_for_wake); otherwise a container that
// is not ready gets its page at once.
Exchange::Step Exchange::hold() {
  w_.note_activity(*route_, now_ms_);
  const registry::RouteState state = registry::state_of(*route_, now_ms_);
  if (rt_->wake == nullptr) {
    if (state == registry::RouteState::kReady) return Step::kContinue;
    if (state == registry::RouteState::kNoContainer || state == registry::RouteState::kStarting) {
      return starting(state);
    }
    return unavailable(state);
  }
  wait_poll_ = (req_->fields & http::bit(http::Field::kXSessiongateWait)) != 0;
  if (state == registry::RouteState::kReady) {
    return wait_poll_ ? wait_state("ready") : Step::kContinue;
  }
  // A starting container is waited for too (someone else woke it): it is about to be ready.
  if (registry::wakeable(state) || state == registry::RouteState::kStarting) return Step::kHold;
  return unavailable(state);
}

namespace {

// What a starting page says is happening, as a code and in words.
struct WaitText {
  std::string_view code, prose;
};
WaitText wait_text(registry::RouteState s, bool wake) {
  if (s == registry::RouteState::kStarting) {
    return {"starting", "The container is up; waiting for its dev server to answer."};
  }
  if (wake) return {"waking", "Waking the preview: the platform is starting its container."};
  return {"waiting", "Waiting for the preview's container to register."};
}

}  // namespace

Exchange::Step Exchange::starting(registry::RouteState state) {
  const WaitText text = wait_text(state, rt_->wake != nullptr);
  if (wait_poll_) return wait_state(text.code, text.prose);
  ReplyInput in = reply_input(text.prose);
  in.state = text.code;
  in.live = rt_->wake != nullptr;
  reply_.emplace(make_reply(ReplyKind::kContainerStarting, in));
  return Step::kReply;
}

Exchange::Step Exchange::unavailable(registry::RouteState state) {
  using S = registry::RouteState;
  std::string prose;
  switch (state) {
    case S::kStopped:
      prose = "Its container is stopped.";
      break;
    case S::kFailed:
      prose = "Its container is marked as failed.";
      break;
    case S::kLeaseExpired:
      prose = "Its container stopped sending heartbeats (its lease ran out).";
      break;
    case S::kSleeping:
      prose = "Its container is asleep, and this router is not set up to wake containers.";
      break;
    case S::kContainerDeleted:
      prose = "Its container (" + route_->container_id +
              ") was deleted: nothing serves this session until a container registers for it.";
      break;
    default:
      prose = "Its container is not running.";
      break;
  }
  ReplyInput in = reply_input(prose);
  in.state = registry::to_string(state);
  reply_.emplace(make_reply(ReplyKind::kContainerDown, in));
  return Step::kReply;
}

Exchange::Step Exchange::wait_state(std::string_view state, std::string_view prose) {
  ReplyInput in = reply_input(prose);
  in.state = state;
  reply_.emplace(make_reply(ReplyKind::kWaitState, in));
  return Step::kReply;
}

Exchange::Step Exchange::pick_upstream(const routing::Action& a, UpstreamTarget& t) {
  switch (a.type) {
    case routing::ActionType::kUpstream:
      t = UpstreamTarget{a.address, a.address_text, 0, a.host_header, req_->target, {}, false};
      return Step::kContinue;
    case routing::ActionType::kSession:
      t.address = route_->address;
      t.address_text = route_->address_text;
      t.generation = route_->generation;
      t.host_header = a.host_header;
      t.from_registry = true;
      return Step::kContinue;
    case routing::ActionType::kFixed: {
      ReplyInput in = reply_input({});
      in.status = a.status;
      in.page = a.page;
      in.body = a.body;
      in.content_type = a.content_type;
      reply_.emplace(make_reply(ReplyKind::kFixed, in));
      return Step::kReply;
    }
    case routing::ActionType::kRedirect: {
      std::string location;
      std::string_view rest = a.location;
      for (;;) {
        const size_t open = rest.find('{');
        if (open == rest.npos) break;
        location += rest.substr(0, open);
        rest.remove_prefix(open);
        if (rest.starts_with("{path}")) {
          location += req_->path;
          rest.remove_prefix(6);
        } else if (rest.starts_with("{query}")) {
          location += req_->query;
          rest.remove_prefix(7);
        } else if (rest.starts_with("{host}")) {
          location += req_->host;
          rest.remove_prefix(6);
        } else {
          location += '{';
          rest.remove_prefix(1);
        }
      }
      location += rest;
      ReplyInput in = reply_input({});
      in.status = a.status;
      in.location = location;
      reply_.emplace(make_reply(ReplyKind::kRedirect, in));
      return Step::kReply;
    }
  }
  return answer(ReplyKind::kNoRule);
}

// A plain listener that only sends browsers to HTTPS: 308 keeps the method and body, the same
// host (without the plain port: HTTPS is on its default one) and the whole request-target.
Exchange::Step Exchange::to_https() {
  std::string_view host = req_->host;
  if (host.empty()) return answer(ReplyKind::kBadRequest, "a redirect to https needs a Host");
  if (host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else if (const size_t colon = host.find(':'); colon != host.npos) {
    host = host.substr(0, colon);
  }
  target_buf_.assign("https://").append(host).append(req_->target);
  ReplyInput in = reply_input({});
  in.status = 308;
  in.location = target_buf_;
  reply_.emplace(make_reply(ReplyKind::kRedirect, in));
  return Step::kReply;
}

// Over TLS to us, or to a trusted proxy that says so.
bool Exchange::request_is_https() const {
  const Peer& peer = down_->peer();
  return peer.secure ||
         (peer.trusted && http::iequals(req_->header(http::Field::kXForwardedProto), "https"));
}

}  // namespace sg::proxy
