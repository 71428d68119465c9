// The dashboard's view of this router: health from the workers' counters and the control
// plane's state, and every worker's recent errors.
#include "app/server_impl.h"

namespace sg::app {

void Server::make_dashboard() {
  admin::DashboardDeps deps;
  deps.token = config_.admin.token;
  deps.registry = reg_.get();
  deps.health = [this] { return dashboard_health(); };
  // What each worker published when last asked (at most a snapshot old), and a request for
  // the next snapshot: the workers' request path takes no lock for this.
  deps.errors = [this] {
    std::vector<observe::RecentError> out;
    for (const auto& w : workers_) {
      w->recent_errors().copy_to(out);
      w->run_in_loop([w = w.get()] { w->recent_errors().publish(); });
    }
    return out;
  };
  dashboard_ = std::make_unique<admin::Dashboard>(main_io_, std::move(deps));
}

boost::json::object Server::dashboard_health() {
  uint64_t connections = 0, h2 = 0, tunnels = 0, requests = 0;
  for (const auto& w : workers_) {
    const observe::WorkerMetrics& m = w->metrics();
    connections += m.connections_active.get();
    h2 += m.h2_connections_active.get();
    tunnels += m.tunnels_active.get();
    for (const auto& c : m.requests) requests += c.get();
  }
  const admin::Readiness r = readiness();
  boost::json::object store{{"type", config_.store.type},
                            {"ok", r.store_ok},
                            {"shared", store_.shared},
                            {"routes_current", r.routes_current}};
  if (store_.shared) {
    store["feed"] = feed_state_.up ? "up" : "down";
    store["feed_detail"] = feed_state_.detail;
    store["resyncs"] = control_.resyncs.get();
    const uint64_t at = control_.last_resync_at_ms.get();
    store["last_resync_at_ms"] = at ? boost::json::value(at) : boost::json::value(nullptr);
  }
  const BuildInfo& b = build_info();
  return {{"version", b.version},
          {"uptime_ms", registry::now_ms() - started_ms_},
          {"ready", r.ready},
          {"detail", r.detail},
          {"workers", workers_.size()},
          {"connections", connections},
          {"h2_connections", h2},
          {"tunnels", tunnels},
          {"requests", requests},
          {"routes", reg_->route_count()},
          {"config_generation", control_.config_generation.get()},
          {"dashboard_streams", dashboard_ ? dashboard_->streams() : 0},
          {"store", std::move(store)}};
}

}  // namespace sg::app
