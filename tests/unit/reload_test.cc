// What a reload may change, and how a tunnel's request is asked again against new rules.
#include <gtest/gtest.h>

#include "app/config.h"
#include "app/reload.h"

namespace sg::app {
namespace {

constexpr const char* kBase = R"(workers: 2
listeners:
  - address: 127.0.0.1:8080
store: {path: /tmp/a.db}
rules:
  - priority: 5
    match: {host: "edit.*.example.com", path: "/session/*"}
    action: {type: session, from: path}
  - priority: 10
    match: {host: "*.preview.example.com"}
    action: {type: session, from: host}
)";

Config parse(const std::string& text) {
  Config cfg;
  std::vector<ConfigError> errors;
  EXPECT_TRUE(parse_config(text, "t.yaml", cfg, errors))
      << (errors.empty() ? "" : errors[0].message);
  return cfg;
}

std::string with(const std::string& from, const std::string& to) {
  std::string s = kBase;
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(RestartNeeded, RulesListenersLimitsAndPagesReload) {
  const Config running = parse(kBase);
  EXPECT_TRUE(restart_needed(running, parse(kBase)).empty());
  const Config next = parse(with("listeners:\n  - address: 127.0.0.1:8080\n",
                                 "listeners:\n  - address: 127.0.0.1:9090\n"
                                 "limits: {header_bytes: 16KiB, per_client_rate: 10}\n"
                                 "timeouts: {keepalive_idle: 5s}\n"
                                 "access_log: {path: /tmp/x.log}\n"));
  EXPECT_TRUE(restart_needed(running, next).empty());
}

TEST(RestartNeeded, WorkersStoreAndPoolsAreNamed) {
  const Config running = parse(kBase);
  auto msgs = restart_needed(running, parse(with("workers: 2", "workers: 4")));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0], "workers: 2 -> 4 needs a restart");
  msgs =
      restart_needed(running, parse(with("store: {path: /tmp/a.db}", "store: {path: /tmp/b.db}")));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0], "store: changed; a different store needs a restart");
  msgs = restart_needed(
      running, parse(with("workers: 2", "workers: 2\nlimits: {upstream_idle_per_host: 8}")));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0], "limits.upstream_idle_per_host: 64 -> 8 needs a restart");
  msgs = restart_needed(running,
                        parse(with("workers: 2", "workers: 3\nsessions: {sweep_interval: 5s}")));
  EXPECT_EQ(msgs.size(), 2u);
}

TEST(RestartNeeded, TheAdminListenerAndTokenStay) {
  const Config running =
      parse(with("workers: 2",
                 "workers: 2\nadmin: {address: 127.0.0.1:9901, token: aaaaaaaaaaaaaaaaaaaaaaaa}"));
  auto msgs = restart_needed(
      running,
      parse(with("workers: 2",
                 "workers: 2\nadmin: {address: 127.0.0.1:9902, token: aaaaaaaaaaaaaaaaaaaaaaaa}")));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0], "admin.address: 127.0.0.1:9901 -> 127.0.0.1:9902 needs a restart");
  msgs = restart_needed(
      running,
      parse(with("workers: 2",
                 "workers: 2\nadmin: {address: 127.0.0.1:9901, token: bbbbbbbbbbbbbbbbbbbbbbbb}")));
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0], "admin.token: changed; a new token needs a restart");
}

TEST(SessionOf, AsksTheRulesAsARequestWould) {
  const Config cfg = parse(kBase);
  const routing::RuleTable rules(cfg.rules);
  EXPECT_EQ(rules.session_of("edit.acme.example.com", "/session/t1/ws", "", "", "sg_session"),
            "t1");
  EXPECT_EQ(rules.session_of("t2.preview.example.com", "/", "", "", "sg_session"), "t2");
  // Outside the prefix: by Referer, then by the affinity cookie.
  EXPECT_EQ(rules.session_of("edit.acme.example.com", "/@vite/client", "",
                             "https://edit.acme.example.com/session/t3/", "sg_session"),
            "t3");
  EXPECT_EQ(rules.session_of("edit.acme.example.com", "/@vite/client", "a=1; sg_session=t4", "",
                             "sg_session"),
            "t4");
  EXPECT_EQ(rules.session_of("other.example.com", "/session/t1/", "", "", "sg_session"), "");
  EXPECT_EQ(rules.session_of("edit.acme.example.com", "/session/%74/", "", "", "sg_session"), "");
}

}  // namespace
}  // namespace sg::app
