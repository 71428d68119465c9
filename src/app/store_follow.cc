#include "app/store_follow.h"

#include <boost/asio/post.hpp>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace sg::app {

namespace asio = boost::asio;

void release_free_memory() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

void StoreErrorLog::report(const std::string& what, const registry::StoreError& e) {
  std::string& last = last_[what];
  if (e.message == last) return;
  if (e) {
    log_("store: " + what + ": " + e.message);
  } else {
    log_("store: the store answers again (was: " + what + ")");
  }
  last = e.message;
}

registry::ChangeFeed::Handlers follow_feed(asio::io_context& io, registry::Registry& reg,
                                           observe::ControlMetrics& control, FeedState& state,
                                           bool& synced,
                                           std::function<void(const std::string&)> log) {
  registry::ChangeFeed::Handlers h;
  h.change = [&io, &reg, &control](registry::Change c) {
    asio::post(io, [&reg, &control, c = std::move(c)] {
      reg.apply_feed(c);
      control.feed_changes.add();
    });
  };
  h.snapshot = [&io, &reg, &control, &synced, log](registry::Snapshot snap) {
    auto s = std::make_shared<registry::Snapshot>(std::move(snap));
    asio::post(io, [&reg, &control, &synced, s, log]() mutable {
      const auto began = std::chrono::steady_clock::now();
      auto r = reg.apply_snapshot(*s);
      const auto applied = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - began)
                               .count();
      synced = true;
      control.resyncs.add();
      if (r.reset) {
        control.store_resets.add();
        log("store: store reset detected (old epoch \"" + s->previous_epoch + "\", new epoch \"" +
            s->epoch + "\", version " + std::to_string(s->version) +
            "): every route replaced by the store's");
      }
      control.resync_changes.add(r.containers_changed + r.sessions_changed);
      control.last_resync_ms.set(static_cast<uint64_t>(s->took_ms));
      control.last_resync_at_ms.set(static_cast<uint64_t>(registry::now_ms()));
      log("store: resync (" + s->reason + "): " + std::to_string(s->sessions.size()) +
          " sessions, " + std::to_string(s->containers.size()) + " containers read in " +
          std::to_string(s->took_ms) + " ms, applied in " + std::to_string(applied) + " ms; " +
          std::to_string(r.sessions_changed) + " sessions and " +
          std::to_string(r.containers_changed) + " containers changed");
      s.reset();
      release_free_memory();
    });
  };
  h.state = [&io, &control, &state, &reg, log](bool up, std::string detail) {
    asio::post(io, [&control, &state, &reg, log, up, detail = std::move(detail)] {
      state.up = up;
      state.detail = detail;
      control.feed_connected.set(up ? 1 : 0);
      if (up) {
        log("store: change feed connected");
      } else {
        state.down_since = registry::now_ms();
        log("store: change feed down (" + detail + "); serving the " +
            std::to_string(reg.route_count()) + " routes known, reconnecting");
      }
    });
  };
  return h;
}

}  // namespace sg::app
