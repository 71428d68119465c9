#include "routing/pattern.h"

#include <gtest/gtest.h>

#include "routing/rule.h"

namespace sg::routing {
namespace {

TEST(HostPattern, StarIsOneLabel) {
  EXPECT_TRUE(match_host("*.preview.example.com", "abc.preview.example.com"));
  EXPECT_TRUE(match_host("*.preview.example.com", "ABC.Preview.Example.com:8443"));
  EXPECT_TRUE(match_host("*.preview.example.com", "abc.preview.example.com."));
  EXPECT_FALSE(match_host("*.preview.example.com", "a.b.preview.example.com"));
  EXPECT_FALSE(match_host("*.preview.example.com", "preview.example.com"));
  EXPECT_FALSE(match_host("*.preview.example.com", ".preview.example.com"));
  EXPECT_TRUE(match_host("edit.*.example.com", "edit.acme.example.com"));
  EXPECT_FALSE(match_host("edit.*.example.com", "edit.example.com"));
  EXPECT_TRUE(match_host("*", "anything"));
  EXPECT_TRUE(match_host("", "anything"));
  EXPECT_TRUE(match_host("a.example.com", "A.EXAMPLE.COM"));
  EXPECT_FALSE(match_host("a.example.com", "b.example.com"));
}

TEST(PathPattern, Globs) {
  EXPECT_TRUE(match_path("/session/*", "/session/abc/x/y"));
  EXPECT_FALSE(match_path("/session/*", "/session"));
  EXPECT_TRUE(match_path("/api/*/items", "/api/v1/items"));
  EXPECT_TRUE(match_path("/a?c", "/abc"));
  EXPECT_FALSE(match_path("/a", "/A"));
  EXPECT_TRUE(match_path("", "/x"));
}

TEST(Patterns, Validation) {
  EXPECT_EQ(check_host_pattern("*.example.com"), nullptr);
  EXPECT_NE(check_host_pattern("a*.example.com"), nullptr);
  EXPECT_NE(check_host_pattern("a..b"), nullptr);
  EXPECT_NE(check_host_pattern("a/b"), nullptr);
  EXPECT_EQ(check_path_pattern("/x/*"), nullptr);
  EXPECT_NE(check_path_pattern("x"), nullptr);
}

TEST(RuleTable, PriorityOrder) {
  std::vector<Rule> rules(3);
  rules[0].priority = 90;
  rules[0].host = "edit.*.example.com";
  rules[0].name = "help";
  rules[1].priority = 5;
  rules[1].host = "edit.*.example.com";
  rules[1].path = "/session/*";
  rules[1].name = "session";
  rules[2].priority = 10;
  rules[2].host = "*.preview.example.com";
  rules[2].name = "sub";
  RuleTable t(rules);
  EXPECT_EQ(t.match("edit.acme.example.com", "/session/x/")->name, "session");
  EXPECT_EQ(t.match("edit.acme.example.com", "/other")->name, "help");
  EXPECT_EQ(t.match("x.preview.example.com", "/")->name, "sub");
  EXPECT_EQ(t.match("nothing.example.org", "/"), nullptr);
}

}  // namespace
}  // namespace sg::routing

namespace sg::routing {
namespace {

// The prepared "*.suffix" form: exactly one non-empty label before the suffix, any case.
TEST(HostPattern, OneLabelThenSuffix) {
  HostPattern p("*.Preview.Example.com");
  EXPECT_TRUE(p.matches("t1.preview.example.com"));
  EXPECT_TRUE(p.matches("T1.PREVIEW.example.COM"));
  EXPECT_TRUE(p.matches(bare_host("t1.preview.example.com.:8443")));
  EXPECT_FALSE(p.matches("preview.example.com"));
  EXPECT_FALSE(p.matches(".preview.example.com"));
  EXPECT_FALSE(p.matches("a.b.preview.example.com"));
  EXPECT_FALSE(p.matches("t1.preview.example.co"));
  EXPECT_FALSE(p.matches("t1xpreview.example.com"));
  EXPECT_FALSE(p.matches("t1.preview-example.com"));
  EXPECT_TRUE(HostPattern("").matches("anything"));
  EXPECT_TRUE(HostPattern("*").matches("anything"));
  // Other shapes still go through the general matcher.
  EXPECT_TRUE(HostPattern("edit.*.example.com").matches("edit.acme.example.com"));
  EXPECT_FALSE(HostPattern("edit.*.example.com").matches("edit.a.b.example.com"));
  EXPECT_TRUE(HostPattern("*.*.example.com").matches("a.b.example.com"));
}

}  // namespace
}  // namespace sg::routing
