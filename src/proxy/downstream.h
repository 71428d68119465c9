// What an exchange (one request's phases, exchange.h) needs from the client connection that
// carries it: the parsed request and its body, deadlines, and ways to answer — a local Reply,
// interim responses, or the upstream's response in whatever framing the client speaks. The
// exchange never touches the client's transport itself.
//
// HTTP/1.1 (Http1Connection) implements it for one exchange at a time; an HTTP/2 connection
// implements it once per stream.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string_view>

#include "common/buffer.h"
#include "http/message.h"
#include "net/stream.h"
#include "net/watchdog.h"
#include "proxy/peer.h"
#include "proxy/reply.h"
#include "proxy/request_record.h"
#include "proxy/route_subscribers.h"
#include "registry/route.h"

namespace sg::proxy {

// How a body write went: all out, some left for flush(), or the client is gone.
enum class Write : uint8_t { kDone, kPending, kFailed };

class Downstream {
 public:
  virtual ~Downstream() = default;

  virtual const http::RequestHead& request() const = 0;
  // The connection's peer (a client, or a proxy in front of it) and how it reached us.
  virtual const Peer& peer() const = 0;
  virtual RequestRecord& record() = 0;
  // The request's deadlines. The upstream stream, once there is one, is watched with the
  // client's (null: no upstream any more).
  virtual net::Watchdog& watchdog() = 0;
  virtual void watch_upstream(net::Stream* upstream) = 0;
  virtual bool wants_html() const = 0;

  // Body bytes received after the head; read_body() appends more (false: client gone).
  virtual Buffer& body() = 0;
  virtual boost::asio::awaitable<bool> read_body() = 0;

  // A local answer. Also ends the exchange's use of the client.
  virtual boost::asio::awaitable<void> send_reply(const Reply& r) = 0;
  virtual boost::asio::awaitable<bool> send_continue() = 0;
  virtual boost::asio::awaitable<bool> send_interim(const http::ResponseHead& res) = 0;

  // The upstream's final response head; the codec picks the client's framing and whether the
  // connection stays open. `extra` is a complete header line to add, or empty.
  virtual void begin_response(const http::ResponseHead& res, std::string_view extra) = 0;
  // Body bytes (the head goes out with the first write; `last` ends the body in the client's
  // framing). Tries without suspending; on kPending, co_await flush() sends the rest.
  virtual Write write_body(std::string_view data, bool last) = 0;
  virtual boost::asio::awaitable<bool> flush() = 0;
  // True once any byte of the response head has gone to the client (an error page is then
  // too late: the client must see a truncated response instead).
  virtual bool response_started() const = 0;

  // 101 passed on: the client's transport and `upstream` become a tunnel (the bytes the client
  // sent after its upgrade request were forwarded from body() already). The request is
  // recorded when the tunnel ends.
  virtual void start_tunnel(net::Stream upstream, registry::RoutePtr route, TunnelInfo info) = 0;
};

}  // namespace sg::proxy
