#include "proxy/client_conn.h"

namespace sg::proxy {

namespace asio = boost::asio;

ClientConn::ClientConn(Worker& w, const ConnectionAccounting& accounting, asio::ip::tcp::socket s)
    : worker(w), stream(std::move(s)), accounting_(accounting) {
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
  accounting_.active->add();
}

ClientConn::~ClientConn() {
  DeadlineList::remove(parked);
  if (counted) accounting_.limits->close_connection(ip);
  accounting_.active->sub();
  accounting_.open->fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace sg::proxy
