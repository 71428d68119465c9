#include "proxy/client_conn.h"

#include "proxy/worker.h"

namespace sg::proxy {

namespace asio = boost::asio;

ClientConn::ClientConn(Worker& w, asio::ip::tcp::socket s) : worker(w), stream(std::move(s)) {
  boost::system::error_code ec;
  auto peer = stream.remote_endpoint(ec);
  if (!ec) {
    auto addr = peer.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    }
    ip = addr.to_string();
    v6 = addr.is_v6();
  }
  stream.set_no_delay();
  worker.metrics().connections_active.add();
}

ClientConn::~ClientConn() {
  DeadlineList::remove(parked);
  if (counted) worker.runtime().client_limits->close_connection(ip);
  worker.metrics().connections_active.sub();
  worker.connection_closed();
}

}  // namespace sg::proxy
