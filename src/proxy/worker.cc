#include "proxy/worker.h"

#include "proxy/client_address.h"

#include <algorithm>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <system_error>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/buffer.h"
#include "net/listen_socket.h"
#include "net/watchdog.h"
#include "proxy/reply.h"

namespace sg::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// The answer to a connection over max_connections, from the one reply table.
std::string render_busy() {
  std::string out;
  append_http1(make_reply(ReplyKind::kOverloaded, with_detail("too many connections")), true, false,
               out);
  return out;
}

}  // namespace

Worker::Worker(std::shared_ptr<const Runtime> rt)
    : runtime_(std::move(rt)),
      busy_response_(render_busy()),
      pool_(io_.get_executor(), runtime_->settings.limits.upstream_idle_per_host,
            runtime_->settings.timeouts.upstream_keepalive_idle) {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  inbox_wake_.assign(fd);
}

Worker::~Worker() {
  stop();
  join();
  // Connections, parked sockets and tunnels are owned by pending handlers: destroy them now,
  // while everything they report to on the way out still exists.
  io_.shutdown();
  if (runtime_->access_log) flush_log();  // tunnels cut by the shutdown logged their line
}

bool Worker::listen(std::string& error, const std::function<int(const Listener&)>& given) {
  for (const auto& l : runtime_->listeners) {
    int fd = given ? given(*l) : -1;
    if (fd < 0) fd = net::open_listen_socket(l->endpoint, error);
    if (fd < 0) return false;
    auto slot = std::make_shared<AcceptSlot>(io_);
    boost::system::error_code ec;
    slot->acceptor.assign(l->endpoint.protocol(), fd, ec);
    if (ec) {
      ::close(fd);
      error = "cannot listen on " + l->text + ": " + ec.message();
      return false;
    }
    slot->listener = l;
    slots_.push_back(std::move(slot));
  }
  return true;
}

void Worker::start() {
  read_inbox();
  for (const auto& slot : slots_) accept(slot);
  if (activity_sink_) schedule_activity_flush();
  schedule_log_flush();  // a reload may turn the access log on
  schedule_trim();
  running_ = true;
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::run_in_loop(std::function<void()> f) {
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    inbox_.push_back(std::move(f));
  }
  const uint64_t one = 1;
  // The counter only needs to become non-zero; a full counter (never in practice) still wakes.
  [[maybe_unused]] ssize_t n = ::write(inbox_wake_.native_handle(), &one, sizeof one);
}

void Worker::read_inbox() {
  inbox_wake_.async_read_some(asio::buffer(&inbox_count_, sizeof inbox_count_),
                              [this](const boost::system::error_code& ec, size_t) {
                                if (ec == asio::error::operation_aborted) return;
                                {
                                  std::lock_guard<std::mutex> lock(inbox_mu_);
                                  inbox_batch_.swap(inbox_);
                                }
                                for (auto& f : inbox_batch_) f();
                                inbox_batch_.clear();
                                read_inbox();
                              });
}

void Worker::accept(SlotPtr slot) {
  AcceptSlot& s = *slot;
  s.acceptor.async_accept(
      [this, slot = std::move(slot)](boost::system::error_code ec, tcp::socket sock) mutable {
        if (ec == asio::error::operation_aborted) return;
        // A drain or reload may close the acceptor after the kernel handed this connection over:
        // it is served all the same (dropping it would reset a request on its way).
        const bool open = slot->acceptor.is_open();
        if (ec && ec != asio::error::connection_aborted) {
          if (open) pause_accepting(std::move(slot), ec);  // retrying at once would spin on it
          return;
        }
        accept_backoff_ = std::chrono::milliseconds(0);
        if (!ec) accepted(slot->listener, std::move(sock));
        if (open) accept(std::move(slot));
      });
}

