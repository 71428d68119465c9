#include "app/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "admin/api.h"
#include "admin/http_server.h"
#include "app/certificates.h"
#include "app/reload.h"
#include "app/runtime_builder.h"
#include "app/service_notify.h"
#include "app/store_follow.h"
#include "app/upgrade.h"
#include "app/version.h"
#include "observe/access_log.h"
#include "observe/metrics.h"
#include "observe/process_metrics.h"
#include "proxy/http1_connection.h"
#include "proxy/http2_connection.h"
#include "proxy/worker.h"
#include "registry/registry.h"
#include "registry/store_factory.h"

namespace sg::app {

namespace asio = boost::asio;
using proxy::ClientLimits;

namespace {

void log(const std::string& line) {
  std::cerr << "sessiongate: " << line << "\n";
}

// One running router: the parts `serve` assembles, in the order they are built (and, reversed,
// destroyed).
class Server {
 public:
  Server(const Config& config, bool upgrade)
      : upgrade_(upgrade),
        config_(config),
        client_limits_(config.limits.per_client_connections,
                       static_cast<double>(config.limits.per_client_rate),
                       static_cast<double>(config.limits.per_client_burst)) {}

  int run() {
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
    follow_store();
    if (!start_admin()) return 1;
    start_lifecycle();
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
    if (reload_thread_.joinable()) reload_thread_.join();
    if (feed_) feed_->stop();
    for (auto& w : workers_) w->join();
    log("stopped");
    return 0;
  }

 private:
  bool open_store() {
    std::string error;
    if (!registry::open_store(config_.store, store_, error)) {
      log("store: " + error);
      return false;
    }
    log("store: " + store_.description);
    return true;
  }

  bool open_access_log() {
    if (!config_.access_log.enabled) return true;
    std::string error;
    access_log_ = std::make_unique<observe::AccessLog>(config_.access_log.path,
                                                       config_.access_log.fields, error);
    if (error.empty()) return true;
    log(error);
    return false;
  }

  std::shared_ptr<proxy::Runtime> make_runtime(
      const std::vector<std::shared_ptr<proxy::ListenerState>>& states) {
    RuntimeParts parts{certificates_.servers(), states,    access_log_.get(),
                       &client_limits_,         workers(), log};
    return build_runtime(config_, parts, policy_);
  }

  size_t workers() const { return static_cast<size_t>(worker_count(config_)); }

  // Certificate files are checked for changes (and ticket keys rotated) as often as the most
  // demanding TLS listener asks.
  void watch_certificates() {
    std::chrono::milliseconds check = std::chrono::milliseconds::max();
    for (const auto& l : config_.listeners) {
      if (l.tls) check = std::min({check, l.tls->check_interval, l.tls->ticket_rotation});
    }
    certificates_.stop();
    if (check != std::chrono::milliseconds::max()) certificates_.watch(check);
  }

