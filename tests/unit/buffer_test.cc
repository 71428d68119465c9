#include "common/buffer.h"

#include <gtest/gtest.h>

namespace sg {
namespace {

TEST(Buffer, GrowsCompactsAndReleases) {
  Buffer b;
  EXPECT_EQ(b.capacity(), 0u);
  auto [p, n] = b.prepare(4, 16);
  ASSERT_GE(n, 4u);
  std::memcpy(p, "abcd", 4);
  b.commit(4);
  EXPECT_EQ(b.data(), "abcd");
  b.consume(2);
  EXPECT_EQ(b.data(), "cd");
  auto [p2, n2] = b.prepare(14, 16);
  EXPECT_EQ(n2, 14u);  // bounded by max_total - size
  std::memset(p2, 'x', 14);
  b.commit(14);
  EXPECT_EQ(b.size(), 16u);
  EXPECT_EQ(b.prepare(1, 16).second, 0u);  // full at the bound
  b.consume(16);
  EXPECT_TRUE(b.empty());
  b.release_if_empty();
  EXPECT_EQ(b.capacity(), 0u);
}

}  // namespace
}  // namespace sg
