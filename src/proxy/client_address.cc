#include "proxy/client_address.h"

namespace sg::proxy {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  }
  return a;
}

}  // namespace

bool is_trusted(const std::vector<net::Cidr>& trusted, const ip::address& a) {
  for (const auto& c : trusted) {
    if (net::cidr_contains(c, a)) return true;
  }
  return false;
}

bool parse_forwarded_element(std::string_view s, ip::address& out) {
  s = trim(s);
  if (s.size() > 64 || s.empty() || s.find('\0') != s.npos) return false;
  if (s.front() == '[') {  // [v6] or [v6]:port
    const size_t close = s.find(']');
    if (close == s.npos) return false;
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    s = s.substr(1, close - 1);
  } else if (s.find(':') == s.rfind(':') && s.find(':') != s.npos) {
    s = s.substr(0, s.find(':'));  // v4:port (one colon; bare IPv6 has several)
  }
  boost::system::error_code ec;
  // make_address needs a terminated string; elements are short.
  char buf[65];
  s.copy(buf, s.size());
  buf[s.size()] = '\0';
  out = ip::make_address(buf, ec);
  if (ec) return false;
  out = unmapped(out);
  return true;
}

ip::address client_behind(const http::RequestHead& req, const ip::address& peer,
                          const std::vector<net::Cidr>& trusted) {
  ip::address client = peer;
  // Header lines right to left, and each line's elements right to left: one list (RFC 9110 5.3).
  for (auto h = req.headers.rbegin(); h != req.headers.rend(); ++h) {
    if (h->id != http::Field::kXForwardedFor) continue;
    std::string_view v = h->value;
    while (!v.empty()) {
      const size_t comma = v.rfind(',');
      const std::string_view element = comma == v.npos ? v : v.substr(comma + 1);
      v = comma == v.npos ? std::string_view() : v.substr(0, comma);
      if (trim(element).empty()) continue;  // "a,,b": empty list elements are allowed
      ip::address a;
      if (!parse_forwarded_element(element, a)) return client;
      client = a;
      if (!is_trusted(trusted, a)) return client;
    }
  }
  return client;
}

}  // namespace sg::proxy
