#include "app/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "admin/api.h"
#include "admin/http_server.h"
#include "observe/access_log.h"
#include "observe/metrics.h"
#include "proxy/worker.h"
#include "registry/registry.h"
#include "registry/sqlite_store.h"

namespace sg::app {

namespace asio = boost::asio;
using proxy::ClientLimits;

namespace {

void log(const std::string& line) {
  std::cerr << "sessiongate: " << line << "\n";
}

}  // namespace

int serve(const Config& config) {
  ::signal(SIGPIPE, SIG_IGN);

  // ---- registry (control plane) -------------------------------------------------------------
  std::filesystem::path db(config.store.path);
  if (db.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(db.parent_path(), ec);
  }
  std::string error;
  registry::SqliteStore store(config.store.path, config.store.synchronous_full, error);
  if (!error.empty()) {
    log("store: " + error);
    return 1;
  }
  log("store: sqlite " + config.store.path + " (journal_mode=" + store.journal_mode() +
      ", synchronous=" + (store.synchronous() == 2 ? "full" : "normal") + ")");

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
  registry::Registry reg(store, [&](const std::string& id, registry::RoutePtr route) {
    control.route_changes_published.add();
    for (auto& w : workers) w->post_route(id, route);
  });
  auto routes = reg.load();
  log("registry: " + std::to_string(routes.size()) + " sessions loaded");
  for (auto& w : workers) {
    w->load_routes(routes);
    w->set_activity_sink([&main_io, &reg](std::vector<std::pair<std::string, int64_t>> batch) {
      asio::post(main_io, [&reg, b = std::move(batch)] {
        for (const auto& [id, at] : b) reg.record_activity(id, at);
      });
    });
  }
  routes.clear();

  std::unique_ptr<admin::Api> api;
  std::unique_ptr<admin::HttpServer> admin_server;
  if (config.admin.enabled) {
    admin::ApiSettings settings{
        config.admin.token, policy, config.default_lease.count(), nullptr, nullptr, &control};
    settings.metrics = [&] {
      std::vector<const observe::WorkerMetrics*> ws;
      for (const auto& w : workers) ws.push_back(&w->metrics());
      std::string out;
      observe::render_prometheus(ws, control, reg.route_count(), store.ping(), out);
      return out;
    };
    settings.ready = [&] { return store.ping(); };
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
  asio::steady_timer sweeper(main_io);
  std::function<void()> sweep = [&] {
    sweeper.expires_after(config.sweep_interval);
    sweeper.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto e = reg.flush_activity()) log("store: activity not saved: " + e.message);
      auto swept = reg.sweep(registry::now_ms());
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
  for (auto& w : workers) w->join();
  log("stopped");
  return 0;
}

}  // namespace sg::app
