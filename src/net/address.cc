#include "net/address.h"

#include <charconv>

namespace sg::net {

bool parse_endpoint(std::string_view s, boost::asio::ip::tcp::endpoint& out) {
  std::string_view host, port;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == s.npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == s.npos || s.find(':') != colon) return false;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || port.size() > 5 || ec != std::errc() || end != port.data() + port.size() ||
      p > 65535 || p == 0) {
    return false;
  }
  boost::system::error_code aec;
  auto addr = boost::asio::ip::make_address(std::string(host), aec);
  if (aec) return false;
  if (addr.is_v6() && addr.to_v6().scope_id() != 0) return false;  // no zone ids
  out = {addr, static_cast<unsigned short>(p)};
  return true;
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
