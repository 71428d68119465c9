#include "app/config.h"
#include "common/duration.h"

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

TEST(Config, ListenersWithTlsProxyProtocolAndRedirect) {
  Config cfg;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(parse(R"(listeners:
  - address: 0.0.0.0:443
    proxy_protocol: true
    tls:
      certificates:
        - {cert: /etc/a.pem, key: /etc/a.key}
        - {cert: /etc/b.pem, key: /etc/b.key}
      min_version: "1.3"
      hsts: 8760h
      check_interval: 5s
  - address: 0.0.0.0:80
    redirect_to_https: true
timeouts: {proxy_header: 2s, tls_handshake: 4s}
)",
                    cfg, errors))
      << (errors.empty() ? "" : errors[0].message);
  ASSERT_EQ(cfg.listeners.size(), 2u);
  const ListenerConfig& tls = cfg.listeners[0];
  EXPECT_TRUE(tls.proxy_protocol);
  ASSERT_TRUE(tls.tls.has_value());
  ASSERT_EQ(tls.tls->certificates.size(), 2u);
  EXPECT_EQ(tls.tls->certificates[1].key, "/etc/b.key");
  EXPECT_TRUE(tls.tls->tls13_only);
  EXPECT_EQ(tls.tls->hsts, "max-age=31536000");
  EXPECT_EQ(tls.tls->check_interval.count(), 5000);
  EXPECT_FALSE(cfg.listeners[1].tls.has_value());
  EXPECT_TRUE(cfg.listeners[1].redirect_to_https);
  EXPECT_EQ(cfg.timeouts.proxy_header.count(), 2000);
  EXPECT_EQ(cfg.timeouts.tls_handshake.count(), 4000);
}

