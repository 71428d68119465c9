#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>

namespace sg::proxy {

struct Listener;

// Who is on the other end of a client connection: the TCP peer, or the address a PROXY protocol
// header carried for it.
struct Peer {
  boost::asio::ip::address address;  // IPv4-mapped addresses as IPv4
  std::string ip;                    // its text form
  bool v6 = false;
  bool trusted = false;  // in security.trusted_proxies: its forwarding headers are believed
  bool secure = false;   // reached us over TLS
  const Listener* listener = nullptr;  // where it connected

  void set(const boost::asio::ip::address& a);
};

}  // namespace sg::proxy
