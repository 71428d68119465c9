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

}  // namespace
}  // namespace sg::routing
