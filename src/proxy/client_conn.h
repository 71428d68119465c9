// What a client connection keeps for its whole life: the stream, the peer's address and its
// slot in the connection limits. Everything a request needs (buffers, parsed head, coroutine
// frames) lives in a Connection that exists only while the client is sending or being
// answered; between requests only this small object is held (see Worker::park).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>
#include "net/stream.h"

#include "proxy/deadline_list.h"

namespace sg::proxy {

class Worker;

struct ClientConn {
  // Reads the peer address and sets TCP_NODELAY. Counts as an open connection until destroyed.
  ClientConn(Worker& w, boost::asio::ip::tcp::socket s);
  ~ClientConn();
  ClientConn(const ClientConn&) = delete;
  ClientConn& operator=(const ClientConn&) = delete;

  Worker& worker;
  net::Stream stream;
  std::string ip;  // text form, IPv4-mapped addresses as IPv4
  bool v6 = false;
  bool counted = false;  // holds a slot in the per-client connection limit
  DeadlineHook parked;   // in one of the worker's parked lists while idle
};

using ClientPtr = std::unique_ptr<ClientConn>;

}  // namespace sg::proxy
