// Address ranges for allow-lists.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>

namespace sg::net {

struct Cidr {
  boost::asio::ip::address network;
  unsigned prefix = 0;
  std::string text;
};

// "10.0.0.0/8", "fd00::/8", "127.0.0.1" (a host route).
bool parse_cidr(std::string_view s, Cidr& out);
bool cidr_contains(const Cidr& c, const boost::asio::ip::address& a);

}  // namespace sg::net
