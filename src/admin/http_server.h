// A small HTTP/1.1 server for the admin API: strict head parsing (the data plane's parser),
// Content-Length bodies up to a limit, keep-alive, a timeout on every read. It runs on the
// control-plane thread, never on a data-plane worker.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
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

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for an answer that comes later (work done off the control-plane thread): the server
  // calls it with a completion, which must be called once, on the control-plane thread.
  std::function<void(std::function<void(Response)>)> later;
};

using Handler = std::function<Response(const Request&)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, Handler handler);
  // Binds `ep`, or takes `fd` when it is a socket already listening there (an upgrade).
  bool listen(const boost::asio::ip::tcp::endpoint& ep, std::string& error, int fd = -1);
  // A duplicate of the listening socket (for a new process to take over), or -1.
  int share() const;
  void start();
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
};

}  // namespace sg::admin
