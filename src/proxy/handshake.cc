// Before the first request on a listener with `proxy_protocol` or `tls`: the PROXY header names
// the peer, admission counts it, the TLS handshake runs. Each step is a read like any other,
// under its own deadline, and none blocks the loop: OpenSSL only ever sees a non-blocking
// descriptor. A connection that fails any step is closed with a count (and, for a bad PROXY
// header, a log line); nothing of it reaches an upstream.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstdio>

#include "common/await.h"
#include "net/proxy_protocol.h"
#include "net/tls_server.h"
#include "net/watchdog.h"
#include "proxy/reply.h"
#include "proxy/worker.h"

namespace sg::proxy {

namespace asio = boost::asio;
using asio::awaitable;
using Failure = observe::WorkerMetrics::HandshakeFailure;

namespace {

// Waits until the socket is readable; false on timeout, error or close.
awaitable<bool> readable(net::Stream& s) {
  auto [ec] = co_await s.async_wait_readable(kUse);
  co_return !ec;
}

// Reads and consumes the PROXY header; sets the peer from it. False: close the connection.
awaitable<bool> read_proxy_header(ClientConn& c, net::Watchdog& dog, Failure& why) {
  char buf[net::kProxyHeaderMax];
  for (;;) {
    const ssize_t got = c.stream.peek(buf, sizeof buf);
    if (got == 0) co_return false;  // closed before saying anything
    if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) co_return false;
    if (got > 0) {
      net::ProxyHeader h;
      const char* error = nullptr;
      const auto r = net::parse_proxy_header({buf, static_cast<size_t>(got)}, h, error);
      if (r == net::ProxyParse::kInvalid) {
        std::fprintf(stderr, "sessiongate: closed a connection from %s: %s\n", c.peer.ip.c_str(),
                     error);
        why = Failure::kProxyHeader;
        co_return false;
      }
      if (r == net::ProxyParse::kDone) {
        // Take exactly the header; what follows is the client's.
        boost::system::error_code ec;
        const size_t n = c.stream.read_now(asio::buffer(buf, h.length), ec);
        if (ec || n != h.length) co_return false;
        if (h.has_source) c.peer.set(h.source);
        co_return true;
      }
      if (static_cast<size_t>(got) == sizeof buf) co_return false;  // cannot happen: decided
    }
    if (!co_await readable(c.stream)) {
      if (dog.expired()) {
        std::fprintf(stderr, "sessiongate: closed a connection from %s: no PROXY header in time\n",
                     c.peer.ip.c_str());
        why = Failure::kTimeout;
      }
      co_return false;
    }
  }
}

// A first byte that cannot start a TLS record but could start an HTTP method.
bool looks_like_plain_http(char first) {
  return first >= 'A' && first <= 'Z';
}

awaitable<void> answer_plain_http(ClientConn& c, net::Watchdog& dog) {
  ReplyInput in;
  in.html = false;
  std::string out;
  append_http1(make_reply(ReplyKind::kPlainHttpOnTls, in), true, false, out);
  dog.arm(std::chrono::seconds(2));
  auto [ec, n] = co_await c.stream.async_write(asio::buffer(out), kUse);
  c.stream.shutdown_send();
  // Let the client read it rather than be reset by its own unread request.
  char sink[2048];
  for (int i = 0; i < 16 && !ec; ++i) {
    std::tie(ec, n) = co_await c.stream.async_read_some(asio::buffer(sink), kUse);
  }
}

awaitable<bool> tls_handshake(Worker& w, ClientConn& c, net::TlsServer& tls, net::Watchdog& dog,
                              Failure& why) {
  char first = 0;
  for (;;) {
    const ssize_t got = c.stream.peek(&first, 1);
    if (got == 1) break;
    if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) co_return false;
    if (!co_await readable(c.stream)) {
      if (dog.expired()) why = Failure::kTimeout;
      co_return false;
    }
  }
  if (looks_like_plain_http(first)) {
    why = Failure::kPlainHttp;
    co_await answer_plain_http(c, dog);
    co_return false;
  }
  SSL* ssl = tls.new_ssl();
  if (ssl == nullptr || !c.stream.start_tls(ssl)) {
    why = Failure::kTls;
    co_return false;
  }
  auto [ec] = co_await c.stream.async_handshake(kUse);
  if (ec) {
    why = dog.expired() ? Failure::kTimeout : Failure::kTls;
    co_return false;
  }
  w.metrics().tls_handshakes.add();
  if (SSL_session_reused(c.stream.ssl())) w.metrics().tls_resumed.add();
  c.peer.secure = true;
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(c.stream.ssl(), &alpn, &alpn_len);
  c.h2 = alpn_len == 2 && alpn[0] == 'h' && alpn[1] == '2';
  c.protocol_known = true;
  co_return true;
}

awaitable<void> handshake(Worker& w, ClientPtr c, const Listener& l) {
  const Timeouts& to = w.runtime().settings.timeouts;
  net::Watchdog dog(c->stream.get_executor());
  dog.watch(&c->stream);
  Failure why = Failure::kCount;  // kCount: closed by the client, nothing to count
  bool ok = true;
  if (l.proxy_protocol) {
    dog.arm(to.proxy_header);
    ok = co_await read_proxy_header(*c, dog, why);
  }
  if (ok && !w.admit(c, l)) co_return;  // refused (and counted) by admission
  if (ok && l.tls) {
    dog.arm(to.tls_handshake);
    ok = co_await tls_handshake(w, *c, *l.tls, dog, why);
  }
  if (!ok) {
    if (why != Failure::kCount) w.metrics().handshake_failures[why].add();
    co_return;
  }
  dog.disarm();
  w.first_request(std::move(c));
}

}  // namespace

void start_handshake(Worker& w, ClientPtr c, const Listener& l) {
  asio::co_spawn(w.io(), handshake(w, std::move(c), l), asio::detached);
}

}  // namespace sg::proxy
