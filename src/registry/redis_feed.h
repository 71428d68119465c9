// The change feed of a Redis-backed registry, on its own thread: it subscribes to
// `<prefix>changes`, reads a whole snapshot whenever it may have missed something (on every
// (re)connect, on a version gap, when the store's version went backwards, or when the version
// moved on without a message), and hands snapshots and in-order changes to the control plane
// through the handlers. Nothing here touches the data plane; reconnection backs off from
// 100 ms to 5 s.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "registry/change_feed.h"
#include "registry/redis_connection.h"
#include "registry/store.h"

namespace sg::registry {

class RedisFeed final : public ChangeFeed {
 public:
  RedisFeed(RedisEndpoint endpoint, std::string prefix, Handlers handlers,
            int64_t check_interval_ms = 1000);
  ~RedisFeed() override;
  RedisFeed(const RedisFeed&) = delete;
  RedisFeed& operator=(const RedisFeed&) = delete;

  void start() override;
  void stop() override;

 private:
  void run();
  // One connected period: returns when the connection is lost (error set) or on stop.
  void follow(std::string& error);
  bool resync(RedisConnection& cmd, std::string reason, std::string& error);
  // True when `epoch` (at `version`) is not the history we follow.
  bool new_history(const std::string& epoch, uint64_t version) const;
  // Waits up to `ms` for the wake-up fd or `fd` (-1: none). 1 = fd readable, 0 = timeout,
  // -1 = stop requested.
  int wait(int fd, int64_t ms);

  RedisEndpoint endpoint_;
  std::string prefix_;
  Handlers handlers_;
  int64_t check_interval_ms_;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  uint64_t last_ = 0;   // version of the last change delivered (or the snapshot's)
  std::string epoch_;   // the store history's identity at the last snapshot
  bool fresh_ = false;  // that snapshot was of an empty store that had no epoch yet
  bool up_ = false;
  bool synced_ = false;  // a snapshot was delivered once
};

}  // namespace sg::registry
