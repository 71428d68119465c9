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

// Fills all the room each streaming read offers, the way a bulk transfer does.
size_t fill_stream(Buffer& b, size_t max_total) {
  auto [p, n] = b.prepare_stream(max_total);
  std::memset(p, 'x', n);
  b.commit_stream(n, n);
  b.consume(n);  // sent on at once
  return n;
}

TEST(Buffer, StreamReadsStartAtOneBlockAndDoubleWhileFilledUpToTheBound) {
  Buffer b;
  EXPECT_EQ(fill_stream(b, 65536), BlockCache::kBlock);
  EXPECT_EQ(b.capacity(), BlockCache::kBlock);
  EXPECT_EQ(fill_stream(b, 65536), 2 * BlockCache::kBlock);
  EXPECT_EQ(fill_stream(b, 65536), 65536u);
  EXPECT_EQ(fill_stream(b, 65536), 65536u);  // never past the bound
  EXPECT_EQ(b.capacity(), 65536u);
  b.release_if_empty();
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(fill_stream(b, 65536), BlockCache::kBlock);  // the next transfer starts small again
}

TEST(Buffer, StreamReadsThatDoNotFillTheRoomKeepOneBlock) {
  Buffer b;
  for (int i = 0; i < 4; ++i) {
    auto [p, n] = b.prepare_stream(65536);
    ASSERT_EQ(n, BlockCache::kBlock);
    std::memset(p, 'x', 100);
    b.commit_stream(100, n);
    b.consume(100);
  }
  EXPECT_EQ(b.capacity(), BlockCache::kBlock);
  b.release_if_empty();
}

TEST(Buffer, StreamBoundBelowOneBlockIsKept) {
  Buffer b;
  EXPECT_EQ(fill_stream(b, 4096), 4096u);
  EXPECT_EQ(fill_stream(b, 4096), 4096u);
  b.release_if_empty();
}

TEST(Buffer, StreamReadKeepsBufferedBytesWhenItGrows) {
  Buffer b;
  auto [p, n] = b.prepare_stream(65536);
  std::memset(p, 'a', n);
  b.commit_stream(n, n);
  b.consume(n - 3);  // three bytes wait for the rest of a chunk line
  auto [p2, n2] = b.prepare_stream(65536);
  EXPECT_EQ(n2, 2 * BlockCache::kBlock);  // the room asked for, beside the kept bytes
  EXPECT_EQ(b.data(), "aaa");
  std::memset(p2, 'b', n2);
  b.commit_stream(n2, n2);
  EXPECT_EQ(b.size(), 2 * BlockCache::kBlock + 3);
  EXPECT_EQ(b.data().substr(0, 4), "aaab");
  b.consume(b.size());
  b.release_if_empty();
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
