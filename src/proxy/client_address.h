// Who the client is behind trusted proxies: the right-most address of the X-Forwarded-For chain
// (the peer last) that is not itself a trusted proxy. Addresses left of it were written by the
// client or by hops nobody vouches for, so they are never believed.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <vector>

#include "http/message.h"
#include "net/cidr.h"

namespace sg::proxy {

bool is_trusted(const std::vector<net::Cidr>& trusted, const boost::asio::ip::address& a);

// Walks `req`'s X-Forwarded-For values from the right, starting from `peer` (already known to
// be trusted). Returns the first untrusted address; when every hop is trusted, the left-most
// one. An element that is not an address (junk, `unknown`, an obfuscated name) ends the walk:
// the client is then the hop right of it, the last address a trusted proxy vouched for.
// Elements may carry a port (`192.0.2.1:4711`, `[2001:db8::1]:4711`); IPv4-mapped IPv6
// addresses are returned as IPv4.
boost::asio::ip::address client_behind(const http::RequestHead& req,
                                       const boost::asio::ip::address& peer,
                                       const std::vector<net::Cidr>& trusted);

// One X-Forwarded-For element as an address (false when it is not one).
bool parse_forwarded_element(std::string_view s, boost::asio::ip::address& out);

}  // namespace sg::proxy