  bool make_workers() {
    const int n = worker_count(config_);
    std::string error;
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

  // The registry mirror and every worker's route table, from the store as it is now.
  bool load_registry() {
    reg_ = std::make_unique<registry::Registry>(
        *store_.store, [this](const std::string& id, registry::RoutePtr route) {
          control_.route_changes_published.add();
          for (auto& w : workers_) w->post_route(id, route);
        });
    registry::StoreError load_error;
    const auto began = std::chrono::steady_clock::now();
    auto routes = reg_->load(load_error);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - began)
                        .count();
    synced_ = !load_error;
    if (load_error && !store_.shared) {
      log("store: " + load_error.message);
      return false;
    }
    if (synced_) {
      log("registry: " + std::to_string(routes.size()) + " sessions loaded in " +
          std::to_string(ms) + " ms");
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

  // A shared store's changes from other routers.
  void follow_store() {
    if (!store_.shared) return;
    reg_->track_tombstones();
    control_.shared_store = true;
    feed_ = registry::open_feed(config_.store,
                                follow_feed(main_io_, *reg_, control_, feed_state_, synced_, log));
  }

  admin::Readiness readiness() {
    admin::Readiness r;
    if (announcing_) {
      r.ready = false;
      r.detail = "draining: this router is shutting down (timeouts.drain_announce)";
      return r;
    }
    if (!store_.shared) {
      r.store_ok = r.ready = store_.store->ping();
      return r;
    }
    r.store_ok = r.routes_current = feed_state_.up;
    r.ready = synced_;
    if (!synced_) {
      r.detail = "no routes loaded yet: the store has not answered";
    } else if (!feed_state_.up) {
      r.detail = "change feed down for " +
                 std::to_string((registry::now_ms() - feed_state_.down_since) / 1000) + " s (" +
                 feed_state_.detail + "); serving the routes known then";
    }
    return r;
  }

  bool start_admin() {
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
      observe::render_prometheus(ws, control_, reg_->route_count(), store_.store->ping(), out);
      const BuildInfo& b = build_info();
      observe::render_build_info(b.version, b.commit, b.build_type, out);
      observe::render_process_metrics(out);
      return out;
    };
    settings.ready = [this] { return readiness(); };
    settings.links = &runtime_->links;
    settings.reload = [this](std::function<void(const admin::ReloadOutcome&)> done) {
      start_reload("admin API", std::move(done));
    };
    settings.token_param = config_.security.token_param;
    api_ = std::make_unique<admin::Api>(*reg_, std::move(settings));
    admin_server_ = std::make_unique<admin::HttpServer>(
        main_io_, [this](const admin::Request& r) { return api_->handle(r); });
    std::string error;
    const int given = takeover_ ? takeover_->take("admin", config_.admin.endpoint) : -1;
    if (!admin_server_->listen(config_.admin.endpoint, error, given)) {
      log(error);
      return false;
    }
    admin_server_->start();
    return true;
  }

  // Activity to the store and expiry sweeps, every sweep_interval.
  void start_lifecycle() {
    sweeper_.expires_after(config_.sweep_interval);
    sweeper_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      store_log_.report("activity not saved", reg_->flush_activity());
      auto swept = reg_->sweep(registry::now_ms());
      store_log_.report("sweep skipped", swept.error);
      for (const auto& id : swept.idle) log("session " + id + " expired (idle)");
      for (const auto& id : swept.expired) log("session " + id + " expired (expires_at)");
      control_.sessions_expired_idle.add(swept.idle.size());
      control_.sessions_expired_absolute.add(swept.expired.size());
      start_lifecycle();
    });
  }

