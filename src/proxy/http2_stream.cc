#include "proxy/http2_stream.h"

#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/await.h"
#include "http/chunked.h"
#include "http/pages.h"
#include "http/parser.h"
#include "http/serializer.h"
#include "proxy/http2_connection.h"
#include "proxy/listener.h"
#include "proxy/worker.h"

namespace sg::proxy {

namespace asio = boost::asio;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

namespace {

// A Sec-WebSocket-Key for the HTTP/1.1 handshake an RFC 8441 request becomes.
std::string websocket_key() {
  unsigned char raw[16];
  RAND_bytes(raw, sizeof raw);
  char out[32];
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out), raw, sizeof raw);
  return std::string(out, static_cast<size_t>(n));
}

ReplyKind kind_of(http::H2HeadStatus s) {
  switch (s) {
    case http::H2HeadStatus::kTooLarge:
      return ReplyKind::kHeadersTooLarge;
    case http::H2HeadStatus::kNotImplemented:
      return ReplyKind::kNotImplemented;
    default:
      return ReplyKind::kBadRequest;
  }
}

// Complete header lines ("Name: value\r\n"...) as fields.
template <typename Add>
void add_lines(std::string_view lines, Add add) {
  while (!lines.empty()) {
    const size_t eol = lines.find("\r\n");
    const std::string_view line = lines.substr(0, eol);
    lines.remove_prefix(eol == std::string_view::npos ? lines.size() : eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    add(line.substr(0, colon), value);
  }
}

}  // namespace

Http2Stream::Http2Stream(Http2Connection& c)
    : http::H2Stream(c.runtime().settings.http2.head),
      c_(c),
      w_(c.worker()),
      lim_(c_.runtime().settings.limits),
      to_(c_.runtime().settings.timeouts),
      exchange_(w_),
      dog_(w_.io().get_executor()),
      in_signal_(w_.io()),
      out_signal_(w_.io()) {
  rec_.protocol = observe::Protocol::kH2;
}

Http2Stream::~Http2Stream() {
  if (handle_.close) end_tunnel();
}

void Http2Stream::recycle() {
  end_tunnel();
  id = 0;
  head.reset();
  exchange_.reset();
  dog_.disarm();
  watch_upstream(nullptr);
  head_text_.clear();
  req_.clear();
  refused_ = ReplyKind::kCount;
  refused_why_ = {};
  html_ = false;
  body_.consume(body_.size());
  body_.release_if_empty();
  chunked_ = ended_ = false;
  received_ = credited_ = 0;
  rec_ = RequestRecord{};
  rec_.protocol = observe::Protocol::kH2;
  snap_.valid = false;
  status_ = 0;
  fields_text_.clear();
  fields_.clear();
  submitted_ = eof_ = complete_ = tunnel_ = false;
  out_.consume(out_.size());
  out_.release_if_empty();
  tunnel_up_.reset();
  tunnel_route_.reset();
  tunnel_closing_ = up_done_ = false;
  ready_ = started_ = done_ = closed_ = false;
  close_code_ = 0;
}

const Peer& Http2Stream::peer() const {
  return c_.client().peer;
}

// ---- codec events ----

void Http2Stream::on_head(bool end_stream) {
  ended_ = end_stream;
  rec_.start = Clock::now();
  const std::string key = head.wants_websocket() ? websocket_key() : std::string();
  const http::H2HeadStatus st = head.finish(!end_stream, key, head_text_);
  if (st != http::H2HeadStatus::kOk) {
    refused_ = kind_of(st);
    refused_why_ = head.reason();
  } else {
    // The mapping adds a few lines (host, upgrade) to what the builder already limited.
    const http::ParseLimits plim{lim_.request_line, lim_.header_bytes + 1024,
                                 lim_.header_fields + 8};
    const http::ParseResult r = http::parse_request(head_text_, plim, req_);
    if (r.state != http::ParseState::kComplete) {
      refused_ = reply_for_parse_status(r.error.status);
      refused_why_ = r.error.reason ? r.error.reason : "";
    } else {
      chunked_ = head.chunked();
      html_ = http::wants_html(req_.header(http::Field::kAccept));
    }
  }
  if (refused_ != ReplyKind::kCount) {
    html_ = head_text_.find("text/html") != std::string::npos;
  } else if (c_.runtime().access_log) {
    snap_.take(req_);
  }
  ready_ = true;
  c_.stream_ready(*this);
}

void Http2Stream::on_data(const uint8_t* p, size_t n) {
  received_ += n;
  rec_.bytes_in += n;
  if (done_ || tunnel_closing_) {
    credit();  // nobody reads it any more
    return;
  }
  const size_t need = n + (chunked_ ? 32 : 0);
  // The window bounds what can arrive unread; the slack covers the chunk framing.
  const size_t cap = size_t{c_.runtime().settings.http2.stream_window} * 2 + 65536;
  auto [dst, room] = body_.prepare(need, cap);
  if (room < need) {
    c_.codec().reset(id, NGHTTP2_FLOW_CONTROL_ERROR);
    return;
  }
  size_t at = 0;
  if (chunked_) {
    const http::ChunkSizeLine size(n);
    std::memcpy(dst, size.view().data(), size.view().size());
    at = size.view().size();
  }
  std::memcpy(dst + at, p, n);
  at += n;
  if (chunked_) {
    std::memcpy(dst + at, "\r\n", 2);
    at += 2;
  }
  body_.commit(at);
  in_signal_.notify();
}

