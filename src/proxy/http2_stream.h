// One HTTP/2 request stream: the Downstream its Exchange talks to (downstream.h), and the
// codec's per-stream state (http/h2_session.h). The request head arrives as h2 fields and is
// read as the HTTP/1.1 head they map to (http/h2_request.h); the body arrives as DATA frames
// and is credited back to the client's window only as the exchange passes it on; the response
// is queued in a bounded buffer the codec pulls DATA frames from, so a client that stops
// reading stops the exchange (and through it the upstream), never grows the router.
//
// After a 101 from the container (an RFC 8441 WebSocket) the stream is the client side of a
// tunnel (http2_tunnel.cc): DATA frames both ways until either side ends.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/buffer.h"
#include "http/h2_session.h"
#include "http/message.h"
#include "net/stream.h"
#include "net/watchdog.h"
#include "proxy/downstream.h"
#include "proxy/exchange.h"
#include "proxy/request_record.h"
#include "proxy/route_subscribers.h"

namespace sg::proxy {

class Http2Connection;

class Http2Stream final : public Downstream, public http::H2Stream {
 public:
  explicit Http2Stream(Http2Connection& c);
  ~Http2Stream() override;

  // The exchange for this request, then the tunnel if it became one. Runs on its own
  // coroutine; the connection frees the stream once this is over and the codec closed it.
  boost::asio::awaitable<void> run();
  bool ready() const { return ready_; }  // its head is complete: run() may start
  bool finished() const { return done_ && closed_; }
  bool closed() const { return closed_; }
  bool started() const { return started_; }
  void mark_started() { started_ = true; }
  void mark_done() { done_ = true; }
  // The connection is gone: every wait ends and every write fails from now on.
  void abort();
  // Ready to carry another request: a connection keeps a few finished streams, so a busy one
  // reuses their buffers, coroutine-free state and exchange instead of allocating them anew.
  void recycle();

  // Downstream
  const http::RequestHead& request() const override { return req_; }
  const Peer& peer() const override;
  RequestRecord& record() override { return rec_; }
  net::Watchdog& watchdog() override { return dog_; }
  void watch_upstream(net::Stream* upstream) override {
    upstream_ = upstream;
    dog_.watch(upstream);
  }
  bool wants_html() const override { return html_; }
  Buffer& body() override { return body_; }
  boost::asio::awaitable<bool> read_body() override;
  boost::asio::awaitable<void> send_reply(const Reply& r) override;
  boost::asio::awaitable<bool> send_continue() override;
  boost::asio::awaitable<bool> send_interim(const http::ResponseHead& res) override;
  void begin_response(const http::ResponseHead& res, std::string_view extra) override;
  Write write_body(std::string_view data, bool last) override;
  boost::asio::awaitable<bool> flush() override;
  bool response_started() const override { return submitted_; }
  void start_tunnel(net::Stream upstream, registry::RoutePtr route, TunnelInfo info) override;

  // http::H2Stream
  void on_head(bool end_stream) override;
  void on_data(const uint8_t* p, size_t n) override;
  void on_end() override;
  void on_close(uint32_t error_code) override;
  size_t pull(uint8_t* buf, size_t n, bool& eof) override;

 private:
  // Two waits may be pending at once (a tunnel reads and writes): one for the request side
  // (body bytes, END_STREAM), one for the response side (the codec took queued bytes).
  struct Signal {
    explicit Signal(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
    bool waiting = false;
    void notify() {
      if (waiting) timer.cancel();
    }
  };
  // Waits until `s` is notified or `deadline`; false when the deadline passed.
  static boost::asio::awaitable<bool> wait_until(Signal& s,
                                                 std::chrono::steady_clock::time_point deadline);
  void notify() {
    in_signal_.notify();
    out_signal_.notify();
  }
  void credit();  // gives the client back the window of body bytes passed on
  bool submit(bool with_body);
  void add_field(std::string_view name, std::string_view value);
  void finish();  // after the exchange: RST what was left unfinished, record the request
  ReplyKind head_error() const;

  // The tunnel (http2_tunnel.cc).
  boost::asio::awaitable<void> run_tunnel();
  boost::asio::awaitable<void> pump_up(std::shared_ptr<Http2Connection> keep);
  boost::asio::awaitable<void> pump_down();
  void end_tunnel();
  // A reload's rules no longer route it: a 1001 close frame to the client between two frames,
  // then the stream ends as if the container had closed.
  void go_away();
  // Waits until the codec has taken every queued byte (or the client stops taking them).
  boost::asio::awaitable<bool> drain_out();

  Http2Connection& c_;
  Worker& w_;
  const Limits& lim_;
  const Timeouts& to_;
  Exchange exchange_;
  net::Watchdog dog_;  // the upstream side's deadlines
  net::Stream* upstream_ = nullptr;
  Signal in_signal_;
  Signal out_signal_;

  // The request.
  std::string head_text_;  // the HTTP/1.1 head req_ points into
  http::RequestHead req_;
  ReplyKind refused_ = ReplyKind::kCount;  // kCount: the head is good
  std::string_view refused_why_;
  bool html_ = false;
  Buffer body_;
  bool chunked_ = false;   // body_ holds the DATA re-framed as chunked
  bool ended_ = false;     // END_STREAM received
  uint64_t received_ = 0;  // DATA bytes received
  uint64_t credited_ = 0;  // ... of which given back to the window
  RequestRecord rec_;
  HeadSnapshot snap_;

  // The response.
  int status_ = 0;
  std::string fields_text_;                            // names and values, back to back
  std::vector<std::pair<uint32_t, uint32_t>> fields_;  // name length, value length
  bool submitted_ = false;
  bool eof_ = false;       // the body is complete in out_
  bool complete_ = false;  // ... and the codec has taken all of it
  bool tunnel_ = false;    // a 101: the body is the tunnel
  Buffer out_;

  // The tunnel.
  std::optional<net::Stream> tunnel_up_;
  registry::RoutePtr tunnel_route_;
  TunnelInfo tunnel_info_;
  TunnelHandle handle_;
  bool tunnel_closing_ = false;
  bool up_done_ = false;

  bool ready_ = false;
  bool started_ = false;
  bool done_ = false;
  bool closed_ = false;
  uint32_t close_code_ = 0;
};

}  // namespace sg::proxy
