#include "proxy/connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <optional>
#include <string>

#include "common/buffer.h"
#include "common/error.h"
#include "http/chunked.h"
#include "http/pages.h"
#include "http/parser.h"
#include "http/serializer.h"
#include "http/websocket.h"
#include "net/cidr.h"
#include "net/send_now.h"
#include "net/watchdog.h"
#include "observe/metrics.h"
#include "proxy/error_page.h"
#include "proxy/request_record.h"
#include "proxy/tunnel.h"
#include "proxy/worker.h"
#include "registry/route.h"
#include "routing/pattern.h"
#include "routing/session_id.h"

namespace sg::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using http::Framing;

namespace {

using observe::Outcome;
using Clock = std::chrono::steady_clock;

int64_t us_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

Outcome outcome_of(ErrorKind k) {
  switch (k) {
    case ErrorKind::kNoRule:
      return Outcome::k_no_rule;
    case ErrorKind::kUnknownSession:
      return Outcome::k_unknown_session;
    case ErrorKind::kContainerStarting:
      return Outcome::k_starting;
    case ErrorKind::kContainerDown:
    case ErrorKind::kShuttingDown:
      return Outcome::k_unavailable;
    case ErrorKind::kUpstreamRefused:
    case ErrorKind::kUpstreamForbidden:
      return Outcome::k_upstream_refused;
    case ErrorKind::kUpstreamTimeout:
      return Outcome::k_upstream_timeout;
    case ErrorKind::kUpstreamBroken:
    case ErrorKind::kUpstreamInvalid:
      return Outcome::k_upstream_invalid;
    case ErrorKind::kOverloaded:
      return Outcome::k_rate_limited;
    default:
      return Outcome::k_bad_request;
  }
}

constexpr auto kUse = asio::as_tuple(asio::use_awaitable);
// How long an idle keep-alive connection keeps its read buffer and a pending read.
constexpr auto kHotIdle = std::chrono::seconds(1);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";
constexpr std::string_view kCrlf = "\r\n";

enum class Next { kKeepAlive, kClose };

// Hex size line of one chunk, kept beside the data it frames for a single gather write.
struct ChunkHeader {
  char buf[20];
  size_t len = 0;
  explicit ChunkHeader(size_t n) {
    auto [p, ec] = std::to_chars(buf, buf + 16, n, 16);
    p[0] = '\r';
    p[1] = '\n';
    len = static_cast<size_t>(p + 2 - buf);
  }
  asio::const_buffer buffer() const { return {buf, len}; }
};

// Where and how one request is forwarded.
struct UpstreamTarget {
  tcp::endpoint address;
  std::string_view address_text;
  uint64_t generation = 0;
  routing::HostHeader host_header = routing::HostHeader::kKeep;
  std::string_view target;      // request-target to send
  std::string_view set_cookie;  // a Set-Cookie header line to add to the response, or empty
  bool from_registry = false;   // a container address: subject to the SSRF policy
};

// What the access check consumed, so it is not forwarded.
struct Consumed {
  bool token_header = false;
  bool authorization = false;
  bool cookie = false;
};

class Connection {
 public:
  Connection(Worker& w, ClientPtr c)
      : w_(w),
        rt_(w.runtime()),
        lim_(rt_.settings.limits),
        to_(rt_.settings.timeouts),
        cc_(std::move(c)),
        client_(cc_->socket),
        dog_(client_.get_executor()) {
    dog_.watch(&client_);
    head_limit_ = lim_.request_line + lim_.header_bytes + 8;
  }

  // Serves requests until the client closes, goes idle (parked) or becomes a tunnel.
  awaitable<void> run() {
    for (;;) {
      begin_request();
      const Head h = co_await read_head();
      if (h == Head::kPark) {
        w_.park(std::move(cc_), park_kind_, park_deadline_);
        co_return;
      }
      if (h == Head::kEnd) {
        if (rec_.status != 0)
          finish_request();  // a rejected head was answered: it is a request too
        break;
      }
      if (rt_.access_log) {
        // Body reads and tunnels reuse the read buffer the head points into: keep a copy.
        snap_.method = req_.method;
        snap_.host = req_.host;
        snap_.path = req_.path;
        snap_.user_agent = req_.header(http::Field::kUserAgent);
        snap_.valid = true;
      }
      UpstreamTarget target;
      Next next = plan(target) ? co_await forward(target) : co_await respond_locally();
      if (!cc_) co_return;  // now a tunnel, which reports the request when it ends
      finish_request();
      if (next == Next::kClose || w_.draining()) break;
    }
    co_await close_client();
  }

  // Answers a client over its per-address connection limit, then closes.
  awaitable<void> refuse() { co_await reject_client("too many connections from your address"); }

 private:
  // ---- downstream head ------------------------------------------------------------------

  enum class Head { kReady, kEnd, kPark };

  // kReady with req_ parsed and head_len_ set; kEnd when the connection must end (any error
  // response has been sent); kPark when it went idle and should wait without this object.
  awaitable<Head> read_head() {
    // A connection starts when its socket is readable: its first head is read at once.
    if (in_.empty() && !std::exchange(fresh_, false)) {
      if (w_.draining()) co_return Head::kEnd;
      const auto idle_start = net::coarse_now();
      const auto idle_deadline = idle_start + to_.keepalive_idle;
      park_kind_ = Parking::kKeepAlive;
      // A connection that just finished a request usually sends the next one soon: read into
      // the buffer it still holds. The reactor knows the socket is drained, so this read
      // costs no syscall until data arrives, where a readiness wait would re-arm epoll
      // (epoll_ctl) every time. After kHotIdle without data, park (hold nothing).
      if (in_.capacity() > 0 && w_.take_hot_idle()) {
        idle_entry_.socket = &client_;
        w_.add_idle(idle_entry_);
        dog_.arm_at(std::min(idle_deadline, idle_start + kHotIdle));
        auto [p, n] = in_.prepare(4096, head_limit_);
        auto [ec, got] = co_await client_.async_read_some(asio::buffer(p, n), kUse);
        w_.give_hot_idle();
        w_.remove_idle(idle_entry_);
        if (!ec) {
          rec_.bytes_in += got;
          in_.commit(got);
        } else if (!dog_.expired() || Clock::now() >= idle_deadline || w_.draining()) {
          co_return Head::kEnd;
        }
        park_kind_ = Parking::kAfterHotIdle;
      }
      if (in_.empty()) {
        dog_.disarm();
        park_deadline_ = idle_deadline;
        co_return Head::kPark;
      }
    }
    rec_.start = Clock::now();
    dog_.arm(to_.request_head);
    const http::ParseLimits plim{lim_.request_line, lim_.header_bytes, lim_.header_fields};
    for (;;) {
      if (!in_.empty()) {
        http::ParseResult r = http::parse_request(in_.data(), plim, req_);
        if (r.state == http::ParseState::kComplete) {
          head_len_ = r.consumed;
          co_return Head::kReady;
        }
        if (r.state == http::ParseState::kError) {
          // The head is unusable, but a browser still deserves a page it can render.
          html_ = in_.data().find("text/html") != std::string_view::npos;
          co_await send_error(error_from_parse(r.error), true);
          co_return Head::kEnd;
        }
      }
      auto [p, n] = in_.prepare(4096, head_limit_);
      if (n == 0) {
        co_await send_error(
            {ErrorKind::kHeadersTooLarge, Side::kDownstream, false, "request head too large"},
            true);
        co_return Head::kEnd;
      }
      auto [ec, got] = co_await client_.async_read_some(asio::buffer(p, n), kUse);
      rec_.bytes_in += got;
      if (ec) {
        if (dog_.expired() && !in_.empty()) {
          co_await send_error({ErrorKind::kRequestTimeout, Side::kDownstream, false,
                               "request head not received in time"},
                              true);
        }
        co_return Head::kEnd;
      }
      in_.commit(got);
    }
  }