void Worker::accepted(const std::shared_ptr<const Listener>& lp, tcp::socket s) {
  const Listener& l = *lp;
  if (connections_.load(std::memory_order_relaxed) >= runtime_->settings.limits.max_connections) {
    // Over the limit: a short, honest answer beats a silent reset or an unbounded backlog.
    // Best effort and non-blocking: the page fits in the socket buffer of a new connection.
    // (On a TLS listener the client would not understand it: just close.)
    boost::system::error_code ignored;
    s.non_blocking(true, ignored);
    if (!l.tls) asio::write(s, asio::buffer(busy_response_), ignored);
    s.close(ignored);
    metrics_.connections_rejected.add();
    return;
  }
  connections_.fetch_add(1, std::memory_order_relaxed);
  metrics_.connections_total.add();
  const ConnectionAccounting counts{&metrics_.connections_active, &connections_,
                                    runtime_->client_limits};
  auto c = std::make_unique<ClientConn>(*this, counts, std::move(s));
  c->listener = lp;
  c->peer.listener = &l;
  if (!l.plain()) {
    start_handshake(*this, std::move(c), l);  // it calls admit() once it knows the peer
    return;
  }
  if (admit(c, l)) first_request(std::move(c));
}

bool Worker::admit(ClientPtr& c, const Listener& l) {
  if (!runtime_->trusted_proxies.empty()) {
    c->peer.trusted = is_trusted(runtime_->trusted_proxies, c->peer.address);
  }
  // A trusted proxy carries many clients on its connections: they are not one client's.
  if (!runtime_->client_limits || c->peer.trusted) return true;
  if (!runtime_->client_limits->open_connection(c->peer.ip)) {
    metrics_.connections_rejected.add();
    if (l.tls) {
      c.reset();  // before the handshake there is no way to say why
    } else {
      handler_.refuse(*this, std::move(c));
    }
    return false;
  }
  c->counted = true;
  return true;
}

void Worker::first_request(ClientPtr c) {
  // Nothing is allocated for the request until its first byte arrives.
  const auto deadline = std::chrono::steady_clock::now() + runtime_->settings.timeouts.request_head;
  park(std::move(c), Parking::kFirstRequest, deadline);
}

void Worker::pause_accepting(SlotPtr slot, const boost::system::error_code& ec) {
  const int e = ec.value();
  const size_t reason = e == EMFILE ? 0 : e == ENFILE ? 1 : (e == ENOBUFS || e == ENOMEM) ? 2 : 3;
  metrics_.accept_errors[reason].add();
  accept_backoff_ = std::clamp(accept_backoff_ * 2, std::chrono::milliseconds(10),
                               std::chrono::milliseconds(1000));
  const auto now = std::chrono::steady_clock::now();
  if (now - accept_logged_ >= std::chrono::seconds(10)) {
    accept_logged_ = now;
    std::fprintf(stderr,
                 "sessiongate: accept failed: %s; pausing new connections for %lld ms (counted in "
                 "sessiongate_accept_errors_total; see docs/deployment.md on file descriptors)\n",
                 ec.message().c_str(), static_cast<long long>(accept_backoff_.count()));
  }
  asio::steady_timer& t = slot->pause;
  t.expires_after(accept_backoff_);
  t.async_wait([this, slot = std::move(slot)](const boost::system::error_code& wec) mutable {
    if (!wec && !draining_ && slot->acceptor.is_open()) accept(std::move(slot));
  });
}

void Worker::adopt(std::shared_ptr<const Runtime> rt, std::vector<int> fds,
                   std::function<void()> applied) {
  run_in_loop(
      [this, rt = std::move(rt), fds = std::move(fds), applied = std::move(applied)]() mutable {
        apply_runtime(std::move(rt), fds);
        if (applied) applied();
      });
}

void Worker::apply_runtime(std::shared_ptr<const Runtime> rt, const std::vector<int>& fds) {
  flush_log();  // lines already formatted go to the log they were formatted for
  std::vector<SlotPtr> next;
  for (size_t i = 0; i < rt->listeners.size(); ++i) {
    const auto& l = rt->listeners[i];
    SlotPtr slot;
    const int fd = i < fds.size() ? fds[i] : -1;
    if (fd >= 0) {
      slot = std::make_shared<AcceptSlot>(io_);
      boost::system::error_code ec;
      slot->acceptor.assign(l->endpoint.protocol(), fd, ec);
      if (ec) {
        ::close(fd);
        std::fprintf(stderr, "sessiongate: reload: cannot accept on %s: %s\n", l->text.c_str(),
                     ec.message().c_str());
        continue;
      }
    } else {
      for (auto& old : slots_) {
        if (old && old->listener->endpoint == l->endpoint) {
          slot = std::move(old);
          break;
        }
      }
      if (!slot) continue;  // not listened on before and no socket given: nothing to accept
    }
    slot->listener = l;
    if (fd >= 0 && !draining_) accept(slot);
    next.push_back(std::move(slot));
  }
  for (auto& old : slots_) {
    if (!old) continue;
    boost::system::error_code ignored;
    old->acceptor.close(ignored);  // its pending accept ends with operation_aborted
    old->pause.cancel();
  }
  slots_ = std::move(next);
  runtime_ = std::move(rt);
  wind_down_removed();
  recheck_tunnels();
}

