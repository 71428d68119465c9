#include "proxy/worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "proxy/connection.h"

namespace sg::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Worker::Worker(std::shared_ptr<const Runtime> rt)
    : runtime_(std::move(rt)),
      pool_(io_.get_executor(), runtime_->settings.limits.upstream_idle_per_host,
            runtime_->settings.timeouts.upstream_keepalive_idle) {}

Worker::~Worker() {
  stop();
  join();
}

bool Worker::listen(std::string& error) {
  for (const auto& ep : runtime_->listeners) {
    auto acc = std::make_unique<tcp::acceptor>(io_);
    boost::system::error_code ec;
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      if (::setsockopt(acc->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        ec.assign(errno, boost::system::system_category());
      }
    }
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(1024, ec);
    if (ec) {
      error = "cannot listen on " + ep.address().to_string() + ":" + std::to_string(ep.port()) +
              ": " + ec.message();
      return false;
    }
    acceptors_.push_back(std::move(acc));
  }
  return true;
}

void Worker::start() {
  for (auto& acc : acceptors_) accept(*acc);
  thread_ = std::thread([this] {
    io_.run();
  });
}

void Worker::accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([this, &acceptor](boost::system::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      if (connections_.load(std::memory_order_relaxed) >=
          runtime_->settings.limits.max_connections) {
        // Over the limit: a short, honest answer beats a silent reset or an unbounded backlog.
        static constexpr char kBusy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
            "Content-Length: 28\r\nConnection: close\r\n\r\nToo many connections; retry\n";
        boost::system::error_code ignored;
        s.non_blocking(true, ignored);
        asio::write(s, asio::buffer(kBusy, sizeof kBusy - 1), ignored);
        s.close(ignored);
      } else {
        connections_.fetch_add(1, std::memory_order_relaxed);
        asio::co_spawn(io_, serve_connection(*this, std::move(s)), asio::detached);
      }
    }
    accept(acceptor);
  });
}

void Worker::begin_drain() {
  asio::post(io_, [this] {
    draining_ = true;
    for (auto& acc : acceptors_) {
      boost::system::error_code ignored;
      acc->close(ignored);
    }
    for (auto* s : idle_) {
      boost::system::error_code ignored;
      s->cancel(ignored);
    }
    pool_.close_all();
  });
}

void Worker::stop() { io_.stop(); }

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace sg::proxy