void Http2Stream::on_end() {
  ended_ = true;
  if (chunked_ && !done_) {
    auto [dst, room] = body_.prepare(http::kLastChunk.size(), SIZE_MAX);
    std::memcpy(dst, http::kLastChunk.data(), http::kLastChunk.size());
    body_.commit(http::kLastChunk.size());
  }
  notify();
}

void Http2Stream::on_close(uint32_t error_code) {
  closed_ = true;
  close_code_ = error_code;
  if (upstream_ && !done_) upstream_->cancel();
  if (tunnel_up_) tunnel_up_->cancel();
  notify();
  c_.stream_closed(*this);
}

void Http2Stream::abort() {
  closed_ = true;
  if (upstream_) upstream_->cancel();
  if (tunnel_up_) tunnel_up_->cancel();
  notify();
}

size_t Http2Stream::pull(uint8_t* buf, size_t n, bool& eof) {
  const size_t take = std::min(n, out_.size());
  if (take > 0) {  // an empty buffer may have no storage at all
    std::memcpy(buf, out_.data().data(), take);
    out_.consume(take);
  }
  if (out_.empty()) {
    out_.release_if_empty();
    if (eof_) {
      eof = true;
      complete_ = true;
    }
  }
  if (out_.size() <= lim_.buffer_bytes / 2) out_signal_.notify();
  return take;
}

// ---- waiting ----

awaitable<bool> Http2Stream::wait_until(Signal& s, Clock::time_point deadline) {
  if (Clock::now() >= deadline) co_return false;
  s.timer.expires_at(deadline);
  s.waiting = true;
  auto [ec] = co_await s.timer.async_wait(kUse);
  s.waiting = false;
  co_return ec == asio::error::operation_aborted;  // woken (not due)
}

void Http2Stream::credit() {
  if (received_ == credited_) return;
  if (!closed_) {
    c_.codec().consume(id, static_cast<size_t>(received_ - credited_));
  } else {
    c_.codec().consume_connection(static_cast<size_t>(received_ - credited_));
  }
  credited_ = received_;
  c_.want_write();
}

// ---- Downstream: the request body ----

awaitable<bool> Http2Stream::read_body() {
  credit();  // the exchange asks for more: what it had is on its way upstream
  const size_t before = body_.size();
  auto deadline = Clock::now() + to_.body_idle;
  while (body_.size() == before && !ended_ && !closed_) {
    if (!co_await wait_until(in_signal_, deadline)) co_return false;
  }
  co_return body_.size() > before;
}

// ---- Downstream: answers ----

void Http2Stream::add_field(std::string_view name, std::string_view value) {
  fields_text_.append(name).append(value);
  fields_.emplace_back(static_cast<uint32_t>(name.size()), static_cast<uint32_t>(value.size()));
}

bool Http2Stream::submit(bool with_body) {
  thread_local std::vector<http::H2Field> fields;
  fields.clear();
  size_t at = 0;
  for (const auto& [n, v] : fields_) {
    fields.push_back({std::string_view(fields_text_).substr(at, n),
                      std::string_view(fields_text_).substr(at + n, v)});
    at += n + v;
  }
  submitted_ = true;
  if (!with_body) complete_ = true;
  const bool ok = c_.codec().respond(*this, status_, fields, with_body);
  c_.want_write();
  return ok;
}

awaitable<void> Http2Stream::send_reply(const Reply& r) {
  rec_.outcome = r.outcome;
  rec_.status = r.status;
  if (closed_ || submitted_) co_return;
  status_ = r.status;
  fields_.clear();
  fields_text_.clear();
  for (const auto& [name, value] : r.headers) add_field(name, value);
  add_field("content-length", std::to_string(r.body.size()));
  add_lines(peer().listener->hsts_line, [this](auto n, auto v) { add_field(n, v); });
  const bool head_only = refused_ == ReplyKind::kCount && req_.method_id == http::Method::kHead;
  if (!head_only && !r.body.empty()) {
    auto [dst, room] = out_.prepare(r.body.size(), SIZE_MAX);
    std::memcpy(dst, r.body.data(), r.body.size());
    out_.commit(r.body.size());
    rec_.bytes_out += r.body.size();
  }
  eof_ = true;
  submit(!out_.empty());
}

awaitable<bool> Http2Stream::send_continue() {
  if (closed_) co_return false;
  const bool ok = c_.codec().interim(*this, 100, {});
  c_.want_write();
  co_return ok;
}

