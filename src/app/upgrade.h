// Binary upgrade without a refused connection: a new process takes the running one's listening
// sockets over a Unix socket (SCM_RIGHTS, as HAProxy's `-x` and Pingora do), starts serving on
// them, then tells the old one to drain. The kernel keeps each socket, and the connections
// queued on it, as long as either process holds it, so nothing is dropped in between; the
// store is shared, so no registration is lost. docs/decisions/0020-binary-upgrade.md.
//
// The exchange, one SOCK_SEQPACKET message each:
//   new -> old  "SG-UPGRADE 1"
//   old -> new  "SOCKETS n\n" then n lines "listener ADDRESS" | "admin ADDRESS", with n fds
//   new -> old  "DRAIN"                       (once the new process serves)
//   old -> new  "DRAINING"                    (the old stops listening on the upgrade socket)
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sg::app {

struct PassedSocket {
  std::string kind;  // "listener" or "admin"
  boost::asio::ip::tcp::endpoint endpoint;
  int fd = -1;
};

// The new process's side: blocking calls with timeouts, before its loops run.
class Takeover {
 public:
  Takeover() = default;
  Takeover(const Takeover&) = delete;
  Takeover& operator=(const Takeover&) = delete;
  ~Takeover();  // closes what was not taken, and the connection

  // Connects to the running router at `path` and receives its listening sockets.
  bool connect(const std::string& path, std::string& error);
  // One received socket for that address (each is handed out once), or -1.
  int take(const std::string& kind, const boost::asio::ip::tcp::endpoint& ep);
  // Whether the running router passed a socket for that address (taken or not).
  bool holds(const std::string& kind, const boost::asio::ip::tcp::endpoint& ep) const;
  // Tells the old process to drain; true once it answered that it does.
  bool release_old(std::string& error);
  size_t received() const { return sockets_.size(); }

 private:
  int conn_ = -1;
  std::vector<PassedSocket> sockets_;
};

// The running process's side, on the control plane's loop.
class UpgradeListener {
 public:
  // Gathers a duplicate of every listening socket (from the workers' threads); calls `done`
  // on the control-plane thread.
  using Collect = std::function<void(std::function<void(std::vector<PassedSocket>)> done)>;
  using Log = std::function<void(const std::string&)>;
  UpgradeListener(boost::asio::io_context& io, std::string path, Collect collect,
                  std::function<void()> drain, Log log);
  ~UpgradeListener();

  // Binds the path (a stale socket file nobody answers on is replaced; a live one is an
  // error: another router serves there).
  bool listen(std::string& error);
  // Whether a router answers on `path` now.
  static bool answered(const std::string& path);
  void stop();  // closes and unlinks the path

 private:
  struct Peer;
  void accept();
  void serve(std::shared_ptr<Peer> p);

  boost::asio::io_context& io_;
  std::string path_;
  Collect collect_;
  std::function<void()> drain_;
  Log log_;
  boost::asio::posix::stream_descriptor acceptor_;  // a listening AF_UNIX SOCK_SEQPACKET
  boost::asio::steady_timer pause_;                 // after an accept() that would repeat
  bool open_ = false;
};

}  // namespace sg::app