  // ---- dispatch ---------------------------------------------------------------------------

  // Decides what to do with the parsed request. True with `t` set: forward it. False: the
  // answer is local (local_). Not a coroutine, so the forwarding path costs no extra frame.
  bool plan(UpstreamTarget& t) {
    html_ = http::wants_html(req_.header(http::Field::kAccept));
    route_.reset();
    set_cookie_ = {};
    if (rt_.client_limits &&
        !rt_.client_limits->take_request(cc_->ip, Clock::now().time_since_epoch().count())) {
      return answer(http::make_page(429, "rate_limited", "Too many requests",
                                    "This address sent too many requests. Wait a moment and "
                                    "try again."),
                    "Retry-After: 1\r\n", Outcome::k_rate_limited);
    }
    if (lim_.body_bytes > 0 && req_.framing == Framing::kLength &&
        req_.content_length > lim_.body_bytes) {
      local().kind = LocalKind::kError;
      local().error = {ErrorKind::kBodyTooLarge, Side::kDownstream, false,
                       "request body larger than the configured limit"};
      return false;
    }
    routing::RuleMatch m =
        rt_.rules.match(req_.host, req_.path, req_.header(http::Field::kCookie),
                        req_.header(http::Field::kReferer), rt_.sessions.cookie_name);
    if (m.rule == nullptr) {
      return answer(error_page({ErrorKind::kNoRule, Side::kDownstream, false, ""}), {},
                    Outcome::k_no_rule);
    }
    rec_.rule = m.rule;
    const routing::Action& a = m.rule->action;
    switch (a.type) {
      case routing::ActionType::kUpstream:
        t = UpstreamTarget{a.address, a.address_text, 0, a.host_header, req_.target, {}, false};
        return true;
      case routing::ActionType::kSession:
        return resolve_session(a, m, t);
      case routing::ActionType::kFixed:
      case routing::ActionType::kRedirect:
        local().kind =
            a.type == routing::ActionType::kFixed ? LocalKind::kFixed : LocalKind::kRedirect;
        local().action = &a;
        return false;
    }
    local().kind = LocalKind::kError;
    local().error = {ErrorKind::kNoRule, Side::kDownstream, false, ""};
    return false;
  }

  awaitable<Next> respond_locally() {
    switch (local().kind) {
      case LocalKind::kPage:
        co_return co_await local_response(local().page, local().extra, local().outcome);
      case LocalKind::kError:
        co_await send_error(local().error, true);
        co_return Next::kClose;
      case LocalKind::kFixed:
        co_return co_await fixed(*local().action);
      case LocalKind::kRedirect:
        co_return co_await redirect(*local().action);
    }
    co_return Next::kClose;
  }

  // Session routing: find the id and resolve the route in this worker's table (memory only).
  // True with `t` set to forward to the container; false with local_ holding the page to answer
  // with. Not a coroutine: the common path costs no frame.
  bool resolve_session(const routing::Action& a, const routing::RuleMatch& m, UpstreamTarget& t) {
    std::string_view id;
    std::string_view rest;
    bool from_prefix = false;
    if (a.from == routing::SessionFrom::kPath) {
      if (routing::ambiguous_path(req_.path)) {
        return answer(error_page({ErrorKind::kBadSessionPath, Side::kDownstream, false,
                                  "encoded or ambiguous path"}),
                      {}, Outcome::k_bad_request);
      }
      if (m.by_affinity) {
        id = m.affinity_id;
      } else {
        routing::IdResult r = routing::id_from_path(req_.path, a.prefix, id, rest);
        if (r != routing::IdResult::kFound) {
          return answer(error_page({ErrorKind::kBadSessionPath, Side::kDownstream, false,
                                    r == routing::IdResult::kInvalid ? "invalid session id"
                                                                     : "missing session id"}),
                        {}, Outcome::k_bad_request);
        }
        from_prefix = true;
      }
    } else {
      routing::IdResult r = routing::id_from_host(m.host_no_port, id);
      if (r != routing::IdResult::kFound) {
        return answer(error_page({ErrorKind::kBadSessionPath, Side::kDownstream, false,
                                  r == routing::IdResult::kInvalid ? "invalid session id in host"
                                                                   : "missing session id in host"}),
                      {}, Outcome::k_bad_request);
      }
    }
    route_ = w_.routes().find_shared(id);
    if (!route_) {
      http::Page page = error_page({ErrorKind::kUnknownSession, Side::kDownstream, false, ""});
      page.session = id;
      return answer(page, {}, Outcome::k_unknown_session);
    }
    const registry::Millis now = registry::now_ms();
    // Access before anything else: a caller without a link learns nothing about the container.
    const bool need_link = route_->access == registry::RouteAccess::kLink ||
                           (route_->access == registry::RouteAccess::kDefault && rt_.default_link);
    consumed_ = {};
    if (need_link) {
      AccessResult ar = check_access(now);
      if (ar == AccessResult::kRedirect) {
        return answer(local().access_page, local().access_headers, Outcome::k_redirect);
      }
      if (ar == AccessResult::kForbidden) {
        return answer(local().access_page, {}, Outcome::k_forbidden);
      }
    }
    w_.note_activity(*route_, now);
    registry::RouteState state = registry::state_of(*route_, now);
    if (state != registry::RouteState::kReady) {
      const bool starting =
          state == registry::RouteState::kNoContainer || state == registry::RouteState::kStarting;
      http::Page page =
          error_page({starting ? ErrorKind::kContainerStarting : ErrorKind::kContainerDown,
                      Side::kUpstream, true, registry::to_string(state).data()});
      page.session = route_->session_id;
      std::string extra;
      if (starting) {
        page.refresh = rt_.sessions.starting_retry_after;
        extra = "Retry-After: " + std::to_string(rt_.sessions.starting_retry_after) + "\r\n";
      }
      return answer(page, extra, starting ? Outcome::k_starting : Outcome::k_unavailable);
    }
    t = UpstreamTarget{route_->address,
                       route_->address_text,
                       route_->generation,
                       a.host_header,
                       req_.target,
                       {},
                       true};
    if (from_prefix && a.strip_prefix) {
      target_buf_.assign(rest.empty() ? std::string_view("/") : rest);
      if (!req_.query.empty()) target_buf_.append("?").append(req_.query);
      t.target = target_buf_;
    }
    // Affinity for the dev server's root-level requests: remember the session per origin.
    if (from_prefix && a.affinity &&
        routing::cookie_value(req_.header(http::Field::kCookie), rt_.sessions.cookie_name) != id) {
      cookie_buf_ = "Set-Cookie: " + rt_.sessions.cookie_name + "=" + std::string(id) +
                    "; Path=/; HttpOnly; SameSite=Lax\r\n";
      t.set_cookie = cookie_buf_;
    }
    return true;
  }

