#include "net/address.h"

#include <charconv>

namespace sg::net {

bool parse_endpoint(std::string_view s, boost::asio::ip::tcp::endpoint& out) {
  return endpoint_problem(s, out).empty();
}

std::string endpoint_problem(std::string_view s, boost::asio::ip::tcp::endpoint& out) {
  std::string_view host, port;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == s.npos) return "no closing ']' after the IPv6 address (e.g. [::1]:8080)";
    if (close + 1 >= s.size() || s[close + 1] != ':') return "no :PORT after the ']'";
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == s.npos) return "no port: write IP:PORT, e.g. 127.0.0.1:8080";
    if (s.find(':') != colon) return "an IPv6 address goes in brackets: [::1]:8080";
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || port.size() > 5 || ec != std::errc() || end != port.data() + port.size() ||
      p > 65535) {
    return "the port must be a number from 1 to 65535";
  }
  // Port 0 asks the kernel for any free port: nobody could find a listener bound that way,
  // and no container listens there.
  if (p == 0) return "port 0 is not allowed: give a fixed port from 1 to 65535";
  boost::system::error_code aec;
  auto addr = boost::asio::ip::make_address(std::string(host), aec);
  if (aec) {
    return "'" + std::string(host) +
           "' is not an IP address (host names are not resolved: give an IP literal)";
  }
  if (addr.is_v6() && addr.to_v6().scope_id() != 0) return "IPv6 zone ids are not supported";
  out = {addr, static_cast<unsigned short>(p)};
  return {};
}

bool endpoints_overlap(const boost::asio::ip::tcp::endpoint& a,
                       const boost::asio::ip::tcp::endpoint& b) {
  if (a.port() != b.port() || a.address().is_v6() != b.address().is_v6()) return false;
  return a.address() == b.address() || a.address().is_unspecified() || b.address().is_unspecified();
}

std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep) {
  std::string out;
  const bool v6 = ep.address().is_v6();
  if (v6) out += '[';
  out += ep.address().to_string();
  if (v6) out += ']';
  out += ':';
  out += std::to_string(ep.port());
  return out;
}

}  // namespace sg::net
