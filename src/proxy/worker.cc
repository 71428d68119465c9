#include "proxy/worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "proxy/connection.h"
#include "proxy/error_page.h"

namespace sg::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// The answer to a connection over max_connections, from the one error-to-page mapping.
std::string render_busy() {
  std::string out;
  http::render_page(
      error_page({ErrorKind::kOverloaded, Side::kInternal, true, "too many connections"}), false,
      true, out, "Retry-After: 1\r\n");
  return out;
}

}  // namespace

Worker::Worker(std::shared_ptr<const Runtime> rt)
    : runtime_(std::move(rt)),
      busy_response_(render_busy()),
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
  if (activity_sink_) schedule_activity_flush();
  if (runtime_->access_log) schedule_log_flush();
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([this, &acceptor](boost::system::error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      if (connections_.load(std::memory_order_relaxed) >=
          runtime_->settings.limits.max_connections) {
        // Over the limit: a short, honest answer beats a silent reset or an unbounded backlog.
        // Best effort and non-blocking: the page fits in the socket buffer of a new connection.
        boost::system::error_code ignored;
        s.non_blocking(true, ignored);
        asio::write(s, asio::buffer(busy_response_), ignored);
        s.close(ignored);
        metrics_.connections_rejected.add();
      } else {
        connections_.fetch_add(1, std::memory_order_relaxed);
        metrics_.connections_total.add();
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
    for (IdleEntry* e = idle_.next; e != &idle_; e = e->next) {
      boost::system::error_code ignored;
      e->socket->cancel(ignored);
    }
    pool_.close_all();
    activity_timer_.cancel();
  });
}

void Worker::access(const observe::AccessRecord& r) {
  if (!runtime_->access_log) return;
  observe::format_access_line(r, runtime_->access_log->fields(), log_buf_);
  if (log_buf_.size() >= 32768) flush_log();
}

void Worker::flush_log() {
  if (log_buf_.empty()) return;
  std::string batch;
  batch.reserve(40000);
  batch.swap(log_buf_);
  if (!runtime_->access_log->submit(std::move(batch))) metrics_.access_log_dropped.add();
}

void Worker::schedule_log_flush() {
  log_timer_.expires_after(std::chrono::milliseconds(200));
  log_timer_.async_wait([this](const boost::system::error_code& ec) {
    flush_log();
    // Keep flushing through a drain so the last requests are logged; stop when told to stop.
    if (ec) return;
    if (draining_ && connections_.load(std::memory_order_relaxed) == 0) return;
    schedule_log_flush();
  });
}

void Worker::post_route(std::string session_id, registry::RoutePtr route) {
  asio::post(io_, [this, id = std::move(session_id), r = std::move(route)]() mutable {
    apply_route(id, std::move(r));
  });
}

void Worker::post_all_routes(std::vector<registry::RoutePtr> routes) {
  asio::post(io_, [this, all = std::move(routes)] {
    registry::RouteTable next;
    next.replace_all(all);
    // Sessions that vanish or move in a resync lose their tunnels, like any other change.
    std::vector<std::string> moved;
    for (const auto& [id, list] : tunnels_) {
      const registry::Route* a = routes_.find(id);
      const registry::Route* b = next.find(id);
      if (!a || !b || a->container_id != b->container_id || a->generation != b->generation ||
          a->address != b->address) {
        moved.push_back(id);
      }
    }
    routes_ = std::move(next);
    for (const auto& id : moved) close_tunnels(id);
  });
}

void Worker::apply_route(const std::string& session_id, registry::RoutePtr route) {
  metrics_.route_changes_applied.add();
  registry::RoutePtr old = routes_.set(session_id, route);
  if (!old) return;
  const bool moved = !route || route->container_id != old->container_id ||
                     route->generation != old->generation || route->address != old->address;
  if (moved) close_tunnels(session_id);
}

void Worker::add_tunnel(const std::string& session_id, TunnelHandle* t) {
  tunnels_[session_id].push_back(t);
}

void Worker::remove_tunnel(const std::string& session_id, TunnelHandle* t) {
  auto it = tunnels_.find(session_id);
  if (it == tunnels_.end()) return;
  auto& list = it->second;
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == t) {
      list.erase(list.begin() + static_cast<long>(i));
      break;
    }
  }
  if (list.empty()) tunnels_.erase(it);
}

void Worker::close_tunnels(const std::string& session_id) {
  auto it = tunnels_.find(session_id);
  if (it == tunnels_.end()) return;
  // close() makes each tunnel end on its own; they unregister when their coroutines finish.
  for (TunnelHandle* t : std::vector<TunnelHandle*>(it->second)) {
    metrics_.tunnels_closed_by_route_change.add();
    t->close();
  }
}

void Worker::note_activity(const registry::Route& route, int64_t now_ms) {
  if (!activity_sink_) return;
  const int64_t interval = runtime_->sessions.activity_interval.count();
  int64_t last = route.activity_reported.load(std::memory_order_relaxed);
  if (now_ms - last < interval) return;
  // Workers race here only for the same session; the loser skips a report it did not need.
  if (!route.activity_reported.compare_exchange_strong(last, now_ms, std::memory_order_relaxed)) {
    return;
  }
  pending_activity_.emplace_back(route.session_id, now_ms);
}

void Worker::schedule_activity_flush() {
  activity_timer_.expires_after(runtime_->sessions.activity_interval);
  activity_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const int64_t now = registry::now_ms();
    // An open tunnel is activity, even when no bytes move.
    for (const auto& [id, list] : tunnels_) {
      if (!list.empty()) pending_activity_.emplace_back(id, now);
    }
    if (!pending_activity_.empty()) {
      activity_sink_(std::move(pending_activity_));
      pending_activity_.clear();
    }
    schedule_activity_flush();
  });
}

void Worker::stop() {
  io_.stop();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
  if (runtime_->access_log) flush_log();  // the loop is gone: lines still buffered go out now
}

}  // namespace sg::proxy
