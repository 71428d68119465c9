#include <gtest/gtest.h>

#include "admin/dashboard/logins.h"
#include "admin/dashboard/snapshot.h"
#include "admin/dashboard/traffic_window.h"
#include "observe/recent_errors.h"

namespace sg::admin {
namespace {

TEST(DashboardLogins, IdsAreRandomExpireAndEnd) {
  Logins l(3, 1000);
  const std::string a = l.create(0);
  const std::string b = l.create(0);
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(l.valid(a, 999));
  EXPECT_FALSE(l.valid(a, 1000));
  EXPECT_FALSE(l.valid("", 0));
  EXPECT_FALSE(l.valid(a.substr(0, 63), 0));
  l.end(b);
  EXPECT_FALSE(l.valid(b, 0));
  EXPECT_TRUE(l.valid(a, 0));
}

TEST(DashboardLogins, TheOldestGoesWhenFullAndExpiredOnesAreForgotten) {
  Logins l(2, 1000);
  const std::string a = l.create(0);
  const std::string b = l.create(1);
  const std::string c = l.create(2);
  EXPECT_FALSE(l.valid(a, 3));
  EXPECT_TRUE(l.valid(b, 3));
  EXPECT_TRUE(l.valid(c, 3));
  l.create(5000);  // b and c expired: forgotten, not counted against the limit
  EXPECT_EQ(l.size(), 1u);
  for (int i = 0; i < 100; ++i) l.end(l.create(5500));  // login/logout cycles hold nothing
  EXPECT_EQ(l.size(), 1u);
}

TEST(DashboardLogins, FailuresThrottleForAMinute) {
  Logins l;
  for (size_t i = 0; i + 1 < Logins::kMaxFailures; ++i) l.failed(1000);
  EXPECT_FALSE(l.throttled(1000));
  l.failed(2000);
  EXPECT_TRUE(l.throttled(2000));
  EXPECT_TRUE(l.throttled(60999));
  EXPECT_FALSE(l.throttled(61001));  // the first nine are a minute old
}

TEST(DashboardCookies, ValueOfANamedCookie) {
  EXPECT_EQ(cookie_value("a=1; sg_dashboard=abc; b=2", "sg_dashboard"), "abc");
  EXPECT_EQ(cookie_value("sg_dashboard=abc", "sg_dashboard"), "abc");
  EXPECT_EQ(cookie_value("xsg_dashboard=abc", "sg_dashboard"), "");
  EXPECT_EQ(cookie_value("sg_dashboardx=abc", "sg_dashboard"), "");
  EXPECT_EQ(cookie_value("", "sg_dashboard"), "");
}

TEST(DashboardTraffic, TheWindowIsTheTotalMinusTheNewestSampleAWindowOld) {
  TrafficWindow w(300);
  EXPECT_EQ(w.recent("s", {5, 1, 50}, 0), (TrafficTotals{5, 1, 50}));  // no history: all of it
  w.sample("s", {5, 1, 50}, 0);
  w.sample("s", {8, 1, 80}, 100);
  w.sample("s", {9, 2, 90}, 200);
  w.end_round();
  EXPECT_EQ(w.recent("s", {10, 2, 100}, 250), (TrafficTotals{10, 2, 100}));  // none 300 old
  EXPECT_EQ(w.recent("s", {10, 2, 100}, 300), (TrafficTotals{5, 1, 50}));
  EXPECT_EQ(w.recent("s", {10, 2, 100}, 450), (TrafficTotals{2, 1, 20}));
}

TEST(DashboardTraffic, OnlySessionsWithTrafficAreKeptAndGoneOnesForgotten) {
  TrafficWindow w(300);
  w.sample("idle", {}, 0);
  w.sample("busy", {1, 0, 10}, 0);
  w.end_round();
  EXPECT_EQ(w.tracked(), 1u);
  w.end_round();  // busy was not sampled: it is gone
  EXPECT_EQ(w.tracked(), 0u);
}

TEST(DashboardTraffic, TotalsThatGoDownStartANewHistory) {
  TrafficWindow w(100);
  w.sample("s", {50, 0, 500}, 0);
  w.sample("s", {2, 0, 20}, 200);  // deleted and created again: new counters
  EXPECT_EQ(w.recent("s", {3, 0, 30}, 250), (TrafficTotals{3, 0, 30}));
  EXPECT_EQ(w.recent("s", {3, 0, 30}, 300), (TrafficTotals{1, 0, 10}));
}

TEST(DashboardQuery, ParametersAndTheirLimits) {
  DashboardQuery q;
  std::string error;
  ASSERT_TRUE(
      parse_dashboard_query("q=abc&state=ready&sort=active&page=2&size=10&cq=c&cpage=1", q, error));
  EXPECT_EQ((std::tuple{q.q, q.state, q.sort, q.page, q.size, q.cq, q.cpage}),
            (std::tuple{std::string("abc"), std::string("ready"), std::string("active"), size_t{2},
                        size_t{10}, std::string("c"), size_t{1}}));
  for (const char* bad : {"size=0", "size=201", "page=x", "page=-1", "state=asleep", "sort=name",
                          "what=1", "q=%G0"}) {
    DashboardQuery ignored;
    EXPECT_FALSE(parse_dashboard_query(bad, ignored, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(RecentErrors, TheRingKeepsTheNewestAndCutsLongFields) {
  observe::RecentErrors r;
  for (int i = 0; i < 100; ++i) {
    r.add(i, 500, "upstream_error", "h2", "GET", std::string(1000, 'p'), "s", "c", "id", "ip");
  }
  std::vector<observe::RecentError> out;
  r.copy_to(out);
  EXPECT_TRUE(out.empty()) << "nothing is seen before the worker publishes";
  r.publish();
  r.copy_to(out);
  ASSERT_EQ(out.size(), observe::RecentErrors::kSize);
  EXPECT_EQ(out.front().time_ms, 100 - static_cast<int64_t>(observe::RecentErrors::kSize));
  EXPECT_EQ(out.back().time_ms, 99);
  EXPECT_EQ(out.back().path.size(), observe::RecentErrors::kMaxField);
}

}  // namespace
}  // namespace sg::admin