  // Keeps a locally made page for respond_locally() to send; always false (see resolve_session).
  bool answer(http::Page page, std::string_view extra, Outcome outcome) {
    local().kind = LocalKind::kPage;
    local().page = std::move(page);
    local().extra.assign(extra);
    local().outcome = outcome;
    return false;
  }

  // A response the proxy makes itself. A request body it did not read ends the connection:
  // skipping an unread body is how request smuggling starts.
  awaitable<Next> local_response(const http::Page& page, std::string_view extra_headers,
                                 Outcome outcome) {
    rec_.outcome = outcome;
    rec_.status = page.status;
    const bool close = !req_.keep_alive || req_.framing != Framing::kNone;
    out_.clear();
    http::render_page(page, html_, close, out_, extra_headers, page_template(page.code));
    if (req_.method_id == http::Method::kHead) out_.resize(out_.find("\r\n\r\n") + 4);
    in_.consume(head_len_);
    if (!co_await write_client(asio::buffer(out_))) co_return Next::kClose;
    co_return close ? Next::kClose : Next::kKeepAlive;
  }

  awaitable<Next> fixed(const routing::Action& a) {
    if (a.body.empty()) {
      http::Page page = named_page(a.page, a.status);
      co_return co_await local_response(page, {}, Outcome::k_fixed);
    }
    const bool close = !req_.keep_alive || req_.framing != Framing::kNone;
    rec_.outcome = Outcome::k_fixed;
    rec_.status = a.status;
    out_.clear();
    out_ += "HTTP/1.1 " + std::to_string(a.status) + " ";
    out_ += http::status_text(a.status);
    out_ += "\r\nContent-Type: " + a.content_type;
    out_ += "\r\nContent-Length: " + std::to_string(a.body.size()) + "\r\n";
    if (close) out_ += "Connection: close\r\n";
    out_ += "\r\n";
    if (req_.method_id != http::Method::kHead) out_ += a.body;
    in_.consume(head_len_);
    if (!co_await write_client(asio::buffer(out_))) co_return Next::kClose;
    co_return close ? Next::kClose : Next::kKeepAlive;
  }

  awaitable<Next> redirect(const routing::Action& a) {
    std::string location;
    std::string_view rest = a.location;
    for (;;) {
      size_t open = rest.find('{');
      if (open == rest.npos) break;
      location += rest.substr(0, open);
      rest.remove_prefix(open);
      if (rest.starts_with("{path}")) {
        location += req_.path;
        rest.remove_prefix(6);
      } else if (rest.starts_with("{query}")) {
        location += req_.query;
        rest.remove_prefix(7);
      } else if (rest.starts_with("{host}")) {
        location += req_.host;
        rest.remove_prefix(6);
      } else {
        location += '{';
        rest.remove_prefix(1);
      }
    }
    location += rest;
    std::string headers = "Location: " + location + "\r\n";
    http::Page page = http::make_page(a.status, "redirect", http::status_text(a.status),
                                      "This page has moved.", location);
    co_return co_await local_response(page, headers, Outcome::k_redirect);
  }

  // ---- upstream ---------------------------------------------------------------------------

  // Connects, bounded by upstream_connect. On failure sets err_.
  awaitable<bool> connect(const tcp::endpoint& ep, bool check_policy) {
    // Registration checked the address; the policy may have tightened since (restart with a
    // new allow-list), so it is checked again before any packet leaves. Static upstreams in
    // the configuration are the operator's own and are not subject to it.
    if (check_policy && !rt_.upstream_policy.check(ep).empty()) {
      err_ = {ErrorKind::kUpstreamForbidden, Side::kUpstream, false,
              "the container address is not allowed by this router's policy"};
      co_return false;
    }
    upstream_.emplace(client_.get_executor());
    dog_.watch(&client_, &*upstream_);
    dog_.arm(to_.upstream_connect);
    const auto t0 = Clock::now();
    auto [ec] = co_await upstream_->async_connect(ep, kUse);
    rec_.connect_us = us_since(t0);
    w_.metrics().upstream_connect.observe_us(static_cast<uint64_t>(rec_.connect_us));
    if (ec) {
      err_ = dog_.expired() ? Error{ErrorKind::kUpstreamTimeout, Side::kUpstream, false,
                                    "upstream connect timed out"}
                            : Error{ErrorKind::kUpstreamRefused, Side::kUpstream, false,
                                    "upstream refused the connection"};
      upstream_.reset();
      dog_.watch(&client_);
      co_return false;
    }
    upstream_->set_option(tcp::no_delay(true), ec);
    co_return true;
  }

