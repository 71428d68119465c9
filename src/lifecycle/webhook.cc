#include "lifecycle/webhook.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <ctime>
#include <memory>

#include "lifecycle/signature.h"

namespace sg::lifecycle {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string WebhookHook::request(const std::string& body, long long timestamp) const {
  std::string host =
      target_.host.find(':') != std::string::npos ? "[" + target_.host + "]" : target_.host;
  std::string out = "POST " + target_.path + " HTTP/1.1\r\nHost: " + host + ":" +
                    std::to_string(target_.port) +
                    "\r\nUser-Agent: sessiongate\r\nContent-Type: application/json\r\n"
                    "Connection: close\r\nContent-Length: " +
                    std::to_string(body.size()) +
                    "\r\nX-Sessiongate-Timestamp: " + std::to_string(timestamp) + "\r\n";
  if (!target_.secret.empty()) {
    out += "X-Sessiongate-Signature: " + sign_body(target_.secret, timestamp, body) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

namespace {

struct CallState {
  explicit CallState(asio::io_context& io) : resolver(io), socket(io), timer(io) {}
  tcp::resolver resolver;
  tcp::socket socket;
  asio::steady_timer timer;
  bool timed_out = false;
};

asio::awaitable<HookResult> post(std::shared_ptr<CallState> st, std::string host, uint16_t port,
                                 std::string bytes) {
  HookResult r;
  r.retryable = true;
  boost::system::error_code ec;
  auto endpoints = co_await st->resolver.async_resolve(
      host, std::to_string(port), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    r.failure = st->timed_out ? "timeout" : "refused";
    r.detail = "cannot resolve " + host + ": " + ec.message();
    co_return r;
  }
  co_await asio::async_connect(st->socket, endpoints,
                               asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    r.failure = st->timed_out ? "timeout" : "refused";
    r.detail = "cannot connect: " + ec.message();
    co_return r;
  }
  co_await asio::async_write(st->socket, asio::buffer(bytes),
                             asio::redirect_error(asio::use_awaitable, ec));
  std::string head;
  char buf[4096];
  while (!ec && head.find("\r\n") == std::string::npos && head.size() < 16384) {
    const size_t n = co_await st->socket.async_read_some(
        asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    head.append(buf, n);
  }
  if (head.find("\r\n") == std::string::npos) {
    r.failure = st->timed_out ? "timeout" : "error";
    r.detail = st->timed_out ? "no answer in time" : "the connection ended before a status line";
    co_return r;
  }
  co_return result_of_status(response_status(head));
}

}  // namespace

void WebhookHook::call(const HookCall& c, std::function<void(HookResult)> done) {
  auto st = std::make_shared<CallState>(io_);
  st->timer.expires_after(timeout_);
  st->timer.async_wait([st](const boost::system::error_code& ec) {
    if (ec) return;
    st->timed_out = true;
    st->resolver.cancel();
    boost::system::error_code ignored;
    st->socket.close(ignored);
  });
  std::string bytes = request(hook_body(c), static_cast<long long>(std::time(nullptr)));
  asio::co_spawn(io_, post(st, target_.host, target_.port, std::move(bytes)),
                 [st, done = std::move(done)](std::exception_ptr e, HookResult r) {
                   st->timer.cancel();
                   if (e) {
                     r = HookResult{};
                     r.failure = "error";
                     r.detail = "webhook call failed";
                     r.retryable = true;
                   }
                   done(std::move(r));
                 });
}

}  // namespace sg::lifecycle
