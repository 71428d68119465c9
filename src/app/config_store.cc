// store: which registry store, and the settings of that type.
#include "app/config_reader.h"

#include <cstdlib>

namespace sg::app {

namespace {

bool region_name(const std::string& s) {
  return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// DynamoDB table names: 3-255 of [A-Za-z0-9_.-].
bool table_name(const std::string& s) {
  return s.size() >= 3 && s.size() <= 255 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
         });
}

void read_dynamo_attributes(Reader& r, const YAML::Node& n, registry::DynamoAttributes& a) {
  if (!r.mapping(n, "store.attributes",
                 {"session_id", "session_container", "container_id", "container_address",
                  "container_port", "container_status", "expires_at"})) {
    return;
  }
  const std::pair<const char*, std::string*> fields[] = {
      {"session_id", &a.session_id},         {"session_container", &a.session_container},
      {"container_id", &a.container_id},     {"container_address", &a.container_address},
      {"container_port", &a.container_port}, {"container_status", &a.container_status},
      {"expires_at", &a.expires_at}};
  for (const auto& [key, out] : fields) {
    if (!n[key] || !r.scalar(n[key], key, *out)) continue;
    if (out->empty() || out->size() > 255 || out->starts_with("sg_")) {
      r.error(n[key], std::string("store.attributes.") + key +
                          " must be 1-255 characters and not start with sg_ (sessiongate's own)");
    }
  }
  const std::string* session_table[] = {&a.session_id, &a.session_container, &a.expires_at};
  const std::string* container_table[] = {&a.container_id, &a.container_address, &a.container_port,
                                          &a.container_status};
  auto distinct = [&](auto& list, const char* table) {
    for (size_t i = 0; i < std::size(list); ++i) {
      for (size_t j = i + 1; j < std::size(list); ++j) {
        if (*list[i] == *list[j]) {
          r.error(n, std::string("store.attributes: two ") + table +
                         " table attributes are both named '" + *list[i] + "'");
        }
      }
    }
  };
  distinct(session_table, "sessions");
  distinct(container_table, "containers");
}

void read_dynamodb(Reader& r, const YAML::Node& st, registry::DynamoConfig& d) {
  aws::DynamoSettings& c = d.client;
  if (st["region"]) {
    r.scalar(st["region"], "region", c.region);
  } else if (const char* env = std::getenv("AWS_REGION"); env && *env) {
    c.region = env;
  } else if (const char* denv = std::getenv("AWS_DEFAULT_REGION"); denv && *denv) {
    c.region = denv;
  } else {
    r.error(st, "store.region is required for type dynamodb (or set AWS_REGION)");
  }
  if (!region_name(c.region)) {
    r.error(st["region"] ? st["region"] : st,
            "store.region '" + c.region + "' is not a region name (e.g. us-west-2)");
  }
  d.endpoint_url = "https://dynamodb." + c.region + ".amazonaws.com";
  if (st["endpoint"]) r.scalar(st["endpoint"], "endpoint", d.endpoint_url);
  std::string why;
  if (!aws::parse_endpoint_url(d.endpoint_url, c.endpoint, why)) {
    r.error(st["endpoint"] ? st["endpoint"] : st, "store.endpoint: " + why);
  }
  if (st["ca_file"]) r.scalar(st["ca_file"], "ca_file", c.endpoint.ca_file);
  if (st["profile"]) r.scalar(st["profile"], "profile", d.profile);
  const YAML::Node tables = st["tables"];
  if (!tables) {
    r.error(st, "store.tables is required for type dynamodb: {sessions: ..., containers: ...}");
  } else if (r.mapping(tables, "store.tables", {"sessions", "containers"})) {
    for (auto [key, out] :
         {std::pair{"sessions", &d.sessions_table}, std::pair{"containers", &d.containers_table}}) {
      if (!tables[key]) {
        r.error(tables, std::string("store.tables.") + key + " is required");
      } else if (r.scalar(tables[key], key, *out) && !table_name(*out)) {
        r.error(tables[key], std::string("store.tables.") + key +
                                 " must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)");
      }
    }
  }
  if (st["attributes"]) read_dynamo_attributes(r, st["attributes"], d.attributes);
  size_t port = d.default_port, segments = static_cast<size_t>(d.scan_segments);
  size_t attempts = static_cast<size_t>(c.max_attempts);
  r.size(st, "default_port", "store", port, 1, 65535);
  r.size(st, "scan_segments", "store", segments, 1, 64);
  r.size(st, "max_attempts", "store", attempts, 1, 10);
  d.default_port = static_cast<uint16_t>(port);
  d.scan_segments = static_cast<int>(segments);
  c.max_attempts = static_cast<int>(attempts);
  Millis connect{c.timeouts.connect_ms}, request{c.timeouts.request_ms};
  r.duration(st, "connect_timeout", "store", connect, Millis(60'000));
  r.duration(st, "request_timeout", "store", request, Millis(60'000));
  c.timeouts.connect_ms = connect.count();
  c.timeouts.request_ms = request.count();
  r.duration(st, "revalidate_interval", "store", d.revalidate_interval, Millis(3'600'000));
  r.duration(st, "scan_interval", "store", d.scan_interval, Millis(86'400'000));
  r.flag(st, "lookup_unknown", "store", d.lookup_unknown);
  r.duration(st, "lookup_timeout", "store", d.lookup_timeout, Millis(60'000));
  r.duration(st, "lookup_negative_ttl", "store", d.lookup_negative_ttl, Millis(3'600'000));
  r.size(st, "lookup_max_pending", "store", d.lookup_max_pending, 1, 1'000'000);
}

}  // namespace

void read_store(Reader& r, const YAML::Node& st, Config& cfg) {
  if (r.mapping(st, "store",
                {"type",
                 "path",
                 "synchronous",
                 "url",
                 "prefix",
                 "username",
                 "password",
                 "password_env",
                 "connect_timeout",
                 "command_timeout",
                 "check_interval",
                 "concurrency",
                 "queue_limit",
                 "region",
                 "endpoint",
                 "ca_file",
                 "profile",
                 "tables",
                 "attributes",
                 "default_port",
                 "revalidate_interval",
                 "scan_interval",
                 "scan_segments",
                 "request_timeout",
                 "max_attempts",
                 "lookup_unknown",
                 "lookup_timeout",
                 "lookup_negative_ttl",
                 "lookup_max_pending"})) {
    if (st["type"] && r.scalar(st["type"], "type", cfg.store.type) && cfg.store.type != "sqlite" &&
        cfg.store.type != "redis" && cfg.store.type != "dynamodb") {
      r.error(st["type"], "store.type '" + cfg.store.type +
                              "' is not available (known: sqlite, redis, dynamodb)");
    }
    const bool redis = cfg.store.type == "redis";
    const bool dynamo = cfg.store.type == "dynamodb";
    for (const char* k : {"region", "endpoint", "ca_file", "profile", "tables", "attributes",
                          "default_port", "revalidate_interval", "scan_interval", "scan_segments",
                          "request_timeout", "max_attempts", "lookup_unknown", "lookup_timeout",
                          "lookup_negative_ttl", "lookup_max_pending"}) {
      if (st[k] && !dynamo) r.error(st[k], std::string("store.") + k + " applies to type dynamodb");
    }
    if (dynamo) read_dynamodb(r, st, cfg.store.dynamodb);
    r.size(st, "concurrency", "store", cfg.store.concurrency, 1, 64);
    r.size(st, "queue_limit", "store", cfg.store.queue_limit, 0, 100000);
    for (const char* k : {"path", "synchronous"}) {
      if (st[k] && redis) r.error(st[k], std::string("store.") + k + " applies to type sqlite");
    }
    for (const char* k : {"url", "prefix", "username", "password", "password_env",
                          "command_timeout", "check_interval"}) {
      if (st[k] && !redis) r.error(st[k], std::string("store.") + k + " applies to type redis");
    }
    if (st["connect_timeout"] && !redis && !dynamo) {
      r.error(st["connect_timeout"], "store.connect_timeout applies to types redis and dynamodb");
    }
    if (st["path"]) r.scalar(st["path"], "path", cfg.store.sqlite.path);
    if (st["synchronous"]) {
      std::string v;
      r.scalar(st["synchronous"], "synchronous", v);
      if (v == "full") {
        cfg.store.sqlite.synchronous_full = true;
      } else if (v == "normal") {
        cfg.store.sqlite.synchronous_full = false;
      } else {
        r.error(st["synchronous"], "store.synchronous must be full or normal");
      }
    }
    if (redis) {
      registry::RedisEndpoint& ep = cfg.store.redis.endpoint;
      std::string why;
      if (st["url"]) r.scalar(st["url"], "url", cfg.store.redis.url);
      if (!registry::parse_redis_url(cfg.store.redis.url, ep, why)) {
        r.error(st["url"] ? st["url"] : st, "store.url: " + why);
      }
      if (st["prefix"] && r.scalar(st["prefix"], "prefix", cfg.store.redis.prefix)) {
        const auto& pf = cfg.store.redis.prefix;
        const bool ok =
            !pf.empty() && pf.size() <= 64 &&
            std::all_of(pf.begin(), pf.end(), [](char ch) { return ch > ' ' && ch < 127; });
        if (!ok) r.error(st["prefix"], "store.prefix must be 1-64 printable characters, no spaces");
      }
      if (st["username"]) r.scalar(st["username"], "username", ep.username);
      if (st["password"] && st["password_env"]) {
        r.error(st["password_env"], "store: set password or password_env, not both");
      }
      if (st["password"]) r.scalar(st["password"], "password", ep.password);
      if (st["password_env"]) {
        std::string name;
        if (r.scalar(st["password_env"], "password_env", name)) {
          const char* v = std::getenv(name.c_str());
          if (v == nullptr || *v == '\0') {
            r.error(st["password_env"],
                    "store.password_env: environment variable " + name + " is not set");
          } else {
            ep.password = v;
          }
        }
      }
      if (!ep.username.empty() && ep.password.empty()) {
        r.error(st["username"] ? st["username"] : st,
                "store: a Redis ACL user needs a password (password, password_env or the url)");
      }
      Millis connect{ep.connect_timeout_ms}, command{ep.command_timeout_ms};
      r.duration(st, "connect_timeout", "store", connect, Millis(60'000));
      r.duration(st, "command_timeout", "store", command, Millis(60'000));
      r.duration(st, "check_interval", "store", cfg.store.redis.check_interval, Millis(3'600'000));
      ep.connect_timeout_ms = connect.count();
      ep.command_timeout_ms = command.count();
    }
  }
}

}  // namespace sg::app
