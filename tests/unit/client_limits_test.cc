// Per-client limits: open connections per address, a token bucket per address, and the
// bounded memory of clients that went quiet.
#include "proxy/client_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace sg::proxy {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(ClientLimits, ConnectionsAreCountedPerAddress) {
  ClientLimits l(2, 0, 0);
  EXPECT_TRUE(l.open_connection("a"));
  EXPECT_TRUE(l.open_connection("a"));
  EXPECT_FALSE(l.open_connection("a"));
  EXPECT_TRUE(l.open_connection("b"));  // another address is not affected
  l.close_connection("a");
  EXPECT_TRUE(l.open_connection("a"));
  l.close_connection("never-opened");  // harmless
}

TEST(ClientLimits, TheBucketStartsFullAndRefillsAtTheRate) {
  ClientLimits l(0, 2, 3);  // 2 per second, bursts of 3
  const int64_t t0 = 100 * kSecond;
  EXPECT_TRUE(l.take_request("a", t0));
  EXPECT_TRUE(l.take_request("a", t0));
  EXPECT_TRUE(l.take_request("a", t0));
  EXPECT_FALSE(l.take_request("a", t0));
  EXPECT_TRUE(l.take_request("b", t0));                 // its own bucket
  EXPECT_FALSE(l.take_request("a", t0 + kSecond / 4));  // half a token back
  EXPECT_TRUE(l.take_request("a", t0 + kSecond / 2));   // one token back
  EXPECT_TRUE(l.take_request("a", t0 + 10 * kSecond));  // refilled, but only to the burst
  EXPECT_TRUE(l.take_request("a", t0 + 10 * kSecond));
  EXPECT_TRUE(l.take_request("a", t0 + 10 * kSecond));
  EXPECT_FALSE(l.take_request("a", t0 + 10 * kSecond));
}

TEST(ClientLimits, DisabledLimitsHoldNothing) {
  ClientLimits l(0, 0, 0);
  EXPECT_FALSE(l.enabled());
  EXPECT_TRUE(l.open_connection("a"));
  EXPECT_TRUE(l.take_request("a", 0));
  EXPECT_EQ(l.tracked(), 0u);
}

TEST(ClientLimits, ClientsQuietForLongAreForgotten) {
  ClientLimits l(0, 10, 10);
  const int64_t t0 = 1000 * kSecond;
  for (int i = 0; i < 3000; ++i) l.take_request("c" + std::to_string(i), t0);
  const size_t before = l.tracked();
  EXPECT_EQ(before, 3000u);
  // Much later, one busy client: every 4,096 operations its shard drops the quiet ones.
  for (int i = 0; i < 5000; ++i) l.take_request("busy", t0 + 600 * kSecond);
  EXPECT_LT(l.tracked(), before);
  EXPECT_TRUE(l.take_request("busy", t0 + 601 * kSecond));
}

}  // namespace
}  // namespace sg::proxy
