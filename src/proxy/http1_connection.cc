#include "proxy/http1_connection.h"

#include <boost/asio/buffer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include "common/await.h"
#include "http/chunked.h"
#include "http/pages.h"
#include "http/parser.h"

#include "proxy/listener.h"
#include "proxy/tunnel.h"

namespace sg::proxy {

namespace asio = boost::asio;
using asio::awaitable;
using http::Framing;
using Clock = std::chrono::steady_clock;

namespace {

// How long an idle keep-alive connection keeps its read buffer and a pending read.
constexpr auto kHotIdle = std::chrono::seconds(1);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

Http1Connection::Http1Connection(Worker& w, ClientPtr c)
    : w_(w),
      pin_(w.runtime_ptr()),
      rt_(*pin_),
      lim_(rt_.settings.limits),
      to_(rt_.settings.timeouts),
      cc_(std::move(c)),
      client_(cc_->stream),
      dog_(client_.get_executor()),
      head_limit_(lim_.request_line + lim_.header_bytes + 8),
      exchange_(w) {
  dog_.watch(&client_);
}

awaitable<void> Http1Connection::run() {
  for (;;) {
    begin_request();
    const Head h = co_await read_head();
    if (h == Head::kPark) {
      w_.park(std::move(cc_), park_kind_, park_deadline_);
      co_return;
    }
    if (h == Head::kEnd) {
      if (rec_.status != 0) finish_request();  // a rejected head was answered: a request too
      break;
    }
    if (rt_.access_log) {
      // Body reads and tunnels reuse the read buffer the head points into: keep a copy.
      snap_.take(req_);
    }
    html_ = http::wants_html(req_.header(http::Field::kAccept));
    if (req_.version_minor == 0) rec_.protocol = observe::Protocol::kHttp10;
    in_.consume(head_len_);  // what follows the head is body (and maybe the next request)
    // The exchange's phases, with no coroutine frame of its own on this path: planning is
    // plain calls, and only forwarding suspends.
    bool clean = true;
    UpstreamTarget target;
    Exchange::Plan plan = exchange_.plan_for(*this, target);
    if (plan == Exchange::Plan::kLookup) plan = co_await exchange_.wait_for_lookup(target);
    if (plan == Exchange::Plan::kHold) plan = co_await exchange_.hold_for_wake(target);
    if (plan == Exchange::Plan::kForward) {
      InFlight in_flight(w_, dog_);
      clean = co_await exchange_.forward(target);
      exchange_.end_hold();
    } else {
      co_await send_reply(*exchange_.reply());
    }
    if (!cc_) co_return;  // now a tunnel, which reports the request when it ends
    finish_request();
    if (!clean || !keep_alive_ || cc_->closing()) break;
  }
  co_await close_client();
}

awaitable<void> Http1Connection::refuse() {
  begin_request();
  rec_.start = Clock::now();
  co_await send_reply(make_reply(ReplyKind::kTooManyConnections,
                                 with_detail("too many connections from your address")));
  finish_request();
  co_await close_client();
}

void Http1Connection::begin_request() {
  rec_ = RequestRecord{};  // `start` is set when the head starts arriving
  snap_.valid = false;
  req_valid_ = false;
  keep_alive_ = true;
  head_pending_ = false;
}

// Metrics and the access-log line for the request that just ended.
void Http1Connection::finish_request() {
  record_request(w_, rec_, exchange_.client_ip(), snap_, exchange_.route());
}

// kReady with req_ parsed and head_len_ set; kEnd when the connection must end (any error
// response has been sent); kPark when it went idle and should wait without this object.
awaitable<Http1Connection::Head> Http1Connection::read_head() {
  // A connection starts when its stream is readable: its first head is read at once.
  if (in_.empty() && !std::exchange(fresh_, false)) {
    if (cc_->closing()) co_return Head::kEnd;
    const auto idle_start = net::coarse_now();
    const auto idle_deadline = idle_start + to_.keepalive_idle;
    park_kind_ = Parking::kKeepAlive;
    // A connection that just finished a request usually sends the next one soon: read into
    // the buffer it still holds. The reactor knows the socket is drained, so this read costs
    // no syscall until data arrives, where a readiness wait would re-arm epoll (epoll_ctl)
    // every time. After kHotIdle without data, park (hold nothing).
    if (in_.capacity() > 0 && w_.hot_idle().take()) {
      idle_entry_.stream = &client_;
      w_.hot_idle().add(idle_entry_);
      dog_.arm_at(std::min(idle_deadline, idle_start + kHotIdle));
      auto [p, n] = in_.prepare(4096, head_limit_);
      auto [ec, got] = co_await client_.async_read_some(asio::buffer(p, n), kUse);
      w_.hot_idle().give();
      HotIdle::remove(idle_entry_);
      if (!ec) {
        rec_.bytes_in += got;
        in_.commit(got);
      } else if (!dog_.expired() || Clock::now() >= idle_deadline || cc_->closing()) {
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
        req_valid_ = true;
        co_return Head::kReady;
      }
      if (r.state == http::ParseState::kError) {
        // The head is unusable, but a browser still deserves a page it can render.
        html_ = in_.data().find("text/html") != std::string_view::npos;
        co_return co_await reject_head(reply_for_parse_status(r.error.status),
                                       r.error.reason ? r.error.reason : "");
      }
    }
    auto [p, n] = in_.prepare(4096, head_limit_);
    if (n == 0)
      co_return co_await reject_head(ReplyKind::kHeadersTooLarge, "request head too large");
    auto [ec, got] = co_await client_.async_read_some(asio::buffer(p, n), kUse);
    rec_.bytes_in += got;
    if (ec) {
      if (dog_.expired() && !in_.empty()) {
        co_return co_await reject_head(ReplyKind::kRequestTimeout,
                                       "request head not received in time");
      }
      co_return Head::kEnd;
    }
    in_.commit(got);
  }
}

awaitable<Http1Connection::Head> Http1Connection::reject_head(ReplyKind k,
                                                              std::string_view detail) {
  ReplyInput in;
  in.detail = detail;
  in.html = html_;
  in.templates = &rt_.pages;
  co_await send_reply(make_reply(k, in));
  co_return Head::kEnd;
}

awaitable<bool> Http1Connection::write_client(std::string_view bytes) {
  std::array<asio::const_buffer, 1> bufs{asio::buffer(bytes)};
  size_t n = 0;
  boost::system::error_code ec;
  const bool all = client_.write_now(bufs, n, ec);
  rec_.bytes_out += n;
  if (all || ec) co_return !ec;
  dog_.arm(to_.body_idle);
  auto [wec, rest] = co_await client_.async_write(bufs, kUse);
  rec_.bytes_out += rest;
  co_return !wec;
}

// A reply the router makes itself. A request body it did not read ends the connection:
// skipping an unread body is how request smuggling starts.
awaitable<void> Http1Connection::send_reply(const Reply& r) {
  rec_.outcome = r.outcome;
  rec_.status = r.status;
  const bool close = r.close || !req_valid_ || !req_.keep_alive || req_.framing != Framing::kNone ||
                     cc_->closing();
  keep_alive_ = !close;
  out_.clear();
  append_http1(r, close, req_valid_ && req_.method_id == http::Method::kHead, out_,
               cc_->peer.listener->hsts_line);
  head_pending_ = false;
  if (!co_await write_client(out_)) keep_alive_ = false;
}

awaitable<bool> Http1Connection::send_continue() {
  co_return co_await write_client(kContinue);
}

awaitable<bool> Http1Connection::send_interim(const http::ResponseHead& res) {
  out_.clear();
  http::serialize_interim(res, out_);
  co_return co_await write_client(out_);
}

awaitable<bool> Http1Connection::read_body() {
  auto [p, n] = in_.prepare_stream(lim_.buffer_bytes);
  dog_.arm(to_.body_idle);
  auto [ec, got] = co_await client_.async_read_some(asio::buffer(p, n), kUse);
  if (ec) co_return false;
  rec_.bytes_in += got;
  in_.commit_stream(got, n);
  co_return true;
}

// The client's framing for the upstream's body: Content-Length passes through; chunked and
// close-delimited bodies are re-chunked for HTTP/1.1 (HTTP/1.0 cannot read chunked: it gets
// a close-delimited body).
void Http1Connection::begin_response(const http::ResponseHead& res, std::string_view extra) {
  http::ResponseFraming f;
  f.extra = extra;
  if (const std::string& hsts = cc_->peer.listener->hsts_line; !hsts.empty()) {
    extra_.assign(extra).append(hsts);
    f.extra = extra_;
  }
  if (res.status != 101) {
    const bool client10 = req_.version_minor == 0;
    f.client_http10 = client10;
    switch (res.framing) {
      case Framing::kNone:
      case Framing::kLength:
        f.framing = res.framing;
        break;
      case Framing::kChunked:
      case Framing::kUntilClose:
        f.framing = client10 ? Framing::kUntilClose : Framing::kChunked;
        break;
    }
    f.keep_alive = req_.keep_alive && !cc_->closing() && f.framing != Framing::kUntilClose;
  }
  out_.clear();
  http::serialize_response(res, f, out_);
  framing_ = f.framing;
  keep_alive_ = f.keep_alive;
  head_pending_ = true;
}

Write Http1Connection::write_body(std::string_view data, bool last) {
  std::string_view prefix;
  std::string_view suffix;
  if (framing_ == Framing::kChunked) {
    if (!data.empty()) {
      prefix = chunk_size_.set(data.size());
      suffix = last ? http::kCrlfLastChunk : http::kCrlf;
    } else if (last) {
      suffix = http::kLastChunk;
    }
  }
  pending_ = {head_pending_ ? asio::buffer(out_) : asio::const_buffer(), asio::buffer(prefix),
              asio::buffer(data), asio::buffer(suffix)};
  head_pending_ = false;
  size_t n = 0;
  boost::system::error_code ec;
  const bool all = client_.write_now(pending_, n, ec);
  rec_.bytes_out += n;
  if (all) return Write::kDone;
  return ec ? Write::kFailed : Write::kPending;
}

// The part of a write the socket could not take at once. Only a write that waits needs a
// deadline.
awaitable<bool> Http1Connection::flush() {
  dog_.arm(to_.body_idle);
  auto [ec, n] = co_await client_.async_write(pending_, kUse);
  rec_.bytes_out += n;
  co_return !ec;
}

void Http1Connection::start_tunnel(net::Stream upstream, registry::RoutePtr route,
                                   TunnelInfo info) {
  dog_.disarm();
  if (snap_.valid) snap_.client = exchange_.client_ip();
  Tunnel::start(std::move(cc_), std::move(upstream), std::move(route), rec_, std::move(snap_),
                std::move(info));
}

// Lingering close: stop sending, then drain briefly so the peer reads our last response
// instead of a reset caused by its unread request bytes.
awaitable<void> Http1Connection::close_client() {
  if (!client_.is_open()) co_return;
  client_.shutdown_send();
  dog_.arm(std::chrono::seconds(1));
  char sink[4096];
  size_t drained = 0;
  while (drained < 65536) {
    auto [ec, n] = co_await client_.async_read_some(asio::buffer(sink), kUse);
    if (ec) break;
    drained += n;
  }
  client_.close();
}

namespace {

awaitable<void> serve(Worker& worker, ClientPtr client) {
  Http1Connection conn(worker, std::move(client));
  co_await conn.run();
}

awaitable<void> refuse(Worker& worker, ClientPtr client) {
  Http1Connection conn(worker, std::move(client));
  co_await conn.refuse();
}

}  // namespace

void serve_http1(Worker& worker, ClientPtr client) {
  asio::co_spawn(worker.io(), serve(worker, std::move(client)), asio::detached);
}

void refuse_http1(Worker& worker, ClientPtr client) {
  asio::co_spawn(worker.io(), refuse(worker, std::move(client)), asio::detached);
}

}  // namespace sg::proxy
