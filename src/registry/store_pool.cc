#include "registry/store_pool.h"

#include <pthread.h>

namespace sg::registry {

StorePool::StorePool(size_t threads, size_t queue_limit) : queue_limit_(queue_limit) {
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { loop(); });
    pthread_setname_np(threads_.back().native_handle(), "sg-store");
  }
}

StorePool::~StorePool() {
  stop();
  for (auto& t : threads_) t.join();
}

void StorePool::stop() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  wake_.notify_all();
}

bool StorePool::submit(std::function<void()> task) {
  std::lock_guard lock(mu_);
  if (stopping_ || queue_.size() + running_ >= threads_.size() + queue_limit_) return false;
  queue_.push_back(std::move(task));
  wake_.notify_one();
  return true;
}

size_t StorePool::waiting() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

size_t StorePool::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void StorePool::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to run
    auto task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    task();
    task = nullptr;  // what it captured is released off the lock, too
    lock.lock();
    --running_;
  }
}

}  // namespace sg::registry
