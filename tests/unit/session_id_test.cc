#include "routing/session_id.h"

#include <gtest/gtest.h>

#include "routing/rule.h"

namespace sg::routing {
namespace {

TEST(SessionId, FromPath) {
  std::string_view id, rest;
  EXPECT_EQ(id_from_path("/session/abc-1_X/src/main.js", "/session/", id, rest), IdResult::kFound);
  EXPECT_EQ(id, "abc-1_X");
  EXPECT_EQ(rest, "/src/main.js");
  EXPECT_EQ(id_from_path("/session/abc", "/session/", id, rest), IdResult::kFound);
  EXPECT_EQ(rest, "");
  EXPECT_EQ(id_from_path("/session/", "/session/", id, rest), IdResult::kAbsent);
  EXPECT_EQ(id_from_path("/other/abc", "/session/", id, rest), IdResult::kAbsent);
  EXPECT_EQ(id_from_path("/session/a.b/", "/session/", id, rest), IdResult::kInvalid);
  EXPECT_EQ(id_from_path("/session/" + std::string(129, 'a'), "/session/", id, rest),
            IdResult::kInvalid);
}

TEST(SessionId, AmbiguousPaths) {
  for (const char* p : {"/a/%2e%2e/b", "/a/%2E/b", "/a%2fb", "/a%2Fb", "/a\\b", "/a//b", "/a/./b",
                        "/a/../b", "/a/..", "/.", "/a%5Cb", "/a%00"}) {
    EXPECT_TRUE(ambiguous_path(p)) << p;
  }
  for (const char* p : {"/", "/a/b.c", "/a/..b", "/a/b.", "/%41", "/a/.well-known/x"}) {
    EXPECT_FALSE(ambiguous_path(p)) << p;
  }
}

TEST(SessionId, FromHost) {
  std::string_view id;
  EXPECT_EQ(id_from_host("abc.preview.example.com", id), IdResult::kFound);
  EXPECT_EQ(id, "abc");
  EXPECT_EQ(id_from_host("localhost", id), IdResult::kAbsent);
  EXPECT_EQ(id_from_host("[::1]", id), IdResult::kAbsent);
}

TEST(SessionId, Cookies) {
  EXPECT_EQ(cookie_value("a=1; sg_session=t1; b=2", "sg_session"), "t1");
  EXPECT_EQ(cookie_value("sg_session=\"t2\"", "sg_session"), "t2");
  EXPECT_EQ(cookie_value("xsg_session=t3", "sg_session"), "");
  EXPECT_EQ(cookie_value("", "sg_session"), "");
}

TEST(SessionId, Referer) {
  std::string_view id;
  EXPECT_EQ(id_from_referer("https://edit.a.example.com/session/t1/page?x", "/session/", id),
            IdResult::kFound);
  EXPECT_EQ(id, "t1");
  EXPECT_EQ(id_from_referer("/session/t2/", "/session/", id), IdResult::kFound);
  EXPECT_EQ(id_from_referer("https://x.example.com/", "/session/", id), IdResult::kAbsent);
  EXPECT_EQ(id_from_referer("https://x/session/../t/", "/session/", id), IdResult::kAbsent);
}

TEST(RuleTable, AffinityOnlyForPathSessionRules) {
  std::vector<Rule> rules(2);
  rules[0].priority = 5;
  rules[0].host = "edit.*.example.com";
  rules[0].path = "/session/*";
  rules[0].action.type = ActionType::kSession;
  rules[0].action.prefix = "/session/";
  rules[1].priority = 90;
  rules[1].host = "edit.*.example.com";
  rules[1].action.type = ActionType::kFixed;
  RuleTable t(rules);
  auto m = t.match("edit.a.example.com", "/@vite/client", "sg_session=t9", "", "sg_session");
  ASSERT_NE(m.rule, nullptr);
  EXPECT_EQ(m.rule->priority, 5);
  EXPECT_TRUE(m.by_affinity);
  EXPECT_EQ(m.affinity_id, "t9");
  m = t.match("edit.a.example.com", "/@vite/client", "", "", "sg_session");
  EXPECT_EQ(m.rule->priority, 90);
  m = t.match("edit.a.example.com", "/session/t1/x", "sg_session=t9", "", "sg_session");
  EXPECT_FALSE(m.by_affinity);
  m = t.match("other.example.com", "/x", "sg_session=t9", "", "sg_session");
  EXPECT_EQ(m.rule, nullptr);
}

// Root-level requests of a path-mode rule with the service worker: the worker's header, then
// the Referer, then the cookie; the header means nothing to a rule without the worker.
TEST(RuleTable, WorkerHeaderThenRefererThenCookie) {
  std::vector<Rule> rules(2);
  rules[0].priority = 5;
  rules[0].host = "edit.example.com";
  rules[0].path = "/session/*";
  rules[0].action.type = ActionType::kSession;
  rules[0].action.prefix = "/session/";
  rules[0].action.service_worker = true;
  rules[1] = rules[0];
  rules[1].priority = 6;
  rules[1].host = "old.example.com";
  rules[1].action.service_worker = false;
  RuleTable t(rules);
  const std::string_view cookie = "sg_session=t3";
  const std::string_view referer = "https://edit.example.com/session/t2/";
  const auto id = [&](std::string_view host, std::string_view ref, std::string_view header) {
    return t.session_of(host, "/src/styles.css", cookie, ref, "sg_session", header);
  };
  EXPECT_EQ(id("edit.example.com", referer, "t1"), "t1");
  EXPECT_EQ(id("edit.example.com", "https://edit.example.com/@vite/client", "t1"), "t1");
  EXPECT_EQ(id("edit.example.com", referer, ""), "t2");
  EXPECT_EQ(id("edit.example.com", "", ""), "t3");
  // An invalid id in the header is no name at all: the next way decides.
  EXPECT_EQ(id("edit.example.com", referer, "t 1"), "t2");
  EXPECT_EQ(id("edit.example.com", "", "../x"), "t3");
  EXPECT_EQ(id("old.example.com", referer, "t1"), "t2");
  EXPECT_EQ(id("old.example.com", "", "t1"), "t3");
  // Under the prefix the path decides, whatever the header says.
  EXPECT_EQ(t.session_of("edit.example.com", "/session/t4/x", cookie, referer, "sg_session", "t1"),
            "t4");
  const RuleMatch m = t.match("edit.example.com", "/x", "", "", "sg_session", "t1");
  ASSERT_NE(m.rule, nullptr);
  EXPECT_TRUE(m.by_affinity);
  EXPECT_EQ(m.affinity_id, "t1");
}

}  // namespace
}  // namespace sg::routing
