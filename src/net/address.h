// Upstream and listener addresses: IP literals with a port, never host names (nothing is
// resolved per request, and nothing can be re-pointed by DNS).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

namespace sg::net {

// "127.0.0.1:8080" or "[::1]:8080". False for names, missing or out-of-range ports.
bool parse_endpoint(std::string_view s, boost::asio::ip::tcp::endpoint& out);
// The same, saying what is wrong: empty when `s` parsed into `out`.
std::string endpoint_problem(std::string_view s, boost::asio::ip::tcp::endpoint& out);

// True when a socket bound to `a` and one bound to `b` would take the same connections: the
// same port and the same address, or a wildcard (0.0.0.0, ::) of the same family.
bool endpoints_overlap(const boost::asio::ip::tcp::endpoint& a,
                       const boost::asio::ip::tcp::endpoint& b);

// Canonical text: "10.0.0.1:80", "[fd00::1]:80".
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep);

}  // namespace sg::net
