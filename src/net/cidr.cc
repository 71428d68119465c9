#include "net/cidr.h"

#include <array>
#include <charconv>

namespace sg::net {

namespace {

bool parse_prefix(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool parse_cidr(std::string_view s, Cidr& out) {
  size_t slash = s.find('/');
  std::string addr(s.substr(0, slash));
  boost::system::error_code ec;
  out.network = boost::asio::ip::make_address(addr, ec);
  if (ec) return false;
  unsigned max = out.network.is_v4() ? 32 : 128;
  out.prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view p = s.substr(slash + 1);
    uint64_t v = 0;
    if (!parse_prefix(p, v) || v > max) return false;
    out.prefix = static_cast<unsigned>(v);
  }
  out.text = std::string(s);
  return true;
}

bool cidr_contains(const Cidr& c, const boost::asio::ip::address& a) {
  if (c.network.is_v4() != a.is_v4()) return false;
  auto bytes_of = [](const boost::asio::ip::address& x) {
    std::array<unsigned char, 16> b{};
    if (x.is_v4()) {
      auto v = x.to_v4().to_bytes();
      std::copy(v.begin(), v.end(), b.begin());
    } else {
      b = x.to_v6().to_bytes();
    }
    return b;
  };
  auto n = bytes_of(c.network);
  auto v = bytes_of(a);
  unsigned bits = c.prefix;
  for (size_t i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((n[i] & mask) != (v[i] & mask)) return false;
  }
  return true;
}

}  // namespace sg::net
