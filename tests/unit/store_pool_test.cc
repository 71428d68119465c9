#include "registry/store_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

using sg::registry::StorePool;

namespace {

// A gate the tasks wait on, so the test decides when they finish.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return open; });
  }
  void release() {
    std::lock_guard l(mu);
    open = true;
    cv.notify_all();
  }
};

}  // namespace

TEST(StorePool, CallsThatBlockRunSideBySide) {
  StorePool pool(3, 10);
  Gate gate;
  std::atomic<int> started{0};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(pool.submit([&] {
      ++started;
      gate.wait();
    }));
  }
  // All three start although none has finished: no call waits behind another's wait.
  for (int i = 0; i < 500 && started.load() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(started.load(), 3);
  EXPECT_EQ(pool.running(), 3u);
  gate.release();
}

TEST(StorePool, AFullQueueRefusesInsteadOfGrowing) {
  StorePool pool(1, 2);
  Gate gate;
  std::promise<void> first_running;
  ASSERT_TRUE(pool.submit([&] {
    first_running.set_value();
    gate.wait();
  }));
  first_running.get_future().wait();
  EXPECT_TRUE(pool.submit([&] { gate.wait(); }));
  EXPECT_TRUE(pool.submit([&] { gate.wait(); }));
  EXPECT_FALSE(pool.submit([] {}));  // one running + two waiting: full
  EXPECT_EQ(pool.waiting(), 2u);
  gate.release();
}

TEST(StorePool, StoppingRunsWhatIsQueuedAndRefusesMore) {
  std::atomic<int> ran{0};
  {
    StorePool pool(1, 100);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.submit([&] { ++ran; }));
    pool.stop();
    EXPECT_FALSE(pool.submit([&] { ++ran; }));
  }
  EXPECT_EQ(ran.load(), 50);
}