  // A pooled connection when one is idle and fit for this request, else a new one.
  // A pooled connection to `key`, if one is usable; no suspension, so no coroutine frame on
  // the common path.
  bool take_pooled(const net::PoolKey& key) {
    while (auto s = w_.pool().take(key)) {
      // A request that must not be replayed only goes on a connection proven open now.
      if (!req_.idempotent() && !net::still_open(*s)) continue;
      upstream_.emplace(std::move(*s));
      dog_.watch(&client_, &*upstream_);
      rec_.connect_us = 0;
      w_.metrics().upstream_pool_idle.set(w_.pool().idle_count());
      return true;
    }
    return false;
  }

  void drop_upstream() {
    if (upstream_) {
      boost::system::error_code ignored;
      upstream_->close(ignored);
      upstream_.reset();
    }
    up_.consume(up_.size());
    dog_.watch(&client_);
  }

  awaitable<Next> forward(const UpstreamTarget& a) {
    pool_key_ = {a.address, a.generation};
    const net::PoolKey& key = pool_key_;
    in_.consume(head_len_);  // what follows the head is body (and maybe the next request)
    const bool has_body = req_.framing != Framing::kNone;
    const bool replayable = req_.idempotent() && !has_body;

    http::ForwardInfo info;
    info.client_ip = cc_->ip;
    info.client_ipv6 = cc_->v6;
    info.host = a.host_header == routing::HostHeader::kUpstream || req_.host.empty()
                    ? std::string_view(a.address_text)
                    : req_.host;
    info.target = a.target;
    info.strip_token_header = consumed_.token_header;
    info.strip_authorization = consumed_.authorization;
    if (consumed_.cookie) {
      info.replace_cookie = true;
      info.cookie = forwarded_cookie_;
    }
    set_cookie_ = a.set_cookie;
    upstream_head_.clear();
    http::serialize_request(req_, info, upstream_head_);

    if (req_.framing == Framing::kChunked && !co_await prevalidate_chunked()) {
      co_await send_error(body_error_, true);
      co_return Next::kClose;
    }

    expected_accept_.clear();
    if (req_.upgrade && http::iequals(req_.header(http::Field::kUpgrade), "websocket")) {
      expected_accept_ = http::websocket_accept(req_.header(http::Field::kSecWebSocketKey));
    }

    bool continue_sent = false;
    for (int attempt = 0;; ++attempt) {
      const bool reused = attempt == 0 && take_pooled(key);
      if (!reused && !co_await connect(key.endpoint, a.from_registry)) {
        co_return co_await fail(err_);
      }
      if (req_.expect_continue && has_body && in_.empty() && !continue_sent) {
        continue_sent = true;
        if (!co_await write_client(asio::buffer(kContinue))) {
          drop_upstream();
          co_return Next::kClose;
        }
      }
      SendResult sent = SendResult::kOk;
      if (req_.framing == Framing::kNone) {
        // The common case inline (one coroutine frame less per request).
        std::array<asio::const_buffer, 1> head{asio::buffer(upstream_head_)};
        size_t n = 0;
        boost::system::error_code ec;
        if (!net::send_now(*upstream_, head, n, ec) && !ec) {
          ec = co_await write_rest(*upstream_, head, n);
        }
        if (ec) sent = SendResult::kUpstreamFailed;
      } else {
        sent = co_await send_request();
      }
      if (sent == SendResult::kClientFailed) {
        drop_upstream();
        co_return Next::kClose;
      }
      if (sent == SendResult::kBodyTooLarge) {
        drop_upstream();
        co_await send_error({ErrorKind::kBodyTooLarge, Side::kDownstream, false,
                             "request body larger than the configured limit"},
                            true);
        co_return Next::kClose;
      }
      if (sent == SendResult::kBadBody) {
        drop_upstream();
        co_await send_error(body_error_, true);
        co_return Next::kClose;
      }
      HeadResult head = HeadResult::kBrokenBeforeAnyByte;
      if (sent != SendResult::kUpstreamFailed) {
        // The common case inline (one coroutine frame less per request): the first read
        // brings the whole final head. Anything else continues in read_response_head().
        dog_.arm(to_.upstream_head);
        const auto sent_at = Clock::now();
        auto [p, n] = up_.prepare(4096, head_limit_);
        auto [ec, got] = co_await upstream_->async_read_some(asio::buffer(p, n), kUse);
        if (ec) {
          head = response_read_failed(false);
        } else {
          up_.commit(got);
          std::optional<HeadResult> done = take_response_head(sent_at);
          head = done ? *done : co_await read_response_head(sent_at);
        }
      }
      if (head == HeadResult::kOk) break;
      drop_upstream();
      if (head == HeadResult::kBrokenBeforeAnyByte && reused && replayable && attempt == 0) {
        w_.metrics().upstream_retries.add();
        continue;  // the pooled connection died under us; nothing reached the client yet
      }
      co_return co_await fail(err_);
    }

    if (res_.status == 101) {
      if (!req_.upgrade) {
        err_ = {ErrorKind::kUpstreamInvalid, Side::kUpstream, false,
                "upstream switched protocols without an upgrade request"};
        drop_upstream();
        co_return co_await fail(err_);
      }
      // A 101 that does not answer this handshake is not the upstream we think it is.
      if (!expected_accept_.empty() &&
          res_.header(http::Field::kSecWebSocketAccept) != expected_accept_) {
        err_ = {ErrorKind::kUpstreamInvalid, Side::kUpstream, false,
                "upstream 101 without a valid Sec-WebSocket-Accept"};
        drop_upstream();
        co_return co_await fail(err_);
      }
      co_await tunnel();
      co_return Next::kClose;
    }
    co_return co_await relay_response();
  }

