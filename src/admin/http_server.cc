#include "admin/http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/await.h"
#include "common/buffer.h"
#include "http/pages.h"
#include "http/parser.h"
#include "net/watchdog.h"

namespace sg::admin {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxBody = 1 << 20;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string serialize(const Response& r, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " ";
  out += http::status_text(r.status);
  // RFC 9110 §8.6, §15.3.5: a 204 has no content, so neither a length nor a type.
  if (r.status != 204) {
    out += "\r\nContent-Type: " + r.content_type;
    out += "\r\nContent-Length: " + std::to_string(r.body.size());
  }
  out += "\r\nCache-Control: no-store\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  if (r.status != 204) out += r.body;
  return out;
}

Response error(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  r.body = "{\"error\":\"";
  http::append_json_escaped(r.body, code);
  r.body += "\",\"message\":\"";
  http::append_json_escaped(r.body, message);
  r.body += "\"}\n";
  return r;
}

// Suspends until a deferred answer's completion is called (at once or later).
asio::awaitable<Response> wait_for(std::function<void(std::function<void(Response)>)> start) {
  struct Slot {
    explicit Slot(const asio::any_io_executor& ex) : signal(ex) {}
    asio::steady_timer signal;
    std::optional<Response> res;
  };
  auto slot = std::make_shared<Slot>(co_await asio::this_coro::executor);
  start([slot](Response r) {
    slot->res = std::move(r);
    slot->signal.cancel();
  });
  if (!slot->res) {
    slot->signal.expires_at(asio::steady_timer::time_point::max());
    co_await slot->signal.async_wait(kUse);
  }
  co_return std::move(*slot->res);
}

// Runs an event stream until the reader goes, is too slow, or the server stops. The
// connection is not reused afterwards (close-delimited, as EventSource expects).
asio::awaitable<void> stream_events(net::Stream& sock, net::Watchdog& dog, EventStream& es,
                                    const std::shared_ptr<bool>& stopped) {
  const std::string_view head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
  dog.arm(es.write_timeout);
  auto [hec, hn] = co_await sock.async_write(asio::buffer(head), kUse);
  asio::steady_timer tick(sock.get_executor());
  auto quiet = std::chrono::steady_clock::now();
  while (!hec && !*stopped) {
    std::optional<std::string> out = es.next();
    if (!out) break;
    if (out->empty() && std::chrono::steady_clock::now() - quiet >= es.keepalive) {
      *out = ": keepalive\n\n";
    }
    if (!out->empty()) {
      dog.arm(es.write_timeout);
      auto [ec, n] = co_await sock.async_write(asio::buffer(*out), kUse);
      if (ec) break;
      quiet = std::chrono::steady_clock::now();
    }
    // Nothing is read while streaming; the watchdog covers only writes.
    dog.arm(es.interval + es.write_timeout + std::chrono::seconds(5));
    tick.expires_after(es.interval);
    auto [tec] = co_await tick.async_wait(kUse);
    if (tec && tec != asio::error::operation_aborted) break;
  }
  if (es.ended) es.ended();
}

asio::awaitable<void> serve(tcp::socket socket, Handler& handler, std::shared_ptr<bool> stopped) {
  net::Stream sock(std::move(socket));
  net::Watchdog dog(sock.get_executor());
  dog.watch(&sock);
  Buffer in;
  http::RequestHead head;
  const http::ParseLimits limits{8192, 32768, 100};
  for (;;) {
    dog.arm(std::chrono::seconds(30));
    http::ParseResult pr;
    for (;;) {
      if (!in.empty()) {
        pr = http::parse_request(in.data(), limits, head);
        if (pr.state != http::ParseState::kIncomplete) break;
      }
      auto [p, n] = in.prepare(4096, 8192 + 32768 + 8);
      if (n == 0) co_return;
      auto [ec, got] = co_await sock.async_read_some(asio::buffer(p, n), kUse);
      if (ec) co_return;
      in.commit(got);
    }
    if (pr.state == http::ParseState::kError) {
      std::string out = serialize(error(pr.error.status, "bad_request", pr.error.reason), true);
      co_await sock.async_write(asio::buffer(out), kUse);
      co_return;
    }
    Request req;
    req.method = std::string(head.method);
    req.path = std::string(head.path);
    req.query = std::string(head.query);
    for (const auto& h : head.headers)
      req.headers.emplace_back(lower(h.name), std::string(h.value));
    const bool keep_alive = head.keep_alive;
    const auto framing = head.framing;
    const uint64_t length = head.content_length;
    in.consume(pr.consumed);
    Response res;
    if (framing == http::Framing::kChunked) {
      res = error(411, "length_required", "send the body with Content-Length");
    } else if (length > kMaxBody) {
      res = error(413, "body_too_large", "request bodies are limited to 1 MiB");
    } else {
      while (in.size() < length) {
        auto [p, n] = in.prepare(static_cast<size_t>(length - in.size()),
                                 static_cast<size_t>(length) + 8192 + 32768);
        auto [ec, got] = co_await sock.async_read_some(asio::buffer(p, n), kUse);
        if (ec) co_return;
        in.commit(got);
      }
      req.body.assign(in.data().substr(0, static_cast<size_t>(length)));
      in.consume(static_cast<size_t>(length));
      res = handler(req);
      if (res.later) res = co_await wait_for(std::move(res.later));
      if (res.events) {
        co_await stream_events(sock, dog, *res.events, stopped);
        co_return;
      }
    }
    const bool close = !keep_alive || res.status == 411 || res.status == 413;
    std::string out = serialize(res, close);
    auto [ec, n] = co_await sock.async_write(asio::buffer(out), kUse);
    if (ec) co_return;
    if (close) {
      // Lingering close: let the client finish sending what we will not read, so it sees our
      // answer rather than a reset.
      sock.shutdown_send();
      dog.arm(std::chrono::seconds(2));
      char sink[16384];
      for (size_t drained = 0; drained < (8u << 20);) {
        auto [rec, got] = co_await sock.async_read_some(asio::buffer(sink), kUse);
        if (rec) break;
        drained += got;
      }
      co_return;
    }
  }
}

}  // namespace

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

