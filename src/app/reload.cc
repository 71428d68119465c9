#include "app/reload.h"

#include <unistd.h>

#include "net/listen_socket.h"
#include "observe/access_log.h"

namespace sg::app {

namespace {

std::string ms(Millis v) {
  return std::to_string(v.count()) + "ms";
}

}  // namespace

std::vector<std::string> restart_needed(const Config& running, const Config& next) {
  std::vector<std::string> out;
  auto need = [&out](const std::string& key, const std::string& from, const std::string& to) {
    out.push_back(key + ": " + from + " -> " + to + " needs a restart");
  };
  if (running.workers != next.workers) {
    need("workers", std::to_string(running.workers), std::to_string(next.workers));
  }
  if (running.upgrade_socket != next.upgrade_socket) {
    need("upgrade_socket", running.upgrade_socket.empty() ? "off" : running.upgrade_socket,
         next.upgrade_socket.empty() ? "off" : next.upgrade_socket);
  }
  if (running.admin.enabled != next.admin.enabled) {
    need("admin", running.admin.enabled ? "on" : "off", next.admin.enabled ? "on" : "off");
  } else if (running.admin.enabled && running.admin.endpoint != next.admin.endpoint) {
    need("admin.address", running.admin.address_text, next.admin.address_text);
  }
  if (running.admin.dashboard != next.admin.dashboard) {
    need("admin.dashboard", running.admin.dashboard ? "true" : "false",
         next.admin.dashboard ? "true" : "false");
  }
  if (running.admin.token != next.admin.token) {
    out.push_back("admin.token: changed; a new token needs a restart");
  }
  if (!(running.store == next.store)) {
    if (running.store.type != next.store.type) {
      need("store.type", running.store.type, next.store.type);
    } else {
      out.push_back("store: changed; a different store needs a restart");
    }
  }
  if (running.sweep_interval != next.sweep_interval) {
    need("sessions.sweep_interval", ms(running.sweep_interval), ms(next.sweep_interval));
  }
  if (running.default_lease != next.default_lease) {
    need("sessions.default_lease", ms(running.default_lease), ms(next.default_lease));
  }
  // Each worker's upstream pool is sized and timed once.
  if (running.limits.upstream_idle_per_host != next.limits.upstream_idle_per_host) {
    need("limits.upstream_idle_per_host", std::to_string(running.limits.upstream_idle_per_host),
         std::to_string(next.limits.upstream_idle_per_host));
  }
  if (running.timeouts.upstream_keepalive_idle != next.timeouts.upstream_keepalive_idle) {
    need("timeouts.upstream_keepalive_idle", ms(running.timeouts.upstream_keepalive_idle),
         ms(next.timeouts.upstream_keepalive_idle));
  }
  return out;
}

ReloadPlan::~ReloadPlan() {
  for (auto& per_worker : fds) {
    for (int fd : per_worker) {
      if (fd >= 0) ::close(fd);
    }
  }
}

namespace {

int find_listener(const std::vector<ListenerConfig>& ls, const boost::asio::ip::tcp::endpoint& ep) {
  for (size_t i = 0; i < ls.size(); ++i) {
    if (ls[i].endpoint == ep) return static_cast<int>(i);
  }
  return -1;
}

// Certificates and sockets for the new listeners; false with plan.error set.
bool prepare_listeners(ReloadPlan& plan, const Config& running, size_t workers) {
  const auto& next = plan.config.listeners;
  bool ok = true;
  for (const auto& l : next) {
    const int old = find_listener(running.listeners, l.endpoint);
    const bool same_tls = old >= 0 && running.listeners[static_cast<size_t>(old)].tls == l.tls;
    plan.kept_tls.push_back(l.tls && same_tls ? old : -1);
    if (!l.tls || same_tls) {
      plan.tls.push_back(nullptr);
      continue;
    }
    std::string error;
    auto server = net::TlsServer::create(*l.tls, error);
    if (!server) {
      plan.error += "listener " + l.text + ": " + error + "\n";
      ok = false;
    }
    plan.tls.push_back(std::move(server));
  }
  if (!ok) return false;
  plan.fds.assign(workers, std::vector<int>(next.size(), -1));
  for (size_t i = 0; i < next.size(); ++i) {
    if (find_listener(running.listeners, next[i].endpoint) >= 0) continue;
    if (std::string error; !net::address_is_free(next[i].endpoint, error)) {
      plan.error += "listener " + next[i].text + ": " + error + "\n";
      return false;
    }
    for (size_t w = 0; w < workers; ++w) {
      std::string error;
      plan.fds[w][i] = net::open_listen_socket(next[i].endpoint, error);
      if (plan.fds[w][i] < 0) {
        plan.error += "listener " + next[i].text + ": " + error + "\n";
        return false;
      }
    }
  }
  return true;
}

}  // namespace

std::unique_ptr<ReloadPlan> prepare_reload(const std::string& path, const Config& running,
                                           size_t workers) {
  auto plan = std::make_unique<ReloadPlan>();
  std::vector<ConfigError> errors;
  if (!load_config(path, plan->config, errors)) {
    plan->error = format_config_errors(path, errors);
    return plan;
  }
  const std::vector<std::string> restart = restart_needed(running, plan->config);
  if (!restart.empty()) {
    plan->result = ReloadPlan::Result::kRestartNeeded;
    for (const auto& m : restart) plan->error += path + ": " + m + "\n";
    return plan;
  }
  const AccessLogConfig& log = plan->config.access_log;
  std::string error;
  if (log.enabled && (!running.access_log.enabled || log.path != running.access_log.path) &&
      !observe::AccessLog::check_path(log.path, error)) {
    plan->error = path + ": access_log: " + error + "\n";
    return plan;
  }
  if (!prepare_listeners(*plan, running, workers)) return plan;
  plan->result = ReloadPlan::Result::kOk;
  return plan;
}

}  // namespace sg::app