  // Before anything goes upstream, checks the chunked framing of every body byte already
  // buffered, reading until at least the first chunk line is complete. A body that is bad from
  // the start is then rejected with nothing sent; one that turns bad later is cut off without
  // its last chunk, so the upstream never sees a complete request.
  awaitable<bool> prevalidate_chunked() {
    for (;;) {
      http::ChunkedDecoder probe({lim_.chunk_extension_bytes, lim_.header_bytes});
      std::string_view rest = in_.data();
      bool progressed = false;
      while (!rest.empty()) {
        http::ChunkedDecoder::Step st = probe.step(rest);
        if (st.error.status != 0) {
          body_error_ = error_from_parse(st.error);
          co_return false;
        }
        if (!st.data.empty() || st.done) progressed = true;
        rest.remove_prefix(st.consumed);
        if (st.done || st.consumed == 0) break;
      }
      if (progressed || in_.size() >= lim_.buffer_bytes) co_return true;
      if (req_.expect_continue && in_.empty()) co_return true;  // the client waits for 100
      if (!co_await read_client_body()) {
        body_error_ = {ErrorKind::kBadRequest, Side::kDownstream, false,
                       "client closed before sending the body"};
        co_return false;
      }
    }
  }

  enum class SendResult { kOk, kUpstreamFailed, kClientFailed, kBodyTooLarge, kBadBody };

  // Sends the head, then the body (streamed, re-framed) from the client.
  // Head and body of a request that has one (a body-less request is sent by forward()).
  awaitable<SendResult> send_request() {
    dog_.arm(to_.body_idle);
    if (req_.framing == Framing::kLength) {
      uint64_t remaining = req_.content_length;
      bool head_pending = true;
      while (remaining > 0 || head_pending) {
        if (in_.empty() && remaining > 0) {
          if (!co_await read_client_body()) co_return SendResult::kClientFailed;
        }
        size_t n = static_cast<size_t>(std::min<uint64_t>(in_.size(), remaining));
        std::array<asio::const_buffer, 2> bufs{
            head_pending ? asio::buffer(upstream_head_) : asio::const_buffer(),
            asio::buffer(in_.data().data(), n)};
        size_t w = 0;
        boost::system::error_code ec;
        if (!net::send_now(*upstream_, bufs, w, ec) && !ec)
          ec = co_await write_rest(*upstream_, bufs, w);
        if (ec) co_return SendResult::kUpstreamFailed;
        head_pending = false;
        in_.consume(n);
        remaining -= n;
        dog_.arm(to_.body_idle);
      }
      co_return SendResult::kOk;
    }
    // Chunked: decode strictly, re-chunk canonically, forward each chunk as it arrives.
    {
      auto [ec, n] = co_await asio::async_write(*upstream_, asio::buffer(upstream_head_), kUse);
      if (ec) co_return SendResult::kUpstreamFailed;
    }
    http::ChunkedDecoder dec({lim_.chunk_extension_bytes, lim_.header_bytes});
    uint64_t total = 0;
    for (;;) {
      if (in_.empty()) {
        if (!co_await read_client_body()) co_return SendResult::kClientFailed;
      }
      http::ChunkedDecoder::Step st = dec.step(in_.data());
      if (st.error.status != 0) {
        body_error_ = error_from_parse(st.error);
        co_return SendResult::kBadBody;
      }
      total += st.data.size();
      if (lim_.body_bytes > 0 && total > lim_.body_bytes) co_return SendResult::kBodyTooLarge;
      if (!st.data.empty()) {
        ChunkHeader ch(st.data.size());
        std::array<asio::const_buffer, 3> bufs{ch.buffer(), asio::buffer(st.data),
                                               asio::buffer(kCrlf)};
        size_t w = 0;
        boost::system::error_code ec;
        if (!net::send_now(*upstream_, bufs, w, ec) && !ec)
          ec = co_await write_rest(*upstream_, bufs, w);
        if (ec) co_return SendResult::kUpstreamFailed;
        dog_.arm(to_.body_idle);
      }
      in_.consume(st.consumed);
      if (st.done) {
        auto [ec, w] = co_await asio::async_write(*upstream_, asio::buffer(kLastChunk), kUse);
        co_return ec ? SendResult::kUpstreamFailed : SendResult::kOk;
      }
    }
  }

  awaitable<bool> read_client_body() {
    auto [p, n] = in_.prepare_stream(lim_.buffer_bytes);
    dog_.arm(to_.body_idle);
    auto [ec, got] = co_await client_.async_read_some(asio::buffer(p, n), kUse);
    if (ec) co_return false;
    rec_.bytes_in += got;
    in_.commit_stream(got, n);
    co_return true;
  }

  enum class HeadResult { kOk, kBrokenBeforeAnyByte, kFailed };

  // Reads the final response head, relaying interim 1xx responses. Sets err_ on failure.
  // The final response head if up_ holds a complete one (kOk), or an invalid one (kFailed);
  // nothing while it is incomplete or an interim response comes first.
  std::optional<HeadResult> take_response_head(Clock::time_point sent_at) {
    const http::ParseLimits plim{lim_.request_line, lim_.header_bytes, lim_.header_fields};
    http::ParseResult r = http::parse_response(up_.data(), plim, req_.method_id, res_);
    if (r.state == http::ParseState::kError) {
      err_ = {ErrorKind::kUpstreamInvalid, Side::kUpstream, false, r.error.reason};
      return HeadResult::kFailed;
    }
    if (r.state == http::ParseState::kComplete && (res_.status >= 200 || res_.status == 101)) {
      upstream_head_len_ = r.consumed;
      rec_.first_byte_us = us_since(sent_at);
      w_.metrics().upstream_first_byte.observe_us(static_cast<uint64_t>(rec_.first_byte_us));
      return HeadResult::kOk;
    }
    return std::nullopt;
  }

  HeadResult response_read_failed(bool any_byte) {
    if (dog_.expired()) {
      err_ = {ErrorKind::kUpstreamTimeout, Side::kUpstream, false,
              "upstream did not answer in time"};
      return HeadResult::kFailed;
    }
    err_ = {ErrorKind::kUpstreamBroken, Side::kUpstream, !any_byte,
            "upstream closed the connection before responding"};
    return any_byte ? HeadResult::kFailed : HeadResult::kBrokenBeforeAnyByte;
  }

