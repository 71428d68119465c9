// Which upstream addresses a container may register and the proxy may connect to (SSRF guard).
// Denied unless an allow-list CIDR covers them: loopback, link-local (169.254.0.0/16 — cloud
// metadata — and fe80::/10), unspecified, "this network" 0.0.0.0/8, multicast, broadcast, and
// the IPv4-mapped IPv6 forms of all of these. The router's own listeners are always denied.
// With a non-empty allow-list, an address must also fall inside it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <vector>

#include "net/cidr.h"

namespace sg::net {

class AddressPolicy {
 public:
  AddressPolicy() = default;
  AddressPolicy(std::vector<Cidr> allow, std::vector<boost::asio::ip::tcp::endpoint> own);

  // Empty when allowed; otherwise why not, for a 400 message or a log line.
  std::string check(const boost::asio::ip::tcp::endpoint& ep) const;

 private:
  bool allowed_explicitly(const boost::asio::ip::address& a) const;

  std::vector<Cidr> allow_;
  std::vector<boost::asio::ip::tcp::endpoint> own_;
};

}  // namespace sg::net
