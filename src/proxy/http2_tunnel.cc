// An RFC 8441 WebSocket on an HTTP/2 stream: after the container's 101 (passed on as a 200),
// the stream's DATA frames go to the upstream connection and its bytes come back as DATA.
// The same bounds as any h2 response apply (the stream's output buffer, the client's window);
// the client's bytes are credited back to its window only once written upstream. The tunnel
// ends when the upstream closes, the stream is reset or ends, it idles for tunnel_idle, or
// its session's route changes.
#include <nghttp2/nghttp2.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "common/await.h"
#include "http/ws_frames.h"
#include "proxy/http2_connection.h"
#include "proxy/http2_stream.h"
#include "proxy/worker.h"

namespace sg::proxy {

namespace asio = boost::asio;
using asio::awaitable;
using Clock = std::chrono::steady_clock;

awaitable<void> Http2Stream::run_tunnel() {
  auto& m = w_.metrics();
  m.tunnels_active.add();
  m.tunnels_total.add();
  registry::count_tunnel(tunnel_route_.get(), 1);
  handle_.close = [this] {
    tunnel_closing_ = true;
    if (tunnel_up_) tunnel_up_->cancel();
    in_signal_.notify();
  };
  handle_.go_away = [this] { go_away(); };
  handle_.key = tunnel_info_.key;
  w_.subscribers().add(tunnel_route_ ? tunnel_route_->session_id : std::string(), &handle_);
  dog_.watch(&*tunnel_up_);
  dog_.arm(to_.tunnel_idle);
  asio::co_spawn(w_.io(), pump_up(c_.shared_from_this()), asio::detached);
  co_await pump_down();
  // pump_up ends the tunnel when it is done (it may outlive this side: the container still
  // answering after the client ended its half).
  while (!up_done_) {
    if (!co_await wait_until(in_signal_, Clock::time_point::max())) break;
  }
  // The container closed (or a reload sent it away): what it said goes out, then END_STREAM.
  if (eof_ && !closed_) co_await drain_out();
  end_tunnel();
  done_ = true;
  if (!closed_ && !complete_) c_.codec().reset(id, NGHTTP2_CANCEL);
  c_.want_write();
  snap_.client = exchange_.client_ip();
  record_request(w_, rec_, snap_.client, snap_, tunnel_route_.get());
}

void Http2Stream::end_tunnel() {
  if (!handle_.close) return;
  w_.metrics().tunnels_active.sub();
  registry::count_tunnel(tunnel_route_.get(), -1);
  w_.subscribers().remove(tunnel_route_ ? tunnel_route_->session_id : std::string(), &handle_);
  handle_.close = nullptr;
  dog_.watch(nullptr);
}

// Client to container: DATA frames as they arrive.
awaitable<void> Http2Stream::pump_down() {
  for (;;) {
    if (!body_.empty()) {
      dog_.arm(to_.tunnel_idle);
      auto [ec, n] = co_await tunnel_up_->async_write(asio::buffer(body_.data()), kUse);
      if (ec) break;
      body_.consume(n);
      body_.release_if_empty();
      credit();
      continue;
    }
    if (ended_) {
      tunnel_up_->shutdown_send();  // the client's half is done; the container may still talk
      break;
    }
    if (closed_ || tunnel_closing_ || up_done_) break;
    if (!co_await wait_until(in_signal_, Clock::time_point::max())) break;
  }
}

// Container to client: each read becomes DATA, within the stream's bounded buffer.
awaitable<void> Http2Stream::pump_up(std::shared_ptr<Http2Connection> keep) {
  Buffer in;
  for (;;) {
    auto [p, n] = in.prepare_stream(lim_.buffer_bytes);
    auto [ec, got] = co_await tunnel_up_->async_read_some(asio::buffer(p, n), kUse);
    if (ec) {
      if (ec == asio::error::eof && !closed_) {
        tunnel_ = false;  // the container closed: END_STREAM after the bytes queued
        eof_ = true;
        c_.codec().resume(*this);
        c_.want_write();
      }
      break;
    }
    in.commit_stream(got, n);
    if (tunnel_info_.websocket) tunnel_info_.to_client.feed(in.data().data(), in.size());
    dog_.arm(to_.tunnel_idle);
    const Write st = write_body(in.data(), false);
    in.consume(in.size());
    if (st == Write::kFailed) break;
    if (st == Write::kPending && !co_await flush()) break;
  }
  up_done_ = true;
  tunnel_closing_ = true;
  in_signal_.notify();
  (void)keep;
}

void Http2Stream::go_away() {
  if (tunnel_closing_ || closed_ || !tunnel_) return;
  if (tunnel_info_.websocket && tunnel_info_.to_client.at_boundary()) {
    static const std::string frame = http::ws_close_frame(1001, "going away", false);
    write_body(frame, false);  // after every byte the container sent (one ordered buffer)
  }
  tunnel_ = false;  // END_STREAM once the queued bytes are out
  eof_ = true;
  c_.codec().resume(*this);
  c_.want_write();
  tunnel_closing_ = true;
  if (tunnel_up_) tunnel_up_->cancel();  // the container sees its connection close
  in_signal_.notify();
}

}  // namespace sg::proxy