  // Reads until the final response head, relaying interim ones. Called with the first bytes
  // already in up_.
  awaitable<HeadResult> read_response_head(Clock::time_point sent_at) {
    const http::ParseLimits plim{lim_.request_line, lim_.header_bytes, lim_.header_fields};
    for (;;) {
      if (!up_.empty()) {
        if (std::optional<HeadResult> done = take_response_head(sent_at)) co_return *done;
        http::ParseResult r = http::parse_response(up_.data(), plim, req_.method_id, res_);
        if (r.state == http::ParseState::kComplete) {
          // 100 was answered by us already; other interim responses (103) go to the client.
          if (res_.status != 100) {
            out_.clear();
            http::serialize_interim(res_, out_);
            if (!co_await write_client(asio::buffer(out_))) {
              err_ = {ErrorKind::kBadRequest, Side::kDownstream, false, "client went away"};
              co_return HeadResult::kFailed;
            }
          }
          up_.consume(r.consumed);
          dog_.arm(to_.upstream_head);
          continue;
        }
      }
      auto [p, n] = up_.prepare(4096, head_limit_);
      if (n == 0) {
        err_ = {ErrorKind::kUpstreamInvalid, Side::kUpstream, false,
                "upstream response head too large"};
        co_return HeadResult::kFailed;
      }
      auto [ec, got] = co_await upstream_->async_read_some(asio::buffer(p, n), kUse);
      if (ec) co_return response_read_failed(true);
      up_.commit(got);
    }
  }

  // Streams the response body to the client in the framing chosen for it.
  awaitable<Next> relay_response() {
    const bool client10 = req_.version_minor == 0;
    http::ResponseFraming f;
    f.client_http10 = client10;
    switch (res_.framing) {
      case Framing::kNone:
        f.framing = Framing::kNone;
        break;
      case Framing::kLength:
        f.framing = Framing::kLength;
        break;
      case Framing::kChunked:
      case Framing::kUntilClose:
        // HTTP/1.0 clients cannot read chunked: they get a close-delimited body instead.
        f.framing = client10 ? Framing::kUntilClose : Framing::kChunked;
        break;
    }
    f.keep_alive = req_.keep_alive && !w_.draining() && f.framing != Framing::kUntilClose;
    f.extra = set_cookie_;
    out_.clear();
    http::serialize_response(res_, f, out_);
    up_.consume(upstream_head_len_);
    rec_.outcome = Outcome::k_routed;
    rec_.status = res_.status;

    bool upstream_reusable = res_.keep_alive && res_.framing != Framing::kUntilClose;
    bool complete = false;
    switch (res_.framing) {
      case Framing::kNone: {
        complete = co_await write_client(asio::buffer(out_));
        break;
      }
      case Framing::kLength:
        if (up_.size() >= res_.content_length) {
          // The whole body arrived with the head: one write, no nested coroutines.
          const size_t n = static_cast<size_t>(res_.content_length);
          std::array<asio::const_buffer, 2> bufs{asio::buffer(out_),
                                                 asio::buffer(up_.data().data(), n)};
          size_t w = 0;
          boost::system::error_code ec;
          if (!net::send_now(client_, bufs, w, ec) && !ec)
            ec = co_await write_rest(client_, bufs, w);
          rec_.bytes_out += w;
          up_.consume(n);
          complete = !ec;
        } else {
          complete = co_await relay_length(res_.content_length);
        }
        break;
      case Framing::kChunked:
        complete = co_await relay_chunked(f.framing == Framing::kChunked);
        break;
      case Framing::kUntilClose:
        complete = co_await relay_until_close(f.framing == Framing::kChunked);
        break;
    }
    // Leftover bytes after a complete response mean the upstream is out of step.
    if (complete && upstream_reusable && up_.empty() && upstream_ && !w_.draining()) {
      w_.pool().put(pool_key_, std::move(*upstream_));
      w_.metrics().upstream_pool_idle.set(w_.pool().idle_count());
      upstream_.reset();
      dog_.watch(&client_);
    } else {
      drop_upstream();
    }
    up_.release_if_empty();
    if (!complete) co_return Next::kClose;
    co_return f.keep_alive ? Next::kKeepAlive : Next::kClose;
  }

  // Writes the pending response head (once) together with `data`.
  awaitable<bool> write_with_head(std::string_view data, bool& head_pending,
                                  std::string_view prefix = {}, std::string_view suffix = {}) {
    std::array<asio::const_buffer, 4> bufs{head_pending ? asio::buffer(out_) : asio::const_buffer(),
                                           asio::buffer(prefix), asio::buffer(data),
                                           asio::buffer(suffix)};
    size_t n = 0;
    boost::system::error_code ec;
    if (!net::send_now(client_, bufs, n, ec) && !ec) ec = co_await write_rest(client_, bufs, n);
    rec_.bytes_out += n;
    head_pending = false;
    co_return !ec;
  }

  // The part of a write the socket could not take at once (see net::send_now). Only a write
  // that waits needs a deadline.
  template <size_t N>
  awaitable<boost::system::error_code> write_rest(tcp::socket& s,
                                                  std::array<asio::const_buffer, N> bufs,
                                                  size_t& sent) {
    dog_.arm(to_.body_idle);
    auto [ec, n] = co_await asio::async_write(s, bufs, kUse);
    sent += n;
    co_return ec;
  }

  awaitable<bool> read_upstream_body() {
    auto [p, n] = up_.prepare_stream(lim_.buffer_bytes);
    dog_.arm(to_.body_idle);
    auto [ec, got] = co_await upstream_->async_read_some(asio::buffer(p, n), kUse);
    upstream_eof_ = ec == asio::error::eof;
    if (ec) co_return false;
    up_.commit_stream(got, n);
    co_return true;
  }

  awaitable<bool> relay_length(uint64_t remaining) {
    bool head_pending = true;
    while (remaining > 0) {
      if (up_.empty() && !co_await read_upstream_body()) {
        // Truncated: the client must see a short body and a close, never a complete response.
        if (head_pending) {
          err_ = {ErrorKind::kUpstreamBroken, Side::kUpstream, false,
                  "upstream closed the connection mid-response"};
          co_await send_error(err_, true);
        }
        co_return false;
      }
      size_t n = static_cast<size_t>(std::min<uint64_t>(up_.size(), remaining));
      if (!co_await write_with_head(up_.data().substr(0, n), head_pending)) co_return false;
      up_.consume(n);
      remaining -= n;
    }
    co_return true;
  }