  // SIGHUP reloads the configuration (and with it the certificates). SIGUSR2 changes nothing
  // yet. Neither is fatal (their default action would end the process without a drain).
  void handle_sighup_and_sigusr2() {
    ignored_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        log("SIGHUP received: reloading " + config_.path);
        start_reload("SIGHUP", nullptr);
      } else {
        log("SIGUSR2 received: ignored");
      }
      handle_sighup_and_sigusr2();
    });
  }

  // ---- configuration reload (docs/decisions/0019-config-reload.md) ----

  // Reads and checks the file on a thread of its own (the control plane's loop keeps
  // serving), then applies it here. One at a time: a SIGHUP during a reload runs one more
  // after it; an API call during one is told so.
  void start_reload(std::string trigger, std::function<void(const admin::ReloadOutcome&)> done) {
    if (stopping_ || reloading_) {
      if (!done) {
        if (!stopping_) reload_again_ = true;
        return;
      }
      done({409, "reload_in_progress",
            stopping_ ? "the router is shutting down" : "a reload is already running; try again",
            control_.config_generation.get(), 0});
      return;
    }
    reloading_ = true;
    notify_reloading();
    if (reload_thread_.joinable()) reload_thread_.join();
    const auto began = std::chrono::steady_clock::now();
    reload_thread_ =
        std::thread([this, trigger = std::move(trigger), done = std::move(done), began]() mutable {
          std::shared_ptr<ReloadPlan> plan = prepare_reload(config_.path, config_, workers_.size());
          asio::post(main_io_, [this, plan, trigger = std::move(trigger), done = std::move(done),
                                began] { finish_reload(*plan, trigger, done, began); });
        });
  }

  void finish_reload(ReloadPlan& plan, const std::string& trigger,
                     std::function<void(const admin::ReloadOutcome&)> done,
                     std::chrono::steady_clock::time_point began) {
    if (plan.result == ReloadPlan::Result::kOk && !stopping_) {
      // Answered once every worker uses it: a request sent after the answer is routed by it.
      apply_reload(plan, trigger, [this, trigger, done = std::move(done), began] {
        control_.config_reloads_ok.add();
        control_.config_generation.add();
        control_.config_last_success_ms.set(static_cast<uint64_t>(registry::now_ms()));
        admin::ReloadOutcome out;
        out.code = "reloaded";
        out.message = summary();
        conclude(out, trigger, done, began);
      });
      return;
    }
    control_.config_reloads_failed.add();
    admin::ReloadOutcome out;
    const bool restart = plan.result == ReloadPlan::Result::kRestartNeeded;
    out.status = restart ? 409 : 422;
    out.code = restart ? "restart_required" : "invalid_config";
    out.message = stopping_ ? "the router is shutting down\n" : plan.error;
    log("config reload (" + trigger + ") failed; nothing changed, generation " +
        std::to_string(control_.config_generation.get()) + " stays in force:");
    for (size_t at = 0; at < out.message.size();) {
      size_t nl = out.message.find('\n', at);
      if (nl == std::string::npos) nl = out.message.size();
      if (nl > at) log("  " + out.message.substr(at, nl - at));
      at = nl + 1;
    }
    conclude(out, trigger, done, began);
  }

  void conclude(admin::ReloadOutcome& out, const std::string& trigger,
                const std::function<void(const admin::ReloadOutcome&)>& done,
                std::chrono::steady_clock::time_point began) {
    reloading_ = false;
    if (!stopping_) {
      notify_ready("serving, configuration generation " +
                   std::to_string(control_.config_generation.get()) +
                   (out.status == 200 ? "" : " (the last reload failed: see the log)"));
    }
    out.generation = control_.config_generation.get();
    out.took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - began)
                      .count();
    if (out.status == 200) {
      log("config reload (" + trigger + "): generation " + std::to_string(out.generation) +
          " in force after " + std::to_string(out.took_ms) + " ms: " + out.message);
    }
    if (done) done(out);
    if (reload_again_ && !stopping_) {
      reload_again_ = false;
      start_reload("SIGHUP", nullptr);
    }
  }

  std::string summary() const {
    const size_t l = config_.listeners.size(), r = config_.rules.size();
    return std::to_string(l) + " listener" + (l == 1 ? "" : "s") + ", " + std::to_string(r) +
           " rule" + (r == 1 ? "" : "s");
  }

  void apply_reload(ReloadPlan& plan, const std::string& trigger, std::function<void()> applied) {
    const auto& next = plan.config.listeners;
    // Addresses kept keep their state; those gone stop accepting and wind down.
    std::vector<std::shared_ptr<proxy::ListenerState>> states(next.size());
    for (const auto& old : runtime_->listeners) {
      bool kept = false;
      for (size_t i = 0; i < next.size(); ++i) {
        if (next[i].endpoint == old->endpoint) {
          states[i] = old->state;
          kept = true;
        }
      }
      if (!kept) {
        old->state->removed.store(true, std::memory_order_relaxed);
        log("listener " + old->text +
            " removed: no new connections; open ones close after "
            "their current request");
      }
    }
    for (size_t i = 0; i < next.size(); ++i) {
      if (!states[i]) log("listener " + next[i].text + " added");
    }
    std::vector<std::shared_ptr<net::TlsServer>> servers;
    for (size_t i = 0; i < next.size(); ++i) {
      const int kept = plan.kept_tls[i];
      servers.push_back(kept >= 0 ? certificates_.servers()[static_cast<size_t>(kept)]
                                  : plan.tls[i]);
    }
    certificates_.replace(next, std::move(servers));
    certificates_.reload(trigger.c_str());  // kept listeners' files may have changed
    reconfigure_access_log(plan.config.access_log);
    config_ = std::move(plan.config);
    runtime_ = make_runtime(states);
    if (api_) api_->reconfigure(policy_, &runtime_->links, config_.security.token_param);
    watch_certificates();
    auto left = std::make_shared<size_t>(workers_.size());
    auto then = std::make_shared<std::function<void()>>(std::move(applied));
    for (size_t w = 0; w < workers_.size(); ++w) {
      std::vector<int> fds;
      fds.swap(plan.fds[w]);  // the worker owns them now
      workers_[w]->adopt(runtime_, std::move(fds), [this, left, then] {
        asio::post(main_io_, [left, then] {
          if (--*left == 0) (*then)();
        });
      });
    }
  }

  // The access log object lives as long as the process once made (workers may hold lines
  // for it); a reload moves it to a new file, or the runtime stops pointing at it.
  void reconfigure_access_log(const AccessLogConfig& next) {
    if (!next.enabled) return;
    if (access_log_) {
      if (next.path != config_.access_log.path || !config_.access_log.enabled) {
        access_log_->retarget(next.path);
      }
      return;
    }
    std::string error;
    access_log_ = std::make_unique<observe::AccessLog>(next.path, next.fields, error);
    if (!error.empty()) {
      log(error + "; the access log stays off");
      access_log_.reset();
    }
  }

  void reopen_log_on_sigusr1() {
    rotate_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (access_log_) access_log_->reopen();
      reopen_log_on_sigusr1();
    });
  }

  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (up to shutdown_drain).
  void handle_signals() {
    reopen_log_on_sigusr1();
    handle_sighup_and_sigusr2();
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      const std::string name = sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGQUIT";
      const auto announce = config_.timeouts.drain_announce;
      if (announce.count() == 0 || announcing_) {
        begin_shutdown(name);
        return;
      }
      // First tell the load balancer (/readyz fails) while serving on, then drain.
      announcing_ = true;
      log(name + ": /readyz fails from now; draining in " + std::to_string(announce.count()) +
          " ms (timeouts.drain_announce)");
      notify_stopping();
      drain_poll_.expires_after(announce);
      drain_poll_.async_wait([this, name](const boost::system::error_code& wec) {
        if (!wec) begin_shutdown(name);
      });
      handle_signals_again();
    });
  }

  // During the announce period a second signal drains at once.
  void handle_signals_again() {
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      drain_poll_.cancel();
      begin_shutdown("second signal");
    });
  }

  // Stop accepting, let in-flight requests finish (up to shutdown_drain), then tell tunnels
  // to go away (1001) and stop.
  void begin_shutdown(const std::string& why) {
    if (stopping_) return;
    log(why + ", draining (up to " + std::to_string(config_.timeouts.shutdown_drain.count()) +
        " ms)");
    drain_deadline_ = std::chrono::steady_clock::now() + config_.timeouts.shutdown_drain;
    stopping_ = true;
    notify_stopping();
    sweeper_.cancel();
    certificates_.stop();
    rotate_.cancel();
    ignored_.cancel();
    signals_.cancel();
    if (upgrades_) upgrades_->stop();
    if (admin_server_) admin_server_->stop();
    const bool handover = why == "upgrade";
    for (auto& w : workers_) w->begin_drain(handover);
    wait_drained();
  }

  // Requests first: until no connection but tunnels is open (or the drain time is over);
  // then every tunnel gets its 1001 and a moment to close.
  void wait_drained() {
    size_t open = 0, tunnels = 0;
    for (auto& w : workers_) {
      open += w->connections();
      tunnels += w->tunnels();
    }
    const auto now = std::chrono::steady_clock::now();
    if (!tunnels_told_ && (open <= tunnels || now >= drain_deadline_)) {
      tunnels_told_ = true;
      if (tunnels > 0) {
        log("drain: telling " + std::to_string(tunnels) + " tunnels to go away");
        for (auto& w : workers_) w->tunnels_go_away();
        drain_deadline_ = std::max(drain_deadline_, now) + std::chrono::milliseconds(2500);
      }
    }
    if (open == 0 || (tunnels_told_ && now >= drain_deadline_)) {
      if (open > 0) log("drain time over, closing " + std::to_string(open) + " connections");
      for (auto& w : workers_) w->stop();
      reg_->flush_activity();
      main_io_.stop();
      return;
    }
    drain_poll_.expires_after(std::chrono::milliseconds(20));
    drain_poll_.async_wait([this](const boost::system::error_code&) { wait_drained(); });
  }

  // ---- binary upgrade (docs/decisions/0020-binary-upgrade.md) ----

  bool take_over() {
    if (config_.upgrade_socket.empty()) {
      log("--upgrade needs upgrade_socket in " + config_.path);
      return false;
    }
    takeover_ = std::make_unique<Takeover>();
    std::string error;
    if (!takeover_->connect(config_.upgrade_socket, error)) {
      log("upgrade: " + error);
      return false;
    }
    log("upgrade: received " + std::to_string(takeover_->received()) +
        " listening sockets from the running router");
    return true;
  }

  // Once this process serves: the old one (if any) drains, and this one listens for the next
  // upgrade.
  bool hand_over_and_listen_for_upgrades() {
    if (takeover_) {
      std::string error;
      if (takeover_->release_old(error)) {
        log("upgrade: the previous process drains; this one serves");
      } else {
        log("upgrade: " + error + " (both processes serve until it stops)");
      }
      takeover_.reset();  // sockets not taken (a listener no longer configured) close here
    }
    if (config_.upgrade_socket.empty()) return true;
    upgrades_ = std::make_unique<UpgradeListener>(
        main_io_, config_.upgrade_socket, [this](auto done) { collect_listening(std::move(done)); },
        [this] { begin_shutdown("upgrade"); }, log);
    std::string error;
    if (!upgrades_->listen(error)) {
      log(error);
      return false;
    }
    return true;
  }

  // A duplicate of every listening socket, from each worker's thread.
  void collect_listening(std::function<void(std::vector<PassedSocket>)> done) {
    auto all = std::make_shared<std::vector<PassedSocket>>();
    if (admin_server_) {
      const int fd = admin_server_->share();
      if (fd >= 0) all->push_back({"admin", config_.admin.endpoint, fd});
    }
    auto left = std::make_shared<size_t>(workers_.size());
    auto then = std::make_shared<decltype(done)>(std::move(done));
    for (auto& w : workers_) {
      w->share_listening([this, all, left, then](auto fds) {
        asio::post(main_io_, [all, left, then, fds = std::move(fds)] {
          for (const auto& [ep, fd] : fds) all->push_back({"listener", ep, fd});
          if (--*left == 0) (*then)(std::move(*all));
        });
      });
    }
  }

  const bool upgrade_;  // start by taking the listeners over from a running router
  Config config_;       // in force; replaced by each applied reload
  asio::io_context main_io_{1};
  observe::ControlMetrics control_;
  Certificates certificates_{main_io_, control_, log};
  registry::OpenedStore store_;
  std::unique_ptr<observe::AccessLog> access_log_;
  ClientLimits client_limits_;
  net::AddressPolicy policy_;
  std::shared_ptr<const proxy::Runtime> runtime_;
  std::vector<std::unique_ptr<proxy::Worker>> workers_;
  std::unique_ptr<registry::Registry> reg_;
  bool synced_ = false;
  FeedState feed_state_;
  std::unique_ptr<registry::ChangeFeed> feed_;
  std::unique_ptr<admin::Api> api_;
  std::unique_ptr<admin::HttpServer> admin_server_;
  StoreErrorLog store_log_{log};
  asio::steady_timer sweeper_{main_io_};
  asio::signal_set signals_{main_io_, SIGTERM, SIGINT, SIGQUIT};
  asio::signal_set rotate_{main_io_, SIGUSR1};
  asio::signal_set ignored_{main_io_, SIGHUP, SIGUSR2};
  asio::steady_timer drain_poll_{main_io_};
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool stopping_ = false;
  bool tunnels_told_ = false;
  bool announcing_ = false;  // /readyz fails before the drain (timeouts.drain_announce)
  std::unique_ptr<Takeover> takeover_;
  std::unique_ptr<UpgradeListener> upgrades_;
  bool reloading_ = false;
  bool reload_again_ = false;  // a SIGHUP came during a reload
  std::thread reload_thread_;
};

}  // namespace

int serve(const Config& config, bool upgrade) {
  ::signal(SIGPIPE, SIG_IGN);
  Server server(config, upgrade);
  return server.run();
}

}  // namespace sg::app
