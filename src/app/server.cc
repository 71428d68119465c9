#include "app/server_impl.h"

#include <csignal>
#include <iostream>

#include "admin/api_support.h"
#include "app/server.h"
#include "net/listen_socket.h"

namespace sg::app {

void Server::log(const std::string& line) {
  std::cerr << "sessiongate: " << line << "\n";
}

int Server::run() {
  if (upgrade_ && !take_over()) return 1;
  if (!upgrade_ && !config_.upgrade_socket.empty() &&
      UpgradeListener::answered(config_.upgrade_socket)) {
    log("upgrade_socket " + config_.upgrade_socket +
        ": another sessiongate serves there (start with --upgrade to take over from it)");
    return 1;
  }
  if (!certificates_.open(config_.listeners)) return 1;
  if (!open_store() || !open_access_log()) return 1;
  runtime_ = make_runtime({});
  if (!make_workers() || !load_registry()) return 1;
  start_wake();
  follow_store();
  if (!start_admin()) return 1;
  start_lifecycle();
  probe_store();
  handle_signals();
  for (auto& w : workers_) w->start();
  if (feed_) feed_->start();
  if (!hand_over_and_listen_for_upgrades()) return 1;
  std::string where;
  for (const auto& l : config_.listeners) {
    where += (l.tls ? " https://" : " http://") + l.text;
    if (l.proxy_protocol) where += " (PROXY protocol)";
    if (l.redirect_to_https) where += " (redirects to https)";
  }
  watch_certificates();
  control_.config_generation.set(1);
  control_.config_last_success_ms.set(static_cast<uint64_t>(registry::now_ms()));
  const size_t n = workers_.size();
  log("serving on" + where + " with " + std::to_string(n) + " worker" + (n == 1 ? "" : "s") +
      (config_.admin.enabled ? "; admin API on http://" + config_.admin.address_text : ""));
  notify_ready("serving, configuration generation 1");
  main_io_.run();
  // Store calls still running finish against a registry and store that still exist.
  if (store_pool_) store_pool_.reset();
  if (reload_thread_.joinable()) reload_thread_.join();
  if (feed_) feed_->stop();
  for (auto& w : workers_) w->join();
  log("stopped");
  ignore_stop_signals();
  return 0;
}

bool Server::open_store() {
  std::string error;
  if (!registry::open_store(config_.store, store_, error)) {
    log("store: " + error);
    return false;
  }
  log("store: " + store_.description);
  store_pool_ =
      std::make_unique<registry::StorePool>(config_.store.concurrency, config_.store.queue_limit);
  const registry::DynamoConfig& d = config_.store.dynamodb;
  if (config_.store.type == "dynamodb" && d.lookup_unknown) {
    lookup_ = std::make_unique<registry::SessionLookup>(
        registry::SessionLookup::Limits{d.lookup_timeout, d.lookup_negative_ttl,
                                        d.lookup_max_pending},
        [this](const std::string& id) { return feed_ && feed_->look_up(id); },
        [this](const std::string& id, bool found) {
          for (auto& w : workers_) w->lookup_ended(id, found);
        });
  }
  return true;
}

bool Server::open_access_log() {
  if (!config_.access_log.enabled) return true;
  std::string error;
  access_log_ = std::make_unique<observe::AccessLog>(config_.access_log.path,
                                                     config_.access_log.fields, error);
  if (error.empty()) return true;
  log(error);
  return false;
}

std::shared_ptr<proxy::Runtime> Server::make_runtime(
    const std::vector<std::shared_ptr<proxy::ListenerState>>& states) {
  RuntimeParts parts{certificates_.servers(),
                     states,
                     access_log_.get(),
                     &client_limits_,
                     workers(),
                     log,
                     &wake_gate_,
                     lookup_.get()};
  return build_runtime(config_, parts, policy_);
}

void Server::watch_certificates() {
  std::chrono::milliseconds check = std::chrono::milliseconds::max();
  for (const auto& l : config_.listeners) {
    if (l.tls) check = std::min({check, l.tls->check_interval, l.tls->ticket_rotation});
  }
  certificates_.stop();
  if (check != std::chrono::milliseconds::max()) certificates_.watch(check);
}

bool Server::make_workers() {
  const int n = worker_count(config_);
  std::string error;
  for (const auto& l : config_.listeners) {
    if (takeover_ && takeover_->holds("listener", l.endpoint)) continue;
    if (!net::address_is_free(l.endpoint, error)) {
      log(error);
      return false;
    }
  }
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<proxy::Worker>(runtime_);
    w->set_handler({&proxy::serve_client, &proxy::refuse_http1});
    if (!w->listen(error, [this](const proxy::Listener& l) {
          return takeover_ ? takeover_->take("listener", l.endpoint) : -1;
        })) {
      log(error);
      return false;
    }
    workers_.push_back(std::move(w));
  }
  return true;
}

