// A small HTTP/1.1 server for the admin API: strict head parsing (the data plane's parser),
// Content-Length bodies up to a limit, keep-alive, a timeout on every read. It runs on the
// control-plane thread, never on a data-plane worker.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/message.h"
#include "net/spare_descriptors.h"

namespace sg::admin {

struct Request {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  std::string header(std::string_view name) const;
};

// A Server-Sent Events answer: `next` is called every `interval` on the control-plane thread
// and returns the next event ("" when nothing changed, nullopt to end the stream). One event is in
// flight at a time, so a slow reader costs one snapshot, not a queue; a reader that takes
// `write_timeout` over one event is dropped.
struct EventStream {
  std::function<std::optional<std::string>()> next;
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds keepalive{15000};      // a comment line when nothing was sent
  std::chrono::milliseconds write_timeout{10000};  // per event
  std::function<void()> ended;                     // once, however the stream ends
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for an answer that comes later (work done off the control-plane thread): the server
  // calls it with a completion, which must be called once, on the control-plane thread.
  std::function<void(std::function<void(Response)>)> later;
  // Set for an event stream (status 200, text/event-stream); `body` is not sent.
  std::shared_ptr<EventStream> events;
};

using Handler = std::function<Response(const Request&)>;

// How a request without a bearer token stands with the dashboard's login cookie.
enum class CookieAuth : uint8_t {
  kNone,      // no login cookie (or an unknown or expired one)
  kValid,     // a valid login, with the X-Sessiongate-Dashboard header: the admin's rights
  kNoHeader,  // a valid login without the header: refused (it may be a cross-site request)
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Handler handler);
  // Binds `ep`, or takes `fd` when it is a socket already listening there (an upgrade).
  bool listen(const boost::asio::ip::tcp::endpoint& ep, std::string& error, int fd = -1);
  // A duplicate of the listening socket (for a new process to take over), or -1.
  int share() const;
  void start();
  // Closes the listener and ends every event stream (requests in flight finish).
  void stop();

 private:
  void accept();
  // After an accept() failure that would repeat at once (no descriptors, no memory): wait,
  // doubling up to a second, instead of spinning the control plane's loop on it.
  void pause_accepting(const boost::system::error_code& ec);
  boost::asio::io_context& io_;
  Handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_{io_};
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point logged_{};
  // Given up when accept() finds no descriptor, so a health check still gets in; taken back
  // when that connection ends.
  net::SpareDescriptors spare_{2};
  // Read by event streams at every tick: true once stop() was called.
  std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
};

}  // namespace sg::admin
