// The upstream phases: a connection (pooled or new, checked against the SSRF policy), the
// request head and body, and the response head — with the one retry a dead pooled connection
// allows.
#include "common/await.h"
#include "http/chunked.h"
#include "http/parser.h"
#include "http/serializer.h"
#include "http/websocket.h"
#include "proxy/exchange.h"

#include "proxy/worker.h"
#include "routing/session_id.h"

namespace sg::proxy {

namespace asio = boost::asio;
using asio::awaitable;
using http::Framing;
using Clock = std::chrono::steady_clock;

namespace {

int64_t us_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

Error from_parse(const http::ParseError& e) {
  return {reply_for_parse_status(e.status), e.reason ? e.reason : ""};
}

}  // namespace

awaitable<bool> Exchange::fail(const Error& e) {
  // Past the drain's end, whatever stopped the request, the truth is that the router stopped it.
  const Error why = w_.requests_cut() ? Error{ReplyKind::kShuttingDown,
                                              "the router shut down before the answer came"}
                                      : e;
  co_await down_->send_reply(make_reply(why.kind, reply_input(why.detail)));
  co_return false;
}

// The canonical request head for the upstream, and what the 101 must answer.
void Exchange::prepare_head(const UpstreamTarget& a) {
  const http::RequestHead& req = *req_;
  http::ForwardInfo info;
  const Peer& peer = down_->peer();
  info.client_ip = peer.ip;
  info.client_ipv6 = peer.v6;
  info.proto = peer.secure ? "https" : "http";
  info.keep_forwarded = peer.trusted;
  info.host = a.host_header == routing::HostHeader::kUpstream || req.host.empty()
                  ? std::string_view(a.address_text)
                  : req.host;
  info.target = a.target;
  info.strip_token_header = access_.strip_token_header;
  info.strip_authorization = access_.strip_authorization;
  // A page that may get the session worker's tag must come uncompressed.
  info.identity_only = !inject_tag_.empty();
  if (access_.strip_cookie) {
    info.replace_cookie = true;
    info.cookie = access_.forwarded_cookie;
  }
  RequestRecord& rec = down_->record();
  if (rt_->access_log) rec.upstream.assign(a.address_text);  // only the log reads it
  info.request_id_line = rec.request_id.header_line();
  if ((req.fields & http::bit(http::Field::kTraceparent)) != 0) {
    info.drop_trace = !valid_traceparent(req.header(http::Field::kTraceparent));
  }
  // What the response gets besides the upstream's fields: the id (and the link exchange's
  // cookie, rarely: only then is a line built).
  if (a.set_cookie.empty()) {
    set_cookie_ = rec.request_id.header_line();
  } else {
    response_extra_.assign(a.set_cookie).append(rec.request_id.header_line());
    set_cookie_ = response_extra_;
  }
  upstream_head_.clear();
  http::serialize_request(req, info, upstream_head_);

  expected_accept_.clear();
  if (req.upgrade && http::iequals(req.header(http::Field::kUpgrade), "websocket")) {
    expected_accept_ = http::websocket_accept(req.header(http::Field::kSecWebSocketKey));
  }
  if (req.upgrade) {
    // What routed it, kept while the head is at hand: a reload asks the new rules again.
    RouteKey& k = tunnel_.key;
    k.host.assign(req.host);
    k.path.assign(req.path);
    k.referer.assign(req.header(http::Field::kReferer));
    const std::string_view cookie =
        routing::cookie_value(req.header(http::Field::kCookie), rt_->sessions.cookie_name);
    k.cookie.clear();
    if (!cookie.empty()) k.cookie.append(rt_->sessions.cookie_name).append("=").append(cookie);
  }
}

// Why a 101 cannot become a tunnel, or nothing.
std::optional<Error> Exchange::refuse_switch() const {
  if (!req_->upgrade) {
    return Error{ReplyKind::kUpstreamInvalid,
                 "upstream switched protocols without an upgrade request"};
  }
  // A 101 that does not answer this handshake is not the upstream we think it is.
  if (!expected_accept_.empty() &&
      res_.header(http::Field::kSecWebSocketAccept) != expected_accept_) {
    return Error{ReplyKind::kUpstreamInvalid, "upstream 101 without a valid Sec-WebSocket-Accept"};
  }
  return std::nullopt;
}

awaitable<bool> Exchange::forward(const UpstreamTarget& a) {
  pool_key_ = {a.address, a.generation};
  const net::PoolKey& key = pool_key_;
  const bool has_body = req_->framing != Framing::kNone;
  const bool replayable = req_->idempotent() && !has_body;
  const bool expect_continue = req_->expect_continue;
  prepare_head(a);
  // From here on the request head's views may be overwritten by body reads.

  if (req_->framing == Framing::kChunked && !co_await prevalidate_chunked()) {
    co_return co_await fail(body_error_);
  }

  net::Watchdog& dog = down_->watchdog();
  bool continue_sent = false;
  for (int attempt = 0;; ++attempt) {
    const bool reused = attempt == 0 && take_pooled(key);
    if (!reused && !co_await connect(key.endpoint, a.from_registry)) co_return co_await fail(err_);
    if (expect_continue && has_body && down_->body().empty() && !continue_sent) {
      continue_sent = true;
      if (!co_await down_->send_continue()) {
        drop_upstream();
        co_return false;
      }
    }
    SendResult sent = SendResult::kOk;
    if (!has_body) {
      // The common case inline (one coroutine frame less per request).
      std::array<asio::const_buffer, 1> head{asio::buffer(upstream_head_)};
      size_t n = 0;
      boost::system::error_code ec;
      if (!upstream_->write_now(head, n, ec) && !ec) {
        dog.arm(to_->body_idle);
        std::tie(ec, n) = co_await upstream_->async_write(head, kUse);
      }
      if (ec) sent = SendResult::kUpstreamFailed;
    } else {
      sent = co_await send_body();
    }
    if (sent == SendResult::kClientFailed || sent == SendResult::kBodyTooLarge ||
        sent == SendResult::kBadBody) {
      drop_upstream();
      if (sent == SendResult::kClientFailed) co_return false;
      co_return co_await fail(
          sent == SendResult::kBadBody
              ? body_error_
              : Error{ReplyKind::kBodyTooLarge, "request body larger than the configured limit"});
    }
    HeadResult head = HeadResult::kBrokenBeforeAnyByte;
    if (sent != SendResult::kUpstreamFailed) {
      // The common case inline (one coroutine frame less per request): the first read
      // brings the whole final head. Anything else continues in read_response_head().
      dog.arm(to_->upstream_head);
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
  // A request released from a hold lets the next one go once its answer has begun, so a
  // long response (SSE, a tunnel) does not keep a release slot (Holds::kReleaseAtOnce).
  if (!held_session_.empty()) release_next_held();

  if (res_.status == 101) {
    if (std::optional<Error> why = refuse_switch()) {
      drop_upstream();
      co_return co_await fail(*why);
    }
    co_await tunnel();
    co_return false;
  }
  co_return co_await relay();
}

// Connects, bounded by upstream_connect. On failure sets err_.
awaitable<bool> Exchange::connect(const asio::ip::tcp::endpoint& ep, bool check_policy) {
  // Registration checked the address; the policy may have tightened since (restart with a
  // new allow-list), so it is checked again before any packet leaves. Static upstreams in
  // the configuration are the operator's own and are not subject to it.
  if (check_policy && !rt_->upstream_policy.check(ep).empty()) {
    err_ = {ReplyKind::kUpstreamForbidden,
            "the container address is not allowed by this router's policy"};
    co_return false;
  }
  net::Watchdog& dog = down_->watchdog();
  upstream_.emplace(asio::ip::tcp::socket(w_.io()));
  down_->watch_upstream(&*upstream_);
  dog.arm(to_->upstream_connect);
  const auto t0 = Clock::now();
  auto [ec] = co_await upstream_->async_connect(ep, kUse);
  RequestRecord& rec = down_->record();
  rec.connect_us = us_since(t0);
  w_.metrics().upstream_connect.observe_us(static_cast<uint64_t>(rec.connect_us));
  if (ec) {
    err_ = dog.expired() ? Error{ReplyKind::kUpstreamTimeout, "upstream connect timed out"}
                         : Error{ReplyKind::kUpstreamRefused, "upstream refused the connection"};
    upstream_.reset();
    down_->watch_upstream(nullptr);
    co_return false;
  }
  upstream_->set_no_delay();
  co_return true;
}

// A pooled connection to `key`, if one is usable; no suspension, so no coroutine frame on
// the common path.
bool Exchange::take_pooled(const net::PoolKey& key) {
  while (auto s = w_.pool().take(key)) {
    // A request that must not be replayed only goes on a connection proven open now.
    if (!req_->idempotent() && !s->still_open()) continue;
    upstream_.emplace(std::move(*s));
    down_->watch_upstream(&*upstream_);
    down_->record().connect_us = 0;
    w_.metrics().upstream_pool_idle.set(w_.pool().idle_count());
    return true;
  }
  return false;
}

void Exchange::drop_upstream() {
  if (upstream_) {
    upstream_->close();
    upstream_.reset();
  }
  up_.consume(up_.size());
  down_->watch_upstream(nullptr);
}

// Before anything goes upstream, checks the chunked framing of every body byte already
// buffered, reading until at least the first chunk line is complete. A body that is bad from
// the start is then rejected with nothing sent; one that turns bad later is cut off without
// its last chunk, so the upstream never sees a complete request.
awaitable<bool> Exchange::prevalidate_chunked() {
  Buffer& in = down_->body();
  for (;;) {
    http::ChunkedDecoder probe({lim_->chunk_extension_bytes, lim_->header_bytes});
    std::string_view rest = in.data();
    bool progressed = false;
    while (!rest.empty()) {
      http::ChunkedDecoder::Step st = probe.step(rest);
      if (st.error.status != 0) {
        body_error_ = from_parse(st.error);
        co_return false;
      }
      if (!st.data.empty() || st.done) progressed = true;
      rest.remove_prefix(st.consumed);
      if (st.done || st.consumed == 0) break;
    }
    if (progressed || in.size() >= lim_->buffer_bytes) co_return true;
    if (req_->expect_continue && in.empty()) co_return true;  // the client waits for 100
    if (!co_await down_->read_body()) {
      body_error_ = {ReplyKind::kBadRequest, "client closed before sending the body"};
      co_return false;
    }
  }
}

// Up to three pieces in one direct write; the rest waits for the socket.
awaitable<bool> Exchange::send_upstream(std::string_view a, std::string_view b,
                                        std::string_view c) {
  std::array<asio::const_buffer, 3> bufs{asio::buffer(a), asio::buffer(b), asio::buffer(c)};
  size_t n = 0;
  boost::system::error_code ec;
  if (!upstream_->write_now(bufs, n, ec) && !ec) {
    down_->watchdog().arm(to_->body_idle);
    std::tie(ec, n) = co_await upstream_->async_write(bufs, kUse);
  }
  co_return !ec;
}

// Head and body of a request that has one (a body-less request is sent by forward()): a
// Content-Length body as it arrives, a chunked one decoded strictly and re-chunked
// canonically, chunk by chunk.
awaitable<Exchange::SendResult> Exchange::send_body() {
  net::Watchdog& dog = down_->watchdog();
  Buffer& in = down_->body();
  dog.arm(to_->body_idle);
  if (req_->framing == Framing::kLength) {
    uint64_t remaining = req_->content_length;
    bool head_pending = true;
    while (remaining > 0 || head_pending) {
      if (in.empty() && remaining > 0) {
        if (!co_await down_->read_body()) co_return SendResult::kClientFailed;
      }
      const size_t n = static_cast<size_t>(std::min<uint64_t>(in.size(), remaining));
      if (!co_await send_upstream(head_pending ? std::string_view(upstream_head_) : "",
                                  in.data().substr(0, n))) {
        co_return SendResult::kUpstreamFailed;
      }
      head_pending = false;
      in.consume(n);
      remaining -= n;
      dog.arm(to_->body_idle);
    }
    co_return SendResult::kOk;
  }
  if (!co_await send_upstream(upstream_head_)) co_return SendResult::kUpstreamFailed;
  http::ChunkedDecoder dec({lim_->chunk_extension_bytes, lim_->header_bytes});
  uint64_t total = 0;
  for (;;) {
    if (in.empty()) {
      const bool more = co_await down_->read_body();
      if (!more) co_return SendResult::kClientFailed;
    }
    http::ChunkedDecoder::Step st = dec.step(in.data());
    if (st.error.status != 0) {
      body_error_ = from_parse(st.error);
      co_return SendResult::kBadBody;
    }
    total += st.data.size();
    if (lim_->body_bytes > 0 && total > lim_->body_bytes) co_return SendResult::kBodyTooLarge;
    if (!st.data.empty()) {
      const http::ChunkSizeLine size(st.data.size());
      if (!co_await send_upstream(size.view(), st.data, http::kCrlf)) {
        co_return SendResult::kUpstreamFailed;
      }
      dog.arm(to_->body_idle);
    }
    in.consume(st.consumed);
    if (st.done) {
      co_return co_await send_upstream(http::kLastChunk) ? SendResult::kOk
                                                         : SendResult::kUpstreamFailed;
    }
  }
}

// The final response head if up_ holds a complete one (kOk), or an invalid one (kFailed);
// nothing while it is incomplete or an interim response comes first. Sets err_ on failure.
std::optional<Exchange::HeadResult> Exchange::take_response_head(Clock::time_point sent_at) {
  const http::ParseLimits plim{lim_->request_line, lim_->header_bytes, lim_->header_fields};
  http::ParseResult r = http::parse_response(up_.data(), plim, req_->method_id, res_);
  if (r.state == http::ParseState::kError) {
    err_ = {ReplyKind::kUpstreamInvalid, r.error.reason};
    return HeadResult::kFailed;
  }
  if (r.state == http::ParseState::kComplete && (res_.status >= 200 || res_.status == 101)) {
    upstream_head_len_ = r.consumed;
    RequestRecord& rec = down_->record();
    rec.first_byte_us = us_since(sent_at);
    w_.metrics().upstream_first_byte.observe_us(static_cast<uint64_t>(rec.first_byte_us));
    return HeadResult::kOk;
  }
  return std::nullopt;
}

Exchange::HeadResult Exchange::response_read_failed(bool any_byte) {
  if (down_->watchdog().expired()) {
    err_ = {ReplyKind::kUpstreamTimeout, "upstream did not answer in time"};
    return HeadResult::kFailed;
  }
  err_ = {ReplyKind::kUpstreamBroken, "upstream closed the connection before responding"};
  return any_byte ? HeadResult::kFailed : HeadResult::kBrokenBeforeAnyByte;
}

// Reads until the final response head, relaying interim ones. Called with the first bytes
// already in up_.
awaitable<Exchange::HeadResult> Exchange::read_response_head(Clock::time_point sent_at) {
  const http::ParseLimits plim{lim_->request_line, lim_->header_bytes, lim_->header_fields};
  for (;;) {
    if (!up_.empty()) {
      if (std::optional<HeadResult> done = take_response_head(sent_at)) co_return *done;
      http::ParseResult r = http::parse_response(up_.data(), plim, req_->method_id, res_);
      if (r.state == http::ParseState::kComplete) {
        // 100 was answered by us already; other interim responses (103) go to the client.
        if (res_.status != 100) {
          const bool sent = co_await down_->send_interim(res_);
          if (!sent) {
            err_ = {ReplyKind::kBadRequest, "client went away"};
            co_return HeadResult::kFailed;
          }
        }
        up_.consume(r.consumed);
        down_->watchdog().arm(to_->upstream_head);
        continue;
      }
    }
    auto [p, n] = up_.prepare(4096, head_limit_);
    if (n == 0) {
      err_ = {ReplyKind::kUpstreamInvalid, "upstream response head too large"};
      co_return HeadResult::kFailed;
    }
    auto [ec, got] = co_await upstream_->async_read_some(asio::buffer(p, n), kUse);
    if (ec) co_return response_read_failed(true);
    up_.commit(got);
  }
}

}  // namespace sg::proxy