TEST(Config, RejectsBadListenerKeys) {
  const std::pair<const char*, const char*> bad[] = {
      {"listeners:\n  - {address: 127.0.0.1:80, proxy_protocol: yes}\n", "must be true or false"},
      {"listeners:\n  - {address: 127.0.0.1:80, tls: {}}\n", "tls needs certificates"},
      {"listeners:\n  - {address: 127.0.0.1:80, tls: {certificates: []}}\n", "non-empty list"},
      {"listeners:\n  - {address: 127.0.0.1:80, tls: {certificates: [{cert: a.pem}]}}\n",
       "needs both cert and key"},
      {"listeners:\n  - {address: 127.0.0.1:80, tls: {certificates: [{cert: a, key: b}], "
       "min_version: \"1.1\"}}\n",
       "min_version must be"},
      {"listeners:\n  - {address: 127.0.0.1:80, tls: {certificates: [{cert: a, key: b}], "
       "hsts: forever}}\n",
       "tls.hsts must be"},
      {"listeners:\n  - {address: 127.0.0.1:80, tls: {certificates: [{cert: a, key: b}], "
       "sni: strict}}\n",
       "unknown key 'sni'"},
      {"listeners:\n  - {address: 127.0.0.1:80, redirect_to_https: true, tls: {certificates: "
       "[{cert: a, key: b}]}}\n",
       "redirect_to_https is for a plain listener"},
      {"listeners:\n  - {address: 127.0.0.1:80}\ntimeouts: {tls_handshake: 0s}\n",
       "timeouts.tls_handshake: invalid duration"},
  };
  for (const auto& [text, want] : bad) {
    Config cfg;
    std::vector<ConfigError> errors;
    EXPECT_FALSE(parse(text, cfg, errors)) << text;
    ASSERT_FALSE(errors.empty()) << text;
    EXPECT_NE(errors[0].message.find(want), std::string::npos) << text << errors[0].message;
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
  // One grammar with the admin API (regression: the file refused 1d and 1.5s, the API took 1d).
  EXPECT_TRUE(parse_duration("1.5s", m));
  EXPECT_EQ(m.count(), 1500);
  EXPECT_TRUE(parse_duration("1d", m));
  EXPECT_EQ(m.count(), 86400000);
}

// Each case: the file, the line and column of the first error, and what it must say.
struct Rejected {
  const char* yaml;
  int line, column;
  const char* message;
};

void expect_first_error(const Rejected& c) {
  Config cfg;
  std::vector<ConfigError> errors;
  EXPECT_FALSE(parse(c.yaml, cfg, errors)) << c.yaml;
  ASSERT_FALSE(errors.empty()) << c.yaml;
  EXPECT_EQ(std::make_pair(errors[0].line, errors[0].column), std::make_pair(c.line, c.column))
      << c.yaml << " -> " << errors[0].message;
  EXPECT_NE(errors[0].message.find(c.message), std::string::npos)
      << c.yaml << " -> " << errors[0].message;
}

// Regressions: each of these passed `config check` (and a duplicate key kept its first value).
TEST(Config, RegressionAddressClashesAndDuplicateKeysAreErrors) {
  for (const Rejected& c : {
           Rejected{"workers: 1\nworkers: 2\nlisteners: [{address: 127.0.0.1:80}]\n", 2, 1,
                    "duplicate key 'workers' (first given on line 1)"},
           Rejected{"listeners:\n  - address: 127.0.0.1:80\n    tls: {}\n    tls: {}\n", 4, 5,
                    "duplicate key 'tls'"},
           Rejected{"listeners:\n  - address: 127.0.0.1:80\n  - address: 127.0.0.1:80\n", 3, 14,
                    "already taken by listener '127.0.0.1:80'"},
           Rejected{"listeners:\n  - address: 0.0.0.0:80\n  - address: 127.0.0.1:80\n", 3, 14,
                    "already taken by listener '0.0.0.0:80'"},
           Rejected{"listeners: [{address: 127.0.0.1:80}]\n"
                    "admin: {address: 127.0.0.1:80, token: 12345678}\n",
                    2, 18, "is also the proxy listener '127.0.0.1:80'"},
           Rejected{"listeners: [{address: 127.0.0.1:0}]\n", 1, 23, "port 0 is not allowed"},
           Rejected{"listeners: [{address: 127.0.0.1}]\n", 1, 23, "no port"},
           Rejected{"listeners: [{address: \"::1:80\"}]\n", 1, 23, "IPv6 address goes in brackets"},
           Rejected{"listeners: [{address: example.com:80}]\n", 1, 23, "not an IP address"},
           Rejected{"listeners: [{address: 127.0.0.1:99999}]\n", 1, 23, "from 1 to 65535"},
           Rejected{"listeners: [{address: 127.0.0.1:80}]\nadmin: {address: 127.0.0.1:0, token: "
                    "12345678}\n",
                    2, 18, "admin.address '127.0.0.1:0': port 0 is not allowed"},
           Rejected{"listeners: [{address: 127.0.0.1:80}]\ntimeouts: {request_head: 1.5ms}\n", 2,
                    26, "not a whole number of milliseconds"},
       }) {
    expect_first_error(c);
  }
  // Different ports, or different specific addresses, are different listeners.
  Config cfg;
  std::vector<ConfigError> errors;
  EXPECT_TRUE(
      parse("listeners:\n  - address: 127.0.0.1:80\n  - address: 127.0.0.2:80\n"
            "  - address: 0.0.0.0:81\n  - address: \"[::]:80\"\n",
            cfg, errors))
      << (errors.empty() ? "" : errors[0].message);
}

TEST(Config, AdminDashboardIsOnUnlessTurnedOff) {
  Config cfg;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(
      parse("listeners: [{address: 127.0.0.1:80}]\n"
            "admin: {address: 127.0.0.1:81, token: 12345678}\n",
            cfg, errors));
  EXPECT_TRUE(cfg.admin.dashboard);
  Config off;
  ASSERT_TRUE(
      parse("listeners: [{address: 127.0.0.1:80}]\n"
            "admin: {address: 127.0.0.1:81, token: 12345678, dashboard: false}\n",
            off, errors));
  EXPECT_FALSE(off.admin.dashboard);
  expect_first_error(
      Rejected{"listeners: [{address: 127.0.0.1:80}]\n"
               "admin: {address: 127.0.0.1:81, token: 12345678, dashboard: no}\n",
               2, 60, "admin.dashboard must be true or false, not 'no'"});
}

TEST(Config, SessionServiceWorkerIsOptInForPathModeWithAffinity) {
  const std::string head = "listeners: [{address: 127.0.0.1:80}]\nrules:\n";
  Config cfg;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(parse(head + "  - {priority: 1, match: {path: /session/*}, action: {type: session}}\n"
                           "  - {priority: 2, match: {path: /s/*}, action: {type: session, "
                           "service_worker: true}}\n",
                    cfg, errors))
      << errors[0].message;
  EXPECT_FALSE(cfg.rules[0].action.service_worker);
  EXPECT_TRUE(cfg.rules[1].action.service_worker);
  const std::string bad[] = {
      head +
          "  - {priority: 1, match: {host: \"*.p.example\"}, action: {type: session, from: "
          "host, service_worker: true}}\n",
      head +
          "  - {priority: 1, match: {path: /session/*}, action: {type: session, affinity: "
          "false, service_worker: true}}\n",
      head +
          "  - {priority: 1, match: {path: /session/*}, action: {type: session, "
          "service_worker: yes}}\n",
  };
  expect_first_error(Rejected{bad[0].c_str(), 3, 101, "service_worker needs from: path"});
  expect_first_error(Rejected{bad[1].c_str(), 3, 103, "service_worker needs affinity: true"});
  expect_first_error(Rejected{bad[2].c_str(), 3, 86, "service_worker must be true or false"});
}

TEST(Duration, OneGrammarWithPreciseErrors) {
  int64_t ms = 0;
  std::string why;
  const std::pair<const char*, int64_t> good[] = {
      {"0ms", 0},        {"250ms", 250}, {"1.5s", 1500}, {"0.25m", 15000},      {"1.5h", 5400000},
      {"2d", 172800000}, {"0.001s", 1},  {"10s", 10000}, {"1.000000000s", 1000}};
  for (const auto& [text, want] : good) {
    EXPECT_TRUE(sg::parse_duration_ms(text, ms, &why)) << text << ": " << why;
    EXPECT_EQ(ms, want) << text;
  }
  const std::pair<const char*, const char*> bad[] = {{"", "expected a number"},
                                                     {"10", "a unit is required"},
                                                     {"1.5", "a unit is required"},
                                                     {"1.s", "digits after the decimal point"},
                                                     {".5s", "expected a number"},
                                                     {"1.5ms", "whole number of milliseconds"},
                                                     {"0.0001s", "whole number of milliseconds"},
                                                     {"5w", "unknown unit 'w'"},
                                                     {"5 s", "unknown unit ' s'"},
                                                     {"-1s", "expected a number"},
                                                     {"106751991167301d", "too large"},
                                                     {"9223372036854775808ms", "too large"},
                                                     {"1.0000000001s", "at most 9 digits"}};
  for (const auto& [text, want] : bad) {
    EXPECT_FALSE(sg::parse_duration_ms(text, ms, &why)) << text;
    EXPECT_NE(why.find(want), std::string::npos) << text << ": " << why;
  }
  EXPECT_EQ(sg::format_duration_ms(86400000), "1d");
  EXPECT_EQ(sg::format_duration_ms(5400000), "90m");
  EXPECT_EQ(sg::format_duration_ms(1500), "1500ms");
  EXPECT_EQ(sg::format_duration_ms(0), "0ms");
}

}  // namespace
}  // namespace sg::app

