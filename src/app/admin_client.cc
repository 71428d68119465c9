#include "app/admin_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "http/parser.h"
#include "net/address.h"

namespace sg::app {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

AdminReply admin_call(const AdminTarget& target, const std::string& method, const std::string& path,
                      const std::string& body) {
  AdminReply reply;
  std::string_view url = target.url;
  if (url.substr(0, 7) != "http://") {
    reply.error = "admin URL must start with http:// (got '" + target.url + "')";
    reply.bad_target = true;
    return reply;
  }
  std::string_view hostport = url.substr(7);
  if (!hostport.empty() && hostport.back() == '/') hostport.remove_suffix(1);
  tcp::endpoint ep;
  if (!net::parse_endpoint(hostport, ep)) {
    reply.error =
        "admin URL must name IP:PORT, e.g. http://127.0.0.1:9901 (got '" + target.url + "')";
    reply.bad_target = true;
    return reply;
  }
  asio::io_context io;
  tcp::socket sock(io);
  boost::system::error_code ec;
  sock.open(ep.protocol(), ec);
  // Bound every step: a wedged server (or a dropped SYN) must not hang the caller. On Linux
  // the send timeout bounds connect() as well.
  timeval tv{target.timeout_ms / 1000, (target.timeout_ms % 1000) * 1000};
  if (!ec) {
    ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sock.connect(ep, ec);
  }
  if (ec) {
    reply.error =
        "cannot reach " + std::string(target.what) + " at " + target.url + ": " + ec.message();
    return reply;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + std::string(hostport) +
                    "\r\nConnection: close\r\nAccept: application/json\r\n";
  if (!target.token.empty()) req += "Authorization: Bearer " + target.token + "\r\n";
  if (!body.empty() || method == "PUT" || method == "POST") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  asio::write(sock, asio::buffer(req), ec);
  if (ec) {
    reply.error = "sending to the admin API failed: " + ec.message();
    return reply;
  }
  std::string data;
  char buf[16384];
  for (;;) {
    size_t n = sock.read_some(asio::buffer(buf), ec);
    data.append(buf, n);
    if (ec || data.size() > (64u << 20)) break;
  }
  http::ResponseHead head;
  http::ParseResult r = http::parse_response(data, {8192, 65536, 200}, http::Method::kGet, head);
  if (r.state != http::ParseState::kComplete) {
    reply.error = "the admin API sent no valid HTTP response";
    return reply;
  }
  reply.status = head.status;
  std::string_view rest = std::string_view(data).substr(r.consumed);
  if (head.framing == http::Framing::kLength) rest = rest.substr(0, head.content_length);
  reply.body = std::string(rest);
  return reply;
}

}  // namespace sg::app
