// The per-connection request flow (phases):
//   read head -> match rule -> act (fixed | redirect | upstream) -> [send head + body upstream ->
//   read response head -> stream response | 101: hand over to a Tunnel] -> next request, park
//   (Worker::park) or close.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "proxy/client_conn.h"

namespace sg::proxy {

class Worker;

// Serves requests from a client whose socket is readable, until it closes, goes idle (parked
// again) or becomes a tunnel.
boost::asio::awaitable<void> serve_connection(Worker& worker, ClientPtr client);

// Answers a client over its per-address connection limit, then closes.
boost::asio::awaitable<void> refuse_connection(Worker& worker, ClientPtr client);

}  // namespace sg::proxy
