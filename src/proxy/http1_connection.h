// The HTTP/1.1 downstream codec: reads and parks request heads, runs one Exchange per request,
// writes replies and responses in HTTP/1.1 framing, closes gracefully (lingering close) and
// hands a 101's connection to a Tunnel. It exists only while a request is read or answered;
// between requests the client is parked (Worker::park) as a bare ClientConn.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "common/buffer.h"
#include "http/chunked.h"
#include "http/message.h"
#include "http/serializer.h"
#include "net/stream.h"
#include "net/watchdog.h"
#include "proxy/client_conn.h"
#include "proxy/downstream.h"
#include "proxy/exchange.h"
#include "proxy/request_record.h"
#include "proxy/worker.h"

namespace sg::proxy {

class Http1Connection final : public Downstream {
 public:
  Http1Connection(Worker& w, ClientPtr c);

  // Serves requests until the client closes, goes idle (parked again) or becomes a tunnel.
  boost::asio::awaitable<void> run();
  // Answers a client over its per-address connection limit, then closes.
  boost::asio::awaitable<void> refuse();

  // Downstream
  const http::RequestHead& request() const override { return req_; }
  const Peer& peer() const override { return cc_->peer; }
  RequestRecord& record() override { return rec_; }
  net::Watchdog& watchdog() override { return dog_; }
  void watch_upstream(net::Stream* upstream) override { dog_.watch(&client_, upstream); }
  bool wants_html() const override { return html_; }
  Buffer& body() override { return in_; }
  boost::asio::awaitable<bool> read_body() override;
  boost::asio::awaitable<void> send_reply(const Reply& r) override;
  boost::asio::awaitable<bool> send_continue() override;
  boost::asio::awaitable<bool> send_interim(const http::ResponseHead& res) override;
  void begin_response(const http::ResponseHead& res, std::string_view extra) override;
  Write write_body(std::string_view data, bool last) override;
  boost::asio::awaitable<bool> flush() override;
  bool response_started() const override { return !head_pending_; }
  void start_tunnel(net::Stream upstream, registry::RoutePtr route, TunnelInfo info) override;

 private:
  enum class Head : uint8_t { kReady, kEnd, kPark };
  boost::asio::awaitable<Head> read_head();
  boost::asio::awaitable<Head> reject_head(ReplyKind k, std::string_view detail);
  boost::asio::awaitable<bool> write_client(std::string_view bytes);
  boost::asio::awaitable<void> close_client();
  std::string extra_;  // header lines added to a response (see begin_response)
  void begin_request();
  void finish_request();

  Worker& w_;
  // The configuration this connection started under: its limits, timeouts and listener stay
  // those for its life; each request's routing is the exchange's (the one in force then).
  std::shared_ptr<const Runtime> pin_;
  const Runtime& rt_;
  const Limits& lim_;
  const Timeouts& to_;
  ClientPtr cc_;  // null once parked or handed to a tunnel
  net::Stream& client_;
  net::Watchdog dog_;
  IdleEntry idle_entry_;
  bool fresh_ = true;
  Parking park_kind_ = Parking::kKeepAlive;
  std::chrono::steady_clock::time_point park_deadline_;
  Buffer in_;
  http::RequestHead req_;
  bool req_valid_ = false;  // req_ holds this request's parsed head
  size_t head_len_ = 0;
  size_t head_limit_ = 0;
  bool html_ = false;
  RequestRecord rec_;  // this request's accounting for metrics and the access log
  HeadSnapshot snap_;
  Exchange exchange_;
  // The response being written.
  std::string out_;                               // its head (or a whole local reply)
  http::Framing framing_ = http::Framing::kNone;  // the client's body framing
  bool keep_alive_ = true;
  bool head_pending_ = false;
  http::ChunkSizeLine chunk_size_;                    // the size line pending_ may point into
  std::array<boost::asio::const_buffer, 4> pending_;  // what flush() still has to write
};

// The worker's ConnectionHandler for HTTP/1.1 (coroutines on the worker's loop).
void serve_http1(Worker& worker, ClientPtr client);
void refuse_http1(Worker& worker, ClientPtr client);

}  // namespace sg::proxy
