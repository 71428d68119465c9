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

namespace sg {
namespace {

// Blocks are reused while traffic flows; ones unused for a whole trim period lose their pages
// but stay usable.
TEST(BlockCache, TrimReleasesOnlyBlocksIdleForAWholePeriod) {
  BlockCache::trim();
  BlockCache::trim();  // whatever earlier tests left is now cold
  std::vector<char*> taken;
  for (int i = 0; i < 6; ++i) taken.push_back(BlockCache::take());
  for (char* b : taken) {
    std::memset(b, 'x', BlockCache::kBlock);
    BlockCache::give(b);
  }
  const size_t warm = BlockCache::warm();
  ASSERT_GE(warm, 6u);
  BlockCache::trim();  // starts a period: nothing was idle through a whole one yet
  EXPECT_EQ(BlockCache::warm(), warm);
  char* busy = BlockCache::take();  // one block used during the period
  BlockCache::give(busy);
  EXPECT_EQ(BlockCache::trim(), warm - 1);  // all but the one just used
  EXPECT_EQ(BlockCache::warm(), 1u);
  // A cold block is still a block: taking every cached one and writing it works.
  taken.clear();
  for (size_t i = 0; i < warm; ++i) taken.push_back(BlockCache::take());
  for (char* b : taken) {
    std::memset(b, 'y', BlockCache::kBlock);
    EXPECT_EQ(b[BlockCache::kBlock - 1], 'y');
    BlockCache::give(b);
  }
}

}  // namespace
}  // namespace sg
