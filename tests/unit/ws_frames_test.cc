#include "http/ws_frames.h"

#include <gtest/gtest.h>

#include <string>

using sg::http::ws_close_frame;
using sg::http::WsFrameTracker;

namespace {

// A frame with `len` payload bytes, masked or not (the mask key and payload are arbitrary).
std::string frame(uint64_t len, bool masked, uint8_t opcode = 0x2) {
  std::string f;
  f += static_cast<char>(0x80 | opcode);
  const char m = masked ? static_cast<char>(0x80) : 0;
  if (len < 126) {
    f += static_cast<char>(m | static_cast<char>(len));
  } else if (len <= 0xffff) {
    f += static_cast<char>(m | 126);
    f += static_cast<char>(len >> 8);
    f += static_cast<char>(len & 0xff);
  } else {
    f += static_cast<char>(m | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((len >> (8 * i)) & 0xff);
  }
  if (masked) f += "\x11\x22\x33\x44";
  f.append(static_cast<size_t>(len), 'x');
  return f;
}

}  // namespace

TEST(WsFrameTracker, StartsAtABoundary) {
  WsFrameTracker t;
  EXPECT_TRUE(t.at_boundary());
}

TEST(WsFrameTracker, FollowsEveryLengthFormByteByByte) {
  for (uint64_t len : {0ull, 1ull, 125ull, 126ull, 65535ull, 65536ull, 70000ull}) {
    for (bool masked : {false, true}) {
      const std::string f = frame(len, masked);
      WsFrameTracker t;
      for (size_t i = 0; i < f.size(); ++i) {
        t.feed(&f[i], 1);
        EXPECT_EQ(t.at_boundary(), i + 1 == f.size()) << "len " << len << " at byte " << i;
      }
    }
  }
}

TEST(WsFrameTracker, ManyFramesInOneRead) {
  const std::string s = frame(3, false) + frame(300, false) + frame(0, false, 0x9);
  WsFrameTracker t;
  t.feed(s.data(), s.size());
  EXPECT_TRUE(t.at_boundary());
  const std::string partial = frame(10, true);
  t.feed(partial.data(), partial.size() - 1);
  EXPECT_FALSE(t.at_boundary());
  t.feed(partial.data() + partial.size() - 1, 1);
  EXPECT_TRUE(t.at_boundary());
}

TEST(WsFrameTracker, SplitInsideTheExtendedLength) {
  const std::string f = frame(65536, false);
  WsFrameTracker t;
  t.feed(f.data(), 5);  // 2 header bytes and 3 of the 8 length bytes
  EXPECT_FALSE(t.at_boundary());
  t.feed(f.data() + 5, f.size() - 5);
  EXPECT_TRUE(t.at_boundary());
}

TEST(WsFrameTracker, ALengthWithItsTopBitSetLosesTrack) {
  std::string f = "\x82\x7f";
  f += std::string("\x80\0\0\0\0\0\0\0", 8);
  WsFrameTracker t;
  t.feed(f.data(), f.size());
  EXPECT_TRUE(t.lost());
  EXPECT_FALSE(t.at_boundary());
  const std::string more = frame(1, false);
  t.feed(more.data(), more.size());
  EXPECT_FALSE(t.at_boundary());
}

TEST(WsCloseFrame, ServerFrameIsUnmaskedWithTheCode) {
  const std::string f = ws_close_frame(1001, "going away", false);
  ASSERT_EQ(f.size(), 2u + 2u + 10u);
  EXPECT_EQ(static_cast<uint8_t>(f[0]), 0x88);
  EXPECT_EQ(static_cast<uint8_t>(f[1]), 12);
  EXPECT_EQ(static_cast<uint8_t>(f[2]), 0x03);
  EXPECT_EQ(static_cast<uint8_t>(f[3]), 0xe9);
  EXPECT_EQ(f.substr(4), "going away");
}

TEST(WsCloseFrame, ClientFrameIsMaskedAndUnmasksBack) {
  const std::string f = ws_close_frame(1001, "bye", true, 0xa1b2c3d4);
  ASSERT_EQ(f.size(), 2u + 4u + 5u);
  EXPECT_EQ(static_cast<uint8_t>(f[1]), 0x80 | 5);
  std::string payload = f.substr(6);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] ^= f[2 + i % 4];
  EXPECT_EQ(payload, std::string("\x03\xe9") + "bye");
  WsFrameTracker t;
  t.feed(f.data(), f.size());
  EXPECT_TRUE(t.at_boundary());
}

TEST(WsCloseFrame, ReasonIsCutToFitAControlFrame) {
  const std::string f = ws_close_frame(1001, std::string(300, 'r'), false);
  EXPECT_EQ(static_cast<uint8_t>(f[1]), 125);
  EXPECT_EQ(f.size(), 127u);
}