bool Server::load_registry() {
  reg_ = std::make_unique<registry::Registry>(
      *store_.store,
      [this](const std::string& id, registry::RoutePtr route) {
        control_.route_changes_published.add();
        if (waker_) waker_->route_changed(id, route.get());
        for (auto& w : workers_) w->post_route(id, route);
      },
      // Writes run on the store pool; what they announce is applied here, in their order
      // (and before the write's answer, which is posted after it).
      [this](std::function<void()> apply) { asio::post(main_io_, std::move(apply)); });
  registry::StoreError load_error;
  const auto began = std::chrono::steady_clock::now();
  auto routes = reg_->load(load_error);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - began)
                      .count();
  synced_ = !load_error;
  store_up_ = !load_error;
  if (load_error && !store_.shared) {
    log("store: " + load_error.message);
    return false;
  }
  if (synced_) {
    log("registry: " + std::to_string(routes.size()) + " sessions loaded in " + std::to_string(ms) +
        " ms");
  } else {
    log("registry: not loaded (" + load_error.message +
        "); serving no sessions until the store answers");
  }
  for (auto& w : workers_) {
    w->load_routes(routes);
    w->set_activity_sink([this](std::vector<std::pair<std::string, int64_t>> batch) {
      asio::post(main_io_, [this, b = std::move(batch)] {
        for (const auto& [id, at] : b) reg_->record_activity(id, at);
      });
    });
  }
  routes.clear();
  routes.shrink_to_fit();
  release_free_memory();
  return true;
}

void Server::follow_store() {
  if (!store_.shared) return;
  reg_->track_tombstones();
  control_.shared_store = true;
  auto handlers = follow_feed(main_io_, *reg_, control_, feed_state_, synced_, log);
  if (lookup_) {
    // Through the control plane's loop, after the change the read made (posted before this):
    // a worker hears of the end only once the route is in its inbox ahead of it.
    handlers.looked_up = [this](const std::string& id, registry::SessionLookup::Result r) {
      boost::asio::post(main_io_, [this, id, r] { lookup_->done(id, r, registry::now_ms()); });
    };
  }
  feed_ = registry::open_feed(config_.store, *store_.store, std::move(handlers));
}

admin::Readiness Server::readiness() {
  admin::Readiness r;
  if (announcing_) {
    r.ready = false;
    r.detail = "draining: this router is shutting down (timeouts.drain_announce)";
    return r;
  }
  if (!store_.shared) {
    r.store_ok = r.ready = store_up_.load(std::memory_order_relaxed);
    if (!r.ready) r.detail = "the store did not answer its last check";
    return r;
  }
  r.store_ok = r.routes_current = feed_state_.up;
  r.ready = synced_;
  if (!synced_) {
    r.detail = "no routes loaded yet: the store has not answered";
    if (!feed_state_.detail.empty()) r.detail += " (" + feed_state_.detail + ")";
  } else if (!feed_state_.up) {
    r.detail = "change feed down for " +
               std::to_string((registry::now_ms() - feed_state_.down_since) / 1000) + " s (" +
               feed_state_.detail + "); serving the routes known then";
  }
  return r;
}

