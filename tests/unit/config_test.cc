#include "app/config.h"

#include <gtest/gtest.h>

namespace sg::app {
namespace {

bool parse(const std::string& text, Config& cfg, std::vector<ConfigError>& errors) {
  return parse_config(text, "test.yaml", cfg, errors);
}

TEST(Config, ParsesFullExample) {
  Config cfg;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(parse(R"(workers: 2
listeners:
  - address: 127.0.0.1:8080
  - address: "[::1]:8081"
limits: { header_bytes: 32KiB, header_fields: 100 }
timeouts: { request_head: 10s, keepalive_idle: 60s, upstream_connect: 3s, upstream_head: 30s, tunnel_idle: 1h }
rules:
  - priority: 10
    match: { host: "*.example.com", path: "/api/*" }
    action: { type: upstream, address: 127.0.0.1:9000, host_header: upstream }
  - priority: 20
    action: { type: fixed, status: 404, body: "nope" }
  - priority: 30
    action: { type: redirect, status: 308, location: "https://{host}{path}" }
)",
                    cfg, errors))
      << (errors.empty() ? "" : errors[0].message);
  EXPECT_EQ(cfg.workers, 2);
  ASSERT_EQ(cfg.listeners.size(), 2u);
  EXPECT_EQ(cfg.listeners[1].endpoint.port(), 8081);
  EXPECT_EQ(cfg.limits.header_bytes, 32768u);
  EXPECT_EQ(cfg.timeouts.tunnel_idle.count(), 3600000);
  ASSERT_EQ(cfg.rules.size(), 3u);
  EXPECT_EQ(cfg.rules[0].action.address.port(), 9000);
  EXPECT_EQ(cfg.rules[0].action.host_header, routing::HostHeader::kUpstream);
  EXPECT_EQ(cfg.rules[2].action.status, 308);
}

TEST(Config, ErrorsNameThePosition) {
  Config cfg;
  std::vector<ConfigError> errors;
  EXPECT_FALSE(
      parse("listeners:\n  - address: 127.0.0.1:8080\ntimeouts:\n  request_head: 10 s\n"
            "bogus: 1\n",
            cfg, errors));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].line, 5);
  EXPECT_NE(errors[0].message.find("unknown key 'bogus'"), std::string::npos);
  EXPECT_EQ(errors[1].line, 4);
  EXPECT_NE(errors[1].message.find("invalid duration"), std::string::npos);
}

TEST(Config, RejectsBadValues) {
  const char* bad[] = {
      "listeners: []\n",
      "listeners:\n  - address: localhost:80\n",
      "listeners:\n  - address: 127.0.0.1:99999\n",
      "listeners:\n  - address: 127.0.0.1:80\nworkers: -1\n",
      "listeners:\n  - address: 127.0.0.1:80\nrules:\n  - priority: 1\n    action: {type: "
      "upstream, "
      "address: example.com:80}\n",
      "listeners:\n  - address: 127.0.0.1:80\nrules:\n  - priority: 1\n    action: {type: "
      "teleport}\n",
      "listeners:\n  - address: 127.0.0.1:80\nrules:\n  - priority: 1\n    action: {type: fixed, "
      "status: 99}\n",
      "listeners:\n  - address: 127.0.0.1:80\nrules:\n  - priority: 1\n    match: {host: "
      "\"a*.b\"}\n    action: {type: fixed, status: 404}\n",
      "listeners:\n  - address: 127.0.0.1:80\nrules:\n  - {priority: 1, action: {type: fixed, "
      "status: 404}}\n  - {priority: 1, action: {type: fixed, status: 404}}\n",
      "listeners:\n  - address: 127.0.0.1:80\nlimits: {header_bytes: lots}\n",
      "listeners: [\n",
  };
  for (const char* text : bad) {
    Config cfg;
    std::vector<ConfigError> errors;
    EXPECT_FALSE(parse(text, cfg, errors)) << text;
    ASSERT_FALSE(errors.empty()) << text;
    EXPECT_GT(errors[0].line, 0) << text << errors[0].message;
  }
}

TEST(Config, Durations) {
  Millis m{};
  EXPECT_TRUE(parse_duration("250ms", m));
  EXPECT_EQ(m.count(), 250);
  EXPECT_TRUE(parse_duration("2h", m));
  EXPECT_EQ(m.count(), 7200000);
  EXPECT_FALSE(parse_duration("10", m));
  EXPECT_FALSE(parse_duration("s", m));
  EXPECT_FALSE(parse_duration("1.5s", m));
}

}  // namespace
}  // namespace sg::app
