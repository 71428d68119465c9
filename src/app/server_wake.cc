// Wake-on-request and sleep, wired into the running router: the controller lives on the
// control plane's loop; its store leases and the "sleeping" write run on the store pool; a
// wake that fails reaches every worker's held requests.
#include <unistd.h>

#include "app/server_impl.h"

namespace sg::app {

void Server::start_wake() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  owner_ = std::string(host) + "/" + std::to_string(::getpid()) + "/" + lifecycle::new_call_id();
  lifecycle::WakeController::Deps deps;
  deps.lease = [this](std::string name, lifecycle::Millis ttl,
                      std::function<void(bool, std::string)> done) {
    auto answer = std::make_shared<std::function<void(bool, std::string)>>(std::move(done));
    const bool queued = store_pool_->submit([this, name, ttl, answer] {
      bool got = false;
      registry::StoreError e =
          store_.store->acquire_lease(name, owner_, ttl.count(), registry::now_ms(), got);
      asio::post(main_io_, [answer, got, msg = e.message] { (*answer)(got, msg); });
    });
    if (!queued) (*answer)(false, "the store pool's queue is full");
  };
  deps.release = [this](std::string name) {
    // Best effort: a release that is not made (queue full, store down) runs out by itself.
    store_pool_->submit([this, name] {
      if (auto e = store_.store->release_lease(name, owner_)) {
        asio::post(main_io_, [name, msg = e.message] {
          log("wake lease " + name + " not released (" + msg + "); it runs out by itself");
        });
      }
    });
  };
  deps.mark_sleeping = [this](std::string container, lifecycle::WakeController::Done done) {
    auto answer = std::make_shared<lifecycle::WakeController::Done>(std::move(done));
    const bool queued = store_pool_->submit([this, container, answer] {
      std::string error;
      std::optional<registry::Container> c;
      if (auto e = store_.store->get_container(container, c)) {
        error = e.message;
      } else if (!c) {
        error = "no longer registered";
      } else if (c->status != registry::ContainerStatus::kReady) {
        error = "no longer ready (" + std::string(registry::to_string(c->status)) + ")";
      } else {
        c->status = registry::ContainerStatus::kSleeping;
        if (auto e = store_.store->put_container(*c)) error = e.message;
      }
      asio::post(main_io_, [answer, error] { (*answer)(error); });
    });
    if (!queued) (*answer)("the store pool's queue is full");
  };
  deps.fail_held = [this](const std::string& session, const std::string& reason) {
    for (auto& w : workers_) w->wake_failed(session, reason);
  };
  deps.log = log;
  waker_ = std::make_unique<lifecycle::WakeController>(main_io_, std::move(deps), control_);
  waker_->configure(config_.wake);
}

void Server::ask_wake(const std::string& session, const std::string& container,
                      const std::string& request_id) {
  asio::post(main_io_, [this, session, container, request_id] {
    if (waker_) waker_->wake(session, container, request_id);
  });
}

void Server::put_idle_to_sleep(registry::Millis now) {
  // A session may set its own sleep_after even when the router's default is never.
  if (!waker_ || !waker_->enabled() || stopping_) return;
  for (const auto& [container, session] :
       reg_->sleepy(now, config_.wake.sleep_after.count(), started_ms_)) {
    waker_->sleep(session, container);
  }
}

}  // namespace sg::app
