// The running router, split by concern: assembly and start (server.cc), reload
// (server_reload.cc), signals and the drain (server_signals.cc), binary upgrade
// (server_upgrade.cc). Internal to src/app; `serve` (server.h) is the entry point.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "admin/api.h"
#include "admin/dashboard/dashboard.h"
#include "admin/http_server.h"
#include "app/certificates.h"
#include "app/reload.h"
#include "app/runtime_builder.h"
#include "app/service_notify.h"
#include "app/store_follow.h"
#include "app/upgrade.h"
#include "app/version.h"
#include "lifecycle/wake_controller.h"
#include "observe/access_log.h"
#include "observe/metrics.h"
#include "observe/process_metrics.h"
#include "proxy/http1_connection.h"
#include "proxy/http2_connection.h"
#include "proxy/worker.h"
#include "registry/registry.h"
#include "registry/store_factory.h"
#include "registry/store_pool.h"

namespace sg::app {

namespace asio = boost::asio;
using proxy::ClientLimits;

// One running router: the parts `serve` assembles, in the order they are built (and, reversed,
// destroyed).
class Server {
 public:
  static void log(const std::string& line);  // one line to stderr
  Server(const Config& config, bool upgrade)
      : upgrade_(upgrade),
        config_(config),
        client_limits_(config.limits.per_client_connections,
                       static_cast<double>(config.limits.per_client_rate),
                       static_cast<double>(config.limits.per_client_burst)) {}

  int run();

 private:
  bool open_store();

  bool open_access_log();

  std::shared_ptr<proxy::Runtime> make_runtime(
      const std::vector<std::shared_ptr<proxy::ListenerState>>& states);

  size_t workers() const { return static_cast<size_t>(worker_count(config_)); }

  // Certificate files are checked for changes (and ticket keys rotated) as often as the most
  // demanding TLS listener asks.
  void watch_certificates();

  bool make_workers();

  // The registry mirror and every worker's route table, from the store as it is now.
  bool load_registry();

  // A shared store's changes from other routers.
  void follow_store();

  admin::Readiness readiness();

  bool start_admin();
  // The dashboard on the admin listener (server_dashboard.cc).
  void make_dashboard();
  boost::json::object dashboard_health();

  // Wake-on-request and sleep (server_wake.cc): the controller on this loop, the store
  // leases and writes it needs on the store pool, and its failures to every worker.
  void start_wake();
  void ask_wake(const std::string& session, const std::string& container,
                const std::string& request_id);
  void put_idle_to_sleep(registry::Millis now);

  // Activity to the store and expiry sweeps, every sweep_interval, and a store probe.
  void start_lifecycle();
  void lifecycle_round();
  void probe_store();
  // An admin call's store work on the store pool; its answer back on this loop.
  void call_store(std::function<admin::Response()> work, std::function<void(admin::Response)> done);

  // SIGHUP reloads the configuration (and with it the certificates). SIGUSR2 changes nothing
  // yet. Neither is fatal (their default action would end the process without a drain).
  void handle_sighup_and_sigusr2();

  // ---- configuration reload (docs/decisions/0019-config-reload.md) ----

  // Reads and checks the file on a thread of its own (the control plane's loop keeps
  // serving), then applies it here. One at a time: a SIGHUP during a reload runs one more
  // after it; an API call during one is told so.
  void start_reload(std::string trigger, std::function<void(const admin::ReloadOutcome&)> done);

  void finish_reload(ReloadPlan& plan, const std::string& trigger,
                     std::function<void(const admin::ReloadOutcome&)> done,
                     std::chrono::steady_clock::time_point began);

  void conclude(admin::ReloadOutcome& out, const std::string& trigger,
                const std::function<void(const admin::ReloadOutcome&)>& done,
                std::chrono::steady_clock::time_point began);

  std::string summary() const;

  void apply_reload(ReloadPlan& plan, const std::string& trigger, std::function<void()> applied);

  // The access log object lives as long as the process once made (workers may hold lines
  // for it); a reload moves it to a new file, or the runtime stops pointing at it.
  void reconfigure_access_log(const AccessLogConfig& next);

  void reopen_log_on_sigusr1();

  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (up to shutdown_drain).
  void handle_signals();

  // During the announce period a second signal drains at once.
  void handle_signals_again();
  void ignore_stop_signals();

  // Stop accepting, let in-flight requests finish (up to shutdown_drain), then tell tunnels
  // to go away (1001) and stop.
  void begin_shutdown(const std::string& why);

  // Requests first: until no connection but tunnels is open (or the drain time is over);
  // then every tunnel gets its 1001 and a moment to close.
  void wait_drained();

  // ---- binary upgrade (docs/decisions/0020-binary-upgrade.md) ----

  bool take_over();

  // Once this process serves: the old one (if any) drains, and this one listens for the next
  // upgrade.
  bool hand_over_and_listen_for_upgrades();

  // A duplicate of every listening socket, from each worker's thread.
  void collect_listening(std::function<void(std::vector<PassedSocket>)> done);

  const bool upgrade_;  // start by taking the listeners over from a running router
  Config config_;       // in force; replaced by each applied reload
  asio::io_context main_io_{1};
  observe::ControlMetrics control_;
  Certificates certificates_{main_io_, control_, log};
  registry::OpenedStore store_;
  std::unique_ptr<observe::AccessLog> access_log_;
  ClientLimits client_limits_;
  // Shared by every worker's held requests; asks this loop for wakes.
  proxy::WakeGate wake_gate_{
      {}, [this](const std::string& s, const std::string& c, const std::string& id) {
        ask_wake(s, c, id);
      }};
  std::unique_ptr<lifecycle::WakeController> waker_;
  std::string owner_;  // this router, as the owner of store leases
  registry::Millis started_ms_ = registry::now_ms();
  net::AddressPolicy policy_;
  std::shared_ptr<const proxy::Runtime> runtime_;
  std::vector<std::unique_ptr<proxy::Worker>> workers_;
  std::unique_ptr<registry::Registry> reg_;
  bool synced_ = false;
  FeedState feed_state_;
  std::unique_ptr<registry::ChangeFeed> feed_;
  std::unique_ptr<registry::SessionLookup> lookup_;  // DynamoDB: unknown sessions read on demand
  std::unique_ptr<admin::Dashboard> dashboard_;
  std::unique_ptr<admin::Api> api_;
  std::unique_ptr<admin::HttpServer> admin_server_;
  StoreErrorLog store_log_{log};
  asio::steady_timer sweeper_{main_io_};
  asio::steady_timer probe_timer_{main_io_};
  asio::signal_set signals_{main_io_, SIGTERM, SIGINT, SIGQUIT};
  asio::signal_set rotate_{main_io_, SIGUSR1};
  asio::signal_set ignored_{main_io_, SIGHUP, SIGUSR2};
  asio::steady_timer drain_poll_{main_io_};
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool stopping_ = false;
  bool tunnels_told_ = false;
  bool requests_cut_ = false;  // shutdown_drain ran out with requests unanswered
  bool lifecycle_running_ = false;
  bool probe_running_ = false;
  std::atomic<bool> store_up_{false};
  bool announcing_ = false;  // /readyz fails before the drain (timeouts.drain_announce)
  std::unique_ptr<Takeover> takeover_;
  std::unique_ptr<UpgradeListener> upgrades_;
  bool reloading_ = false;
  bool reload_again_ = false;  // a SIGHUP came during a reload
  std::thread reload_thread_;
  // Last, so it is joined first: its calls use the store, the registry and the loop above.
  std::unique_ptr<registry::StorePool> store_pool_;
};

}  // namespace sg::app
