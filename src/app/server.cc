#include "app/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <filesystem>
#include <iostream>
#include <thread>

#include "admin/api.h"
#include "admin/http_server.h"
#include "observe/access_log.h"
#include "observe/metrics.h"
#include "proxy/worker.h"
#include "registry/redis_feed.h"
#include "registry/redis_store.h"
#include "registry/registry.h"
#include "registry/sqlite_store.h"

namespace sg::app {

namespace asio = boost::asio;
using proxy::ClientLimits;

namespace {

void log(const std::string& line) {
  std::cerr << "sessiongate: " << line << "\n";
}

// Loading or resynchronising a large registry allocates transient copies of every record;
// glibc keeps freed memory resident unless asked, so hand it back after those steps.
void release_free_memory() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

// The change feed's view, kept on the control-plane thread.
struct FeedState {
  bool up = false;
  registry::Millis down_since = 0;
  std::string detail;
};

// Store errors from periodic work (activity, sweeps) are logged when they start, change or
// end, not once per tick while the store is down.
class StoreErrorLog {
 public:
  void report(const std::string& what, const registry::StoreError& e) {
    if (e.message == last_) return;
    if (e) {
      log("store: " + what + ": " + e.message);
    } else {
      log("store: periodic writes succeed again");
    }
    last_ = e.message;
  }

 private:
  std::string last_;
};

// Feed events happen on the feed's thread; everything they touch lives on the control plane,
// so each is posted there and applied in order.
registry::RedisFeed::Handlers follow_feed(asio::io_context& io, registry::Registry& reg,
                                          observe::ControlMetrics& control, FeedState& state,
                                          bool& synced) {
  registry::RedisFeed::Handlers h;
  h.change = [&io, &reg, &control](registry::Change c) {
    asio::post(io, [&reg, &control, c = std::move(c)] {
      reg.apply_feed(c);
      control.feed_changes.add();
    });
  };
  h.snapshot = [&io, &reg, &control, &synced](registry::Snapshot snap) {
    auto s = std::make_shared<registry::Snapshot>(std::move(snap));
    asio::post(io, [&reg, &control, &synced, s]() mutable {
      const auto began = std::chrono::steady_clock::now();
      auto r = reg.apply_snapshot(*s);
      const auto applied = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - began)
                               .count();
      synced = true;
      control.resyncs.add();
      control.resync_changes.add(r.containers_changed + r.sessions_changed);
      control.last_resync_ms.set(static_cast<uint64_t>(s->took_ms));
      log("store: resync (" + s->reason + "): " + std::to_string(s->sessions.size()) +
          " sessions, " + std::to_string(s->containers.size()) + " containers read in " +
          std::to_string(s->took_ms) + " ms, applied in " + std::to_string(applied) + " ms; " +
          std::to_string(r.sessions_changed) + " sessions and " +
          std::to_string(r.containers_changed) + " containers changed");
      s.reset();
      release_free_memory();
    });
  };
  h.state = [&io, &control, &state, &reg](bool up, std::string detail) {
    asio::post(io, [&control, &state, &reg, up, detail = std::move(detail)] {
      state.up = up;
      state.detail = detail;
      control.feed_connected.set(up ? 1 : 0);
      if (up) {
        log("store: change feed connected");
      } else {
        state.down_since = registry::now_ms();
        log("store: change feed down (" + detail + "); serving the " +
            std::to_string(reg.route_count()) + " routes known, reconnecting");
      }
    });
  };
  return h;
}

}  // namespace

