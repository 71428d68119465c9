// A worker: one event loop on one thread, its own acceptors (SO_REUSEPORT), its own upstream
// pool. Nothing here is shared with other workers except the immutable configuration.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <atomic>
#include <memory>
#include <thread>
#include <unordered_set>
#include <vector>

#include "net/upstream_pool.h"
#include "proxy/settings.h"
#include "routing/rule.h"

namespace sg::proxy {

// What the data plane reads on every request; immutable once published.
struct Runtime {
  Settings settings;
  routing::RuleTable rules;
  std::vector<boost::asio::ip::tcp::endpoint> listeners;
};

class Worker {
 public:
  explicit Worker(std::shared_ptr<const Runtime> rt);
  ~Worker();

  // Binds this worker's acceptors. Errors name the address.
  bool listen(std::string& error);
  void start();        // runs the loop on a new thread
  void begin_drain();  // thread-safe: stop accepting, close idle connections
  void stop();         // thread-safe: end the loop now
  void join();
  size_t connections() const { return connections_.load(std::memory_order_relaxed); }

  // Used by connections, from this worker's thread only.
  boost::asio::io_context& io() { return io_; }
  const Runtime& runtime() const { return *runtime_; }
  net::UpstreamPool& pool() { return pool_; }
  bool draining() const { return draining_; }
  void add_idle(boost::asio::ip::tcp::socket* s) { idle_.insert(s); }
  void remove_idle(boost::asio::ip::tcp::socket* s) { idle_.erase(s); }
  void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  void accept(boost::asio::ip::tcp::acceptor& acceptor);

  boost::asio::io_context io_{1};
  std::shared_ptr<const Runtime> runtime_;
  net::UpstreamPool pool_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::unordered_set<boost::asio::ip::tcp::socket*> idle_;
  std::atomic<size_t> connections_{0};
  bool draining_ = false;
  std::thread thread_;
};

}  // namespace sg::proxy