  awaitable<bool> relay_chunked(bool rechunk) {
    http::ChunkedDecoder dec({lim_.chunk_extension_bytes, lim_.header_bytes});
    bool head_pending = true;
    for (;;) {
      if (up_.empty() && !co_await read_upstream_body()) break;
      http::ChunkedDecoder::Step st = dec.step(up_.data());
      if (st.error.status != 0) {
        err_ = {ErrorKind::kUpstreamInvalid, Side::kUpstream, false, st.error.reason};
        break;
      }
      if (st.done) {
        up_.consume(st.consumed);
        co_return co_await write_with_head({}, head_pending, rechunk ? kLastChunk : "");
      }
      if (!st.data.empty()) {
        // Each chunk is written as soon as it is decoded: event streams are never held back.
        ChunkHeader ch(st.data.size());
        bool ok = rechunk ? co_await write_with_head(st.data, head_pending, {ch.buf, ch.len}, kCrlf)
                          : co_await write_with_head(st.data, head_pending);
        if (!ok) co_return false;
      }
      up_.consume(st.consumed);
    }
    if (head_pending) co_await send_error(err_, true);
    co_return false;
  }

  awaitable<bool> relay_until_close(bool rechunk) {
    bool head_pending = true;
    for (;;) {
      if (up_.empty()) {
        if (!co_await read_upstream_body()) {
          // Only a clean EOF ends this body. A reset or timeout is a truncation, which the
          // client must see as one: the connection closes without the last chunk.
          if (!upstream_eof_) co_return false;
          co_return co_await write_with_head({}, head_pending, rechunk ? kLastChunk : "");
        }
      }
      ChunkHeader ch(up_.size());
      bool ok = rechunk
                    ? co_await write_with_head(up_.data(), head_pending, {ch.buf, ch.len}, kCrlf)
                    : co_await write_with_head(up_.data(), head_pending);
      if (!ok) co_return false;
      up_.consume(up_.size());
    }
  }

  // ---- tunnel -----------------------------------------------------------------------------

  // Passes the 101 (and whatever followed it from either side) on, then hands both sockets
  // to a Tunnel; this connection object and its coroutine end there.
  awaitable<void> tunnel() {
    out_.clear();
    http::ResponseFraming f;
    f.extra = set_cookie_;
    http::serialize_response(res_, f, out_);
    up_.consume(upstream_head_len_);
    bool head_pending = true;
    if (!co_await write_with_head(up_.data(), head_pending)) {
      drop_upstream();
      co_return;
    }
    up_.consume(up_.size());
    if (!in_.empty()) {
      dog_.arm(to_.tunnel_idle);
      auto [ec, n] = co_await asio::async_write(*upstream_, asio::buffer(in_.data()), kUse);
      if (ec) {
        drop_upstream();
        co_return;
      }
      in_.consume(n);
    }
    dog_.disarm();
    rec_.outcome = Outcome::k_routed;
    rec_.status = 101;
    rec_.tunnel = true;
    Tunnel::start(std::move(cc_), std::move(*upstream_), route_, rec_, std::move(snap_));
    upstream_.reset();
  }

  // ---- responses and closing ----------------------------------------------------------

  awaitable<bool> write_client(asio::const_buffer b) {
    std::array<asio::const_buffer, 1> bufs{b};
    size_t n = 0;
    boost::system::error_code ec;
    if (!net::send_now(client_, bufs, n, ec) && !ec) ec = co_await write_rest(client_, bufs, n);
    rec_.bytes_out += n;
    co_return !ec;
  }

  awaitable<Next> fail(const Error& e) {
    co_await send_error(e, !req_.keep_alive || req_.framing != Framing::kNone);
    co_return Next::kClose;
  }

  awaitable<void> send_error(const Error& e, bool close) {
    out_.clear();
    http::Page page = error_page(e);
    rec_.outcome = outcome_of(e.kind);
    rec_.status = page.status;
    if (route_) page.session = route_->session_id;
    http::render_page(page, html_, close, out_, {}, page_template(page.code));
    co_await write_client(asio::buffer(out_));
  }

  void begin_request() {
    rec_ = RequestRecord{};  // `start` is set when the head starts arriving
    route_.reset();
    snap_.valid = false;
  }

  // Metrics and the access-log line for the request that just ended.
  void finish_request() { record_request(w_, rec_, cc_->ip, snap_, route_.get()); }

  const std::string* page_template(std::string_view code) const {
    if (!html_ || rt_.pages.empty()) return nullptr;
    auto it = rt_.pages.find(std::string(code));
    return it == rt_.pages.end() ? nullptr : &it->second;
  }

  // A page named by a fixed action: configured template, or a built-in message.
  http::Page named_page(std::string_view name, int status) const {
    http::Page page = http::make_page(status, name.empty() ? std::string_view("fixed") : name,
                                      http::status_text(status), "This address has no content.");
    if (name == "edit-help") {
      page.title = "Nothing to preview here";
      page.message =
          "This is the editor address. A preview lives under /session/<thread id>/ on this "
          "host; open it from your workspace, or check that the link you followed is complete.";
    }
    return page;
  }

  enum class AccessResult { kAllowed, kRedirect, kForbidden };

  // Signed-link access for route_. A token in the query becomes a cookie and a redirect to the
  // clean URL; a token header or the cookie lets the request through. Whatever carried the
  // credential is marked consumed and is not forwarded.
  AccessResult check_access(registry::Millis now_ms) {
    const std::string& id = route_->session_id;
    const int64_t now_s = now_ms / 1000;
    auto verify = [&](std::string_view token) {
      return rt_.links.verify(token, id, now_s, route_->link_epoch);
    };
    access::Verdict last = access::Verdict::kMalformed;
    bool presented = false;
    // 1. ?sg_token=... : exchange for a cookie, redirect to the URL without it.
    std::string_view token;
    std::string clean_query;
    {
      std::string_view q = req_.query;
      const std::string key = rt_.token_param + "=";
      while (!q.empty()) {
        size_t amp = q.find('&');
        std::string_view kv = q.substr(0, amp);
        if (kv.substr(0, key.size()) == key) {
          token = kv.substr(key.size());
        } else if (!kv.empty()) {
          if (!clean_query.empty()) clean_query += '&';
          clean_query += kv;
        }
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
      }
    }
    if (!token.empty()) {
      last = verify(token);
      if (last == access::Verdict::kValid) {
        std::string location(req_.path);
        if (!clean_query.empty()) location += "?" + clean_query;
        local().access_headers = "Location: " + location + "\r\nSet-Cookie: sg_access_" + id + "=" +
                                 std::string(token) + "; Path=/; HttpOnly; SameSite=Lax";
        if (request_is_https()) local().access_headers += "; Secure";
        local().access_headers += "\r\n";
        local().access_location = location;
        local().access_page = http::make_page(302, "redirect", "Found", "Opening your preview.",
                                              local().access_location);
        return AccessResult::kRedirect;
      }
      return forbid(last);
    }
    // 2. A header, for programs.
    std::string_view header = req_.header(http::Field::kXSessiongateToken);
    if (!header.empty()) {
      presented = true;
      last = verify(header);
      if (last == access::Verdict::kValid) {
        consumed_.token_header = true;
        return AccessResult::kAllowed;
      }
    }
    std::string_view auth = req_.header(http::Field::kAuthorization);
    if (auth.size() > 10 && http::iequals(auth.substr(0, 7), "bearer ") &&
        auth.substr(7, 3) == "v1.") {
      presented = true;
      last = verify(auth.substr(7));
      if (last == access::Verdict::kValid) {
        consumed_.authorization = true;
        return AccessResult::kAllowed;
      }
    }
    // 3. The cookie set by a link visit.
    std::string cookie_name = "sg_access_" + id;
    std::string_view cookie_header = req_.header(http::Field::kCookie);
    std::string_view cookie = routing::cookie_value(cookie_header, cookie_name);
    if (!cookie.empty()) {
      presented = true;
      last = verify(cookie);
      if (last == access::Verdict::kValid) {
        consumed_.cookie = true;
        forwarded_cookie_ = without_cookie(cookie_header, cookie_name);
        return AccessResult::kAllowed;
      }
    }
    return forbid(presented ? last : access::Verdict::kMalformed, !presented);
  }

