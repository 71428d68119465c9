// The TLS listeners' certificates over the process's life: loaded at start (a bad pair stops
// the start), read again on SIGHUP and every check interval, swapped in only when the files
// changed and every pair in them is valid. A bad new set keeps serving the old one and says why
// (log line, sessiongate_tls_reloads_total{result="failed"}).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "app/config.h"
#include "net/tls_server.h"
#include "observe/metrics.h"

namespace sg::app {

// `sessiongate config check`: every TLS listener's pairs (key matches, chain in order, not
// expired; a warning within 14 days of expiry) and its cipher settings. Problems are printed
// to `out`, one line each; false when any is an error.
bool check_certificates(const std::vector<ListenerConfig>& listeners, std::ostream& out);

class Certificates {
 public:
  using Log = std::function<void(const std::string&)>;
  Certificates(boost::asio::io_context& io, observe::ControlMetrics& metrics, Log log)
      : io_(io), metrics_(metrics), log_(std::move(log)) {}

  // One TlsServer per TLS listener (null for plain ones), in listener order. False with every
  // problem logged.
  bool open(const std::vector<ListenerConfig>& listeners);
  const std::vector<std::shared_ptr<net::TlsServer>>& servers() const { return servers_; }

  // A reload's listeners and their servers (in listener order; kept ones keep their ticket
  // keys, so sessions resume across it).
  void replace(const std::vector<ListenerConfig>& listeners,
               std::vector<std::shared_ptr<net::TlsServer>> servers);
  // Re-reads every listener's files now (`why` names the trigger in the log).
  void reload(const char* why);
  // Checks the files every `interval` from now on.
  void watch(std::chrono::milliseconds interval);
  void stop() { timer_.cancel(); }

 private:
  void log_expiry(const std::string& listener, const net::TlsServer& s);
  void rotate_tickets();  // those whose ticket_rotation is due

  boost::asio::io_context& io_;
  observe::ControlMetrics& metrics_;
  Log log_;
  std::vector<std::shared_ptr<net::TlsServer>> servers_;
  std::vector<std::string> names_;
  boost::asio::steady_timer timer_{io_};
  std::chrono::milliseconds interval_{0};
  std::vector<std::chrono::steady_clock::time_point> rotated_;
};

}  // namespace sg::app
