#include "app/server_impl.h"

namespace sg::app {

// ---- configuration reload (docs/decisions/0019-config-reload.md) ----

void Server::start_reload(std::string trigger,
                          std::function<void(const admin::ReloadOutcome&)> done) {
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

void Server::finish_reload(ReloadPlan& plan, const std::string& trigger,
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

void Server::conclude(admin::ReloadOutcome& out, const std::string& trigger,
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

std::string Server::summary() const {
  const size_t l = config_.listeners.size(), r = config_.rules.size();
  return std::to_string(l) + " listener" + (l == 1 ? "" : "s") + ", " + std::to_string(r) +
         " rule" + (r == 1 ? "" : "s");
}

void Server::apply_reload(ReloadPlan& plan, const std::string& trigger,
                          std::function<void()> applied) {
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
    servers.push_back(kept >= 0 ? certificates_.servers()[static_cast<size_t>(kept)] : plan.tls[i]);
  }
  certificates_.replace(next, std::move(servers));
  certificates_.reload(trigger.c_str());  // kept listeners' files may have changed
  reconfigure_access_log(plan.config.access_log);
  config_ = std::move(plan.config);
  if (waker_) waker_->configure(config_.wake);
  runtime_ = make_runtime(states);
  if (api_)
    api_->reconfigure(policy_,
                      std::shared_ptr<const access::LinkSigner>(runtime_, &runtime_->links),
                      config_.security.token_param);
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

void Server::reconfigure_access_log(const AccessLogConfig& next) {
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

}  // namespace sg::app