  AccessResult forbid(access::Verdict why, bool nothing_presented = false) {
    local().access_detail = nothing_presented
                                ? "no preview link or token"
                                : "preview link " + std::string(access::to_string(why));
    local().access_page = http::make_page(
        403, "forbidden", "This preview is private",
        "Open it through the preview link you were given (links expire), or ask its owner for a "
        "new one.",
        local().access_detail);
    local().access_page.session = route_->session_id;
    return AccessResult::kForbidden;
  }

  bool request_is_https() const {
    if (!http::iequals(req_.header(http::Field::kXForwardedProto), "https")) return false;
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(cc_->ip, ec);
    if (ec) return false;
    for (const auto& c : rt_.trusted_proxies) {
      if (net::cidr_contains(c, addr)) return true;
    }
    return false;
  }

  static std::string without_cookie(std::string_view header, std::string_view name) {
    std::string out;
    size_t i = 0;
    while (i < header.size()) {
      size_t end = header.find(';', i);
      std::string_view pair = header.substr(i, end == std::string_view::npos ? end : end - i);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      size_t eq = pair.find('=');
      if (!pair.empty() && pair.substr(0, eq) != name) {
        if (!out.empty()) out += "; ";
        out += pair;
      }
      if (end == std::string_view::npos) break;
      i = end + 1;
    }
    return out;
  }

  // Answers a connection refused by a limit, then closes it.
  awaitable<void> reject_client(const char* why) {
    begin_request();
    rec_.start = Clock::now();
    out_.clear();
    http::Page page = http::make_page(429, "too_many_connections", "Too many connections",
                                      "This address has too many open connections. Close some "
                                      "tabs or wait a moment.",
                                      why);
    http::render_page(page, false, true, out_, "Retry-After: 1\r\n");
    rec_.outcome = Outcome::k_rate_limited;
    rec_.status = 429;
    co_await write_client(asio::buffer(out_));
    finish_request();
    co_await close_client();
  }

  // Lingering close: stop sending, then drain briefly so the peer reads our last response
  // instead of a reset caused by its unread request bytes.
  awaitable<void> close_client() {
    boost::system::error_code ignored;
    if (!client_.is_open()) co_return;
    client_.shutdown(tcp::socket::shutdown_send, ignored);
    dog_.arm(std::chrono::seconds(1));
    char sink[4096];
    size_t drained = 0;
    while (drained < 65536) {
      auto [ec, n] = co_await client_.async_read_some(asio::buffer(sink), kUse);
      if (ec) break;
      drained += n;
    }
    client_.close(ignored);
  }

  Worker& w_;
  const Runtime& rt_;
  const Limits& lim_;
  const Timeouts& to_;
  ClientPtr cc_;  // null once parked or handed to a tunnel
  tcp::socket& client_;
  std::optional<tcp::socket> upstream_;
  net::Watchdog dog_;
  IdleEntry idle_entry_;
  bool fresh_ = true;
  Parking park_kind_ = Parking::kKeepAlive;
  Clock::time_point park_deadline_;
  enum class LocalKind : uint8_t { kPage, kError, kFixed, kRedirect };
  struct LocalAnswer {
    LocalKind kind = LocalKind::kPage;
    http::Page page;
    std::string extra;
    Outcome outcome = Outcome::k_routed;
    Error error;
    const routing::Action* action = nullptr;
    // The preview-link check's answer (redirect or refusal).
    std::string access_headers;
    std::string access_location;
    std::string access_detail;
    http::Page access_page;
  };
  // Allocated on a connection's first local answer only: most connections never need one,
  // and an idle connection should not carry a page's worth of fields.
  std::unique_ptr<LocalAnswer> local_;
  LocalAnswer& local() {
    if (!local_) local_ = std::make_unique<LocalAnswer>();
    return *local_;
  }
  Buffer in_;
  Buffer up_;
  http::RequestHead req_;
  http::ResponseHead res_;
  std::string out_;
  std::string upstream_head_;
  bool html_ = false;
  size_t head_len_ = 0;
  size_t upstream_head_len_ = 0;
  size_t head_limit_ = 0;
  Error err_;
  Error body_error_;
  net::PoolKey pool_key_;
  RequestRecord rec_;  // this request's accounting for metrics and the access log
  std::string expected_accept_;
  bool upstream_eof_ = false;  // the last upstream read ended in a clean EOF
  Consumed consumed_;
  std::string forwarded_cookie_;
  HeadSnapshot snap_;
  registry::RoutePtr route_;  // held while a session request is in flight
  std::string target_buf_;
  std::string cookie_buf_;
  std::string_view set_cookie_;
};

}  // namespace

awaitable<void> serve_connection(Worker& worker, ClientPtr client) {
  Connection conn(worker, std::move(client));
  co_await conn.run();
}

awaitable<void> refuse_connection(Worker& worker, ClientPtr client) {
  Connection conn(worker, std::move(client));
  co_await conn.refuse();
}

}  // namespace sg::proxy
