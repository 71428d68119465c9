#include "net/spare_descriptors.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <vector>

namespace {

// Opens /dev/null until the limit says no; returns what it opened.
std::vector<int> exhaust() {
  std::vector<int> fds;
  for (int fd; (fd = ::dup(0)) >= 0;) fds.push_back(fd);
  return fds;
}

class LowFdLimit : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0);
    rlimit low = saved_;
    low.rlim_cur = 64;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  }
  void TearDown() override { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  rlimit saved_{};
};

TEST_F(LowFdLimit, ReleasingTheSparesLetsOneMoreDescriptorOpenWhenNoneIsLeft) {
  sg::net::SpareDescriptors spare(2);
  ASSERT_EQ(spare.held(), 2u);
  std::vector<int> taken = exhaust();
  ASSERT_LT(::dup(0), 0);  // the process is out of descriptors
  EXPECT_TRUE(spare.release());
  EXPECT_EQ(spare.held(), 0u);
  const int got = ::dup(0);
  EXPECT_GE(got, 0);
  EXPECT_FALSE(spare.release());  // nothing left to give
  spare.refill();                 // one slot is free: one spare comes back
  EXPECT_EQ(spare.held(), 1u);
  ::close(got);
  for (int fd : taken) ::close(fd);
  spare.refill();
  EXPECT_EQ(spare.held(), 2u);
}

}  // namespace