bool Server::start_admin() {
  if (!config_.admin.enabled) return true;
  admin::ApiSettings settings;
  settings.token = config_.admin.token;
  settings.policy = policy_;
  settings.default_lease = config_.default_lease.count();
  settings.counters = &control_;
  settings.metrics = [this] {
    std::vector<const observe::WorkerMetrics*> ws;
    for (const auto& w : workers_) ws.push_back(&w->metrics());
    std::string out;
    observe::render_prometheus(ws, control_, reg_->route_count(),
                               store_up_.load(std::memory_order_relaxed), out);
    const BuildInfo& b = build_info();
    observe::render_build_info(b.version, b.commit, b.build_type, out);
    std::vector<Stat> stats = store_.store->stats();
    if (feed_) {
      for (auto& s : feed_->stats()) stats.push_back(std::move(s));
    }
    if (lookup_) {
      for (auto& s : lookup_->stats()) stats.push_back(std::move(s));
    }
    observe::render_stats(stats, out);
    observe::render_process_metrics(out);
    return out;
  };
  settings.ready = [this] { return readiness(); };
  settings.links = std::shared_ptr<const access::LinkSigner>(runtime_, &runtime_->links);
  settings.reload = [this](std::function<void(const admin::ReloadOutcome&)> done) {
    start_reload("admin API", std::move(done));
  };
  settings.token_param = config_.security.token_param;
  if (!config_.admin.token_keys.empty()) {
    settings.scoped = std::make_shared<const access::ScopedTokens>(config_.admin.token_keys);
  }
  settings.store_call = [this](std::function<admin::Response()> work,
                               std::function<void(admin::Response)> done) {
    call_store(std::move(work), std::move(done));
  };
  if (config_.admin.dashboard) {
    make_dashboard();
    settings.cookie = [this](const admin::Request& r) { return dashboard_->cookie_auth(r); };
  }
  api_ = std::make_unique<admin::Api>(*reg_, std::move(settings));
  admin_server_ = std::make_unique<admin::HttpServer>(main_io_, [this](const admin::Request& r) {
    if (dashboard_) {
      if (auto page = dashboard_->handle(r)) return std::move(*page);
    }
    return api_->handle(r);
  });
  std::string error;
  const int given = takeover_ ? takeover_->take("admin", config_.admin.endpoint) : -1;
  if (!admin_server_->listen(config_.admin.endpoint, error, given)) {
    log(error);
    return false;
  }
  admin_server_->start();
  if (dashboard_) dashboard_->start();
  return true;
}

void Server::call_store(std::function<admin::Response()> work,
                        std::function<void(admin::Response)> done) {
  auto answer = std::make_shared<std::function<void(admin::Response)>>(std::move(done));
  const bool queued = store_pool_->submit([this, work = std::move(work), answer] {
    admin::Response r = work();
    asio::post(main_io_, [answer, r = std::move(r)]() mutable { (*answer)(std::move(r)); });
  });
  if (queued) return;
  control_.store_busy.add();
  admin::Response r = admin::error(503, "store_busy",
                                   "too many registry store calls waiting (" +
                                       std::to_string(store_pool_->queue_limit()) +
                                       ", store.queue_limit): nothing was changed; retry it");
  r.headers.emplace_back("Retry-After", "1");
  (*answer)(std::move(r));
}

void Server::start_lifecycle() {
  sweeper_.expires_after(config_.sweep_interval);
  sweeper_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    start_lifecycle();
    if (lifecycle_running_) return;  // the last round still waits on the store
    lifecycle_round();
  });
}

// One round of activity writes and expiry, on the store pool; the results come back here.
void Server::lifecycle_round() {
  auto batch = reg_->take_activity();
  const registry::Millis now = registry::now_ms();
  put_idle_to_sleep(now);
  auto due = reg_->due(now);
  if (batch.empty() && due.empty()) return;
  lifecycle_running_ = true;
  auto round = [this, batch, due = std::move(due), now] {
    registry::StoreError touched;
    if (!batch.empty()) touched = store_.store->touch_sessions(batch);
    std::vector<registry::Expiry> results;
    registry::StoreError expired;
    if (!due.empty()) expired = store_.store->expire_sessions(due, now, results);
    asio::post(main_io_, [this, batch, touched = std::move(touched), results = std::move(results),
                          expired = std::move(expired)]() mutable {
      lifecycle_running_ = false;
      if (touched) reg_->restore_activity(batch);
      if (!batch.empty()) store_log_.report("activity not saved", touched);
      const bool swept_any = !results.empty() || expired;
      auto swept = reg_->finish_sweep(results, std::move(expired));
      if (swept_any) store_log_.report("sweep skipped", swept.error);
      for (const auto& id : swept.idle) log("session " + id + " expired (idle)");
      for (const auto& id : swept.expired) log("session " + id + " expired (expires_at)");
      control_.sessions_expired_idle.add(swept.idle.size());
      control_.sessions_expired_absolute.add(swept.expired.size());
    });
  };
  if (!store_pool_->submit(std::move(round))) {
    lifecycle_running_ = false;
    reg_->restore_activity(batch);
  }
}

// Health checks and metrics report the store's state as of its last probe: they never wait on
// the store themselves.
void Server::probe_store() {
  probe_timer_.expires_after(std::chrono::seconds(1));
  probe_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) probe_store();
  });
  if (probe_running_) return;
  probe_running_ = true;
  const bool queued = store_pool_->submit([this] {
    const bool up = store_.store->ping();
    asio::post(main_io_, [this, up] {
      probe_running_ = false;
      store_up_.store(up, std::memory_order_relaxed);
    });
  });
  if (!queued) probe_running_ = false;
}

int serve(const Config& config, bool upgrade) {
  ::signal(SIGPIPE, SIG_IGN);
  Server server(config, upgrade);
  return server.run();
}

}  // namespace sg::app
