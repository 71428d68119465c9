// Where the control plane's blocking store calls run: a few threads of their own and a bounded
// queue, so the control-plane loop (health checks, metrics, the feed's results, reload) never
// waits on the store, and calls that wait out a store's timeout do so side by side instead of
// one behind the other. SQLite has no asynchronous interface and the Store interface is one
// for every store, so a pool of blocking callers serves both (docs/decisions/0021).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sg::registry {

class StorePool {
 public:
  // `threads` calls run at once; at most `queue_limit` more wait for a thread.
  StorePool(size_t threads, size_t queue_limit);
  ~StorePool();  // runs what is queued, then joins
  StorePool(const StorePool&) = delete;
  StorePool& operator=(const StorePool&) = delete;

  // False (and `task` dropped) when the queue is full or the pool is stopping.
  bool submit(std::function<void()> task);
  // Stops taking tasks; those queued still run. Idempotent.
  void stop();

  size_t threads() const { return threads_.size(); }
  size_t queue_limit() const { return queue_limit_; }
  size_t waiting() const;  // queued, not yet running
  size_t running() const;

 private:
  void loop();

  const size_t queue_limit_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sg::registry
