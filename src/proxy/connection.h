// The per-connection request flow (phases):
//   read head -> match rule -> act (fixed | redirect | upstream) -> [send head + body upstream ->
//   read response head -> stream response | 101: tunnel] -> next request or close.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace sg::proxy {

class Worker;

boost::asio::awaitable<void> serve_connection(Worker& worker, boost::asio::ip::tcp::socket client);

}  // namespace sg::proxy