void Worker::wind_down_removed() {
  for (size_t k = 0; k < Deadlines::kTunnels; ++k) {
    deadlines_.list(k).for_each([](DeadlineHook& h) {
      auto* c = static_cast<ClientConn*>(h.owner);
      if (c->listener && c->listener->removed()) c->stream.cancel();  // its wait ends: closed
    });
  }
  drainable_.for_each([](DeadlineHook& h) {
    auto& d = static_cast<DrainHook&>(h);
    if (d.conn && d.conn->listener && d.conn->listener->removed()) d.expire(&d);
  });
}

void Worker::recheck_tunnels() {
  const Runtime& rt = *runtime_;
  size_t told = 0;
  subscribers_.for_each_handle([&](const std::string& id, TunnelHandle& t) {
    const RouteKey& k = t.key;
    if (rt.rules.session_of(k.host, k.path, k.cookie, k.referer, rt.sessions.cookie_name) == id) {
      return;
    }
    ++told;
    t.leave();
  });
  metrics_.tunnels_closed_by_reload.add(told);
}

void Worker::share_listening(std::function<void(std::vector<std::pair<tcp::endpoint, int>>)> done) {
  run_in_loop([this, done = std::move(done)] {
    std::vector<std::pair<tcp::endpoint, int>> out;
    for (const auto& slot : slots_) {
      if (!slot->acceptor.is_open()) continue;
      const int fd = ::fcntl(slot->acceptor.native_handle(), F_DUPFD_CLOEXEC, 0);
      if (fd >= 0) out.emplace_back(slot->listener->endpoint, fd);
    }
    done(std::move(out));
  });
}

void Worker::tunnels_go_away() {
  run_in_loop([this] {
    subscribers_.for_each_handle([](const std::string&, TunnelHandle& t) { t.leave(); });
  });
}

InFlight::InFlight(Worker& w, net::Watchdog& dog) {
  hook_.owner = &dog;
  hook_.expire = [](DeadlineHook* h) { static_cast<net::Watchdog*>(h->owner)->expire_now(); };
  w.watch_in_flight(hook_);
}

void Worker::cut_in_flight() {
  run_in_loop([this] {
    requests_cut_ = true;
    holds_.cut_all();
    lookups_.cut_all();
    in_flight_.for_each([](DeadlineHook& h) {
      DeadlineList::remove(h);
      h.expire(&h);
    });
  });
}

void Worker::begin_drain(bool handover) {
  run_in_loop([this, handover] {
    draining_ = true;
    handover_ = handover;
    for (auto& slot : slots_) {
      boost::system::error_code ignored;
      slot->acceptor.close(ignored);
      slot->pause.cancel();
    }
    drainable_.for_each([](DeadlineHook& h) { h.expire(&h); });
    pool_.close_all();
    activity_timer_.cancel();
    trim_timer_.cancel();
    // Handing over to a new process: an idle keep-alive connection is answered once more
    // (with Connection: close) when its client next sends, instead of being closed under a
    // request already on its way; the drain's deadline closes those that stay silent.
    if (handover) return;
    hot_idle_.cancel_all();
    // Idle keep-alive connections close now. One accepted within the last second and not yet
    // heard from is most likely about to send its request (closing it would reset it): it gets
    // that second, and is served with Connection: close; older silent ones close now.
    const auto grace = std::chrono::seconds(1);
    const auto cutoff =
        std::chrono::steady_clock::now() + runtime_->settings.timeouts.request_head - grace;
    auto close_first = [](DeadlineList& l, std::chrono::steady_clock::time_point before) {
      l.for_each([before](DeadlineHook& h) {
        if (h.deadline <= before) static_cast<ClientConn*>(h.owner)->stream.cancel();
      });
    };
    DeadlineList& first = deadlines_.list(static_cast<size_t>(Parking::kFirstRequest));
    close_first(first, cutoff);
    drain_grace_.expires_after(grace);
    drain_grace_.async_wait([&first, close_first](const boost::system::error_code& ec) {
      if (!ec) close_first(first, std::chrono::steady_clock::time_point::max());
    });
    for (size_t k = 1; k < Deadlines::kTunnels; ++k) {
      deadlines_.list(k).for_each(
          [](DeadlineHook& h) { static_cast<ClientConn*>(h.owner)->stream.cancel(); });
    }
  });
}

