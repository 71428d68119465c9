#include "proxy/deadline_list.h"

#include <gtest/gtest.h>

#include <vector>

namespace sg::proxy {
namespace {

using Clock = DeadlineList::Clock;

std::vector<DeadlineHook*> order(DeadlineList& l) {
  std::vector<DeadlineHook*> out;
  l.for_each([&](DeadlineHook& h) { out.push_back(&h); });
  return out;
}

TEST(DeadlineList, KeepsArrivalOrderAndMovesTouchedEntriesToTheBack) {
  DeadlineList l;
  DeadlineHook a, b, c;
  const auto t = Clock::now();
  l.push_back(a, t);
  l.push_back(b, t + std::chrono::seconds(1));
  l.push_back(c, t + std::chrono::seconds(2));
  EXPECT_EQ(order(l), (std::vector<DeadlineHook*>{&a, &b, &c}));
  EXPECT_EQ(&l.front(), &a);
  l.push_back(a, t + std::chrono::seconds(3));  // touched: due later, at the back
  EXPECT_EQ(order(l), (std::vector<DeadlineHook*>{&b, &c, &a}));
  EXPECT_EQ(a.deadline, t + std::chrono::seconds(3));
  DeadlineList::remove(c);
  DeadlineList::remove(c);  // removing twice is harmless
  EXPECT_FALSE(c.linked());
  EXPECT_EQ(order(l), (std::vector<DeadlineHook*>{&b, &a}));
  // for_each tolerates removing the entry it is visiting
  l.for_each([](DeadlineHook& h) { DeadlineList::remove(h); });
  EXPECT_TRUE(l.empty());
  EXPECT_FALSE(a.linked());
  EXPECT_FALSE(b.linked());
}

TEST(DeadlineList, DetachesItsEntriesWhenDestroyed) {
  DeadlineHook a;
  {
    DeadlineList l;
    l.push_back(a, Clock::now());
    EXPECT_TRUE(a.linked());
  }
  EXPECT_FALSE(a.linked());
  DeadlineList::remove(a);
}

}  // namespace
}  // namespace sg::proxy