awaitable<bool> Http2Stream::send_interim(const http::ResponseHead& res) {
  if (closed_) co_return false;
  std::vector<http::H2Field> fields;
  for (const http::Header& h : res.headers) {
    if (!http::hop_by_hop(h, res)) fields.push_back({h.name, h.value});
  }
  const bool ok = c_.codec().interim(*this, res.status, fields);
  c_.want_write();
  co_return ok;
}

void Http2Stream::begin_response(const http::ResponseHead& res, std::string_view extra) {
  tunnel_ = res.status == 101;
  status_ = tunnel_ ? 200 : res.status;  // RFC 8441: the accepted CONNECT is a 200
  fields_.clear();
  fields_text_.clear();
  const bool length_ok =
      res.framing == http::Framing::kLength || res.framing == http::Framing::kNone;
  for (const http::Header& h : res.headers) {
    // HTTP/2 forbids the connection-specific ones among them (RFC 9113 section 8.2.2).
    if (http::hop_by_hop(h, res)) continue;
    if (h.id == http::Field::kContentLength && (!length_ok || tunnel_)) continue;
    if (tunnel_ && h.id == http::Field::kSecWebSocketAccept) continue;
    if (h.id == http::Field::kXRequestId) continue;  // the router's own is in `extra`
    add_field(h.name, h.value);
  }
  const auto add = [this](std::string_view n, std::string_view v) { add_field(n, v); };
  add_lines(extra, add);
  add_lines(peer().listener->hsts_line, add);
}

Write Http2Stream::write_body(std::string_view data, bool last) {
  if (closed_) return Write::kFailed;
  if (!submitted_) {
    if (last && data.empty() && !tunnel_) {
      eof_ = true;
      submit(false);
      return Write::kDone;
    }
    submit(true);
  }
  if (!data.empty()) {
    auto [dst, room] = out_.prepare(data.size(), SIZE_MAX);
    std::memcpy(dst, data.data(), data.size());
    out_.commit(data.size());
    rec_.bytes_out += data.size();
  }
  if (last && !tunnel_) eof_ = true;
  c_.codec().resume(*this);
  c_.want_write();
  return out_.size() > lim_.buffer_bytes ? Write::kPending : Write::kDone;
}

awaitable<bool> Http2Stream::drain_out() {
  auto deadline = Clock::now() + to_.body_idle;
  size_t last = out_.size();
  while (!out_.empty() && !closed_) {
    if (!co_await wait_until(out_signal_, deadline)) co_return false;
    if (out_.size() < last) deadline = Clock::now() + to_.body_idle;
    last = out_.size();
  }
  co_return !closed_;
}

// Waits while the client takes the queued body; a client that takes nothing for body_idle
// loses the stream.
awaitable<bool> Http2Stream::flush() {
  auto deadline = Clock::now() + to_.body_idle;
  size_t last = out_.size();
  while (out_.size() > lim_.buffer_bytes / 2 && !closed_) {
    if (!co_await wait_until(out_signal_, deadline)) {
      c_.codec().reset(id, NGHTTP2_CANCEL);
      c_.want_write();
      co_return false;
    }
    if (out_.size() < last) deadline = Clock::now() + to_.body_idle;
    last = out_.size();
  }
  co_return !closed_;
}

void Http2Stream::start_tunnel(net::Stream upstream, registry::RoutePtr route, TunnelInfo info) {
  tunnel_up_.emplace(std::move(upstream));
  tunnel_route_ = std::move(route);
  tunnel_info_ = std::move(info);
}

// ---- the exchange ----

awaitable<void> Http2Stream::run() {
  if (refused_ != ReplyKind::kCount) {
    ReplyInput in;
    in.detail = refused_why_;
    in.html = html_;
    in.templates = &c_.runtime().pages;
    co_await send_reply(make_reply(refused_, in));
  } else {
    UpstreamTarget target;
    Exchange::Plan plan = exchange_.plan_for(*this, target);
    if (plan == Exchange::Plan::kLookup) plan = co_await exchange_.wait_for_lookup(target);
    if (plan == Exchange::Plan::kHold) plan = co_await exchange_.hold_for_wake(target);
    if (plan == Exchange::Plan::kForward) {
      InFlight in_flight(w_, dog_);
      co_await exchange_.forward(target);
      exchange_.end_hold();
    } else {
      co_await send_reply(*exchange_.reply());
    }
  }
  if (tunnel_up_) {
    co_await run_tunnel();
    co_return;  // the tunnel records the request
  }
  finish();
}

void Http2Stream::finish() {
  done_ = true;
  if (!closed_) {
    // An exchange that ended before its response did: the client must see a reset, never a
    // response that looks complete.
    if (!submitted_) {
      c_.codec().reset(id, NGHTTP2_CANCEL);
    } else if (!eof_) {
      c_.codec().reset(id, NGHTTP2_INTERNAL_ERROR);
    }
  }
  body_.consume(body_.size());
  body_.release_if_empty();
  credit();  // a body nobody read: the connection's window comes back
  c_.want_write();
  record_request(w_, rec_, exchange_.client_ip(), snap_, exchange_.route());
}

}  // namespace sg::proxy