HttpServer::HttpServer(asio::io_context& io, Handler handler)
    : io_(io), handler_(std::move(handler)), acceptor_(io) {}

int HttpServer::share() const {
  if (!acceptor_.is_open()) return -1;
  return ::fcntl(const_cast<tcp::acceptor&>(acceptor_).native_handle(), F_DUPFD_CLOEXEC, 0);
}

bool HttpServer::listen(const tcp::endpoint& ep, std::string& error, int fd) {
  boost::system::error_code ec;
  if (fd >= 0) {
    acceptor_.assign(ep.protocol(), fd, ec);
    if (!ec) return true;
    ::close(fd);
  }
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(128, ec);
  if (ec) {
    error = "cannot listen on admin address " + ep.address().to_string() + ":" +
            std::to_string(ep.port()) + ": " + ec.message();
    return false;
  }
  return true;
}

void HttpServer::start() {
  accept();
}

void HttpServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  pause_.cancel();
  *stopped_ = true;
}

void HttpServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec && ec != asio::error::connection_aborted) {
      const bool out_of_descriptors = ec.value() == EMFILE || ec.value() == ENFILE;
      if (out_of_descriptors && spare_.release()) return accept();
      pause_accepting(ec);
      return;
    }
    backoff_ = std::chrono::milliseconds(0);
    if (!ec) {
      asio::co_spawn(io_, serve(std::move(s), handler_, stopped_),
                     [this](const std::exception_ptr&) { spare_.refill(); });
    }
    accept();
  });
}

void HttpServer::pause_accepting(const boost::system::error_code& ec) {
  backoff_ =
      std::clamp(backoff_ * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  const auto now = std::chrono::steady_clock::now();
  if (now - logged_ >= std::chrono::seconds(10)) {
    logged_ = now;
    std::fprintf(stderr, "sessiongate: admin API: accept failed: %s; pausing for %lld ms\n",
                 ec.message().c_str(), static_cast<long long>(backoff_.count()));
  }
  pause_.expires_after(backoff_);
  pause_.async_wait([this](const boost::system::error_code& wec) {
    if (wec || !acceptor_.is_open()) return;
    spare_.refill();
    accept();
  });
}

}  // namespace sg::admin
