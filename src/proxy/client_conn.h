// What a client connection keeps for its whole life: the stream, the peer's address and its
// slot in the connection limits. Everything a request needs (buffers, parsed head, coroutine
// frames) lives in a codec that exists only while the client is sending or being answered;
// between requests only this small object is held (see Worker::park).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "net/stream.h"
#include "observe/metrics.h"
#include "proxy/client_limits.h"
#include "proxy/deadline_list.h"
#include "proxy/listener.h"
#include "proxy/peer.h"

namespace sg::proxy {

class Worker;

// Where an open client connection is counted, for as long as it is open: the worker's gauge
// and connection count, and (when limits are on) its address's slot.
struct ConnectionAccounting {
  observe::Counter* active = nullptr;
  std::atomic<size_t>* open = nullptr;
  ClientLimits* limits = nullptr;
};

struct ClientConn {
  // Reads the peer address and sets TCP_NODELAY. Counts as an open connection until destroyed
  // (the caller has already counted it in `accounting.open`).
  ClientConn(Worker& w, const ConnectionAccounting& accounting, boost::asio::ip::tcp::socket s);
  ~ClientConn();
  ClientConn(const ClientConn&) = delete;
  ClientConn& operator=(const ClientConn&) = delete;

  Worker& worker;
  net::Stream stream;
  // Where it connected; kept alive by the connection across reloads (peer.listener is it).
  std::shared_ptr<const Listener> listener;
  Peer peer;
  bool counted = false;         // holds a slot in the per-client connection limit
  bool h2 = false;              // speaks HTTP/2 (ALPN "h2", or the preface on an h2c listener)
  bool protocol_known = false;  // h2 is decided (an h2c listener looks at the first bytes once)
  DeadlineHook parked;          // in one of the worker's parked lists while idle

  // Closing after its current request: the worker drains or a reload removed the listener.
  bool closing() const;

 private:
  ConnectionAccounting accounting_;
};

using ClientPtr = std::unique_ptr<ClientConn>;

}  // namespace sg::proxy
