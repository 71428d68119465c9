#include "proxy/client_conn.h"

#include "proxy/worker.h"

namespace sg::proxy {

namespace asio = boost::asio;

void Peer::set(const asio::ip::address& a) {
  address = a;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  ip = address.to_string();
  v6 = address.is_v6();
}

ClientConn::ClientConn(Worker& w, const ConnectionAccounting& accounting, asio::ip::tcp::socket s)
    : worker(w), stream(std::move(s)), accounting_(accounting) {
  boost::system::error_code ec;
  auto peer = stream.remote_endpoint(ec);
  if (!ec) this->peer.set(peer.address());
  stream.set_no_delay();
  accounting_.active->add();
}

ClientConn::~ClientConn() {
  DeadlineList::remove(parked);
  if (counted) accounting_.limits->close_connection(peer.ip);
  accounting_.active->sub();
  accounting_.open->fetch_sub(1, std::memory_order_relaxed);
}

bool ClientConn::closing() const {
  return worker.draining() || (listener && listener->removed());
}

}  // namespace sg::proxy
