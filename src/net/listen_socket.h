// A listening TCP socket as every worker opens its own: SO_REUSEPORT, so the kernel spreads
// new connections over the workers, and the same address can be opened again by a reload
// (or a new process) while the old socket still accepts.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

namespace sg::net {

// A bound, listening, non-inherited socket, or -1 with `error` naming the address and why.
int open_listen_socket(const boost::asio::ip::tcp::endpoint& ep, std::string& error);

// True when no other socket listens on `ep`. Every listener is opened with SO_REUSEPORT, and
// so would a second router's be: without this check, a second process on the same address
// starts and the kernel splits new connections between the two. Checked before this process
// opens an address it does not hold yet (start, a reload that adds a listener).
bool address_is_free(const boost::asio::ip::tcp::endpoint& ep, std::string& error);

}  // namespace sg::net
