// One address the data plane accepts on, and what a connection there must get through before
// its first request: a PROXY protocol header, a TLS handshake.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

namespace sg::net {
class TlsServer;
}

namespace sg::proxy {

// What every generation of one listening address shares across reloads.
struct ListenerState {
  // A reload removed the address: nothing new is accepted there, and its connections close
  // once their current request is done (set by the control plane, read by workers).
  std::atomic<bool> removed{false};
};

struct Listener {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string text;                     // as configured, for messages
  bool proxy_protocol = false;          // a PROXY v1/v2 header comes first; its address is the peer
  bool redirect_to_https = false;       // every request is answered 308 to the https:// URL
  std::shared_ptr<net::TlsServer> tls;  // null: plain HTTP
  std::string hsts_line;  // "Strict-Transport-Security: ...\r\n" on every TLS response, or ""
  bool http2 = true;      // TLS: offer h2 in ALPN
  bool h2c = false;       // plain: a client may open with the HTTP/2 preface (prior knowledge)
  std::shared_ptr<ListenerState> state = std::make_shared<ListenerState>();

  bool plain() const { return !proxy_protocol && !tls; }
  bool removed() const { return state->removed.load(std::memory_order_relaxed); }
};

}  // namespace sg::proxy