void Worker::park(ClientPtr c, Parking kind, std::chrono::steady_clock::time_point deadline) {
  ClientConn* p = c.get();
  p->parked.owner = p;
  p->parked.expire = [](DeadlineHook* h) {
    static_cast<ClientConn*>(h->owner)->stream.cancel();  // the wait ends; it closes
  };
  if (p->stream.has_buffered_input()) {  // bytes already read off the wire: serve them now
    wake(std::move(c));
    return;
  }
  deadlines_.push(static_cast<size_t>(kind), p->parked, deadline);
  p->stream.async_wait_readable(
      [this, kind, c = std::move(c)](const boost::system::error_code& ec) mutable {
        DeadlineList::remove(c->parked);
        if (ec || (draining_ && !handover_ && kind != Parking::kFirstRequest)) return;
        wake(std::move(c));
      });
}

void Worker::wake(ClientPtr c) {
  handler_.serve(*this, std::move(c));
}

void Worker::push_tunnel_deadline(DeadlineHook& h, Millis timeout) {
  // Called on every tunnel transfer; its timeouts are long, so the coarse clock will do.
  deadlines_.push(Deadlines::kTunnels, h, net::coarse_now() + timeout);
}

void Worker::access(const observe::AccessRecord& r) {
  if (!runtime_->access_log) return;
  observe::format_access_line(r, runtime_->access_fields, log_buf_);
  if (log_buf_.size() >= 32768) flush_log();
}

void Worker::flush_log() {
  if (log_buf_.empty() || !runtime_->access_log) return;
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

// Buffers are cached per thread for speed; the ones a burst left behind give their memory
// back after a quarter of a second unused.
void Worker::schedule_trim() {
  trim_timer_.expires_after(std::chrono::milliseconds(250));
  trim_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    BlockCache::trim();
    schedule_trim();
  });
}

void Worker::post_route(std::string session_id, registry::RoutePtr route) {
  run_in_loop([this, id = std::move(session_id), r = std::move(route)]() mutable {
    apply_route(id, std::move(r));
  });
}

void Worker::apply_route(const std::string& session_id, registry::RoutePtr route) {
  metrics_.route_changes_applied.add();
  registry::RoutePtr old = routes_.set(session_id, route);
  holds_.notify(session_id, route.get());
  if (route) lookups_.wake_all(session_id);
  if (!old) return;
  const bool moved = !route || route->container_id != old->container_id ||
                     route->generation != old->generation || route->address != old->address;
  if (moved) close_tunnels(session_id);
}

void Worker::wake_failed(std::string session, std::string reason) {
  run_in_loop([this, session = std::move(session), reason = std::move(reason)] {
    holds_.fail(session, reason);
  });
}

void Worker::lookup_ended(std::string session, bool found) {
  run_in_loop([this, session = std::move(session), found] {
    if (found) {
      lookups_.wake_all(session);
    } else {
      lookups_.fail(session, "missing");
    }
  });
}

void Worker::close_tunnels(const std::string& session_id) {
  metrics_.tunnels_closed_by_route_change.add(subscribers_.close_all(session_id));
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
    subscribers_.for_each_session(
        [&](const std::string& id) { pending_activity_.emplace_back(id, now); });
    if (!pending_activity_.empty()) {
      activity_sink_(std::move(pending_activity_));
      pending_activity_.clear();
    }
    schedule_activity_flush();
  });
}

void Worker::stop() {
  if (running_) {
    run_in_loop([this] { io_.stop(); });
  } else {
    io_.stop();
  }
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
  if (runtime_->access_log) flush_log();  // the loop is gone: lines still buffered go out now
}

}  // namespace sg::proxy
