#include "app/server_impl.h"

namespace sg::app {

// ---- binary upgrade (docs/decisions/0020-binary-upgrade.md) ----

bool Server::take_over() {
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

bool Server::hand_over_and_listen_for_upgrades() {
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

void Server::collect_listening(std::function<void(std::vector<PassedSocket>)> done) {
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

}  // namespace sg::app