namespace sg::app {
namespace {

constexpr const char* kListener = "listeners:\n  - address: 127.0.0.1:80\n";

TEST(ConfigStore, RedisSettings) {
  Config cfg;
  std::vector<ConfigError> errors;
  ::setenv("SG_CONFIG_TEST_REDIS_PW", "from-env", 1);
  ASSERT_TRUE(parse(std::string(kListener) + R"(store:
  type: redis
  url: "redis://[::1]:6380/2"
  prefix: "{sg}:"
  username: router
  password_env: SG_CONFIG_TEST_REDIS_PW
  connect_timeout: 250ms
  command_timeout: 2s
  check_interval: 500ms
)",
                    cfg, errors))
      << errors[0].message;
  EXPECT_EQ(cfg.store.type, "redis");
  EXPECT_EQ(cfg.store.redis.endpoint.host, "::1");
  EXPECT_EQ(cfg.store.redis.endpoint.port, 6380);
  EXPECT_EQ(cfg.store.redis.endpoint.db, 2);
  EXPECT_EQ(cfg.store.redis.endpoint.username, "router");
  EXPECT_EQ(cfg.store.redis.endpoint.password, "from-env");
  EXPECT_EQ(cfg.store.redis.endpoint.connect_timeout_ms, 250);
  EXPECT_EQ(cfg.store.redis.endpoint.command_timeout_ms, 2000);
  EXPECT_EQ(cfg.store.redis.check_interval.count(), 500);
  EXPECT_EQ(cfg.store.redis.prefix, "{sg}:");
}

TEST(ConfigStore, RedisDefaults) {
  Config cfg;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(parse(std::string(kListener) + "store: {type: redis}\n", cfg, errors));
  EXPECT_EQ(cfg.store.redis.endpoint.host, "127.0.0.1");
  EXPECT_EQ(cfg.store.redis.endpoint.port, 6379);
  EXPECT_EQ(cfg.store.redis.prefix, "sg:");
}

// A store section that must fail, on its own line (3), with `message` in the first error.
struct StoreCase {
  std::string store;
  const char* message;
};
void expect_rejected(const StoreCase& c) {
  Config cfg;
  std::vector<ConfigError> errors;
  EXPECT_FALSE(parse(std::string(kListener) + c.store + "\n", cfg, errors)) << c.store;
  ASSERT_FALSE(errors.empty()) << c.store;
  EXPECT_EQ(errors[0].line, 3) << c.store;
  EXPECT_NE(errors[0].message.find(c.message), std::string::npos)
      << c.store << " -> " << errors[0].message;
}

TEST(ConfigStore, RejectsWithLineAndReason) {
  using Case = StoreCase;
  ::unsetenv("SG_CONFIG_TEST_UNSET");
  for (const Case& c : {
           Case{"store: {type: etcd}", "known: sqlite, redis"},
           Case{"store: {type: redis, url: \"http://x\"}", "store.url: scheme must be redis://"},
           Case{"store: {type: redis, url: \"redis://h:0\"}", "port must be 1-65535"},
           Case{"store: {type: redis, path: x.db}", "store.path applies to type sqlite"},
           Case{"store: {url: \"redis://h\"}", "store.url applies to type redis"},
           Case{"store: {type: redis, prefix: \"a b\"}", "1-64 printable characters"},
           Case{"store: {type: redis, prefix: \"\"}", "1-64 printable characters"},
           Case{"store: {type: redis, username: u}", "needs a password"},
           Case{"store: {type: redis, password: a, password_env: B}", "not both"},
           Case{"store: {type: redis, password_env: SG_CONFIG_TEST_UNSET}", "is not set"},
           Case{"store: {type: redis, command_timeout: soon}", "invalid duration"},
           Case{"store: {type: redis, timeout: 1s}", "unknown key 'timeout'"},
       }) {
    expect_rejected(c);
  }
}

constexpr const char* kTables = "tables: {sessions: thread-mappings, containers: containers}";

TEST(ConfigStore, DynamoDefaults) {
  Config cfg;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(parse(
      std::string(kListener) + "store: {type: dynamodb, region: us-west-2, " + kTables + "}\n", cfg,
      errors))
      << errors[0].message;
  const registry::DynamoConfig& d = cfg.store.dynamodb;
  EXPECT_EQ(d.endpoint_url, "https://dynamodb.us-west-2.amazonaws.com");
  EXPECT_EQ(d.sessions_table, "thread-mappings");
  EXPECT_EQ(d.attributes.session_id, "threadId");
  EXPECT_EQ(d.attributes.container_address, "containerIp");
  EXPECT_EQ(d.default_port, 4321);
  EXPECT_EQ(d.revalidate_interval.count(), 1000);
  EXPECT_EQ(d.scan_interval.count(), 30000);
  EXPECT_TRUE(d.lookup_unknown);
  EXPECT_EQ(d.lookup_timeout.count(), 2000);
  EXPECT_EQ(d.lookup_negative_ttl.count(), 2000);
  EXPECT_EQ(d.lookup_max_pending, 1000u);
}

TEST(ConfigStore, DynamoSettings) {
  Config cfg;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(parse(std::string(kListener) + R"(store:
  type: dynamodb
  region: eu-central-1
  endpoint: "http://127.0.0.1:8000"
  tables: {sessions: s-table, containers: c-table}
  attributes: {session_id: chatId, container_address: ip}
  revalidate_interval: 250ms
  scan_interval: 1m
  lookup_unknown: false
  lookup_timeout: 500ms
  lookup_negative_ttl: 10s
  lookup_max_pending: 50
)",
                    cfg, errors))
      << errors[0].message;
  const registry::DynamoConfig& d = cfg.store.dynamodb;
  EXPECT_EQ(d.client.endpoint.authority(), "127.0.0.1:8000");
  EXPECT_EQ(d.attributes.session_id, "chatId");
  EXPECT_EQ(d.attributes.container_address, "ip");
  EXPECT_EQ(d.revalidate_interval.count(), 250);
  EXPECT_EQ(d.scan_interval.count(), 60000);
  EXPECT_FALSE(d.lookup_unknown);
  EXPECT_EQ(d.lookup_timeout.count(), 500);
  EXPECT_EQ(d.lookup_negative_ttl.count(), 10000);
  EXPECT_EQ(d.lookup_max_pending, 50u);
}

