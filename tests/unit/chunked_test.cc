#include "http/chunked.h"

#include <gtest/gtest.h>

#include <string>

namespace sg::http {
namespace {

// Feeds `in` in pieces of `piece` bytes; returns payload, or "ERR:<status>".
std::string decode(const std::string& in, size_t piece = 1 << 20, bool* done = nullptr) {
  ChunkedDecoder dec({16, 64});
  std::string payload, pending;
  size_t pos = 0;
  while (pos < in.size()) {
    pending += in.substr(pos, piece);
    pos += piece;
    for (;;) {
      auto st = dec.step(pending);
      payload.append(st.data);
      pending.erase(0, st.consumed);
      if (st.error.status) return "ERR:" + std::to_string(st.error.status);
      if (st.done) {
        if (done) *done = true;
        return payload;
      }
      if (pending.empty() || st.consumed == 0) break;
    }
  }
  if (done) *done = false;
  return payload;
}

TEST(Chunked, DecodesWholeAndBytewise) {
  std::string in = "5\r\nhello\r\nA;name=value\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n";
  bool done = false;
  EXPECT_EQ(decode(in, 1 << 20, &done), "hello0123456789");
  EXPECT_TRUE(done);
  EXPECT_EQ(decode(in, 1, &done), "hello0123456789");
  EXPECT_TRUE(done);
}

TEST(Chunked, IncompleteIsNotDone) {
  bool done = true;
  EXPECT_EQ(decode("5\r\nhel", 1 << 20, &done), "hel");
  EXPECT_FALSE(done);
}

TEST(Chunked, StopsAtEndLeavingNextMessage) {
  ChunkedDecoder dec;
  std::string in = "0\r\n\r\nGET / HTTP/1.1\r\n";
  auto st = dec.step(in);
  EXPECT_TRUE(st.done);
  EXPECT_EQ(st.consumed, 5u);
}

TEST(Chunked, Rejects) {
  EXPECT_EQ(decode("x\r\n"), "ERR:400");
  EXPECT_EQ(decode("-1\r\n"), "ERR:400");
  EXPECT_EQ(decode("0x5\r\nhello\r\n"), "ERR:400");
  EXPECT_EQ(decode("5\nhello\r\n"), "ERR:400");
  EXPECT_EQ(decode("5\r\nhello\n0\r\n\r\n"), "ERR:400");
  EXPECT_EQ(decode("5\r\nhelloXX0\r\n\r\n"), "ERR:400");
  EXPECT_EQ(decode("fffffffffffffffffff\r\n"), "ERR:400");
  EXPECT_EQ(decode("1;" + std::string(100, 'a') + "\r\n"), "ERR:400");
  EXPECT_EQ(decode("\r\n"), "ERR:400");
  EXPECT_EQ(decode("0\r\n\n"), "ERR:400");
  EXPECT_EQ(decode("0\r\nX: " + std::string(100, 'a') + "\r\n\r\n"), "ERR:400");
}

}  // namespace
}  // namespace sg::http

namespace sg::http {
namespace {

TEST(ChunkSizeLine, IsLowercaseHexWithoutLeadingZerosThenCrlf) {
  EXPECT_EQ(ChunkSizeLine(0).view(), "0\r\n");
  EXPECT_EQ(ChunkSizeLine(1).view(), "1\r\n");
  EXPECT_EQ(ChunkSizeLine(255).view(), "ff\r\n");
  EXPECT_EQ(ChunkSizeLine(0x1a2b).view(), "1a2b\r\n");
  EXPECT_EQ(ChunkSizeLine(SIZE_MAX).view(), "ffffffffffffffff\r\n");
  ChunkSizeLine reused;
  EXPECT_EQ(reused.set(16), "10\r\n");
  EXPECT_EQ(reused.set(9), "9\r\n");
}

}  // namespace
}  // namespace sg::http