int serve(const Config& config) {
  ::signal(SIGPIPE, SIG_IGN);

  // ---- registry (control plane) -------------------------------------------------------------
  std::string error;
  std::unique_ptr<registry::Store> store;
  const bool shared = config.store.type == "redis";
  if (shared) {
    const auto& ep = config.store.redis;
    store = std::make_unique<registry::RedisStore>(ep, config.store.prefix);
    log("store: redis " + ep.host + ":" + std::to_string(ep.port) + "/" + std::to_string(ep.db) +
        " prefix \"" + config.store.prefix + "\"" +
        (ep.username.empty() ? "" : " user " + ep.username));
  } else {
    std::filesystem::path db(config.store.path);
    if (db.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(db.parent_path(), ec);
    }
    auto sqlite = std::make_unique<registry::SqliteStore>(config.store.path,
                                                          config.store.synchronous_full, error);
    if (!error.empty()) {
      log("store: " + error);
      return 1;
    }
    log("store: sqlite " + config.store.path + " (journal_mode=" + sqlite->journal_mode() +
        ", synchronous=" + (sqlite->synchronous() == 2 ? "full" : "normal") + ")");
    store = std::move(sqlite);
  }

  std::unique_ptr<observe::AccessLog> access_log;
  if (config.access_log.enabled) {
    access_log = std::make_unique<observe::AccessLog>(config.access_log.path,
                                                      config.access_log.fields, error);
    if (!error.empty()) {
      log(error);
      return 1;
    }
  }

  auto rt = std::make_shared<proxy::Runtime>();
  rt->settings = proxy::Settings{config.limits, config.timeouts};
  rt->rules = routing::RuleTable(config.rules);
  rt->sessions = config.sessions;
  rt->pages = config.pages;
  for (const auto& l : config.listeners) rt->listeners.push_back(l.endpoint);
  rt->access_log = access_log.get();
  std::vector<asio::ip::tcp::endpoint> own = rt->listeners;
  if (config.admin.enabled) own.push_back(config.admin.endpoint);
  const net::AddressPolicy policy(config.security.upstream_allow_cidrs, own);
  rt->upstream_policy = policy;
  rt->links = access::LinkSigner(config.security.link_keys);
  rt->default_link = config.security.default_link;
  rt->token_param = config.security.token_param;
  rt->trusted_proxies = config.security.trusted_proxies;
  ClientLimits client_limits(config.limits.per_client_connections,
                             static_cast<double>(config.limits.per_client_rate),
                             static_cast<double>(config.limits.per_client_burst));
  if (client_limits.enabled()) rt->client_limits = &client_limits;

  const int n = config.workers > 0
                    ? config.workers
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<proxy::Worker>> workers;
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<proxy::Worker>(rt);
    if (!w->listen(error)) {
      log(error);
      return 1;
    }
    workers.push_back(std::move(w));
  }

  asio::io_context main_io{1};
  observe::ControlMetrics control;
  registry::Registry reg(*store, [&](const std::string& id, registry::RoutePtr route) {
    control.route_changes_published.add();
    for (auto& w : workers) w->post_route(id, route);
  });
  registry::StoreError load_error;
  const auto load_began = std::chrono::steady_clock::now();
  auto routes = reg.load(load_error);
  const auto load_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - load_began)
                           .count();
  bool synced = !load_error;
  if (load_error && !shared) {
    log("store: " + load_error.message);
    return 1;
  }
  if (synced) {
    log("registry: " + std::to_string(routes.size()) + " sessions loaded in " +
        std::to_string(load_ms) + " ms");
  } else {
    log("registry: not loaded (" + load_error.message +
        "); serving no sessions until the store answers");
  }
  FeedState feed_state;
  std::unique_ptr<registry::RedisFeed> feed;
  if (shared) {
    reg.track_tombstones();
    control.shared_store = true;
    feed = std::make_unique<registry::RedisFeed>(
        config.store.redis, config.store.prefix,
        follow_feed(main_io, reg, control, feed_state, synced),
        config.store.check_interval.count());
  }
  for (auto& w : workers) {
    w->load_routes(routes);
    w->set_activity_sink([&main_io, &reg](std::vector<std::pair<std::string, int64_t>> batch) {
      asio::post(main_io, [&reg, b = std::move(batch)] {
        for (const auto& [id, at] : b) reg.record_activity(id, at);
      });
    });
  }
  routes.clear();
  routes.shrink_to_fit();
  release_free_memory();

  std::unique_ptr<admin::Api> api;
  std::unique_ptr<admin::HttpServer> admin_server;
  if (config.admin.enabled) {
    admin::ApiSettings settings{
        config.admin.token, policy, config.default_lease.count(), nullptr, nullptr, &control};
    settings.metrics = [&] {
      std::vector<const observe::WorkerMetrics*> ws;
      for (const auto& w : workers) ws.push_back(&w->metrics());
      std::string out;
      observe::render_prometheus(ws, control, reg.route_count(), store->ping(), out);
      return out;
    };
    settings.ready = [&] {
      admin::Readiness r;
      if (!shared) {
        r.store_ok = r.ready = store->ping();
        return r;
      }
      r.store_ok = r.routes_current = feed_state.up;
      r.ready = synced;
      if (!synced) {
        r.detail = "no routes loaded yet: the store has not answered";
      } else if (!feed_state.up) {
        r.detail = "change feed down for " +
                   std::to_string((registry::now_ms() - feed_state.down_since) / 1000) + " s (" +
                   feed_state.detail + "); serving the routes known then";
      }
      return r;
    };
    settings.links = &rt->links;
    settings.token_param = config.security.token_param;
    api = std::make_unique<admin::Api>(reg, std::move(settings));
    admin_server = std::make_unique<admin::HttpServer>(
        main_io, [&](const admin::Request& r) { return api->handle(r); });
    if (!admin_server->listen(config.admin.endpoint, error)) {
      log(error);
      return 1;
    }
    admin_server->start();
  }

  // ---- lifecycle: activity to the store, expiry sweeps ----------------------------------------
  StoreErrorLog store_log;
  asio::steady_timer sweeper(main_io);
  std::function<void()> sweep = [&] {
    sweeper.expires_after(config.sweep_interval);
    sweeper.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      store_log.report("activity not saved", reg.flush_activity());
      auto swept = reg.sweep(registry::now_ms());
      store_log.report("sweep skipped", swept.error);
      for (const auto& id : swept.idle) log("session " + id + " expired (idle)");
      for (const auto& id : swept.expired) log("session " + id + " expired (expires_at)");
      control.sessions_expired_idle.add(swept.idle.size());
      control.sessions_expired_absolute.add(swept.expired.size());
      sweep();
    });
  };
  sweep();

  asio::signal_set signals(main_io, SIGTERM, SIGINT);
  asio::signal_set rotate(main_io, SIGUSR1);
  std::function<void()> on_rotate = [&] {
    rotate.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (access_log) access_log->reopen();
      on_rotate();
    });
  };
  on_rotate();
  for (auto& w : workers) w->start();
  if (feed) feed->start();
  std::string where;
  for (const auto& l : config.listeners) where += " http://" + l.text;
  log("serving on" + where + " with " + std::to_string(n) + " worker" + (n == 1 ? "" : "s") +
      (config.admin.enabled ? "; admin API on http://" + config.admin.address_text : ""));

  asio::steady_timer poll(main_io);
  auto deadline = std::chrono::steady_clock::now();
  std::function<void()> wait_drained = [&] {
    size_t open = 0;
    for (auto& w : workers) open += w->connections();
    if (open == 0 || std::chrono::steady_clock::now() >= deadline) {
      if (open > 0) log("drain time over, closing " + std::to_string(open) + " connections");
      for (auto& w : workers) w->stop();
      reg.flush_activity();
      main_io.stop();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(20));
    poll.async_wait([&](const boost::system::error_code&) { wait_drained(); });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log(std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", draining (up to " +
        std::to_string(config.timeouts.shutdown_drain.count()) + " ms)");
    deadline = std::chrono::steady_clock::now() + config.timeouts.shutdown_drain;
    sweeper.cancel();
    rotate.cancel();
    if (admin_server) admin_server->stop();
    for (auto& w : workers) w->begin_drain();
    wait_drained();
  });
  main_io.run();
  if (feed) feed->stop();
  for (auto& w : workers) w->join();
  log("stopped");
  return 0;
}

}  // namespace sg::app
