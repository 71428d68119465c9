// On-demand lookups of unknown sessions: one read per session at a time across workers, a
// short memory of sessions found missing, a bound on lookups under way.
#include "registry/session_lookup.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace sg::registry {
namespace {

using Ask = SessionLookup::Ask;
using Result = SessionLookup::Result;

struct Fixture {
  std::vector<std::string> fetched, missing, found;
  bool feed_up = true;
  SessionLookup lookup{
      {std::chrono::milliseconds(1000), std::chrono::milliseconds(500), 2},
      [this](const std::string& id) {
        fetched.push_back(id);
        return feed_up;
      },
      [this](const std::string& id, bool ok) { (ok ? found : missing).push_back(id); }};
};

TEST(SessionLookup, OneReadPerSessionAtATime) {
  Fixture f;
  EXPECT_EQ(f.lookup.ask("t1", 0), Ask::kWait);
  EXPECT_EQ(f.lookup.ask("t1", 10), Ask::kWait);  // another worker, the same session
  EXPECT_EQ(f.fetched, std::vector<std::string>{"t1"});
  f.lookup.done("t1", Result::kFound, 20);
  EXPECT_TRUE(f.missing.empty());
  EXPECT_EQ(f.found, std::vector<std::string>{"t1"});  // its waiters look again
  EXPECT_EQ(f.lookup.ask("t1", 30), Ask::kWait);       // found, yet not routed here: read again
  EXPECT_EQ(f.fetched.size(), 2u);
}

TEST(SessionLookup, MissingIsRememberedForTheNegativeTtl) {
  Fixture f;
  ASSERT_EQ(f.lookup.ask("gone", 0), Ask::kWait);
  f.lookup.done("gone", Result::kMissing, 100);
  EXPECT_EQ(f.missing, std::vector<std::string>{"gone"});  // its waiters answer now
  EXPECT_EQ(f.lookup.ask("gone", 599), Ask::kMissing);     // no read
  EXPECT_EQ(f.fetched.size(), 1u);
  EXPECT_EQ(f.lookup.ask("gone", 600), Ask::kWait);  // remembered until 100 + 500
  EXPECT_EQ(f.fetched.size(), 2u);
}

TEST(SessionLookup, AFailedReadIsNotRemembered) {
  Fixture f;
  ASSERT_EQ(f.lookup.ask("t", 0), Ask::kWait);
  f.lookup.done("t", Result::kFailed, 10);
  EXPECT_EQ(f.missing, std::vector<std::string>{"t"});
  EXPECT_EQ(f.lookup.ask("t", 11), Ask::kWait);
}

TEST(SessionLookup, AFeedThatCannotReadAnswersAtOnce) {
  Fixture f;
  f.feed_up = false;
  EXPECT_EQ(f.lookup.ask("t", 0), Ask::kMissing);
  f.feed_up = true;
  EXPECT_EQ(f.lookup.ask("t", 1), Ask::kWait);  // nothing was left pending
}

TEST(SessionLookup, AtMostMaxPendingUnderWay) {
  Fixture f;
  EXPECT_EQ(f.lookup.ask("a", 0), Ask::kWait);
  EXPECT_EQ(f.lookup.ask("b", 0), Ask::kWait);
  EXPECT_EQ(f.lookup.ask("c", 0), Ask::kFull);
  f.lookup.done("a", Result::kMissing, 1);
  EXPECT_EQ(f.lookup.ask("c", 2), Ask::kWait);
}

TEST(SessionLookup, ALookupWhoseAnswerNeverCameMayStartAgain) {
  Fixture f;
  ASSERT_EQ(f.lookup.ask("t", 0), Ask::kWait);
  EXPECT_EQ(f.lookup.ask("t", 1999), Ask::kWait);
  EXPECT_EQ(f.fetched.size(), 1u);
  EXPECT_EQ(f.lookup.ask("t", 2000), Ask::kWait);  // twice the timeout: read again
  EXPECT_EQ(f.fetched.size(), 2u);
}

TEST(SessionLookup, StatsCountEveryResult) {
  Fixture f;
  f.lookup.ask("a", 0);
  f.lookup.done("a", Result::kFound, 1);
  f.lookup.ask("b", 0);
  f.lookup.done("b", Result::kMissing, 1);
  f.lookup.ask("b", 2);
  f.lookup.ask("c", 0);
  f.lookup.ask("d", 0);
  f.lookup.ask("e", 0);  // full: c and d under way
  std::map<std::string, double> by;
  for (const auto& s : f.lookup.stats()) by[s.labels] = s.value;
  EXPECT_EQ(by["result=\"found\""], 1);
  EXPECT_EQ(by["result=\"missing\""], 1);
  EXPECT_EQ(by["result=\"cached\""], 1);
  EXPECT_EQ(by["result=\"refused\""], 1);
  EXPECT_EQ(by["result=\"failed\""], 0);
}

}  // namespace
}  // namespace sg::registry