TEST(ConfigStore, DynamoRejectsWithLineAndReason) {
  using Case = StoreCase;
  const std::string t = kTables;
  for (const Case& c : {
           Case{"store: {type: dynamodb, region: us-west-2}", "store.tables is required"},
           Case{"store: {type: dynamodb, region: Mars, " + t + "}", "is not a region name"},
           Case{"store: {type: dynamodb, region: us-west-2, tables: {sessions: ab, containers: "
                "ccc}}",
                "must be a DynamoDB table name"},
           Case{"store: {type: dynamodb, region: us-west-2, " + t +
                    ", attributes: {session_id: sg_x}}",
                "not start with sg_"},
           Case{"store: {type: dynamodb, region: us-west-2, " + t +
                    ", attributes: {container_id: a, container_address: a}}",
                "both named 'a'"},
           Case{"store: {type: dynamodb, region: us-west-2, " + t + ", lookup_timeout: 0s}",
                "store.lookup_timeout: invalid duration"},
           Case{"store: {type: dynamodb, region: us-west-2, " + t + ", lookup_max_pending: 0}",
                "lookup_max_pending"},
           Case{"store: {type: dynamodb, region: us-west-2, " + t + ", lookup_unknown: maybe}",
                "lookup_unknown"},
           Case{"store: {lookup_unknown: true}", "store.lookup_unknown applies to type dynamodb"},
           Case{"store: {type: redis, scan_interval: 1s}", "applies to type dynamodb"},
       }) {
    expect_rejected(c);
  }
}

}  // namespace
}  // namespace sg::app
