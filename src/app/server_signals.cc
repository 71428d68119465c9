#include "app/server_impl.h"

#include <pthread.h>

#include <csignal>

namespace sg::app {

void Server::handle_sighup_and_sigusr2() {
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

void Server::reopen_log_on_sigusr1() {
  rotate_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (access_log_) access_log_->reopen();
    reopen_log_on_sigusr1();
  });
}

void Server::handle_signals() {
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

// Once drained, a stop signal must not turn a clean exit into "killed by SIGTERM" while the
// process unwinds: removing the signal sets restores the default disposition, so the signals
// are blocked first (one arriving meanwhile stays pending) and then ignored (which discards it).
void Server::ignore_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGQUIT}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  boost::system::error_code ec;
  signals_.clear(ec);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  for (int s : {SIGTERM, SIGINT, SIGQUIT}) ::sigaction(s, &ignore, nullptr);
}

void Server::handle_signals_again() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    drain_poll_.cancel();
    begin_shutdown("second signal");
  });
}

void Server::begin_shutdown(const std::string& why) {
  if (stopping_) return;
  log(why + ", draining (up to " + std::to_string(config_.timeouts.shutdown_drain.count()) +
      " ms)");
  drain_deadline_ = std::chrono::steady_clock::now() + config_.timeouts.shutdown_drain;
  stopping_ = true;
  notify_stopping();
  sweeper_.cancel();
  probe_timer_.cancel();
  certificates_.stop();
  rotate_.cancel();
  ignored_.cancel();
  signals_.cancel();
  if (upgrades_) upgrades_->stop();
  if (admin_server_) admin_server_->stop();
  if (dashboard_) dashboard_->stop();
  const bool handover = why == "upgrade";
  for (auto& w : workers_) w->begin_drain(handover);
  wait_drained();
}

void Server::wait_drained() {
  size_t open = 0, tunnels = 0;
  for (auto& w : workers_) {
    open += w->connections();
    tunnels += w->tunnels();
  }
  const auto now = std::chrono::steady_clock::now();
  if (!requests_cut_ && now >= drain_deadline_ && open > tunnels) {
    // shutdown_drain is over: requests still waiting for their answer get the shutting-down
    // page (a second for it to go out), those already answering are cut.
    requests_cut_ = true;
    log("drain time over: " + std::to_string(open - tunnels) +
        " connections still busy; unanswered requests get 503 shutting_down");
    for (auto& w : workers_) w->cut_in_flight();
    drain_deadline_ = now + std::chrono::seconds(1);
  }
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

}  // namespace sg::app
