// The response phases: the upstream's body decoded from its framing and handed to the client's
// codec piece by piece (each chunk as soon as it is decoded, so event streams are never held
// back), or — after a 101 — both connections handed to a tunnel.
#include "common/await.h"
#include "http/chunked.h"
#include "proxy/exchange.h"
#include "proxy/session_worker.h"
#include "proxy/worker.h"

namespace sg::proxy {

namespace asio = boost::asio;
using asio::awaitable;
using http::Framing;

awaitable<bool> Exchange::write(std::string_view data, bool last) {
  if (injector_ && (!injector_->settled() || (last && !injector_->inserted()))) {
    injected_.clear();
    injector_->feed(data, injected_);
    if (last) injector_->finish(injected_);
    if (injected_.empty() && !last) co_return true;  // held: the place is not found yet
    data = injected_;
  }
  const Write st = down_->write_body(data, last);
  if (st == Write::kPending) co_return co_await down_->flush();
  co_return st == Write::kDone;
}

awaitable<bool> Exchange::read_upstream_body() {
  auto [p, n] = up_.prepare_stream(lim_->buffer_bytes);
  down_->watchdog().arm(to_->body_idle);
  auto [ec, got] = co_await upstream_->async_read_some(asio::buffer(p, n), kUse);
  upstream_eof_ = ec == asio::error::eof;
  if (ec) co_return false;
  up_.commit_stream(got, n);
  co_return true;
}

bool Exchange::start_injection() {
  if (inject_tag_.empty()) return false;
  switch (session_worker::page_fit(res_)) {
    case session_worker::PageFit::kFits:
      injector_.emplace(std::move(inject_tag_));
      w_.metrics().worker_tags_inserted.add();
      return true;
    case session_worker::PageFit::kEncoded:
      // The router asked for identity; without the tag the page falls back to the Referer and
      // the cookie (docs/decisions/0028).
      w_.metrics().worker_tags_skipped_encoded.add();
      return false;
    case session_worker::PageFit::kNotAPage:
      return false;
  }
  return false;
}

awaitable<bool> Exchange::relay() {
  if (start_injection()) {
    // The body grows by the tag: the client gets it chunked (or until close, for HTTP/1.0)
    // whatever the upstream's framing, which still decides how the body is read.
    const Framing upstream = res_.framing;
    res_.framing = Framing::kChunked;
    down_->begin_response(res_, set_cookie_);
    res_.framing = upstream;
  } else {
    down_->begin_response(res_, set_cookie_);
  }
  up_.consume(upstream_head_len_);
  RequestRecord& rec = down_->record();
  rec.outcome = observe::Outcome::k_routed;
  rec.status = res_.status;
  bool complete = false;
  switch (res_.framing) {
    case Framing::kNone:
      complete = co_await write({}, true);
      break;
    case Framing::kLength:
      if (up_.size() >= res_.content_length && !injector_) {
        // The whole body arrived with the head: one write, no nested coroutine unless the
        // client's socket is full.
        const size_t n = static_cast<size_t>(res_.content_length);
        const Write st = down_->write_body(up_.data().substr(0, n), true);
        complete = st == Write::kDone;
        if (st == Write::kPending) complete = co_await down_->flush();
        up_.consume(n);
      } else {
        complete = co_await relay_length(res_.content_length);
      }
      break;
    case Framing::kChunked:
      complete = co_await relay_chunked();
      break;
    case Framing::kUntilClose:
      complete = co_await relay_until_close();
      break;
  }
  pool_or_drop(complete);
  co_return complete;
}

// A connection goes back to the pool only after a clean, complete exchange; leftover bytes
// after a complete response mean the upstream is out of step.
void Exchange::pool_or_drop(bool complete) {
  const bool reusable = res_.keep_alive && res_.framing != Framing::kUntilClose;
  if (complete && reusable && up_.empty() && upstream_ && !w_.draining()) {
    w_.pool().put(pool_key_, std::move(*upstream_));
    w_.metrics().upstream_pool_idle.set(w_.pool().idle_count());
    upstream_.reset();
    down_->watch_upstream(nullptr);
  } else {
    drop_upstream();
  }
  up_.release_if_empty();
}

awaitable<bool> Exchange::relay_length(uint64_t remaining) {
  while (remaining > 0) {
    if (up_.empty()) {
      const bool more = co_await read_upstream_body();
      if (!more) {
        // Truncated: the client must see a short body and a close, never a complete response.
        if (!down_->response_started()) {
          co_await fail(
              {ReplyKind::kUpstreamBroken, "upstream closed the connection mid-response"});
        }
        co_return false;
      }
    }
    const size_t n = static_cast<size_t>(std::min<uint64_t>(up_.size(), remaining));
    if (!co_await write(up_.data().substr(0, n), n == remaining)) co_return false;
    up_.consume(n);
    remaining -= n;
  }
  co_return true;
}

awaitable<bool> Exchange::relay_chunked() {
  http::ChunkedDecoder dec({lim_->chunk_extension_bytes, lim_->header_bytes});
  Error why{ReplyKind::kUpstreamBroken, "upstream closed the connection mid-response"};
  for (;;) {
    if (up_.empty()) {
      const bool more = co_await read_upstream_body();
      if (!more) break;
    }
    http::ChunkedDecoder::Step st = dec.step(up_.data());
    if (st.error.status != 0) {
      why = {ReplyKind::kUpstreamInvalid, st.error.reason};
      break;
    }
    if (st.done) {
      up_.consume(st.consumed);
      co_return co_await write({}, true);
    }
    if (!st.data.empty()) {
      const bool ok = co_await write(st.data, false);
      if (!ok) co_return false;
    }
    up_.consume(st.consumed);
  }
  if (!down_->response_started()) co_await fail(why);
  co_return false;
}

awaitable<bool> Exchange::relay_until_close() {
  for (;;) {
    if (up_.empty()) {
      const bool more = co_await read_upstream_body();
      if (!more) {
        // Only a clean EOF ends this body. A reset or timeout is a truncation, which the
        // client must see as one: the connection closes without the last chunk.
        if (!upstream_eof_) co_return false;
        co_return co_await write({}, true);
      }
    }
    const bool ok = co_await write(up_.data(), false);
    if (!ok) co_return false;
    up_.consume(up_.size());
  }
}

// Passes the 101 (and whatever followed it from either side) on, then hands both streams to
// a Tunnel; the exchange ends there.
awaitable<void> Exchange::tunnel() {
  down_->begin_response(res_, set_cookie_);
  up_.consume(upstream_head_len_);
  tunnel_.websocket = !expected_accept_.empty();
  tunnel_.to_client = {};
  tunnel_.to_upstream = {};
  if (tunnel_.websocket) tunnel_.to_client.feed(up_.data().data(), up_.size());
  if (!co_await write(up_.data(), true)) {
    drop_upstream();
    co_return;
  }
  up_.consume(up_.size());
  Buffer& early = down_->body();
  if (tunnel_.websocket) tunnel_.to_upstream.feed(early.data().data(), early.size());
  if (!early.empty()) {
    down_->watchdog().arm(to_->tunnel_idle);
    auto [ec, n] = co_await upstream_->async_write(asio::buffer(early.data()), kUse);
    if (ec) {
      drop_upstream();
      co_return;
    }
    early.consume(n);
  }
  down_->watch_upstream(nullptr);
  RequestRecord& rec = down_->record();
  rec.outcome = observe::Outcome::k_routed;
  rec.status = 101;
  rec.tunnel = true;
  tunnel_.runtime = pin_;
  down_->start_tunnel(std::move(*upstream_), route_, std::move(tunnel_));
  tunnel_ = {};
  upstream_.reset();
}

}  // namespace sg::proxy
